//! Boots the real `vto` binary (built by `.ci/build`) on `127.0.0.1:0` with a
//! temporary data dir, and talks to it over HTTP like the browser does.
//!
//! The binary is `$VTO_BIN`, or `target/release/vto` of this workspace (or
//! of `$CARGO_TARGET_DIR`).

#![allow(clippy::expect_used)] // test harness: a failed setup should stop the test loudly

pub mod baresip;
pub mod bench;
pub mod dahua;
pub mod dhip;
pub mod ntp;
pub mod onvif;
pub mod process;
pub mod rtsp;
pub mod sipp;
pub mod smtp;
pub mod viewer;
pub mod webhook;

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::{header, redirect::Policy, StatusCode};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader},
    process::Command,
};

pub use process::ProcessGroup;

/// A test peer's output after its first line.
pub type PeerLines = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

/// Starts a test peer (`what`, for messages) that prints `<ready> PORT`
/// once it listens: the child (its process group killed when dropped), the
/// port, and the rest of its output.
pub async fn start_peer(
    mut cmd: Command,
    what: &str,
    ready: &str,
) -> (ProcessGroup, u16, PeerLines) {
    let mut child = ProcessGroup::spawn(cmd.stdout(Stdio::piped()))
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{what} starts within 20 s"))
        .expect("read")
        .unwrap_or_else(|| panic!("{what} printed nothing"));
    let port = first
        .strip_prefix(ready)
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected output of {what}: {first}"));
    (child, port, lines)
}

pub const STRONG: &str = "Door-Bell7x";
pub const STRONG2: &str = "Gate#Keeper42";

pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("VTO_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("release/vto");
    assert!(
        bin.is_file(),
        "{} is missing: build it with .ci/build (or set VTO_BIN)",
        bin.display()
    );
    bin
}

/// A running vto process.
pub struct Vto {
    /// In a process group of its own, killed with it when dropped.
    pub child: ProcessGroup,
    pub url: String,
    /// Where its SIP server listens (UDP and TCP).
    pub sip: Option<std::net::SocketAddr>,
    /// Where it serves DHIP (TCP).
    pub dhip: Option<std::net::SocketAddr>,
    /// Where it serves RTSP (TCP).
    pub rtsp: Option<std::net::SocketAddr>,
    /// Where it answers WS-Discovery (UDP).
    pub discovery: Option<std::net::SocketAddr>,
    pub data_dir: PathBuf,
    logs: Arc<Mutex<String>>,
    _tmp: Option<tempfile::TempDir>,
}

impl Vto {
    /// A fresh device.
    pub async fn start() -> Vto {
        Self::start_with(&[]).await
    }

    pub async fn start_with(args: &[&str]) -> Vto {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("data");
        let mut vto = Self::start_in(&dir, args).await.expect("vto starts");
        vto._tmp = Some(tmp);
        vto
    }

    /// A fresh device with these environment variables set (e.g. `HOME`,
    /// where ALSA reads a test's `.asoundrc`).
    pub async fn start_with_env(args: &[&str], envs: &[(&str, &Path)]) -> Vto {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("data");
        let mut vto = Self::start_in_env(&dir, args, envs)
            .await
            .expect("vto starts");
        vto._tmp = Some(tmp);
        vto
    }

    /// A device on an existing data dir (a restart).
    pub async fn start_in(dir: &Path, args: &[&str]) -> Result<Vto, String> {
        Self::start_in_env(dir, args, &[]).await
    }

