//! Live view over WebRTC (webrtc-rs 0.17): the browser offers, the device
//! answers (non-trickle: the answer carries the device's host candidates),
//! and a task feeds the source's H.264 frames to the browser without
//! transcoding. Each viewer is one subscriber of the source's hub; a
//! viewer that ends or vanishes frees its peer connection and its task.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::mpsc;
use webrtc::{
    api::{
        interceptor_registry::register_default_interceptors, media_engine::MediaEngine,
        setting_engine::SettingEngine, APIBuilder, API,
    },
    ice::udp_network::{EphemeralUDP, UDPNetwork},
    interceptor::registry::Registry,
    media::Sample,
    peer_connection::{
        configuration::RTCConfiguration, peer_connection_state::RTCPeerConnectionState,
        sdp::session_description::RTCSessionDescription, RTCPeerConnection,
    },
    rtp_transceiver::rtp_codec::{RTCRtpCodecCapability, RTPCodecType},
    track::track_local::{track_local_static_sample::TrackLocalStaticSample, TrackLocal},
};

use super::{hub::Frame, Source};

/// What a browser answering a door call says: its G.711 payloads (20 ms
/// each), in its law, for the door's speaker; then that it is gone.
#[derive(Debug)]
pub enum Talk {
    Voice(media::g711::Law, bytes::Bytes),
    /// Its connection ended (closed, failed, never connected).
    Gone,
}

pub type Voice = mpsc::Sender<Talk>;

/// Viewers at once by default, all sources together: each costs a peer
/// connection and a queue (`--max-viewers`).
pub const MAX_VIEWERS: usize = 16;

/// How live viewers reach the device, and how many may watch at once.
#[derive(Clone, Copy, Debug)]
pub struct LiveConfig {
    /// The range ICE takes its UDP ports from, so a firewall can be opened
    /// for it.
    pub udp_ports: (u16, u16),
    pub max_viewers: usize,
}
/// Frames a viewer may fall behind before it skips to the next key frame.
const QUEUE: usize = 50;
/// Audio frames (20 ms each) a viewer may fall behind.
const AUDIO_QUEUE: usize = 50;
/// How long the answer waits for the device's own candidates.
const GATHER_WAIT: Duration = Duration::from_secs(5);
/// A viewer that has not connected by then is dropped.
const CONNECT_WAIT: Duration = Duration::from_secs(30);

pub struct Live {
    api: API,
    viewers: Mutex<HashMap<String, Arc<RTCPeerConnection>>>,
    /// Places held by offers being answered (see [`Slot`]).
    pending: Mutex<usize>,
    max_viewers: usize,
}

fn random_id() -> Result<String, String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| e.to_string())?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

impl Live {
    pub fn new(config: LiveConfig) -> Result<Self, String> {
        let udp_ports = config.udp_ports;
        let mut media = MediaEngine::default();
        media
            .register_default_codecs()
            .map_err(|e| format!("WebRTC codecs: {e}"))?;
        let registry = register_default_interceptors(Registry::new(), &mut media)
            .map_err(|e| format!("WebRTC interceptors: {e}"))?;
        let mut settings = SettingEngine::default();
        // A door station is reached on its LAN address, and tests run on
        // loopback: both are host candidates here.
        settings.set_include_loopback_candidate(true);
        settings.set_udp_network(UDPNetwork::Ephemeral(
            EphemeralUDP::new(udp_ports.0, udp_ports.1)
                .map_err(|e| format!("WebRTC UDP ports: {e}"))?,
        ));
        let api = APIBuilder::new()
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .build();
        Ok(Self {
            api,
            viewers: Mutex::new(HashMap::new()),
            pending: Mutex::new(0),
            max_viewers: config.max_viewers,
        })
    }

