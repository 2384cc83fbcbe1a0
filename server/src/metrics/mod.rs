//! `GET /metrics`: the device's counters in the Prometheus text format.
//!
//! Every counter lives here, in one process-wide [`Metrics`] that the
//! areas bump where the event happens (a call logged, a door unlocked, a
//! SIP message in or out, a database commit). Gauges (who is registered,
//! watching, streaming) are read from the services at scrape time.
//! [`render`] is pure: samples in, text out. The route is reachable only
//! with the metrics token ([`token`]).

pub mod http;
pub mod token;

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::Duration,
};

/// The device's counters, since start.
pub static METRICS: Metrics = Metrics::new();

/// Labels of one series: (name, value) pairs, in order.
pub type Labels = Vec<(&'static str, String)>;

/// Counters that take labels: rare events (a call, an unlock), so a lock
/// per bump costs nothing that matters.
pub struct Family {
    series: Mutex<BTreeMap<Labels, f64>>,
}

impl Family {
    const fn new() -> Self {
        Self {
            series: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn add(&self, labels: Labels, by: f64) {
        let mut s = self.series.lock().unwrap_or_else(|p| p.into_inner());
        *s.entry(labels).or_insert(0.0) += by;
    }

    pub(crate) fn samples(&self) -> Vec<(Labels, f64)> {
        let s = self.series.lock().unwrap_or_else(|p| p.into_inner());
        s.iter().map(|(l, v)| (l.clone(), *v)).collect()
    }
}

/// Upper bounds of the database commit histogram, in seconds.
pub const WRITE_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A latency histogram of atomics: bumped on every commit, lock-free.
pub struct Histogram {
    buckets: [AtomicU64; WRITE_BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    const fn new() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; WRITE_BUCKETS.len()],
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        // Each bucket holds its own range; rendering makes them cumulative.
        if let Some(i) = WRITE_BUCKETS.iter().position(|b| s <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }
}

/// Which way a SIP message went, and on which transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    In,
    Out,
}

/// Why a SIP message was dropped unanswered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// From an address the IP Permissions refuse.
    Refused,
    /// Not a SIP message at all.
    Malformed,
    /// A TCP peer's send queue was full (it does not read).
    QueueFull,
}

const DROPPED: [(Dropped, &str); 3] = [
    (Dropped::Refused, "refused"),
    (Dropped::Malformed, "malformed"),
    (Dropped::QueueFull, "queue_full"),
];

pub struct Metrics {
    pub calls: Family,
    talk_ms: AtomicU64,
    pub unlocks: Family,
    pub alarms: Family,
    pub login_failures: Family,
    /// [in udp, in tcp, out udp, out tcp]
    sip: [AtomicU64; 4],
    sip_dropped: [AtomicU64; 3],
    pub db_write: Histogram,
    rtsp: AtomicU64,
}

/// One RTSP client playing: counted while it lives, whatever ends it.
pub struct Playing(&'static AtomicU64);

impl Drop for Playing {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub const fn new() -> Self {
        Self {
            calls: Family::new(),
            talk_ms: AtomicU64::new(0),
            unlocks: Family::new(),
            alarms: Family::new(),
            login_failures: Family::new(),
            sip: [const { AtomicU64::new(0) }; 4],
            sip_dropped: [const { AtomicU64::new(0) }; 3],
            db_write: Histogram::new(),
            rtsp: AtomicU64::new(0),
        }
    }

    /// A call logged with its end state.
    pub fn call(&self, kind: &str, end_state: &str) {
        self.calls.add(
            vec![("type", slug(kind)), ("end_state", slug(end_state))],
            1.0,
        );
    }

    /// An answered call ended after `ms` of talk.
    pub fn talked(&self, ms: u64) {
        self.talk_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// An attempt to open the door by `method` (its key), and whether the
    /// door opened.
    pub fn unlock(&self, method: &str, opened: bool) {
        let result = if opened { "opened" } else { "refused" };
        self.unlocks.add(
            vec![("method", method.to_string()), ("result", result.into())],
            1.0,
        );
    }

    pub fn alarm(&self, kind: &str) {
        self.alarms.add(vec![("kind", kind.to_string())], 1.0);
    }

    /// Wrong credentials, by how they were presented (`password`,
    /// `digest`, `ws_security`, `metrics_token`).
    pub fn login_failed(&self, method: &str) {
        self.login_failures.add(vec![("method", slug(method))], 1.0);
    }

    /// An RTSP client starts playing, until the guard drops.
    pub fn rtsp_started(&'static self) -> Playing {
        self.rtsp.fetch_add(1, Ordering::Relaxed);
        Playing(&self.rtsp)
    }

    pub fn rtsp_playing(&self) -> usize {
        usize::try_from(self.rtsp.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    pub fn sip_message(&self, way: Way, tcp: bool) {
        let i = usize::from(way == Way::Out) * 2 + usize::from(tcp);
        self.sip[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn sip_dropped(&self, why: Dropped) {
        if let Some(i) = DROPPED.iter().position(|(d, _)| *d == why) {
            self.sip_dropped[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Every family, counters and the `gauges` read now, to [`render`].
    pub fn families(&self, gauges: &Gauges) -> Vec<Sampled> {
        let counter = |name, help, f: &Family| Sampled {
            name,
            help,
            kind: "counter",
            samples: f
                .samples()
                .into_iter()
                .map(|(labels, value)| Sample {
                    suffix: "",
                    labels,
                    value,
                })
                .collect(),
        };
        let gauge = |name, help, value: usize| Sampled {
            name,
            help,
            kind: "gauge",
            samples: vec![Sample {
                suffix: "",
                labels: Vec::new(),
                value: value as f64,
            }],
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let mut sip = Vec::new();
        for (i, a) in self.sip.iter().enumerate() {
            let way = if i >= 2 { "out" } else { "in" };
            let transport = if matches!(i, 1 | 3) { "tcp" } else { "udp" };
            sip.push(Sample {
                suffix: "",
                labels: vec![("direction", way.into()), ("transport", transport.into())],
                value: load(a),
            });
        }
        let dropped = DROPPED
            .iter()
            .zip(&self.sip_dropped)
            .map(|((_, reason), a)| Sample {
                suffix: "",
                labels: vec![("reason", (*reason).into())],
                value: load(a),
            })
            .collect();
        let mut write = Vec::new();
        let mut below = 0;
        for (bound, a) in WRITE_BUCKETS.iter().zip(&self.db_write.buckets) {
            below += a.load(Ordering::Relaxed);
            write.push(Sample {
                suffix: "_bucket",
                labels: vec![("le", bound.to_string())],
                value: below as f64,
            });
        }
        let count = load(&self.db_write.count);
        write.push(Sample {
            suffix: "_bucket",
            labels: vec![("le", "+Inf".into())],
            value: count,
        });
        write.push(Sample {
            suffix: "_sum",
            labels: Vec::new(),
            value: load(&self.db_write.sum_us) / 1e6,
        });
        write.push(Sample {
            suffix: "_count",
            labels: Vec::new(),
            value: count,
        });
        vec![
            Sampled {
                name: "vto_build_info",
                help: "The running version (always 1).",
                kind: "gauge",
                samples: vec![Sample {
                    suffix: "",
                    labels: vec![("version", gauges.version.to_string())],
                    value: 1.0,
                }],
            },
            gauge(
                "vto_sip_registrations_online",
                "SIP accounts (rooms' monitors, stations) registered now.",
                gauges.registrations,
            ),
            gauge(
                "vto_live_viewers",
                "Browsers watching live video (WebRTC) now.",
                gauges.viewers,
            ),
            gauge(
                "vto_rtsp_sessions",
                "RTSP clients playing a stream now.",
                gauges.rtsp,
            ),
            counter(
                "vto_calls_total",
                "Calls logged, by call type and end state.",
                &self.calls,
            ),
            Sampled {
                name: "vto_talk_seconds_total",
                help: "Seconds talked in answered calls that ended.",
                kind: "counter",
                samples: vec![Sample {
                    suffix: "",
                    labels: Vec::new(),
                    value: load(&self.talk_ms) / 1000.0,
                }],
            },
            counter(
                "vto_unlocks_total",
                "Attempts to open the door, by method and result.",
                &self.unlocks,
            ),
            counter("vto_alarms_total", "Alarms raised, by kind.", &self.alarms),
            counter(
                "vto_login_failures_total",
                "Failed logins (wrong password or token), by how they were presented.",
                &self.login_failures,
            ),
            Sampled {
                name: "vto_sip_messages_total",
                help: "SIP messages received and sent, by transport.",
                kind: "counter",
                samples: sip,
            },
            Sampled {
                name: "vto_sip_dropped_total",
                help: "SIP messages dropped unanswered, by reason.",
                kind: "counter",
                samples: dropped,
            },
            Sampled {
                name: "vto_db_write_seconds",
                help: "Database write transactions, from begin to durable commit.",
                kind: "histogram",
                samples: write,
            },
        ]
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What is read from the services at scrape time.
pub struct Gauges {
    pub version: &'static str,
    pub registrations: usize,
    pub viewers: usize,
    pub rtsp: usize,
}

/// One metric family with its samples.
pub struct Sampled {
    pub name: &'static str,
    pub help: &'static str,
    /// `counter`, `gauge` or `histogram`.
    pub kind: &'static str,
    pub samples: Vec<Sample>,
}

pub struct Sample {
    /// After the family's name: `_bucket`, `_sum`, `_count` or nothing (a
    /// counter's name ends in `_total` itself: the 0.0.4 format wants a
    /// family's samples under its exact name).
    pub suffix: &'static str,
    pub labels: Labels,
    pub value: f64,
}

/// The Prometheus text format (version 0.0.4).
pub fn render(families: &[Sampled]) -> String {
    let mut out = String::with_capacity(4096);
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, escape(f.help, false));
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        for s in &f.samples {
            out.push_str(f.name);
            out.push_str(s.suffix);
            if !s.labels.is_empty() {
                out.push('{');
                for (i, (k, v)) in s.labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{k}=\"{}\"", escape(v, true));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", number(s.value));
        }
    }
    out
}

/// A sample value: integers without a fraction, as exporters print them.
fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Backslash and newline escaped (and `"` in a label value).
fn escape(s: &str, quote: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// A label as a label value: `Not Answered` -> `not_answered`.
pub fn slug(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
