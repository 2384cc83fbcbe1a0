use super::*;
use crate::store::tables::{ClockRecord, SESSIONS, SETTINGS, SIP_ROOMS, UNLOCK_LOG};

const PASS: &str = "a long passphrase";

/// A store with a row in tables of each key type.
fn filled(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).unwrap();
    store
        .write(|w| {
            w.put(SIP_ROOMS, "9901", &"room 9901")?;
            w.put(SESSIONS, [7u8; 32], &"a session")?;
            w.append(UNLOCK_LOG, &"an unlock", 10)?;
            w.put(SETTINGS, "mail", &"smtp secret")?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    store
}

#[test]
fn a_backup_restores_every_table_and_keeps_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(dir.path());
    let before = store.dump_all().unwrap();
    let file = make(&store, PASS).unwrap();
    // What the file holds is sealed: no secret in the clear.
    assert!(!file.windows(11).any(|w| w == b"smtp secret"));

    // Another state: a factory reset, a new room, and the device's clock.
    let clock = ClockRecord { offset_ms: 5_000 };
    store
        .write(|w| {
            w.wipe()?;
            w.put(SIP_ROOMS, "9902", &"room 9902")?;
            w.put_settings(crate::store::settings::CLOCK, &clock)?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    restore(&store, &file, PASS).unwrap();
    let (schema, after) = store.dump_all().unwrap();
    assert_eq!(schema, before.0);
    for (name, rows) in &before.1 {
        let now = &after.iter().find(|(n, _)| n == name).unwrap().1;
        if name == "settings" {
            // The clock is the device's own, not the backup's.
            assert!(now.iter().any(|(k, _)| k == b"clock"), "{now:?}");
            let without: Vec<_> = now.iter().filter(|(k, _)| k != b"clock").collect();
            let was: Vec<_> = rows.iter().filter(|(k, _)| k != b"clock").collect();
            assert_eq!(without, was);
        } else {
            assert_eq!(now, rows, "{name}");
        }
    }
    // Survives a reopen.
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    let rooms = store.dump_all().unwrap().1;
    let rooms = &rooms.iter().find(|(n, _)| n == "sip_rooms").unwrap().1;
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].0, b"9901");
}

#[test]
fn a_wrong_passphrase_or_a_truncated_file_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(dir.path());
    let file = make(&store, PASS).unwrap();
    store
        .write(|w| w.put(SIP_ROOMS, "9902", &"room 9902"))
        .unwrap();
    let before = store.dump_all().unwrap();
    for (bytes, pass) in [
        (&file[..], "another passphrase"),
        (&file[..file.len() - 1], PASS),
        (&file[..file.len() / 2], PASS),
        (&b"VTOBAK\r\n"[..], PASS),
    ] {
        assert!(restore(&store, bytes, pass).is_err());
        assert_eq!(store.dump_all().unwrap(), before);
    }
}

#[test]
fn tables_of_the_wrong_shape_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled(dir.path());
    let before = store.dump_all().unwrap();
    let (schema, mut tables) = before.clone();
    // A session key that is not 32 bytes: refused, not a panic.
    let sessions = tables.iter_mut().find(|(n, _)| n == "sessions").unwrap();
    sessions.1.push((vec![1, 2, 3], vec![]));
    assert!(store.replace_all(schema, &tables).is_err());
    assert_eq!(store.dump_all().unwrap(), before);
    // A room number that is not UTF-8.
    let (_, mut tables) = before.clone();
    let rooms = tables.iter_mut().find(|(n, _)| n == "sip_rooms").unwrap();
    rooms.1.push((vec![0xff, 0xfe], vec![]));
    assert!(store.replace_all(schema, &tables).is_err());
    // Another schema, a table missing, an unknown table.
    assert!(store.replace_all(schema + 1, &before.1).is_err());
    assert!(store.replace_all(schema, &before.1[1..]).is_err());
    let mut extra = before.1.clone();
    extra.push(("nope".into(), vec![]));
    assert!(store.replace_all(schema, &extra).is_err());
    assert_eq!(store.dump_all().unwrap(), before);
}
