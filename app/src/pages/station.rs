//! Household Setting > VTO No. Management (manual 5.1) and VTS Management
//! (5.3): one page for both lists. Add (number, Register Password, IP
//! Address), Modify (a VTO's Rec No. and the IP Address), Delete after a
//! question, Clear. This VTO is listed "in use", without Modify or Delete.
//! A generated Register Password is shown once.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        dialog::{ConfirmDialog, Dialog},
        form::{while_busy, Field, FormErrors, FormMessage},
        hydration::use_hydrated,
        notice::loaded,
    },
    model::{
        room::check_register_password,
        station::{Station, StationEntry, StationKind, StationPage as Page},
    },
};

#[component]
pub fn StationsPage(kind: StationKind) -> impl IntoView {
    view! {
        <h1>{kind.page()}</h1>
        {loaded(move || api::stations(kind), move |p| view! { <StationList kind saved=p /> })}
    }
}

/// What the list is for, under its title.
fn hint(kind: StationKind) -> &'static str {
    match kind {
        StationKind::Vto => {
            "Door stations that register here: monitors and other door stations call them by Rec No. Each may register only from its IP Address."
        }
        StationKind::Vts => {
            "A call to the Centre Call No. (Local Setting > Basic) rings every VTS here, within the Call Centre Time."
        }
    }
}

