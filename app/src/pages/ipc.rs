//! Household Setting > IPC Setting (manual 5.4): the list of cameras (at
//! most 32), Add / Modify in a dialog, Delete after a question, Export
//! Config / Import Config of the list (no passwords in the file).
//!
//! Protocol: Local (the Dahua RTSP address is built from the fields) or
//! Onvif (the camera is asked for its stream; Port No. is then its HTTP
//! port, so changing the protocol moves an untouched default port along).

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        dialog::{ConfirmDialog, Dialog},
        form::{while_busy, Field, FormErrors, FormMessage, Select, WriteOnlyPassword},
        hydration::{download_json, export_file, file_to_import, use_hydrated},
        notice::loaded,
    },
    model::{
        ipc::{Ipc, IpcDeviceType, IpcEntry, IpcPage, IpcProtocol, IpcStream, MAX_IPCS},
        mail::PasswordUpdate,
    },
};

/// Export Config's file name.
const FILE_NAME: &str = "ipc-config.json";
/// The largest file Import Config reads.
const MAX_FILE: usize = 256 * 1024;

#[component]
pub fn IpcSettingPage() -> impl IntoView {
    view! {
        <h1>"IPC Setting"</h1>
        {loaded(api::ipc_list, |p| view! { <IpcList saved=p /> })}
    }
}

/// The dialog's fields.
#[derive(Clone, Copy, Default)]
struct Form {
    /// The camera being modified; `None` while adding.
    id: RwSignal<Option<u32>>,
    name: RwSignal<String>,
    ip: RwSignal<String>,
    user: RwSignal<String>,
    password: RwSignal<String>,
    clear_password: RwSignal<bool>,
    password_set: RwSignal<bool>,
    port: RwSignal<String>,
    protocol: RwSignal<String>,
    stream: RwSignal<String>,
    channel: RwSignal<String>,
    device_type: RwSignal<String>,
}

impl Form {
    fn fill(&self, id: Option<u32>, ipc: &Ipc, password_set: bool) {
        self.id.set(id);
        self.name.set(ipc.name.clone());
        self.ip.set(ipc.ip.clone());
        self.user.set(ipc.user.clone());
        self.password.set(String::new());
        self.clear_password.set(false);
        self.password_set.set(password_set);
        self.port.set(ipc.port.to_string());
        self.protocol.set(ipc.protocol.key().into());
        self.stream.set(ipc.stream.key().into());
        self.channel.set(ipc.channel.to_string());
        self.device_type.set(ipc.device_type.key().into());
    }

    fn ipc(&self) -> Ipc {
        Ipc {
            name: self.name.get().trim().to_string(),
            ip: self.ip.get().trim().to_string(),
            user: self.user.get().trim().to_string(),
            port: self.port.get().trim().parse().unwrap_or(0),
            protocol: IpcProtocol::from_key(&self.protocol.get()).unwrap_or_default(),
            stream: IpcStream::from_key(&self.stream.get()).unwrap_or_default(),
            channel: self.channel.get().trim().parse().unwrap_or(0),
            device_type: IpcDeviceType::from_key(&self.device_type.get()).unwrap_or_default(),
        }
    }

    /// After Protocol was changed by hand: a port still at the other
    /// protocol's default takes the new one's (554 RTSP, 80 HTTP).
    fn follow_protocol(&self) {
        let now = IpcProtocol::from_key(&self.protocol.get_untracked()).unwrap_or_default();
        let other = match now {
            IpcProtocol::Local => IpcProtocol::Onvif,
            IpcProtocol::Onvif => IpcProtocol::Local,
        };
        if self.port.get_untracked().trim() == other.default_port().to_string() {
            self.port.set(now.default_port().to_string());
        }
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        self.ipc().validate()
    }

    fn track(&self) {
        for s in [
            self.name,
            self.ip,
            self.user,
            self.password,
            self.port,
            self.protocol,
            self.stream,
            self.channel,
            self.device_type,
        ] {
            s.track();
        }
    }
}

