//! Local Setting > Basic (manual 4.1): device type, numbers and the call
//! centre. The main page's VTO information shows them; call routing uses
//! them with the SIP issue.
//!
//! The manual gives no ranges; these are the ones Dahua-style devices
//! accept and this device enforces on both sides:
//! - VTO No.: 1 to 6 digits (default 8001);
//! - Building No. and Unit No.: 1 to 2 digits (defaults 01 and 1);
//! - Centre Call No.: 1 to 16 digits (default 888888);
//! - Call Centre Time: a daily period `HH:MM`-`HH:MM` (default the whole
//!   day, 00:00-23:59); a start after the end runs over midnight.

use serde::{Deserialize, Serialize};

/// Device Type (manual table 4-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DeviceType {
    #[default]
    VillaStation,
    SecondConfirmation,
    /// Only when another server is the SIP server (comes with that issue).
    FenceStation,
}

impl DeviceType {
    /// The types the Basic page offers while this device is its own SIP
    /// server.
    pub const CHOICES: [Self; 2] = [Self::VillaStation, Self::SecondConfirmation];

    pub fn label(self) -> &'static str {
        match self {
            Self::VillaStation => "Villa Station",
            Self::SecondConfirmation => "Second Confirmation",
            Self::FenceStation => "Fence Station",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::VillaStation => "villa",
            Self::SecondConfirmation => "second-confirmation",
            Self::FenceStation => "fence",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        [
            Self::VillaStation,
            Self::SecondConfirmation,
            Self::FenceStation,
        ]
        .into_iter()
        .find(|t| t.key() == key)
    }
}

/// A daily period in minutes since midnight, `start..=end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyPeriod {
    pub start: u16,
    pub end: u16,
}

impl Default for DailyPeriod {
    fn default() -> Self {
        Self {
            start: 0,
            end: 23 * 60 + 59,
        }
    }
}

impl DailyPeriod {
    /// Whether `minute` (since midnight) lies in the period; a start after
    /// the end runs over midnight.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start <= self.end {
            (self.start..=self.end).contains(&minute)
        } else {
            minute >= self.start || minute <= self.end
        }
    }
}

/// `HH:MM` -> minutes since midnight.
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

pub fn format_hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BasicSettings {
    pub device_type: DeviceType,
    pub building_no: String,
    pub unit_no: String,
    pub centre_call_no: String,
    pub call_centre_time: DailyPeriod,
    pub vto_no: String,
    /// Storage Point: the folder snapshots are saved to (an SD card's
    /// mount point); empty: `snapshots` in the device's data folder.
    pub storage_point: String,
    /// Auto Snapshot (unlock): a snapshot of the door camera at each
    /// unlock, linked from its record.
    pub auto_snapshot_unlock: bool,
    /// Auto Snapshot (talking): a snapshot of the door camera when a
    /// monitor answers the door's call, linked from its call log row.
    pub auto_snapshot_talking: bool,
    /// Leave Message Upload: when nobody answers the door's call, the
    /// visitor is recorded to the Storage Point (Messages page).
    pub leave_message: bool,
    /// How long a visitor may speak a message, in seconds.
    pub message_time_s: u16,
    /// Watch Calls Answered Elsewhere: while a monitor or another browser
    /// talks with the door, signed-in browsers keep showing (and may
    /// listen to) the door. Off by default: the talk is private.
    pub watch_answered: bool,
}

/// The longest Message Time, in seconds.
pub const MAX_MESSAGE_TIME_S: u16 = 60;
/// The shortest.
pub const MIN_MESSAGE_TIME_S: u16 = 5;

impl Default for BasicSettings {
    fn default() -> Self {
        Self {
            device_type: DeviceType::VillaStation,
            building_no: "01".into(),
            unit_no: "1".into(),
            centre_call_no: "888888".into(),
            call_centre_time: DailyPeriod::default(),
            vto_no: "8001".into(),
            storage_point: String::new(),
            auto_snapshot_unlock: false,
            auto_snapshot_talking: false,
            leave_message: false,
            message_time_s: 20,
            watch_answered: false,
        }
    }
}

