//! A Wiegand 26 or 34 card reader on two GPIO lines, D0 and D1: a card is
//! a burst of short low pulses, one per bit (a pulse on D0 is a 0, on D1 a
//! 1, about 1-2 ms apart), and the frame ends when the lines stay quiet.
//!
//! Pure: pulses come in with their time in microseconds (the kernel's
//! event timestamps), so recorded bursts replay exactly in tests.
//!
//! The first bit is the even parity of the first half of the data, the
//! last the odd parity of the second half. The card number is the data
//! bits (24 or 32) in hex, zero-padded (`00AB12`, `12AB34CD`): the form
//! Issue Card shows and cards are matched by.

/// Quiet time that ends a frame (readers send bits 1-2 ms apart).
pub const FRAME_GAP_US: u64 = 25_000;

/// More bits than any frame we accept: a noisy line, dropped.
const MAX_BITS: usize = 64;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WiegandError {
    #[error("{0} bits: not a Wiegand 26 or 34 frame")]
    Length(usize),
    #[error("parity error in a Wiegand {0} frame")]
    Parity(usize),
}

#[derive(Debug, Default)]
pub struct Decoder {
    bits: Vec<bool>,
    last_us: Option<u64>,
}

impl Decoder {
    /// A pulse on D1 (`one`) or D0 at `at_us`. A pulse after a quiet gap
    /// first ends the frame before it, which is returned.
    pub fn pulse(&mut self, at_us: u64, one: bool) -> Option<Result<String, WiegandError>> {
        let ended = self.poll(at_us);
        if self.bits.len() <= MAX_BITS {
            self.bits.push(one);
        }
        self.last_us = Some(at_us);
        ended
    }

    /// The frame, once the lines have been quiet for [`FRAME_GAP_US`].
    pub fn poll(&mut self, now_us: u64) -> Option<Result<String, WiegandError>> {
        let last = self.last_us?;
        if now_us.saturating_sub(last) < FRAME_GAP_US {
            return None;
        }
        self.last_us = None;
        Some(decode(&std::mem::take(&mut self.bits)))
    }

    /// When [`Decoder::poll`] will end the current frame.
    pub fn deadline(&self) -> Option<u64> {
        self.last_us.map(|t| t + FRAME_GAP_US)
    }
}

fn decode(bits: &[bool]) -> Result<String, WiegandError> {
    let n = bits.len();
    if n != 26 && n != 34 {
        return Err(WiegandError::Length(n));
    }
    let data = &bits[1..n - 1];
    let (first, second) = data.split_at(data.len() / 2);
    let ones = |half: &[bool]| half.iter().filter(|b| **b).count();
    let even_ok = (ones(first) + usize::from(bits[0])) % 2 == 0;
    let odd_ok = (ones(second) + usize::from(bits[n - 1])) % 2 == 1;
    if !even_ok || !odd_ok {
        return Err(WiegandError::Parity(n));
    }
    let value = data.iter().fold(0u64, |acc, b| (acc << 1) | u64::from(*b));
    Ok(format!("{value:0width$X}", width = data.len() / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frame a reader sends for `data` (`bits` data bits), parity
    /// included.
    fn frame(data: u64, bits: usize) -> Vec<bool> {
        let data: Vec<bool> = (0..bits).rev().map(|i| (data >> i) & 1 == 1).collect();
        let (first, second) = data.split_at(bits / 2);
        let ones = |h: &[bool]| h.iter().filter(|b| **b).count();
        let mut out = vec![ones(first) % 2 == 1];
        out.extend(&data);
        out.push(ones(second) % 2 == 0);
        out
    }

    /// Pulses 2 ms apart from `start`; what the decoder returned.
    fn send(d: &mut Decoder, start: u64, bits: &[bool]) -> Vec<Result<String, WiegandError>> {
        bits.iter()
            .enumerate()
            .filter_map(|(i, b)| d.pulse(start + i as u64 * 2_000, *b))
            .collect()
    }

    #[test]
    fn wiegand_26_and_34() {
        let mut d = Decoder::default();
        assert!(send(&mut d, 0, &frame(0x00AB12, 24)).is_empty());
        let end = d.deadline().unwrap_or_default();
        assert_eq!(d.poll(end - 1), None, "not before the gap");
        assert_eq!(d.poll(end), Some(Ok("00AB12".into())));
        assert_eq!(d.poll(end + 1_000_000), None, "once");
        assert!(send(&mut d, 10_000_000, &frame(0x12AB_34CD, 32)).is_empty());
        assert_eq!(d.poll(20_000_000), Some(Ok("12AB34CD".into())));
    }

    #[test]
    fn a_new_burst_after_a_gap_ends_the_frame_before_it() {
        let mut d = Decoder::default();
        send(&mut d, 0, &frame(1, 24));
        // The next card's first pulse comes before anyone polled.
        let got = send(&mut d, 1_000_000, &frame(2, 24));
        assert_eq!(got, vec![Ok("000001".to_string())]);
        assert_eq!(d.poll(2_000_000), Some(Ok("000002".into())));
    }

    #[test]
    fn parity_and_length_errors() {
        let mut d = Decoder::default();
        let mut bad = frame(0x00AB12, 24);
        bad[5] = !bad[5];
        send(&mut d, 0, &bad);
        assert_eq!(d.poll(1_000_000), Some(Err(WiegandError::Parity(26))));
        let mut bad = frame(0x12AB_34CD, 32);
        let last = bad.len() - 1;
        bad[last] = !bad[last];
        send(&mut d, 2_000_000, &bad);
        assert_eq!(d.poll(3_000_000), Some(Err(WiegandError::Parity(34))));
        send(&mut d, 4_000_000, &[true; 25]);
        assert_eq!(d.poll(5_000_000), Some(Err(WiegandError::Length(25))));
        // A noisy line: bounded, then an error, then a good card again.
        send(&mut d, 6_000_000, &[false; 500]);
        assert_eq!(d.poll(8_000_000), Some(Err(WiegandError::Length(65))));
        send(&mut d, 9_000_000, &frame(0xFFFFFF, 24));
        assert_eq!(d.poll(10_000_000), Some(Ok("FFFFFF".into())));
    }
}
