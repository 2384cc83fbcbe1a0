use super::*;

fn tcp(interleaved: Option<(u8, u8)>) -> Transport {
    Transport {
        lower: Lower::Tcp { interleaved },
        record: false,
        ssrc: None,
    }
}

fn udp(a: u16, b: u16) -> Transport {
    Transport {
        lower: Lower::Udp {
            client_port: (a, b),
        },
        record: false,
        ssrc: None,
    }
}

#[test]
fn what_clients_send() {
    for (header, want) in [
        // ffmpeg and GStreamer over TCP (tests/fixtures/).
        ("RTP/AVP/TCP;unicast;interleaved=0-1", tcp(Some((0, 1)))),
        ("RTP/AVP/TCP;unicast;interleaved=4-5", tcp(Some((4, 5)))),
        // ffmpeg over UDP, GStreamer and live555 over UDP.
        (
            "RTP/AVP/UDP;unicast;client_port=27006-27007",
            udp(27006, 27007),
        ),
        ("RTP/AVP;unicast;client_port=37350-37351", udp(37350, 37351)),
        // Quoted and cased modes, spaces, a lone port, no `unicast`.
        (
            "RTP/AVP/TCP;unicast;interleaved=2-3;mode=\"PLAY\"",
            tcp(Some((2, 3))),
        ),
        (
            "rtp/avp/tcp; unicast; interleaved = 2-3 ; mode=play",
            tcp(Some((2, 3))),
        ),
        ("RTP/AVP;client_port=5000", udp(5000, 5001)),
        // TCP without channels: the server assigns them.
        ("RTP/AVP/TCP;unicast", tcp(None)),
        ("RTP/AVP/TCP", tcp(None)),
        // One channel: RTCP on the next.
        ("RTP/AVP/TCP;interleaved=6", tcp(Some((6, 7)))),
        // `interleaved` with neither /TCP nor ports can only mean TCP.
        ("RTP/AVP;unicast;interleaved=0-1", tcp(Some((0, 1)))),
        // Destination is ignored: media goes where the connection is from.
        (
            "RTP/AVP;unicast;destination=203.0.113.9;client_port=5000-5001",
            udp(5000, 5001),
        ),
    ] {
        assert_eq!(choose(header, true), Ok(want), "{header}");
    }
}

#[test]
fn record_mode_and_ssrc_are_read() {
    let t = choose(
        "RTP/AVP/TCP;unicast;interleaved=4-5;mode=record;ssrc=0A0B0C0D",
        false,
    )
    .unwrap();
    assert!(t.record);
    assert_eq!(t.ssrc, Some(0x0a0b_0c0d));
    let t = choose(
        "RTP/AVP/TCP;unicast;interleaved=4-5;mode=\"RECORD\";ssrc=zz",
        false,
    )
    .unwrap();
    assert!(t.record);
    assert_eq!(t.ssrc, None);
}

#[test]
fn the_first_alternative_served_wins() {
    // GStreamer's rtspsrc with every protocol allowed lists multicast
    // first; live555 may offer UDP then TCP.
    let header = "RTP/AVP;multicast;client_port=5000-5001;mode=\"PLAY\",\
                  RTP/AVP;unicast;client_port=37466-37467;mode=\"PLAY\",\
                  RTP/AVP/TCP;unicast;interleaved=0-1;mode=\"PLAY\"";
    assert_eq!(choose(header, true), Ok(udp(37466, 37467)));
    // Without UDP, TCP further down is taken.
    assert_eq!(choose(header, false), Ok(tcp(Some((0, 1)))));
    let results: Vec<bool> = alternatives(header).map(|r| r.is_ok()).collect();
    assert_eq!(results, [false, true, true]);
    // A broken alternative does not spoil the next.
    assert_eq!(
        choose(
            "RTP/AVP;unicast;client_port=x, RTP/AVP/TCP;interleaved=2-3",
            true
        ),
        Ok(tcp(Some((2, 3))))
    );
}

#[test]
fn unsupported_transports_are_461() {
    for (header, udp_served) in [
        ("RTP/AVP;multicast;ttl=16", true),
        ("RTP/AVP;unicast;client_port=5000-5001", false),
        ("RTP/AVP/UDP;unicast;client_port=5000-5001", false),
        ("RTP/SAVP;unicast;client_port=5000-5001", true),
        ("RTP/AVPF/TCP;unicast;interleaved=0-1", true),
        ("RAW/RAW/UDP;unicast;client_port=5000-5001", true),
        ("RTP/AVP/SCTP;unicast", true),
        ("RTP/AVP/TCP/X;unicast", true),
        ("RTP/AVP;unicast", true),
        ("RTP/AVP;unicast;client_port=0-1", true),
        ("RTP/AVP;unicast;client_port=5001-5000", true),
        ("RTP/AVP;unicast;client_port=65535", true),
        ("RTP/AVP;unicast;client_port=70000-70001", true),
        ("RTP/AVP/TCP;unicast;interleaved=255", true),
        ("RTP/AVP/TCP;unicast;interleaved=1-1", true),
        ("RTP/AVP/TCP;unicast;interleaved=300-301", true),
        ("", true),
        (",,", true),
        ("garbage", true),
    ] {
        let e = choose(header, udp_served).unwrap_err();
        assert!(matches!(e, Error::UnsupportedTransport(_)), "{header}");
        assert_eq!(e.status(), 461, "{header}");
    }
    // The header is quoted in the error, cut for logs.
    let long = format!("RTP/AVP;multicast;{}", "x".repeat(1000));
    let Err(Error::UnsupportedTransport(shown)) = choose(&long, true) else {
        panic!("served");
    };
    assert_eq!(shown.chars().count(), 200);
}

#[test]
fn replies() {
    assert_eq!(
        Chosen::Tcp {
            interleaved: (0, 1)
        }
        .header(None),
        "RTP/AVP/TCP;unicast;interleaved=0-1"
    );
    assert_eq!(
        Chosen::Tcp {
            interleaved: (2, 3)
        }
        .header(Some(0x1a2b)),
        "RTP/AVP/TCP;unicast;interleaved=2-3;ssrc=00001A2B"
    );
    assert_eq!(
        Chosen::Udp {
            client_port: (5000, 5001),
            server_port: (6970, 6971),
        }
        .header(Some(0xdead_beef)),
        "RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc=DEADBEEF"
    );
    // What the server answers reads back as what it serves.
    for chosen in [
        Chosen::Tcp {
            interleaved: (4, 5),
        },
        Chosen::Udp {
            client_port: (5000, 5001),
            server_port: (6970, 6971),
        },
    ] {
        let t = choose(&chosen.header(Some(1)), true).unwrap();
        assert_eq!(t.is_tcp(), matches!(chosen, Chosen::Tcp { .. }));
        assert_eq!(t.ssrc, Some(1));
    }
}
