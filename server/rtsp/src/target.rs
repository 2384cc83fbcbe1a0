//! What a request URL names: a stream and maybe one of its tracks.
//!
//! Streams: the door camera's main and sub stream by Dahua's path
//! (`/cam/realmonitor?channel=1&subtype=0|1`, other query parameters such
//! as `&unicast=true&proto=Onvif` ignored) or by a short alias
//! (`/live`, `/live/main`, `/live/sub`), and relayed IP cameras as
//! `/ipc/<n>` (n from 1). Paths compare in any case.
//!
//! Tracks: the SDP's controls are relative (`trackID=N`) to a Content-Base
//! that is the request URL with a `/` added ([`content_base`]), so clients
//! that concatenate (ffmpeg, live555, go2rtc, Dahua's own clients) append
//! `/trackID=N` after the query string. A client may also use the control
//! absolutely, or `*` (the aggregate control) appended to the base. A
//! client that resolves the control as RFC 3986 does (GStreamer's rtspsrc)
//! drops the last path segment and the query instead:
//! `/cam/realmonitor?channel=1&subtype=0/` + `trackID=0` becomes
//! `/cam/trackID=0`, which names no stream; [`bare_track`] recognises
//! those so the session can take the stream from the DESCRIBE before.
//!
//! Credentials in the URL (`rtsp://user:pass@host/...`) are never echoed
//! back in a Content-Base.

use std::fmt;

use crate::Error;

/// A stream the device serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Main,
    Sub,
    /// A relayed IP camera, numbered from 1.
    Ipc(u32),
}

impl Stream {
    /// The path this crate documents for the stream (what the device
    /// announces, e.g. in ONVIF's GetStreamUri).
    pub fn path(self) -> String {
        match self {
            Self::Main => "/cam/realmonitor?channel=1&subtype=0".to_string(),
            Self::Sub => "/cam/realmonitor?channel=1&subtype=1".to_string(),
            Self::Ipc(n) => format!("/ipc/{n}"),
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Main => f.write_str("main"),
            Self::Sub => f.write_str("sub"),
            Self::Ipc(n) => write!(f, "ipc {n}"),
        }
    }
}

/// A stream, and the track when the URL names one (`None`: the stream as
/// a whole, the aggregate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub stream: Stream,
    pub track: Option<u8>,
}

impl Target {
    /// Reads a request URL: absolute (`rtsp://host:port/path?query`) or a
    /// path. Any track number is read; which exist is the session's call.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let not_found = || Error::NotFound(url.to_string());
        let (base, control) = split_control(path_and_query(url));
        let stream = stream(base).ok_or_else(not_found)?;
        let track = match control {
            Control::Track(n) => Some(n),
            Control::Aggregate => None,
        };
        Ok(Self { stream, track })
    }
}

/// The track of a URL whose control was resolved against the Content-Base
/// `.../cam/realmonitor?...` as RFC 3986 does: `/cam/trackID=N` (see the
/// module's documentation). The other Content-Bases end their path in `/`,
/// which resolution keeps.
pub fn bare_track(url: &str) -> Option<u8> {
    let (base, control) = split_control(path_and_query(url));
    match control {
        Control::Track(n) if base.trim_matches('/').eq_ignore_ascii_case("cam") => Some(n),
        _ => None,
    }
}

