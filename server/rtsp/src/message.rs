//! What a client sends on the RTSP connection, read incrementally, and the
//! responses written back (RFC 2326 sections 4, 6, 7, 10.12 and 12).
//!
//! The connection carries two kinds of units: text requests (a request
//! line, headers, a blank line, then `Content-Length` bytes of body) and
//! interleaved binary frames (`$`, a channel byte, a 16-bit big-endian
//! length, the payload): clients send RTCP receiver reports that way and,
//! for the ONVIF backchannel, RTP. The first byte tells them apart.
//!
//! Tolerant where clients are sloppy (bare LF line ends, blank lines
//! between requests, header names in any case, folded header lines, any
//! amount of space around values), strict where a guess would desync the
//! stream or let a client make the device buffer without bound: the header
//! section is at most [`MAX_HEADER`] bytes, a body at most [`MAX_BODY`],
//! and bytes that are not UTF-8 text in the header section are an error.
//! After an error the reader stays failed: the stream cannot be resynced,
//! so the caller answers [`crate::Error::response`] and closes.

use std::fmt;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::Error;

/// The largest header section (request line, headers, blank line) read.
pub const MAX_HEADER: usize = 8 * 1024;
/// The largest request body read (RTSP clients send small ones:
/// GET_PARAMETER and SET_PARAMETER lists, an ANNOUNCE's SDP).
pub const MAX_BODY: usize = 64 * 1024;
/// The largest payload of an interleaved frame (its length is 16 bits).
pub const MAX_FRAME: usize = u16::MAX as usize;

/// Status codes answered by this crate or its caller, with their RFC 2326
/// (section 7.1.1) reason phrases in [`reason`].
pub mod status {
    pub const OK: u16 = 200;
    pub const BAD_REQUEST: u16 = 400;
    pub const UNAUTHORIZED: u16 = 401;
    pub const FORBIDDEN: u16 = 403;
    pub const NOT_FOUND: u16 = 404;
    pub const METHOD_NOT_ALLOWED: u16 = 405;
    pub const NOT_ACCEPTABLE: u16 = 406;
    pub const REQUEST_ENTITY_TOO_LARGE: u16 = 413;
    pub const REQUEST_URI_TOO_LARGE: u16 = 414;
    pub const UNSUPPORTED_MEDIA_TYPE: u16 = 415;
    pub const PARAMETER_NOT_UNDERSTOOD: u16 = 451;
    pub const NOT_ENOUGH_BANDWIDTH: u16 = 453;
    pub const SESSION_NOT_FOUND: u16 = 454;
    pub const METHOD_NOT_VALID_IN_THIS_STATE: u16 = 455;
    pub const HEADER_FIELD_NOT_VALID: u16 = 456;
    pub const INVALID_RANGE: u16 = 457;
    pub const AGGREGATE_OPERATION_NOT_ALLOWED: u16 = 459;
    pub const ONLY_AGGREGATE_OPERATION_ALLOWED: u16 = 460;
    pub const UNSUPPORTED_TRANSPORT: u16 = 461;
    pub const INTERNAL_SERVER_ERROR: u16 = 500;
    pub const NOT_IMPLEMENTED: u16 = 501;
    pub const SERVICE_UNAVAILABLE: u16 = 503;
    pub const RTSP_VERSION_NOT_SUPPORTED: u16 = 505;
    pub const OPTION_NOT_SUPPORTED: u16 = 551;
}

