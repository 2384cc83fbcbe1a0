//! Network Setting > IP Permissions (manual 6.3): a white list or a black
//! list, one at a time. Entries are single addresses (IPv4 or IPv6) or
//! ranges, as `start-end` or CIDR (`192.168.1.0/24`, `fd00::/8`).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Entries per list at most.
pub const MAX_ENTRIES: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ListMode {
    /// Only the addresses in the list may connect.
    #[default]
    WhiteList,
    /// The addresses in the list may not connect.
    BlackList,
}

impl ListMode {
    pub fn label(self) -> &'static str {
        match self {
            Self::WhiteList => "White List",
            Self::BlackList => "Black List",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::WhiteList => "white",
            Self::BlackList => "black",
        }
    }

    pub fn from_key(k: &str) -> Option<Self> {
        [Self::WhiteList, Self::BlackList]
            .into_iter()
            .find(|m| m.key() == k)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct IpPermissions {
    /// Off (the default): every address may connect.
    pub enabled: bool,
    pub mode: ListMode,
    pub white_list: Vec<String>,
    pub black_list: Vec<String>,
}

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    pub start: IpAddr,
    pub end: IpAddr,
}

fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.start.is_ipv4()
            && (bits(self.start)..=bits(self.end)).contains(&bits(ip))
    }
}

/// Parses one entry: an address, `start-end` or CIDR.
pub fn parse_entry(entry: &str) -> Result<IpRange, &'static str> {
    let entry = entry.trim();
    let addr = |s: &str| {
        s.trim()
            .parse::<IpAddr>()
            .map(canonical)
            .map_err(|_| "Not an IP address, a range (start-end) or a network (address/prefix)")
    };
    if let Some((a, b)) = entry.split_once('-') {
        let (start, end) = (addr(a)?, addr(b)?);
        if start.is_ipv4() != end.is_ipv4() {
            return Err("Both ends of a range must be IPv4, or both IPv6");
        }
        if bits(start) > bits(end) {
            return Err("The range's start comes after its end");
        }
        return Ok(IpRange { start, end });
    }
    if let Some((a, p)) = entry.split_once('/') {
        let base = addr(a)?;
        let width: u32 = if base.is_ipv4() { 32 } else { 128 };
        let prefix: u32 = p
            .trim()
            .parse()
            .ok()
            .filter(|p| *p <= width)
            .ok_or("The prefix must be 0-32 for IPv4, 0-128 for IPv6")?;
        let host_bits = width - prefix;
        let mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let start = bits(base) & !mask;
        let end = start | mask;
        let to_ip = |b: u128| -> IpAddr {
            if base.is_ipv4() {
                IpAddr::V4(std::net::Ipv4Addr::from(
                    u32::try_from(b).unwrap_or(u32::MAX),
                ))
            } else {
                IpAddr::V6(std::net::Ipv6Addr::from(b))
            }
        };
        return Ok(IpRange {
            start: to_ip(start),
            end: to_ip(end),
        });
    }
    let ip = addr(entry)?;
    Ok(IpRange { start: ip, end: ip })
}

impl IpPermissions {
    /// The list in use.
    pub fn active_list(&self) -> &[String] {
        match self.mode {
            ListMode::WhiteList => &self.white_list,
            ListMode::BlackList => &self.black_list,
        }
    }

    /// Every error as (field id, message): `white-list` / `black-list`
    /// with the entry named.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        for (field, list) in [
            ("white-list", &self.white_list),
            ("black-list", &self.black_list),
        ] {
            if list.len() > MAX_ENTRIES {
                errors.push((field, format!("At most {MAX_ENTRIES} entries")));
                continue;
            }
            if let Some((e, m)) = list
                .iter()
                .find_map(|e| parse_entry(e).err().map(|m| (e, m)))
            {
                errors.push((field, format!("{e}: {m}")));
            }
        }
        if self.enabled && self.mode == ListMode::WhiteList && self.white_list.is_empty() {
            errors.push((
                "white-list",
                "Add at least one address to the white list".into(),
            ));
        }
        errors
    }

    /// The names of the parts that differ from `other` (for the audit log).
    pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
        [
            (self.enabled != other.enabled, "Enable"),
            (self.mode != other.mode, "List Type"),
            (self.white_list != other.white_list, "White List"),
            (self.black_list != other.black_list, "Black List"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }

    /// The rules in force, once valid.
    pub fn compile(&self) -> Policy {
        Policy {
            enabled: self.enabled,
            mode: self.mode,
            ranges: self
                .active_list()
                .iter()
                .filter_map(|e| parse_entry(e).ok())
                .collect(),
        }
    }
}

