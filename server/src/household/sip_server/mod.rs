//! This device as SIP server (manual 6.2): the `sip` crate's dispatcher
//! (registrar, proxy, transactions, calls, the REGISTER client) on UDP and
//! TCP sockets, its accounts from Room No. Management, its registrations
//! and call log kept in redb.
//!
//! - `transport.rs`: the socket loops (thin: bytes in, bytes out to where
//!   they are told).
//! - here: the dispatcher under one lock, fed the time; its events become
//!   storage (write-behind, one transaction per tick) and log lines.

mod messages;
#[cfg(test)]
mod tests;
pub mod transport;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use sip::{
    bindings::{Binding, Bindings},
    client::{self, Status},
    digest::Algorithm,
    dispatch::{self, CallRow, Directory, Dispatcher, Event, Output, Station},
    proxy::CallEnd,
    transaction,
};

use app::model::{
    call_log::{CallRecord, CallType, EndState, MAX_RECORDS},
    settings::{BasicSettings, DailyPeriod},
    station::StationKind,
    time::UnixMillis,
};

use crate::{
    clock::{Clock, Now},
    metrics::{Dropped, Way},
    store::{
        tables::{
            station_table, BindingRecord, RoomRecord, SipServerRecord, StationRecord, CALL_LOG,
            SIP_BINDINGS, SIP_ROOMS,
        },
        Read, Store, StoreError,
    },
};

pub use dispatch::Send;

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

/// The device's local minute of the day at a UTC instant (its time zone
/// and summer time, from System > General): the Call Centre Time is local.
pub type LocalMinute = Arc<dyn Fn(UnixMillis) -> u16 + std::marker::Send + Sync>;

/// The local minute of the day as `time` shows it now. Held weakly: the
/// time service holds the database, which must close at shutdown even if
/// a SIP task still holds this service a moment longer.
pub fn local_minute_of(time: &Arc<crate::system::time::TimeService>) -> LocalMinute {
    let time = Arc::downgrade(time);
    Arc::new(move |utc| {
        let local = time.upgrade().map_or(utc.0, |t| t.display().local(utc));
        u16::try_from(local.rem_euclid(86_400_000) / 60_000).unwrap_or(0)
    })
}

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

/// The accounts as stored, by where they come from: the dispatcher's
/// directory is their union.
#[derive(Default)]
struct Accounts {
    room_digests: Digests,
    rooms: HashMap<String, Vec<String>>,
    station_digests: Vec<(StationKind, Digests)>,
    stations: Vec<(StationKind, Vec<StationRecord>)>,
}

impl Accounts {
    fn directory(&self) -> Directory {
        let mut digests = self.room_digests.clone();
        for (_, d) in &self.station_digests {
            digests.extend(d.clone());
        }
        let stations = self
            .stations
            .iter()
            .flat_map(|(kind, list)| {
                let kind = station(*kind);
                list.iter().filter_map(move |v| {
                    Some((v.station.number.clone(), (kind, v.station.ip.parse().ok()?)))
                })
            })
            .collect();
        Directory {
            digests,
            rooms: self.rooms.clone(),
            stations,
        }
    }
}

fn station(kind: StationKind) -> Station {
    match kind {
        StationKind::Vto => Station::Vto,
        StationKind::Vts => Station::Vts,
    }
}

fn kind_of(s: Station) -> StationKind {
    match s {
        Station::Vto => StationKind::Vto,
        Station::Vts => StationKind::Vts,
    }
}

fn centre_of(number: &str, time: DailyPeriod) -> dispatch::Centre {
    dispatch::Centre {
        number: number.to_string(),
        from: time.start,
        to: time.end,
    }
}

fn record_of(row: CallRow, now: Now) -> CallRecord {
    CallRecord {
        call_type: if row.centre {
            CallType::CentreCall
        } else {
            CallType::Intercom
        },
        from: row.from,
        to: row.to,
        room_no: row.room_no,
        begin: now.wall_of(row.begin),
        talk_ms: row.talk_ms,
        end_state: match row.end {
            CallEnd::Answered => EndState::Answered,
            CallEnd::Missed => EndState::Missed,
            CallEnd::Rejected => EndState::Rejected,
            CallEnd::Cancelled => EndState::Cancelled,
        },
        snapshot: None,
    }
}

