//! Local Setting > Access Control > Local (manual 4.3): how the lock
//! behaves; Log Management > Unlock (7.2): every attempt to open the door;
//! and the door's state as the main page shows it.

use serde::{Deserialize, Serialize};

use super::{call_log::csv_field, system_time::TimeDisplay, time::UnixMillis};

choices! {
    /// Door Contact Type: which relay state opens the lock. A normally
    /// open (NO) lock opens while the relay is energized; a normally
    /// closed (NC) lock (a magnetic lock, powered to hold) opens while it
    /// is not.
    ContactType {
        #[default]
        No = ("no", "NO"),
        Nc = ("nc", "NC"),
    }
}

pub const MAX_INTERVAL_S: u32 = 600;
pub const MAX_PERIOD_S: u32 = 600;
pub const MAX_SENSOR_CHECK_S: u32 = 9_999;
pub const MAX_COMMAND: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessSettings {
    /// Unlock Responding Interval (s): no new unlock until this long after
    /// the last one.
    pub responding_interval_s: u32,
    /// Unlock Period (s): how long the lock stays open.
    pub unlock_period_s: u32,
    /// Door Sensor Check Time (s): a door open longer raises an alarm.
    pub sensor_check_s: u32,
    /// Its Enable box: the lock is not locked again until the sensor
    /// reports the door closed.
    pub sensor_check_enable: bool,
    pub contact: ContactType,
    /// First Unlock Command: the DTMF digits a SIP caller sends to open.
    pub first_unlock_command: String,
}

impl Default for AccessSettings {
    fn default() -> Self {
        Self {
            responding_interval_s: 2,
            unlock_period_s: 5,
            sensor_check_s: 30,
            sensor_check_enable: false,
            contact: ContactType::No,
            first_unlock_command: "123".into(),
        }
    }
}

impl AccessSettings {
    /// Field errors: (field id, message).
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if !(1..=MAX_INTERVAL_S).contains(&self.responding_interval_s) {
            errors.push(("unlock-interval", format!("1 to {MAX_INTERVAL_S} seconds")));
        }
        if !(1..=MAX_PERIOD_S).contains(&self.unlock_period_s) {
            errors.push(("unlock-period", format!("1 to {MAX_PERIOD_S} seconds")));
        }
        if !(1..=MAX_SENSOR_CHECK_S).contains(&self.sensor_check_s) {
            errors.push(("sensor-check", format!("1 to {MAX_SENSOR_CHECK_S} seconds")));
        }
        let c = &self.first_unlock_command;
        if c.is_empty()
            || c.len() > MAX_COMMAND
            || !c
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
        {
            errors.push((
                "unlock-command",
                format!("1 to {MAX_COMMAND} of the keys 0-9, * and #"),
            ));
        }
        errors
    }

    /// The names of the fields that differ (for the audit log).
    pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.responding_interval_s != other.responding_interval_s {
            out.push("Unlock Responding Interval");
        }
        if self.unlock_period_s != other.unlock_period_s {
            out.push("Unlock Period");
        }
        if self.sensor_check_s != other.sensor_check_s
            || self.sensor_check_enable != other.sensor_check_enable
        {
            out.push("Door Sensor Check Time");
        }
        if self.contact != other.contact {
            out.push("Door Contact Type");
        }
        if self.first_unlock_command != other.first_unlock_command {
            out.push("First Unlock Command");
        }
        out
    }
}

choices! {
    /// How someone tried to open (manual 7.2).
    UnlockMethod {
        #[default]
        Remote = ("remote", "Remote"),
        Card = ("card", "Card"),
        Password = ("password", "Password"),
        Button = ("button", "Button"),
        Sip = ("sip", "SIP"),
        Api = ("api", "API"),
    }
}

/// Why an attempt did not open the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// Within the Unlock Responding Interval of the last unlock.
    TooSoon,
    UnknownCard,
    LostCard,
    WrongPassword,
    KeypadLocked,
    /// As many keypad checks in flight as may still fail: try again.
    KeypadBusy,
    /// The lock output could not be driven.
    LockFault,
}

