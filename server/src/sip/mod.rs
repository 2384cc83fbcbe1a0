//! This device as SIP server (manual 6.2): the registrar and the proxy of
//! the `sip` crate on UDP and TCP sockets, its accounts from Room No.
//! Management, its registrations kept in redb so they survive a restart.
//!
//! - `transport.rs`: the socket loops (thin: bytes in, bytes out to where
//!   they are told).
//! - here: one message in, what to send where; the state behind it.
//!
//! REGISTER goes to the registrar, OPTIONS to this device itself (no user
//! in the Request-URI) is answered here, everything else goes through the
//! proxy between registered devices.

pub mod transport;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, RwLock},
};

use sip::{
    bindings::{Binding, Bindings},
    digest::Algorithm,
    header::SipUri,
    message::{self, Message, Method, StartLine},
    proxy::{self, CallEvent, Locator, Out, Peer, Proxy, Target},
    registrar::{self, Outcome, Registrar},
    transaction,
};

use app::model::call_log::{CallRecord, CallType, EndState, MAX_RECORDS};

use crate::{
    clock::Clock,
    store::{
        tables::{BindingRecord, RoomRecord, CALL_LOG, SIP_BINDINGS, SIP_ROOMS},
        Read, Store, StoreError,
    },
};

/// Server transactions remembered at once.
const MAX_TRANSACTIONS: usize = 20_000;

/// HA1 per algorithm for a SIP user name.
type Digests = HashMap<String, (String, String)>;

/// How long a call rings before the proxy gives up (the manual names no
/// setting for it; Dahua monitors stop ringing after about a minute).
pub const RING_TIMEOUT_MS: i64 = 60_000;

/// What a message asks the transport to do: these bytes to this peer.
pub type Send = (Peer, Vec<u8>);

/// Calls followed at once (ringing or talking); beyond it the oldest are
/// forgotten (their record stays, without a talk time).
const MAX_OPEN_CALLS: usize = 1000;
/// A call whose BYE never came is forgotten after this long.
const MAX_TALK_MS: i64 = 12 * 3600 * 1000;

/// A call between its INVITE and its end.
struct OpenCall {
    record: CallRecord,
    /// Its row in the call log once settled.
    seq: Option<u64>,
    answered_at: Option<i64>,
}

pub struct SipService {
    /// `None` once closed (shutdown): tasks that linger a moment must not
    /// keep the database open.
    store: Mutex<Option<Arc<Store>>>,
    /// IP Permissions apply to SIP as to the web.
    ip_filter: Arc<crate::ip_filter::IpFilter>,
    clock: Arc<dyn Clock>,
    registrar: Mutex<Registrar>,
    digests: RwLock<Digests>,
    /// Room number -> the SIP users of its monitors.
    rooms: RwLock<HashMap<String, Vec<String>>>,
    /// Set once the sockets are bound (the proxy writes their address).
    proxy: Mutex<Option<Proxy>>,
    /// SIP user -> (IP, time, User-Agent) of its last registration since
    /// start (Status keeps showing a monitor that went offline).
    last_seen: Mutex<HashMap<String, (String, i64, String)>>,
    /// Calls ringing or talking, by Call-ID (for the call log).
    calls: Mutex<HashMap<String, OpenCall>>,
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

/// Each room's SIP users.
fn users_of(rooms: &[RoomRecord]) -> HashMap<String, Vec<String>> {
    rooms
        .iter()
        .map(|r| {
            let users = r.digests.iter().map(|d| d.user.clone()).collect();
            (r.room.room_no.clone(), users)
        })
        .collect()
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
            rooms: RwLock::new(users_of(&rooms)),
            proxy: Mutex::new(None),
            calls: Mutex::new(HashMap::new()),
            last_seen: Mutex::new(HashMap::new()),
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
        *self.rooms.write().unwrap_or_else(|p| p.into_inner()) = users_of(rooms);
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

    /// The sockets are bound to `addr`: the proxy starts, writing that
    /// address (or, for a wildcard, the device's first address) in its Via
    /// and Record-Route.
    pub fn bound(&self, addr: SocketAddr) {
        let local: Vec<std::net::IpAddr> = if_addrs::get_if_addrs()
            .map(|l| l.into_iter().map(|i| i.ip()).collect())
            .unwrap_or_default();
        let host = if addr.ip().is_unspecified() {
            local
                .iter()
                .find(|ip| !ip.is_loopback() && ip.is_ipv4() == addr.ip().is_ipv4())
                .copied()
                .unwrap_or(if addr.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                })
        } else {
            addr.ip()
        };
        let mut random = [0u8; 16];
        let _ = getrandom::fill(&mut random);
        *lock(&self.proxy) = Some(Proxy::new(
            proxy::Config {
                host,
                port: addr.port(),
                local,
                ring_timeout: RING_TIMEOUT_MS,
                timers: transaction::Timers::default(),
            },
            random,
        ));
    }

