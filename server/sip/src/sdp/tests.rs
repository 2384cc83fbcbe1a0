//! Fixtures are written to look as the devices write SDP; none is a
//! recording. Dahua's follow public descriptions of its door stations and
//! monitors; baresip's follows its recorded offer
//! (`tests/fixtures/sip/baresip-invite.txt`). Written with LF here; `sdp()`
//! sends them with CRLF as on the wire.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::*;

/// An SPS (Constrained Baseline, level 3.1) and PPS as a camera sends
/// them, without start codes.
const SPS: [u8; 14] = [
    0x67, 0x42, 0xe0, 0x1f, 0x8c, 0x8d, 0x40, 0x50, 0x1e, 0xd0, 0x0f, 0x08, 0x84, 0x6a,
];
const PPS: [u8; 4] = [0x68, 0xce, 0x3c, 0x80];
/// Their base64 (from Python's base64 module, not from this code).
const SPROP: &str = "Z0LgH4yNQFAe0A8IhGo=,aM48gA==";

/// A Dahua door station's offer (guide: `s=Dahua VT 1.5`, `97 PCM/16000`,
/// H.264 on 96 with a frame rate and no fmtp).
const DAHUA_DOOR_OFFER: &str = "v=0
o=- 1001 1001 IN IP4 192.168.1.110
s=Dahua VT 1.5
c=IN IP4 192.168.1.110
t=0 0
m=audio 15000 RTP/AVP 0 97 101
a=rtpmap:0 PCMU/8000
a=rtpmap:97 PCM/16000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
m=video 15002 RTP/AVP 96
a=rtpmap:96 H264/90000
a=framerate:25
a=sendrecv
";

/// A Dahua monitor's answer: it adds video whatever was offered, answers
/// sendrecv, and writes no fmtp for H.264.
const DAHUA_MONITOR_ANSWER: &str = "v=0
o=- 20001 20001 IN IP4 192.168.1.150
s=Dahua VT 1.5
c=IN IP4 192.168.1.150
t=0 0
m=audio 15000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
m=video 15002 RTP/AVP 96
a=rtpmap:96 H264/90000
a=framerate:25
a=sendrecv
";

/// baresip's answer to the door's offer with video.
const BARESIP_ANSWER: &str = "v=0
o=- 1718129346 3420112581 IN IP4 192.168.1.20
s=-
c=IN IP4 192.168.1.20
t=0 0
a=tool:baresip 1.0.0
m=audio 10626 RTP/AVP 0 101
b=AS:64
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ssrc:1735421013 cname:sip:9901%230@192.168.1.20
a=minptime:20
a=ptime:20
m=video 10628 RTP/AVP 96
b=AS:4000
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1;profile-level-id=42e01f
a=recvonly
a=label:2
a=rtcp-rsize
a=rtcp-fb:* ccm fir
a=rtcp-fb:* nack
a=rtcp-fb:* nack pli
";

/// A monitor's offer when it calls the door: G.729 first, PCMA before
/// PCMU, events on 100, a BFCP stream, H.264 in modes 2 and 1 beside VP8,
/// a second audio stream.
const MONITOR_OFFER: &str = "v=0
o=monitor 7 7 IN IP4 192.168.1.150
s=call
c=IN IP4 192.168.1.150
t=0 0
m=audio 30000 RTP/AVP 18 8 0 100
a=rtpmap:18 G729/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:100 telephone-event/8000
a=fmtp:100 0-16
a=ptime:40
a=sendrecv
m=application 30004 UDP/BFCP *
m=video 30002 RTP/AVP 103 105 98
a=rtpmap:103 H264/90000
a=fmtp:103 packetization-mode=2;profile-level-id=42e01f
a=rtpmap:105 H264/90000
a=fmtp:105 profile-level-id=42e01f; packetization-mode=1
a=rtpmap:98 VP8/90000
a=recvonly
m=audio 30006 RTP/AVP 0
";

fn crlf(text: &str) -> String {
    text.replace('\n', "\r\n")
}

fn sdp(text: &str) -> Sdp {
    parse(crlf(text).as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn at(ip: &str, port: u16) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), port)
}

