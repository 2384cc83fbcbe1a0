//! Unlock latency for `.ci/bench-unlock`: the HTTP round trip of
//! `POST /api/unlock` (the request leaves this process -> the device drives
//! the lock's relay output -> its answer is read here), on this process'
//! monotonic clock. The device answers only once the relay has been driven,
//! so the round trip is an upper bound of "request arriving -> driver told
//! to open" (it adds this client, loopback TCP and the JSON encoding).
//!
//! Two phases of N unlocks each, the next one sent 1.05 s after the last
//! one was sent and at least 1.01 s after its answer (the device's Unlock
//! Responding Interval is set to its minimum, 1 s, and counts from when the
//! device handled the last unlock); every unlock must open (`refused` null):
//! a refused one stops the run with an error.
//! - `idle`: nothing else talks to the device;
//! - `load`: meanwhile `--viewers` headless WebRTC viewers (webrtc-rs, no
//!   decoding) watch the door camera over WHEP (the built-in test camera:
//!   the device encodes 1280x720 25 fps H.264 while someone watches), sipp
//!   registers room 9901's monitor with digest auth at `--sip-rate`
//!   registrations per second (`tests/peers/sipp/bench-register.xml`:
//!   REGISTER, 401, REGISTER with credentials, 200, each its own Call-ID;
//!   the device writes registrations behind to its database) and
//!   `--snapshots` loops fetch `/snapshot/door.jpg` back to back (a JPEG
//!   encoded per request).
//!
//! The unlocks go from a thread and runtime of their own over one kept-alive
//! connection (opened before the first timed unlock), so the viewers'
//! packet handling in this process does not delay them.
//!
//! usage: unlock_bench [--n 100] [--viewers 8] [--sip-rate 100]
//!   [--snapshots 0] [--base URL --pid PID --sip HOST:PORT] [--password PW]
//! Without `--base` it starts the vto binary (`$VTO_BIN`, else
//! `target/release/vto`) on a temporary data dir; a given device must be
//! fresh or initialized with `--password`, without a room 9901.
//! `UNLOCK_BENCH_N` is the default of `--n`.
//!
//! Results go to stdout as `key value` lines; progress to stderr.

use std::{
    net::SocketAddr,
    path::Path,
    process::Stdio,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use tests::{
    bench::{clock_ticks, host_ticks, percentile, process_ticks},
    viewer, Client, Vto,
};
use tokio::process::{Child, Command};

type Res<T> = Result<T, String>;

/// The next unlock goes this long after the last one was sent ...
const SPACING: Duration = Duration::from_millis(1050);
/// ... and at least this long after its answer (the device took "now"
/// for the last unlock before it answered; 1 s interval plus a margin).
const AFTER_ANSWER: Duration = Duration::from_millis(1010);
/// The room whose monitor sipp registers, and its SIP password.
const SIP_ROOM: &str = "9901";
const SIP_USER: &str = "9901#0";
const SIP_PASSWORD: &str = "Bench2026Door";
const SIPP_SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/sipp/bench-register.xml");
/// Load runs this long before the first timed unlock.
const WARM_UP: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------
// Arguments.

struct Args {
    n: usize,
    viewers: usize,
    sip_rate: u32,
    snapshots: usize,
    base: Option<String>,
    pid: Option<i32>,
    sip: Option<SocketAddr>,
    password: String,
}

fn parse<T: std::str::FromStr>(name: &str, v: &str) -> Res<T> {
    v.parse().map_err(|_| format!("bad --{name}: {v}"))
}

fn args() -> Res<Args> {
    let n = match std::env::var("UNLOCK_BENCH_N") {
        Ok(v) if !v.is_empty() => parse("n (UNLOCK_BENCH_N)", &v)?,
        _ => 100,
    };
    let mut a = Args {
        n,
        viewers: 8,
        sip_rate: 100,
        snapshots: 0,
        base: None,
        pid: None,
        sip: None,
        password: tests::STRONG.into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} wants a value"))?;
        match flag.trim_start_matches("--") {
            "n" => a.n = parse("n", &v)?,
            "viewers" => a.viewers = parse("viewers", &v)?,
            "sip-rate" => a.sip_rate = parse("sip-rate", &v)?,
            "snapshots" => a.snapshots = parse("snapshots", &v)?,
            "base" => a.base = Some(v.trim_end_matches('/').to_string()),
            "pid" => a.pid = Some(parse("pid", &v)?),
            "sip" => a.sip = Some(parse("sip", &v)?),
            "password" => a.password = v,
            other => return Err(format!("unknown option --{other}")),
        }
    }
    if a.n == 0 {
        return Err("--n must be at least 1".into());
    }
    if a.base.is_some() && a.pid.is_none() {
        return Err("--base wants --pid (the device's process, for its CPU)".into());
    }
    Ok(a)
}

