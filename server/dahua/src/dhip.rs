//! DHIP on TCP 5000: the event and door path that the HA integration uses
//! for VTOs, and openHAB and DahuaVTO2MQTT use for everything.
//!
//! A frame is a 32-byte little-endian header then one JSON message and a
//! `\n`, framed by the header (never by the `\n`):
//!
//! ```text
//! 20 00 00 00 | "DHIP" | session u32 | request id u32 |
//! body length u32 | 0 u32 | total length u32 | 0 u32 | body
//! ```
//!
//! Both lengths count the body with its `\n`. The decoder requires them to
//! be equal (clients all write one length twice; a difference would leave
//! the framing ambiguous) and ignores the two zero words, so a frame it
//! returns re-encodes to the bytes read, those words zeroed.
//!
//! Replies are compact JSON through `json::compact` (printable ASCII, no
//! escapes: one client splits the stream on `\n` and reads the JSON out of
//! a Python byte repr). Each reply echoes the request's `id` and carries
//! the `session`.
//!
//! Login is two `global.login` calls: the first (empty password) gets a
//! challenge with `random` and `realm` `Login to <serial>`; the second
//! carries `upper(md5(user:random:upper(HA1)))` with HA1 =
//! `md5(user:realm:password)`. HA1 is what HTTP Digest stores for the same
//! realm, so the device checks DHIP logins with the HTTP account's HA1
//! and never keeps the password.

use md5::{Digest as _, Md5};
use serde_json::{json, Value};

use crate::events::Event;
use crate::json;

pub const HEADER_LEN: usize = 32;
/// The first 8 header bytes: `0x20` (the header length) and `DHIP`.
pub const MAGIC: [u8; 8] = [0x20, 0, 0, 0, b'D', b'H', b'I', b'P'];
/// The largest body accepted; a client that sends more is cut off.
pub const MAX_BODY: usize = 64 * 1024;

/// The reply to a first `global.login`: "log in with this challenge".
pub const ERR_LOGIN_CHALLENGE: i64 = 268_632_079;
pub const MSG_LOGIN_CHALLENGE: &str = "Component error: login challenge!";
/// Wrong user or password.
pub const ERR_BAD_PASSWORD: i64 = 268_632_080;
/// Too many failures: the user is locked for a while.
pub const ERR_LOCKED: i64 = 268_632_081;
/// A method the device does not have.
pub const ERR_UNKNOWN_METHOD: i64 = 268_894_209;
pub const MSG_UNKNOWN_METHOD: &str = "get component pointer failed or invalid request!";
/// The `SID` of the one event subscription of a session.
pub const EVENT_SID: u32 = 513;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DhipError {
    #[error("not a DHIP header")]
    BadMagic,
    #[error("the body is {0} bytes, over {MAX_BODY}")]
    TooLarge(usize),
    #[error("body length {body} and total length {total} differ")]
    LengthMismatch { body: u32, total: u32 },
    #[error("the body is not a JSON request: {0}")]
    BadRequest(String),
}

/// One frame: the header's session and request id, and the body as read
/// (normally JSON and a `\n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub session: u32,
    pub id: u32,
    pub body: Vec<u8>,
}

impl Frame {
    /// A frame of `message` as compact sanitized JSON and `\n`.
    pub fn json(session: u32, id: u32, message: &Value) -> Self {
        let mut body = json::compact(message).into_bytes();
        body.push(b'\n');
        Self { session, id, body }
    }

    /// Header and body. Bodies are bounded by `MAX_BODY` when decoded; a
    /// longer one built here is the caller's own reply and fits u32.
    pub fn encode(&self) -> Vec<u8> {
        let len = u32::try_from(self.body.len()).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len());
        out.extend_from_slice(&MAGIC);
        for word in [self.session, self.id, len, 0, len, 0] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.body);
        out
    }
}

