//! Log Management > Call (manual 7.1): every call the SIP server sees, with
//! its call type, room no., begin time, talk time and end state.

use serde::{Deserialize, Serialize};

use super::{access::UnlockSnapshot, system_time::TimeDisplay, time::UnixMillis};

/// Who called whom, as the door station sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallType {
    /// Between two devices registered here, through the proxy (a monitor
    /// calling another room).
    Intercom,
    /// To the management centre (the Centre Call No. or a VTS No.).
    CentreCall,
    /// This door's own call: a visitor pressed Call.
    DoorCall,
    /// A monitor called the door to watch it (and talk).
    Monitor,
}

impl CallType {
    pub fn label(self) -> &'static str {
        match self {
            Self::Intercom => "Intercom",
            Self::CentreCall => "Call Centre",
            Self::DoorCall => "Door Call",
            Self::Monitor => "Monitor",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndState {
    Answered,
    /// Nobody answered: ring timeout, or nobody online.
    Missed,
    /// The callee refused (busy, declined) or the number does not exist.
    Rejected,
    /// The caller gave up before an answer.
    Cancelled,
    /// This door's call: nobody answered in the Ring Time, or nobody was
    /// online.
    NotAnswered,
    /// This door's call: a call was going on already, or too many at once.
    Busy,
    /// This door's call: nobody answered, the visitor left a message.
    MessageLeft,
}

impl EndState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Answered => "Answered",
            Self::Missed => "Missed",
            Self::Rejected => "Rejected",
            Self::Cancelled => "Cancelled",
            Self::NotAnswered => "Not Answered",
            Self::Busy => "Busy",
            Self::MessageLeft => "Message Left",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    pub call_type: CallType,
    /// The caller's and the callee's numbers (`9901#0`, `9902`).
    pub from: String,
    pub to: String,
    /// The room called, or the caller's room when the callee is no room.
    pub room_no: String,
    pub begin: UnixMillis,
    /// From the answer to the BYE; `None` while talking, or when the end
    /// was never seen (a device lost power).
    pub talk_ms: Option<u64>,
    pub end_state: EndState,
    /// Auto Snapshot (talking): the picture taken when a monitor answered
    /// the door's call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<UnlockSnapshot>,
}

/// One page of the log, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLogPage {
    pub records: Vec<CallRecord>,
    pub total: u64,
    pub offset: u64,
    #[serde(default)]
    pub display: TimeDisplay,
}

/// Records per page in the UI.
pub const PAGE_SIZE: u64 = 50;
/// Records the device keeps; the oldest go first.
pub const MAX_RECORDS: u64 = 10_000;
/// The Export Data file.
pub const EXPORT_FILE: &str = "call-log.csv";

/// `h:mm:ss`, or `-` when unknown.
pub fn talk_time(ms: Option<u64>) -> String {
    match ms {
        Some(ms) => {
            let s = ms / 1000;
            format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
        }
        None => "-".into(),
    }
}

/// Export Data: a CSV file (RFC 4180) with the page's columns, times as
/// the device shows them.
pub fn to_csv(records: &[CallRecord], display: &TimeDisplay) -> String {
    let mut out =
        String::from("No.,Call Type,Room No.,From,To,Begin Time,Talk Time,End State,Snapshot\r\n");
    for (i, r) in records.iter().enumerate() {
        let fields = [
            (i + 1).to_string(),
            r.call_type.label().to_string(),
            r.room_no.clone(),
            r.from.clone(),
            r.to.clone(),
            display.format(r.begin),
            talk_time(r.talk_ms),
            r.end_state.label().to_string(),
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

/// Quoted when needed; a leading `=`, `+`, `-` or `@` is defused so that a
/// spreadsheet does not run a number someone typed as a formula.
pub(crate) fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@']) && f != "-" {
        format!("'{f}")
    } else {
        f.to_string()
    };
    if f.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(from: &str, talk_ms: Option<u64>, end_state: EndState) -> CallRecord {
        CallRecord {
            call_type: CallType::Intercom,
            from: from.into(),
            to: "9902".into(),
            room_no: "9902".into(),
            begin: UnixMillis(1_795_693_839_000),
            talk_ms,
            end_state,
            snapshot: None,
        }
    }

    #[test]
    fn talk_time_reads_as_hours_minutes_seconds() {
        assert_eq!(talk_time(Some(0)), "0:00:00");
        assert_eq!(talk_time(Some(65_999)), "0:01:05");
        assert_eq!(talk_time(Some(3_600_000 * 2 + 61_000)), "2:01:01");
        assert_eq!(talk_time(None), "-");
    }

    #[test]
    fn the_export_is_csv_with_a_header_and_defused_formulas() {
        let csv = to_csv(
            &[
                CallRecord {
                    snapshot: Some(UnlockSnapshot::Saved("talk-1-2.jpg".into())),
                    ..record("9901#0", Some(12_000), EndState::Answered)
                },
                record("=HYPERLINK(\"x\",1)", None, EndState::Missed),
            ],
            &TimeDisplay::default(),
        );
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "No.,Call Type,Room No.,From,To,Begin Time,Talk Time,End State,Snapshot"
        );
        assert_eq!(
            lines[1],
            "1,Intercom,9902,9901#0,9902,2026-11-26 11:50:39,0:00:12,Answered,talk-1-2.jpg"
        );
        assert_eq!(
            lines[2],
            "2,Intercom,9902,\"'=HYPERLINK(\"\"x\"\",1)\",9902,2026-11-26 11:50:39,-,Missed,"
        );
        assert_eq!(lines[3], "");
    }
}
