//! The soak of `.ci/soak` (issue 22): door calls, live viewers,
//! registrations and unlocks at a steady rate for `--secs` (an hour by
//! default) against one device (the vto binary, `$VTO_BIN`, else
//! `target/release/vto`, on a temporary data dir), with its resident
//! memory, open file descriptors and threads sampled every `--every`
//! seconds. The workload:
//! - registrations: sipp registers room 9901's monitor twice a second with
//!   digest auth (`peers/sipp/bench-register.xml`, each its own Call-ID);
//! - door calls: every 30 s a call to room 9902 (sipp `bench-callee.xml`
//!   answers at once and echoes the RTP), 5 s of talk, hung up over the API;
//!   that monitor registers again from its port every 5 minutes (its
//!   registration lasts 10), between two calls;
//! - live viewers: two headless WHEP viewers of the door camera, each
//!   watching for 60 s, leaving and coming back;
//! - unlocks: one every 5 s over the API (Unlock Responding Interval 1 s).
//!
//! usage: soak [--secs 3600] [--every 10]
//! Output (stdout): `sample SECS RSS_KIB FDS THREADS` lines as it goes,
//! then `key value` totals (what was done and what failed). Progress and
//! failures (the first few of each kind) go to stderr.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    bench::{open_fds, rss_kib, threads},
    room,
    sipp::Sipp,
    until_call_phase, viewer, Client, Vto,
};

type Res<T> = Result<T, String>;

const PASSWORD: &str = "Bench2026Door";
const CALL_EVERY: Duration = Duration::from_secs(30);
const TALK: Duration = Duration::from_secs(5);
const UNLOCK_EVERY: Duration = Duration::from_secs(5);
const VIEWERS: usize = 2;
const WATCH: Duration = Duration::from_secs(60);
const REGISTRATIONS_PER_S: u64 = 2;
/// Room 9902's monitor registers for 600 s (`bench-register.xml`).
const REREGISTER_EVERY: Duration = Duration::from_secs(300);

/// Done and failed counts of one kind of work.
#[derive(Default)]
struct Count {
    ok: AtomicU64,
    failed: AtomicU64,
}

impl Count {
    fn note(&self, what: &str, r: Res<()>) {
        match r {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                if self.failed.fetch_add(1, Ordering::Relaxed) < 3 {
                    eprintln!("soak: {what} failed: {e}");
                }
            }
        }
    }

    fn print(&self, what: &str) {
        println!("{what}_ok {}", self.ok.load(Ordering::Relaxed));
        println!("{what}_failed {}", self.failed.load(Ordering::Relaxed));
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("soak: {e}");
        std::process::exit(1);
    }
}

fn options() -> Res<(u64, u64)> {
    let (mut secs, mut every) = (3600, 10);
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).ok_or(format!("{} needs a value", pair[0]))?;
        let n: u64 = value
            .parse()
            .map_err(|_| format!("bad {} {value}", pair[0]))?;
        match pair[0].as_str() {
            "--secs" => secs = n,
            "--every" => every = n.max(1),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok((secs, every))
}

async fn ok(c: &Client, name: &str, body: Value) -> Res<Value> {
    let (code, v) = c.call(name, body).await;
    if code == StatusCode::OK {
        Ok(v)
    } else {
        Err(format!("{name}: {code} {v}"))
    }
}