    /// One message in from `source`: what to send where.
    pub fn handle(&self, bytes: &[u8], source: SocketAddr, transport: &str) -> Vec<Send> {
        if !self.ip_filter.allows(source.ip()) || lock(&self.store).is_none() {
            // As at the web listeners: no answer at all.
            return Vec::new();
        }
        let peer = Peer {
            addr: source,
            tcp: transport != "UDP",
        };
        let back = |out: Vec<Vec<u8>>| out.into_iter().map(|b| (peer.clone(), b)).collect();
        let msg = match message::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                // Not even a message: nothing can be answered.
                tracing::debug!(%source, error = %e, "SIP: dropped");
                return Vec::new();
            }
        };
        if msg.headers.get("Via").is_none()
            || msg.headers.get("CSeq").is_none()
            || msg.headers.get("Call-ID").is_none()
        {
            if msg.method().is_none() {
                return Vec::new();
            }
            return back(vec![
                registrar::response(&msg, 400, "Bad Request", &[]).to_bytes()
            ]);
        }
        let now = self.clock.now();
        let Some(method) = msg.method().cloned() else {
            let out = match lock(&self.proxy).as_mut() {
                Some(p) => p.on_response(msg, now),
                None => Vec::new(),
            };
            return self.outs(out);
        };
        let to_us = method == Method::Options
            && match &msg.start {
                StartLine::Request { uri, .. } => {
                    SipUri::parse(uri).map(|u| u.user.is_none()).unwrap_or(true)
                }
                StartLine::Response { .. } => false,
            };
        if method != Method::Register && !to_us {
            let out = {
                let mut proxy = lock(&self.proxy);
                let Some(p) = proxy.as_mut() else {
                    return back(vec![registrar::response(
                        &msg,
                        503,
                        "Service Unavailable",
                        &[],
                    )
                    .to_bytes()]);
                };
                let reg = lock(&self.registrar);
                let rooms = self.rooms.read().unwrap_or_else(|p| p.into_inner());
                let devices = Devices {
                    bindings: reg.bindings(),
                    rooms: &rooms,
                    now,
                };
                p.on_request(msg, peer.clone(), now, &devices)
            };
            return self.outs(out);
        }
        let key = transaction::key(&msg);
        if let Some(key) = &key {
            if let Some(t) = lock(&self.transactions).get_mut(key) {
                return back(sends(t.on_request(&msg, now)));
            }
        }
        let reliable = transport != "UDP";
        let response = match method {
            Method::Register => self.register(&msg, source, transport, now),
            _ => registrar::response(
                &msg,
                200,
                "OK",
                &[(
                    "Allow",
                    "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, NOTIFY, SUBSCRIBE, REGISTER"
                        .to_string(),
                )],
            ),
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
        back(sends(out))
    }

    /// The proxy's output: sends, and its call events into the call log.
    fn outs(&self, out: Vec<Out>) -> Vec<Send> {
        let mut sends = Vec::with_capacity(out.len());
        for o in out {
            match o {
                Out::Send(peer, bytes) => sends.push((peer, bytes)),
                Out::Call(ev) => {
                    if let Err(e) = self.call_event(ev) {
                        tracing::error!(error = %e, "SIP: call log not written");
                    }
                }
            }
        }
        sends
    }

    /// The room a SIP user belongs to (`9901#1` -> `9901`).
    fn room_of(&self, user: &str) -> Option<String> {
        let rooms = self.rooms.read().unwrap_or_else(|p| p.into_inner());
        rooms
            .iter()
            .find(|(room, users)| *room == user || users.iter().any(|u| u == user))
            .map(|(room, _)| room.clone())
    }

    fn call_event(&self, ev: CallEvent) -> Result<(), StoreError> {
        match ev {
            CallEvent::Started {
                call_id,
                from,
                to,
                at,
            } => {
                tracing::info!(%call_id, %from, %to, "SIP: call");
                let room_no = self
                    .room_of(&to)
                    .or_else(|| self.room_of(&from))
                    .unwrap_or_default();
                let mut calls = lock(&self.calls);
                if calls.len() >= MAX_OPEN_CALLS {
                    if let Some(oldest) = calls
                        .iter()
                        .min_by_key(|(_, c)| c.record.begin)
                        .map(|(k, _)| k.clone())
                    {
                        calls.remove(&oldest);
                    }
                }
                calls.insert(
                    call_id,
                    OpenCall {
                        record: CallRecord {
                            call_type: CallType::Intercom,
                            from,
                            to,
                            room_no,
                            begin: at,
                            talk_ms: None,
                            end_state: EndState::Missed,
                        },
                        seq: None,
                        answered_at: None,
                    },
                );
            }
            CallEvent::Settled {
                call_id,
                end,
                code,
                at,
            } => {
                tracing::info!(%call_id, ?end, code, "SIP: call settled");
                let Some(mut call) = lock(&self.calls).remove(&call_id) else {
                    return Ok(());
                };
                call.record.end_state = match end {
                    proxy::CallEnd::Answered => EndState::Answered,
                    proxy::CallEnd::Missed => EndState::Missed,
                    proxy::CallEnd::Rejected => EndState::Rejected,
                    proxy::CallEnd::Cancelled => EndState::Cancelled,
                };
                let seq = self
                    .store()?
                    .write(|w| w.append(CALL_LOG, &call.record, MAX_RECORDS))?;
                if end == proxy::CallEnd::Answered {
                    call.seq = Some(seq);
                    call.answered_at = Some(at);
                    lock(&self.calls).insert(call_id, call);
                }
            }
            CallEvent::HungUp { call_id, at } => {
                tracing::info!(%call_id, "SIP: call ended");
                let open = lock(&self.calls).remove(&call_id);
                let Some(mut call) = open else {
                    return Ok(());
                };
                let (Some(seq), Some(answered)) = (call.seq, call.answered_at) else {
                    // A BYE before any answer: still ringing, keep it.
                    lock(&self.calls).insert(call_id, call);
                    return Ok(());
                };
                call.record.talk_ms = Some(u64::try_from(at - answered).unwrap_or(0));
                self.store()?
                    .write(|w| w.update(CALL_LOG, seq, &call.record))?;
            }
        }
        Ok(())
    }

    /// Household Setting > Status: each monitor seen since start (online
    /// or not), and each room none of whose monitors was seen.
    pub fn status(&self) -> Vec<app::model::sip_status::DeviceStatus> {
        use app::model::sip_status::DeviceStatus;
        let now = self.clock.now();
        let reg = lock(&self.registrar);
        let seen = lock(&self.last_seen);
        let rooms = self.rooms.read().unwrap_or_else(|p| p.into_inner());
        let mut numbers: Vec<&String> = rooms.keys().collect();
        numbers.sort_by_key(|r| (r.len(), *r));
        let mut out = Vec::new();
        for room in numbers {
            let before = out.len();
            for user in rooms.get(room).into_iter().flatten() {
                let live = reg.bindings().contacts(user, now);
                let newest = live.iter().max_by_key(|b| b.registered_at);
                let entry = match (newest, seen.get(user)) {
                    (Some(b), _) => DeviceStatus {
                        number: user.clone(),
                        kind: "Room".into(),
                        online: true,
                        ip: b
                            .source
                            .parse::<SocketAddr>()
                            .map(|a| a.ip().to_string())
                            .unwrap_or_default(),
                        last_registration: Some(b.registered_at),
                        user_agent: b.user_agent.clone(),
                    },
                    (None, Some((ip, at, ua))) => DeviceStatus {
                        number: user.clone(),
                        kind: "Room".into(),
                        online: false,
                        ip: ip.clone(),
                        last_registration: Some(*at),
                        user_agent: ua.clone(),
                    },
                    (None, None) => continue,
                };
                out.push(entry);
            }
            if out.len() == before {
                out.push(DeviceStatus {
                    number: room.clone(),
                    kind: "Room".into(),
                    online: false,
                    ip: String::new(),
                    last_registration: None,
                    user_agent: String::new(),
                });
            }
        }
        out
    }

    /// Log Management > Call: records `offset..offset + limit`, newest
    /// first, and how many are kept.
    pub fn call_log(&self, offset: u64, limit: u64) -> Result<(Vec<CallRecord>, u64), StoreError> {
        self.store()?
            .read(|r| r.newest_first(CALL_LOG, offset, limit))
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
                if let Some(b) = contacts.iter().max_by_key(|b| b.registered_at) {
                    lock(&self.last_seen).insert(
                        account.clone(),
                        (
                            source.ip().to_string(),
                            b.registered_at,
                            b.user_agent.clone(),
                        ),
                    );
                }
            }
            Outcome::Refused { reason } => {
                tracing::warn!(%source, %reason, "SIP: REGISTER refused")
            }
            Outcome::Challenged => {}
        }
        response
    }

    /// Runs the timers: repeats and ends transactions, drops expired
    /// registrations (from memory and from the store). Returns what the
    /// proxy repeats.
    pub fn tick(&self) -> Vec<Send> {
        let now = self.clock.now();
        lock(&self.transactions).retain(|_, t| {
            t.on_timer(now);
            !t.is_terminated()
        });
        let out = match lock(&self.proxy).as_mut() {
            Some(p) => p.on_timer(now),
            None => Vec::new(),
        };
        let sends = self.outs(out);
        // Calls whose end was never seen: their records stay as they are.
        lock(&self.calls).retain(|_, c| now - c.record.begin < MAX_TALK_MS);
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
        sends
    }
}

