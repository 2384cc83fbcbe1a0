//! Door calls (issue 18): the visitor presses Call, the room's indoor
//! monitors ring with the door's video, the resident answers, talks and
//! opens the door with the First Unlock Command.
//!
//! - here: [`IntercomService`], the one place a call of the door starts
//!   (the simulator's button, the `call` API; every front door calls
//!   [`IntercomService::press`]), follows its SIP events and its media,
//!   opens the door on the command and writes the call log row;
//! - `session.rs`: the call's RTP (the camera's H.264 and the door
//!   microphone's G.711 out, the talker's audio and keys in);
//! - `message.rs`: Leave Message, the visitor recorded when nobody
//!   answered.
//!
//! The SIP side is the SIP server's dispatcher (`sip::call` under
//! [`SipService::door_call`]): it shares the registrations and sockets.

pub mod message;
pub mod session;
pub mod talk_back;

use std::{sync::Arc, time::Duration};

use app::{
    error::ApiError,
    model::{
        access::{UnlockMethod, UnlockSnapshot},
        call_log::{CallRecord, CallType, EndState},
        intercom::{CallEnded, CallPhase, CallStatus, TalkAnswer},
        message::{MessagePage, MessageRecord},
        settings::StorageUsage,
        time::UnixMillis,
    },
    services::{Caller, Intercom},
};
use bytes::Bytes;
use sip::{call, dispatch::DoorCall, sdp};
use tokio::sync::{mpsc, watch};

use crate::{
    door::{
        audio::Speaker,
        lock::{Attempt, LockService},
    },
    household::sip_server::SipService,
    store::{
        settings::{SettingsStore, ACCESS, BASIC},
        tables::{RoomRecord, SIP_ROOMS},
        Read,
    },
    system::time::TimeService,
    video::{live::Talk, storage_point::StoragePoint, Media},
};
use session::{Heard, Pair, Session};

/// How long a browser's wait for a change lasts before it asks again.
const STATUS_WAIT: Duration = Duration::from_secs(20);
/// How long the offer waits for the camera's SPS and PPS.
const CAMERA_WAIT: Duration = Duration::from_secs(3);
/// 20 ms blocks of a talking browser's voice waiting for the speaker.
const VOICE_QUEUE: usize = 25;
/// The longest pause between two keys of the First Unlock Command.
const KEY_TIMEOUT_MS: i64 = 5_000;
/// A number the keypad dials: a room, a monitor, the centre.
const MAX_NUMBER: usize = 32;
/// How long the door's prompt before a message sounds.
const PROMPT: Duration = Duration::from_millis(1000);
/// The simulated speaker's level while the prompt sounds.
const PROMPT_LEVEL: u8 = 80;

/// How the device's calls go (command line options).
#[derive(Clone)]
pub struct CallConfig {
    /// `--rtp-ports`.
    pub rtp_ports: (u16, u16),
    /// `--ring-secs`, in milliseconds.
    pub ring_ms: i64,
    /// `--audio-out`: the door's real speaker (None: simulated).
    pub speaker: Option<Speaker>,
}

/// Who pressed Call, for the logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Press {
    /// The simulated door panel or the `call` API.
    Api,
    /// The Call button on a GPIO line.
    Button,
}

/// The call going on.
struct Current {
    call_id: String,
    /// The VTO No. calling.
    from: String,
    callee: String,
    room: String,
    centre: bool,
    begin: UnixMillis,
    answered: Option<(UnixMillis, tokio::time::Instant)>,
    offer: sdp::Offer,
    /// The call's RTP toward monitors; None once a browser took the call.
    session: Option<Session>,
    /// The browser that answered (its live viewer id), the call's talker.
    browser: Option<String>,
    /// Rejected from a browser: ends as Rejected, not Cancelled.
    rejected: bool,
    /// The early media answer the session follows (one branch's).
    early: Option<usize>,
    /// Watches the keys for the First Unlock Command once answered.
    matcher: Option<media::dtmf::Matcher>,
    /// Where the answer came from (its media address), for the unlock log.
    source: String,
    /// Auto Snapshot (talking), being taken.
    snapshot: Option<tokio::task::JoinHandle<UnlockSnapshot>>,
    /// A monitor's Monitor (it called the door), not a door call.
    monitor: bool,
}

/// A call's media before it starts: its RTP sockets, what we offer, the
/// camera. Dropped before the call starts, the ports are free again.
struct Prepared {
    audio: Pair,
    video: Option<Pair>,
    offer: sdp::Offer,
    door: Arc<crate::video::Source>,
}

