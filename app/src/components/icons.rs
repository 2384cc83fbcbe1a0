//! Inline SVG icons (no icon font, nothing loaded from elsewhere).

use leptos::prelude::*;

fn icon(path: &'static str) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d=path />
        </svg>
    }
}

pub fn home() -> impl IntoView {
    icon("M3 11.5 12 4l9 7.5M5.5 9.5V20h5v-6h3v6h5V9.5")
}

pub fn user() -> impl IntoView {
    icon("M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8Zm-7.5 8.5c1-3.6 4-5.5 7.5-5.5s6.5 1.9 7.5 5.5")
}

pub fn power() -> impl IntoView {
    icon("M12 3v8M7.2 6.3a7.5 7.5 0 1 0 9.6 0")
}

pub fn log() -> impl IntoView {
    icon("M6 3.5h9l4 4V20.5H6ZM15 3.5v4h4M9 12h7M9 15.5h7M9 9h3")
}

pub fn menu() -> impl IntoView {
    icon("M4 7h16M4 12h16M4 17h16")
}

pub fn door() -> impl IntoView {
    icon("M5 20.5h14M7 20.5V4h10v16.5M14 12.5h.01")
}

pub fn settings() -> impl IntoView {
    icon("M4 7h10M18 7h2M4 17h4M12 17h8M16 5v4M10 15v4")
}

pub fn network() -> impl IntoView {
    icon("M12 3.5a8.5 8.5 0 1 0 0 17 8.5 8.5 0 0 0 0-17ZM3.5 12h17M12 3.5c2.5 2.6 2.5 14.4 0 17M12 3.5c-2.5 2.6-2.5 14.4 0 17")
}
