use super::*;
use crate::message::{Incoming, Reader};

const ID: &str = "6BC3A1D2E4F5";

fn all() -> Config {
    Config {
        audio: true,
        backchannel: true,
        udp: true,
    }
}

fn session(config: Config) -> Session {
    Session::new(ID, config, 0)
}

/// A request from lines joined with CRLF.
fn req(lines: &[&str]) -> Request {
    let mut text = lines.join("\r\n");
    text.push_str("\r\n\r\n");
    Request::parse(text.as_bytes()).unwrap()
}

/// What the device's listener does with an outcome: the SDP, UDP ports
/// 6970 + 2 * track, SSRC 0x1111000N, RTP-Info from fixed counters.
fn finish(s: &mut Session, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Reply(r) | Outcome::Pause(r) | Outcome::Teardown(r) => r,
        Outcome::Describe(d) => d.reply("v=0\r\n"),
        Outcome::Setup(setup) => {
            let t = u16::from(setup.track);
            let ports = (!setup.transport.is_tcp()).then_some((6970 + 2 * t, 6971 + 2 * t));
            let ssrc = (setup.track != track::BACKCHANNEL).then_some(0x1111_0000 + u32::from(t));
            s.setup(setup, ports, ssrc)
        }
        Outcome::Play(p) => p.reply(&[(0, 1000, 90_000), (1, 2000, 8000), (2, 1, 1)]),
    }
}

fn answer(s: &mut Session, r: &Request, now: u64) -> Response {
    let o = s.handle(r, now);
    finish(s, o)
}

fn status_of(s: &mut Session, lines: &[&str]) -> u16 {
    answer(s, &req(lines), 0).status
}

/// A whole recorded conversation (`tests/fixtures/`), a unit a second:
/// each request with its answer, and the interleaved frames' channels.
fn converse(s: &mut Session, name: &str) -> (Vec<(Request, Response)>, Vec<Option<Channel>>) {
    let mut reader = Reader::new();
    reader.push(&crate::message::tests::fixture(name));
    let (mut answers, mut frames) = (Vec::new(), Vec::new());
    let mut now = 0;
    while let Some(unit) = reader.next().unwrap() {
        now += 1000;
        match unit {
            Incoming::Request(r) => {
                let resp = answer(s, &r, now);
                assert_eq!(resp.header("CSeq"), Some(r.cseq.to_string().as_str()));
                answers.push((r, resp));
            }
            Incoming::Interleaved { channel, .. } => frames.push(s.interleaved(channel, now)),
        }
    }
    (answers, frames)
}

fn text(r: &Response) -> String {
    String::from_utf8(r.to_bytes().to_vec()).unwrap()
}

#[test]
fn ffmpeg_over_tcp_end_to_end() {
    let mut s = session(all());
    let (answers, frames) = converse(&mut s, "ffmpeg-tcp.raw");
    assert!(frames.is_empty());
    assert!(answers.iter().all(|(_, r)| r.status == 200), "{answers:#?}");
    let get = |i: usize| text(&answers[i].1);
    assert_eq!(
        get(0),
        "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, \
         TEARDOWN, GET_PARAMETER, SET_PARAMETER\r\n\r\n"
    );
    assert_eq!(
        get(1),
        "RTSP/1.0 200 OK\r\nCSeq: 2\r\n\
         Content-Base: rtsp://127.0.0.1:18554/cam/realmonitor?channel=1&subtype=0/\r\n\
         Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n"
    );
    assert_eq!(
        get(2),
        "RTSP/1.0 200 OK\r\nCSeq: 3\r\n\
         Transport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=11110000\r\n\
         Session: 6BC3A1D2E4F5;timeout=60\r\n\r\n"
    );
    assert_eq!(
        answers[3].1.header("Transport"),
        Some("RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=11110001")
    );
    // RTP-Info names each track by the URL ffmpeg set it up with.
    assert_eq!(
        get(4),
        "RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: 6BC3A1D2E4F5;timeout=60\r\n\
         Range: npt=0.000-\r\n\
         RTP-Info: url=rtsp://127.0.0.1:18554/cam/realmonitor?channel=1&subtype=0/trackID=0;\
         seq=1000;rtptime=90000,\
         url=rtsp://127.0.0.1:18554/cam/realmonitor?channel=1&subtype=0/trackID=1;\
         seq=2000;rtptime=8000\r\n\r\n"
    );
    // The keep-alives carry the session.
    assert_eq!(
        answers[5].1.header("Session"),
        Some("6BC3A1D2E4F5;timeout=60")
    );
    assert_eq!(answers[7].0.method, Method::Teardown);
    assert_eq!(s.state(), State::Init);
    assert!(s.tracks().is_empty());
}