#[component]
fn IpcList(saved: IpcPage) -> impl IntoView {
    let hydrated = use_hydrated();
    let list = RwSignal::new(saved.ipcs);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let editing = RwSignal::new(false);
    let deleting = RwSignal::new(None::<IpcEntry>);
    let delete_open = RwSignal::new(false);
    let form = Form::default();
    // Shown in the dialog only once it was submitted.
    let submitted = RwSignal::new(false);
    let errors = FormErrors::new(move || form.track());
    let error_for = errors.after_submit(submitted, move || form.errors());
    let dialog_message = RwSignal::new(None::<(bool, String)>);

    let add = move |_| {
        message.set(None);
        dialog_message.set(None);
        submitted.set(false);
        form.fill(None, &Ipc::default(), false);
        editing.set(true);
    };
    let modify = move |entry: IpcEntry| {
        message.set(None);
        dialog_message.set(None);
        submitted.set(false);
        form.fill(Some(entry.id), &entry.ipc, entry.password_set);
        editing.set(true);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !form.errors().is_empty() {
            return;
        }
        let password = PasswordUpdate::from_form(
            form.password.get_untracked(),
            form.clear_password.get_untracked(),
        );
        let (id, ipc) = (form.id.get_untracked(), form.ipc());
        while_busy(
            busy,
            api::save_ipc(id, ipc.clone(), password),
            move |r| match r {
                Ok(page) => {
                    list.set(page.ipcs);
                    editing.set(false);
                    message.set(Some((true, format!("Saved: {}.", ipc.name))));
                }
                Err(e) => errors.take(e, dialog_message),
            },
        );
    };
    let delete = move || {
        let Some(entry) = deleting.get_untracked() else {
            return;
        };
        while_busy(busy, api::delete_ipc(entry.id), move |r| {
            delete_open.set(false);
            match r {
                Ok(page) => {
                    list.set(page.ipcs);
                    message.set(Some((true, format!("Deleted: {}.", entry.ipc.name))));
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let export = move |_| {
        export_file(
            message,
            api::export_ipcs(),
            |file| download_json(FILE_NAME, &file),
            format!("Exported as {FILE_NAME} (without passwords)."),
        );
    };
    let import = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        spawn_local(async move {
            let Some(text) =
                file_to_import("ipc-import-file", MAX_FILE, "an IPC config file", message).await
            else {
                return;
            };
            busy.set(true);
            let r = api::import_ipcs(text).await;
            busy.set(false);
            match r {
                Ok(page) => {
                    let n = page.ipcs.len();
                    list.set(page.ipcs);
                    message.set(Some((
                        true,
                        format!(
                            "Imported {n} devices. Enter the passwords of new ones with Modify."
                        ),
                    )));
                }
                Err(e) => message.set(Some((false, format!("Not imported, nothing changed. {e}")))),
            }
        });
    };

    let full = move || list.with(|l| l.len() >= MAX_IPCS);
    view! {
        <section class="card wide" aria-labelledby="ipc-list-title">
            <div class="card-head">
                <h2 id="ipc-list-title">"Devices"</h2>
                <span class="muted" id="ipc-count">{move || format!("{} / {MAX_IPCS}", list.with(Vec::len))}</span>
            </div>
            <Show
                when=move || list.with(|l| !l.is_empty())
                fallback=|| view! { <p class="muted" id="ipc-empty">"No devices yet: click Add."</p> }
            >
                <div class="table-wrap">
                    <table class="log" id="ipc-table">
                        <thead>
                            <tr>
                                <th>"IPC Name"</th>
                                <th>"IP Addr."</th>
                                <th>"Port No."</th>
                                <th>"Protocol"</th>
                                <th>"Stream"</th>
                                <th>"Channel"</th>
                                <th>"Device Type"</th>
                                <th>"Status"</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || list.get() key=|e| format!("{e:?}") let:entry>
                                {
                                    let for_modify = entry.clone();
                                    let for_delete = entry.clone();
                                    let status = if entry.status.detail.is_empty() {
                                        entry.status.state.label().to_string()
                                    } else {
                                        format!("{}: {}", entry.status.state.label(), entry.status.detail)
                                    };
                                    view! {
                                        <tr data-id=entry.id>
                                            <td>{entry.ipc.name.clone()}</td>
                                            <td>{entry.ipc.ip.clone()}</td>
                                            <td>{entry.ipc.port}</td>
                                            <td>{entry.ipc.protocol.label()}</td>
                                            <td>{entry.ipc.stream.label()}</td>
                                            <td>{entry.ipc.channel}</td>
                                            <td>{entry.ipc.device_type.label()}</td>
                                            <td>{status}</td>
                                            <td class="row-actions">
                                                <button type="button" class="secondary small" on:click=move |_| modify(for_modify.clone())>
                                                    "Modify"
                                                </button>
                                                <button type="button" class="secondary small danger" on:click=move |_| {
                                                    deleting.set(Some(for_delete.clone()));
                                                    delete_open.set(true);
                                                }>
                                                    "Delete"
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                }
                            </For>
                        </tbody>
                    </table>
                </div>
            </Show>
            <FormMessage message />
            <div class="actions left">
                <button
                    type="button"
                    id="ipc-add"
                    class="primary"
                    disabled=move || !hydrated.get() || full()
                    on:click=add
                >
                    "Add"
                </button>
                <button type="button" id="ipc-export" class="secondary" disabled=move || !hydrated.get() on:click=export>
                    "Export Config"
                </button>
            </div>
            <form id="ipc-import-form" class="add-row" on:submit=import novalidate>
                <div class="field">
                    <label for="ipc-import-file">"IPC Config File"</label>
                    <input id="ipc-import-file" name="ipc-import-file" type="file" accept=".json,application/json" />
                </div>
                <button type="submit" class="secondary" disabled=move || !hydrated.get() || busy.get()>
                    "Import Config"
                </button>
            </form>
        </section>

        <Dialog open=editing title="IPC">
            <form id="ipc-form" on:submit=save novalidate>
                <div class="grid-2">
                    <Field id="ipc-name" label="IPC Name" value=form.name error=error_for("ipc-name") autofocus=true />
                    <Field id="ipc-ip" label="IP Addr." value=form.ip error=error_for("ipc-ip") />
                    <Field id="ipc-user" label="Username" value=form.user error=error_for("ipc-user") />
                    <WriteOnlyPassword
                        id="ipc-password"
                        label="Password"
                        value=form.password
                        stored=form.password_set
                        clear=form.clear_password
                        clear_id="ipc-clear-password"
                        error=error_for("ipc-password")
                        destination="the IP Addr. or Port No."
                    />
                    <Field id="ipc-port" label="Port No." kind="number" value=form.port error=error_for("ipc-port") />
                    // Only a choice by hand moves the port (not filling the dialog).
                    <div class="contents" on:change=move |_| form.follow_protocol()>
                        <Select id="ipc-protocol" label="Protocol" options=IpcProtocol::options() value=form.protocol />
                    </div>
                    <Select id="ipc-stream" label="Stream" options=IpcStream::options() value=form.stream />
                    <Field id="ipc-channel" label="Channel" kind="number" value=form.channel error=error_for("ipc-channel") />
                    <Select id="ipc-device-type" label="Device Type" options=IpcDeviceType::options() value=form.device_type />
                </div>
                <p class="field-error" role="alert">{move || error_for("ipc-protocol").get()}</p>
                <p class="field-error" role="alert">{move || error_for("ipc-list").get()}</p>
                <FormMessage message=dialog_message />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        "Save"
                    </button>
                </div>
            </form>
        </Dialog>

        <ConfirmDialog
            open=delete_open
            title="Delete"
            question=Signal::derive(move || {
                deleting.get().map(|e| format!("Delete {}? Its viewers stop.", e.ipc.name)).unwrap_or_default()
            })
            id="ipc-delete"
            confirm="Delete"
            busy
            on_confirm=delete
        />
    }
}
