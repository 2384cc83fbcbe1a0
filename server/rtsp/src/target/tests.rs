use super::*;

fn t(url: &str) -> Result<(Stream, Option<u8>), Error> {
    Target::parse(url).map(|t| (t.stream, t.track))
}

#[test]
fn dahua_paths_name_the_main_and_sub_stream() {
    for (url, want) in [
        (
            "rtsp://10.0.0.5/cam/realmonitor?channel=1&subtype=0",
            Stream::Main,
        ),
        (
            "rtsp://10.0.0.5:554/cam/realmonitor?channel=1&subtype=1",
            Stream::Sub,
        ),
        ("/cam/realmonitor?channel=1&subtype=1", Stream::Sub),
        // Extra parameters, any order, a trailing slash, no subtype.
        (
            "rtsp://10.0.0.5:554/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif",
            Stream::Sub,
        ),
        ("rtsp://h/cam/realmonitor?subtype=1&channel=1", Stream::Sub),
        (
            "rtsp://h/cam/realmonitor?channel=1&subtype=0/",
            Stream::Main,
        ),
        ("rtsp://h/cam/realmonitor?channel=1", Stream::Main),
        ("rtsp://h/cam/realmonitor", Stream::Main),
        ("rtsp://h/cam/realmonitor/", Stream::Main),
        ("rtsp://h/CAM/RealMonitor?Channel=1&SubType=1", Stream::Sub),
        // Copied out of ONVIF's XML.
        (
            "rtsp://h/cam/realmonitor?channel=1&amp;subtype=1",
            Stream::Sub,
        ),
        // Credentials in the URL, IPv6, no port.
        (
            "rtsp://admin:p%40ss@[fe80::1]:554/cam/realmonitor?channel=1&subtype=1",
            Stream::Sub,
        ),
        (
            "RTSP://h//cam//realmonitor?channel=1&subtype=0",
            Stream::Main,
        ),
    ] {
        assert_eq!(t(url), Ok((want, None)), "{url}");
    }
}

#[test]
fn aliases_and_relayed_cameras() {
    for (url, want) in [
        ("rtsp://h/live", Stream::Main),
        ("rtsp://h/live/", Stream::Main),
        ("rtsp://h/live/main", Stream::Main),
        ("rtsp://h/live/sub/", Stream::Sub),
        ("/live/sub", Stream::Sub),
        ("rtsp://h:8554/ipc/1", Stream::Ipc(1)),
        ("rtsp://h/ipc/12/", Stream::Ipc(12)),
        ("rtsp://h/ipc/3?whatever=1", Stream::Ipc(3)),
    ] {
        assert_eq!(t(url), Ok((want, None)), "{url}");
    }
}

#[test]
fn track_controls_after_the_query_the_path_or_absolute() {
    for (url, want) in [
        // Dahua's style: after the query string (ffmpeg, live555, go2rtc).
        (
            "rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0",
            (Stream::Main, Some(0)),
        ),
        (
            "rtsp://h/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/trackID=1",
            (Stream::Sub, Some(1)),
        ),
        ("rtsp://h/live/main/trackID=1", (Stream::Main, Some(1))),
        ("rtsp://h/live/trackID=0", (Stream::Main, Some(0))),
        ("/ipc/2/trackID=0", (Stream::Ipc(2), Some(0))),
        ("rtsp://h/ipc/2/trackid=2/", (Stream::Ipc(2), Some(2))),
        // The aggregate: the Content-Base itself, or `*` appended to it.
        (
            "rtsp://h/cam/realmonitor?channel=1&subtype=0/",
            (Stream::Main, None),
        ),
        (
            "rtsp://h/cam/realmonitor?channel=1&subtype=0/*",
            (Stream::Main, None),
        ),
        ("rtsp://h/live/sub/*", (Stream::Sub, None)),
        ("rtsp://h/live/sub*", (Stream::Sub, None)),
    ] {
        assert_eq!(t(url), Ok(want), "{url}");
    }
}

#[test]
fn anything_else_is_not_found() {
    for url in [
        "*",
        "",
        "rtsp://h",
        "rtsp://h/",
        "rtsp://h/cam/realmonitor?channel=2&subtype=0",
        "rtsp://h/cam/realmonitor?channel=1&subtype=2",
        "rtsp://h/cam/realmonitor?channel=&subtype=0",
        "rtsp://h/cam/realmonitor/extra?channel=1",
        "rtsp://h/cam/playback?channel=1",
        "rtsp://h/live/third",
        "rtsp://h/ipc/0",
        "rtsp://h/ipc/-1",
        "rtsp://h/ipc/+1",
        "rtsp://h/ipc/99999999999",
        "rtsp://h/ipc/1/2",
        "rtsp://h/ipc",
        "rtsp://h/live/main/trackID=",
        "rtsp://h/live/main/trackID=x",
        "rtsp://h/live/main/trackID=256",
        "rtsp://h/live/main/trackID=-1",
        // RFC 3986 resolution lost the stream (see bare_track).
        "rtsp://h/cam/trackID=0",
        "rtsp://h/Streaming/Channels/101",
        "rtsp://h/live/ma\u{e9}in/tr\u{e9}ckID=0",
    ] {
        let e = Target::parse(url).unwrap_err();
        assert_eq!(e, Error::NotFound(url.to_string()));
        assert_eq!(e.status(), 404);
    }
}

