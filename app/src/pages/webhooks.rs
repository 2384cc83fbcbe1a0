//! Network Setting > Webhooks: the URLs the door's events are POSTed to
//! (at most 8), Add / Modify in a dialog, Test, Delete after a question,
//! and the deliveries with their results (Refresh reloads them).

use leptos::prelude::*;

use crate::{
    api,
    components::{
        dialog::{ConfirmDialog, Dialog},
        form::{while_busy, Check, Field, FormErrors, FormMessage, WriteOnlyPassword},
        hydration::use_hydrated,
        notice::loaded,
    },
    model::{
        mail::PasswordUpdate,
        webhook::{HookEvent, HookSave, Webhook, WebhooksPage, MAX_SECRET, MAX_WEBHOOKS},
    },
};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <h1>"Webhooks"</h1>
        {loaded(api::webhooks, |p| view! { <HookList saved=p /> })}
    }
}

/// The dialog's fields.
#[derive(Clone, Copy)]
struct Form {
    id: RwSignal<u32>,
    url: RwSignal<String>,
    /// One box per event, in [`HookEvent::ALL`]'s order.
    events: [RwSignal<bool>; 4],
    enabled: RwSignal<bool>,
    secret: RwSignal<String>,
    clear_secret: RwSignal<bool>,
    has_secret: RwSignal<bool>,
}

impl Form {
    fn new() -> Self {
        Self {
            id: RwSignal::new(0),
            url: RwSignal::new(String::new()),
            events: [(); 4].map(|()| RwSignal::new(true)),
            enabled: RwSignal::new(true),
            secret: RwSignal::new(String::new()),
            clear_secret: RwSignal::new(false),
            has_secret: RwSignal::new(false),
        }
    }

    fn fill(&self, h: &Webhook) {
        self.id.set(h.id);
        self.url.set(h.url.clone());
        for (e, s) in HookEvent::ALL.iter().zip(self.events) {
            s.set(h.events.contains(e));
        }
        self.enabled.set(h.enabled);
        self.secret.set(String::new());
        self.clear_secret.set(false);
        self.has_secret.set(h.has_secret);
    }

    fn hook(&self) -> Webhook {
        Webhook {
            id: self.id.get(),
            url: self.url.get().trim().to_string(),
            events: HookEvent::ALL
                .iter()
                .zip(self.events)
                .filter(|(_, s)| s.get())
                .map(|(e, _)| *e)
                .collect(),
            enabled: self.enabled.get(),
            has_secret: false,
        }
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        let mut e = self.hook().validate();
        if self.secret.get().chars().count() > MAX_SECRET {
            e.push(("hook-secret", format!("At most {MAX_SECRET} characters")));
        }
        e
    }

    fn track(&self) {
        self.url.track();
        self.secret.track();
        for s in self.events {
            s.track();
        }
    }
}

