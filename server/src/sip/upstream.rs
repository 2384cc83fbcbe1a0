//! This VTO as a client of another SIP server (Network Setting > SIP
//! Server, not enabled): the `sip` crate's REGISTER client on the device's
//! SIP socket, fed the responses that are its own and the time. What it
//! sends waits in an outbox the socket loop empties on its next tick.

use std::{net::SocketAddr, sync::Mutex};

use app::model::sip_server::Registration as Shown;
use sip::{
    client::{self, Registration, Status},
    message::Message,
    proxy::Peer,
};

use super::{lock, Send};

/// What the client is, when there is one.
struct Active {
    reg: Registration,
    server: Peer,
}

/// How long a stopped client still answers a challenge to its
/// un-REGISTER.
const STOPPING_MS: i64 = 5_000;

#[derive(Default)]
pub struct Upstream {
    active: Mutex<Option<Active>>,
    /// Stopped clients whose un-REGISTER may still be challenged, until.
    stopping: Mutex<Vec<(Active, i64)>>,
    /// Why there is no client although one is wanted (no SIP socket).
    unavailable: Mutex<Option<String>>,
    outbox: Mutex<Vec<Send>>,
}

impl Upstream {
    /// Registering to another server (this VTO is not the server).
    pub fn is_active(&self) -> bool {
        lock(&self.active).is_some() || lock(&self.unavailable).is_some()
    }

    /// From now on this client (None: none). The old one un-registers.
    pub fn configure(&self, config: Option<client::Config>, now: i64) {
        let mut active = lock(&self.active);
        if let Some(mut old) = active.take() {
            let bytes = old.reg.stop(now);
            self.post(&old.server, bytes);
            let mut stopping = lock(&self.stopping);
            stopping.retain(|(_, until)| *until > now);
            stopping.push((old, now + STOPPING_MS));
        }
        *lock(&self.unavailable) = None;
        if let Some(config) = config {
            let server = Peer {
                addr: config.server,
                tcp: false,
            };
            tracing::info!(server = %config.server, user = %config.user, "SIP: registering to another server");
            let mut seed = [0u8; 16];
            // getrandom does not fail on Linux; a zero seed still works.
            let _ = getrandom::fill(&mut seed);
            let mut reg = Registration::new(config, seed);
            let bytes = reg.start(now);
            self.post(&server, bytes);
            *active = Some(Active { reg, server });
        }
    }

    /// A client is wanted but cannot run (e.g. the SIP port is off).
    pub fn unavailable(&self, reason: String) {
        self.configure(None, 0);
        *lock(&self.unavailable) = Some(reason);
    }

    fn post(&self, to: &Peer, bytes: Vec<Vec<u8>>) {
        lock(&self.outbox).extend(bytes.into_iter().map(|b| (to.clone(), b)));
    }

    /// A response from `from`: `None` if it is not the client's (only
    /// the server's address may answer it).
    pub fn on_response(&self, msg: &Message, from: SocketAddr, now: i64) -> Option<Vec<Send>> {
        {
            let mut stopping = lock(&self.stopping);
            if let Some((a, _)) = stopping.iter_mut().find(|(a, _)| a.reg.owns(msg)) {
                let out = a.reg.on_response_from(msg, from, now);
                return Some(out.into_iter().map(|b| (a.server.clone(), b)).collect());
            }
        }
        let mut active = lock(&self.active);
        let a = active.as_mut().filter(|a| a.reg.owns(msg))?;
        let before = a.reg.status().clone();
        let out = a.reg.on_response_from(msg, from, now);
        log_change(&before, a.reg.status());
        Some(out.into_iter().map(|b| (a.server.clone(), b)).collect())
    }

    /// Timers (repeats, refreshes, retries) and what waits in the outbox.
    pub fn tick(&self, now: i64) -> Vec<Send> {
        let mut sends = std::mem::take(&mut *lock(&self.outbox));
        {
            let mut stopping = lock(&self.stopping);
            stopping.retain(|(_, until)| *until > now);
            // Their un-REGISTER is repeated over UDP until answered.
            for (a, _) in stopping.iter_mut() {
                if a.reg.deadline().is_some_and(|d| d <= now) {
                    sends.extend(
                        a.reg
                            .on_timer(now)
                            .into_iter()
                            .map(|b| (a.server.clone(), b)),
                    );
                }
            }
        }
        if let Some(a) = lock(&self.active).as_mut() {
            if a.reg.deadline().is_some_and(|d| d <= now) {
                let before = a.reg.status().clone();
                sends.extend(
                    a.reg
                        .on_timer(now)
                        .into_iter()
                        .map(|b| (a.server.clone(), b)),
                );
                log_change(&before, a.reg.status());
            }
        }
        sends
    }

    /// Where the registration stands, for the page.
    pub fn shown(&self) -> Shown {
        if let Some(reason) = lock(&self.unavailable).clone() {
            return Shown::Failed {
                reason,
                retry_at: 0,
            };
        }
        match lock(&self.active).as_ref().map(|a| a.reg.status().clone()) {
            None | Some(Status::Stopped) => Shown::NotUsed,
            Some(Status::Registering) => Shown::Registering,
            Some(Status::Registered { expires_at }) => Shown::Registered { until: expires_at },
            Some(Status::Failed { reason, retry_at }) => Shown::Failed { reason, retry_at },
        }
    }
}

fn log_change(before: &Status, after: &Status) {
    if std::mem::discriminant(before) == std::mem::discriminant(after) {
        return;
    }
    match after {
        Status::Registered { .. } => tracing::info!("SIP: registered to the server"),
        Status::Failed { reason, .. } => {
            tracing::warn!(%reason, "SIP: registration to the server failed")
        }
        _ => {}
    }
}
