//! One RTSP session on one connection (RFC 2326 section 10 and appendix
//! A.2): the requests it answers, its state and its timeout.
//!
//! ```text
//! Init --SETUP--> Ready --PLAY--> Playing
//!                 Ready <--PAUSE-- Playing
//! Ready, Playing --TEARDOWN--> Init
//! ```
//!
//! [`Session::handle`] takes a request and the time and says what to do
//! ([`Outcome`]). Where the answer needs what only the caller knows it
//! returns a step for the caller to finish: DESCRIBE (the SDP: the
//! camera's parameter sets), SETUP (the UDP ports it bound and its SSRC,
//! through [`Session::setup`], which commits the track) and PLAY (each
//! track's next sequence number and RTP timestamp for `RTP-Info`).
//!
//! Tracks: 0 the video (H.264), 1 the door's audio (PCMU), 2 the ONVIF
//! backchannel (audio the client sends to the door). The backchannel is
//! offered only to a client whose DESCRIBE required
//! `www.onvif.org/ver20/backchannel` (ONVIF Streaming Specification 5.3);
//! its SETUP is accepted when that DESCRIBE, or the SETUP itself, required
//! it: GStreamer's rtspsrc repeats the tag on that SETUP, go2rtc sends it
//! on DESCRIBE only (`tests/fixtures/`). A `Require` tag the device does
//! not serve is answered 551 Option not supported with `Unsupported`
//! (RFC 2326 12.32), which ONVIF clients take as "try without".
//!
//! The session id is the caller's (random). A request of the session, or
//! an interleaved frame on one of its channels, keeps it alive; after
//! [`TIMEOUT_SECS`] without either it has [`expired`](Session::expired).
//! One session per connection: a SETUP without a `Session` header while
//! one is open joins it (some clients leave the header off after the
//! first SETUP); a `Session` header naming any other id is 454.

use bytes::Bytes;

use crate::message::{status, Method, Request, Response};
use crate::target::{bare_track, content_base, Stream, Target};
use crate::transport::{self, Chosen, Lower, Transport};

/// The session timeout announced (`Session: <id>;timeout=60`).
pub const TIMEOUT_SECS: u64 = 60;
const TIMEOUT_MS: u64 = TIMEOUT_SECS * 1000;
/// The ONVIF backchannel's option tag (ONVIF Streaming Specification 5.3.1).
pub const BACKCHANNEL_TAG: &str = "www.onvif.org/ver20/backchannel";
/// The methods answered (OPTIONS' `Public`; listing GET_PARAMETER makes
/// ffmpeg and GStreamer use it as their keep-alive).
pub const PUBLIC: &str =
    "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER";

/// Track numbers (the SDP's `trackID=N`).
pub mod track {
    pub const VIDEO: u8 = 0;
    pub const AUDIO: u8 = 1;
    pub const BACKCHANNEL: u8 = 2;
}

/// What the device offers, the same for every session of a listener.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Track 1: the door's audio (PCMU).
    pub audio: bool,
    /// Track 2: the ONVIF backchannel, to clients that require it.
    pub backchannel: bool,
    /// UDP is served besides TCP interleaved.
    pub udp: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Init,
    Ready,
    Playing,
}

/// A track set up in the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    pub track: u8,
    /// The URL the client's SETUP named it by: `RTP-Info` repeats it, as
    /// ffmpeg matches it against its own to take `rtptime`.
    pub url: String,
    pub transport: Chosen,
}

impl Track {
    /// The server sends RTP on it (the backchannel only receives).
    pub fn sends(&self) -> bool {
        self.track != track::BACKCHANNEL
    }
}

/// Which track an interleaved frame from the client belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    pub track: u8,
    /// On the track's RTCP channel (a receiver report); else RTP (the
    /// backchannel's audio).
    pub rtcp: bool,
}

/// What to do about a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send this; nothing else changes.
    Reply(Response),
    /// DESCRIBE: answer with [`Describe::reply`] and the SDP of
    /// `stream` (see `crate::sdp`), or 404 if the device has no such
    /// stream.
    Describe(Describe),
    /// SETUP accepted by the session: for UDP bind the server's ports,
    /// then send [`Session::setup`]'s answer (which commits the track), or
    /// [`Setup::refuse`] if the stream or track cannot be served.
    Setup(Setup),
    /// PLAY: the session is playing. Send [`Play::reply`] with each
    /// sending track's next sequence number and RTP timestamp, then send
    /// media on [`Play::tracks`] (each client starts at a key frame with
    /// its SPS and PPS).
    Play(Play),
    /// PAUSE while playing: stop sending media, send this.
    Pause(Response),
    /// TEARDOWN: stop sending media, release the session's UDP ports,
    /// send this. The connection may start a new session.
    Teardown(Response),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Describe {
    pub cseq: u32,
    pub stream: Stream,
    /// The Content-Base the answer carries.
    pub content_base: String,
    /// Offer track 1 (the configuration's).
    pub audio: bool,
    /// Offer the backchannel, track 2: the client required it.
    pub backchannel: bool,
}

