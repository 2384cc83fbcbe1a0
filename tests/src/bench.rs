//! What the bench programs (`src/bin/*_bench.rs`) share: CPU time from
//! `/proc` and nearest-rank percentiles.

use std::collections::HashMap;

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
}
