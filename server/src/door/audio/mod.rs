//! The door's microphone and speaker on ALSA devices (`--audio-in`,
//! `--audio-out`). Without them the door's audio is the camera's (or the
//! built-in test tone) and its speaker is simulated (a level on the door
//! panel).
//!
//! - the microphone: a thread reads 20 ms blocks at 8 kHz, takes the
//!   speaker's echo out when both are present ([`media::aec`]), and
//!   publishes them as G.711 μ-law as the door camera's audio: calls, the
//!   live view and messages all hear it;
//! - the speaker: a thread plays what a call's talker says (and the
//!   prompt before a message), silence in between, and keeps what it
//!   played for the echo canceller.
//!
//! A device that fails (unplugged) ends its thread with a log line; the
//! rest of the door goes on.

pub mod alsa;

use std::{
    collections::VecDeque,
    sync::{
        mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender},
        Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;
use media::g711;

use tokio::time::Instant;

use crate::{
    clock::monotonic,
    video::{hub::Frame, Source},
};

/// 8 kHz mono: what G.711 carries.
pub const RATE: u32 = 8000;
/// Samples in one 20 ms block.
pub const BLOCK: usize = 160;
const BLOCK_MS: u64 = 20;
/// ALSA's buffer: short enough to talk over, long enough for a small
/// board's scheduling.
const LATENCY_MS: u32 = 100;
/// The longest echo path modelled: the speaker's ALSA buffer (up to
/// LATENCY_MS) plus the room.
const ECHO_TAIL_MS: u32 = 256;
/// Blocks waiting for the speaker at most (a late talker skips ahead).
const SPEAKER_QUEUE: usize = 10;
/// What was played and not yet matched with the microphone, kept at most:
/// two blocks. The reference must stay within the echo tail of the sound
/// the microphone hears; if the two devices' clocks drift, the oldest is
/// dropped rather than the reference falling behind.
const FAR_KEPT: usize = 2 * BLOCK;
/// How far a device may run ahead of real time before it is held back
/// (ALSA's file and null plugins return at once).
const AHEAD: Duration = Duration::from_millis(60);

/// The ALSA devices asked for on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AudioConfig {
    /// `--audio-in`: the door's microphone.
    pub input: Option<String>,
    /// `--audio-out`: the door's speaker.
    pub output: Option<String>,
}

/// The door's speaker: blocks of 8 kHz samples to play.
#[derive(Clone)]
pub struct Speaker {
    tx: SyncSender<Vec<i16>>,
}

impl Speaker {
    /// Queues `samples` (any length); when the speaker lags, they are
    /// dropped rather than delayed.
    pub fn play(&self, samples: Vec<i16>) {
        let _ = self.tx.try_send(samples);
    }

    /// Plays a G.711 payload.
    pub fn play_g711(&self, law: g711::Law, payload: &[u8]) {
        self.play(payload.iter().map(|&c| law.decode(c)).collect());
    }

    /// The door's prompt before a visitor leaves a message: two short
    /// beeps (440 Hz then 660 Hz, a quarter of a second each).
    pub fn prompt(&self) {
        for hz in [440.0f32, 660.0] {
            let n = RATE as usize / 4;
            let beep = (0..n)
                .map(|i| {
                    let t = i as f32 / RATE as f32;
                    // A short fade in and out: no clicks.
                    let edge = (i.min(n - i) as f32 / 80.0).min(1.0);
                    (8000.0 * edge * (2.0 * std::f32::consts::PI * hz * t).sin()) as i16
                })
                .collect::<Vec<i16>>();
            // One queue entry per beep: the queue holds entries, not
            // blocks, and a prompt must not be cut short by it.
            self.play(beep);
            self.play(vec![0; BLOCK * 5]);
        }
    }
}

/// The door's audio devices as opened.
#[derive(Default)]
pub struct DoorAudio {
    pub speaker: Option<Speaker>,
    /// Where each device is, for the logs.
    pub described: Vec<String>,
}

