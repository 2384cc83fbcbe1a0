//! Cards and the keypad against the lock service on the simulated driver,
//! a real redb store and simulated time.

use std::{future::Future, sync::Arc, time::Duration};

use app::model::{access::UnlockRecord, card::Card, room::Room};

use super::*;
use crate::{
    clock::sim::SimClock,
    door::lock::driver::SimDriver,
    store::{
        tables::{RoomRecord, SIP_ROOMS, UNLOCK_LOG},
        Store, StoreError,
    },
};

const T0: UnixMillis = UnixMillis(1_800_000_000_000);

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    clock: Arc<SimClock>,
    access: AccessService,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}")));
    let clock = Arc::new(SimClock::at(T0));
    let settings = Arc::new(SettingsStore::new(store.clone(), clock.clone()));
    let lock = LockService::start(
        store.clone(),
        clock.clone(),
        Box::new(SimDriver::default()),
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    store
        .write(|w| {
            for room_no in ["9901", "9902"] {
                let room = Room {
                    room_no: room_no.into(),
                    ..Room::default()
                };
                w.put(
                    SIP_ROOMS,
                    room_no,
                    &RoomRecord {
                        room,
                        digests: vec![],
                    },
                )?;
            }
            let cards = [
                ("00AB12", "9901", false, false),
                ("77", "9901", true, false),
                ("666", "9902", false, true),
            ];
            for (number, room_no, main, lost) in cards {
                let card = Card {
                    number: number.into(),
                    room_no: room_no.into(),
                    name: "Anna".into(),
                    main,
                    lost,
                };
                w.put(CARDS, number, &card)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let access = AccessService::new(settings, lock, clock.clone());
    Fixture {
        _dir: dir,
        store,
        clock,
        access,
    }
}

impl Fixture {
    async fn card(&self, number: &str) -> CardOutcome {
        self.access
            .card(number)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits for `n` unlock records (written on a blocking thread), newest
    /// first.
    async fn records(&self, n: usize) -> Vec<UnlockRecord> {
        for _ in 0..400 {
            let (records, _) = self
                .store
                .read(|r| r.newest_first::<UnlockRecord>(UNLOCK_LOG, 0, 100))
                .unwrap_or_else(|e: StoreError| panic!("{e}"));
            if records.len() >= n {
                return records;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("fewer than {n} records");
    }

    fn stored(&self, number: &str) -> Option<Card> {
        self.store
            .read(|r| r.get::<&str, Card>(CARDS, number))
            .unwrap_or_else(|e: StoreError| panic!("{e}"))
    }
}

#[tokio::test]
async fn a_room_card_opens_unknown_and_lost_ones_are_refused_and_recorded() {
    let f = fixture().await;
    assert_eq!(f.card("00AB12").await, CardOutcome::Opened);
    assert_eq!(
        f.card("123").await,
        CardOutcome::Refused(Refusal::UnknownCard)
    );
    assert_eq!(f.card("666").await, CardOutcome::Refused(Refusal::LostCard));
    let records = f.records(3).await;
    let seen: Vec<_> = records
        .iter()
        .map(|r| (r.who.as_str(), r.refused))
        .collect();
    assert_eq!(
        seen,
        [
            ("9902 Anna (card 666)", Some(Refusal::LostCard)),
            ("card 123", Some(Refusal::UnknownCard)),
            ("9901 Anna (card 00AB12)", None),
        ]
    );
    assert!(records.iter().all(|r| r.method == UnlockMethod::Card));
}

// Paused: the lock's Unlock Responding Interval runs on tokio's clock.
#[tokio::test(start_paused = true)]
async fn a_main_card_issues_the_next_unknown_card_to_its_room() {
    let f = fixture().await;
    assert_eq!(f.card("77").await, CardOutcome::Opened);
    assert_eq!(
        f.card("C0FFEE").await,
        CardOutcome::IssuedByMainCard("9901".into())
    );
    let issued = f.stored("C0FFEE").unwrap_or_else(|| panic!("not issued"));
    assert_eq!(issued.room_no, "9901");
    assert!(!issued.main && !issued.lost);
    // Once only: the card after is unknown again.
    assert_eq!(
        f.card("BEEF").await,
        CardOutcome::Refused(Refusal::UnknownCard)
    );
    // And only within the window.
    f.clock.advance_secs(3);
    tokio::time::advance(Duration::from_secs(3)).await;
    assert_eq!(f.card("77").await, CardOutcome::Opened);
    f.clock.advance_secs(i64::from(MAIN_CARD_SECS));
    assert_eq!(
        f.card("BEEF").await,
        CardOutcome::Refused(Refusal::UnknownCard)
    );
    assert_eq!(f.stored("BEEF"), None);
}

#[tokio::test]
async fn issue_card_captures_swipes_during_the_countdown_only() {
    let f = fixture().await;
    let started = f.access.start_issue("9901");
    assert_eq!(started.secs_left, ISSUE_SECS);
    assert_eq!(f.card("NEW1").await, CardOutcome::Captured);
    assert_eq!(f.card("NEW1").await, CardOutcome::Captured);
    // Another room's card is not taken, and does not open.
    assert_eq!(f.card("666").await, CardOutcome::Captured);
    let now = f
        .access
        .issuing("9901")
        .unwrap_or_else(|| panic!("issuing"));
    let captured: Vec<_> = now.captured.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(captured, ["NEW1"]);
    assert_eq!(now.refused, ["666"]);
    assert!(f.access.issuing("9902").is_none());
    assert!(f.access.name_captured("9901", "NEW1", "Ben".into()));
    assert!(!f.access.name_captured("9901", "NOPE", "Ben".into()));
    // After the countdown a swipe is a swipe again.
    f.clock.advance_secs(i64::from(ISSUE_SECS));
    assert_eq!(f.access.issuing("9901").map(|i| i.secs_left), Some(0));
    assert_eq!(
        f.card("NEW2").await,
        CardOutcome::Refused(Refusal::UnknownCard)
    );
    let named = f.access.end_issue("9901");
    assert_eq!(named.len(), 1);
    assert_eq!(
        (named[0].number.as_str(), named[0].name.as_str()),
        ("NEW1", "Ben")
    );
    assert!(f.access.issuing("9901").is_none());
}

/// A device whose room 9901 has the access password 2468.
async fn with_password_2468() -> Fixture {
    let f = fixture().await;
    let hash = f.access.hash_password("2468".into()).await;
    let hash = hash.unwrap_or_else(|e| panic!("{e}"));
    f.store
        .write(|w| w.put(ACCESS_CODES, "9901", &AccessCodeRecord { hash }))
        .unwrap_or_else(|e: StoreError| panic!("{e}"));
    f
}

#[tokio::test]
async fn five_wrong_access_passwords_block_the_keypad() {
    let f = with_password_2468().await;
    let keypad = |room: &'static str, pw: &'static str| {
        let access = &f.access;
        async move {
            access
                .keypad(room, pw)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    assert_eq!(keypad("9901", "2468").await, None);
    // A room without a password never opens.
    assert_eq!(keypad("9902", "2468").await, Some(Refusal::WrongPassword));
    for _ in 0..4 {
        assert_eq!(keypad("9901", "1111").await, Some(Refusal::WrongPassword));
    }
    assert_eq!(keypad("9901", "2468").await, Some(Refusal::KeypadLocked));
    f.clock.advance_secs(299);
    assert_eq!(keypad("9901", "2468").await, Some(Refusal::KeypadLocked));
    f.clock.advance_secs(1);
    // The lock's own interval (real time here) may refuse; the keypad not.
    let after = keypad("9901", "2468").await;
    assert!(matches!(after, None | Some(Refusal::TooSoon)), "{after:?}");
    let records = f.records(9).await;
    assert_eq!(
        records.last().map(|r| r.method),
        Some(UnlockMethod::Password)
    );
    assert_eq!(records.last().map(|r| r.who.as_str()), Some("9901"));
}

#[tokio::test]
async fn keypad_checks_dropped_mid_check_give_their_place_back() {
    let f = with_password_2468().await;
    let pending = || f.access.state().keypad.pending();
    // More checks than the keypad's limit, each dropped once it holds a
    // place (the simulator's request went away while the password hashed).
    for _ in 0..6 {
        let mut check = std::pin::pin!(f.access.keypad("9901", "1111"));
        let mut held = false;
        for _ in 0..10_000 {
            let polled =
                std::future::poll_fn(|cx| std::task::Poll::Ready(check.as_mut().poll(cx))).await;
            assert!(polled.is_pending(), "the check ended before it was dropped");
            if pending() > 0 {
                held = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(held, "the check never held a place");
    }
    assert_eq!(pending(), 0, "every dropped check gave its place back");
    let opened = f
        .access
        .keypad("9901", "2468")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(opened, None, "not busy, not locked: opened");
}
