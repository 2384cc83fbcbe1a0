//! DTMF as RFC 4733 telephone events: the 4-byte payload, the key each of
//! events 0 to 15 is, a [`Detector`] that makes one key press of each
//! event however many packets carry it, and a [`Matcher`] that watches the
//! keys for a command (a monitor's "First Unlock Command", e.g. `123#`).
//!
//! A sender repeats an event's packets while the key is held, all with the
//! event's first RTP timestamp and a growing duration, then sends the end
//! packet three times (RFC 4733 2.5.1). So a key press is a new (timestamp,
//! event) pair; an event longer than 8 s at 8000 Hz is split by the sender
//! into segments with new timestamps (2.5.2.3) and would count twice,
//! which no one pressing a key does.

use crate::Error;

/// The keys of events 0 to 15 (RFC 4733 3.2).
const KEYS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

/// The key of an event code, for 0 to 15.
pub fn key(code: u8) -> Option<char> {
    KEYS.get(usize::from(code)).copied()
}

/// The event code of a key (`a` to `d` as `A` to `D`).
pub fn code(key: char) -> Option<u8> {
    let key = key.to_ascii_uppercase();
    KEYS.iter().position(|&k| k == key).map(|i| i as u8)
}

/// One telephone-event payload (RFC 4733 2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub code: u8,
    /// The last packets of the event.
    pub end: bool,
    /// 0 to 63: the level in -dBm0 (0 the loudest); written masked to 6
    /// bits.
    pub volume: u8,
    /// Timestamp units since the event began.
    pub duration: u16,
}

impl Event {
    /// The first 4 bytes of a payload; more (RFC 2198 redundancy, which we
    /// do not offer) are ignored.
    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        let b = b.get(..4).ok_or(Error::Truncated("telephone event"))?;
        Ok(Self {
            code: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    pub fn write(&self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.code,
            u8::from(self.end) << 7 | (self.volume & 0x3f),
            d0,
            d1,
        ]
    }

    pub fn key(&self) -> Option<char> {
        key(self.code)
    }
}

/// Events remembered as already counted: enough for repeats and end
/// packets that come late behind the next key.
const RECENT: usize = 8;
/// Keys kept in [`Detector::keys`]; the oldest go first.
const MAX_KEYS: usize = 32;

/// One stream's key presses.
#[derive(Clone, Debug, Default)]
pub struct Detector {
    /// (timestamp, code) of the newest events, newest last.
    recent: Vec<(u32, u8)>,
    keys: String,
}

impl Detector {
    pub fn new() -> Self {
        Self::default()
    }

    /// An event packet with its RTP timestamp: the key when it is the
    /// first packet of a key press, else `None` (a repeat, an end packet,
    /// an event that is not a key).
    pub fn push(&mut self, timestamp: u32, event: &Event) -> Option<char> {
        let key = event.key()?;
        let id = (timestamp, event.code);
        if self.recent.contains(&id) {
            return None;
        }
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(id);
        if self.keys.len() == MAX_KEYS {
            self.keys.remove(0);
        }
        self.keys.push(key);
        Some(key)
    }

    /// The keys pressed so far (the newest 32), oldest first.
    pub fn keys(&self) -> &str {
        &self.keys
    }
}

/// Watches keys for one command. Keys before it do not matter (`5123#`
/// matches `123#`); a pause longer than the timeout between two keys
/// starts over, so keys pressed long apart do not add up to a command.
#[derive(Clone, Debug)]
pub struct Matcher {
    command: Vec<char>,
    timeout_ms: i64,
    typed: Vec<char>,
    last_ms: Option<i64>,
}

impl Matcher {
    /// `command`: keys 0-9, *, #, A-D (a-d taken as A-D), at least one.
    /// `timeout_ms`: the longest pause between two keys of it.
    pub fn new(command: &str, timeout_ms: i64) -> Result<Self, Error> {
        let keys: Option<Vec<char>> = command.chars().map(|c| code(c).and_then(key)).collect();
        match keys {
            Some(command) if !command.is_empty() => Ok(Self {
                command,
                timeout_ms,
                typed: Vec::new(),
                last_ms: None,
            }),
            _ => Err(Error::Command(command.to_string())),
        }
    }

    /// A key pressed at `now_ms` (monotonic milliseconds). True when it
    /// completes the command; the keys typed are then forgotten, so the
    /// command must be typed again to match again.
    pub fn push(&mut self, key: char, now_ms: i64) -> bool {
        if self
            .last_ms
            .is_some_and(|last| now_ms.saturating_sub(last) > self.timeout_ms)
        {
            self.typed.clear();
        }
        self.last_ms = Some(now_ms);
        if self.typed.len() == self.command.len() {
            self.typed.remove(0);
        }
        self.typed.push(key.to_ascii_uppercase());
        if self.typed == self.command {
            self.typed.clear();
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests;
