//! Form fields: a visible label with the manual's parameter name, the input,
//! and the field's validation error right below it.

use leptos::prelude::*;

use crate::model::password;

/// A labelled text-like input bound to `value`.
#[component]
pub fn Field(
    /// Element id, also the field name that server errors refer to.
    id: &'static str,
    /// The manual's parameter name.
    label: &'static str,
    value: RwSignal<String>,
    /// Input type; `text` when absent.
    #[prop(optional)]
    kind: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(into, optional)] error: MaybeProp<String>,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] autofocus: bool,
    /// Extra content under the input (hints, checklists).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let initial = value.get_untracked();
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id>{label}</label>
            <input
                id=id
                name=id
                type=kind.unwrap_or("text")
                autocomplete=autocomplete.unwrap_or("off")
                readonly=readonly
                autofocus=autofocus
                value=initial
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            {children.map(|c| c())}
            <p class="field-error" id=error_id role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A password the user has (to log in, or to confirm a change with).
#[component]
pub fn CurrentPassword(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into, optional)] error: MaybeProp<String>,
    #[prop(optional)] autofocus: bool,
) -> impl IntoView {
    view! { <Field id label kind="password" autocomplete="current-password" value error autofocus /> }
}

/// A form's submit button: disabled until the page is hydrated, and while
/// `busy`.
#[component]
pub fn Submit(
    label: &'static str,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(into, optional)] busy: MaybeProp<bool>,
) -> impl IntoView {
    let hydrated = crate::components::hydration::use_hydrated();
    view! {
        <button type="submit" id=id class="primary" disabled=move || !hydrated.get() || busy.get() == Some(true)>
            {label}
        </button>
    }
}

/// A write-only password (the SMTP server's, a camera's): the stored one
/// never comes back to the browser. Empty keeps it; the box under it
/// clears it. The hint (`<id>-state`) says whether one is stored.
#[component]
pub fn WriteOnlyPassword(
    id: &'static str,
    /// The manual's parameter name.
    label: &'static str,
    /// What was typed (empty: keep the stored one).
    value: RwSignal<String>,
    /// Whether the device holds one.
    stored: RwSignal<bool>,
    /// The "Clear the stored password" box, and its id.
    clear: RwSignal<bool>,
    clear_id: &'static str,
    #[prop(into, optional)] error: MaybeProp<String>,
    /// What it is called in the hints: `password` when absent.
    #[prop(optional)]
    noun: Option<&'static str>,
    /// Where it is sent (e.g. "the SMTP Server, Port or Security"): the
    /// hint says that changing it needs the secret again.
    #[prop(optional)]
    destination: Option<&'static str>,
) -> impl IntoView {
    let state_id = format!("{id}-state");
    let noun = noun.unwrap_or("password");
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "An"
    } else {
        "A"
    };
    let (kept, none, clear_label) = (
        match destination {
            Some(d) => format!(
                "{article} {noun} is stored. Leave empty to keep it, unless you change {d}."
            ),
            None => format!("{article} {noun} is stored. Leave empty to keep it."),
        },
        format!("No {noun} stored."),
        format!("Clear the stored {noun}"),
    );
    view! {
        <Field id label kind="password" autocomplete="new-password" value error>
            <p class="hint" id=state_id>
                {move || if stored.get() { kept.clone() } else { none.clone() }}
            </p>
            <Show when=move || stored.get()>
                <Check id=clear_id label=clear_label.clone() checked=clear />
            </Show>
        </Field>
    }
}

/// A labelled checkbox bound to `checked`.
#[component]
pub fn Check(
    id: &'static str,
    #[prop(into)] label: String,
    checked: RwSignal<bool>,
) -> impl IntoView {
    let initial = checked.get_untracked();
    view! {
        <div class="field field-check">
            <input
                id=id
                name=id
                type="checkbox"
                checked=initial
                prop:checked=move || checked.get()
                on:change=move |ev| checked.set(event_target_checked(&ev))
            />
            <label for=id>{label}</label>
        </div>
    }
}

/// A labelled 0-100 slider bound to `value`, with its number shown.
#[component]
pub fn Slider(id: &'static str, label: &'static str, value: RwSignal<u8>) -> impl IntoView {
    let initial = value.get_untracked().to_string();
    view! {
        <div class="field field-range">
            <label for=id>{label}</label>
            <div class="range-row">
                <input
                    id=id
                    name=id
                    type="range"
                    min="0"
                    max="100"
                    value=initial
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse::<u8>() {
                            value.set(v.min(100));
                        }
                    }
                />
                <output id=format!("{id}-value") for=id>{move || value.get()}</output>
            </div>
        </div>
    }
}

/// The "Email" check box and, when checked, the address field (manual ch. 1
/// step 4 and the account page).
#[component]
pub fn EmailChoice(
    use_email: RwSignal<bool>,
    address: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Check id="use-email" label="Email" checked=use_email />
        <Show when=move || use_email.get()>
            <Field
                id="email"
                label="Email Address"
                kind="email"
                autocomplete="email"
                value=address
                error=error
            />
        </Show>
    }
}