async fn run() -> Res<()> {
    let (secs, every) = options()?;
    let vto = Vto::start().await;
    let c = Arc::new(vto.ready().await);
    let sip = vto.sip.ok_or("no SIP address")?;
    for no in ["9901", "9902"] {
        ok(
            &c,
            "add_room",
            json!({"room": room(no), "password": PASSWORD}),
        )
        .await?;
    }
    let mut access = ok(&c, "access_settings", json!({})).await?;
    access["responding_interval_s"] = json!(1);
    ok(&c, "save_access_settings", json!({"settings": access})).await?;

    // Room 9902's monitor answers every door call.
    let within = Duration::from_secs(secs + 120);
    let port = tests::free_port();
    let monitor = tests::sipp::answering_monitor_on(sip, "9902#0", PASSWORD, within, port).await?;
    let registrations = REGISTRATIONS_PER_S * secs;
    let registering = Sipp::new("bench-register.xml", sip, "9901#0")
        .password(PASSWORD)
        .calls(u32::try_from(registrations).map_err(|e| e.to_string())?)
        .limit(100)
        .within(within)
        .args(&["-r", &REGISTRATIONS_PER_S.to_string(), "-rp", "1000"])
        .spawn();

    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let (calls, unlocks, views) = (
        Arc::new(Count::default()),
        Arc::new(Count::default()),
        Arc::new(Count::default()),
    );
    let mut work = tokio::task::JoinSet::new();
    {
        let (c, calls) = (c.clone(), calls.clone());
        let mut monitor = monitor;
        work.spawn(async move {
            let mut registered = Instant::now();
            while Instant::now() < until {
                let next = Instant::now() + CALL_EVERY;
                if registered.elapsed() >= REREGISTER_EVERY {
                    // Stopped (its sipp killed) before the new one binds the port.
                    monitor.abort();
                    let _ = (&mut monitor).await;
                    match tests::sipp::answering_monitor_on(sip, "9902#0", PASSWORD, within, port)
                        .await
                    {
                        Ok(m) => monitor = m,
                        Err(e) => calls.note("registering room 9902's monitor again", Err(e)),
                    }
                    registered = Instant::now();
                }
                calls.note("a door call", door_call(&c).await);
                tokio::time::sleep_until(next.min(until).into()).await;
            }
            monitor.abort();
        });
    }
    {
        let (c, unlocks) = (c.clone(), unlocks.clone());
        work.spawn(async move {
            while Instant::now() < until {
                let next = Instant::now() + UNLOCK_EVERY;
                let r = ok(&c, "unlock", json!({})).await.and_then(|r| {
                    r["refused"]
                        .is_null()
                        .then_some(())
                        .ok_or(format!("refused: {r}"))
                });
                unlocks.note("an unlock", r);
                tokio::time::sleep_until(next.min(until).into()).await;
            }
        });
    }
    let api = Arc::new(viewer::api()?);
    for i in 0..VIEWERS {
        let (c, views, api) = (c.clone(), views.clone(), api.clone());
        work.spawn(async move {
            // Staggered, so that one viewer is always coming or going.
            let offset =
                WATCH * u32::try_from(i).unwrap_or(0) / u32::try_from(VIEWERS).unwrap_or(1);
            tokio::time::sleep_until((Instant::now() + offset).min(until).into()).await;
            while Instant::now() < until {
                let next = Instant::now() + WATCH;
                match viewer::watch(&api, &c).await {
                    Ok(v) => {
                        tokio::time::sleep_until(next.min(until).into()).await;
                        let frames = v.frames.load(Ordering::Relaxed);
                        viewer::end(&c, &v).await;
                        // 25 pictures a second; a viewer that stalls fails.
                        views.note(
                            "a viewer",
                            (frames >= 10)
                                .then_some(())
                                .ok_or(format!("{frames} pictures")),
                        );
                    }
                    Err(e) => {
                        views.note("a viewer", Err(e));
                        tokio::time::sleep_until(next.min(until).into()).await;
                    }
                }
            }
        });
    }

    // The samples, every `every` seconds from the start.
    let pid = vto.pid().to_string();
    let mut tick = tokio::time::interval(Duration::from_secs(every));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while Instant::now() < until {
        tick.tick().await;
        println!(
            "sample {} {} {} {}",
            started.elapsed().as_secs(),
            rss_kib(&pid),
            open_fds(&pid),
            threads(&pid),
        );
    }
    while work.join_next().await.is_some() {}
    let reg = registering.await.map_err(|e| e.to_string())?;

    println!("secs {secs}");
    calls.print("door_calls");
    unlocks.print("unlocks");
    views.print("viewers");
    println!("registrations {registrations}");
    println!(
        "registrations_ok {}",
        tests::sipp::count(&reg.output, "Successful call")
    );
    println!(
        "registrations_failed {}",
        tests::sipp::count(&reg.output, "Failed call")
    );
    Ok(())
}

/// One door call to room 9902: answered, talked, hung up, idle again.
async fn door_call(c: &Client) -> Res<()> {
    ok(c, "call", json!({"number": "9902"})).await?;
    until_call_phase(c, "Talking").await?;
    tokio::time::sleep(TALK).await;
    ok(c, "hang_up", json!({})).await?;
    until_call_phase(c, "Idle").await
}
