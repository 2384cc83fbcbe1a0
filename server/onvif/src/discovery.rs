//! WS-Discovery (2005/04, what ONVIF clients send to 239.255.255.250:3702):
//! a Probe read (its MessageID and the Types and Scopes it filters on), the
//! ProbeMatches of this device written. Where the answer goes is the
//! caller's business: always the datagram's source, never a ReplyTo (an
//! address in the request would make the device a reflector).

use sha1::{Digest, Sha1};

use crate::{ns, xml::escape as e};

/// The longest Probe read: a real one is under 1 KB.
pub const MAX_PROBE: usize = 8192;

/// A Probe: whom to relate the answer to and what it looks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub message_id: String,
    /// (namespace, local name) of each type asked for; empty: any.
    pub types: Vec<(Option<String>, String)>,
    /// Scopes asked for (each must prefix one of the device's); empty: any.
    pub scopes: Vec<String>,
}

/// Types this device is: an ONVIF transmitter and device.
pub const TYPES: [(&str, &str); 2] = [
    (ns::NETWORK, "NetworkVideoTransmitter"),
    (ns::DEVICE, "Device"),
];

/// Reads a datagram; `None` for anything that is not a Probe with a
/// MessageID (other messages — Hello, Bye, Resolve, our own answers — are
/// ignored without a word).
pub fn parse_probe(datagram: &[u8]) -> Option<Probe> {
    if datagram.len() > MAX_PROBE {
        return None;
    }
    let text = std::str::from_utf8(datagram).ok()?;
    let doc = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            allow_dtd: false,
            ..Default::default()
        },
    )
    .ok()?;
    let env = doc.root_element();
    if env.tag_name().name() != "Envelope"
        || !matches!(env.tag_name().namespace(), Some(ns::SOAP12 | ns::SOAP11))
    {
        return None;
    }
    let header = child(env, "Header")?;
    let body = child(env, "Body")?;
    let probe = child(body, "Probe").filter(|p| p.tag_name().namespace() == Some(ns::WSD))?;
    let message_id = child(header, "MessageID")?.text()?.trim().to_string();
    if message_id.is_empty() || message_id.len() > 256 {
        return None;
    }
    let types = child(probe, "Types")
        .map(|t| {
            t.text()
                .unwrap_or("")
                .split_whitespace()
                .map(|q| match q.split_once(':') {
                    Some((prefix, local)) => (
                        t.lookup_namespace_uri(Some(prefix)).map(str::to_string),
                        local.to_string(),
                    ),
                    None => (
                        t.lookup_namespace_uri(None).map(str::to_string),
                        q.to_string(),
                    ),
                })
                .collect()
        })
        .unwrap_or_default();
    let scopes = child(probe, "Scopes")
        .map(|s| {
            s.text()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Some(Probe {
        message_id,
        types,
        scopes,
    })
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, local: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == local)
}

