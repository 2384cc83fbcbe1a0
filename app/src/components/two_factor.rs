//! The account page's two-factor login panel: enable (password, QR code and
//! secret, first code, recovery codes shown once) and disable (password and
//! a code).

use leptos::prelude::*;

use crate::{
    api,
    components::form::{
        clear_on_change, show_error, while_busy, CurrentPassword, Field, FormMessage,
    },
    model::{
        reset::group_by_four,
        two_factor::{code_error, TotpEnrolment, TwoFactorStatus},
    },
};

#[derive(Clone, PartialEq)]
enum State {
    Off,
    /// Waiting for the first code.
    Enrolling(TotpEnrolment),
    /// Just enabled: the recovery codes, shown this once.
    Recovery(Vec<String>),
    On(usize),
}

#[component]
pub fn TwoFactor(status: TwoFactorStatus) -> impl IntoView {
    let state = RwSignal::new(if status.enabled {
        State::On(status.recovery_codes_left)
    } else {
        State::Off
    });
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let password_error = RwSignal::new(None::<String>);
    let code_err = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    clear_on_change(password, password_error);
    clear_on_change(code, code_err);

    let begin = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let p = password.get_untracked();
        if p.is_empty() {
            password_error.set(Some("Enter the current password".into()));
            return;
        }
        while_busy(busy, api::totp_begin(p), move |r| match r {
            Ok(e) => {
                password.set(String::new());
                state.set(State::Enrolling(e));
            }
            Err(e) => show_error(e, &[("password", password_error)], message),
        });
    };

    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let c = code.get_untracked();
        if let Some(e) = code_error(&c) {
            code_err.set(Some(e.into()));
            return;
        }
        while_busy(busy, api::totp_confirm(c), move |r| match r {
            Ok(r) => {
                code.set(String::new());
                state.set(State::Recovery(r.codes));
            }
            Err(e) => show_error(e, &[("totp-code", code_err)], message),
        });
    };

    let disable = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        message.set(None);
        let (p, c) = (password.get_untracked(), code.get_untracked());
        if p.is_empty() {
            password_error.set(Some("Enter the current password".into()));
            return;
        }
        if let Some(e) = code_error(&c) {
            code_err.set(Some(e.into()));
            return;
        }
        while_busy(busy, api::totp_disable(p, c), move |r| match r {
            Ok(()) => {
                password.set(String::new());
                code.set(String::new());
                state.set(State::Off);
                message.set(Some((true, "Two-factor login is off.".into())));
            }
            Err(e) => show_error(
                e,
                &[("password", password_error), ("code", code_err)],
                message,
            ),
        });
    };

    view! {
        <section class="card" aria-labelledby="two-factor">
            <h2 id="two-factor">"Two-Factor Login"</h2>
            {move || match state.get() {
                State::Off => {
                    view! {
                        <p id="two-factor-state">
                            "Off. With it on, login asks for a code from an authenticator app after the password."
                        </p>
                        <form id="totp-begin" on:submit=begin novalidate>
                            <CurrentPassword id="totp-password" label="Password" value=password error=password_error />
                            <div class="actions">
                                <button type="submit" class="primary" disabled=move || busy.get()>
                                    "Enable"
                                </button>
                            </div>
                        </form>
                    }
                        .into_any()
                }
                State::Enrolling(e) => {
                    view! {
                        <div class="qr-panel">
                            <div class="qr" id="totp-qr" inner_html=e.qr_svg.clone()></div>
                            <div>
                                <p>"Scan the QR code with an authenticator app, or type this key into it:"</p>
                                <p class="mono secret" id="totp-secret">{group_by_four(&e.secret, " ")}</p>
                                <p class="muted">"Then enter the app's current code to finish."</p>
                            </div>
                        </div>
                        <form id="totp-confirm" on:submit=confirm novalidate>
                            <Field
                                id="totp-code"
                                label="Verification Code"
                                autocomplete="one-time-code"
                                value=code
                                error=code_err
                            />
                            <div class="actions">
                                <button
                                    type="button"
                                    class="secondary"
                                    on:click=move |_| state.set(State::Off)
                                >
                                    "Cancel"
                                </button>
                                <button type="submit" class="primary" disabled=move || busy.get()>
                                    "Confirm"
                                </button>
                            </div>
                        </form>
                    }
                        .into_any()
                }
                State::Recovery(codes) => {
                    let n = codes.len();
                    view! {
                        <p class="form-message ok" role="status">"Two-factor login is on."</p>
                        <p>
                            "Recovery codes: each logs in once without the app. Keep them somewhere safe: they are shown only now."
                        </p>
                        <ul class="recovery-codes mono" id="recovery-codes">
                            {codes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                        </ul>
                        <div class="actions">
                            <button class="primary" on:click=move |_| state.set(State::On(n))>
                                "Done"
                            </button>
                        </div>
                    }
                        .into_any()
                }
                State::On(left) => {
                    view! {
                        <p id="two-factor-state">
                            {format!("On. {left} recovery codes left. To turn it off, enter the password and a code.")}
                        </p>
                        <form id="totp-disable" on:submit=disable novalidate>
                            <CurrentPassword id="totp-password" label="Password" value=password error=password_error />
                            <Field
                                id="totp-off-code"
                                label="Verification Code"
                                autocomplete="one-time-code"
                                value=code
                                error=code_err
                            />
                            <div class="actions">
                                <button type="submit" class="danger" disabled=move || busy.get()>
                                    "Disable"
                                </button>
                            </div>
                        </form>
                    }
                        .into_any()
                }
            }}
            <FormMessage message />
        </section>
    }
}
