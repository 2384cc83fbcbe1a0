//! Access cards and the keypad end to end through the device's API, on the
//! simulated door's card reader and keypad: Issue Card with its countdown,
//! naming, Confirm Send Card; a card opens, a lost or unknown one is
//! refused and recorded; a main card issues a new card at the door; a
//! number belongs to one room; the keypad's access password and its
//! lockout; cards in User Info; a deleted room takes its cards. And a
//! real reader path: a USB keyboard reader's input events through a FIFO.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{
    io::Write,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{room, Client, Vto};

async fn ok(c: &Client, name: &str, body: Value) -> Value {
    let (code, v) = c.call(name, body).await;
    assert_eq!(code, StatusCode::OK, "{name}: {v}");
    v
}

async fn invalid(c: &Client, name: &str, body: Value) -> String {
    let (code, v) = c.call(name, body).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {v}");
    v["Invalid"]["field"].as_str().unwrap().to_string()
}

/// Swipes a card on the simulator; the door's status after it.
async fn swipe(c: &Client, number: &str) -> Value {
    ok(c, "present_card", json!({"number": number})).await
}

/// How many unlock records match `filter`, once there are `want` (or
/// after 5 s): records are written just after the answer.
async fn log_total(c: &Client, filter: Value, want: u64) -> u64 {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let page = ok(c, "unlock_log", json!({"offset": 0, "filter": filter})).await;
        let total = page["total"].as_u64().unwrap();
        if total >= want || Instant::now() >= until {
            return total;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The Unlock Responding Interval set below: an opening is refused
/// (TooSoon) until this long after the last one.
const INTERVAL: Duration = Duration::from_secs(1);

/// Until the Unlock Responding Interval since the opening answered at
/// `opened` is over. The device took its time before answering, so its
/// interval ends before ours; asking earlier would add TooSoon records
/// (every attempt is one) that the counts below do not expect.
async fn interval_over(opened: Instant) {
    tokio::time::sleep_until((opened + INTERVAL).into()).await;
}

fn numbers(page: &Value) -> Vec<String> {
    page["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn cards_and_keypad_on_the_simulated_door() {
    let vto = Vto::start().await;
    let c = vto.ready().await;
    for no in ["9901", "9902"] {
        ok(&c, "add_room", json!({"room": room(no), "password": null})).await;
    }
    // Unlock Responding Interval 1 s, so attempts can follow each other.
    let mut settings = ok(&c, "access_settings", json!({})).await;
    settings["responding_interval_s"] = json!(1);
    settings["unlock_period_s"] = json!(1);
    ok(&c, "save_access_settings", json!({"settings": settings})).await;
    assert_eq!(
        invalid(&c, "room_cards", json!({"room_no": "9999"})).await,
        "room-no"
    );

    // Issue Card: the countdown captures the swipe; the dialog names it.
    let page = ok(&c, "issue_card", json!({"room_no": "9901"})).await;
    assert_eq!(page["issuing"]["secs_left"], 60, "{page}");
    assert_eq!(
        invalid(&c, "present_card", json!({"number": "00-AB"})).await,
        "sim-card"
    );
    let s = swipe(&c, "00ab12").await;
    assert_eq!(s["lock_open"], false, "a captured card does not open: {s}");
    let page = ok(&c, "room_cards", json!({"room_no": "9901"})).await;
    assert_eq!(page["issuing"]["captured"][0]["number"], "00AB12", "{page}");
    assert_eq!(
        invalid(
            &c,
            "name_card",
            json!({"room_no": "9901", "number": "00AB12", "name": " "})
        )
        .await,
        "card-name"
    );
    ok(
        &c,
        "name_card",
        json!({"room_no": "9901", "number": "00AB12", "name": "Ben"}),
    )
    .await;
    let page = ok(&c, "confirm_send_card", json!({"room_no": "9901"})).await;
    assert_eq!(numbers(&page), ["00AB12"]);
    assert_eq!(page["cards"][0]["name"], "Ben");
    assert_eq!(page["issuing"], Value::Null);

    // The card opens; recorded with its room and user.
    let s = swipe(&c, "00AB12").await;
    let opened = Instant::now();
    assert_eq!(s["lock_open"], true, "{s}");
    assert_eq!(s["last"]["method"], "Card");
    assert_eq!(s["last"]["who"], "9901 Ben (card 00AB12)");

    // Lost: refused and recorded.
    let change = |change: Value| json!({"room_no": "9901", "number": "00AB12", "change": change});
    let page = ok(&c, "change_card", change(json!({"SetLost": true}))).await;
    assert_eq!(page["cards"][0]["lost"], true);
    // Refused before it reaches the lock: no interval to wait for.
    let s = swipe(&c, "00AB12").await;
    assert_eq!(s["last"]["refused"], "LostCard", "{s}");
    ok(&c, "change_card", change(json!({"SetLost": false}))).await;
    // Unknown: refused.
    let s = swipe(&c, "1234").await;
    assert_eq!(s["last"]["refused"], "UnknownCard", "{s}");
    assert_eq!(s["last"]["who"], "card 1234");

    // The main card issues the next unknown card to its room at the door.
    ok(&c, "change_card", change(json!({"SetMain": true}))).await;
    interval_over(opened).await;
    let s = swipe(&c, "00AB12").await;
    let opened = Instant::now();
    assert_eq!(s["last"]["refused"], Value::Null, "{s}");
    swipe(&c, "FEED").await;
    let page = ok(&c, "room_cards", json!({"room_no": "9901"})).await;
    assert_eq!(numbers(&page), ["00AB12", "FEED"]);
    let log = ok(&c, "security_log", json!({"offset": 0})).await;
    assert!(
        log.to_string()
            .contains("issued at the door with the main card"),
        "{log}"
    );

    // A number belongs to one room: another room's countdown leaves it.
    ok(&c, "issue_card", json!({"room_no": "9902"})).await;
    swipe(&c, "FEED").await;
    let page = ok(&c, "room_cards", json!({"room_no": "9902"})).await;
    assert_eq!(page["issuing"]["refused"], json!(["FEED"]), "{page}");
    let page = ok(&c, "confirm_send_card", json!({"room_no": "9902"})).await;
    assert_eq!(numbers(&page), Vec::<String>::new());

    // Modify and Delete.
    let page = ok(
        &c,
        "change_card",
        json!({"room_no": "9901", "number": "FEED", "change": {"Rename": "Cleaner"}}),
    )
    .await;
    assert_eq!(page["cards"][1]["name"], "Cleaner");
    let page = ok(
        &c,
        "change_card",
        json!({"room_no": "9901", "number": "FEED", "change": "Delete"}),
    )
    .await;
    assert_eq!(numbers(&page), ["00AB12"]);
    assert_eq!(
        invalid(
            &c,
            "change_card",
            json!({"room_no": "9902", "number": "00AB12", "change": "Delete"})
        )
        .await,
        "card",
        "not a card of that room"
    );

    // The keypad: an access password (4 to 8 digits, never shown).
    assert_eq!(
        invalid(
            &c,
            "set_access_password",
            json!({"room_no": "9901", "password": "12a4"})
        )
        .await,
        "access-password"
    );
    let page = ok(
        &c,
        "set_access_password",
        json!({"room_no": "9901", "password": "2468"}),
    )
    .await;
    assert_eq!(page["password_set"], true);
    assert!(!page.to_string().contains("2468"));
    interval_over(opened).await;
    let s = ok(
        &c,
        "enter_password",
        json!({"room_no": "9901", "password": "2468"}),
    )
    .await;
    assert_eq!(s["last"]["method"], "Password");
    assert_eq!(s["last"]["refused"], Value::Null, "{s}");
    // 5 wrong ones block the keypad, even for the right one.
    for _ in 0..5 {
        let s = ok(
            &c,
            "enter_password",
            json!({"room_no": "9901", "password": "1111"}),
        )
        .await;
        assert_eq!(s["last"]["refused"], "WrongPassword", "{s}");
    }
    let s = ok(
        &c,
        "enter_password",
        json!({"room_no": "9901", "password": "2468"}),
    )
    .await;
    assert_eq!(s["last"]["refused"], "KeypadLocked", "{s}");

    // Every attempt is in the log (written just after each answer).
    assert_eq!(log_total(&c, json!({"method": "Password"}), 7).await, 7);
    assert_eq!(log_total(&c, json!({"method": "Card"}), 4).await, 4);

    // User Info carries the cards, never the access passwords.
    let file = ok(&c, "export_user_info", json!({})).await;
    assert_eq!(file["cards"][0]["number"], "00AB12", "{file}");
    assert_eq!(file["cards"][0]["main"], true);
    let text = file.to_string();
    assert!(!text.contains("2468") && !text.contains("argon2"), "{text}");
    // A card of a room not in the file: refused, nothing changes.
    let mut bad = file.clone();
    bad["cards"][0]["room_no"] = json!("9903");
    assert_eq!(
        invalid(&c, "import_user_info", json!({"file": bad.to_string()})).await,
        "import-user"
    );
    let mut renamed = file.clone();
    renamed["cards"][0]["name"] = json!("Benjamin");
    ok(&c, "import_user_info", json!({"file": renamed.to_string()})).await;
    let page = ok(&c, "room_cards", json!({"room_no": "9901"})).await;
    assert_eq!(page["cards"][0]["name"], "Benjamin");
    assert_eq!(page["password_set"], true, "a room that stays keeps it");

    // A deleted room takes its cards along.
    ok(&c, "delete_room", json!({"room_no": "9901"})).await;
    // An unknown card is refused before it reaches the lock.
    let s = swipe(&c, "00AB12").await;
    assert_eq!(s["last"]["refused"], "UnknownCard", "{s}");
    assert!(!vto.logs().contains("2468"), "never logged");
}

/// One `struct input_event` as a 64-bit Linux kernel writes it.
fn event(kind: u16, code: u16, value: i32) -> Vec<u8> {
    let mut e = vec![0u8; 16];
    e.extend(kind.to_ne_bytes());
    e.extend(code.to_ne_bytes());
    e.extend(value.to_ne_bytes());
    e
}

/// What a keyboard reader sends for a card: each digit's key down and up,
/// then Enter.
fn typed(digits: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for d in digits.chars() {
        let code = match d {
            '0' => 11,
            d => d.to_digit(10).unwrap() as u16 + 1,
        };
        out.extend(event(1, code, 1));
        out.extend(event(0, 0, 0));
        out.extend(event(1, code, 0));
    }
    out.extend(event(1, 28, 1));
    out.extend(event(1, 28, 0));
    out
}

#[tokio::test]
async fn a_keyboard_card_reader_feeds_the_door() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("reader");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let vto = Vto::start_with(&["--card-reader", fifo.to_str().unwrap()]).await;
    let c = vto.ready().await;
    let path = fifo.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let mut w = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        w.write_all(&typed("0004915263")).unwrap();
        w.flush().unwrap();
        // Kept open until the device has read the card: then it sees the
        // reader go.
        w
    })
    .await
    .unwrap();
    let cr = &c;
    let page = tests::eventually("the card read from the FIFO", || async move {
        let page = ok(cr, "unlock_log", json!({"offset": 0})).await;
        (page["total"] != 0).then_some(page)
    })
    .await;
    drop(reader);
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["records"][0]["method"], "Card");
    assert_eq!(page["records"][0]["who"], "card 0004915263");
    assert_eq!(page["records"][0]["refused"], "UnknownCard");
}
