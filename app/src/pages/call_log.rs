//! Log Management > Call (manual 7.1): call type, room no., begin time,
//! talk time and end state of every call through the SIP server, newest
//! first, with Export Data (CSV).

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        form::FormMessage, hydration::download, log_table::LogTable, notice::ErrorNotice,
    },
    model::call_log::{talk_time, CallLogPage as Page, EndState, EXPORT_FILE, PAGE_SIZE},
};

#[component]
pub fn CallLogPage() -> impl IntoView {
    let offset = RwSignal::new(0u64);
    let log = Resource::new(move || offset.get(), api::call_log);
    let message = RwSignal::new(None::<(bool, String)>);
    let export = move |_| {
        message.set(None);
        spawn_local(async move {
            let saved = api::export_call_log()
                .await
                .map_err(|e| e.to_string())
                .and_then(|csv| download(EXPORT_FILE, "text/csv", &csv));
            message.set(Some(match saved {
                Ok(()) => (true, format!("Exported as {EXPORT_FILE}.")),
                Err(e) => (false, e),
            }));
        });
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
            <Transition fallback=|| view! { <p class="loading">"Loading\u{2026}"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(page) => view! { <CallTable page offset /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
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
    let rows = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            view! {
                <tr class:warn=r.end_state == EndState::Missed>
                    <td>{at + i as u64 + 1}</td>
                    <td>{r.call_type.label()}</td>
                    <td>{r.room_no}</td>
                    <td>{r.from}</td>
                    <td>{r.to}</td>
                    <td class="time">{display.format(r.begin)}</td>
                    <td>{talk_time(r.talk_ms)}</td>
                    <td>{r.end_state.label()}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <LogTable
            id="call-log"
            columns=&["No.", "Call Type", "Room No.", "From", "To", "Begin Time", "Talk Time", "End State"]
            rows
            empty=("call-log-empty", "No calls yet.")
            at
            total
            page_size=PAGE_SIZE
            offset
        />
    }
}
