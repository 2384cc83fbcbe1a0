//! Config Manager > Backup and Restore: the whole database (every table,
//! secrets included) sealed with a passphrase ([`format`]), and put back
//! in one transaction once the file has been checked whole.

/// The file itself: its own crate, pure and fuzzed (`server/backup_file`).
pub use backup_file as format;

use crate::store::{Store, StoreError};

/// The largest backup accepted, as base64 (48 MiB of file).
pub const MAX_BASE64: usize = app::model::config::BACKUP_MAX_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    File(#[from] format::Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("no randomness: {0}")]
    Random(String),
}

/// A sealed backup of everything `store` holds now.
pub fn make(store: &Store, passphrase: &str) -> Result<Vec<u8>, Error> {
    let (schema, tables) = store.dump_all()?;
    let contents = format::Contents {
        schema,
        tables: tables
            .into_iter()
            .map(|(name, rows)| format::Table { name, rows })
            .collect(),
    };
    let salt = crate::error::random::<16>().map_err(|e| Error::Random(e.to_string()))?;
    let nonce = crate::error::random::<12>().map_err(|e| Error::Random(e.to_string()))?;
    Ok(format::seal(
        &contents,
        passphrase,
        salt,
        nonce,
        (format::M_KIB, format::T_COST, format::P_COST),
    )?)
}

/// Opens `file` with `passphrase` and, only if all of it is sound,
/// replaces the database with it. On any error nothing has changed.
pub fn restore(store: &Store, file: &[u8], passphrase: &str) -> Result<(), Error> {
    let contents = format::open(file, passphrase)?;
    let tables: crate::store::tables::Dump = contents
        .tables
        .into_iter()
        .map(|t| (t.name, t.rows))
        .collect();
    store.replace_all(contents.schema, &tables)?;
    Ok(())
}

#[cfg(test)]
mod tests;
