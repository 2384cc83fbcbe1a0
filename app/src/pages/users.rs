//! Local Setting > Users and Online Users (the manual's cybersecurity
//! appendix: "assign accounts and privileges reasonably", "check online
//! users"). Admin only: the accounts with their roles (Add, change Role,
//! Set Password, Delete), and who is connected now (End).

use leptos::prelude::*;

use crate::{
    api,
    components::{
        dialog::{ConfirmDialog, Dialog},
        form::{
            confirm_error, new_password_error, while_busy, Field, FormErrors, FormMessage,
            PasswordRules, Select,
        },
        hydration::use_hydrated,
        notice::loaded,
    },
    model::{
        password,
        users::{
            check_user_name, NewUser, OnlineEntry, OnlineKey, OnlinePage, Role, UserEntry,
            UsersPage as Page,
        },
        ADMIN_USER,
    },
};

/// The Role select's choices, Operator first: the least privilege that
/// still opens the door.
fn role_options() -> Vec<(&'static str, &'static str)> {
    [Role::Operator, Role::Viewer, Role::Admin]
        .into_iter()
        .map(|r| (r.label(), r.label()))
        .collect()
}

fn role_of(key: &str) -> Role {
    Role::parse(key).unwrap_or(Role::Viewer)
}

#[component]
pub fn UsersPage() -> impl IntoView {
    view! {
        <h1>"Users"</h1>
        {loaded(api::users, |p| view! { <Accounts saved=p /> })}
    }
}

/// What one role may do, for the hint under the Role select.
fn role_hint(role: Role) -> &'static str {
    match role {
        Role::Admin => "Everything, settings and users included.",
        Role::Operator => {
            "Live view, snapshots, open the door, answer calls, the call, unlock and alarm logs."
        }
        Role::Viewer => "Live view only.",
    }
}