fn door(video: bool) -> Offer {
    Offer {
        address: IpAddr::V4(Ipv4Addr::new(192, 168, 1, 108)),
        session_id: 3000,
        session_version: 1,
        audio_port: 20000,
        video: video.then(|| OfferVideo {
            port: 20002,
            h264: H264::new(&SPS, &PPS).unwrap(),
        }),
    }
}

fn lines(text: &str) -> Vec<&str> {
    assert!(text.ends_with("\r\n"), "{text}");
    assert!(!text.replace("\r\n", "").contains('\n'), "bare LF: {text}");
    text.trim_end().split("\r\n").collect()
}

fn fmtp_96() -> String {
    format!("a=fmtp:96 packetization-mode=1;profile-level-id=42e01f;sprop-parameter-sets={SPROP}")
}

#[test]
fn the_offer_is_written_line_by_line() {
    let offer = door(true).to_sdp();
    assert_eq!(
        lines(&offer),
        [
            "v=0",
            "o=- 3000 1 IN IP4 192.168.1.108",
            "s=vto",
            "c=IN IP4 192.168.1.108",
            "t=0 0",
            "m=audio 20000 RTP/AVP 0 8 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
            "a=ptime:20",
            "a=sendrecv",
            "m=video 20002 RTP/AVP 96",
            "a=rtpmap:96 H264/90000",
            &fmtp_96(),
            "a=sendonly",
        ]
    );
}

#[test]
fn without_a_camera_the_offer_has_no_video() {
    let offer = door(false).to_sdp();
    let lines = lines(&offer);
    assert_eq!(lines.len(), 12);
    assert_eq!(lines.last(), Some(&"a=sendrecv"));
    assert!(!offer.contains("m=video"));
}

#[test]
fn an_ipv6_address_is_written_and_read_as_ip6() {
    let mut offer = door(true);
    offer.address = "2001:db8::8".parse().unwrap();
    let text = offer.to_sdp();
    let lines = lines(&text);
    assert_eq!(lines[1], "o=- 3000 1 IN IP6 2001:db8::8");
    assert_eq!(lines[3], "c=IN IP6 2001:db8::8");
    let answer = sdp(&BARESIP_ANSWER.replace("IN IP4 192.168.1.20", "IN IP6 2001:db8::20"));
    let media = negotiate(&offer, &answer).unwrap();
    assert_eq!(media.audio.remote, at("2001:db8::20", 10626));
    assert_eq!(media.audio.remote_rtcp, Some(at("2001:db8::20", 10627)));
    assert_eq!(
        media.video.map(|v| v.remote),
        Some(at("2001:db8::20", 10628))
    );
}

#[test]
fn base64_matches_known_values() {
    // RFC 4648 section 10.
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
    }
    // Every byte value, so every character of the alphabet (Python).
    let all: Vec<u8> = (0..=255).collect();
    let encoded = base64(&all);
    assert!(encoded.starts_with("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp"));
    assert!(encoded.ends_with("8PHy8/T19vf4+fr7/P3+/w=="));
    assert_eq!(encoded.len(), 344);
    assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0xfc, 0xfb]), "//79/Ps=");
    assert_eq!(H264::new(&SPS, &PPS).unwrap().sprop_parameter_sets(), SPROP);
}

#[test]
fn profile_level_id_is_sps_bytes_1_to_3() {
    let id = |sps: &[u8]| H264::new(sps, &PPS).unwrap().profile_level_id();
    assert_eq!(id(&SPS), "42e01f");
    // High profile level 4.0; a NAL header with another nal_ref_idc.
    assert_eq!(id(&[0x67, 0x64, 0x00, 0x28, 0xac]), "640028");
    assert_eq!(id(&[0x27, 0x4d, 0x40, 0x1f]), "4d401f");
}

#[test]
fn parameter_sets_must_be_nal_units() {
    for (sps, pps) in [
        (&[0x67, 0x42, 0xe0][..], &PPS[..]),
        (&[0x68, 0x42, 0xe0, 0x1f][..], &PPS[..]),
        // With an Annex B start code.
        (&[0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f][..], &PPS[..]),
        (&SPS[..], &[][..]),
        (&SPS[..], &SPS[..]),
    ] {
        assert!(
            matches!(H264::new(sps, pps), Err(SdpError::ParameterSets(_))),
            "{sps:02x?} {pps:02x?}"
        );
    }
}

