//! Any datagram on the WS-Discovery port: reading never panics, and the
//! ProbeMatches of what reads as a Probe is well-formed XML that relates
//! to it and is not itself a Probe (no answer loops between devices).
#![no_main]

use libfuzzer_sys::fuzz_target;
use onvif::discovery::{self, Match};

fuzz_target!(|data: &[u8]| {
    let Some(probe) = discovery::parse_probe(data) else {
        return;
    };
    let scopes = vec!["onvif://www.onvif.org/name/x".to_string()];
    let _ = probe.matches(&scopes);
    let text = discovery::probe_matches(
        &probe,
        &Match {
            endpoint: &discovery::endpoint("S"),
            scopes: &scopes,
            xaddrs: "http://127.0.0.1:1/onvif/device_service",
            metadata_version: 1,
            message_id: &discovery::urn_uuid([1; 16]),
        },
    );
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let relates = doc
        .descendants()
        .find(|n| n.tag_name().name() == "RelatesTo")
        .and_then(|n| n.text());
    assert_eq!(relates, Some(probe.message_id.as_str()));
    assert!(discovery::parse_probe(text.as_bytes()).is_none());
});
