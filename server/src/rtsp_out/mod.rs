//! RTSP out (issue 21): the door camera (main and sub stream) and the
//! relayed IPCs served over RTSP 1.0 to NVRs, ffmpeg, GStreamer, Janus
//! and Home Assistant, on `--rtsp`.
//!
//! The protocol is the pure `rtsp` crate's (requests, sessions, SDP);
//! this module is the thin I/O around it: the listener (IP Permissions
//! and the connection limits at accept: [`PER_ADDR`] from one address, an
//! IPv6 /64, and [`MAX_CONNECTIONS`] in all; a first request within
//! `--first-request-secs`), Digest against the accounts (the
//! account service's check and lockout, Viewer and up may watch), and
//! [`player`], which sends a source's frames as RTP over the connection
//! (interleaved) or UDP.

pub mod backchannel;
pub mod player;

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use app::{
    error::ApiError,
    model::users::{Right, Role},
};
use bytes::Bytes;
use rtsp::{
    message::{status, Incoming, Reader, Request, Response},
    sdp::Description,
    session::{self, Config, Outcome, Session},
    target::Stream,
    transport::Lower,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{tcp::OwnedWriteHalf, TcpListener, TcpStream},
    sync::mpsc,
};

use crate::{
    account::{
        digest::{Gate, Verdict},
        online::{FrontDoor, Presence},
        Auth,
    },
    network::{
        conn_limit::{self, ConnLimits, Timeouts},
        ip_filter::IpFilter,
    },
    services::Services,
    video::Source,
};
use player::{Dest, Player, Running, Udp};

/// RTSP connections at once; more are reset at accept.
pub const MAX_CONNECTIONS: usize = 64;
/// RTSP connections from one address (an IPv6 /64) at once.
pub const PER_ADDR: usize = 16;
/// Messages waiting for a slow connection (replies and RTP): beyond, the
/// player drops frames for this client until the next key frame.
const OUT_QUEUE: usize = 512;
/// How long DESCRIBE waits for the camera's first key frame.
const FIRST_PICTURE: Duration = Duration::from_secs(5);

pub struct RtspOut {
    services: Arc<Services>,
    auth: Arc<Auth>,
    gate: Gate,
    ip_filter: Arc<IpFilter>,
    limits: ConnLimits,
    timeouts: Timeouts,
    start: tokio::time::Instant,
}

impl RtspOut {
    pub fn new(
        services: Arc<Services>,
        auth: Arc<Auth>,
        ip_filter: Arc<IpFilter>,
        timeouts: Timeouts,
    ) -> Result<Self, crate::error::Error> {
        let gate = Gate::new(auth.realm(), crate::error::random::<16>()?);
        Ok(Self {
            services,
            auth,
            gate,
            ip_filter,
            limits: ConnLimits::new(PER_ADDR, MAX_CONNECTIONS),
            timeouts,
            start: crate::clock::monotonic(),
        })
    }

    /// Milliseconds since start: the sessions' and nonces' clock.
    fn now_ms(&self) -> u64 {
        crate::clock::millis_since(self.start)
    }

    fn mono(&self) -> sip::time::Mono {
        crate::clock::mono_since(self.start)
    }

    fn source(&self, stream: Stream) -> Option<Arc<Source>> {
        let name = match stream {
            Stream::Main => "door".to_string(),
            Stream::Sub => "door-sub".to_string(),
            Stream::Ipc(n) => format!("ipc-{n}"),
        };
        self.services.video.media.source(&name)
    }
}

/// Accepts connections until the listener fails.
pub async fn serve(listener: TcpListener, out: Arc<RtspOut>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "RTSP accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = peer.ip().to_canonical();
        if !out.ip_filter.allows(ip) {
            conn_limit::reset(stream);
            continue;
        }
        let Some(permit) = out.limits.try_acquire(ip) else {
            tracing::debug!(%peer, "RTSP: too many connections, reset");
            conn_limit::reset(stream);
            continue;
        };
        let out = out.clone();
        tokio::spawn(async move {
            let _permit = permit;
            Connection::run(out, stream, peer).await;
        });
    }
}