#[test]
fn bare_tracks_are_what_rfc_3986_makes_of_the_dahua_base() {
    // GStreamer's rtspsrc, tests/fixtures/gstreamer-backchannel.raw.
    assert_eq!(bare_track("rtsp://127.0.0.1:18554/cam/trackID=2"), Some(2));
    assert_eq!(bare_track("/cam/trackID=0"), Some(0));
    assert_eq!(bare_track("rtsp://h/live/main/trackID=0"), None);
    assert_eq!(bare_track("rtsp://h/other/trackID=0"), None);
    assert_eq!(bare_track("rtsp://h/cam/"), None);
    assert_eq!(bare_track("rtsp://h/cam/trackID=x"), None);
}

#[test]
fn content_base_is_the_url_as_written_ending_in_a_slash() {
    for (url, want) in [
        (
            "rtsp://127.0.0.1:18554/cam/realmonitor?channel=1&subtype=0",
            "rtsp://127.0.0.1:18554/cam/realmonitor?channel=1&subtype=0/",
        ),
        (
            "rtsp://h/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif",
            "rtsp://h/cam/realmonitor?channel=1&subtype=1&unicast=true&proto=Onvif/",
        ),
        ("rtsp://h/live/main/", "rtsp://h/live/main/"),
        ("rtsp://h/live/main//", "rtsp://h/live/main/"),
        ("rtsp://h/live/main/trackID=1", "rtsp://h/live/main/"),
        ("rtsp://h/live/main/*", "rtsp://h/live/main/"),
        (
            "rtsp://admin:secret@10.0.0.5:554/ipc/1",
            "rtsp://10.0.0.5:554/ipc/1/",
        ),
        ("rtsp://[fe80::1]:554/live", "rtsp://[fe80::1]:554/live/"),
        ("/live/sub", "/live/sub/"),
    ] {
        assert_eq!(content_base(url), want, "{url}");
    }
    // What a concatenating client makes of it names the track.
    let base = content_base("rtsp://h/cam/realmonitor?channel=1&subtype=1");
    let url = track_url(&base, 1);
    assert_eq!(
        url,
        "rtsp://h/cam/realmonitor?channel=1&subtype=1/trackID=1"
    );
    assert_eq!(t(&url), Ok((Stream::Sub, Some(1))));
    assert_eq!(track_url("rtsp://h/live", 0), "rtsp://h/live/trackID=0");
}

#[test]
fn a_bogus_track_segment_is_part_of_the_url() {
    // Found by fuzzing: the Content-Base of a URL must name its stream.
    let url = "rtsp://h/cam/realmonitor?subtype=1&x=/trackID==1&unicast=true/trackID=0";
    assert_eq!(t(url), Ok((Stream::Sub, Some(0))));
    let base = content_base(url);
    assert_eq!(
        base,
        "rtsp://h/cam/realmonitor?subtype=1&x=/trackID==1&unicast=true/"
    );
    assert_eq!(t(&base), Ok((Stream::Sub, None)));
}

#[test]
fn stream_paths_parse_back() {
    for s in [Stream::Main, Stream::Sub, Stream::Ipc(1), Stream::Ipc(42)] {
        assert_eq!(t(&s.path()), Ok((s, None)));
        assert_eq!(t(&track_url(&content_base(&s.path()), 0)), Ok((s, Some(0))));
    }
    assert_eq!(Stream::Ipc(3).to_string(), "ipc 3");
}

#[test]
fn janus_repeats_the_query_after_the_control() {
    let url = "rtsp://h:554/cam/realmonitor?channel=1&subtype=1/trackID=0?channel=1&subtype=1";
    assert_eq!(t(url), Ok((Stream::Sub, Some(0))));
    let base = content_base(url);
    assert_eq!(base, "rtsp://h:554/cam/realmonitor?channel=1&subtype=1/");
    // Another query there is no repeat: no track of either stream.
    assert!(
        t("rtsp://h/cam/realmonitor?channel=1&subtype=1/trackID=0?channel=1&subtype=0").is_err()
    );
}