// ---------------------------------------------------------------------
// CPU from /proc.

/// The CPU of the device, of this bench's load clients and of the host.
struct Cpu {
    device: String,
    sipp: Option<String>,
    tck: f64,
}

struct Mark {
    at: Instant,
    device: u64,
    clients: u64,
    host: (u64, u64),
}

impl Cpu {
    fn mark(&self) -> Res<Mark> {
        Ok(Mark {
            at: Instant::now(),
            device: process_ticks(&self.device).ok_or("the device's process is gone")?,
            clients: process_ticks("self").unwrap_or(0)
                + self.sipp.as_deref().and_then(process_ticks).unwrap_or(0),
            host: host_ticks().unwrap_or((0, 1)),
        })
    }

    /// (device, clients) in % of one core, host busy in % of all cores.
    fn between(&self, a: &Mark, b: &Mark) -> (f64, f64, f64) {
        let secs = b.at.duration_since(a.at).as_secs_f64().max(1e-3);
        let pct = |t: u64| t as f64 / self.tck / secs * 100.0;
        let (busy, total) = (
            b.host.0.saturating_sub(a.host.0),
            b.host.1.saturating_sub(a.host.1).max(1),
        );
        (
            pct(b.device.saturating_sub(a.device)),
            pct(b.clients.saturating_sub(a.clients)),
            busy as f64 * 100.0 / total as f64,
        )
    }
}

// ---------------------------------------------------------------------
// The unlocks.

/// A server function call that returns an error instead of panicking.
async fn post(c: &Client, name: &str, body: &Value) -> Res<(StatusCode, Value)> {
    let res = c
        .request(Method::POST, &format!("/api/{name}"))
        .header(header::ORIGIN, &c.base)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    let status = res.status();
    let text = res.text().await.map_err(|e| format!("{name}: {e}"))?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// N unlocks, spaced; their round trips in ms.
async fn unlocks(base: String, cookie: Option<String>, n: usize, phase: &str) -> Res<Vec<f64>> {
    // A client of this runtime; its connection is opened (and kept alive)
    // by an untimed call first.
    let c = Client::with_roots(&base, None, &[]);
    c.set_cookie(cookie);
    let (status, body) = post(&c, "access_settings", &json!({})).await?;
    if status != StatusCode::OK {
        return Err(format!("access_settings: {status} {body}"));
    }
    let mut times = Vec::with_capacity(n);
    let mut next = Instant::now();
    let body = json!({});
    for i in 0..n {
        tokio::time::sleep_until(next.into()).await;
        let sent = Instant::now();
        let (status, record) = post(&c, "unlock", &body).await?;
        let answered = Instant::now();
        if status != StatusCode::OK {
            return Err(format!("{phase} unlock {}: {status} {record}", i + 1));
        }
        if !record["refused"].is_null() {
            return Err(format!("{phase} unlock {}: refused: {record}", i + 1));
        }
        times.push(answered.duration_since(sent).as_secs_f64() * 1000.0);
        next = (sent + SPACING).max(answered + AFTER_ANSWER);
        if (i + 1) % 25 == 0 {
            eprintln!("unlock_bench: {phase}: {} of {n}", i + 1);
        }
    }
    Ok(times)
}

/// The unlocks on a thread and runtime of their own.
async fn timed_unlocks(c: &Client, n: usize, phase: &str) -> Res<Vec<f64>> {
    let (base, cookie, name) = (c.base.clone(), c.cookie(), phase.to_string());
    let thread = std::thread::spawn(move || -> Res<Vec<f64>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("runtime: {e}"))?;
        rt.block_on(unlocks(base, cookie, n, &name))
    });
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(|e| format!("join: {e}"))?
        .map_err(|_| "the unlock thread panicked".to_string())?
}