pub struct SipService {
    /// `None` once closed (shutdown): tasks that linger a moment must not
    /// keep the database open.
    store: Mutex<Option<Arc<Store>>>,
    /// IP Permissions apply to SIP as to the web.
    ip_filter: Arc<crate::network::ip_filter::IpFilter>,
    clock: Arc<dyn Clock>,
    /// The start of the dispatcher's monotonic clock.
    started: tokio::time::Instant,
    local_minute: LocalMinute,
    /// All SIP routing state, under one lock.
    core: Mutex<Dispatcher>,
    accounts: Mutex<Accounts>,
    /// Where the sockets are, as others reach them (a wildcard replaced by
    /// the device's first address).
    address: Mutex<Option<SocketAddr>>,
    /// The address the sockets are bound to, as bound (a wildcard stays).
    listen: Mutex<Option<SocketAddr>>,
    /// The server to register to, when this VTO is not the SIP server.
    wanted: Mutex<Option<Wanted>>,
    /// Why no REGISTER client runs although one is wanted.
    unavailable: Mutex<Option<String>>,
    /// SIP user -> (IP, time, User-Agent) of its last registration since
    /// start (Status keeps showing a monitor that went offline).
    last_seen: Mutex<HashMap<String, (String, UnixMillis, String)>>,
    /// Accounts whose registrations changed since the last flush.
    dirty: Mutex<std::collections::HashSet<String>>,
    /// Call log changes since the last flush.
    log_queue: Mutex<Vec<LogOp>>,
    flushing: Mutex<()>,
    /// Call-ID -> the call log row of an answered call still talking.
    talking_rows: Mutex<HashMap<String, u64>>,
    /// Publish Information's MESSAGEs waiting for their outcome.
    messages: Mutex<messages::Waiting>,
    /// What the device sends on its own, sent on the next tick.
    outbox: Mutex<Vec<Send>>,
    /// Wakes the ticker at once (the door's INVITEs must not wait for it).
    wake: tokio::sync::Notify,
    /// Where the events of the device's own calls go (the intercom).
    door_events: Mutex<Option<DoorEvents>>,
    /// Ticks done: the service manager's watchdog sees the SIP loop live.
    ticks: std::sync::atomic::AtomicU64,
}

/// The events of the device's own calls, with their Call-IDs.
/// Bounded ([`DOOR_EVENTS`]): beyond, an event is dropped and logged
/// rather than held in memory (a monitor flooding INFOs).
pub type DoorEvents = tokio::sync::mpsc::Sender<(String, sip::call::Event)>;
/// Door call events waiting for the Intercom service at most.
pub const DOOR_EVENTS: usize = 256;

/// Network Setting > SIP Server when this VTO is not the server: where to
/// register and as whom. No `Debug`: it holds the password.
#[derive(Clone, PartialEq, Eq)]
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

fn to_record(b: &Binding, now: Now) -> BindingRecord {
    BindingRecord {
        contact: b.contact.clone(),
        expires_at: now.wall_of(b.expires_at),
        source: b.source.clone(),
        transport: b.transport.clone(),
        call_id: b.call_id.clone(),
        cseq: b.cseq,
        user_agent: b.user_agent.clone(),
        registered_at: now.wall_of(b.registered_at),
    }
}

