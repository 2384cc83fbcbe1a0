//! Network Setting > IP Permissions (manual 6.3): White List or Black List,
//! one at a time; Add single addresses or IP sections (start-end or CIDR).
//! Confirm saves the page; it takes effect for the next connection.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{Check, Field, Select, SettingsActions, SettingsPage},
        hydration::use_hydrated,
        notice::loaded,
    },
    model::ip_permissions::{parse_entry, IpPermissions, ListMode, MAX_ENTRIES},
};

#[component]
pub fn IpPermissionsPage() -> impl IntoView {
    view! {
        <h1>"IP Permissions"</h1>
        {loaded(api::ip_permissions, |s| view! { <PermissionsForm saved=s /> })}
    }
}

#[component]
fn PermissionsForm(saved: IpPermissions) -> impl IntoView {
    let hydrated = use_hydrated();
    let enabled = RwSignal::new(saved.enabled);
    let mode = RwSignal::new(saved.mode.key().to_string());
    let white = RwSignal::new(saved.white_list.clone());
    let black = RwSignal::new(saved.black_list.clone());
    let entry = RwSignal::new(String::new());
    let entry_error = RwSignal::new(None::<String>);

    let current = move || IpPermissions {
        enabled: enabled.get(),
        mode: ListMode::from_key(&mode.get()).unwrap_or_default(),
        white_list: white.get(),
        black_list: black.get(),
    };
    let fill = move |s: IpPermissions| {
        enabled.set(s.enabled);
        mode.set(s.mode.key().to_string());
        white.set(s.white_list);
        black.set(s.black_list);
    };
    let list = move || {
        if ListMode::from_key(&mode.get()) == Some(ListMode::BlackList) {
            black
        } else {
            white
        }
    };
    let page = SettingsPage::new(move || {
        enabled.track();
        mode.track();
        white.track();
        black.track();
    });
    let SettingsPage {
        message, errors, ..
    } = page;
    let white_error = errors.signal("white-list", move || current().validate());
    let black_error = errors.signal("black-list", move || current().validate());
    let list_error = Signal::derive(move || {
        if list() == black {
            black_error.get()
        } else {
            white_error.get()
        }
    });
    Effect::new(move |_| {
        entry.track();
        entry_error.set(None);
    });

    let add = move |_| {
        let e = entry.get_untracked().trim().to_string();
        if let Err(m) = parse_entry(&e) {
            entry_error.set(Some(m.to_string()));
            return;
        }
        let target = list();
        if target.with_untracked(|l| l.contains(&e)) {
            entry_error.set(Some("Already in the list".into()));
            return;
        }
        if target.with_untracked(Vec::len) >= MAX_ENTRIES {
            entry_error.set(Some(format!("At most {MAX_ENTRIES} entries")));
            return;
        }
        target.update(|l| l.push(e));
        entry.set(String::new());
    };

    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let s = current();
        if !s.validate().is_empty() {
            return;
        }
        page.save(api::save_ip_permissions(s), move |s| {
            fill(s);
            "Saved: in effect for new connections.".into()
        });
    };
    let refresh = move |()| page.refresh(api::ip_permissions(), fill);
    let modes: Vec<(&'static str, &'static str)> = [ListMode::WhiteList, ListMode::BlackList]
        .into_iter()
        .map(|m| (m.key(), m.label()))
        .collect();

    view! {
        <section class="card wide" aria-labelledby="ip-permissions">
            <h2 id="ip-permissions">"IP Permissions"</h2>
            <p class="muted">
                "White list: only the addresses in the list can reach the device. Black list: the addresses in the list cannot. A refused address gets no page at all."
            </p>
            <form id="ip-form" on:submit=confirm novalidate>
                <Check id="ip-enable" label="Enable" checked=enabled />
                <Select id="list-type" label="List Type" options=modes value=mode />
                <div class="field" class:has-error=move || list_error.get().is_some()>
                    <p class="label" id="ip-list-label">
                        {move || {
                            if list() == black { "Black List" } else { "White List" }
                        }}
                    </p>
                    <ul class="ip-list" id="ip-list" aria-labelledby="ip-list-label">
                        {move || {
                            let target = list();
                            let items = target.get();
                            if items.is_empty() {
                                view! { <li class="muted">"No entries"</li> }.into_any()
                            } else {
                                items
                                    .into_iter()
                                    .map(|e| {
                                        let gone = e.clone();
                                        view! {
                                            <li>
                                                <span class="mono">{e}</span>
                                                <button
                                                    type="button"
                                                    class="link"
                                                    on:click=move |_| target.update(|l| l.retain(|x| *x != gone))
                                                >
                                                    "Delete"
                                                </button>
                                            </li>
                                        }
                                    })
                                    .collect_view()
                                    .into_any()
                            }
                        }}
                    </ul>
                    <p class="field-error" id="ip-list-error" role="alert">{move || list_error.get()}</p>
                </div>
                <div class="add-row">
                    <Field id="ip-entry" label="IP Address or IP Section" value=entry error=entry_error>
                        <p class="hint">"e.g. 192.168.1.20, 192.168.1.10-192.168.1.50, 192.168.1.0/24 or fd00::/8"</p>
                    </Field>
                    <button type="button" id="ip-add" class="secondary" disabled=move || !hydrated.get() on:click=add>
                        "Add"
                    </button>
                </div>
                <SettingsActions
                    id="ip"
                    submit="Confirm"
                    on_default=Callback::new(move |()| page.defaults("Confirm", || fill(IpPermissions::default())))
                    on_refresh=Callback::new(refresh)
                    settings=page
                />
            </form>
        </section>
    }
}