/// Measures one phase and prints its lines.
async fn phase(c: &Client, cpu: &Cpu, n: usize, name: &str) -> Res<()> {
    eprintln!("unlock_bench: {name}: {n} unlocks, ~1.05 s apart");
    let m0 = cpu.mark()?;
    let mut times = timed_unlocks(c, n, name).await?;
    let m1 = cpu.mark()?;
    times.sort_by(f64::total_cmp);
    let (device, clients, host) = cpu.between(&m0, &m1);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!("{name}_n {}", times.len());
    println!("{name}_min_ms {:.2}", times[0]);
    println!("{name}_mean_ms {mean:.2}");
    println!("{name}_p50_ms {:.2}", percentile(&times, 0.50));
    println!("{name}_p99_ms {:.2}", percentile(&times, 0.99));
    println!("{name}_max_ms {:.2}", percentile(&times, 1.0));
    println!(
        "{name}_secs {:.1}",
        m1.at.duration_since(m0.at).as_secs_f64()
    );
    println!("{name}_cpu_vto_pct {device:.1}");
    println!("{name}_cpu_clients_pct {clients:.1}");
    println!("{name}_cpu_host_pct {host:.1}");
    eprintln!(
        "unlock_bench: {name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; vto {device:.1}% of a core",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        percentile(&times, 1.0)
    );
    Ok(())
}

// ---------------------------------------------------------------------
// Load: WHEP viewers of the door camera.

// ---------------------------------------------------------------------
// Load: sipp registering a monitor of room 9901.

/// sipp from a free UDP port on 127.0.0.1, at `rate` registrations/s
/// until stopped; its files in `dir`.
fn start_sipp(target: SocketAddr, rate: u32, dir: &Path) -> Res<Child> {
    let users = dir.join("users.csv");
    std::fs::write(
        &users,
        format!("SEQUENTIAL\n{};\n", SIP_USER.replace('#', "%23")),
    )
    .map_err(|e| format!("sipp users file: {e}"))?;
    let out = std::fs::File::create(dir.join("out.txt")).map_err(|e| format!("sipp out: {e}"))?;
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map_err(|e| format!("free port: {e}"))?
        .port();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    Command::new("sipp")
        .current_dir(dir)
        .arg(target.to_string())
        .args(["-sf", SIPP_SCENARIO, "-inf", &path("users.csv")])
        .args(["-au", SIP_USER, "-ap", SIP_PASSWORD])
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-r", &rate.to_string(), "-rp", "1000"])
        .args(["-nd", "-nostdin", "-recv_timeout", "5000"])
        .args(["-buff_size", "2097152"])
        .args(["-trace_stat", "-stf", &path("stat.csv"), "-fd", "1"])
        .args(["-trace_err", "-error_file", &path("errors.log")])
        .args(["-max_log_size", "1000000"])
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(|e| format!("sipp out: {e}"))?)
        .stderr(out)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start sipp (Debian's sip-tester): {e}"))
}

