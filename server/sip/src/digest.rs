//! Digest authentication as SIP uses it (RFC 3261 22.4 on RFC 2617, with
//! SHA-256 from RFC 7616 / RFC 8760): challenges to send, credentials to
//! read, responses to check. The device keeps HA1 (`H(user:realm:password)`)
//! per algorithm, never the password; the check needs nothing else.
//!
//! The `uri` hashed is the one the client put in its Authorization header,
//! not one rebuilt from the request: Dahua clients compute it for a
//! Request-URI without its port.

use std::fmt;

use md5::Md5;
use sha2::{Digest as _, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    /// A missing `algorithm` means MD5 (RFC 2617 3.2.1).
    pub fn parse(s: Option<&str>) -> Option<Self> {
        match s.map(|s| s.trim_matches('"')) {
            None => Some(Self::Md5),
            Some(a) if a.eq_ignore_ascii_case("MD5") => Some(Self::Md5),
            Some(a) if a.eq_ignore_ascii_case("SHA-256") => Some(Self::Sha256),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    /// Lower-case hex of the hash of `data`.
    pub fn hash(self, data: &str) -> String {
        match self {
            Self::Md5 => hex(&Md5::digest(data.as_bytes())),
            Self::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `H(username:realm:password)`: what the device stores for an account.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash(&format!("{username}:{realm}:{password}"))
}

/// A `WWW-Authenticate` / `Proxy-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub algorithm: Algorithm,
    /// The nonce was good but is no longer: the client should try again
    /// with the new one without asking its user (RFC 2617 3.2.1).
    pub stale: bool,
    pub opaque: Option<String>,
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest realm=\"{}\", nonce=\"{}\", algorithm={}, qop=\"auth\"",
            self.realm,
            self.nonce,
            self.algorithm.name()
        )?;
        if let Some(o) = &self.opaque {
            write!(f, ", opaque=\"{o}\"")?;
        }
        if self.stale {
            f.write_str(", stale=true")?;
        }
        Ok(())
    }
}

/// `Digest a="x", b=y` -> [(a, x), (b, y)], names lower-cased; `None` when
/// the scheme is not Digest or the list does not parse.
pub fn params(value: &str) -> Option<Vec<(String, String)>> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut out = Vec::new();
    let mut chars = rest.char_indices().peekable();
    let bytes = rest;
    loop {
        // Skip separators.
        while let Some((_, c)) = chars.peek() {
            if *c == ',' || c.is_ascii_whitespace() {
                chars.next();
            } else {
                break;
            }
        }
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut eq = None;
        for (i, c) in chars.by_ref() {
            if c == '=' {
                eq = Some(i);
                break;
            }
        }
        let eq = eq?;
        let name = bytes[start..eq].trim().to_ascii_lowercase();
        if name.is_empty() {
            return None;
        }
        // Skip spaces after '='.
        while let Some((_, c)) = chars.peek() {
            if c.is_ascii_whitespace() {
                chars.next();
            } else {
                break;
            }
        }
        let value = match chars.peek() {
            Some((_, '"')) => {
                chars.next();
                let mut v = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some((_, n)) = chars.next() {
                                v.push(n);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        c => v.push(c),
                    }
                }
                if !closed {
                    return None;
                }
                v
            }
            _ => {
                let mut v = String::new();
                while let Some((_, c)) = chars.peek() {
                    if *c == ',' {
                        break;
                    }
                    v.push(*c);
                    chars.next();
                }
                v.trim().to_string()
            }
        };
        out.push((name, value));
    }
    Some(out)
}

/// What a client sent in `Authorization` / `Proxy-Authorization`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Algorithm,
    /// With qop=auth: (nonce count, client nonce).
    pub qop: Option<(String, String)>,
    pub opaque: Option<String>,
}

