//! The frame of every signed-in page (manual ch. 3): the header with account,
//! home and power menu (logout, reboot, restore factory defaults), the
//! function area's navigation and the page itself.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;

use crate::{
    api,
    components::{
        answer::{CallFeed, DoorRing},
        dialog::Dialog,
        form::{CurrentPassword, FormMessage},
        hydration::{load_page, reload_page, use_hydrated},
        icons,
        role::{IfMay, MeResource},
    },
    model::users::{Right, Role},
    pages::required_right,
};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let hydrated = use_hydrated();
    let menu_open = RwSignal::new(false);
    let nav_open = RwSignal::new(false);
    let me = MeResource::provide();
    provide_context(CallFeed::start());
    let reboot_open = RwSignal::new(false);
    let reset_open = RwSignal::new(false);
    let rebooting = RwSignal::new(false);
    let logout_error = RwSignal::new(None::<(bool, String)>);

    let logout = move |_| {
        menu_open.set(false);
        spawn_local(async move {
            match api::logout().await {
                Ok(()) => load_page("/login"),
                Err(e) => logout_error.set(Some((false, e.to_string()))),
            }
        });
    };

    view! {
        <div class="app">
            <header class="topbar">
                <A href="/" attr:class="brand">
                    {icons::door()}
                    <span>"VTO"</span>
                </A>
                <nav class="top-actions" aria-label="General functions">
                    <A href="/account" attr:class="icon-button" attr:title="Change password and email">
                        {icons::user()}
                        <span class="label">"Account"</span>
                    </A>
                    <A href="/" attr:class="icon-button" attr:title="Main interface">
                        {icons::home()}
                        <span class="label">"Home"</span>
                    </A>
                    <div class="menu">
                        <button
                            id="power-menu"
                            class="icon-button"
                            title="Logout, reboot or restore factory defaults"
                            aria-haspopup="menu"
                            aria-expanded=move || menu_open.get().to_string()
                            disabled=move || !hydrated.get()
                            on:click=move |_| menu_open.update(|o| *o = !*o)
                        >
                            {icons::power()}
                            <span class="label">"Power"</span>
                        </button>
                        <Show when=move || menu_open.get()>
                            <ul class="menu-list" role="menu">
                                <li>
                                    <button role="menuitem" class="menu-item" on:click=logout>
                                        "Logout"
                                    </button>
                                </li>
                                <IfMay right=Right::Settings>
                                    <li>
                                        <button
                                            role="menuitem"
                                            class="menu-item"
                                            on:click=move |_| {
                                                menu_open.set(false);
                                                reboot_open.set(true);
                                            }
                                        >
                                            "Reboot"
                                        </button>
                                    </li>
                                    <li>
                                        <button
                                            role="menuitem"
                                            class="menu-item danger"
                                            on:click=move |_| {
                                                menu_open.set(false);
                                                reset_open.set(true);
                                            }
                                        >
                                            "Restore Factory Defaults"
                                        </button>
                                    </li>
                                </IfMay>
                            </ul>
                        </Show>
                    </div>
                </nav>
            </header>
            <div class="frame">
                // On a phone the navigation is a menu opened on demand (a
                // checkbox: it works before the page is interactive too);
                // following a link closes it.
                <input
                    type="checkbox"
                    id="nav-toggle"
                    class="nav-toggle"
                    prop:checked=move || nav_open.get()
                    on:change=move |ev| nav_open.set(event_target_checked(&ev))
                />
                <label for="nav-toggle" class="nav-toggle-label">
                    {icons::menu()}
                    <span>"Menu"</span>
                </label>
                <nav class="sidenav" aria-label="Function area" on:click=move |_| nav_open.set(false)>
                    <A href="/" exact=true>
                        {icons::home()}
                        <span>"Main Interface"</span>
                    </A>
                    <A href="/monitor">
                        {icons::door()}
                        <span>"Monitor"</span>
                    </A>
                    // Only the sections and pages the role may open.
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let role = me.0.await.map(|m| m.role).unwrap_or(Role::Viewer);
                            view! {
                                <Section role title="Local Setting" icon=icons::settings().into_any() links=&[
                                    ("/local/basic", "Basic"),
                                    ("/local/video", "Video & Audio"),
                                    ("/local/access", "Access Control"),
                                    ("/local/system", "System"),
                                    ("/local/security", "Security"),
                                    ("/local/users", "Users"),
                                    ("/local/online-users", "Online Users"),
                                ] />
                                <Section role title="Household Setting" icon=icons::door().into_any() links=&[
                                    ("/household/vto", "VTO No. Management"),
                                    ("/household/room", "Room No. Management"),
                                    ("/household/vts", "VTS Management"),
                                    ("/household/ipc", "IPC Setting"),
                                    ("/household/status", "Status"),
                                    ("/household/publish", "Publish Information"),
                                ] />
                                <Section role title="Network Setting" icon=icons::network().into_any() links=&[
                                    ("/network/basic", "Basic"),
                                    ("/network/sip-server", "SIP Server"),
                                    ("/network/ip-permissions", "IP Permissions"),
                                    ("/network/email", "Email"),
                                    ("/network/webhooks", "Webhooks"),
                                    ("/network/onvif", "ONVIF"),
                                ] />
                                <Section role title="Log Management" icon=icons::log().into_any() links=&[
                                    ("/log/call", "Call"),
                                    ("/log/unlock", "Unlock"),
                                    ("/log/alarm", "Alarm"),
                                    ("/log/security", "Security"),
                                    ("/log/messages", "Messages"),
                                ] />
                            }
                        })}
                    </Suspense>
                </nav>
                <main class="content">
                    <FormMessage message=logout_error />
                    <IfMay right=Right::OpenDoor>
                        <DoorRing />
                    </IfMay>
                    {children()}
                </main>
            </div>
            <RebootDialog open=reboot_open rebooting />
            <ResetDialog open=reset_open />
            <Show when=move || rebooting.get()>
                <div class="dialog-backdrop">
                    <div class="dialog" role="status" aria-live="polite">
                        <h2>"Rebooting"</h2>
                        <p class="busy">
                            "The device is restarting its services. This page comes back by itself."
                        </p>
                    </div>
                </div>
            </Show>
        </div>
    }
}