/// What the speaker played, for the microphone's echo canceller.
type Played = Arc<Mutex<VecDeque<i16>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Opens the configured devices (a device that cannot be opened is an
/// error: the owner asked for it) and starts their threads; the
/// microphone feeds `door`.
pub fn start(config: &AudioConfig, door: Arc<Source>) -> Result<DoorAudio, String> {
    let played: Played = Arc::default();
    let mut audio = DoorAudio::default();
    // Both opened before either thread starts: a bad second device leaves
    // nothing running.
    let output = match &config.output {
        Some(name) => Some((
            name.clone(),
            alsa::Pcm::open(name, false, RATE, LATENCY_MS)?,
        )),
        None => None,
    };
    let input = match &config.input {
        Some(name) => Some((name.clone(), alsa::Pcm::open(name, true, RATE, LATENCY_MS)?)),
        None => None,
    };
    let cancel_echo = output.is_some();
    if let Some((name, pcm)) = output {
        let (tx, rx) = sync_channel(SPEAKER_QUEUE);
        let played = played.clone();
        let device = name.clone();
        std::thread::Builder::new()
            .name("vto-speaker".into())
            .spawn(move || speaker(pcm, rx, played, &device))
            .map_err(|e| e.to_string())?;
        audio.speaker = Some(Speaker { tx });
        audio.described.push(format!("speaker on ALSA {name}"));
    }
    if let Some((name, pcm)) = input {
        door.attach_microphone(&format!("G.711 μ-law (microphone, ALSA {name})"));
        let device = name.clone();
        std::thread::Builder::new()
            .name("vto-microphone".into())
            .spawn(move || microphone(pcm, door, cancel_echo.then_some(played), &device))
            .map_err(|e| e.to_string())?;
        audio.described.push(format!(
            "microphone on ALSA {name}{}",
            if cancel_echo { ", echo cancelled" } else { "" }
        ));
    }
    Ok(audio)
}

/// Holds a loop that produces or consumes `blocks` 20 ms blocks since
/// `started` to real time.
fn pace(started: Instant, blocks: u64) {
    let due = started + Duration::from_millis(blocks * BLOCK_MS);
    if let Some(ahead) = due.checked_duration_since(monotonic()) {
        if ahead > AHEAD {
            std::thread::sleep(ahead - AHEAD);
        }
    }
}

fn microphone(mut pcm: alsa::Pcm, door: Arc<Source>, played: Option<Played>, name: &str) {
    let mut aec = played
        .as_ref()
        .map(|_| media::aec::EchoCanceller::new(ECHO_TAIL_MS));
    let (mut near, mut far, mut clean) = (vec![0i16; BLOCK], vec![0i16; BLOCK], vec![0i16; BLOCK]);
    let started = monotonic();
    let mut blocks = 0u64;
    loop {
        if let Err(why) = pcm.read(&mut near) {
            tracing::error!(device = %name, error = %why, "microphone stopped");
            return;
        }
        let samples = match (aec.as_mut(), played.as_ref()) {
            (Some(aec), Some(played)) => {
                let mut p = lock(played);
                for f in far.iter_mut() {
                    *f = p.pop_front().unwrap_or(0);
                }
                drop(p);
                aec.process(&far, &near, &mut clean);
                &clean
            }
            _ => &near,
        };
        let data: Vec<u8> = samples.iter().map(|&s| g711::ulaw_encode(s)).collect();
        door.publish_microphone(&Frame {
            data: Bytes::from(data),
            key: true,
            pts_ms: (blocks * BLOCK_MS) as i64,
            width: 0,
            height: 0,
        });
        blocks += 1;
        pace(started, blocks);
    }
}

fn speaker(mut pcm: alsa::Pcm, rx: Receiver<Vec<i16>>, played: Played, name: &str) {
    let silence = vec![0i16; BLOCK];
    let started = monotonic();
    let mut samples = 0u64;
    let mut catch_up = CatchUp::default();
    loop {
        let due = started + Duration::from_millis(samples * 1000 / u64::from(RATE));
        let ahead = due.checked_duration_since(monotonic()).unwrap_or_default();
        let block = match rx.recv_timeout(silence_after(ahead)) {
            Ok(b) => catch_up.block(b, || rx.try_recv().ok()),
            // Silence keeps the device (and the echo canceller's
            // reference) running between talkers.
            Err(RecvTimeoutError::Timeout) => {
                catch_up.silence();
                silence.clone()
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if let Err(why) = pcm.write(&block) {
            tracing::error!(device = %name, error = %why, "speaker stopped");
            return;
        }
        {
            let mut p = lock(&played);
            p.extend(block.iter().copied());
            let over = p.len().saturating_sub(FAR_KEPT);
            p.drain(..over);
        }
        samples += block.len() as u64;
        pace(started, samples / BLOCK as u64);
    }
}

/// How long the speaker waits for the talker before it plays silence: until
/// what the device holds (`ahead` of real time) is down to one block, so a
/// talker's packet may come that much late without a gap.
fn silence_after(ahead: Duration) -> Duration {
    ahead.saturating_sub(Duration::from_millis(BLOCK_MS))
}

/// Silence played while the talker was late puts the talker's audio that
/// much behind for good (the device plays in real time): it is won back
/// by skipping a block whenever two wait at once. A long silence (the
/// talker paused or left) owes nothing.
#[derive(Debug, Default)]
struct CatchUp {
    owed: usize,
    silent_run: usize,
}

/// Blocks of silence in a row after which nothing is owed any more.
const OWED_FOR: usize = 5;

impl CatchUp {
    fn silence(&mut self) {
        self.silent_run += 1;
        self.owed = if self.silent_run > OWED_FOR {
            0
        } else {
            (self.owed + 1).min(SPEAKER_QUEUE)
        };
    }

    /// `block` came; `waiting` takes the next one queued, if any. The block
    /// to play: a newer one while blocks are owed and waiting.
    fn block(
        &mut self,
        mut block: Vec<i16>,
        mut waiting: impl FnMut() -> Option<Vec<i16>>,
    ) -> Vec<i16> {
        self.silent_run = 0;
        while self.owed > 0 {
            match waiting() {
                Some(newer) => {
                    block = newer;
                    self.owed -= 1;
                }
                None => break,
            }
        }
        block
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_prompt_fits_the_speakers_queue() {
        let (tx, rx) = sync_channel(SPEAKER_QUEUE);
        Speaker { tx }.prompt();
        let queued: usize = rx.try_iter().map(|b| b.len()).sum();
        // Two beeps of a quarter second, each followed by 100 ms of silence.
        assert_eq!(queued, 2 * (RATE as usize / 4 + BLOCK * 5));
    }

    fn block(n: i16) -> Vec<i16> {
        vec![n; BLOCK]
    }

    #[test]
    fn silence_for_a_late_talker_is_won_back_by_skipping_a_block() {
        let mut c = CatchUp::default();
        let mut queue: VecDeque<Vec<i16>> = VecDeque::new();
        assert_eq!(c.block(block(1), || queue.pop_front()), block(1));
        // Block 2 is late: silence is played, then 2 and 3 wait together.
        c.silence();
        queue.push_back(block(3));
        assert_eq!(
            c.block(block(2), || queue.pop_front()),
            block(3),
            "2 skipped"
        );
        assert!(queue.is_empty());
        // Nothing owed any more: blocks that wait together all play.
        queue.push_back(block(5));
        assert_eq!(c.block(block(4), || queue.pop_front()), block(4));
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn a_pause_owes_nothing() {
        let mut c = CatchUp::default();
        for _ in 0..OWED_FOR + 1 {
            c.silence();
        }
        // The prompt's or a new talker's blocks, queued at once: all play.
        let mut queue: VecDeque<Vec<i16>> = [block(2), block(3)].into();
        assert_eq!(c.block(block(1), || queue.pop_front()), block(1));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn the_speaker_waits_for_the_talker_while_the_device_has_sound() {
        assert_eq!(
            silence_after(Duration::from_millis(60)),
            Duration::from_millis(40)
        );
        assert_eq!(
            silence_after(Duration::from_millis(100)),
            Duration::from_millis(80)
        );
        // The device is about to run dry: silence at once.
        assert_eq!(silence_after(Duration::from_millis(10)), Duration::ZERO);
    }
}
