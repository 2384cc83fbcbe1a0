//! What the bench programs (`src/bin/*_bench.rs`) share: CPU time from
//! `/proc` and nearest-rank percentiles.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hasher},
    time::Instant,
};

/// Clock ticks per second (`/proc` counts in them).
pub fn clock_ticks() -> f64 {
    #[allow(unsafe_code)]
    // SAFETY: sysconf(3) reads a constant of the system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// utime + stime of a process (all its threads), in clock ticks.
pub fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After "pid (comm) ": state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A process' resident memory in KiB (0 when it is gone).
pub fn rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A process' open file descriptors (0 when it is gone).
pub fn open_fds(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// A process' threads (0 when it is gone).
pub fn threads(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count())
}

/// (busy, total) clock ticks of all CPUs.
pub fn host_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// Every process' (name, ticks), to name what else keeps the host busy.
pub fn all_processes() -> HashMap<u32, (String, u64)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].replace(' ', "_");
        if let Some(ticks) = process_ticks(&pid.to_string()) {
            out.insert(pid, (name, ticks));
        }
    }
    out
}

/// Nearest-rank percentile of sorted values; `p` from 0 to 1 (0.99 is
/// p99). NaN for no values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Registers H.264 with a browser's RTCP feedback (REMB, FIR, NACK, PLI)
/// under each (payload type, profile-level-id) of `profiles`, as the bench
/// programs' headless viewers offer it.
pub fn register_h264(
    media: &mut webrtc::api::media_engine::MediaEngine,
    profiles: &[(u8, &str)],
) -> Result<(), String> {
    use webrtc::rtp_transceiver::{
        rtp_codec::{RTCRtpCodecCapability, RTCRtpCodecParameters, RTPCodecType},
        RTCPFeedback,
    };
    let feedback: Vec<RTCPFeedback> = ["goog-remb", "ccm fir", "nack", "nack pli"]
        .iter()
        .map(|f| {
            let (typ, parameter) = f.split_once(' ').unwrap_or((f, ""));
            RTCPFeedback {
                typ: typ.into(),
                parameter: parameter.into(),
            }
        })
        .collect();
    for &(pt, profile) in profiles {
        media
            .register_codec(
                RTCRtpCodecParameters {
                    capability: RTCRtpCodecCapability {
                        mime_type: webrtc::api::media_engine::MIME_TYPE_H264.to_owned(),
                        clock_rate: 90_000,
                        channels: 0,
                        sdp_fmtp_line: format!(
                            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id={profile}"
                        ),
                        rtcp_feedback: feedback.clone(),
                    },
                    payload_type: pt,
                    ..Default::default()
                },
                RTPCodecType::Video,
            )
            .map_err(|e| format!("H.264 codec: {e}"))?;
    }
    Ok(())
}

/// A key for the RTP packet that starts a picture: its first slice
/// (`first_mb_in_slice` 0) as a single NAL unit (types 1 and 5), an FU-A
/// start fragment, or inside a STAP-A. The key hashes the NAL type and
/// the first bytes after the NAL header (up to 512), which no relay
/// rewrites.
pub fn picture_key(payload: &[u8]) -> Option<u64> {
    // Fewer bytes than any relay puts in a first FU-A fragment (webrtc-rs
    // packetizes at 1200 bytes), enough that pictures do not collide.
    const TAKE: usize = 512;
    let key = |nal_type: u8, data: &[u8]| -> Option<u64> {
        // ue(v) 0 is a single 1 bit: the picture's first slice.
        if !matches!(nal_type, 1 | 5) || data.first().is_none_or(|b| b & 0x80 == 0) {
            return None;
        }
        let mut h = DefaultHasher::new();
        h.write_u8(nal_type);
        h.write(&data[..data.len().min(TAKE)]);
        Some(h.finish())
    };
    let first = *payload.first()?;
    match first & 0x1f {
        t @ (1 | 5) => key(t, &payload[1..]),
        // FU-A: indicator, header (S bit, type), data.
        28 => {
            let fu = *payload.get(1)?;
            if fu & 0x80 == 0 {
                return None;
            }
            key(fu & 0x1f, payload.get(2..)?)
        }
        // STAP-A: (16-bit size, NAL unit)*.
        24 => {
            let mut rest = payload.get(1..)?;
            while rest.len() > 2 {
                let size = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                let nal = rest.get(2..2 + size)?;
                if let Some(&h) = nal.first() {
                    if let Some(k) = key(h & 0x1f, &nal[1..]) {
                        return Some(k);
                    }
                }
                rest = &rest[2 + size..];
            }
            None
        }
        _ => None,
    }
}