pub struct IntercomService {
    pub settings: Arc<SettingsStore>,
    pub time: Arc<TimeService>,
    pub sip: Arc<SipService>,
    pub media: Arc<Media>,
    pub lock: Arc<LockService>,
    pub storage: Arc<StoragePoint>,
    pub config: CallConfig,
    /// A visitor's message is being recorded: Call does nothing meanwhile.
    recording: std::sync::atomic::AtomicBool,
    status: watch::Sender<CallStatus>,
    current: std::sync::Mutex<Option<Current>>,
    heard: mpsc::Sender<(String, Heard)>,
    heard_rx: std::sync::Mutex<Option<mpsc::Receiver<(String, Heard)>>>,
    /// The talker's number ([`CallStatus::talker`]): a browser's voice is
    /// played, and its leaving ends the call, only while it is the talker.
    talker: Arc<std::sync::atomic::AtomicU64>,
    /// Who talks through the RTSP backchannel outside calls.
    floor: std::sync::Mutex<talk_back::Floor>,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid("call-number", message)
}

/// The user part of a SIP URI (`sip:9901%231@…` -> `9901#1`).
fn user_of(uri: &str) -> String {
    sip::header::SipUri::parse(uri.trim_matches(['<', '>']))
        .ok()
        .and_then(|u| u.user)
        .unwrap_or_else(|| uri.to_string())
}

impl IntercomService {
    pub fn new(
        settings: Arc<SettingsStore>,
        time: Arc<TimeService>,
        sip: Arc<SipService>,
        media: Arc<Media>,
        lock: Arc<LockService>,
        storage: Arc<StoragePoint>,
        config: CallConfig,
    ) -> Self {
        let (heard, heard_rx) = mpsc::channel(64);
        Self {
            settings,
            time,
            sip,
            media,
            lock,
            storage,
            config,
            recording: Default::default(),
            // Version 0 is what a page that knows nothing asks with.
            status: watch::Sender::new(CallStatus {
                version: 1,
                ..CallStatus::default()
            }),
            current: std::sync::Mutex::new(None),
            heard,
            heard_rx: std::sync::Mutex::new(Some(heard_rx)),
            talker: Default::default(),
            floor: Default::default(),
        }
    }

    /// A new talker's number.
    fn next_talker(&self) -> u64 {
        self.talker
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }

    /// The call's status as shown (with the device's time display).
    pub fn shown(&self) -> CallStatus {
        CallStatus {
            display: self.time.display(),
            ..self.status.borrow().clone()
        }
    }

    /// The call status's version alone: it only grows.
    pub fn version(&self) -> u64 {
        self.status.borrow().version
    }

    /// A receiver that sees each change of the status ([`Self::shown`]
    /// reads it).
    pub fn follow(&self) -> watch::Receiver<CallStatus> {
        self.status.subscribe()
    }

    fn set_status(&self, f: impl FnOnce(&mut CallStatus)) {
        self.status.send_modify(|s| {
            f(s);
            s.version += 1;
        });
    }

    /// The number the Call button dials: the first room of Room No.
    /// Management (a Villa Station has one).
    async fn first_room(&self) -> Result<String, ApiError> {
        let rooms: Vec<(String, RoomRecord)> =
            self.settings.read(|r| Ok(r.all(SIP_ROOMS)?)).await?;
        rooms
            .into_iter()
            .map(|(no, _)| no)
            .min_by(|a, b| (a.len(), a).cmp(&(b.len(), b)))
            .ok_or_else(|| invalid("No room to call: add one in Room No. Management"))
    }

