//! Resetting the password (manual ch. 2.2), in three steps:
//! 1/3 explains where the code goes; 2/3 mails the security code, shows a
//! QR code that opens step 2 on a phone, and takes the code; 3/3 sets the
//! new password. `/reset?step=2` opens step 2 directly (the QR code).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api,
    components::{
        form::{
            clear_on_change, show_error, while_busy, Field, FormMessage, NewPasswordFields, Submit,
        },
        hydration::{load_page, use_hydrated},
    },
    error::ApiError,
    model::{
        password,
        reset::{code_error, ResetInfo, ResetIssued},
        ADMIN_USER,
    },
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Explain,
    Code,
    NewPassword,
    Done,
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let query = use_query_map();
    let start = if query.with_untracked(|q| q.get("step").as_deref() == Some("2")) {
        Step::Code
    } else {
        Step::Explain
    };
    let step = RwSignal::new(start);
    let info = Resource::new(|| (), |_| api::reset_info());
    view! {
        <main class="center-page">
            <div class="card narrow">
                <h1>
                    "Reset the password ("
                    {move || match step.get() {
                        Step::Explain => "1",
                        Step::Code => "2",
                        Step::NewPassword | Step::Done => "3",
                    }}
                    "/3)"
                </h1>
                <Suspense fallback=|| view! { <p class="loading">"Loading\u{2026}"</p> }>
                    {move || Suspend::new(async move {
                        match info.await {
                            Ok(i) if i.available => view! { <Flow info=i step /> }.into_any(),
                            Ok(_) => view! { <Unavailable /> }.into_any(),
                            Err(e) => {
                                view! { <p class="form-message error">{e.to_string()}</p> }
                                    .into_any()
                            }
                        }
                    })}
                </Suspense>
            </div>
        </main>
    }
}

#[component]
fn Unavailable() -> impl IntoView {
    view! {
        <p id="reset-unavailable">
            {ApiError::ResetUnavailable.to_string()}
            " If you set up an email address and Local Setting > Security > Reset Password is on, the reset works from the login page."
        </p>
        <div class="actions">
            <a class="button" href="/login">"Back to login"</a>
        </div>
    }
}

#[component]
fn Flow(info: ResetInfo, step: RwSignal<Step>) -> impl IntoView {
    let hydrated = use_hydrated();
    let hint = info.email_hint.unwrap_or_default();
    let issued = RwSignal::new(None::<ResetIssued>);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let ticket = RwSignal::new(String::new());

    // Mails a (new) code; on success, step 2 with its QR code.
    let request = move || {
        message.set(None);
        while_busy(busy, api::reset_request(), move |result| match result {
            Ok(i) => {
                issued.set(Some(i));
                step.set(Step::Code);
            }
            Err(e) => message.set(Some((false, e.to_string()))),
        });
    };

    let hint_1 = hint.clone();
    view! {
        <FormMessage message />
        <Show when=move || step.get() == Step::Explain>
            <p>
                "A security code will be sent to the email address set on this device ("
                <strong>{hint_1.clone()}</strong>
                "). On the next page, scan the QR code to continue on your phone, or enter the code here."
            </p>
            <p class="muted">
                "The code is valid for 24 hours and works once. After 5 wrong codes in a row, reset is locked for 5 minutes."
            </p>
            <div class="actions">
                <a class="button secondary" href="/login">"Cancel"</a>
                <button
                    id="reset-next"
                    class="primary"
                    disabled=move || !hydrated.get() || busy.get()
                    on:click=move |_| request()
                >
                    "Next"
                </button>
            </div>
        </Show>
        <Show when=move || step.get() == Step::Code>
            <CodeStep hint=hint.clone() issued busy ticket step on_refresh=Callback::new(move |()| request()) />
        </Show>
        <Show when=move || step.get() == Step::NewPassword>
            <NewPasswordStep ticket step />
        </Show>
        <Show when=move || step.get() == Step::Done>
            <p class="form-message ok" role="status" id="reset-done">
                "The password was reset. Every session has been logged out: log in with the new password."
            </p>
            <div class="actions">
                <button id="reset-ok" class="primary" on:click=move |_| load_page("/login")>
                    "OK"
                </button>
            </div>
        </Show>
    }
}

#[component]
fn CodeStep(
    hint: String,
    issued: RwSignal<Option<ResetIssued>>,
    busy: RwSignal<bool>,
    ticket: RwSignal<String>,
    step: RwSignal<Step>,
    on_refresh: Callback<()>,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let code_server_error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);
    clear_on_change(code, code_server_error);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let c = code.get_untracked();
        if let Some(e) = code_error(&c) {
            code_server_error.set(Some(e.to_string()));
            return;
        }
        while_busy(busy, api::reset_verify(c), move |result| match result {
            Ok(t) => {
                ticket.set(t.ticket);
                step.set(Step::NewPassword);
            }
            Err(e) => show_error(e, &[("code", code_server_error)], message),
        });
    };

    view! {
        {move || match issued.get() {
            Some(i) => {
                view! {
                    <div class="qr-panel">
                        <div class="qr" id="reset-qr" inner_html=i.qr_svg.clone()></div>
                        <div>
                            <p id="code-sent">
                                "A security code was sent to " <strong>{i.email_hint.clone()}</strong>
                                ". It is valid until " {i.valid_until_text.clone()} "."
                            </p>
                            <p class="muted">
                                "Scan the QR code to enter the code on your phone ("
                                <span class="mono">{i.qr_url.clone()}</span>
                                "). Refreshing the QR code sends a new code; the old one stops working."
                            </p>
                            <button
                                id="reset-refresh"
                                type="button"
                                class="secondary"
                                disabled=move || busy.get()
                                on:click=move |_| on_refresh.run(())
                            >
                                "Refresh QR Code"
                            </button>
                        </div>
                    </div>
                }
                    .into_any()
            }
            None => {
                view! {
                    <p>
                        "Enter the security code sent to " <strong>{hint.clone()}</strong> "."
                    </p>
                    <p class="muted">
                        "No code, or it expired? "
                        <button
                            id="reset-refresh"
                            type="button"
                            class="link"
                            disabled=move || busy.get()
                            on:click=move |_| on_refresh.run(())
                        >
                            "Send a new code"
                        </button>
                    </p>
                }
                    .into_any()
            }
        }}
        <form id="reset-code" on:submit=submit novalidate>
            <Field
                id="code"
                label="Security Code"
                autocomplete="one-time-code"
                value=code
                error=code_server_error
                autofocus=true
            />
            <FormMessage message />
            <div class="actions">
                <a class="button secondary" href="/login">"Cancel"</a>
                <Submit label="Next" busy />
            </div>
        </form>
    }
}

#[component]
fn NewPasswordStep(ticket: RwSignal<String>, step: RwSignal<Step>) -> impl IntoView {
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let server_error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let n = new.get_untracked();
        if n.is_empty() {
            server_error.set(Some("Enter a password".into()));
            return;
        }
        if password::first_error(ADMIN_USER, &n).is_some() || n != confirm.get_untracked() {
            return;
        }
        while_busy(
            busy,
            api::reset_complete(ticket.get_untracked(), n),
            move |result| match result {
                Ok(()) => step.set(Step::Done),
                Err(e) => show_error(e, &[("password", server_error)], message),
            },
        );
    };

    view! {
        <form id="reset-password" on:submit=submit novalidate>
            <p>"Set and confirm the new password."</p>
            <NewPasswordFields new confirm server_error autofocus=true />
            <FormMessage message />
            <div class="actions">
                <Submit label="OK" busy />
            </div>
        </form>
    }
}
