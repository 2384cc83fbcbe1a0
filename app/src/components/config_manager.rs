//! Config manager (manual ch. 3 item 4) on the main page: export Device
//! Info to the PC, import it from a file; the same for User Info (rooms,
//! VTO and VTS lists, without Register Passwords); and a full Backup
//! (everything, secrets included, sealed with a passphrase) and Restore.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{CurrentPassword, Field, FormErrors, FormMessage, Submit},
        hydration::{download_json, download_large, export_file, file_to_import, use_hydrated},
    },
    model::{
        config::{
            backup_passphrase_error, BACKUP_FILE_NAME, BACKUP_MAX_BYTES, FILE_NAME, MAX_BYTES,
        },
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
            <Backup busy />
            <Restore busy />
        </section>
    }
}

/// Backup: the account's password, a passphrase twice; the device's file
/// is saved as it comes.
#[component]
fn Backup(busy: RwSignal<bool>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let submitted = RwSignal::new(false);
    let errors = FormErrors::new(move || {
        password.track();
        passphrase.track();
        confirm.track();
    });
    let local = move || {
        let mut out = Vec::new();
        if let Some(e) = backup_passphrase_error(&passphrase.get()) {
            out.push(("backup-passphrase", e));
        }
        if confirm.get() != passphrase.get() {
            out.push(("backup-confirm", "The passphrases do not match".to_string()));
        }
        out
    };
    let error_for = errors.after_submit(submitted, local);
    let make = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        message.set(None);
        if !local().is_empty() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let r = api::backup(password.get_untracked(), passphrase.get_untracked()).await;
            busy.set(false);
            match r {
                Ok(file) => {
                    password.set(String::new());
                    message.set(Some(
                        match download_large(BACKUP_FILE_NAME, "application/octet-stream", &file) {
                            Ok(()) => (
                                true,
                                format!(
                                    "Backup saved as {BACKUP_FILE_NAME}. Keep the passphrase apart from the file."
                                ),
                            ),
                            Err(e) => (false, e),
                        },
                    ));
                }
                Err(e) => errors.take(e, message),
            }
        });
    };
    view! {
        <h3>"Backup"</h3>
        <p class="muted">
            "Everything on this device, passwords and keys included, as one file encrypted with a passphrase. Without the passphrase the file is useless, to you too."
        </p>
        <form id="backup-form" on:submit=make novalidate>
            <CurrentPassword id="backup-password" label="Password" value=password error=error_for("backup-password") />
            <Field id="backup-passphrase" label="Passphrase" kind="password" autocomplete="new-password" value=passphrase error=error_for("backup-passphrase") />
            <Field id="backup-confirm" label="Confirm Passphrase" kind="password" autocomplete="new-password" value=confirm error=error_for("backup-confirm") />
            <FormMessage message />
            <div class="actions">
                <Submit label="Backup" id="make-backup" busy />
            </div>
        </form>
    }
}

/// Restore: a backup file and its passphrase, and this account's password;
/// the device restarts into the backup's state.
#[component]
fn Restore(busy: RwSignal<bool>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let errors = FormErrors::new(move || {
        password.track();
        passphrase.track();
    });
    let error_for = move |field| errors.signal(field, Vec::new);
    let restore = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        spawn_local(async move {
            let Some(file) =
                file_to_import("restore-file", BACKUP_MAX_BYTES, "a backup file", message).await
            else {
                return;
            };
            busy.set(true);
            let before = api::setup_state().await.map(|s| s.boot_id).ok();
            let r = api::restore(password.get_untracked(), passphrase.get_untracked(), file).await;
            busy.set(false);
            match r {
                Ok(()) => {
                    message.set(Some((
                        true,
                        "Restored: the device restarts with the backup's settings and accounts. This page comes back by itself."
                            .into(),
                    )));
                    crate::components::layout::wait_for_new_boot(before);
                }
                Err(e) => {
                    errors.take(e, message);
                    if message.get_untracked().is_none() {
                        message.set(Some((false, "Not restored, nothing changed.".into())));
                    }
                }
            }
        });
    };
    let file_error = error_for("restore-file");
    view! {
        <h3>"Restore"</h3>
        <p class="muted">
            "Replaces everything on this device with a backup's, then restarts it. The file is checked whole first: a wrong passphrase or a damaged file changes nothing."
        </p>
        <form id="restore-form" on:submit=restore novalidate>
            <div class="field" class:has-error=move || file_error.get().is_some()>
                <label for="restore-file">"Backup File"</label>
                <input id="restore-file" name="restore-file" type="file" accept=".vtobak" aria-describedby="restore-file-error" />
                <p class="field-error" id="restore-file-error" role="alert">{move || file_error.get()}</p>
            </div>
            <Field id="restore-passphrase" label="Passphrase" kind="password" autocomplete="off" value=passphrase error=error_for("restore-passphrase") />
            <CurrentPassword id="restore-password" label="Password" value=password error=error_for("restore-password") />
            <FormMessage message />
            <div class="actions">
                <Submit label="Restore" id="restore-backup" busy />
            </div>
        </form>
    }
}
