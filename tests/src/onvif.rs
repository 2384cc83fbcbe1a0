//! An ONVIF camera for the tests (`peers/onvif_server.py`): the recorded
//! answers of a real camera, its stream addresses pointing at a loopback
//! RTSP server, WS-Security checked as a camera checks it.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
};

use tokio::process::Command;

use crate::ProcessGroup;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/onvif_server.py");

pub struct OnvifCamera {
    pub port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    _child: ProcessGroup,
}

impl OnvifCamera {
    /// Answers for `user`/`password`, sends viewers to the RTSP server on
    /// `rtsp_port`; its clock is `skew_secs` off ours.
    pub async fn start(rtsp_port: u16, user: &str, password: &str, skew_secs: i64) -> OnvifCamera {
        let mut cmd = Command::new("python3");
        cmd.arg(SCRIPT)
            .args([
                "0",
                &rtsp_port.to_string(),
                user,
                password,
                &skew_secs.to_string(),
            ])
            .stderr(Stdio::inherit());
        let (child, port, mut lines) = crate::start_peer(cmd, "the ONVIF camera", "ready ").await;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                log.lock().unwrap_or_else(|p| p.into_inner()).push(line);
            }
        });
        OnvifCamera {
            port,
            requests,
            _child: child,
        }
    }

    /// What it answered ("GetProfiles", "GetStreamUri 1") or refused
    /// ("refused GetProfiles"), in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