#[component]
fn Accounts(saved: Page) -> impl IntoView {
    let hydrated = use_hydrated();
    let list = RwSignal::new(saved.users);
    let me = saved.me;
    let display = saved.display;
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);

    // Add.
    let adding = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let pass = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Operator.label().to_string());
    let submitted = RwSignal::new(false);
    let add_message = RwSignal::new(None::<(bool, String)>);
    let local = move || {
        let mut e = Vec::new();
        let n = name.get();
        if let Err(m) = check_user_name(&n) {
            e.push(("user-name", m.to_string()));
        } else if n == ADMIN_USER {
            e.push(("user-name", "This user name is taken".to_string()));
        }
        let p = pass.get();
        if let Some(rule) = password::first_error(&n, &p) {
            e.push(("user-password", rule.message(&n)));
        }
        if p != confirm.get() {
            e.push(("user-confirm", "The passwords do not match".to_string()));
        }
        e
    };
    let errors = FormErrors::new(move || {
        name.track();
        pass.track();
        confirm.track();
    });
    let error_for = errors.after_submit(submitted, local);

    // Role, password, delete of one account.
    let target = RwSignal::new(String::new());
    let role_open = RwSignal::new(false);
    let new_role = RwSignal::new(String::new());
    let role_message = RwSignal::new(None::<(bool, String)>);
    let password_open = RwSignal::new(false);
    let set_pass = RwSignal::new(String::new());
    let set_confirm = RwSignal::new(String::new());
    let set_error = RwSignal::new(None::<String>);
    let set_message = RwSignal::new(None::<(bool, String)>);
    let delete_open = RwSignal::new(false);

    let done = move |page: Page, text: String| {
        list.set(page.users);
        message.set(Some((true, text)));
    };
    let open_add = move |_| {
        message.set(None);
        add_message.set(None);
        submitted.set(false);
        name.set(String::new());
        pass.set(String::new());
        confirm.set(String::new());
        role.set(Role::Operator.label().to_string());
        adding.set(true);
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !local().is_empty() {
            return;
        }
        let new = NewUser {
            user: name.get_untracked(),
            password: pass.get_untracked(),
            role: role_of(&role.get_untracked()),
        };
        let text = format!("Added: {} ({}).", new.user, new.role.label());
        while_busy(busy, api::add_user(new), move |r| match r {
            Ok(page) => {
                adding.set(false);
                pass.set(String::new());
                confirm.set(String::new());
                done(page, text);
            }
            Err(e) => errors.take(e, add_message),
        });
    };
    let change_role = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (user, r) = (target.get_untracked(), role_of(&new_role.get_untracked()));
        let text = format!("{user} is now {}: their sessions have ended.", r.label());
        while_busy(busy, api::set_user_role(user, r), move |res| match res {
            Ok(page) => {
                role_open.set(false);
                done(page, text);
            }
            Err(e) => role_message.set(Some((false, e.to_string()))),
        });
    };
    let set_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = target.get_untracked();
        let p = set_pass.get_untracked();
        if let Some(m) = new_password_error(&user, &p)
            .or_else(|| p.is_empty().then(|| "Enter the new password".to_string()))
        {
            set_error.set(Some(m));
            return;
        }
        if p != set_confirm.get_untracked() {
            set_message.set(Some((false, "The passwords do not match".into())));
            return;
        }
        let text = format!("New password set for {user}: their sessions have ended.");
        while_busy(
            busy,
            api::set_user_password(user, p),
            move |res| match res {
                Ok(page) => {
                    password_open.set(false);
                    set_pass.set(String::new());
                    set_confirm.set(String::new());
                    done(page, text);
                }
                Err(e) => match e.field_message("set-password") {
                    Some(m) => set_error.set(Some(m)),
                    None => set_message.set(Some((false, e.to_string()))),
                },
            },
        );
    };
    let delete = move || {
        let user = target.get_untracked();
        let text = format!("Deleted: {user}.");
        while_busy(busy, api::delete_user(user), move |res| {
            delete_open.set(false);
            match res {
                Ok(page) => done(page, text),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let set_confirm_error =
        Signal::derive(move || confirm_error(&set_pass.get(), &set_confirm.get()));
    Effect::new(move |_| {
        set_pass.track();
        set_error.set(None);
    });

    view! {
        <section class="card wide" aria-labelledby="users-title">
            <div class="card-head">
                <h2 id="users-title">"Accounts"</h2>
                <span class="muted" id="user-count">{move || format!("{} accounts", list.with(Vec::len))}</span>
            </div>
            <div class="table-wrap">
                <table class="log" id="users-table">
                    <thead>
                        <tr>
                            <th>"Username"</th>
                            <th>"Role"</th>
                            <th>"Two-Factor"</th>
                            <th>"Created"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || list.get() key=|u: &UserEntry| format!("{u:?}") let:u>
                            {
                                let admin = u.user == ADMIN_USER;
                                let myself = u.user == me;
                                let (for_role, for_pass, for_delete) = (u.user.clone(), u.user.clone(), u.user.clone());
                                let current = u.role.label().to_string();
                                view! {
                                    <tr data-user=u.user.clone()>
                                        <td>
                                            {u.user.clone()}
                                            {myself.then(|| view! { <span class="detail">"you"</span> })}
                                        </td>
                                        <td class="role">{u.role.label()}</td>
                                        <td>{if u.two_factor { "On" } else { "Off" }}</td>
                                        <td class="time">{display.format(u.created)}</td>
                                        <td class="row-actions">
                                            <Show when=move || !admin>
                                                {
                                                    let (for_role, current) = (for_role.clone(), current.clone());
                                                    view! {
                                                        <button type="button" class="secondary small" on:click=move |_| {
                                                            target.set(for_role.clone());
                                                            new_role.set(current.clone());
                                                            role_message.set(None);
                                                            role_open.set(true);
                                                        }>
                                                            "Change Role"
                                                        </button>
                                                    }
                                                }
                                            </Show>
                                            <Show when=move || !myself>
                                                {
                                                    let for_pass = for_pass.clone();
                                                    view! {
                                                        <button type="button" class="secondary small" on:click=move |_| {
                                                            target.set(for_pass.clone());
                                                            set_pass.set(String::new());
                                                            set_confirm.set(String::new());
                                                            set_message.set(None);
                                                            password_open.set(true);
                                                        }>
                                                            "Set Password"
                                                        </button>
                                                    }
                                                }
                                            </Show>
                                            <Show when=move || !admin && !myself>
                                                {
                                                    let for_delete = for_delete.clone();
                                                    view! {
                                                        <button type="button" class="secondary small danger" on:click=move |_| {
                                                            target.set(for_delete.clone());
                                                            delete_open.set(true);
                                                        }>
                                                            "Delete"
                                                        </button>
                                                    }
                                                }
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
            </div>
            <p class="hint">
                "Give each person their own account with the least role that serves them: Viewer watches, Operator also opens the door and answers calls, Admin changes settings. admin always stays Admin."
            </p>
            <FormMessage message />
            <div class="actions left">
                <button type="button" id="user-add" class="primary" disabled=move || !hydrated.get() on:click=open_add>
                    "Add"
                </button>
            </div>
        </section>

        <Dialog open=adding title="Add User">
            <form id="user-form" on:submit=add novalidate>
                <Field id="user-name" label="Username" autocomplete="off" value=name error=error_for("user-name") autofocus=true>
                    <p class="hint">"1-32 letters, digits, _ - . or @ (case-sensitive)."</p>
                </Field>
                <Field id="user-password" label="Password" kind="password" autocomplete="new-password" value=pass error=error_for("user-password")>
                    {move || view! { <PasswordRules user=name.get() password=pass /> }}
                </Field>
                <Field id="user-confirm" label="Confirm Password" kind="password" autocomplete="new-password" value=confirm error=error_for("user-confirm") />
                <Select id="user-role" label="Role" options=role_options() value=role />
                <p class="hint" id="user-role-hint">{move || role_hint(role_of(&role.get()))}</p>
                <FormMessage message=add_message />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| adding.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" id="user-save" class="primary" disabled=move || busy.get()>
                        "Save"
                    </button>
                </div>
            </form>
        </Dialog>

        <Dialog open=role_open title="Change Role">
            <form id="role-form" on:submit=change_role novalidate>
                <p>{move || format!("The role of {}. Their sessions end so the new role applies at once.", target.get())}</p>
                <Select id="change-role" label="Role" options=role_options() value=new_role />
                <p class="hint">{move || role_hint(role_of(&new_role.get()))}</p>
                <FormMessage message=role_message />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| role_open.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" id="role-save" class="primary" disabled=move || busy.get()>
                        "Save"
                    </button>
                </div>
            </form>
        </Dialog>

        <Dialog open=password_open title="Set Password">
            <form id="set-password-form" on:submit=set_password novalidate>
                <p>{move || format!("A new password for {}. Their sessions end.", target.get())}</p>
                <Field id="set-password" label="New Password" kind="password" autocomplete="new-password" value=set_pass error=set_error>
                    {move || view! { <PasswordRules user=target.get() password=set_pass /> }}
                </Field>
                <Field id="set-confirm" label="Confirm Password" kind="password" autocomplete="new-password" value=set_confirm error=set_confirm_error />
                <FormMessage message=set_message />
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| password_open.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" id="set-password-save" class="primary" disabled=move || busy.get()>
                        "Save"
                    </button>
                </div>
            </form>
        </Dialog>

        <ConfirmDialog
            open=delete_open
            title="Delete"
            question=Signal::derive(move || format!("Delete the account {}? Their sessions and connections end.", target.get()))
            id="user-delete"
            confirm="Delete"
            busy
            on_confirm=delete
        />
    }
}

#[component]
pub fn OnlineUsersPage() -> impl IntoView {
    view! {
        <h1>"Online Users"</h1>
        {loaded(api::online_users, |p| view! { <Online saved=p /> })}
    }
}

/// A row's name in ids and messages.
fn key_id(key: &OnlineKey) -> String {
    match key {
        OnlineKey::Web(h) => format!("web-{h}"),
        OnlineKey::Other(n) => format!("conn-{n}"),
    }
}

#[component]
fn Online(saved: OnlinePage) -> impl IntoView {
    let hydrated = use_hydrated();
    let display = saved.display;
    let list = RwSignal::new(saved.entries);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let ending = RwSignal::new(None::<OnlineEntry>);
    let end_open = RwSignal::new(false);

    let refresh = move |_| {
        message.set(None);
        while_busy(busy, api::online_users(), move |r| match r {
            Ok(page) => list.set(page.entries),
            Err(e) => message.set(Some((false, e.to_string()))),
        });
    };
    let end = move || {
        let Some(entry) = ending.get_untracked() else {
            return;
        };
        let text = format!("Ended: {} ({}, {}).", entry.user, entry.door, entry.ip);
        while_busy(busy, api::end_online(entry.key), move |r| {
            end_open.set(false);
            match r {
                Ok(page) => {
                    list.set(page.entries);
                    message.set(Some((true, text)));
                }
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };

    view! {
        <section class="card wide" aria-labelledby="online-title">
            <div class="card-head">
                <h2 id="online-title">"Connected Now"</h2>
                <span class="muted" id="online-count">{move || match list.with(Vec::len) {
                    1 => "1 connection".to_string(),
                    n => format!("{n} connections"),
                }}</span>
            </div>
            <div class="table-wrap">
                <table class="log" id="online-table">
                    <thead>
                        <tr>
                            <th>"Username"</th>
                            <th>"Role"</th>
                            <th>"IP Address"</th>
                            <th>"Connection"</th>
                            <th>"Since"</th>
                            <th>"Last Seen"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || list.get() key=|e: &OnlineEntry| format!("{e:?}") let:e>
                            {
                                let mine = e.this_session;
                                let for_end = e.clone();
                                view! {
                                    <tr data-key=key_id(&e.key) class:this-session=mine>
                                        <td>
                                            {e.user.clone()}
                                            {mine.then(|| view! { <span class="detail">"this session"</span> })}
                                        </td>
                                        <td>{e.role.label()}</td>
                                        <td>{e.ip.clone()}</td>
                                        <td>{e.door.clone()}</td>
                                        <td class="time">{display.format(e.since)}</td>
                                        <td class="time">{e.last_seen.map(|t| display.format(t)).unwrap_or_default()}</td>
                                        <td class="row-actions">
                                            <Show when=move || !mine>
                                                {
                                                    let for_end = for_end.clone();
                                                    view! {
                                                        <button type="button" class="secondary small danger" on:click=move |_| {
                                                            ending.set(Some(for_end.clone()));
                                                            end_open.set(true);
                                                        }>
                                                            "End"
                                                        </button>
                                                    }
                                                }
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            }
                        </For>
                    </tbody>
                </table>
            </div>
            <p class="hint">
                "Web: signed-in browsers (and scripts with a session). Ending one logs it out; its user can log in again unless you also change their password or role on the Users page."
            </p>
            <FormMessage message />
            <div class="actions left">
                <button type="button" id="online-refresh" class="secondary" disabled=move || !hydrated.get() || busy.get() on:click=refresh>
                    "Refresh"
                </button>
            </div>
        </section>

        <ConfirmDialog
            open=end_open
            title="End Connection"
            question=Signal::derive(move || {
                ending
                    .get()
                    .map(|e| format!("End the connection of {} ({}, {})?", e.user, e.door, e.ip))
                    .unwrap_or_default()
            })
            id="online-end"
            confirm="End"
            busy
            on_confirm=end
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::users::ROLES;

    #[test]
    fn every_role_can_be_chosen() {
        let keys: Vec<&str> = role_options().into_iter().map(|(k, _)| k).collect();
        for r in ROLES {
            assert!(keys.contains(&r.label()));
            assert_eq!(role_of(r.label()), r);
        }
        // Anything else falls to the least privilege.
        assert_eq!(role_of("root"), Role::Viewer);
    }
}