    async fn start_in_env(
        dir: &Path,
        args: &[&str],
        envs: &[(&str, &Path)],
    ) -> Result<Vto, String> {
        let mut cmd = Command::new(binary());
        for (name, value) in envs {
            cmd.env(name, value);
        }
        cmd.arg("--data-dir")
            .arg(dir)
            .args(["--http", "127.0.0.1:0"]);
        // Tests run side by side: never the default SIP port.
        if !args.contains(&"--sip") {
            cmd.args(["--sip", "127.0.0.1:0"]);
        }
        if !args.contains(&"--dhip") {
            cmd.args(["--dhip", "127.0.0.1:0"]);
        }
        if !args.contains(&"--rtsp") {
            cmd.args(["--rtsp", "127.0.0.1:0"]);
        }
        if !args.contains(&"--discovery") {
            cmd.args(["--discovery", "127.0.0.1:0"]);
        }
        let mut child =
            ProcessGroup::spawn(cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()))
                .map_err(|e| format!("spawn vto: {e}"))?;
        let logs = Arc::new(Mutex::new(String::new()));
        let mut stderr_done = None;
        if let Some(mut err) = child.stderr.take() {
            let logs = logs.clone();
            stderr_done = Some(tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut l) = logs.lock() {
                        l.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            }));
        }
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let (mut sip, mut dhip, mut rtsp, mut discovery) = (None, None, None, None);
        let url = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = line.strip_prefix("vto sip on ") {
                    sip = addr.parse().ok();
                }
                if let Some(addr) = line.strip_prefix("vto dhip on ") {
                    dhip = addr.parse().ok();
                }
                if let Some(addr) = line.strip_prefix("vto rtsp on ") {
                    rtsp = addr.parse().ok();
                }
                if let Some(addr) = line.strip_prefix("vto discovery on ") {
                    discovery = addr.parse().ok();
                }
                if let Some(url) = line.strip_prefix("vto listening on ") {
                    return Some(url.to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let Some(url) = url else {
            // Gone (or silent for 20 s: ended here); its stderr is
            // complete once the pipe closes.
            child.kill_group().await;
            if let Some(done) = stderr_done {
                let _ = tokio::time::timeout(Duration::from_secs(5), done).await;
            }
            let logs = logs.lock().map(|l| l.clone()).unwrap_or_default();
            return Err(format!("vto did not start: {logs}"));
        };
        // Keep draining stdout (a reboot prints the line again).
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Vto {
            child,
            url,
            sip,
            dhip,
            rtsp,
            discovery,
            data_dir: dir.to_path_buf(),
            logs,
            _tmp: None,
        })
    }

    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn pid(&self) -> i32 {
        self.child.id().map(|p| p as i32).unwrap_or(0)
    }

    /// SIGTERM and wait.
    pub async fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }

    /// SIGKILL and wait: no chance to clean up.
    pub async fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait().await;
    }

    fn signal(&self, sig: i32) {
        let pid = self.pid();
        if pid > 0 {
            #[allow(unsafe_code)]
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, None)
    }

    /// Its boot id now (`setup_state`), if it answers (not while it
    /// restarts).
    pub async fn boot_id(&self) -> Option<Value> {
        let res = self
            .client()
            .http
            .post(format!("{}/api/setup_state", self.url))
            .header(header::ORIGIN, &self.url)
            .json(&json!({}))
            .send()
            .await
            .ok()?;
        let state: Value = res.json().await.ok()?;
        state["boot_id"]
            .is_number()
            .then(|| state["boot_id"].clone())
    }

    /// Until it answers with a boot id other than `before` (a reboot or a
    /// restart is over), at most 30 s.
    pub async fn wait_new_boot(&self, before: &Value) {
        let me = self;
        eventually_within("a new boot id", Duration::from_secs(30), || async move {
            me.boot_id().await.filter(|id| id != before)
        })
        .await;
    }

    /// A client whose connections come from `ip` (e.g. 127.0.0.2).
    pub fn client_from(&self, ip: &str) -> Client {
        Client::new(&self.url, ip.parse().ok())
    }

    /// Initializes with [`STRONG`] and returns a logged-in client.
    pub async fn ready(&self) -> Client {
        let c = self.client();
        let (s, b) = c
            .call("initialize", json!({"password": STRONG, "email": null}))
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, b) = c.login(STRONG).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        c
    }
}

/// An HTTP client that keeps the session cookie and sends the Origin a
/// browser on the device's own page would.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    cookie: Mutex<Option<String>>,
}

