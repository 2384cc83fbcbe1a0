//! Local Setting > System (manual 4.4): how times are shown, the device's
//! clock (zone, DST, NTP) and auto maintenance.
//!
//! Every record stores UTC; local time is only ever computed for display.
//! The manual gives no ranges or defaults; these are this device's:
//! - Zone: the usual UTC offsets, GMT-12:00 to GMT+14:00 (default GMT+00:00);
//! - DST (default off): by Date (month, day) or by Week (month, 1st to 4th
//!   or Last week, weekday), each with a time; the begin is in standard
//!   time, the end in summer time (as the clocks show them), one hour shift;
//!   a begin after the end is the southern hemisphere's summer;
//! - NTP (default off): server (host name or address, default
//!   pool.ntp.org), port 1-65535 (123), Update Cycle 1-30 min (10);
//! - Auto Maintenance: Never (default), Everyday or a weekday, at a time.

use serde::{Deserialize, Serialize};

use super::time::{civil_from_days, days_from_civil, UnixMillis};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

choices!(
    /// Date Format.
    DateFormat {
        #[default]
        YearMonthDay = ("ymd", "Year-Month-Day"),
        MonthDayYear = ("mdy", "Month-Day-Year"),
        DayMonthYear = ("dmy", "Day-Month-Year"),
    }
);

choices!(
    /// Time Format.
    TimeFormat {
        #[default]
        H24 = ("24", "24-Hour"),
        H12 = ("12", "12-Hour"),
    }
);

choices!(
    /// DST Type.
    DstKind {
        #[default]
        Date = ("date", "Date"),
        Week = ("week", "Week"),
    }
);

choices!(
    /// Auto Maintenance's day.
    MaintenanceDay {
        #[default]
        Never = ("never", "Never"),
        Everyday = ("everyday", "Everyday"),
        Sunday = ("sun", "Sunday"),
        Monday = ("mon", "Monday"),
        Tuesday = ("tue", "Tuesday"),
        Wednesday = ("wed", "Wednesday"),
        Thursday = ("thu", "Thursday"),
        Friday = ("fri", "Friday"),
        Saturday = ("sat", "Saturday"),
    }
);

/// The zones offered, as minutes east of UTC.
pub const ZONES: &[i16] = &[
    -720, -660, -600, -570, -540, -480, -420, -360, -300, -240, -210, -180, -120, -60, 0, 60, 120,
    180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 525, 540, 570, 600, 630, 660, 720, 765,
    780, 840,
];

/// `GMT+05:30`.
pub fn zone_label(minutes: i16) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("GMT{sign}{:02}:{:02}", m / 60, m % 60)
}

pub const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// The Week type's week of the month: 1-4, or 5 for the last one.
pub const WEEKS: [&str; 5] = ["1st", "2nd", "3rd", "4th", "Last"];

/// A DST begin or end: `day` is used by the Date type, `week` and
/// `weekday` (0 = Sunday) by the Week type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DstPoint {
    pub month: u8,
    pub day: u8,
    pub week: u8,
    pub weekday: u8,
    /// Minutes since midnight.
    pub minute: u16,
}

impl DstPoint {
    /// The local day (days since 1970-01-01) this point falls on in `year`.
    fn day_in(&self, kind: DstKind, year: i64) -> i64 {
        let month = u32::from(self.month.clamp(1, 12));
        let days = days_in_month(year, month);
        match kind {
            DstKind::Date => days_from_civil(year, month, u32::from(self.day).clamp(1, days)),
            DstKind::Week => {
                let first = days_from_civil(year, month, 1);
                let weekday = i64::from(self.weekday.min(6));
                let first_match = first + (weekday - weekday_of(first)).rem_euclid(7);
                if self.week >= 5 {
                    let last = first + i64::from(days) - 1;
                    last - (weekday_of(last) - weekday).rem_euclid(7)
                } else {
                    first_match + 7 * i64::from(self.week.max(1) - 1)
                }
            }
        }
    }

    /// Local milliseconds (as if UTC) of this point in `year`.
    fn local_ms(&self, kind: DstKind, year: i64) -> i64 {
        self.day_in(kind, year) * DAY_MS + i64::from(self.minute) * MINUTE_MS
    }
}

