//! The lock on a real board: a relay output, a door sensor and an exit
//! button on Linux GPIO lines (the character device, `/dev/gpiochipN`).
//!
//! The relay line is requested with its "locked" level as its first value,
//! so the lock never opens while the device starts. The controller's
//! `relay_energized` already follows the Door Contact Type (NC or NO); the
//! line level is that, inverted with `--gpio-relay-active-low` for relay
//! boards that switch on a low level. The sensor's and the button's levels
//! are set on the command line too, as they depend on the wiring.

use std::path::PathBuf;

use futures_util::StreamExt;
use gpio_cdev::{
    AsyncLineEventHandle, Chip, EventRequestFlags, EventType, LineHandle, LineRequestFlags,
};
use tokio::sync::mpsc;

use super::{
    driver::{DriverError, Input, LockDriver},
    wiegand::{Decoder, WiegandError, FRAME_GAP_US},
};

const CONSUMER: &str = "vto";

/// Which level of an input line means "active" (door open, button
/// pressed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    High,
    Low,
}

impl Level {
    fn active(self, value: u8) -> bool {
        (value != 0) == (self == Level::High)
    }
}

#[derive(Clone, Debug)]
pub struct GpioConfig {
    pub chip: PathBuf,
    pub relay: u32,
    pub relay_active_low: bool,
    /// The door sensor's line and the level that means "open".
    pub door: Option<(u32, Level)>,
    /// The exit button's line and the level that means "pressed".
    pub exit: Option<(u32, Level)>,
    /// A Wiegand 26/34 card reader's D0 and D1 lines.
    pub wiegand: Option<(u32, u32)>,
    /// The door's Call button's line and the level that means "pressed".
    pub call: Option<(u32, Level)>,
}

/// Presses of a push button closer than this are one press: contacts
/// bounce for some milliseconds, and a visitor may press twice.
pub const DEBOUNCE_NS: u64 = 300_000_000;

/// A push button's presses, debounced on the kernel's event timestamps
/// (nanoseconds): a press within [`DEBOUNCE_NS`] of the last one taken is
/// the same press.
#[derive(Debug, Default)]
pub struct Debounce {
    last: Option<u64>,
}

impl Debounce {
    /// Whether a press at `at_ns` is a new one.
    pub fn press(&mut self, at_ns: u64) -> bool {
        if self
            .last
            .is_some_and(|last| at_ns.saturating_sub(last) < DEBOUNCE_NS)
        {
            return false;
        }
        self.last = Some(at_ns);
        true
    }
}

pub struct GpioDriver {
    relay: LineHandle,
    relay_active_low: bool,
    /// The door sensor at start.
    door_open: bool,
}

fn err(what: &str, e: impl std::fmt::Display) -> DriverError {
    DriverError(format!("{what}: {e}"))
}

/// The relay line's value for `energized`.
fn relay_value(energized: bool, active_low: bool) -> u8 {
    u8::from(energized != active_low)
}

impl GpioDriver {
    /// Opens the lines; the relay starts at `locked_energized`. Input
    /// changes go to `inputs`, card numbers from a Wiegand reader to
    /// `cards`, presses of the Call button to `calls`, from tasks that end
    /// with the driver's lines.
    pub fn open(
        config: &GpioConfig,
        locked_energized: bool,
        inputs: mpsc::Sender<Input>,
        cards: mpsc::Sender<String>,
        calls: mpsc::Sender<()>,
    ) -> Result<Self, DriverError> {
        let mut chip =
            Chip::new(&config.chip).map_err(|e| err(&config.chip.display().to_string(), e))?;
        let relay = chip
            .get_line(config.relay)
            .and_then(|l| {
                l.request(
                    LineRequestFlags::OUTPUT,
                    relay_value(locked_energized, config.relay_active_low),
                    CONSUMER,
                )
            })
            .map_err(|e| err(&format!("relay line {}", config.relay), e))?;
        let door_open = match config.door {
            Some((offset, level)) => {
                let line = chip
                    .get_line(offset)
                    .map_err(|e| err(&format!("door sensor line {offset}"), e))?;
                let events = line
                    .async_events(
                        LineRequestFlags::INPUT,
                        EventRequestFlags::BOTH_EDGES,
                        CONSUMER,
                    )
                    .map_err(|e| err(&format!("door sensor line {offset}"), e))?;
                let now = events
                    .as_ref()
                    .get_value()
                    .map_err(|e| err(&format!("door sensor line {offset}"), e))?;
                let tx = inputs.clone();
                tokio::spawn(async move {
                    let mut events = events;
                    while let Some(Ok(e)) = events.next().await {
                        let value = u8::from(e.event_type() == EventType::RisingEdge);
                        if tx.send(Input::Door(level.active(value))).await.is_err() {
                            break;
                        }
                    }
                });
                level.active(now)
            }
            None => false,
        };
        if let Some((offset, level)) = config.exit {
            let events = chip
                .get_line(offset)
                .and_then(|l| {
                    l.async_events(
                        LineRequestFlags::INPUT,
                        EventRequestFlags::BOTH_EDGES,
                        CONSUMER,
                    )
                })
                .map_err(|e| err(&format!("exit button line {offset}"), e))?;
            tokio::spawn(async move {
                let mut events = events;
                while let Some(Ok(e)) = events.next().await {
                    let value = u8::from(e.event_type() == EventType::RisingEdge);
                    // On the press, not the release.
                    if level.active(value) && inputs.send(Input::ExitButton).await.is_err() {
                        break;
                    }
                }
            });
        }
        if let Some((offset, level)) = config.call {
            let events = chip
                .get_line(offset)
                .and_then(|l| {
                    l.async_events(
                        LineRequestFlags::INPUT,
                        EventRequestFlags::BOTH_EDGES,
                        CONSUMER,
                    )
                })
                .map_err(|e| err(&format!("call button line {offset}"), e))?;
            tokio::spawn(async move {
                let mut events = events;
                let mut debounce = Debounce::default();
                while let Some(Ok(e)) = events.next().await {
                    let value = u8::from(e.event_type() == EventType::RisingEdge);
                    // On the press, once however much the contact bounces.
                    if level.active(value)
                        && debounce.press(e.timestamp())
                        && calls.send(()).await.is_err()
                    {
                        break;
                    }
                }
            });
        }
        if let Some((d0, d1)) = config.wiegand {
            let mut falling = |offset: u32, name: &str| {
                chip.get_line(offset)
                    .and_then(|l| {
                        l.async_events(
                            LineRequestFlags::INPUT,
                            EventRequestFlags::FALLING_EDGE,
                            CONSUMER,
                        )
                    })
                    .map_err(|e| err(&format!("Wiegand {name} line {offset}"), e))
            };
            let zeros = falling(d0, "D0")?;
            let ones = falling(d1, "D1")?;
            tokio::spawn(read_wiegand(zeros, ones, cards));
        }
        Ok(Self {
            relay,
            relay_active_low: config.relay_active_low,
            door_open,
        })
    }
}