/// The reason phrase of a status code (RFC 2326 7.1.1), or that of its
/// class for codes not listed there.
pub fn reason(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        250 => "Low on Storage Space",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Time-out",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Large",
        415 => "Unsupported Media Type",
        451 => "Parameter Not Understood",
        452 => "Conference Not Found",
        453 => "Not Enough Bandwidth",
        454 => "Session Not Found",
        455 => "Method Not Valid in This State",
        456 => "Header Field Not Valid for Resource",
        457 => "Invalid Range",
        458 => "Parameter Is Read-Only",
        459 => "Aggregate operation not allowed",
        460 => "Only aggregate operation allowed",
        461 => "Unsupported transport",
        462 => "Destination unreachable",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        505 => "RTSP Version not supported",
        551 => "Option not supported",
        _ => match code / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            _ => "Server Error",
        },
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Options,
    Describe,
    Setup,
    Play,
    Pause,
    Teardown,
    GetParameter,
    SetParameter,
    Announce,
    Record,
    Redirect,
    /// Any other token.
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Options => "OPTIONS",
            Self::Describe => "DESCRIBE",
            Self::Setup => "SETUP",
            Self::Play => "PLAY",
            Self::Pause => "PAUSE",
            Self::Teardown => "TEARDOWN",
            Self::GetParameter => "GET_PARAMETER",
            Self::SetParameter => "SET_PARAMETER",
            Self::Announce => "ANNOUNCE",
            Self::Record => "RECORD",
            Self::Redirect => "REDIRECT",
            Self::Other(s) => s,
        }
    }

    /// Method names are case-sensitive (RFC 2326 6.1); any other token is
    /// a method too (answered 501 by the session).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "OPTIONS" => Self::Options,
            "DESCRIBE" => Self::Describe,
            "SETUP" => Self::Setup,
            "PLAY" => Self::Play,
            "PAUSE" => Self::Pause,
            "TEARDOWN" => Self::Teardown,
            "GET_PARAMETER" => Self::GetParameter,
            "SET_PARAMETER" => Self::SetParameter,
            "ANNOUNCE" => Self::Announce,
            "RECORD" => Self::Record,
            "REDIRECT" => Self::Redirect,
            other if !other.is_empty() && other.bytes().all(is_token_byte) => {
                Self::Other(other.to_string())
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 2326 15.1 `token` characters (as HTTP/1.1's).
pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `RTSP/<major>.<minor>` of a request line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl Version {
    pub const RTSP_1_0: Self = Self { major: 1, minor: 0 };

    fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("RTSP/")?;
        let (major, minor) = rest.split_once('.')?;
        let number = |d: &str| {
            if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                d.parse().ok()
            }
        };
        Some(Self {
            major: number(major)?,
            minor: number(minor)?,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RTSP/{}.{}", self.major, self.minor)
    }
}

/// Headers in their order, names as written; looked up in any case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Replaces every value of `name` with one (in the first one's place).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self
            .0
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.0[i].1 = value;
                let mut k = 0;
                self.0.retain(|(n, _)| {
                    k += 1;
                    k - 1 == i || !n.eq_ignore_ascii_case(name)
                });
            }
            None => self.0.push((name.to_string(), value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A request as the client wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The Request-URI as written (absolute, `*`, or a path).
    pub url: String,
    pub version: Version,
    pub headers: Headers,
    /// The `CSeq`, echoed in the response; every valid request has one.
    pub cseq: u32,
    pub body: Bytes,
}

impl Request {
    /// One whole request (tests and tools; a connection uses [`Reader`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new();
        r.push(bytes);
        match r.next()? {
            Some(Incoming::Request(req)) => match r.next()? {
                None if r.pending() == 0 => Ok(req),
                _ => Err(Error::Malformed("bytes after the request")),
            },
            Some(Incoming::Interleaved { .. }) => Err(Error::Malformed("an interleaved frame")),
            None => Err(Error::Malformed("incomplete request")),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// The session id of the `Session` header (without `;timeout=`).
    pub fn session_id(&self) -> Option<&str> {
        let v = self.header("Session")?;
        let id = v.split(';').next().unwrap_or(v).trim();
        Some(id)
    }

    /// The option tags of every `Require` header (RFC 2326 12.32).
    pub fn requires(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all("Require")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    /// Whether the request requires `tag`; tags compare as written, but
    /// in any case, as clients vary.
    pub fn requires_tag(&self, tag: &str) -> bool {
        self.requires().any(|t| t.eq_ignore_ascii_case(tag))
    }
}

/// One unit read from the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    Request(Request),
    /// An interleaved frame: RTP or RTCP on the channel SETUP gave.
    Interleaved {
        channel: u8,
        payload: Bytes,
    },
}

/// The request line and headers read, waiting for the body.
#[derive(Debug)]
struct Head {
    request: Request,
    body_len: usize,
}

/// Reads the client's side of an RTSP connection: push bytes as they
/// arrive, take units out with [`Reader::next`] until it returns `None`.
#[derive(Debug, Default)]
pub struct Reader {
    buf: BytesMut,
    /// Where the search for the end of the header section resumes, so a
    /// header fed a byte at a time is scanned once, not once per byte.
    scanned: usize,
    head: Option<Head>,
    failed: Option<Error>,
}

impl Reader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes pushed and not yet returned (nor skipped as blank lines).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The next whole unit, `None` until one is complete. After an error
    /// every call returns it again.
    // Not an Iterator: `None` means "not yet", and units follow a push.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Incoming>, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.read();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            self.buf = BytesMut::new();
            self.head = None;
        }
        r
    }

    fn read(&mut self) -> Result<Option<Incoming>, Error> {
        loop {
            if let Some(head) = &self.head {
                if self.buf.len() < head.body_len {
                    return Ok(None);
                }
                let body_len = head.body_len;
                let body = self.buf.split_to(body_len).freeze();
                let Some(head) = self.head.take() else {
                    return Ok(None);
                };
                let mut request = head.request;
                request.body = body;
                return Ok(Some(Incoming::Request(request)));
            }
            // Blank lines between requests: some clients end a body with
            // a CRLF that Content-Length does not count.
            let blank = self
                .buf
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(self.buf.len());
            if blank > 0 {
                self.buf.advance(blank);
                self.scanned = 0;
            }
            let Some(&first) = self.buf.first() else {
                return Ok(None);
            };
            if first == b'$' {
                if self.buf.len() < 4 {
                    return Ok(None);
                }
                let channel = self.buf[1];
                let len = usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]]));
                if self.buf.len() < 4 + len {
                    return Ok(None);
                }
                self.buf.advance(4);
                self.scanned = 0;
                let payload = self.buf.split_to(len).freeze();
                return Ok(Some(Incoming::Interleaved { channel, payload }));
            }
            // A request starts with a method token: anything else is not
            // RTSP, and waiting for a blank line would only buffer it.
            if !is_token_byte(first) {
                return Err(Error::Malformed(
                    "neither a request nor an interleaved frame",
                ));
            }
            let Some(end) = head_end(&self.buf, self.scanned) else {
                if self.buf.len() > MAX_HEADER {
                    return Err(Error::HeaderTooLarge);
                }
                self.scanned = self.buf.len().saturating_sub(2);
                return Ok(None);
            };
            if end > MAX_HEADER {
                return Err(Error::HeaderTooLarge);
            }
            let raw = self.buf.split_to(end);
            self.scanned = 0;
            self.head = Some(parse_head(&raw)?);
        }
    }
}