    /// Call is pressed: rings `number` (None: the Villa Station's room).
    /// A press during a call does nothing (it is logged).
    pub async fn press(&self, how: Press, number: Option<String>) -> Result<CallStatus, ApiError> {
        if let Some(c) = lock(&self.current).as_ref() {
            tracing::info!(?how, call_id = %c.call_id, "Call pressed during a call: ignored");
            return Ok(self.shown());
        }
        if self.recording.load(std::sync::atomic::Ordering::SeqCst) {
            tracing::info!(?how, "Call pressed during a message: ignored");
            return Ok(self.shown());
        }
        let callee = match number.map(|n| n.trim().to_string()) {
            Some(n) if n.is_empty() => return Err(invalid("Enter a room number")),
            Some(n)
                if n.len() > MAX_NUMBER
                    || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '#') =>
            {
                return Err(invalid("A number is digits (and # for one monitor)"))
            }
            Some(n) => n,
            None => self.first_room().await?,
        };
        let basic = self.settings.get(BASIC).await?;
        let Prepared {
            audio,
            video,
            offer,
            door,
        } = self.prepare().await?;
        let setup = DoorCall {
            callee: callee.clone(),
            user: basic.vto_no.clone(),
            offer: Bytes::from(offer.to_sdp()),
            ring_timeout: self.config.ring_ms,
            max_talk: call::MAX_TALK_MS,
        };
        let centre = callee == basic.centre_call_no;
        let begin = self.time.now();
        let mut current = lock(&self.current);
        if current.is_some() {
            tracing::info!(?how, "Call pressed during a call: ignored");
            return Ok(self.shown());
        }
        let row = |end_state| CallRecord {
            call_type: if centre {
                CallType::CentreCall
            } else {
                CallType::DoorCall
            },
            from: basic.vto_no.clone(),
            to: callee.clone(),
            room_no: if centre {
                String::new()
            } else {
                callee.clone()
            },
            begin,
            talk_ms: None,
            end_state,
            snapshot: None,
        };
        let call_id = match self.sip.door_call(setup) {
            Ok(id) => id,
            Err((code, reason)) => {
                tracing::info!(?how, %callee, code, %reason, "door call refused");
                match code {
                    480 => self.sip.log_call(row(EndState::NotAnswered)),
                    486 => self.sip.log_call(row(EndState::Busy)),
                    _ => {}
                }
                return Err(invalid(format!("{callee}: {reason}")));
            }
        };
        tracing::info!(?how, %callee, %call_id, "door call");
        let session = self.session(&call_id, audio, video, door);
        *current = Some(Current {
            call_id,
            from: basic.vto_no.clone(),
            callee: callee.clone(),
            room: if centre {
                String::new()
            } else {
                callee.clone()
            },
            centre,
            begin,
            answered: None,
            offer,
            session: Some(session),
            browser: None,
            rejected: false,
            early: None,
            matcher: None,
            source: String::new(),
            snapshot: None,
            monitor: false,
        });
        // Shown before the call's first event can be handled (that waits
        // for `current`).
        self.set_status(|s| {
            s.phase = CallPhase::Ringing;
            s.callee = callee;
            s.answered_by.clear();
            s.since = Some(begin);
            s.speaker_level = 0;
            s.watch_answered = basic.watch_answered;
        });
        drop(current);
        Ok(self.shown())
    }

    /// The RTP sockets, our side of the SDP and the camera for a call.
    async fn prepare(&self) -> Result<Prepared, ApiError> {
        let ip = self
            .sip
            .media_ip()
            .ok_or_else(|| invalid("The SIP port is off (--sip off): no call can be made"))?;
        let door = self
            .media
            .source("door")
            .ok_or_else(|| invalid("No door camera"))?;
        // Reserved here, freed if the request is dropped before the call
        // starts (the sockets close with it).
        let audio = Pair::bind(ip, self.config.rtp_ports)
            .await
            .map_err(internal)?;
        let h264 = session::parameter_sets(&door, CAMERA_WAIT).await;
        let video = match h264 {
            Some(_) => Some(
                Pair::bind(ip, self.config.rtp_ports)
                    .await
                    .map_err(internal)?,
            ),
            None => None,
        };
        let mut id = [0u8; 8];
        let _ = getrandom::fill(&mut id);
        let offer = sdp::Offer {
            address: ip,
            session_id: u64::from_be_bytes(id) >> 1,
            session_version: 1,
            audio_port: audio.port(),
            video: video.as_ref().zip(h264).map(|(v, h264)| sdp::OfferVideo {
                port: v.port(),
                h264,
            }),
        };
        Ok(Prepared {
            audio,
            video,
            offer,
            door,
        })
    }

    /// A monitor called the door ("Monitor"): answered at once with the
    /// door's video and audio when the door is free, else 486. The monitor
    /// may talk and open the door like one that answered a door call.
    async fn watch(self: Arc<Self>, call_id: String, caller: String, offer: Bytes) {
        let busy = lock(&self.current).is_some()
            || self.recording.load(std::sync::atomic::Ordering::SeqCst);
        if busy {
            tracing::info!(%call_id, %caller, "Monitor refused: the door is in a call");
            self.sip.door_refuse(&call_id, 486, "Busy Here");
            return;
        }
        let prepared = match self.prepare().await {
            Ok(p) => p,
            Err(why) => {
                tracing::warn!(%call_id, error = %why, "Monitor refused");
                self.sip.door_refuse(&call_id, 503, "Service Unavailable");
                return;
            }
        };
        let allowed = self.sip.door_media_ip(&call_id, 0);
        let answer = sdp::parse(&offer)
            .and_then(|remote| sdp::answer(&prepared.offer, &remote))
            .map_err(|e| e.to_string())
            .and_then(|a| match media_allowed(&a.media, allowed) {
                true => Ok(a),
                false => Err("its media is at another address than the monitor's".into()),
            });
        let answer = match answer {
            Ok(a) => a,
            Err(why) => {
                tracing::warn!(%call_id, %caller, error = %why, "Monitor refused: the offer is not usable");
                self.sip.door_refuse(&call_id, 488, "Not Acceptable Here");
                return;
            }
        };
        let matcher = self.unlock_matcher().await;
        let vto_no = self
            .settings
            .get(BASIC)
            .await
            .map(|b| b.vto_no)
            .unwrap_or_default();
        let room = self.sip.room_of(&caller).unwrap_or_default();
        let now = self.time.now();
        {
            let mut current = lock(&self.current);
            if current.is_some() {
                drop(current);
                self.sip.door_refuse(&call_id, 486, "Busy Here");
                return;
            }
            let Prepared {
                audio,
                video,
                offer,
                door,
            } = prepared;
            let session = self.session(&call_id, audio, video, door);
            session.send_to(answer.media.clone());
            *current = Some(Current {
                call_id: call_id.clone(),
                from: caller.clone(),
                callee: vto_no,
                room,
                centre: false,
                begin: now,
                answered: Some((now, crate::clock::monotonic())),
                offer,
                session: Some(session),
                browser: None,
                rejected: false,
                early: None,
                matcher,
                source: answer.media.audio.remote.ip().to_string(),
                snapshot: None,
                monitor: true,
            });
        }
        // Shown before the call's end can be handled (that waits for
        // `current`, set above).
        self.set_status(|s| {
            s.phase = CallPhase::Monitor;
            s.callee = caller.clone();
            s.answered_by = caller.clone();
            s.since = Some(now);
            s.speaker_level = 0;
        });
        if !self.sip.door_accept(&call_id, Bytes::from(answer.sdp)) {
            tracing::info!(%call_id, %caller, "Monitor: the monitor gave up before the answer");
            if lock(&self.current)
                .take_if(|c| c.call_id == call_id)
                .is_some()
            {
                self.idle(caller, true, EndState::Cancelled, None);
            }
            return;
        }
        tracing::info!(%call_id, %caller, "Monitor: a monitor watches the door");
    }

    /// Watches the answering side's keys for the First Unlock Command.
    async fn unlock_matcher(&self) -> Option<media::dtmf::Matcher> {
        let command = self.settings.get(ACCESS).await.ok()?.first_unlock_command;
        media::dtmf::Matcher::new(&command, KEY_TIMEOUT_MS).ok()
    }

    /// The call's media task; what it hears comes back to [`Self::run`]
    /// tagged with the call.
    fn session(
        &self,
        call_id: &str,
        audio: Pair,
        video: Option<Pair>,
        door: Arc<crate::video::Source>,
    ) -> Session {
        let heard = self.heard.clone();
        let id = call_id.to_string();
        let (tx, mut rx) = mpsc::channel(16);
        tokio::spawn(async move {
            while let Some(h) = rx.recv().await {
                if heard.send((id.clone(), h)).await.is_err() {
                    return;
                }
            }
        });
        let speaker = self.config.speaker.clone();
        Session::start(audio, video, door, speaker, self.time.clock(), tx)
    }

    /// A signed-in browser answers the ringing call over WebRTC: it
    /// watches and hears the door, its microphone plays on the door's
    /// speaker, and it is the call's one talker: the monitors are
    /// cancelled "elsewhere". Refused when nothing rings or someone
    /// answered first, unless `over` (Take over): then the talk moves here
    /// from the monitor (BYE with the Reason "Call taken over elsewhere")
    /// or the browser (its connection ends; its page sees another talker)
    /// that had it.
    pub async fn answer_in_browser(
        &self,
        user: &str,
        offer: String,
        over: bool,
    ) -> Result<TalkAnswer, ApiError> {
        let refusal = |s: &CallStatus| match s.phase {
            CallPhase::Talking | CallPhase::Monitor => {
                ApiError::invalid("answer", format!("Answered at {}", s.answered_by))
            }
            _ => ApiError::invalid("answer", "No call to answer"),
        };
        let call_id = lock(&self.current)
            .as_ref()
            .filter(|c| !c.monitor && (over || c.answered.is_none()))
            .map(|c| c.call_id.clone())
            .ok_or_else(|| refusal(&self.status.borrow()))?;
        let door = self
            .media
            .source("door")
            .ok_or_else(|| ApiError::invalid("answer", "No door camera"))?;
        let live = self.media.live().map_err(internal)?.clone();
        let (voice, voice_rx) = mpsc::channel(VOICE_QUEUE);
        let (id, sdp) = live
            .talk(door, offer, voice)
            .await
            .map_err(|e| ApiError::invalid("answer", e))?;
        // Until the talk is ours, a failure ends the new connection.
        let mut guard = TalkGuard {
            live: Some(live.clone()),
            id: id.clone(),
        };
        // A browser talking already: the SIP side has nothing to take.
        let from_browser = lock(&self.current)
            .as_ref()
            .filter(|c| c.call_id == call_id)
            .and_then(|c| c.browser.clone());
        let taken = match from_browser {
            Some(_) => over,
            // Someone may have answered while the offer was answered.
            None => self.sip.door_take(&call_id, over),
        };
        if !taken {
            // A monitor's answer may not be shown yet: it won all the same.
            let status = self.status.borrow().clone();
            return Err(match status.phase {
                CallPhase::Ringing => ApiError::invalid("answer", "Answered elsewhere"),
                _ => refusal(&status),
            });
        }
        let now = self.time.now();
        let talker = self.next_talker();
        let former = {
            let mut current = lock(&self.current);
            match current.as_mut().filter(|c| c.call_id == call_id) {
                Some(c) => {
                    c.answered.get_or_insert((now, crate::clock::monotonic()));
                    // The monitors were cancelled (or hung up): no RTP
                    // toward them, nothing of theirs on the speaker.
                    c.session = None;
                    c.source = "browser".into();
                    Ok(c.browser.replace(id.clone()))
                }
                None => Err(()),
            }
        };
        let Ok(former) = former else {
            return Err(ApiError::invalid("answer", "The call ended"));
        };
        guard.live = None;
        if let Some(former) = former {
            tracing::info!(%call_id, "door call: the talking browser was taken over");
            let live = live.clone();
            tokio::spawn(async move { live.end(&former).await });
        }
        let answered_by = format!("{user} (browser)");
        tracing::info!(%call_id, %answered_by, over, "door call answered in a browser");
        self.set_status(|s| {
            s.phase = CallPhase::Talking;
            s.answered_by = answered_by;
            s.since = Some(now);
            s.talker = talker;
        });
        tokio::spawn(self.hear_browser(call_id, voice_rx, talker));
        Ok(TalkAnswer { id, sdp, talker })
    }

    /// The talking browser's voice: to the door's speaker and its meter
    /// while it is the talker; when its connection ends, so does the call
    /// (unless someone took over).
    fn hear_browser(
        &self,
        call_id: String,
        mut voice: mpsc::Receiver<Talk>,
        mine: u64,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let speaker = self.config.speaker.clone();
        let heard = self.heard.clone();
        let sip = self.sip.clone();
        let talker = self.talker.clone();
        let talking = move || talker.load(std::sync::atomic::Ordering::SeqCst) == mine;
        async move {
            let mut loudest = 0u8;
            let mut level_at = crate::clock::monotonic();
            while let Some(Talk::Voice(law, payload)) = voice.recv().await {
                if !talking() {
                    break;
                }
                if let Some(s) = &speaker {
                    s.play_g711(law, &payload);
                }
                loudest = loudest.max(session::level(law, &payload));
                if level_at.elapsed() >= session::LEVEL_EVERY {
                    let _ = heard
                        .try_send((call_id.clone(), Heard::Level(std::mem::take(&mut loudest))));
                    level_at = crate::clock::monotonic();
                }
            }
            if talking() {
                tracing::info!(%call_id, "the talking browser left: hanging up");
                sip.door_hang_up(&call_id);
            }
        }
    }

    /// Hangs up when `id` is the browser that talks.
    pub fn end_talk(&self, id: &str) -> bool {
        let call_id = lock(&self.current)
            .as_ref()
            .filter(|c| c.browser.as_deref() == Some(id))
            .map(|c| c.call_id.clone());
        match call_id {
            Some(call_id) => {
                self.sip.door_hang_up(&call_id);
                true
            }
            None => false,
        }
    }

    /// Rejects the ringing call for everyone.
    pub fn reject(&self) {
        let id = {
            let mut current = lock(&self.current);
            current
                .as_mut()
                .filter(|c| c.answered.is_none() && !c.monitor)
                .map(|c| {
                    c.rejected = true;
                    c.call_id.clone()
                })
        };
        if let Some(id) = id {
            self.sip.door_hang_up(&id);
        }
    }

    /// Hangs up the door's call, if there is one.
    pub fn hang_up_call(&self) {
        let id = lock(&self.current).as_ref().map(|c| c.call_id.clone());
        if let Some(id) = id {
            self.sip.door_hang_up(&id);
        }
    }

    /// Follows the calls' SIP events and what their media hear, until the
    /// SIP server stops.
    pub async fn run(self: Arc<Self>) {
        let this = &self;
        let (tx, mut sip_events) = mpsc::channel(crate::household::sip_server::DOOR_EVENTS);
        self.sip.set_door_events(tx);
        let Some(mut heard) = lock(&self.heard_rx).take() else {
            return;
        };
        loop {
            tokio::select! {
                ev = sip_events.recv() => match ev {
                    Some((call_id, event)) => this.on_event(&call_id, event).await,
                    None => return,
                },
                Some((call_id, h)) = heard.recv() => self.on_heard(&call_id, h).await,
            }
        }
    }

    async fn on_event(self: &Arc<Self>, call_id: &str, event: call::Event) {
        match event {
            call::Event::Ringing { .. } => {}
            call::Event::EarlyMedia { branch, sdp } => {
                let mut current = lock(&self.current);
                let Some(c) = current.as_mut().filter(|c| c.call_id == call_id) else {
                    return;
                };
                if c.early.is_none() {
                    let allowed = self.sip.door_media_ip(call_id, branch);
                    if let (Some(media), Some(session)) =
                        (negotiate(&c.offer, &sdp, allowed), c.session.as_ref())
                    {
                        session.send_to(media);
                        c.early = Some(branch);
                    }
                }
            }
            call::Event::Answered {
                sdp,
                dialog,
                branch,
            } => {
                let matcher = self.unlock_matcher().await;
                let basic = self.settings.get(BASIC).await.ok();
                let answered_by = self
                    .sip
                    .door_callee(call_id, branch)
                    .unwrap_or_else(|| user_of(&dialog.remote_target));
                let now = self.time.now();
                let allowed = self.sip.door_media_ip(call_id, branch);
                let hang_up = {
                    let mut current = lock(&self.current);
                    let Some(c) = current.as_mut().filter(|c| c.call_id == call_id) else {
                        return;
                    };
                    c.answered = Some((now, crate::clock::monotonic()));
                    c.snapshot = basic.filter(|b| b.auto_snapshot_talking).map(|b| {
                        self.snapshot(b.storage_point, format!("talk-{}-{}.jpg", c.begin.0, now.0))
                    });
                    c.matcher = matcher;
                    match (negotiate(&c.offer, &sdp, allowed), c.session.as_ref()) {
                        (Some(media), Some(session)) => {
                            c.source = media.audio.remote.ip().to_string();
                            session.send_to(media);
                            false
                        }
                        _ => true,
                    }
                };
                if hang_up {
                    tracing::warn!(%call_id, "door call: the answer's media is not usable; hanging up");
                    self.sip.door_hang_up(call_id);
                }
                let talker = self.next_talker();
                self.set_status(|s| {
                    s.phase = CallPhase::Talking;
                    s.answered_by = answered_by;
                    s.since = Some(now);
                    s.talker = talker;
                });
            }
            call::Event::Info { dtmf, .. } => {
                if let Some(d) = dtmf {
                    self.on_key(call_id, d.digit).await;
                }
            }
            call::Event::Offered { caller, sdp } => {
                tokio::spawn(self.clone().watch(call_id.to_string(), caller, sdp));
            }
            call::Event::Ended(end) => self.ended(call_id, end),
        }
    }

    async fn on_heard(&self, call_id: &str, heard: Heard) {
        match heard {
            Heard::Key(k) => self.on_key(call_id, k).await,
            Heard::Level(l) => {
                let ours = lock(&self.current)
                    .as_ref()
                    .is_some_and(|c| c.call_id == call_id && c.answered.is_some());
                if ours && self.status.borrow().speaker_level != l {
                    self.set_status(|s| s.speaker_level = l);
                }
            }
            Heard::Quiet => {
                // Early media need not flow back: only a talk goes quiet. A
                // monitor watching may be silent (its Max Talk Time ends it).
                let talking = lock(&self.current)
                    .as_ref()
                    .is_some_and(|c| c.call_id == call_id && c.answered.is_some() && !c.monitor);
                if talking {
                    tracing::info!(%call_id, "door call: no RTP for 30 s; hanging up");
                    self.sip.door_hang_up(call_id);
                }
            }
        }
    }

    /// A key from the answering side (RFC 4733 or INFO): the First Unlock
    /// Command opens the door.
    async fn on_key(&self, call_id: &str, key: char) {
        let attempt = {
            let mut current = lock(&self.current);
            let Some(c) = current.as_mut().filter(|c| c.call_id == call_id) else {
                return;
            };
            let now_ms = c
                .answered
                .map(|(_, at)| at.elapsed().as_millis() as i64)
                .unwrap_or(0);
            let Some(m) = c.matcher.as_mut() else { return };
            if !m.push(key, now_ms) {
                return;
            }
            Attempt {
                method: UnlockMethod::Sip,
                who: self.status.borrow().answered_by.clone(),
                source: c.source.clone(),
            }
        };
        let room = lock(&self.current)
            .as_ref()
            .map(|c| c.room.clone())
            .unwrap_or_default();
        let attempt = Attempt {
            who: if room.is_empty() || attempt.who.starts_with(&room) {
                attempt.who.clone()
            } else {
                format!("{room} / {}", attempt.who)
            },
            ..attempt
        };
        match self.lock.unlock(attempt).await {
            Ok(()) => tracing::info!(%call_id, "door call: First Unlock Command: unlocked"),
            Err(why) => tracing::info!(%call_id, ?why, "door call: First Unlock Command refused"),
        }
    }

    fn ended(self: &Arc<Self>, call_id: &str, end: call::End) {
        let Some(c) = lock(&self.current).take_if(|c| c.call_id == call_id) else {
            return;
        };
        let talk_ms = c.answered.map(|(_, at)| at.elapsed().as_millis() as u64);
        if let (Some(id), Ok(live)) = (c.browser.clone(), self.media.live()) {
            let live = live.clone();
            tokio::spawn(async move { live.end(&id).await });
        }
        let end_state = match end {
            call::End::Rejected => EndState::Rejected,
            call::End::NotAnswered => EndState::NotAnswered,
            call::End::Cancelled if c.rejected => EndState::Rejected,
            call::End::Cancelled => EndState::Cancelled,
            call::End::HungUpByUs | call::End::HungUpByCallee | call::End::MaxTalkTime => {
                EndState::Answered
            }
        };
        tracing::info!(%call_id, ?end, talk_ms, "door call ended");
        let record = CallRecord {
            call_type: if c.monitor {
                CallType::Monitor
            } else if c.centre {
                CallType::CentreCall
            } else {
                CallType::DoorCall
            },
            from: c.from.clone(),
            to: c.callee.clone(),
            room_no: c.room.clone(),
            begin: c.begin,
            talk_ms,
            end_state,
            snapshot: None,
        };
        if end == call::End::NotAnswered && !c.centre {
            drop(c.session);
            self.recording
                .store(true, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(self.clone().leave_message(record, c.callee));
            return;
        }
        match c.snapshot {
            // The row waits for its picture (a few seconds at most).
            Some(taken) => {
                let sip = self.sip.clone();
                tokio::spawn(async move {
                    let snapshot = taken.await.ok();
                    sip.log_call(CallRecord { snapshot, ..record });
                });
            }
            None => self.sip.log_call(record),
        }
        drop(c.session);
        let callee = if c.monitor { c.from } else { c.callee };
        self.idle(callee, c.monitor, end_state, talk_ms);
    }

    fn idle(&self, callee: String, monitor: bool, end_state: EndState, talk_ms: Option<u64>) {
        self.set_status(|s| {
            s.phase = CallPhase::Idle;
            s.since = Some(self.time.now());
            s.speaker_level = 0;
            s.last = Some(CallEnded {
                callee,
                monitor,
                end_state,
                talk_ms,
            });
        });
    }

    /// Nobody answered: with Leave Message Upload on, the door sounds its
    /// prompt and records the visitor; then the call's row.
    async fn leave_message(self: Arc<Self>, record: CallRecord, callee: String) {
        let basic = self.settings.get(BASIC).await.ok();
        let door = self.media.source("door");
        let record = match (basic.filter(|b| b.leave_message), door) {
            (Some(basic), Some(door)) => {
                self.set_status(|s| {
                    s.phase = CallPhase::Message;
                    s.since = Some(self.time.now());
                    s.speaker_level = PROMPT_LEVEL;
                });
                if let Some(speaker) = &self.config.speaker {
                    speaker.prompt();
                }
                tokio::time::sleep(PROMPT).await;
                self.set_status(|s| s.speaker_level = 0);
                let limit = Duration::from_secs(u64::from(basic.message_time_s));
                let begin = self.time.now();
                let storage = self.storage.clone();
                match message::record(door, storage, basic.storage_point, begin, limit).await {
                    Ok(file) => {
                        tracing::info!(%file, "door call: message left");
                        CallRecord {
                            end_state: EndState::MessageLeft,
                            ..record
                        }
                    }
                    Err(why) => {
                        tracing::warn!(error = %why, "door call: message not recorded");
                        record
                    }
                }
            }
            _ => record,
        };
        let end_state = record.end_state;
        self.sip.log_call(record);
        self.recording
            .store(false, std::sync::atomic::Ordering::SeqCst);
        self.idle(callee, false, end_state, None);
    }

    async fn storage_point(&self) -> Result<String, ApiError> {
        Ok(self.settings.get(BASIC).await?.storage_point)
    }

    async fn message_page(&self) -> Result<MessagePage, ApiError> {
        let setting = self.storage_point().await?;
        let storage = self.storage.clone();
        let files = tokio::task::spawn_blocking(move || storage.list(&setting, message::KIND))
            .await
            .map_err(internal)?;
        let records = files
            .into_iter()
            .rev()
            .filter_map(|(file, bytes)| {
                let (time, duration_ms) = message::parse_name(&file)?;
                Some(MessageRecord {
                    file,
                    time,
                    duration_ms,
                    bytes,
                })
            })
            .collect();
        Ok(MessagePage {
            records,
            display: self.time.display(),
        })
    }
}

