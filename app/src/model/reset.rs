//! Password reset by emailed security code (manual ch. 2.2): what the reset
//! pages show, and the form of a security code.

use serde::{Deserialize, Serialize};

use super::time::UnixMillis;

/// Characters of a security code: no 0/O, 1/I/L, 2/Z, 5/S or 8/B that a
/// reader could confuse.
pub const CODE_ALPHABET: &[u8] = b"34679ACDEFGHJKMNPQRTUVWXY";
/// Characters in a code: 25^10 is about 2^46 codes, with 5 tries per lock.
pub const CODE_LEN: usize = 10;

/// What the login page needs to know about reset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetInfo {
    /// Reset Password is enabled and the account has an email address.
    pub available: bool,
    /// The address with most of it hidden (`o***r@e***.com`), when available.
    pub email_hint: Option<String>,
}

/// A security code was sent (step 2/3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetIssued {
    pub email_hint: String,
    /// The QR code (SVG) of the page that takes the code, for a phone.
    pub qr_svg: String,
    /// The address in the QR code.
    pub qr_url: String,
    pub valid_until: UnixMillis,
    /// `valid_until` as the device shows times.
    pub valid_until_text: String,
    /// Where the mail went: the SMTP server's answer or the outbox file.
    pub delivery: String,
}

/// Proof that a code was right (step 3/3): sets the new password once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetTicket {
    pub ticket: String,
}

/// A code as typed: without spaces or dashes, in capitals.
pub fn normalize_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Why a typed code cannot be one, before asking the device.
pub fn code_error(typed: &str) -> Option<&'static str> {
    let code = normalize_code(typed);
    if code.is_empty() {
        Some("Enter the security code from the mail")
    } else if code.len() != CODE_LEN || !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        Some("A security code has 10 letters and digits, as in ACDE-FGH3-47")
    } else {
        None
    }
}

/// A code as shown in a mail: groups of four for reading aloud.
pub fn format_code(code: &str) -> String {
    group_by_four(code, "-")
}

/// `ABCDEFGHIJ` -> `ABCD<sep>EFGH<sep>IJ` (ASCII input).
pub fn group_by_four(s: &str, sep: &str) -> String {
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(sep)
}

/// `owner@example.com` -> `o***r@e***.com`: enough to recognise one's own
/// address, not enough to learn someone else's.
pub fn mask_email(address: &str) -> String {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return "***".into();
    };
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let ends = |s: &str| -> String {
        let chars: Vec<char> = s.chars().collect();
        match chars.as_slice() {
            [] => String::new(),
            [a] => format!("{a}***"),
            [a, .., b] => format!("{a}***{b}"),
        }
    };
    let first = |s: &str| {
        s.chars()
            .next()
            .map(|c| format!("{c}***"))
            .unwrap_or_default()
    };
    if tld.is_empty() {
        format!("{}@{}", ends(local), first(host))
    } else {
        format!("{}@{}.{tld}", ends(local), first(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalized_and_checked() {
        assert_eq!(normalize_code(" acde-fgh3 47 "), "ACDEFGH347");
        assert_eq!(code_error("acde-fgh3-47"), None);
        assert!(code_error("").is_some());
        assert!(code_error("ACDE-FGH3-4").is_some(), "too short");
        assert!(
            code_error("ACDE-FGH3-40").is_some(),
            "0 is not in the alphabet"
        );
        assert_eq!(format_code("ACDEFGH347"), "ACDE-FGH3-47");
    }

    #[test]
    fn alphabet_has_no_lookalikes() {
        for c in b"0O1IL2Z5S8B" {
            assert!(!CODE_ALPHABET.contains(c), "{}", *c as char);
        }
    }

    #[test]
    fn masks_addresses() {
        assert_eq!(mask_email("owner@example.com"), "o***r@e***.com");
        assert_eq!(mask_email("a@b.co.uk"), "a***@b***.uk");
        assert_eq!(mask_email("nope"), "***");
    }
}
