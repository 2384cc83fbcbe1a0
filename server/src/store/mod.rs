//! Storage: one redb file, `DATA_DIR/vto.redb`.
//!
//! All tables are in [`tables`]; values use the versioned encoding of
//! [`codec`]. Every change is one write transaction committed with
//! immediate durability, so a change confirmed to the user survives a crash.
//! redb locks the file: a second process on the same data dir is refused.

pub mod codec;
pub mod secret;
pub mod settings;
pub mod tables;

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{de::DeserializeOwned, Serialize};

use app::model::security_log::SecurityEvent;
use tables::*;

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: u64 = 7;
/// Oldest security events are dropped beyond this many.
pub const MAX_SECURITY_EVENTS: u64 = 10_000;
pub const DB_FILE: &str = "vto.redb";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data directory {0} is in use by another vto process (its database is locked); stop that process or choose another --data-dir"
    )]
    Locked(PathBuf),
    #[error("the data directory {0} was written by a newer vto (schema {1}, this build reads up to {SCHEMA_VERSION})")]
    TooNew(PathBuf, u64),
    #[error("cannot use the data directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("storage error: {0}")]
    Db(String),
    #[error("cannot encode a record: {0}")]
    Encode(String),
    #[error("cannot decode a record: {0}")]
    Decode(String),
}

macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.to_string())
            }
        }
    )*};
}
db_err!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError
);

/// redb's page cache. Its default (1 GiB) would let the process grow with
/// the database file; the kernel caches the file as well, and a board next
/// to a door has little memory to spare.
const CACHE_BYTES: usize = 16 << 20;

pub struct Store {
    db: Database,
    /// Commits so far: what was rendered from an older count may be stale
    /// (the page cache, `http::page_cache`).
    changes: AtomicU64,
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and brings it
    /// to [`SCHEMA_VERSION`].
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        create_private_dir(data_dir).map_err(|e| StoreError::Io(data_dir.into(), e))?;
        let path = data_dir.join(DB_FILE);
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked(data_dir.into()),
                other => StoreError::Db(format!("{}: {other}", path.display())),
            })?;
        // Password hashes live here: readable by the device user only.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| StoreError::Io(path.clone(), e))?;
        let store = Self {
            db,
            changes: AtomicU64::new(0),
        };
        store.migrate(data_dir)?;
        Ok(store)
    }

    /// The migration hook: creates the tables and runs each step from the
    /// stored schema version up to [`SCHEMA_VERSION`], in one transaction.
    fn migrate(&self, data_dir: &Path) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let stored = meta
                .get(META_SCHEMA_VERSION)?
                .map(|v| v.value())
                .unwrap_or(0);
            if stored > SCHEMA_VERSION {
                return Err(StoreError::TooNew(data_dir.into(), stored));
            }
            for from in stored..SCHEMA_VERSION {
                migrate_step(&txn, from)?;
            }
            meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION)?;
            if meta.get(META_SERIAL)?.is_none() {
                let drawn = crate::error::random::<8>()
                    .map_err(|e| StoreError::Db(format!("serial number: {e}")))?;
                meta.insert(META_SERIAL, u64::from_le_bytes(drawn))?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// The device's serial number: 13 upper-case letters and digits, the
    /// same for the life of the data directory.
    pub fn serial(&self) -> Result<String, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let n = meta.get(META_SERIAL)?.map(|v| v.value()).unwrap_or(0);
        Ok(serial_text(n))
    }

    /// How many commits this process has made: it moves on every change.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Runs `f` in a read transaction.
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Reader) -> Result<T, E>,
    ) -> Result<T, E> {
        let txn = self.db.begin_read().map_err(StoreError::from)?;
        f(&Reader { txn })
    }

    /// Runs `f` in a write transaction, committed (durably) if `f` succeeds
    /// and abandoned, changing nothing, if it fails.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Writer) -> Result<T, E>,
    ) -> Result<T, E> {
        let began = crate::clock::monotonic();
        let txn = self.db.begin_write().map_err(StoreError::from)?;
        let writer = Writer { txn };
        let out = f(&writer)?;
        writer.txn.commit().map_err(StoreError::from)?;
        crate::metrics::METRICS.db_write.observe(began.elapsed());
        self.changes.fetch_add(1, Ordering::Release);
        Ok(out)
    }

    /// A write transaction that is atomic but not synced to disk: the next
    /// synced commit makes it durable, a power cut before that loses it.
    /// Only for what may be lost (a session's last-seen time).
    pub fn write_unsynced<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Writer) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut txn = self.db.begin_write().map_err(StoreError::from)?;
        txn.set_durability(redb::Durability::None)
            .map_err(|e| StoreError::Db(e.to_string()))?;
        let writer = Writer { txn };
        let out = f(&writer)?;
        writer.txn.commit().map_err(StoreError::from)?;
        self.changes.fetch_add(1, Ordering::Release);
        Ok(out)
    }
}