#[test]
fn ffmpeg_over_udp_and_without_udp() {
    let mut s = session(all());
    let (answers, _) = converse(&mut s, "ffmpeg-udp.raw");
    assert!(answers.iter().all(|(_, r)| r.status == 200), "{answers:#?}");
    assert_eq!(
        answers[2].1.header("Transport"),
        Some("RTP/AVP;unicast;client_port=27006-27007;server_port=6970-6971;ssrc=11110000")
    );
    // A device serving TCP only: 461 (ffmpeg then retries over TCP; the
    // recording goes on naming a session that never was).
    let mut s = session(Config {
        udp: false,
        ..all()
    });
    let (answers, _) = converse(&mut s, "ffmpeg-udp.raw");
    let statuses: Vec<u16> = answers.iter().map(|(_, r)| r.status).collect();
    assert_eq!(statuses, [200, 200, 461, 454, 454, 454, 454]);
}

#[test]
fn gstreamer_over_tcp_with_receiver_reports() {
    let mut s = session(all());
    let (answers, frames) = converse(&mut s, "gstreamer-tcp.raw");
    assert!(answers.iter().all(|(_, r)| r.status == 200), "{answers:#?}");
    let video = Some(Channel {
        track: 0,
        rtcp: true,
    });
    let audio = Some(Channel {
        track: 1,
        rtcp: true,
    });
    assert_eq!(frames, [audio, video, audio, video]);
    // PLAY's answer for `Range: npt=0-` is the same.
    assert_eq!(answers[4].1.header("Range"), Some("npt=0.000-"));
    assert_eq!(s.state(), State::Init);
}

#[test]
fn gstreamer_over_udp_pauses_before_teardown() {
    let mut s = session(all());
    let mut reader = Reader::new();
    reader.push(&crate::message::tests::fixture("gstreamer-udp.raw"));
    let mut outcomes = Vec::new();
    while let Some(Incoming::Request(r)) = reader.next().unwrap() {
        let o = s.handle(&r, 0);
        outcomes.push(match &o {
            Outcome::Reply(_) => "reply",
            Outcome::Describe(_) => "describe",
            Outcome::Setup(_) => "setup",
            Outcome::Play(_) => "play",
            Outcome::Pause(_) => "pause",
            Outcome::Teardown(_) => "teardown",
        });
        assert_eq!(finish(&mut s, o).status, 200);
    }
    assert_eq!(
        outcomes,
        ["reply", "describe", "setup", "setup", "play", "reply", "reply", "pause", "teardown"]
    );
}

#[test]
fn gstreamer_onvif_backchannel_with_rfc_3986_urls() {
    let mut s = session(all());
    let (answers, frames) = converse(&mut s, "gstreamer-backchannel.raw");
    let statuses: Vec<u16> = answers.iter().map(|(_, r)| r.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200], "{answers:#?}");
    // `/cam/trackID=N` is taken as the described stream's track.
    assert_eq!(s.stream(), Some(Stream::Main));
    let tracks: Vec<(u8, &str)> = s
        .tracks()
        .iter()
        .map(|t| (t.track, t.url.as_str()))
        .collect();
    assert_eq!(
        tracks,
        [
            (0, "rtsp://127.0.0.1:18554/cam/trackID=0"),
            (1, "rtsp://127.0.0.1:18554/cam/trackID=1"),
            (2, "rtsp://127.0.0.1:18554/cam/trackID=2"),
        ]
    );
    // The backchannel's SETUP has no SSRC of the server's.
    assert_eq!(
        answers[4].1.header("Transport"),
        Some("RTP/AVP/TCP;unicast;interleaved=4-5")
    );
    // RTP-Info only for what the server sends.
    assert_eq!(
        answers[5].1.header("RTP-Info"),
        Some(
            "url=rtsp://127.0.0.1:18554/cam/trackID=0;seq=1000;rtptime=90000,\
             url=rtsp://127.0.0.1:18554/cam/trackID=1;seq=2000;rtptime=8000"
        )
    );
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|f| f.is_some_and(|c| c.rtcp)));
    assert_eq!(s.state(), State::Playing);
}

