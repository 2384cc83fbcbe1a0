//! Network Setting > SIP Server (manual 6.2): SIP Server (Enable: this VTO
//! is the server), or Server Type, IP Addr., Port, Username, Password and
//! SIP Domain of the server this VTO registers to, with how that
//! registration stands (asked again every 5 s). Save applies at once.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{Check, Field, Select, SettingsActions, SettingsPage},
        hydration::every,
        notice::loaded,
    },
    model::{
        sip_server::{
            DigestChoice, Registration, ServerType, SipServerPage as Page, SipServerSettings,
        },
        sip_status::REFRESH_MS,
    },
};

#[component]
pub fn SipServerPage() -> impl IntoView {
    view! {
        <h1>"SIP Server"</h1>
        {loaded(api::sip_server, |p| view! { <SipServerForm page=p /> })}
    }
}

/// The form's fields as typed.
#[derive(Clone, Copy, Default)]
struct Form {
    enabled: RwSignal<bool>,
    digest: RwSignal<String>,
    server_type: RwSignal<String>,
    ip: RwSignal<String>,
    port: RwSignal<String>,
    username: RwSignal<String>,
    password: RwSignal<String>,
    domain: RwSignal<String>,
    password_set: RwSignal<bool>,
    vto_no: RwSignal<String>,
}

impl Form {
    fn new(p: &Page) -> Self {
        let f = Self::default();
        f.fill(&p.settings);
        f.password_set.set(p.password_set);
        f.vto_no.set(p.vto_no.clone());
        f
    }

    fn fill(&self, s: &SipServerSettings) {
        self.enabled.set(s.enabled);
        self.digest.set(s.digest.key().to_string());
        self.server_type.set(s.server_type.key().to_string());
        self.ip.set(s.ip.clone());
        self.port.set(s.port.to_string());
        self.username.set(s.username.clone());
        self.password.set(String::new());
        self.domain.set(s.domain.clone());
    }

    fn server_type(&self) -> ServerType {
        ServerType::from_key(&self.server_type.get()).unwrap_or_default()
    }

    /// The settings as typed (a port that is no number: 0, which
    /// validation refuses).
    fn settings(&self) -> SipServerSettings {
        SipServerSettings {
            enabled: self.enabled.get(),
            digest: DigestChoice::from_key(&self.digest.get()).unwrap_or_default(),
            server_type: self.server_type(),
            ip: self.ip.get().trim().to_string(),
            port: self.port.get().trim().parse().unwrap_or(0),
            username: self.username.get().trim().to_string(),
            domain: self.domain.get().trim().to_string(),
        }
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        let known = self.password_set.get() || !self.password.get().is_empty();
        self.settings().validate(known)
    }
}

/// How the registration stands, in words.
fn registration_text(r: &Registration, display: &crate::model::system_time::TimeDisplay) -> String {
    match r {
        Registration::NotUsed => "Not registering: this VTO is the SIP server.".into(),
        Registration::Registering => "Registering\u{2026}".into(),
        Registration::Registered { until } => {
            format!("Registered (until {}).", display.format(*until))
        }
        Registration::Failed { reason, retry_at } if retry_at.0 > 0 => {
            format!(
                "Failed: {reason}. Next try at {}.",
                display.format(*retry_at)
            )
        }
        Registration::Failed { reason, .. } => format!("Failed: {reason}."),
    }
}

