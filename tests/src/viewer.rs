//! A headless WHEP viewer of the door camera for the bench programs
//! (`src/bin/unlock_bench.rs`, `src/bin/soak.rs`): webrtc-rs offering
//! H.264 as a browser does, counting the pictures it receives, no
//! decoding.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::{header, Method, StatusCode};
use webrtc::{
    api::{
        interceptor_registry::register_default_interceptors, media_engine::MediaEngine,
        setting_engine::SettingEngine, APIBuilder, API,
    },
    ice::mdns::MulticastDnsMode,
    interceptor::registry::Registry,
    peer_connection::{
        configuration::RTCConfiguration, peer_connection_state::RTCPeerConnectionState,
        sdp::session_description::RTCSessionDescription, RTCPeerConnection,
    },
    rtp_transceiver::{
        rtp_codec::RTPCodecType, rtp_transceiver_direction::RTCRtpTransceiverDirection,
        RTCRtpTransceiverInit,
    },
};

use crate::Client;

type Res<T> = Result<T, String>;

/// The WebRTC stack the viewers share.
pub fn api() -> Res<API> {
    let mut media = MediaEngine::default();
    // What a browser offers for H.264.
    crate::bench::register_h264(&mut media, &[(102, "42e01f"), (104, "42001f")])?;
    let registry = register_default_interceptors(Registry::new(), &mut media)
        .map_err(|e| format!("interceptors: {e}"))?;
    let mut settings = SettingEngine::default();
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    // The device listens on loopback: only loopback candidates.
    settings.set_include_loopback_candidate(true);
    settings.set_ip_filter(Box::new(|ip| ip.is_loopback()));
    Ok(APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .build())
}

/// One viewer; `frames` counts the pictures received so far.
pub struct Viewer {
    pc: Arc<RTCPeerConnection>,
    pub frames: Arc<AtomicU64>,
    /// The WHEP resource.
    location: String,
}

/// One viewer of the door camera, receiving (its first picture has
/// arrived).
pub async fn watch(api: &API, c: &Client) -> Res<Viewer> {
    let pc = Arc::new(
        api.new_peer_connection(RTCConfiguration::default())
            .await
            .map_err(|e| format!("peer connection: {e}"))?,
    );
    let frames = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let f = failed.clone();
    pc.on_peer_connection_state_change(Box::new(move |s| {
        if matches!(
            s,
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
        ) {
            f.store(true, Ordering::Relaxed);
        }
        Box::pin(async {})
    }));
    let fr = frames.clone();
    pc.on_track(Box::new(move |track, receiver, _| {
        let frames = fr.clone();
        tokio::spawn(async move {
            // RTCP is read so the interceptors see the sender reports.
            tokio::spawn(async move { while receiver.read_rtcp().await.is_ok() {} });
            let mut last_ts = None;
            while let Ok((pkt, _)) = track.read_rtp().await {
                if last_ts != Some(pkt.header.timestamp) {
                    last_ts = Some(pkt.header.timestamp);
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Box::pin(async {})
    }));
    let result = async {
        pc.add_transceiver_from_kind(
            RTPCodecType::Video,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                send_encodings: vec![],
            }),
        )
        .await
        .map_err(|e| format!("transceiver: {e}"))?;
        let offer = pc
            .create_offer(None)
            .await
            .map_err(|e| format!("offer: {e}"))?;
        let mut gathered = pc.gathering_complete_promise().await;
        pc.set_local_description(offer)
            .await
            .map_err(|e| format!("local description: {e}"))?;
        let _ = tokio::time::timeout(Duration::from_secs(5), gathered.recv()).await;
        let sdp = pc
            .local_description()
            .await
            .ok_or("no local description")?
            .sdp;
        let res = c
            .request(Method::POST, "/api/whep/door")
            .header(header::ORIGIN, &c.base)
            .header(header::CONTENT_TYPE, "application/sdp")
            .body(sdp)
            .send()
            .await
            .map_err(|e| format!("WHEP: {e}"))?;
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = res.text().await.unwrap_or_default();
        let (StatusCode::CREATED, Some(location)) = (status, location) else {
            return Err(format!("WHEP: {status} {text}"));
        };
        let answer = RTCSessionDescription::answer(text).map_err(|e| format!("answer: {e}"))?;
        pc.set_remote_description(answer)
            .await
            .map_err(|e| format!("answer: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while frames.load(Ordering::Relaxed) == 0 {
            if failed.load(Ordering::Relaxed) {
                return Err("the connection failed".to_string());
            }
            if Instant::now() > deadline {
                return Err("no video within 30 s".to_string());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(location)
    }
    .await;
    match result {
        Ok(location) => Ok(Viewer {
            pc,
            frames,
            location,
        }),
        Err(e) => {
            let _ = pc.close().await;
            Err(e)
        }
    }
}

/// Ends the viewer's WHEP session and closes its connection.
pub async fn end(c: &Client, v: &Viewer) {
    let _ = c
        .request(Method::DELETE, &v.location)
        .header(header::ORIGIN, &c.base)
        .send()
        .await;
    let _ = v.pc.close().await;
}
