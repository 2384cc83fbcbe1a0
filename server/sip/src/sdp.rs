//! SDP (RFC 8866) and its offer/answer model (RFC 3264) for door calls
//! (issue 18): the door's offer to a room's monitors, reading their
//! answers, and answering a monitor that calls the door. No I/O.
//!
//! Reading is lenient, as devices are sloppy (Dahua's door stations and
//! monitors as public configs and captures show them): bare LF line ends,
//! trailing spaces, unknown lines, answers that add m-lines or reorder
//! them, `sendrecv` answered to a `sendonly` offer, Dahua's `PCM/16000`,
//! H.264 without fmtp. It is strict only where a guess would send media to
//! the wrong place (an `m=` or `c=` line that does not parse) and on size.

use std::{
    fmt::Write as _,
    net::{IpAddr, SocketAddr},
};

use crate::header::Params;

/// The largest SDP body read; ours are under 1 KiB.
pub const MAX_SDP: usize = 8 * 1024;
/// Media descriptions (m= lines) in one SDP at most.
pub const MAX_MEDIA: usize = 16;

/// What we offer on the audio m-line. An answer that lists one of these
/// payload types without an rtpmap means what we meant (RFC 3264 6.1).
const OFFERED_AUDIO: [(u8, Format); 3] = [
    (0, Format::Audio(AudioCodec::Pcmu)),
    (8, Format::Audio(AudioCodec::Pcma)),
    (101, Format::TelephoneEvent),
];
/// What we offer on the video m-line.
const OFFERED_VIDEO: [(u8, Format); 1] = [(96, Format::H264)];
/// We send G.711 in 20 ms packets unless the other side asks otherwise.
const PTIME: u32 = 20;
const SESSION_NAME: &str = "vto";

/// Why an SDP body cannot be read, or no call can be made of it (the
/// device then answers or ends the call with 488 Not Acceptable Here).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("the SDP body is larger than {MAX_SDP} bytes")]
    TooLarge,
    #[error("more than {MAX_MEDIA} media descriptions (m= lines)")]
    TooManyMedia,
    #[error("not SDP: the first line is not v=0")]
    NotSdp,
    #[error("bad m= line: {0}")]
    MediaLine(String),
    #[error("bad c= line: {0}")]
    Connection(String),
    #[error("no audio stream we can take (m=audio RTP/AVP with a port)")]
    NoAudio,
    #[error("no common audio codec (we send and receive PCMU and PCMA)")]
    NoCommonCodec,
    #[error("no connection address (c=) for the audio stream")]
    NoAddress,
    #[error("bad H.264 parameter sets: {0}")]
    ParameterSets(&'static str),
}

/// A stream's direction as the side that wrote it sees it (RFC 3264 5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    fn parse(s: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// Whether the side that wrote it sends.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether the side that wrote it receives.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    fn of(send: bool, receive: bool) -> Self {
        match (send, receive) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioCodec {
    /// G.711 μ-law (static PT 0).
    Pcmu,
    /// G.711 A-law (static PT 8).
    Pcma,
    /// Dahua's `PCM/16000`: 16-bit little-endian PCM, not RFC 3551's L16
    /// (big-endian). Recognised so the device can decide; never chosen
    /// here.
    DahuaPcm16k,
}

impl AudioCodec {
    /// The codecs we send and receive.
    pub fn is_ours(self) -> bool {
        matches!(self, Self::Pcmu | Self::Pcma)
    }
}

/// What a payload type carries, as far as a door call cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Audio(AudioCodec),
    /// RFC 4733 DTMF events.
    TelephoneEvent,
    H264,
}

impl Format {
    const ALL: [Self; 5] = [
        Self::Audio(AudioCodec::Pcmu),
        Self::Audio(AudioCodec::Pcma),
        Self::Audio(AudioCodec::DahuaPcm16k),
        Self::TelephoneEvent,
        Self::H264,
    ];