/// Every table the full backup holds: the device's data and [`META`] (the
/// schema version and the serial number).
fn backed_up() -> impl Iterator<Item = &'static dyn tables::AnyTable> {
    std::iter::once(&META as &dyn tables::AnyTable).chain(ALL_TABLES.iter().copied())
}

impl Store {
    /// Every row of every table, in one read transaction: (schema, tables).
    pub fn dump_all(&self) -> Result<(u64, Dump), StoreError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for t in backed_up() {
            out.push((t.name().to_string(), t.dump(&txn)?));
        }
        Ok((SCHEMA_VERSION, out))
    }

    /// Replaces every table with `tables` (as [`Store::dump_all`] gave
    /// them) in one transaction: all of it or, on any error, nothing. Every
    /// table must be there, and no other; the schema must be this build's.
    /// The device's clock stays as it is.
    pub fn replace_all(&self, schema: u64, tables: &[(String, Rows)]) -> Result<(), StoreError> {
        if schema != SCHEMA_VERSION {
            return Err(StoreError::Decode(format!(
                "made by a vto with schema {schema}, this one has {SCHEMA_VERSION}"
            )));
        }
        let known: Vec<&str> = backed_up().map(|t| t.name()).collect();
        if let Some((name, _)) = tables.iter().find(|(n, _)| !known.contains(&n.as_str())) {
            return Err(StoreError::Decode(format!("an unknown table {name}")));
        }
        if tables.len() != known.len() {
            return Err(StoreError::Decode("tables missing".into()));
        }
        self.write(|w| {
            let clock: Option<ClockRecord> = w.get(SETTINGS, settings::CLOCK.name)?;
            for t in backed_up() {
                t.delete(&w.txn)
                    .map_err(|e| StoreError::Db(format!("table {}: {e}", t.name())))?;
                t.create(&w.txn)
                    .map_err(|e| StoreError::Db(format!("table {}: {e}", t.name())))?;
                if let Some((_, rows)) = tables.iter().find(|(n, _)| n == t.name()) {
                    t.load(&w.txn, rows)?;
                }
            }
            let meta = w.txn.open_table(META)?;
            let restored = meta.get(META_SCHEMA_VERSION)?.map(|v| v.value());
            drop(meta);
            if restored != Some(SCHEMA_VERSION) {
                return Err(StoreError::Decode("the schema version is missing".into()));
            }
            match clock {
                Some(clock) => w.put_settings(settings::CLOCK, &clock)?,
                None => {
                    w.txn.open_table(SETTINGS)?.remove(settings::CLOCK.name)?;
                }
            }
            Ok(())
        })
    }
}

/// `n` in base 36, upper case, 13 characters (a `u64` needs at most 13).
fn serial_text(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = [b'0'; 13];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.iter().map(|&b| b as char).collect()
}

/// One step of the schema: from version `from` to `from + 1`.
fn migrate_step(txn: &redb::WriteTransaction, from: u64) -> Result<(), StoreError> {
    match from {
        // 0 -> 1: a new database; its tables are created below.
        0 => {}
        // 1 -> 2: the SIP server's rooms and registrations (new tables).
        1 => {}
        // 2 -> 3: the call log (a new table).
        2 => {}
        // 3 -> 4: VTS Management (a new table).
        3 => {}
        // 4 -> 5: VTO No. Management (a new table).
        4 => {}
        // 5 -> 6: Publish Information's history (a new table).
        5 => {}
        // 6 -> 7: the unlock and alarm logs, cards, access passwords (new
        // tables).
        6 => {}
        // Later steps go here, e.g. `1 => rewrite_accounts_v2(txn)?`.
        _ => return Err(StoreError::Db(format!("no migration from schema {from}"))),
    }
    create_tables(txn)
}

