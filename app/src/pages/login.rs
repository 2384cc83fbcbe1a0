//! Login (manual ch. 2.1): user name `admin` and the password, then, with
//! two-factor login on, the authenticator app's code. "Forgot Password?"
//! leads to the reset (ch. 2.2) when the device offers it.

use std::time::Duration;

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{clear_on_change, while_busy, CurrentPassword, Field, FormMessage},
        hydration::{load_page, use_hydrated},
    },
    error::ApiError,
    model::{
        two_factor::{self, LoginResult},
        ADMIN_USER,
    },
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
    // Set when the password was right and a two-factor code comes next.
    let ticket = RwSignal::new(None::<String>);
    let reset = Resource::new(|| (), |_| api::reset_info());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if locked_for.get_untracked() > 0 {
            return;
        }
        message.set(None);
        while_busy(
            busy,
            api::login(user.get_untracked(), password.get_untracked()),
            move |result| match result {
                Ok(LoginResult {
                    second_factor: Some(t),
                }) => {
                    password.set(String::new());
                    ticket.set(Some(t));
                }
                Ok(_) => load_page("/"),
                Err(ApiError::Locked { retry_after_secs }) => {
                    password.set(String::new());
                    count_down(locked_for, retry_after_secs);
                }
                Err(e) => {
                    password.set(String::new());
                    message.set(Some((false, e.to_string())));
                }
            },
        );
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
                <Show when=move || ticket.get().is_some()>
                    <CodeStep ticket locked_for expired=message />
                </Show>
                <form
                    id="login"
                    on:submit=submit
                    novalidate
                    class:hidden=move || ticket.get().is_some()
                >
                    <Field id="username" label="Username" autocomplete="username" value=user />
                    <CurrentPassword id="password" label="Password" value=password autofocus=true />
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
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match reset.await {
                            Ok(info) if info.available => {
                                view! {
                                    <p class="aside">
                                        <a id="forgot-password" href="/reset">"Forgot Password?"</a>
                                    </p>
                                }
                                    .into_any()
                            }
                            _ => {
                                view! {
                                    <p class="aside muted" id="no-reset">
                                        "Forgot the password? Password reset by email is not set up on this device: restore factory defaults on the device itself."
                                    </p>
                                }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

/// The second login step: the authenticator app's code, or a recovery code.
#[component]
fn CodeStep(
    ticket: RwSignal<Option<String>>,
    locked_for: RwSignal<u64>,
    /// The password form's message: where an expired login is explained.
    expired: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let code = RwSignal::new(String::new());
    let code_error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    clear_on_change(code, code_error);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let c = code.get_untracked();
        if let Some(e) = two_factor::code_error(&c) {
            code_error.set(Some(e.to_string()));
            return;
        }
        let Some(t) = ticket.get_untracked() else {
            return;
        };
        while_busy(busy, api::login_code(t, c), move |result| match result {
            Ok(()) => load_page("/"),
            Err(ApiError::Locked { retry_after_secs }) => {
                ticket.set(None);
                count_down(locked_for, retry_after_secs);
            }
            Err(e) if e.field_message("ticket").is_some() => {
                ticket.set(None);
                expired.set(Some((false, e.to_string())));
            }
            Err(e) => match e.field_message("code") {
                Some(m) => code_error.set(Some(m)),
                None => message.set(Some((false, e.to_string()))),
            },
        });
    };

    view! {
        <form id="login-code" on:submit=submit novalidate>
            <p>"Two-factor login is on: enter the current code from your authenticator app, or one of your recovery codes."</p>
            <Field
                id="code"
                label="Verification Code"
                autocomplete="one-time-code"
                value=code
                error=code_error
                autofocus=true
            />
            <FormMessage message />
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| ticket.set(None)>
                    "Back"
                </button>
                <button
                    type="submit"
                    class="primary"
                    disabled=move || !hydrated.get() || busy.get()
                >
                    "Login"
                </button>
            </div>
        </form>
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