/// What the device's own files (snapshots and messages) take of the
/// Storage Point, and its bounds (`--storage-max-files`,
/// `--storage-max-mb`): beyond, the oldest are removed first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageUsage {
    pub files: u64,
    pub bytes: u64,
    pub max_files: u64,
    pub max_bytes: u64,
}

impl StorageUsage {
    /// The line under the Storage Point field.
    pub fn summary(&self) -> String {
        let mb = |b: u64| {
            let tenths = b.saturating_mul(10).div_ceil(1 << 20);
            format!("{}.{} MB", tenths / 10, tenths % 10)
        };
        let files = |n: u64| {
            if n == 1 {
                "1 file".to_string()
            } else {
                format!("{n} files")
            }
        };
        format!(
            "In use: {}, {} of at most {} and {}; beyond, the oldest are removed first.",
            files(self.files),
            mb(self.bytes),
            files(self.max_files),
            mb(self.max_bytes),
        )
    }
}

/// Storage Point: empty or an absolute folder path, without `..`.
pub fn storage_point_error(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return None;
    }
    if !path.starts_with('/') {
        return Some("An absolute folder path (/media/sd), or empty for the device's data folder");
    }
    if path.len() > 200 || path.chars().any(char::is_control) {
        return Some("At most 200 characters, no control characters");
    }
    if path.split('/').any(|part| part == "..") {
        return Some("No \"..\" in the path");
    }
    None
}

