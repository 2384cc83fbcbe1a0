//! Local Setting > Basic (manual 4.1). Confirm saves the whole page in one
//! transaction, Refresh reloads it from the device, Default fills in the
//! manual's defaults (saved only on Confirm).
//!
//! Building No. and Unit No. apply only when another server is the SIP
//! server; that choice comes with the SIP issue, so they are not shown yet
//! (their values are kept as they are). Under the Storage Point, what the
//! device's files take of it and its bounds.

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{Check, Field, Select, SettingsActions, SettingsPage},
        notice::loaded,
    },
    error::ApiError,
    model::settings::{
        format_hhmm, parse_hhmm, BasicSettings, DailyPeriod, DeviceType, StorageUsage,
    },
};

#[component]
pub fn BasicPage() -> impl IntoView {
    // Made here, outside the form's Suspense: one made inside would load
    // once per server pass (see `components::role::resource_if_may`).
    let usage = Resource::new(|| (), |_| api::storage_usage());
    view! {
        <h1>"Basic"</h1>
        {loaded(api::basic_settings, move |s| view! { <BasicForm saved=s usage /> })}
    }
}

/// What snapshots and messages take of the Storage Point, and its
/// bounds (loaded on its own: the form does not wait for the folder).
#[component]
fn StorageUsageLine(usage: Resource<Result<StorageUsage, ApiError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || {
                usage
                    .get()
                    .and_then(Result::ok)
                    .map(|u| view! { <p class="hint" id="storage-usage">{u.summary()}</p> })
            }}
        </Suspense>
    }
}

#[derive(Clone, Copy, Default)]
struct Form {
    device_type: RwSignal<String>,
    vto_no: RwSignal<String>,
    centre_call_no: RwSignal<String>,
    start: RwSignal<String>,
    end: RwSignal<String>,
    storage_point: RwSignal<String>,
    auto_snapshot_unlock: RwSignal<bool>,
    auto_snapshot_talking: RwSignal<bool>,
    leave_message: RwSignal<bool>,
    message_time: RwSignal<String>,
    watch_answered: RwSignal<bool>,
    /// Not on the page yet (see the module note), kept as loaded.
    hidden: RwSignal<BasicSettings>,
}

impl Form {
    fn new(s: &BasicSettings) -> Self {
        let f = Self::default();
        f.fill(s);
        f
    }

    fn fill(&self, s: &BasicSettings) {
        self.device_type.set(s.device_type.key().to_string());
        self.vto_no.set(s.vto_no.clone());
        self.centre_call_no.set(s.centre_call_no.clone());
        self.start.set(format_hhmm(s.call_centre_time.start));
        self.end.set(format_hhmm(s.call_centre_time.end));
        self.storage_point.set(s.storage_point.clone());
        self.auto_snapshot_unlock.set(s.auto_snapshot_unlock);
        self.auto_snapshot_talking.set(s.auto_snapshot_talking);
        self.leave_message.set(s.leave_message);
        self.message_time.set(s.message_time_s.to_string());
        self.watch_answered.set(s.watch_answered);
        self.hidden.set(s.clone());
    }

    /// The page as typed, or the time field's error.
    fn settings(&self) -> Result<BasicSettings, (&'static str, String)> {
        let time = |v: &str, id| parse_hhmm(v).ok_or((id, "Enter a time as HH:MM".to_string()));
        let start = time(&self.start.get(), "call-centre-start")?;
        let end = time(&self.end.get(), "call-centre-end")?;
        let hidden = self.hidden.get();
        Ok(BasicSettings {
            device_type: DeviceType::from_key(&self.device_type.get()).unwrap_or_default(),
            vto_no: self.vto_no.get().trim().to_string(),
            centre_call_no: self.centre_call_no.get().trim().to_string(),
            call_centre_time: DailyPeriod { start, end },
            storage_point: self.storage_point.get().trim().to_string(),
            auto_snapshot_unlock: self.auto_snapshot_unlock.get(),
            auto_snapshot_talking: self.auto_snapshot_talking.get(),
            leave_message: self.leave_message.get(),
            // Not a number: 0, which the range check names.
            message_time_s: self.message_time.get().trim().parse().unwrap_or(0),
            watch_answered: self.watch_answered.get(),
            ..hidden
        })
    }

