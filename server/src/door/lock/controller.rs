//! The lock controller: a pure state machine on a monotonic clock passed
//! in (milliseconds). It decides whether the lock is open and raises the
//! door sensor's alarms, with the parameters of Local Setting > Access
//! Control (manual 4.3). It does no I/O: the lock service feeds it what
//! the driver reports, drives the relay from [`Controller::relay_energized`]
//! and wakes it at [`Controller::deadline`].

use app::model::access::{AccessSettings, AlarmKind, ContactType, Refusal};

/// Milliseconds on a monotonic clock.
pub type Ms = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The lock opened (it was locked).
    Unlocked,
    /// The lock locked again.
    Locked,
    DoorOpened,
    DoorClosed,
    Alarm(AlarmKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lock {
    Locked,
    /// Open until the Unlock Period is over.
    Open {
        until: Ms,
    },
    /// The period is over, but Door Sensor Check is enabled and the door is
    /// open: it locks when the sensor reports it closed.
    Held,
}

#[derive(Debug)]
pub struct Controller {
    settings: AccessSettings,
    lock: Lock,
    door_open: bool,
    last_unlock: Option<Ms>,
    /// Since when the sensor reports the door open.
    opened_at: Option<Ms>,
    /// The open-too-long alarm of this opening was raised.
    too_long_raised: bool,
}

impl Controller {
    /// At power-on: the lock is locked whatever it was before. A door
    /// already open is not an alarm (nobody saw it open), but it counts
    /// toward Door Sensor Check Time from now.
    pub fn new(settings: AccessSettings, now: Ms, door_open: bool) -> Self {
        Self {
            settings,
            lock: Lock::Locked,
            door_open,
            last_unlock: None,
            opened_at: door_open.then_some(now),
            too_long_raised: false,
        }
    }

    pub fn settings(&self) -> &AccessSettings {
        &self.settings
    }

    /// New parameters apply from the next unlock (an open lock keeps its
    /// period); the contact type applies at once.
    pub fn set_settings(&mut self, now: Ms, settings: AccessSettings) -> Vec<Event> {
        self.settings = settings;
        self.poll(now)
    }

    pub fn lock_open(&self) -> bool {
        self.lock != Lock::Locked
    }

    pub fn door_open(&self) -> bool {
        self.door_open
    }

    /// The relay output: with an NO lock energized to open, with an NC
    /// lock energized to hold.
    pub fn relay_energized(&self) -> bool {
        self.lock_open() != (self.settings.contact == ContactType::Nc)
    }

    /// An attempt to open (any method: who may open is decided before).
    /// Refused within the Unlock Responding Interval of the last unlock;
    /// an open lock stays open for a new full period.
    pub fn unlock(&mut self, now: Ms) -> Result<Vec<Event>, Refusal> {
        let mut events = self.poll(now);
        if let Some(last) = self.last_unlock {
            if now < last.saturating_add(secs(self.settings.responding_interval_s)) {
                return Err(Refusal::TooSoon);
            }
        }
        self.last_unlock = Some(now);
        if self.lock == Lock::Locked {
            events.push(Event::Unlocked);
        }
        self.lock = Lock::Open {
            until: now.saturating_add(secs(self.settings.unlock_period_s)),
        };
        Ok(events)
    }

    /// The door sensor reports the door open or closed (repeats are
    /// ignored).
    pub fn sensor(&mut self, now: Ms, open: bool) -> Vec<Event> {
        let mut events = self.poll(now);
        if open == self.door_open {
            return events;
        }
        self.door_open = open;
        if open {
            self.opened_at = Some(now);
            self.too_long_raised = false;
            events.push(Event::DoorOpened);
            if self.lock == Lock::Locked {
                events.push(Event::Alarm(AlarmKind::ForcedDoor));
            }
        } else {
            self.opened_at = None;
            events.push(Event::DoorClosed);
            if self.lock == Lock::Held {
                self.lock = Lock::Locked;
                events.push(Event::Locked);
            }
        }
        events
    }

    /// What is due at `now`: the end of the Unlock Period, the open-too-long
    /// alarm.
    pub fn poll(&mut self, now: Ms) -> Vec<Event> {
        let mut events = Vec::new();
        if let Lock::Open { until } = self.lock {
            if now >= until {
                if self.settings.sensor_check_enable && self.door_open {
                    self.lock = Lock::Held;
                } else {
                    self.lock = Lock::Locked;
                    events.push(Event::Locked);
                }
            }
        }
        if let Some(at) = self.too_long_at() {
            if now >= at {
                self.too_long_raised = true;
                events.push(Event::Alarm(AlarmKind::DoorOpenTooLong));
            }
        }
        events
    }

    /// When [`Controller::poll`] has something to do next.
    pub fn deadline(&self) -> Option<Ms> {
        let until = match self.lock {
            Lock::Open { until } => Some(until),
            _ => None,
        };
        [until, self.too_long_at()].into_iter().flatten().min()
    }

    fn too_long_at(&self) -> Option<Ms> {
        match self.opened_at {
            Some(at) if !self.too_long_raised => {
                Some(at.saturating_add(secs(self.settings.sensor_check_s)))
            }
            _ => None,
        }
    }
}

fn secs(s: u32) -> Ms {
    u64::from(s) * 1000
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use AlarmKind::*;
    use Event::*;

    /// Access Control > Local with these times (s), NO contact.
    pub(in crate::door::lock) fn settings(
        interval: u32,
        period: u32,
        check: u32,
        enable: bool,
    ) -> AccessSettings {
        AccessSettings {
            responding_interval_s: interval,
            unlock_period_s: period,
            sensor_check_s: check,
            sensor_check_enable: enable,
            ..AccessSettings::default()
        }
    }

    /// Runs the controller to `until`, polling at each deadline as the
    /// service does; the events with the time they happened.
    fn run_to(c: &mut Controller, until: Ms) -> Vec<(Ms, Event)> {
        let mut out = Vec::new();
        while let Some(at) = c.deadline().filter(|&d| d <= until) {
            out.extend(c.poll(at).into_iter().map(|e| (at, e)));
        }
        out
    }

    #[test]
    fn unlock_opens_for_exactly_the_unlock_period() {
        let mut c = Controller::new(settings(1, 5, 30, false), 0, false);
        assert!(!c.lock_open());
        assert_eq!(c.unlock(1_000), Ok(vec![Unlocked]));
        assert!(c.lock_open());
        assert_eq!(c.deadline(), Some(6_000));
        assert_eq!(c.poll(5_999), vec![]);
        assert!(c.lock_open());
        assert_eq!(run_to(&mut c, 60_000), vec![(6_000, Locked)]);
        assert!(!c.lock_open());
        assert_eq!(c.deadline(), None);
    }

    #[test]
    fn responding_interval_refuses_a_second_unlock() {
        let mut c = Controller::new(settings(10, 2, 30, false), 0, false);
        assert!(c.unlock(0).is_ok());
        // Locked again at 2 s, but 10 s must pass since the last unlock.
        assert_eq!(c.unlock(2_500), Err(Refusal::TooSoon));
        assert_eq!(c.unlock(9_999), Err(Refusal::TooSoon));
        assert!(!c.lock_open());
        // A refusal does not restart the interval.
        assert_eq!(c.unlock(10_000), Ok(vec![Unlocked]));
    }

    #[test]
    fn an_unlock_while_open_extends_the_period() {
        let mut c = Controller::new(settings(1, 5, 30, false), 0, false);
        assert_eq!(c.unlock(0), Ok(vec![Unlocked]));
        // No second Unlocked: the lock was open.
        assert_eq!(c.unlock(3_000), Ok(vec![]));
        assert_eq!(run_to(&mut c, 60_000), vec![(8_000, Locked)]);
    }

    #[test]
    fn relay_polarity_follows_the_contact_type() {
        for (contact, locked, open) in [
            (ContactType::No, false, true),
            (ContactType::Nc, true, false),
        ] {
            let s = AccessSettings {
                contact,
                ..settings(1, 5, 30, false)
            };
            let mut c = Controller::new(s, 0, false);
            assert_eq!(c.relay_energized(), locked, "{contact:?} locked");
            assert!(c.unlock(0).is_ok());
            assert_eq!(c.relay_energized(), open, "{contact:?} open");
            run_to(&mut c, 10_000);
            assert_eq!(c.relay_energized(), locked, "{contact:?} locked again");
        }
    }

    #[test]
    fn contact_type_change_applies_at_once() {
        let mut c = Controller::new(settings(1, 5, 30, false), 0, false);
        assert!(!c.relay_energized());
        let nc = AccessSettings {
            contact: ContactType::Nc,
            ..settings(1, 5, 30, false)
        };
        assert_eq!(c.set_settings(10, nc), vec![]);
        assert!(c.relay_energized(), "an NC lock is held by the relay");
        assert!(!c.lock_open());
    }

    #[test]
    fn a_door_opened_while_locked_is_forced() {
        let mut c = Controller::new(settings(1, 5, 30, false), 0, false);
        assert_eq!(c.sensor(100, true), vec![DoorOpened, Alarm(ForcedDoor)]);
        assert_eq!(c.sensor(200, false), vec![DoorClosed]);
        // Opened during an unlock: no alarm.
        assert!(c.unlock(1_000).is_ok());
        assert_eq!(c.sensor(2_000, true), vec![DoorOpened]);
        assert_eq!(c.sensor(3_000, false), vec![DoorClosed]);
        // Opened again after the lock locked: forced.
        run_to(&mut c, 6_000);
        assert_eq!(c.sensor(7_000, true), vec![DoorOpened, Alarm(ForcedDoor)]);
    }

    #[test]
    fn repeated_sensor_reports_change_nothing() {
        let mut c = Controller::new(settings(1, 5, 30, false), 0, false);
        assert_eq!(c.sensor(100, false), vec![]);
        assert!(c.unlock(200).is_ok());
        assert_eq!(c.sensor(300, true), vec![DoorOpened]);
        assert_eq!(c.sensor(400, true), vec![]);
        // The open-too-long clock still counts from the first report.
        assert_eq!(
            run_to(&mut c, 60_000),
            vec![(5_200, Locked), (30_300, Alarm(DoorOpenTooLong))]
        );
    }

    #[test]
    fn door_open_too_long_raises_one_alarm_per_opening() {
        let mut c = Controller::new(settings(1, 5, 10, false), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(1_000, true);
        assert_eq!(
            run_to(&mut c, 100_000),
            vec![(5_000, Locked), (11_000, Alarm(DoorOpenTooLong))]
        );
        // Still open: no second alarm.
        assert_eq!(c.deadline(), None);
        assert_eq!(c.sensor(200_000, false), vec![DoorClosed]);
        // The next opening counts afresh.
        assert!(c.unlock(201_000).is_ok());
        c.sensor(201_500, true);
        c.sensor(205_000, false);
        assert_eq!(run_to(&mut c, 300_000), vec![(206_000, Locked)]);
    }

    #[test]
    fn closed_before_the_check_time_no_alarm() {
        let mut c = Controller::new(settings(1, 5, 10, false), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(1_000, true);
        assert_eq!(c.sensor(10_999, false), vec![Locked, DoorClosed]);
        assert_eq!(run_to(&mut c, 100_000), vec![]);
    }

    #[test]
    fn without_enable_the_lock_locks_after_the_period_even_if_the_door_is_open() {
        let mut c = Controller::new(settings(1, 3, 60, false), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(500, true);
        assert_eq!(run_to(&mut c, 3_000), vec![(3_000, Locked)]);
        assert!(!c.lock_open());
    }

    #[test]
    fn with_enable_the_lock_waits_for_the_door_to_close() {
        let mut c = Controller::new(settings(1, 3, 60, true), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(500, true);
        assert_eq!(run_to(&mut c, 30_000), vec![]);
        assert!(c.lock_open(), "held open while the door is open");
        assert_eq!(c.sensor(30_000, false), vec![DoorClosed, Locked]);
        assert!(!c.lock_open());
    }

    #[test]
    fn with_enable_a_door_that_never_opened_locks_after_the_period() {
        let mut c = Controller::new(settings(1, 3, 60, true), 0, false);
        assert!(c.unlock(0).is_ok());
        assert_eq!(run_to(&mut c, 10_000), vec![(3_000, Locked)]);
    }

    #[test]
    fn with_enable_a_door_closed_within_the_period_locks_at_its_end() {
        let mut c = Controller::new(settings(1, 5, 60, true), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(1_000, true);
        assert_eq!(c.sensor(2_000, false), vec![DoorClosed]);
        assert!(c.lock_open());
        assert_eq!(run_to(&mut c, 10_000), vec![(5_000, Locked)]);
    }

    #[test]
    fn a_sensor_that_never_closes() {
        // With Enable: held open, one alarm, and an unlock still works.
        let mut c = Controller::new(settings(1, 3, 20, true), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(1_000, true);
        assert_eq!(
            run_to(&mut c, 3_600_000),
            vec![(21_000, Alarm(DoorOpenTooLong))]
        );
        assert!(c.lock_open());
        assert_eq!(c.deadline(), None);
        assert_eq!(c.unlock(3_600_000), Ok(vec![]));
        assert_eq!(run_to(&mut c, 7_200_000), vec![]);
        // Without Enable: locked after the period, one alarm.
        let mut c = Controller::new(settings(1, 3, 20, false), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(1_000, true);
        assert_eq!(
            run_to(&mut c, 3_600_000),
            vec![(3_000, Locked), (21_000, Alarm(DoorOpenTooLong))]
        );
    }

    #[test]
    fn power_on_with_the_door_open() {
        let mut c = Controller::new(settings(1, 3, 20, true), 50_000, true);
        assert!(!c.lock_open(), "always locked at power-on");
        assert!(c.door_open());
        // Not forced (nobody saw it open), but too long after the check time.
        assert_eq!(
            run_to(&mut c, 200_000),
            vec![(70_000, Alarm(DoorOpenTooLong))]
        );
        // Closing and opening again without an unlock is forced.
        assert_eq!(c.sensor(80_000, false), vec![DoorClosed]);
        assert_eq!(c.sensor(81_000, true), vec![DoorOpened, Alarm(ForcedDoor)]);
    }

    #[test]
    fn power_on_locked_and_unlock_allowed_at_once() {
        for contact in ContactType::ALL.iter().copied() {
            let s = AccessSettings {
                contact,
                ..settings(600, 3, 20, false)
            };
            let mut c = Controller::new(s, 0, false);
            assert_eq!(c.relay_energized(), contact == ContactType::Nc);
            assert_eq!(c.unlock(0), Ok(vec![Unlocked]));
        }
    }

    #[test]
    fn late_polls_catch_up_in_order() {
        // The service may wake late: one poll does everything due.
        let mut c = Controller::new(settings(1, 3, 5, false), 0, false);
        assert!(c.unlock(0).is_ok());
        c.sensor(100, true);
        assert_eq!(c.poll(60_000), vec![Locked, Alarm(DoorOpenTooLong)]);
        // An input also applies what was due first.
        let mut c = Controller::new(settings(1, 3, 5, true), 0, false);
        assert!(c.unlock(0).is_ok());
        assert_eq!(
            c.sensor(4_000, true),
            vec![Locked, DoorOpened, Alarm(ForcedDoor)]
        );
    }

    #[test]
    fn every_combination_locks_again_once_the_door_closes() {
        // Whatever the parameters and the door does, once the door is closed
        // and the period is over, the lock is locked and nothing is pending
        // but an alarm.
        for interval in [1, 3] {
            for period in [1, 4] {
                for check in [1, 2, 10] {
                    for enable in [false, true] {
                        for contact in ContactType::ALL.iter().copied() {
                            for (open_at, close_at) in [
                                (None, None),
                                (Some(500), Some(800)),
                                (Some(500), Some(20_000)),
                                (Some(3_000), Some(3_500)),
                            ] {
                                let s = AccessSettings {
                                    contact,
                                    ..settings(interval, period, check, enable)
                                };
                                let mut c = Controller::new(s, 0, false);
                                assert!(c.unlock(0).is_ok());
                                let mut t = 0;
                                for (at, open) in [(open_at, true), (close_at, false)] {
                                    if let Some(at) = at {
                                        run_to(&mut c, at);
                                        c.sensor(at, open);
                                        t = at;
                                    }
                                }
                                let end = t.max(u64::from(period) * 1000) + 100_000;
                                run_to(&mut c, end);
                                let case = format!(
                                    "{interval} {period} {check} {enable} {contact:?} {open_at:?}"
                                );
                                assert!(!c.lock_open(), "{case}");
                                assert_eq!(
                                    c.relay_energized(),
                                    contact == ContactType::Nc,
                                    "{case}"
                                );
                                assert_eq!(c.deadline(), None, "{case}");
                            }
                        }
                    }
                }
            }
        }
    }
}
