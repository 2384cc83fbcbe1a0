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
    path, Lazy, LazyRoute,
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

/// The browser's entry (the `frontend` crate calls it). A lazily loaded
/// route hydrates once its chunk has arrived, so the document is marked
/// live only after the whole page has hydrated.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    wasm_bindgen_futures::spawn_local(async {
        let page = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), App).await;
        page.forget();
        components::hydration::mark_document_hydrated();
    });
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="VTO" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/init") view={Lazy::<InitRoute>::new()} />
                <Route path=path!("/login") view=login::LoginPage />
                <Route path=path!("/reset") view={Lazy::<ResetRoute>::new()} />
                <Route path=path!("/") view={Lazy::<HomeRoute>::new()} />
                <Route path=path!("/account") view={Lazy::<AccountRoute>::new()} />
                <Route path=path!("/local/basic") view={Lazy::<BasicRoute>::new()} />
                <Route path=path!("/local/video") view={Lazy::<VideoAudioRoute>::new()} />
                <Route path=path!("/local/system") view={Lazy::<SystemRoute>::new()} />
                <Route path=path!("/local/security") view={Lazy::<SecurityRoute>::new()} />
                <Route path=path!("/local/users") view={Lazy::<UsersRoute>::new()} />
                <Route path=path!("/local/online-users") view={Lazy::<OnlineUsersRoute>::new()} />
                <Route path=path!("/monitor") view={Lazy::<MonitorRoute>::new()} />
                <Route path=path!("/household/ipc") view={Lazy::<IpcSettingRoute>::new()} />
                <Route path=path!("/network/basic") view={Lazy::<NetworkBasicRoute>::new()} />
                <Route path=path!("/network/sip-server") view={Lazy::<SipServerRoute>::new()} />
                <Route path=path!("/network/ip-permissions") view={Lazy::<IpPermissionsRoute>::new()} />
                <Route path=path!("/network/email") view={Lazy::<MailRoute>::new()} />
                <Route path=path!("/network/onvif") view={Lazy::<OnvifRoute>::new()} />
                <Route path=path!("/network/webhooks") view={Lazy::<WebhooksRoute>::new()} />
                <Route path=path!("/household/room") view={Lazy::<RoomRoute>::new()} />
                <Route path=path!("/household/vto") view={Lazy::<VtoStationsRoute>::new()} />
                <Route path=path!("/household/vts") view={Lazy::<VtsStationsRoute>::new()} />
                <Route path=path!("/household/publish") view={Lazy::<PublishRoute>::new()} />
                <Route path=path!("/household/status") view={Lazy::<StatusRoute>::new()} />
                <Route path=path!("/log/messages") view={Lazy::<MessagesRoute>::new()} />
                <Route path=path!("/log/call") view={Lazy::<CallLogRoute>::new()} />
                <Route path=path!("/household/cards/:room") view={Lazy::<CardsRoute>::new()} />
                <Route path=path!("/log/unlock") view={Lazy::<UnlockLogRoute>::new()} />
                <Route path=path!("/log/alarm") view={Lazy::<AlarmLogRoute>::new()} />
                <Route path=path!("/local/access") view={Lazy::<AccessRoute>::new()} />
                <Route path=path!("/log/security") view={Lazy::<SecurityLogRoute>::new()} />
            </Routes>
        </Router>
    }
}

/// A route whose view is split off the wasm every page loads, into the
/// chunk of its group, fetched when a page of that group is first shown
/// (issue 23). Only the login page (the first page on a phone) and the
/// framework stay in the wasm every page loads. Two groups: `live` (the
/// home page, where every account lands after signing in, and Monitor) and
/// `pages` (settings, logs, initialization and password reset). Few groups
/// keep the chunks few: the splitter makes one chunk per set of groups
/// that share code, and a page fetches each of its chunks separately.
macro_rules! lazy_page {
    ($group:ident, $route:ident, $page:ident, $view:expr) => {
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_this: Self) -> AnyView {
                $page::view().await
            }

            // The router awaits this before it shows (or hydrates) the
            // route: the group's chunk is there when the view is built.
            async fn preload() {
                $page::preload().await
            }
        }

        mod $page {
            use super::*;
            use leptos::wasm_split::wasm_split;

            #[wasm_split($group, wasm_split_path = ::leptos::wasm_split, preload(preload))]
            pub fn view() -> AnyView {
                $view.into_any()
            }
        }
    };
}