#[component]
fn SipServerForm(page: Page) -> impl IntoView {
    let form = Form::new(&page);
    let display = page.display;
    let address = page.address.clone();
    let registration = RwSignal::new(page.registration.clone());
    let settings_page = SettingsPage::new(move || {
        form.enabled.track();
        form.ip.track();
        form.port.track();
        form.username.track();
        form.password.track();
        form.domain.track();
    });
    let errors = settings_page.errors;
    let submitted = RwSignal::new(false);
    let error_for = errors.after_submit(submitted, move || form.errors());
    let take = move |p: Page| {
        form.fill(&p.settings);
        form.password_set.set(p.password_set);
        form.vto_no.set(p.vto_no.clone());
        registration.set(p.registration);
    };
    // The registration's state, asked again while the page is open.
    every(REFRESH_MS, move || {
        leptos::task::spawn_local(async move {
            if let Ok(p) = api::sip_server().await {
                registration.set(p.registration);
            }
        });
    });

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !form.errors().is_empty() {
            return;
        }
        let typed = Some(form.password.get_untracked()).filter(|p| !p.is_empty());
        let enabled = form.enabled.get_untracked();
        settings_page.save(api::save_sip_server(form.settings(), typed), move |p| {
            take(p);
            if enabled {
                "Saved: this VTO is the SIP server.".into()
            } else {
                "Saved: this VTO registers to the server.".into()
            }
        });
    };
    let refresh = move |()| settings_page.refresh(api::sip_server(), take);
    let default =
        move |()| settings_page.defaults("Save", || form.fill(&SipServerSettings::default()));
    let types = ServerType::options();
    let client = move || !form.enabled.get();

    view! {
        <section class="card wide" aria-labelledby="sip-server-title">
            <h2 id="sip-server-title">"SIP Server"</h2>
            <form id="sip-form" on:submit=save novalidate>
                <Check id="sip-enable" label="SIP Server" checked=form.enabled />
                <p class="hint">
                    {move || if form.enabled.get() {
                        "Enabled: this VTO is the SIP server. Door stations, monitors and centres register here (Household Setting)."
                    } else {
                        "Not enabled: this VTO registers to the server below and keeps that registration alive."
                    }}
                </p>
                <Show when=move || form.enabled.get()>
                    <div class="grid-2">
                        <Select id="sip-digest" label="Digest Algorithm" options=DigestChoice::options() value=form.digest />
                    </div>
                    <p class="hint">"The challenge devices answer when they register. MD5: every device (Dahua monitors speak MD5 only). SHA-256 (RFC 8760) is stronger, for devices that know it; some devices fail when both are offered."</p>
                </Show>
                <Show when=client>
                    <div class="grid-2">
                        <Select id="sip-server-type" label="Server Type" options=types.clone() value=form.server_type />
                        <Field id="sip-ip" label="IP Addr." value=form.ip error=error_for("sip-ip") />
                        <Field id="sip-port" label="Port" kind="number" value=form.port error=error_for("sip-port") />
                        {move || if form.server_type() == ServerType::Vto {
                            // The manual: keep the default, the VTO No.
                            view! {
                                <Field id="sip-username" label="Username" value=form.vto_no readonly=true>
                                    <p class="hint">"This VTO's VTO No. (Local Setting > Basic)."</p>
                                </Field>
                            }.into_any()
                        } else {
                            view! { <Field id="sip-username" label="Username" value=form.username error=error_for("sip-username") /> }.into_any()
                        }}
                        <Field id="sip-password" label="Password" kind="password" autocomplete="new-password" value=form.password error=error_for("sip-password")>
                            <p class="hint" id="sip-password-state">
                                {move || if form.password_set.get() {
                                    "A password is stored. Leave empty to keep it, unless you change the IP Addr. or Port."
                                } else {
                                    "No password stored."
                                }}
                            </p>
                        </Field>
                        <Field id="sip-domain" label="SIP Domain" value=form.domain error=error_for("sip-domain") />
                    </div>
                </Show>
                <dl class="facts">
                    <dt>"Registration"</dt>
                    <dd id="sip-registration">{move || registration_text(&registration.get(), &display)}</dd>
                    <dt>"This device's SIP address"</dt>
                    <dd id="sip-address">{address.clone().unwrap_or_else(|| "SIP is off (--sip off)".into())}</dd>
                </dl>
                <SettingsActions
                    id="sip"
                    submit="Save"
                    on_default=Callback::new(default)
                    on_refresh=Callback::new(refresh)
                    settings=settings_page
                />
            </form>
        </section>
    }
}
