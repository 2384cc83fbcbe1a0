//! baresip (Debian's `baresip-core`) as a real indoor monitor: registers
//! to the device with digest auth, plays a sine tone as its microphone,
//! records what it hears to a WAV file, and is driven over `ctrl_tcp`
//! (netstring JSON commands and events) like a phone's UI.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{tcp::OwnedWriteHalf, TcpStream},
    process::Command,
    sync::mpsc,
};

use crate::ProcessGroup;

const CONFIG: &str = include_str!("../peers/baresip/config");
/// Video for a monitor: H.264 decoded, nothing shown, the decoded picture
/// saved on request.
const VIDEO: &str = "module\t\t\tavcodec.so\nmodule\t\t\tfakevideo.so\nmodule\t\t\tsnapshot.so\n\
                     video_display\t\tfakevideo,nil\nvideo_source\t\tfakevideo,nil\n";

/// The sample rate of the tone and of the recorded audio (PCMU's).
pub const RATE: u32 = 8000;

/// A running baresip with one account.
pub struct Baresip {
    /// For messages: the SIP user (`9901#0`).
    pub user: String,
    /// Its process group, killed when this drops (after `Drop::drop`).
    _child: ProcessGroup,
    dir: tempfile::TempDir,
    output: Arc<Mutex<String>>,
    ctrl: OwnedWriteHalf,
    messages: mpsc::UnboundedReceiver<Value>,
    /// Events that arrived while waiting for something else.
    events: VecDeque<Value>,
    seen: Vec<String>,
    token: u32,
}

impl Baresip {
    /// Starts baresip as monitor `user` (the digest user, e.g. `9901#0`)
    /// with `password`, registering to `server`, its microphone a sine
    /// tone of `tone_hz`.
    pub async fn start(user: &str, password: &str, server: SocketAddr, tone_hz: f64) -> Baresip {
        Self::start_with(user, password, server, tone_hz, "").await
    }

    /// As [`Baresip::start`], and it takes video: H.264 decoded by
    /// libavcodec, its pictures saved on `snapshot_recv`.
    pub async fn start_with_video(
        user: &str,
        password: &str,
        server: SocketAddr,
        tone_hz: f64,
    ) -> Baresip {
        Self::start_with(user, password, server, tone_hz, VIDEO).await
    }

    async fn start_with(
        user: &str,
        password: &str,
        server: SocketAddr,
        tone_hz: f64,
        extra: &str,
    ) -> Baresip {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("received")).expect("received dir");
        std::fs::write(dir.path().join("tone.wav"), tone_wav(tone_hz, 10)).expect("tone");
        let ctrl_port = crate::free_port();
        let config = CONFIG
            .replace("@SIP_PORT@", &sip_port_pair().to_string())
            .replace("@CTRL_PORT@", &ctrl_port.to_string())
            .replace("@DIR@", &dir.path().display().to_string())
            + extra;
        std::fs::write(dir.path().join("config"), config).expect("config");
        // The URI user escapes '#'; baresip would send that escaped form as
        // the digest username too, so auth_user gives the plain one.
        // Registered once (no refresh during the test).
        std::fs::write(
            dir.path().join("accounts"),
            format!(
                "<sip:{}@{server}>;auth_user={user};auth_pass={password};regint=600\n",
                user.replace('#', "%23")
            ),
        )
        .expect("accounts");