#[test]
fn a_baresip_answer_gives_pcmu_events_and_h264_in_mode_1() {
    let media = negotiate(&door(true), &sdp(BARESIP_ANSWER)).unwrap();
    assert_eq!(
        media,
        Media {
            audio: AudioStream {
                codec: AudioCodec::Pcmu,
                pt: 0,
                telephone_event: Some(101),
                ptime: 20,
                remote: at("192.168.1.20", 10626),
                remote_rtcp: Some(at("192.168.1.20", 10627)),
                send: true,
                receive: true,
            },
            video: Some(VideoStream {
                pt: 96,
                packetization_mode: 1,
                remote: at("192.168.1.20", 10628),
                remote_rtcp: Some(at("192.168.1.20", 10629)),
                send: true,
            }),
        }
    );
}

#[test]
fn a_dahua_monitor_answer_adds_video_and_answers_sendrecv_to_sendonly() {
    let answer = sdp(DAHUA_MONITOR_ANSWER);
    // Offered audio only: the video it adds is ignored.
    let media = negotiate(&door(false), &answer).unwrap();
    assert_eq!(media.video, None);
    assert_eq!(media.audio.codec, AudioCodec::Pcmu);
    assert_eq!(media.audio.remote, at("192.168.1.150", 15000));
    // Offered video sendonly: its sendrecv means it receives; no fmtp
    // means mode 0 (single NAL units).
    let media = negotiate(&door(true), &answer).unwrap();
    assert_eq!(
        media.video,
        Some(VideoStream {
            pt: 96,
            packetization_mode: 0,
            remote: at("192.168.1.150", 15002),
            remote_rtcp: Some(at("192.168.1.150", 15003)),
            send: true,
        })
    );
}

#[test]
fn a_video_stream_answered_with_port_0_leaves_audio_only() {
    let text = BARESIP_ANSWER.replace("m=video 10628", "m=video 0");
    let media = negotiate(&door(true), &sdp(&text)).unwrap();
    assert_eq!(media.video, None);
    assert_eq!(media.audio.remote, at("192.168.1.20", 10626));
    // Video that is not H.264 (or mode 2 only) is no video either.
    for other in ["a=rtpmap:96 VP8/90000", "a=rtpmap:96 H265/90000"] {
        let text = BARESIP_ANSWER.replace("a=rtpmap:96 H264/90000", other);
        assert_eq!(negotiate(&door(true), &sdp(&text)).unwrap().video, None);
    }
    let text = BARESIP_ANSWER.replace("packetization-mode=1", "packetization-mode=2");
    assert_eq!(negotiate(&door(true), &sdp(&text)).unwrap().video, None);
}

#[test]
fn no_common_audio_codec_or_no_audio_is_an_error() {
    let only_others = "v=0
c=IN IP4 192.168.1.20
m=audio 10626 RTP/AVP 97 18
a=rtpmap:97 PCM/16000
a=rtpmap:18 G729/8000
";
    let remote = sdp(only_others);
    assert_eq!(
        remote.media[0].format(97),
        Some(Format::Audio(AudioCodec::DahuaPcm16k))
    );
    assert_eq!(
        negotiate(&door(true), &remote),
        Err(SdpError::NoCommonCodec)
    );
    assert_eq!(
        answer(&door(true), &remote).err(),
        Some(SdpError::NoCommonCodec)
    );
    // PT 0 renamed by an rtpmap is not PCMU.
    let renamed = "v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\na=rtpmap:0 G722/8000\n";
    assert_eq!(
        negotiate(&door(false), &sdp(renamed)),
        Err(SdpError::NoCommonCodec)
    );
    // Two channels are not G.711 as we send it; 200 is no RTP payload
    // type.
    for other in [
        "m=audio 4000 RTP/AVP 0\na=rtpmap:0 PCMU/8000/2",
        "m=audio 4000 RTP/AVP 200\na=rtpmap:200 PCMU/8000",
    ] {
        let text = format!("v=0\nc=IN IP4 10.0.0.1\n{other}\n");
        assert_eq!(
            negotiate(&door(false), &sdp(&text)),
            Err(SdpError::NoCommonCodec),
            "{other}"
        );
    }
    let rejected = BARESIP_ANSWER.replace("m=audio 10626", "m=audio 0");
    assert_eq!(
        negotiate(&door(true), &sdp(&rejected)),
        Err(SdpError::NoAudio)
    );
    let video_only = "v=0\nc=IN IP4 10.0.0.1\nm=video 4002 RTP/AVP 96\n";
    assert_eq!(
        negotiate(&door(true), &sdp(video_only)),
        Err(SdpError::NoAudio)
    );
    assert_eq!(
        answer(&door(true), &sdp(video_only)).err(),
        Some(SdpError::NoAudio)
    );
    let no_address = "v=0\nm=audio 4000 RTP/AVP 0\n";
    assert_eq!(
        negotiate(&door(false), &sdp(no_address)),
        Err(SdpError::NoAddress)
    );
}

