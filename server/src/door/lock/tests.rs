//! The lock service end to end on the simulated driver, with a real redb
//! store on disk and tokio's paused clock, so periods are exact.

use std::{sync::Arc, time::Duration};

use app::model::access::{AlarmKind, ContactType};
use tokio::time::Instant;

use super::{controller::tests::settings, *};
use crate::{
    clock::sim::SimClock,
    metrics::Labels,
    store::{tables::SECURITY_LOG, Writer},
};

const T0: UnixMillis = UnixMillis(1_800_000_000_000);

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    lock: Arc<LockService>,
    sim: Simulator,
}

async fn fixture(settings: AccessSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
    store
        .write(|w: &Writer| w.put_settings(crate::store::settings::ACCESS, &settings))
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    let sim = Simulator::default();
    let lock = LockService::start(
        store.clone(),
        Arc::new(SimClock::at(T0)),
        Box::new(driver::SimDriver::new(sim.clone())),
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    Fixture {
        _dir: dir,
        store,
        lock,
        sim,
    }
}

fn remote() -> Attempt {
    Attempt {
        method: UnlockMethod::Remote,
        who: "admin".into(),
        source: "192.168.1.20".into(),
    }
}

impl Fixture {
    /// Waits (real time: the writer runs on a blocking thread) until `n`
    /// records are in the table; newest first.
    async fn records<T: serde::de::DeserializeOwned>(
        &self,
        table: redb::TableDefinition<'static, u64, &'static [u8]>,
        n: usize,
    ) -> Vec<T> {
        for _ in 0..400 {
            let (records, _) = self
                .store
                .read(|r| r.newest_first::<T>(table, 0, 100))
                .unwrap_or_else(|e: StoreError| panic!("{e}"));
            if records.len() >= n {
                return records;
            }
            tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5)))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        panic!("fewer than {n} records");
    }

    /// Lets the lock task run what is due now.
    async fn settle(&self) {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }
}

