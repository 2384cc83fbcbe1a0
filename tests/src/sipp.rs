//! sipp (Debian's `sip-tester`) as a real SIP peer: runs one scenario of
//! `peers/sipp/` against the device and says whether every call passed.

use std::{net::SocketAddr, time::Duration};

use tokio::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/sipp");

pub struct Run {
    pub passed: bool,
    pub output: String,
}

/// `scenario` (a file name in `peers/sipp/`) as SIP user `user` (the
/// digest user, e.g. `9901#0`) with `password`, `calls` times, over UDP or
/// TCP.
pub async fn run(
    scenario: &str,
    target: SocketAddr,
    tcp: bool,
    user: &str,
    password: &str,
    calls: u32,
) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = dir.path().join("users.csv");
    // The URI form of the user: '#' escaped.
    std::fs::write(
        &users,
        format!("SEQUENTIAL\n{};\n", user.replace('#', "%23")),
    )
    .expect("users file");
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new("sipp")
            .arg(target.to_string())
            .args(["-sf", &format!("{DIR}/{scenario}")])
            .arg("-inf")
            .arg(&users)
            .args(["-au", user, "-ap", password])
            .args(["-m", &calls.to_string(), "-l", "1"])
            .args(["-t", if tcp { "t1" } else { "u1" }])
            .args(["-i", "127.0.0.1", "-p", &crate::free_port().to_string()])
            .args([
                "-nd",
                "-timeout",
                "20s",
                "-timeout_error",
                "-max_retrans",
                "3",
            ])
            .arg("-nostdin")
            .current_dir(dir.path())
            .output(),
    )
    .await
    .expect("sipp ends within 60 s")
    .expect("run sipp (apt install sip-tester)");
    Run {
        passed: out.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
