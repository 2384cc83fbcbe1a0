//! DHIP on TCP 5000 (`--dhip`): the path the Home Assistant integration
//! takes for door stations (events, opening the door), and openHAB and
//! DahuaVTO2MQTT take for everything. Frames and replies are the `dahua`
//! crate's (`dahua::dhip`); this is the listener and one task per
//! connection, calling the same services as the other front doors.
//!
//! - IP Permissions at accept, at most [`PER_ADDR`] connections from one
//!   address (an IPv6 /64) and [`MAX_CONNECTIONS`] in all (else a reset);
//! - the first whole frame within the first request timeout
//!   (`--first-request-secs`);
//! - login in two steps against the account's HA1, counted toward the same
//!   lockout per (user, address) as the UI's logins; [`LOGIN_WAIT`] to log
//!   in, then keep-alives (a session silent for [`SILENT`] is closed);
//! - events go out through a bounded queue: a reader that does not keep up
//!   loses events (logged), it never holds up the door or other clients.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::{
    error::ApiError,
    model::{
        access::UnlockVia,
        users::{Right, Role},
    },
    services::{Caller, Door as _, Intercom as _, SessionRef},
};
use dahua::{
    dhip::{self, Frame, Request},
    events::Filter,
};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{broadcast::error::RecvError, mpsc},
};

use super::Dahua;
use crate::{
    account::online::{FrontDoor, Presence},
    network::{
        conn_limit::{self, ConnLimits, Timeouts},
        ip_filter::IpFilter,
    },
};

/// Connections at once.
pub const MAX_CONNECTIONS: usize = 64;
/// Connections from one address (an IPv6 /64) at once.
pub const PER_ADDR: usize = 16;
/// From connect to a completed login.
const LOGIN_WAIT: Duration = Duration::from_secs(30);
/// The keep-alive interval clients are told.
const KEEP_ALIVE_S: u32 = 60;
/// A logged-in session with no request for this long is closed.
const SILENT: Duration = Duration::from_secs(3 * KEEP_ALIVE_S as u64);
/// Messages queued for a client before events are dropped for it.
const QUEUE: usize = 64;
/// How long a reply may wait for a client that does not read.
const SEND_WAIT: Duration = Duration::from_secs(10);
/// The object id of the door's access control instance.
const DOOR_OBJECT: u64 = 1;

/// Accepts until the task is aborted.
pub async fn serve(
    listener: TcpListener,
    d: Arc<Dahua>,
    ip_filter: Arc<IpFilter>,
    timeouts: Timeouts,
) {
    let limits = ConnLimits::new(PER_ADDR, MAX_CONNECTIONS);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "DHIP accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if !ip_filter.allows(peer.ip().to_canonical()) {
            conn_limit::reset(stream);
            continue;
        }
        let Some(slot) = limits.try_acquire(peer.ip()) else {
            tracing::debug!(%peer, "DHIP: too many connections, reset");
            conn_limit::reset(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let d = d.clone();
        tokio::spawn(async move {
            Connection::new(d, peer).run(stream, timeouts).await;
            drop(slot);
        });
    }
}

/// Where a connection is in its login.
enum Phase {
    New,
    /// Challenged: the session id and random the client must hash with.
    Challenged {
        random: String,
    },
    In(Box<Signed>),
}

struct Signed {
    user: String,
    role: Role,
    caller: Caller,
    _presence: Presence,
}

struct Connection {
    d: Arc<Dahua>,
    peer: SocketAddr,
    session: u32,
    phase: Phase,
    /// The attach request's id and its filter, once attached.
    attached: Option<(u64, Filter)>,
    /// Set when the connection is to close after what is queued.
    closing: bool,
}

impl Connection {
    fn new(d: Arc<Dahua>, peer: SocketAddr) -> Self {
        Self {
            d,
            peer,
            session: 0,
            phase: Phase::New,
            attached: None,
            closing: false,
        }
    }

