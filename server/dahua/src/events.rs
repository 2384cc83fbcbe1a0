//! The event stream of `eventManager.cgi?action=attach&codes=[...]` and
//! the VTO events it carries (the same events go out over DHIP, see
//! `dhip::notify`).
//!
//! A part is written exactly as devices write it:
//!
//! ```text
//! --myboundary\r\n
//! Content-Type: text/plain\r\n
//! Content-Length: N\r\n
//! \r\n
//! Code=Invite;action=Pulse;index=0;data={\n   "CallID" : "1",\n ...}\n\r\n
//! \r\n
//! ```
//!
//! Content-Length counts the payload (the JSON's trailing `\n` included)
//! and the first `\r\n` after it, not the second: in MIME the CRLF before
//! the next `--myboundary` belongs to that delimiter, so the part's body
//! is `payload\r\n`. python-amcrest, which needs an exact length, reads
//! the `Content-Length:` line and then N bytes at once without first
//! reading the blank line: it gets `\r\n` + the whole payload, which it
//! strips, and its line reader then goes on with `\r\n\r\n--myboundary`
//! (see the test `python_amcrest_reads_whole_payloads`). Counting only the
//! payload would cut its last two characters off there (`index=0` becomes
//! `index`); counting both CRLFs would make the body end inside a
//! delimiter.
//!
//! Field order is `Code`, `action`, `index`, `data` (node clients read
//! fields by position); the JSON carries no `;` (one parser splits the
//! whole payload on `;`): `;` in strings becomes `,`.

use serde_json::{json, Map, Value};

use crate::json;

/// The response's `Content-Type`.
pub const CONTENT_TYPE: &str = "multipart/x-mixed-replace; boundary=myboundary";
pub const BOUNDARY: &str = "myboundary";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodesError {
    #[error("no event code in {0:?}")]
    Empty(String),
}

/// The events a client attached for: `codes=[All]` or a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    Only(Vec<String>),
}

impl Filter {
    /// `[All]`, `[Invite,AccessControl]`, with brackets percent-encoded or
    /// not (a value that was decoded once already or never), spaces around
    /// names ignored. `All` is recognised in any case; other codes are
    /// compared case-sensitively, as devices do.
    pub fn parse(codes: &str) -> Result<Self, CodesError> {
        let s = codes.trim();
        let s = strip_either(s, "[", "%5B");
        let s = s
            .strip_suffix(']')
            .or_else(|| strip_suffix_ci(s, "%5D"))
            .unwrap_or(s);
        Self::from_list(s.split(',')).ok_or_else(|| CodesError::Empty(codes.to_string()))
    }

    /// A list of codes (DHIP's `"codes":["All"]`); `None` when empty.
    pub fn from_list<'a>(codes: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let codes: Vec<String> = codes
            .into_iter()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect();
        if codes.is_empty() {
            None
        } else if codes.iter().any(|c| c.eq_ignore_ascii_case("All")) {
            Some(Self::All)
        } else {
            Some(Self::Only(codes))
        }
    }

    pub fn wants(&self, code: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(codes) => codes.iter().any(|c| c == code),
        }
    }
}

fn strip_either<'a>(s: &'a str, plain: &str, encoded: &str) -> &'a str {
    if let Some(rest) = s.strip_prefix(plain) {
        return rest;
    }
    match s.get(..encoded.len()) {
        Some(head) if head.eq_ignore_ascii_case(encoded) => &s[encoded.len()..],
        _ => s,
    }
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Start,
    Stop,
    Pulse,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "Start",
            Self::Stop => "Stop",
            Self::Pulse => "Pulse",
        }
    }
}

/// One event, as both the HTTP stream and DHIP carry it.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub code: String,
    pub action: Action,
    pub index: u32,
    pub data: Option<Value>,
}

impl Event {
    /// `Code=X;action=Start;index=0[;data={pretty JSON}\n]`.
    pub fn payload(&self) -> String {
        let mut out = format!(
            "Code={};action={};index={}",
            field(&self.code),
            self.action.as_str(),
            self.index
        );
        if let Some(data) = &self.data {
            out.push_str(";data=");
            out.push_str(&json::pretty(&json::map_strings(data, &no_semicolon)));
        }
        out
    }

    /// The whole multipart part, to be written in one call.
    pub fn part(&self) -> String {
        part(&self.payload())
    }

