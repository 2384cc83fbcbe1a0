//! The `Transport` header (RFC 2326 12.39): what a client asks for in
//! SETUP, and the server's answer.
//!
//! A client lists alternatives separated by `,` in its order of
//! preference; the server takes the first it serves: unicast RTP/AVP over
//! TCP interleaved on the RTSP connection (`RTP/AVP/TCP;unicast;
//! interleaved=0-1`), or over UDP (`RTP/AVP;unicast;client_port=a-b`, also
//! written `RTP/AVP/UDP`) where the device enables UDP. Multicast, other
//! profiles (SAVP, AVPF) and UDP without client ports are not served: when
//! nothing is left the answer is 461 Unsupported Transport, after which
//! ffmpeg and GStreamer retry over TCP.
//!
//! Parameters are read in any case and with quoted values
//! (`mode="PLAY"`); unknown ones are ignored. `destination` is ignored on
//! purpose: media only ever goes to the address the RTSP connection comes
//! from, so a client cannot aim the device's stream at someone else.

use crate::Error;

/// One alternative a client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transport {
    pub lower: Lower,
    /// `mode=record`: the client means to send (RFC 2326 12.39). Read so
    /// that it is not mistaken for anything else; the session serves
    /// PLAY either way.
    pub record: bool,
    /// The SSRC the client suggests (`ssrc=`, hex).
    pub ssrc: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lower {
    /// Interleaved on the RTSP connection; the channels for RTP and RTCP
    /// if the client chose them.
    Tcp { interleaved: Option<(u8, u8)> },
    /// UDP to the client's RTP and RTCP ports.
    Udp { client_port: (u16, u16) },
}

impl Transport {
    pub fn is_tcp(&self) -> bool {
        matches!(self.lower, Lower::Tcp { .. })
    }
}

/// Every alternative of a Transport header in order: each read, or why
/// it cannot be served.
pub fn alternatives(header: &str) -> impl Iterator<Item = Result<Transport, Error>> + '_ {
    header
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(parse_one)
}

/// The first alternative served: TCP always, UDP only when `udp`.
pub fn choose(header: &str, udp: bool) -> Result<Transport, Error> {
    alternatives(header)
        .filter_map(Result::ok)
        .find(|t| udp || t.is_tcp())
        .ok_or_else(|| unsupported(header))
}

fn unsupported(header: &str) -> Error {
    // Kept short: the text is for logs.
    let shown: String = header.chars().take(200).collect();
    Error::UnsupportedTransport(shown)
}

fn parse_one(alternative: &str) -> Result<Transport, Error> {
    let mut params = alternative.split(';').map(str::trim);
    let spec = params.next().unwrap_or_default();
    let mut parts = spec.split('/');
    let (protocol, profile, lower) = (parts.next(), parts.next(), parts.next());
    if parts.next().is_some()
        || !protocol.is_some_and(|p| p.eq_ignore_ascii_case("RTP"))
        || !profile.is_some_and(|p| p.eq_ignore_ascii_case("AVP"))
    {
        return Err(unsupported(alternative));
    }
    let tcp = match lower {
        None => false,
        Some(l) if l.eq_ignore_ascii_case("UDP") => false,
        Some(l) if l.eq_ignore_ascii_case("TCP") => true,
        Some(_) => return Err(unsupported(alternative)),
    };
    let mut interleaved = None;
    let mut client_port = None;
    let mut record = false;
    let mut ssrc = None;
    for param in params {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (param, None),
        };
        let name = name.to_ascii_lowercase();
        match (name.as_str(), value) {
            ("multicast", _) => return Err(unsupported(alternative)),
            ("interleaved", Some(v)) => {
                interleaved =
                    Some(range(v, u8::MAX.into()).ok_or_else(|| unsupported(alternative))?)
            }
            ("client_port", Some(v)) => {
                client_port = Some(range(v, u16::MAX).ok_or_else(|| unsupported(alternative))?)
            }
            ("mode", Some(v)) => record = v.eq_ignore_ascii_case("record"),
            ("ssrc", Some(v)) => ssrc = u32::from_str_radix(v, 16).ok(),
            _ => {}
        }
    }
    let lower = match (tcp, interleaved, client_port) {
        (true, interleaved, _) => Lower::Tcp {
            interleaved: interleaved.map(|(a, b)| (a as u8, b as u8)),
        },
        (false, _, Some((a, b))) if a > 0 => Lower::Udp {
            client_port: (a as u16, b as u16),
        },
        // `interleaved` without `/TCP` and without ports can only mean TCP.
        (false, Some((a, b)), None) => Lower::Tcp {
            interleaved: Some((a as u8, b as u8)),
        },
        _ => return Err(unsupported(alternative)),
    };
    Ok(Transport {
        lower,
        record,
        ssrc,
    })
}

/// `a-b` or `a` (then `b` is `a + 1`), both at most `max`, `b` above `a`.
fn range(v: &str, max: u16) -> Option<(u32, u32)> {
    let number = |s: &str| -> Option<u32> {
        let s = s.trim();
        if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().filter(|&n| n <= u32::from(max))
    };
    let (a, b) = match v.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => {
            let a = number(v)?;
            (a, a + 1)
        }
    };
    (b > a && b <= u32::from(max)).then_some((a, b))
}

/// What the server serves a track on: the reply's Transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    Tcp {
        interleaved: (u8, u8),
    },
    Udp {
        client_port: (u16, u16),
        server_port: (u16, u16),
    },
}

impl Chosen {
    /// The reply's `Transport` value; `ssrc` is the server's for what it
    /// sends on the track (none for what only the client sends).
    pub fn header(&self, ssrc: Option<u32>) -> String {
        let mut s = match self {
            Self::Tcp {
                interleaved: (a, b),
            } => {
                format!("RTP/AVP/TCP;unicast;interleaved={a}-{b}")
            }
            Self::Udp {
                client_port: (a, b),
                server_port: (c, d),
            } => format!("RTP/AVP;unicast;client_port={a}-{b};server_port={c}-{d}"),
        };
        if let Some(ssrc) = ssrc {
            s.push_str(&format!(";ssrc={ssrc:08X}"));
        }
        s
    }
}

#[cfg(test)]
mod tests;