impl Refusal {
    pub fn label(self) -> &'static str {
        match self {
            Self::TooSoon => "Unlock Responding Interval not over",
            Self::UnknownCard => "Unknown card",
            Self::LostCard => "Lost card",
            Self::WrongPassword => "Wrong password",
            Self::KeypadLocked => "Keypad locked",
            Self::KeypadBusy => "Keypad busy",
            Self::LockFault => "Lock output fault",
        }
    }
}

/// One attempt to open the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockRecord {
    pub time: UnixMillis,
    pub method: UnlockMethod,
    /// The room, card or user behind it (`admin`, `9901 / card 00AB12`).
    pub who: String,
    /// The address the request came from (remote, API, SIP), else empty.
    #[serde(default)]
    pub source: String,
    /// `None`: the door opened.
    pub refused: Option<Refusal>,
    /// Auto Snapshot (unlock): what became of the snapshot of an opening
    /// (`None`: none taken, or not yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<UnlockSnapshot>,
}

/// The snapshot taken at an unlock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnlockSnapshot {
    /// Saved to the Storage Point under this file name.
    Saved(String),
    /// Not saved, and why (storage full or missing, no picture).
    Failed(String),
}

impl UnlockSnapshot {
    /// Where the UI fetches a saved snapshot.
    pub fn url(&self) -> Option<String> {
        match self {
            Self::Saved(file) => Some(format!("/storage/{file}")),
            Self::Failed(_) => None,
        }
    }

    /// For the CSV export.
    pub fn describe(&self) -> String {
        match self {
            Self::Saved(file) => file.clone(),
            Self::Failed(why) => format!("not saved: {why}"),
        }
    }
}

impl UnlockRecord {
    pub fn result(&self) -> &'static str {
        match self.refused {
            None => "Opened",
            Some(_) => "Refused",
        }
    }

    pub fn reason(&self) -> &'static str {
        self.refused.map(Refusal::label).unwrap_or("")
    }
}

/// Records per page in the UI.
pub const PAGE_SIZE: u64 = 50;
/// Records the device keeps at most (Records Kept); the oldest go first.
pub const MAX_RECORDS: u64 = 10_000;
pub const MIN_RECORDS: u64 = 100;

/// How many unlock records the device keeps (set on the Unlock page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnlockLogSettings {
    pub keep: u64,
}

impl Default for UnlockLogSettings {
    fn default() -> Self {
        Self { keep: MAX_RECORDS }
    }
}

impl UnlockLogSettings {
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        if (MIN_RECORDS..=MAX_RECORDS).contains(&self.keep) {
            Vec::new()
        } else {
            vec![(
                "unlock-keep",
                format!("{MIN_RECORDS} to {MAX_RECORDS} records"),
            )]
        }
    }
}
pub const EXPORT_FILE: &str = "unlock-log.csv";

/// Which records a page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnlockFilter {
    pub method: Option<UnlockMethod>,
    /// `Some(true)`: opened only; `Some(false)`: refused only.
    pub opened: Option<bool>,
}

impl UnlockFilter {
    pub fn matches(&self, r: &UnlockRecord) -> bool {
        self.method.is_none_or(|m| m == r.method)
            && self.opened.is_none_or(|o| o == r.refused.is_none())
    }
}

/// One page of the log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockLogPage {
    pub records: Vec<UnlockRecord>,
    /// Records that match the filter.
    pub total: u64,
    pub offset: u64,
    #[serde(default)]
    pub display: TimeDisplay,
    /// Records Kept.
    #[serde(default)]
    pub keep: u64,
}

