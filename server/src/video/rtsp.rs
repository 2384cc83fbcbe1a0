//! RTSP ingest (retina): one session per source however many consume it,
//! H.264 passed through as Annex B access units (no transcoding). retina
//! has no reconnect of its own: when a session fails it is dropped, and a
//! new one is described after a backoff; consumers stay subscribed and go
//! on from the next key frame. Errors become the source's status, in words
//! an installer can act on.

use std::{fmt, sync::Arc, time::Duration};

use app::model::live::SourceState;
use futures_util::StreamExt;
use retina::{
    client::{
        Credentials, PlayOptions, Session, SessionOptions, SetupOptions, TcpTransportOptions,
        Transport, UdpTransportOptions,
    },
    codec::{CodecItem, FrameFormat, ParametersRef},
};
use tokio::time::timeout;
use url::Url;

use super::{
    g711,
    hub::Frame,
    onvif::{self, OnvifConfig, OnvifError},
    IdleTimer, Source,
};

/// The longest wait for each RTSP request (DESCRIBE, SETUP, PLAY).
const REQUEST_WAIT: Duration = Duration::from_secs(10);
/// A playing stream that sends nothing for this long is dead.
const STALL: Duration = Duration::from_secs(10);
/// After a failure, the next try waits 1 s, 2 s, 4 s ... up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A stream that played this long resets the backoff.
const STABLE: Duration = Duration::from_secs(30);

/// Where and how to fetch a camera's stream.
#[derive(Clone, PartialEq, Eq)]
pub struct RtspConfig {
    /// `rtsp://host[:port]/path?query`, without credentials.
    pub url: Url,
    pub user: String,
    pub password: String,
    /// UDP instead of TCP interleaved (retina: experimental, LAN only).
    pub udp: bool,
    /// Relay the camera's G.711 audio.
    pub audio: bool,
}

// The password must never reach a log line.
impl fmt::Debug for RtspConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtspConfig")
            .field("url", &self.url.as_str())
            .field("user", &self.user)
            .field("udp", &self.udp)
            .field("audio", &self.audio)
            .finish_non_exhaustive()
    }
}

/// Where a source's RTSP address comes from.
#[derive(Debug)]
pub enum Target {
    /// Typed in.
    Fixed(RtspConfig),
    /// Asked of the camera over ONVIF before each session.
    Onvif(OnvifConfig),
}

impl Target {
    /// For log lines (no password).
    fn label(&self) -> String {
        match self {
            Self::Fixed(c) => c.url.to_string(),
            Self::Onvif(c) => format!("onvif {}", c.base()),
        }
    }

    async fn config(&self) -> Result<std::borrow::Cow<'_, RtspConfig>, Failure> {
        match self {
            Self::Fixed(c) => Ok(std::borrow::Cow::Borrowed(c)),
            Self::Onvif(c) => match onvif::resolve(c).await {
                Ok(config) => Ok(std::borrow::Cow::Owned(config)),
                Err(OnvifError::Refused(m)) => Err(Failure::Refused(m)),
                Err(OnvifError::Broken(m)) => Err(Failure::Broken(m)),
            },
        }
    }
}

/// Why a session ended.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// The camera cannot be used as set up: refused, or nothing playable.
    Refused(String),
    /// The connection failed or broke: worth retrying.
    Broken(String),
}

impl Failure {
    fn status(&self) -> (SourceState, &str) {
        match self {
            Self::Refused(m) => (SourceState::Error, m),
            Self::Broken(m) => (SourceState::Reconnecting, m),
        }
    }
}

/// retina's messages carry connection details on further lines: the first
/// line says what happened.
fn first_line(e: &retina::Error) -> String {
    e.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn classify(e: &retina::Error) -> Failure {
    match e.status_code() {
        Some(401) => Failure::Refused("the camera refused the user name or password".into()),
        Some(403) => Failure::Refused("the camera forbids this user to watch".into()),
        Some(404) => Failure::Refused("the camera has no stream at this address (404)".into()),
        Some(code) => Failure::Refused(format!("the camera answered {code}: {}", first_line(e))),
        None => Failure::Broken(first_line(e)),
    }
}

/// The wait before try number `failures + 1`.
fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.min(5)).min(MAX_BACKOFF)
}

