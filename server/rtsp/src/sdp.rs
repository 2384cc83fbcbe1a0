//! The session description a DESCRIBE is answered with (RFC 8866 SDP as
//! RFC 2326 appendix C uses it).
//!
//! ```text
//! v=0
//! o=- <session id> <version> IN IP4 <address>
//! s=<name>
//! c=IN IP4 0.0.0.0
//! t=0 0
//! a=control:*
//! a=range:npt=0-
//! m=video 0 RTP/AVP 96            H.264 (RFC 6184), packetization mode 1,
//! a=rtpmap:96 H264/90000          its parameter sets in fmtp so a client
//! a=fmtp:96 ...                   can set up its decoder before the first
//! a=control:trackID=0             key frame
//! m=audio 0 RTP/AVP 0             the door's audio, PCMU
//! a=rtpmap:0 PCMU/8000
//! a=control:trackID=1
//! m=audio 0 RTP/AVP 0             the ONVIF backchannel, when required
//! a=rtpmap:0 PCMU/8000
//! a=control:trackID=2
//! a=sendonly
//! ```
//!
//! Directions follow the ONVIF Streaming Specification 5.3.2: with a
//! backchannel, the server marks each media section the client sends
//! `a=sendonly` and each one it receives `a=recvonly` (the client's point
//! of view). Without one, no direction is written, as cameras do (the
//! default, sendrecv, is what every client assumes for a camera).

use std::fmt::Write as _;

use base64::Engine as _;

use crate::Error;

/// The RTP payload type of the H.264 video.
pub const H264_PAYLOAD_TYPE: u8 = 96;
/// PCMU's static payload type (RFC 3551).
pub const PCMU_PAYLOAD_TYPE: u8 = 0;

/// What the description says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Description<'a> {
    /// `o=`'s session id and version (RFC 8866 5.2: numbers, the version
    /// changing when the description does).
    pub session_id: u64,
    pub version: u64,
    /// The server's address as the client reached it (`o=`).
    pub address: &'a str,
    /// `s=`.
    pub name: &'a str,
    /// The H.264 sequence and picture parameter sets (NAL units, with or
    /// without a start code); both empty when not known yet.
    pub sps: &'a [u8],
    pub pps: &'a [u8],
    /// Frames per second (`a=framerate:`).
    pub framerate: Option<f64>,
    /// Width and height (`a=framesize:` as ffmpeg reads it, and Axis'
    /// `a=x-dimensions:`).
    pub size: Option<(u32, u32)>,
    /// The door's audio, track 1.
    pub audio: bool,
    /// The ONVIF backchannel, track 2.
    pub backchannel: bool,
    /// Write each track's control absolute, under this Content-Base,
    /// instead of relative (`trackID=N`): clients then send exactly that
    /// URL whatever way they resolve relative ones.
    pub control_base: Option<&'a str>,
}

impl Description<'_> {
    /// The SDP text (CRLF line ends).
    pub fn to_sdp(&self) -> Result<String, Error> {
        let sps = strip_start_code(self.sps);
        let pps = strip_start_code(self.pps);
        let mut fmtp = String::from("packetization-mode=1");
        match (sps.is_empty(), pps.is_empty()) {
            (true, true) => {}
            (false, false) => {
                if pps.first().map(|h| h & 0x1f) != Some(8) {
                    return Err(Error::ParameterSets("the PPS is not NAL unit type 8"));
                }
                let _ = write!(
                    fmtp,
                    ";profile-level-id={};sprop-parameter-sets={}",
                    profile_level_id(sps)?,
                    sprop_parameter_sets(sps, pps)
                );
            }
            _ => {
                return Err(Error::ParameterSets(
                    "an SPS without a PPS or the other way round",
                ))
            }
        }
        let ip = if self.address.contains(':') {
            "IP6"
        } else {
            "IP4"
        };
        let address = match clean(self.address) {
            a if a.is_empty() => "0.0.0.0".to_string(),
            a => a,
        };
        let name = match clean(self.name) {
            n if n.trim().is_empty() => " ".to_string(),
            n => n,
        };
        let control = |n: u8| match self.control_base {
            Some(base) => crate::target::track_url(&clean(base), n),
            None => format!("trackID={n}"),
        };
        let direction = |line: &str| self.backchannel.then(|| line.to_string());

        let mut lines: Vec<String> = vec![
            "v=0".into(),
            format!("o=- {} {} IN {ip} {address}", self.session_id, self.version),
            format!("s={name}"),
            "c=IN IP4 0.0.0.0".into(),
            "t=0 0".into(),
            "a=control:*".into(),
            "a=range:npt=0-".into(),
        ];
        let pt = H264_PAYLOAD_TYPE;
        lines.push(format!("m=video 0 RTP/AVP {pt}"));
        lines.push(format!("a=rtpmap:{pt} H264/90000"));
        lines.push(format!("a=fmtp:{pt} {fmtp}"));
        if let Some(fps) = self.framerate.filter(|f| f.is_finite() && *f > 0.0) {
            lines.push(format!("a=framerate:{fps}"));
        }
        if let Some((w, h)) = self.size {
            lines.push(format!("a=framesize:{pt} {w}-{h}"));
            lines.push(format!("a=x-dimensions:{w},{h}"));
        }
        lines.push(format!("a=control:{}", control(0)));
        lines.extend(direction("a=recvonly"));
        let pcmu = |lines: &mut Vec<String>, n: u8| {
            let pt = PCMU_PAYLOAD_TYPE;
            lines.push(format!("m=audio 0 RTP/AVP {pt}"));
            lines.push(format!("a=rtpmap:{pt} PCMU/8000"));
            lines.push(format!("a=control:{}", control(n)));
        };
        if self.audio {
            pcmu(&mut lines, 1);
            lines.extend(direction("a=recvonly"));
        }
        if self.backchannel {
            pcmu(&mut lines, 2);
            lines.push("a=sendonly".into());
        }
        let mut out = lines.join("\r\n");
        out.push_str("\r\n");
        Ok(out)
    }
}

/// `profile-level-id` (RFC 6184 8.1): the SPS's profile_idc,
/// constraint flags and level_idc (its bytes 1 to 3) in hex.
pub fn profile_level_id(sps: &[u8]) -> Result<String, Error> {
    let sps = strip_start_code(sps);
    if sps.first().map(|h| h & 0x1f) != Some(7) {
        return Err(Error::ParameterSets("the SPS is not NAL unit type 7"));
    }
    let Some(bytes) = sps.get(1..4) else {
        return Err(Error::ParameterSets("the SPS is shorter than 4 bytes"));
    };
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `sprop-parameter-sets` (RFC 6184 8.1): SPS and PPS in base64 with
/// padding, comma-separated.
pub fn sprop_parameter_sets(sps: &[u8], pps: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "{},{}",
        b64.encode(strip_start_code(sps)),
        b64.encode(strip_start_code(pps))
    )
}

/// A NAL unit given with its Annex B start code loses it.
fn strip_start_code(nal: &[u8]) -> &[u8] {
    nal.strip_prefix(&[0, 0, 0, 1])
        .or_else(|| nal.strip_prefix(&[0, 0, 1]))
        .unwrap_or(nal)
}

/// No control characters in a line's value (a CR or LF would start a line
/// of its own).
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests;