        let mut child = ProcessGroup::spawn(
            Command::new("baresip")
                .arg("-f")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .expect("run baresip (apt install baresip-core)");
        let output = Arc::new(Mutex::new(String::new()));
        let pipes: [Box<dyn tokio::io::AsyncRead + Unpin + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        for mut pipe in pipes {
            let output = output.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut o) = output.lock() {
                        o.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }

        // ctrl_tcp listens once the modules are loaded.
        let mut stream = None;
        for _ in 0..100 {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", ctrl_port)).await {
                stream = Some(s);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let Some(stream) = stream else {
            panic!(
                "baresip {user}: no ctrl_tcp on {ctrl_port}: {}",
                output.lock().map(|o| o.clone()).unwrap_or_default()
            );
        };
        let (mut read, ctrl) = stream.into_split();
        let (tx, messages) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n) = read.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some((message, used)) = netstring(&buf) {
                    buf.drain(..used);
                    let value = serde_json::from_slice(&message).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(&message).into())
                    });
                    if tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        Baresip {
            user: user.to_string(),
            _child: child,
            dir,
            output,
            ctrl,
            messages,
            events: VecDeque::new(),
            seen: Vec::new(),
            token: 0,
        }
    }

    /// What baresip printed so far.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "baresip {}: {what}\nevents: {:?}\noutput:\n{}",
            self.user,
            self.seen,
            self.output()
        )
    }

    /// The next message from ctrl_tcp within `wait`, remembering events.
    async fn next(&mut self, wait: Duration, what: &str) -> Value {
        match tokio::time::timeout(wait, self.messages.recv()).await {
            Ok(Some(m)) => {
                if m["event"] == true {
                    self.seen.push(format!(
                        "{} {}",
                        m["type"].as_str().unwrap_or("?"),
                        m["param"].as_str().unwrap_or("")
                    ));
                }
                m
            }
            Ok(None) => self.fail(&format!("ctrl_tcp closed while waiting for {what}")),
            Err(_) => self.fail(&format!("no {what} in time")),
        }
    }

    /// Runs a menu command (`dial`, `accept`, `sndcode`, `hangup` ...) and
    /// returns its text; panics if baresip refuses it.
    pub async fn command(&mut self, command: &str, params: &str) -> String {
        self.token += 1;
        let token = self.token.to_string();
        let body = json!({"command": command, "params": params, "token": token}).to_string();
        let frame = format!("{}:{body},", body.len());
        if let Err(e) = self.ctrl.write_all(frame.as_bytes()).await {
            self.fail(&format!("send {command}: {e}"));
        }
        loop {
            let m = self
                .next(Duration::from_secs(10), &format!("an answer to {command}"))
                .await;
            if m["response"] == true && m["token"] == token.as_str() {
                if m["ok"] != true {
                    self.fail(&format!("{command} {params} refused: {m}"));
                }
                return m["data"].as_str().unwrap_or_default().to_string();
            }
            if m["event"] == true {
                self.events.push_back(m);
            }
        }
    }

    /// The first event of type `kind` (e.g. `CALL_ESTABLISHED`) not yet
    /// taken, waiting up to `secs` for it; events of other types stay for
    /// later (their order between two peers is not fixed).
    pub async fn event(&mut self, kind: &str, secs: u64) -> Value {
        if let Some(i) = self.events.iter().position(|m| m["type"] == kind) {
            if let Some(m) = self.events.remove(i) {
                return m;
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let m = self.next(left, kind).await;
            if m["event"] == true {
                if m["type"] == kind {
                    return m;
                }
                self.events.push_back(m);
            }
        }
    }

    /// A path in this monitor's own directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The audio this monitor received in its last call (mono samples at
    /// [`RATE`]), from the WAV file the `sndfile` filter wrote.
    pub fn received(&self) -> Vec<i16> {
        let dir = self.dir.path().join("received");
        let file: Option<PathBuf> = std::fs::read_dir(&dir)
            .expect("received dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .max();
        let Some(file) = file else {
            self.fail("recorded no received audio");
        };
        wav_samples(&std::fs::read(&file).expect("read WAV"))
            .unwrap_or_else(|| self.fail(&format!("{} is no 16-bit WAV", file.display())))
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        // A failed test shows what the peer saw.
        if std::thread::panicking() {
            eprintln!(
                "--- baresip {} (events {:?}) ---\n{}",
                self.user,
                self.seen,
                self.output()
            );
        }
        // The process group goes when `_child` drops, after this.
    }
}

/// A free port P for SIP (UDP and TCP) whose P+1 is free too: baresip
/// also listens for TLS there.
fn sip_port_pair() -> u16 {
    for _ in 0..100 {
        let port = crate::free_port();
        let Some(next) = port.checked_add(1) else {
            continue;
        };
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", next)).is_ok()
        {
            return port;
        }
    }
    panic!("no two free consecutive ports")
}

/// One netstring (`LEN:DATA,`) from the start of `buf`: the data and how
/// many bytes it took.
fn netstring(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let colon = buf.iter().position(|&b| b == b':')?;
    let len: usize = std::str::from_utf8(&buf[..colon]).ok()?.parse().ok()?;
    let end = colon + 1 + len;
    (buf.len() > end).then(|| (buf[colon + 1..end].to_vec(), end + 1))
}

/// A WAV file: `secs` of a sine tone at `hz`, mono 16-bit at [`RATE`].
pub fn tone_wav(hz: f64, secs: u32) -> Vec<u8> {
    let samples = RATE * secs;
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(RATE);
        // Well below full scale: PCMU keeps it clean.
        let s = (8000.0 * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16;
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

/// The samples of a 16-bit PCM WAV file (its `data` chunk, or all that
/// follows its header if the size was never filled in).
pub fn wav_samples(wav: &[u8]) -> Option<Vec<i16>> {
    if wav.get(..4)? != b"RIFF" || wav.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut i = 12;
    while i + 8 <= wav.len() {
        let id = &wav[i..i + 4];
        let len = u32::from_le_bytes(wav[i + 4..i + 8].try_into().ok()?) as usize;
        let body = i + 8;
        if id == b"fmt "
            && u16::from_le_bytes(wav.get(body + 14..body + 16)?.try_into().ok()?) != 16
        {
            return None;
        }
        if id == b"data" {
            let end = if len == 0 {
                wav.len()
            } else {
                (body + len).min(wav.len())
            };
            return Some(
                wav[body..end]
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            );
        }
        i = body + len + (len & 1);
    }
    None
}

/// The power of `hz` in `samples` (Goertzel), normalised by their count.
pub fn tone_power(samples: &[i16], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(RATE);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let n = samples.len().max(1) as f64;
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)
}

/// How many 20 ms frames of `samples` are not silence.
pub fn loud_frames(samples: &[i16]) -> usize {
    samples
        .chunks_exact((RATE / 50) as usize)
        .filter(|f| {
            let sum: f64 = f.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
            (sum / f.len() as f64).sqrt() > 1000.0
        })
        .count()
}