/// Frames out of a byte stream. After an error the connection is to be
/// closed; the decoder is not usable any more.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes as read from the socket.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `None` until one has arrived. The magic is
    /// checked as soon as its bytes are there, the length as soon as the
    /// header is.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DhipError> {
        let seen = self.buf.len().min(MAGIC.len());
        if self.buf[..seen] != MAGIC[..seen] {
            return Err(DhipError::BadMagic);
        }
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let word = |i: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&self.buf[i..i + 4]);
            u32::from_le_bytes(b)
        };
        let (session, id, body, total) = (word(8), word(12), word(16), word(24));
        if body != total {
            return Err(DhipError::LengthMismatch { body, total });
        }
        let len = body as usize;
        if len > MAX_BODY {
            return Err(DhipError::TooLarge(len));
        }
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let body = self.buf[HEADER_LEN..HEADER_LEN + len].to_vec();
        self.buf.drain(..HEADER_LEN + len);
        Ok(Some(Frame { session, id, body }))
    }

    /// Bytes held that are not a whole frame yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// A request as clients send it:
/// `{"id":N,"method":"...","params":{...},"session":S[,"object":O]}`.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: u64,
    pub method: String,
    /// 0 when absent (the first `global.login`).
    pub session: u32,
    /// `Null` when absent.
    pub params: Value,
    /// The object of instance methods (`accessControl.openDoor`).
    pub object: Option<u64>,
}

impl Request {
    /// Parses a frame's body (trailing `\n`, spaces and NULs ignored).
    /// Numbers sent as strings are accepted for `id`, `session`, `object`.
    pub fn parse(body: &[u8]) -> Result<Self, DhipError> {
        let end = body
            .iter()
            .rposition(|b| !matches!(b, b'\n' | b'\r' | b' ' | b'\t' | 0))
            .map_or(0, |p| p + 1);
        let v: Value = serde_json::from_slice(&body[..end])
            .map_err(|e| DhipError::BadRequest(e.to_string()))?;
        let method = v
            .get("method")
            .and_then(Value::as_str)
            .ok_or_else(|| DhipError::BadRequest("no method".into()))?
            .to_string();
        let id = v
            .get("id")
            .and_then(number)
            .ok_or_else(|| DhipError::BadRequest("no id".into()))?;
        let session = v
            .get("session")
            .and_then(number)
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        Ok(Self {
            id,
            method,
            session,
            params: v.get("params").cloned().unwrap_or(Value::Null),
            object: v.get("object").and_then(number),
        })
    }

    /// `global.login`'s user and password (`""` when absent: the first
    /// step).
    pub fn login(&self) -> Option<(&str, &str)> {
        (self.method == "global.login").then(|| {
            let s = |k: &str| self.params.get(k).and_then(Value::as_str).unwrap_or("");
            (s("userName"), s("password"))
        })
    }

    /// `global.keepAlive`'s `timeout` (seconds), if given.
    pub fn keep_alive_timeout(&self) -> Option<u64> {
        self.params.get("timeout").and_then(number)
    }

