//! A camera's live picture: a `<video>` fed over WebRTC by the device. The
//! browser offers (receive only), the device answers through `live_offer`;
//! leaving the page ends the viewer. The badge follows both the connection
//! and the camera (`live_status`): a camera that reconnects shows so, and
//! the picture comes back by itself, as does a connection that failed.

use leptos::prelude::*;

use crate::model::live::{SourceState, SourceStatus};

/// What the badge on the picture says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveState {
    Connecting,
    Live,
    Reconnecting(String),
    Error(String),
}

impl LiveState {
    fn label(&self) -> String {
        match self {
            Self::Connecting => "Connecting\u{2026}".into(),
            Self::Live => "Live".into(),
            Self::Reconnecting(e) => format!("Reconnecting: {e}"),
            Self::Error(e) => format!("Error: {e}"),
        }
    }

    fn class(&self) -> &'static str {
        match self {
            Self::Connecting => "badge connecting",
            Self::Live => "badge live",
            Self::Reconnecting(_) => "badge connecting",
            Self::Error(_) => "badge error",
        }
    }

    /// What to show: a broken connection first, then what the camera does.
    fn shown(self, camera: Option<&SourceStatus>) -> Self {
        match (self, camera.map(|c| (c.state, c.detail.clone()))) {
            (Self::Error(e), _) => Self::Error(e),
            (_, Some((SourceState::Reconnecting, d))) => Self::Reconnecting(d),
            (_, Some((SourceState::Error, d))) => Self::Error(d),
            (connection, _) => connection,
        }
    }
}

/// `camera`: where to keep the camera's status, for a page that shows more
/// of it.
#[component]
pub fn LiveView(
    /// `door`, `door-sub`, `ipc-<id>`, `ipc-<id>-sub`.
    #[prop(into)]
    source: String,
    #[prop(optional)] camera: Option<RwSignal<Option<SourceStatus>>>,
) -> impl IntoView {
    let connection = RwSignal::new(LiveState::Connecting);
    let camera = camera.unwrap_or_else(|| RwSignal::new(None));
    let state = Signal::derive(move || connection.get().shown(camera.get().as_ref()));
    let video = NodeRef::<leptos::html::Video>::new();
    // Browsers play sound only after a click: muted until asked.
    let muted = RwSignal::new(true);
    #[cfg(feature = "hydrate")]
    client::start(source.clone(), video, connection, camera);
    #[cfg(not(feature = "hydrate"))]
    let _ = camera;
    view! {
        <div class="live-view">
            <video
                node_ref=video
                id=format!("live-{source}")
                class="live-video"
                autoplay=true
                muted=true
                prop:muted=move || muted.get()
                playsinline=true
            ></video>
            <button
                type="button"
                id=format!("live-{source}-sound")
                class="live-sound"
                aria-pressed=move || if muted.get() { "false" } else { "true" }
                on:click=move |_| muted.update(|m| *m = !*m)
            >
                {move || if muted.get() { "Sound off" } else { "Sound on" }}
            </button>
            <span id=format!("live-{source}-state") class=move || state.get().class()>
                {move || state.get().label()}
            </span>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::{prelude::*, task::spawn_local};
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{
        MediaStream, RtcPeerConnection, RtcPeerConnectionState, RtcRtpTransceiverDirection,
        RtcRtpTransceiverInit, RtcTrackEvent,
    };

    use super::LiveState;
    use crate::{
        api,
        components::{
            hydration::sleep_ms,
            webrtc::{apply_answer, gathered_offer, js_error},
        },
        model::live::SourceStatus,
    };

    /// How often the camera's status is asked for.
    const STATUS_EVERY_MS: i32 = 2000;
    /// The wait before a failed connection is made again.
    const RETRY_MS: i32 = 3000;

    /// Starts the viewer once the `<video>` exists; ends it on cleanup.
    /// A failed connection is made again until the view goes away.
    pub fn start(
        source: String,
        video: NodeRef<leptos::html::Video>,
        state: RwSignal<LiveState>,
        camera: RwSignal<Option<SourceStatus>>,
    ) {
        let session = StoredValue::new_local(None::<(RtcPeerConnection, String)>);
        // Gone once the view is cleaned up: the loop below then stops.
        let alive = move || session.try_get_value().is_some();
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            let Some(el) = video.get() else {
                return false;
            };
            let source = source.clone();
            spawn_local(async move {
                while alive() {
                    match connect(&source, el.clone(), state).await {
                        Ok((pc, id)) => {
                            session.try_set_value(Some((pc.clone(), id.clone())));
                            while alive() {
                                sleep_ms(STATUS_EVERY_MS).await;
                                if let Ok(s) = api::live_status(source.to_string()).await {
                                    camera.try_set(Some(s));
                                }
                                if matches!(
                                    pc.connection_state(),
                                    RtcPeerConnectionState::Failed | RtcPeerConnectionState::Closed
                                ) {
                                    break;
                                }
                            }
                            pc.close();
                            let _ = api::live_end(id).await;
                        }
                        Err(e) => {
                            state.try_set(LiveState::Error(e));
                        }
                    }
                    sleep_ms(RETRY_MS).await;
                    if alive() {
                        state.try_set(LiveState::Connecting);
                    }
                }
            });
            true
        });
        on_cleanup(move || {
            if let Some(Some((pc, id))) = session.try_get_value() {
                pc.close();
                spawn_local(async move {
                    let _ = api::live_end(id).await;
                });
            }
        });
    }

    async fn connect(
        source: &str,
        video: web_sys::HtmlVideoElement,
        state: RwSignal<LiveState>,
    ) -> Result<(RtcPeerConnection, String), String> {
        let pc = RtcPeerConnection::new().map_err(js_error)?;
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Recvonly);
        pc.add_transceiver_with_str_and_init("video", &init);
        pc.add_transceiver_with_str_and_init("audio", &init);

        // Picture and sound come as two streams (so neither waits for the
        // other); the element plays both from one.
        let both = MediaStream::new().map_err(js_error)?;
        video.set_src_object(Some(&both));
        let ontrack = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            both.add_track(&ev.track());
        });
        pc.set_ontrack(Some(ontrack.as_ref().unchecked_ref()));
        ontrack.forget();
        let watched = pc.clone();
        let onstate = Closure::<dyn FnMut()>::new(move || match watched.connection_state() {
            RtcPeerConnectionState::Connected => state.set(LiveState::Live),
            RtcPeerConnectionState::Failed => {
                state.set(LiveState::Error("the connection failed".into()))
            }
            RtcPeerConnectionState::Disconnected => state.set(LiveState::Connecting),
            _ => {}
        });
        pc.set_onconnectionstatechange(Some(onstate.as_ref().unchecked_ref()));
        onstate.forget();

        let sdp = gathered_offer(&pc).await?;
        let answer = api::live_offer(source.to_string(), sdp)
            .await
            .map_err(|e| e.to_string())?;
        apply_answer(&pc, &answer.sdp).await?;
        Ok((pc, answer.id))
    }
}