#[test]
fn go2rtc_backchannel_required_on_describe_only() {
    let mut s = session(all());
    let (answers, _) = converse(&mut s, "go2rtc-backchannel.txt");
    assert!(answers.iter().all(|(_, r)| r.status == 200), "{answers:#?}");
    // The backchannel's audio arrives on its RTP channel.
    let mut s = session(all());
    let mut reader = Reader::new();
    reader.push(&crate::message::tests::fixture("go2rtc-backchannel.txt"));
    for _ in 0..6 {
        let Some(Incoming::Request(r)) = reader.next().unwrap() else {
            panic!("a request");
        };
        answer(&mut s, &r, 0);
    }
    assert_eq!(s.state(), State::Playing);
    assert_eq!(
        s.interleaved(4, 0),
        Some(Channel {
            track: 2,
            rtcp: false
        })
    );
    assert_eq!(
        s.interleaved(5, 0),
        Some(Channel {
            track: 2,
            rtcp: true
        })
    );
    assert_eq!(s.interleaved(6, 0), None);
}

#[test]
fn live555_and_an_nvr() {
    for name in ["vlc-live555-udp.txt", "dahua-nvr-tcp.txt"] {
        let mut s = session(all());
        let (answers, _) = converse(&mut s, name);
        assert!(
            answers.iter().all(|(_, r)| r.status == 200),
            "{name}: {answers:#?}"
        );
        assert_eq!(s.state(), State::Init, "{name}");
    }
}

const SETUP0: &str = "SETUP rtsp://h/live/main/trackID=0 RTSP/1.0";
const TCP01: &str = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1";

/// A session set up with video over TCP (and playing if `play`).
fn ready(play: bool) -> Session {
    let mut s = session(all());
    assert_eq!(status_of(&mut s, &[SETUP0, "CSeq: 1", TCP01]), 200);
    assert_eq!(s.state(), State::Ready);
    if play {
        let r = status_of(
            &mut s,
            &[
                "PLAY rtsp://h/live/main/ RTSP/1.0",
                "CSeq: 2",
                "Session: 6BC3A1D2E4F5",
            ],
        );
        assert_eq!(r, 200);
        assert_eq!(s.state(), State::Playing);
    }
    s
}