fn events_text(h: &Webhook) -> String {
    h.events
        .iter()
        .map(|e| e.label())
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn HookList(saved: WebhooksPage) -> impl IntoView {
    let hydrated = use_hydrated();
    let page = RwSignal::new(saved);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let editing = RwSignal::new(false);
    let deleting = RwSignal::new(None::<Webhook>);
    let delete_open = RwSignal::new(false);
    let form = Form::new();
    let submitted = RwSignal::new(false);
    let errors = FormErrors::new(move || form.track());
    let error_for = errors.after_submit(submitted, move || form.errors());
    let dialog_message = RwSignal::new(None::<(bool, String)>);

    let open = move |h: Webhook| {
        message.set(None);
        dialog_message.set(None);
        submitted.set(false);
        form.fill(&h);
        editing.set(true);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !form.errors().is_empty() {
            return;
        }
        let save = HookSave {
            hook: form.hook(),
            secret: PasswordUpdate::from_form(
                form.secret.get_untracked(),
                form.clear_secret.get_untracked(),
            ),
        };
        let url = save.hook.url.clone();
        while_busy(busy, api::save_webhook(save), move |r| match r {
            Ok(p) => {
                page.set(p);
                editing.set(false);
                message.set(Some((true, format!("Saved: {url}."))));
            }
            Err(e) => errors.take(e, dialog_message),
        });
    };
    let delete = move || {
        let Some(h) = deleting.get_untracked() else {
            return;
        };
        while_busy(busy, api::delete_webhook(h.id), move |r| {
            delete_open.set(false);
            match r {
                Ok(p) => {
                    page.set(p);
                    message.set(Some((true, format!("Deleted: {}.", h.url))));
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let reload = move || {
        leptos::task::spawn_local(async move {
            match api::webhooks().await {
                Ok(p) => page.set(p),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let test = move |h: Webhook| {
        message.set(None);
        while_busy(busy, api::test_webhook(h.id), move |r| {
            match r {
                Ok(d) => message.set(Some((
                    d.result.delivered(),
                    format!("Test to {}: {}.", h.url, d.result.text()),
                ))),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
            reload();
        });
    };

    let hooks = move || page.with(|p| p.hooks.clone());
    let full = move || page.with(|p| p.hooks.len() >= MAX_WEBHOOKS);
    view! {
        <section class="card wide" aria-labelledby="hooks-title">
            <div class="card-head">
                <h2 id="hooks-title">"Webhooks"</h2>
                <span class="muted" id="hook-count">
                    {move || format!("{} / {MAX_WEBHOOKS}", page.with(|p| p.hooks.len()))}
                </span>
            </div>
            <p class="muted">
                "On the events chosen, the device POSTs JSON to the URL and tries again with back-off (after 2 s, 10 s, 1 min and 5 min) until the receiver answers 2xx. With a Secret, each request carries X-Vto-Signature: sha256= and the HMAC-SHA256 of its body."
            </p>
            <Show
                when=move || page.with(|p| !p.hooks.is_empty())
                fallback=|| view! { <p class="muted" id="hook-empty">"No webhooks yet: click Add."</p> }
            >
                <div class="table-wrap">
                    <table class="log" id="hook-table">
                        <thead>
                            <tr>
                                <th>"URL"</th>
                                <th>"Events"</th>
                                <th>"Enable"</th>
                                <th>"Secret"</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=hooks key=|h| format!("{h:?}") let:h>
                                {
                                    let (for_modify, for_test, for_delete) = (h.clone(), h.clone(), h.clone());
                                    view! {
                                        <tr data-id=h.id>
                                            <td class="mono">{h.url.clone()}</td>
                                            <td>{events_text(&h)}</td>
                                            <td>{if h.enabled { "On" } else { "Off" }}</td>
                                            <td>{if h.has_secret { "Set" } else { "None" }}</td>
                                            <td class="row-actions">
                                                <button type="button" class="secondary small" on:click=move |_| open(for_modify.clone())>
                                                    "Modify"
                                                </button>
                                                <button
                                                    type="button"
                                                    class="secondary small"
                                                    disabled=move || busy.get()
                                                    on:click=move |_| test(for_test.clone())
                                                >
                                                    "Test"
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
                    id="hook-add"
                    class="primary"
                    disabled=move || !hydrated.get() || full()
                    on:click=move |_| open(Webhook::default())
                >
                    "Add"
                </button>
            </div>
        </section>

        <section class="card wide" aria-labelledby="deliveries-title">
            <div class="card-head">
                <h2 id="deliveries-title">"Deliveries"</h2>
                <button type="button" id="deliveries-refresh" class="secondary small" disabled=move || !hydrated.get() on:click=move |_| reload()>
                    "Refresh"
                </button>
            </div>
            <Show
                when=move || page.with(|p| !p.deliveries.is_empty())
                fallback=|| view! { <p class="muted" id="deliveries-empty">"Nothing sent since the device started."</p> }
            >
                <div class="table-wrap">
                    <table class="log" id="delivery-table">
                        <thead>
                            <tr>
                                <th>"Time"</th>
                                <th>"Event"</th>
                                <th>"URL"</th>
                                <th>"Attempts"</th>
                                <th>"Result"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {move || {
                                let (display, deliveries) = page.with(|p| (p.display, p.deliveries.clone()));
                                deliveries
                                    .into_iter()
                                    .map(|d| {
                                        let event = HookEvent::from_key(&d.event)
                                            .map(|e| e.label().to_string())
                                            .unwrap_or_else(|| "Test".into());
                                        view! {
                                            <tr data-id=d.id class:warn=!d.result.delivered()>
                                                <td class="time">{display.format(d.time)}</td>
                                                <td>{event}</td>
                                                <td class="mono">{d.url.clone()}</td>
                                                <td>{d.attempts}</td>
                                                <td>{d.result.text()}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </tbody>
                    </table>
                </div>
            </Show>
        </section>

        <Dialog open=editing title="Webhook">
            <form id="hook-form" on:submit=save novalidate>
                <Field id="hook-url" label="URL" value=form.url error=error_for("hook-url") autofocus=true>
                    <p class="hint">"e.g. http://homeassistant.local:8123/api/webhook/front-door"</p>
                </Field>
                <fieldset class="group events" class:has-error=move || error_for("hook-events").get().is_some()>
                    <legend>"Events"</legend>
                    <Check id="hook-event-call" label="Call" checked=form.events[0] />
                    <Check id="hook-event-answer" label="Answer" checked=form.events[1] />
                    <Check id="hook-event-unlock" label="Unlock" checked=form.events[2] />
                    <Check id="hook-event-alarm" label="Alarm" checked=form.events[3] />
                    <p class="field-error" id="hook-events-error" role="alert">{move || error_for("hook-events").get()}</p>
                </fieldset>
                <WriteOnlyPassword
                    id="hook-secret"
                    label="Secret"
                    value=form.secret
                    stored=form.has_secret
                    clear=form.clear_secret
                    clear_id="hook-clear-secret"
                    error=error_for("hook-secret")
                    noun="secret"
                    destination="the URL's host"
                />
                <Check id="hook-enable" label="Enable" checked=form.enabled />
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
                deleting.get().map(|h| format!("Delete the webhook to {}?", h.url)).unwrap_or_default()
            })
            id="hook-delete"
            confirm="Delete"
            busy
            on_confirm=delete
        />
    }
}
