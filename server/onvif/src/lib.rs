//! vto's ONVIF device side, without I/O: what Home Assistant's ONVIF
//! integration, recorders and `onvif-zeep-async` ask a camera.
//!
//! - [`soap`]: a SOAP 1.2 or 1.1 request read into its service, operation,
//!   arguments and WS-Security UsernameToken;
//! - [`wsse`]: a UsernameToken checked against a password (PasswordDigest
//!   or PasswordText), its Created against the time given, its nonce
//!   against a bounded replay cache;
//! - [`answer`]: the answers of the device, media and media2 services,
//!   written from a typed [`answer::Device`];
//! - [`fault`]: SOAP faults in the codes ONVIF prescribes;
//! - [`discovery`]: WS-Discovery Probe read, ProbeMatches written;
//! - [`time`]: the xs:dateTime of WS-Security, to and from Unix seconds.
//!
//! Time is always a parameter; nothing here reads a clock or a socket.

pub mod answer;
pub mod discovery;
pub mod fault;
pub mod soap;
pub mod time;
pub mod wsse;
mod xml;

pub use fault::Fault;

/// Namespaces of the services served.
pub mod ns {
    pub const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
    pub const SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";
    pub const DEVICE: &str = "http://www.onvif.org/ver10/device/wsdl";
    pub const MEDIA: &str = "http://www.onvif.org/ver10/media/wsdl";
    pub const MEDIA2: &str = "http://www.onvif.org/ver20/media/wsdl";
    pub const SCHEMA: &str = "http://www.onvif.org/ver10/schema";
    pub const ERROR: &str = "http://www.onvif.org/ver10/error";
    pub const WSSE: &str =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    pub const WSU: &str =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    pub const WSA: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
    pub const WSD: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery";
    pub const NETWORK: &str = "http://www.onvif.org/ver10/network/wsdl";
}

/// The largest request body read (profiles requests are a few hundred bytes;
/// zeep's with a UsernameToken about 1.5 KB).
pub const MAX_REQUEST: usize = 64 * 1024;
