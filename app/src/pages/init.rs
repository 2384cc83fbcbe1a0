//! Device initialization (manual ch. 1): password, then the optional email
//! for password reset, then success and on to login.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{
            confirm_error, new_password_error, while_busy, EmailChoice, Field, FormMessage,
            PasswordRules, Submit,
        },
        hydration::load_page,
    },
    model::{email, password, ADMIN_USER},
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Password,
    Email,
    Done,
}

#[component]
pub fn InitPage() -> impl IntoView {
    let step = RwSignal::new(Step::Password);
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let use_email = RwSignal::new(false);
    let address = RwSignal::new(String::new());
    // Errors shown after a Next that failed, until the field changes.
    let submitted = RwSignal::new(false);
    let server_error = RwSignal::new(None::<(bool, String)>);
    let email_server_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let password_error = Signal::derive(move || {
        let p = password.get();
        if submitted.get() && p.is_empty() {
            return Some("Enter a password".to_string());
        }
        new_password_error(ADMIN_USER, &p)
    });
    let confirm_err = Signal::derive(move || {
        let c = confirm.get();
        if submitted.get() && c.is_empty() {
            return Some("Enter the password again".to_string());
        }
        confirm_error(&password.get(), &c)
    });
    let email_error = Signal::derive(move || {
        if let Some(e) = email_server_error.get() {
            return Some(e);
        }
        let a = address.get();
        if !use_email.get() || (a.is_empty() && !submitted.get()) {
            return None;
        }
        email::validate(&a).err().map(str::to_string)
    });

    let next_from_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        let p = password.get_untracked();
        if password::first_error(ADMIN_USER, &p).is_none() && p == confirm.get_untracked() {
            submitted.set(false);
            step.set(Step::Email);
        }
    };

    let finish = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        email_server_error.set(None);
        server_error.set(None);
        let email = use_email
            .get_untracked()
            .then(|| address.get_untracked().trim().to_string());
        if let Some(a) = &email {
            if email::validate(a).is_err() {
                return;
            }
        }
        while_busy(
            busy,
            api::initialize(password.get_untracked(), email),
            move |result| match result {
                Ok(()) => step.set(Step::Done),
                Err(e) => {
                    if let Some(m) = e.field_message("email") {
                        email_server_error.set(Some(m));
                    } else if e.field_message("password").is_some() {
                        step.set(Step::Password);
                        server_error.set(Some((false, e.to_string())));
                    } else {
                        server_error.set(Some((false, e.to_string())));
                    }
                }
            },
        );
    };

    view! {
        <main class="center-page">
            <div class="card narrow">
                <h1>"Device Initialization"</h1>
                <ol class="steps" aria-label="Steps">
                    <li class:current=move || step.get() == Step::Password>"Password"</li>
                    <li class:current=move || step.get() == Step::Email>"Email"</li>
                    <li class:current=move || step.get() == Step::Done>"Finished"</li>
                </ol>
                <FormMessage message=server_error />
                <Show when=move || step.get() == Step::Password>
                    <form id="init-password" on:submit=next_from_password novalidate>
                        <div class="field">
                            <label for="username">"Username"</label>
                            <input id="username" type="text" value=ADMIN_USER readonly />
                        </div>
                        <Field
                            id="password"
                            label="Password"
                            kind="password"
                            autocomplete="new-password"
                            value=password
                            error=password_error
                            autofocus=true
                        >
                            <PasswordRules user=ADMIN_USER password />
                        </Field>
                        <Field
                            id="confirm"
                            label="Confirm Password"
                            kind="password"
                            autocomplete="new-password"
                            value=confirm
                            error=confirm_err
                        />
                        <div class="actions">
                            <Submit label="Next" />
                        </div>
                    </form>
                </Show>
                <Show when=move || step.get() == Step::Email>
                    <form id="init-email" on:submit=finish novalidate>
                        <p>
                            "An email address lets you reset the password with a security code if you forget it."
                        </p>
                        <EmailChoice use_email address error=email_error />
                        <div class="actions">
                            <button
                                type="button"
                                class="secondary"
                                on:click=move |_| step.set(Step::Password)
                            >
                                "Back"
                            </button>
                            <button type="submit" class="primary" disabled=move || busy.get()>
                                "Next"
                            </button>
                        </div>
                    </form>
                </Show>
                <Show when=move || step.get() == Step::Done>
                    <p class="form-message ok" role="status">
                        "Initialization succeeded. Log in with user name admin and your new password."
                    </p>
                    <div class="actions">
                        <button id="init-ok" class="primary" on:click=move |_| load_page("/login")>
                            "OK"
                        </button>
                    </div>
                </Show>
            </div>
        </main>
    }
}
