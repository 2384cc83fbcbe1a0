//! Floods for `.ci/bench-flood` (issue 22): what keeps working while a
//! stranger on the LAN floods the device, and what the device uses. One
//! device (the vto binary, `$VTO_BIN`, else `target/release/vto`, on a
//! temporary data dir), four phases one after another, the first of each
//! pair quiet and the second flooded, so each figure has its own baseline:
//!
//! - SIP (`--secs` each): from 127.0.0.1 sipp registers room 9901's monitor
//!   with digest auth at `--reg-rate` registrations a second
//!   (`peers/sipp/bench-register.xml`: REGISTER, 401, REGISTER with
//!   credentials, 200, each its own Call-ID), and a door call goes to room
//!   9902 every 2 s (pressed over the API, followed to Talking, hung up,
//!   followed to Idle; its monitor is sipp `bench-callee.xml` with
//!   `-rtp_echo`). Flooded: meanwhile 127.0.0.2 sends `--flood-rate`
//!   malformed SIP datagrams a second (random bytes, cut-off requests,
//!   requests without a Call-ID, with a Content-Length past the end, with a
//!   garbage Authorization) to the device's SIP port.
//! - HTTP (`--http-secs` each): the owner logs in with the right password
//!   from 127.0.0.1 every 250 ms (and logs out). Flooded: meanwhile
//!   `--attackers` connections from 127.0.0.2 post wrong passwords to the
//!   login, for `admin` and for made-up names, each as soon as the last
//!   one was answered.
//!
//! For each phase: what succeeded, latencies (p50/p99 on this process'
//! monotonic clock), the device's CPU (% of one core, from /proc), its
//! highest resident memory and open file descriptors (sampled every
//! 250 ms), and what the flood sent and got back.
//!
//! usage: flood_bench [--secs 60] [--flood-rate 10000] [--reg-rate 20]
//!   [--http-secs 30] [--attackers 32]
//! Results go to stdout as `key value` lines; progress to stderr.

use std::{
    net::{SocketAddr, UdpSocket},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::{header, StatusCode};
use serde_json::json;
use tests::{
    bench::{clock_ticks, open_fds, percentile, process_ticks, rss_kib},
    room,
    sipp::Sipp,
    Client, Vto,
};

type Res<T> = Result<T, String>;

const PASSWORD: &str = "Bench2026Door";
const ATTACKER: [u8; 4] = [127, 0, 0, 2];
const CALL_EVERY: Duration = Duration::from_secs(2);

struct Options {
    secs: u64,
    flood_rate: u64,
    reg_rate: u64,
    http_secs: u64,
    attackers: usize,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("flood_bench: {e}");
        std::process::exit(1);
    }
}