/// The registered devices and the rooms, as the proxy asks about them.
struct Devices<'a> {
    bindings: &'a Bindings,
    rooms: &'a HashMap<String, Vec<String>>,
    now: i64,
}

impl Devices<'_> {
    fn live(&self) -> impl Iterator<Item = (&String, &Binding)> {
        let now = self.now;
        self.bindings
            .as_map()
            .iter()
            .flat_map(|(user, list)| list.iter().map(move |b| (user, b)))
            .filter(move |(_, b)| b.expires_at > now)
    }
}

/// Where requests to a binding go: the address in its Contact (devices
/// on the LAN put their own address there, and a callee sipp or baresip
/// may register from another port than it listens on), else where its
/// REGISTER came from (a contact with a host name).
fn peer_of(b: &Binding) -> Option<Peer> {
    let tcp = b.transport != "UDP";
    let from_contact = contact_uri(&b.contact).and_then(|c| {
        let ip: std::net::IpAddr = c.host.parse().ok()?;
        let tcp = c
            .params
            .get("transport")
            .map(|t| t.eq_ignore_ascii_case("tcp"))
            .unwrap_or(tcp);
        Some(Peer {
            addr: SocketAddr::new(ip, c.port.unwrap_or(5060)),
            tcp,
        })
    });
    from_contact.or_else(|| {
        Some(Peer {
            addr: b.source.parse().ok()?,
            tcp,
        })
    })
}