fn digits(value: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

impl BasicSettings {
    /// Every field error as (field id, message); empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if !digits(&self.vto_no, 1, 6) {
            errors.push(("vto-no", "1 to 6 digits".to_string()));
        }
        if !digits(&self.building_no, 1, 2) {
            errors.push(("building-no", "1 to 2 digits".to_string()));
        }
        if !digits(&self.unit_no, 1, 2) {
            errors.push(("unit-no", "1 to 2 digits".to_string()));
        }
        if !digits(&self.centre_call_no, 1, 16) {
            errors.push(("centre-call-no", "1 to 16 digits".to_string()));
        }
        let t = self.call_centre_time;
        if t.start >= 24 * 60 || t.end >= 24 * 60 {
            errors.push((
                "call-centre-time",
                "Times run from 00:00 to 23:59".to_string(),
            ));
        }
        if let Some(e) = storage_point_error(&self.storage_point) {
            errors.push(("storage-point", e.to_string()));
        }
        if !(MIN_MESSAGE_TIME_S..=MAX_MESSAGE_TIME_S).contains(&self.message_time_s) {
            errors.push((
                "message-time",
                format!("{MIN_MESSAGE_TIME_S} to {MAX_MESSAGE_TIME_S} seconds"),
            ));
        }
        errors
    }

    /// The names of the fields that differ from `other` (for the audit
    /// log: names only, never values).
    pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.device_type != other.device_type {
            out.push("Device Type");
        }
        if self.building_no != other.building_no {
            out.push("Building No.");
        }
        if self.unit_no != other.unit_no {
            out.push("Unit No.");
        }
        if self.centre_call_no != other.centre_call_no {
            out.push("Centre Call No.");
        }
        if self.call_centre_time != other.call_centre_time {
            out.push("Call Centre Time");
        }
        if self.vto_no != other.vto_no {
            out.push("VTO No.");
        }
        if self.storage_point != other.storage_point {
            out.push("Storage Point");
        }
        if self.auto_snapshot_unlock != other.auto_snapshot_unlock {
            out.push("Auto Snapshot (unlock)");
        }
        if self.auto_snapshot_talking != other.auto_snapshot_talking {
            out.push("Auto Snapshot (talking)");
        }
        if self.leave_message != other.leave_message {
            out.push("Leave Message Upload");
        }
        if self.message_time_s != other.message_time_s {
            out.push("Message Time");
        }
        if self.watch_answered != other.watch_answered {
            out.push("Watch Calls Answered Elsewhere");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(f: impl FnOnce(&mut BasicSettings)) -> Vec<&'static str> {
        let mut s = BasicSettings::default();
        f(&mut s);
        s.validate().into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn defaults_are_the_manuals_and_valid() {
        let d = BasicSettings::default();
        assert_eq!(d.centre_call_no, "888888");
        assert_eq!(d.vto_no, "8001");
        assert!(d.validate().is_empty());
    }

    #[test]
    fn every_edge_of_every_field() {
        type Case = (&'static str, fn(&mut BasicSettings), bool);
        let cases: &[Case] = &[
            ("vto-no", |s| s.vto_no = "1".into(), true),
            ("vto-no", |s| s.vto_no = "999999".into(), true),
            ("vto-no", |s| s.vto_no = "".into(), false),
            ("vto-no", |s| s.vto_no = "1234567".into(), false),
            ("vto-no", |s| s.vto_no = "80a1".into(), false),
            ("vto-no", |s| s.vto_no = " 8001".into(), false),
            ("building-no", |s| s.building_no = "99".into(), true),
            ("building-no", |s| s.building_no = "100".into(), false),
            ("building-no", |s| s.building_no = "".into(), false),
            ("unit-no", |s| s.unit_no = "9".into(), true),
            ("unit-no", |s| s.unit_no = "-1".into(), false),
            (
                "centre-call-no",
                |s| s.centre_call_no = "1".repeat(16),
                true,
            ),
            (
                "centre-call-no",
                |s| s.centre_call_no = "1".repeat(17),
                false,
            ),
            ("centre-call-no", |s| s.centre_call_no = "".into(), false),
            ("call-centre-time", |s| s.call_centre_time.end = 1439, true),
            ("call-centre-time", |s| s.call_centre_time.end = 1440, false),
            (
                "call-centre-time",
                |s| s.call_centre_time.start = 1440,
                false,
            ),
        ];
        for (field, set, ok) in cases {
            let e = errors(*set);
            if *ok {
                assert!(e.is_empty(), "{field}: {e:?}");
            } else {
                assert_eq!(e, [*field]);
            }
        }
    }

    #[test]
    fn periods_may_run_over_midnight() {
        let day = DailyPeriod {
            start: 8 * 60,
            end: 18 * 60,
        };
        assert!(day.contains(8 * 60) && day.contains(18 * 60) && !day.contains(18 * 60 + 1));
        let night = DailyPeriod {
            start: 22 * 60,
            end: 6 * 60,
        };
        assert!(night.contains(23 * 60) && night.contains(60) && !night.contains(12 * 60));
    }

    #[test]
    fn storage_usage_reads_as_a_sentence() {
        let u = StorageUsage {
            files: 1,
            bytes: 24,
            max_files: 3,
            max_bytes: 1 << 20,
        };
        assert_eq!(
            u.summary(),
            "In use: 1 file, 0.1 MB of at most 3 files and 1.0 MB; beyond, the oldest are removed first."
        );
        let none = StorageUsage {
            max_files: 1000,
            max_bytes: 1024 << 20,
            ..StorageUsage::default()
        };
        assert!(none
            .summary()
            .starts_with("In use: 0 files, 0.0 MB of at most 1000 files and 1024.0 MB"));
    }

    #[test]
    fn hhmm() {
        assert_eq!(parse_hhmm("00:00"), Some(0));
        assert_eq!(parse_hhmm("23:59"), Some(1439));
        assert_eq!(parse_hhmm("24:00"), None);
        assert_eq!(parse_hhmm("7:30"), None);
        assert_eq!(parse_hhmm("07:60"), None);
        assert_eq!(format_hhmm(450), "07:30");
    }

    #[test]
    fn changed_fields_name_fields_only() {
        let a = BasicSettings::default();
        let b = BasicSettings {
            vto_no: "8002".into(),
            ..a.clone()
        };
        assert_eq!(b.changed_fields(&a), ["VTO No."]);
        assert!(a.changed_fields(&a).is_empty());
    }
}