fn create_tables(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    for table in ALL_TABLES {
        table
            .create(txn)
            .map_err(|e| StoreError::Db(format!("table {}: {e}", table.name())))?;
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    // The data dir holds password hashes: readable by the device user only.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Typed reads, shared by [`Reader`] and [`Writer`]: each only says how it
/// opens a table.
pub trait Read {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static>: ReadableTable<K, V>
    where
        Self: 'a;

    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError>;

    fn get<K: redb::Key + 'static, T: DeserializeOwned>(
        &self,
        table: TableDefinition<K, &[u8]>,
        key: K::SelfType<'_>,
    ) -> Result<Option<T>, StoreError> {
        let t = self.table(table)?;
        let value = t.get(key)?;
        value.map(|v| codec::decode(v.value())).transpose()
    }

    fn account(&self, user: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.get(ACCOUNTS, user)
    }

    fn has_account(&self) -> Result<bool, StoreError> {
        Ok(!self.table(ACCOUNTS)?.is_empty()?)
    }

    fn session(&self, id_hash: &[u8; 32]) -> Result<Option<SessionRecord>, StoreError> {
        self.get(SESSIONS, *id_hash)
    }

    /// Every session (a few dozen at most).
    fn sessions(&self) -> Result<Vec<([u8; 32], SessionRecord)>, StoreError> {
        let table = self.table(SESSIONS)?;
        let mut out = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            out.push((k.value(), codec::decode(v.value())?));
        }
        Ok(out)
    }

    /// Every entry of a table keyed by name, in key order.
    fn all<T: DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let t = self.table(table)?;
        let mut out = Vec::new();
        for entry in t.iter()? {
            let (k, v) = entry?;
            out.push((k.value().to_string(), codec::decode(v.value())?));
        }
        Ok(out)
    }

    /// A settings page's record, or its defaults when never saved.
    fn settings<T: DeserializeOwned + Default>(
        &self,
        key: settings::Key<T>,
    ) -> Result<T, StoreError> {
        Ok(self.get(SETTINGS, key.name)?.unwrap_or_default())
    }

    /// Newest first: events `offset..offset + limit`, and how many exist.
    fn security_events(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<SecurityEvent>, u64), StoreError> {
        self.newest_first(SECURITY_LOG, offset, limit)
    }

    /// A log table (sequence number -> record), newest first: records
    /// `offset..offset + limit`, and how many exist.
    fn newest_first<T: DeserializeOwned>(
        &self,
        def: TableDefinition<u64, &[u8]>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<T>, u64), StoreError> {
        let table = self.table(def)?;
        let total = table.len()?;
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut records = Vec::new();
        for entry in table.iter()?.rev().skip(skip).take(take) {
            let (_, v) = entry?;
            records.push(codec::decode(v.value())?);
        }
        Ok((records, total))
    }

    /// Like [`Read::newest_first`], of the records that `keep`: those
    /// `offset..offset + limit`, and how many match.
    fn newest_matching<T: DeserializeOwned>(
        &self,
        def: TableDefinition<u64, &[u8]>,
        offset: u64,
        limit: u64,
        keep: impl Fn(&T) -> bool,
    ) -> Result<(Vec<T>, u64), StoreError> {
        let table = self.table(def)?;
        let (mut total, mut records) = (0u64, Vec::new());
        for entry in table.iter()?.rev() {
            let (_, v) = entry?;
            let record: T = codec::decode(v.value())?;
            if keep(&record) {
                if total >= offset && total - offset < limit {
                    records.push(record);
                }
                total += 1;
            }
        }
        Ok((records, total))
    }
}

pub struct Reader {
    txn: redb::ReadTransaction,
}

impl Read for Reader {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static> = redb::ReadOnlyTable<K, V>;

    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.txn.open_table(def)?)
    }
}

pub struct Writer {
    txn: redb::WriteTransaction,
}

impl Read for Writer {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static> = redb::Table<'a, K, V>;

    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Table<'_, K, V>, StoreError> {
        Ok(self.txn.open_table(def)?)
    }
}

