//! Auto maintenance (manual 4.4): restart the device's services at the day
//! and time set on the System page. Pure: the caller polls with the time.

use app::model::{system_time::TimeSettings, time::UnixMillis};

/// Remembers up to when maintenance was already considered.
pub struct MaintenanceTimer {
    checked: UnixMillis,
}

impl MaintenanceTimer {
    /// Starts at `now`: a maintenance time already past does not count.
    pub fn new(now: UnixMillis) -> Self {
        Self { checked: now }
    }

    /// Whether a maintenance time fell in (last poll, `now`]. A clock set
    /// forward over several counts once. A clock set back counts from
    /// `elapsed` (real time since the last poll) before `now`: setting it
    /// to just before the maintenance time must not skip it.
    pub fn poll(&mut self, now: UnixMillis, elapsed: i64, settings: &TimeSettings) -> bool {
        let from = if now < self.checked {
            now - elapsed.max(0)
        } else {
            self.checked
        };
        let due = now > from && settings.next_maintenance(from).is_some_and(|t| t <= now);
        self.checked = now;
        due
    }
}

#[cfg(test)]
mod tests {
    use app::model::system_time::{AutoMaintenance, MaintenanceDay};

    use super::*;
    use crate::clock::{sim::SimClock, Clock};

    /// 2026-11-26 (a Thursday) 10:00 UTC.
    const THU_10: UnixMillis = UnixMillis(1_795_687_200_000);

    fn settings(day: MaintenanceDay, minute: u16) -> TimeSettings {
        TimeSettings {
            maintenance: AutoMaintenance { day, minute },
            ..TimeSettings::default()
        }
    }

    /// Polls every 10 s for `secs`; the times (seconds from the start) it
    /// fired.
    fn run(clock: &SimClock, s: &TimeSettings, secs: i64) -> Vec<i64> {
        let start = clock.now();
        let mut timer = MaintenanceTimer::new(start);
        let mut fired = Vec::new();
        for _ in 0..secs / 10 {
            clock.advance_secs(10);
            if timer.poll(clock.now(), 10_000, s) {
                fired.push((clock.now() - start) / 1000);
            }
        }
        fired
    }

    #[test]
    fn fires_once_at_the_set_time_each_day() {
        let clock = SimClock::at(THU_10);
        // Everyday at 10:05: 300 s after the start, then a day later.
        let s = settings(MaintenanceDay::Everyday, 10 * 60 + 5);
        assert_eq!(run(&clock, &s, 2 * 86_400), vec![300, 86_700]);
    }

    #[test]
    fn weekly_and_never() {
        let clock = SimClock::at(THU_10);
        // Saturday 02:00 is 1 day 16 h away.
        let s = settings(MaintenanceDay::Saturday, 120);
        assert_eq!(
            run(&clock, &s, 9 * 86_400),
            vec![144_000, 144_000 + 7 * 86_400]
        );
        let clock = SimClock::at(THU_10);
        assert!(run(&clock, &settings(MaintenanceDay::Never, 120), 8 * 86_400).is_empty());
    }

    #[test]
    fn clock_steps() {
        let s = settings(MaintenanceDay::Everyday, 10 * 60 + 5);
        let mut timer = MaintenanceTimer::new(THU_10);
        let mut poll = |now| timer.poll(now, 10_000, &s);
        // Set back an hour, then run up to 10:05 again: it fires once.
        assert!(!poll(THU_10 - 3_600_000));
        assert!(poll(THU_10 + 300_000));
        assert!(!poll(THU_10 + 310_000));
        // Set back before it: nothing until 10:05 comes round again.
        assert!(!poll(THU_10));
        assert!(!poll(THU_10 + 200_000));
        assert!(poll(THU_10 + 300_000));
        // A step forward across two days fires once.
        assert!(poll(THU_10 + 3 * 86_400_000));
    }

    /// The clock set back to 5 s before the maintenance time, and the next
    /// poll (10 s later) already past it: it fires (it was skipped before,
    /// when the step went back from the afternoon).
    #[test]
    fn a_clock_set_back_to_just_before_the_time_fires() {
        let s = settings(MaintenanceDay::Everyday, 10 * 60 + 5);
        let mut timer = MaintenanceTimer::new(THU_10 + 4 * 3_600_000);
        assert!(timer.poll(THU_10 + 305_000, 10_000, &s));
        assert!(!timer.poll(THU_10 + 315_000, 10_000, &s));
    }
}
