use app::model::{
    security_log::{SecurityEvent, SecurityEventKind},
    settings::BasicSettings,
    time::UnixMillis,
};

use super::*;

fn event(n: i64) -> SecurityEvent {
    SecurityEvent {
        time: UnixMillis(n),
        kind: SecurityEventKind::LoginFailed,
        user: "admin".into(),
        ip: "127.0.0.1".into(),
        detail: None,
        coalesced: 0,
    }
}

fn account() -> AccountRecord {
    AccountRecord {
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
        email: None,
        created: UnixMillis(1),
        password_changed: UnixMillis(1),
        reset: Default::default(),
        totp: None,
        role: Default::default(),
        digest_ha1: None,
    }
}

#[test]
fn accounts_written_before_reset_and_two_factor_still_read() -> Result<(), StoreError> {
    // Schema 1 as the foundation wrote it: no `reset`, no `totp`.
    let mut old = vec![1u8];
    old.extend_from_slice(
        br#"{"password_hash":"h","email":"a@b.example","created":1,"password_changed":2}"#,
    );
    let a: AccountRecord = codec::decode(&old)?;
    assert_eq!(a.email.as_deref(), Some("a@b.example"));
    assert!(a.totp.is_none());
    assert_eq!(a.reset, Default::default());
    // Accounts from before roles are admin's: Admin, no digest yet.
    assert_eq!(a.role, app::model::users::Role::Admin);
    assert!(a.digest_ha1.is_none());
    Ok(())
}

#[test]
fn creates_schema_and_reopens() -> Result<(), StoreError> {
    let tmp = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let dir = tmp.path().join("new-data-dir");
    {
        let store = Store::open(&dir)?;
        store.write(|w| w.put_account("admin", &account()))?;
    }
    let store = Store::open(&dir)?;
    assert!(store.read(|r| r.has_account())?);
    let version = store
        .db
        .begin_read()?
        .open_table(META)?
        .get(META_SCHEMA_VERSION)?
        .map(|v| v.value());
    assert_eq!(version, Some(SCHEMA_VERSION));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .ok()
    };
    assert_eq!(mode(&dir), Some(0o700));
    assert_eq!(mode(&dir.join(DB_FILE)), Some(0o600));
    Ok(())
}

#[test]
fn second_open_is_refused_clearly() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let _first = Store::open(dir.path())?;
    match Store::open(dir.path()) {
        Err(e @ StoreError::Locked(_)) => {
            assert!(e.to_string().contains("in use by another vto process"));
        }
        other => panic!("expected Locked, got {:?}", other.err()),
    }
    Ok(())
}

/// A database of schema 1 (before the SIP tables and the call log) keeps
/// its data and gains the new tables.
#[test]
fn schema_1_is_migrated_to_the_current_one() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    {
        let store = Store::open(dir.path())?;
        let txn = store.db.begin_write()?;
        txn.open_table(META)?.insert(META_SCHEMA_VERSION, 1)?;
        txn.delete_table(SIP_ROOMS)?;
        txn.delete_table(SIP_BINDINGS)?;
        txn.delete_table(CALL_LOG)?;
        txn.delete_table(SIP_VTS)?;
        txn.open_table(SETTINGS)?.insert("kept", b"x".as_slice())?;
        txn.commit()?;
    }
    let store = Store::open(dir.path())?;
    let txn = store.db.begin_read()?;
    let version = txn
        .open_table(META)?
        .get(META_SCHEMA_VERSION)?
        .map(|v| v.value());
    assert_eq!(version, Some(SCHEMA_VERSION));
    assert!(txn.open_table(CALL_LOG).is_ok());
    assert!(txn.open_table(SIP_VTS).is_ok());
    assert!(txn.open_table(SIP_ROOMS).is_ok());
    assert!(txn.open_table(SIP_BINDINGS).is_ok());
    assert!(txn.open_table(SETTINGS)?.get("kept")?.is_some());
    Ok(())
}

