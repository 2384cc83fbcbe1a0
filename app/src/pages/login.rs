//! Login (manual ch. 2.1): user name `admin` and the password.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{Field, FormMessage},
        hydration::{load_page, use_hydrated},
    },
    error::ApiError,
    model::ADMIN_USER,
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let user = RwSignal::new(ADMIN_USER.to_string());
    let password = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    // Seconds left of a lockout, counted down in the page.
    let locked_for = RwSignal::new(0u64);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if locked_for.get_untracked() > 0 {
            return;
        }
        message.set(None);
        busy.set(true);
        spawn_local(async move {
            let result = api::login(user.get_untracked(), password.get_untracked()).await;
            busy.set(false);
            match result {
                Ok(()) => load_page("/"),
                Err(ApiError::Locked { retry_after_secs }) => {
                    password.set(String::new());
                    count_down(locked_for, retry_after_secs);
                }
                Err(e) => {
                    password.set(String::new());
                    message.set(Some((false, e.to_string())));
                }
            }
        });
    };

    let lock_message = Signal::derive(move || {
        let secs = locked_for.get();
        (secs > 0).then(|| {
            let locked = ApiError::Locked {
                retry_after_secs: secs,
            };
            (false, locked.to_string())
        })
    });

    view! {
        <main class="center-page">
            <div class="card narrow">
                <h1>"Login"</h1>
                <form id="login" on:submit=submit novalidate>
                    <Field id="username" label="Username" autocomplete="username" value=user />
                    <Field
                        id="password"
                        label="Password"
                        kind="password"
                        autocomplete="current-password"
                        value=password
                        autofocus=true
                    />
                    <FormMessage message />
                    <FormMessage message=lock_message />
                    <div class="actions">
                        <button
                            type="submit"
                            class="primary wide"
                            disabled=move || !hydrated.get() || busy.get() || locked_for.get() != 0
                        >
                            "Login"
                        </button>
                    </div>
                </form>
            </div>
        </main>
    }
}

/// Shows the lockout and counts it down once a second.
fn count_down(locked_for: RwSignal<u64>, secs: u64) {
    locked_for.set(secs);
    if secs == 0 {
        return;
    }
    set_timeout(
        move || count_down(locked_for, locked_for.get_untracked().saturating_sub(1)),
        Duration::from_secs(1),
    );
}
