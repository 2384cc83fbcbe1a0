//! Room No. Management > Issue Card (manual 5.2.3), one room: its access
//! cards (Main Card, Lost, Modify the user name, Delete), Issue Card with
//! its countdown (swipe at the VTO, name each card in the Issue Card
//! dialog, Save, then Confirm Send Card), and the room's Access Password
//! for the keypad (write-only).

use leptos::{prelude::*, task::spawn_local};
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    api,
    components::{
        dialog::{ConfirmDialog, Dialog},
        form::{Field, FormMessage},
        hydration::{every, use_hydrated},
        notice::suspended,
    },
    error::ApiError,
    model::card::{Card, CardChange, RoomCards},
};

#[component]
pub fn CardsPage() -> impl IntoView {
    let params = use_params_map();
    let room = move || params.with(|p| p.get("room").unwrap_or_default());
    let page = Resource::new(room, api::room_cards);
    view! {
        <h1>"Issue Card"</h1>
        <p>
            <A href="/household/room">"\u{2190} Room No. Management"</A>
        </p>
        {suspended(page, |p| view! { <Cards first=p /> })}
    }
}

/// Runs `call`, then shows its page or puts its error in `message`.
fn apply(
    page: RwSignal<RoomCards>,
    message: RwSignal<Option<(bool, String)>>,
    done: &'static str,
    call: impl std::future::Future<Output = Result<RoomCards, ApiError>> + 'static,
) {
    message.set(None);
    spawn_local(async move {
        match call.await {
            Ok(p) => {
                page.try_set(p);
                if !done.is_empty() {
                    message.try_set(Some((true, done.to_string())));
                }
            }
            Err(e) => {
                message.try_set(Some((false, e.to_string())));
            }
        }
    });
}

