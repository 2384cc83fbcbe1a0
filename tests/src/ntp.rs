//! A real NTP server for the tests: Debian's chronyd on a free loopback
//! port, serving the host's own time (`local stratum 8`) and never touching
//! the host's clock (`-x`).

use std::{path::PathBuf, process::Stdio, time::Duration};

use tokio::process::Command;

use crate::ProcessGroup;

pub struct NtpServer {
    pub port: u16,
    _child: ProcessGroup,
    _tmp: tempfile::TempDir,
}

const CHRONYD: &str = "/usr/sbin/chronyd";

impl NtpServer {
    pub async fn start() -> NtpServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir: PathBuf = tmp.path().to_path_buf();
        // A free port: bound, read, released just before chronyd takes it.
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("free UDP port")
            .port();
        let conf = dir.join("chrony.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 8\n\
                 cmdport 0\ndriftfile {d}/drift\npidfile {d}/chronyd.pid\n",
                d = dir.display()
            ),
        )
        .expect("chrony.conf");
        let mut cmd = Command::new(CHRONYD);
        cmd.arg("-f").arg(&conf).args(["-x", "-d"]);
        // As root it would switch to the _chrony user, who cannot read the
        // temp dir: stay root.
        #[allow(unsafe_code)]
        // SAFETY: getuid has no preconditions.
        let root = unsafe { libc::getuid() } == 0;
        if root {
            cmd.args(["-u", "root"]);
        }
        let child = ProcessGroup::spawn(cmd.stdout(Stdio::null()).stderr(Stdio::null()))
            .expect("start /usr/sbin/chronyd (apt install chrony)");
        let server = NtpServer {
            port,
            _child: child,
            _tmp: tmp,
        };
        server.wait_ready().await;
        server
    }

    /// Until chronyd answers a client request.
    async fn wait_ready(&self) {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("udp");
        let mut request = [0u8; 48];
        request[0] = 0x23; // version 4, client mode
        for _ in 0..100 {
            let _ = socket.send_to(&request, ("127.0.0.1", self.port)).await;
            let mut buf = [0u8; 128];
            if let Ok(Ok((n, _))) =
                tokio::time::timeout(Duration::from_millis(100), socket.recv_from(&mut buf)).await
            {
                if n >= 48 {
                    return;
                }
            }
        }
        panic!("chronyd does not answer on 127.0.0.1:{}", self.port);
    }
}