struct Connection {
    out: Arc<RtspOut>,
    peer: SocketAddr,
    local: SocketAddr,
    session: Session,
    tx: mpsc::Sender<Bytes>,
    /// The server's UDP sockets per track set up over UDP.
    udp: HashMap<u8, Udp>,
    /// The SSRC per track, chosen at SETUP.
    ssrc: HashMap<u8, u32>,
    player: Option<Running>,
    /// Counted in `vto_rtsp_sessions` while the player runs.
    playing: Option<crate::metrics::Playing>,
    /// The backchannel interleaved on this connection, while playing.
    talk: Option<crate::intercom::talk_back::TalkBack>,
    /// The backchannel over UDP, while playing.
    talk_udp: Option<Running>,
    /// The last RTCP a player's UDP sockets received (session time).
    heard: Arc<AtomicU64>,
    /// The account proven on this connection, and its role.
    viewer: Option<String>,
    role: Option<Role>,
    presence: Option<Presence>,
}

impl Connection {
    async fn run(out: Arc<RtspOut>, stream: TcpStream, peer: SocketAddr) {
        let Ok(local) = stream.local_addr() else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let (mut rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::channel(OUT_QUEUE);
        let writer = tokio::spawn(write_all(wr, rx));
        let id = match crate::error::random::<8>() {
            Ok(b) => b.iter().map(|x| format!("{x:02X}")).collect::<String>(),
            Err(_) => return,
        };
        let config = Config {
            audio: true,
            // Offered only where there is a speaker to hear it.
            backchannel: out.services.intercom.has_speaker(),
            udp: true,
        };
        let now = out.now_ms();
        let mut c = Connection {
            out,
            peer,
            local,
            session: Session::new(id, config, now),
            tx,
            udp: HashMap::new(),
            ssrc: HashMap::new(),
            player: None,
            playing: None,
            talk: None,
            talk_udp: None,
            heard: Arc::new(AtomicU64::new(0)),
            viewer: None,
            role: None,
            presence: None,
        };
        let mut reader = Reader::new();
        let mut buf = vec![0u8; 16 * 1024];
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        // An idle or trickling connection goes unless a request comes soon.
        let first = crate::clock::monotonic() + c.out.timeouts.first_request;
        let mut requested = false;
        'conn: loop {
            tokio::select! {
                r = rd.read(&mut buf) => {
                    let n = match r {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    reader.push(&buf[..n]);
                    loop {
                        match reader.next() {
                            Ok(Some(Incoming::Request(req))) => {
                                requested = true;
                                if !c.request(req).await {
                                    break 'conn;
                                }
                            }
                            Ok(Some(Incoming::Interleaved { channel, payload })) => {
                                // Receiver reports and the backchannel keep
                                // the session alive.
                                let now = c.out.now_ms();
                                let ch = c.session.interleaved(channel, now);
                                if let (Some(ch), Some(talk)) = (ch, c.talk.as_mut()) {
                                    if ch.track == session::track::BACKCHANNEL && !ch.rtcp {
                                        backchannel::play(talk, &payload);
                                    }
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                let _ = c.tx.send(e.response().to_bytes()).await;
                                break 'conn;
                            }
                        }
                    }
                }
                () = tokio::time::sleep_until(first), if !requested => {
                    tracing::debug!(peer = %c.peer, "RTSP: no request in time");
                    break;
                }
                _ = ended(&mut c.presence) => {
                    tracing::info!(peer = %c.peer, "RTSP connection ended from Online Users");
                    break;
                }
                _ = tick.tick() => {
                    let now = c.out.now_ms();
                    let heard = c.heard.load(Ordering::Relaxed);
                    if heard > 0 {
                        c.session.touch(heard.min(now));
                    }
                    if c.session.expired(now) {
                        tracing::info!(peer = %c.peer, user = ?c.viewer, "RTSP session timed out");
                        break;
                    }
                }
            }
        }
        c.stop();
        // Let what is queued (an error's answer) go out, then close.
        drop(c);
        let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    }

    fn stop(&mut self) {
        self.player = None;
        self.playing = None;
        self.talk = None;
        self.talk_udp = None;
    }

    async fn send(&self, r: Response) -> bool {
        self.tx.send(r.to_bytes()).await.is_ok()
    }

    /// Handles one request; `false` closes the connection.
    async fn request(&mut self, req: Request) -> bool {
        // The connection is what was authenticated: once proven on it,
        // its later requests (keep-alives long after the nonce expired)
        // need no new proof. Ending it from Online Users closes it.
        if req.method != rtsp::message::Method::Options && self.viewer.is_none() {
            match self.authenticate(&req).await {
                Ok(()) => {}
                Err(r) => return self.send(*r).await,
            }
        }
        let now = self.out.now_ms();
        match self.session.handle(&req, now) {
            Outcome::Reply(r) => self.send(r).await,
            Outcome::Describe(d) => {
                let r = match self.describe(&d).await {
                    Ok(sdp) => d.reply(sdp),
                    Err(code) => Response::new(code, Some(d.cseq)),
                };
                self.send(r).await
            }
            Outcome::Setup(s) => {
                let track = s.track;
                if self.out.source(s.stream).is_none() {
                    return self.send(s.refuse(status::NOT_FOUND)).await;
                }
                if track == session::track::BACKCHANNEL {
                    // The door's speaker only, and only for those who may
                    // answer the door.
                    if matches!(s.stream, Stream::Ipc(_)) {
                        return self.send(s.refuse(status::NOT_FOUND)).await;
                    }
                    if !self.role.is_some_and(|r| r.may(Right::OpenDoor)) {
                        return self.send(s.refuse(status::FORBIDDEN)).await;
                    }
                }
                let ssrc = u32::from_be_bytes(crate::error::random::<4>().unwrap_or([7; 4]));
                let mut ports = None;
                if let Lower::Udp { client_port } = s.transport.lower {
                    match Udp::bind(self.local.ip(), self.peer.ip(), client_port).await {
                        Ok(u) => {
                            ports = Some(u.server_ports());
                            self.udp.insert(track, u);
                        }
                        Err(e) => tracing::warn!(error = %e, "RTSP: no UDP ports"),
                    }
                }
                let r = self.session.setup(s, ports, Some(ssrc));
                if r.status == status::OK {
                    self.ssrc.insert(track, ssrc);
                } else {
                    self.udp.remove(&track);
                }
                self.send(r).await
            }
            Outcome::Play(p) => {
                let Some(source) = self.session.stream().and_then(|s| self.out.source(s)) else {
                    return self
                        .send(Response::new(status::NOT_FOUND, Some(p.cseq)))
                        .await;
                };
                self.stop();
                let mut dests = Vec::new();
                for t in p.tracks.iter().filter(|t| t.sends()) {
                    let dest = match t.transport {
                        rtsp::transport::Chosen::Tcp { interleaved } => Dest::Tcp {
                            rtp: interleaved.0,
                            rtcp: interleaved.1,
                            tx: self.tx.clone(),
                        },
                        rtsp::transport::Chosen::Udp { .. } => match self.udp.get(&t.track) {
                            Some(u) => Dest::Udp(u.clone()),
                            None => continue,
                        },
                    };
                    let ssrc = self.ssrc.get(&t.track).copied().unwrap_or(0);
                    dests.push((t.track, ssrc, dest));
                }
                self.listen_back(&p.tracks);
                let (player, info) = Player::prepare(dests);
                // The answer first: media follows it on the connection.
                if !self.send(p.reply(&info)).await {
                    return false;
                }
                let clock = self.out.services.system.time.clock();
                self.player = Some(player.start(source, clock, self.heard.clone(), self.out.start));
                self.playing = Some(crate::metrics::METRICS.rtsp_started());
                true
            }
            Outcome::Pause(r) => {
                self.stop();
                self.send(r).await
            }
            Outcome::Teardown(r) => {
                self.stop();
                self.udp.clear();
                self.ssrc.clear();
                self.send(r).await
            }
        }
    }

    /// Digest against the accounts; a Viewer may watch.
    async fn authenticate(&mut self, req: &Request) -> Result<(), Box<Response>> {
        let cseq = Some(req.cseq);
        let challenge = |stale: bool| {
            let random = crate::error::random::<16>().unwrap_or([0; 16]);
            let value = self.out.gate.challenge(random, stale, self.out.mono());
            Box::new(Response::new(status::UNAUTHORIZED, cseq).with("WWW-Authenticate", value))
        };
        let creds =
            match self
                .out
                .gate
                .check(req.header("Authorization"), &req.url, self.out.mono())
            {
                Verdict::Challenge { stale } => return Err(challenge(stale)),
                Verdict::Prove(c) => c,
            };
        let ip = self.peer.ip().to_canonical();
        let user = creds.username.clone();
        let method = req.method.as_str().to_string();
        match self
            .out
            .auth
            .digest_login(&user, ip, move |ha1| creds.check(&method, ha1))
            .await
        {
            Ok(role) if role.may(Right::LiveView) => {
                self.presence = Some(self.out.auth.online.enter(
                    &user,
                    role,
                    ip,
                    FrontDoor::Rtsp,
                    self.out.auth.now(),
                ));
                self.viewer = Some(user);
                self.role = Some(role);
                Ok(())
            }
            Ok(_) => Err(Box::new(Response::new(status::FORBIDDEN, cseq))),
            Err(ApiError::Busy) => Err(Box::new(Response::new(status::SERVICE_UNAVAILABLE, cseq))),
            Err(
                ApiError::Locked { .. }
                | ApiError::BadCredentials { .. }
                | ApiError::NotInitialized,
            ) => Err(challenge(false)),
            Err(e) => {
                tracing::error!(error = %e, "RTSP login");
                Err(Box::new(Response::new(status::INTERNAL_SERVER_ERROR, cseq)))
            }
        }
    }

    /// Starts hearing the backchannel, if the session set it up.
    fn listen_back(&mut self, tracks: &[session::Track]) {
        let Some(t) = tracks
            .iter()
            .find(|t| t.track == session::track::BACKCHANNEL)
        else {
            return;
        };
        let talk = self
            .out
            .services
            .intercom
            .talk_back(self.viewer.as_deref().unwrap_or("?"));
        match t.transport {
            rtsp::transport::Chosen::Tcp { .. } => self.talk = Some(talk),
            rtsp::transport::Chosen::Udp { .. } => {
                if let Some(u) = self.udp.get(&t.track) {
                    let (sock, peer) = u.receiver();
                    self.talk_udp = Some(Running(tokio::spawn(backchannel::receive_udp(
                        sock,
                        peer,
                        talk,
                        self.heard.clone(),
                        self.out.start,
                    ))));
                }
            }
        }
    }

    /// The SDP of the stream: its parameter sets from its next key frame.
    async fn describe(&self, d: &session::Describe) -> Result<String, u16> {
        let source = self.out.source(d.stream).ok_or(status::NOT_FOUND)?;
        if d.backchannel && matches!(d.stream, Stream::Ipc(_)) {
            // A relayed camera's speaker is not the door's.
            return Err(status::OPTION_NOT_SUPPORTED);
        }
        let mut rx = source.subscribe(1);
        let frame = crate::video::hub::next_key(&mut rx, FIRST_PICTURE)
            .await
            .ok_or(status::SERVICE_UNAVAILABLE)?;
        let nals = media::h264::split_annex_b(&frame.data);
        let find = |t| nals.iter().find(|n| media::h264::nal_type(n) == t).cloned();
        let (sps, pps) = (
            find(media::h264::SPS).ok_or(status::SERVICE_UNAVAILABLE)?,
            find(media::h264::PPS).ok_or(status::SERVICE_UNAVAILABLE)?,
        );
        let address = match self.local.ip().to_canonical() {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => a.to_string(),
        };
        let session_id = u64::from_be_bytes(crate::error::random::<8>().unwrap_or([1; 8])) >> 1;
        Description {
            session_id,
            version: 1,
            address: &address,
            name: "vto",
            sps: &sps,
            pps: &pps,
            framerate: None,
            size: Some((u32::from(frame.width), u32::from(frame.height))),
            audio: d.audio,
            backchannel: d.backchannel,
            control_base: None,
        }
        .to_sdp()
        .map_err(|_| status::SERVICE_UNAVAILABLE)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Completes when the connection is ended from Online Users.
async fn ended(p: &mut Option<Presence>) {
    match p {
        Some(p) => p.ended().await,
        None => std::future::pending().await,
    }
}

/// The connection's one writer: replies and interleaved RTP in order.
async fn write_all(mut wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Bytes>) {
    while let Some(b) = rx.recv().await {
        if wr.write_all(&b).await.is_err() {
            return;
        }
    }
    let _ = wr.shutdown().await;
}
