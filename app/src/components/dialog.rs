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
