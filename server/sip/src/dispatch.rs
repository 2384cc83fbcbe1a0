//! The device's SIP routing as one pure state machine: a message's bytes,
//! where they came from, over what and when go in; what to send where and
//! what happened (registrations, calls, answers) come out. It owns the
//! registrar, the proxy, the server transactions, the open calls, the
//! REGISTER client (when this VTO is not the server) and the MESSAGEs it
//! sends. The server turns its events into storage and log rows and moves
//! the bytes; nothing here reads a clock or a socket.
//!
//! Rules of this device on top of the parts':
//! - REGISTER goes to the registrar; a VTO or VTS registers only from its
//!   configured address;
//! - OPTIONS to the device itself (no user) is answered here;
//! - everything else goes through the proxy, to registered contacts and
//!   configured stations only;
//! - registered to another server, every other request gets 480 (REGISTER
//!   403): this VTO is not the server then;
//! - a response counts only from where its request went.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
};

use bytes::Bytes;

use crate::{
    bindings::{Binding, Bindings},
    call::{self, Call},
    client::{self, Registration},
    digest::Algorithm,
    header::{NameAddr, SipUri},
    incoming::{self, Incoming},
    message::{self, Message, Method, StartLine},
    nonce::derived_hex,
    proxy::{self, CallEnd, CallEvent, Locator, Out, Peer, Proxy, Target},
    registrar::{self, response, Outcome, Registrar},
    time::Mono,
    transaction::{self, Action, Timers},
    uac::{self, Outgoing},
};

/// The methods this device takes, for every Allow header it writes.
pub const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, INFO, NOTIFY, SUBSCRIBE, REGISTER";

/// Server transactions remembered at once; past it repeats are answered
/// anew (a flood must not grow memory).
pub const MAX_TRANSACTIONS: usize = 20_000;

/// How long a call rings before the proxy gives up (the manual names no
/// setting for it; Dahua monitors stop ringing after about a minute).
pub const RING_TIMEOUT_MS: i64 = 60_000;

/// Calls followed at once; beyond it the oldest is forgotten (its row
/// stays, without a talk time).
pub const MAX_OPEN_CALLS: usize = 1000;

/// A call whose BYE never came is forgotten after this long.
pub const MAX_TALK_MS: i64 = 12 * 3600 * 1000;

/// The device's own calls (a visitor at the door) at once: each holds RTP
/// ports and a camera stream.
pub const MAX_DOOR_CALLS: usize = 4;
/// Door calls kept at once, ended ones included (a few KiB each; an ended
/// one stays for its BYE's Timer K, 5 s).
const MAX_KEPT_DOOR_CALLS: usize = 256;

/// How long a stopped REGISTER client still answers a challenge to its
/// un-REGISTER.
const STOPPING_MS: i64 = 5_000;

/// What a message came over or goes over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
    Ws,
    Wss,
}

impl Transport {
    /// Whether the transport repeats for us (no retransmission timers).
    pub fn reliable(self) -> bool {
        self != Transport::Udp
    }

    /// As written in a Via and kept in a binding.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    fn of(peer: &Peer) -> Self {
        if peer.tcp {
            Transport::Tcp
        } else {
            Transport::Udp
        }
    }
}

/// These bytes to this address over this transport.
pub type Send = (Transport, SocketAddr, Vec<u8>);

/// A kind of station.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Station {
    Vto,
    Vts,
}

/// Who the device knows: every account's HA1s, the rooms' monitors, the
/// stations and the addresses they must register from.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// SIP user -> HA1 (MD5, SHA-256).
    pub digests: HashMap<String, (String, String)>,
    /// Room number -> the SIP users of its monitors.
    pub rooms: HashMap<String, Vec<String>>,
    /// Station number -> its kind and its IP Address.
    pub stations: HashMap<String, (Station, IpAddr)>,
}

impl Directory {
    /// The room a SIP user belongs to (`9901#1` -> `9901`).
    pub fn room_of(&self, user: &str) -> Option<&str> {
        self.rooms
            .iter()
            .find(|(room, users)| *room == user || users.iter().any(|u| u == user))
            .map(|(room, _)| room.as_str())
    }
}

/// The Centre Call No. and the Call Centre Time, as local minutes of the
/// day (inclusive; `from > to` spans midnight).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Centre {
    pub number: String,
    pub from: u16,
    pub to: u16,
}

impl Centre {
    fn open(&self, minute: u16) -> bool {
        if self.from <= self.to {
            (self.from..=self.to).contains(&minute)
        } else {
            minute >= self.from || minute <= self.to
        }
    }
}

/// A call log row as the dispatcher knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRow {
    /// To the centre (or a VTS) rather than an intercom call.
    pub centre: bool,
    pub from: String,
    pub to: String,
    pub room_no: String,
    pub begin: Mono,
    pub talk_ms: Option<u64>,
    pub end: CallEnd,
}

