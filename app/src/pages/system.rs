//! Local Setting > System (manual 4.4): date and time formats, the device's
//! clock (System Time, Sync PC, Zone, DST, NTP) and Auto Maintenance.
//! Save stores the page in one transaction; it takes effect at once.
//! (The manual's SSH switch is not offered: this device runs no SSH server.)

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{Check, Field, Select, SettingsActions, SettingsPage},
        hydration::use_hydrated,
        notice::loaded,
    },
    model::{
        settings::{format_hhmm, parse_hhmm},
        system_time::{
            format_local_input, parse_local, plausible, zone_label, AutoMaintenance, ClockUpdate,
            DateFormat, Dst, DstKind, DstPoint, MaintenanceDay, NtpSettings, NtpSync,
            SystemTimePage, TimeDisplay, TimeFormat, TimeSettings, IMPLAUSIBLE, MONTHS, WEEKDAYS,
            WEEKS, ZONES,
        },
        time::UnixMillis,
    },
};

#[component]
pub fn SystemPage() -> impl IntoView {
    view! {
        <h1>"System"</h1>
        {loaded(api::system_time, |p| view! { <SystemForm page=p /> })}
    }
}

/// A DST begin or end as typed.
#[derive(Clone, Copy, Default)]
struct PointForm {
    month: RwSignal<String>,
    day: RwSignal<String>,
    week: RwSignal<String>,
    weekday: RwSignal<String>,
    time: RwSignal<String>,
}

impl PointForm {
    fn fill(&self, p: &DstPoint) {
        self.month.set(p.month.to_string());
        self.day.set(p.day.to_string());
        self.week.set(p.week.to_string());
        self.weekday.set(p.weekday.to_string());
        self.time.set(format_hhmm(p.minute));
    }

    fn track(&self) {
        self.month.track();
        self.day.track();
        self.week.track();
        self.weekday.track();
        self.time.track();
    }

    fn point(&self, id: &'static str) -> Result<DstPoint, (&'static str, String)> {
        let number = |v: RwSignal<String>| v.get().trim().parse::<u8>().unwrap_or(0);
        Ok(DstPoint {
            month: number(self.month),
            day: number(self.day),
            week: number(self.week),
            weekday: number(self.weekday),
            minute: parse_hhmm(&self.time.get()).ok_or((id, "Enter a time as HH:MM".into()))?,
        })
    }
}

#[derive(Clone, Copy, Default)]
struct Form {
    date_format: RwSignal<String>,
    time_format: RwSignal<String>,
    /// The System Time field; changed only when the user types in it.
    system_time: RwSignal<String>,
    loaded_time: RwSignal<String>,
    zone: RwSignal<String>,
    dst: RwSignal<bool>,
    dst_kind: RwSignal<String>,
    begin: PointForm,
    end: PointForm,
    ntp: RwSignal<bool>,
    ntp_server: RwSignal<String>,
    ntp_port: RwSignal<String>,
    ntp_cycle: RwSignal<String>,
    maintenance_day: RwSignal<String>,
    maintenance_time: RwSignal<String>,
}

impl Form {
    fn fill(&self, s: &TimeSettings) {
        let d = &s.display;
        self.date_format.set(d.date_format.key().into());
        self.time_format.set(d.time_format.key().into());
        self.zone.set(d.zone.to_string());
        self.dst.set(d.dst.enabled);
        self.dst_kind.set(d.dst.kind.key().into());
        self.begin.fill(&d.dst.begin);
        self.end.fill(&d.dst.end);
        self.ntp.set(s.ntp.enabled);
        self.ntp_server.set(s.ntp.server.clone());
        self.ntp_port.set(s.ntp.port.to_string());
        self.ntp_cycle.set(s.ntp.update_cycle.to_string());
        self.maintenance_day.set(s.maintenance.day.key().into());
        self.maintenance_time.set(format_hhmm(s.maintenance.minute));
    }

    /// Shows the device's clock as of `page` in the System Time field.
    fn fill_time(&self, page: &SystemTimePage) {
        let t = format_local_input(page.settings.display.local(page.now));
        self.system_time.set(t.clone());
        self.loaded_time.set(t);
    }

    fn track(&self) {
        self.system_time.track();
        self.zone.track();
        self.dst.track();
        self.dst_kind.track();
        self.begin.track();
        self.end.track();
        self.ntp_server.track();
        self.ntp_port.track();
        self.ntp_cycle.track();
        self.maintenance_time.track();
    }