#[test]
fn state_transitions() {
    let mut s = ready(true);
    let sid = "Session: 6BC3A1D2E4F5";
    // PAUSE: Playing -> Ready; again in Ready: fine, no change.
    let o = s.handle(
        &req(&["PAUSE rtsp://h/live/main/ RTSP/1.0", "CSeq: 3", sid]),
        0,
    );
    assert!(matches!(o, Outcome::Pause(ref r) if r.status == 200));
    assert_eq!(s.state(), State::Ready);
    let o = s.handle(
        &req(&["PAUSE rtsp://h/live/main/ RTSP/1.0", "CSeq: 4", sid]),
        0,
    );
    assert!(matches!(o, Outcome::Reply(ref r) if r.status == 200));
    // PLAY again, and once more while playing: media goes on.
    let o = s.handle(
        &req(&["PLAY rtsp://h/live/main/ RTSP/1.0", "CSeq: 5", sid]),
        0,
    );
    assert!(matches!(o, Outcome::Play(ref p) if !p.was_playing && p.tracks.len() == 1));
    let o = s.handle(
        &req(&["PLAY rtsp://h/live/main/ RTSP/1.0", "CSeq: 6", sid]),
        0,
    );
    assert!(matches!(o, Outcome::Play(ref p) if p.was_playing));
    // DESCRIBE in any state.
    let o = s.handle(
        &req(&["DESCRIBE rtsp://h/live/sub RTSP/1.0", "CSeq: 7", sid]),
        0,
    );
    assert!(matches!(o, Outcome::Describe(ref d) if d.stream == Stream::Sub));
    // TEARDOWN -> Init, after which a new session can be set up.
    let o = s.handle(
        &req(&["TEARDOWN rtsp://h/live/main/ RTSP/1.0", "CSeq: 8", sid]),
        0,
    );
    let Outcome::Teardown(r) = o else {
        panic!("{o:?}");
    };
    assert_eq!(r.header("Session"), Some("6BC3A1D2E4F5;timeout=60"));
    assert_eq!(s.state(), State::Init);
    assert_eq!(s.stream(), None);
    assert_eq!(
        status_of(
            &mut s,
            &["PLAY rtsp://h/live/main/ RTSP/1.0", "CSeq: 9", sid]
        ),
        454
    );
    assert_eq!(
        status_of(
            &mut s,
            &[
                "SETUP rtsp://h/live/sub/trackID=0 RTSP/1.0",
                "CSeq: 10",
                TCP01
            ]
        ),
        200
    );
    assert_eq!(s.stream(), Some(Stream::Sub));
    // TEARDOWN without a session: nothing to end, and fine.
    let mut s = session(all());
    let o = s.handle(
        &req(&["TEARDOWN rtsp://h/live/main/ RTSP/1.0", "CSeq: 1"]),
        0,
    );
    assert!(matches!(o, Outcome::Reply(ref r) if r.status == 200));
}

#[test]
fn setup_errors() {
    let describe = "DESCRIBE rtsp://h/live/main RTSP/1.0";
    // The aggregate URL: 459.
    let mut s = session(all());
    assert_eq!(
        status_of(
            &mut s,
            &["SETUP rtsp://h/live/main RTSP/1.0", "CSeq: 1", TCP01]
        ),
        459
    );
    assert_eq!(
        status_of(
            &mut s,
            &["SETUP rtsp://h/live/main/* RTSP/1.0", "CSeq: 1", TCP01]
        ),
        459
    );
    // No such stream or track: 404.
    for url in [
        "SETUP rtsp://h/nothing/trackID=0 RTSP/1.0",
        "SETUP rtsp://h/live/main/trackID=3 RTSP/1.0",
        // No DESCRIBE said which stream `/cam/` was.
        "SETUP rtsp://h/cam/trackID=0 RTSP/1.0",
    ] {
        assert_eq!(status_of(&mut s, &[url, "CSeq: 1", TCP01]), 404, "{url}");
    }
    let mut s = session(Config {
        audio: false,
        ..all()
    });
    assert_eq!(
        status_of(
            &mut s,
            &[
                "SETUP rtsp://h/live/main/trackID=1 RTSP/1.0",
                "CSeq: 1",
                TCP01
            ]
        ),
        404
    );
    // The backchannel without Require on DESCRIBE or SETUP: 551; with a
    // device that has none: 404, and its Require is 551 Unsupported.
    let setup2 = "SETUP rtsp://h/live/main/trackID=2 RTSP/1.0";
    let tcp45 = "Transport: RTP/AVP/TCP;unicast;interleaved=4-5";
    let mut s = session(all());
    assert_eq!(status_of(&mut s, &[setup2, "CSeq: 1", tcp45]), 551);
    assert_eq!(status_of(&mut s, &[describe, "CSeq: 2"]), 200);
    assert_eq!(status_of(&mut s, &[setup2, "CSeq: 3", tcp45]), 551);
    let mut s = session(Config {
        backchannel: false,
        ..all()
    });
    assert_eq!(status_of(&mut s, &[setup2, "CSeq: 1", tcp45]), 404);
    let r = answer(
        &mut s,
        &req(&[
            describe,
            "CSeq: 2",
            "Require: www.onvif.org/ver20/backchannel",
        ]),
        0,
    );
    assert_eq!(r.status, 551);
    assert_eq!(
        r.header("Unsupported"),
        Some("www.onvif.org/ver20/backchannel")
    );
    // A track at most once; no new track while playing; one stream.
    let mut s = ready(false);
    assert_eq!(status_of(&mut s, &[SETUP0, "CSeq: 3", TCP01]), 455);
    assert_eq!(
        status_of(
            &mut s,
            &[
                "SETUP rtsp://h/live/sub/trackID=1 RTSP/1.0",
                "CSeq: 3",
                TCP01
            ]
        ),
        455
    );
    let mut s = ready(true);
    assert_eq!(
        status_of(
            &mut s,
            &[
                "SETUP rtsp://h/live/main/trackID=1 RTSP/1.0",
                "CSeq: 3",
                TCP01
            ]
        ),
        455
    );
    // Transport missing (400), unsupported (461).
    let mut s = session(all());
    assert_eq!(status_of(&mut s, &[SETUP0, "CSeq: 1"]), 400);
    assert_eq!(
        status_of(&mut s, &[SETUP0, "CSeq: 1", "Transport: RTP/AVP;multicast"]),
        461
    );
    assert_eq!(s.state(), State::Init);
}