impl Describe {
    pub fn reply(&self, sdp: impl Into<Bytes>) -> Response {
        Response::ok(self.cseq)
            .with("Content-Base", self.content_base.clone())
            .with_body("application/sdp", sdp)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setup {
    pub cseq: u32,
    pub stream: Stream,
    pub track: u8,
    /// The request URL as written.
    pub url: String,
    /// The alternative chosen from the client's Transport header.
    pub transport: Transport,
}

impl Setup {
    /// An answer that sets up nothing (the session is unchanged).
    pub fn refuse(&self, status: u16) -> Response {
        Response::new(status, Some(self.cseq))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Play {
    pub cseq: u32,
    /// The tracks set up, with their transports.
    pub tracks: Vec<Track>,
    /// The session was already playing (PLAY repeated): media goes on.
    pub was_playing: bool,
    session: String,
}

impl Play {
    /// The answer: `Range: npt=0.000-` (a live stream from now) and
    /// `RTP-Info` with `(track, seq, rtptime)` for each sending track
    /// (RFC 2326 12.33): the sequence number and RTP timestamp of the
    /// first packet the client will get on it. Entries for tracks not set
    /// up, or that do not send, are left out.
    pub fn reply(&self, rtp_info: &[(u8, u16, u32)]) -> Response {
        let info: Vec<String> = rtp_info
            .iter()
            .filter_map(|&(n, seq, rtptime)| {
                let t = self.tracks.iter().find(|t| t.track == n && t.sends())?;
                Some(format!("url={};seq={seq};rtptime={rtptime}", t.url))
            })
            .collect();
        let r = Response::ok(self.cseq)
            .with("Session", self.session.clone())
            .with("Range", "npt=0.000-");
        if info.is_empty() {
            r
        } else {
            r.with("RTP-Info", info.join(","))
        }
    }
}

/// One connection's session.
#[derive(Clone, Debug)]
pub struct Session {
    id: String,
    config: Config,
    state: State,
    /// The stream of the tracks set up (one per session).
    stream: Option<Stream>,
    tracks: Vec<Track>,
    /// The stream of the last DESCRIBE on this connection, for SETUP URLs
    /// that lost it (`target::bare_track`).
    described: Option<Stream>,
    /// The last DESCRIBE required the backchannel.
    described_backchannel: bool,
    last_ms: u64,
}

impl Session {
    /// A connection's session, not yet set up: `id` is what SETUP will
    /// announce (random, from the caller); `now_ms` starts the timeout.
    pub fn new(id: impl Into<String>, config: Config, now_ms: u64) -> Self {
        Self {
            id: id.into(),
            config,
            state: State::Init,
            stream: None,
            tracks: Vec::new(),
            described: None,
            described_backchannel: false,
            last_ms: now_ms,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn config(&self) -> Config {
        self.config
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The stream of the tracks set up.
    pub fn stream(&self) -> Option<Stream> {
        self.stream
    }

    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// A SETUP has made the session (until TEARDOWN).
    pub fn is_open(&self) -> bool {
        self.state != State::Init
    }

    /// Keeps the session alive (RTCP from the client over UDP).
    pub fn touch(&mut self, now_ms: u64) {
        self.last_ms = self.last_ms.max(now_ms);
    }

    /// Nothing from the client for longer than the timeout: end the
    /// session (and, with nothing else on it, the connection). Before a
    /// SETUP this is an idle connection.
    pub fn expired(&self, now_ms: u64) -> bool {
        now_ms.saturating_sub(self.last_ms) > TIMEOUT_MS
    }

    /// The track of an interleaved frame's channel; the frame keeps the
    /// session alive. `None`: a channel not set up (drop the frame).
    pub fn interleaved(&mut self, channel: u8, now_ms: u64) -> Option<Channel> {
        let found = self.tracks.iter().find_map(|t| match t.transport {
            Chosen::Tcp {
                interleaved: (a, b),
            } if channel == a || channel == b => Some(Channel {
                track: t.track,
                rtcp: channel == b,
            }),
            _ => None,
        })?;
        self.touch(now_ms);
        Some(found)
    }

    /// What to do about a request.
    pub fn handle(&mut self, req: &Request, now_ms: u64) -> Outcome {
        let cseq = Some(req.cseq);
        let reply = |code| Outcome::Reply(Response::new(code, cseq));
        if req.version.major != 1 {
            return reply(status::RTSP_VERSION_NOT_SUPPORTED);
        }
        let unsupported: Vec<&str> = req
            .requires()
            .filter(|t| !(self.config.backchannel && t.eq_ignore_ascii_case(BACKCHANNEL_TAG)))
            .collect();
        if !unsupported.is_empty() {
            return Outcome::Reply(
                Response::new(status::OPTION_NOT_SUPPORTED, cseq)
                    .with("Unsupported", unsupported.join(", ")),
            );
        }
        // DESCRIBE is outside any session; the others must name this one
        // if they name one at all.
        let named = req.session_id();
        if req.method != Method::Describe
            && named.is_some_and(|id| !self.is_open() || id != self.id)
        {
            return reply(status::SESSION_NOT_FOUND);
        }
        self.touch(now_ms);
        match &req.method {
            Method::Options => Outcome::Reply(
                self.with_session(Response::ok(req.cseq), named.is_some())
                    .with("Public", PUBLIC),
            ),
            Method::Describe => self.describe(req),
            Method::Setup => self.prepare_setup(req),
            Method::Play => self.play(req),
            Method::Pause => match self.state {
                State::Init => reply(status::METHOD_NOT_VALID_IN_THIS_STATE),
                State::Ready => Outcome::Reply(self.with_session(Response::ok(req.cseq), true)),
                State::Playing => {
                    self.state = State::Ready;
                    Outcome::Pause(self.with_session(Response::ok(req.cseq), true))
                }
            },
            Method::Teardown => {
                if !self.is_open() {
                    // Nothing to end (a client cleaning up after a failed
                    // SETUP): fine.
                    return Outcome::Reply(Response::ok(req.cseq));
                }
                let r = self.with_session(Response::ok(req.cseq), true);
                self.state = State::Init;
                self.stream = None;
                self.tracks.clear();
                Outcome::Teardown(r)
            }
            Method::GetParameter => {
                // A keep-alive, with or without a body: parameters are not
                // served, and a 451 would read as a failed keep-alive.
                Outcome::Reply(self.with_session(Response::ok(req.cseq), named.is_some()))
            }
            Method::SetParameter if req.body.is_empty() => {
                Outcome::Reply(self.with_session(Response::ok(req.cseq), named.is_some()))
            }
            Method::SetParameter => reply(status::PARAMETER_NOT_UNDERSTOOD),
            Method::Announce | Method::Record | Method::Redirect => Outcome::Reply(
                Response::new(status::METHOD_NOT_ALLOWED, cseq).with("Allow", PUBLIC),
            ),
            Method::Other(_) => reply(status::NOT_IMPLEMENTED),
        }
    }

    /// Commits a SETUP that [`Session::handle`] accepted and answers it:
    /// `server_port` is the server's RTP and RTCP ports for a UDP track
    /// (`None` if they could not be bound: then 461, after which clients
    /// retry over TCP), `ssrc` the server's for what it sends on the track.
    /// TCP tracks get the channels asked for, or the lowest free pair.
    pub fn setup(
        &mut self,
        setup: Setup,
        server_port: Option<(u16, u16)>,
        ssrc: Option<u32>,
    ) -> Response {
        let cseq = Some(setup.cseq);
        if self.state == State::Playing
            || self.tracks.iter().any(|t| t.track == setup.track)
            || self.stream.is_some_and(|s| s != setup.stream)
        {
            return Response::new(status::METHOD_NOT_VALID_IN_THIS_STATE, cseq);
        }
        let chosen = match setup.transport.lower {
            Lower::Tcp { interleaved } => {
                let free = |(a, b): (u8, u8)| {
                    self.tracks.iter().all(|t| match t.transport {
                        Chosen::Tcp {
                            interleaved: (c, d),
                        } => ![c, d].contains(&a) && ![c, d].contains(&b),
                        Chosen::Udp { .. } => true,
                    })
                };
                let pair = interleaved.filter(|&p| free(p)).or_else(|| {
                    (0..=u8::MAX - 1)
                        .step_by(2)
                        .map(|a| (a, a + 1))
                        .find(|&p| free(p))
                });
                match pair {
                    Some(interleaved) => Chosen::Tcp { interleaved },
                    None => return Response::new(status::UNSUPPORTED_TRANSPORT, cseq),
                }
            }
            Lower::Udp { client_port } => match server_port {
                Some(server_port) => Chosen::Udp {
                    client_port,
                    server_port,
                },
                None => return Response::new(status::UNSUPPORTED_TRANSPORT, cseq),
            },
        };
        self.tracks.push(Track {
            track: setup.track,
            url: setup.url,
            transport: chosen,
        });
        self.tracks.sort_by_key(|t| t.track);
        self.stream = Some(setup.stream);
        self.state = State::Ready;
        Response::new(status::OK, cseq)
            .with("Transport", chosen.header(ssrc))
            .with("Session", self.session_header())
    }

    fn session_header(&self) -> String {
        format!("{};timeout={TIMEOUT_SECS}", self.id)
    }

    /// Adds `Session` when the session is open and `named` (the request
    /// carried it, or the method is the session's own).
    fn with_session(&self, r: Response, named: bool) -> Response {
        if named && self.is_open() {
            r.with("Session", self.session_header())
        } else {
            r
        }
    }

    fn describe(&mut self, req: &Request) -> Outcome {
        let target = match Target::parse(&req.url) {
            Ok(t) => t,
            Err(e) => return Outcome::Reply(Response::new(e.status(), Some(req.cseq))),
        };
        let backchannel = req.requires_tag(BACKCHANNEL_TAG);
        self.described = Some(target.stream);
        self.described_backchannel = backchannel;
        Outcome::Describe(Describe {
            cseq: req.cseq,
            stream: target.stream,
            content_base: content_base(&req.url),
            audio: self.config.audio,
            backchannel,
        })
    }

    fn offers(&self, track: u8) -> bool {
        match track {
            track::VIDEO => true,
            track::AUDIO => self.config.audio,
            track::BACKCHANNEL => self.config.backchannel,
            _ => false,
        }
    }

    fn prepare_setup(&mut self, req: &Request) -> Outcome {
        let cseq = Some(req.cseq);
        let reply = |code| Outcome::Reply(Response::new(code, cseq));
        let target = match Target::parse(&req.url) {
            Ok(t) => t,
            Err(e) => match (bare_track(&req.url), self.stream.or(self.described)) {
                (Some(n), Some(stream)) => Target {
                    stream,
                    track: Some(n),
                },
                _ => return reply(e.status()),
            },
        };
        let Some(track) = target.track else {
            return reply(status::AGGREGATE_OPERATION_NOT_ALLOWED);
        };
        if !self.offers(track) {
            return reply(status::NOT_FOUND);
        }
        if track == track::BACKCHANNEL
            && !(self.described_backchannel || req.requires_tag(BACKCHANNEL_TAG))
        {
            return reply(status::OPTION_NOT_SUPPORTED);
        }
        // One stream per session; tracks are added before PLAY, once each.
        if self.state == State::Playing
            || self.tracks.iter().any(|t| t.track == track)
            || self.stream.is_some_and(|s| s != target.stream)
        {
            return reply(status::METHOD_NOT_VALID_IN_THIS_STATE);
        }
        let Some(header) = req.header("Transport") else {
            return reply(status::BAD_REQUEST);
        };
        let transport = match transport::choose(header, self.config.udp) {
            Ok(t) => t,
            Err(e) => return reply(e.status()),
        };
        Outcome::Setup(Setup {
            cseq: req.cseq,
            stream: target.stream,
            track,
            url: req.url.clone(),
            transport,
        })
    }

    fn play(&mut self, req: &Request) -> Outcome {
        let cseq = Some(req.cseq);
        if self.state == State::Init {
            return Outcome::Reply(Response::new(status::METHOD_NOT_VALID_IN_THIS_STATE, cseq));
        }
        // A live stream plays from now whatever the range; one in no
        // known unit is an error (RFC 2326 12.29).
        if let Some(range) = req.header("Range") {
            let unit = range.split('=').next().unwrap_or_default().trim();
            let known = ["npt", "clock", "smpte", "smpte-30-drop", "smpte-25"];
            if !known.iter().any(|k| unit.eq_ignore_ascii_case(k)) {
                return Outcome::Reply(Response::new(status::INVALID_RANGE, cseq));
            }
        }
        let was_playing = self.state == State::Playing;
        self.state = State::Playing;
        Outcome::Play(Play {
            cseq: req.cseq,
            tracks: self.tracks.clone(),
            was_playing,
            session: self.session_header(),
        })
    }
}

#[cfg(test)]
mod tests;