/// What happened, for storage and the logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `account`'s contacts now (none: unregistered).
    Registered {
        account: String,
        source: SocketAddr,
        contacts: Vec<Binding>,
    },
    RegisterRefused {
        source: SocketAddr,
        reason: String,
    },
    /// A station registering from another address than its own.
    StationElsewhere {
        account: String,
        source: SocketAddr,
        expected: IpAddr,
    },
    CallStarted {
        call_id: String,
        from: String,
        to: String,
    },
    /// A call got its final answer; an answered one's row is rewritten
    /// with its talk time at its end.
    CallSettled {
        call_id: String,
        row: CallRow,
        code: u16,
    },
    /// An answered call ended: its row with the talk time.
    CallEnded {
        call_id: String,
        row: CallRow,
    },
    /// One of our MESSAGEs ended.
    MessageOutcome {
        id: u64,
        outcome: uac::Outcome,
    },
    /// The REGISTER client's status changed.
    Upstream(client::Status),
    /// These accounts' registrations expired.
    Expired(Vec<String>),
    /// What happened in one of the device's own calls.
    Door {
        call_id: String,
        event: call::Event,
    },
}

/// One of the device's own calls, as asked: who it rings, as whom, with
/// what SDP offer.
#[derive(Clone, Debug)]
pub struct DoorCall {
    /// A room number, a monitor's or a station's own number, or the
    /// Centre Call No.
    pub callee: String,
    /// Our SIP user when this VTO is the server (the VTO No.).
    pub user: String,
    pub offer: Bytes,
    pub ring_timeout: i64,
    pub max_talk: i64,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub sends: Vec<Send>,
    pub events: Vec<Event>,
    /// The bytes were no SIP message: dropped unanswered.
    pub malformed: bool,
}

impl Output {
    fn send(&mut self, to: &Peer, transport: Transport, bytes: Vec<u8>) {
        self.sends.push((transport, to.addr, bytes));
    }
}

/// Where the sockets are, as others reach them.
#[derive(Clone, Debug)]
pub struct Local {
    /// The address written in Via and Record-Route.
    pub host: IpAddr,
    pub port: u16,
    /// Every address of this device (to recognise our own Route entries).
    pub all: Vec<IpAddr>,
}

struct OpenCall {
    row: CallRow,
    answered_at: Option<Mono>,
}

struct Upstream {
    reg: Registration,
    server: SocketAddr,
    /// As whom and through where the device's own calls go.
    config: client::Config,
}

pub struct Dispatcher {
    registrar: Registrar,
    directory: Directory,
    centre: Centre,
    proxy: Option<Proxy>,
    outgoing: Option<Outgoing>,
    transactions: HashMap<String, transaction::Server>,
    calls: HashMap<String, OpenCall>,
    upstream: Option<Upstream>,
    stopping: Vec<(Upstream, Mono)>,
    /// A client is wanted but cannot run: still not the server.
    client_wanted: bool,
    /// Our address once the sockets are bound.
    local: Option<SocketAddr>,
    /// The device's own calls, by Call-ID: those it makes and those made
    /// to it.
    door_calls: HashMap<String, DoorLeg>,
    /// This device's number (the VTO No.): an INVITE to it from a monitor
    /// is a call to the door ("Monitor").
    vto_no: String,
    seed: [u8; 16],
    counter: u64,
}

impl Dispatcher {
    /// `seed`: 16 random bytes, whence nonces and branch ids.
    pub fn new(directory: Directory, centre: Centre, bindings: Bindings, seed: [u8; 16]) -> Self {
        let mut d = Self {
            registrar: Registrar::new(
                registrar::DEFAULT_REALM,
                concat!("vto/", env!("CARGO_PKG_VERSION")),
                bindings,
            ),
            directory,
            centre,
            proxy: None,
            outgoing: None,
            transactions: HashMap::new(),
            calls: HashMap::new(),
            upstream: None,
            stopping: Vec::new(),
            client_wanted: false,
            local: None,
            door_calls: HashMap::new(),
            vto_no: String::new(),
            seed,
            counter: 0,
        };
        d.trust();
        d
    }

    /// The registrar never blocks the stations' IP Addresses nor the
    /// upstream server's (a forged source must not lock them out).
    fn trust(&mut self) {
        let stations = self.directory.stations.values().map(|(_, ip)| *ip);
        let upstream = self.upstream.as_ref().map(|u| u.server.ip());
        let list: Vec<IpAddr> = stations.chain(upstream).collect();
        self.registrar.set_trusted(list);
    }

    fn random(&mut self, what: &str) -> [u8; 16] {
        self.counter += 1;
        derived(&self.seed, what, self.counter)
    }

