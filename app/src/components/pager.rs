//! "1 to 50 of 120" with Newer and Older: the pager of the log pages.

use leptos::prelude::*;

/// `at`: the offset of the page shown, `shown`: its rows, `total`: all
/// rows; `offset` is set to the page asked for.
#[component]
pub fn Pager(
    at: u64,
    shown: u64,
    total: u64,
    page_size: u64,
    offset: RwSignal<u64>,
) -> impl IntoView {
    let last = (at + shown).min(total);
    view! {
        <div class="pager">
            <span>{format!("{} to {} of {}", if total == 0 { 0 } else { at + 1 }, last, total)}</span>
            <button
                class="secondary"
                disabled={at == 0}
                on:click=move |_| offset.set(at.saturating_sub(page_size))
            >
                "Newer"
            </button>
            <button class="secondary" disabled={last >= total} on:click=move |_| offset.set(last)>
                "Older"
            </button>
        </div>
    }
}
