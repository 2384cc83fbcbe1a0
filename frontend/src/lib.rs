//! The browser entry: hydrates the server-rendered page with the shared `app`.

// Leptos view types nest deeply (the settings pages).
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate();
}
