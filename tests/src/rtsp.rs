//! A real RTSP camera for the tests: GStreamer's RTSP server
//! (`peers/rtsp_server.py`, run with Debian's /usr/bin/python3) on a
//! loopback port, serving `/cam/realmonitor` like a Dahua camera.

use std::{
    process::Stdio,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use tokio::process::Command;

use crate::ProcessGroup;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers/rtsp_server.py");

/// What the camera sends.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// H.264 640x480 at 25 fps and PCMU.
    AudioVideo,
    /// PCMU only: no picture.
    AudioOnly,
    /// H.265 only: a codec the device does not relay.
    H265,
}

/// How the camera asks for credentials.
#[derive(Clone, Copy, Debug)]
pub enum Auth {
    Basic,
    Digest,
}

pub struct RtspCamera {
    pub port: u16,
    clients: Arc<AtomicUsize>,
    child: ProcessGroup,
}

pub const USER: &str = "admin";
pub const PASSWORD: &str = "cam-pass-1";

impl RtspCamera {
    pub async fn start(mode: Mode, auth: Option<Auth>) -> RtspCamera {
        Self::start_on(0, mode, auth).await
    }

    /// On `port` (0: any free one), e.g. to come back where a killed one was.
    pub async fn start_on(port: u16, mode: Mode, auth: Option<Auth>) -> RtspCamera {
        let mode_arg = match mode {
            Mode::AudioVideo => "av",
            Mode::AudioOnly => "audio",
            Mode::H265 => "h265",
        };
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg(SCRIPT).arg(port.to_string()).arg(mode_arg);
        match auth {
            Some(Auth::Basic) => cmd.args(["basic", USER, PASSWORD]),
            Some(Auth::Digest) => cmd.args(["digest", USER, PASSWORD]),
            None => &mut cmd,
        };
        cmd.stderr(Stdio::null());
        let (child, port, mut lines) = crate::start_peer(
            cmd,
            "the GStreamer RTSP server (apt install gir1.2-gst-rtsp-server-1.0)",
            "ready ",
        )
        .await;
        let clients = Arc::new(AtomicUsize::new(0));
        let counter = clients.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "client" {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        RtspCamera {
            port,
            clients,
            child,
        }
    }

    /// `rtsp://127.0.0.1:PORT/cam/realmonitor?channel=1&subtype=0`.
    pub fn url(&self) -> String {
        format!(
            "rtsp://127.0.0.1:{}/cam/realmonitor?channel=1&subtype=0",
            self.port
        )
    }

    /// RTSP connections made to it so far.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::SeqCst)
    }

    /// Kills it as a power cut would.
    pub async fn kill(mut self) {
        self.child.kill_group().await;
    }
}

/// A retina client (the Rust RTSP client, as in Moonfire NVR) playing the
/// H.264 track of `url`: DESCRIBE (Digest with `creds`), SETUP over UDP or
/// TCP interleaved, PLAY. Also the size the SDP's SPS announces.
pub async fn retina_play(
    url: url::Url,
    creds: Option<retina::client::Credentials>,
    udp: bool,
) -> Result<(retina::client::Session<retina::client::Playing>, (u32, u32)), String> {
    use retina::{
        client::{
            PlayOptions, Session, SessionOptions, SetupOptions, TcpTransportOptions, Transport,
            UdpTransportOptions,
        },
        codec::ParametersRef,
    };
    let mut session = Session::describe(url, SessionOptions::default().creds(creds))
        .await
        .map_err(|e| format!("DESCRIBE: {e}"))?;
    let video = session
        .streams()
        .iter()
        .position(|s| s.media() == "video" && s.encoding_name() == "h264")
        .ok_or("no H.264 track")?;
    let size = match session.streams()[video].parameters() {
        Some(ParametersRef::Video(v)) => v.pixel_dimensions(),
        _ => (0, 0),
    };
    let transport = if udp {
        Transport::Udp(UdpTransportOptions::default())
    } else {
        Transport::Tcp(TcpTransportOptions::default())
    };
    session
        .setup(video, SetupOptions::default().transport(transport))
        .await
        .map_err(|e| format!("SETUP: {e}"))?;
    let playing = session
        .play(PlayOptions::default())
        .await
        .map_err(|e| format!("PLAY: {e}"))?;
    Ok((playing, size))
}