/// 0 = Sunday.
fn weekday_of(days: i64) -> i64 {
    // 1970-01-01 was a Thursday.
    (days + 4).rem_euclid(7)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dst {
    pub enabled: bool,
    pub kind: DstKind,
    pub begin: DstPoint,
    pub end: DstPoint,
}

impl Default for Dst {
    /// Off; when turned on, the European rule (last Sunday of March 02:00
    /// to last Sunday of October 03:00).
    fn default() -> Self {
        Self {
            enabled: false,
            kind: DstKind::Week,
            begin: DstPoint {
                month: 3,
                day: 31,
                week: 5,
                weekday: 0,
                minute: 120,
            },
            end: DstPoint {
                month: 10,
                day: 31,
                week: 5,
                weekday: 0,
                minute: 180,
            },
        }
    }
}

/// What decides how a time is shown: the formats, the zone and DST.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeDisplay {
    pub date_format: DateFormat,
    pub time_format: TimeFormat,
    /// Zone, minutes east of UTC.
    pub zone: i16,
    pub dst: Dst,
}

impl TimeDisplay {
    /// Minutes to add to UTC for local time at `utc`.
    pub fn offset_at(&self, utc: UnixMillis) -> i64 {
        let zone = i64::from(self.zone);
        if self.in_dst(utc.0 + zone * MINUTE_MS) {
            zone + 60
        } else {
            zone
        }
    }

    /// Whether summer time applies at `standard` (local standard time in
    /// milliseconds, as if UTC).
    fn in_dst(&self, standard: i64) -> bool {
        let dst = &self.dst;
        if !dst.enabled {
            return false;
        }
        let (year, _, _) = civil_from_days(standard.div_euclid(DAY_MS));
        let begin = dst.begin.local_ms(dst.kind, year);
        // The end is given as the summer-time clock shows it.
        let end = dst.end.local_ms(dst.kind, year) - 60 * MINUTE_MS;
        match begin.cmp(&end) {
            std::cmp::Ordering::Less => (begin..end).contains(&standard),
            std::cmp::Ordering::Greater => standard >= begin || standard < end,
            std::cmp::Ordering::Equal => false,
        }
    }

    /// Local milliseconds (as if UTC) at `utc`.
    pub fn local(&self, utc: UnixMillis) -> i64 {
        utc.0 + self.offset_at(utc) * MINUTE_MS
    }

    /// The UTC instant a local wall time means. A time skipped when summer
    /// time begins is read in standard time; a time shown twice when it
    /// ends is read as the earlier one.
    pub fn to_utc(&self, local: i64) -> UnixMillis {
        let zone = i64::from(self.zone) * MINUTE_MS;
        let summer = UnixMillis(local - zone - 60 * MINUTE_MS);
        if self.offset_at(summer) == i64::from(self.zone) + 60 {
            summer
        } else {
            UnixMillis(local - zone)
        }
    }

    /// `2026-11-26 14:03:05` in the page's formats.
    pub fn format(&self, utc: UnixMillis) -> String {
        format!("{} {}", self.format_date(utc), self.format_time(utc))
    }

    pub fn format_date(&self, utc: UnixMillis) -> String {
        let (y, m, d) = civil_from_days(self.local(utc).div_euclid(DAY_MS));
        match self.date_format {
            DateFormat::YearMonthDay => format!("{y:04}-{m:02}-{d:02}"),
            DateFormat::MonthDayYear => format!("{m:02}-{d:02}-{y:04}"),
            DateFormat::DayMonthYear => format!("{d:02}-{m:02}-{y:04}"),
        }
    }

    pub fn format_time(&self, utc: UnixMillis) -> String {
        let secs = self.local(utc).rem_euclid(DAY_MS) / 1000;
        let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
        match self.time_format {
            TimeFormat::H24 => format!("{h:02}:{m:02}:{s:02}"),
            TimeFormat::H12 => {
                let half = if h < 12 { "AM" } else { "PM" };
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                format!("{h12:02}:{m:02}:{s:02} {half}")
            }
        }
    }
}