    fn viewers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<RTCPeerConnection>>> {
        self.viewers.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn count(&self) -> usize {
        self.viewers().len()
    }

    /// Viewers being set up (their offer not answered yet).
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        *self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers a browser's offer for `source`: (viewer id, answer SDP).
    pub async fn offer(
        self: &Arc<Self>,
        source: Arc<Source>,
        offer_sdp: String,
    ) -> Result<(String, String), String> {
        self.connect(source, offer_sdp, None).await
    }

    /// Answers a browser that answers a door call: it watches and hears
    /// `source` like a viewer, and what its microphone sends (G.711) goes
    /// to `voice`. Its offer must send audio.
    pub async fn talk(
        self: &Arc<Self>,
        source: Arc<Source>,
        offer_sdp: String,
        voice: Voice,
    ) -> Result<(String, String), String> {
        if !offer_sdp.lines().any(|l| l.starts_with("m=audio")) {
            return Err("the offer has no audio section (m=audio): no microphone".into());
        }
        self.connect(source, g711_only(&offer_sdp), Some(voice))
            .await
    }

    async fn connect(
        self: &Arc<Self>,
        source: Arc<Source>,
        offer_sdp: String,
        voice: Option<Voice>,
    ) -> Result<(String, String), String> {
        // The place is held from here: a viewer being set up counts, and a
        // request dropped on the way (the page closed) gives it back.
        let slot = Slot::take(self).ok_or_else(|| {
            format!(
                "{} viewers are watching already: close one first",
                self.max_viewers
            )
        })?;
        if !offer_sdp.lines().any(|l| l.starts_with("m=video")) {
            return Err("the offer has no video section (m=video)".into());
        }
        let wants_audio = offer_sdp.lines().any(|l| l.starts_with("m=audio"));
        let offer = RTCSessionDescription::offer(offer_sdp)
            .map_err(|e| format!("not an SDP offer: {e}"))?;
        let pc = Arc::new(
            self.api
                .new_peer_connection(RTCConfiguration::default())
                .await
                .map_err(|e| e.to_string())?,
        );
        let id = random_id()?;
        let slot = slot.with(pc.clone());
        if let Some(voice) = &voice {
            listen(&pc, voice.clone());
        }
        match self
            .answer(&pc, source, offer, wants_audio, &id, voice)
            .await
        {
            Ok(sdp) => {
                slot.fill(&id);
                Ok((id, sdp))
            }
            // The slot's drop closes the connection.
            Err(e) => Err(e),
        }
    }

    async fn answer(
        self: &Arc<Self>,
        pc: &Arc<RTCPeerConnection>,
        source: Arc<Source>,
        offer: RTCSessionDescription,
        wants_audio: bool,
        id: &str,
        talker: Option<Voice>,
    ) -> Result<String, String> {
        let track = Arc::new(TrackLocalStaticSample::new(
            RTCRtpCodecCapability {
                mime_type: webrtc::api::media_engine::MIME_TYPE_H264.to_owned(),
                clock_rate: 90_000,
                sdp_fmtp_line:
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
                        .to_owned(),
                ..Default::default()
            },
            "video".to_owned(),
            "vto".to_owned(),
        ));
        add_track(pc, &track).await?;
        // G.711 μ-law as the hub carries it, when the viewer asks for audio.
        let audio = if wants_audio {
            let audio = Arc::new(TrackLocalStaticSample::new(
                RTCRtpCodecCapability {
                    mime_type: webrtc::api::media_engine::MIME_TYPE_PCMU.to_owned(),
                    clock_rate: 8000,
                    channels: 1,
                    ..Default::default()
                },
                "audio".to_owned(),
                // Not the video's stream: browsers then do not hold the
                // picture back to line it up with the sound, whose clock
                // starts anew whenever the source restarts.
                "vto-audio".to_owned(),
            ));
            add_track(pc, &audio).await?;
            Some(audio)
        } else {
            None
        };
        pc.set_remote_description(offer)
            .await
            .map_err(|e| format!("the offer cannot be used: {e}"))?;
        let answer = pc.create_answer(None).await.map_err(|e| e.to_string())?;
        let mut gathered = pc.gathering_complete_promise().await;
        pc.set_local_description(answer)
            .await
            .map_err(|e| e.to_string())?;
        let _ = tokio::time::timeout(GATHER_WAIT, gathered.recv()).await;
        let local = pc.local_description().await.ok_or("no answer was made")?;

        // Frames flow once connected (so the first one sent is a key
        // frame the browser receives); it all ends with the connection:
        // closed, failed, or the viewer gone.
        let (state_tx, mut state_rx) = mpsc::channel::<bool>(4);
        pc.on_peer_connection_state_change(Box::new(move |s| {
            let event = match s {
                RTCPeerConnectionState::Connected => Some(true),
                RTCPeerConnectionState::Failed
                | RTCPeerConnectionState::Closed
                | RTCPeerConnectionState::Disconnected => Some(false),
                _ => None,
            };
            if let Some(e) = event {
                let _ = state_tx.try_send(e);
            }
            Box::pin(async {})
        }));
        let me = Arc::clone(self);
        let id = id.to_owned();
        tokio::spawn(async move {
            let connected = tokio::time::timeout(CONNECT_WAIT, state_rx.recv()).await;
            if let Ok(Some(true)) = connected {
                let audio = audio.map(|a| (a, source.subscribe_audio(AUDIO_QUEUE)));
                feed(track, source.subscribe(QUEUE), audio, state_rx).await;
            } else {
                tracing::info!("live viewer did not connect");
            }
            if let Some(t) = talker {
                let _ = t.send(Talk::Gone).await;
            }
            me.end(&id).await;
        });
        Ok(local.sdp)
    }

    /// Ends a viewer (the browser left, or asked to stop).
    pub async fn end(&self, id: &str) -> bool {
        let pc = self.viewers().remove(id);
        match pc {
            Some(pc) => {
                let _ = pc.close().await;
                true
            }
            None => false,
        }
    }
}

/// The offer with only G.711 left on its audio m-line (browsers list Opus
/// first): the door plays G.711 without transcoding. Other sections stay.
fn g711_only(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    let mut dropped: Vec<String> = Vec::new();
    let mut in_audio = false;
    for line in sdp.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            in_audio = m.starts_with("audio ");
            dropped.clear();
            if in_audio {
                let mut parts = m.split(' ');
                let head: Vec<&str> = parts.by_ref().take(3).collect();
                let (keep, drop): (Vec<&str>, Vec<&str>) =
                    parts.partition(|pt| matches!(*pt, "0" | "8"));
                dropped = drop.into_iter().map(str::to_string).collect();
                out.push_str(&format!("m={} {}\r\n", head.join(" "), keep.join(" ")));
                continue;
            }
        } else if in_audio {
            // a=rtpmap:111 ..., a=fmtp:111 ..., a=rtcp-fb:111 ...
            let pt = line
                .strip_prefix("a=")
                .and_then(|a| a.split_once(':'))
                .and_then(|(name, rest)| {
                    matches!(name, "rtpmap" | "fmtp" | "rtcp-fb")
                        .then(|| rest.split(' ').next().unwrap_or_default())
                });
            if pt.is_some_and(|pt| dropped.iter().any(|d| d == pt)) {
                continue;
            }
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

/// The browser's audio track, once it comes: its G.711 payloads go to
/// `voice` (dropped when the door lags: a talker must not be delayed).
fn listen(pc: &Arc<RTCPeerConnection>, voice: Voice) {
    // Taken by the first audio track: the handler keeps no sender.
    let voice = Mutex::new(Some(voice));
    pc.on_track(Box::new(move |track, _, _| {
        let voice = match track.kind() {
            RTPCodecType::Audio => voice.lock().unwrap_or_else(|p| p.into_inner()).take(),
            _ => None,
        };
        if let Some(voice) = voice {
            tokio::spawn(async move {
                while let Ok((packet, _)) = track.read_rtp().await {
                    // The offer was cut to the static G.711 types (the
                    // track's codec is only known after its first packet).
                    let law = match packet.header.payload_type {
                        0 => media::g711::Law::Ulaw,
                        8 => media::g711::Law::Alaw,
                        _ => continue,
                    };
                    let said = Talk::Voice(law, packet.payload);
                    if voice.try_send(said).is_err() && voice.is_closed() {
                        return;
                    }
                }
            });
        }
        Box::pin(async {})
    }));
}

async fn add_track(
    pc: &Arc<RTCPeerConnection>,
    track: &Arc<TrackLocalStaticSample>,
) -> Result<(), String> {
    let sender = pc
        .add_track(Arc::clone(track) as Arc<dyn TrackLocal + Send + Sync>)
        .await
        .map_err(|e| e.to_string())?;
    // RTCP from the browser must be read for the interceptors to work.
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        while sender.read(&mut buf).await.is_ok() {}
    });
    Ok(())
}