#[test]
fn setup_is_committed_by_the_caller() {
    let mut s = session(all());
    let udp = "Transport: RTP/AVP;unicast;client_port=5000-5001";
    let Outcome::Setup(setup) = s.handle(&req(&[SETUP0, "CSeq: 4", udp]), 0) else {
        panic!("no setup");
    };
    assert_eq!((setup.stream, setup.track), (Stream::Main, 0));
    assert_eq!(setup.url, "rtsp://h/live/main/trackID=0");
    // Nothing is set up until the caller says so.
    assert_eq!(s.state(), State::Init);
    assert_eq!(setup.refuse(503).status, 503);
    // Ports that could not be bound: 461, still nothing set up.
    let r = s.setup(setup.clone(), None, Some(1));
    assert_eq!((r.status, s.state()), (461, State::Init));
    let r = s.setup(setup.clone(), Some((7000, 7001)), None);
    assert_eq!(
        r.header("Transport"),
        Some("RTP/AVP;unicast;client_port=5000-5001;server_port=7000-7001")
    );
    assert_eq!(s.state(), State::Ready);
    // The same SETUP committed twice is refused the second time.
    assert_eq!(s.setup(setup, Some((7000, 7001)), None).status, 455);
}

#[test]
fn interleaved_channels_are_assigned() {
    let mut s = session(all());
    let setup = |s: &mut Session, track: u8, transport: &str| {
        let url = format!("SETUP rtsp://h/live/main/trackID={track} RTSP/1.0");
        let lines = [
            url.as_str(),
            "CSeq: 1",
            transport,
            "Require: www.onvif.org/ver20/backchannel",
        ];
        answer(s, &req(&lines), 0)
            .header("Transport")
            .map(str::to_string)
    };
    // No channels asked for: the lowest free pair.
    assert_eq!(
        setup(&mut s, 1, "Transport: RTP/AVP/TCP;unicast").as_deref(),
        Some("RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=11110001")
    );
    // Channels taken by another track: the next free pair instead.
    assert_eq!(
        setup(&mut s, 0, "Transport: RTP/AVP/TCP;unicast;interleaved=1-2").as_deref(),
        Some("RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=11110000")
    );
    // Channels asked for and free: those.
    assert_eq!(
        setup(
            &mut s,
            2,
            "Transport: RTP/AVP/TCP;unicast;interleaved=10-11"
        )
        .as_deref(),
        Some("RTP/AVP/TCP;unicast;interleaved=10-11")
    );
    assert_eq!(
        s.interleaved(0, 0),
        Some(Channel {
            track: 1,
            rtcp: false
        })
    );
    assert_eq!(
        s.interleaved(3, 0),
        Some(Channel {
            track: 0,
            rtcp: true
        })
    );
    assert_eq!(
        s.interleaved(11, 0),
        Some(Channel {
            track: 2,
            rtcp: true
        })
    );
    assert_eq!(s.interleaved(4, 0), None);
    let tracks: Vec<u8> = s.tracks().iter().map(|t| t.track).collect();
    assert_eq!(tracks, [0, 1, 2]);
}