    /// The sockets are bound: the proxy and the MESSAGE sender start.
    pub fn start(&mut self, local: Local) {
        let random = self.random("proxy");
        let seed = self.random("messages");
        self.local = Some(SocketAddr::new(local.host, local.port));
        self.outgoing = Some(Outgoing::new(
            SocketAddr::new(local.host, local.port),
            Timers::default(),
            seed,
        ));
        self.proxy = Some(Proxy::new(
            proxy::Config {
                host: local.host,
                port: local.port,
                local: local.all,
                ring_timeout: RING_TIMEOUT_MS,
                timers: Timers::default(),
            },
            random,
        ));
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn centre(&self) -> &Centre {
        &self.centre
    }

    pub fn set_centre(&mut self, centre: Centre) {
        self.centre = centre;
    }

    /// This device's number (the VTO No.), which monitors call to watch
    /// the door.
    pub fn set_vto_no(&mut self, number: &str) {
        self.vto_no = number.trim().to_string();
    }

    pub fn bindings(&self) -> &Bindings {
        self.registrar.bindings()
    }

    /// The digest challenges offered from now on.
    pub fn set_algorithms(&mut self, list: &[Algorithm]) {
        self.registrar.set_algorithms(list);
    }

    /// The accounts changed: from now on these. Returns the accounts whose
    /// registrations were dropped (their users no longer exist).
    pub fn set_directory(&mut self, directory: Directory) -> Vec<String> {
        let mut map = self.registrar.bindings().as_map().clone();
        let gone: Vec<String> = map
            .keys()
            .filter(|u| !directory.digests.contains_key(*u))
            .cloned()
            .collect();
        for u in &gone {
            map.remove(u);
        }
        *self.registrar.bindings_mut() = Bindings::from_map(map);
        self.directory = directory;
        self.trust();
        gone
    }

    /// Register to another server from now on (None: be the server). The
    /// old client un-registers.
    pub fn set_upstream(&mut self, config: Option<client::Config>, now: Mono) -> Output {
        let mut out = Output::default();
        if let Some(mut old) = self.upstream.take() {
            for b in old.reg.stop(now) {
                out.sends.push((Transport::Udp, old.server, b));
            }
            self.stopping.retain(|(_, until)| *until > now);
            self.stopping.push((old, now + STOPPING_MS));
        }
        self.client_wanted = false;
        if let Some(config) = config {
            let server = config.server;
            let mut reg = Registration::new(config.clone(), self.random("client"));
            for b in reg.start(now) {
                out.sends.push((Transport::Udp, server, b));
            }
            self.upstream = Some(Upstream {
                reg,
                server,
                config,
            });
        }
        self.trust();
        out
    }

    /// A client is wanted but cannot run (no SIP socket): this VTO is not
    /// the server all the same.
    pub fn set_upstream_unavailable(&mut self, now: Mono) -> Output {
        let out = self.set_upstream(None, now);
        self.client_wanted = true;
        out
    }

    /// Registering to another server: this VTO is not the SIP server.
    pub fn is_client(&self) -> bool {
        self.upstream.is_some() || self.client_wanted
    }

    /// The REGISTER client's status, when there is one.
    pub fn upstream_status(&self) -> Option<&client::Status> {
        self.upstream.as_ref().map(|u| u.reg.status())
    }

    /// A MESSAGE known as `id` to `text.addr`: its bytes, or why not.
    pub fn message(
        &mut self,
        id: u64,
        text: &uac::Text,
        transport: Transport,
        now: Mono,
    ) -> Result<Send, &'static str> {
        let o = self
            .outgoing
            .as_mut()
            .ok_or("The SIP port is off (--sip off)")?;
        let bytes = o
            .message(id, text, transport.reliable(), now)
            .ok_or("Too many messages on their way: try again in a minute")?;
        Ok((transport, text.addr, bytes))
    }

