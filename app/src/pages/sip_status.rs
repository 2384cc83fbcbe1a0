//! Household Setting > Status (manual 5.5): the working state and IP
//! address of every device of this SIP server, asked again every 5 s.

use leptos::prelude::*;

use crate::{
    api,
    components::{hydration::every, notice::transition},
    model::sip_status::{StatusPage as Page, REFRESH_MS},
};

#[component]
pub fn StatusPage() -> impl IntoView {
    let tick = RwSignal::new(0u64);
    let status = Resource::new(move || tick.get(), |_| api::sip_status());
    // Live: the browser asks again while the page is open.
    every(REFRESH_MS, move || tick.update(|t| *t += 1));
    view! {
        <h1>"Status"</h1>
        <section class="card wide">
            <div class="toolbar">
                <button id="status-refresh" class="secondary" on:click=move |_| tick.update(|t| *t += 1)>
                    "Refresh"
                </button>
            </div>
            {transition(status, |page| view! { <StatusTable page /> })}
        </section>
    }
}

#[component]
fn StatusTable(page: Page) -> impl IntoView {
    let Page { devices, display } = page;
    if devices.is_empty() {
        return view! {
            <p class="muted" id="status-empty">
                "No devices yet: add rooms in Room No. Management."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="log" id="status-table">
                <thead>
                    <tr>
                        <th scope="col">"No."</th>
                        <th scope="col">"Device"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"IP Address"</th>
                        <th scope="col">"Last Registration"</th>
                        <th scope="col">"User Agent"</th>
                    </tr>
                </thead>
                <tbody>
                    {devices
                        .into_iter()
                        .map(|d| {
                            let state = if d.online { "Online" } else { "Offline" };
                            let number = d.number.clone();
                            view! {
                                <tr data-number=number class:offline=!d.online>
                                    <td>{d.number}</td>
                                    <td>{d.kind}</td>
                                    <td>
                                        <span class="state" class:ok=d.online>{state}</span>
                                    </td>
                                    <td>{d.ip}</td>
                                    <td class="time">
                                        {d.last_registration.map(|t| display.format(t)).unwrap_or_default()}
                                    </td>
                                    <td>{d.user_agent}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