/// Export Data: CSV with the page's columns, times as the device shows
/// them.
pub fn to_csv(records: &[UnlockRecord], display: &TimeDisplay) -> String {
    let mut out = String::from("No.,Time,Unlock Method,User,Source,Result,Reason,Snapshot\r\n");
    for (i, r) in records.iter().enumerate() {
        let fields = [
            (i + 1).to_string(),
            display.format(r.time),
            r.method.label().to_string(),
            r.who.clone(),
            r.source.clone(),
            r.result().to_string(),
            r.reason().to_string(),
            r.snapshot
                .as_ref()
                .map(UnlockSnapshot::describe)
                .unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

choices! {
    /// What the door sensor reported that needs someone's attention.
    AlarmKind {
        #[default]
        DoorOpenTooLong = ("open-too-long", "Door open too long"),
        ForcedDoor = ("forced", "Door forced open"),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmRecord {
    pub time: UnixMillis,
    pub kind: AlarmKind,
    /// What became of the message to the management centre (`None`: not
    /// sent yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre: Option<String>,
}

/// Alarms the device keeps; the oldest go first.
pub const MAX_ALARMS: u64 = 1_000;

/// One page of the alarm log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmLogPage {
    pub records: Vec<AlarmRecord>,
    pub total: u64,
    pub offset: u64,
    #[serde(default)]
    pub display: TimeDisplay,
}

choices! {
    /// Where an unlock request comes from: the UI's Unlock buttons
    /// (recorded as Remote) or a script (recorded as API).
    UnlockVia {
        #[default]
        Api = ("api", "API"),
        Ui = ("ui", "Remote"),
    }
}

/// The door as the device sees it now.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DoorStatus {
    /// Changes with every change below: the browser waits for the next.
    pub version: u64,
    pub lock_open: bool,
    pub door_open: bool,
    /// The relay output (with an NC lock energized while locked).
    pub relay_energized: bool,
    /// The lock output could not be driven (GPIO error).
    pub fault: Option<String>,
    /// Alarms of the current door opening.
    pub alarms: Vec<AlarmRecord>,
    /// The last attempt to open.
    pub last: Option<UnlockRecord>,
    /// The lock is the built-in simulator, not hardware.
    pub simulated: bool,
    #[serde(default)]
    pub display: TimeDisplay,
}

choices! {
    /// What the simulator's controls do, as if a person did it at the door.
    SimAction {
        #[default]
        ExitButton = ("exit", "Press Exit Button"),
        OpenDoor = ("open", "Open Door"),
        CloseDoor = ("close", "Close Door"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_their_field() {
        assert!(AccessSettings::default().validate().is_empty());
        let bad = AccessSettings {
            responding_interval_s: 0,
            unlock_period_s: MAX_PERIOD_S + 1,
            sensor_check_s: 0,
            first_unlock_command: "12a".into(),
            ..Default::default()
        };
        let fields: Vec<_> = bad.validate().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "unlock-interval",
                "unlock-period",
                "sensor-check",
                "unlock-command"
            ]
        );
        for ok in ["*#0", "0123456789*#0123"] {
            let s = AccessSettings {
                first_unlock_command: ok.into(),
                ..Default::default()
            };
            assert!(s.validate().is_empty(), "{ok}");
        }
        let long = AccessSettings {
            first_unlock_command: "1".repeat(MAX_COMMAND + 1),
            ..Default::default()
        };
        assert_eq!(long.validate().len(), 1);
    }

    #[test]
    fn csv_has_one_line_per_record_and_defuses_formulas() {
        let r = UnlockRecord {
            time: UnixMillis(1_795_693_839_000),
            method: UnlockMethod::Card,
            who: "=9901, card".into(),
            source: String::new(),
            refused: Some(Refusal::LostCard),
            snapshot: None,
        };
        let mut saved = r.clone();
        saved.refused = None;
        saved.snapshot = Some(UnlockSnapshot::Saved("unlock-1-2.jpg".into()));
        let csv = to_csv(&[r, saved], &TimeDisplay::default());
        let lines: Vec<_> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "No.,Time,Unlock Method,User,Source,Result,Reason,Snapshot"
        );
        assert!(lines[1].starts_with("1,"), "{}", lines[1]);
        assert!(
            lines[1].ends_with(",Card,\"'=9901, card\",,Refused,Lost card,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].ends_with(",Opened,,unlock-1-2.jpg"),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn filter_by_method_and_result() {
        let r = |method, refused| UnlockRecord {
            time: UnixMillis(0),
            method,
            who: String::new(),
            source: String::new(),
            refused,
            snapshot: None,
        };
        let all = [
            r(UnlockMethod::Card, None),
            r(UnlockMethod::Card, Some(Refusal::UnknownCard)),
            r(UnlockMethod::Remote, None),
        ];
        let count = |f: UnlockFilter| all.iter().filter(|r| f.matches(r)).count();
        assert_eq!(count(UnlockFilter::default()), 3);
        let cards = UnlockFilter {
            method: Some(UnlockMethod::Card),
            opened: None,
        };
        assert_eq!(count(cards), 2);
        let refused = UnlockFilter {
            method: None,
            opened: Some(false),
        };
        assert_eq!(count(refused), 1);
    }
}