/// The device's clock can be set from 2000-01-01 to 2099-12-31 (UTC): a
/// time outside is a PC or a typing error.
pub fn plausible(utc: UnixMillis) -> bool {
    (946_684_800_000..4_102_444_800_000).contains(&utc.0)
}

pub const IMPLAUSIBLE: &str = "Enter a time from 2000 to 2099";

/// `YYYY-MM-DDTHH:MM[:SS]` (an `<input type="datetime-local">`) -> local
/// milliseconds as if UTC.
pub fn parse_local(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once(['T', ' '])?;
    let mut d = date.split('-');
    let y: i64 = d.next().filter(|p| p.len() == 4)?.parse().ok()?;
    let mo: u32 = d.next().filter(|p| p.len() == 2)?.parse().ok()?;
    let da: u32 = d.next().filter(|p| p.len() == 2)?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&mo) || da == 0 || da > days_in_month(y, mo) {
        return None;
    }
    let mut t = time.split(':');
    let h: i64 = t.next().filter(|p| p.len() == 2)?.parse().ok()?;
    let mi: i64 = t.next().filter(|p| p.len() == 2)?.parse().ok()?;
    let s: i64 = match t.next() {
        Some(p) if p.len() == 2 => p.parse().ok()?,
        Some(_) => return None,
        None => 0,
    };
    if t.next().is_some() || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    Some(days_from_civil(y, mo, da) * DAY_MS + ((h * 60 + mi) * 60 + s) * 1000)
}

/// Local milliseconds -> `YYYY-MM-DDTHH:MM:SS`, for the same input.
pub fn format_local_input(local: i64) -> String {
    let (y, m, d) = civil_from_days(local.div_euclid(DAY_MS));
    let secs = local.rem_euclid(DAY_MS) / 1000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NtpSettings {
    pub enabled: bool,
    pub server: String,
    pub port: u16,
    /// Update Cycle, minutes.
    pub update_cycle: u16,
}

impl Default for NtpSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            server: "pool.ntp.org".into(),
            port: 123,
            update_cycle: 10,
        }
    }
}

pub const MAX_UPDATE_CYCLE: u16 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutoMaintenance {
    pub day: MaintenanceDay,
    /// Minutes since midnight.
    pub minute: u16,
}

impl Default for AutoMaintenance {
    fn default() -> Self {
        Self {
            day: MaintenanceDay::Never,
            minute: 2 * 60,
        }
    }
}

/// The System page's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeSettings {
    pub display: TimeDisplay,
    pub ntp: NtpSettings,
    pub maintenance: AutoMaintenance,
}