#[component]
fn StationList(kind: StationKind, saved: Page) -> impl IntoView {
    let hydrated = use_hydrated();
    let key = kind.key();
    let label = kind.label();
    let list = RwSignal::new(saved.list);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let editing = RwSignal::new(false);
    // The number of the station being modified (None: adding).
    let modifying = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(None::<String>);
    let delete_open = RwSignal::new(false);
    let clear_open = RwSignal::new(false);
    let shown_once = RwSignal::new(Vec::<(String, String)>::new());
    let no = RwSignal::new(String::new());
    let ip = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let station = move || Station {
        number: no.get().trim().to_string(),
        ip: ip.get().trim().to_string(),
    };
    // A password is asked when adding, and when a VTO gets a new Rec No.
    let asks_password = move || match modifying.get() {
        None => true,
        Some(old) => no.with(|n| n.trim() != old),
    };
    let local = move || {
        let mut e = station().validate(kind);
        let p = password.get();
        if asks_password() && !p.is_empty() {
            if let Err(m) = check_register_password(&p) {
                e.push((kind.field("password"), m));
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
    let error_for = errors.after_submit(submitted, local);
    let dialog_message = RwSignal::new(None::<(bool, String)>);
    let stored = move || list.with(|l| l.iter().filter(|e| !e.in_use).count());

    let open = move |entry: Option<Station>| {
        message.set(None);
        dialog_message.set(None);
        submitted.set(false);
        modifying.set(entry.as_ref().map(|e| e.number.clone()));
        let v = entry.unwrap_or_default();
        no.set(v.number);
        ip.set(v.ip);
        password.set(String::new());
        editing.set(true);
    };
    let show = move |page: Page, text: String| {
        list.set(page.list);
        shown_once.set(page.new_passwords);
        let text = if page.warnings.is_empty() {
            text
        } else {
            format!("{text} {}.", page.warnings.join(". "))
        };
        message.set(Some((true, text)));
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !local().is_empty() {
            return;
        }
        let (v, old) = (station(), modifying.get_untracked());
        let typed = Some(password.get_untracked()).filter(|p| !p.is_empty());
        busy.set(true);
        spawn_local(async move {
            let r = match old {
                Some(old) => api::save_station(kind, old, v.clone(), typed).await,
                None => api::add_station(kind, v.clone(), typed).await,
            };
            busy.set(false);
            match r {
                Ok(page) => {
                    editing.set(false);
                    show(page, format!("Saved: {label} {}.", v.number));
                }
                Err(e) => errors.take(e, dialog_message),
            }
        });
    };
    let delete = move |which: Option<String>| {
        while_busy(busy, api::delete_station(kind, which.clone()), move |r| {
            delete_open.set(false);
            clear_open.set(false);
            match r {
                Ok(page) => {
                    let text = match which {
                        Some(n) => format!("Deleted: {label} {n}."),
                        None => "Cleared.".to_string(),
                    };
                    show(page, text);
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let title = match kind {
        StationKind::Vto => "Door Stations",
        StationKind::Vts => "Management Centres",
    };
    let dialog_title = match kind {
        StationKind::Vto => "VTO",
        StationKind::Vts => "VTS",
    };

    view! {
        <section class="card wide" aria-labelledby=format!("{key}-list-title")>
            <div class="card-head">
                <h2 id=format!("{key}-list-title")>{title}</h2>
                <span class="muted" id=format!("{key}-count")>
                    {move || format!("{} / {}", stored(), kind.max())}
                </span>
            </div>
            <p class="hint">{hint(kind)}</p>
            <Show
                when=move || list.with(|l| !l.is_empty())
                fallback=move || view! {
                    <p class="muted" id=format!("{key}-empty")>{format!("No {label} yet: click Add.")}</p>
                }
            >
                <div class="table-wrap">
                    <table class="log" id=format!("{key}-table")>
                        <thead>
                            <tr>
                                <th>{kind.number_label()}</th>
                                <th>"IP Address"</th>
                                <th>"Status"</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || list.get() key=|e: &StationEntry| format!("{e:?}") let:entry>
                                {
                                    let for_modify = entry.station.clone();
                                    let number = entry.station.number.clone();
                                    let state = if entry.online { "Online" } else { "Offline" };
                                    view! {
                                        <tr data-station=entry.station.number.clone() class:in-use=entry.in_use>
                                            <td>{entry.station.number.clone()}</td>
                                            <td>{entry.station.ip.clone()}</td>
                                            <td><span class="state" class:ok=entry.online>{state}</span></td>
                                            <td class="row-actions">
                                                {if entry.in_use {
                                                    view! { <span class="tag" title="This VTO: it cannot be modified or deleted">"In use"</span> }.into_any()
                                                } else {
                                                    view! {
                                                        <button type="button" class="secondary small" on:click=move |_| open(Some(for_modify.clone()))>
                                                            "Modify"
                                                        </button>
                                                        <button type="button" class="secondary small danger" on:click=move |_| {
                                                            deleting.set(Some(number.clone()));
                                                            delete_open.set(true);
                                                        }>
                                                            "Delete"
                                                        </button>
                                                    }.into_any()
                                                }}
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
                <p class="warning shown-once" id=format!("{key}-password-once") role="status">
                    {move || shown_once.get().into_iter().map(|(n, p)| format!(
                        "Register Password of {label} {n}, shown this once: {p}"
                    )).collect::<Vec<_>>().join(" ")}
                </p>
            </Show>
            <FormMessage message />
            <div class="actions left">
                <button
                    type="button"
                    id=format!("{key}-add")
                    class="primary"
                    disabled=move || { !hydrated.get() || stored() >= kind.max() }
                    on:click=move |_| open(None)
                >
                    "Add"
                </button>
                <button
                    type="button"
                    id=format!("{key}-clear-open")
                    class="secondary danger"
                    disabled=move || { !hydrated.get() || stored() == 0 }
                    on:click=move |_| clear_open.set(true)
                >
                    "Clear"
                </button>
            </div>
        </section>

        <Dialog open=editing title=dialog_title>
            <form id=format!("{key}-form") on:submit=save novalidate>
                <div class="grid-2">
                    {move || {
                        // A VTS No. stays; a VTO's Rec No. may change.
                        let readonly = kind == StationKind::Vts && modifying.get().is_some();
                        view! {
                            <Field id=kind.field("no") label=kind.number_label() value=no error=error_for(kind.field("no")) readonly autofocus=!readonly />
                        }
                    }}
                    <Show when=asks_password>
                        <Field id=kind.field("password") label="Register Password" kind="password" autocomplete="new-password" value=password error=error_for(kind.field("password"))>
                            <p class="hint">"Empty: a strong one is generated and shown once."</p>
                        </Field>
                    </Show>
                    <Field id=kind.field("ip") label="IP Address" value=ip error=error_for(kind.field("ip")) />
                </div>
                <FormMessage message=dialog_message />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" id=format!("{key}-save") class="primary" disabled=move || busy.get()>
                        "Save"
                    </button>
                </div>
            </form>
        </Dialog>

        <ConfirmDialog
            open=delete_open
            title="Delete"
            question=Signal::derive(move || {
                deleting.get().map(|n| format!("Delete {label} {n}? It is unregistered.")).unwrap_or_default()
            })
            id=kind.field("delete")
            confirm="Delete"
            busy
            on_confirm=move || delete(deleting.get_untracked())
        />
        <ConfirmDialog
            open=clear_open
            title="Clear"
            question=Signal::derive(move || {
                match kind {
                    StationKind::Vto => "Delete every VTO but this one? They are unregistered.".to_string(),
                    StationKind::Vts => "Delete every VTS? They are unregistered.".to_string(),
                }
            })
            id=kind.field("clear")
            confirm="Clear"
            busy
            on_confirm=move || delete(None)
        />
    }
}