    /// Starts one of the device's own calls: as the server, one INVITE to
    /// each registered contact of the callee at once; registered to
    /// another server, one INVITE through it, with its credentials.
    /// Returns the Call-ID, or the refusal (code and reason, as the proxy
    /// would answer: 404 nobody has that number, 480 offline or outside
    /// the Call Centre Time, 486 too many calls, 503 no SIP port).
    pub fn door_call(
        &mut self,
        setup: DoorCall,
        now: Mono,
        minute: u16,
    ) -> Result<(String, Output), (u16, String)> {
        // Ended calls linger until their last transactions end (a BYE's
        // Timer K): they count only toward a hard bound.
        if self.door_calls_full() {
            return Err((486, "Too many calls at once".into()));
        }
        let seed = self.random("door-call");
        let (cfg, targets) = match &self.upstream {
            Some(u) => {
                let c = &u.config;
                let host = if c.domain.is_empty() {
                    c.server.to_string()
                } else {
                    c.domain.clone()
                };
                let mut cfg = call::Config::new(&c.user, c.local);
                cfg.domain = c.domain.clone();
                cfg.password = Some(c.password.clone());
                let target = Target {
                    uri: format!("sip:{}@{host}", crate::header::user_encode(&setup.callee)),
                    peer: Peer {
                        addr: c.server,
                        tcp: false,
                    },
                };
                (cfg, vec![target])
            }
            None if self.client_wanted => {
                return Err((503, "The SIP port is off (--sip off)".into()))
            }
            None => {
                let local = self
                    .local
                    .ok_or((503, "The SIP port is off (--sip off)".to_string()))?;
                let devices = Devices {
                    bindings: self.registrar.bindings(),
                    directory: &self.directory,
                    centre: &self.centre,
                    minute,
                    now,
                };
                (
                    call::Config::new(&setup.user, local),
                    devices.locate(&setup.callee)?,
                )
            }
        };
        let cfg = call::Config {
            ring_timeout: setup.ring_timeout,
            max_talk: setup.max_talk,
            ..cfg
        };
        let (call, o) = Call::start(cfg, &setup.callee, targets, setup.offer, seed, now);
        let call_id = call.call_id().to_string();
        let mut out = Output::default();
        door_outs(&call_id, o, &mut out);
        if !call.is_over() {
            self.door_calls.insert(call_id.clone(), DoorLeg::Out(call));
        }
        Ok((call_id, out))
    }

    /// One of the device's own calls is answered on the device itself (a
    /// browser): its monitors are cancelled "elsewhere" (with `over`, the
    /// monitor that answered is hung up too). None unless it could be.
    pub fn door_take(&mut self, call_id: &str, now: Mono, over: bool) -> Option<Output> {
        let Some(DoorLeg::Out(c)) = self.door_calls.get_mut(call_id) else {
            return None;
        };
        let (taken, o) = c.take(now, over);
        if !taken {
            return None;
        }
        let mut out = Output::default();
        door_outs(call_id, o, &mut out);
        Some(out)
    }

    /// Whether another call of the door would be one too many.
    fn door_calls_full(&self) -> bool {
        let open = self.door_calls.values().filter(|c| !c.ended()).count();
        open >= MAX_DOOR_CALLS || self.door_calls.len() >= MAX_KEPT_DOOR_CALLS
    }

    /// The device takes a call made to it ([`call::Event::Offered`]) with
    /// its SDP answer; None when it is no longer waiting for that (the
    /// caller cancelled, or it was not decided in time).
    pub fn door_accept(&mut self, call_id: &str, answer: Bytes, now: Mono) -> Option<Output> {
        let Some(DoorLeg::In(c)) = self.door_calls.get_mut(call_id) else {
            return None;
        };
        if !matches!(c.phase(), incoming::Phase::Offered { .. }) {
            return None;
        }
        let mut out = Output::default();
        let o = c.accept(answer, now);
        door_outs(call_id, o, &mut out);
        Some(out)
    }

    /// The device refuses a call made to it (486 busy, 488 no usable
    /// media).
    pub fn door_refuse(&mut self, call_id: &str, code: u16, reason: &str, now: Mono) -> Output {
        let mut out = Output::default();
        if let Some(DoorLeg::In(c)) = self.door_calls.get_mut(call_id) {
            let o = c.refuse(code, reason, now);
            door_outs(call_id, o, &mut out);
        }
        out
    }

    /// A new INVITE to the VTO No.: a call to the door when it comes from
    /// a monitor of ours (as the server: a registered device's address;
    /// registered to another server: that server). None: not one.
    fn call_to_door(
        &mut self,
        msg: &Message,
        peer: &Peer,
        now: Mono,
        minute: u16,
    ) -> Option<Output> {
        if msg.method() != Some(&Method::Invite)
            || msg
                .headers
                .get("To")
                .and_then(|t| NameAddr::parse(t).ok())
                .is_none_or(|t| t.tag().is_some())
        {
            return None;
        }
        let StartLine::Request { uri, .. } = &msg.start else {
            return None;
        };
        let user = SipUri::parse(uri).ok()?.user?;
        let (ours, local) = match &self.upstream {
            Some(u) => (
                user == u.config.user && peer.addr == u.server,
                u.config.local,
            ),
            None => {
                let devices = Devices {
                    bindings: self.registrar.bindings(),
                    directory: &self.directory,
                    centre: &self.centre,
                    minute,
                    now,
                };
                let ours = !self.vto_no.is_empty() && user == self.vto_no && devices.trusted(peer);
                (ours, self.local?)
            }
        };
        if !ours {
            return None;
        }
        let mut out = Output::default();
        let transport = Transport::of(peer);
        if self.door_calls_full() {
            let r = response(msg, 486, "Busy Here", &[]);
            out.send(peer, transport, r.to_bytes());
            return Some(out);
        }
        let cfg = call::Config::new(&user, local);
        let seed = self.random("incoming");
        let (c, o) = Incoming::new(cfg, msg, peer, seed, now);
        let call_id = c.call_id().to_string();
        door_outs(&call_id, o, &mut out);
        if call_id.is_empty() || self.door_calls.contains_key(&call_id) {
            return Some(Output::default());
        }
        self.door_calls.insert(call_id, DoorLeg::In(c));
        Some(out)
    }