/// Feeds `source` from the camera while anybody watches.
pub async fn run(source: Arc<Source>, target: Target) {
    let label = target.label();
    let mut failures = 0u32;
    loop {
        source.wait_for_consumers().await;
        if failures == 0 {
            source.set_status(SourceState::Connecting, "");
        }
        let started = crate::clock::monotonic();
        let played = match target.config().await {
            Ok(config) => play(&source, &config).await,
            Err(failure) => Err(failure),
        };
        match played {
            Ok(()) => {
                failures = 0;
                source.stopped();
                tracing::info!(camera = %label, "camera stream off: nobody watches");
            }
            Err(failure) => {
                if started.elapsed() >= STABLE {
                    failures = 0;
                }
                let (state, detail) = failure.status();
                tracing::warn!(camera = %label, error = detail, "camera stream");
                source.set_status(state, detail);
                // The next session starts from its own key frame.
                super::lock(&source.fanout).reset();
                tokio::time::sleep(backoff(failures)).await;
                failures = failures.saturating_add(1);
                if source.consumers() == 0 {
                    failures = 0;
                    source.stopped();
                }
            }
        }
    }
}

async fn request<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, retina::Error>>,
) -> Result<T, Failure> {
    match timeout(REQUEST_WAIT, f).await {
        Ok(r) => r.map_err(|e| classify(&e)),
        Err(_) => Err(Failure::Broken(format!(
            "the camera did not answer {what} within {} s",
            REQUEST_WAIT.as_secs()
        ))),
    }
}

/// One session: returns `Ok` when nobody watches any more.
async fn play(source: &Source, config: &RtspConfig) -> Result<(), Failure> {
    let creds = (!config.user.is_empty()).then(|| Credentials {
        username: config.user.clone(),
        password: config.password.clone(),
    });
    let options = SessionOptions::default()
        .creds(creds)
        .user_agent(format!("vto/{}", env!("CARGO_PKG_VERSION")));
    let mut session = request("DESCRIBE", Session::describe(config.url.clone(), options)).await?;
    let video = session
        .streams()
        .iter()
        .position(|s| s.media() == "video" && s.encoding_name() == "h264")
        .ok_or_else(|| {
            let offered: Vec<String> = session
                .streams()
                .iter()
                .map(|s| format!("{} {}", s.media(), s.encoding_name()))
                .collect();
            Failure::Refused(format!(
                "the camera sends no H.264 video (it offers: {})",
                if offered.is_empty() {
                    "nothing".to_string()
                } else {
                    offered.join(", ")
                }
            ))
        })?;
    // G.711 is relayed (A-law as μ-law); anything else is named, not fatal.
    let audio = session.streams().iter().position(|s| {
        config.audio
            && s.media() == "audio"
            && matches!(s.encoding_name(), "pcmu" | "pcma")
            && s.clock_rate_hz() == 8000
    });
    let audio_note = match audio {
        Some(i) if session.streams()[i].encoding_name() == "pcma" => {
            "G.711 A-law (relayed as μ-law)".to_string()
        }
        Some(_) => "G.711 μ-law".to_string(),
        None if !config.audio => String::new(),
        None => session
            .streams()
            .iter()
            .find(|s| s.media() == "audio")
            .map(|s| {
                format!(
                    "{} audio is not relayed (only G.711 is)",
                    s.encoding_name().to_uppercase()
                )
            })
            .unwrap_or_default(),
    };
    let alaw = audio.is_some_and(|i| session.streams()[i].encoding_name() == "pcma");
    let transport = if config.udp {
        Transport::Udp(UdpTransportOptions::default())
    } else {
        Transport::Tcp(TcpTransportOptions::default())
    };
    request(
        "SETUP",
        session.setup(
            video,
            SetupOptions::default()
                .transport(transport.clone())
                .frame_format(FrameFormat::SIMPLE),
        ),
    )
    .await?;
    if let Some(i) = audio {
        request(
            "SETUP",
            session.setup(i, SetupOptions::default().transport(transport)),
        )
        .await?;
    }
    let playing = request("PLAY", session.play(PlayOptions::default())).await?;
    let mut demuxed = playing.demuxed().map_err(|e| classify(&e))?;
    source.set_audio(&audio_note);
    let mut size = (0u16, 0u16);
    let mut idle = IdleTimer::default();
    loop {
        let item = match timeout(STALL, demuxed.next()).await {
            Err(_) => {
                return Err(Failure::Broken(format!(
                    "no data from the camera for {} s",
                    STALL.as_secs()
                )))
            }
            Ok(None) => return Err(Failure::Broken("the camera ended the stream".into())),
            Ok(Some(Err(e))) => return Err(classify(&e)),
            Ok(Some(Ok(item))) => item,
        };
        let frame = match item {
            CodecItem::VideoFrame(f) => f,
            CodecItem::AudioFrame(a) if Some(a.stream_id()) == audio => {
                let ts = a.timestamp();
                let data: Vec<u8> = if alaw {
                    a.data().iter().map(|&b| g711::alaw_to_ulaw(b)).collect()
                } else {
                    a.data().to_vec()
                };
                source.publish_audio(&Frame {
                    data: bytes::Bytes::from(data),
                    key: true,
                    pts_ms: ts.elapsed() * 1000 / i64::from(ts.clock_rate().get()),
                    width: 0,
                    height: 0,
                });
                continue;
            }
            _ => continue,
        };
        if frame.has_new_parameters() || size == (0, 0) {
            if let Some(ParametersRef::Video(p)) = demuxed.streams()[video].parameters() {
                let (w, h) = p.pixel_dimensions();
                size = (
                    u16::try_from(w).unwrap_or(u16::MAX),
                    u16::try_from(h).unwrap_or(u16::MAX),
                );
            }
        }
        let ts = frame.timestamp();
        let pts_ms = ts.elapsed() * 1000 / i64::from(ts.clock_rate().get());
        let key = frame.is_random_access_point();
        let left = source.publish(&Frame {
            data: bytes::Bytes::from(frame.into_data()),
            key,
            pts_ms,
            width: size.0,
            height: size.1,
        });
        if idle.expired(left, crate::clock::monotonic()) {
            return Ok(());
        }
    }
}

