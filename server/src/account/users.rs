//! Accounts besides `admin` (the manual's cybersecurity appendix: "assign
//! accounts and privileges reasonably", "check online users"): list, add,
//! change role, set another's password, delete; and who is online, with
//! the power to end a connection. Admin only. Each change is one store
//! transaction with its security log entry; a change that takes rights
//! away (role, password, deletion) also ends the account's sessions and
//! its connections through the other front doors.

use std::net::IpAddr;

use app::{
    error::ApiError,
    model::{
        security_log::{SecurityEvent, SecurityEventKind},
        users::{check_user_name, NewUser, OnlineEntry, OnlineKey, Right, Role, UserEntry},
        ADMIN_USER,
    },
    services::SessionRef,
};

use super::{check_password_of, session, Auth};
use crate::store::{
    tables::{AccountRecord, ACCOUNTS},
    Read,
};

/// How a web session is named on the Online Users list: the first 4 bytes
/// of its stored hash in hex (the id itself never leaves the cookie).
pub fn handle(id_hash: &[u8; 32]) -> String {
    id_hash[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// Only Admin manages accounts (the guard checked it too).
fn admin(by: &SessionRef) -> Result<(), ApiError> {
    if by.role.may(Right::Settings) {
        Ok(())
    } else {
        Err(ApiError::Forbidden { role: by.role })
    }
}

fn no_such_user(field: &str) -> ApiError {
    ApiError::invalid(field, "No such account")
}

impl Auth {
    /// Every account, `admin` first, then by name.
    pub async fn accounts(&self, by: &SessionRef) -> Result<Vec<UserEntry>, ApiError> {
        admin(by)?;
        let mut list = self
            .store
            .read(|r| {
                Ok(r.all::<AccountRecord>(ACCOUNTS)?
                    .into_iter()
                    .map(|(user, a)| UserEntry {
                        user,
                        role: a.role,
                        two_factor: a.totp.is_some(),
                        created: a.created,
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
        for u in &mut list {
            u.created = self.to_wall(u.created);
        }
        list.sort_by(|a, b| (a.user != ADMIN_USER, &a.user).cmp(&(b.user != ADMIN_USER, &b.user)));
        Ok(list)
    }

    /// Adds an account (user name rules, unique, not `admin`; the password
    /// rules for that user name).
    pub async fn add_account(
        &self,
        by: &SessionRef,
        ip: IpAddr,
        new: NewUser,
    ) -> Result<(), ApiError> {
        admin(by)?;
        let NewUser {
            user,
            password,
            role,
        } = new;
        check_user_name(&user).map_err(|m| ApiError::invalid("user-name", m))?;
        if user == ADMIN_USER {
            return Err(ApiError::invalid("user-name", "This user name is taken"));
        }
        check_password_of(&user, "user-password", &password)?;
        let digest_ha1 = Some(self.ha1(&user, &password));
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let account = AccountRecord {
            password_hash: hash,
            email: None,
            created: now,
            password_changed: now,
            reset: Default::default(),
            totp: None,
            role,
            digest_ha1,
        };
        let mut event = self.event(SecurityEventKind::UserAdded, &by.user, ip);
        event.detail = Some(format!("{user} ({})", role.label()));
        self.store
            .write(move |w| {
                if w.account(&user)?.is_some() {
                    return Err(ApiError::invalid("user-name", "This user name is taken"));
                }
                w.put_account(&user, &account)?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        tracing::info!(%ip, "account added");
        Ok(())
    }

    /// Changes an account's role (`admin` stays Admin); its sessions and
    /// connections end, so the new role applies at once.
    pub async fn set_role(
        &self,
        by: &SessionRef,
        ip: IpAddr,
        user: String,
        role: Role,
    ) -> Result<(), ApiError> {
        admin(by)?;
        if user == ADMIN_USER {
            return Err(ApiError::invalid("user-role", "admin always stays Admin"));
        }
        let mut event = self.event(SecurityEventKind::UserRoleChanged, &by.user, ip);
        event.detail = Some(format!("{user} ({})", role.label()));
        self.change_account(user, "user-role", event, move |a| a.role = role)
            .await
    }

    /// Sets another account's password (its owner changes it on the
    /// Account page, with the old one); its sessions and connections end.
    pub async fn set_password_of(
        &self,
        by: &SessionRef,
        ip: IpAddr,
        user: String,
        password: String,
    ) -> Result<(), ApiError> {
        admin(by)?;
        if user == by.user {
            return Err(ApiError::invalid(
                "set-password",
                "Change your own password on the Account page",
            ));
        }
        check_password_of(&user, "set-password", &password)?;
        let ha1 = self.ha1(&user, &password);
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let mut event = self.event(SecurityEventKind::UserPasswordSet, &by.user, ip);
        event.detail = Some(user.clone());
        self.change_account(user, "set-password", event, move |a| {
            a.password_hash = hash;
            a.password_changed = now;
            // Digest and DHIP cannot ask for a second factor.
            a.digest_ha1 = a.totp.is_none().then_some(ha1);
        })
        .await
    }

    /// Changes `user`'s account with `f`, ends its sessions and logs
    /// `event` in one transaction; then ends its other connections, so
    /// the change applies at once. An unknown account is `field`'s error.
    async fn change_account(
        &self,
        user: String,
        field: &'static str,
        event: SecurityEvent,
        f: impl FnOnce(&mut AccountRecord) + Send + 'static,
    ) -> Result<(), ApiError> {
        let owned = user.clone();
        self.store
            .write(move |w| {
                let mut account = w.account(&owned)?.ok_or_else(|| no_such_user(field))?;
                f(&mut account);
                w.put_account(&owned, &account)?;
                w.remove_sessions(|_, s| s.user == owned)?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        self.online.end_user(&user);
        Ok(())
    }

    /// Deletes an account (not `admin`, not oneself) with its sessions and
    /// connections.
    pub async fn delete_account(
        &self,
        by: &SessionRef,
        ip: IpAddr,
        user: String,
    ) -> Result<(), ApiError> {
        admin(by)?;
        if user == ADMIN_USER {
            return Err(ApiError::invalid("user", "admin cannot be deleted"));
        }
        if user == by.user {
            return Err(ApiError::invalid(
                "user",
                "You cannot delete your own account",
            ));
        }
        let mut event = self.event(SecurityEventKind::UserDeleted, &by.user, ip);
        event.detail = Some(user.clone());
        let owned = user.clone();
        self.store
            .write(move |w| {
                if !w.remove(ACCOUNTS, owned.as_str())? {
                    return Err(no_such_user("user"));
                }
                w.remove_sessions(|_, s| s.user == owned)?;
                w.log(&event)?;
                Ok(())
            })
            .await?;
        if let Ok(mut e) = self.enrolments.lock() {
            e.remove(&user);
        }
        self.online.end_user(&user);
        Ok(())
    }

    /// Who is online: the web sessions (valid ones, oldest first), then
    /// the other front doors' connections.
    pub async fn online_entries(&self, by: &SessionRef) -> Result<Vec<OnlineEntry>, ApiError> {
        admin(by)?;
        let now = self.clock.now();
        let mut sessions = self
            .store
            .read(|r| {
                let mut out = Vec::new();
                for (hash, s) in r.sessions()? {
                    if let Some(a) = r.account(&s.user)? {
                        out.push((hash, s, a.role));
                    }
                }
                Ok(out)
            })
            .await?;
        sessions.retain(|(_, s, _)| session::validity(s, now) != session::Validity::Expired);
        sessions.sort_by_key(|(_, s, _)| s.created);
        let mut out: Vec<OnlineEntry> = sessions
            .into_iter()
            .map(|(hash, s, role)| OnlineEntry {
                key: OnlineKey::Web(handle(&hash)),
                user: s.user,
                role,
                ip: s.ip,
                door: "Web".into(),
                since: self.to_wall(s.created),
                last_seen: Some(self.to_wall(s.last_seen)),
                this_session: hash == by.id_hash,
            })
            .collect();
        out.extend(self.online.list().into_iter().map(|c| OnlineEntry {
            key: OnlineKey::Other(c.id),
            user: c.user,
            role: c.role,
            ip: c.ip.to_string(),
            door: c.door.label().into(),
            since: c.since,
            last_seen: None,
            this_session: false,
        }));
        Ok(out)
    }

    /// Ends one connection of the list: a web session (not the caller's
    /// own: that is Logout) or another front door's connection.
    pub async fn end_online(
        &self,
        by: &SessionRef,
        ip: IpAddr,
        key: OnlineKey,
    ) -> Result<(), ApiError> {
        admin(by)?;
        let gone = || ApiError::invalid("online", "That connection has already ended");
        let mut event = self.event(SecurityEventKind::SessionEnded, &by.user, ip);
        match key {
            OnlineKey::Web(h) => {
                if h == handle(&by.id_hash) {
                    return Err(ApiError::invalid(
                        "online",
                        "This is your own session: use Logout to end it",
                    ));
                }
                self.store
                    .write(move |w| {
                        let doomed: Vec<([u8; 32], String)> = w
                            .sessions()?
                            .into_iter()
                            .filter(|(id, _)| handle(id) == h)
                            .map(|(id, s)| (id, s.user))
                            .collect();
                        // A handle is 32 bits: two sessions sharing one are
                        // named by neither.
                        let [(id, user)] = doomed.as_slice() else {
                            return Err(gone());
                        };
                        w.remove_session(id)?;
                        event.detail = Some(format!("{user} (Web)"));
                        w.log(&event)?;
                        Ok(())
                    })
                    .await
            }
            OnlineKey::Other(id) => {
                let who = self.online.list().into_iter().find(|c| c.id == id);
                let Some(who) = who else {
                    return Err(gone());
                };
                if !self.online.end(id) {
                    return Err(gone());
                }
                event.detail = Some(format!("{} ({})", who.user, who.door.label()));
                self.store.write(move |w| Ok(w.log(&event)?)).await
            }
        }
    }
}