/// The Content-Base of a DESCRIBE answer: the request URL as the client
/// wrote it, without a control or credentials, ending in `/` so that the
/// relative controls `trackID=N` append after it.
pub fn content_base(url: &str) -> String {
    let (prefix, rest) = split_authority(url);
    let (rest, _) = split_control(rest);
    let mut out = String::with_capacity(url.len() + 1);
    out.push_str(&prefix);
    out.push_str(rest);
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The URL of a track under a Content-Base (what a concatenating client
/// sends).
pub fn track_url(content_base: &str, track: u8) -> String {
    let sep = if content_base.ends_with('/') { "" } else { "/" };
    format!("{content_base}{sep}trackID={track}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    Track(u8),
    Aggregate,
}

/// The part after `scheme://authority` (the whole string when it has no
/// scheme).
fn path_and_query(url: &str) -> &str {
    split_authority(url).1
}

/// `scheme://host:port` without userinfo, and what follows it.
fn split_authority(url: &str) -> (String, &str) {
    let Some(i) = url.find("://") else {
        return (String::new(), url);
    };
    let scheme = &url[..i];
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return (String::new(), url);
    }
    let after = &url[i + 3..];
    let end = after.find(['/', '?']).unwrap_or(after.len());
    let authority = &after[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (format!("{scheme}://{host}"), &after[end..])
}

/// The URL's stream part and its control: a last segment `trackID=N`, or
/// `*`, after a `/` (in the path or after the query); trailing `/`s are
/// no control.
fn split_control(rest: &str) -> (&str, Control) {
    let s = rest.trim_end_matches('/');
    if let Some(base) = s.strip_suffix('*') {
        return (base.trim_end_matches('/'), Control::Aggregate);
    }
    if let Some(i) = s.rfind('/') {
        let mut segment = &s[i + 1..];
        // Janus's streaming plugin appends the DESCRIBE URL's query again
        // after the control (`...?channel=1&subtype=0/trackID=0?channel=1&subtype=0`).
        if let Some((control, query)) = segment.split_once('?') {
            if s[..i].split_once('?').map(|(_, q)| q) == Some(query) {
                segment = control;
            }
        }
        if let (Some(name), Some(digits)) = (segment.get(..8), segment.get(8..)) {
            // A segment that is no valid track stays part of the stream's
            // URL (and names none): the same URL then always splits the
            // same way, whatever Content-Base was made of it.
            let number = digits.bytes().all(|b| b.is_ascii_digit());
            if let (true, true, Ok(n)) = (
                name.eq_ignore_ascii_case("trackID="),
                number,
                digits.parse(),
            ) {
                return (&s[..i], Control::Track(n));
            }
        }
    }
    (s, Control::Aggregate)
}

/// The stream a path and query name.
fn stream(base: &str) -> Option<Stream> {
    let (path, query) = base.split_once('?').unwrap_or((base, ""));
    // Repeated or trailing slashes are noise some clients add.
    let path = path.trim_matches('/');
    let query = query.trim_end_matches('/');
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.next()?;
    let second = segments.next();
    if segments.next().is_some() {
        return None;
    }
    let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
    match (first, second) {
        (c, Some(r)) if is(c, "cam") && is(r, "realmonitor") => realmonitor(query),
        (l, None) if is(l, "live") => Some(Stream::Main),
        (l, Some(m)) if is(l, "live") && is(m, "main") => Some(Stream::Main),
        (l, Some(s)) if is(l, "live") && is(s, "sub") => Some(Stream::Sub),
        (i, Some(n)) if is(i, "ipc") => {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            match n.parse::<u32>() {
                Ok(n) if n >= 1 => Some(Stream::Ipc(n)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Dahua's query: `channel` 1 (the door camera; absent means 1),
/// `subtype` 0 main or 1 sub (absent means main); the first of each
/// counts, anything else is ignored. `&amp;` (a URL copied out of XML)
/// reads as `&`.
fn realmonitor(query: &str) -> Option<Stream> {
    let mut channel = None;
    let mut subtype = None;
    for pair in query.split('&') {
        let pair = pair.strip_prefix("amp;").unwrap_or(pair);
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = if key.eq_ignore_ascii_case("channel") {
            &mut channel
        } else if key.eq_ignore_ascii_case("subtype") {
            &mut subtype
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(value);
        }
    }
    if !matches!(channel, None | Some("1")) {
        return None;
    }
    match subtype {
        None | Some("0") => Some(Stream::Main),
        Some("1") => Some(Stream::Sub),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
