//! Local Setting > Access Control > Local (manual 4.3): the lock's
//! Unlock Responding Interval, Unlock Period, Door Sensor Check Time (and
//! its Enable) and Door Contact Type. Save applies at once: from the next
//! unlock, the contact type right away.
//!
//! The First Unlock Command (DTMF from a SIP caller) is kept as loaded but
//! not shown: the door station takes no calls of its own yet (door calls
//! are the next capability), so it would have no effect.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{Check, Field, Select, SettingsActions, SettingsPage},
        notice::loaded,
    },
    model::access::{AccessSettings, ContactType},
};

#[component]
pub fn AccessPage() -> impl IntoView {
    view! {
        <h1>"Access Control"</h1>
        {loaded(api::access_settings, |s| view! { <AccessForm saved=s /> })}
    }
}

#[derive(Clone, Copy, Default)]
struct Form {
    interval: RwSignal<String>,
    period: RwSignal<String>,
    check: RwSignal<String>,
    enable: RwSignal<bool>,
    command: RwSignal<String>,
    contact: RwSignal<String>,
}

impl Form {
    fn new(s: &AccessSettings) -> Self {
        let f = Self::default();
        f.fill(s);
        f
    }

    fn fill(&self, s: &AccessSettings) {
        self.interval.set(s.responding_interval_s.to_string());
        self.period.set(s.unlock_period_s.to_string());
        self.check.set(s.sensor_check_s.to_string());
        self.enable.set(s.sensor_check_enable);
        self.command.set(s.first_unlock_command.clone());
        self.contact.set(s.contact.key().to_string());
    }

    /// The page as typed; a number that does not parse is 0 (out of range,
    /// so it gets the field's range as its error).
    fn settings(&self) -> AccessSettings {
        let n = |v: RwSignal<String>| v.get().trim().parse::<u32>().unwrap_or(0);
        AccessSettings {
            responding_interval_s: n(self.interval),
            unlock_period_s: n(self.period),
            sensor_check_s: n(self.check),
            sensor_check_enable: self.enable.get(),
            contact: ContactType::from_key(&self.contact.get()).unwrap_or_default(),
            first_unlock_command: self.command.get().trim().to_string(),
        }
    }
}

#[component]
fn AccessForm(saved: AccessSettings) -> impl IntoView {
    let form = Form::new(&saved);
    let page = SettingsPage::new(move || {
        form.interval.track();
        form.period.track();
        form.check.track();
        form.command.track();
    });
    let SettingsPage {
        message, errors, ..
    } = page;
    let error_for =
        move |field: &'static str| errors.signal(field, move || form.settings().validate());

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let settings = form.settings();
        if !settings.validate().is_empty() {
            return;
        }
        page.save(api::save_access_settings(settings), move |s| {
            form.fill(&s);
            "Saved. The lock works with these from now on.".into()
        });
    };
    let refresh = move |()| page.refresh(api::access_settings(), move |s| form.fill(&s));
    let default = move |()| page.defaults("Save", || form.fill(&AccessSettings::default()));

    view! {
        <section class="card wide" aria-labelledby="access-local">
            <h2 id="access-local">"Local"</h2>
            <form id="access-form" on:submit=save novalidate>
                <div class="grid-2">
                    <Field
                        id="unlock-interval"
                        label="Unlock Responding Interval (s)"
                        kind="number"
                        value=form.interval
                        error=error_for("unlock-interval")
                    >
                        <p class="hint">"No new unlock until this long after the last one."</p>
                    </Field>
                    <Field
                        id="unlock-period"
                        label="Unlock Period (s)"
                        kind="number"
                        value=form.period
                        error=error_for("unlock-period")
                    >
                        <p class="hint">"How long the lock stays open."</p>
                    </Field>
                    <div>
                        <Field
                            id="sensor-check"
                            label="Door Sensor Check Time (s)"
                            kind="number"
                            value=form.check
                            error=error_for("sensor-check")
                        >
                            <p class="hint">
                                "A door open longer raises the door sensor alarm."
                            </p>
                        </Field>
                        <Check id="sensor-check-enable" label="Enable" checked=form.enable />
                        <p class="hint">
                            "Enabled: the lock is not locked again until the door sensor reports the door closed. Not enabled: it locks when the Unlock Period is over."
                        </p>
                    </div>
                    <Select
                        id="contact-type"
                        label="Door Contact Type"
                        options=ContactType::options()
                        value=form.contact
                    />
                    <Field
                        id="unlock-command"
                        label="First Unlock Command"
                        value=form.command
                        error=error_for("unlock-command")
                    >
                        <p class="hint">
                            "Keys the answering indoor monitor or phone sends during a door call (DTMF) to open the door."
                        </p>
                    </Field>
                </div>
                <SettingsActions
                    id="access"
                    submit="Save"
                    on_default=Callback::new(default)
                    on_refresh=Callback::new(refresh)
                    settings=page
                />
            </form>
        </section>
    }
}