    /// Encoding name and clock rate as in `a=rtpmap`.
    fn encoding(self) -> (&'static str, u32) {
        match self {
            Self::Audio(AudioCodec::Pcmu) => ("PCMU", 8000),
            Self::Audio(AudioCodec::Pcma) => ("PCMA", 8000),
            Self::Audio(AudioCodec::DahuaPcm16k) => ("PCM", 16000),
            Self::TelephoneEvent => ("telephone-event", 8000),
            Self::H264 => ("H264", 90000),
        }
    }

    fn of(rtpmap: &RtpMap) -> Option<Self> {
        if rtpmap.channels != 1 {
            return None;
        }
        Self::ALL.into_iter().find(|f| {
            let (name, clock) = f.encoding();
            name.eq_ignore_ascii_case(&rtpmap.encoding) && clock == rtpmap.clock
        })
    }

    /// RFC 3551's static payload types that we know.
    fn of_static(pt: u8) -> Option<Self> {
        match pt {
            0 => Some(Self::Audio(AudioCodec::Pcmu)),
            8 => Some(Self::Audio(AudioCodec::Pcma)),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Video,
    /// `application`, `text`, `image` ... (always rejected).
    Other(String),
}

impl MediaKind {
    fn parse(s: &str) -> Self {
        match s {
            "audio" => Self::Audio,
            "video" => Self::Video,
            _ => Self::Other(s.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Other(s) => s,
        }
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtpMap {
    pub pt: u8,
    pub encoding: String,
    pub clock: u32,
    pub channels: u8,
}

/// One m= section, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaDesc {
    pub kind: MediaKind,
    /// 0: the stream is rejected (or not wanted).
    pub port: u16,
    pub proto: String,
    /// Formats as written (payload type numbers for RTP).
    pub formats: Vec<String>,
    /// Media-level `c=`, which overrides the session's.
    pub connection: Option<IpAddr>,
    pub rtpmaps: Vec<RtpMap>,
    pub fmtps: Vec<(u8, String)>,
    pub ptime: Option<u32>,
    /// `a=rtcp:` (RFC 3605): port and optional address.
    pub rtcp: Option<(u16, Option<IpAddr>)>,
    pub direction: Option<Direction>,
}

impl MediaDesc {
    /// The formats that are RTP payload types, in order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse().ok())
            // RTP has 7 bits for it.
            .filter(|pt| *pt < 128)
    }

    /// What `pt` carries: its rtpmap, else its static meaning.
    pub fn format(&self, pt: u8) -> Option<Format> {
        self.format_with(pt, &[])
    }

    /// As `format`, but a payload type with neither an rtpmap nor a static
    /// meaning means what it meant in `ours` (what we offered).
    fn format_with(&self, pt: u8, ours: &[(u8, Format)]) -> Option<Format> {
        match self.rtpmaps.iter().find(|r| r.pt == pt) {
            Some(r) => Format::of(r),
            None => Format::of_static(pt)
                .or_else(|| ours.iter().find(|(p, _)| *p == pt).map(|(_, f)| *f)),
        }
    }

    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.fmtps
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, f)| f.as_str())
    }

    fn is_rtp_avp(&self) -> bool {
        self.proto == "RTP/AVP"
    }

    /// The payload types whose format we know, in order.
    fn formats_with<'a>(
        &'a self,
        ours: &'a [(u8, Format)],
    ) -> impl Iterator<Item = (u8, Format)> + 'a {
        self.payload_types()
            .filter_map(move |pt| Some((pt, self.format_with(pt, ours)?)))
    }
}

/// A session description, as much of it as a door call uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sdp {
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<IpAddr>,
    /// Session-level direction attribute.
    pub direction: Option<Direction>,
    pub media: Vec<MediaDesc>,
}

impl Sdp {
    /// Where `m`'s media goes: its own `c=`, else the session's.
    pub fn address(&self, m: &MediaDesc) -> Option<IpAddr> {
        m.connection.or(self.connection)
    }

    /// `m`'s direction: its own, else the session's, else sendrecv.
    pub fn direction(&self, m: &MediaDesc) -> Direction {
        m.direction
            .or(self.direction)
            .unwrap_or(Direction::SendRecv)
    }