/// One section of the side menu with the links (address, the manual's
/// name) that `role` may open; nothing when it may open none.
#[component]
fn Section(
    role: Role,
    title: &'static str,
    icon: AnyView,
    links: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    let shown: Vec<_> = links
        .iter()
        .filter(|(href, _)| role.may(required_right(href)))
        .collect();
    (!shown.is_empty()).then(|| {
        view! {
            <p class="nav-section">{icon} <span>{title}</span></p>
            {shown
                .into_iter()
                .map(|(href, name)| view! { <A href=*href attr:class="sub"><span>{*name}</span></A> })
                .collect_view()}
        }
    })
}

#[component]
fn RebootDialog(open: RwSignal<bool>, rebooting: RwSignal<bool>) -> impl IntoView {
    let message = RwSignal::new(None::<(bool, String)>);
    let confirm = move |_| {
        spawn_local(async move {
            let before = api::setup_state().await.map(|s| s.boot_id).ok();
            match api::reboot().await {
                Ok(()) => {
                    open.set(false);
                    rebooting.set(true);
                    wait_for_new_boot(before);
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    view! {
        <Dialog open title="Reboot">
            <p>"The device restarts its services. Calls in progress end; settings are kept."</p>
            <FormMessage message />
            <div class="actions">
                <button class="secondary" on:click=move |_| open.set(false)>
                    "Cancel"
                </button>
                <button id="reboot-confirm" class="primary" on:click=confirm>
                    "Confirm"
                </button>
            </div>
        </Dialog>
    }
}

/// Polls until the device answers with a new boot id, then reloads.
pub fn wait_for_new_boot(before: Option<u64>) {
    set_timeout(
        move || {
            spawn_local(async move {
                match api::setup_state().await {
                    Ok(state) if Some(state.boot_id) != before => reload_page(),
                    _ => wait_for_new_boot(before),
                }
            })
        },
        Duration::from_millis(700),
    );
}

#[component]
fn ResetDialog(open: RwSignal<bool>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let message = RwSignal::new(None::<(bool, String)>);
    let confirm = move |_| {
        error.set(None);
        message.set(None);
        spawn_local(async move {
            match api::factory_reset(password.get_untracked()).await {
                Ok(()) => load_page("/init"),
                Err(e) => match e.field_message("password") {
                    Some(m) => error.set(Some(m)),
                    None => message.set(Some((false, e.to_string()))),
                },
            }
        });
    };
    view! {
        <Dialog open title="Restore Factory Defaults">
            <p class="warning">
                "All settings, accounts and logs are erased and the device returns to initialization. This cannot be undone."
            </p>
            <CurrentPassword id="reset-password" label="Password" value=password error=error />
            <FormMessage message />
            <div class="actions">
                <button class="secondary" on:click=move |_| open.set(false)>
                    "Cancel"
                </button>
                <button id="reset-confirm" class="danger" on:click=confirm>
                    "Confirm"
                </button>
            </div>
        </Dialog>
    }
}