    /// The page as typed, or the first field that does not parse.
    fn settings(&self) -> Result<TimeSettings, (&'static str, String)> {
        let number = |v: RwSignal<String>, id: &'static str, msg: &str| {
            v.get()
                .trim()
                .parse::<u16>()
                .map_err(|_| (id, msg.to_string()))
        };
        let zone = self
            .zone
            .get()
            .parse::<i16>()
            .map_err(|_| ("zone", "Choose a zone from the list".to_string()))?;
        let dst = Dst {
            enabled: self.dst.get(),
            kind: DstKind::from_key(&self.dst_kind.get()).unwrap_or_default(),
            begin: self.begin.point("dst-begin")?,
            end: self.end.point("dst-end")?,
        };
        Ok(TimeSettings {
            display: TimeDisplay {
                date_format: DateFormat::from_key(&self.date_format.get()).unwrap_or_default(),
                time_format: TimeFormat::from_key(&self.time_format.get()).unwrap_or_default(),
                zone,
                dst,
            },
            ntp: NtpSettings {
                enabled: self.ntp.get(),
                server: self.ntp_server.get().trim().to_string(),
                port: number(self.ntp_port, "ntp-port", "Enter a port from 1 to 65535")?,
                update_cycle: number(self.ntp_cycle, "ntp-cycle", "Enter 1 to 30 minutes")?,
            },
            maintenance: AutoMaintenance {
                day: MaintenanceDay::from_key(&self.maintenance_day.get()).unwrap_or_default(),
                minute: parse_hhmm(&self.maintenance_time.get())
                    .ok_or(("maintenance-time", "Enter a time as HH:MM".to_string()))?,
            },
        })
    }

    fn clock_update(&self) -> ClockUpdate {
        let typed = self.system_time.get();
        if typed == self.loaded_time.get() {
            ClockUpdate::Keep
        } else {
            ClockUpdate::Local(typed)
        }
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        let mut errors = match self.settings() {
            Err(e) => vec![e],
            Ok(s) => s.validate(),
        };
        if let ClockUpdate::Local(t) = self.clock_update() {
            match parse_local(&t) {
                None => errors.push(("system-time", "Enter a date and a time".into())),
                Some(local) if !plausible(UnixMillis(local)) => {
                    errors.push(("system-time", IMPLAUSIBLE.into()))
                }
                Some(_) => {}
            }
        }
        errors
    }
}

fn numbers(range: std::ops::RangeInclusive<u8>) -> Vec<(String, String)> {
    range.map(|n| (n.to_string(), n.to_string())).collect()
}

fn named(names: &[&str], first: u8) -> Vec<(String, String)> {
    names
        .iter()
        .zip(first..)
        .map(|(n, i)| (i.to_string(), n.to_string()))
        .collect()
}

/// Begin Time or End Time of DST: the date part follows the DST Type.
#[component]
fn DstPointFields(
    legend: &'static str,
    prefix: &'static str,
    point: PointForm,
    kind: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let (month, day, week, weekday, time) = match prefix {
        "dst-begin" => (
            "dst-begin-month",
            "dst-begin-day",
            "dst-begin-week",
            "dst-begin-weekday",
            "dst-begin-time",
        ),
        _ => (
            "dst-end-month",
            "dst-end-day",
            "dst-end-week",
            "dst-end-weekday",
            "dst-end-time",
        ),
    };
    let by_week = move || kind.get() == DstKind::Week.key();
    view! {
        <fieldset class="dst-point" id=prefix>
            <legend>{legend}</legend>
            <div class="grid-4">
                <Select id=month label="Month" options=named(&MONTHS, 1) value=point.month />
                <Show
                    when=by_week
                    fallback=move || view! { <Select id=day label="Day" options=numbers(1..=31) value=point.day /> }
                >
                    <Select id=week label="Week" options=named(&WEEKS, 1) value=point.week />
                    <Select id=weekday label="Weekday" options=named(&WEEKDAYS, 0) value=point.weekday />
                </Show>
                <Field id=time label="Time" kind="time" value=point.time />
            </div>
            <p class="field-error" id=format!("{prefix}-error") role="alert">
                {move || error.get()}
            </p>
        </fieldset>
    }
}

fn sync_text(sync: &NtpSync, display: &TimeDisplay) -> (bool, String) {
    let when = display.format(sync.time);
    match &sync.result {
        Ok(step) => (
            true,
            format!(
                "Last sync {when}: OK, clock corrected by {:+.3} s.",
                *step as f64 / 1000.0
            ),
        ),
        Err(e) => (false, format!("Last sync {when} failed: {e}")),
    }
}