/// Whether `s` is a plausible host name or IP address.
pub fn valid_host(s: &str) -> bool {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl TimeSettings {
    /// Every error: (field id, message). Empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        let d = &self.display;
        if !ZONES.contains(&d.zone) {
            errors.push(("zone", "Choose a zone from the list".to_string()));
        }
        if d.dst.enabled {
            for (id, p) in [("dst-begin", &d.dst.begin), ("dst-end", &d.dst.end)] {
                let valid = (1..=12).contains(&p.month)
                    && p.minute < 24 * 60
                    && match d.dst.kind {
                        DstKind::Date => {
                            // Any year: 29 February is allowed (it is the
                            // 28th in other years).
                            p.day >= 1
                                && u32::from(p.day) <= days_in_month(2000, u32::from(p.month))
                        }
                        DstKind::Week => (1..=5).contains(&p.week) && p.weekday <= 6,
                    };
                if !valid {
                    errors.push((id, "Enter an existing date and a time".to_string()));
                }
            }
            let same = match d.dst.kind {
                DstKind::Date => {
                    (d.dst.begin.month, d.dst.begin.day) == (d.dst.end.month, d.dst.end.day)
                }
                DstKind::Week => {
                    (d.dst.begin.month, d.dst.begin.week, d.dst.begin.weekday)
                        == (d.dst.end.month, d.dst.end.week, d.dst.end.weekday)
                }
            };
            if same && !errors.iter().any(|(f, _)| f.starts_with("dst")) {
                errors.push((
                    "dst-end",
                    "End Time must be on another day than Begin Time".to_string(),
                ));
            }
        }
        let n = &self.ntp;
        if !valid_host(n.server.trim()) {
            errors.push((
                "ntp-server",
                "Enter a host name or an IP address (up to 253 characters)".to_string(),
            ));
        }
        if n.port == 0 {
            errors.push(("ntp-port", "Enter a port from 1 to 65535".to_string()));
        }
        if !(1..=MAX_UPDATE_CYCLE).contains(&n.update_cycle) {
            errors.push((
                "ntp-cycle",
                format!("Enter 1 to {MAX_UPDATE_CYCLE} minutes"),
            ));
        }
        if self.maintenance.minute >= 24 * 60 {
            errors.push(("maintenance-time", "Enter a time as HH:MM".to_string()));
        }
        errors
    }

    /// The manual's parameter names of what differs from `old`.
    pub fn changed_fields(&self, old: &Self) -> Vec<&'static str> {
        let (a, b) = (&self.display, &old.display);
        [
            (a.date_format != b.date_format, "Date Format"),
            (a.time_format != b.time_format, "Time Format"),
            (a.zone != b.zone, "Zone"),
            (a.dst != b.dst, "DST"),
            (self.ntp.enabled != old.ntp.enabled, "NTP Enable"),
            (self.ntp.server != old.ntp.server, "NTP Server"),
            (self.ntp.port != old.ntp.port, "Port"),
            (
                self.ntp.update_cycle != old.ntp.update_cycle,
                "Update Cycle",
            ),
            (self.maintenance != old.maintenance, "Auto Maintenance"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }

    /// The first auto maintenance strictly after `now` (UTC), if any.
    pub fn next_maintenance(&self, now: UnixMillis) -> Option<UnixMillis> {
        let m = &self.maintenance;
        let weekday = match m.day {
            MaintenanceDay::Never => return None,
            MaintenanceDay::Everyday => None,
            day => Some(
                MaintenanceDay::ALL
                    .iter()
                    .position(|d| *d == day)
                    .map(|i| i as i64 - 2)?,
            ),
        };
        let today = self.display.local(now).div_euclid(DAY_MS);
        // Eight days cover every weekday and a time already past today.
        (0..=8)
            .map(|i| today + i)
            .filter(|day| weekday.is_none_or(|w| weekday_of(*day) == w))
            .map(|day| {
                self.display
                    .to_utc(day * DAY_MS + i64::from(m.minute) * MINUTE_MS)
            })
            .find(|t| *t > now)
    }
}

/// The System page: settings plus the clock's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemTimePage {
    pub settings: TimeSettings,
    /// The device's clock when the page was read.
    pub now: UnixMillis,
    pub last_sync: Option<NtpSync>,
    pub next_maintenance: Option<UnixMillis>,
}

/// The latest NTP sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NtpSync {
    /// When it was tried, by the device's clock after it.
    pub time: UnixMillis,
    /// `Ok(step in ms)` or `Err(why)`.
    pub result: Result<i64, String>,
}

