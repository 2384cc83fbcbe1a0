//! The main interface (manual ch. 3): VTO information, system information
//! and the function area.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    api,
    components::{
        config_manager::ConfigManager, door::DoorPanel, icons, intercom::CallPanel,
        live_view::LiveView, notice::loaded, role::IfMay,
    },
    model::{system::Overview, users::Right},
};

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <h1>"Main Interface"</h1>
        {loaded(api::overview, |o| view! { <Panels overview=o /> })}
        <DoorCamera />
        // Each part for the roles that may use it.
        <IfMay right=Right::OpenDoor>
            <DoorPanel />
            <CallPanel />
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
    let Overview { vto, system, .. } = overview;
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
    }
}
