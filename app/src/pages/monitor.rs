//! Monitor: the door camera and every IPC live, one tile each. A tile plays
//! the sub stream by default (lighter on the device and the network); Main
//! or Sub can be chosen per tile, Fullscreen shows one tile alone and
//! Snapshot opens a JPEG of the camera's picture (its Stream) in a new tab.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        door::DoorPanel, hydration::use_hydrated, intercom::CallPanel, live_view::LiveView,
        notice::loaded,
    },
    model::ipc::IpcPage,
};

#[component]
pub fn MonitorPage() -> impl IntoView {
    // Outside the tiles' Suspense: a resource made inside one would load
    // once per server pass (see `resource_if_may`).
    let door = Resource::new(|| (), |_| api::door_status(0));
    let call = Resource::new(|| (), |_| api::call_status(0));
    view! {
        <h1>"Monitor"</h1>
        {loaded(api::ipc_list, |p| view! { <Tiles page=p /> })}
        <DoorPanel status=door />
        <CallPanel status=call />
    }
}

#[component]
fn Tiles(page: IpcPage) -> impl IntoView {
    let tiles: Vec<(String, String)> =
        std::iter::once(("door".to_string(), "Door Camera".to_string()))
            .chain(
                page.ipcs
                    .into_iter()
                    .map(|e| (format!("ipc-{}", e.id), e.ipc.name)),
            )
            .collect();
    view! {
        <div class="monitor-grid" id="monitor">
            {tiles
                .into_iter()
                .map(|(source, name)| view! { <Tile source name /> })
                .collect_view()}
        </div>
        <p class="hint">"Add cameras under Household Setting > IPC Setting."</p>
    }
}

#[component]
fn Tile(source: String, name: String) -> impl IntoView {
    let hydrated = use_hydrated();
    // "sub" or "main".
    let stream = RwSignal::new("sub".to_string());
    let tile = NodeRef::<leptos::html::Section>::new();
    let select_id = format!("stream-{source}");
    let fullscreen_id = format!("fullscreen-{source}");
    let fullscreen = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = tile.get() {
            let _ = el.request_fullscreen();
        }
    };
    let base = source.clone();
    view! {
        <section class="card monitor-tile" node_ref=tile data-source=source.clone()>
            <div class="tile-head">
                <h2>{name}</h2>
                <label for=select_id.clone()>"Stream"</label>
                <select
                    id=select_id
                    on:change=move |ev| stream.set(event_target_value(&ev))
                    prop:value=move || stream.get()
                >
                    <option value="sub" selected=true>"Sub"</option>
                    <option value="main">"Main"</option>
                </select>
                <a
                    id=format!("snapshot-{source}")
                    class="button secondary small"
                    href=format!("/snapshot/{source}.jpg")
                    target="_blank"
                    rel="noopener"
                >
                    "Snapshot"
                </a>
                <button
                    type="button"
                    id=fullscreen_id
                    class="secondary small"
                    disabled=move || !hydrated.get()
                    on:click=fullscreen
                >
                    "Fullscreen"
                </button>
            </div>
            {move || {
                let chosen = if stream.get() == "main" {
                    base.clone()
                } else {
                    format!("{base}-sub")
                };
                view! { <LiveView source=chosen /> }
            }}
        </section>
    }
}