#[test]
fn lf_line_ends_trailing_spaces_and_unknown_lines_read_the_same() {
    let wire = sdp(BARESIP_ANSWER);
    let lf = parse(BARESIP_ANSWER.as_bytes()).unwrap();
    assert_eq!(lf, wire);
    let spaced = BARESIP_ANSWER.replace('\n', "  \t\r\n");
    assert_eq!(parse(spaced.as_bytes()).unwrap(), wire);
    let unknown = BARESIP_ANSWER.replace(
        "a=sendrecv\n",
        "a=sendrecv\nnot an sdp line\nz=whatever\na=\na=rtpmap:\na=fmtp:96\na=ptime:x\n\n",
    );
    assert_eq!(parse(unknown.as_bytes()).unwrap(), wire);
    assert_eq!(wire.session_name, "-");
    assert_eq!(wire.media.len(), 2);
}

#[test]
fn media_level_c_overrides_the_session_level() {
    let text = "v=0
o=- 1 1 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 4000/2 RTP/AVP 8
c=IN IP4 10.0.0.2
m=video 4002 RTP/AVP 96
a=rtpmap:96 h264/90000
";
    let media = negotiate(&door(true), &sdp(text)).unwrap();
    assert_eq!(media.audio.remote, at("10.0.0.2", 4000));
    // PT 8 without an rtpmap: static PCMA.
    assert_eq!((media.audio.codec, media.audio.pt), (AudioCodec::Pcma, 8));
    assert_eq!(media.audio.telephone_event, None);
    // Encoding names in any case (RFC 4855 3).
    assert_eq!(media.video.map(|v| v.remote), Some(at("10.0.0.1", 4002)));
    // A multicast TTL after the address.
    let ttl = sdp(&text.replace("c=IN IP4 10.0.0.2", "c=IN IP4 224.2.1.1/127"));
    assert_eq!(ttl.address(&ttl.media[0]), "224.2.1.1".parse().ok());
}

#[test]
fn a_reordered_answer_without_rtpmaps_means_what_we_offered() {
    let text = "v=0
o=- 5 5 IN IP4 192.168.1.30
s=-
c=IN IP4 192.168.1.30
t=0 0
a=recvonly
m=video 6002 RTP/AVP 96
m=audio 6000 RTP/AVP 97 8 100
a=rtpmap:97 PCM/16000
a=rtpmap:100 telephone-event/8000
a=rtcp:6010 IN IP4 192.168.1.31
a=ptime:0
a=sendrecv
";
    assert_eq!(
        negotiate(&door(true), &sdp(text)).unwrap(),
        Media {
            audio: AudioStream {
                // 97 (Dahua's PCM) is not ours: the next one is taken.
                codec: AudioCodec::Pcma,
                pt: 8,
                // The answer's number, not our 101.
                telephone_event: Some(100),
                // ptime 0 is no packet clock: ours stays.
                ptime: 20,
                remote: at("192.168.1.30", 6000),
                remote_rtcp: Some(at("192.168.1.31", 6010)),
                // Media-level sendrecv over the session's recvonly.
                send: true,
                receive: true,
            },
            video: Some(VideoStream {
                // 96 without rtpmap: our H.264, and no fmtp: mode 0.
                pt: 96,
                packetization_mode: 0,
                remote: at("192.168.1.30", 6002),
                remote_rtcp: Some(at("192.168.1.30", 6003)),
                send: true,
            }),
        }
    );
    // Ptime the answer asks for is kept; a=rtcp without address.
    let text = text
        .replace("a=ptime:0", "a=ptime:30")
        .replace("a=rtcp:6010 IN IP4 192.168.1.31", "a=rtcp:6011");
    let audio = negotiate(&door(true), &sdp(&text)).unwrap().audio;
    assert_eq!(audio.ptime, 30);
    assert_eq!(audio.remote_rtcp, Some(at("192.168.1.30", 6011)));
    // The last port has none after it for RTCP.
    let text = text.replace("a=rtcp:6011", "").replace("6000", "65535");
    let audio = negotiate(&door(true), &sdp(&text)).unwrap().audio;
    assert_eq!(audio.remote_rtcp, None);
}