    /// `eventManager.attach`'s codes (`["All"]`).
    pub fn codes(&self) -> Vec<&str> {
        self.params
            .get("codes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// `configManager.getConfig`'s `name`.
    pub fn config_name(&self) -> Option<&str> {
        self.params.get("name").and_then(Value::as_str)
    }
}

fn number(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Lower-case hex MD5 of `user:realm:password`: HTTP Digest's HA1.
pub fn ha1(user: &str, realm: &str, password: &str) -> String {
    hex_md5(&format!("{user}:{realm}:{password}"))
}

/// The second `global.login`'s password: `upper(md5(user:random:HA1))`,
/// HA1 in upper case (`ha1_upper_hex`; `ha1` in any case is accepted).
pub fn login_hash(user: &str, random: &str, ha1_upper_hex: &str) -> String {
    hex_md5(&format!(
        "{user}:{random}:{}",
        ha1_upper_hex.to_ascii_uppercase()
    ))
    .to_ascii_uppercase()
}

/// Whether `password` (from the second `global.login`) proves the
/// password whose HA1 is `ha1` (any case), compared in constant time.
pub fn check_login(user: &str, random: &str, ha1: &str, password: &str) -> bool {
    let expected = login_hash(user, random, ha1);
    let got = password.to_ascii_uppercase();
    expected.len() == got.len()
        && expected
            .bytes()
            .zip(got.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn hex_md5(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The realm of HTTP Digest and DHIP logins: `Login to <serial>`.
pub fn realm(serial: &str) -> String {
    format!("Login to {serial}")
}

/// What the first `global.login` is answered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Opaque to clients; devices send a hex string.
    pub authorization: String,
    /// The device's MAC, hex without separators.
    pub mac: String,
    /// Fresh per challenge (the caller's randomness).
    pub random: String,
    /// `realm(serial)`.
    pub realm: String,
}

/// `{"error":{...},"id":N,"params":{...},"result":false,"session":S}`
/// with `error` 268632079 and the challenge; `session` is the session
/// the client is to use from now on.
pub fn login_challenge(id: u64, session: u32, c: &Challenge) -> Value {
    json!({
        "error": {"code": ERR_LOGIN_CHALLENGE, "message": MSG_LOGIN_CHALLENGE},
        "id": id,
        "params": {
            "authorization": c.authorization,
            "encryption": "Default",
            "mac": c.mac,
            "random": c.random,
            "realm": c.realm,
        },
        "result": false,
        "session": session,
    })
}

/// A logged-in session: `keepAliveInterval` (seconds) is required.
pub fn login_ok(id: u64, session: u32, keep_alive_interval: u32) -> Value {
    json!({
        "id": id,
        "params": {"keepAliveInterval": keep_alive_interval},
        "result": true,
        "session": session,
    })
}

/// A failed login: `ERR_BAD_PASSWORD` or `ERR_LOCKED`. The messages are
/// not from recordings (clients test the code).
pub fn login_failed(id: u64, session: u32, code: i64) -> Value {
    let message = if code == ERR_LOCKED {
        "Component error: user has been locked!"
    } else {
        "Component error: password not valid!"
    };
    error(id, session, code, message)
}

fn error(id: u64, session: u32, code: i64, message: &str) -> Value {
    json!({
        "error": {"code": code, "message": message},
        "id": id,
        "result": false,
        "session": session,
    })
}

/// The unknown-method error.
pub fn unknown_method(id: u64, session: u32) -> Value {
    error(id, session, ERR_UNKNOWN_METHOD, MSG_UNKNOWN_METHOD)
}

/// `{"id","result":<result>,"session"}`: `openDoor`, `destroy`,
/// `console.runCmd` (`true`), `accessControl.factory.instance` (the
/// object id).
pub fn result(id: u64, session: u32, result: Value) -> Value {
    json!({"id": id, "result": result, "session": session})
}

/// `{"id","params":<params>,"result":true,"session"}`.
pub fn ok_with(id: u64, session: u32, params: Value) -> Value {
    json!({"id": id, "params": params, "result": true, "session": session})
}

/// `global.keepAlive` → `{"params":{"timeout":T},"result":true}`.
pub fn keep_alive(id: u64, session: u32, timeout: u64) -> Value {
    ok_with(id, session, json!({"timeout": timeout}))
}

/// `eventManager.attach` → `{"params":{"SID":513},"result":true}` (the
/// first reply after login for openHAB).
pub fn attach(id: u64, session: u32) -> Value {
    ok_with(id, session, json!({"SID": EVENT_SID}))
}

/// One event pushed to an attached client: `id` is the attach request's.
pub fn notify(attach_id: u64, session: u32, event: &Event) -> Value {
    json!({
        "id": attach_id,
        "method": "client.notifyEventStream",
        "params": {"SID": EVENT_SID, "eventList": [event.dhip_entry()]},
        "session": session,
    })
}

/// `accessControl.factory.instance` → `{"result":<object id>}`.
pub fn factory_instance(id: u64, session: u32, object: u64) -> Value {
    result(id, session, json!(object))
}

/// `accessControl.openDoor` → `{"result":true}` (or `false`).
pub fn open_door(id: u64, session: u32, opened: bool) -> Value {
    result(id, session, json!(opened))
}

/// `magicBox.getSoftwareVersion` → `params.version.Version` (and the
/// build date, `YYYY-MM-DD`).
pub fn software_version(id: u64, session: u32, version: &str, build_date: &str) -> Value {
    ok_with(
        id,
        session,
        json!({"version": {"BuildDate": build_date, "Version": version}}),
    )
}

/// `magicBox.getDeviceType` → `params.type`.
pub fn device_type(id: u64, session: u32, device_type: &str) -> Value {
    ok_with(id, session, json!({"type": device_type}))
}

/// What `magicBox.getSystemInfo` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemInfo {
    pub device_type: String,
    pub serial_number: String,
    pub hardware_version: String,
    pub processor: String,
    pub update_serial: String,
}

/// `magicBox.getSystemInfo` → `params` with the CGI's field names.
pub fn system_info(id: u64, session: u32, info: &SystemInfo) -> Value {
    ok_with(
        id,
        session,
        json!({
            "deviceType": info.device_type,
            "hardwareVersion": info.hardware_version,
            "processor": info.processor,
            "serialNumber": info.serial_number,
            "updateSerial": info.update_serial,
        }),
    )
}

/// One door of `AccessControl` (the fields the guide lists).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessControlConfig {
    pub access_protocol: String,
    pub unlock_reload_interval: u32,
    pub unlock_hold_interval: u32,
    pub sensor_enable: bool,
    pub close_timeout: u32,
}

/// `configManager.getConfig {"name":"AccessControl"}` → `params.table`,
/// an array of one object per door.
pub fn access_control_config(id: u64, session: u32, doors: &[AccessControlConfig]) -> Value {
    let table: Vec<Value> = doors
        .iter()
        .map(|d| {
            json!({
                "AccessProtocol": d.access_protocol,
                "CloseTimeout": d.close_timeout,
                "SensorEnable": d.sensor_enable,
                "UnlockHoldInterval": d.unlock_hold_interval,
                "UnlockReloadInterval": d.unlock_reload_interval,
            })
        })
        .collect();
    ok_with(id, session, json!({"table": table}))
}

/// `configManager.getConfig {"name":"T2UServer"}` → `params.table.UUID`
/// (clients use it as the serial number).
pub fn t2u_server_config(id: u64, session: u32, uuid: &str) -> Value {
    ok_with(id, session, json!({"table": {"UUID": uuid}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(session: u32, id: u32, len: u32) -> Vec<u8> {
        let mut h = MAGIC.to_vec();
        for w in [session, id, len, 0, len, 0] {
            h.extend_from_slice(&w.to_le_bytes());
        }
        h
    }

    #[test]
    fn frame_layout_and_round_trip() {
        let msg = json!({"id": 2, "method": "global.keepAlive", "params": {"timeout": 60, "action": true}, "session": 77});
        let f = Frame::json(77, 2, &msg);
        let bytes = f.encode();
        let body = br#"{"id":2,"method":"global.keepAlive","params":{"action":true,"timeout":60},"session":77}"#;
        let len = body.len() as u32 + 1;
        let mut expected = header(77, 2, len);
        expected.extend_from_slice(body);
        expected.push(b'\n');
        assert_eq!(bytes, expected);
        assert_eq!(&bytes[..8], b"\x20\x00\x00\x00DHIP");

        let mut d = Decoder::new();
        d.push(&bytes);
        let back = d.next_frame().unwrap().unwrap();
        assert_eq!(back, f);
        assert_eq!(back.encode(), bytes);
        assert_eq!(d.next_frame(), Ok(None));
        let r = Request::parse(&back.body).unwrap();
        assert_eq!(
            (r.id, r.session, r.method.as_str()),
            (2, 77, "global.keepAlive")
        );
        assert_eq!(r.keep_alive_timeout(), Some(60));
    }

    #[test]
    fn split_across_reads() {
        let a = Frame::json(0, 1, &json!({"id": 1, "method": "global.login", "params": {"userName": "admin", "password": ""}})).encode();
        let b = Frame::json(9, 2, &json!({"id": 2, "method": "eventManager.attach", "params": {"codes": ["All"]}, "session": 9})).encode();
        let stream: Vec<u8> = a.iter().chain(&b).copied().collect();
        for chunk in [1, 3, 7, 31, 32, 33, 100] {
            let mut d = Decoder::new();
            let mut frames = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece);
                while let Some(f) = d.next_frame().unwrap() {
                    frames.push(f);
                }
            }
            assert_eq!(frames.len(), 2, "chunk {chunk}");
            assert_eq!(d.pending(), 0);
            assert_eq!(frames[0].encode(), a);
            assert_eq!(frames[1].encode(), b);
            let login = Request::parse(&frames[0].body).unwrap();
            assert_eq!(login.login(), Some(("admin", "")));
            let attach = Request::parse(&frames[1].body).unwrap();
            assert_eq!(attach.codes(), ["All"]);
        }
    }

    #[test]
    fn bad_frames() {
        let mut d = Decoder::new();
        d.push(b"GET / HTTP/1.1\r\n");
        assert_eq!(d.next_frame(), Err(DhipError::BadMagic));
        // A wrong first byte is seen at once.
        let mut d = Decoder::new();
        d.push(b"\x21");
        assert_eq!(d.next_frame(), Err(DhipError::BadMagic));
        let mut d = Decoder::new();
        d.push(&header(1, 1, MAX_BODY as u32 + 1));
        assert_eq!(d.next_frame(), Err(DhipError::TooLarge(MAX_BODY + 1)));
        let mut d = Decoder::new();
        let mut h = header(1, 1, 5);
        h[24] = 6;
        d.push(&h);
        assert!(matches!(
            d.next_frame(),
            Err(DhipError::LengthMismatch { .. })
        ));
        // A header alone waits for its body.
        let mut d = Decoder::new();
        d.push(&header(1, 1, 10));
        assert_eq!(d.next_frame(), Ok(None));
        assert!(Request::parse(b"not json\n").is_err());
        assert!(Request::parse(b"{\"id\":1}\n").is_err());
    }

    #[test]
    fn login_hash_by_hand() {
        let (user, password, serial, random) = ("admin", "secret", "7H0ABC123", "1412874517");
        let realm = realm(serial);
        assert_eq!(realm, "Login to 7H0ABC123");
        let ha1_hand: String = Md5::digest(format!("{user}:{realm}:{password}").as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let hash_hand: String = Md5::digest(format!("{user}:{random}:{ha1_hand}").as_bytes())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let stored = ha1(user, &realm, password);
        assert_eq!(stored, ha1_hand.to_lowercase());
        assert_eq!(login_hash(user, random, &ha1_hand), hash_hand);
        assert_eq!(login_hash(user, random, &stored), hash_hand);
        assert!(check_login(user, random, &stored, &hash_hand));
        assert!(check_login(
            user,
            random,
            &stored,
            &hash_hand.to_lowercase()
        ));
        assert!(!check_login(
            user,
            random,
            &stored,
            &login_hash(user, "other", &stored)
        ));
        assert!(!check_login(user, random, &stored, ""));
    }

    #[test]
    fn replies() {
        let c = Challenge {
            authorization: "4f0c".into(),
            mac: "3ce36b000001".into(),
            random: "1412874517".into(),
            realm: realm("SN1"),
        };
        assert_eq!(
            json::compact(&login_challenge(1, 2147483, &c)),
            r#"{"error":{"code":268632079,"message":"Component error: login challenge!"},"id":1,"params":{"authorization":"4f0c","encryption":"Default","mac":"3ce36b000001","random":"1412874517","realm":"Login to SN1"},"result":false,"session":2147483}"#
        );
        assert_eq!(
            json::compact(&login_ok(2, 5, 60)),
            r#"{"id":2,"params":{"keepAliveInterval":60},"result":true,"session":5}"#
        );
        assert_eq!(
            login_failed(2, 5, ERR_BAD_PASSWORD)["error"]["code"],
            268632080
        );
        assert_eq!(login_failed(2, 5, ERR_LOCKED)["error"]["code"], 268632081);
        assert_eq!(
            json::compact(&keep_alive(3, 5, 60)),
            r#"{"id":3,"params":{"timeout":60},"result":true,"session":5}"#
        );
        assert_eq!(
            json::compact(&attach(4, 5)),
            r#"{"id":4,"params":{"SID":513},"result":true,"session":5}"#
        );
        assert_eq!(
            json::compact(&unknown_method(9, 5)),
            r#"{"error":{"code":268894209,"message":"get component pointer failed or invalid request!"},"id":9,"result":false,"session":5}"#
        );
        assert_eq!(
            json::compact(&factory_instance(5, 5, 23_456)),
            r#"{"id":5,"result":23456,"session":5}"#
        );
        assert_eq!(
            json::compact(&open_door(6, 5, true)),
            r#"{"id":6,"result":true,"session":5}"#
        );
        assert_eq!(
            software_version(7, 5, "4.600.0000000.0.R", "2022-08-13")["params"]["version"]
                ["Version"],
            "4.600.0000000.0.R"
        );
        assert_eq!(device_type(8, 5, "VTO2000A")["params"]["type"], "VTO2000A");
        let info = SystemInfo {
            device_type: "VTO2000A".into(),
            serial_number: "SN1".into(),
            hardware_version: "1.00".into(),
            processor: "ARM".into(),
            update_serial: "VTO2000A".into(),
        };
        assert_eq!(system_info(10, 5, &info)["params"]["serialNumber"], "SN1");
        let door = AccessControlConfig {
            access_protocol: "Local".into(),
            unlock_reload_interval: 10000,
            unlock_hold_interval: 2000,
            sensor_enable: false,
            close_timeout: 0,
        };
        let v = access_control_config(11, 5, &[door]);
        assert_eq!(v["params"]["table"][0]["UnlockHoldInterval"], 2000);
        assert_eq!(
            t2u_server_config(12, 5, "SN1")["params"]["table"]["UUID"],
            "SN1"
        );
    }

    #[test]
    fn events_one_per_message_ascii_only() {
        let when = crate::events::When {
            locale_time: "2024-05-01 12:03:04".into(),
            utc: 1_714_557_784,
        };
        let e = crate::events::door_status(true, &when);
        let f = Frame::json(5, 4, &notify(4, 5, &e));
        let text = String::from_utf8(f.body.clone()).unwrap();
        assert_eq!(
            text,
            "{\"id\":4,\"method\":\"client.notifyEventStream\",\"params\":{\"SID\":513,\"eventList\":[{\"Action\":\"Pulse\",\"Code\":\"DoorStatus\",\"Data\":{\"LocaleTime\":\"2024-05-01 12:03:04\",\"Status\":\"Open\",\"UTC\":1714557784},\"Index\":0}]},\"session\":5}\n"
        );
        // A name with quotes, backslashes, newlines and accents still
        // gives printable ASCII without escapes and one newline at the end.
        let mut e = e;
        e.data = Some(json!({"Name": "Z\u{fc}rich \"A\"\\\n"}));
        let f = Frame::json(5, 4, &notify(4, 5, &e));
        assert!(f
            .body
            .iter()
            .all(|b| (0x20..0x7f).contains(b) && *b != b'\\' || *b == b'\n'));
        assert_eq!(f.body.iter().filter(|b| **b == b'\n').count(), 1);
        let v: Value = serde_json::from_slice(&f.body).unwrap();
        assert_eq!(v["params"]["eventList"][0]["Data"]["Name"], "Z?rich 'A'/ ");
    }
}