impl Client {
    fn new(base: &str, local: Option<IpAddr>) -> Self {
        Self::with_roots(base, local, &[])
    }

    /// A client for `base` that trusts only the PEM certificates in `roots`
    /// for HTTPS.
    pub fn with_roots(base: &str, local: Option<IpAddr>, roots: &[&str]) -> Self {
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .local_address(local)
            .timeout(Duration::from_secs(30));
        for pem in roots {
            builder = builder.add_root_certificate(
                reqwest::Certificate::from_pem(pem.as_bytes()).expect("PEM certificate"),
            );
        }
        Self {
            http: builder.build().expect("http client"),
            base: base.to_string(),
            cookie: Mutex::new(None),
        }
    }

    /// The same session at another address (after the device moved).
    pub fn moved_to(&self, base: &str, roots: &[&str]) -> Client {
        let c = Self::with_roots(base, None, roots);
        c.set_cookie(self.cookie());
        c
    }

    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().ok().and_then(|c| c.clone())
    }

    pub fn set_cookie(&self, value: Option<String>) {
        if let Ok(mut c) = self.cookie.lock() {
            *c = value;
        }
    }

    fn with_cookie(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.cookie() {
            Some(c) => rb.header(header::COOKIE, format!("vto_session={c}")),
            None => rb,
        }
    }

    /// A request to `path` with the session cookie, for endpoints that are
    /// not server functions.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.with_cookie(self.http.request(method, format!("{}{path}", self.base)))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.with_cookie(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET")
    }

    /// Calls server function `name` as the UI does.
    pub async fn call(&self, name: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .with_cookie(self.http.post(format!("{}/api/{name}", self.base)))
            .header(header::ORIGIN, &self.base)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = res.status();
        for v in res.headers().get_all(header::SET_COOKIE) {
            let v = v.to_str().unwrap_or_default();
            if let Some(rest) = v.strip_prefix("vto_session=") {
                let value = rest.split(';').next().unwrap_or_default();
                self.set_cookie((!value.is_empty()).then(|| value.to_string()));
            }
        }
        let text = res.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Until camera `source`'s `live_status` is `state`; returns it.
    pub async fn wait_camera(&self, source: &str, state: &str) -> Value {
        let mut last = Value::Null;
        for _ in 0..100 {
            let (code, status) = self.call("live_status", json!({ "source": source })).await;
            assert_eq!(code, StatusCode::OK, "{status}");
            if status["state"] == state {
                return status;
            }
            last = status;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{source} is not {state}: {last}");
    }

    pub async fn login(&self, password: &str) -> (StatusCode, Value) {
        self.login_as("admin", password).await
    }

    /// Logs in as `user` (this client then holds that account's session).
    pub async fn login_as(&self, user: &str, password: &str) -> (StatusCode, Value) {
        self.call("login", json!({"user": user, "password": password}))
            .await
    }
}

/// A room for `add_room`: Room No. `no`, a public register type.
/// Adds an account with `role` (`Operator`, `Viewer`, `Admin`) as `admin`.
pub async fn add_user(admin: &Client, user: &str, password: &str, role: &str) {
    let (code, body) = admin
        .call(
            "add_user",
            json!({"new": {"user": user, "password": password, "role": role}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

pub fn room(no: &str) -> Value {
    json!({"first_name": "Ada", "last_name": "Lovelace", "nick_name": "", "room_no": no, "register_type": "Public"})
}

/// How many monitors of room `no` are registered now.
pub async fn online(c: &Client, no: &str) -> u64 {
    let (code, page) = c.call("rooms", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{page}");
    page["rooms"]
        .as_array()
        .and_then(|rooms| rooms.iter().find(|r| r["room"]["room_no"] == no))
        .and_then(|r| r["online"].as_u64())
        .unwrap_or_else(|| panic!("no room {no}: {page}"))
}

/// The unlock log's first page (`filter` as the page sends it) once
/// `ready` holds for it: the device answers an unlock when the relay
/// moves and writes its record just after.
pub async fn unlock_log_when(c: &Client, filter: Value, ready: impl Fn(&Value) -> bool) -> Value {
    let (filter, ready) = (&filter, &ready);
    eventually("the unlock log's records", || async move {
        let (code, page) = c
            .call("unlock_log", json!({"offset": 0, "filter": filter}))
            .await;
        assert_eq!(code, StatusCode::OK, "{page}");
        ready(&page).then_some(page)
    })
    .await
}

/// Until the door's call is in `phase` (`call_status` long polls), 20 s at
/// most; the error says which phase was not reached.
pub async fn until_call_phase(c: &Client, phase: &str) -> Result<(), String> {
    let wait = async {
        let mut seen = u64::MAX;
        loop {
            let (_, s) = c.call("call_status", json!({"seen": seen})).await;
            if s["phase"] == phase {
                return;
            }
            seen = s["version"].as_u64().unwrap_or(u64::MAX);
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .map_err(|_| format!("the call did not reach {phase} within 20 s"))
}

/// Polls `check` every 100 ms until it gives a value; panics naming
/// `what` after 15 s. For what the device does just after it answers.
pub async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(what, Duration::from_secs(15), check).await
}

/// Polls `check` every 100 ms until it gives a value; panics naming
/// `what` once `timeout` has passed. A check is always made after the
/// deadline's last sleep, so a slow check cannot shorten the wait.
pub async fn eventually_within<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = std::time::Instant::now() + timeout;
    loop {
        let last_try = std::time::Instant::now() >= until;
        if let Some(v) = check().await {
            return v;
        }
        if last_try {
            panic!("{what}: not within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether something is bound to loopback (127.0.0.1 or ::1) port `port`
/// (UDP, or a TCP listener), read from /proc/net without touching the port
/// (a probe bind could take it from the peer about to bind it).
pub fn bound(port: u16, tcp: bool) -> bool {
    let (files, listen) = if tcp {
        (["/proc/net/tcp", "/proc/net/tcp6"], Some("0A"))
    } else {
        (["/proc/net/udp", "/proc/net/udp6"], None)
    };
    // As the kernel prints them: 32-bit words in host byte order.
    let wanted = [
        format!("0100007F:{port:04X}"),
        format!("00000000000000000000000001000000:{port:04X}"),
    ];
    files.iter().any(|file| {
        std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .any(|l| {
                let mut f = l.split_whitespace();
                let local = f.nth(1).unwrap_or_default();
                let state = f.nth(1);
                wanted.iter().any(|w| w == local) && listen.is_none_or(|s| state == Some(s))
            })
    })
}

/// Until a peer (sipp waiting for a call) is bound to loopback `port`.
pub async fn wait_bound(port: u16, tcp: bool) {
    let what = format!(
        "a peer bound to loopback port {port}/{}",
        if tcp { "tcp" } else { "udp" }
    );
    eventually_within(&what, Duration::from_secs(10), || async move {
        bound(port, tcp).then_some(())
    })
    .await
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Whether `haystack` contains `needle` anywhere (for secret scans).
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`, read whole.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(b) = std::fs::read(&p) {
                out.push((p, b));
            }
        }
    }
    out
}

/// Width and height from a JPEG's SOF0/SOF2 segment.
pub fn jpeg_size(b: &[u8]) -> Option<(u16, u16)> {
    if !b.starts_with(&[0xFF, 0xD8]) || !b.ends_with(&[0xFF, 0xD9]) {
        return None;
    }
    let mut i = 2;
    while i + 9 < b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if matches!(marker, 0xC0 | 0xC2) {
            let h = u16::from_be_bytes([b[i + 5], b[i + 6]]);
            let w = u16::from_be_bytes([b[i + 7], b[i + 8]]);
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// The TOTP code of a base32 secret now (SHA-1, 6 digits, 30 s).
pub fn totp_now(secret_b32: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).expect("base32 secret");
    let totp = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .with_account_name("admin")
        .build()
        .expect("TOTP");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    totp.generate(now).to_string()
}