fn options() -> Res<Options> {
    let mut o = Options {
        secs: 60,
        flood_rate: 10_000,
        reg_rate: 20,
        http_secs: 30,
        attackers: 32,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).ok_or(format!("{} needs a value", pair[0]))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("bad {} {value}", pair[0]))?;
        match pair[0].as_str() {
            "--secs" => o.secs = n,
            "--flood-rate" => o.flood_rate = n,
            "--reg-rate" => o.reg_rate = n,
            "--http-secs" => o.http_secs = n,
            "--attackers" => o.attackers = usize::try_from(n).map_err(|e| e.to_string())?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

async fn run() -> Res<()> {
    let o = options()?;
    let vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.ok_or("no SIP address")?;
    for no in ["9901", "9902"] {
        let (code, page) = c
            .call("add_room", json!({"room": room(no), "password": PASSWORD}))
            .await;
        if code != StatusCode::OK {
            return Err(format!("add_room {no}: {page}"));
        }
    }
    let pid = vto.pid().to_string();
    println!("secs {}", o.secs);
    println!("http_secs {}", o.http_secs);
    println!("flood_rate {}", o.flood_rate);
    println!("reg_rate {}", o.reg_rate);
    println!("attackers {}", o.attackers);
    for flooded in [false, true] {
        let name = if flooded { "sip_flooded" } else { "sip_quiet" };
        eprintln!("flood_bench: {name}, {} s", o.secs);
        sip_phase(&c, sip, &pid, &o, flooded, name).await?;
    }
    for flooded in [false, true] {
        let name = if flooded {
            "http_flooded"
        } else {
            "http_quiet"
        };
        eprintln!("flood_bench: {name}, {} s", o.http_secs);
        http_phase(&vto, &pid, &o, flooded, name).await?;
    }
    Ok(())
}

/// The device's CPU ticks, highest RSS and open descriptors over a phase.
struct Usage {
    pid: String,
    ticks: u64,
    started: Instant,
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<(u64, usize)>,
}

impl Usage {
    fn start(pid: &str) -> Usage {
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (pid.to_string(), stop.clone());
        let sampler = std::thread::spawn(move || {
            let (mut rss, mut fds) = (0, 0);
            while !s.load(Ordering::Relaxed) {
                rss = rss.max(rss_kib(&p));
                fds = fds.max(open_fds(&p));
                std::thread::sleep(Duration::from_millis(250));
            }
            (rss, fds)
        });
        Usage {
            pid: pid.to_string(),
            ticks: process_ticks(pid).unwrap_or(0),
            started: Instant::now(),
            stop,
            sampler,
        }
    }

    /// Prints `NAME_cpu_pct`, `NAME_rss_mib`, `NAME_fds`.
    fn finish(self, name: &str) {
        let ticks = process_ticks(&self.pid).unwrap_or(0) - self.ticks;
        let secs = self.started.elapsed().as_secs_f64();
        self.stop.store(true, Ordering::Relaxed);
        let (rss, fds) = self.sampler.join().unwrap_or((0, 0));
        println!(
            "{name}_cpu_pct {:.1}",
            ticks as f64 / clock_ticks() / secs * 100.0
        );
        println!("{name}_rss_mib {:.1}", rss as f64 / 1024.0);
        println!("{name}_fds {fds}");
    }
}

/// Datagrams dropped so far at the UDP socket bound to `port` (the last
/// column of /proc/net/udp).
fn udp_drops(port: u16) -> u64 {
    let port = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/udp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|a| a.ends_with(&port))
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

async fn sip_phase(
    c: &Client,
    sip: SocketAddr,
    pid: &str,
    o: &Options,
    flooded: bool,
    name: &str,
) -> Res<()> {
    // Room 9902's monitor, registered, answers each door call at once.
    let within = Duration::from_secs(o.secs * 3 + 60);
    let monitor = tests::sipp::answering_monitor(sip, "9902#0", PASSWORD, within).await?;

    let drops_before = udp_drops(sip.port());
    let usage = Usage::start(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let flood = flooded.then(|| {
        let (stop, rate) = (stop.clone(), o.flood_rate);
        std::thread::spawn(move || sip_flood(sip, rate, &stop))
    });
    let registrations = o.reg_rate * o.secs;
    let registering = Sipp::new("bench-register.xml", sip, "9901#0")
        .password(PASSWORD)
        .calls(u32::try_from(registrations).map_err(|e| e.to_string())?)
        .limit(1000)
        .within(Duration::from_secs(o.secs * 3 + 60))
        .args(&["-r", &o.reg_rate.to_string(), "-rp", "1000"])
        .spawn();

    // A visitor presses the bell every CALL_EVERY (the device keeps an
    // ended call a few seconds for its last transactions, 256 at most).
    let until = Instant::now() + Duration::from_secs(o.secs);
    let (mut ok, mut failed, mut setup_ms) = (0u64, 0u64, Vec::new());
    while Instant::now() < until {
        let next_at = Instant::now() + CALL_EVERY;
        let t = Instant::now();
        let (code, s) = c.call("call", json!({"number": "9902"})).await;
        let answered =
            code == StatusCode::OK && tests::until_call_phase(c, "Talking").await.is_ok();
        if answered {
            setup_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        } else if failed < 3 {
            eprintln!("flood_bench: a door call failed: {code} {s}");
        }
        c.call("hang_up", json!({})).await;
        if answered && tests::until_call_phase(c, "Idle").await.is_ok() {
            ok += 1;
        } else {
            failed += 1;
        }
        tokio::time::sleep_until(next_at.into()).await;
    }
    let reg = registering.await.map_err(|e| e.to_string())?;
    stop.store(true, Ordering::Relaxed);
    let (sent, answers) = match flood {
        Some(f) => f.join().map_err(|_| "the flood thread panicked")?,
        None => (0, 0),
    };
    usage.finish(name);
    monitor.abort();

    setup_ms.sort_by(f64::total_cmp);
    println!("{name}_registrations {registrations}");
    println!(
        "{name}_registrations_ok {}",
        tests::sipp::count(&reg.output, "Successful call")
    );
    println!(
        "{name}_registrations_failed {}",
        tests::sipp::count(&reg.output, "Failed call")
    );
    println!("{name}_door_calls_ok {ok}");
    println!("{name}_door_calls_failed {failed}");
    println!(
        "{name}_door_call_setup_p50_ms {:.1}",
        percentile(&setup_ms, 0.5)
    );
    println!(
        "{name}_door_call_setup_p99_ms {:.1}",
        percentile(&setup_ms, 0.99)
    );
    println!("{name}_flood_sent {sent}");
    println!("{name}_flood_answers {answers}");
    println!(
        "{name}_udp_drops_at_device {}",
        udp_drops(sip.port()).saturating_sub(drops_before)
    );
    Ok(())
}

/// Sends `rate` malformed datagrams a second from 127.0.0.2 to `to` until
/// `stop`; returns (sent, answers received).
fn sip_flood(to: SocketAddr, rate: u64, stop: &AtomicBool) -> (u64, u64) {
    let Ok(sock) = UdpSocket::bind((std::net::Ipv4Addr::from(ATTACKER), 0)) else {
        return (0, 0);
    };
    let _ = sock.set_nonblocking(true);
    let started = Instant::now();
    let (mut sent, mut answers, mut seed) = (0u64, 0u64, 0x9e37_79b9_7f4a_7c15u64);
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent < due {
            let d = malformed(sent, &mut seed, to);
            if sock.send_to(&d, to).is_ok() {
                sent += 1;
            } else {
                break;
            }
        }
        while sock.recv_from(&mut buf).is_ok() {
            answers += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    (sent, answers)
}

fn next(seed: &mut u64) -> u64 {
    // xorshift64: cheap, repeatable garbage.
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// The `n`th malformed datagram: five kinds in turn.
fn malformed(n: u64, seed: &mut u64, to: SocketAddr) -> Vec<u8> {
    let r = next(seed);
    let head = format!(
        "REGISTER sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK{r:x}\r\n\
         From: <sip:9901%230@{to}>;tag={r:x}\r\nTo: <sip:9901%230@{to}>\r\n"
    );
    match n % 5 {
        0 => (0..(r % 1400 + 16)).map(|_| next(seed) as u8).collect(),
        1 => head.as_bytes()[..(r as usize % head.len())].to_vec(),
        2 => format!("{head}CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n").into_bytes(),
        3 => format!("{head}Call-ID: {r:x}\r\nCSeq: 1 REGISTER\r\nContent-Length: 9999\r\n\r\nv=0")
            .into_bytes(),
        _ => format!(
            "{head}Call-ID: {r:x}\r\nCSeq: 1 REGISTER\r\nAuthorization: Digest {r:x}\"\r\n\
             Contact: <sip:9901%230@127.0.0.2>\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes(),
    }
}

async fn http_phase(vto: &Vto, pid: &str, o: &Options, flooded: bool, name: &str) -> Res<()> {
    let usage = Usage::start(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
    let mut attackers = tokio::task::JoinSet::new();
    if flooded {
        let http = reqwest::Client::builder()
            .local_address(Some(ATTACKER.into()))
            .pool_max_idle_per_host(o.attackers)
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        for a in 0..o.attackers {
            let (http, stop, counts, base) =
                (http.clone(), stop.clone(), counts.clone(), vto.url.clone());
            attackers.spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let user = if i & 1 == 0 {
                        "admin".to_string()
                    } else {
                        format!("user{a}x{i}")
                    };
                    let res = http
                        .post(format!("{base}/api/login"))
                        .header(header::ORIGIN, &base)
                        .json(&json!({"user": user, "password": format!("Wrong-{a}-{i}")}))
                        .send()
                        .await;
                    // 0: refused as a wrong password or locked (4xx);
                    // 1: busy (503); 2: anything else; 3: no answer.
                    let slot = match res.map(|r| r.status()) {
                        Ok(s) if s.is_client_error() => 0,
                        Ok(StatusCode::SERVICE_UNAVAILABLE) => 1,
                        Ok(_) => 2,
                        Err(_) => 3,
                    };
                    counts[slot].fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    }
    let owner = vto.client();
    let until = Instant::now() + Duration::from_secs(o.http_secs);
    let (mut ok, mut failed, mut login_ms) = (0u64, 0u64, Vec::new());
    while Instant::now() < until {
        let next_at = Instant::now() + Duration::from_millis(250);
        let t = Instant::now();
        let (code, body) = owner.login(tests::STRONG).await;
        if code == StatusCode::OK {
            login_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            ok += 1;
            owner.call("logout", json!({})).await;
        } else {
            if failed < 3 {
                eprintln!("flood_bench: the owner's login: {code} {body}");
            }
            failed += 1;
        }
        tokio::time::sleep_until(next_at.into()).await;
    }
    stop.store(true, Ordering::Relaxed);
    while attackers.join_next().await.is_some() {}
    usage.finish(name);
    login_ms.sort_by(f64::total_cmp);
    println!("{name}_owner_logins_ok {ok}");
    println!("{name}_owner_logins_failed {failed}");
    println!(
        "{name}_owner_login_p50_ms {:.1}",
        percentile(&login_ms, 0.5)
    );
    println!(
        "{name}_owner_login_p99_ms {:.1}",
        percentile(&login_ms, 0.99)
    );
    let total: u64 = counts.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    println!(
        "{name}_attacker_per_s {:.0}",
        total as f64 / o.http_secs as f64
    );
    for (i, what) in ["refused", "busy", "other", "no_answer"].iter().enumerate() {
        println!(
            "{name}_attacker_{what} {}",
            counts[i].load(Ordering::Relaxed)
        );
    }
    Ok(())
}
