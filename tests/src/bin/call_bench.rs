//! Door call latency for `.ci/bench-call`, on this process' monotonic
//! clock. This process is room 9901's indoor monitor: sipp registers it
//! with digest auth (`tests/peers/sipp/register.xml`), then a plain UDP
//! socket on the same port takes the door's calls. Per call:
//! - press -> INVITE: from `POST /api/call` leaving this process to the
//!   INVITE arriving at the monitor (the device binds RTP ports, reads the
//!   camera's SPS and PPS for its offer, forks, and the ticker sends);
//! - 200 -> first video: from the monitor sending its 200 OK (audio and
//!   H.264 video, fresh ports each call) to the first RTP packet of the
//!   door's video arriving at its video port (the device negotiates and
//!   starts the media with the camera's latest key frame).
//!
//! Then `POST /api/hang_up` and the monitor answers the door's BYE. N calls
//! one after another (the built-in test camera keeps encoding between
//! them; the first call also starts it).
//!
//! Then calls per second, one call at a time (a door has one visitor):
//! - vto: `--calls` door calls to room 9902, whose monitor is sipp
//!   (`bench-callee.xml` with `-rtp_echo`: 180 and 200 at once, the door's
//!   RTP sent back); each call is pressed, followed to Talking, hung up and
//!   followed to Idle over the API (`call_status` long polls);
//! - Kamailio 5.6 (`tests/peers/kamailio/kamailio.cfg`, as in
//!   `.ci/bench-sip`) proxying the same number of calls from sipp
//!   (`bench-caller.xml`, one at a time, hung up once answered) to the same
//!   sipp monitor, registered there.
//!
//! usage: call_bench [--n 50] [--calls 100]; the vto binary is `$VTO_BIN`,
//! else `target/release/vto`. Results go to stdout as `key value` lines.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::json;
use sip::{message::Message, registrar::response};
use tests::{bench::percentile, room, sipp::Sipp, Client, Vto};
use tokio::net::UdpSocket;

type Res<T> = Result<T, String>;

const PASSWORD: &str = "Bench2026Door";
const WAIT: Duration = Duration::from_secs(10);

async fn recv_sip(sock: &UdpSocket, want: &str) -> Res<(Message, SocketAddr, Instant)> {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
            .await
            .map_err(|_| format!("no {want} within {WAIT:?}"))?
            .map_err(|e| e.to_string())?;
        let at = Instant::now();
        let Ok(m) = sip::message::parse(&buf[..n]) else {
            continue;
        };
        if m.method().is_some_and(|x| x.to_string() == want) {
            return Ok((m, from, at));
        }
    }
}