    fn first(&self, kind: &MediaKind) -> Option<&MediaDesc> {
        self.media.iter().find(|m| m.kind == *kind)
    }
}

/// Reads an SDP body.
pub fn parse(body: &[u8]) -> Result<Sdp, SdpError> {
    if body.len() > MAX_SDP {
        return Err(SdpError::TooLarge);
    }
    // Lossy: a session name in another charset must not cost the call.
    let text = String::from_utf8_lossy(body);
    let mut lines = text
        .split('\n')
        .map(str::trim_end)
        .filter(|l| !l.is_empty());
    if lines.next() != Some("v=0") {
        return Err(SdpError::NotSdp);
    }
    let mut sdp = Sdp::default();
    for line in lines {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key {
            "s" => sdp.session_name = value.to_string(),
            "c" => {
                let address = Some(connection(value)?);
                match sdp.media.last_mut() {
                    Some(m) => m.connection = address,
                    None => sdp.connection = address,
                }
            }
            "m" => {
                if sdp.media.len() == MAX_MEDIA {
                    return Err(SdpError::TooManyMedia);
                }
                sdp.media.push(media_line(value)?);
            }
            "a" => attribute(&mut sdp, value),
            _ => {}
        }
    }
    Ok(sdp)
}

/// `IN IP4 <address>[/ttl]` (or IP6).
fn connection(value: &str) -> Result<IpAddr, SdpError> {
    let bad = || SdpError::Connection(value.chars().take(80).collect());
    let mut parts = value.split_whitespace();
    let (Some(net), Some(_), Some(address)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if !net.eq_ignore_ascii_case("IN") {
        return Err(bad());
    }
    // A multicast TTL or count follows a slash.
    let address = address.split('/').next().unwrap_or(address);
    address.parse().map_err(|_| bad())
}

/// `<media> <port>[/<count>] <proto> <fmt> ...`
fn media_line(value: &str) -> Result<MediaDesc, SdpError> {
    let bad = || SdpError::MediaLine(value.chars().take(80).collect());
    let mut parts = value.split_whitespace();
    let (Some(kind), Some(port), Some(proto)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let port = port.split('/').next().unwrap_or(port);
    Ok(MediaDesc {
        kind: MediaKind::parse(kind),
        port: port.parse().map_err(|_| bad())?,
        proto: proto.to_string(),
        formats: parts.map(str::to_string).collect(),
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: None,
        rtcp: None,
        direction: None,
    })
}

/// An `a=` line: directions at either level, the rest per medium.
/// Attributes that do not parse are ignored like unknown ones.
fn attribute(sdp: &mut Sdp, value: &str) {
    let (name, arg) = match value.split_once(':') {
        Some((n, a)) => (n.trim(), a.trim()),
        None => (value, ""),
    };
    if let Some(d) = Direction::parse(name) {
        match sdp.media.last_mut() {
            Some(m) => m.direction = Some(d),
            None => sdp.direction = Some(d),
        }
        return;
    }
    let Some(m) = sdp.media.last_mut() else {
        return;
    };
    match name {
        "rtpmap" => m.rtpmaps.extend(rtpmap(arg)),
        "fmtp" => {
            if let Some((pt, params)) = arg.split_once(char::is_whitespace) {
                if let Ok(pt) = pt.parse() {
                    m.fmtps.push((pt, params.trim().to_string()));
                }
            }
        }
        "ptime" => m.ptime = arg.parse().ok(),
        "rtcp" => {
            let (port, address) = arg.split_once(' ').unwrap_or((arg, ""));
            if let Ok(port) = port.parse() {
                m.rtcp = Some((port, connection(address).ok()));
            }
        }
        _ => {}
    }
}

fn rtpmap(arg: &str) -> Option<RtpMap> {
    let (pt, encoding) = arg.split_once(char::is_whitespace)?;
    let mut parts = encoding.trim().split('/');
    let name = parts.next()?;
    let clock = parts.next()?.parse().ok()?;
    let channels = match parts.next() {
        Some(c) => c.parse().ok()?,
        None => 1,
    };
    Some(RtpMap {
        pt: pt.parse().ok()?,
        encoding: name.to_string(),
        clock,
        channels,
    })
}

/// The camera's parameter sets, which the offer carries so that a monitor
/// can decode from the first packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H264 {
    sps: Vec<u8>,
    pps: Vec<u8>,
}

impl H264 {
    /// The SPS and PPS NAL units without start codes.
    pub fn new(sps: &[u8], pps: &[u8]) -> Result<Self, SdpError> {
        // NAL type in the low 5 bits: 7 SPS, 8 PPS. An SPS has its
        // profile, constraints and level in bytes 1 to 3.
        if sps.len() < 4 || sps[0] & 0x1f != 7 {
            return Err(SdpError::ParameterSets(
                "the SPS is not an SPS NAL unit of 4 bytes or more",
            ));
        }
        if pps.first().is_none_or(|b| b & 0x1f != 8) {
            return Err(SdpError::ParameterSets("the PPS is not a PPS NAL unit"));
        }
        Ok(Self {
            sps: sps.to_vec(),
            pps: pps.to_vec(),
        })
    }

    /// profile_idc, constraint flags and level_idc in hex (RFC 6184 8.1).
    pub fn profile_level_id(&self) -> String {
        // new() keeps at least 4 bytes.
        let s = &self.sps;
        format!("{:02x}{:02x}{:02x}", s[1], s[2], s[3])
    }

    /// `<base64 SPS>,<base64 PPS>`.
    pub fn sprop_parameter_sets(&self) -> String {
        format!("{},{}", base64(&self.sps), base64(&self.pps))
    }

    fn fmtp(&self, packetization_mode: u8) -> String {
        format!(
            "packetization-mode={packetization_mode};profile-level-id={};sprop-parameter-sets={}",
            self.profile_level_id(),
            self.sprop_parameter_sets()
        )
    }
}

/// Base64 with padding (RFC 4648 4), as sprop-parameter-sets uses.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut three = [0u8; 3];
        three[..chunk.len()].copy_from_slice(chunk);
        let n = (u32::from(three[0]) << 16) | (u32::from(three[1]) << 8) | u32::from(three[2]);
        // n bytes of input give n + 1 characters; '=' pads to 4.
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Our side of a call: what we offer when the door calls, and what we
/// answer with when a monitor calls the door.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub address: IpAddr,
    pub session_id: u64,
    pub session_version: u64,
    pub audio_port: u16,
    /// None without a camera: no video m-line.
    pub video: Option<OfferVideo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferVideo {
    pub port: u16,
    pub h264: H264,
}

impl Offer {
    /// The offer: G.711 and DTMF events sendrecv; H.264 sendonly (the door
    /// shows its camera and shows no video itself).
    pub fn to_sdp(&self) -> String {
        let mut out = self.session();
        write_media(
            &mut out,
            "audio",
            self.audio_port,
            &OFFERED_AUDIO,
            Direction::SendRecv,
            None,
        );
        if let Some(v) = &self.video {
            write_media(
                &mut out,
                "video",
                v.port,
                &OFFERED_VIDEO,
                Direction::SendOnly,
                Some(v.h264.fmtp(1)),
            );
        }
        out
    }

    fn session(&self) -> String {
        let ip = match self.address {
            IpAddr::V4(_) => "IP4",
            IpAddr::V6(_) => "IP6",
        };
        let a = self.address;
        format!(
            "v=0\r\no=- {} {} IN {ip} {a}\r\ns={SESSION_NAME}\r\nc=IN {ip} {a}\r\nt=0 0\r\n",
            self.session_id, self.session_version
        )
    }
}

/// An m= section with an rtpmap per format; `video_fmtp` is the H.264
/// format's fmtp.
fn write_media(
    out: &mut String,
    kind: &str,
    port: u16,
    formats: &[(u8, Format)],
    direction: Direction,
    video_fmtp: Option<String>,
) {
    let _ = write!(out, "m={kind} {port} RTP/AVP");
    for (pt, _) in formats {
        let _ = write!(out, " {pt}");
    }
    out.push_str("\r\n");
    for (pt, format) in formats {
        let (name, clock) = format.encoding();
        let _ = write!(out, "a=rtpmap:{pt} {name}/{clock}\r\n");
        let fmtp = match format {
            Format::TelephoneEvent => Some("0-15"),
            Format::H264 => video_fmtp.as_deref(),
            Format::Audio(_) => None,
        };
        if let Some(fmtp) = fmtp {
            let _ = write!(out, "a=fmtp:{pt} {fmtp}\r\n");
        }
    }
    if kind == "audio" {
        let _ = write!(out, "a=ptime:{PTIME}\r\n");
    }
    let _ = write!(out, "a={}\r\n", direction.as_str());
}

/// What a call's media is once offer and answer agree: where to send,
/// with which payload types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub audio: AudioStream,
    /// None: no camera, or the other side took no video.
    pub video: Option<VideoStream>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioStream {
    pub codec: AudioCodec,
    /// The payload type to send it with (the other side's number).
    pub pt: u8,
    /// The other side's telephone-event payload type, if it takes DTMF
    /// events.
    pub telephone_event: Option<u8>,
    /// Milliseconds of audio per packet.
    pub ptime: u32,
    pub remote: SocketAddr,
    /// None only when RTP is on port 65535 and no `a=rtcp:` names one.
    pub remote_rtcp: Option<SocketAddr>,
    /// Whether we may send (the other side receives).
    pub send: bool,
    /// Whether the other side sends to us.
    pub receive: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoStream {
    pub pt: u8,
    /// RFC 6184: 0 single NAL unit packets only, 1 FU-A allowed.
    pub packetization_mode: u8,
    pub remote: SocketAddr,
    pub remote_rtcp: Option<SocketAddr>,
    /// Whether the other side receives our video.
    pub send: bool,
}

/// The call's media from our offer and the answer to it.
pub fn negotiate(offer: &Offer, answer: &Sdp) -> Result<Media, SdpError> {
    // The first m-line of each kind is ours: devices reorder the answer
    // and add m-lines we did not offer.
    let audio = answer
        .first(&MediaKind::Audio)
        .ok_or(SdpError::NoAudio)
        .and_then(|m| audio_stream(answer, m, &OFFERED_AUDIO))?;
    let video = offer
        .video
        .as_ref()
        .and_then(|_| answer.first(&MediaKind::Video))
        .and_then(|m| video_stream(answer, m, &OFFERED_VIDEO));
    Ok(Media { audio, video })
}

/// Our answer to a monitor calling the door, and the call's media.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub sdp: String,
    pub media: Media,
}

/// Answers `remote` (a monitor's offer) with what `ours` can do: one
/// m-line per offered one, in its order (RFC 3264 6); the first usable
/// audio and video streams accepted with the remote's payload type
/// numbers, the others rejected with port 0.
pub fn answer(ours: &Offer, remote: &Sdp) -> Result<Answer, SdpError> {
    let mut out = ours.session();
    let mut audio = Err(SdpError::NoAudio);
    let mut video = None;
    for m in &remote.media {
        let rtp = m.port != 0 && m.is_rtp_avp();
        match (&m.kind, &ours.video) {
            (MediaKind::Audio, _) if rtp && audio.is_err() => {
                audio = audio_stream(remote, m, &[]);
                if let Ok(a) = &audio {
                    let mut formats = vec![(a.pt, Format::Audio(a.codec))];
                    formats.extend(a.telephone_event.map(|pt| (pt, Format::TelephoneEvent)));
                    let direction = Direction::of(a.send, a.receive);
                    write_media(
                        &mut out,
                        "audio",
                        ours.audio_port,
                        &formats,
                        direction,
                        None,
                    );
                    continue;
                }
            }
            (MediaKind::Video, Some(v)) if rtp && video.is_none() => {
                video = video_stream(remote, m, &[]);
                if let Some(s) = &video {
                    let fmtp = v.h264.fmtp(s.packetization_mode);
                    let direction = Direction::of(s.send, false);
                    let formats = [(s.pt, Format::H264)];
                    write_media(&mut out, "video", v.port, &formats, direction, Some(fmtp));
                    continue;
                }
            }
            _ => {}
        }
        // Rejected: port 0 with the offered formats (RFC 3264 6).
        let _ = write!(out, "m={} 0 {}", m.kind.as_str(), m.proto);
        for f in &m.formats {
            let _ = write!(out, " {f}");
        }
        out.push_str("\r\n");
    }
    Ok(Answer {
        sdp: out,
        media: Media {
            audio: audio?,
            video,
        },
    })
}

/// Where an accepted stream goes: RTP and RTCP addresses.
fn endpoints(sdp: &Sdp, m: &MediaDesc) -> Option<(SocketAddr, Option<SocketAddr>)> {
    let ip = sdp.address(m)?;
    let rtcp = match m.rtcp {
        Some((port, address)) => Some(SocketAddr::new(address.unwrap_or(ip), port)),
        None => m.port.checked_add(1).map(|p| SocketAddr::new(ip, p)),
    };
    Some((SocketAddr::new(ip, m.port), rtcp))
}

/// The audio stream of m-line `m` in `sdp` (the other side's): its first
/// codec that is ours, sent and received as its direction allows.
fn audio_stream(sdp: &Sdp, m: &MediaDesc, ours: &[(u8, Format)]) -> Result<AudioStream, SdpError> {
    if m.port == 0 {
        return Err(SdpError::NoAudio);
    }
    let (pt, codec) = m
        .formats_with(ours)
        .find_map(|(pt, f)| match f {
            Format::Audio(c) if c.is_ours() => Some((pt, c)),
            _ => None,
        })
        .ok_or(SdpError::NoCommonCodec)?;
    let (remote, remote_rtcp) = endpoints(sdp, m).ok_or(SdpError::NoAddress)?;
    let direction = sdp.direction(m);
    Ok(AudioStream {
        codec,
        pt,
        telephone_event: m
            .formats_with(ours)
            .find(|(_, f)| *f == Format::TelephoneEvent)
            .map(|(pt, _)| pt),
        // A nonsense ptime (0, minutes) must not set our packet clock.
        ptime: m.ptime.filter(|p| (10..=200).contains(p)).unwrap_or(PTIME),
        remote,
        remote_rtcp,
        send: direction.receives(),
        receive: direction.sends(),
    })
}

/// The video stream of m-line `m` in `sdp` (the other side's): H.264 in a
/// packetization mode we send (0 or 1, preferring 1), if any. Video that
/// cannot be placed is dropped, not the call.
fn video_stream(sdp: &Sdp, m: &MediaDesc, ours: &[(u8, Format)]) -> Option<VideoStream> {
    if m.port == 0 {
        return None;
    }
    let usable: Vec<(u8, u8)> = m
        .formats_with(ours)
        .filter(|(_, f)| *f == Format::H264)
        .map(|(pt, _)| {
            // No fmtp or no parameter: mode 0 (RFC 6184 8.1).
            let mode = m
                .fmtp(pt)
                .and_then(|f| Params::parse(f).get("packetization-mode")?.parse().ok())
                .unwrap_or(0u8);
            (pt, mode)
        })
        .filter(|(_, mode)| *mode <= 1)
        .collect();
    let &(pt, packetization_mode) = usable
        .iter()
        .find(|(_, mode)| *mode == 1)
        .or(usable.first())?;
    let (remote, remote_rtcp) = endpoints(sdp, m)?;
    Some(VideoStream {
        pt,
        packetization_mode,
        remote,
        remote_rtcp,
        // Dahua monitors answer sendrecv to our sendonly: they receive.
        send: sdp.direction(m).receives(),
    })
}

#[cfg(test)]
mod tests;
