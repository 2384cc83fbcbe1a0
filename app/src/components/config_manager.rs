//! Config manager (manual ch. 3 item 4) on the main page: export Device
//! Info to the PC, import it from a file. (User Info joins with rooms and
//! cards.)

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::FormMessage,
        hydration::{download_json, file_to_import, use_hydrated},
    },
    model::config::{FILE_NAME, MAX_BYTES},
};

#[component]
pub fn ConfigManager() -> impl IntoView {
    let hydrated = use_hydrated();
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);

    let export = move |_| {
        message.set(None);
        busy.set(true);
        spawn_local(async move {
            let r = api::export_device_info().await;
            busy.set(false);
            let saved = r
                .map_err(|e| e.to_string())
                .and_then(|info| download_json(FILE_NAME, &info));
            message.set(Some(match saved {
                Ok(()) => (true, format!("Device Info exported as {FILE_NAME}.")),
                Err(e) => (false, e),
            }));
        });
    };

    let import = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        spawn_local(async move {
            let Some(text) =
                file_to_import("import-file", MAX_BYTES, "a Device Info file", message).await
            else {
                return;
            };
            busy.set(true);
            let r = api::import_device_info(text).await;
            busy.set(false);
            message.set(Some(match r {
                Ok(()) => (
                    true,
                    "Imported: the settings of the file are in effect.".into(),
                ),
                Err(e) => (false, format!("Not imported, nothing changed. {e}")),
            }));
        });
    };

    view! {
        <section class="card" aria-labelledby="config-manager">
            <h2 id="config-manager">"Config Manager"</h2>
            <p class="muted">
                "Device Info: every setting as one file, without passwords or keys."
            </p>
            <form id="import-form" on:submit=import novalidate>
                <div class="field">
                    <label for="import-file">"Device Info File"</label>
                    <input id="import-file" name="import-file" type="file" accept=".json,application/json" />
                </div>
                <FormMessage message />
                <div class="actions">
                    <button
                        type="button"
                        id="export-device-info"
                        class="secondary"
                        disabled=move || !hydrated.get() || busy.get()
                        on:click=export
                    >
                        "Export"
                    </button>
                    <button type="submit" class="primary" disabled=move || !hydrated.get() || busy.get()>
                        "Import"
                    </button>
                </div>
            </form>
        </section>
    }
}
