//! Any bytes as an ONVIF request body: reading never panics; what reads
//! is answered (or faulted) by a device and a token check, and every
//! answer and fault is well-formed XML.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onvif::{answer, soap, wsse};

fn device() -> answer::Device {
    answer::Device {
        manufacturer: "vto".into(),
        model: "VTO-vto".into(),
        firmware: "0.1.0".into(),
        serial: "S".into(),
        hardware_id: "x".into(),
        name: "n".into(),
        hostname: "h".into(),
        http: "http://127.0.0.1:1".into(),
        rtsp: Some("rtsp://127.0.0.1:2".into()),
        address: "127.0.0.1".into(),
        streams: vec![answer::Stream {
            token: "main".into(),
            name: "Main".into(),
            subtype: 0,
            width: 2,
            height: 2,
            fps: 1,
            bitrate_kbps: 1,
        }],
        now: 1_796_538_669,
        ntp: false,
    }
}

fuzz_target!(|data: &[u8]| {
    let version = soap::version_of(data);
    match soap::parse(data) {
        Ok(req) => {
            let _ = answer::access(req.service, &req.operation);
            if let Some(t) = &req.token {
                let mut replay = wsse::Replay::default();
                let _ = wsse::check(t, "onvif", "pw", 1_796_538_669, &mut replay);
            }
            let text = match answer::answer(&req, &device()) {
                Ok(a) => a,
                Err(f) => f.envelope(req.soap),
            };
            assert!(roxmltree::Document::parse(&text).is_ok(), "{text}");
        }
        Err(f) => {
            assert!(roxmltree::Document::parse(&f.envelope(version)).is_ok());
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = onvif::time::parse(s);
    }
});