fn from_record(now: Now) -> impl Fn(BindingRecord) -> Binding {
    move |r| Binding {
        contact: r.contact,
        expires_at: now.mono_of(r.expires_at),
        source: r.source,
        transport: r.transport,
        call_id: r.call_id,
        cseq: r.cseq,
        user_agent: r.user_agent,
        registered_at: now.mono_of(r.registered_at),
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

/// The stations of a kind, from the store.
pub fn stations_of(r: &impl Read, kind: StationKind) -> Result<Vec<StationRecord>, StoreError> {
    Ok(r.all::<StationRecord>(station_table(kind))?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

impl SipService {
    /// Loads the accounts and the registrations that have not expired.
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
        let rooms: Vec<RoomRecord> = rooms.into_iter().map(|(_, r)| r).collect();
        let started = crate::clock::monotonic();
        let now = Now::read(&*clock, started);
        let mut bindings = Bindings::from_map(
            stored
                .into_iter()
                .map(|(user, list)| (user, list.into_iter().map(from_record(now)).collect()))
                .collect(),
        );
        bindings.expire(now.mono);
        let accounts = Accounts {
            room_digests: digests_of(rooms.iter().flat_map(|r| r.digests.iter())),
            rooms: users_of(&rooms),
            station_digests: vec![
                (
                    StationKind::Vto,
                    digests_of(vto.iter().flat_map(|v| v.digests.iter())),
                ),
                (
                    StationKind::Vts,
                    digests_of(vts.iter().flat_map(|v| v.digests.iter())),
                ),
            ],
            stations: vec![(StationKind::Vto, vto), (StationKind::Vts, vts)],
        };
        let mut seed = [0u8; 16];
        // getrandom does not fail on Linux; a zero seed still works.
        let _ = getrandom::fill(&mut seed);
        let mut core = Dispatcher::new(
            accounts.directory(),
            centre_of(&basic.centre_call_no, basic.call_centre_time),
            bindings,
            seed,
        );
        core.set_vto_no(&basic.vto_no);
        let service = Arc::new(Self {
            store: Mutex::new(Some(store)),
            ip_filter,
            clock,
            started,
            local_minute,
            core: Mutex::new(core),
            accounts: Mutex::new(accounts),
            address: Mutex::new(None),
            listen: Mutex::new(None),
            wanted: Mutex::new(wanted),
            unavailable: Mutex::new(None),
            last_seen: Mutex::new(HashMap::new()),
            dirty: Mutex::new(Default::default()),
            log_queue: Mutex::new(Vec::new()),
            flushing: Mutex::new(()),
            ticks: std::sync::atomic::AtomicU64::new(0),
            talking_rows: Mutex::new(HashMap::new()),
            messages: Mutex::new(messages::Waiting::default()),
            outbox: Mutex::new(Vec::new()),
            wake: tokio::sync::Notify::new(),
            door_events: Mutex::new(None),
        });
        service.set_digest(sip_server.settings.digest);
        Ok(service)
    }

    /// The Centre Call No. and Call Centre Time calls follow now.
    #[cfg(test)]
    pub fn centre(&self) -> dispatch::Centre {
        lock(&self.core).centre().clone()
    }

    /// Local Setting > Basic was saved: calls to the centre and to the
    /// door (the VTO No.) follow it.
    pub fn set_numbers(&self, vto_no: &str, centre_no: &str, time: DailyPeriod) {
        let mut core = lock(&self.core);
        core.set_centre(centre_of(centre_no, time));
        core.set_vto_no(vto_no);
    }

    fn now(&self) -> Now {
        Now::read(&*self.clock, self.started)
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
        let now = self.now();
        let lists: Vec<(String, Vec<BindingRecord>)> = {
            let core = lock(&self.core);
            accounts
                .into_iter()
                .map(|a| {
                    let records = core
                        .bindings()
                        .contacts(&a, now.mono)
                        .into_iter()
                        .map(|b| to_record(b, now))
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
                            crate::metrics::METRICS
                                .call(record.call_type.label(), record.end_state.label());
                            if *answered {
                                if rows.len() >= dispatch::MAX_OPEN_CALLS {
                                    // Calls whose BYE never came.
                                    rows.clear();
                                }
                                rows.insert(call_id.clone(), seq);
                            }
                        }
                        LogOp::Update { call_id, record } => {
                            if let Some(seq) = rows.remove(call_id) {
                                if let Some(ms) = record.talk_ms {
                                    crate::metrics::METRICS.talked(ms);
                                }
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
        let directory = {
            let mut a = lock(&self.accounts);
            a.room_digests = digests_of(rooms.iter().flat_map(|r| r.digests.iter()));
            a.rooms = users_of(rooms);
            a.directory()
        };
        self.accounts_changed(directory)
    }

    /// VTO No. or VTS Management changed: from now on these.
    pub fn set_stations(
        &self,
        kind: StationKind,
        list: &[StationRecord],
    ) -> Result<(), StoreError> {
        let directory = {
            let mut a = lock(&self.accounts);
            a.station_digests.retain(|(k, _)| *k != kind);
            a.station_digests
                .push((kind, digests_of(list.iter().flat_map(|v| v.digests.iter()))));
            a.stations.retain(|(k, _)| *k != kind);
            a.stations.push((kind, list.to_vec()));
            a.directory()
        };
        self.accounts_changed(directory)
    }

    /// Registrations of users that no longer exist are dropped, also from
    /// the store.
    fn accounts_changed(&self, directory: Directory) -> Result<(), StoreError> {
        let gone = lock(&self.core).set_directory(directory);
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

    /// How many accounts are registered now.
    pub fn registered(&self) -> usize {
        let now = self.now().mono;
        let core = lock(&self.core);
        let bindings = core.bindings();
        bindings
            .as_map()
            .keys()
            .filter(|u| !bindings.contacts(u, now).is_empty())
            .count()
    }

    /// How many of `users` are registered now.
    pub fn online(&self, users: &[String]) -> usize {
        let now = self.now().mono;
        let core = lock(&self.core);
        users
            .iter()
            .filter(|u| !core.bindings().contacts(u, now).is_empty())
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
        lock(&self.core).start(dispatch::Local {
            host,
            port: addr.port(),
            all: local,
        });
        self.apply_upstream();
    }

    /// Network Setting > SIP Server was saved (or Basic's VTO No., the
    /// user name with Server Type VTO): register there from now on, or
    /// (None) be the server.
    pub fn set_upstream(&self, wanted: Option<Wanted>) {
        {
            let mut current = lock(&self.wanted);
            // Running as asked already (the apply at start, an import that
            // left it alone): no needless unregister and register again.
            if *current == wanted {
                return;
            }
            *current = wanted;
        }
        self.apply_upstream();
    }

    fn apply_upstream(&self) {
        let now = self.now();
        let wanted = lock(&self.wanted).clone();
        let listen = *lock(&self.listen);
        let out = match (wanted, listen) {
            (None, _) => {
                *lock(&self.unavailable) = None;
                lock(&self.core).set_upstream(None, now.mono)
            }
            (Some(_), None) => {
                *lock(&self.unavailable) =
                    Some("The SIP port is off (--sip off): nothing to register from".into());
                lock(&self.core).set_upstream_unavailable(now.mono)
            }
            (Some(w), Some(listen)) => {
                *lock(&self.unavailable) = None;
                tracing::info!(server = %w.server, user = %w.user, "SIP: registering to another server");
                lock(&self.core).set_upstream(
                    Some(client::Config {
                        server: w.server,
                        domain: w.domain,
                        user: w.user,
                        password: w.password,
                        local: SocketAddr::new(local_toward(listen.ip(), w.server), listen.port()),
                        expires: UPSTREAM_EXPIRES,
                        timers: transaction::Timers::default(),
                    }),
                    now.mono,
                )
            }
        };
        let sends = self.events(out, now);
        lock(&self.outbox).extend(sends);
    }

    /// Registering to another server: this VTO is not the SIP server.
    pub fn is_client(&self) -> bool {
        lock(&self.core).is_client()
    }

    /// The digest challenges offered from now on (SIP Server page).
    pub fn set_digest(&self, choice: app::model::sip_server::DigestChoice) {
        use app::model::sip_server::DigestChoice;
        let list: &[Algorithm] = match choice {
            DigestChoice::Md5 => &[Algorithm::Md5],
            DigestChoice::Sha256 => &[Algorithm::Sha256],
            DigestChoice::Both => &[Algorithm::Md5, Algorithm::Sha256],
        };
        lock(&self.core).set_algorithms(list);
    }

    /// How the registration to another server stands.
    pub fn upstream_status(&self) -> app::model::sip_server::Registration {
        use app::model::sip_server::Registration as Shown;
        if let Some(reason) = lock(&self.unavailable).clone() {
            return Shown::Failed {
                reason,
                retry_at: UnixMillis(0),
            };
        }
        let now = self.now();
        match lock(&self.core).upstream_status().cloned() {
            None | Some(Status::Stopped) => Shown::NotUsed,
            Some(Status::Registering) => Shown::Registering,
            Some(Status::Registered { expires_at: t }) => Shown::Registered {
                until: now.wall_of(t),
            },
            Some(Status::Failed { reason, retry_at }) => {
                let retry_at = now.wall_of(retry_at);
                Shown::Failed { reason, retry_at }
            }
        }
    }

    /// Where other devices reach this SIP server, once it listens.
    pub fn address(&self) -> Option<SocketAddr> {
        *lock(&self.address)
    }

    /// Whether IP Permissions let `ip` in.
    pub fn allows(&self, ip: std::net::IpAddr) -> bool {
        self.ip_filter.allows(ip.to_canonical())
    }

    /// One message in from `source`: what to send where.
    pub fn handle(
        &self,
        bytes: &[u8],
        source: SocketAddr,
        transport: dispatch::Transport,
    ) -> Vec<Send> {
        let m = &crate::metrics::METRICS;
        m.sip_message(Way::In, transport.reliable());
        if !self.ip_filter.allows(source.ip()) {
            // As at the web listeners: no answer at all.
            m.sip_dropped(Dropped::Refused);
            return Vec::new();
        }
        if lock(&self.store).is_none() {
            return Vec::new();
        }
        let now = self.now();
        let minute = (self.local_minute)(now.wall);
        let out = lock(&self.core).handle(bytes, source, transport, now.mono, minute);
        if out.malformed {
            m.sip_dropped(Dropped::Malformed);
        }
        self.events(out, now)
    }

    /// The dispatcher's events into storage (behind, with the next flush)
    /// and log lines; its sends go on.
    fn events(&self, out: Output, now: Now) -> Vec<Send> {
        for ev in out.events {
            match ev {
                Event::Registered {
                    account,
                    source,
                    contacts,
                } => {
                    tracing::info!(%account, contacts = contacts.len(), %source, "SIP: registered");
                    if let Some(b) = contacts.iter().max_by_key(|b| b.registered_at) {
                        let seen = (
                            source.ip().to_string(),
                            now.wall_of(b.registered_at),
                            b.user_agent.clone(),
                        );
                        lock(&self.last_seen).insert(account.clone(), seen);
                    }
                    lock(&self.dirty).insert(account);
                }
                Event::RegisterRefused { source, reason } => {
                    tracing::warn!(%source, %reason, "SIP: REGISTER refused")
                }
                Event::StationElsewhere {
                    account,
                    source,
                    expected,
                } => {
                    tracing::warn!(%account, %source, ip = %expected, "SIP: a station registering from another address")
                }
                Event::CallStarted { call_id, from, to } => {
                    tracing::info!(%call_id, %from, %to, "SIP: call")
                }
                Event::CallSettled { call_id, row, code } => {
                    tracing::info!(%call_id, end = ?row.end, code, "SIP: call settled");
                    let answered = row.end == CallEnd::Answered;
                    lock(&self.log_queue).push(LogOp::Append {
                        call_id,
                        record: record_of(row, now),
                        answered,
                    });
                }
                Event::CallEnded { call_id, row } => {
                    tracing::info!(%call_id, "SIP: call ended");
                    lock(&self.log_queue).push(LogOp::Update {
                        call_id,
                        record: record_of(row, now),
                    });
                }
                Event::MessageOutcome { id, outcome } => lock(&self.messages).ended(id, outcome),
                Event::Upstream(Status::Registered { .. }) => {
                    tracing::info!("SIP: registered to the server")
                }
                Event::Upstream(Status::Failed { reason, .. }) => {
                    tracing::warn!(%reason, "SIP: registration to the server failed")
                }
                Event::Upstream(_) => {}
                Event::Door { call_id, event } => {
                    tracing::debug!(%call_id, ?event, "SIP: door call");
                    if let Some(tx) = lock(&self.door_events).as_ref() {
                        if let Err(tokio::sync::mpsc::error::TrySendError::Full((id, e))) =
                            tx.try_send((call_id, event))
                        {
                            tracing::warn!(call_id = %id, event = ?e, "SIP: door call event dropped: {DOOR_EVENTS} waiting");
                        }
                    }
                }
                Event::Expired(gone) => {
                    tracing::info!(users = ?gone, "SIP: registrations expired");
                    // Written with the next flush, in its one transaction.
                    lock(&self.dirty).extend(gone);
                }
            }
        }
        out.sends
    }

    /// Household Setting > Status: each monitor seen since start (online
    /// or not), and each room none of whose monitors was seen.
    pub fn status(&self) -> Vec<app::model::sip_status::DeviceStatus> {
        use app::model::sip_status::DeviceStatus;
        let now = self.now();
        let core = lock(&self.core);
        let seen = lock(&self.last_seen);
        // (kind, number, its SIP users): rooms, then the VTS.
        let mut groups: Vec<(&str, String, Vec<String>)> = {
            let mut r: Vec<_> = core
                .directory()
                .rooms
                .iter()
                .map(|(room, users)| ("Room", room.clone(), users.clone()))
                .collect();
            r.sort_by(|a, b| (a.1.len(), &a.1).cmp(&(b.1.len(), &b.1)));
            r
        };
        // Then the VTO, then the VTS, each by number.
        let mut stations: Vec<(StationKind, String)> = core
            .directory()
            .stations
            .iter()
            .map(|(n, (k, _))| (kind_of(*k), n.clone()))
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
                let live = core.bindings().contacts(user, now.mono);
                let newest = live.iter().max_by_key(|b| b.registered_at);
                let (online, ip, at, ua) = match (newest, seen.get(user)) {
                    (Some(b), _) => (
                        true,
                        b.source
                            .parse::<SocketAddr>()
                            .map(|a| a.ip().to_string())
                            .unwrap_or_default(),
                        now.wall_of(b.registered_at),
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

    /// The events of the device's own calls go to `tx` from now on.
    pub fn set_door_events(&self, tx: DoorEvents) {
        *lock(&self.door_events) = Some(tx);
    }

    /// Starts one of the device's own calls (see [`Dispatcher::door_call`]):
    /// its Call-ID, or the refusal's code and reason. Its INVITEs go out
    /// at once.
    pub fn door_call(&self, setup: dispatch::DoorCall) -> Result<String, (u16, String)> {
        if lock(&self.store).is_none() {
            return Err((503, "The device is stopping".into()));
        }
        let now = self.now();
        let minute = (self.local_minute)(now.wall);
        let (call_id, out) = lock(&self.core).door_call(setup, now.mono, minute)?;
        self.send_soon(out, now);
        Ok(call_id)
    }

    /// The monitor (its SIP user) where a door call's branch rang.
    pub fn door_callee(&self, call_id: &str, branch: usize) -> Option<String> {
        lock(&self.core).door_callee(call_id, branch)
    }

    /// Where a door call's branch may have its media (None: anywhere,
    /// through another server).
    pub fn door_media_ip(&self, call_id: &str, branch: usize) -> Option<std::net::IpAddr> {
        lock(&self.core).door_media_ip(call_id, branch)
    }

    /// The room a SIP user's monitor belongs to (`9901#1` -> `9901`).
    pub fn room_of(&self, user: &str) -> Option<String> {
        lock(&self.core)
            .directory()
            .room_of(user)
            .map(str::to_string)
    }

    /// Takes a call made to the door with the SDP `answer`; false when
    /// the call no longer waits for it (the caller gave up).
    pub fn door_accept(&self, call_id: &str, answer: bytes::Bytes) -> bool {
        let now = self.now();
        let out = lock(&self.core).door_accept(call_id, answer, now.mono);
        let accepted = out.is_some();
        self.send_soon(out.unwrap_or_default(), now);
        accepted
    }

    /// Takes one of the door's ringing calls for a browser (the monitors
    /// are cancelled; with `over`, Take over, the answering monitor is
    /// hung up too); false when it cannot be taken.
    pub fn door_take(&self, call_id: &str, over: bool) -> bool {
        let now = self.now();
        let out = lock(&self.core).door_take(call_id, now.mono, over);
        let taken = out.is_some();
        self.send_soon(out.unwrap_or_default(), now);
        taken
    }

    /// Refuses a call made to the door.
    pub fn door_refuse(&self, call_id: &str, code: u16, reason: &str) {
        let now = self.now();
        let out = lock(&self.core).door_refuse(call_id, code, reason, now.mono);
        self.send_soon(out, now);
    }

    /// Hangs up one of the device's own calls.
    pub fn door_hang_up(&self, call_id: &str) {
        let now = self.now();
        let out = lock(&self.core).door_hang_up(call_id, now.mono);
        self.send_soon(out, now);
    }

    fn send_soon(&self, out: Output, now: Now) {
        let sends = self.events(out, now);
        lock(&self.outbox).extend(sends);
        self.wake.notify_one();
    }

    /// Waits until something is to be sent before the next tick.
    pub async fn woken(&self) {
        self.wake.notified().await
    }

    /// The address to put in a door call's SDP: the one the SIP server
    /// is reached at, or the one toward the server this VTO registers to.
    pub fn media_ip(&self) -> Option<std::net::IpAddr> {
        let listen = (*lock(&self.listen))?;
        match lock(&self.wanted).as_ref() {
            Some(w) => Some(local_toward(listen.ip(), w.server)),
            None => self.address().map(|a| a.ip()),
        }
    }

    /// A call of the device's own, settled: a row of the call log (written
    /// with the next flush).
    pub fn log_call(&self, record: CallRecord) {
        lock(&self.log_queue).push(LogOp::Append {
            call_id: String::new(),
            record,
            answered: false,
        });
    }

    /// Runs the timers (transactions, the ring timeout, the REGISTER
    /// client, MESSAGEs), drops expired registrations, writes what changed.
    pub fn tick(&self) -> Vec<Send> {
        let now = self.now();
        let out = lock(&self.core).tick(now.mono);
        let mut sends = self.events(out, now);
        sends.append(&mut lock(&self.outbox));
        self.flush();
        self.ticks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        sends
    }

    /// How many ticks have run: it stops growing when the SIP loop hangs.
    pub fn ticks(&self) -> u64 {
        self.ticks.load(std::sync::atomic::Ordering::Relaxed)
    }
}
