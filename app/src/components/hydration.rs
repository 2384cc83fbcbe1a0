//! What only happens in the browser once the page is hydrated.

use leptos::prelude::*;

/// Sets `data-hydrated` on `<html>` once the wasm has taken over, so tests
/// and styles can tell a live page from server-rendered HTML.
pub fn mark_document_hydrated() {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}

/// `false` during server rendering and until hydration, then `true`: forms
/// keep their buttons disabled until they can be handled in the browser.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// Loads `path` as a new page (after login, logout or a reset, so that the
/// server decides afresh what the session may see).
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Reloads the current page.
pub fn reload_page() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().reload();
    }
}