    /// The event as an entry of DHIP's `eventList`
    /// (`{"Action","Code","Data","Index"}`; `Data` `{}` when there is none,
    /// since readers take it without checking).
    pub fn dhip_entry(&self) -> Value {
        json!({
            "Action": self.action.as_str(),
            "Code": self.code,
            "Data": self.data.clone().unwrap_or_else(|| Value::Object(Map::new())),
            "Index": self.index,
        })
    }
}

fn no_semicolon(s: &str) -> String {
    s.replace(';', ",")
}

/// A code for the `;`-separated payload: printable ASCII (as the JSON
/// is, so that Content-Length counts characters as well as bytes:
/// python-amcrest counts decoded characters) without `;` or `=`.
fn field(s: &str) -> String {
    json::sanitize(s).replace([';', '='], "_")
}

/// A multipart part around `payload` (see the module docs for N).
pub fn part(payload: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{payload}\r\n\r\n",
        payload.len() + 2
    )
}

/// The `Heartbeat` part: only for clients that asked with `heartbeat=N`
/// (python-amcrest crashes on one it did not ask for).
pub fn heartbeat_part() -> String {
    part("Heartbeat")
}

/// `"YYYY-MM-DD HH:MM:SS"`, the `LocaleTime` of events (local time,
/// computed by the caller).
pub fn locale_time(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> String {
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
}

/// When an event happened: local time as `locale_time` writes it, and
/// UTC seconds since the epoch. Every builder below puts both in `Data`
/// (`LocaleTime`, `UTC`) as devices do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct When {
    pub locale_time: String,
    pub utc: i64,
}

fn data(when: &When, fields: Value) -> Option<Value> {
    let mut map = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    map.insert("LocaleTime".into(), json!(when.locale_time));
    map.insert("UTC".into(), json!(when.utc));
    Some(Value::Object(map))
}

/// `Invite` (Pulse): the bell was pressed; `call_id` names the call in
/// later events, `lock_num` the number of locks the door has.
pub fn invite(call_id: &str, lock_num: u32, when: &When) -> Event {
    Event {
        code: "Invite".into(),
        action: Action::Pulse,
        index: 0,
        data: data(when, json!({"CallID": call_id, "LockNum": lock_num})),
    }
}

/// `CallNoAnswered`: `Start` while the call to `room` rings, `Stop` when
/// it ends (answered or not).
pub fn call_no_answered(action: Action, call_id: &str, room: &str, when: &When) -> Event {
    Event {
        code: "CallNoAnswered".into(),
        action,
        index: 0,
        data: data(when, json!({"CallID": call_id, "UserID": room})),
    }
}

/// `BackKeyLight` states (the guide's list; 3 and 4 are not known).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyLight {
    /// 1: ringing.
    Ringing,
    /// 2: ringing (also sent by devices while a call rings).
    RingingAlt,
    /// 5: answered.
    Answered,
    /// 6: not answered.
    NotAnswered,
    /// 7: a monitor calls the door.
    Monitor,
    /// 8: unlocked.
    Unlock,
    /// 9: unlock failed.
    UnlockFailed,
}

impl KeyLight {
    pub fn number(self) -> u32 {
        match self {
            Self::Ringing => 1,
            Self::RingingAlt => 2,
            Self::Answered => 5,
            Self::NotAnswered => 6,
            Self::Monitor => 7,
            Self::Unlock => 8,
            Self::UnlockFailed => 9,
        }
    }
}

/// `BackKeyLight` (Pulse) with `State`.
pub fn back_key_light(state: KeyLight, when: &When) -> Event {
    Event {
        code: "BackKeyLight".into(),
        action: Action::Pulse,
        index: 0,
        data: data(when, json!({"State": state.number()})),
    }
}

/// `AccessControl`'s `Method`: how the door was opened. Only 4 (remote:
/// the CGI `openDoor`, DHIP `accessControl.openDoor`, a monitor's unlock)
/// is confirmed by the guide; other numbers are passed through unnamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method(pub u32);

impl Method {
    pub const REMOTE: Self = Self(4);
}

/// Who opened the door and how, for `AccessControl`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub method: Method,
    /// The user's name (`""` for a remote opening).
    pub name: String,
    /// The card number (`""` when none).
    pub card_no: String,
    /// The user or room (`"101"`).
    pub user_id: String,
    /// Whether the door opened (`Status` 1) or not (0).
    pub granted: bool,
    /// The reader (`"1"`).
    pub reader_id: String,
    /// The access record's number.
    pub rec_no: u64,
}