/// What a save does to the clock besides storing the settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClockUpdate {
    Keep,
    /// The System Time field as typed: local `YYYY-MM-DDTHH:MM:SS`.
    Local(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> UnixMillis {
        UnixMillis(days_from_civil(y, mo, d) * DAY_MS + (h * 60 + mi) * MINUTE_MS)
    }

    fn berlin() -> TimeDisplay {
        TimeDisplay {
            zone: 60,
            dst: Dst {
                enabled: true,
                ..Dst::default()
            },
            ..TimeDisplay::default()
        }
    }

    #[test]
    fn european_summer_time_by_week() {
        let d = berlin();
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(d.offset_at(utc(2026, 3, 29, 0, 59)), 60);
        assert_eq!(d.offset_at(utc(2026, 3, 29, 1, 0)), 120);
        assert_eq!(d.offset_at(utc(2026, 10, 25, 0, 59)), 120);
        assert_eq!(d.offset_at(utc(2026, 10, 25, 1, 0)), 60);
        assert_eq!(d.format(utc(2026, 7, 1, 12, 0)), "2026-07-01 14:00:00");
        assert_eq!(d.format(utc(2026, 12, 1, 12, 0)), "2026-12-01 13:00:00");
    }

    #[test]
    fn week_rules_pick_the_right_day() {
        let p = |week, weekday| DstPoint {
            month: 11,
            day: 1,
            week,
            weekday,
            minute: 0,
        };
        // November 2026 starts on a Sunday; its last Monday is the 30th.
        let day = |pt: DstPoint| civil_from_days(pt.day_in(DstKind::Week, 2026));
        assert_eq!(day(p(1, 0)), (2026, 11, 1));
        assert_eq!(day(p(1, 6)), (2026, 11, 7));
        assert_eq!(day(p(2, 0)), (2026, 11, 8));
        assert_eq!(day(p(4, 3)), (2026, 11, 25));
        assert_eq!(day(p(5, 1)), (2026, 11, 30));
        assert_eq!(day(p(5, 0)), (2026, 11, 29));
    }

    #[test]
    fn southern_summer_by_date_wraps_the_year() {
        let d = TimeDisplay {
            zone: 600,
            dst: Dst {
                enabled: true,
                kind: DstKind::Date,
                begin: DstPoint {
                    month: 10,
                    day: 4,
                    week: 1,
                    weekday: 0,
                    minute: 120,
                },
                end: DstPoint {
                    month: 4,
                    day: 5,
                    week: 1,
                    weekday: 0,
                    minute: 180,
                },
            },
            ..TimeDisplay::default()
        };
        assert_eq!(d.offset_at(utc(2026, 1, 15, 0, 0)), 660);
        assert_eq!(d.offset_at(utc(2026, 6, 15, 0, 0)), 600);
        assert_eq!(d.offset_at(utc(2026, 12, 15, 0, 0)), 660);
    }

    #[test]
    fn formats() {
        let t = utc(2026, 11, 26, 0, 5) + 7000;
        let mut d = TimeDisplay::default();
        assert_eq!(d.format(t), "2026-11-26 00:05:07");
        d.date_format = DateFormat::MonthDayYear;
        d.time_format = TimeFormat::H12;
        assert_eq!(d.format(t), "11-26-2026 12:05:07 AM");
        d.date_format = DateFormat::DayMonthYear;
        assert_eq!(d.format(t + 13 * 3_600_000), "26-11-2026 01:05:07 PM");
        d.zone = -300;
        assert_eq!(d.format(t), "25-11-2026 07:05:07 PM");
        assert_eq!(zone_label(-570), "GMT-09:30");
        assert_eq!(zone_label(345), "GMT+05:45");
    }

    #[test]
    fn local_round_trip_and_gaps() {
        let d = berlin();
        for t in [
            utc(2026, 1, 1, 0, 0),
            utc(2026, 7, 1, 23, 30),
            utc(2026, 10, 25, 0, 30),
        ] {
            assert_eq!(d.to_utc(d.local(t)), t);
        }
        // 02:30 on 29 March 2026 does not exist in Berlin: read as standard.
        let gap = parse_local("2026-03-29T02:30").unwrap_or_default();
        assert_eq!(d.to_utc(gap), utc(2026, 3, 29, 1, 30));
        assert_eq!(
            format_local_input(d.local(utc(2026, 7, 1, 10, 0))),
            "2026-07-01T12:00:00"
        );
    }

    #[test]
    fn parses_only_real_local_times() {
        assert_eq!(
            parse_local("2024-02-29T23:59:59"),
            Some((utc(2024, 2, 29, 23, 59) + 59_000).0)
        );
        for bad in [
            "",
            "2025-02-29T00:00",
            "2026-13-01T00:00",
            "2026-01-01T24:00",
            "2026-01-01T00:60",
            "2026-1-01T00:00",
            "2026-01-01",
            "2026-01-01T00:00:00:00",
            "x026-01-01T00:00",
        ] {
            assert_eq!(parse_local(bad), None, "{bad}");
        }
    }

    type Case = (fn(&mut TimeSettings), Option<&'static str>);

    #[test]
    fn validation_edges() {
        let cases: &[Case] = &[
            (|_| {}, None),
            (|s| s.display.zone = 840, None),
            (|s| s.display.zone = 841, Some("zone")),
            (|s| s.display.zone = -780, Some("zone")),
            (|s| s.ntp.server = "127.0.0.1".into(), None),
            (|s| s.ntp.server = "::1".into(), None),
            (|s| s.ntp.server = "ntp-1.example.org".into(), None),
            (|s| s.ntp.server = String::new(), Some("ntp-server")),
            (|s| s.ntp.server = "a..b".into(), Some("ntp-server")),
            (|s| s.ntp.server = "-a.org".into(), Some("ntp-server")),
            (|s| s.ntp.server = "a b".into(), Some("ntp-server")),
            (|s| s.ntp.server = "a".repeat(254), Some("ntp-server")),
            (|s| s.ntp.port = 0, Some("ntp-port")),
            (|s| s.ntp.port = 65535, None),
            (|s| s.ntp.update_cycle = 0, Some("ntp-cycle")),
            (|s| s.ntp.update_cycle = 1, None),
            (|s| s.ntp.update_cycle = 30, None),
            (|s| s.ntp.update_cycle = 31, Some("ntp-cycle")),
            (|s| s.maintenance.minute = 1439, None),
            (|s| s.maintenance.minute = 1440, Some("maintenance-time")),
            (|s| s.display.dst.begin.month = 0, None), // DST off: not checked
            (
                |s| {
                    s.display.dst.enabled = true;
                    s.display.dst.begin.month = 13;
                },
                Some("dst-begin"),
            ),
            (
                |s| {
                    s.display.dst.enabled = true;
                    s.display.dst.kind = DstKind::Date;
                    s.display.dst.begin = DstPoint {
                        month: 2,
                        day: 30,
                        ..s.display.dst.begin
                    };
                },
                Some("dst-begin"),
            ),
            (
                |s| {
                    s.display.dst.enabled = true;
                    s.display.dst.kind = DstKind::Date;
                    s.display.dst.begin = DstPoint {
                        month: 2,
                        day: 29,
                        ..s.display.dst.begin
                    };
                },
                None,
            ),
            (
                |s| {
                    s.display.dst.enabled = true;
                    s.display.dst.end.week = 6;
                },
                Some("dst-end"),
            ),
            (
                |s| {
                    s.display.dst.enabled = true;
                    s.display.dst.end.minute = 1440;
                },
                Some("dst-end"),
            ),
            (
                |s| {
                    s.display.dst.enabled = true;
                    s.display.dst.end = s.display.dst.begin;
                },
                Some("dst-end"),
            ),
        ];
        for (i, (change, field)) in cases.iter().enumerate() {
            let mut s = TimeSettings::default();
            change(&mut s);
            let errors = s.validate();
            assert_eq!(errors.first().map(|e| e.0), *field, "case {i}: {errors:?}");
        }
    }

    #[test]
    fn next_maintenance() {
        let mut s = TimeSettings::default();
        let now = utc(2026, 11, 26, 10, 0); // a Thursday
        assert_eq!(s.next_maintenance(now), None);
        s.maintenance = AutoMaintenance {
            day: MaintenanceDay::Everyday,
            minute: 120,
        };
        assert_eq!(s.next_maintenance(now), Some(utc(2026, 11, 27, 2, 0)));
        s.maintenance.day = MaintenanceDay::Thursday;
        assert_eq!(s.next_maintenance(now), Some(utc(2026, 12, 3, 2, 0)));
        s.maintenance.minute = 10 * 60 + 1;
        assert_eq!(s.next_maintenance(now), Some(utc(2026, 11, 26, 10, 1)));
        s.maintenance.day = MaintenanceDay::Tuesday;
        s.display.zone = 60;
        // 10:01 in GMT+01:00 is 09:01 UTC.
        assert_eq!(s.next_maintenance(now), Some(utc(2026, 12, 1, 9, 1)));
    }
}