lazy_page!(pages, InitRoute, init_page, view! { <init::InitPage /> });
lazy_page!(
    pages,
    ResetRoute,
    reset_page,
    view! { <reset::ResetPage /> }
);
lazy_page!(
    live,
    HomeRoute,
    home_page,
    view! { <Layout><home::HomePage /></Layout> }
);
lazy_page!(
    pages,
    AccountRoute,
    account_page,
    view! { <Layout><account::AccountPage /></Layout> }
);
lazy_page!(
    pages,
    BasicRoute,
    basic_page,
    view! { <Layout><basic::BasicPage /></Layout> }
);
lazy_page!(
    pages,
    VideoAudioRoute,
    video_audio_page,
    view! { <Layout><video::VideoAudioPage /></Layout> }
);
lazy_page!(
    pages,
    SystemRoute,
    system_page,
    view! { <Layout><system::SystemPage /></Layout> }
);
lazy_page!(
    pages,
    SecurityRoute,
    security_page,
    view! { <Layout><security::SecurityPage /></Layout> }
);
lazy_page!(
    pages,
    UsersRoute,
    users_page,
    view! { <Layout><users::UsersPage /></Layout> }
);
lazy_page!(
    pages,
    OnlineUsersRoute,
    online_users_page,
    view! { <Layout><users::OnlineUsersPage /></Layout> }
);
lazy_page!(
    live,
    MonitorRoute,
    monitor_page,
    view! { <Layout><monitor::MonitorPage /></Layout> }
);
lazy_page!(
    pages,
    IpcSettingRoute,
    ipc_setting_page,
    view! { <Layout><ipc::IpcSettingPage /></Layout> }
);
lazy_page!(
    pages,
    NetworkBasicRoute,
    network_basic_page,
    view! { <Layout><network_basic::NetworkBasicPage /></Layout> }
);
lazy_page!(
    pages,
    SipServerRoute,
    sip_server_page,
    view! { <Layout><sip_server::SipServerPage /></Layout> }
);
lazy_page!(
    pages,
    IpPermissionsRoute,
    ip_permissions_page,
    view! { <Layout><ip_permissions::IpPermissionsPage /></Layout> }
);
lazy_page!(
    pages,
    MailRoute,
    mail_page,
    view! { <Layout><mail::MailPage /></Layout> }
);
lazy_page!(
    pages,
    OnvifRoute,
    onvif_page,
    view! { <Layout><onvif::OnvifPage /></Layout> }
);
lazy_page!(
    pages,
    WebhooksRoute,
    webhooks_page,
    view! { <Layout><webhooks::WebhooksPage /></Layout> }
);
lazy_page!(
    pages,
    RoomRoute,
    room_page,
    view! { <Layout><room::RoomPage /></Layout> }
);
lazy_page!(
    pages,
    VtoStationsRoute,
    vto_stations_page,
    view! { <Layout><station::StationsPage kind=StationKind::Vto /></Layout> }
);
lazy_page!(
    pages,
    VtsStationsRoute,
    vts_stations_page,
    view! { <Layout><station::StationsPage kind=StationKind::Vts /></Layout> }
);
lazy_page!(
    pages,
    PublishRoute,
    publish_page,
    view! { <Layout><publish::PublishPage /></Layout> }
);
lazy_page!(
    pages,
    StatusRoute,
    status_page,
    view! { <Layout><sip_status::StatusPage /></Layout> }
);
lazy_page!(
    pages,
    MessagesRoute,
    messages_page,
    view! { <Layout><messages::MessagesPage /></Layout> }
);
lazy_page!(
    pages,
    CallLogRoute,
    call_log_page,
    view! { <Layout><call_log::CallLogPage /></Layout> }
);
lazy_page!(
    pages,
    CardsRoute,
    cards_page,
    view! { <Layout><cards::CardsPage /></Layout> }
);
lazy_page!(
    pages,
    UnlockLogRoute,
    unlock_log_page,
    view! { <Layout><unlock_log::UnlockLogPage /></Layout> }
);
lazy_page!(
    pages,
    AlarmLogRoute,
    alarm_log_page,
    view! { <Layout><unlock_log::AlarmLogPage /></Layout> }
);
lazy_page!(
    pages,
    AccessRoute,
    access_page,
    view! { <Layout><access::AccessPage /></Layout> }
);
lazy_page!(
    pages,
    SecurityLogRoute,
    security_log_page,
    view! { <Layout><security_log::SecurityLogPage /></Layout> }
);
