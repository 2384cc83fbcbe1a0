//! The HTTP CGI API's requests and bodies: `/cgi-bin/<script>.cgi?...`.
//!
//! Requests: clients percent-encode brackets or not (`codes=%5BAll%5D`,
//! `codes=[All]`, `AccessControl%5B0%5D.Key=v`), put parameters in any
//! order (`openDoor&channel=1&UserID=101` or `UserID=101&channel=1`) and
//! never use `+` for a space (python-amcrest and the HA integration build
//! queries by hand), so `+` stays `+`. Names are case-sensitive, as on a
//! device. Sizes are bounded so a hostile query costs little.
//!
//! Bodies: `text/plain` `key=value` lines ending CRLF; an action's success
//! is `OK` (devices write `OK\r\n`); something unsupported is HTTP 400 with
//! `Error\r\nBad Request!` (clients test `status == 400` to treat a
//! feature as absent).

/// The longest query accepted, in bytes (before decoding).
pub const MAX_QUERY: usize = 4096;
/// The most parameters accepted.
pub const MAX_PARAMS: usize = 64;
/// The body of an HTTP 400 for an unknown script, action or table.
pub const BAD_REQUEST: &str = "Error\r\nBad Request!";
/// The body of a successful action (`setConfig`, `openDoor`, `reboot`).
pub const OK: &str = "OK\r\n";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CgiError {
    #[error("not a /cgi-bin/<script>.cgi path: {0}")]
    NotCgi(String),
    #[error("the query is longer than {MAX_QUERY} bytes")]
    QueryTooLong,
    #[error("more than {MAX_PARAMS} parameters")]
    TooManyParams,
    #[error("bad percent escape in {0}")]
    BadEscape(String),
    #[error("a decoded name or value is not UTF-8")]
    NotUtf8,
}

/// A CGI request target, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The script without `/cgi-bin/` and `.cgi`: `magicBox`.
    pub script: String,
    /// The first `action` parameter (also kept in `params`).
    pub action: Option<String>,
    /// Every parameter in the order sent, duplicates kept, `action`
    /// included; a parameter without `=` has an empty value.
    pub params: Vec<(String, String)>,
}

impl Request {
    /// Parses a request target (`/cgi-bin/magicBox.cgi?action=...`).
    pub fn parse(target: &str) -> Result<Self, CgiError> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let path = decode(path)?;
        let script = path
            .strip_prefix("/cgi-bin/")
            .and_then(|s| s.strip_suffix(".cgi"))
            .filter(|s| !s.is_empty() && !s.contains('/'))
            .ok_or_else(|| CgiError::NotCgi(path.clone()))?
            .to_string();
        if query.len() > MAX_QUERY {
            return Err(CgiError::QueryTooLong);
        }
        let mut params = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            if params.len() == MAX_PARAMS {
                return Err(CgiError::TooManyParams);
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.push((decode(k)?, decode(v)?));
        }
        let action = params
            .iter()
            .find(|(k, _)| k == "action")
            .map(|(_, v)| v.clone());
        Ok(Self {
            script,
            action,
            params,
        })
    }

    /// The first value of `name` (case-sensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `configManager.cgi?action=setConfig&T.path=value[&...]`: the
    /// `path=value` pairs in order, without `action`.
    pub fn set_config(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .filter(|(k, _)| k != "action")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// `configManager.cgi?action=getConfig&name=T[.sub|[i]]`: the name.
    pub fn config_name(&self) -> Option<&str> {
        self.get("name")
    }
}

