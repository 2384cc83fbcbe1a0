//! Two-factor login with a time-based one-time password (RFC 6238: SHA-1,
//! 6 digits, 30 s steps, one step of skew), as authenticator apps expect.
//!
//! Pure: time comes in as a parameter. A step once accepted is never
//! accepted again (RFC 6238 5.2), so a code seen over a shoulder cannot be
//! replayed within its window. Recovery codes are shown once and kept only
//! as salted SHA-256 hashes; each works once.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use app::model::{reset::normalize_code, time::UnixMillis};

pub const ISSUER: &str = "VTO";
/// Recovery codes given out at enrolment.
pub const RECOVERY_CODES: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpRecord {
    /// The shared secret (20 bytes). It has to be kept to check codes; it
    /// never leaves the device after enrolment.
    pub secret: crate::store::secret::Secret<Vec<u8>>,
    /// The newest time step accepted.
    pub last_step: u64,
    pub recovery_salt: [u8; 16],
    /// Hashes of the unused recovery codes.
    pub recovery: Vec<[u8; 32]>,
    pub enabled: UnixMillis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A current code, never used before.
    Accepted,
    /// A recovery code; it is used up.
    RecoveryAccepted,
    /// A right code for a step already used.
    Replayed,
    Wrong,
}

/// A TOTP generator for `secret` (20 bytes).
pub fn totp(secret: &[u8], account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .ok()
}

/// The `otpauth://` URI an authenticator app scans.
pub fn otpauth_uri(secret: &[u8], account: &str) -> Option<String> {
    totp(secret, account)?.to_url().ok()
}

pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// Whether `code` is right for `secret` at `now`; the step it matched.
pub fn check_code(secret: &[u8], code: &str, now: UnixMillis) -> Option<u64> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = u64::try_from(now.0.div_euclid(1000)).ok()?;
    totp(secret, "admin")?.check(&digits, secs)
}

fn hash_recovery(salt: &[u8; 16], code: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(normalize_code(code).as_bytes());
    h.finalize().into()
}

impl TotpRecord {
    /// A record for `secret` with the hashes of `recovery_codes`.
    pub fn new(
        secret: Vec<u8>,
        step: u64,
        recovery_salt: [u8; 16],
        recovery_codes: &[String],
        now: UnixMillis,
    ) -> Self {
        Self {
            secret: crate::store::secret::Secret::new(secret),
            last_step: step,
            recovery_salt,
            recovery: recovery_codes
                .iter()
                .map(|c| hash_recovery(&recovery_salt, c))
                .collect(),
            enabled: now,
        }
    }

    /// Checks a code typed at login: a TOTP code or a recovery code.
    pub fn verify(&mut self, code: &str, now: UnixMillis) -> Verdict {
        if let Some(step) = check_code(self.secret.expose(), code, now) {
            if step <= self.last_step {
                return Verdict::Replayed;
            }
            self.last_step = step;
            return Verdict::Accepted;
        }
        let hash = hash_recovery(&self.recovery_salt, code);
        if let Some(i) = self.recovery.iter().position(|h| *h == hash) {
            self.recovery.swap_remove(i);
            return Verdict::RecoveryAccepted;
        }
        Verdict::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8; 20] = b"12345678901234567890";
    // RFC 6238 appendix B: T = 59 s gives 94287082 (8 digits); 6 digits: 287082.
    const T59: UnixMillis = UnixMillis(59_000);

    fn record() -> TotpRecord {
        TotpRecord::new(
            SECRET.to_vec(),
            0,
            [3; 16],
            &["ACDE-FGH3-47".to_string(), "KMNP-QRTU-VW".to_string()],
            UnixMillis(0),
        )
    }

    #[test]
    fn matches_the_rfc_test_vector() {
        assert_eq!(check_code(SECRET, "287082", T59), Some(1));
        assert_eq!(check_code(SECRET, "287 082", T59), Some(1));
        assert_eq!(check_code(SECRET, "287083", T59), None);
        assert_eq!(check_code(SECRET, "28708", T59), None);
    }

    #[test]
    fn one_step_of_skew_either_way() {
        // Step 1's code is accepted in steps 0..=2, not in step 3.
        assert_eq!(check_code(SECRET, "287082", UnixMillis(29_000)), Some(1));
        assert_eq!(check_code(SECRET, "287082", UnixMillis(89_000)), Some(1));
        assert_eq!(check_code(SECRET, "287082", UnixMillis(90_000)), None);
    }

    #[test]
    fn a_code_cannot_be_replayed() {
        let mut r = record();
        assert_eq!(r.verify("287082", T59), Verdict::Accepted);
        assert_eq!(r.verify("287082", T59 + 1000), Verdict::Replayed);
        // Nor can an older one once a newer step was used.
        let older = totp(SECRET, "admin")
            .map(|t| t.generate(0).to_string())
            .unwrap_or_default();
        assert_eq!(r.verify(&older, T59), Verdict::Replayed);
    }

    #[test]
    fn recovery_codes_work_once() {
        let mut r = record();
        assert_eq!(
            r.verify("acde fgh3 47", UnixMillis(0)),
            Verdict::RecoveryAccepted
        );
        assert_eq!(r.verify("ACDE-FGH3-47", UnixMillis(0)), Verdict::Wrong);
        assert_eq!(r.recovery.len(), 1);
        assert_eq!(r.verify("WRONGWRONG", UnixMillis(0)), Verdict::Wrong);
    }

    #[test]
    fn the_uri_is_what_apps_scan() {
        let uri = otpauth_uri(SECRET, "admin").unwrap_or_default();
        assert!(uri.starts_with("otpauth://totp/VTO:admin?"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=VTO"), "{uri}");
    }

    #[test]
    fn only_hashes_of_recovery_codes_are_kept() {
        let json = serde_json::to_string(&record()).unwrap_or_default();
        assert!(!json.contains("ACDE"));
    }
}