    /// The device hangs up one of its own calls (CANCEL while ringing, BYE
    /// once answered); an unknown Call-ID does nothing.
    pub fn door_hang_up(&mut self, call_id: &str, now: Mono) -> Output {
        let mut out = Output::default();
        if let Some(call) = self.door_calls.get_mut(call_id) {
            let o = match call {
                DoorLeg::Out(c) => c.hangup(now),
                DoorLeg::In(c) => c.hangup(now),
            };
            door_outs(call_id, o, &mut out);
        }
        out
    }

    /// The account registered where branch `branch` of a door call rings
    /// (the monitor that answered); None through another server.
    pub fn door_callee(&self, call_id: &str, branch: usize) -> Option<String> {
        let DoorLeg::Out(c) = self.door_calls.get(call_id)? else {
            return None;
        };
        let target = c.target(branch)?;
        self.registrar
            .bindings()
            .as_map()
            .iter()
            .find(|(_, list)| {
                list.iter()
                    .any(|b| peer_of(b).is_some_and(|p| p.addr == target.peer.addr))
            })
            .map(|(user, _)| user.clone())
    }

    /// Where a door call's branch may have its media: the IP its SIP
    /// messages come from (a monitor of ours), or None through another
    /// server (the media comes from the monitor, not from the server).
    pub fn door_media_ip(&self, call_id: &str, branch: usize) -> Option<IpAddr> {
        if self.upstream.is_some() {
            return None;
        }
        let peer = match self.door_calls.get(call_id)? {
            DoorLeg::Out(c) => &c.target(branch)?.peer,
            DoorLeg::In(c) => c.caller(),
        };
        Some(peer.addr.ip().to_canonical())
    }

    /// The device's own calls kept (ended ones until their transactions
    /// end).
    pub fn door_calls(&self) -> usize {
        self.door_calls.len()
    }

    /// One message in from `source`: what to send where, what happened.
    /// `minute` is the local minute of the day (the Call Centre Time).
    pub fn handle(
        &mut self,
        bytes: &[u8],
        source: SocketAddr,
        transport: Transport,
        now: Mono,
        minute: u16,
    ) -> Output {
        let mut out = Output::default();
        let peer = Peer {
            addr: source,
            tcp: transport.reliable(),
        };
        let Ok(msg) = message::parse(bytes) else {
            // Not even a message: nothing can be answered.
            out.malformed = true;
            return out;
        };
        if msg.headers.get("Via").is_none()
            || msg.headers.get("CSeq").is_none()
            || msg.headers.get("Call-ID").is_none()
        {
            if msg.method().is_some() {
                let r = response(&msg, 400, "Bad Request", &[]);
                out.send(&peer, transport, r.to_bytes());
            }
            return out;
        }
        if let Some(call_id) = msg.headers.get("Call-ID").map(str::trim) {
            if let Some(call) = self.door_calls.get_mut(call_id) {
                let o = call.on_message(&msg, &peer, now);
                let call_id = call_id.to_string();
                door_outs(&call_id, o, &mut out);
                return out;
            }
        }
        let Some(method) = msg.method().cloned() else {
            self.on_response(msg, &peer, transport, now, &mut out);
            return out;
        };
        if let Some(o) = self.call_to_door(&msg, &peer, now, minute) {
            return o;
        }
        let client = self.is_client();
        let to_us = method == Method::Options
            && (client
                || match &msg.start {
                    StartLine::Request { uri, .. } => {
                        SipUri::parse(uri).map(|u| u.user.is_none()).unwrap_or(true)
                    }
                    StartLine::Response { .. } => false,
                });
        if client && method != Method::Register && !to_us {
            // Registered to another server every request is for this VTO;
            // until it takes calls of its own, 480.
            if method != Method::Ack {
                let r = response(&msg, 480, "Temporarily Unavailable", &[]);
                out.send(&peer, transport, r.to_bytes());
            }
            return out;
        }
        if method != Method::Register && !to_us {
            let Some(p) = self.proxy.as_mut() else {
                let r = response(&msg, 503, "Service Unavailable", &[]);
                out.send(&peer, transport, r.to_bytes());
                return out;
            };
            let devices = Devices {
                bindings: self.registrar.bindings(),
                directory: &self.directory,
                centre: &self.centre,
                minute,
                now,
            };
            let o = p.on_request(msg, peer.clone(), now, &devices);
            self.outs(o, &peer, transport, &mut out);
            return out;
        }
        let key = transaction::key(&msg);
        if let Some(t) = key.as_ref().and_then(|k| self.transactions.get_mut(k)) {
            for b in sends(t.on_request(&msg, now)) {
                out.send(&peer, transport, b);
            }
            return out;
        }
        let answer = match method {
            Method::Register => self.register(&msg, source, transport, now, &mut out),
            _ => response(&msg, 200, "OK", &[("Allow", ALLOW.to_string())]),
        };
        let (mut t, mut actions) =
            transaction::Server::new(&msg, transport.reliable(), Timers::default());
        actions.extend(t.respond(&answer, now));
        if let Some(key) = key {
            if self.transactions.len() < MAX_TRANSACTIONS {
                self.transactions.insert(key, t);
            }
        }
        for b in sends(actions) {
            out.send(&peer, transport, b);
        }
        out
    }

