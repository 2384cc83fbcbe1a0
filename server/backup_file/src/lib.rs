//! vto's full backup file (Config Manager > Backup): every table of the
//! database, secrets included, sealed with a passphrase. Pure: bytes in,
//! bytes out; no I/O, no clock, no randomness (the caller brings the salt
//! and nonce). Its own crate so that the parser can be fuzzed.
//!
//! ```text
//! header  MAGIC (8) | version u8 | m_kib u32 | t u32 | p u32 | salt (16) | nonce (12)
//! body    ChaCha20-Poly1305(key, nonce, plaintext, aad = header)
//! key     argon2id(passphrase, salt, m_kib, t, p), 32 bytes
//! plain   schema u64 | tables u32 | per table: name (u16 len) | rows u32 |
//!         per row: key (u32 len) | value (u32 len)
//! ```
//!
//! Integers are big-endian. The header is authenticated with the body, so
//! neither can be changed, truncated or extended without the tag failing;
//! the KDF's cost is read from the header but bounded, so a crafted file
//! cannot make the device spend gigabytes.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    ChaCha20Poly1305, Key, Nonce,
};

pub const MAGIC: &[u8; 8] = b"VTOBAK\r\n";
pub const VERSION: u8 = 1;
const HEADER: usize = 8 + 1 + 4 * 3 + 16 + 12;
const TAG: usize = 16;

/// The cost written: 64 MiB, 3 passes (about a second on a Raspberry Pi 4).
pub const M_KIB: u32 = 64 * 1024;
pub const T_COST: u32 = 3;
pub const P_COST: u32 = 1;
/// The most a file may ask for.
const MAX_M_KIB: u32 = 256 * 1024;
const MAX_T: u32 = 10;
const MAX_P: u32 = 4;

/// One table's rows as stored: raw key and value bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub rows: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What a backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contents {
    /// The database schema the rows are in.
    pub schema: u64,
    pub tables: Vec<Table>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("Not a vto backup file")]
    NotABackup,
    #[error("A backup file of a newer version ({0}): update vto first")]
    NewerVersion(u8),
    #[error("The file is cut short")]
    Truncated,
    #[error("Wrong passphrase, or the file was changed")]
    WrongPassphraseOrDamaged,
    #[error("The file's key derivation asks for too much ({0})")]
    TooCostly(String),
    #[error("The backup's contents are damaged: {0}")]
    Damaged(&'static str),
    #[error("Encryption failed: {0}")]
    Crypto(String),
}

fn kdf(passphrase: &str, salt: &[u8], m: u32, t: u32, p: u32) -> Result<[u8; 32], Error> {
    let params = Params::new(m, t, p, Some(32)).map_err(|e| Error::Crypto(e.to_string()))?;
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut key)
        .map_err(|e| Error::Crypto(e.to_string()))?;
    Ok(key)
}

/// Seals `contents` with `passphrase`; `salt` and `nonce` are fresh random
/// bytes from the caller (so this stays pure and testable).
pub fn seal(
    contents: &Contents,
    passphrase: &str,
    salt: [u8; 16],
    nonce: [u8; 12],
    cost: (u32, u32, u32),
) -> Result<Vec<u8>, Error> {
    let (m, t, p) = cost;
    let mut header = Vec::with_capacity(HEADER);
    header.extend_from_slice(MAGIC);
    header.push(VERSION);
    for n in [m, t, p] {
        header.extend_from_slice(&n.to_be_bytes());
    }
    header.extend_from_slice(&salt);
    header.extend_from_slice(&nonce);
    let key = kdf(passphrase, &salt, m, t, p)?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
    let plain = encode(contents)?;
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: &header,
            },
        )
        .map_err(|e| Error::Crypto(e.to_string()))?;
    let mut out = header;
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a sealed backup: checked whole (the tag covers every byte) and
/// parsed whole before anything is returned.
pub fn open(file: &[u8], passphrase: &str) -> Result<Contents, Error> {
    if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
        return Err(Error::NotABackup);
    }
    if file.len() < HEADER + TAG {
        return Err(Error::Truncated);
    }
    let version = file[8];
    if version > VERSION {
        return Err(Error::NewerVersion(version));
    }
    if version == 0 {
        return Err(Error::NotABackup);
    }
    let word = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&file[at..at + 4]);
        u32::from_be_bytes(b)
    };
    let (m, t, p) = (word(9), word(13), word(17));
    if m > MAX_M_KIB || t > MAX_T || p > MAX_P || t == 0 || p == 0 {
        return Err(Error::TooCostly(format!("m={m} KiB, t={t}, p={p}")));
    }
    let salt = &file[21..37];
    let nonce = &file[37..HEADER];
    let key = kdf(passphrase, salt, m, t, p)?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
    let plain = cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: &file[HEADER..],
                aad: &file[..HEADER],
            },
        )
        .map_err(|_| Error::WrongPassphraseOrDamaged)?;
    decode(&plain)
}

/// The plaintext of `c`.
pub fn encode(c: &Contents) -> Result<Vec<u8>, Error> {
    let too_long = |_| Error::Damaged("a table or row too large");
    let mut out = Vec::new();
    out.extend_from_slice(&c.schema.to_be_bytes());
    out.extend_from_slice(
        &u32::try_from(c.tables.len())
            .map_err(too_long)?
            .to_be_bytes(),
    );
    for t in &c.tables {
        out.extend_from_slice(&u16::try_from(t.name.len()).map_err(too_long)?.to_be_bytes());
        out.extend_from_slice(t.name.as_bytes());
        out.extend_from_slice(&u32::try_from(t.rows.len()).map_err(too_long)?.to_be_bytes());
        for (k, v) in &t.rows {
            for part in [k, v] {
                out.extend_from_slice(&u32::try_from(part.len()).map_err(too_long)?.to_be_bytes());
                out.extend_from_slice(part);
            }
        }
    }
    Ok(out)
}