impl Credentials {
    pub fn parse(value: &str) -> Result<Self, String> {
        let params = params(value).ok_or("not Digest credentials")?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let need = |name: &str| get(name).ok_or_else(|| format!("no {name} in the credentials"));
        let algorithm = Algorithm::parse(get("algorithm").as_deref()).ok_or_else(|| {
            format!(
                "unsupported algorithm {}",
                get("algorithm").unwrap_or_default()
            )
        })?;
        let qop = match get("qop") {
            None => None,
            Some(q) if q.eq_ignore_ascii_case("auth") => Some((need("nc")?, need("cnonce")?)),
            Some(q) => return Err(format!("unsupported qop {q}")),
        };
        Ok(Self {
            username: need("username")?,
            realm: need("realm")?,
            nonce: need("nonce")?,
            uri: need("uri")?,
            response: need("response")?.to_ascii_lowercase(),
            algorithm,
            qop,
            opaque: get("opaque"),
        })
    }

    /// The response a client that knows the password computes for `method`.
    pub fn expected(&self, method: &str, ha1: &str) -> String {
        let ha2 = self.algorithm.hash(&format!("{method}:{}", self.uri));
        match &self.qop {
            Some((nc, cnonce)) => self
                .algorithm
                .hash(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce)),
            None => self.algorithm.hash(&format!("{ha1}:{}:{ha2}", self.nonce)),
        }
    }

    /// Whether the response proves the password whose HA1 is `ha1`
    /// (compared in constant time).
    pub fn check(&self, method: &str, ha1: &str) -> bool {
        let expected = self.expected(method, ha1);
        expected.len() == self.response.len()
            && expected
                .bytes()
                .zip(self.response.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// A challenge as a client answers it (`WWW-Authenticate` /
/// `Proxy-Authenticate`), with the nonce count last used with its nonce:
/// the REGISTER client re-uses one for its refreshes.
#[derive(Clone, Debug)]
pub struct Offered {
    pub realm: String,
    pub nonce: String,
    pub algorithm: Algorithm,
    pub qop: bool,
    pub opaque: Option<String>,
    pub stale: bool,
    pub nc: u32,
}

impl Offered {
    /// The strongest usable challenge of `values` (SHA-256 over MD5), or
    /// what made them unusable (`None`: nothing to name, e.g. no nonce).
    pub fn choose<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, Option<String>> {
        let mut best: Option<Self> = None;
        let mut unsupported = None;
        for value in values {
            let Some(params) = params(value) else {
                let scheme = value.split_whitespace().next().unwrap_or_default();
                unsupported = Some(format!("authentication scheme {scheme}"));
                continue;
            };
            let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            let Some(algorithm) = Algorithm::parse(get("algorithm")) else {
                let a = get("algorithm").unwrap_or_default();
                unsupported = Some(format!("digest algorithm {a}"));
                continue;
            };
            let (Some(realm), Some(nonce)) = (get("realm"), get("nonce")) else {
                continue;
            };
            let qop = match get("qop") {
                None => false,
                Some(q) if q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")) => true,
                Some(q) => {
                    unsupported = Some(format!("qop {q}"));
                    continue;
                }
            };
            let better = best
                .as_ref()
                .is_none_or(|b| b.algorithm == Algorithm::Md5 && algorithm == Algorithm::Sha256);
            if better {
                best = Some(Self {
                    realm: realm.to_string(),
                    nonce: nonce.to_string(),
                    algorithm,
                    qop,
                    opaque: get("opaque").map(str::to_string),
                    stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
                    nc: 0,
                });
            }
        }
        best.ok_or(unsupported)
    }

    /// `Digest ...` credentials of `username` for `method` on `uri`, with
    /// the next nonce count.
    pub fn answer(
        &mut self,
        username: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> String {
        self.nc = self.nc.saturating_add(1);
        let nc = format!("{:08x}", self.nc);
        let mut c = Credentials {
            username: username.to_string(),
            realm: self.realm.clone(),
            nonce: self.nonce.clone(),
            uri: uri.to_string(),
            response: String::new(),
            algorithm: self.algorithm,
            qop: self.qop.then(|| (nc.clone(), cnonce.to_string())),
            opaque: self.opaque.clone(),
        };
        c.response = c.expected(
            method,
            &ha1(self.algorithm, username, &self.realm, password),
        );
        let mut out = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\", \
             algorithm={}",
            quote(&c.username),
            quote(&c.realm),
            quote(&c.nonce),
            quote(&c.uri),
            c.response,
            c.algorithm.name()
        );
        if self.qop {
            out.push_str(&format!(
                ", cnonce=\"{}\", qop=auth, nc={nc}",
                quote(cnonce)
            ));
        }
        if let Some(o) = &c.opaque {
            out.push_str(&format!(", opaque=\"{}\"", quote(o)));
        }
        out
    }
}

/// The inside of a quoted string: quotes and backslashes escaped, control
/// characters (which could end the header) dropped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7616_examples_md5_and_sha256() {
        for (algorithm, response) in [
            (Algorithm::Md5, "8ca523f5e9506fed4657c9700eebdbec"),
            (
                Algorithm::Sha256,
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let header = format!(
                "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", \
                 algorithm={}, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", nc=00000001, \
                 cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, \
                 response=\"{response}\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
                algorithm.name()
            );
            let c = Credentials::parse(&header).unwrap_or_else(|e| panic!("{e}"));
            let good = ha1(
                algorithm,
                "Mufasa",
                "http-auth@example.org",
                "Circle of Life",
            );
            assert!(c.check("GET", &good), "{algorithm:?}");
            assert!(!c.check("POST", &good));
            assert!(!c.check(
                "GET",
                &ha1(
                    algorithm,
                    "Mufasa",
                    "http-auth@example.org",
                    "circle of life"
                )
            ));
        }
    }

    #[test]
    fn a_recorded_baresip_registration_checks_with_its_password() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/sip/baresip-register-auth.txt"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let m = crate::message::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let value = m.headers.get("Authorization").unwrap_or_default();
        let c = Credentials::parse(value).unwrap_or_else(|e| panic!("{e}"));
        // A literal '#' in the username, the uri as the client wrote it.
        assert_eq!(c.username, "9901#0");
        assert_eq!(c.uri, "sip:127.0.0.1:5098");
        assert_eq!(c.qop, Some(("00000001".into(), "f3cee732790de364".into())));
        assert!(c.check("REGISTER", &ha1(Algorithm::Md5, "9901#0", "VDP", "123456")));
        assert!(!c.check("REGISTER", &ha1(Algorithm::Md5, "9901#0", "VDP", "123457")));
        assert!(!c.check("REGISTER", &ha1(Algorithm::Md5, "9901", "VDP", "123456")));
    }

    #[test]
    fn without_qop_the_rfc_2069_form_is_checked() {
        let h = ha1(Algorithm::Md5, "8001", "VDP", "pw");
        let mut c = Credentials::parse(
            "Digest username=\"8001\",realm=\"VDP\",nonce=\"abc\",uri=\"sip:VDP\",response=\"x\"",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.algorithm, Algorithm::Md5);
        c.response = c.expected("REGISTER", &h);
        assert!(c.check("REGISTER", &h));
        assert_eq!(
            c.response,
            Algorithm::Md5.hash(&format!(
                "{h}:abc:{}",
                Algorithm::Md5.hash("REGISTER:sip:VDP")
            ))
        );
    }

    #[test]
    fn bad_credentials_are_errors() {
        for bad in [
            "",
            "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
            "Digest realm=\"VDP\"",
            "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", algorithm=SHA-512",
            "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth",
            "Digest username=\"a, realm=r",
            "Digest =x",
        ] {
            assert!(Credentials::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn challenges_print_what_clients_expect() {
        let c = Challenge {
            realm: "VDP".into(),
            nonce: "n1".into(),
            algorithm: Algorithm::Sha256,
            stale: true,
            opaque: None,
        };
        let text = c.to_string();
        assert_eq!(
            text,
            "Digest realm=\"VDP\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\", stale=true"
        );
        let p = params(&text).unwrap_or_default();
        assert!(p.contains(&("qop".into(), "auth".into())));
        assert!(p.contains(&("stale".into(), "true".into())));
    }
}
