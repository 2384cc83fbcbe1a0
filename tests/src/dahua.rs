//! Unmodified Dahua API clients from PyPI (python-amcrest, aiodahua) run
//! by `tests/peers/dahua_clients.py` in the venv that `.ci/lib.sh`
//! (`ensure_test_tools`) makes at `.venv-peers`; each prints JSON lines.

#![allow(clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

use crate::{PeerLines, ProcessGroup};

/// The venv's Python.
pub fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv-peers/bin/python");
    assert!(
        python.exists(),
        "{} missing: run .ci/test (ensure_test_tools makes the venv)",
        python.display()
    );
    python
}

/// A client running: its JSON lines as they come.
pub struct PyClient {
    _child: ProcessGroup,
    lines: PeerLines,
}

impl PyClient {
    /// `client` (`amcrest` | `aiodahua`) doing `action` against the device
    /// at `base` (`http://127.0.0.1:PORT`) as `user`.
    pub fn spawn(
        client: &str,
        action: &str,
        base: &str,
        user: &str,
        password: &str,
        n: usize,
    ) -> Self {
        let addr = base.trim_start_matches("http://");
        let (host, port) = addr.rsplit_once(':').expect("host:port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/dahua_clients.py");
        let mut cmd = Command::new(python());
        cmd.arg(script)
            .args([client, action, host, port, user, password, &n.to_string()])
            .stdout(Stdio::piped());
        let mut child = ProcessGroup::spawn(&mut cmd).expect("start the Python client");
        let stdout = child.stdout.take().expect("stdout");
        PyClient {
            _child: child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next line, within `secs`; `None` once the client exited.
    pub async fn next(&mut self, secs: u64) -> Option<Value> {
        let line = tokio::time::timeout(Duration::from_secs(secs), self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("no output from the Python client within {secs} s"))
            .expect("read")?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")))
    }
}

/// Runs `client` `action` to its end and returns its one result line.
pub async fn run(client: &str, action: &str, base: &str, user: &str, password: &str) -> Value {
    let mut c = PyClient::spawn(client, action, base, user, password, 1);
    c.next(60)
        .await
        .unwrap_or_else(|| panic!("{client} {action} printed nothing"))
}
