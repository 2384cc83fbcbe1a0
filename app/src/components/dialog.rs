//! A modal dialog.

use leptos::prelude::*;

#[component]
pub fn Dialog(
    open: RwSignal<bool>,
    /// Heading, also the dialog's accessible name.
    title: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let children = StoredValue::new(children);
    view! {
        <Show when=move || open.get()>
            <div class="dialog-backdrop" on:click=move |_| open.set(false)>
                <div
                    class="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-label=title
                    on:click=|ev| ev.stop_propagation()
                >
                    <h2>{title}</h2>
                    {children.read_value()()}
                </div>
            </div>
        </Show>
    }
}

/// A question before something that cannot be undone (Delete, Clear):
/// Cancel, or the confirming button.
#[component]
pub fn ConfirmDialog(
    open: RwSignal<bool>,
    title: &'static str,
    /// The question, e.g. "Delete room 9901?".
    #[prop(into)]
    question: Signal<String>,
    /// Ids: `{id}-question`, `{id}-confirm` (the confirming button).
    id: &'static str,
    /// The confirming button's label.
    confirm: &'static str,
    busy: RwSignal<bool>,
    on_confirm: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let on_confirm = StoredValue::new(on_confirm);
    view! {
        <Dialog open title>
            <p id=format!("{id}-question")>{move || question.get()}</p>
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| open.set(false)>
                    "Cancel"
                </button>
                <button
                    type="button"
                    id=format!("{id}-confirm")
                    class="primary danger"
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.with_value(|f| f())
                >
                    {confirm}
                </button>
            </div>
        </Dialog>
    }
}
