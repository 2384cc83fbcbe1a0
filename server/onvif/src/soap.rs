//! A SOAP request as the services read it: the service (the namespace of
//! the body's first element), the operation (its local name), the few
//! arguments the operations served look at, and the WS-Security
//! UsernameToken of the header.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};

pub use crate::fault::Soap;
use crate::{fault::Fault, ns, xml::text_of};

/// Which service a body's operation belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Device,
    Media,
    Media2,
    /// Any other namespace (events, PTZ, imaging…): not served.
    Other,
}

impl Service {
    fn of(namespace: Option<&str>) -> Self {
        match namespace {
            Some(ns::DEVICE) => Self::Device,
            Some(ns::MEDIA) => Self::Media,
            Some(ns::MEDIA2) => Self::Media2,
            _ => Self::Other,
        }
    }
}

/// The arguments the operations served read; absent ones are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub profile_token: Option<String>,
    /// Media2 GetProfiles' Token.
    pub token: Option<String>,
    /// Media: StreamSetup/Transport/Protocol; Media2: Protocol.
    pub protocol: Option<String>,
    /// Media: StreamSetup/Stream (`RTP-Unicast`, `RTP-Multicast`).
    pub stream: Option<String>,
    /// GetCapabilities' Category (several allowed).
    pub categories: Vec<String>,
    /// GetServices' IncludeCapability.
    pub include_capability: bool,
}

/// How a UsernameToken's password is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordType {
    /// Base64(SHA-1(nonce + created + password)).
    Digest,
    /// The password itself.
    Text,
}

/// A WS-Security UsernameToken as received.
#[derive(Clone, PartialEq, Eq)]
pub struct UsernameToken {
    pub username: String,
    pub password: String,
    pub kind: PasswordType,
    /// Decoded from Base64; empty when absent.
    pub nonce: Vec<u8>,
    /// As written, for the digest.
    pub created: Option<String>,
}

// A PasswordText token carries the password: never printed.
impl std::fmt::Debug for UsernameToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsernameToken")
            .field("username", &self.username)
            .field("kind", &self.kind)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// A request read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub soap: Soap,
    pub service: Service,
    pub operation: String,
    pub args: Args,
    pub token: Option<UsernameToken>,
}

/// The SOAP version a body claims, for the fault of a body that fails to
/// read further (SOAP 1.2 when unclear).
pub fn version_of(body: &[u8]) -> Soap {
    let head = &body[..body.len().min(2048)];
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if has(ns::SOAP11.as_bytes()) && !has(ns::SOAP12.as_bytes()) {
        Soap::V11
    } else {
        Soap::V12
    }
}

fn element<'a, 'i>(
    parent: roxmltree::Node<'a, 'i>,
    namespace: &str,
    local: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    parent.children().find(|n| {
        n.is_element()
            && n.tag_name().name() == local
            && n.tag_name().namespace() == Some(namespace)
    })
}

/// Reads a request body. Faults (Sender) for anything that is not a SOAP
/// envelope with one operation in its body, or a malformed token.
pub fn parse(body: &[u8]) -> Result<Request, Fault> {
    if body.len() > crate::MAX_REQUEST {
        return Err(Fault::malformed("Request too large"));
    }
    let text = std::str::from_utf8(body).map_err(|_| Fault::malformed("Not UTF-8"))?;
    let doc = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions {
            // No DTDs, no entity expansion bombs.
            allow_dtd: false,
            ..Default::default()
        },
    )
    .map_err(|e| Fault::malformed(format!("Not XML: {e}")))?;
    let env = doc.root_element();
    let soap = match (env.tag_name().name(), env.tag_name().namespace()) {
        ("Envelope", Some(ns::SOAP12)) => Soap::V12,
        ("Envelope", Some(ns::SOAP11)) => Soap::V11,
        _ => return Err(Fault::malformed("Not a SOAP envelope")),
    };
    let env_ns = soap.namespace();
    let body = element(env, env_ns, "Body").ok_or_else(|| Fault::malformed("No SOAP Body"))?;
    let op = body
        .children()
        .find(|n| n.is_element())
        .ok_or_else(|| Fault::malformed("Empty SOAP Body"))?;
    let token = match element(env, env_ns, "Header")
        .and_then(|h| element(h, ns::WSSE, "Security"))
        .and_then(|s| element(s, ns::WSSE, "UsernameToken"))
    {
        Some(t) => Some(username_token(t)?),
        None => None,
    };
    let args = Args {
        profile_token: text_of(op, "ProfileToken").map(str::to_string),
        token: text_of(op, "Token").map(str::to_string),
        protocol: text_of(op, "Protocol").map(str::to_string),
        stream: text_of(op, "Stream").map(str::to_string),
        categories: op
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == "Category")
            .filter_map(|n| n.text())
            .flat_map(str::split_whitespace)
            .map(str::to_string)
            .collect(),
        include_capability: text_of(op, "IncludeCapability")
            .is_some_and(|v| v == "true" || v == "1"),
    };
    Ok(Request {
        soap,
        service: Service::of(op.tag_name().namespace()),
        operation: op.tag_name().name().to_string(),
        args,
        token,
    })
}

const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
const PASSWORD_DIGEST: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest";

