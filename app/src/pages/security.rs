//! Local Setting > Security (manual 4.5): Reset Password. (CGI Enable comes
//! with the CGI API.)

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{Check, FormMessage, SettingsActions},
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
    let message = RwSignal::new(None::<(bool, String)>);
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
    let refresh = move |()| {
        message.set(None);
        spawn_local(async move {
            match api::security_settings().await {
                Ok(s) => fill(s),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="security">
            <h2 id="security">"Security"</h2>
            <form id="security-form" on:submit=save novalidate>
                <Check id="reset-password" label="Reset Password" checked=reset_password />
                <p class="hint">
                    "When on, \u{201c}Forgot Password?\u{201d} on the login page mails a security code to the account's email address (set under Account). When off, a forgotten password needs a factory reset on the device."
                </p>
                <FormMessage message />
                <SettingsActions
                    page="security"
                    submit="Save"
                    on_default=Callback::new(move |()| fill(SecuritySettings::default()))
                    on_refresh=Callback::new(refresh)
                    busy=Signal::stored(false)
                />
            </form>
        </section>
    }
}
