//! SOAP faults with the codes of the ONVIF Core Specification (5.11).

use crate::{ns, xml::escape};

/// SOAP 1.2 or 1.1: a fault is written in the client's version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Soap {
    #[default]
    V12,
    V11,
}

impl Soap {
    pub fn namespace(self) -> &'static str {
        match self {
            Self::V12 => ns::SOAP12,
            Self::V11 => ns::SOAP11,
        }
    }

    /// The HTTP Content-Type of an answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::V12 => "application/soap+xml; charset=utf-8",
            Self::V11 => "text/xml; charset=utf-8",
        }
    }
}

/// Who is at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// The request: 400.
    Sender,
    /// The device: 500.
    Receiver,
}

/// A fault: code, ONVIF subcodes (`ter:` local names) and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub code: Code,
    pub subcodes: Vec<&'static str>,
    pub reason: String,
}

impl Fault {
    pub fn new(code: Code, subcodes: &[&'static str], reason: impl Into<String>) -> Self {
        Self {
            code,
            subcodes: subcodes.to_vec(),
            reason: reason.into(),
        }
    }

    /// A wrong, missing or replayed UsernameToken, an unknown user.
    pub fn not_authorized() -> Self {
        Self::new(Code::Sender, &["NotAuthorized"], "Sender not Authorized")
    }

    /// An operation this device does not serve.
    pub fn action_not_supported(op: &str) -> Self {
        Self::new(
            Code::Receiver,
            &["ActionNotSupported"],
            format!("Optional Action Not Implemented: {op}"),
        )
    }

    /// An argument out of range; `sub` names which ONVIF check failed.
    pub fn invalid_arg(sub: &'static str, reason: impl Into<String>) -> Self {
        Self::new(Code::Sender, &["InvalidArgVal", sub], reason)
    }

    pub fn no_profile(token: &str) -> Self {
        Self::invalid_arg("NoProfile", format!("No such profile: {token}"))
    }

    /// A body that is not a SOAP request at all.
    pub fn malformed(reason: impl Into<String>) -> Self {
        Self::new(Code::Sender, &["WellFormed"], reason)
    }

    /// The HTTP status that carries it (SOAP 1.2 HTTP binding).
    pub fn status(&self) -> u16 {
        match self.code {
            Code::Sender => 400,
            Code::Receiver => 500,
        }
    }

    /// The whole envelope.
    pub fn envelope(&self, soap: Soap) -> String {
        let reason = escape(&self.reason);
        match soap {
            Soap::V12 => {
                let code = match self.code {
                    Code::Sender => "env:Sender",
                    Code::Receiver => "env:Receiver",
                };
                let mut subs = String::new();
                for s in self.subcodes.iter().rev() {
                    subs =
                        format!("<env:Subcode><env:Value>ter:{s}</env:Value>{subs}</env:Subcode>");
                }
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><env:Envelope xmlns:env=\"{}\" \
                     xmlns:ter=\"{}\"><env:Body><env:Fault><env:Code><env:Value>{code}</env:Value>\
                     {subs}</env:Code><env:Reason><env:Text xml:lang=\"en\">{reason}</env:Text>\
                     </env:Reason></env:Fault></env:Body></env:Envelope>",
                    ns::SOAP12,
                    ns::ERROR
                )
            }
            Soap::V11 => {
                // SOAP 1.1 has one code: the most specific ONVIF one.
                let code = match self.subcodes.last() {
                    Some(s) => format!("ter:{s}"),
                    None => match self.code {
                        Code::Sender => "env:Client".into(),
                        Code::Receiver => "env:Server".into(),
                    },
                };
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><env:Envelope xmlns:env=\"{}\" \
                     xmlns:ter=\"{}\"><env:Body><env:Fault><faultcode>{code}</faultcode>\
                     <faultstring>{reason}</faultstring></env:Fault></env:Body></env:Envelope>",
                    ns::SOAP11,
                    ns::ERROR
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_authorized_reads_like_the_specification() {
        let f = Fault::not_authorized().envelope(Soap::V12);
        let doc = roxmltree::Document::parse(&f).unwrap_or_else(|e| panic!("{e}"));
        let values: Vec<&str> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "Value")
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(values, ["env:Sender", "ter:NotAuthorized"]);
        assert!(f.contains("Sender not Authorized"));
        assert_eq!(Fault::not_authorized().status(), 400);
    }

    #[test]
    fn nested_subcodes_and_soap_11() {
        let f = Fault::no_profile("x<y");
        let text = f.envelope(Soap::V12);
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let values: Vec<&str> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "Value")
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(values, ["env:Sender", "ter:InvalidArgVal", "ter:NoProfile"]);
        assert!(text.contains("x&lt;y"));
        let old = Fault::action_not_supported("Reboot").envelope(Soap::V11);
        assert!(old.contains("<faultcode>ter:ActionNotSupported</faultcode>"));
        assert!(roxmltree::Document::parse(&old).is_ok());
        assert_eq!(Fault::action_not_supported("x").status(), 500);
    }
}
