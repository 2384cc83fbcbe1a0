//! Log Management > Security: logins, failures, lockouts, account events and
//! settings changes (Cybersecurity appendix item 12, "check equipment log").

use leptos::prelude::*;

use crate::{
    api,
    components::{log_table::LogTable, notice::ErrorNotice},
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
            <Transition fallback=|| view! { <p class="loading">"Loading\u{2026}"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(page) => view! { <EventTable page offset /> }.into_any(),
                        Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                    }
                })}
            </Transition>
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
    let rows = events
        .into_iter()
        .map(|e| {
            view! {
                <tr class:warn=e.kind.is_warning()>
                    <td class="time">{display.format(e.time)}</td>
                    <td>
                        {e.kind.label()}
                        {e.detail.map(|d| view! { <span class="detail">{d}</span> })}
                    </td>
                    <td>{e.user}</td>
                    <td>{e.ip}</td>
                </tr>
            }
            .into_any()
        })
        .collect();
    view! {
        <LogTable
            id="security-log"
            columns=&["Time", "Event", "User", "IP Address"]
            rows
            at
            total
            page_size=PAGE_SIZE
            offset
        />
    }
}