#[test]
fn session_header_checks() {
    let mut s = ready(false);
    let wrong = "Session: 0000";
    for lines in [
        &["PLAY rtsp://h/live/main/ RTSP/1.0", "CSeq: 5", wrong][..],
        &["PAUSE rtsp://h/live/main/ RTSP/1.0", "CSeq: 5", wrong],
        &["TEARDOWN rtsp://h/live/main/ RTSP/1.0", "CSeq: 5", wrong],
        &[
            "GET_PARAMETER rtsp://h/live/main/ RTSP/1.0",
            "CSeq: 5",
            wrong,
        ],
        &[
            "SET_PARAMETER rtsp://h/live/main/ RTSP/1.0",
            "CSeq: 5",
            wrong,
        ],
        &["OPTIONS * RTSP/1.0", "CSeq: 5", wrong],
        &[
            "SETUP rtsp://h/live/main/trackID=1 RTSP/1.0",
            "CSeq: 5",
            wrong,
            TCP01,
        ],
        &["PLAY rtsp://h/live/main/ RTSP/1.0", "CSeq: 5", "Session:"],
    ] {
        let r = answer(&mut s, &req(lines), 0);
        assert_eq!(r.status, 454, "{lines:?}");
        assert_eq!(r.header("CSeq"), Some("5"));
    }
    // DESCRIBE ignores it.
    assert_eq!(
        status_of(
            &mut s,
            &["DESCRIBE rtsp://h/live RTSP/1.0", "CSeq: 6", wrong]
        ),
        200
    );
    // Left off, the connection's session is meant: a second SETUP joins
    // it, PLAY plays it.
    assert_eq!(
        status_of(
            &mut s,
            &[
                "SETUP rtsp://h/live/main/trackID=1 RTSP/1.0",
                "CSeq: 7",
                "Transport: RTP/AVP/TCP"
            ]
        ),
        200
    );
    assert_eq!(s.tracks().len(), 2);
    let r = answer(
        &mut s,
        &req(&["PLAY rtsp://h/live/main/ RTSP/1.0", "CSeq: 8"]),
        0,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Session"), Some("6BC3A1D2E4F5;timeout=60"));
    // The id compares with its parameters off.
    assert_eq!(
        status_of(
            &mut s,
            &[
                "GET_PARAMETER * RTSP/1.0",
                "CSeq: 9",
                "Session: 6BC3A1D2E4F5;timeout=60"
            ]
        ),
        200
    );
}

#[test]
fn other_status_codes() {
    let mut s = session(all());
    let r = answer(&mut s, &req(&["OPTIONS * RTSP/2.0", "CSeq: 1"]), 0);
    assert_eq!(
        text(&r),
        "RTSP/1.0 505 RTSP Version not supported\r\nCSeq: 1\r\n\r\n"
    );
    let r = answer(
        &mut s,
        &req(&[
            "OPTIONS * RTSP/1.0",
            "CSeq: 2",
            "Require: funky, www.onvif.org/ver20/backchannel",
            "Require: x",
        ]),
        0,
    );
    assert_eq!(r.status, 551);
    assert_eq!(r.header("Unsupported"), Some("funky, x"));
    // PLAY and PAUSE before SETUP.
    assert_eq!(
        status_of(&mut s, &["PLAY rtsp://h/live/ RTSP/1.0", "CSeq: 3"]),
        455
    );
    assert_eq!(
        status_of(&mut s, &["PAUSE rtsp://h/live/ RTSP/1.0", "CSeq: 3"]),
        455
    );
    assert_eq!(
        status_of(&mut s, &["DESCRIBE rtsp://h/nothing RTSP/1.0", "CSeq: 4"]),
        404
    );
    let r = answer(
        &mut s,
        &req(&["ANNOUNCE rtsp://h/live RTSP/1.0", "CSeq: 5"]),
        0,
    );
    assert_eq!((r.status, r.header("Allow")), (405, Some(PUBLIC)));
    assert_eq!(
        status_of(&mut s, &["RECORD rtsp://h/live RTSP/1.0", "CSeq: 6"]),
        405
    );
    assert_eq!(
        status_of(&mut s, &["FLUSH rtsp://h/live RTSP/1.0", "CSeq: 7"]),
        501
    );
    // Keep-alives, and parameters that are not served.
    assert_eq!(
        status_of(&mut s, &["GET_PARAMETER * RTSP/1.0", "CSeq: 8"]),
        200
    );
    assert_eq!(
        status_of(&mut s, &["SET_PARAMETER * RTSP/1.0", "CSeq: 9"]),
        200
    );
    let set =
        "SET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 10\r\nContent-Length: 9\r\n\r\nbarparam\n";
    assert_eq!(
        answer(&mut s, &Request::parse(set.as_bytes()).unwrap(), 0).status,
        451
    );
    let get = "GET_PARAMETER rtsp://h/live RTSP/1.0\r\nCSeq: 11\r\nContent-Length: 10\r\n\r\nposition\r\n";
    assert_eq!(
        answer(&mut s, &Request::parse(get.as_bytes()).unwrap(), 0).status,
        200
    );
    // A range in no known unit.
    let mut s = ready(false);
    let play = "PLAY rtsp://h/live/main/ RTSP/1.0";
    assert_eq!(
        status_of(&mut s, &[play, "CSeq: 3", "Range: bytes=0-"]),
        457
    );
    assert_eq!(s.state(), State::Ready);
    for range in [
        "Range: npt=now-",
        "Range: clock=20260101T000000Z-",
        "Range: npt=5-",
    ] {
        assert_eq!(status_of(&mut s, &[play, "CSeq: 3", range]), 200, "{range}");
    }
}

#[test]
fn describe_offers_what_the_device_has_and_the_client_required() {
    let mut s = session(Config {
        audio: false,
        ..all()
    });
    let r = req(&[
        "DESCRIBE rtsp://u:p@h/cam/realmonitor?channel=1&subtype=1 RTSP/1.0",
        "CSeq: 2",
        "Require: www.onvif.org/ver20/backchannel",
    ]);
    let Outcome::Describe(d) = s.handle(&r, 0) else {
        panic!("no describe");
    };
    assert_eq!(
        d,
        Describe {
            cseq: 2,
            stream: Stream::Sub,
            content_base: "rtsp://h/cam/realmonitor?channel=1&subtype=1/".into(),
            audio: false,
            backchannel: true,
        }
    );
    // A later DESCRIBE without it takes the backchannel away again.
    let r = req(&["DESCRIBE rtsp://h/live RTSP/1.0", "CSeq: 3"]);
    assert!(matches!(s.handle(&r, 0), Outcome::Describe(d) if !d.backchannel));
    assert_eq!(
        status_of(
            &mut s,
            &[
                "SETUP rtsp://h/live/trackID=2 RTSP/1.0",
                "CSeq: 4",
                "Transport: RTP/AVP/TCP"
            ]
        ),
        551
    );
}

#[test]
fn the_session_times_out_without_requests_or_rtcp() {
    let mut s = Session::new(ID, all(), 1000);
    assert!(!s.expired(1000 + 60_000));
    assert!(s.expired(1000 + 60_001));
    // Requests keep it alive (also before SETUP: an idle connection).
    let get = |cseq: u32| {
        req(&[
            "GET_PARAMETER * RTSP/1.0",
            &format!("CSeq: {cseq}"),
            "Session: 6BC3A1D2E4F5",
        ])
    };
    answer(&mut s, &req(&[SETUP0, "CSeq: 1", TCP01]), 30_000);
    assert!(!s.expired(90_000));
    assert!(s.expired(90_001));
    answer(&mut s, &get(2), 90_000);
    assert!(!s.expired(150_000));
    // RTCP on a channel of the session too, not on any other.
    assert!(s.interleaved(1, 140_000).is_some());
    assert!(!s.expired(200_000));
    assert!(s.interleaved(9, 199_000).is_none());
    assert!(s.expired(200_001));
    // RTCP over UDP, as the caller sees it.
    s.touch(200_000);
    assert!(!s.expired(260_000));
    // A request naming another session does not; time never runs back.
    let mut wrong = get(3);
    wrong.headers.set("Session", "other");
    answer(&mut s, &wrong, 250_000);
    assert!(s.expired(260_001));
    s.touch(10);
    assert!(s.expired(260_001));
}
