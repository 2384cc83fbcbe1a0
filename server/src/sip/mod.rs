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

mod publish;
pub mod transport;
pub mod upstream;

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

use app::model::{
    call_log::{CallRecord, CallType, EndState, MAX_RECORDS},
    settings::{BasicSettings, DailyPeriod},
    station::StationKind,
};

use crate::{
    clock::Clock,
    store::{
        tables::{
            station_table, BindingRecord, RoomRecord, SipServerRecord, StationRecord, CALL_LOG,
            SIP_BINDINGS, SIP_ROOMS,
        },
        Read, Store, StoreError,
    },
};

/// Server transactions remembered at once.
const MAX_TRANSACTIONS: usize = 20_000;

/// HA1 per algorithm for a SIP user name.
type Digests = HashMap<String, (String, String)>;

/// The expiry asked of another server, in seconds (a Dahua server grants
/// 60 whatever is asked; the client refreshes before what is granted).
const UPSTREAM_EXPIRES: u32 = 300;

/// The address of this host that `server` is reached from: the bound one,
/// or for a wildcard the one the routing table picks (no packet is sent).
fn local_toward(bound: std::net::IpAddr, server: SocketAddr) -> std::net::IpAddr {
    if !bound.is_unspecified() {
        return bound;
    }
    let any: SocketAddr = if server.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    std::net::UdpSocket::bind(any)
        .and_then(|s| {
            s.connect(server)?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(bound)
}

/// How long a call rings before the proxy gives up (the manual names no
/// setting for it; Dahua monitors stop ringing after about a minute).
pub const RING_TIMEOUT_MS: i64 = 60_000;

/// The device's local minute of the day at a UTC instant (its time zone
/// and summer time, from System > General): the Call Centre Time is local.
pub type LocalMinute = Arc<dyn Fn(i64) -> u16 + std::marker::Send + Sync>;

/// The local minute of the day as `time` shows it now. Held weakly: the
/// time service holds the database, which must close at shutdown even if
/// a SIP task still holds this service a moment longer.
pub fn local_minute_of(time: &Arc<crate::system::time::TimeService>) -> LocalMinute {
    let time = Arc::downgrade(time);
    Arc::new(move |utc| {
        let local = time.upgrade().map_or(utc, |t| t.display().local(utc));
        u16::try_from(local.rem_euclid(86_400_000) / 60_000).unwrap_or(0)
    })
}

/// The Centre Call No. and the Call Centre Time (Local Setting > Basic).
#[derive(Clone, Debug)]
pub struct Centre {
    pub number: String,
    pub time: DailyPeriod,
}

/// What a message asks the transport to do: these bytes to this peer.
pub type Send = (Peer, Vec<u8>);

/// Calls followed at once (ringing or talking); beyond it the oldest are
/// forgotten (their record stays, without a talk time).
const MAX_OPEN_CALLS: usize = 1000;
/// A call whose BYE never came is forgotten after this long.
const MAX_TALK_MS: i64 = 12 * 3600 * 1000;

/// A change of the call log, written with the next flush.
enum LogOp {
    /// A settled call; an answered one's row is rewritten at its BYE.
    Append {
        call_id: String,
        record: CallRecord,
        answered: bool,
    },
    /// An answered call ended: its talk time.
    Update { call_id: String, record: CallRecord },
}

/// A call between its INVITE and its end.
struct OpenCall {
    record: CallRecord,
    answered_at: Option<i64>,
}

pub struct SipService {
    /// `None` once closed (shutdown): tasks that linger a moment must not
    /// keep the database open.
    store: Mutex<Option<Arc<Store>>>,
    /// IP Permissions apply to SIP as to the web.
    ip_filter: Arc<crate::network::ip_filter::IpFilter>,
    clock: Arc<dyn Clock>,
    registrar: Mutex<Registrar>,
    /// Every account's digests: the rooms' monitors, the VTO and the VTS.
    digests: RwLock<Digests>,
    room_digests: RwLock<Digests>,
    /// Each kind of station's digests.
    station_digests: RwLock<Vec<(StationKind, Digests)>>,
    /// Room number -> the SIP users of its monitors.
    rooms: RwLock<HashMap<String, Vec<String>>>,
    /// VTO and VTS numbers -> what they are and the address they must
    /// register from.
    stations: RwLock<Stations>,
    centre: RwLock<Centre>,
    local_minute: LocalMinute,
    /// Set once the sockets are bound (the proxy writes their address).
    proxy: Mutex<Option<Proxy>>,
    /// Where the sockets are, as others reach them (a wildcard replaced by
    /// the device's first address).
    address: Mutex<Option<SocketAddr>>,
    /// SIP user -> (IP, time, User-Agent) of its last registration since
    /// start (Status keeps showing a monitor that went offline).
    last_seen: Mutex<HashMap<String, (String, i64, String)>>,
    /// Accounts whose registrations changed since the last flush.
    dirty: Mutex<std::collections::HashSet<String>>,
    /// Call log changes since the last flush.
    log_queue: Mutex<Vec<LogOp>>,
    flushing: Mutex<()>,
    /// Call-ID -> the call log row of an answered call still talking.
    talking_rows: Mutex<HashMap<String, u64>>,
    /// Calls ringing or talking, by Call-ID (for the call log).
    calls: Mutex<HashMap<String, OpenCall>>,
    /// Server transactions by key: a repeated REGISTER gets the same answer.
    transactions: Mutex<HashMap<String, transaction::Server>>,
    /// The address the sockets are bound to, as bound (a wildcard stays).
    listen: Mutex<Option<SocketAddr>>,
    /// The server to register to, when this VTO is not the SIP server.
    wanted: Mutex<Option<Wanted>>,
    upstream: upstream::Upstream,
    /// Publish Information's MESSAGEs in flight.
    messages: Mutex<publish::Messages>,
    /// What the device sends on its own, sent on the next tick.
    outbox: Mutex<Vec<Send>>,
}

/// Network Setting > SIP Server when this VTO is not the server: where to
/// register and as whom. No `Debug`: it holds the password.
#[derive(Clone)]
pub struct Wanted {
    pub server: SocketAddr,
    pub domain: String,
    pub user: String,
    pub password: String,
}

/// What the stored SIP Server settings ask for: None when this VTO is the
/// server (or no password is stored, which the page prevents).
pub fn wanted_from(record: &SipServerRecord, vto_no: &str) -> Option<Wanted> {
    use app::model::sip_server::ServerType;
    let s = &record.settings;
    if s.enabled {
        return None;
    }
    Some(Wanted {
        server: SocketAddr::new(s.ip.trim().parse().ok()?, s.port),
        domain: s.domain.trim().to_string(),
        user: match s.server_type {
            ServerType::Vto => vto_no.to_string(),
            ServerType::Other => s.username.trim().to_string(),
        },
        password: record.password.as_ref()?.as_str().to_string(),
    })
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

/// HA1 per algorithm for each SIP user of these digests.
fn digests_of<'a>(list: impl Iterator<Item = &'a crate::store::tables::SipDigest>) -> Digests {
    list.map(|d| (d.user.clone(), (d.md5.clone(), d.sha256.clone())))
        .collect()
}

/// Station number -> its kind and the address it must register from.
type Stations = HashMap<String, (StationKind, std::net::IpAddr)>;

/// Each station's address (one with an address that does not parse, which
/// validation prevents, may register from nowhere).
fn addresses_of(
    kind: StationKind,
    list: &[StationRecord],
) -> impl Iterator<Item = (String, (StationKind, std::net::IpAddr))> + '_ {
    list.iter()
        .filter_map(move |v| Some((v.station.number.clone(), (kind, v.station.ip.parse().ok()?))))
}

/// The stations of a kind, from the store.
pub fn stations_of(r: &impl Read, kind: StationKind) -> Result<Vec<StationRecord>, StoreError> {
    Ok(r.all::<StationRecord>(station_table(kind))?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

impl SipService {
    /// Loads the rooms and the registrations that have not expired.
    pub fn load(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        ip_filter: Arc<crate::network::ip_filter::IpFilter>,
        local_minute: LocalMinute,
    ) -> Result<Arc<Self>, StoreError> {
        type Stored = (
            Vec<(String, RoomRecord)>,
            Vec<StationRecord>,
            Vec<StationRecord>,
            Vec<(String, Vec<BindingRecord>)>,
            BasicSettings,
            SipServerRecord,
        );
        let (rooms, vto, vts, stored, basic, sip_server): Stored = store.read(|r| {
            Ok::<_, StoreError>((
                r.all(SIP_ROOMS)?,
                stations_of(r, StationKind::Vto)?,
                stations_of(r, StationKind::Vts)?,
                r.all(SIP_BINDINGS)?,
                r.settings(crate::store::settings::BASIC)?,
                r.settings(crate::store::settings::SIP_SERVER)?,
            ))
        })?;
        let wanted = wanted_from(&sip_server, &basic.vto_no);
        let digest = sip_server.settings.digest;
        let rooms: Vec<RoomRecord> = rooms.into_iter().map(|(_, r)| r).collect();
        let mut bindings = Bindings::from_map(
            stored
                .into_iter()
                .map(|(user, list)| (user, list.into_iter().map(from_record).collect()))
                .collect(),
        );
        bindings.expire(clock.now());
        let room_digests = digests_of(rooms.iter().flat_map(|r| r.digests.iter()));
        let station_digests = vec![
            (
                StationKind::Vto,
                digests_of(vto.iter().flat_map(|v| v.digests.iter())),
            ),
            (
                StationKind::Vts,
                digests_of(vts.iter().flat_map(|v| v.digests.iter())),
            ),
        ];
        let mut all = room_digests.clone();
        for (_, d) in &station_digests {
            all.extend(d.clone());
        }
        let service = Arc::new(Self {
            store: Mutex::new(Some(store)),
            ip_filter,
            clock,
            registrar: Mutex::new(Registrar::new(
                registrar::DEFAULT_REALM,
                concat!("vto/", env!("CARGO_PKG_VERSION")),
                bindings,
            )),
            digests: RwLock::new(all),
            room_digests: RwLock::new(room_digests),
            station_digests: RwLock::new(station_digests),
            rooms: RwLock::new(users_of(&rooms)),
            stations: RwLock::new(
                addresses_of(StationKind::Vto, &vto)
                    .chain(addresses_of(StationKind::Vts, &vts))
                    .collect(),
            ),
            centre: RwLock::new(Centre {
                number: basic.centre_call_no,
                time: basic.call_centre_time,
            }),
            local_minute,
            proxy: Mutex::new(None),
            address: Mutex::new(None),
            calls: Mutex::new(HashMap::new()),
            last_seen: Mutex::new(HashMap::new()),
            dirty: Mutex::new(Default::default()),
            log_queue: Mutex::new(Vec::new()),
            flushing: Mutex::new(()),
            talking_rows: Mutex::new(HashMap::new()),
            transactions: Mutex::new(HashMap::new()),
            listen: Mutex::new(None),
            wanted: Mutex::new(wanted),
            upstream: upstream::Upstream::default(),
            messages: Mutex::new(publish::Messages::default()),
            outbox: Mutex::new(Vec::new()),
        });
        service.set_digest(digest);
        Ok(service)
    }

    /// The Centre Call No. and Call Centre Time calls follow now.
    #[cfg(test)]
    pub fn centre(&self) -> Centre {
        self.centre
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Local Setting > Basic was saved: calls to the centre follow it.
    pub fn set_centre(&self, number: &str, time: DailyPeriod) {
        *self.centre.write().unwrap_or_else(|p| p.into_inner()) = Centre {
            number: number.to_string(),
            time,
        };
    }

    fn store(&self) -> Result<Arc<Store>, StoreError> {
        lock(&self.store)
            .clone()
            .ok_or_else(|| StoreError::Db("the SIP server is stopping".into()))
    }

    /// Shutdown: lets go of the database and answers nothing more.
    pub fn close(&self) {
        self.flush();
        lock(&self.store).take();
    }

    /// Writes the registrations and call log changes since the last flush,
    /// in one transaction (write-behind: a flood of REGISTERs costs one
    /// disk sync per tick, not one each).
    fn flush(&self) {
        // One flush at a time: a reader flushing first must find what an
        // earlier flush took from the queues written when it reads.
        let _one = lock(&self.flushing);
        let accounts: Vec<String> = lock(&self.dirty).drain().collect();
        let ops: Vec<LogOp> = std::mem::take(&mut *lock(&self.log_queue));
        if accounts.is_empty() && ops.is_empty() {
            return;
        }
        let now = self.clock.now();
        let lists: Vec<(String, Vec<BindingRecord>)> = {
            let reg = lock(&self.registrar);
            accounts
                .into_iter()
                .map(|a| {
                    let records = reg
                        .bindings()
                        .contacts(&a, now)
                        .into_iter()
                        .map(to_record)
                        .collect();
                    (a, records)
                })
                .collect()
        };
        let mut rows = lock(&self.talking_rows);
        let stored = self.store().and_then(|store| {
            store.write(|w| {
                for (account, records) in &lists {
                    if records.is_empty() {
                        w.remove(SIP_BINDINGS, account.as_str())?;
                    } else {
                        w.put(SIP_BINDINGS, account.as_str(), records)?;
                    }
                }
                for op in &ops {
                    match op {
                        LogOp::Append {
                            call_id,
                            record,
                            answered,
                        } => {
                            let seq = w.append(CALL_LOG, record, MAX_RECORDS)?;
                            if *answered {
                                if rows.len() >= MAX_OPEN_CALLS {
                                    // Calls whose BYE never came.
                                    rows.clear();
                                }
                                rows.insert(call_id.clone(), seq);
                            }
                        }
                        LogOp::Update { call_id, record } => {
                            if let Some(seq) = rows.remove(call_id) {
                                w.update(CALL_LOG, seq, record)?;
                            }
                        }
                    }
                }
                Ok::<_, StoreError>(())
            })
        });
        if let Err(e) = stored {
            // Registrations stay in memory (the devices register again
            // within minutes); these calls are missing from the log.
            tracing::error!(
                error = %e,
                accounts = lists.len(),
                calls = ops.len(),
                "SIP: registrations and call log not stored"
            );
        }
    }

    /// The accounts changed (Room No. Management): from now on these.
    /// Registrations of users that no longer exist are dropped.
    pub fn set_rooms(&self, rooms: &[RoomRecord]) -> Result<(), StoreError> {
        *self.room_digests.write().unwrap_or_else(|p| p.into_inner()) =
            digests_of(rooms.iter().flat_map(|r| r.digests.iter()));
        *self.rooms.write().unwrap_or_else(|p| p.into_inner()) = users_of(rooms);
        self.accounts_changed()
    }

    /// VTO No. or VTS Management changed: from now on these.
    pub fn set_stations(
        &self,
        kind: StationKind,
        list: &[StationRecord],
    ) -> Result<(), StoreError> {
        {
            let mut d = self
                .station_digests
                .write()
                .unwrap_or_else(|p| p.into_inner());
            d.retain(|(k, _)| *k != kind);
            d.push((kind, digests_of(list.iter().flat_map(|v| v.digests.iter()))));
        }
        {
            let mut s = self.stations.write().unwrap_or_else(|p| p.into_inner());
            s.retain(|_, (k, _)| *k != kind);
            s.extend(addresses_of(kind, list));
        }
        self.accounts_changed()
    }

    /// The accounts are the rooms', the VTO's and the VTS'; registrations
    /// of users that no longer exist are dropped.
    fn accounts_changed(&self) -> Result<(), StoreError> {
        let mut digests = self
            .room_digests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (_, d) in self
            .station_digests
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            digests.extend(d.clone());
        }
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
        *lock(&self.address) = Some(SocketAddr::new(host, addr.port()));
        *lock(&self.listen) = Some(addr);
        lock(&self.messages).outgoing = Some(sip::uac::Outgoing::new(
            SocketAddr::new(host, addr.port()),
            transaction::Timers::default(),
            {
                let mut seed = [0u8; 16];
                let _ = getrandom::fill(&mut seed);
                seed
            },
        ));
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
        self.apply_upstream();
    }

    /// Network Setting > SIP Server was saved (or Basic's VTO No., the
    /// user name with Server Type VTO): register there from now on, or
    /// (None) be the server.
    pub fn set_upstream(&self, wanted: Option<Wanted>) {
        *lock(&self.wanted) = wanted;
        self.apply_upstream();
    }

    fn apply_upstream(&self) {
        let now = self.clock.now();
        let Some(w) = lock(&self.wanted).clone() else {
            self.upstream.configure(None, now);
            return;
        };
        let Some(listen) = *lock(&self.listen) else {
            self.upstream
                .unavailable("The SIP port is off (--sip off): nothing to register from".into());
            return;
        };
        self.upstream.configure(
            Some(sip::client::Config {
                server: w.server,
                domain: w.domain,
                user: w.user,
                password: w.password,
                local: SocketAddr::new(local_toward(listen.ip(), w.server), listen.port()),
                expires: UPSTREAM_EXPIRES,
                timers: transaction::Timers::default(),
            }),
            now,
        );
    }

    /// Registering to another server: this VTO is not the SIP server.
    pub fn is_client(&self) -> bool {
        self.upstream.is_active()
    }

    /// The digest challenges offered from now on (SIP Server page).
    pub fn set_digest(&self, choice: app::model::sip_server::DigestChoice) {
        use app::model::sip_server::DigestChoice;
        let list: &[Algorithm] = match choice {
            DigestChoice::Md5 => &[Algorithm::Md5],
            DigestChoice::Sha256 => &[Algorithm::Sha256],
            DigestChoice::Both => &[Algorithm::Md5, Algorithm::Sha256],
        };
        lock(&self.registrar).set_algorithms(list);
    }

    /// How the registration to another server stands.
    pub fn upstream_status(&self) -> app::model::sip_server::Registration {
        self.upstream.shown()
    }

    /// Where other devices reach this SIP server, once it listens.
    pub fn address(&self) -> Option<SocketAddr> {
        *lock(&self.address)
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
            if let Some(sends) = self.upstream.on_response(&msg, source, now) {
                return sends;
            }
            if lock(&self.messages).on_response(&msg, source, now) {
                return Vec::new();
            }
            let out = match lock(&self.proxy).as_mut() {
                Some(p) => p.on_response(msg, &peer, now),
                None => Vec::new(),
            };
            return self.outs(out);
        };
        let client = self.upstream.is_active();
        // Registered to another server, every request is for this VTO (its
        // calls come with the door call capability; until then 480).
        let to_us = method == Method::Options
            && (client
                || match &msg.start {
                    StartLine::Request { uri, .. } => {
                        SipUri::parse(uri).map(|u| u.user.is_none()).unwrap_or(true)
                    }
                    StartLine::Response { .. } => false,
                });
        if client && method != Method::Register && !to_us {
            if method == Method::Ack {
                return Vec::new();
            }
            return back(vec![registrar::response(
                &msg,
                480,
                "Temporarily Unavailable",
                &[],
            )
            .to_bytes()]);
        }
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
                let stations = self.stations.read().unwrap_or_else(|p| p.into_inner());
                let centre = self.centre.read().unwrap_or_else(|p| p.into_inner());
                let devices = Devices {
                    bindings: reg.bindings(),
                    rooms: &rooms,
                    stations: &stations,
                    centre: &centre,
                    minute: (self.local_minute)(now),
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
                let to_centre = to == self.centre.read().unwrap_or_else(|p| p.into_inner()).number
                    || self
                        .stations
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&to)
                        .is_some_and(|(k, _)| *k == StationKind::Vts);
                let call_type = if to_centre {
                    CallType::CentreCall
                } else {
                    CallType::Intercom
                };
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
                            call_type,
                            from,
                            to,
                            room_no,
                            begin: at,
                            talk_ms: None,
                            end_state: EndState::Missed,
                        },
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
                let answered = end == proxy::CallEnd::Answered;
                lock(&self.log_queue).push(LogOp::Append {
                    call_id: call_id.clone(),
                    record: call.record.clone(),
                    answered,
                });
                if answered {
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
                let Some(answered) = call.answered_at else {
                    // A BYE before any answer: still ringing, keep it.
                    lock(&self.calls).insert(call_id, call);
                    return Ok(());
                };
                call.record.talk_ms = Some(u64::try_from(at - answered).unwrap_or(0));
                lock(&self.log_queue).push(LogOp::Update {
                    call_id,
                    record: call.record,
                });
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
        // (kind, number, its SIP users): rooms, then the VTS.
        let mut groups: Vec<(&str, String, Vec<String>)> = {
            let rooms = self.rooms.read().unwrap_or_else(|p| p.into_inner());
            let mut r: Vec<_> = rooms
                .iter()
                .map(|(room, users)| ("Room", room.clone(), users.clone()))
                .collect();
            r.sort_by(|a, b| (a.1.len(), &a.1).cmp(&(b.1.len(), &b.1)));
            r
        };
        // Then the VTO, then the VTS, each by number.
        let mut stations: Vec<(StationKind, String)> = self
            .stations
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(n, (k, _))| (*k, n.clone()))
            .collect();
        stations.sort_by(|a, b| (a.0.key(), a.1.len(), &a.1).cmp(&(b.0.key(), b.1.len(), &b.1)));
        groups.extend(
            stations
                .into_iter()
                .map(|(k, n)| (k.label(), n.clone(), vec![n])),
        );
        let mut out = Vec::new();
        for (kind, number, users) in groups {
            let before = out.len();
            for user in &users {
                let live = reg.bindings().contacts(user, now);
                let newest = live.iter().max_by_key(|b| b.registered_at);
                let (online, ip, at, ua) = match (newest, seen.get(user)) {
                    (Some(b), _) => (
                        true,
                        b.source
                            .parse::<SocketAddr>()
                            .map(|a| a.ip().to_string())
                            .unwrap_or_default(),
                        b.registered_at,
                        b.user_agent.clone(),
                    ),
                    (None, Some((ip, at, ua))) => (false, ip.clone(), *at, ua.clone()),
                    (None, None) => continue,
                };
                out.push(DeviceStatus {
                    number: user.clone(),
                    kind: kind.into(),
                    online,
                    ip,
                    last_registration: Some(at),
                    user_agent: ua,
                });
            }
            if out.len() == before {
                out.push(DeviceStatus {
                    number,
                    kind: kind.into(),
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
        // What happened in the last tick is shown too.
        self.flush();
        self.store()?
            .read(|r| r.newest_first(CALL_LOG, offset, limit))
    }

    fn register(&self, msg: &Message, source: SocketAddr, transport: &str, now: i64) -> Message {
        if self.upstream.is_active() {
            return registrar::response(
                msg,
                403,
                "Forbidden (this VTO is not the SIP server)",
                &[],
            );
        }
        // A VTO or VTS registers only from its IP Address.
        let account = msg
            .headers
            .get("To")
            .and_then(|t| sip::header::NameAddr::parse(t).ok())
            .and_then(|n| n.uri.user);
        if let Some(account) = account {
            let expected = self
                .stations
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&account)
                .copied();
            if let Some((kind, ip)) = expected.filter(|(_, ip)| *ip != source.ip()) {
                tracing::warn!(%account, %source, %ip, "SIP: a station registering from another address");
                let reason = format!("Forbidden (not the {}'s IP Address)", kind.label());
                return registrar::response(msg, 403, &reason, &[]);
            }
        }
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
                // Stored with the next tick (write-behind): one transaction
                // for many registrations, not one disk sync each.
                lock(&self.dirty).insert(account.clone());
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
        let mut sends = self.outs(out);
        sends.extend(self.upstream.tick(now));
        sends.extend(lock(&self.messages).on_timer(now));
        sends.append(&mut lock(&self.outbox));
        self.flush();
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
    stations: &'a Stations,
    centre: &'a Centre,
    /// The local minute of the day now (for the Call Centre Time).
    minute: u16,
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
        // The centre rings every VTS, within the Call Centre Time; a room
        // all its monitors; a monitor's or a VTS's own number only it.
        let users: Vec<&str> = if user == self.centre.number {
            if !self.centre.time.contains(self.minute) {
                return Err((480, "Outside Call Centre Time".into()));
            }
            self.stations
                .iter()
                .filter(|(_, (k, _))| *k == StationKind::Vts)
                .map(|(n, _)| n.as_str())
                .collect()
        } else if let Some(users) = self.rooms.get(user) {
            users.iter().map(String::as_str).collect()
        } else if self.stations.contains_key(user)
            || self.rooms.values().flatten().any(|u| u == user)
        {
            vec![user]
        } else {
            return Err((404, "Not Found".into()));
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
        let registered = self.live().find_map(|(_, b)| {
            let c = contact_uri(&b.contact)?;
            (c.host == uri.host && c.port.unwrap_or(5060) == uri.port.unwrap_or(5060))
                .then(|| peer_of(b))
                .flatten()
        });
        // A configured VTO or VTS at its IP Address (a door station that
        // stays in the path with Record-Route); no other address.
        registered.or_else(|| {
            let ip: std::net::IpAddr = uri.host.trim_matches(['[', ']']).parse().ok()?;
            self.stations
                .values()
                .any(|(_, at)| *at == ip)
                .then(|| Peer {
                    addr: SocketAddr::new(ip, uri.port.unwrap_or(5060)),
                    tcp: uri
                        .params
                        .get("transport")
                        .is_some_and(|t| t.eq_ignore_ascii_case("tcp")),
                })
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