/// One track's writer: each sample lasts until the next one, by the
/// source's own timestamps (not a fixed rate).
struct Writer {
    track: Arc<TrackLocalStaticSample>,
    last_pts: Option<i64>,
    /// The duration of the first sample, and the longest gap carried over.
    first_ms: i64,
}

impl Writer {
    fn new(track: Arc<TrackLocalStaticSample>, first_ms: i64) -> Self {
        Self {
            track,
            last_pts: None,
            first_ms,
        }
    }

    async fn write(&mut self, frame: Frame) -> Result<(), webrtc::Error> {
        // A source that came back starts its clock anew: that gap counts
        // as one short step, not a jump back.
        let ms = self
            .last_pts
            .map_or(self.first_ms, |p| (frame.pts_ms - p).clamp(1, 1000));
        self.last_pts = Some(frame.pts_ms);
        let sample = Sample {
            data: frame.data,
            duration: Duration::from_millis(u64::try_from(ms).unwrap_or(1)),
            ..Default::default()
        };
        self.track.write_sample(&sample).await
    }
}

/// Writes frames to the tracks until the viewer ends.
async fn feed(
    video: Arc<TrackLocalStaticSample>,
    mut frames: mpsc::Receiver<Frame>,
    audio: Option<(Arc<TrackLocalStaticSample>, mpsc::Receiver<Frame>)>,
    mut ended: mpsc::Receiver<bool>,
) {
    let mut video = Writer::new(video, 40);
    let (mut audio, mut sound) = match audio {
        Some((track, rx)) => (Some(Writer::new(track, 20)), Some(rx)),
        None => (None, None),
    };
    loop {
        let written = tokio::select! {
            f = frames.recv() => match f {
                Some(f) => video.write(f).await,
                None => return,
            },
            a = async { sound.as_mut()?.recv().await }, if sound.is_some() => {
                match (a, audio.as_mut()) {
                    (Some(a), Some(w)) => w.write(a).await,
                    _ => {
                        sound = None;
                        Ok(())
                    }
                }
            },
            e = ended.recv() => match e {
                Some(true) => Ok(()),
                _ => return,
            },
        };
        if let Err(e) = written {
            tracing::debug!(error = %e, "live view write");
            return;
        }
    }
}

