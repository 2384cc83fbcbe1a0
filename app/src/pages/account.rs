//! Account (manual ch. 3, item 1): change the password and the email address
//! used for password reset. Both need the current password. Also two-factor
//! login (beyond the manual).

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{
            clear_on_change, new_password_error, show_error, CurrentPassword, EmailChoice,
            FormMessage, NewPasswordFields, Submit,
        },
        notice::loaded,
        two_factor::TwoFactor,
    },
    model::{email, password},
};

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <h1>"Account"</h1>
        <div class="panels">
            {loaded(
                api::overview,
                |o| {
                    view! {
                        <ChangePassword user=o.account.user />
                        <ChangeEmail current=o.account.email />
                        <TwoFactor status=o.account.two_factor />
                    }
                },
            )}
        </div>
    }
}

/// The signed-in `user`'s password (the rules forbid their name in it).
#[component]
fn ChangePassword(user: String) -> impl IntoView {
    let rules_user = user.clone();
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let old_server_error = RwSignal::new(None::<String>);
    let new_server_error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);

    clear_on_change(old, old_server_error);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let (o, n, c) = (
            old.get_untracked(),
            new.get_untracked(),
            confirm.get_untracked(),
        );
        if o.is_empty() {
            old_server_error.set(Some("Enter the current password".into()));
            return;
        }
        if password::first_error(&user, &n).is_some() || n != c {
            new_server_error.set(new_password_error(&user, &n));
            return;
        }
        spawn_local(async move {
            match api::change_password(o, n).await {
                Ok(()) => {
                    old.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    message.set(Some((
                        true,
                        "Password changed. Other sessions have been logged out.".into(),
                    )));
                }
                Err(e) => show_error(
                    e,
                    &[
                        ("old_password", old_server_error),
                        ("new_password", new_server_error),
                    ],
                    message,
                ),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="change-password">
            <h2 id="change-password">"Change Password"</h2>
            <form id="password-form" on:submit=submit novalidate>
                <CurrentPassword id="old-password" label="Old Password" value=old error=old_server_error />
                <NewPasswordFields new confirm server_error=new_server_error user=rules_user />
                <FormMessage message />
                <div class="actions">
                    <Submit label="Confirm" />
                </div>
            </form>
        </section>
    }
}

#[component]
fn ChangeEmail(current: Option<String>) -> impl IntoView {
    let shown = RwSignal::new(current.clone());
    let use_email = RwSignal::new(current.is_some());
    let address = RwSignal::new(current.unwrap_or_default());
    let pass = RwSignal::new(String::new());
    let email_server_error = RwSignal::new(None::<String>);
    let pass_error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);

    let email_error = Signal::derive(move || {
        email_server_error.get().or_else(|| {
            let a = address.get();
            (use_email.get() && !a.is_empty())
                .then(|| email::validate(&a).err().map(str::to_string))
                .flatten()
        })
    });
    clear_on_change(address, email_server_error);
    clear_on_change(pass, pass_error);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let email = use_email
            .get_untracked()
            .then(|| address.get_untracked().trim().to_string());
        if let Some(Err(e)) = email.as_deref().map(email::validate) {
            email_server_error.set(Some(e.to_string()));
            return;
        }
        let p = pass.get_untracked();
        if p.is_empty() {
            pass_error.set(Some("Enter the current password".into()));
            return;
        }
        spawn_local(async move {
            match api::change_email(p, email.clone()).await {
                Ok(changed) => {
                    pass.set(String::new());
                    shown.set(email);
                    message.set(Some(match changed.notice {
                        None => (true, "Email address saved.".into()),
                        Some(Ok(_)) => (
                            true,
                            "Email address saved. The old address was sent a notice of the change."
                                .into(),
                        ),
                        Some(Err(e)) => (
                            false,
                            format!("Email address saved, but the notice to the old address was not sent: {e}"),
                        ),
                    }));
                }
                Err(e) => show_error(
                    e,
                    &[("email", email_server_error), ("password", pass_error)],
                    message,
                ),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="change-email">
            <h2 id="change-email">"Email"</h2>
            <p id="current-email">
                {move || match shown.get() {
                    Some(a) => format!("Password reset codes go to {a}."),
                    None => "No email address is set: a forgotten password needs a factory reset.".to_string(),
                }}
            </p>
            <form id="email-form" on:submit=submit novalidate>
                <EmailChoice use_email address error=email_error />
                <CurrentPassword id="email-password" label="Password" value=pass error=pass_error />
                <FormMessage message />
                <div class="actions">
                    <Submit label="Confirm" />
                </div>
            </form>
        </section>
    }
}
