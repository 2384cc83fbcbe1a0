//! This device as SIP server (manual 6.2): the registrar of the `sip`
//! crate on UDP and TCP sockets, its accounts from Room No. Management,
//! its registrations kept in redb so they survive a restart.
//!
//! - `transport.rs`: the socket loops (thin: bytes in, bytes out).
//! - here: one message in, what to send back; the state behind it.
//!
//! Methods other than REGISTER and OPTIONS are answered 501 Not
//! Implemented until the proxy exists (issue 6 goes on).

pub mod transport;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, RwLock},
};

use sip::{
    bindings::{Binding, Bindings},
    digest::Algorithm,
    message::{self, Message, Method},
    registrar::{self, Outcome, Registrar},
    transaction,
};

use crate::{
    clock::Clock,
    store::{
        tables::{BindingRecord, RoomRecord, SIP_BINDINGS, SIP_ROOMS},
        Read, Store, StoreError,
    },
};

/// Server transactions remembered at once.
const MAX_TRANSACTIONS: usize = 20_000;

/// HA1 per algorithm for a SIP user name.
type Digests = HashMap<String, (String, String)>;

pub struct SipService {
    /// `None` once closed (shutdown): tasks that linger a moment must not
    /// keep the database open.
    store: Mutex<Option<Arc<Store>>>,
    /// IP Permissions apply to SIP as to the web.
    ip_filter: Arc<crate::ip_filter::IpFilter>,
    clock: Arc<dyn Clock>,
    registrar: Mutex<Registrar>,
    digests: RwLock<Digests>,
    /// Server transactions by key: a repeated REGISTER gets the same answer.
    transactions: Mutex<HashMap<String, transaction::Server>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn to_record(b: &Binding) -> BindingRecord {
    BindingRecord {
        contact: b.contact.clone(),
        expires_at: b.expires_at,
        source: b.source.clone(),
        transport: b.transport.clone(),
        call_id: b.call_id.clone(),
        cseq: b.cseq,
        user_agent: b.user_agent.clone(),
        registered_at: b.registered_at,
    }
}

fn from_record(r: BindingRecord) -> Binding {
    Binding {
        contact: r.contact,
        expires_at: r.expires_at,
        source: r.source,
        transport: r.transport,
        call_id: r.call_id,
        cseq: r.cseq,
        user_agent: r.user_agent,
        registered_at: r.registered_at,
    }
}

/// The digests of every room's monitors.
pub fn digests_of(rooms: &[RoomRecord]) -> Digests {
    rooms
        .iter()
        .flat_map(|r| r.digests.iter())
        .map(|d| (d.user.clone(), (d.md5.clone(), d.sha256.clone())))
        .collect()
}

impl SipService {
    /// Loads the rooms and the registrations that have not expired.
    pub fn load(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        ip_filter: Arc<crate::ip_filter::IpFilter>,
    ) -> Result<Arc<Self>, StoreError> {
        type Stored = (Vec<(String, RoomRecord)>, Vec<(String, Vec<BindingRecord>)>);
        let (rooms, stored): Stored =
            store.read(|r| Ok::<_, StoreError>((r.all(SIP_ROOMS)?, r.all(SIP_BINDINGS)?)))?;
        let rooms: Vec<RoomRecord> = rooms.into_iter().map(|(_, r)| r).collect();
        let mut bindings = Bindings::from_map(
            stored
                .into_iter()
                .map(|(user, list)| (user, list.into_iter().map(from_record).collect()))
                .collect(),
        );
        bindings.expire(clock.now());
        Ok(Arc::new(Self {
            store: Mutex::new(Some(store)),
            ip_filter,
            clock,
            registrar: Mutex::new(Registrar::new(
                registrar::DEFAULT_REALM,
                concat!("vto/", env!("CARGO_PKG_VERSION")),
                bindings,
            )),
            digests: RwLock::new(digests_of(&rooms)),
            transactions: Mutex::new(HashMap::new()),
        }))
    }

    fn store(&self) -> Result<Arc<Store>, StoreError> {
        lock(&self.store)
            .clone()
            .ok_or_else(|| StoreError::Db("the SIP server is stopping".into()))
    }

    /// Shutdown: lets go of the database and answers nothing more.
    pub fn close(&self) {
        lock(&self.store).take();
    }

    /// The accounts changed (Room No. Management): from now on these.
    /// Registrations of users that no longer exist are dropped.
    pub fn set_rooms(&self, rooms: &[RoomRecord]) -> Result<(), StoreError> {
        let digests = digests_of(rooms);
        let gone: Vec<String> = {
            let mut reg = lock(&self.registrar);
            let gone: Vec<String> = reg
                .bindings()
                .as_map()
                .keys()
                .filter(|u| !digests.contains_key(*u))
                .cloned()
                .collect();
            let mut map = reg.bindings().as_map().clone();
            for u in &gone {
                map.remove(u);
            }
            *reg.bindings_mut() = Bindings::from_map(map);
            gone
        };
        *self.digests.write().unwrap_or_else(|p| p.into_inner()) = digests;
        if !gone.is_empty() {
            self.store()?.write(|w| {
                for u in &gone {
                    w.remove(SIP_BINDINGS, u.as_str())?;
                }
                Ok::<_, StoreError>(())
            })?;
        }
        Ok(())
    }

