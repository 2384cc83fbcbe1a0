//! Power loss: `vto` is killed with SIGKILL at random moments (100 times by
//! default) while a client makes changes: Local Setting > Basic saves,
//! rooms added, cards issued, unlocks. After every restart the database
//! opens and every change the client saw confirmed is there.
//!
//! `VTO_POWER_LOSS_ROUNDS` sets the number of kills, `VTO_POWER_LOSS_SEED`
//! replays a run (the seed is printed).

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use tests::{room, Client, Vto, STRONG};

/// What the client saw the device confirm.
#[derive(Default, Debug, Clone)]
struct Confirmed {
    /// VTO No. of the last confirmed save, and one sent but not answered
    /// (it may or may not have been written when the power went).
    vto_no: Option<String>,
    vto_no_in_flight: Option<String>,
    rooms: Vec<String>,
    /// A room added without an answer: may or may not be there.
    room_in_flight: Option<String>,
    cards: Vec<(String, String)>,
    /// The most unlock records the client read back.
    unlock_rows_seen: u64,
    /// Unlock attempts the device answered.
    unlocks_answered: u64,
    changes: u64,
}

/// A server function call that reports a dead device instead of panicking.
async fn call(c: &Client, name: &str, body: &Value) -> Option<(StatusCode, Value)> {
    let res = c
        .request(Method::POST, &format!("/api/{name}"))
        .header(header::ORIGIN, &c.base)
        .json(body)
        .send()
        .await
        .ok()?;
    let status = res.status();
    let text = res.text().await.ok()?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

async fn must(c: &Client, name: &str, body: Value) -> Value {
    let (s, b) = c.call(name, body).await;
    assert_eq!(s, StatusCode::OK, "{name}: {b}");
    b
}

/// xorshift64*: enough to pick moments, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Changes, one after the other, until the device dies.
async fn work(c: Client, seen: Arc<Mutex<Confirmed>>, round: usize) {
    let note = |f: &dyn Fn(&mut Confirmed)| f(&mut seen.lock().unwrap());
    for step in 0u32.. {
        // Local Setting > Basic: a new VTO No.
        let vto_no = format!("{}", 10_000 + round * 100 + step as usize % 100);
        let Some((s, mut basic)) = call(&c, "basic_settings", &json!({})).await else {
            return;
        };
        assert_eq!(s, StatusCode::OK, "{basic}");
        basic["vto_no"] = json!(vto_no);
        note(&|k| k.vto_no_in_flight = Some(vto_no.clone()));
        let Some((s, b)) = call(&c, "save_basic_settings", &json!({"settings": basic})).await
        else {
            return;
        };
        assert_eq!(s, StatusCode::OK, "{b}");
        note(&|k| {
            k.vto_no = Some(vto_no.clone());
            k.vto_no_in_flight = None;
            k.changes += 1;
        });

        // A room (at most 400 of the 512).
        let count = seen.lock().unwrap().rooms.len();
        if count < 400 {
            let no = format!("{}", 1000 + count);
            note(&|k| k.room_in_flight = Some(no.clone()));
            let Some((s, b)) = call(
                &c,
                "add_room",
                &json!({"room": room(&no), "password": null}),
            )
            .await
            else {
                return;
            };
            assert_eq!(s, StatusCode::OK, "{b}");
            note(&|k| {
                k.rooms.push(no.clone());
                k.room_in_flight = None;
                k.changes += 1;
            });
        }

        // An unlock (opened or refused: a record either way), read back.
        let Some((s, b)) = call(&c, "unlock", &json!({"via": "Ui"})).await else {
            return;
        };
        assert_eq!(s, StatusCode::OK, "{b}");
        note(&|k| k.unlocks_answered += 1);
        let Some((s, log)) = call(&c, "unlock_log", &json!({"offset": 0, "filter": {}})).await
        else {
            return;
        };
        assert_eq!(s, StatusCode::OK, "{log}");
        let total = log["total"].as_u64().unwrap_or(0);
        note(&|k| k.unlock_rows_seen = k.unlock_rows_seen.max(total));

        // A card issued to a room: captured at the reader, named, sent.
        // A room holds at most 100 cards: each takes 40 confirmed ones and
        // what a round left in flight (one at most), the next room then.
        let number = format!("{:06X}", round * 1000 + step as usize);
        let card_room = {
            let k = seen.lock().unwrap();
            let slot = (k.cards.len() + round) / 40;
            format!("{}", 1000 + slot.min(k.rooms.len().saturating_sub(1)))
        };
        let steps = [
            ("issue_card", json!({"room_no": card_room})),
            ("present_card", json!({"number": number})),
            (
                "name_card",
                json!({"room_no": card_room, "number": number, "name": "Key"}),
            ),
            ("confirm_send_card", json!({"room_no": card_room})),
        ];
        for (name, body) in steps {
            let Some((s, b)) = call(&c, name, &body).await else {
                return;
            };
            assert_eq!(s, StatusCode::OK, "{name}: {b}");
        }
        note(&|k| {
            k.cards.push((card_room.clone(), number.clone()));
            k.changes += 1;
        });
    }
}

/// Everything confirmed is on the restarted device.
async fn check(c: &Client, seen: &Confirmed, round: usize) {
    let basic = must(c, "basic_settings", json!({})).await;
    if let Some(want) = &seen.vto_no {
        let now = basic["vto_no"].as_str().unwrap_or_default();
        assert!(
            now == want || seen.vto_no_in_flight.as_deref() == Some(now),
            "round {round}: VTO No. {now}, confirmed {want} ({seen:?})"
        );
    }
    let rooms = must(c, "rooms", json!({})).await;
    let have: Vec<&str> = rooms["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["room"]["room_no"].as_str())
        .collect();
    for no in &seen.rooms {
        assert!(have.contains(&no.as_str()), "round {round}: room {no} lost");
    }
    let extra = have.len() - seen.rooms.len();
    assert!(
        extra <= usize::from(seen.room_in_flight.is_some()),
        "round {round}: {extra} rooms nobody added"
    );
    let mut card_rooms: Vec<&str> = seen.cards.iter().map(|(r, _)| r.as_str()).collect();
    card_rooms.dedup();
    for no in card_rooms {
        let page = must(c, "room_cards", json!({"room_no": no})).await;
        let have: Vec<&str> = page["cards"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["number"].as_str())
            .collect();
        for (_, number) in seen.cards.iter().filter(|(r, _)| r == no) {
            assert!(
                have.contains(&number.as_str()),
                "round {round}: card {number} of room {no} lost"
            );
        }
    }
    let log = must(c, "unlock_log", json!({"offset": 0, "filter": {}})).await;
    let total = log["total"].as_u64().unwrap_or(0);
    assert!(
        total >= seen.unlock_rows_seen,
        "round {round}: {total} unlock records, {} were read back",
        seen.unlock_rows_seen
    );
}

async fn login(vto: &Vto) -> Client {
    let c = vto.client();
    let (s, b) = c.login(STRONG).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    c
}

#[tokio::test]
async fn every_confirmed_change_survives_sigkill() {
    let rounds: usize = std::env::var("VTO_POWER_LOSS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100);
    let seed = std::env::var("VTO_POWER_LOSS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("power loss: {rounds} rounds, VTO_POWER_LOSS_SEED={seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("data");

    // The device as its owner set it up: a room for the cards, and unlock
    // records kept beyond what the run writes.
    let mut vto = Vto::start_in(&dir, &[]).await.expect("vto starts");
    let c = vto.ready().await;
    let mut access = must(&c, "access_settings", json!({})).await;
    access["responding_interval_s"] = json!(1);
    access["unlock_period_s"] = json!(1);
    must(&c, "save_access_settings", json!({"settings": access})).await;
    must(
        &c,
        "save_unlock_log_settings",
        json!({"settings": {"keep": 10_000}}),
    )
    .await;
    vto.stop().await;

    let seen = Arc::new(Mutex::new(Confirmed::default()));
    let mut kills_during_write = 0;
    for round in 0..rounds {
        let mut vto = Vto::start_in(&dir, &[])
            .await
            .unwrap_or_else(|e| panic!("round {round}: the database does not open: {e}"));
        let c = login(&vto).await;
        // The worker is stopped: a copy is what it confirmed.
        let k = seen.lock().unwrap().clone();
        check(&c, &k, round).await;
        // What was in flight is settled now (there or not): what the device
        // holds becomes the truth the next round is checked against.
        let rooms = must(&c, "rooms", json!({})).await;
        let basic = must(&c, "basic_settings", json!({})).await;
        {
            let mut k = seen.lock().unwrap();
            k.rooms = rooms["rooms"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|r| r["room"]["room_no"].as_str().map(str::to_string))
                .collect();
            k.room_in_flight = None;
            k.vto_no = basic["vto_no"].as_str().map(str::to_string);
            k.vto_no_in_flight = None;
        }
        if round == 0 {
            must(
                &c,
                "add_room",
                json!({"room": room("1000"), "password": null}),
            )
            .await;
            seen.lock().unwrap().rooms.push("1000".into());
        }

        let worker = tokio::spawn(work(c, seen.clone(), round));
        // A random moment: 20 ms to 1.5 s into the work.
        let after = Duration::from_millis(20 + rng.next() % 1_480);
        tokio::time::sleep(after).await;
        if worker.is_finished() {
            // The worker stopped on its own: only an assertion does that.
            worker.await.expect("worker");
            panic!("round {round}: the worker ended before the kill");
        }
        vto.kill9().await;
        match tokio::time::timeout(Duration::from_secs(30), worker).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("round {round}: {e}"),
            Err(_) => panic!("round {round}: the worker hangs on a dead device"),
        }
        if seen.lock().unwrap().vto_no_in_flight.is_some() {
            kills_during_write += 1;
        }
    }
    // The last kill is checked too.
    let vto = Vto::start_in(&dir, &[]).await.expect("the database opens");
    let c = login(&vto).await;
    let k = seen.lock().unwrap().clone();
    check(&c, &k, rounds).await;
    let log = must(&c, "unlock_log", json!({"offset": 0, "filter": {}})).await;
    let total = log["total"].as_u64().unwrap_or(0);
    println!(
        "power loss: {rounds} kills, {} confirmed changes all kept, {} rooms, {} cards, \
         {} unlocks answered, {total} unlock records ({} read back before a kill), \
         {kills_during_write} kills during a settings save",
        k.changes,
        k.rooms.len(),
        k.cards.len(),
        k.unlocks_answered,
        k.unlock_rows_seen
    );
    assert!(
        k.changes >= rounds as u64,
        "too few changes to prove anything"
    );
}
