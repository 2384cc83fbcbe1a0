//! One module per screen of the manual.

pub mod access;
pub mod account;
pub mod basic;
pub mod call_log;
pub mod cards;
pub mod home;
pub mod init;
pub mod ip_permissions;
pub mod ipc;
pub mod login;
pub mod mail;
pub mod messages;
pub mod monitor;
pub mod network_basic;
pub mod onvif;
pub mod publish;
pub mod reset;
pub mod room;
pub mod security;
pub mod security_log;
pub mod sip_server;
pub mod sip_status;
pub mod station;
pub mod system;
pub mod unlock_log;
pub mod users;
pub mod video;
pub mod webhooks;

use leptos::prelude::*;

/// Pages shown without a session: initialization, login and password
/// reset.
pub const PUBLIC_PAGES: &[&str] = &["/init", "/login", "/reset"];

/// The right a page needs (default deny: every page not named here is
/// for Admin only). The menu shows only the pages the role may open.
pub fn required_right(path: &str) -> crate::model::users::Right {
    use crate::model::users::Right::*;
    match path {
        "/" | "/account" | "/monitor" => LiveView,
        "/log/call" | "/log/unlock" | "/log/alarm" | "/log/messages" => Logs,
        _ => Settings,
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="center-page">
            <div class="card narrow">
                <h1>"Page not found"</h1>
                <p>
                    <a href="/">"Back to the main interface"</a>
                </p>
            </div>
        </main>
    }
}