/// The relay's changes after the start's "locked", as (ms after `from`,
/// energized).
fn changes(sim: &Simulator, from: Instant) -> Vec<(u64, bool)> {
    sim.state()
        .relay_history
        .into_iter()
        .skip(1)
        .filter(|(t, _)| *t >= from)
        .map(|(t, e)| (u64::try_from((t - from).as_millis()).unwrap_or(u64::MAX), e))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn remote_unlock_opens_for_exactly_the_unlock_period() {
    let f = fixture(settings(1, 4, 30, false)).await;
    assert!(!f.sim.state().relay_energized, "locked at start (NO)");
    let at = crate::clock::monotonic();
    assert_eq!(f.lock.unlock(remote()).await, Ok(()));
    assert!(f.sim.state().relay_energized, "open once unlock answers");
    assert!(f.lock.status().lock_open);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(changes(&f.sim, at), vec![(0, true), (4_000, false)]);
    assert!(!f.lock.status().lock_open);
    let records: Vec<UnlockRecord> = f.records(UNLOCK_LOG, 1).await;
    assert_eq!(
        records,
        vec![UnlockRecord {
            time: T0,
            method: UnlockMethod::Remote,
            who: "admin".into(),
            source: "192.168.1.20".into(),
            refused: None,
            snapshot: None,
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn responding_interval_refuses_a_second_unlock_and_records_it() {
    let f = fixture(settings(10, 2, 30, false)).await;
    assert_eq!(f.lock.unlock(remote()).await, Ok(()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(f.lock.unlock(remote()).await, Err(Refusal::TooSoon));
    assert!(!f.sim.state().relay_energized);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(f.lock.unlock(remote()).await, Ok(()));
    let records: Vec<UnlockRecord> = f.records(UNLOCK_LOG, 3).await;
    let refused: Vec<_> = records.iter().map(|r| r.refused).collect();
    assert_eq!(refused, vec![None, Some(Refusal::TooSoon), None]);
    assert_eq!(f.lock.status().last.and_then(|l| l.refused), None);
}

#[tokio::test(start_paused = true)]
async fn nc_contact_holds_the_relay_while_locked() {
    let nc = AccessSettings {
        contact: ContactType::Nc,
        ..settings(1, 3, 30, false)
    };
    let f = fixture(nc).await;
    assert!(f.sim.state().relay_energized, "an NC lock is held");
    assert!(f.lock.status().relay_energized);
    let at = crate::clock::monotonic();
    assert_eq!(f.lock.unlock(remote()).await, Ok(()));
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(changes(&f.sim, at), vec![(0, false), (3_000, true)]);
    // Back to NO at once, without an unlock.
    f.lock
        .apply(settings(1, 3, 30, false))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.settle().await;
    assert!(!f.sim.state().relay_energized);
}

#[tokio::test(start_paused = true)]
async fn forced_door_and_door_open_too_long_are_recorded_and_shown() {
    let f = fixture(settings(1, 3, 20, false)).await;
    let seen = f.lock.status().version;
    f.lock
        .simulate(SimAction::OpenDoor)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The browser waiting on the status hears of it at once.
    let status = f.lock.changed(seen, Duration::from_secs(25)).await;
    assert!(status.door_open);
    let kinds: Vec<_> = status.alarms.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, vec![AlarmKind::ForcedDoor]);
    tokio::time::sleep(Duration::from_secs(21)).await;
    let kinds: Vec<_> = f.lock.status().alarms.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        vec![AlarmKind::ForcedDoor, AlarmKind::DoorOpenTooLong]
    );
    let alarms: Vec<AlarmRecord> = f.records(ALARM_LOG, 2).await;
    let kinds: Vec<_> = alarms.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        vec![AlarmKind::DoorOpenTooLong, AlarmKind::ForcedDoor]
    );
    // Closing keeps them shown; the next opening (by the button) clears them.
    f.lock
        .simulate(SimAction::CloseDoor)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.settle().await;
    assert_eq!(f.lock.status().alarms.len(), 2);
    f.lock
        .simulate(SimAction::ExitButton)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.lock
        .simulate(SimAction::OpenDoor)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.settle().await;
    let status = f.lock.status();
    assert!(status.lock_open && status.door_open);
    assert!(status.alarms.is_empty(), "{:?}", status.alarms);
}

#[tokio::test(start_paused = true)]
async fn exit_button_opens_and_is_recorded() {
    let f = fixture(settings(1, 2, 30, false)).await;
    let at = crate::clock::monotonic();
    f.lock
        .simulate(SimAction::ExitButton)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(changes(&f.sim, at), vec![(0, true), (2_000, false)]);
    let records: Vec<UnlockRecord> = f.records(UNLOCK_LOG, 1).await;
    assert_eq!(records[0].method, UnlockMethod::Button);
    assert_eq!(records[0].refused, None);
}

#[tokio::test(start_paused = true)]
async fn with_enable_the_lock_stays_open_until_the_door_closes() {
    let f = fixture(settings(1, 2, 600, true)).await;
    assert_eq!(f.lock.unlock(remote()).await, Ok(()));
    f.lock
        .simulate(SimAction::OpenDoor)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(f.sim.state().relay_energized, "held while the door is open");
    f.lock
        .simulate(SimAction::CloseDoor)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    f.settle().await;
    assert!(!f.sim.state().relay_energized);
}

#[tokio::test(start_paused = true)]
async fn stopping_locks_an_open_door() {
    let f = fixture(settings(1, 60, 30, false)).await;
    assert_eq!(f.lock.unlock(remote()).await, Ok(()));
    assert!(f.sim.state().relay_energized);
    f.lock.stop().await;
    assert!(!f.sim.state().relay_energized, "locked at stop");
    assert_eq!(f.lock.unlock(remote()).await, Err(Refusal::LockFault));
}

/// A wall clock that takes 2 ms to read: the lock task is slow between
/// driving the relay and showing it, so a caller answered too early would
/// see the old status.
struct SlowClock;

impl crate::clock::Clock for SlowClock {
    fn now(&self) -> app::model::time::UnixMillis {
        std::thread::sleep(Duration::from_millis(2));
        T0
    }
}

/// Whoever an unlock answered sees it in the status at once, and no
/// status ever shows the relay driven with the lock still shown closed
/// (on real threads: the task and the callers run in parallel).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_shows_each_step_whole() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
    store
        .write(|w: &Writer| {
            let s = settings(0, 1, 30, false);
            w.put_settings(crate::store::settings::ACCESS, &s)
        })
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    let lock = LockService::start(
        store,
        Arc::new(SlowClock),
        Box::new(driver::SimDriver::default()),
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let watching = lock.clone();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let finished = done.clone();
    let watcher = tokio::spawn(async move {
        let mut seen = 0;
        let mut torn = Vec::new();
        while !finished.load(std::sync::atomic::Ordering::SeqCst) {
            let s = watching.changed(seen, Duration::from_millis(50)).await;
            if s.relay_energized != s.lock_open {
                torn.push(s.clone());
            }
            seen = s.version;
        }
        torn
    });
    for _ in 0..20 {
        assert_eq!(lock.unlock(remote()).await, Ok(()));
        let s = lock.status();
        assert!(s.lock_open && s.relay_energized, "{s:?}");
        assert_eq!(s.last.map(|l| l.refused), Some(None));
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let torn = watcher.await.unwrap_or_else(|e| panic!("{e}"));
    assert!(torn.is_empty(), "{torn:?}");
}

fn unlock_record(who: &str) -> Record {
    Record::Unlock(UnlockRecord {
        time: T0,
        method: UnlockMethod::Remote,
        who: who.into(),
        source: String::new(),
        refused: None,
        snapshot: None,
    })
}

/// Newest first, once `table` holds `n` records (the writer runs on a
/// blocking thread).
async fn rows<T: serde::de::DeserializeOwned>(
    store: &Store,
    table: redb::TableDefinition<'static, u64, &'static [u8]>,
    n: usize,
) -> Vec<T> {
    for _ in 0..400 {
        let (records, _) = store
            .read(|r| r.newest_first::<T>(table, 0, 100))
            .unwrap_or_else(|e: StoreError| panic!("{e}"));
        if records.len() >= n {
            return records;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("fewer than {n} records");
}

/// A full record queue never blocks the lock: what does not fit is
/// counted, and the count is one row of the security log, written with
/// the next record that gets through.
#[tokio::test]
async fn a_full_record_queue_drops_and_counts_without_waiting() {
    static M: Metrics = Metrics::new();
    let (records, rx) = Records::new(2, &M);
    for i in 0..5 {
        // Returns at once: nobody reads yet.
        records.push(unlock_record(&format!("r{i}")));
    }
    assert_eq!(rx.dropped.load(Ordering::SeqCst), 3, "three did not fit");
    // Every attempt is in /metrics, the dropped ones too.
    let want: Labels = vec![("method", "remote".into()), ("result", "opened".into())];
    assert_eq!(M.unlocks.samples(), [(want, 5.0)]);

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
    let (tell, _) = broadcast::channel(8);
    let writer = tokio::spawn(record(
        store.clone(),
        Arc::new(SimClock::at(T0)),
        rx,
        Arc::new(AtomicU64::new(MAX_RECORDS)),
        tell,
    ));
    let written: Vec<UnlockRecord> = rows(&store, UNLOCK_LOG, 2).await;
    let who: Vec<&str> = written.iter().map(|r| r.who.as_str()).collect();
    assert_eq!(who, ["r1", "r0"], "the first two, in order");
    let events: Vec<SecurityEvent> = rows(&store, SECURITY_LOG, 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, SecurityEventKind::RecordsDropped);
    assert_eq!(
        events[0].detail.as_deref(),
        Some("3 unlock or alarm records dropped: more than 256 waited for the disk")
    );
    // Counted once: nothing more dropped, no second row.
    records.push(unlock_record("r5"));
    let written: Vec<UnlockRecord> = rows(&store, UNLOCK_LOG, 3).await;
    assert_eq!(written[0].who, "r5");
    let events: Vec<SecurityEvent> = rows(&store, SECURITY_LOG, 1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    drop(records);
    writer.await.unwrap_or_else(|e| panic!("{e}"));
}