    /// Every error of the page as typed: (field id, message).
    fn errors(&self) -> Vec<(&'static str, String)> {
        match self.settings() {
            Err(e) => vec![e],
            Ok(s) => s
                .validate()
                .into_iter()
                // The period's error belongs under its end field.
                .map(|(f, m)| {
                    (
                        if f == "call-centre-time" {
                            "call-centre-end"
                        } else {
                            f
                        },
                        m,
                    )
                })
                .collect(),
        }
    }
}

#[component]
fn BasicForm(
    saved: BasicSettings,
    usage: Resource<Result<StorageUsage, ApiError>>,
) -> impl IntoView {
    let form = Form::new(&saved);
    let page = SettingsPage::new(move || {
        form.vto_no.track();
        form.centre_call_no.track();
        form.start.track();
        form.end.track();
        form.storage_point.track();
        form.message_time.track();
    });
    let SettingsPage {
        message, errors, ..
    } = page;
    let error_for = move |field: &'static str| errors.signal(field, move || form.errors());

    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let Ok(settings) = form.settings() else {
            return;
        };
        if !form.errors().is_empty() {
            return;
        }
        page.save(api::save_basic_settings(settings), move |s| {
            form.fill(&s);
            "Saved.".into()
        });
    };
    let refresh = move |()| page.refresh(api::basic_settings(), move |s| form.fill(&s));
    let default = move |()| page.defaults("Confirm", || form.fill(&BasicSettings::default()));

    let types: Vec<(&'static str, &'static str)> = DeviceType::CHOICES
        .into_iter()
        .map(|t| (t.key(), t.label()))
        .collect();

    view! {
        <section class="card wide" aria-labelledby="basic">
            <h2 id="basic">"Basic"</h2>
            <form id="basic-form" on:submit=confirm novalidate>
                <div class="grid-2">
                    <Select id="device-type" label="Device Type" options=types value=form.device_type />
                    <Field id="vto-no" label="VTO No." value=form.vto_no error=error_for("vto-no") />
                    <Field
                        id="centre-call-no"
                        label="Centre Call No."
                        value=form.centre_call_no
                        error=error_for("centre-call-no")
                    />
                </div>
                <fieldset class="period">
                    <legend>"Call Centre Time"</legend>
                    <div class="grid-2">
                        <Field id="call-centre-start" label="Start Time" kind="time" value=form.start error=error_for("call-centre-start") />
                        <Field id="call-centre-end" label="End Time" kind="time" value=form.end error=error_for("call-centre-end") />
                    </div>
                    <p class="hint">"Calls to the management centre are allowed in this period each day; a start after the end runs over midnight."</p>
                </fieldset>
                <div class="grid-2">
                    <Field id="storage-point" label="Storage Point" value=form.storage_point error=error_for("storage-point")>
                        <p class="hint">"The folder snapshots are saved to, such as an SD card's mount point (/media/sd). Empty: the device's data folder."</p>
                        <StorageUsageLine usage />
                    </Field>
                    <div>
                        <Check id="auto-snapshot-unlock" label="Auto Snapshot (unlock)" checked=form.auto_snapshot_unlock />
                        <Check id="auto-snapshot-talking" label="Auto Snapshot (talking)" checked=form.auto_snapshot_talking />
                    </div>
                    <div>
                        <Check id="leave-message" label="Leave Message Upload" checked=form.leave_message />
                        <p class="hint">"Nobody answers the door's call: the visitor may leave a message (video and sound), saved to the Storage Point and listed under Messages."</p>
                    </div>
                    <Field id="message-time" label="Message Time (s)" kind="number" value=form.message_time error=error_for("message-time") />
                    <div>
                        <Check id="watch-answered" label="Watch Calls Answered Elsewhere" checked=form.watch_answered />
                        <p class="hint">"While a monitor or another browser talks with the door, every signed-in browser keeps showing the door and may listen. Off: the talk stays private."</p>
                    </div>
                </div>
                <SettingsActions
                    id="basic"
                    submit="Confirm"
                    on_default=Callback::new(default)
                    on_refresh=Callback::new(refresh)
                    settings=page
                />
            </form>
        </section>
    }
}
