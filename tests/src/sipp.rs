//! sipp (Debian's `sip-tester`) as a real SIP peer: runs one scenario of
//! `peers/sipp/` against the device and says whether every call passed.
//! A scenario's injection fields: `field0` the peer's own user (its AOR,
//! `#` escaped), then whatever [`Sipp::fields`] adds (the number to call).

use std::{net::SocketAddr, process::Stdio, time::Duration};

use tokio::{io::AsyncReadExt, process::Command};

use crate::ProcessGroup;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/sipp");

pub struct Run {
    pub passed: bool,
    pub output: String,
}

/// One sipp run, set up step by step.
pub struct Sipp {
    scenario: String,
    target: SocketAddr,
    tcp: bool,
    user: String,
    password: String,
    fields: Vec<String>,
    calls: u32,
    port: u16,
    /// Calls at once (`-l`).
    limit: u32,
    /// More sipp options (`-rtp_echo`, `-r 1000`).
    extra: Vec<String>,
    /// sipp's own global timeout (`-timeout`): how long the run may take.
    within: Duration,
}

impl Sipp {
    /// `scenario` (a file name in `peers/sipp/`) as SIP user `user` (the
    /// digest user, e.g. `9901#0`), once, over UDP, from a free port.
    pub fn new(scenario: &str, target: SocketAddr, user: &str) -> Self {
        Self {
            scenario: scenario.to_string(),
            target,
            tcp: false,
            user: user.to_string(),
            password: String::new(),
            fields: Vec::new(),
            calls: 1,
            port: crate::free_port(),
            limit: 1,
            extra: Vec::new(),
            within: Duration::from_secs(20),
        }
    }

    /// How long the run may take (default 20 s); sipp fails past it.
    pub fn within(mut self, within: Duration) -> Self {
        self.within = within;
        self
    }

    pub fn password(mut self, password: &str) -> Self {
        self.password = password.to_string();
        self
    }

    pub fn tcp(mut self, tcp: bool) -> Self {
        self.tcp = tcp;
        self
    }

    pub fn calls(mut self, calls: u32) -> Self {
        self.calls = calls;
        self
    }

    /// The local SIP port (a registered device keeps its port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Calls at once (default 1).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// More sipp options.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.extra = args.iter().map(|a| a.to_string()).collect();
        self
    }

    /// More injection fields after the user (`field1` ...).
    pub fn fields(mut self, fields: &[&str]) -> Self {
        self.fields = fields.iter().map(|f| f.to_string()).collect();
        self
    }

    pub async fn run(self) -> Run {
        let dir = tempfile::tempdir().expect("temp dir");
        let users = dir.path().join("users.csv");
        // The URI form of the user: '#' escaped.
        let mut line = vec![self.user.replace('#', "%23")];
        line.extend(self.fields.iter().map(|f| f.replace('#', "%23")));
        std::fs::write(&users, format!("SEQUENTIAL\n{};\n", line.join(";"))).expect("users file");
        let local = if self.target.is_ipv6() {
            "::1"
        } else {
            "127.0.0.1"
        };
        let mut cmd = Command::new("sipp");
        cmd.arg(self.target.to_string())
            .args(["-sf", &format!("{DIR}/{}", self.scenario)])
            .arg("-inf")
            .arg(&users);
        if !self.password.is_empty() {
            cmd.args(["-au", &self.user, "-ap", &self.password]);
        }
        cmd.args(["-m", &self.calls.to_string(), "-l", &self.limit.to_string()])
            .args(&self.extra)
            .args(["-t", if self.tcp { "t1" } else { "u1" }])
            .args(["-i", local, "-p", &self.port.to_string()])
            .args(["-nd", "-timeout", &format!("{}s", self.within.as_secs())])
            .args(["-timeout_error", "-max_retrans", "3"])
            .arg("-nostdin")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Its own process group, killed if the test ends before it does.
        let mut child = ProcessGroup::spawn(&mut cmd).expect("run sipp (apt install sip-tester)");
        let (mut stdout, mut stderr) = (
            child.stdout.take().expect("stdout"),
            child.stderr.take().expect("stderr"),
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        // sipp stops itself at `within`; this is for a sipp that hangs.
        let (status, _, _) = tokio::time::timeout(self.within + Duration::from_secs(40), async {
            tokio::join!(
                child.wait(),
                stdout.read_to_end(&mut out),
                stderr.read_to_end(&mut err)
            )
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "sipp ends within {:?}",
                self.within + Duration::from_secs(40)
            )
        });
        Run {
            passed: status.is_ok_and(|s| s.success()),
            output: format!(
                "{} as {}: {}{}",
                self.scenario,
                self.user,
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            ),
        }
    }

    /// Runs in the background (a callee waiting for its call).
    pub fn spawn(self) -> tokio::task::JoinHandle<Run> {
        tokio::spawn(self.run())
    }
}

/// `scenario` as `user` with `password`, `calls` times, over UDP or TCP.
pub async fn run(
    scenario: &str,
    target: SocketAddr,
    tcp: bool,
    user: &str,
    password: &str,
    calls: u32,
) -> Run {
    Sipp::new(scenario, target, user)
        .password(password)
        .tcp(tcp)
        .calls(calls)
        .run()
        .await
}

/// A count from sipp's final statistics screen ("Successful call", "Failed
/// call"): the cumulative column, the last number on its line.
pub fn count(output: &str, what: &str) -> u64 {
    output
        .lines()
        .filter(|l| l.trim_start().starts_with(what))
        .filter_map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .rfind(|w| !w.is_empty())?
                .parse()
                .ok()
        })
        .next_back()
        .unwrap_or(0)
}

/// A monitor of `user` (e.g. `9902#0`) that answers every call at once and
/// echoes its RTP (`bench-callee.xml`), registered first from its port;
/// it runs until `within` or until the handle is aborted.
pub async fn answering_monitor(
    target: SocketAddr,
    user: &str,
    password: &str,
    within: Duration,
) -> Result<tokio::task::JoinHandle<Run>, String> {
    answering_monitor_on(target, user, password, within, crate::free_port()).await
}

/// [`answering_monitor`] on `port`: the same contact again, so a monitor
/// that has run long re-registers (stop the last one on that port first;
/// `bench-register.xml` asks for 600 s).
pub async fn answering_monitor_on(
    target: SocketAddr,
    user: &str,
    password: &str,
    within: Duration,
    port: u16,
) -> Result<tokio::task::JoinHandle<Run>, String> {
    let reg = Sipp::new("bench-register.xml", target, user)
        .password(password)
        .port(port)
        .run()
        .await;
    if !reg.passed {
        return Err(format!("{user} did not register: {}", reg.output));
    }
    let monitor = Sipp::new("bench-callee.xml", target, user)
        .port(port)
        .calls(1_000_000)
        .limit(1_000_000)
        .within(within)
        .args(&["-rtp_echo"])
        .spawn();
    crate::wait_bound(port, false).await;
    Ok(monitor)
}
