//! A real HTTP(S) receiver of webhooks for tests: Debian's Python running
//! `tests/peers/webhook_sink.py` on a free loopback port, keeping every
//! request it receives as a file.

#![allow(clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use serde_json::Value;
use tokio::process::Command;

use crate::ProcessGroup;

#[derive(Default)]
pub struct Options {
    /// Answer the first N requests 503.
    pub fail: u32,
    /// Answer every request with this status.
    pub status: Option<u16>,
    /// HTTPS with a self-signed certificate (`ca_pem`).
    pub tls: bool,
    /// Check each request's signature with this secret.
    pub secret: Option<&'static str>,
}

pub struct WebhookSink {
    pub port: u16,
    /// The certificate (PEM) clients must trust for HTTPS.
    pub ca_pem: Option<PathBuf>,
    dir: PathBuf,
    _child: ProcessGroup,
    _tmp: tempfile::TempDir,
}

/// One request as received.
#[derive(Debug)]
pub struct Received {
    pub path: String,
    /// Lower-case names.
    pub headers: Value,
    pub body: String,
    pub json: Value,
    /// With `--secret`: whether X-Vto-Signature was right.
    pub signature_ok: Option<bool>,
}

impl WebhookSink {
    pub async fn start(opts: Options) -> WebhookSink {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("requests");
        std::fs::create_dir(&dir).expect("requests dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/webhook_sink.py");
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(&script).arg("--dir").arg(&dir);
        cmd.arg("--fail").arg(opts.fail.to_string());
        if let Some(s) = opts.status {
            cmd.arg("--status").arg(s.to_string());
        }
        if let Some(s) = opts.secret {
            cmd.arg("--secret").arg(s);
        }
        let mut ca_pem = None;
        if opts.tls {
            let (cert, key) = crate::smtp::self_signed(tmp.path());
            cmd.arg("--tls").arg(&cert).arg(&key);
            ca_pem = Some(cert);
        }
        cmd.stdin(Stdio::piped());
        let (child, port, _) = crate::start_peer(cmd, "the webhook sink", "listening ").await;
        WebhookSink {
            port,
            ca_pem,
            dir,
            _child: child,
            _tmp: tmp,
        }
    }

    /// `http(s)://127.0.0.1:PORT` and `path`.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|v| {
                let body = v["body"].as_str().unwrap_or_default().to_string();
                Received {
                    path: v["path"].as_str().unwrap_or_default().to_string(),
                    headers: v["headers"].clone(),
                    json: serde_json::from_str(&body).unwrap_or(Value::Null),
                    signature_ok: v["signature_ok"].as_bool(),
                    body,
                }
            })
            .collect()
    }

    /// Waits (up to `secs`) until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        let polls = secs * 20;
        for _ in 0..polls {
            let r = self.received();
            if r.len() >= n {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} webhook requests, got {}",
            self.received().len()
        );
    }
}