    fn on_response(
        &mut self,
        msg: Message,
        peer: &Peer,
        transport: Transport,
        now: Mono,
        out: &mut Output,
    ) {
        let source = peer.addr;
        let client = self
            .stopping
            .iter_mut()
            .map(|(u, _)| (u, false))
            .chain(self.upstream.as_mut().map(|u| (u, true)))
            .find(|(u, _)| u.reg.owns(&msg));
        if let Some((u, active)) = client {
            let before = u.reg.status().clone();
            for b in u.reg.on_response_from(&msg, source, now) {
                out.sends.push((Transport::Udp, u.server, b));
            }
            if active && std::mem::discriminant(&before) != std::mem::discriminant(u.reg.status()) {
                out.events.push(Event::Upstream(u.reg.status().clone()));
            }
            return;
        }
        if let Some(o) = self.outgoing.as_mut() {
            if let Some((id, outcome)) = o.on_response(&msg, source, now) {
                if let Some(outcome) = outcome {
                    out.events.push(Event::MessageOutcome { id, outcome });
                }
                return;
            }
        }
        if let Some(p) = self.proxy.as_mut() {
            let o = p.on_response(msg, peer, now);
            self.outs(o, peer, transport, out);
        }
    }

    fn register(
        &mut self,
        msg: &Message,
        source: SocketAddr,
        transport: Transport,
        now: Mono,
        out: &mut Output,
    ) -> Message {
        if self.is_client() {
            return response(msg, 403, "Forbidden (this VTO is not the SIP server)", &[]);
        }
        // A VTO or VTS registers only from its IP Address.
        let account = msg
            .headers
            .get("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.uri.user);
        if let Some(account) = account {
            let expected = self.directory.stations.get(&account).copied();
            if let Some((kind, ip)) = expected.filter(|(_, ip)| *ip != source.ip()) {
                out.events.push(Event::StationElsewhere {
                    account,
                    source,
                    expected: ip,
                });
                let label = match kind {
                    Station::Vto => "VTO",
                    Station::Vts => "VTS",
                };
                let reason = format!("Forbidden (not the {label}'s IP Address)");
                return response(msg, 403, &reason, &[]);
            }
        }
        let digests = &self.directory.digests;
        let accounts = |user: &str, algorithm: Algorithm| {
            digests.get(user).map(|(md5, sha256)| match algorithm {
                Algorithm::Md5 => md5.clone(),
                Algorithm::Sha256 => sha256.clone(),
            })
        };
        // Nonces from the seed and a counter: unique, unguessable without
        // the seed.
        let (seed, counter) = (self.seed, &mut self.counter);
        let random = || {
            *counter += 1;
            derived(&seed, "nonce", *counter)
        };
        let (answer, outcome) =
            self.registrar
                .register(msg, source, transport.name(), &accounts, random, now);
        match outcome {
            Outcome::Registered { account, contacts } => out.events.push(Event::Registered {
                account,
                source,
                contacts,
            }),
            Outcome::Refused { reason } => {
                out.events.push(Event::RegisterRefused { source, reason })
            }
            Outcome::Challenged => {}
        }
        answer
    }

    /// The proxy's output: sends (back over the transport the source
    /// used), and its call events into call rows.
    fn outs(&mut self, o: Vec<Out>, source: &Peer, transport: Transport, out: &mut Output) {
        for x in o {
            match x {
                Out::Send(p, bytes) => {
                    let t = if p.addr == source.addr {
                        transport
                    } else {
                        Transport::of(&p)
                    };
                    out.send(&p, t, bytes);
                }
                Out::Call(ev) => self.call_event(ev, out),
            }
        }
    }

    fn call_event(&mut self, ev: CallEvent, out: &mut Output) {
        match ev {
            CallEvent::Started {
                call_id,
                from,
                to,
                at,
            } => {
                let room_no = self
                    .directory
                    .room_of(&to)
                    .or_else(|| self.directory.room_of(&from))
                    .unwrap_or_default()
                    .to_string();
                let centre = to == self.centre.number
                    || self
                        .directory
                        .stations
                        .get(&to)
                        .is_some_and(|(k, _)| *k == Station::Vts);
                if self.calls.len() >= MAX_OPEN_CALLS {
                    if let Some(oldest) = self
                        .calls
                        .iter()
                        .min_by_key(|(_, c)| c.row.begin)
                        .map(|(k, _)| k.clone())
                    {
                        self.calls.remove(&oldest);
                    }
                }
                out.events.push(Event::CallStarted {
                    call_id: call_id.clone(),
                    from: from.clone(),
                    to: to.clone(),
                });
                self.calls.insert(
                    call_id,
                    OpenCall {
                        row: CallRow {
                            centre,
                            from,
                            to,
                            room_no,
                            begin: at,
                            talk_ms: None,
                            end: CallEnd::Missed,
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
                let Some(mut call) = self.calls.remove(&call_id) else {
                    return;
                };
                call.row.end = end.clone();
                out.events.push(Event::CallSettled {
                    call_id: call_id.clone(),
                    row: call.row.clone(),
                    code,
                });
                if end == CallEnd::Answered {
                    call.answered_at = Some(at);
                    self.calls.insert(call_id, call);
                }
            }
            CallEvent::HungUp { call_id, at } => {
                let Some(call) = self.calls.get(&call_id) else {
                    return;
                };
                // A BYE before any answer: still ringing, keep it.
                let Some(answered) = call.answered_at else {
                    return;
                };
                if let Some(mut call) = self.calls.remove(&call_id) {
                    call.row.talk_ms = Some(u64::try_from(at - answered).unwrap_or(0));
                    out.events.push(Event::CallEnded {
                        call_id,
                        row: call.row,
                    });
                }
            }
        }
    }

    /// The timers: repeats and ends of transactions, the ring timeout,
    /// refreshes of the REGISTER client, expired registrations.
    pub fn tick(&mut self, now: Mono) -> Output {
        let mut out = Output::default();
        self.transactions.retain(|_, t| {
            t.on_timer(now);
            !t.is_terminated()
        });
        if let Some(p) = self.proxy.as_mut() {
            let o = p.on_timer(now);
            let none = Peer {
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                tcp: false,
            };
            self.outs(o, &none, Transport::Udp, &mut out);
        }
        self.stopping.retain(|(_, until)| *until > now);
        for (u, _) in &mut self.stopping {
            if u.reg.deadline().is_some_and(|d| d <= now) {
                for b in u.reg.on_timer(now) {
                    out.sends.push((Transport::Udp, u.server, b));
                }
            }
        }
        if let Some(u) = self.upstream.as_mut() {
            if u.reg.deadline().is_some_and(|d| d <= now) {
                let before = u.reg.status().clone();
                for b in u.reg.on_timer(now) {
                    out.sends.push((Transport::Udp, u.server, b));
                }
                if std::mem::discriminant(&before) != std::mem::discriminant(u.reg.status()) {
                    out.events.push(Event::Upstream(u.reg.status().clone()));
                }
            }
        }
        if let Some(o) = self.outgoing.as_mut() {
            if o.deadline().is_some_and(|d| d <= now) {
                let (repeats, ended) = o.on_timer(now);
                // Only UDP ones repeat.
                let udp = repeats
                    .into_iter()
                    .map(|(_, to, b)| (Transport::Udp, to, b));
                out.sends.extend(udp);
                for (id, outcome) in ended {
                    out.events.push(Event::MessageOutcome { id, outcome });
                }
            }
        }
        for (call_id, call) in &mut self.door_calls {
            if call.deadline().is_some_and(|d| d <= now) {
                let o = match call {
                    DoorLeg::Out(c) => c.on_timer(now),
                    DoorLeg::In(c) => c.on_timer(now),
                };
                door_outs(call_id, o, &mut out);
            }
        }
        self.door_calls.retain(|_, c| !c.is_over());
        // Calls whose end was never seen: their rows stay as they are.
        self.calls.retain(|_, c| now - c.row.begin < MAX_TALK_MS);
        let gone = self.registrar.bindings_mut().expire(now);
        if !gone.is_empty() {
            out.events.push(Event::Expired(gone));
        }
        out
    }
}

/// The registered devices and the directory, as the proxy asks about them.
struct Devices<'a> {
    bindings: &'a Bindings,
    directory: &'a Directory,
    centre: &'a Centre,
    minute: u16,
    now: Mono,
}

impl Devices<'_> {
    fn live(&self) -> impl Iterator<Item = &Binding> {
        let now = self.now;
        self.bindings
            .as_map()
            .values()
            .flatten()
            .filter(move |b| b.expires_at > now)
    }
}

/// Where requests to a binding go: the address in its Contact (devices
/// on the LAN put their own address there, and sipp or baresip may
/// register from another port than they listen on), else where its
/// REGISTER came from (a contact with a host name).
pub fn peer_of(b: &Binding) -> Option<Peer> {
    let tcp = b.transport != "UDP";
    let from_contact = contact_uri(&b.contact).and_then(|c| {
        let ip: IpAddr = c.host.trim_matches(['[', ']']).parse().ok()?;
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
pub fn contact_uri(contact: &str) -> Option<SipUri> {
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
            .any(|b| b.source == from || peer_of(b).is_some_and(|p| p.addr == source.addr))
    }

    fn locate(&self, user: &str) -> Result<Vec<Target>, (u16, String)> {
        // The centre rings every VTS, within the Call Centre Time; a room
        // all its monitors; a monitor's or a station's own number only it.
        let d = self.directory;
        let users: Vec<&str> = if user == self.centre.number {
            if !self.centre.open(self.minute) {
                return Err((480, "Outside Call Centre Time".into()));
            }
            d.stations
                .iter()
                .filter(|(_, (k, _))| *k == Station::Vts)
                .map(|(n, _)| n.as_str())
                .collect()
        } else if let Some(users) = d.rooms.get(user) {
            users.iter().map(String::as_str).collect()
        } else if d.stations.contains_key(user) || d.rooms.values().flatten().any(|u| u == user) {
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
        let registered = self.live().find_map(|b| {
            let c = contact_uri(&b.contact)?;
            (c.host == uri.host && c.port.unwrap_or(5060) == uri.port.unwrap_or(5060))
                .then(|| peer_of(b))
                .flatten()
        });
        // A configured VTO or VTS at its IP Address (a door station stays
        // in the path with Record-Route); no other address.
        registered.or_else(|| {
            let ip: IpAddr = uri.host.trim_matches(['[', ']']).parse().ok()?;
            let station = self.directory.stations.values().any(|(_, at)| *at == ip);
            station.then(|| Peer {
                addr: SocketAddr::new(ip, uri.port.unwrap_or(5060)),
                tcp: uri
                    .params
                    .get("transport")
                    .is_some_and(|t| t.eq_ignore_ascii_case("tcp")),
            })
        })
    }
}

/// A call of the door: one it makes (to a room) or one made to it (a
/// monitor watching).
enum DoorLeg {
    Out(Call),
    In(Incoming),
}

impl DoorLeg {
    fn on_message(&mut self, msg: &Message, peer: &Peer, now: Mono) -> Vec<call::Out> {
        let request = msg.method().is_some();
        match self {
            DoorLeg::Out(c) if request => c.on_request(msg, peer, now),
            DoorLeg::Out(c) => c.on_response(msg, peer, now),
            DoorLeg::In(c) if request => c.on_request(msg, peer, now),
            DoorLeg::In(c) => c.on_response(msg, peer, now),
        }
    }

    fn deadline(&self) -> Option<Mono> {
        match self {
            DoorLeg::Out(c) => c.deadline(),
            DoorLeg::In(c) => c.deadline(),
        }
    }

    fn ended(&self) -> bool {
        match self {
            DoorLeg::Out(c) => matches!(c.phase(), call::Phase::Ended(_)),
            DoorLeg::In(c) => matches!(c.phase(), incoming::Phase::Ended(_)),
        }
    }

    fn is_over(&self) -> bool {
        match self {
            DoorLeg::Out(c) => c.is_over(),
            DoorLeg::In(c) => c.is_over(),
        }
    }
}

/// A door call's output: its sends over the transport of their peer, its
/// events tagged with its Call-ID.
fn door_outs(call_id: &str, o: Vec<call::Out>, out: &mut Output) {
    for x in o {
        match x {
            call::Out::Send(p, bytes) => out.send(&p, Transport::of(&p), bytes),
            call::Out::Event(event) => out.events.push(Event::Door {
                call_id: call_id.to_string(),
                event,
            }),
        }
    }
}

/// 16 bytes derived from the seed (SHA-256 of seed, purpose and counter).
fn derived(seed: &[u8; 16], what: &str, counter: u64) -> [u8; 16] {
    let hex = derived_hex(seed, what, counter, 16);
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = hex
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
    }
    out
}

fn sends(actions: Vec<Action>) -> Vec<Vec<u8>> {
    actions
        .into_iter()
        .filter_map(|a| match a {
            Action::Send(b) => Some(b),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