#[test]
fn directions_are_media_level_over_session_level_and_default_sendrecv() {
    let text = "v=0
c=IN IP4 10.0.0.1
a=sendonly
m=audio 4000 RTP/AVP 0
m=audio 4002 RTP/AVP 0
a=recvonly
m=audio 4004 RTP/AVP 0
a=inactive
";
    let s = sdp(text);
    let directions: Vec<Direction> = s.media.iter().map(|m| s.direction(m)).collect();
    use Direction::*;
    assert_eq!(directions, [SendOnly, RecvOnly, Inactive]);
    let plain = sdp("v=0\nc=IN IP4 10.0.0.1\nm=audio 4000 RTP/AVP 0\n");
    assert_eq!(plain.direction(&plain.media[0]), SendRecv);

    // The answer's direction is the remote's: it sends only, so we may
    // not send; it is inactive for video, so no video is sent.
    let text = BARESIP_ANSWER
        .replace("a=sendrecv", "a=sendonly")
        .replace("a=recvonly", "a=inactive");
    let media = negotiate(&door(true), &sdp(&text)).unwrap();
    assert_eq!((media.audio.send, media.audio.receive), (false, true));
    assert_eq!(media.video.map(|v| v.send), Some(false));

    // Answering: a monitor that only listens gets sendonly audio; one
    // that only sends video gets inactive video.
    let offer = DAHUA_DOOR_OFFER
        .replace("a=sendrecv\nm=video", "a=recvonly\nm=video")
        .replace("a=framerate:25\na=sendrecv", "a=framerate:25\na=sendonly");
    let answered = answer(&door(true), &sdp(&offer)).unwrap();
    assert_eq!(
        (answered.media.audio.send, answered.media.audio.receive),
        (true, false)
    );
    assert_eq!(answered.media.video.map(|v| v.send), Some(false));
    let lines = lines(&answered.sdp);
    assert_eq!(lines[10], "a=sendonly");
    assert_eq!(lines.last(), Some(&"a=inactive"));
}

#[test]
fn a_dahua_style_offer_is_read_and_answered() {
    let offer = sdp(DAHUA_DOOR_OFFER);
    assert_eq!(offer.session_name, "Dahua VT 1.5");
    let audio = &offer.media[0];
    assert_eq!(audio.kind, MediaKind::Audio);
    assert_eq!(audio.payload_types().collect::<Vec<_>>(), [0, 97, 101]);
    assert_eq!(
        audio.format(97),
        Some(Format::Audio(AudioCodec::DahuaPcm16k))
    );
    assert_eq!(audio.format(101), Some(Format::TelephoneEvent));
    assert_eq!(audio.ptime, Some(20));
    let video = &offer.media[1];
    assert_eq!(video.format(96), Some(Format::H264));
    assert_eq!(video.fmtp(96), None);

    let answered = answer(&door(true), &offer).unwrap();
    // The session lines are the offer's.
    assert_eq!(lines(&answered.sdp)[..5], lines(&door(true).to_sdp())[..5]);
    let sprop = format!(
        "a=fmtp:96 packetization-mode=0;profile-level-id=42e01f;sprop-parameter-sets={SPROP}"
    );
    assert_eq!(
        lines(&answered.sdp)[5..],
        [
            "m=audio 20000 RTP/AVP 0 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
            "a=ptime:20",
            "a=sendrecv",
            "m=video 20002 RTP/AVP 96",
            "a=rtpmap:96 H264/90000",
            &sprop,
            "a=sendonly",
        ]
    );
    assert_eq!(
        answered.media,
        Media {
            audio: AudioStream {
                codec: AudioCodec::Pcmu,
                pt: 0,
                telephone_event: Some(101),
                ptime: 20,
                remote: at("192.168.1.110", 15000),
                remote_rtcp: Some(at("192.168.1.110", 15001)),
                send: true,
                receive: true,
            },
            video: Some(VideoStream {
                pt: 96,
                packetization_mode: 0,
                remote: at("192.168.1.110", 15002),
                remote_rtcp: Some(at("192.168.1.110", 15003)),
                send: true,
            }),
        }
    );
}

