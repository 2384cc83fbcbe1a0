//! Household Setting > VTS Management (manual 5.3): the management centres
//! that register here. Add (VTS No., Register Password, IP Address), Modify
//! the IP Address, Delete after a question. A generated Register Password
//! is shown once.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        dialog::{ConfirmDialog, Dialog},
        form::{Field, FormErrors, FormMessage},
        hydration::use_hydrated,
        notice::loaded,
    },
    model::{
        room::check_register_password,
        vts::{Vts, VtsEntry, VtsPage as Page, MAX_VTS},
    },
};

#[component]
pub fn VtsPage() -> impl IntoView {
    view! {
        <h1>"VTS Management"</h1>
        {loaded(api::vts_list, |p| view! { <VtsList saved=p /> })}
    }
}

#[component]
fn VtsList(saved: Page) -> impl IntoView {
    let hydrated = use_hydrated();
    let list = RwSignal::new(saved.list);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let editing = RwSignal::new(false);
    let modify_mode = RwSignal::new(false);
    let deleting = RwSignal::new(None::<String>);
    let delete_open = RwSignal::new(false);
    let shown_once = RwSignal::new(Vec::<(String, String)>::new());
    let no = RwSignal::new(String::new());
    let ip = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let vts = move || Vts {
        vts_no: no.get().trim().to_string(),
        ip: ip.get().trim().to_string(),
    };
    let local = move || {
        let mut e = vts().validate();
        let p = password.get();
        if !modify_mode.get() && !p.is_empty() {
            if let Err(m) = check_register_password(&p) {
                e.push(("vts-password", m));
            }
        }
        e
    };
    let submitted = RwSignal::new(false);
    let errors = FormErrors::new(move || {
        no.track();
        ip.track();
        password.track();
    });
    let error_for = move |field: &'static str| {
        errors.signal(
            field,
            move || if submitted.get() { local() } else { Vec::new() },
        )
    };
    let dialog_message = RwSignal::new(None::<(bool, String)>);

    let open = move |entry: Option<Vts>| {
        message.set(None);
        dialog_message.set(None);
        submitted.set(false);
        modify_mode.set(entry.is_some());
        let v = entry.unwrap_or_default();
        no.set(v.vts_no);
        ip.set(v.ip);
        password.set(String::new());
        editing.set(true);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !local().is_empty() {
            return;
        }
        let (v, modify) = (vts(), modify_mode.get_untracked());
        let typed = Some(password.get_untracked()).filter(|p| !p.is_empty());
        busy.set(true);
        spawn_local(async move {
            let r = if modify {
                api::save_vts(v.clone()).await
            } else {
                api::add_vts(v.clone(), typed).await
            };
            busy.set(false);
            match r {
                Ok(page) => {
                    editing.set(false);
                    list.set(page.list);
                    shown_once.set(page.new_passwords);
                    let mut text = format!("Saved: VTS {}.", v.vts_no);
                    if !page.warnings.is_empty() {
                        text = format!("{text} {}.", page.warnings.join(". "));
                    }
                    message.set(Some((true, text)));
                }
                Err(e) => errors.take(e, dialog_message),
            }
        });
    };
    let delete = move || {
        let Some(vts_no) = deleting.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            let r = api::delete_vts(vts_no.clone()).await;
            busy.set(false);
            delete_open.set(false);
            match r {
                Ok(page) => {
                    list.set(page.list);
                    shown_once.set(Vec::new());
                    message.set(Some((true, format!("Deleted: VTS {vts_no}."))));
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };

    view! {
        <section class="card wide" aria-labelledby="vts-list-title">
            <div class="card-head">
                <h2 id="vts-list-title">"Management Centres"</h2>
                <span class="muted" id="vts-count">{move || format!("{} / {MAX_VTS}", list.with(Vec::len))}</span>
            </div>
            <p class="hint">
                "A call to the Centre Call No. (Local Setting > Basic) rings every VTS here, within the Call Centre Time."
            </p>
            <Show
                when=move || list.with(|l| !l.is_empty())
                fallback=|| view! { <p class="muted" id="vts-empty">"No VTS yet: click Add."</p> }
            >
                <div class="table-wrap">
                    <table class="log" id="vts-table">
                        <thead>
                            <tr>
                                <th>"VTS No."</th>
                                <th>"IP Address"</th>
                                <th>"Status"</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || list.get() key=|e: &VtsEntry| format!("{e:?}") let:entry>
                                {
                                    let for_modify = entry.vts.clone();
                                    let number = entry.vts.vts_no.clone();
                                    let state = if entry.online { "Online" } else { "Offline" };
                                    view! {
                                        <tr data-vts=entry.vts.vts_no.clone()>
                                            <td>{entry.vts.vts_no.clone()}</td>
                                            <td>{entry.vts.ip.clone()}</td>
                                            <td><span class="state" class:ok=entry.online>{state}</span></td>
                                            <td class="row-actions">
                                                <button type="button" class="secondary small" on:click=move |_| open(Some(for_modify.clone()))>
                                                    "Modify"
                                                </button>
                                                <button type="button" class="secondary small danger" on:click=move |_| {
                                                    deleting.set(Some(number.clone()));
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
            <Show when=move || shown_once.with(|l| !l.is_empty())>
                <p class="warning shown-once" id="vts-password-once" role="status">
                    {move || shown_once.get().into_iter().map(|(n, p)| format!(
                        "Register Password of VTS {n}, shown this once: {p}"
                    )).collect::<Vec<_>>().join(" ")}
                </p>
            </Show>
            <FormMessage message />
            <div class="actions left">
                <button
                    type="button"
                    id="vts-add"
                    class="primary"
                    disabled=move || !hydrated.get() || list.with(|l| l.len() >= MAX_VTS)
                    on:click=move |_| open(None)
                >
                    "Add"
                </button>
            </div>
        </section>

        <Dialog open=editing title="VTS">
            <form id="vts-form" on:submit=save novalidate>
                <div class="grid-2">
                    {move || {
                        let readonly = modify_mode.get();
                        view! { <Field id="vts-no" label="VTS No." value=no error=error_for("vts-no") readonly autofocus=!readonly /> }
                    }}
                    <Show when=move || !modify_mode.get()>
                        <Field id="vts-password" label="Register Password" kind="password" autocomplete="new-password" value=password error=error_for("vts-password")>
                            <p class="hint">"Empty: a strong one is generated and shown once."</p>
                        </Field>
                    </Show>
                    <Field id="vts-ip" label="IP Address" value=ip error=error_for("vts-ip") />
                </div>
                <FormMessage message=dialog_message />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" id="vts-save" class="primary" disabled=move || busy.get()>
                        "Save"
                    </button>
                </div>
            </form>
        </Dialog>

        <ConfirmDialog
            open=delete_open
            title="Delete"
            question=Signal::derive(move || {
                deleting.get().map(|n| format!("Delete VTS {n}? It is unregistered.")).unwrap_or_default()
            })
            id="vts-delete"
            confirm="Delete"
            busy
            on_confirm=delete
        />
    }
}
