//! A camera's live picture: a `<video>` fed over WebRTC by the device. The
//! browser offers (receive only), the device answers through `live_offer`;
//! leaving the page ends the viewer.

use leptos::prelude::*;

/// What the badge on the picture says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveState {
    Connecting,
    Live,
    Error(String),
}

impl LiveState {
    fn label(&self) -> String {
        match self {
            Self::Connecting => "Connecting\u{2026}".into(),
            Self::Live => "Live".into(),
            Self::Error(e) => format!("Error: {e}"),
        }
    }

    fn class(&self) -> &'static str {
        match self {
            Self::Connecting => "badge connecting",
            Self::Live => "badge live",
            Self::Error(_) => "badge error",
        }
    }
}

#[component]
pub fn LiveView(source: &'static str) -> impl IntoView {
    let state = RwSignal::new(LiveState::Connecting);
    let video = NodeRef::<leptos::html::Video>::new();
    #[cfg(feature = "hydrate")]
    client::start(source, video, state);
    view! {
        <div class="live-view">
            <video
                node_ref=video
                id=format!("live-{source}")
                class="live-video"
                autoplay=true
                muted=true
                playsinline=true
            ></video>
            <span id=format!("live-{source}-state") class=move || state.get().class()>
                {move || state.get().label()}
            </span>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::{prelude::*, task::spawn_local};
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        MediaStream, RtcIceGatheringState, RtcPeerConnection, RtcPeerConnectionState,
        RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit,
        RtcTrackEvent,
    };

    use super::LiveState;
    use crate::api;

    fn js_error(e: JsValue) -> String {
        e.as_string()
            .or_else(|| {
                e.dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
            })
            .unwrap_or_else(|| "the browser refused".into())
    }

    async fn sleep_ms(ms: i32) {
        let p = js_sys::Promise::new(&mut |resolve, _| {
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
            }
        });
        let _ = JsFuture::from(p).await;
    }

    /// Starts the viewer once the `<video>` exists; ends it on cleanup.
    pub fn start(
        source: &'static str,
        video: NodeRef<leptos::html::Video>,
        state: RwSignal<LiveState>,
    ) {
        let session = StoredValue::new_local(None::<(RtcPeerConnection, String)>);
        Effect::new(move |started: Option<bool>| {
            if started == Some(true) {
                return true;
            }
            let Some(el) = video.get() else {
                return false;
            };
            spawn_local(async move {
                match connect(source, el, state).await {
                    Ok(s) => session.set_value(Some(s)),
                    Err(e) => state.set(LiveState::Error(e)),
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
        source: &'static str,
        video: web_sys::HtmlVideoElement,
        state: RwSignal<LiveState>,
    ) -> Result<(RtcPeerConnection, String), String> {
        let pc = RtcPeerConnection::new().map_err(js_error)?;
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Recvonly);
        pc.add_transceiver_with_str_and_init("video", &init);

        let ontrack = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |ev: RtcTrackEvent| {
            if let Ok(stream) = ev.streams().get(0).dyn_into::<MediaStream>() {
                video.set_src_object(Some(&stream));
            }
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

        let offer: RtcSessionDescriptionInit = JsFuture::from(pc.create_offer())
            .await
            .map_err(js_error)?
            .unchecked_into();
        JsFuture::from(pc.set_local_description(&offer))
            .await
            .map_err(js_error)?;
        // No trickle: the offer goes with the browser's candidates.
        for _ in 0..60 {
            if pc.ice_gathering_state() == RtcIceGatheringState::Complete {
                break;
            }
            sleep_ms(50).await;
        }
        let sdp = pc
            .local_description()
            .map(|d| d.sdp())
            .ok_or("the browser made no offer")?;
        let answer = api::live_offer(source.to_string(), sdp)
            .await
            .map_err(|e| e.to_string())?;
        let remote = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
        remote.set_sdp(&answer.sdp);
        JsFuture::from(pc.set_remote_description(&remote))
            .await
            .map_err(js_error)?;
        Ok((pc, answer.id))
    }
}