/// RFC 3986 prefix match of WS-Discovery: whole path segments.
fn scope_matches(wanted: &str, ours: &str) -> bool {
    let wanted = wanted.trim_end_matches('/');
    ours == wanted
        || ours
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Probe {
    /// Whether this device answers it.
    pub fn matches(&self, scopes: &[String]) -> bool {
        let types = self.types.iter().all(|(namespace, local)| {
            TYPES
                .iter()
                .any(|(n, l)| local == l && namespace.as_deref().is_none_or(|x| x == *n))
        });
        types
            && self
                .scopes
                .iter()
                .all(|w| scopes.iter().any(|o| scope_matches(w, o)))
    }
}

/// `urn:uuid:…` made of 16 bytes (a version 4 layout).
pub fn urn_uuid(b: [u8; 16]) -> String {
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The device's endpoint address: the same for a serial, always (clients
/// key devices on it).
pub fn endpoint(serial: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(b"vto onvif endpoint\0");
    sha.update(serial.as_bytes());
    let d = sha.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    urn_uuid(b)
}

/// What a ProbeMatches says.
pub struct Match<'a> {
    pub endpoint: &'a str,
    pub scopes: &'a [String],
    /// The device service's address(es), space separated.
    pub xaddrs: &'a str,
    pub metadata_version: u32,
    /// A fresh `urn:uuid:` for this message.
    pub message_id: &'a str,
}

/// The ProbeMatches answering `probe` (SOAP 1.2, as ONVIF requires).
pub fn probe_matches(probe: &Probe, m: &Match<'_>) -> String {
    let scopes = m.scopes.join(" ");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><env:Envelope xmlns:env=\"{soap}\" \
         xmlns:wsa=\"{wsa}\" xmlns:d=\"{wsd}\" xmlns:dn=\"{dn}\" xmlns:tds=\"{tds}\"><env:Header>\
         <wsa:MessageID>{mid}</wsa:MessageID><wsa:RelatesTo>{rel}</wsa:RelatesTo><wsa:To>\
         http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To><wsa:Action>\
         http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>\
         <d:AppSequence InstanceId=\"1\" MessageNumber=\"1\"/></env:Header><env:Body>\
         <d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference><wsa:Address>{ep}</wsa:Address>\
         </wsa:EndpointReference><d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>\
         <d:Scopes>{scopes}</d:Scopes><d:XAddrs>{xaddrs}</d:XAddrs><d:MetadataVersion>{mv}\
         </d:MetadataVersion></d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>",
        soap = ns::SOAP12,
        wsa = ns::WSA,
        wsd = ns::WSD,
        dn = ns::NETWORK,
        tds = ns::DEVICE,
        mid = e(m.message_id),
        rel = e(&probe.message_id),
        ep = e(m.endpoint),
        scopes = e(&scopes),
        xaddrs = e(m.xaddrs),
        mv = m.metadata_version,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn ours() -> Vec<String> {
        vec![
            "onvif://www.onvif.org/type/video_encoder".into(),
            "onvif://www.onvif.org/name/8001".into(),
        ]
    }

    #[test]
    fn wsdiscovery_probes_for_a_transmitter() {
        let p = parse_probe(&fixture("wsdiscovery-Probe.xml")).unwrap_or_else(|| panic!("read"));
        assert!(p.message_id.starts_with("urn:uuid:"), "{}", p.message_id);
        assert_eq!(
            p.types,
            [(
                Some(ns::NETWORK.to_string()),
                "NetworkVideoTransmitter".to_string()
            )]
        );
        assert!(p.matches(&ours()));
    }

    #[test]
    fn types_and_scopes_filter() {
        let probe = |types: &str, scopes: &str| {
            let body = format!(
                "<s:Envelope xmlns:s=\"{}\" xmlns:a=\"{}\" xmlns:d=\"{}\" xmlns:dn=\"{}\" \
                 xmlns:tds=\"{}\" xmlns:x=\"urn:x\"><s:Header><a:MessageID>urn:uuid:1</a:MessageID>\
                 <a:ReplyTo><a:Address>http://10.0.0.9:1/</a:Address></a:ReplyTo></s:Header>\
                 <s:Body><d:Probe><d:Types>{types}</d:Types><d:Scopes>{scopes}</d:Scopes>\
                 </d:Probe></s:Body></s:Envelope>",
                ns::SOAP12,
                ns::WSA,
                ns::WSD,
                ns::NETWORK,
                ns::DEVICE
            );
            parse_probe(body.as_bytes()).unwrap_or_else(|| panic!("{body}"))
        };
        assert!(probe("", "").matches(&ours()));
        assert!(probe("tds:Device", "").matches(&ours()));
        assert!(probe("dn:NetworkVideoTransmitter tds:Device", "").matches(&ours()));
        assert!(!probe("x:Printer", "").matches(&ours()));
        assert!(!probe("x:Device", "").matches(&ours()));
        assert!(probe("", "onvif://www.onvif.org/name").matches(&ours()));
        assert!(probe("", "onvif://www.onvif.org/name/8001/").matches(&ours()));
        assert!(!probe("", "onvif://www.onvif.org/na").matches(&ours()));
        assert!(!probe("", "onvif://www.onvif.org/name/8002").matches(&ours()));
    }

    #[test]
    fn not_probes_are_ignored() {
        for bad in [
            &b""[..],
            b"<x/>",
            b"not xml",
            format!("<s:Envelope xmlns:s=\"{}\"><s:Header/><s:Body><d:Probe xmlns:d=\"{}\"/></s:Body></s:Envelope>", ns::SOAP12, ns::WSD).as_bytes(),
            format!("<s:Envelope xmlns:s=\"{}\"><s:Header><MessageID>1</MessageID></s:Header><s:Body><d:Hello xmlns:d=\"{}\"/></s:Body></s:Envelope>", ns::SOAP12, ns::WSD).as_bytes(),
        ] {
            assert_eq!(parse_probe(bad), None, "{bad:?}");
        }
        assert_eq!(parse_probe(&vec![b' '; MAX_PROBE + 1]), None);
    }

    #[test]
    fn probe_matches_relate_to_the_probe_and_read_back() {
        let p = parse_probe(&fixture("wsdiscovery-Probe.xml")).unwrap_or_else(|| panic!("read"));
        let ep = endpoint("7KQ2M9XWD4TZB");
        assert_eq!(ep, endpoint("7KQ2M9XWD4TZB"));
        assert_ne!(ep, endpoint("7KQ2M9XWD4TZC"));
        assert_eq!(ep.len(), "urn:uuid:".len() + 36);
        let text = probe_matches(
            &p,
            &Match {
                endpoint: &ep,
                scopes: &ours(),
                xaddrs: "http://127.0.0.1:8080/onvif/device_service",
                metadata_version: 1,
                message_id: &urn_uuid([7; 16]),
            },
        );
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let get = |local: &str| {
            doc.descendants()
                .find(|n| n.tag_name().name() == local)
                .and_then(|n| n.text())
                .unwrap_or("")
        };
        assert_eq!(get("RelatesTo"), p.message_id);
        assert_eq!(get("Address"), ep);
        assert_eq!(get("XAddrs"), "http://127.0.0.1:8080/onvif/device_service");
        assert_eq!(get("Types"), "dn:NetworkVideoTransmitter tds:Device");
        assert!(get("Scopes").contains("onvif://www.onvif.org/name/8001"));
        // The answer is not a Probe: a device never answers another's answer.
        assert_eq!(parse_probe(text.as_bytes()), None);
    }
}