    /// How many of `users` are registered now.
    pub fn online(&self, users: &[String]) -> usize {
        let now = self.clock.now();
        let reg = lock(&self.registrar);
        users
            .iter()
            .filter(|u| !reg.bindings().contacts(u, now).is_empty())
            .count()
    }

    /// One message in from `source`: the bytes to send back to it.
    pub fn handle(&self, bytes: &[u8], source: SocketAddr, transport: &str) -> Vec<Vec<u8>> {
        if !self.ip_filter.allows(source.ip()) || lock(&self.store).is_none() {
            // As at the web listeners: no answer at all.
            return Vec::new();
        }
        let msg = match message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                // Not even a message: nothing can be answered.
                tracing::debug!(%source, error = %e, "SIP: dropped");
                return Vec::new();
            }
        };
        let Some(method) = msg.method().cloned() else {
            // Responses are for the proxy and client sides (not yet).
            return Vec::new();
        };
        if msg.headers.get("Via").is_none()
            || msg.headers.get("CSeq").is_none()
            || msg.headers.get("Call-ID").is_none()
        {
            return vec![registrar::response(&msg, 400, "Bad Request", &[]).to_bytes()];
        }
        let now = self.clock.now();
        let key = transaction::key(&msg);
        if let Some(key) = &key {
            if let Some(t) = lock(&self.transactions).get_mut(key) {
                return sends(t.on_request(&msg, now));
            }
        }
        let reliable = transport != "UDP";
        let response = match method {
            Method::Register => self.register(&msg, source, transport, now),
            Method::Options => registrar::response(
                &msg,
                200,
                "OK",
                &[("Allow", "REGISTER, OPTIONS".to_string())],
            ),
            Method::Ack => return Vec::new(),
            _ => registrar::response(&msg, 501, "Not Implemented", &[]),
        };
        let (mut t, mut out) =
            transaction::Server::new(&msg, reliable, transaction::Timers::default());
        out.extend(t.respond(&response, now));
        if let Some(key) = key {
            let mut transactions = lock(&self.transactions);
            // A flood of new requests must not grow this without bound:
            // past the cap, repeats are answered anew instead.
            if transactions.len() < MAX_TRANSACTIONS {
                transactions.insert(key, t);
            }
        }
        sends(out)
    }

    fn register(&self, msg: &Message, source: SocketAddr, transport: &str, now: i64) -> Message {
        let digests = self
            .digests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let accounts = move |user: &str, algorithm: Algorithm| {
            digests.get(user).map(|(md5, sha256)| match algorithm {
                Algorithm::Md5 => md5.clone(),
                Algorithm::Sha256 => sha256.clone(),
            })
        };
        let random = || {
            let mut r = [0u8; 16];
            // A nonce from a failed generator would still be unique enough
            // per time, but getrandom does not fail on Linux.
            let _ = getrandom::fill(&mut r);
            r
        };
        let (response, outcome) =
            lock(&self.registrar).register(msg, source, transport, &accounts, random, now);
        match outcome {
            Outcome::Registered { account, contacts } => {
                let records: Vec<BindingRecord> = contacts.iter().map(to_record).collect();
                let stored = self.store().and_then(|store| {
                    store.write(|w| {
                        if records.is_empty() {
                            w.remove(SIP_BINDINGS, account.as_str())?;
                        } else {
                            w.put(SIP_BINDINGS, account.as_str(), &records)?;
                        }
                        Ok::<_, StoreError>(())
                    })
                });
                if let Err(e) = stored {
                    tracing::error!(error = %e, "SIP: registration not stored");
                    return registrar::response(msg, 500, "Server Internal Error", &[]);
                }
                tracing::info!(%account, contacts = contacts.len(), %source, "SIP: registered");
            }
            Outcome::Refused { reason } => {
                tracing::warn!(%source, %reason, "SIP: REGISTER refused")
            }
            Outcome::Challenged => {}
        }
        response
    }

    /// Runs the timers: ends finished transactions, drops expired
    /// registrations (from memory and from the store).
    pub fn tick(&self) {
        let now = self.clock.now();
        lock(&self.transactions).retain(|_, t| {
            t.on_timer(now);
            !t.is_terminated()
        });
        let gone = lock(&self.registrar).bindings_mut().expire(now);
        if !gone.is_empty() {
            let removed = self.store().and_then(|store| {
                store.write(|w| {
                    for u in &gone {
                        w.remove(SIP_BINDINGS, u.as_str())?;
                    }
                    Ok::<_, StoreError>(())
                })
            });
            if let Err(e) = removed {
                tracing::error!(error = %e, "SIP: expired registrations not removed");
            }
            tracing::info!(users = ?gone, "SIP: registrations expired");
        }
    }
}

fn sends(actions: Vec<transaction::Action>) -> Vec<Vec<u8>> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            transaction::Action::Send(b) => Some(b),
            _ => None,
        })
        .collect()
}