impl Writer {
    pub fn put<K: redb::Key + 'static, T: Serialize>(
        &self,
        table: TableDefinition<K, &[u8]>,
        key: K::SelfType<'_>,
        value: &T,
    ) -> Result<(), StoreError> {
        let bytes = codec::encode(value)?;
        self.txn.open_table(table)?.insert(key, bytes.as_slice())?;
        Ok(())
    }

    pub fn remove<K: redb::Key + 'static>(
        &self,
        table: TableDefinition<K, &[u8]>,
        key: K::SelfType<'_>,
    ) -> Result<bool, StoreError> {
        Ok(self.txn.open_table(table)?.remove(key)?.is_some())
    }

    pub fn put_account(&self, user: &str, account: &AccountRecord) -> Result<(), StoreError> {
        self.put(ACCOUNTS, user, account)
    }

    pub fn put_session(&self, id_hash: &[u8; 32], s: &SessionRecord) -> Result<(), StoreError> {
        self.put(SESSIONS, *id_hash, s)
    }

    pub fn remove_session(&self, id_hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.remove(SESSIONS, *id_hash)
    }

    /// Removes the sessions for which `doomed` is true; returns how many.
    pub fn remove_sessions(
        &self,
        mut doomed: impl FnMut(&[u8; 32], &SessionRecord) -> bool,
    ) -> Result<usize, StoreError> {
        let mut table = self.txn.open_table(SESSIONS)?;
        let mut keys = Vec::new();
        for entry in table.iter()? {
            let (k, v) = entry?;
            let key = k.value();
            // A record this build cannot read is dropped with the rest.
            let gone = match codec::decode::<SessionRecord>(v.value()) {
                Ok(s) => doomed(&key, &s),
                Err(_) => true,
            };
            if gone {
                keys.push(key);
            }
        }
        for k in &keys {
            table.remove(*k)?;
        }
        Ok(keys.len())
    }

    /// Appends to the security log, dropping the oldest beyond the limit.
    pub fn log(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        self.log_within(event, MAX_SECURITY_EVENTS).map(|_| ())
    }

    /// Appends to the security log, keeping at most `max` rows: beyond it
    /// the oldest row goes, but a failure (`is_failure`: what anyone can
    /// cause without credentials) drops the oldest failure instead, so
    /// failures never push other events out (unless there is no older
    /// failure to drop). Returns the new row's sequence number.
    pub fn log_within(&self, event: &SecurityEvent, max: u64) -> Result<u64, StoreError> {
        let mut table = self.txn.open_table(SECURITY_LOG)?;
        let next = table.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
        table.insert(next, codec::encode(event)?.as_slice())?;
        while table.len()? > max {
            let mut victim = None;
            if event.kind.is_failure() {
                for entry in table.iter()? {
                    let (k, v) = entry?;
                    let k = k.value();
                    if k == next {
                        break;
                    }
                    // A row this build cannot read goes first too.
                    let failure = match codec::decode::<SecurityEvent>(v.value()) {
                        Ok(e) => e.kind.is_failure(),
                        Err(_) => true,
                    };
                    if failure {
                        victim = Some(k);
                        break;
                    }
                }
            }
            match victim {
                Some(k) => {
                    table.remove(k)?;
                }
                None => {
                    table.pop_first()?;
                }
            }
        }
        Ok(next)
    }

    /// Counts one more failure in the security log's row `seq` (see
    /// `account::flood`); false if that row is gone.
    pub fn coalesce_into(&self, seq: u64) -> Result<bool, StoreError> {
        let Some(mut row) = self.get::<u64, SecurityEvent>(SECURITY_LOG, seq)? else {
            return Ok(false);
        };
        row.coalesced = row.coalesced.saturating_add(1);
        self.update(SECURITY_LOG, seq, &row)
    }

    /// Appends to a log table, dropping the oldest beyond `max`; returns
    /// the new record's sequence number.
    pub fn append<T: Serialize>(
        &self,
        def: TableDefinition<u64, &[u8]>,
        record: &T,
        max: u64,
    ) -> Result<u64, StoreError> {
        let mut table = self.txn.open_table(def)?;
        let next = table.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
        table.insert(next, codec::encode(record)?.as_slice())?;
        while table.len()? > max {
            table.pop_first()?;
        }
        Ok(next)
    }

    /// Drops the oldest records of a log table beyond `max`.
    pub fn trim(&self, def: TableDefinition<u64, &[u8]>, max: u64) -> Result<(), StoreError> {
        let mut table = self.txn.open_table(def)?;
        while table.len()? > max {
            table.pop_first()?;
        }
        Ok(())
    }

    /// Rewrites the record `seq` of a log table if it is still kept.
    pub fn update<T: Serialize>(
        &self,
        def: TableDefinition<u64, &[u8]>,
        seq: u64,
        record: &T,
    ) -> Result<bool, StoreError> {
        let mut table = self.txn.open_table(def)?;
        if table.get(seq)?.is_none() {
            return Ok(false);
        }
        table.insert(seq, codec::encode(record)?.as_slice())?;
        Ok(true)
    }

    /// Factory reset: empties every table, in this transaction. The
    /// device's clock stays set.
    pub fn wipe(&self) -> Result<(), StoreError> {
        let clock: Option<ClockRecord> = self.get(SETTINGS, settings::CLOCK.name)?;
        for table in ALL_TABLES {
            table
                .delete(&self.txn)
                .map_err(|e| StoreError::Db(format!("table {}: {e}", table.name())))?;
        }
        create_tables(&self.txn)?;
        if let Some(clock) = clock {
            self.put_settings(settings::CLOCK, &clock)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
