//! Roles at the Dahua front doors (issue 20), against the real binary: a
//! Viewer is refused the door, the snapshot and the events over the HTTP
//! API and DHIP, an Operator is not; an event stream shows in Online
//! Users and ending it there closes it.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::json;
use tests::{
    dahua::{run, PyClient},
    dhip::DhipClient,
    eventually, Client, Vto,
};

const PW: &str = "Gate-Keeper9";

async fn add(admin: &Client, user: &str, role: &str) {
    tests::add_user(admin, user, PW, role).await;
}

/// The Online Users key of `user`'s connection through `door`, once listed.
async fn online_key(admin: &Client, user: &str, door: &str) -> serde_json::Value {
    eventually("the connection in Online Users", || async move {
        let (_, page) = admin.call("online_users", json!({})).await;
        page["entries"]
            .as_array()?
            .iter()
            .find(|e| e["user"] == user && e["door"] == door)
            .map(|e| e["key"].clone())
    })
    .await
}

#[tokio::test]
async fn a_viewer_is_refused_the_door_everywhere_and_an_operator_is_not() {
    let vto = Vto::start().await;
    let admin = vto.ready().await;
    add(&admin, "viewer", "Viewer").await;
    add(&admin, "op", "Operator").await;
    let base = vto.url.clone();

    // HTTP API: the identity for anyone, the door and pictures not for a
    // Viewer.
    let who = run("aiodahua", "identity", &base, "viewer", PW).await;
    assert_eq!(who["device_type"], "VTO-vto", "{who}");
    let no = run("aiodahua", "open", &base, "viewer", PW).await;
    assert!(no["error"].is_string(), "{no}");
    assert!(no["message"].as_str().unwrap().contains("403"), "{no}");
    let no = run("amcrest", "snapshot", &base, "viewer", PW).await;
    assert!(no["error"].is_string(), "{no}");
    let yes = run("aiodahua", "open", &base, "op", PW).await;
    assert!(yes["open"].is_object(), "{yes}");

    // DHIP: the Viewer logs in, but openDoor and attach answer false.
    let addr = vto.dhip.unwrap();
    let mut v = DhipClient::connect(addr).await;
    assert_eq!(v.login("viewer", PW).await["result"], true);
    let inst = v
        .call(
            "accessControl.factory.instance",
            json!({"channel": 0}),
            None,
        )
        .await;
    let object = inst["result"].as_u64();
    let open = v
        .call("accessControl.openDoor", json!({"DoorIndex": 0}), object)
        .await;
    assert_eq!(open["result"], false, "{open}");
    let attach = v
        .call("eventManager.attach", json!({"codes": ["All"]}), None)
        .await;
    assert_eq!(attach["result"], false, "{attach}");
    // Only the Operator's opening is in the log.
    let log = tests::unlock_log_when(&admin, json!({}), |l| l["total"] != 0).await;
    assert_eq!(log["total"], 1, "{log}");
    assert_eq!(log["records"][0]["who"], "op", "{log}");

    // The Operator's event stream is listed in Online Users; End closes it.
    let mut stream = PyClient::spawn("aiodahua", "events", &base, "op", PW, 1);
    assert_eq!(stream.next(30).await, Some(json!({"attaching": true})));
    let key = online_key(&admin, "op", "HTTP API event stream").await;
    let (code, body) = admin.call("end_online", json!({"key": key})).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let ended = stream
        .next(30)
        .await
        .expect("the client says why it stopped");
    assert_eq!(ended["error"], "stream ended", "{ended}");
    // And the DHIP session of the Viewer too.
    let key = online_key(&admin, "viewer", "DHIP").await;
    let (code, _) = admin.call("end_online", json!({"key": key})).await;
    assert_eq!(code, StatusCode::OK);
    assert!(v.recv(10).await.is_none(), "the DHIP connection is closed");
}