#[component]
fn Cards(first: RoomCards) -> impl IntoView {
    let page = RwSignal::new(first);
    let message = RwSignal::new(None::<(bool, String)>);
    let hydrated = use_hydrated();
    let room = move || page.with_untracked(|p| p.room_no.clone());

    // While a countdown runs, the page asks for the cards swiped each second.
    every(1000, move || {
        if page.with_untracked(|p| p.issuing.is_some()) {
            let room = room();
            spawn_local(async move {
                if let Ok(p) = api::room_cards(room).await {
                    page.try_set(p);
                }
            });
        }
    });

    let renaming = RwSignal::new(false);
    let rename_number = RwSignal::new(String::new());
    let rename_name = RwSignal::new(String::new());
    let deleting = RwSignal::new(false);
    let delete_number = RwSignal::new(String::new());
    let busy = RwSignal::new(false);

    let change = move |number: String, change: CardChange| {
        apply(
            page,
            message,
            "Saved.",
            api::change_card(room(), number, change),
        );
    };
    let issue = move |_| apply(page, message, "", api::issue_card(room()));

    view! {
        <section class="card wide" aria-labelledby="cards-title">
            <div class="card-head">
                <h2 id="cards-title">{move || format!("Room {}", page.get().room_no)}</h2>
                <button type="button" id="issue-card" class="primary" disabled=move || !hydrated.get() on:click=issue>
                    "Issue Card"
                </button>
            </div>
            <FormMessage message />
            <Show when=move || page.get().issuing.is_some()>
                <Countdown page message />
            </Show>
            <div class="table-wrap">
                <table class="log" id="card-list">
                    <thead>
                        <tr>
                            <th>"Card No."</th>
                            <th>"User Name"</th>
                            <th>"Main Card"</th>
                            <th>"Lost"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || page.get().cards key=|c: &Card| format!("{c:?}") let:card>
                            {
                                let Card { number, name, main, lost, .. } = card;
                                let (n1, n2, n3, n4) = (number.clone(), number.clone(), number.clone(), number.clone());
                                let old_name = name.clone();
                                view! {
                                    <tr data-card=number.clone() class:warn=lost>
                                        <td class="mono">{number.clone()}</td>
                                        <td>{name}</td>
                                        <td>
                                            <button
                                                type="button"
                                                class="secondary small"
                                                class:on=main
                                                aria-pressed=if main { "true" } else { "false" }
                                                title="The main card issues new cards for this room at the VTO"
                                                on:click=move |_| change(n1.clone(), CardChange::SetMain(!main))
                                            >
                                                {if main { "\u{2605} Main card" } else { "\u{2606} Set main" }}
                                            </button>
                                        </td>
                                        <td>
                                            <button
                                                type="button"
                                                class="secondary small"
                                                class:on=lost
                                                aria-pressed=if lost { "true" } else { "false" }
                                                on:click=move |_| change(n2.clone(), CardChange::SetLost(!lost))
                                            >
                                                {if lost { "Lost: resume" } else { "Set lost" }}
                                            </button>
                                        </td>
                                        <td class="row-actions">
                                            <button type="button" class="secondary small" on:click=move |_| {
                                                rename_number.set(n3.clone());
                                                rename_name.set(old_name.clone());
                                                renaming.set(true);
                                            }>
                                                "Modify"
                                            </button>
                                            <button type="button" class="secondary small danger" on:click=move |_| {
                                                delete_number.set(n4.clone());
                                                deleting.set(true);
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
            {move || page.get().cards.is_empty().then(|| view! { <p class="muted">"No cards yet: Issue Card, then swipe them at the VTO."</p> })}
        </section>
        <AccessPassword page />

        <Dialog open=renaming title="Modify">
            <form id="rename-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                renaming.set(false);
                change(rename_number.get(), CardChange::Rename(rename_name.get()));
            } novalidate>
                <Field id="rename-name" label="User Name" value=rename_name autofocus=true />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| renaming.set(false)>"Cancel"</button>
                    <button type="submit" id="rename-save" class="primary">"Save"</button>
                </div>
            </form>
        </Dialog>
        <ConfirmDialog
            open=deleting
            title="Delete"
            question=Signal::derive(move || format!("Delete card {}?", delete_number.get()))
            id="card-delete"
            confirm="Delete"
            busy
            on_confirm=move || {
                deleting.set(false);
                change(delete_number.get(), CardChange::Delete);
            }
        />
    }
}

/// The countdown notice: swipe cards at the VTO; each captured card gets
/// a name (the Issue Card dialog); Confirm Send Card saves them.
#[component]
fn Countdown(
    page: RwSignal<RoomCards>,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let room = move || page.with_untracked(|p| p.room_no.clone());
    let issuing = move || page.get().issuing.unwrap_or_default();
    let naming = RwSignal::new(false);
    let number = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let name_error = RwSignal::new(None::<String>);
    let save_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (room, number, name_now) = (room(), number.get(), name.get());
        spawn_local(async move {
            match api::name_card(room, number, name_now).await {
                Ok(p) => {
                    page.try_set(p);
                    naming.try_set(false);
                }
                Err(ApiError::Invalid { message: m, .. }) => {
                    name_error.try_set(Some(m));
                }
                Err(e) => {
                    name_error.try_set(Some(e.to_string()));
                }
            }
        });
    };
    // The first captured card without a name opens the dialog.
    Effect::new(move |_| {
        let waiting = issuing().captured.into_iter().find(|c| c.name.is_empty());
        if let Some(c) = waiting {
            if !naming.get_untracked() {
                number.set(c.number);
                name.set(String::new());
                name_error.set(None);
                naming.set(true);
            }
        }
    });
    let confirm = move |_| {
        apply(
            page,
            message,
            "Cards sent: they open the door now.",
            api::confirm_send_card(room()),
        );
    };
    let cancel = move |_| apply(page, message, "", api::cancel_issue(room()));
    view! {
        <div class="countdown" id="countdown" role="status">
            <p>
                {move || {
                    let i = issuing();
                    if i.secs_left > 0 {
                        format!("Swipe the card on the VTO. {} s left.", i.secs_left)
                    } else {
                        "The countdown is over: Confirm Send Card saves the cards named below.".to_string()
                    }
                }}
            </p>
            <ul id="captured">
                {move || {
                    issuing()
                        .captured
                        .into_iter()
                        .map(|c| {
                            view! {
                                <li>
                                    <span class="mono">{c.number}</span>
                                    " "
                                    {if c.name.is_empty() { "(no name yet)".to_string() } else { c.name }}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            {move || {
                let refused = issuing().refused;
                (!refused.is_empty())
                    .then(|| view! { <p class="hint">"Belongs to another room, not taken: " {refused.join(", ")}</p> })
            }}
            <div class="actions left">
                <button type="button" id="confirm-send-card" class="primary" on:click=confirm>
                    "Confirm Send Card"
                </button>
                <button type="button" id="cancel-issue" class="secondary" on:click=cancel>
                    "Cancel"
                </button>
            </div>
        </div>
        <Dialog open=naming title="Issue Card">
            <form id="issue-form" on:submit=save_name novalidate>
                <p>"Card No. " <span class="mono" id="issue-number">{move || number.get()}</span></p>
                <Field id="card-name" label="User Name" value=name error=name_error autofocus=true />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| naming.set(false)>"Cancel"</button>
                    <button type="submit" id="card-name-save" class="primary">"Save"</button>
                </div>
            </form>
        </Dialog>
    }
}

/// The room's keypad access password: set (4 to 8 digits) or clear; never
/// shown.
#[component]
fn AccessPassword(page: RwSignal<RoomCards>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);
    let room = move || page.with_untracked(|p| p.room_no.clone());
    let set = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let p = password.get();
        if let Err(m) = crate::model::card::validate_access_password(&p) {
            error.set(Some(m));
            return;
        }
        password.set(String::new());
        apply(
            page,
            message,
            "Access Password saved.",
            api::set_access_password(room(), Some(p)),
        );
    };
    let clear = move |_| {
        apply(
            page,
            message,
            "Access Password cleared.",
            api::set_access_password(room(), None),
        );
    };
    view! {
        <section class="card wide" aria-labelledby="access-password-title">
            <h2 id="access-password-title">"Access Password"</h2>
            <p class="hint" id="access-password-state">
                {move || if page.get().password_set {
                    "Set: typed on the VTO's keypad with the room number, it opens the door. Five wrong ones block the keypad for 5 minutes."
                } else {
                    "Not set: the keypad does not open for this room."
                }}
            </p>
            <form id="access-password-form" on:submit=set novalidate>
                <Field id="access-password" label="Access Password" kind="password" autocomplete="new-password" value=password error=error />
                <FormMessage message />
                <div class="actions">
                    <button type="button" id="access-password-clear" class="secondary" on:click=clear>"Clear"</button>
                    <button type="submit" class="primary">"Save"</button>
                </div>
            </form>
        </section>
    }
}
