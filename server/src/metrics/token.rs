//! The metrics token: a random bearer token for the scraper (Prometheus's
//! `authorization: credentials_file`). Only its SHA-256 is kept, in the
//! data directory (mode 0600); `vto --new-metrics-token` makes one
//! (replacing the last), `--revoke-metrics-token` removes it. Read at each
//! scrape, so either takes effect on a running device at once.
//!
//! A hash without salt or stretching is enough here: the token is 256
//! random bits, not a password anyone chose.

use std::{
    io::Write as _,
    os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _},
    path::{Path, PathBuf},
};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The file in the data directory holding the token's SHA-256 (hex).
pub const FILE: &str = "metrics-token.sha256";
/// What every token starts with (secret scanners recognise it).
pub const PREFIX: &str = "vto_metrics_";

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A new token: its hash replaces the stored one (atomically); the token
/// itself is returned to be shown once, and is kept nowhere.
pub fn create(data_dir: &Path) -> Result<String, String> {
    let bytes = crate::error::random::<32>().map_err(|e| e.to_string())?;
    let token = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    // Private, as vto makes it (the token may come before the first start).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let tmp = data_dir.join(format!("{FILE}.new"));
    let _ = std::fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        writeln!(f, "{}", hex(&digest(&token)))?;
        f.sync_all()?;
        std::fs::rename(&tmp, path(data_dir))
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path(data_dir).display())
    })?;
    Ok(token)
}

/// Removes the token; `false` if there was none.
pub fn revoke(data_dir: &Path) -> Result<bool, String> {
    match std::fs::remove_file(path(data_dir)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("cannot remove {}: {e}", path(data_dir).display())),
    }
}

/// What a presented token is worth.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Valid,
    Wrong,
    /// No token is set (or its file is unreadable): nobody may scrape.
    NoneSet,
}

/// Checks `presented` against the stored hash.
pub fn check(data_dir: &Path, presented: &str) -> Check {
    let stored = match std::fs::read_to_string(path(data_dir)) {
        Ok(s) => s,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::error!(error = %e, "metrics token unreadable");
            }
            return Check::NoneSet;
        }
    };
    let Some(stored) = unhex(&stored) else {
        tracing::error!(file = FILE, "metrics token file is not a SHA-256");
        return Check::NoneSet;
    };
    let given = digest(presented);
    // Every byte compared, whatever the first difference.
    let diff = stored
        .iter()
        .zip(given.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff == 0 {
        Check::Valid
    } else {
        Check::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_checks_and_only_its_hash_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check(dir.path(), "anything"), Check::NoneSet);
        let token = create(dir.path()).unwrap();
        assert!(token.starts_with(PREFIX));
        assert_eq!(token.len(), PREFIX.len() + 43);
        assert_eq!(check(dir.path(), &token), Check::Valid);
        assert_eq!(check(dir.path(), &format!("{token}x")), Check::Wrong);
        let stored = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert!(!stored.contains(&token[PREFIX.len()..]));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A new token replaces the old one.
        let second = create(dir.path()).unwrap();
        assert_ne!(second, token);
        assert_eq!(check(dir.path(), &token), Check::Wrong);
        assert_eq!(check(dir.path(), &second), Check::Valid);
        assert!(revoke(dir.path()).unwrap());
        assert!(!revoke(dir.path()).unwrap());
        assert_eq!(check(dir.path(), &second), Check::NoneSet);
    }

    #[test]
    fn a_damaged_file_lets_nobody_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), "not hex\n").unwrap();
        assert_eq!(check(dir.path(), ""), Check::NoneSet);
        assert_eq!(check(dir.path(), "not hex"), Check::NoneSet);
    }
}
