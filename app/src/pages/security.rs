//! Local Setting > Security (manual 4.5): Reset Password. (CGI Enable comes
//! with the CGI API.)

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{Check, SettingsActions, SettingsPage},
        notice::loaded,
    },
    model::security::SecuritySettings,
};

#[component]
pub fn SecurityPage() -> impl IntoView {
    view! {
        <h1>"Security"</h1>
        {loaded(api::security_settings, |s| view! { <SecurityForm saved=s /> })}
    }
}

#[component]
fn SecurityForm(saved: SecuritySettings) -> impl IntoView {
    let reset_password = RwSignal::new(saved.reset_password);
    // Saving is not held up by a busy flag, and nothing is checked on the
    // page: only the message and Refresh are the settings pages' own.
    let page = SettingsPage::new(|| ());
    let message = page.message;
    let fill = move |s: SecuritySettings| reset_password.set(s.reset_password);

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let s = SecuritySettings {
            reset_password: reset_password.get_untracked(),
        };
        spawn_local(async move {
            match api::save_security_settings(s).await {
                Ok(s) => {
                    fill(s);
                    message.set(Some((true, "Saved.".into())));
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let refresh = move |()| page.refresh(api::security_settings(), fill);

    view! {
        <section class="card" aria-labelledby="security">
            <h2 id="security">"Security"</h2>
            <form id="security-form" on:submit=save novalidate>
                <Check id="reset-password" label="Reset Password" checked=reset_password />
                <p class="hint">
                    "When on, \u{201c}Forgot Password?\u{201d} on the login page mails a security code to the account's email address (set under Account). When off, a forgotten password needs a factory reset on the device."
                </p>
                <SettingsActions
                    id="security"
                    submit="Save"
                    on_default=Callback::new(move |()| fill(SecuritySettings::default()))
                    on_refresh=Callback::new(refresh)
                    settings=page
                />
            </form>
        </section>
    }
}