/// Percent-decoding: `%XX` (either case) to its byte; `+` and everything
/// else as is; the result must be UTF-8.
pub fn decode(s: &str) -> Result<String, CgiError> {
    if !s.contains('%') {
        return Ok(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex_digit(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex_digit(*b));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(CgiError::BadEscape(s.chars().take(64).collect()));
            };
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| CgiError::NotUtf8)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The Digest `uri=` rule: clients sign either the decoded
/// (`codes=[All]`) or the encoded (`codes=%5BAll%5D`) target, so the
/// response is hashed with `uri=` as given, and `uri=` is accepted when it
/// names the request target once both are percent-decoded. A side that
/// does not decode is compared as it is.
pub fn same_target(uri: &str, target: &str) -> bool {
    if uri == target {
        return true;
    }
    match (decode(uri), decode(target)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A `text/plain` body of `key=value\r\n` lines. A CR or LF inside a key
/// or value becomes a space, so a value cannot add a line.
pub fn body(lines: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in lines {
        out.push_str(&one_line(k));
        out.push('=');
        out.push_str(&one_line(v));
        out.push_str("\r\n");
    }
    out
}

/// `getConfig` lines: each key of a flat list (`General.MachineName`,
/// `AccessControl[0].Key`) prefixed with `table.`.
pub fn table(lines: &[(&str, String)]) -> String {
    let prefixed: Vec<(String, String)> = lines
        .iter()
        .map(|(k, v)| (format!("table.{k}"), v.clone()))
        .collect();
    let refs: Vec<(&str, String)> = prefixed
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    body(&refs)
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_encoded_and_plain_brackets() {
        for target in [
            "/cgi-bin/eventManager.cgi?action=attach&codes=[All]",
            "/cgi-bin/eventManager.cgi?action=attach&codes=%5BAll%5D",
            "/cgi-bin/eventManager.cgi?codes=%5bAll%5d&action=attach",
        ] {
            let r = Request::parse(target).unwrap();
            assert_eq!(r.script, "eventManager");
            assert_eq!(r.action.as_deref(), Some("attach"));
            assert_eq!(r.get("codes"), Some("[All]"));
        }
    }

    #[test]
    fn open_door_in_any_order() {
        let a = Request::parse(
            "/cgi-bin/accessControl.cgi?action=openDoor&channel=1&UserID=101&Type=Remote",
        )
        .unwrap();
        let b = Request::parse(
            "/cgi-bin/accessControl.cgi?UserID=101&Type=Remote&action=openDoor&channel=1",
        )
        .unwrap();
        for r in [&a, &b] {
            assert_eq!(r.script, "accessControl");
            assert_eq!(r.action.as_deref(), Some("openDoor"));
            assert_eq!(r.get("channel"), Some("1"));
            assert_eq!(r.get("UserID"), Some("101"));
            assert_eq!(r.get("Type"), Some("Remote"));
            // Case-sensitive like devices.
            assert_eq!(r.get("userid"), None);
        }
    }

    #[test]
    fn set_config_pairs_and_get_config_name() {
        let r = Request::parse(
            "/cgi-bin/configManager.cgi?action=setConfig&AccessControl%5B0%5D.UnlockHoldInterval=2000&General.MachineName=Front+Door&AccessControl[0].SensorEnable=true",
        )
        .unwrap();
        assert_eq!(
            r.set_config(),
            vec![
                ("AccessControl[0].UnlockHoldInterval", "2000"),
                ("General.MachineName", "Front+Door"),
                ("AccessControl[0].SensorEnable", "true"),
            ]
        );
        let g = Request::parse("/cgi-bin/configManager.cgi?action=getConfig&name=General").unwrap();
        assert_eq!(g.config_name(), Some("General"));
    }

    #[test]
    fn duplicates_and_bare_names_are_kept() {
        let r = Request::parse("/cgi-bin/snapshot.cgi?channel=1&channel=2&flag&&").unwrap();
        assert_eq!(
            r.params,
            vec![
                ("channel".into(), "1".into()),
                ("channel".into(), "2".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(r.get("channel"), Some("1"));
        assert_eq!(r.action, None);
        let bare = Request::parse("/cgi-bin/snapshot.cgi").unwrap();
        assert!(bare.params.is_empty());
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Request::parse("/cgi-bin/magicBox?action=x"),
            Err(CgiError::NotCgi(_))
        ));
        assert!(matches!(
            Request::parse("/onvif/x.cgi"),
            Err(CgiError::NotCgi(_))
        ));
        assert!(matches!(
            Request::parse("/cgi-bin/a/b.cgi"),
            Err(CgiError::NotCgi(_))
        ));
        assert!(matches!(
            Request::parse("/cgi-bin/.cgi"),
            Err(CgiError::NotCgi(_))
        ));
        for bad in ["a=%5", "a=%zz", "a%=1", "a=%"] {
            let t = format!("/cgi-bin/magicBox.cgi?{bad}");
            assert!(
                matches!(Request::parse(&t), Err(CgiError::BadEscape(_))),
                "{bad}"
            );
        }
        assert_eq!(
            Request::parse("/cgi-bin/magicBox.cgi?a=%ff%fe"),
            Err(CgiError::NotUtf8)
        );
        let long = format!("/cgi-bin/magicBox.cgi?a={}", "x".repeat(MAX_QUERY));
        assert_eq!(Request::parse(&long), Err(CgiError::QueryTooLong));
        let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("p{i}=1")).collect();
        let t = format!("/cgi-bin/magicBox.cgi?{}", many.join("&"));
        assert_eq!(Request::parse(&t), Err(CgiError::TooManyParams));
        let ok: Vec<String> = (0..MAX_PARAMS).map(|i| format!("p{i}=1")).collect();
        let t = format!("/cgi-bin/magicBox.cgi?{}", ok.join("&"));
        assert_eq!(Request::parse(&t).unwrap().params.len(), MAX_PARAMS);
    }

    #[test]
    fn utf8_values_decode() {
        let r = Request::parse("/cgi-bin/configManager.cgi?General.MachineName=T%C3%BCr").unwrap();
        assert_eq!(r.get("General.MachineName"), Some("T\u{fc}r"));
    }

    #[test]
    fn digest_uri_matches_either_form() {
        let target = "/cgi-bin/eventManager.cgi?action=attach&codes=%5BAll%5D";
        assert!(same_target(target, target));
        assert!(same_target(
            "/cgi-bin/eventManager.cgi?action=attach&codes=[All]",
            target
        ));
        assert!(same_target(
            target,
            "/cgi-bin/eventManager.cgi?action=attach&codes=[All]"
        ));
        assert!(!same_target(
            "/cgi-bin/eventManager.cgi?action=attach&codes=[Invite]",
            target
        ));
        assert!(!same_target("/cgi-bin/x.cgi?a=%zz", "/cgi-bin/x.cgi?a=b"));
    }

    #[test]
    fn bodies() {
        assert_eq!(
            body(&[
                ("deviceType", "VTO2000A".to_string()),
                ("serialNumber", "ABC\r\nx=1".to_string()),
            ]),
            "deviceType=VTO2000A\r\nserialNumber=ABC  x=1\r\n"
        );
        assert_eq!(
            table(&[
                ("General.MachineName", "Door".to_string()),
                ("AccessControl[0].UnlockHoldInterval", "2000".to_string()),
            ]),
            "table.General.MachineName=Door\r\ntable.AccessControl[0].UnlockHoldInterval=2000\r\n"
        );
        assert_eq!(BAD_REQUEST, "Error\r\nBad Request!");
        assert_eq!(OK, "OK\r\n");
    }
}
