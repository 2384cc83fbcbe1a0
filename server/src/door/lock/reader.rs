//! A card reader on a real board: a USB reader that types the card
//! number like a keyboard, read from its Linux input device
//! (`/dev/input/event*`, or any file or FIFO giving the same events).
//! [`KeyDecoder`] is pure; [`run`] feeds it from the device.

/// One `struct input_event` on 64-bit Linux: a `timeval` (16 bytes), then
/// type (u16), code (u16) and value (i32), native endian.
pub const EVENT_SIZE: usize = 24;
const EV_KEY: u16 = 1;
const KEY_ENTER: u16 = 28;
const KEY_KPENTER: u16 = 96;
/// Longer input without Enter is not a card: it is dropped.
pub const MAX_DIGITS: usize = 20;

/// Turns a keyboard reader's key presses into card numbers: digits until
/// Enter. Partial events wait for their remaining bytes.
#[derive(Default)]
pub struct KeyDecoder {
    pending: Vec<u8>,
    digits: String,
    overflow: bool,
}

impl KeyDecoder {
    /// Feeds raw bytes read from the device; the card numbers completed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut cards = Vec::new();
        let whole = self.pending.len() / EVENT_SIZE * EVENT_SIZE;
        let events: Vec<[u8; EVENT_SIZE]> = self.pending[..whole]
            .chunks_exact(EVENT_SIZE)
            .filter_map(|c| c.try_into().ok())
            .collect();
        self.pending.drain(..whole);
        for e in events {
            let kind = u16::from_ne_bytes([e[16], e[17]]);
            let code = u16::from_ne_bytes([e[18], e[19]]);
            let value = i32::from_ne_bytes([e[20], e[21], e[22], e[23]]);
            // Key down only (1); not up (0) or auto-repeat (2).
            if kind != EV_KEY || value != 1 {
                continue;
            }
            if code == KEY_ENTER || code == KEY_KPENTER {
                if !self.digits.is_empty() && !self.overflow {
                    cards.push(std::mem::take(&mut self.digits));
                }
                self.digits.clear();
                self.overflow = false;
            } else if let Some(d) = key_digit(code) {
                if self.digits.len() == MAX_DIGITS {
                    self.overflow = true;
                } else {
                    self.digits.push(d);
                }
            }
        }
        cards
    }
}

/// Reads card numbers from `path` until it ends, handing each to `card`.
pub async fn run<F, Fut>(path: std::path::PathBuf, card: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use tokio::io::AsyncReadExt;
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "card reader not opened");
            return;
        }
    };
    tracing::info!(path = %path.display(), "card reader");
    let mut decoder = KeyDecoder::default();
    let mut buf = [0u8; EVENT_SIZE * 16];
    loop {
        match file.read(&mut buf).await {
            Ok(0) => {
                tracing::warn!(path = %path.display(), "card reader gone");
                return;
            }
            Ok(n) => {
                for number in decoder.feed(&buf[..n]) {
                    card(number).await;
                }
            }
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "card reader");
                return;
            }
        }
    }
}

/// The digit of a key code: the top row (KEY_1 = 2 ... KEY_0 = 11) or the
/// keypad (KEY_KP7 = 71 ...).
fn key_digit(code: u16) -> Option<char> {
    let d = match code {
        2..=10 => code - 1,
        11 => 0,
        71 => 7,
        72 => 8,
        73 => 9,
        75 => 4,
        76 => 5,
        77 => 6,
        79 => 1,
        80 => 2,
        81 => 3,
        82 => 0,
        _ => return None,
    };
    char::from_digit(u32::from(d), 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: u16, code: u16, value: i32) -> Vec<u8> {
        let mut e = vec![0u8; 16];
        e.extend(kind.to_ne_bytes());
        e.extend(code.to_ne_bytes());
        e.extend(value.to_ne_bytes());
        e
    }

    /// What a keyboard-wedge reader sends for `digits` and Enter: key down
    /// and up with a SYN report, as recorded from such readers.
    fn typed(digits: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let codes = digits.chars().map(|c| match c {
            '0' => 11,
            d => d.to_digit(10).map_or(0, |d| d as u16 + 1),
        });
        for code in codes.chain([KEY_ENTER]) {
            out.extend(event(4, 4, 458_782)); // EV_MSC MSC_SCAN
            out.extend(event(EV_KEY, code, 1));
            out.extend(event(0, 0, 0)); // EV_SYN
            out.extend(event(EV_KEY, code, 0));
            out.extend(event(0, 0, 0));
        }
        out
    }

    #[test]
    fn a_keyboard_reader_types_card_numbers() {
        let mut d = KeyDecoder::default();
        let mut bytes = typed("0004915263");
        bytes.extend(typed("12"));
        assert_eq!(d.feed(&bytes), vec!["0004915263", "12"]);
    }

    #[test]
    fn events_split_across_reads_are_joined() {
        let mut d = KeyDecoder::default();
        let bytes = typed("987");
        let mut cards = Vec::new();
        for chunk in bytes.chunks(7) {
            cards.extend(d.feed(chunk));
        }
        assert_eq!(cards, vec!["987"]);
    }

    #[test]
    fn keypad_digits_repeats_and_noise() {
        let mut d = KeyDecoder::default();
        let mut bytes = Vec::new();
        for code in [79, 80, 81] {
            bytes.extend(event(EV_KEY, code, 1));
            bytes.extend(event(EV_KEY, code, 2)); // auto-repeat: ignored
        }
        bytes.extend(event(EV_KEY, 30, 1)); // KEY_A: not a digit
        bytes.extend(event(EV_KEY, KEY_KPENTER, 1));
        bytes.extend(event(EV_KEY, KEY_ENTER, 1)); // Enter alone: nothing
        assert_eq!(d.feed(&bytes), vec!["123"]);
    }

    #[test]
    fn too_long_input_is_dropped() {
        let mut d = KeyDecoder::default();
        let long = "1".repeat(MAX_DIGITS + 1);
        assert_eq!(d.feed(&typed(&long)), Vec::<String>::new());
        assert_eq!(d.feed(&typed("55")), vec!["55"]);
    }
}
