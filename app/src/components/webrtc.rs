//! Browser-side WebRTC shared by the live view and answering the door:
//! the offer with the browser's candidates gathered (the device does no
//! trickle ICE), the device's answer applied, JavaScript errors as text.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcIceGatheringState, RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit};

use crate::components::hydration::sleep_ms;

/// A JavaScript error as a sentence.
pub fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "the browser refused".into())
}

/// The connection's offer, set locally, once its candidates are gathered
/// (at most 3 s).
pub async fn gathered_offer(pc: &RtcPeerConnection) -> Result<String, String> {
    let offer: RtcSessionDescriptionInit = JsFuture::from(pc.create_offer())
        .await
        .map_err(js_error)?
        .unchecked_into();
    JsFuture::from(pc.set_local_description(&offer))
        .await
        .map_err(js_error)?;
    for _ in 0..60 {
        if pc.ice_gathering_state() == RtcIceGatheringState::Complete {
            break;
        }
        sleep_ms(50).await;
    }
    pc.local_description()
        .map(|d| d.sdp())
        .ok_or_else(|| "the browser made no offer".to_string())
}

/// Applies the device's SDP answer.
pub async fn apply_answer(pc: &RtcPeerConnection, sdp: &str) -> Result<(), String> {
    let remote = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    remote.set_sdp(sdp);
    JsFuture::from(pc.set_remote_description(&remote))
        .await
        .map_err(js_error)?;
    Ok(())
}