/// IP Permissions ready to be checked on every connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub enabled: bool,
    pub mode: ListMode,
    pub ranges: Vec<IpRange>,
}

impl Policy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        if !self.enabled {
            return true;
        }
        let listed = self.ranges.iter().any(|r| r.contains(ip));
        match self.mode {
            ListMode::WhiteList => listed,
            ListMode::BlackList => !listed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn entries_parse_or_say_why_not() {
        assert!(parse_entry("192.168.1.5").is_ok_and(|r| r.contains(ip("192.168.1.5"))));
        let r = parse_entry("192.168.1.10 - 192.168.1.20").unwrap_or(IpRange {
            start: ip("0.0.0.0"),
            end: ip("0.0.0.0"),
        });
        assert!(r.contains(ip("192.168.1.10")) && r.contains(ip("192.168.1.20")));
        assert!(!r.contains(ip("192.168.1.21")) && !r.contains(ip("192.168.1.9")));
        let net = parse_entry("10.1.2.3/8").unwrap_or(r);
        assert!(net.contains(ip("10.255.0.1")) && !net.contains(ip("11.0.0.0")));
        assert!(parse_entry("0.0.0.0/0").is_ok_and(|r| r.contains(ip("8.8.8.8"))));
        assert!(parse_entry("fd00::/8")
            .is_ok_and(|r| r.contains(ip("fd12::1")) && !r.contains(ip("fe80::1"))));
        assert!(parse_entry("::/0").is_ok_and(|r| r.contains(ip("2001:db8::1"))));
        // An IPv4-mapped IPv6 peer is its IPv4 address.
        assert!(parse_entry("127.0.0.1").is_ok_and(|r| r.contains(ip("::ffff:127.0.0.1"))));
        for bad in [
            "",
            "300.1.1.1",
            "1.2.3.4-",
            "1.2.3.9-1.2.3.1",
            "1.2.3.4-::1",
            "1.2.3.4/33",
            "::/129",
            "host.example",
            "1.2.3.4/x",
        ] {
            assert!(parse_entry(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn white_and_black_lists() {
        let mut p = IpPermissions {
            enabled: true,
            mode: ListMode::WhiteList,
            white_list: vec!["127.0.0.1".into(), "127.0.0.3".into()],
            black_list: vec!["127.0.0.2".into()],
        };
        assert!(p.validate().is_empty());
        let c = p.compile();
        assert!(c.allows(ip("127.0.0.1")) && !c.allows(ip("127.0.0.2")));
        p.mode = ListMode::BlackList;
        let c = p.compile();
        assert!(c.allows(ip("127.0.0.1")) && !c.allows(ip("127.0.0.2")));
        p.enabled = false;
        assert!(p.compile().allows(ip("127.0.0.2")));
    }

    #[test]
    fn validation_names_the_entry() {
        let p = IpPermissions {
            enabled: true,
            mode: ListMode::WhiteList,
            white_list: vec!["10.0.0.1".into(), "10.0.0.300".into()],
            black_list: vec![],
        };
        assert_eq!(p.validate()[0].0, "white-list");
        assert!(p.validate()[0].1.starts_with("10.0.0.300:"));
        let empty = IpPermissions {
            enabled: true,
            ..IpPermissions::default()
        };
        assert_eq!(empty.validate()[0].0, "white-list");
        let many = IpPermissions {
            black_list: vec!["1.1.1.1".into(); MAX_ENTRIES + 1],
            ..IpPermissions::default()
        };
        assert_eq!(many.validate()[0].0, "black-list");
    }
}