/// Pulses from D0 and D1 into card numbers, until the lines go.
async fn read_wiegand(
    zeros: AsyncLineEventHandle,
    ones: AsyncLineEventHandle,
    cards: mpsc::Sender<String>,
) {
    let mut pulses =
        futures_util::stream::select(zeros.map(|e| (e, false)), ones.map(|e| (e, true)));
    let mut decoder = Decoder::default();
    let gap = std::time::Duration::from_micros(FRAME_GAP_US);
    loop {
        let next = match decoder.deadline() {
            None => pulses.next().await,
            Some(deadline) => match tokio::time::timeout(gap, pulses.next()).await {
                Ok(next) => next,
                // Quiet for a whole gap: the frame is complete.
                Err(_) => {
                    if !deliver(decoder.poll(deadline), &cards).await {
                        return;
                    }
                    continue;
                }
            },
        };
        let (event, one) = match next {
            Some((Ok(event), one)) => (event, one),
            Some((Err(e), _)) => {
                tracing::error!(error = %e, "Wiegand reader lines");
                return;
            }
            None => return,
        };
        // The kernel's timestamps are nanoseconds.
        if !deliver(decoder.pulse(event.timestamp() / 1_000, one), &cards).await {
            return;
        }
    }
}

/// False once nobody takes cards any more.
async fn deliver(
    frame: Option<Result<String, WiegandError>>,
    cards: &mpsc::Sender<String>,
) -> bool {
    match frame {
        Some(Ok(number)) => cards.send(number).await.is_ok(),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "Wiegand reader: card not read");
            true
        }
        None => true,
    }
}

impl LockDriver for GpioDriver {
    fn set_relay(&mut self, energized: bool) -> Result<(), DriverError> {
        self.relay
            .set_value(relay_value(energized, self.relay_active_low))
            .map_err(|e| err("relay", e))
    }

    /// Read when the lines were opened (no sensor: closed); changes come
    /// as [`Input::Door`].
    fn door_open(&mut self) -> Result<bool, DriverError> {
        Ok(self.door_open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_active() {
        assert!(Level::High.active(1));
        assert!(!Level::High.active(0));
        assert!(Level::Low.active(0));
        assert!(!Level::Low.active(1));
    }

    #[test]
    fn the_relay_line_follows_energized_and_its_polarity() {
        assert_eq!(relay_value(true, false), 1);
        assert_eq!(relay_value(false, false), 0);
        assert_eq!(relay_value(true, true), 0);
        assert_eq!(relay_value(false, true), 1);
    }

    #[test]
    fn a_bouncing_or_double_press_calls_once() {
        let mut d = Debounce::default();
        let ms = 1_000_000;
        assert!(d.press(10 * ms), "the first press");
        // The contact bounces: 2, 5 and 40 ms later, the same press.
        for at in [12, 15, 50] {
            assert!(!d.press(at * ms), "{at} ms");
        }
        assert!(!d.press(10 * ms + DEBOUNCE_NS - 1));
        // A press well after the last one taken is a new one.
        assert!(d.press(10 * ms + DEBOUNCE_NS));
        assert!(d.press(10 * ms + 5 * DEBOUNCE_NS));
    }

    #[tokio::test]
    async fn a_missing_chip_is_a_clear_error() {
        let (tx, _rx) = mpsc::channel(1);
        let config = GpioConfig {
            chip: "/dev/gpiochip-vto-test-missing".into(),
            relay: 17,
            relay_active_low: false,
            door: Some((27, Level::High)),
            exit: None,
            wiegand: Some((5, 6)),
            call: Some((22, Level::Low)),
        };
        let (cards, _) = mpsc::channel(1);
        let (calls, _) = mpsc::channel(1);
        let e = GpioDriver::open(&config, false, tx, cards, calls)
            .err()
            .unwrap_or_else(|| panic!("opened a missing chip"));
        assert!(
            e.0.starts_with("/dev/gpiochip-vto-test-missing:"),
            "{}",
            e.0
        );
    }
}
