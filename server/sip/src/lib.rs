//! SIP (issue 6): the registrar, proxy and user agent for door stations,
//! indoor monitors and the management centre. Built in layers, each a pure
//! state machine fed bytes and time; the sockets are thin loops around
//! them.
//!
//! - `message.rs`: parsing and printing messages (RFC 3261 7, 25), stream
//!   framing for TCP.
//! - `header.rs`: typed views of URIs, name-addresses, Via and CSeq.
//! - `digest.rs`: digest authentication (RFC 2617 / 7616 / 8760: MD5 and
//!   SHA-256), challenges and checks.
//! - `time.rs`: monotonic milliseconds, the clock of every timer.
//! - `nonce.rs`: nonces that expire and whose counts are used once.
//! - `bindings.rs`: the registrar's contacts per account, with expiry.
//! - `registrar.rs`: REGISTER in, response out: digest challenges, checks,
//!   stale nonces, blocking an address after 5 failures (or, from an
//!   address known good, throttling the account instead).
//! - `transaction.rs`: client and server transactions with their timers.
//! - `proxy.rs`: the forking proxy between registered devices, and the
//!   call events the call log is built from.
//! - `client.rs`: registering to another SIP server (REGISTER, digest
//!   answers, refreshes, retries).
//! - `uac.rs`: requests the device sends on its own (MESSAGE).
//! - `call.rs`: the device's own door call to a room (fork, answer, end).
//! - `incoming.rs`: a monitor calling the door ("Monitor"), answered as
//!   a user agent server.
//! - `sdp.rs`: SDP for door calls: offers, answers, the agreed media.
//! - `dispatch.rs`: the device's routing as one state machine over all of
//!   the above: bytes, source, transport and time in; sends and events out.
//!
//! A crate of its own, with no I/O and four small dependencies (bytes,
//! thiserror, md-5, sha2), so that its parsers can be fuzzed quickly
//! (`server/sip/fuzz`) and the device server
//! (`server/src/household/sip_server/`, the sockets) uses it through this
//! small API.

pub mod bindings;
pub mod call;
pub mod client;
pub mod digest;
pub mod dispatch;
pub mod header;
pub mod incoming;
pub mod message;
pub mod nonce;
pub mod proxy;
pub mod registrar;
pub mod sdp;
pub mod time;
pub mod transaction;
pub mod uac;
