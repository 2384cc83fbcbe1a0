//! Household Setting > Publish Information (manual 5.6): Send Info (VTO
//! No. or All device, Title, Content, Confirm; then the result per device)
//! and History Info (time, title, to whom and how it went, newest first).

use leptos::prelude::*;

use crate::{
    api,
    components::{
        form::{while_busy, Check, Field, FormErrors, FormMessage, Submit},
        log_table::LogTable,
        notice::transition,
    },
    model::publish::{
        DeliveryResult, Publication, PublishPage as Page, PublishRecord, MAX_CONTENT, PAGE_SIZE,
    },
};

#[component]
pub fn PublishPage() -> impl IntoView {
    let offset = RwSignal::new(0u64);
    // Bumped after a send: History Info asks again.
    let sent = RwSignal::new(0u32);
    let history = Resource::new(
        move || (offset.get(), sent.get()),
        |(o, _)| api::publish_history(o),
    );
    view! {
        <h1>"Publish Information"</h1>
        <SendInfo sent />
        <section class="card wide" aria-labelledby="history-title">
            <div class="card-head">
                <h2 id="history-title">"History Info"</h2>
                <button id="history-refresh" class="secondary" on:click=move |_| history.refetch()>
                    "Refresh"
                </button>
            </div>
            {transition(history, move |page| view! { <History page offset /> })}
        </section>
    }
}

#[component]
fn SendInfo(sent: RwSignal<u32>) -> impl IntoView {
    let number = RwSignal::new(String::new());
    let all = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let content = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let result = RwSignal::new(None::<PublishRecord>);
    let submitted = RwSignal::new(false);
    let publication = move || Publication {
        number: number.get().trim().to_string(),
        all: all.get(),
        title: title.get(),
        content: content.get(),
    };
    let errors = FormErrors::new(move || {
        number.track();
        all.track();
        title.track();
        content.track();
    });
    let error_for = errors.after_submit(submitted, move || publication().validate());
    let content_error = error_for("publish-content");
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        message.set(None);
        let p = publication();
        if !p.validate().is_empty() {
            return;
        }
        message.set(Some((true, "Sending\u{2026}".into())));
        while_busy(busy, api::publish(p), move |r| match r {
            Ok(record) => {
                message.set(Some((true, format!("Sent: {}.", record.summary()))));
                result.set(Some(record));
                sent.update(|s| *s += 1);
            }
            Err(e) => {
                message.set(None);
                errors.take(e, message);
            }
        });
    };
    view! {
        <section class="card wide" aria-labelledby="send-title">
            <h2 id="send-title">"Send Info"</h2>
            <form id="publish-form" on:submit=confirm novalidate>
                <div class="grid-2">
                    <Show when=move || !all.get()>
                        <Field id="publish-no" label="VTO No." value=number error=error_for("publish-no")>
                            <p class="hint">"A room (9901), a monitor (9901#1), a VTO or a VTS."</p>
                        </Field>
                    </Show>
                    <Check id="publish-all" label="All device" checked=all />
                </div>
                <Field id="publish-title" label="Title" value=title error=error_for("publish-title") />
                <div class="field" class:has-error=move || content_error.get().is_some()>
                    <label for="publish-content">"Content"</label>
                    <textarea
                        id="publish-content"
                        name="publish-content"
                        rows="5"
                        maxlength=MAX_CONTENT
                        prop:value=move || content.get()
                        on:input=move |ev| content.set(event_target_value(&ev))
                        aria-describedby="publish-content-error"
                    ></textarea>
                    <p class="field-error" id="publish-content-error" role="alert">
                        {move || content_error.get()}
                    </p>
                </div>
                <FormMessage message />
                <div class="actions">
                    <Submit label="Confirm" id="publish-confirm" busy />
                </div>
            </form>
            {move || result.get().map(|r| view! {
                <table class="log" id="publish-result">
                    <thead>
                        <tr><th scope="col">"Device"</th><th scope="col">"Result"</th></tr>
                    </thead>
                    <tbody>
                        {r.deliveries.into_iter().map(|d| {
                            let ok = d.result == DeliveryResult::Delivered;
                            view! {
                                <tr data-device=d.device.clone()>
                                    <td>{d.device.clone()}</td>
                                    <td><span class="state" class:ok=ok>{d.result.text()}</span></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}

#[component]
fn History(page: Page, offset: RwSignal<u64>) -> impl IntoView {
    let Page {
        records,
        total,
        offset: at,
        display,
    } = page;
    view! {
        <LogTable
            id="publish-history"
            columns=&["Time", "Title", "To", "Result"]
            records
            row=move |_, r| {
                let details = r
                    .deliveries
                    .iter()
                    .map(|d| format!("{}: {}", d.device, d.result.text()))
                    .collect::<Vec<_>>()
                    .join(", ");
                view! {
                    <tr>
                        <td class="time">{display.format(r.at)}</td>
                        <td>{r.title.clone()}</td>
                        <td>{r.target.clone()}</td>
                        <td title=details.clone()>
                            {r.summary()}
                            <span class="muted small">{format!(" ({details})")}</span>
                        </td>
                    </tr>
                }
            }
            empty=("publish-empty", "Nothing sent yet.")
            at
            total
            page_size=PAGE_SIZE
            offset
        />
    }
}