impl IntercomService {
    /// Auto Snapshot (talking): the door camera's picture saved as `name`
    /// to the Storage Point `storage_point`.
    fn snapshot(
        &self,
        storage_point: String,
        name: String,
    ) -> tokio::task::JoinHandle<UnlockSnapshot> {
        let (door, storage) = (self.media.source("door"), self.storage.clone());
        tokio::spawn(async move {
            match storage.save_picture(door, storage_point, name).await {
                Ok(name) => UnlockSnapshot::Saved(name),
                Err(why) => {
                    tracing::warn!(error = %why, "talking snapshot not saved");
                    UnlockSnapshot::Failed(why)
                }
            }
        })
    }
}

/// Ends a talker's new connection unless the talk became its own (a
/// request dropped while it waits, or refused, leaves nothing behind).
struct TalkGuard {
    live: Option<Arc<crate::video::live::Live>>,
    id: String,
}

impl Drop for TalkGuard {
    fn drop(&mut self) {
        if let Some(live) = self.live.take() {
            let id = std::mem::take(&mut self.id);
            tokio::spawn(async move { live.end(&id).await });
        }
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    crate::error::Error::internal(e).into()
}

/// The call's media from our offer and the answer's SDP; `None` when the
/// answer cannot be used: no audio we offered, or media at another address
/// than `allowed` (the monitor's own: the door sends its camera nowhere an
/// answer merely names).
fn negotiate(
    offer: &sdp::Offer,
    answer: &[u8],
    allowed: Option<std::net::IpAddr>,
) -> Option<sdp::Media> {
    let parsed = sdp::parse(answer)
        .map_err(|e| tracing::warn!(error = %e, "door call: answer SDP not read"))
        .ok()?;
    let media = sdp::negotiate(offer, &parsed)
        .map_err(|e| tracing::warn!(error = %e, "door call: answer SDP not usable"))
        .ok()?;
    media_allowed(&media, allowed).then_some(media)
}

/// Whether every stream of `media` goes to `allowed` (None: anywhere).
fn media_allowed(media: &sdp::Media, allowed: Option<std::net::IpAddr>) -> bool {
    let addresses =
        std::iter::once(media.audio.remote).chain(media.video.as_ref().map(|v| v.remote));
    for a in addresses {
        if allowed.is_some_and(|ip| a.ip().to_canonical() != ip) {
            tracing::warn!(media = %a, monitor = ?allowed, "door call: media at another address than the monitor's");
            return false;
        }
    }
    true
}

#[async_trait::async_trait]
impl Intercom for IntercomService {
    async fn call_status(&self, caller: &Caller, seen: u64) -> Result<CallStatus, ApiError> {
        caller.session()?;
        let mut rx = self.status.subscribe();
        let _ = tokio::time::timeout(STATUS_WAIT, rx.wait_for(|s| s.version != seen)).await;
        Ok(self.shown())
    }