/// A contact as written in a REGISTER, angle brackets and all, as a URI.
fn contact_uri(contact: &str) -> Option<SipUri> {
    let c = contact.trim();
    let c = c
        .strip_prefix('<')
        .and_then(|c| c.split('>').next())
        .unwrap_or(c);
    SipUri::parse(c).ok()
}

impl Locator for Devices<'_> {
    fn trusted(&self, source: &Peer) -> bool {
        let from = source.addr.to_string();
        self.live()
            .any(|(_, b)| b.source == from || peer_of(b).is_some_and(|p| p.addr == source.addr))
    }

    fn locate(&self, user: &str) -> Result<Vec<Target>, (u16, String)> {
        // A room rings all its monitors; a monitor's own number only it.
        let users: Vec<&str> = match self.rooms.get(user) {
            Some(users) => users.iter().map(String::as_str).collect(),
            None if self.rooms.values().flatten().any(|u| u == user) => vec![user],
            None => return Err((404, "Not Found".into())),
        };
        let targets: Vec<Target> = users
            .iter()
            .flat_map(|u| self.bindings.contacts(u, self.now))
            .filter_map(|b| {
                Some(Target {
                    uri: contact_uri(&b.contact)?.to_string(),
                    peer: peer_of(b)?,
                })
            })
            .collect();
        if targets.is_empty() {
            return Err((480, "Temporarily Unavailable".into()));
        }
        Ok(targets)
    }

    fn contact(&self, uri: &SipUri) -> Option<Peer> {
        self.live().find_map(|(_, b)| {
            let c = contact_uri(&b.contact)?;
            (c.host == uri.host && c.port.unwrap_or(5060) == uri.port.unwrap_or(5060))
                .then(|| peer_of(b))
                .flatten()
        })
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
