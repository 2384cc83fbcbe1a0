//! Dahua door station compatibility (issue 20): the wire formats that
//! integrations written for Dahua VTOs expect (Home Assistant's Dahua
//! integration, python-amcrest, aiodahua, openHAB, DahuaVTO2MQTT), as pure
//! functions and small state fed bytes: no sockets, no clock reads (times
//! are passed in), so the parsers can be fuzzed (`server/dahua/fuzz`) and
//! the server's HTTP and TCP 5000 listeners stay thin.
//!
//! - `cgi.rs`: `/cgi-bin/<script>.cgi?...` requests (percent-decoding,
//!   bounded sizes, the Digest `uri=` comparison) and `key=value` bodies.
//! - `events.rs`: the `eventManager.cgi?action=attach` stream: the
//!   `codes` filter, multipart parts written byte for byte as devices do,
//!   and the VTO events (`Invite`, `CallNoAnswered`, `BackKeyLight`,
//!   `AccessControl`, `DoorStatus`) with every field their readers expect.
//! - `dhip.rs`: DHIP on TCP 5000: the 32-byte frame header, an incremental
//!   decoder, the two-step login and the replies clients ask for.
//! - `json.rs`: JSON written the way Dahua clients can read it: printable
//!   ASCII strings without escapes, compact for DHIP, pretty-printed the
//!   device's way for the event stream.
//!
//! Facts about devices and clients come from public configs, captures and
//! the clients' issue threads (quoted where a choice depends on them);
//! where those are silent, the choice is documented where it is made.

pub mod cgi;
pub mod dhip;
pub mod events;
pub mod json;
