//! Network Setting > ONVIF: the ONVIF device and media services on the web
//! port, WS-Discovery, and the account ONVIF logs in as with its own
//! password (write-only: WS-Security's digest needs it in clear on the
//! device, so it is not the account's login password).

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{Check, Field, SettingsActions, SettingsPage, WriteOnlyPassword},
        notice::loaded,
    },
    model::{
        mail::PasswordUpdate,
        onvif::{OnvifPage as Page, OnvifSettings},
    },
};

#[component]
pub fn OnvifPage() -> impl IntoView {
    view! {
        <h1>"ONVIF"</h1>
        {loaded(api::onvif_settings, |p| view! { <OnvifForm page=p /> })}
    }
}

/// The form's fields as typed.
#[derive(Clone, Copy, Default)]
struct Form {
    enabled: RwSignal<bool>,
    discovery: RwSignal<bool>,
    user: RwSignal<String>,
    password: RwSignal<String>,
    clear_password: RwSignal<bool>,
    has_password: RwSignal<bool>,
}

impl Form {
    fn fill(&self, s: &OnvifSettings) {
        self.enabled.set(s.enabled);
        self.discovery.set(s.discovery);
        self.user.set(s.user.clone());
        self.password.set(String::new());
        self.clear_password.set(false);
        self.has_password.set(s.has_password);
    }

    fn settings(&self) -> OnvifSettings {
        OnvifSettings {
            enabled: self.enabled.get(),
            discovery: self.discovery.get(),
            user: self.user.get().trim().to_string(),
            has_password: self.has_password.get(),
        }
    }

    fn password_update(&self) -> PasswordUpdate {
        PasswordUpdate::from_form(self.password.get(), self.clear_password.get())
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        self.settings().validate(&self.password_update())
    }
}

/// What is served, in words.
fn state_text(p: &Page) -> String {
    let s = &p.settings;
    if !s.enabled {
        return "Off: the ONVIF services answer 404 and discovery is silent.".into();
    }
    let discovery = match (&p.discovery_on, s.discovery) {
        (Some(addr), true) => format!("WS-Discovery answers on {addr}."),
        (None, true) => "WS-Discovery is on but its socket is off (--discovery off).".into(),
        (_, false) => "WS-Discovery is off.".into(),
    };
    format!("On: ONVIF clients log in as {}. {discovery}", s.user)
}

#[component]
fn OnvifForm(page: Page) -> impl IntoView {
    let form = Form::default();
    form.fill(&page.settings);
    let shown = RwSignal::new(page);
    let settings_page = SettingsPage::new(move || {
        form.enabled.track();
        form.user.track();
        form.password.track();
        form.clear_password.track();
    });
    let errors = settings_page.errors;
    let submitted = RwSignal::new(false);
    let error_for = errors.after_submit(submitted, move || form.errors());
    let take = move |p: Page| {
        form.fill(&p.settings);
        shown.set(p);
    };

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !form.errors().is_empty() {
            return;
        }
        settings_page.save(
            api::save_onvif(form.settings(), form.password_update()),
            move |p| {
                take(p);
                "Saved.".into()
            },
        );
    };
    let refresh = move |()| settings_page.refresh(api::onvif_settings(), take);
    let default = move |()| {
        settings_page.defaults("Save", || {
            let keep = form.has_password.get_untracked();
            form.fill(&OnvifSettings::default());
            form.has_password.set(keep);
        })
    };

    view! {
        <section class="card wide" aria-labelledby="onvif-title">
            <h2 id="onvif-title">"ONVIF"</h2>
            <p class="muted" id="onvif-state">{move || state_text(&shown.get())}</p>
            <form id="onvif-form" on:submit=save novalidate>
                <Check id="onvif-enable" label="ONVIF" checked=form.enabled />
                <Check id="onvif-discovery" label="WS-Discovery" checked=form.discovery />
                <div class="grid-2">
                    <Field id="onvif-user" label="User Name" autocomplete="off" value=form.user error=error_for("onvif-user")>
                        <p class="hint">"An account of this device: its role limits what ONVIF and RTSP give (Viewer: the streams; Operator: snapshots too)."</p>
                    </Field>
                    <WriteOnlyPassword
                        id="onvif-password"
                        label="Password"
                        value=form.password
                        stored=form.has_password
                        clear=form.clear_password
                        clear_id="onvif-clear-password"
                        error=error_for("onvif-password")
                        noun="ONVIF password"
                    />
                </div>
                <p class="hint">"ONVIF's WS-Security digest needs the password in clear on the device, so ONVIF has a password of its own, kept for ONVIF, RTSP and the snapshot only. Give the recorder or Home Assistant this user name and password."</p>
                <dl class="facts">
                    <dt>"Device service"</dt>
                    <dd id="onvif-device-service">{move || shown.get().device_service}</dd>
                    <dt>"RTSP"</dt>
                    <dd id="onvif-rtsp">{move || shown.get().rtsp.unwrap_or_else(|| "off (--rtsp off): no stream addresses".into())}</dd>
                    <dt>"WS-Discovery socket"</dt>
                    <dd id="onvif-discovery-on">{move || shown.get().discovery_on.unwrap_or_else(|| "off (--discovery off)".into())}</dd>
                </dl>
                <SettingsActions
                    id="onvif"
                    submit="Save"
                    on_default=Callback::new(default)
                    on_refresh=Callback::new(refresh)
                    settings=settings_page
                />
            </form>
        </section>
    }
}