fn answer(invite: &Message, audio: u16, video: u16) -> Vec<u8> {
    let mut r = response(invite, 200, "OK", &[]);
    let to = invite.headers.get("To").unwrap_or_default().to_string();
    r.headers.set("To", format!("{to};tag=bench"));
    r.headers
        .push("Contact", "<sip:9901%230@127.0.0.1>".to_string());
    r.headers
        .push("Content-Type", "application/sdp".to_string());
    r.body = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {audio} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n\
         m=video {video} RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
         a=fmtp:96 packetization-mode=1\r\na=recvonly\r\n"
    )
    .into_bytes()
    .into();
    r.to_bytes()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("call_bench: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Res<()> {
    let mut n = 50usize;
    let mut calls = 100u32;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--n", Some(v)) => n = v.parse().map_err(|_| format!("bad --n {v}"))?,
            ("--calls", Some(v)) => calls = v.parse().map_err(|_| format!("bad --calls {v}"))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let sip = vto.sip.ok_or("no SIP address")?;
    let (code, page) = c
        .call(
            "add_room",
            json!({"room": room("9901"), "password": PASSWORD}),
        )
        .await;
    if code != StatusCode::OK {
        return Err(format!("add_room: {page}"));
    }
    let port = tests::free_port();
    let reg = Sipp::new("register.xml", sip, "9901#0")
        .password(PASSWORD)
        .port(port)
        .run()
        .await;
    if !reg.passed {
        return Err(format!("register: {}", reg.output));
    }
    let sock = UdpSocket::bind(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut invite_ms, mut video_ms) = (Vec::new(), Vec::new());
    for i in 0..n {
        let audio = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let video = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let ports = (
            audio.local_addr().map_err(|e| e.to_string())?.port(),
            video.local_addr().map_err(|e| e.to_string())?.port(),
        );
        let pressed = Instant::now();
        let monitor = async {
            let (invite, from, arrived) = recv_sip(&sock, "INVITE").await?;
            sock.send_to(&answer(&invite, ports.0, ports.1), from)
                .await
                .map_err(|e| e.to_string())?;
            let answered = Instant::now();
            let mut buf = vec![0u8; 2048];
            tokio::time::timeout(WAIT, video.recv_from(&mut buf))
                .await
                .map_err(|_| format!("call {i}: no video within {WAIT:?}"))?
                .map_err(|e| e.to_string())?;
            Ok::<_, String>((arrived, answered, Instant::now()))
        };
        let ((code, s), m) = tokio::join!(c.call("call", json!({})), monitor);
        if code != StatusCode::OK {
            return Err(format!("call {i}: {s}"));
        }
        let (arrived, answered, first_video) = m?;
        invite_ms.push(ms(arrived - pressed));
        video_ms.push(ms(first_video - answered));
        c.call("hang_up", json!({})).await;
        let (bye, from, _) = recv_sip(&sock, "BYE").await?;
        sock.send_to(&response(&bye, 200, "OK", &[]).to_bytes(), from)
            .await
            .map_err(|e| e.to_string())?;
        // The call is over at the device before the next press.
        for _ in 0..100 {
            let (_, s) = c.call("call_status", json!({"seen": u64::MAX})).await;
            if s["phase"] == "Idle" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        eprint!(".");
    }
    eprintln!();
    for (name, mut v) in [
        ("press_to_invite", invite_ms),
        ("answer_to_video", video_ms),
    ] {
        v.sort_by(f64::total_cmp);
        println!("{name}_p50_ms {:.1}", percentile(&v, 0.5));
        println!("{name}_p99_ms {:.1}", percentile(&v, 0.99));
        println!("{name}_max_ms {:.1}", v.last().copied().unwrap_or(0.0));
    }
    println!("calls {n}");
    let vto_rate = door_calls_per_s(&c, sip, calls).await?;
    vto.stop().await;
    let kamailio_rate = kamailio_calls_per_s(calls).await?;
    println!("throughput_calls {calls}");
    println!("vto_calls_per_s {vto_rate:.1}");
    println!("kamailio_calls_per_s {kamailio_rate:.1}");
    println!("ratio {:.3}", vto_rate / kamailio_rate);
    Ok(())
}

async fn register(server: SocketAddr, user: &str, port: u16) -> Res<()> {
    let run = Sipp::new("bench-register.xml", server, user)
        .password(PASSWORD)
        .port(port)
        .run()
        .await;
    if run.passed {
        Ok(())
    } else {
        Err(format!("{user} did not register: {}", run.output))
    }
}

/// `calls` door calls one after another to a sipp monitor echoing RTP.
async fn door_calls_per_s(c: &Client, sip: SocketAddr, calls: u32) -> Res<f64> {
    let (code, page) = c
        .call(
            "add_room",
            json!({"room": room("9902"), "password": PASSWORD}),
        )
        .await;
    if code != StatusCode::OK {
        return Err(format!("add_room: {page}"));
    }
    let port = tests::free_port();
    register(sip, "9902#0", port).await?;
    let monitor = Sipp::new("bench-callee.xml", sip, "9902#0")
        .port(port)
        .calls(calls)
        .limit(calls)
        .args(&["-rtp_echo"])
        .spawn();
    tests::wait_bound(port, false).await;
    let started = Instant::now();
    for i in 0..calls {
        let (code, s) = c.call("call", json!({"number": "9902"})).await;
        if code != StatusCode::OK {
            return Err(format!("door call {i}: {s}"));
        }
        tests::until_call_phase(c, "Talking").await?;
        c.call("hang_up", json!({})).await;
        tests::until_call_phase(c, "Idle").await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let run = monitor.await.map_err(|e| e.to_string())?;
    if !run.passed {
        return Err(format!("the door's monitor: {}", run.output));
    }
    Ok(f64::from(calls) / secs)
}

/// Kamailio proxying `calls` calls one after another between two sipp
/// devices registered there.
async fn kamailio_calls_per_s(calls: u32) -> Res<f64> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = tests::free_port();
    let log = dir.path().join("kamailio.log");
    let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let run = dir.path().to_str().unwrap_or("/tmp").to_string();
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/kamailio/kamailio.cfg");
    let _kamailio = tests::ProcessGroup::spawn(
        tokio::process::Command::new("kamailio")
            .args(["-f", cfg, "-DD", "-E", "-n", "4", "-m", "256", "-M", "8"])
            .args(["-Y", &run, "-w", &run])
            .args(["-l", &format!("udp:127.0.0.1:{port}")])
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file),
    )
    .map_err(|e| format!("kamailio (apt install kamailio): {e}"))?;
    let ready = format!("udp: 127.0.0.1 [127.0.0.1]:{port}");
    let mut up = false;
    for _ in 0..100 {
        if std::fs::read_to_string(&log).is_ok_and(|l| l.contains(&ready)) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if !up {
        return Err("kamailio did not start".into());
    }
    // Its workers fork after the listening line.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = SocketAddr::from(([127, 0, 0, 1], port));
    let (callee_port, caller_port) = (tests::free_port(), tests::free_port());
    register(server, "9902#0", callee_port).await?;
    register(server, "9901#0", caller_port).await?;
    let monitor = Sipp::new("bench-callee.xml", server, "9902#0")
        .port(callee_port)
        .calls(calls)
        .limit(calls)
        .args(&["-rtp_echo"])
        .spawn();
    tests::wait_bound(callee_port, false).await;
    let started = Instant::now();
    let caller = Sipp::new("bench-caller.xml", server, "9901#0")
        .port(caller_port)
        .fields(&["9902"])
        .calls(calls)
        .args(&["-r", "10000"])
        .run()
        .await;
    let secs = started.elapsed().as_secs_f64();
    if !caller.passed {
        return Err(format!("the caller through Kamailio: {}", caller.output));
    }
    let run = monitor.await.map_err(|e| e.to_string())?;
    if !run.passed {
        return Err(format!("the monitor behind Kamailio: {}", run.output));
    }
    Ok(f64::from(calls) / secs)
}
