//! The main interface (manual ch. 3): VTO information, system information
//! and the function area.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api,
    components::{
        config_manager::ConfigManager,
        door::DoorPanel,
        icons,
        intercom::CallPanel,
        live_view::LiveView,
        notice::loaded,
        role::{resource_if_may, IfMay},
    },
    model::{network::RtspInfo, system::Overview, users::Right},
};

#[component]
pub fn HomePage() -> impl IntoView {
    // Made here, not in the panels: see `resource_if_may`.
    let door = resource_if_may(Right::OpenDoor, || api::door_status(0));
    let call = resource_if_may(Right::OpenDoor, || api::call_status(0));
    view! {
        <h1>"Main Interface"</h1>
        {loaded(api::overview, |o| view! { <Panels overview=o /> })}
        <DoorCamera />
        // Each part for the roles that may use it.
        <IfMay right=Right::OpenDoor>
            <DoorPanel status=door />
            <CallPanel status=call />
        </IfMay>
        <IfMay right=Right::Settings>
            <ConfigManager />
        </IfMay>
        <IfMay right=Right::Logs>
            <section class="card">
                <h2>"Function Area"</h2>
                <div class="tiles">
                    <A href="/log/call" attr:class="tile">
                        {icons::log()}
                        <span>"Log Management"</span>
                    </A>
                </div>
            </section>
        </IfMay>
    }
}

/// The door camera live (WebRTC), with a Snapshot on request.
#[component]
fn DoorCamera() -> impl IntoView {
    let hydrated = crate::components::hydration::use_hydrated();
    let taken = RwSignal::new(0u32);
    view! {
        <section class="card" aria-labelledby="door-camera">
            <h2 id="door-camera">"Door Camera"</h2>
            <LiveView source="door" />
            <IfMay right=Right::Snapshot>
            <div class="actions left">
                <button
                    type="button"
                    id="snapshot"
                    class="secondary"
                    disabled=move || !hydrated.get()
                    on:click=move |_| taken.update(|n| *n += 1)
                >
                    "Snapshot"
                </button>
            </div>
            </IfMay>
            <Show when=move || taken.get() != 0>
                <img
                    id="door-snapshot"
                    class="snapshot"
                    alt="Snapshot of the door camera"
                    src=move || format!("/snapshot/door.jpg?n={}", taken.get())
                />
                <p class="hint">"Snapshot: a JPEG made by the device. Open it in a new tab to save it."</p>
            </Show>
        </section>
    }
}

#[component]
fn Panels(overview: Overview) -> impl IntoView {
    let Overview {
        vto, system, rtsp, ..
    } = overview;
    view! {
        <div class="panels">
            <section class="card" aria-labelledby="vto-info">
                <h2 id="vto-info">"VTO Information"</h2>
                <dl class="facts">
                    <dt>"Building No."</dt>
                    <dd id="building-no">{vto.building_no}</dd>
                    <dt>"Unit No."</dt>
                    <dd id="unit-no">{vto.unit_no}</dd>
                    <dt>"Device Type"</dt>
                    <dd id="device-type">{vto.device_type.label()}</dd>
                    <dt>"VTO No."</dt>
                    <dd id="vto-no">{vto.vto_no}</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="system-info">
                <h2 id="system-info">"System Information"</h2>
                <dl class="facts">
                    <dt>"Software Version"</dt>
                    <dd id="software-version">{system.software_version}</dd>
                    <dt>"Security Baseline Version"</dt>
                    <dd id="security-baseline">{system.security_baseline}</dd>
                    <dt>"Build"</dt>
                    <dd id="build-commit">
                        {system.build_commit.unwrap_or_else(|| "unknown".to_string())}
                    </dd>
                </dl>
            </section>
        </div>
        // Full width: the addresses are long.
        {rtsp.map(|r| view! { <RtspAddresses rtsp=r /> })}
    }
}

/// The door camera's RTSP addresses, for a recorder or a relay, each with
/// a Copy button.
#[component]
fn RtspAddresses(rtsp: RtspInfo) -> impl IntoView {
    // The server renders a placeholder host when it listens on all
    // addresses; the browser knows the one the page was opened at.
    let host = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        host.set(
            web_sys::window()
                .and_then(|w| w.location().hostname().ok())
                .filter(|h| !h.is_empty()),
        );
    });
    let streams = [
        ("rtsp-main", "Main Stream", 0u8),
        ("rtsp-sub", "Sub Stream", 1u8),
    ];
    view! {
        <section class="card" aria-labelledby="rtsp-info">
            <h2 id="rtsp-info">"RTSP"</h2>
            {streams
                .into_iter()
                .map(|(id, label, subtype)| {
                    let rtsp = rtsp.clone();
                    let url = move || rtsp.url(host.get().as_deref(), subtype);
                    view! {
                        <div class="field">
                            <label for=id>{label}</label>
                            <div class="copy-row">
                                <input id=id class="mono" type="text" readonly prop:value=url />
                                <button type="button" class="secondary" on:click=move |_| copy(id)>
                                    "Copy"
                                </button>
                            </div>
                        </div>
                    }
                })
                .collect_view()}
            <p class="hint">
                "For a recorder, Home Assistant or a relay: log in with a Viewer account (Digest)."
            </p>
        </section>
    }
}

/// Copies the text of input `id` (`execCommand`: the Clipboard API needs
/// HTTPS, and a door station is often reached over plain HTTP on the LAN).
fn copy(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        if let Some(input) = doc
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        {
            input.select();
            if let Ok(d) = doc.dyn_into::<web_sys::HtmlDocument>() {
                let _ = d.exec_command("copy");
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}