/// A cursor over the plaintext; every read checks the length first.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(Error::Damaged("cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<usize, Error> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn u32(&mut self) -> Result<usize, Error> {
        let b = self.take(4)?;
        usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .map_err(|_| Error::Damaged("a length too large"))
    }

    fn u64(&mut self) -> Result<u64, Error> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
}

/// Parses a plaintext whole: every length checked, nothing left over.
pub fn decode(plain: &[u8]) -> Result<Contents, Error> {
    let mut r = Reader(plain);
    let schema = r.u64()?;
    let n = r.u32()?;
    let mut tables = Vec::new();
    for _ in 0..n {
        let len = r.u16()?;
        let name = std::str::from_utf8(r.take(len)?)
            .map_err(|_| Error::Damaged("a table name"))?
            .to_string();
        let rows_n = r.u32()?;
        // Every row takes at least 8 bytes: a count beyond that is a lie,
        // not a reason to reserve memory.
        if rows_n > r.0.len() / 8 {
            return Err(Error::Damaged("a row count"));
        }
        let mut rows = Vec::with_capacity(rows_n);
        for _ in 0..rows_n {
            let k = r.u32()?;
            let k = r.take(k)?.to_vec();
            let v = r.u32()?;
            let v = r.take(v)?.to_vec();
            rows.push((k, v));
        }
        if tables.iter().any(|t: &Table| t.name == name) {
            return Err(Error::Damaged("a table twice"));
        }
        tables.push(Table { name, rows });
    }
    if !r.0.is_empty() {
        return Err(Error::Damaged("bytes after the last table"));
    }
    Ok(Contents { schema, tables })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cheap cost for tests (the real one takes a second).
    const CHEAP: (u32, u32, u32) = (64, 1, 1);
    const PASS: &str = "correct horse battery";

    fn sample() -> Contents {
        Contents {
            schema: 7,
            tables: vec![
                Table {
                    name: "accounts".into(),
                    rows: vec![
                        (b"admin".to_vec(), vec![1, 2, 3]),
                        (b"ops".to_vec(), vec![]),
                    ],
                },
                Table {
                    name: "call_log".into(),
                    rows: vec![(7u64.to_be_bytes().to_vec(), vec![9; 300])],
                },
                Table {
                    name: "cards".into(),
                    rows: vec![],
                },
            ],
        }
    }

    fn sealed() -> Vec<u8> {
        seal(&sample(), PASS, [1; 16], [2; 12], CHEAP).unwrap()
    }

    #[test]
    fn what_is_sealed_opens_with_the_passphrase() {
        assert_eq!(open(&sealed(), PASS).unwrap(), sample());
    }

    #[test]
    fn the_file_hides_its_contents() {
        let file = sealed();
        assert!(!file.windows(5).any(|w| w == b"admin"));
        assert!(!file.windows(8).any(|w| w == b"accounts"));
    }

    #[test]
    fn a_wrong_passphrase_or_any_changed_byte_is_refused() {
        let file = sealed();
        assert_eq!(
            open(&file, "correct horse battery!"),
            Err(Error::WrongPassphraseOrDamaged)
        );
        // Every byte after the magic and version: header (cost, salt,
        // nonce) and body alike. A cost byte may instead exceed the bounds.
        for i in 9..file.len() {
            let mut f = file.clone();
            f[i] ^= 0x01;
            let e = open(&f, PASS).unwrap_err();
            assert!(
                matches!(e, Error::WrongPassphraseOrDamaged | Error::TooCostly(_)),
                "byte {i}: {e:?}"
            );
        }
    }

    #[test]
    fn truncated_extended_or_foreign_files_are_refused() {
        let file = sealed();
        for n in [0, 4, 8, 20, HEADER, HEADER + TAG, file.len() - 1] {
            let e = open(&file[..n], PASS).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::NotABackup | Error::Truncated | Error::WrongPassphraseOrDamaged
                ),
                "{n}: {e:?}"
            );
        }
        let mut longer = file.clone();
        longer.push(0);
        assert_eq!(open(&longer, PASS), Err(Error::WrongPassphraseOrDamaged));
        assert_eq!(
            open(b"{\"format\":\"vto-device-info\"}", PASS),
            Err(Error::NotABackup)
        );
        let mut newer = file;
        newer[8] = VERSION + 1;
        assert_eq!(open(&newer, PASS), Err(Error::NewerVersion(VERSION + 1)));
    }

    #[test]
    fn a_file_asking_for_too_much_memory_is_refused_before_the_kdf() {
        let mut file = sealed();
        file[9..13].copy_from_slice(&(MAX_M_KIB + 1).to_be_bytes());
        assert!(matches!(open(&file, PASS), Err(Error::TooCostly(_))));
    }

    #[test]
    fn damaged_plaintext_is_an_error_not_a_panic() {
        let plain = encode(&sample()).unwrap();
        for n in 0..plain.len() {
            assert!(decode(&plain[..n]).is_err(), "cut at {n}");
        }
        let mut lying = plain.clone();
        // The first table's row count: far beyond what follows.
        let at = 8 + 4 + 2 + "accounts".len();
        lying[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode(&lying).is_err());
        let mut twice = sample();
        twice.tables.push(twice.tables[0].clone());
        assert_eq!(
            decode(&encode(&twice).unwrap()),
            Err(Error::Damaged("a table twice"))
        );
    }
}
