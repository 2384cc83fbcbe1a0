//! Network Setting > Email: the SMTP server for security codes and notices.
//! With no server, mail goes to the data directory's outbox. The password is
//! write-only: the page only learns whether one is stored.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{while_busy, Field, FormMessage, Select, SettingsPage, Submit, WriteOnlyPassword},
        hydration::use_hydrated,
        notice::loaded,
    },
    model::mail::{MailSecurity, MailSettings, PasswordUpdate},
};

#[component]
pub fn MailPage() -> impl IntoView {
    view! {
        <h1>"Email"</h1>
        {loaded(api::mail_settings, |s| view! { <MailForm saved=s /> })}
    }
}

/// The form's fields as typed.
#[derive(Clone, Copy, Default)]
struct Form {
    server: RwSignal<String>,
    port: RwSignal<String>,
    security: RwSignal<String>,
    user: RwSignal<String>,
    password: RwSignal<String>,
    clear_password: RwSignal<bool>,
    sender: RwSignal<String>,
    has_password: RwSignal<bool>,
}

impl Form {
    fn new(s: &MailSettings) -> Self {
        let f = Self::default();
        f.fill(s);
        f
    }

    fn fill(&self, s: &MailSettings) {
        self.server.set(s.server.clone());
        self.port.set(s.port.to_string());
        self.security.set(s.security.key().to_string());
        self.user.set(s.user.clone());
        self.password.set(String::new());
        self.clear_password.set(false);
        self.sender.set(s.sender.clone());
        self.has_password.set(s.has_password);
    }

    /// The settings as typed, or the port's error.
    fn settings(&self) -> Result<MailSettings, String> {
        let port = self
            .port
            .get()
            .trim()
            .parse::<u16>()
            .map_err(|_| "Enter a port from 1 to 65535".to_string())?;
        Ok(MailSettings {
            server: self.server.get(),
            port,
            security: MailSecurity::from_key(&self.security.get()).unwrap_or_default(),
            user: self.user.get(),
            sender: self.sender.get(),
            has_password: self.has_password.get(),
        })
    }

    fn password_update(&self) -> PasswordUpdate {
        PasswordUpdate::from_form(
            self.password.get_untracked(),
            self.clear_password.get_untracked(),
        )
    }
}

#[component]
fn MailForm(saved: MailSettings) -> impl IntoView {
    let hydrated = use_hydrated();
    let form = Form::new(&saved);
    let test_result = RwSignal::new(None::<(bool, String)>);
    let page = SettingsPage::new(move || {
        form.server.track();
        form.port.track();
        form.security.track();
        form.user.track();
        form.password.track();
        form.sender.track();
    });
    let (message, busy, errors) = (page.message, page.busy, page.errors);
    let error_for = move |field: &'static str| {
        errors.signal(field, move || match form.settings() {
            Err(port) => vec![("smtp-port", port)],
            Ok(s) => s.validate(),
        })
    };

    let valid = move || form.settings().is_ok_and(|s| s.validate().is_empty());

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let Ok(settings) = form.settings() else {
            return;
        };
        if !settings.validate().is_empty() {
            return;
        }
        page.save(
            api::save_mail_settings(settings, form.password_update()),
            move |s| {
                form.fill(&s);
                "Saved.".into()
            },
        );
    };

    let test = move |_| {
        test_result.set(None);
        let Ok(settings) = form.settings() else {
            return;
        };
        if !settings.validate().is_empty() {
            return;
        }
        while_busy(
            busy,
            api::send_test_mail(settings, form.password_update()),
            move |r| {
                test_result.set(Some(match r {
                    Ok(receipt) => (
                        true,
                        format!("Test mail sent via {}: {}", receipt.via, receipt.answer),
                    ),
                    Err(e) => (false, e.to_string()),
                }));
            },
        );
    };

    let refresh = move |_| {
        test_result.set(None);
        page.refresh(api::mail_settings(), move |s| form.fill(&s));
    };

    let default = move |_| {
        let keep = form.has_password.get_untracked();
        form.fill(&MailSettings::default());
        // Default does not touch the stored password until saved with
        // "Clear".
        form.has_password.set(keep);
    };

    // The usual port follows the security choice when the port was the
    // previous choice's usual one.
    let last_security = StoredValue::new(form.security.get_untracked());
    Effect::new(move |_| {
        let now = form.security.get();
        let before = last_security.get_value();
        if now != before {
            let usual = |k: &str| MailSecurity::from_key(k).map(|s| s.default_port().to_string());
            if usual(&before).as_deref() == Some(form.port.get_untracked().trim()) {
                if let Some(p) = usual(&now) {
                    form.port.set(p);
                }
            }
            last_security.set_value(now);
        }
    });

    let options: Vec<(&'static str, &'static str)> = MailSecurity::ALL
        .into_iter()
        .map(|s| (s.key(), s.label()))
        .collect();

    view! {
        <section class="card wide" aria-labelledby="smtp">
            <h2 id="smtp">"SMTP"</h2>
            <p class="muted" id="mail-mode">
                {move || {
                    if form.server.get().trim().is_empty() {
                        "No SMTP server: mail (security codes, notices) is written to the outbox folder in the data directory."
                    } else {
                        "Security codes and notices are sent through this server."
                    }
                }}
            </p>
            <form id="mail-form" on:submit=save novalidate>
                <div class="grid-2">
                    <Field id="smtp-server" label="SMTP Server" value=form.server error=error_for("smtp-server") />
                    <Field id="smtp-port" label="Port" kind="number" value=form.port error=error_for("smtp-port") />
                    <Select id="smtp-security" label="Security" options value=form.security />
                    <Field id="sender" label="Sender" kind="email" value=form.sender error=error_for("sender") />
                    <Field id="smtp-user" label="User Name" autocomplete="off" value=form.user error=error_for("smtp-user") />
                    <WriteOnlyPassword
                        id="smtp-password"
                        label="Password"
                        value=form.password
                        stored=form.has_password
                        clear=form.clear_password
                        clear_id="smtp-clear-password"
                        error=error_for("smtp-password")
                        destination="the SMTP Server, Port or Security"
                    />
                </div>
                <FormMessage message />
                <FormMessage message=test_result />
                <div class="actions">
                    <button type="button" id="mail-test" class="secondary" disabled=move || !hydrated.get() || busy.get() || !valid() on:click=test>
                        "Send Test Mail"
                    </button>
                    <button type="button" id="mail-default" class="secondary" disabled=move || !hydrated.get() on:click=default>
                        "Default"
                    </button>
                    <button type="button" id="mail-refresh" class="secondary" disabled=move || !hydrated.get() on:click=refresh>
                        "Refresh"
                    </button>
                    <Submit label="Save" busy />
                </div>
            </form>
        </section>
    }
}