#[test]
fn newer_schema_is_refused() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    {
        let store = Store::open(dir.path())?;
        let txn = store.db.begin_write()?;
        txn.open_table(META)?
            .insert(META_SCHEMA_VERSION, SCHEMA_VERSION + 1)?;
        txn.commit()?;
    }
    assert!(
        matches!(Store::open(dir.path()), Err(StoreError::TooNew(_, v)) if v == SCHEMA_VERSION + 1)
    );
    Ok(())
}

#[test]
fn failed_write_changes_nothing() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let store = Store::open(dir.path())?;
    let result: Result<(), StoreError> = store.write(|w| {
        w.put_account("admin", &account())?;
        w.log(&event(1))?;
        Err(StoreError::Db("simulated failure after two writes".into()))
    });
    assert!(result.is_err());
    assert!(!store.read(|r| r.has_account())?);
    assert_eq!(store.read(|r| r.security_events(0, 10))?.1, 0);
    Ok(())
}

#[test]
fn security_log_is_newest_first_paged_and_bounded() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let store = Store::open(dir.path())?;
    store.write(|w| {
        for n in 0..(MAX_SECURITY_EVENTS as i64 + 25) {
            w.log(&event(n))?;
        }
        Ok::<_, StoreError>(())
    })?;
    let (page, total) = store.read(|r| r.security_events(0, 3))?;
    assert_eq!(total, MAX_SECURITY_EVENTS);
    let newest = MAX_SECURITY_EVENTS as i64 + 24;
    assert_eq!(
        page.iter().map(|e| e.time).collect::<Vec<_>>(),
        [newest, newest - 1, newest - 2].map(UnixMillis)
    );
    let (last, _) = store.read(|r| r.security_events(MAX_SECURITY_EVENTS - 1, 10))?;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].time, UnixMillis(25), "the 25 oldest were dropped");
    Ok(())
}

#[test]
fn failures_never_push_other_events_out() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let store = Store::open(dir.path())?;
    let real = |n: i64| SecurityEvent {
        kind: SecurityEventKind::PasswordChanged,
        ..event(n)
    };
    store.write(|w| {
        for n in 0..3 {
            w.log_within(&real(n), 5)?;
        }
        // A flood of failures: they drop each other, not the three.
        for n in 3..100 {
            w.log_within(&event(n), 5)?;
        }
        Ok::<_, StoreError>(())
    })?;
    let (page, total) = store.read(|r| r.security_events(0, 10))?;
    assert_eq!(total, 5);
    assert_eq!(
        page.iter().map(|e| e.time.0).collect::<Vec<_>>(),
        [99, 98, 2, 1, 0]
    );
    // Other events still age out the oldest row, whatever it is.
    store.write(|w| {
        w.log_within(&real(100), 5)?;
        Ok::<_, StoreError>(())
    })?;
    let (page, _) = store.read(|r| r.security_events(0, 10))?;
    assert_eq!(
        page.iter().map(|e| e.time.0).collect::<Vec<_>>(),
        [100, 99, 98, 2, 1]
    );
    Ok(())
}

#[test]
fn a_row_counts_coalesced_failures() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let store = Store::open(dir.path())?;
    let seq = store.write(|w| {
        let seq = w.log_within(&event(1), 10)?;
        for _ in 0..4812 {
            assert!(w.coalesce_into(seq)?);
        }
        assert!(!w.coalesce_into(seq + 1)?, "no such row");
        Ok::<_, StoreError>(seq)
    })?;
    let (page, total) = store.read(|r| r.security_events(0, 10))?;
    assert_eq!((total, seq), (1, 1));
    assert_eq!(page[0].coalesced, 4812);
    Ok(())
}

#[test]
fn settings_default_until_saved() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let store = Store::open(dir.path())?;
    let basic: BasicSettings = store.read(|r| r.settings(settings::BASIC))?;
    assert_eq!(basic, BasicSettings::default());
    let changed = BasicSettings {
        vto_no: "8002".into(),
        ..BasicSettings::default()
    };
    store.write(|w| w.put_settings(settings::BASIC, &changed))?;
    assert_eq!(store.read(|r| r.settings(settings::BASIC))?, changed);
    Ok(())
}

