//! Any bytes as an SDP body (or a SIP message's body, so the recorded
//! messages seed it): reading never panics; what reads is negotiated
//! against our offer and answered without panicking, and our answer reads
//! again with one m-line per offered one (RFC 3264 6).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::sdp::{self, Offer, OfferVideo, H264};

fuzz_target!(|data: &[u8]| {
    let body = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(data, |i| &data[i + 4..]);
    let Ok(remote) = sdp::parse(body) else {
        return;
    };
    let h264 = H264::new(&[0x67, 0x42, 0xe0, 0x1f], &[0x68, 0xce]).expect("parameter sets");
    let ours = Offer {
        address: "192.168.1.108".parse().expect("address"),
        session_id: 1,
        session_version: 1,
        audio_port: 20000,
        video: Some(OfferVideo { port: 20002, h264 }),
    };
    if let Ok(media) = sdp::negotiate(&ours, &remote) {
        assert!(media.audio.pt < 128);
    }
    if let Ok(answer) = sdp::answer(&ours, &remote) {
        if answer.sdp.len() <= sdp::MAX_SDP {
            let again = sdp::parse(answer.sdp.as_bytes()).expect("our answer reads");
            assert_eq!(again.media.len(), remote.media.len());
        }
    }
});
