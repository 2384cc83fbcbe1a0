//! Log Management > Messages: what visitors said when nobody answered the
//! door (Leave Message Upload on Local Setting > Basic), newest first, each
//! played in the page and deleted with Delete.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{form::FormMessage, notice::transition, role::IfMay},
    model::{call_log::talk_time, message::MessagePage, users::Right},
};

#[component]
pub fn MessagesPage() -> impl IntoView {
    let list = Resource::new(|| (), |()| api::messages());
    let message = RwSignal::new(None::<(bool, String)>);
    view! {
        <h1>"Messages"</h1>
        <section class="card">
            <div class="toolbar">
                <button id="messages-refresh" class="secondary" on:click=move |_| list.refetch()>
                    "Refresh"
                </button>
            </div>
            <FormMessage message />
            {transition(list, move |page| view! { <Messages page list message /> })}
        </section>
    }
}

#[component]
fn Messages(
    page: MessagePage,
    list: Resource<Result<MessagePage, crate::error::ApiError>>,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    let hydrated = crate::components::hydration::use_hydrated();
    if page.records.is_empty() {
        return view! {
            <p class="hint" id="messages-empty">
                "No messages. With Leave Message Upload on (Local Setting > Basic), a visitor nobody answers may leave one."
            </p>
        }
        .into_any();
    }
    let display = page.display;
    let delete = move |file: String| {
        spawn_local(async move {
            match api::delete_message(file.clone()).await {
                Ok(_) => {
                    message.try_set(Some((true, format!("Deleted: {file}"))));
                    list.refetch();
                }
                Err(e) => {
                    message.try_set(Some((false, e.to_string())));
                }
            }
        });
    };
    view! {
        <ul class="messages" id="messages">
            {page
                .records
                .into_iter()
                .map(|m| {
                    let file = m.file.clone();
                    let url = m.url();
                    view! {
                        <li class="message" data-file=m.file.clone()>
                            <div class="message-head">
                                <strong class="time">{display.format(m.time)}</strong>
                                <span class="hint">
                                    {format!("{} · {} KiB", talk_time(Some(m.duration_ms)), m.bytes / 1024)}
                                </span>
                                // Deleting is the Admin's (the device refuses others).
                                <IfMay right=Right::Settings>
                                    <button
                                        type="button"
                                        class="secondary"
                                        disabled=move || !hydrated.get()
                                        on:click={
                                            let file = file.clone();
                                            move |_| delete(file.clone())
                                        }
                                    >
                                        "Delete"
                                    </button>
                                </IfMay>
                            </div>
                            <video controls preload="metadata" src=url></video>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
