//! Config manager (manual ch. 3 item 4) on the main page: export Device
//! Info to the PC, import it from a file; the same for User Info (rooms,
//! VTO and VTS lists, without Register Passwords).

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{FormMessage, Submit},
        hydration::{download_json, export_file, file_to_import, use_hydrated},
    },
    model::{
        config::{FILE_NAME, MAX_BYTES},
        user_info,
    },
};

#[component]
pub fn ConfigManager() -> impl IntoView {
    let hydrated = use_hydrated();
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);

    let export = move |_| {
        busy.set(true);
        export_file(
            message,
            async move {
                let r = api::export_device_info().await;
                busy.set(false);
                r
            },
            |info| download_json(FILE_NAME, &info),
            format!("Device Info exported as {FILE_NAME}."),
        );
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

    let user_message = RwSignal::new(None::<(bool, String)>);
    let shown_once = RwSignal::new(Vec::<(String, String)>::new());
    let export_users = move |_| {
        busy.set(true);
        export_file(
            user_message,
            async move {
                let r = api::export_user_info().await;
                busy.set(false);
                r
            },
            |info| download_json(user_info::FILE_NAME, &info),
            format!("User Info exported as {}.", user_info::FILE_NAME),
        );
    };
    let import_users = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        user_message.set(None);
        shown_once.set(Vec::new());
        spawn_local(async move {
            let Some(text) = file_to_import(
                "import-user-file",
                user_info::MAX_BYTES,
                "a User Info file",
                user_message,
            )
            .await
            else {
                return;
            };
            busy.set(true);
            let r = api::import_user_info(text).await;
            busy.set(false);
            user_message.set(Some(match r {
                Ok(done) => {
                    shown_once.set(done.new_passwords);
                    (
                        true,
                        format!(
                            "Imported: {} rooms, {} VTO, {} VTS.",
                            done.rooms, done.vto, done.vts
                        ),
                    )
                }
                Err(e) => (false, format!("Not imported, nothing changed. {e}")),
            }));
        });
    };

    view! {
        <section class="card" aria-labelledby="config-manager">
            <h2 id="config-manager">"Config Manager"</h2>
            <h3>"Device Info"</h3>
            <p class="muted">"Every setting as one file, without passwords or keys."</p>
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
                    <Submit label="Import" busy />
                </div>
            </form>
            <h3>"User Info"</h3>
            <p class="muted">
                "Rooms, VTO and VTS lists, without Register Passwords. Import replaces the lists: numbers this device has keep their passwords, new ones get a generated one, shown once."
            </p>
            <form id="import-user-form" on:submit=import_users novalidate>
                <div class="field">
                    <label for="import-user-file">"User Info File"</label>
                    <input id="import-user-file" name="import-user-file" type="file" accept=".json,application/json" />
                </div>
                <Show when=move || shown_once.with(|l| !l.is_empty())>
                    <p class="warning shown-once" id="user-passwords-once" role="status">
                        {move || format!(
                            "New Register Passwords, shown this once: {}",
                            shown_once.get().into_iter().map(|(n, p)| format!("{n}: {p}")).collect::<Vec<_>>().join(", ")
                        )}
                    </p>
                </Show>
                <FormMessage message=user_message />
                <div class="actions">
                    <button
                        type="button"
                        id="export-user-info"
                        class="secondary"
                        disabled=move || { !hydrated.get() || busy.get() }
                        on:click=export_users
                    >
                        "Export"
                    </button>
                    <Submit label="Import" id="import-user-info" busy />
                </div>
            </form>
        </section>
    }
}