    async fn call(&self, caller: &Caller, number: Option<String>) -> Result<CallStatus, ApiError> {
        caller.session()?;
        self.press(Press::Api, number).await
    }

    async fn hang_up(&self, caller: &Caller) -> Result<CallStatus, ApiError> {
        caller.session()?;
        self.hang_up_call();
        Ok(self.shown())
    }

    async fn answer_call(
        &self,
        caller: &Caller,
        sdp: String,
        take_over: bool,
    ) -> Result<TalkAnswer, ApiError> {
        let user = caller.session()?.user.clone();
        self.answer_in_browser(&user, sdp, take_over).await
    }

    async fn end_talk(&self, caller: &Caller, id: &str) -> Result<bool, ApiError> {
        caller.session()?;
        Ok(IntercomService::end_talk(self, id))
    }

    async fn reject_call(&self, caller: &Caller) -> Result<CallStatus, ApiError> {
        caller.session()?;
        self.reject();
        Ok(self.shown())
    }

    async fn messages(&self, caller: &Caller) -> Result<MessagePage, ApiError> {
        caller.session()?;
        self.message_page().await
    }

    async fn delete_message(&self, caller: &Caller, file: String) -> Result<MessagePage, ApiError> {
        caller.session()?;
        let setting = self.storage_point().await?;
        let storage = self.storage.clone();
        let name = file.clone();
        let removed = message::parse_name(&file).is_some()
            && tokio::task::spawn_blocking(move || storage.remove(&setting, &name))
                .await
                .map_err(internal)?;
        if !removed {
            return Err(ApiError::invalid("messages", format!("No message {file}")));
        }
        tracing::info!(user = %caller.session()?.user, %file, "message deleted");
        self.message_page().await
    }

    async fn storage_usage(&self, caller: &Caller) -> Result<StorageUsage, ApiError> {
        caller.session()?;
        let setting = self.storage_point().await?;
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || storage.usage(&setting))
            .await
            .map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> sdp::Offer {
        sdp::Offer {
            address: [127, 0, 0, 1].into(),
            session_id: 1,
            session_version: 1,
            audio_port: 30000,
            video: None,
        }
    }

    fn answer(ip: &str) -> Vec<u8> {
        format!(
            "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn media_goes_only_to_the_answering_monitor() {
        let monitor = Some("192.168.1.20".parse().unwrap_or_else(|e| panic!("{e}")));
        let ok = negotiate(&offer(), &answer("192.168.1.20"), monitor);
        assert_eq!(
            ok.map(|m| m.audio.remote.to_string()).as_deref(),
            Some("192.168.1.20:4000")
        );
        // An answer naming someone else's address gets no camera stream.
        assert!(negotiate(&offer(), &answer("203.0.113.7"), monitor).is_none());
        // Through another server the monitor's address is not known.
        assert!(negotiate(&offer(), &answer("203.0.113.7"), None).is_some());
        assert!(negotiate(&offer(), b"garbage", None).is_none());
    }
}