#[component]
fn SystemForm(page: SystemTimePage) -> impl IntoView {
    let hydrated = use_hydrated();
    let form = Form::default();
    form.fill(&page.settings);
    form.fill_time(&page);
    let shown = RwSignal::new(page);
    let page = SettingsPage::new(move || form.track());
    let SettingsPage {
        message, errors, ..
    } = page;
    let error_for = move |field: &'static str| errors.signal(field, move || form.errors());

    let show = move |p: SystemTimePage| {
        form.fill(&p.settings);
        form.fill_time(&p);
        shown.set(p);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let Ok(settings) = form.settings() else {
            return;
        };
        if !form.errors().is_empty() {
            return;
        }
        page.save(
            api::save_system_time(settings, form.clock_update()),
            move |p| {
                show(p);
                "Saved.".into()
            },
        );
    };
    let sync_pc = move |_| {
        page.save(api::sync_pc(js_now()), move |p| {
            show(p);
            "System Time set from this PC's clock.".into()
        });
    };
    let refresh = move |()| page.refresh(api::system_time(), show);
    let default = move |()| page.defaults("Save", || form.fill(&TimeSettings::default()));

    let zones: Vec<(String, String)> = ZONES
        .iter()
        .map(|z| (z.to_string(), zone_label(*z)))
        .collect();
    let dst_begin_error = error_for("dst-begin");
    let dst_end_error = error_for("dst-end");

    view! {
        <section class="card wide" aria-labelledby="system">
            <h2 id="system">"System"</h2>
            <form id="system-form" on:submit=save novalidate>
                <div class="grid-2">
                    <Select id="date-format" label="Date Format" options=DateFormat::options() value=form.date_format />
                    <Select id="time-format" label="Time Format" options=TimeFormat::options() value=form.time_format />
                </div>
                <div class="grid-2 align-end">
                    <Field
                        id="system-time"
                        label="System Time"
                        kind="datetime-local"
                        value=form.system_time
                        error=error_for("system-time")
                    >
                        <p class="hint" id="device-time">
                            {move || {
                                let p = shown.get();
                                format!("Device clock when loaded: {}", p.settings.display.format(p.now))
                            }}
                        </p>
                    </Field>
                    <div class="field">
                        <button
                            type="button"
                            id="sync-pc"
                            class="secondary"
                            disabled=move || !hydrated.get()
                            on:click=sync_pc
                        >
                            "Sync PC"
                        </button>
                        <p class="hint">"Sets the device's clock from this computer's clock at once."</p>
                    </div>
                    <Select id="zone" label="Zone" options=zones value=form.zone />
                </div>
                <p class="hint warning">
                    "Do not change the system time arbitrarily: records keep the time they were made at."
                </p>
                <fieldset class="group">
                    <legend>"Daylight Saving Time"</legend>
                    <Check id="dst" label="DST" checked=form.dst />
                    <Show when=move || form.dst.get()>
                        <Select id="dst-type" label="DST Type" options=DstKind::options() value=form.dst_kind />
                        <DstPointFields legend="Begin Time" prefix="dst-begin" point=form.begin kind=form.dst_kind error=dst_begin_error />
                        <DstPointFields legend="End Time" prefix="dst-end" point=form.end kind=form.dst_kind error=dst_end_error />
                        <p class="hint">"Summer time is one hour ahead. The End Time is as the clock shows it in summer time."</p>
                    </Show>
                </fieldset>
                <fieldset class="group">
                    <legend>"NTP"</legend>
                    <Check id="ntp" label="NTP Enable" checked=form.ntp />
                    <div class="grid-3">
                        <Field id="ntp-server" label="NTP Server" value=form.ntp_server error=error_for("ntp-server") />
                        <Field id="ntp-port" label="Port" kind="number" value=form.ntp_port error=error_for("ntp-port") />
                        <Field id="ntp-cycle" label="Update Cycle (min)" kind="number" value=form.ntp_cycle error=error_for("ntp-cycle") />
                    </div>
                    <p class="hint" id="ntp-status">
                        {move || match shown.get().last_sync {
                            Some(s) => {
                                let (ok, text) = sync_text(&s, &shown.get().settings.display);
                                view! { <span class:ok=ok class:bad=!ok>{text}</span> }.into_any()
                            }
                            None => view! { <span>"No NTP sync since the device started."</span> }.into_any(),
                        }}
                    </p>
                </fieldset>
                <fieldset class="group">
                    <legend>"Auto Maintenance"</legend>
                    <div class="grid-2">
                        <Select id="maintenance-day" label="Day" options=MaintenanceDay::options() value=form.maintenance_day />
                        <Field id="maintenance-time" label="Time" kind="time" value=form.maintenance_time error=error_for("maintenance-time") />
                    </div>
                    <p class="hint" id="maintenance-next">
                        {move || {
                            let p = shown.get();
                            match p.next_maintenance {
                                Some(t) => format!("The device's services restart next at {}.", p.settings.display.format(t)),
                                None => "The device's services are not restarted on a schedule.".to_string(),
                            }
                        }}
                    </p>
                </fieldset>
                <SettingsActions
                    id="system"
                    submit="Save"
                    on_default=Callback::new(default)
                    on_refresh=Callback::new(refresh)
                    settings=page
                />
            </form>
        </section>
    }
}

/// The browser's clock (UTC ms); 0 on the server, where it is never used.
fn js_now() -> UnixMillis {
    #[cfg(feature = "hydrate")]
    {
        UnixMillis(js_sys::Date::now() as i64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        UnixMillis(0)
    }
}
