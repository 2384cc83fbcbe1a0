//! vto's web UI, shared by the server (SSR, feature `ssr`) and the browser
//! (hydration, feature `hydrate`).
//!
//! - [`model`]: typed models and their validation, used on both sides.
//! - [`api`]: server functions, the browser's API to the device.
//! - [`pages`] and [`components`]: the screens of the manual.
//! - `services` (ssr only): the per-area traits the server implements.

// Pages shown by role nest their views in more async layers than rustc's
// default query depth lets the wasm build lay out.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod services;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::{components::layout::Layout, model::station::StationKind, pages::*};

/// The HTML document around the app, rendered on the server.
/// `stylesheet` and `icon`: their URLs (hashed by the server's build).
pub fn shell(
    options: LeptosOptions,
    stylesheet: &'static str,
    icon: &'static str,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_request_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" type="image/svg+xml" href=icon />
                <link rel="stylesheet" href=stylesheet />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Uses the nonce the HTTP layer put in this response's CSP for the inline
/// hydration scripts.
#[cfg(feature = "ssr")]
fn provide_request_nonce() {
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<services::CspNonce>().cloned());
    if let Some(services::CspNonce(n)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(n));
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    components::hydration::mark_document_hydrated();
    view! {
        <Title text="VTO" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/init") view=init::InitPage />
                <Route path=path!("/login") view=login::LoginPage />
                <Route path=path!("/reset") view=reset::ResetPage />
                <Route path=path!("/") view=|| view! { <Layout><home::HomePage /></Layout> } />
                <Route
                    path=path!("/account")
                    view=|| view! { <Layout><account::AccountPage /></Layout> }
                />
                <Route
                    path=path!("/local/basic")
                    view=|| view! { <Layout><basic::BasicPage /></Layout> }
                />
                <Route
                    path=path!("/local/video")
                    view=|| view! { <Layout><video::VideoAudioPage /></Layout> }
                />
                <Route
                    path=path!("/local/system")
                    view=|| view! { <Layout><system::SystemPage /></Layout> }
                />
                <Route
                    path=path!("/local/security")
                    view=|| view! { <Layout><security::SecurityPage /></Layout> }
                />
                <Route
                    path=path!("/local/users")
                    view=|| view! { <Layout><users::UsersPage /></Layout> }
                />
                <Route
                    path=path!("/local/online-users")
                    view=|| view! { <Layout><users::OnlineUsersPage /></Layout> }
                />
                <Route
                    path=path!("/monitor")
                    view=|| view! { <Layout><monitor::MonitorPage /></Layout> }
                />
                <Route
                    path=path!("/household/ipc")
                    view=|| view! { <Layout><ipc::IpcSettingPage /></Layout> }
                />
                <Route
                    path=path!("/network/basic")
                    view=|| view! { <Layout><network_basic::NetworkBasicPage /></Layout> }
                />
                <Route
                    path=path!("/network/sip-server")
                    view=|| view! { <Layout><sip_server::SipServerPage /></Layout> }
                />
                <Route
                    path=path!("/network/ip-permissions")
                    view=|| view! { <Layout><ip_permissions::IpPermissionsPage /></Layout> }
                />
                <Route
                    path=path!("/network/email")
                    view=|| view! { <Layout><mail::MailPage /></Layout> }
                />
                <Route
                    path=path!("/network/onvif")
                    view=|| view! { <Layout><onvif::OnvifPage /></Layout> }
                />
                <Route
                    path=path!("/network/webhooks")
                    view=|| view! { <Layout><webhooks::WebhooksPage /></Layout> }
                />
                <Route
                    path=path!("/household/room")
                    view=|| view! { <Layout><room::RoomPage /></Layout> }
                />
                <Route
                    path=path!("/household/vto")
                    view=|| view! { <Layout><station::StationsPage kind=StationKind::Vto /></Layout> }
                />
                <Route
                    path=path!("/household/vts")
                    view=|| view! { <Layout><station::StationsPage kind=StationKind::Vts /></Layout> }
                />
                <Route
                    path=path!("/household/publish")
                    view=|| view! { <Layout><publish::PublishPage /></Layout> }
                />
                <Route
                    path=path!("/household/status")
                    view=|| view! { <Layout><sip_status::StatusPage /></Layout> }
                />
                <Route
                    path=path!("/log/messages")
                    view=|| view! { <Layout><messages::MessagesPage /></Layout> }
                />
                <Route
                    path=path!("/log/call")
                    view=|| view! { <Layout><call_log::CallLogPage /></Layout> }
                />
                <Route
                    path=path!("/household/cards/:room")
                    view=|| view! { <Layout><cards::CardsPage /></Layout> }
                />
                <Route
                    path=path!("/log/unlock")
                    view=|| view! { <Layout><unlock_log::UnlockLogPage /></Layout> }
                />
                <Route
                    path=path!("/log/alarm")
                    view=|| view! { <Layout><unlock_log::AlarmLogPage /></Layout> }
                />
                <Route
                    path=path!("/local/access")
                    view=|| view! { <Layout><access::AccessPage /></Layout> }
                />
                <Route
                    path=path!("/log/security")
                    view=|| view! { <Layout><security_log::SecurityLogPage /></Layout> }
                />
            </Routes>
        </Router>
    }
}
