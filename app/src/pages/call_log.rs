//! Log Management > Call (manual 7.1): call type, room no., begin time,
//! talk time and end state of every call through the SIP server, newest
//! first, with Export Data (CSV).

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::FormMessage,
        hydration::{download, export_file},
        log_table::LogTable,
        notice::transition,
    },
    model::call_log::{talk_time, CallLogPage as Page, EndState, EXPORT_FILE, PAGE_SIZE},
};

#[component]
pub fn CallLogPage() -> impl IntoView {
    let offset = RwSignal::new(0u64);
    let log = Resource::new(move || offset.get(), api::call_log);
    let message = RwSignal::new(None::<(bool, String)>);
    let export = move |_| {
        export_file(
            message,
            api::export_call_log(),
            |csv| download(EXPORT_FILE, "text/csv", &csv),
            format!("Exported as {EXPORT_FILE}."),
        );
    };
    view! {
        <h1>"Call"</h1>
        <section class="card">
            <div class="toolbar">
                <button id="call-refresh" class="secondary" on:click=move |_| log.refetch()>
                    "Refresh"
                </button>
                <button id="call-export" class="secondary" on:click=export>
                    "Export Data"
                </button>
            </div>
            <FormMessage message />
            {transition(log, move |page| view! { <CallTable page offset /> })}
        </section>
    }
}

#[component]
fn CallTable(page: Page, offset: RwSignal<u64>) -> impl IntoView {
    let Page {
        records,
        total,
        offset: at,
        display,
    } = page;
    view! {
        <LogTable
            id="call-log"
            columns=&["No.", "Call Type", "Room No.", "From", "To", "Begin Time", "Talk Time", "End State", "Snapshot"]
            records
            row=move |n, r| {
                view! {
                    <tr class:warn=matches!(r.end_state, EndState::Missed | EndState::NotAnswered)>
                        <td>{n}</td>
                        <td>{r.call_type.label()}</td>
                        <td>{r.room_no}</td>
                        <td>{r.from}</td>
                        <td>{r.to}</td>
                        <td class="time">{display.format(r.begin)}</td>
                        <td>{talk_time(r.talk_ms)}</td>
                        <td>{r.end_state.label()}</td>
                        <td>{r.snapshot.map(crate::pages::unlock_log::snapshot_cell)}</td>
                    </tr>
                }
            }
            empty=("call-log-empty", "No calls yet.")
            at
            total
            page_size=PAGE_SIZE
            offset
        />
    }
}