/// Latencies of pictures at viewers against a reference receiver.
pub struct Latency {
    /// Sorted, in ms.
    pub ms: Vec<f64>,
    pub seen: usize,
    /// Viewer pictures that arrived before the reference's (a mismatch
    /// or the reference read late).
    pub early: usize,
}

/// Matches every viewer picture to the reference's arrival of the same
/// picture (the nearest one in time, within 1 s).
pub fn match_pictures(reference: &[(u64, Instant)], viewers: &[Vec<(u64, Instant)>]) -> Latency {
    let mut by_key: HashMap<u64, Vec<Instant>> = HashMap::new();
    for (k, at) in reference {
        by_key.entry(*k).or_default().push(*at);
    }
    let mut ms = Vec::new();
    let (mut seen, mut early) = (0, 0);
    for log in viewers {
        for (k, at) in log {
            seen += 1;
            let Some(refs) = by_key.get(k) else {
                continue;
            };
            // The nearest arrival of the same bytes at the reference (the
            // same picture comes back only after seconds, if ever).
            let signed_ms = |r: &Instant| {
                if r <= at {
                    (*at - *r).as_secs_f64() * 1000.0
                } else {
                    -((*r - *at).as_secs_f64() * 1000.0)
                }
            };
            let Some(lat) = refs
                .iter()
                .map(signed_ms)
                .min_by(|a, b| a.abs().total_cmp(&b.abs()))
            else {
                continue;
            };
            if lat.abs() > 1000.0 {
                continue;
            }
            if lat < 0.0 {
                early += 1;
            }
            ms.push(lat);
        }
    }
    ms.sort_by(f64::total_cmp);
    Latency { ms, seen, early }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn this_process_uses_cpu_time() {
        assert!(process_ticks("self").is_some());
        let (busy, total) = host_ticks().unwrap_or((0, 0));
        assert!(total > 0 && busy <= total);
        assert!(all_processes().contains_key(&std::process::id()));
    }

    /// A picture's first slice (first_mb_in_slice 0: the top bit set).
    fn slice() -> Vec<u8> {
        (0..900u32).map(|i| (i * 7 + 0x80) as u8).collect()
    }

    #[test]
    fn a_picture_has_one_key_however_it_is_packetized() {
        let data = slice();
        let single = [&[0x65u8][..], &data].concat();
        let fu_start = [&[0x7cu8, 0x85][..], &data[..600]].concat();
        let key = picture_key(&single);
        assert!(key.is_some());
        assert_eq!(picture_key(&fu_start), key);
        let mut stap = vec![0x78u8];
        for nal in [&[0x67u8, 0x42, 0xc0][..], &[0x68, 0xce], &single] {
            stap.extend_from_slice(&u16::try_from(nal.len()).unwrap_or(0).to_be_bytes());
            stap.extend_from_slice(nal);
        }
        assert_eq!(picture_key(&stap), key);
    }

    #[test]
    fn only_the_first_slice_of_a_picture_has_a_key() {
        let mut data = slice();
        // A later fragment, a later slice, parameter sets, garbage.
        assert_eq!(picture_key(&[&[0x7cu8, 0x05][..], &data].concat()), None);
        data[0] = 0x40;
        assert_eq!(picture_key(&[&[0x41u8][..], &data].concat()), None);
        assert_eq!(picture_key(&[0x67, 0x42, 0xc0, 0x1f]), None);
        assert_eq!(picture_key(&[0x78, 0xff, 0xff, 0x65]), None);
        assert_eq!(picture_key(&[]), None);
    }
}