    async fn run(mut self, stream: TcpStream, timeouts: Timeouts) {
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
        let writer = tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                // One frame per write.
                if wr.write_all(&bytes).await.is_err() {
                    break;
                }
            }
            let _ = wr.shutdown().await;
        });
        let mut decoder = dhip::Decoder::new();
        let mut events = self.d.feed.subscribe();
        let mut buf = vec![0u8; 8192];
        let connected = crate::clock::monotonic();
        // A first whole frame soon, a login within LOGIN_WAIT.
        let mut deadline = connected + timeouts.first_request.min(LOGIN_WAIT);
        let mut framed = false;
        loop {
            let ended = async {
                match &mut self.phase {
                    Phase::In(s) => s._presence.ended().await,
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                read = rd.read(&mut buf) => {
                    let n = match read {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    decoder.push(&buf[..n]);
                    let mut bad = false;
                    loop {
                        match decoder.next_frame() {
                            Ok(Some(frame)) => {
                                if !framed {
                                    framed = true;
                                    deadline = connected + LOGIN_WAIT;
                                }
                                let replies = self.handle(&frame).await;
                                for r in replies {
                                    // A client that sends but never reads
                                    // does not hold its slot for good.
                                    let sent = tokio::time::timeout(SEND_WAIT, tx.send(r)).await;
                                    if !matches!(sent, Ok(Ok(()))) {
                                        bad = true;
                                    }
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                tracing::warn!(peer = %self.peer, error = %e, "DHIP: bad frame");
                                bad = true;
                                break;
                            }
                        }
                    }
                    if bad || self.closing {
                        break;
                    }
                    if matches!(self.phase, Phase::In(_)) {
                        deadline = crate::clock::monotonic() + SILENT;
                    }
                }
                e = events.recv(), if self.attached.is_some() => match e {
                    Ok(e) => {
                        if let Some((attach_id, filter)) = &self.attached {
                            if filter.wants(&e.code) {
                                let msg = dhip::notify(*attach_id, self.session, &e);
                                if tx.try_send(Frame::json(self.session, 0, &msg).encode()).is_err() {
                                    tracing::warn!(peer = %self.peer, "DHIP reader too slow: event dropped");
                                }
                            }
                        }
                    }
                    Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "DHIP reader too slow"),
                    Err(RecvError::Closed) => break,
                },
                () = tokio::time::sleep_until(deadline) => {
                    tracing::info!(peer = %self.peer, "DHIP: no login or keep-alive in time");
                    break;
                }
                () = ended => {
                    tracing::info!(peer = %self.peer, "DHIP: ended from Online Users");
                    break;
                }
            }
        }
        drop(tx);
        // What is queued gets a moment to go out; a client that does not
        // read loses it (the writer is aborted, the socket closed).
        let abort = writer.abort_handle();
        if tokio::time::timeout(SEND_WAIT, writer).await.is_err() {
            abort.abort();
        }
    }

    fn reply(&self, req_id: u32, msg: &Value) -> Vec<u8> {
        Frame::json(self.session, req_id, msg).encode()
    }

    /// The replies to one frame.
    async fn handle(&mut self, frame: &Frame) -> Vec<Vec<u8>> {
        let req = match Request::parse(&frame.body) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(peer = %self.peer, error = %e, "DHIP: not a request");
                self.closing = true;
                return Vec::new();
            }
        };
        let msg = self.answer(&req).await;
        vec![self.reply(frame.id, &msg)]
    }

    async fn answer(&mut self, req: &Request) -> Value {
        let (id, session) = (req.id, self.session);
        if let Some((user, password)) = req.login() {
            return self.login(id, user, password).await;
        }
        let Phase::In(signed) = &self.phase else {
            // Nothing but a login before a login.
            self.closing = true;
            return dhip::login_failed(id, session, dhip::ERR_BAD_PASSWORD);
        };
        let may = |right| signed.role.may(right);
        match req.method.as_str() {
            "global.keepAlive" => dhip::keep_alive(
                id,
                session,
                req.keep_alive_timeout().unwrap_or(u64::from(KEEP_ALIVE_S)),
            ),
            "global.logout" => {
                self.closing = true;
                dhip::result(id, session, json!(true))
            }
            "eventManager.attach" if may(Right::Snapshot) => {
                let codes = req.codes();
                match Filter::from_list(codes.iter().copied()) {
                    Some(f) => {
                        self.attached = Some((id, f));
                        dhip::attach(id, session)
                    }
                    None => dhip::result(id, session, json!(false)),
                }
            }
            "magicBox.getSoftwareVersion" => dhip::software_version(
                id,
                session,
                env!("CARGO_PKG_VERSION"),
                option_env!("VTO_BUILD_DATE").unwrap_or("unknown"),
            ),
            "magicBox.getDeviceType" => dhip::device_type(id, session, super::DEVICE_TYPE),
            "magicBox.getSystemInfo" => dhip::system_info(
                id,
                session,
                &dhip::SystemInfo {
                    device_type: super::DEVICE_TYPE.into(),
                    serial_number: self.d.serial.clone(),
                    hardware_version: std::env::consts::ARCH.into(),
                    processor: std::env::consts::ARCH.into(),
                    update_serial: super::DEVICE_TYPE.into(),
                },
            ),
            "configManager.getConfig" => match req.config_name() {
                Some("T2UServer") => dhip::t2u_server_config(id, session, &self.d.serial),
                Some("AccessControl") => {
                    match self.d.services.door.access_settings(&signed.caller).await {
                        Ok(a) => dhip::access_control_config(
                            id,
                            session,
                            &[dhip::AccessControlConfig {
                                access_protocol: "Local".into(),
                                unlock_reload_interval: a
                                    .responding_interval_s
                                    .saturating_mul(1000),
                                unlock_hold_interval: a.unlock_period_s.saturating_mul(1000),
                                sensor_enable: a.sensor_check_enable,
                                close_timeout: a.sensor_check_s,
                            }],
                        ),
                        Err(_) => dhip::result(id, session, json!(false)),
                    }
                }
                _ => dhip::unknown_method(id, session),
            },
            "accessControl.factory.instance" => dhip::factory_instance(id, session, DOOR_OBJECT),
            "accessControl.destroy" => dhip::result(id, session, json!(true)),
            "accessControl.openDoor" if may(Right::OpenDoor) => {
                let opened = match self
                    .d
                    .services
                    .door
                    .unlock(&signed.caller, UnlockVia::Api)
                    .await
                {
                    Ok(r) => r.refused.is_none(),
                    Err(e) => {
                        tracing::warn!(error = %e, "DHIP openDoor");
                        false
                    }
                };
                dhip::open_door(id, session, opened)
            }
            "console.runCmd" if may(Right::OpenDoor) => {
                // `hc`: hang up the door's call.
                let hc = req.params.get("command").and_then(Value::as_str) == Some("hc");
                let done = hc
                    && self
                        .d
                        .services
                        .intercom
                        .hang_up(&signed.caller)
                        .await
                        .is_ok();
                dhip::result(id, session, json!(done))
            }
            "eventManager.attach" | "accessControl.openDoor" | "console.runCmd" => {
                tracing::warn!(user = %signed.user, method = %req.method, "DHIP request beyond the account's role");
                dhip::result(id, session, json!(false))
            }
            _ => dhip::unknown_method(id, session),
        }
    }

    async fn login(&mut self, id: u64, user: &str, password: &str) -> Value {
        match std::mem::replace(&mut self.phase, Phase::New) {
            Phase::Challenged { random } if !password.is_empty() => {
                let ip = self.peer.ip().to_canonical();
                let (u, r, p) = (user.to_string(), random, password.to_string());
                let proved = self
                    .d
                    .auth
                    .digest_login(user, ip, move |ha1| dhip::check_login(&u, &r, ha1, &p))
                    .await;
                match proved {
                    Ok(role) => {
                        let presence = self.d.auth.online.enter(
                            user,
                            role,
                            ip,
                            FrontDoor::Dhip,
                            self.d.auth.now(),
                        );
                        tracing::info!(user, %ip, "DHIP login");
                        self.phase = Phase::In(Box::new(Signed {
                            user: user.to_string(),
                            role,
                            caller: Caller {
                                ip,
                                // No stored session: the caller is the account.
                                session: Some(SessionRef {
                                    id_hash: [0; 32],
                                    user: user.to_string(),
                                    role,
                                }),
                                secure: false,
                                host: None,
                                host_is_name: false,
                                local: None,
                            },
                            _presence: presence,
                        }));
                        dhip::login_ok(id, self.session, KEEP_ALIVE_S)
                    }
                    Err(e) => {
                        self.closing = true;
                        let code = match e {
                            ApiError::Locked { .. } => dhip::ERR_LOCKED,
                            _ => dhip::ERR_BAD_PASSWORD,
                        };
                        dhip::login_failed(id, self.session, code)
                    }
                }
            }
            Phase::In(_) => {
                // One login per connection.
                self.closing = true;
                dhip::login_failed(id, self.session, dhip::ERR_BAD_PASSWORD)
            }
            _ => {
                let Ok(bytes) = crate::error::random::<12>() else {
                    self.closing = true;
                    return dhip::login_failed(id, 0, dhip::ERR_BAD_PASSWORD);
                };
                let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
                self.session = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) | 1;
                let random = u64::from_le_bytes([
                    bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9], bytes[10],
                    bytes[11],
                ])
                .to_string();
                let challenge = dhip::Challenge {
                    authorization: hex(&bytes),
                    mac: "000000000000".into(),
                    random: random.clone(),
                    realm: self.d.auth.realm().to_string(),
                };
                self.phase = Phase::Challenged { random };
                dhip::login_challenge(id, self.session, &challenge)
            }
        }
    }
}