#[test]
fn sessions_remove_by_predicate_and_wipe() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let store = Store::open(dir.path())?;
    let rec = |user: &str| SessionRecord {
        user: user.into(),
        created: UnixMillis(1),
        last_seen: UnixMillis(1),
        ip: "127.0.0.1".into(),
    };
    store.write(|w| {
        w.put_session(&[1; 32], &rec("admin"))?;
        w.put_session(&[2; 32], &rec("admin"))?;
        w.put_session(&[3; 32], &rec("other"))?;
        w.put_account("admin", &account())?;
        w.log(&event(1))
    })?;
    let removed =
        store.write(|w| w.remove_sessions(|id, s| s.user == "admin" && *id != [1; 32]))?;
    assert_eq!(removed, 1);
    assert!(store.read(|r| r.session(&[1; 32]))?.is_some());
    assert!(store.read(|r| r.session(&[2; 32]))?.is_none());
    store.write(|w| w.wipe())?;
    assert!(!store.read(|r| r.has_account())?);
    assert!(store.read(|r| r.sessions())?.is_empty());
    assert_eq!(store.read(|r| r.security_events(0, 10))?.1, 0);
    Ok(())
}

/// Rows in the table named `name` (whatever its types).
fn rows(store: &Store, name: &str) -> u64 {
    let txn = store.db.begin_read().unwrap_or_else(|e| panic!("{e}"));
    let table = txn
        .open_untyped_table(redb::TableDefinition::<&str, &[u8]>::new(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    table.len().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_wipe_empties_every_table_but_the_clock() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let store = Store::open(dir.path())?;
    store.write(|w| {
        for t in [
            ACCOUNTS,
            SETTINGS,
            SIP_ROOMS,
            SIP_BINDINGS,
            SIP_VTS,
            SIP_VTO,
            CARDS,
            ACCESS_CODES,
        ] {
            w.put(t, "x", &"a row")?;
        }
        w.put(SESSIONS, [7; 32], &"a row")?;
        for t in [SECURITY_LOG, CALL_LOG, PUBLISH_LOG, UNLOCK_LOG, ALARM_LOG] {
            w.append(t, &"a row", 10)?;
        }
        w.put_settings(settings::CLOCK, &ClockRecord { offset_ms: 42 })
    })?;
    // Every table of the list has a row: a table added to the list without
    // one here fails this test.
    for t in ALL_TABLES {
        assert!(rows(&store, t.name()) > 0, "{} has no row", t.name());
    }
    // And the list is every table there is (besides `meta`).
    let txn = store.db.begin_read()?;
    let names: Vec<String> = txn
        .list_tables()?
        .map(|t| redb::TableHandle::name(&t).to_string())
        .collect();
    drop(txn);
    for name in &names {
        assert!(
            name == redb::TableHandle::name(&META) || ALL_TABLES.iter().any(|t| t.name() == name),
            "{name} is not in ALL_TABLES"
        );
    }
    store.write(|w| w.wipe())?;
    for t in ALL_TABLES {
        let left = rows(&store, t.name());
        if t.name() == redb::TableHandle::name(&SETTINGS) {
            assert_eq!(left, 1, "only the device's clock stays");
        } else {
            assert_eq!(left, 0, "{} not emptied", t.name());
        }
    }
    let clock: ClockRecord = store.read(|r| r.settings(settings::CLOCK))?;
    assert_eq!(clock.offset_ms, 42);
    Ok(())
}

#[test]
fn the_serial_number_is_drawn_once_and_survives_a_wipe() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    let first = {
        let store = Store::open(dir.path())?;
        let serial = store.serial()?;
        store.write(|w| w.wipe())?;
        assert_eq!(store.serial()?, serial, "factory reset keeps the serial");
        serial
    };
    assert_eq!(first.len(), 13);
    assert!(first
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    assert_eq!(Store::open(dir.path())?.serial()?, first, "reopened");
    let other = tempfile::tempdir().map_err(|e| StoreError::Io("tmp".into(), e))?;
    assert_ne!(Store::open(other.path())?.serial()?, first);
    assert_eq!(serial_text(0), "0000000000000");
    assert_eq!(serial_text(u64::MAX), "3W5E11264SGSF");
    Ok(())
}