/// A server's error about a field belongs to the value it was about: typing
/// clears it.
pub fn clear_on_change(value: RwSignal<String>, error: RwSignal<Option<String>>) {
    Effect::new(move |_| {
        value.track();
        error.set(None);
    });
}

/// The password rules as a live checklist under a new-password field.
#[component]
pub fn PasswordRules(
    /// Whose password (the rules forbid the user name in it).
    #[prop(into)]
    user: String,
    password: RwSignal<String>,
) -> impl IntoView {
    view! {
        <ul class="rules" aria-label="Password rules">
            {move || {
                password::checklist(&user, &password.get())
                    .into_iter()
                    .map(|(label, ok)| {
                        view! {
                            <li class:ok=ok class:bad=!ok>
                                <span class="mark" aria-hidden="true">
                                    {if ok { "\u{2713}" } else { "\u{2022}" }}
                                </span>
                                {label}
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// The error for a new password as typed: the first rule broken, once the
/// user has typed something.
pub fn new_password_error(user: &str, value: &str) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    password::first_error(user, value).map(|r| r.message(user))
}

/// The error for a confirmation field.
pub fn confirm_error(password: &str, confirm: &str) -> Option<String> {
    (!confirm.is_empty() && password != confirm).then(|| "The passwords do not match".to_string())
}

/// A form-level message (errors not tied to one field, or success).
#[component]
pub fn FormMessage(#[prop(into)] message: Signal<Option<(bool, String)>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            {move || {
                message
                    .get()
                    .map(|(ok, text)| {
                        view! {
                            <p class=if ok { "form-message ok" } else { "form-message error" } role="alert">
                                {text}
                            </p>
                        }
                    })
            }}
        </Show>
    }
}

/// The choices of a [`Select`]: (key, shown text).
pub struct Options(pub Vec<(String, String)>);

impl From<Vec<(&'static str, &'static str)>> for Options {
    fn from(v: Vec<(&'static str, &'static str)>) -> Self {
        Self(v.into_iter().map(|(k, t)| (k.into(), t.into())).collect())
    }
}

impl From<Vec<(String, String)>> for Options {
    fn from(v: Vec<(String, String)>) -> Self {
        Self(v)
    }
}

/// A labelled drop-down bound to `value` (the chosen option's key).
#[component]
pub fn Select(
    id: &'static str,
    /// The manual's parameter name.
    label: &'static str,
    #[prop(into)] options: Options,
    value: RwSignal<String>,
) -> impl IntoView {
    let initial = value.get_untracked();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select
                id=id
                name=id
                prop:value=move || value.get()
                on:change=move |ev| value.set(event_target_value(&ev))
            >
                {options
                    .0
                    .into_iter()
                    .map(|(key, text)| {
                        let selected = key == initial;
                        view! {
                            <option value=key selected=selected>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// The errors of a settings form: the device's verdict on one field (kept
/// until the next edit) before the page's own checks as typed.
#[derive(Clone, Copy)]
pub struct FormErrors(RwSignal<Option<(String, String)>>);

impl FormErrors {
    /// `edited` reads the form's fields: any change clears the device's
    /// verdict.
    pub fn new(edited: impl Fn() + 'static) -> Self {
        let server = RwSignal::new(None);
        Effect::new(move |_| {
            edited();
            server.set(None);
        });
        Self(server)
    }

    /// A failed save: a field's error goes next to it, any other to
    /// `message`.
    pub fn take(&self, e: crate::error::ApiError, message: RwSignal<Option<(bool, String)>>) {
        match e {
            crate::error::ApiError::Invalid { field, message: m } => self.0.set(Some((field, m))),
            other => message.set(Some((false, other.to_string()))),
        }
    }

    /// What to show under `field`; `local` lists the form's own errors as
    /// (field id, message).
    pub fn signal(
        &self,
        field: &'static str,
        local: impl Fn() -> Vec<(&'static str, String)> + Send + Sync + 'static,
    ) -> Signal<Option<String>> {
        let server = self.0;
        Signal::derive(move || {
            if let Some((f, m)) = server.get() {
                if f == field {
                    return Some(m);
                }
            }
            local()
                .into_iter()
                .find(|(f, _)| *f == field)
                .map(|(_, m)| m)
        })
    }

    /// `error_for(field)` of a form (a dialog's) that shows its own errors
    /// only once it was `submitted`; the device's verdict at any time.
    pub fn after_submit(
        self,
        submitted: RwSignal<bool>,
        local: impl Fn() -> Vec<(&'static str, String)> + Copy + Send + Sync + 'static,
    ) -> impl Fn(&'static str) -> Signal<Option<String>> + Copy {
        move |field| {
            self.signal(
                field,
                move || {
                    if submitted.get() {
                        local()
                    } else {
                        Vec::new()
                    }
                },
            )
        }
    }
}

/// Runs `request` with `busy` set until it is answered (the page's buttons
/// wait meanwhile), then `done` with the answer.
pub fn while_busy<T: 'static>(
    busy: RwSignal<bool>,
    request: impl std::future::Future<Output = T> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    busy.set(true);
    leptos::task::spawn_local(async move {
        let r = request.await;
        busy.set(false);
        done(r);
    });
}

/// What every settings page does with its buttons: the form message, the
/// busy flag while saving and the device's verdict per field.
#[derive(Clone, Copy)]
pub struct SettingsPage {
    pub message: RwSignal<Option<(bool, String)>>,
    pub busy: RwSignal<bool>,
    pub errors: FormErrors,
}

impl SettingsPage {
    /// `edited` reads the form's fields (see [`FormErrors::new`]).
    pub fn new(edited: impl Fn() + 'static) -> Self {
        Self {
            message: RwSignal::new(None),
            busy: RwSignal::new(false),
            errors: FormErrors::new(edited),
        }
    }

    /// Saves: `done` takes the device's answer and says what to show; an
    /// error goes next to its field.
    pub fn save<T: 'static>(
        self,
        request: impl std::future::Future<Output = Result<T, crate::error::ApiError>> + 'static,
        done: impl FnOnce(T) -> String + 'static,
    ) {
        self.message.set(None);
        while_busy(self.busy, request, move |r| match r {
            Ok(v) => {
                let m = done(v);
                self.message.set(Some((true, m)));
            }
            Err(e) => self.errors.take(e, self.message),
        });
    }

    /// Refresh: reloads from the device into the form with `fill`.
    pub fn refresh<T: 'static>(
        self,
        request: impl std::future::Future<Output = Result<T, crate::error::ApiError>> + 'static,
        fill: impl FnOnce(T) + 'static,
    ) {
        self.message.set(None);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(v) => fill(v),
                Err(e) => self.message.set(Some((false, e.to_string()))),
            }
        });
    }

    /// Default: fills the defaults in; `submit` names the button that saves.
    pub fn defaults(self, submit: &str, fill: impl FnOnce()) {
        self.message.set(Some((
            true,
            format!("Defaults filled in: click {submit} to save them."),
        )));
        fill();
    }
}

/// The page's message and the buttons of a settings page (manual ch. 4,
/// general operations): Default fills in the defaults, Refresh reloads
/// from the device, the submit button (`submit`: the manual's Confirm or
/// Save) saves the page. Ids are `<id>-default` and `<id>-refresh`.
#[component]
pub fn SettingsActions(
    id: &'static str,
    submit: &'static str,
    on_default: Callback<()>,
    on_refresh: Callback<()>,
    settings: SettingsPage,
) -> impl IntoView {
    let hydrated = crate::components::hydration::use_hydrated();
    let busy = settings.busy;
    view! {
        <FormMessage message=settings.message />
        <div class="actions">
            <button
                type="button"
                id=format!("{id}-default")
                class="secondary"
                disabled=move || !hydrated.get()
                on:click=move |_| on_default.run(())
            >
                "Default"
            </button>
            <button
                type="button"
                id=format!("{id}-refresh")
                class="secondary"
                disabled=move || !hydrated.get()
                on:click=move |_| on_refresh.run(())
            >
                "Refresh"
            </button>
            <button type="submit" class="primary" disabled=move || !hydrated.get() || busy.get()>
                {submit}
            </button>
        </div>
    }
}

/// Puts a device error next to its field (the first of `fields` it names),
/// or in the form message.
pub fn show_error(
    e: crate::error::ApiError,
    fields: &[(&str, RwSignal<Option<String>>)],
    message: RwSignal<Option<(bool, String)>>,
) {
    for (name, slot) in fields {
        if let Some(m) = e.field_message(name) {
            slot.set(Some(m));
            return;
        }
    }
    message.set(Some((false, e.to_string())));
}

/// New Password (with the live rules) and Confirm Password, as the account
/// page and the reset's step 3/3 ask for them. `server_error` is the
/// device's verdict on the new password; typing clears it.
#[component]
pub fn NewPasswordFields(
    new: RwSignal<String>,
    confirm: RwSignal<String>,
    server_error: RwSignal<Option<String>>,
    #[prop(optional)] autofocus: bool,
    /// Whose password; `admin` when not given.
    #[prop(into, optional)]
    user: Option<String>,
) -> impl IntoView {
    let user = user.unwrap_or_else(|| crate::model::ADMIN_USER.to_string());
    let rules_user = user.clone();
    clear_on_change(new, server_error);
    let new_error = Signal::derive(move || {
        server_error
            .get()
            .or_else(|| new_password_error(&user, &new.get()))
    });
    let confirm_err = Signal::derive(move || confirm_error(&new.get(), &confirm.get()));
    view! {
        <Field
            id="new-password"
            label="New Password"
            kind="password"
            autocomplete="new-password"
            value=new
            error=new_error
            autofocus=autofocus
        >
            <PasswordRules user=rules_user password=new />
        </Field>
        <Field
            id="confirm-password"
            label="Confirm Password"
            kind="password"
            autocomplete="new-password"
            value=confirm
            error=confirm_err
        />
    }
}