#[test]
fn a_monitor_offer_is_answered_line_for_line_with_its_payload_types() {
    let answered = answer(&door(true), &sdp(MONITOR_OFFER)).unwrap();
    let sprop = format!(
        "a=fmtp:105 packetization-mode=1;profile-level-id=42e01f;sprop-parameter-sets={SPROP}"
    );
    assert_eq!(
        lines(&answered.sdp)[5..],
        [
            "m=audio 20000 RTP/AVP 8 100",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:100 telephone-event/8000",
            "a=fmtp:100 0-15",
            "a=ptime:20",
            "a=sendrecv",
            "m=application 0 UDP/BFCP *",
            "m=video 20002 RTP/AVP 105",
            "a=rtpmap:105 H264/90000",
            &sprop,
            "a=sendonly",
            // One audio stream is all we have.
            "m=audio 0 RTP/AVP 0",
        ]
    );
    let media = answered.media;
    assert_eq!((media.audio.codec, media.audio.pt), (AudioCodec::Pcma, 8));
    assert_eq!(media.audio.telephone_event, Some(100));
    assert_eq!(media.audio.ptime, 40);
    // Mode 2 on 103 is not something we send.
    assert_eq!(
        media.video.map(|v| (v.pt, v.packetization_mode)),
        Some((105, 1))
    );
    // Mode 0 on 103 is, but mode 1 (FU-A) is preferred.
    let mode_0 = MONITOR_OFFER.replace("packetization-mode=2", "packetization-mode=0");
    let video = answer(&door(true), &sdp(&mode_0)).unwrap().media.video;
    assert_eq!(video.map(|v| (v.pt, v.packetization_mode)), Some((105, 1)));
    // Mode 0 only: mode 0.
    let only_0 = mode_0.replace(
        "m=video 30002 RTP/AVP 103 105 98",
        "m=video 30002 RTP/AVP 103",
    );
    let video = answer(&door(true), &sdp(&only_0)).unwrap().media.video;
    assert_eq!(video.map(|v| (v.pt, v.packetization_mode)), Some((103, 0)));
}

#[test]
fn video_we_cannot_send_is_answered_with_port_0() {
    // No camera.
    let answered = answer(&door(false), &sdp(DAHUA_DOOR_OFFER)).unwrap();
    assert_eq!(answered.media.video, None);
    assert_eq!(lines(&answered.sdp).last(), Some(&"m=video 0 RTP/AVP 96"));
    // No H.264 offered.
    let vp8 = DAHUA_DOOR_OFFER.replace("a=rtpmap:96 H264/90000", "a=rtpmap:96 VP8/90000");
    let answered = answer(&door(true), &sdp(&vp8)).unwrap();
    assert_eq!(answered.media.video, None);
    assert_eq!(lines(&answered.sdp).last(), Some(&"m=video 0 RTP/AVP 96"));
    // Not plain RTP (SRTP).
    let srtp = DAHUA_DOOR_OFFER.replace("m=video 15002 RTP/AVP", "m=video 15002 RTP/SAVP");
    let answered = answer(&door(true), &sdp(&srtp)).unwrap();
    assert_eq!(lines(&answered.sdp).last(), Some(&"m=video 0 RTP/SAVP 96"));
    // A rejected audio stream first, a usable one after it.
    let two = MONITOR_OFFER.replace("m=audio 30000", "m=audio 0");
    let answered = answer(&door(true), &sdp(&two)).unwrap();
    assert_eq!(answered.media.audio.remote, at("192.168.1.150", 30006));
    let written = lines(&answered.sdp);
    assert_eq!(written[5], "m=audio 0 RTP/AVP 18 8 0 100");
    assert_eq!(written.last(), Some(&"a=sendrecv"));
    // One video stream is all we have.
    let two = format!("{DAHUA_DOOR_OFFER}m=video 15004 RTP/AVP 96\na=rtpmap:96 H264/90000\n");
    let answered = answer(&door(true), &sdp(&two)).unwrap();
    assert_eq!(answered.media.video.map(|v| v.remote.port()), Some(15002));
    assert_eq!(lines(&answered.sdp).last(), Some(&"m=video 0 RTP/AVP 96"));
}

