//! The table of a log page (Call, Unlock, Alarm, Security, History Info):
//! the manual's columns, one page of rows, a note when there are none, and
//! the pager under it.

use leptos::prelude::*;

use super::pager::Pager;

#[component]
pub fn LogTable<R, V>(
    /// The table's id.
    id: &'static str,
    /// Column headings, the manual's names.
    columns: &'static [&'static str],
    /// This page's records.
    records: Vec<R>,
    /// A record's row (`<tr>`), given its No. (counted from the newest,
    /// over all pages).
    row: impl Fn(u64, R) -> V,
    /// Said when the log is empty, with its id.
    #[prop(optional)]
    empty: Option<(&'static str, &'static str)>,
    /// The offset of the page shown and the number of all rows.
    at: u64,
    total: u64,
    page_size: u64,
    offset: RwSignal<u64>,
) -> impl IntoView
where
    V: IntoView + 'static,
{
    let shown = records.len() as u64;
    let rows = records
        .into_iter()
        .zip(at + 1..)
        .map(|(r, n)| row(n, r))
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="log" id=id>
                <thead>
                    <tr>
                        {columns.iter().map(|c| view! { <th scope="col">{*c}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {empty
            .filter(|_| total == 0)
            .map(|(id, text)| view! { <p class="muted" id=id>{text}</p> })}
        <Pager at shown total page_size offset />
    }
}