/// `AccessControl` (Pulse) with `Method`, `Name`, `CardNo`, `UserID`,
/// `Status`, `Type` (`Entry`), `ReaderID`, `RecNo`.
pub fn access_control(access: &Access, when: &When) -> Event {
    Event {
        code: "AccessControl".into(),
        action: Action::Pulse,
        index: 0,
        data: data(
            when,
            json!({
                "CardNo": access.card_no,
                "Method": access.method.0,
                "Name": access.name,
                "ReaderID": access.reader_id,
                "RecNo": access.rec_no,
                "Status": u8::from(access.granted),
                "Type": "Entry",
                "UserID": access.user_id,
            }),
        ),
    }
}

/// `DoorStatus` (Pulse) with `Status` `Open` or `Close`.
pub fn door_status(open: bool, when: &When) -> Event {
    Event {
        code: "DoorStatus".into(),
        action: Action::Pulse,
        index: 0,
        data: data(when, json!({"Status": if open { "Open" } else { "Close" }})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when() -> When {
        When {
            locale_time: locale_time(2024, 5, 1, 12, 3, 4),
            utc: 1_714_557_784,
        }
    }

    #[test]
    fn filters() {
        for s in ["[All]", "%5BAll%5D", "%5ball%5d", "All", "[Invite,All]"] {
            assert_eq!(Filter::parse(s), Ok(Filter::All), "{s}");
        }
        for s in [
            "[Invite,AccessControl]",
            "%5BInvite,AccessControl%5D",
            "[Invite, AccessControl]",
        ] {
            let f = Filter::parse(s).unwrap();
            assert!(f.wants("Invite") && f.wants("AccessControl"));
            assert!(!f.wants("DoorStatus") && !f.wants("invite"));
        }
        assert!(Filter::parse("[]").is_err());
        assert!(Filter::parse("").is_err());
        assert!(Filter::parse("%5B%5D").is_err());
        assert_eq!(Filter::from_list(["All"]), Some(Filter::All));
    }

    #[test]
    fn a_part_as_devices_write_it() {
        let e = Event {
            code: "VideoMotion".into(),
            action: Action::Stop,
            index: 0,
            data: None,
        };
        assert_eq!(
            e.part(),
            "--myboundary\r\nContent-Type: text/plain\r\nContent-Length: 38\r\n\r\nCode=VideoMotion;action=Stop;index=0\r\n\r\n"
        );
        let invite = invite("1", 1, &when());
        assert_eq!(
            invite.payload(),
            "Code=Invite;action=Pulse;index=0;data={\n   \"CallID\" : \"1\",\n   \"LocaleTime\" : \"2024-05-01 12:03:04\",\n   \"LockNum\" : 1,\n   \"UTC\" : 1714557784\n}\n"
        );
        assert_eq!(
            heartbeat_part(),
            "--myboundary\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nHeartbeat\r\n\r\n"
        );
    }

    /// python-amcrest's `event_stream` and `event_actions`, step by step:
    /// lines end at CRLF; after a `Content-Length:` line it reads that many
    /// characters at once (the blank line still unread); the chunk,
    /// stripped with LFs removed, is split by its key=value regex.
    fn python_amcrest(stream: &str) -> Vec<Vec<(String, String)>> {
        let chars: Vec<char> = stream.chars().collect();
        let mut i = 0;
        let mut line = String::new();
        let mut events = Vec::new();
        while i < chars.len() {
            line.push(chars[i]);
            i += 1;
            if line.ends_with("\r\n") {
                let l = line.trim().to_string();
                line.clear();
                if l.to_lowercase().starts_with("content-length:") {
                    let n: usize = l["content-length:".len()..].trim().parse().unwrap();
                    let chunk: String = chars[i..(i + n).min(chars.len())].iter().collect();
                    i += n;
                    events.push(amcrest_fields(&chunk.trim().replace('\n', "")));
                }
            }
        }
        events
    }

    /// `(?P<key>.+?)(?:=)(?P<value>.+?)(?:;|$)`, applied repeatedly.
    fn amcrest_fields(s: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(eq) = rest.find('=').filter(|&e| e > 0) {
            let key = &rest[..eq];
            let after = &rest[eq + 1..];
            if after.is_empty() {
                break;
            }
            // A value has at least one character, then runs to `;` or the end.
            let end = after[1..].find(';').map_or(after.len(), |p| p + 1);
            out.push((key.to_string(), after[..end].to_string()));
            rest = after.get(end + 1..).unwrap_or("");
        }
        out
    }

    #[test]
    fn python_amcrest_reads_whole_payloads() {
        let events = [
            invite("7", 2, &when()),
            Event {
                code: "VideoMotion".into(),
                action: Action::Start,
                index: 0,
                data: None,
            },
            access_control(
                &Access {
                    method: Method::REMOTE,
                    name: "A;B".into(),
                    card_no: String::new(),
                    user_id: "101".into(),
                    granted: true,
                    reader_id: "1".into(),
                    rec_no: 12,
                },
                &when(),
            ),
        ];
        let stream: String = events.iter().map(Event::part).collect();
        let parsed = python_amcrest(&stream);
        assert_eq!(parsed.len(), 3);
        for (got, e) in parsed.iter().zip(&events) {
            let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
            let want: &[&str] = if e.data.is_some() {
                &["Code", "action", "index", "data"]
            } else {
                &["Code", "action", "index"]
            };
            assert_eq!(keys, want);
            assert_eq!(got[0].1, e.code);
            assert_eq!(got[1].1, e.action.as_str());
            assert_eq!(got[2].1, "0");
            if let Some(data) = e.data.as_ref() {
                // Everything up to the closing brace reached the parser.
                assert!(got[3].1.ends_with('}'), "{}", got[3].1);
                assert!(got[3].1.contains("\"UTC\" : 1714557784"));
                assert!(!got[3].1.contains(';'));
                assert!(data.get("LocaleTime").is_some());
            }
        }
        // The `;` in the name became `,` (one `;`-splitting parser).
        assert!(parsed[2][3].1.contains("\"Name\" : \"A,B\""));
    }

    #[test]
    fn content_length_is_the_mime_body() {
        let e = door_status(true, &when());
        let part = e.part();
        let (head, rest) = part.split_once("\r\n\r\n").unwrap();
        let n: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The body then the delimiter's CRLF, nothing else.
        assert_eq!(&rest[n..], "\r\n");
        assert!(rest[..n].ends_with("}\n\r\n"));
        let json_text = &rest["Code=DoorStatus;action=Pulse;index=0;data=".len()..n - 2];
        let v: Value = serde_json::from_str(json_text).unwrap();
        assert_eq!(v["Status"], "Open");
    }

    #[test]
    fn builders_send_every_field() {
        let w = when();
        let keys = |e: &Event| -> Vec<String> {
            e.data
                .as_ref()
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(
            keys(&invite("1", 1, &w)),
            ["CallID", "LocaleTime", "LockNum", "UTC"]
        );
        let c = call_no_answered(Action::Start, "1", "101", &w);
        assert_eq!(c.action, Action::Start);
        assert_eq!(keys(&c), ["CallID", "LocaleTime", "UTC", "UserID"]);
        assert_eq!(c.data.as_ref().unwrap()["UserID"], "101");
        let b = back_key_light(KeyLight::Unlock, &w);
        assert_eq!(b.data.as_ref().unwrap()["State"], 8);
        let a = access_control(
            &Access {
                method: Method::REMOTE,
                name: String::new(),
                card_no: String::new(),
                user_id: "101".into(),
                granted: true,
                reader_id: "1".into(),
                rec_no: 3,
            },
            &w,
        );
        assert_eq!(
            keys(&a),
            [
                "CardNo",
                "LocaleTime",
                "Method",
                "Name",
                "ReaderID",
                "RecNo",
                "Status",
                "Type",
                "UTC",
                "UserID"
            ]
        );
        let d = a.data.as_ref().unwrap();
        assert_eq!(
            (d["Method"].clone(), d["Type"].clone()),
            (json!(4), json!("Entry"))
        );
        assert_eq!(
            door_status(false, &w).data.unwrap()["Status"],
            json!("Close")
        );
        assert_eq!(
            a.dhip_entry(),
            json!({"Action": "Pulse", "Code": "AccessControl", "Data": a.data.clone().unwrap(), "Index": 0})
        );
    }
}
