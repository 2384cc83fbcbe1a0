//! The door: the lock and the door as the device sees them (live: the
//! browser waits on the device for each change), the latest alarms, the
//! last attempt to open, an Unlock button and, when the lock is the
//! built-in simulator, its controls.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{form::Field, notice::suspended},
    error::ApiError,
    model::access::{DoorStatus, SimAction, UnlockVia},
};

/// `status`: the door's first status (`api::door_status(0)`), made by the
/// page outside any Suspense (see [`crate::components::role::resource_if_may`]).
#[component]
pub fn DoorPanel(status: Resource<Result<DoorStatus, ApiError>>) -> impl IntoView {
    view! {
        <section class="card door" aria-labelledby="door-title">
            <h2 id="door-title">"Door"</h2>
            {suspended(status, |s| view! { <Door first=s /> })}
        </section>
    }
}

#[component]
fn Door(first: DoorStatus) -> impl IntoView {
    let status = RwSignal::new(first);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let hydrated = crate::components::hydration::use_hydrated();
    crate::components::hydration::follow(status, |s| s.version, api::door_status);

    let unlock = move |_| {
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            let answer = api::unlock(UnlockVia::Ui).await;
            busy.try_set(false);
            message.try_set(Some(match answer {
                Ok(r) => match r.refused {
                    None => (true, "Unlocked.".into()),
                    Some(why) => (false, format!("Not unlocked: {}.", why.label())),
                },
                Err(e) => (false, e.to_string()),
            }));
        });
    };
    let act = move |action: SimAction| {
        spawn_local(async move {
            match api::simulate(action).await {
                // A stale answer heals itself: the device's next answer
                // to `follow` differs from it.
                Ok(s) => {
                    status.try_set(s);
                }
                Err(e) => {
                    message.try_set(Some((false, e.to_string())));
                }
            }
        });
    };

    view! {
        <div class="door-state">
            <div>
                <span class="label">"Lock"</span>
                <span
                    id="lock-state"
                    class=move || if status.get().lock_open { "state ok" } else { "state locked" }
                >
                    {move || if status.get().lock_open { "Open" } else { "Locked" }}
                </span>
            </div>
            <div>
                <span class="label">"Door"</span>
                <span
                    id="door-state"
                    class=move || if status.get().door_open { "state open" } else { "state locked" }
                >
                    {move || if status.get().door_open { "Open" } else { "Closed" }}
                </span>
            </div>
            <button
                type="button"
                id="unlock"
                class="primary"
                disabled=move || !hydrated.get() || busy.get()
                on:click=unlock
            >
                "Unlock"
            </button>
        </div>
        <p class="form-message" class:ok=move || message.get().is_some_and(|m| m.0) role="status" id="unlock-message">
            {move || message.get().map(|m| m.1)}
        </p>
        {move || {
            let s = status.get();
            s.fault.map(|f| view! { <p class="alarm" id="lock-fault">"Lock output fault: " {f}</p> })
        }}
        <ul class="alarms" id="door-alarms" aria-live="assertive">
            {move || {
                let s = status.get();
                s.alarms
                    .iter()
                    .rev()
                    .map(|a| {
                        view! {
                            <li class="alarm">
                                <strong>{a.kind.label()}</strong>
                                " at "
                                {s.display.format(a.time)}
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <p class="hint" id="last-unlock">
            {move || {
                let s = status.get();
                match s.last {
                    Some(r) => {
                        format!(
                            "Last: {} by {} at {}: {}{}",
                            r.method.label(),
                            if r.who.is_empty() { "-" } else { &r.who },
                            s.display.format(r.time),
                            r.result(),
                            if r.refused.is_some() { format!(" ({})", r.reason()) } else { String::new() },
                        )
                    }
                    None => "No unlock since the device started.".into(),
                }
            }}
        </p>
        <Show when=move || status.get().simulated>
            <div class="simulator" id="simulator">
                <h3>
                    "Simulator " <span class="tag">"No lock hardware: a simulated door"</span>
                </h3>
                <p class="hint">
                    "Works the door as a person there would. Relay: "
                    <span id="relay-state">
                        {move || if status.get().relay_energized { "energized" } else { "released" }}
                    </span>
                    {move || {
                        if status.get().relay_energized == status.get().lock_open {
                            " (NO lock)"
                        } else {
                            " (NC lock)"
                        }
                    }}
                </p>
                <div class="actions left">
                    {SimAction::ALL
                        .iter()
                        .map(|&a| {
                            view! {
                                <button
                                    type="button"
                                    class="secondary"
                                    id=format!("sim-{}", a.key())
                                    disabled=move || !hydrated.get()
                                    on:click=move |_| act(a)
                                >
                                    {a.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                <SimInputs status message />
            </div>
        </Show>
    }
}

/// The simulator's card reader and keypad.
#[component]
fn SimInputs(
    status: RwSignal<DoorStatus>,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let card = RwSignal::new(String::new());
    let card_error = RwSignal::new(None::<String>);
    let room = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let done = move |answer: Result<DoorStatus, crate::error::ApiError>,
                     error: RwSignal<Option<String>>| match answer {
        Ok(s) => {
            status.try_set(s);
        }
        Err(crate::error::ApiError::Invalid { message: m, .. }) => {
            error.try_set(Some(m));
        }
        Err(e) => {
            message.try_set(Some((false, e.to_string())));
        }
    };
    let swipe = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        card_error.set(None);
        let number = card.get();
        spawn_local(async move { done(api::present_card(number).await, card_error) });
    };
    let keypad_error = RwSignal::new(None::<String>);
    let enter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        keypad_error.set(None);
        let (r, p) = (room.get(), password.get());
        password.set(String::new());
        spawn_local(async move { done(api::enter_password(r, p).await, keypad_error) });
    };
    view! {
        <div class="grid-2 sim-inputs">
            <form id="sim-card-form" on:submit=swipe novalidate>
                <Field id="sim-card" label="Card No." value=card error=card_error />
                <button type="submit" class="secondary">"Swipe Card"</button>
            </form>
            <form id="sim-keypad-form" on:submit=enter novalidate>
                <div class="grid-2">
                    <Field id="sim-room" label="Room No." value=room />
                    <Field id="sim-password" label="Access Password" kind="password" value=password error=keypad_error />
                </div>
                <button type="submit" class="secondary">"Enter on Keypad"</button>
            </form>
        </div>
    }
}
