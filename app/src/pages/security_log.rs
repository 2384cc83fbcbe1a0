//! Log Management > Security: logins, failures, lockouts, account events and
//! settings changes (Cybersecurity appendix item 12, "check equipment log").

use leptos::prelude::*;

use crate::{
    api,
    components::{log_table::LogTable, notice::transition},
    model::security_log::{SecurityLogPage as Page, PAGE_SIZE},
};

#[component]
pub fn SecurityLogPage() -> impl IntoView {
    let offset = RwSignal::new(0u64);
    let log = Resource::new(move || offset.get(), api::security_log);
    view! {
        <h1>"Security Log"</h1>
        <section class="card">
            <div class="toolbar">
                <button id="log-refresh" class="secondary" on:click=move |_| log.refetch()>
                    "Refresh"
                </button>
            </div>
            {transition(log, move |page| view! { <EventTable page offset /> })}
        </section>
    }
}

#[component]
fn EventTable(page: Page, offset: RwSignal<u64>) -> impl IntoView {
    let Page {
        events,
        total,
        offset: at,
        display,
    } = page;
    view! {
        <LogTable
            id="security-log"
            columns=&["Time", "Event", "User", "IP Address"]
            records=events
            row=move |_, e| {
                view! {
                    <tr class:warn=e.kind.is_warning()>
                        <td class="time">{display.format(e.time)}</td>
                        <td>
                            {e.kind.label()}
                            {e.coalesced_text().map(|c| view! { <span class="detail coalesced">{format!("…, {c}")}</span> })}
                            {e.detail.map(|d| view! { <span class="detail">{d}</span> })}
                        </td>
                        <td>{e.user}</td>
                        <td>{e.ip}</td>
                    </tr>
                }
            }
            at
            total
            page_size=PAGE_SIZE
            offset
        />
    }
}