fn username_token(t: roxmltree::Node<'_, '_>) -> Result<UsernameToken, Fault> {
    let field = |local: &str, namespace: &str| element(t, namespace, local);
    let username = field("Username", ns::WSSE)
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(Fault::not_authorized)?;
    let password = field("Password", ns::WSSE).ok_or_else(Fault::not_authorized)?;
    // No Type means PasswordText (WSS UsernameToken Profile 1.0, 3.1).
    let kind = match password.attribute("Type") {
        None | Some(PASSWORD_TEXT) => PasswordType::Text,
        Some(PASSWORD_DIGEST) => PasswordType::Digest,
        Some(_) => return Err(Fault::not_authorized()),
    };
    let nonce = match field("Nonce", ns::WSSE).and_then(|n| n.text()) {
        Some(n) => B64.decode(n.trim()).map_err(|_| Fault::not_authorized())?,
        None => Vec::new(),
    };
    Ok(UsernameToken {
        username: username.to_string(),
        password: password.text().unwrap_or("").trim().to_string(),
        kind,
        nonce,
        created: field("Created", ns::WSU)
            .and_then(|n| n.text())
            .map(|c| c.trim().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn zeep_get_system_date_and_time_without_a_token() {
        let r =
            parse(&fixture("zeep-GetSystemDateAndTime.xml")).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(r.soap, Soap::V12);
        assert_eq!(r.service, Service::Device);
        assert_eq!(r.operation, "GetSystemDateAndTime");
        assert_eq!(r.token, None);
    }

    #[test]
    fn zeep_get_stream_uri_with_its_digest_token() {
        let r = parse(&fixture("zeep-GetStreamUri.xml")).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(r.service, Service::Media);
        assert_eq!(r.operation, "GetStreamUri");
        assert_eq!(r.args.profile_token.as_deref(), Some("main"));
        assert_eq!(r.args.protocol.as_deref(), Some("RTSP"));
        assert_eq!(r.args.stream.as_deref(), Some("RTP-Unicast"));
        let t = r.token.unwrap_or_else(|| panic!("no token"));
        assert_eq!(t.username, "onvif");
        assert_eq!(t.kind, PasswordType::Digest);
        assert_eq!(t.nonce.len(), 16);
        assert!(t.created.is_some());
        assert!(!format!("{t:?}").contains(&t.password));
    }

    #[test]
    fn zeep_capabilities_services_and_media2() {
        let r = parse(&fixture("zeep-GetServices.xml")).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(
            (r.service, r.operation.as_str()),
            (Service::Device, "GetServices")
        );
        assert!(!r.args.include_capability);
        let r = parse(&fixture("zeep-GetCapabilities.xml")).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(r.args.categories, ["All"]);
        let r = parse(&fixture("zeep-media2-GetStreamUri.xml")).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(r.service, Service::Media2);
        assert_eq!(r.args.protocol.as_deref(), Some("RtspUnicast"));
        assert_eq!(r.args.profile_token.as_deref(), Some("sub"));
    }

    #[test]
    fn soap_11_and_text_passwords() {
        let body = format!(
            "<e:Envelope xmlns:e=\"{}\"><e:Header><Security xmlns=\"{}\"><UsernameToken>\
             <Username>admin</Username><Password>pw</Password></UsernameToken></Security>\
             </e:Header><e:Body><GetHostname xmlns=\"{}\"/></e:Body></e:Envelope>",
            ns::SOAP11,
            ns::WSSE,
            ns::DEVICE
        );
        let r = parse(body.as_bytes()).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(r.soap, Soap::V11);
        assert_eq!(r.operation, "GetHostname");
        let t = r.token.unwrap_or_else(|| panic!("no token"));
        assert_eq!((t.kind, t.password.as_str()), (PasswordType::Text, "pw"));
        assert_eq!(version_of(body.as_bytes()), Soap::V11);
    }

    #[test]
    fn what_is_not_a_request_is_a_sender_fault() {
        for bad in [
            &b"not xml"[..],
            b"<a/>",
            b"\xff\xfe",
            b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>",
            format!(
                "<s:Envelope xmlns:s=\"{}\"><s:Body/></s:Envelope>",
                ns::SOAP12
            )
            .as_bytes(),
            format!("<s:Envelope xmlns:s=\"{}\"></s:Envelope>", ns::SOAP12).as_bytes(),
        ] {
            let f = parse(bad).err().unwrap_or_else(|| panic!("{bad:?} read"));
            assert_eq!(f.code, crate::fault::Code::Sender, "{bad:?}");
        }
        // A token it cannot read: not authorized, not a crash.
        let body = format!(
            "<s:Envelope xmlns:s=\"{}\"><s:Header><Security xmlns=\"{}\"><UsernameToken>\
             <Username>a</Username><Password>x</Password><Nonce>***</Nonce></UsernameToken>\
             </Security></s:Header><s:Body><GetUsers xmlns=\"{}\"/></s:Body></s:Envelope>",
            ns::SOAP12,
            ns::WSSE,
            ns::DEVICE
        );
        assert_eq!(parse(body.as_bytes()), Err(Fault::not_authorized()));
        assert!(parse(&vec![b' '; crate::MAX_REQUEST + 1]).is_err());
    }
}