/// A viewer's place, held while its offer is answered: filled with the
/// viewer, or given back (and its connection closed) when dropped first.
struct Slot {
    live: Arc<Live>,
    pc: Option<Arc<RTCPeerConnection>>,
    filled: bool,
}

impl Slot {
    fn take(live: &Arc<Live>) -> Option<Self> {
        let mut pending = live.pending.lock().unwrap_or_else(|p| p.into_inner());
        if live.count() + *pending >= live.max_viewers {
            return None;
        }
        *pending += 1;
        Some(Self {
            live: live.clone(),
            pc: None,
            filled: false,
        })
    }

    fn with(mut self, pc: Arc<RTCPeerConnection>) -> Self {
        self.pc = Some(pc);
        self
    }

    fn fill(mut self, id: &str) {
        if let Some(pc) = self.pc.take() {
            self.live.viewers().insert(id.to_string(), pc);
        }
        self.filled = true;
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut pending = self.live.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending = pending.saturating_sub(1);
        drop(pending);
        if let Some(pc) = self.pc.take().filter(|_| !self.filled) {
            // Closing awaits; the request that held it is gone.
            tokio::spawn(async move {
                let _ = pc.close().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_talking_browser_offer_keeps_only_g711_audio() {
        let offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n\
                     a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n\
                     a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\n\
                     a=rtpmap:8 PCMA/8000\r\na=mid:0\r\n\
                     m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\n";
        let kept = g711_only(offer);
        assert!(
            kept.contains("m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\n"),
            "{kept}"
        );
        assert!(
            !kept.contains("opus") && !kept.contains("a=rtcp-fb:111"),
            "{kept}"
        );
        assert!(kept.contains("a=rtpmap:0 PCMU/8000") && kept.contains("a=mid:0"));
        // The video section is the browser's own.
        assert!(kept.contains("m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000"));
    }

    fn live(max_viewers: usize) -> Arc<Live> {
        Arc::new(
            Live::new(LiveConfig {
                udp_ports: (40000, 40999),
                max_viewers,
            })
            .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    #[tokio::test]
    async fn a_place_held_for_an_offer_is_given_back_when_the_offer_goes_away() {
        let live = live(1);
        let held = Slot::take(&live);
        assert!(held.is_some());
        assert_eq!(live.pending(), 1);
        assert!(Slot::take(&live).is_none(), "the one place is held");
        // The request answering the offer is dropped (the page closed).
        drop(held);
        assert_eq!(live.pending(), 0);
        let again = Slot::take(&live);
        assert!(again.is_some(), "the place is free again");
        // A filled place is a viewer: no longer pending, still counted.
        let pc = Arc::new(
            live.api
                .new_peer_connection(RTCConfiguration::default())
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
        if let Some(slot) = again {
            slot.with(pc).fill("v1");
        }
        assert_eq!((live.pending(), live.count()), (0, 1));
        assert!(Slot::take(&live).is_none());
        assert!(live.end("v1").await);
        assert!(Slot::take(&live).is_some());
    }
}
