//! Log Management > Unlock (manual 7.2): every attempt to open the door
//! (card, password, remote, button, SIP, API) with who, from where, the
//! result and why it was refused; filters, paging and Export Data (CSV).
//! Log Management > Alarm: the door sensor's alarms.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::{Field, FormMessage},
        hydration::{download, export_file},
        log_table::LogTable,
        notice::transition,
        role::IfMay,
    },
    model::{
        access::{
            AlarmLogPage, UnlockFilter, UnlockLogPage, UnlockLogSettings, UnlockMethod,
            UnlockSnapshot, EXPORT_FILE, MAX_ALARMS, MAX_RECORDS, MIN_RECORDS, PAGE_SIZE,
        },
        users::Right,
    },
};

#[component]
pub fn UnlockLogPage() -> impl IntoView {
    let offset = RwSignal::new(0u64);
    let method = RwSignal::new(String::new());
    let result = RwSignal::new(String::new());
    let filter = Memo::new(move |_| UnlockFilter {
        method: UnlockMethod::from_key(&method.get()),
        opened: match result.get().as_str() {
            "opened" => Some(true),
            "refused" => Some(false),
            _ => None,
        },
    });
    // A new filter starts at the first page.
    Effect::new(move |_| {
        filter.track();
        offset.set(0);
    });
    let log = Resource::new(
        move || (offset.get(), filter.get()),
        |(offset, filter)| api::unlock_log(offset, filter),
    );
    let message = RwSignal::new(None::<(bool, String)>);
    let export = move |_| {
        export_file(
            message,
            api::export_unlock_log(filter.get_untracked()),
            |csv| download(EXPORT_FILE, "text/csv", &csv),
            format!("Exported as {EXPORT_FILE}."),
        );
    };
    let methods: Vec<(&'static str, &'static str)> = std::iter::once(("", "All"))
        .chain(UnlockMethod::options())
        .collect();
    view! {
        <h1>"Unlock"</h1>
        <section class="card">
            <div class="log-filters">
                <div class="field">
                    <label for="unlock-method">"Unlock Method"</label>
                    <select id="unlock-method" on:change=move |ev| method.set(event_target_value(&ev))>
                        {methods
                            .into_iter()
                            .map(|(k, l)| view! { <option value=k>{l}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="unlock-result">"Result"</label>
                    <select id="unlock-result" on:change=move |ev| result.set(event_target_value(&ev))>
                        <option value="">"All"</option>
                        <option value="opened">"Opened"</option>
                        <option value="refused">"Refused"</option>
                    </select>
                </div>
                <div class="toolbar">
                    <button id="unlock-refresh" class="secondary" on:click=move |_| log.refetch()>
                        "Refresh"
                    </button>
                    <button id="unlock-export" class="secondary" on:click=export>
                        "Export Data"
                    </button>
                </div>
            </div>
            <FormMessage message />
            {transition(log, move |page| view! { <UnlockTable page offset /> })}
        </section>
        // Records Kept is a setting: the Admin's.
        <IfMay right=Right::Settings>
            <KeepForm log />
        </IfMay>
    }
}

/// Records Kept: how many records the device keeps (the oldest go first).
#[component]
fn KeepForm(log: Resource<Result<UnlockLogPage, crate::error::ApiError>>) -> impl IntoView {
    let keep = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);
    // Filled from the log once it is loaded.
    Effect::new(move |_| {
        if let Some(Ok(page)) = log.get() {
            if keep.get_untracked().is_empty() {
                keep.set(page.keep.to_string());
            }
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        message.set(None);
        let settings = UnlockLogSettings {
            keep: keep.get().trim().parse().unwrap_or(0),
        };
        if let Some((_, m)) = settings.validate().into_iter().next() {
            error.set(Some(m));
            return;
        }
        spawn_local(async move {
            match api::save_unlock_log_settings(settings).await {
                Ok(s) => {
                    message.try_set(Some((
                        true,
                        format!("Saved: the newest {} records are kept.", s.keep),
                    )));
                    log.refetch();
                }
                Err(crate::error::ApiError::Invalid { message: m, .. }) => {
                    error.try_set(Some(m));
                }
                Err(e) => {
                    message.try_set(Some((false, e.to_string())));
                }
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="unlock-keep-title">
            <h2 id="unlock-keep-title">"Storage"</h2>
            <form id="unlock-keep-form" on:submit=save novalidate>
                <Field id="unlock-keep" label="Records Kept" kind="number" value=keep error=error>
                    <p class="hint">
                        {format!("{MIN_RECORDS} to {MAX_RECORDS}. The device keeps this many of the newest records; the oldest go first (at once when lowered).")}
                    </p>
                </Field>
                <FormMessage message />
                <div class="actions">
                    <button type="submit" class="primary">"Save"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn UnlockTable(page: UnlockLogPage, offset: RwSignal<u64>) -> impl IntoView {
    let UnlockLogPage {
        records,
        total,
        offset: at,
        display,
        ..
    } = page;
    view! {
        <LogTable
            id="unlock-log"
            columns=&["No.", "Time", "Unlock Method", "User", "Source", "Result", "Reason", "Snapshot"]
            records
            row=move |n, r| {
                view! {
                    <tr class:warn=r.refused.is_some()>
                        <td>{n}</td>
                        <td class="time">{display.format(r.time)}</td>
                        <td>{r.method.label()}</td>
                        <td>{r.who.clone()}</td>
                        <td>{r.source.clone()}</td>
                        <td>{r.result()}</td>
                        <td>{r.reason()}</td>
                        <td>{r.snapshot.map(snapshot_cell)}</td>
                    </tr>
                }
            }
            empty=("unlock-log-empty", "No unlock records.")
            at
            total
            page_size=PAGE_SIZE
            offset
        />
    }
}

/// A link to the saved snapshot, or why there is none.
pub fn snapshot_cell(s: UnlockSnapshot) -> AnyView {
    match (s.url(), s) {
        (_, UnlockSnapshot::Failed(why)) => {
            view! { <span class="field-error">{format!("Not saved: {why}")}</span> }.into_any()
        }
        (url, UnlockSnapshot::Saved(_)) => view! {
            <a class="snapshot-link" href=url target="_blank" rel="noopener">"View"</a>
        }
        .into_any(),
    }
}

#[component]
pub fn AlarmLogPage() -> impl IntoView {
    let offset = RwSignal::new(0u64);
    let log = Resource::new(move || offset.get(), api::alarm_log);
    view! {
        <h1>"Alarm"</h1>
        <section class="card">
            <div class="toolbar">
                <button id="alarm-refresh" class="secondary" on:click=move |_| log.refetch()>
                    "Refresh"
                </button>
            </div>
            {transition(log, move |page| view! { <AlarmTable page offset /> })}
            <p class="hint">
                {format!("The device keeps the newest {MAX_ALARMS} alarms; the oldest go first.")}
            </p>
        </section>
    }
}

#[component]
fn AlarmTable(page: AlarmLogPage, offset: RwSignal<u64>) -> impl IntoView {
    let AlarmLogPage {
        records,
        total,
        offset: at,
        display,
    } = page;
    view! {
        <LogTable
            id="alarm-log"
            columns=&["No.", "Time", "Alarm", "Management Centre"]
            records
            row=move |n, r| {
                view! {
                    <tr class="warn">
                        <td>{n}</td>
                        <td class="time">{display.format(r.time)}</td>
                        <td>{r.kind.label()}</td>
                        <td>{r.centre}</td>
                    </tr>
                }
            }
            empty=("alarm-log-empty", "No alarms.")
            at
            total
            page_size=PAGE_SIZE
            offset
        />
    }
}