/// sipp's final statistics: (created, successful, failed, seconds).
fn sipp_stats(csv: &Path) -> Option<(u64, u64, u64, f64)> {
    let text = std::fs::read_to_string(csv).ok()?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head: Vec<&str> = lines.next()?.split(';').collect();
    let last: Vec<&str> = lines.next_back()?.split(';').collect();
    let col =
        |name: &str| -> Option<&str> { last.get(head.iter().position(|h| *h == name)?).copied() };
    let num = |name: &str| col(name)?.trim().parse::<u64>().ok();
    // "date\ttime\tepoch" in StartTime and CurrentTime.
    let epoch = |name: &str| col(name)?.split('\t').nth(2)?.trim().parse::<f64>().ok();
    Some((
        num("TotalCallCreated")?,
        num("SuccessfulCall(C)")?,
        num("FailedCall(C)")?,
        epoch("CurrentTime")? - epoch("StartTime")?,
    ))
}

/// Stops sipp softly (SIGUSR1: no new calls, the ongoing ones finish).
async fn stop_sipp(child: &mut Child) {
    if let Some(pid) = child.id() {
        #[allow(unsafe_code)]
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(pid as i32, libc::SIGUSR1);
        }
    }
    if tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

// ---------------------------------------------------------------------

async fn run(a: Args) -> Res<()> {
    // The device: given, or started here (dropped, and so killed, at the end).
    let mut own = None;
    let (base, pid, sip) = match &a.base {
        Some(base) => (base.clone(), a.pid.unwrap_or(0), a.sip),
        None => {
            let vto = Vto::start_with(&["--log", "warn"]).await;
            let info = (vto.url.clone(), vto.pid(), vto.sip);
            own = Some(vto);
            info
        }
    };
    eprintln!("unlock_bench: vto at {base} (pid {pid})");
    let c = Client::with_roots(&base, None, &[]);
    // A fresh device is initialized first; an initialized one refuses.
    let _ = c
        .call("initialize", json!({"password": a.password, "email": null}))
        .await;
    let (status, body) = c.login(&a.password).await;
    if status != StatusCode::OK {
        return Err(format!("login: {status} {body}"));
    }
    let settings = json!({
        "responding_interval_s": 1,
        "unlock_period_s": 1,
        "sensor_check_s": 30,
        "sensor_check_enable": false,
        "contact": "No",
        "first_unlock_command": "123",
    });
    let (status, body) = post(&c, "save_access_settings", &json!({ "settings": settings })).await?;
    if status != StatusCode::OK {
        return Err(format!("save_access_settings: {status} {body}"));
    }
    if a.sip_rate > 0 {
        let room = json!({"first_name": "", "last_name": "", "nick_name": "",
            "room_no": SIP_ROOM, "register_type": "Public"});
        let (status, body) = post(
            &c,
            "add_room",
            &json!({"room": room, "password": SIP_PASSWORD}),
        )
        .await?;
        if status != StatusCode::OK {
            return Err(format!("add_room {SIP_ROOM}: {status} {body}"));
        }
    }
    let mut cpu = Cpu {
        device: pid.to_string(),
        sipp: None,
        tck: clock_ticks(),
    };
    println!("n {}", a.n);
    tokio::time::sleep(Duration::from_secs(1)).await;

    // ---- idle
    phase(&c, &cpu, a.n, "idle").await?;

    // ---- load
    eprintln!(
        "unlock_bench: load: {} viewers, {} REGISTER/s (digest), {} snapshot loops",
        a.viewers, a.sip_rate, a.snapshots
    );
    let api = Arc::new(viewer::api()?);
    let c = Arc::new(c);
    let mut viewers = Vec::new();
    let mut joins = tokio::task::JoinSet::new();
    for _ in 0..a.viewers {
        let (api, c) = (api.clone(), c.clone());
        joins.spawn(async move { viewer::watch(&api, &c).await });
    }
    while let Some(j) = joins.join_next().await {
        viewers.push(j.map_err(|e| format!("viewer task: {e}"))??);
    }
    let tmp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut sipp = None;
    if a.sip_rate > 0 {
        let target = sip.ok_or("no SIP address (--sip)")?;
        let child = start_sipp(target, a.sip_rate, tmp.path())?;
        cpu.sipp = child.id().map(|p| p.to_string());
        sipp = Some(child);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let snapshots = Arc::new(AtomicU64::new(0));
    let snapshot_errors = Arc::new(AtomicU64::new(0));
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..a.snapshots {
        let (c, stop, ok, errors) = (
            c.clone(),
            stop.clone(),
            snapshots.clone(),
            snapshot_errors.clone(),
        );
        loops.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let res = c.request(Method::GET, "/snapshot/door.jpg").send().await;
                let fine = match res {
                    Ok(r) if r.status() == StatusCode::OK => r.bytes().await.is_ok(),
                    _ => false,
                };
                let counter = if fine { &ok } else { &errors };
                counter.fetch_add(1, Ordering::Relaxed);
                if !fine {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
    }
    tokio::time::sleep(WARM_UP).await;
    if let Some(child) = sipp.as_mut() {
        if let Ok(Some(status)) = child.try_wait() {
            let out = std::fs::read_to_string(tmp.path().join("out.txt")).unwrap_or_default();
            return Err(format!("sipp stopped ({status}): {out}"));
        }
    }
    let frames0: Vec<u64> = viewers
        .iter()
        .map(|v| v.frames.load(Ordering::Relaxed))
        .collect();
    let snaps0 = snapshots.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let result = phase(&c, &cpu, a.n, "load").await;
    let secs = t0.elapsed().as_secs_f64();
    let fps: Vec<f64> = viewers
        .iter()
        .zip(&frames0)
        .map(|(v, f0)| v.frames.load(Ordering::Relaxed).saturating_sub(*f0) as f64 / secs)
        .collect();
    let snaps = snapshots.load(Ordering::Relaxed) - snaps0;

    // Stop the load.
    stop.store(true, Ordering::Relaxed);
    if let Some(mut child) = sipp {
        stop_sipp(&mut child).await;
    }
    while loops.join_next().await.is_some() {}
    for v in &viewers {
        viewer::end(&c, v).await;
    }
    result?;

    println!("load_viewers {}", viewers.len());
    if !fps.is_empty() {
        let min = fps.iter().copied().fold(f64::INFINITY, f64::min);
        let avg = fps.iter().sum::<f64>() / fps.len() as f64;
        println!("load_viewer_fps_min {min:.1}");
        println!("load_viewer_fps_avg {avg:.1}");
    }
    println!("load_snapshot_loops {}", a.snapshots);
    println!("load_snapshots_per_s {:.1}", snaps as f64 / secs);
    println!(
        "load_snapshot_errors {}",
        snapshot_errors.load(Ordering::Relaxed)
    );
    println!("load_sip_rate {}", a.sip_rate);
    if a.sip_rate > 0 {
        let csv = tmp.path().join("stat.csv");
        let Some((created, ok, failed, secs)) = sipp_stats(&csv) else {
            let out = std::fs::read_to_string(tmp.path().join("out.txt")).unwrap_or_default();
            return Err(format!("no statistics from sipp: {out}"));
        };
        println!("load_sip_created {created}");
        println!("load_sip_ok {ok}");
        println!("load_sip_failed {failed}");
        println!("load_sip_secs {secs:.1}");
        println!(
            "load_sip_ok_per_s {:.1}",
            if secs > 0.0 { ok as f64 / secs } else { 0.0 }
        );
    }
    if let Some(vto) = own.as_mut() {
        let logs = vto.logs();
        if !logs.trim().is_empty() {
            eprintln!("unlock_bench: vto's stderr (last lines):");
            let lines: Vec<&str> = logs.lines().collect();
            for l in &lines[lines.len().saturating_sub(10)..] {
                eprintln!("  {}", l.chars().take(300).collect::<String>());
            }
        }
        vto.stop().await;
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let result = match args() {
        Ok(a) => run(a).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("unlock_bench: {e}");
        std::process::exit(1);
    }
}