/// The length of the header section (through its blank line) if the
/// buffer holds all of it: a LF followed by LF or CRLF.
fn head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        let lf = i + buf[i..].iter().position(|&b| b == b'\n')?;
        match buf.get(lf + 1) {
            Some(b'\n') => return Some(lf + 2),
            Some(b'\r') if buf.get(lf + 2) == Some(&b'\n') => return Some(lf + 3),
            _ => i = lf + 1,
        }
    }
    None
}

fn parse_head(raw: &[u8]) -> Result<Head, Error> {
    let text =
        std::str::from_utf8(raw).map_err(|_| Error::Malformed("header section is not UTF-8"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split_ascii_whitespace();
    let (Some(method), Some(url), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("request line is not METHOD URL RTSP/1.0"));
    };
    let method = Method::parse(method).ok_or(Error::Malformed("method is not a token"))?;
    let version = Version::parse(version).ok_or(Error::Malformed("version is not RTSP/x.y"))?;
    if url.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::Malformed("control characters in the URL"));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A folded line continues the previous header (RFC 2326 4.2,
            // RFC 2616 2.2).
            let Some((_, value)) = headers.last_mut() else {
                return Err(Error::Malformed("folded line before any header"));
            };
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(Error::Malformed("header line without a colon"))?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(Error::Malformed("header name is not a token"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let headers = Headers(headers);
    let cseq = headers
        .get("CSeq")
        .and_then(parse_number::<u32>)
        .ok_or(Error::MissingCSeq)?;
    let body_len = match headers.get("Content-Length") {
        None => 0,
        Some(v) => {
            let len = parse_number::<u64>(v).ok_or(Error::ContentLength { cseq })?;
            if len > MAX_BODY as u64 {
                return Err(Error::BodyTooLarge { len, cseq });
            }
            usize::try_from(len).map_err(|_| Error::BodyTooLarge { len, cseq })?
        }
    };
    Ok(Head {
        request: Request {
            method,
            url: url.to_string(),
            version,
            headers,
            cseq,
            body: Bytes::new(),
        },
        body_len,
    })
}

/// Digits only (no sign, no space inside), as RFC 2326's `1*DIGIT`.
fn parse_number<T: std::str::FromStr>(s: &str) -> Option<T> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A response: status, headers (CSeq first), optional body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Headers,
    pub body: Bytes,
}

impl Response {
    /// A response echoing `cseq` (RFC 2326 12.17: every response carries
    /// the request's; `None` only when the request had none readable).
    pub fn new(status: u16, cseq: Option<u32>) -> Self {
        let mut headers = Headers::default();
        if let Some(cseq) = cseq {
            headers.push("CSeq", cseq.to_string());
        }
        Self {
            status,
            headers,
            body: Bytes::new(),
        }
    }

    pub fn ok(cseq: u32) -> Self {
        Self::new(status::OK, Some(cseq))
    }

    /// Adds a header (builder style).
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Sets the body and its `Content-Type`; `Content-Length` is written
    /// from it.
    pub fn with_body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.headers.set("Content-Type", content_type);
        self.body = body.into();
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    pub fn reason(&self) -> &'static str {
        reason(self.status)
    }

    /// The response on the wire: CRLF line ends, `Content-Length` when
    /// there is a body (and never one set by hand: it is the body's).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(128 + self.body.len());
        let mut line = |s: &str| {
            out.put_slice(s.as_bytes());
            out.put_slice(b"\r\n");
        };
        line(&format!("RTSP/1.0 {} {}", self.status, self.reason()));
        for (name, value) in self.headers.iter() {
            if name.eq_ignore_ascii_case("Content-Length") {
                continue;
            }
            // A CR or LF in a value would end the header early and let
            // whatever follows it read as headers of its own.
            let value: String = value
                .chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
                .collect();
            line(&format!("{name}: {value}"));
        }
        if !self.body.is_empty() {
            line(&format!("Content-Length: {}", self.body.len()));
        }
        out.put_slice(b"\r\n");
        out.put_slice(&self.body);
        out.freeze()
    }
}

/// The 4-byte header of an interleaved frame (RFC 2326 10.12), to write
/// before a payload without copying it.
pub fn interleaved_header(channel: u8, len: usize) -> Result<[u8; 4], Error> {
    let len16 = u16::try_from(len).map_err(|_| Error::FrameTooLarge(len))?;
    let [hi, lo] = len16.to_be_bytes();
    Ok([b'$', channel, hi, lo])
}

/// A whole interleaved frame: header and payload.
pub fn interleaved(channel: u8, payload: &[u8]) -> Result<Bytes, Error> {
    let header = interleaved_header(channel, payload.len())?;
    let mut out = BytesMut::with_capacity(4 + payload.len());
    out.put_slice(&header);
    out.put_slice(payload);
    Ok(out.freeze())
}

#[cfg(test)]
pub(crate) mod tests;