/// Checks a camera address as typed in the settings: `rtsp://`, a host, no
/// credentials (they have their own, write-only fields).
pub fn parse_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("Not a valid address: {e}"))?;
    if url.scheme() != "rtsp" {
        return Err("The address must start with rtsp://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("The address needs a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Put the user name and password in their own fields, not in the address".into(),
        );
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    use ::tests::rtsp::{Auth, Mode, RtspCamera, PASSWORD, USER};
    use tokio::sync::mpsc;

    fn config(camera: &RtspCamera, password: &str, udp: bool) -> Target {
        Target::Fixed(RtspConfig {
            url: parse_url(&camera.url()).unwrap_or_else(|e| panic!("{e}")),
            user: USER.into(),
            password: password.into(),
            udp,
            audio: true,
        })
    }

    async fn next_frame(rx: &mut mpsc::Receiver<Frame>) -> Frame {
        tokio::time::timeout(Duration::from_secs(15), rx.recv())
            .await
            .expect("a frame within 15 s")
            .expect("the source is open")
    }

    /// Until the status is `state`; returns its detail.
    async fn status_becomes(source: &Source, state: SourceState) -> String {
        let mut rx = source.watch_status();
        let status =
            tokio::time::timeout(Duration::from_secs(20), rx.wait_for(|s| s.state == state))
                .await
                .unwrap_or_else(|_| panic!("not {state:?} within 20 s: {:?}", source.status()))
                .expect("status")
                .clone();
        status.detail
    }

    #[tokio::test]
    async fn one_session_feeds_every_consumer_with_digest_auth() {
        let camera = RtspCamera::start(Mode::AudioVideo, Some(Auth::Digest)).await;
        let source = Source::new();
        let task = tokio::spawn(run(source.clone(), config(&camera, PASSWORD, false)));
        let mut consumers: Vec<_> = (0..3).map(|_| source.subscribe(64)).collect();
        for rx in &mut consumers {
            let first = next_frame(rx).await;
            // Each starts with a key frame it can decode, at the camera's size.
            assert!(first.key);
            assert_eq!((first.width, first.height), (640, 480));
            let (w, h, _) =
                super::super::snapshot::decode_rgb(&first.data).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((w, h), (640, 480));
            let second = next_frame(rx).await;
            assert!(
                second.pts_ms > first.pts_ms,
                "timestamps come from the camera"
            );
        }
        assert_eq!(camera.clients(), 1, "one RTSP session for three consumers");
        let status = source.status();
        assert_eq!(status.state, SourceState::Live);
        assert_eq!((status.width, status.height), (640, 480));
        task.abort();
    }

    #[tokio::test]
    async fn g711_audio_is_relayed_beside_the_video() {
        let camera = RtspCamera::start(Mode::AudioVideo, None).await;
        let source = Source::new();
        let task = tokio::spawn(run(source.clone(), config(&camera, "", false)));
        let mut audio = source.subscribe_audio(64);
        let mut video = source.subscribe(64);
        assert!(next_frame(&mut video).await.key);
        let a = next_frame(&mut audio).await;
        let b = next_frame(&mut audio).await;
        // 8 kHz μ-law: a byte a sample; the camera's own timing.
        assert!(
            !a.data.is_empty() && a.data.len() <= 8000,
            "{}",
            a.data.len()
        );
        assert!(b.pts_ms > a.pts_ms);
        // A 440 Hz tone, not silence (0xFF / 0x7F).
        assert!(b.data.iter().any(|&s| s != 0xFF && s != 0x7F));
        assert_eq!(source.status().audio, "G.711 μ-law");
        task.abort();
    }

    #[tokio::test]
    async fn basic_auth_over_udp() {
        let camera = RtspCamera::start(Mode::AudioVideo, Some(Auth::Basic)).await;
        let source = Source::new();
        let task = tokio::spawn(run(source.clone(), config(&camera, PASSWORD, true)));
        let mut rx = source.subscribe(64);
        assert!(next_frame(&mut rx).await.key);
        task.abort();
    }

    #[tokio::test]
    async fn a_wrong_password_is_reported_and_nothing_plays() {
        let camera = RtspCamera::start(Mode::AudioVideo, Some(Auth::Digest)).await;
        let source = Source::new();
        let task = tokio::spawn(run(source.clone(), config(&camera, "wrong", false)));
        let mut rx = source.subscribe(8);
        let detail = status_becomes(&source, SourceState::Error).await;
        assert_eq!(detail, "the camera refused the user name or password");
        assert!(rx.try_recv().is_err());
        task.abort();
    }

    #[tokio::test]
    async fn a_camera_without_h264_is_reported() {
        for (mode, offers) in [(Mode::AudioOnly, "audio pcmu"), (Mode::H265, "video h265")] {
            let camera = RtspCamera::start(mode, None).await;
            let source = Source::new();
            let task = tokio::spawn(run(source.clone(), config(&camera, "", false)));
            let _rx = source.subscribe(8);
            let detail = status_becomes(&source, SourceState::Error).await;
            assert_eq!(
                detail,
                format!("the camera sends no H.264 video (it offers: {offers})")
            );
            task.abort();
        }
    }

    #[tokio::test]
    async fn garbage_from_the_camera_is_a_status_not_a_crash() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s
                    .write_all(b"HTTP/1.0 200 OK\r\n\r\n\x00\xff garbage\r\n\r\n")
                    .await;
            }
        });
        let source = Source::new();
        let url =
            parse_url(&format!("rtsp://127.0.0.1:{port}/x")).unwrap_or_else(|e| panic!("{e}"));
        let task = tokio::spawn(run(
            source.clone(),
            Target::Fixed(RtspConfig {
                url,
                user: String::new(),
                password: String::new(),
                udp: false,
                audio: true,
            }),
        ));
        let _rx = source.subscribe(8);
        let detail = status_becomes(&source, SourceState::Reconnecting).await;
        assert!(!detail.is_empty());
        assert!(!task.is_finished(), "the ingest goes on retrying");
        task.abort();
    }

    #[tokio::test]
    async fn a_camera_that_comes_back_resumes_its_consumers() {
        let camera = RtspCamera::start(Mode::AudioVideo, None).await;
        let port = camera.port;
        let source = Source::new();
        let task = tokio::spawn(run(source.clone(), config(&camera, "", false)));
        let mut rx = source.subscribe(64);
        assert!(next_frame(&mut rx).await.key);
        camera.kill().await;
        status_becomes(&source, SourceState::Reconnecting).await;
        while rx.try_recv().is_ok() {}
        let camera = RtspCamera::start_on(port, Mode::AudioVideo, None).await;
        // The same consumer goes on, from a key frame of the new session.
        let frame = next_frame(&mut rx).await;
        assert!(frame.key);
        status_becomes(&source, SourceState::Live).await;
        assert_eq!(camera.clients(), 1);
        task.abort();
    }

    #[tokio::test]
    async fn the_session_ends_when_nobody_watches() {
        let camera = RtspCamera::start(Mode::AudioVideo, None).await;
        let source = Source::new();
        let task = tokio::spawn(run(source.clone(), config(&camera, "", false)));
        let mut rx = source.subscribe(64);
        next_frame(&mut rx).await;
        drop(rx);
        status_becomes(&source, SourceState::Idle).await;
        // And a new consumer starts a new session.
        let mut rx = source.subscribe(64);
        assert!(next_frame(&mut rx).await.key);
        assert_eq!(camera.clients(), 2);
        task.abort();
    }

    #[test]
    fn backoff_doubles_up_to_half_a_minute() {
        let waits: Vec<u64> = (0..8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn addresses_are_rtsp_without_credentials() {
        assert!(parse_url("rtsp://10.0.0.5:554/cam/realmonitor?channel=1&subtype=0").is_ok());
        assert!(parse_url(" rtsp://cam.local/stream ").is_ok());
        for bad in [
            "http://10.0.0.5/",
            "rtsp://admin:secret@10.0.0.5/",
            "rtsp:///path",
            "10.0.0.5",
            "",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_password_is_not_in_debug_output() {
        let config = RtspConfig {
            url: Url::parse("rtsp://10.0.0.5/").unwrap_or_else(|e| panic!("{e}")),
            user: "admin".into(),
            password: "s3cret-pass".into(),
            udp: false,
            audio: true,
        };
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