#[test]
fn sizes_are_bounded() {
    let base = crlf(BARESIP_ANSWER);
    let pad = |n: usize| format!("{base}{}\r\n", "a".repeat(n - base.len() - 2));
    assert_eq!(pad(MAX_SDP).len(), MAX_SDP);
    assert!(parse(pad(MAX_SDP).as_bytes()).is_ok());
    assert_eq!(parse(pad(MAX_SDP + 1).as_bytes()), Err(SdpError::TooLarge));
    let media = |n: usize| format!("v=0\r\n{}", "m=audio 4000 RTP/AVP 0\r\n".repeat(n));
    assert_eq!(
        parse(media(MAX_MEDIA).as_bytes()).map(|s| s.media.len()),
        Ok(16)
    );
    assert_eq!(
        parse(media(MAX_MEDIA + 1).as_bytes()),
        Err(SdpError::TooManyMedia)
    );
}

#[test]
fn garbage_is_an_error() {
    let cases: &[(&[u8], SdpError)] = &[
        (b"", SdpError::NotSdp),
        (b"hello", SdpError::NotSdp),
        (b"v=1\r\n", SdpError::NotSdp),
        (b"\xff\xfev=0\r\n", SdpError::NotSdp),
        (b"v=0\r\nm=audio\r\n", SdpError::MediaLine("audio".into())),
        (
            b"v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
            SdpError::MediaLine("audio 70000 RTP/AVP 0".into()),
        ),
        (
            b"v=0\r\nm=audio -1 RTP/AVP 0\r\n",
            SdpError::MediaLine("audio -1 RTP/AVP 0".into()),
        ),
        (
            b"v=0\r\nc=IN IP4 300.1.1.1\r\n",
            SdpError::Connection("IN IP4 300.1.1.1".into()),
        ),
        (
            b"v=0\r\nc=IN IP4 door.example\r\n",
            SdpError::Connection("IN IP4 door.example".into()),
        ),
        (b"v=0\r\nc=IN\r\n", SdpError::Connection("IN".into())),
        (
            b"v=0\r\nc=ATM NSAP 10.0.0.1\r\n",
            SdpError::Connection("ATM NSAP 10.0.0.1".into()),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            parse(bytes).as_ref().err(),
            Some(want),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    // Not UTF-8 in a session name costs nothing.
    let latin1 = b"v=0\r\ns=T\xfcr\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n";
    assert!(negotiate(&door(false), &parse(latin1).unwrap()).is_ok());
}

/// Every prefix and many one-byte mutations of every fixture: an error or
/// a result, never a panic; a prefix without the audio m-line is never a
/// call.
#[test]
fn truncated_and_mutated_fixtures_never_panic() {
    let run = |bytes: &[u8]| -> bool {
        let Ok(s) = parse(bytes) else {
            return false;
        };
        let _ = answer(&door(true), &s);
        let _ = answer(&door(false), &s);
        negotiate(&door(false), &s).is_ok() | negotiate(&door(true), &s).is_ok()
    };
    for fixture in [
        DAHUA_DOOR_OFFER,
        DAHUA_MONITOR_ANSWER,
        BARESIP_ANSWER,
        MONITOR_OFFER,
    ] {
        let wire = crlf(fixture);
        let bytes = wire.as_bytes();
        let audio_at = wire.find("m=audio").unwrap();
        for end in 0..=bytes.len() {
            let call = run(&bytes[..end]);
            assert!(!(call && end < audio_at + 9), "a call from {end} bytes");
        }
        for i in 0..bytes.len() {
            for b in [b' ', b'\n', b'/', b':', b'=', b'0', b'9', b'-', 0xff] {
                let mut mutated = bytes.to_vec();
                mutated[i] = b;
                run(&mutated);
            }
        }
    }
}
