//! The door's Call button on the simulated door panel: a visitor's press
//! rings the room's indoor monitors. Shows the call as it goes (live: the
//! browser waits on the device for each change) and the door speaker's
//! level while somebody talks from a monitor.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{answer::CallFeed, form::Field, notice::suspended},
    error::ApiError,
    model::intercom::{CallPhase, CallStatus},
};

/// `status`: the call's first status (`api::call_status(0)`), made by the
/// page outside any Suspense (see [`crate::components::role::resource_if_may`]).
#[component]
pub fn CallPanel(status: Resource<Result<CallStatus, ApiError>>) -> impl IntoView {
    view! {
        <section class="card door-call" aria-labelledby="call-title">
            <h2 id="call-title">
                "Door Station " <span class="tag">"Simulator"</span>
            </h2>
            {suspended(status, |s| view! { <Call first=s /> })}
        </section>
    }
}

fn describe(s: &CallStatus) -> String {
    let since = s.since.map(|t| s.display.format(t)).unwrap_or_default();
    match s.phase {
        CallPhase::Idle => match &s.last {
            Some(l) => {
                let talk = l
                    .talk_ms
                    .map(|ms| format!(", talked {}:{:02}", ms / 60_000, ms / 1000 % 60))
                    .unwrap_or_default();
                if l.monitor {
                    format!("Last Monitor by {}{talk}.", l.callee)
                } else {
                    format!("Last call to {}: {}{talk}.", l.callee, l.end_state.label())
                }
            }
            None => "No call since the device started.".into(),
        },
        CallPhase::Ringing => format!("Calling {} since {since}…", s.callee),
        CallPhase::Message => format!(
            "Nobody answered {}: the visitor may leave a message.",
            s.callee
        ),
        CallPhase::Monitor => format!("Monitor: {} watches the door since {since}.", s.answered_by),
        CallPhase::Talking => format!(
            "Talking: {} answered at {since}.",
            if s.answered_by.is_empty() {
                &s.callee
            } else {
                &s.answered_by
            }
        ),
    }
}

#[component]
fn Call(first: CallStatus) -> impl IntoView {
    // The page's one follower of the call (the layout's), else its own.
    let status = match use_context::<CallFeed>() {
        Some(CallFeed(feed)) => {
            if feed.with_untracked(|s| s.version < first.version) {
                feed.set(first);
            }
            feed
        }
        None => {
            let status = RwSignal::new(first);
            crate::components::hydration::follow(status, |s| s.version, api::call_status);
            status
        }
    };
    let number = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let hydrated = crate::components::hydration::use_hydrated();
    let done = move |answer: Result<CallStatus, crate::error::ApiError>| match answer {
        Ok(s) => {
            status.try_update(|shown| shown.advance(s));
        }
        Err(crate::error::ApiError::Invalid { message, .. }) => {
            error.try_set(Some(message));
        }
        Err(e) => {
            error.try_set(Some(e.to_string()));
        }
    };
    let press = move |_| {
        error.set(None);
        spawn_local(async move { done(api::call_door(None).await) });
    };
    let dial = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let n = number.get();
        spawn_local(async move { done(api::call_door(Some(n)).await) });
    };
    let hang_up = move |_| {
        error.set(None);
        spawn_local(async move { done(api::hang_up().await) });
    };
    let idle = move || status.with(|s| s.phase == CallPhase::Idle);
    view! {
        <p class="hint">"What a visitor does at the door: Call rings the room's indoor monitors."</p>
        <div class="door-state">
            <div>
                <span class="label">"Call"</span>
                <span
                    id="call-state"
                    class=move || match status.get().phase {
                        CallPhase::Idle => "state locked",
                        CallPhase::Ringing | CallPhase::Message => "state open",
                        CallPhase::Talking | CallPhase::Monitor => "state ok",
                    }
                >
                    {move || status.get().phase.label()}
                </span>
            </div>
            <button
                type="button"
                id="call"
                class="primary"
                disabled=move || !hydrated.get() || !idle()
                on:click=press
            >
                "Call"
            </button>
            <button
                type="button"
                id="hang-up"
                class="secondary"
                disabled=move || {
                    !hydrated.get() || status.with(|s| matches!(s.phase, CallPhase::Idle | CallPhase::Message))
                }
                on:click=hang_up
            >
                "Hang Up"
            </button>
        </div>
        <p class="hint" id="call-message" role="status">{move || describe(&status.get())}</p>
        <div class="speaker">
            <label for="speaker-level">"Speaker"</label>
            <meter
                id="speaker-level"
                min="0"
                max="100"
                value=move || status.get().speaker_level
            ></meter>
        </div>
        <form id="dial-form" on:submit=dial novalidate>
            <Field id="call-number" label="Room No." value=number error=error>
                <p class="hint">"Dial a room, a monitor (9901#1) or the Centre Call No. on the keypad."</p>
            </Field>
            <button type="submit" class="secondary" id="dial" disabled=move || !hydrated.get() || !idle()>
                "Dial"
            </button>
        </form>
    }
}
