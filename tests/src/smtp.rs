//! A real SMTP server for tests: Debian's aiosmtpd running
//! `tests/peers/smtp_sink.py` on a free loopback port, keeping every mail
//! it accepts as a file.

#![allow(clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::process::Command;

use crate::ProcessGroup;

/// How the sink's connections are protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    Plain,
    /// STARTTLS offered and required before MAIL.
    StartTls,
    /// TLS from the first byte.
    Tls,
}

pub struct SmtpSink {
    pub port: u16,
    /// The certificate (PEM) clients must trust for TLS.
    pub ca_pem: Option<PathBuf>,
    mail_dir: PathBuf,
    _child: ProcessGroup,
    _tmp: tempfile::TempDir,
}

#[derive(Default)]
pub struct Options<'a> {
    pub security: Option<Security>,
    /// Require AUTH with (user, password).
    pub auth: Option<(&'a str, &'a str)>,
    /// Answer DATA with this code instead of accepting.
    pub reject: Option<u16>,
}

/// Debian's Python: aiosmtpd comes from the `python3-aiosmtpd` package.
const PYTHON: &str = "/usr/bin/python3";

impl SmtpSink {
    pub async fn plain() -> SmtpSink {
        Self::start(Options::default()).await
    }

    pub async fn start(opts: Options<'_>) -> SmtpSink {
        let tmp = tempfile::tempdir().expect("temp dir");
        let mail_dir = tmp.path().join("mail");
        std::fs::create_dir(&mail_dir).expect("mail dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/smtp_sink.py");
        let mut cmd = Command::new(PYTHON);
        cmd.arg(&script).arg("--dir").arg(&mail_dir);
        let mut ca_pem = None;
        let security = opts.security.unwrap_or(Security::Plain);
        if security != Security::Plain {
            let (cert, key) = self_signed(tmp.path());
            cmd.arg(if security == Security::Tls {
                "--tls"
            } else {
                "--starttls"
            })
            .arg(&cert)
            .arg(&key);
            ca_pem = Some(cert);
        }
        if let Some((user, pass)) = opts.auth {
            cmd.arg("--auth").arg(format!("{user}:{pass}"));
        }
        if let Some(code) = opts.reject {
            cmd.arg("--reject").arg(code.to_string());
        }
        cmd.stdin(Stdio::piped());
        let (child, port, _) = crate::start_peer(
            cmd,
            "the SMTP sink (apt install python3-aiosmtpd)",
            "listening ",
        )
        .await;
        SmtpSink {
            port,
            ca_pem,
            mail_dir,
            _child: child,
            _tmp: tmp,
        }
    }

    /// Every mail received so far, oldest first, as raw text.
    pub fn mails(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.mail_dir)
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits until `n` mails have arrived and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} mails, got {}", self.mails().len());
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost: (cert, key) files.
pub(crate) fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let cert = dir.join("sink.crt");
    let key = dir.join("sink.key");
    std::fs::write(&cert, ck.cert.pem()).expect("write cert");
    std::fs::write(&key, ck.signing_key.serialize_pem()).expect("write key");
    (cert, key)
}

/// The security code in a mail body (`Security code: XXXX-XXXX-XX`), without
/// dashes.
pub fn security_code(mail: &str) -> Option<String> {
    let line = mail.lines().find(|l| l.contains("Security code:"))?;
    let code: String = line
        .split("Security code:")
        .nth(1)?
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    (!code.is_empty()).then_some(code)
}
