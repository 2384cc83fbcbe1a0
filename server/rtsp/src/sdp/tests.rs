use super::*;

/// x264's constrained baseline SPS and PPS for 320x240 (ffmpeg 5.1,
/// `-profile:v baseline`), as the fixtures' recorder served them.
const SPS: [u8; 24] = [
    0x67, 0x42, 0xc0, 0x0b, 0xd9, 0x01, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00,
    0x00, 0x03, 0x01, 0x40, 0xf1, 0x42, 0xa4, 0x80,
];
const PPS: [u8; 5] = [0x68, 0xcb, 0x83, 0xcb, 0x20];

fn camera() -> Description<'static> {
    Description {
        session_id: 1_700_000_000,
        version: 1,
        address: "192.168.1.108",
        name: "vto",
        sps: &SPS,
        pps: &PPS,
        framerate: None,
        size: None,
        audio: true,
        backchannel: false,
        control_base: None,
    }
}

#[test]
fn a_camera_with_video_and_audio() {
    assert_eq!(
        camera().to_sdp().unwrap(),
        "v=0\r\n\
         o=- 1700000000 1 IN IP4 192.168.1.108\r\n\
         s=vto\r\n\
         c=IN IP4 0.0.0.0\r\n\
         t=0 0\r\n\
         a=control:*\r\n\
         a=range:npt=0-\r\n\
         m=video 0 RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\n\
         a=fmtp:96 packetization-mode=1;profile-level-id=42c00b;\
         sprop-parameter-sets=Z0LAC9kBQfsBEAAAAwAQAAADAUDxQqSA,aMuDyyA=\r\n\
         a=control:trackID=0\r\n\
         m=audio 0 RTP/AVP 0\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=control:trackID=1\r\n"
    );
}

#[test]
fn the_onvif_backchannel_with_directions() {
    let d = Description {
        backchannel: true,
        framerate: Some(25.0),
        size: Some((1280, 720)),
        ..camera()
    };
    let sdp = d.to_sdp().unwrap();
    let media: Vec<&str> = sdp.split("m=").skip(1).collect();
    assert_eq!(media.len(), 3);
    assert_eq!(
        media[0],
        "video 0 RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\n\
         a=fmtp:96 packetization-mode=1;profile-level-id=42c00b;\
         sprop-parameter-sets=Z0LAC9kBQfsBEAAAAwAQAAADAUDxQqSA,aMuDyyA=\r\n\
         a=framerate:25\r\n\
         a=framesize:96 1280-720\r\n\
         a=x-dimensions:1280,720\r\n\
         a=control:trackID=0\r\n\
         a=recvonly\r\n"
    );
    assert_eq!(
        media[1],
        "audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=1\r\na=recvonly\r\n"
    );
    assert_eq!(
        media[2],
        "audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=2\r\na=sendonly\r\n"
    );
    // Without audio, the backchannel still comes as its own section.
    let d = Description {
        audio: false,
        backchannel: true,
        ..camera()
    };
    let sdp = d.to_sdp().unwrap();
    assert_eq!(sdp.matches("m=audio").count(), 1);
    assert!(sdp.contains("a=control:trackID=2\r\na=sendonly\r\n"));
    assert!(!sdp.contains("trackID=1"));
}

#[test]
fn parameter_sets() {
    // With start codes, as a camera's Annex B stream has them.
    let mut annex_b = vec![0, 0, 0, 1];
    annex_b.extend_from_slice(&SPS);
    let pps3 = [&[0u8, 0, 1][..], &PPS].concat();
    assert_eq!(profile_level_id(&annex_b).unwrap(), "42c00b");
    assert_eq!(
        sprop_parameter_sets(&annex_b, &pps3),
        "Z0LAC9kBQfsBEAAAAwAQAAADAUDxQqSA,aMuDyyA="
    );
    // A Main profile level 4.2 SPS as cameras send it.
    let main = [0x67, 0x4d, 0x00, 0x2a, 0x9d, 0xa8, 0x1e, 0x00, 0x89, 0xf9];
    assert_eq!(profile_level_id(&main).unwrap(), "4d002a");
    // Not known yet: packetization mode only (clients take them in-band).
    let d = Description {
        sps: &[],
        pps: &[],
        ..camera()
    };
    assert!(d
        .to_sdp()
        .unwrap()
        .contains("a=fmtp:96 packetization-mode=1\r\n"));
    for (sps, pps) in [
        (&SPS[..], &[][..]),
        (&[][..], &PPS[..]),
        (&PPS[..], &PPS[..]),
        (&SPS[..], &SPS[..]),
        (&SPS[..3], &PPS[..]),
    ] {
        let d = Description {
            sps,
            pps,
            ..camera()
        };
        assert!(
            matches!(d.to_sdp(), Err(Error::ParameterSets(_))),
            "{sps:?} {pps:?}"
        );
    }
    assert!(profile_level_id(&[0x67, 0x42]).is_err());
    assert!(profile_level_id(&[]).is_err());
}

#[test]
fn odd_inputs() {
    let d = Description {
        address: "fe80::1",
        name: "Front\r\ndoor",
        framerate: Some(12.5),
        control_base: Some("rtsp://192.168.1.108/cam/realmonitor?channel=1&subtype=0/"),
        session_id: u64::MAX,
        version: 0,
        ..camera()
    };
    let sdp = d.to_sdp().unwrap();
    assert!(sdp.contains("o=- 18446744073709551615 0 IN IP6 fe80::1\r\n"));
    assert!(sdp.contains("s=Frontdoor\r\n"));
    assert!(sdp.contains("a=framerate:12.5\r\n"));
    // Absolute controls, for clients that resolve relative ones oddly.
    assert!(sdp.contains(
        "a=control:rtsp://192.168.1.108/cam/realmonitor?channel=1&subtype=0/trackID=0\r\n"
    ));
    assert!(sdp.contains("a=control:*\r\n"));
    let d = Description {
        address: "",
        name: "",
        framerate: Some(f64::NAN),
        ..camera()
    };
    let sdp = d.to_sdp().unwrap();
    assert!(sdp.contains("IN IP4 0.0.0.0\r\ns= \r\n"));
    assert!(!sdp.contains("framerate"));
    // Every line ends in CRLF, none is empty.
    assert!(sdp.ends_with("\r\n"));
    assert!(sdp.split("\r\n").filter(|l| l.is_empty()).count() == 1);
    assert!(!sdp.replace("\r\n", "").contains('\n'));
}
