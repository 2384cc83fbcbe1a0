//! IPC Setting through the real binary, with a real RTSP camera
//! (GStreamer) at the Dahua address the device builds: add, relay (snapshot
//! and status), modify, Export Config without passwords, a bad Import
//! Config changes nothing, a good one replaces the list, delete, restart.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{
    jpeg_size,
    onvif::OnvifCamera,
    rtsp::{Auth, Mode, RtspCamera, PASSWORD, USER},
    Client, Vto,
};

fn camera_json(name: &str, port: u16) -> Value {
    json!({
        "name": name, "ip": "127.0.0.1", "user": USER, "port": port,
        "protocol": "Local", "stream": "Main", "channel": 1, "device_type": "Ipc"
    })
}

async fn snapshot(c: &Client, source: &str) -> (StatusCode, Option<(u16, u16)>) {
    let res = c.get(&format!("/snapshot/{source}.jpg")).await;
    let status = res.status();
    (status, jpeg_size(&res.bytes().await.unwrap()))
}

#[tokio::test]
async fn cameras_are_added_relayed_exported_imported_and_deleted() {
    let camera = RtspCamera::start(Mode::AudioVideo, Some(Auth::Digest)).await;
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let (code, page) = c.call("ipc_list", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(page["ipcs"], json!([]));

    // Bad fields are named; nothing is added.
    let mut bad = camera_json("Gate", camera.port);
    bad["ip"] = json!("not-an-ip");
    let (code, body) = c
        .call(
            "save_ipc",
            json!({"id": null, "ipc": bad, "password": "Keep"}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Invalid"]["field"], "ipc-ip");

    let (code, page) = c
        .call(
            "save_ipc",
            json!({"id": null, "ipc": camera_json("Gate", camera.port), "password": {"Set": PASSWORD}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let id = page["ipcs"][0]["id"].as_u64().unwrap();
    assert_eq!(page["ipcs"][0]["password_set"], true);
    assert!(!page.to_string().contains(PASSWORD));

    // Relayed at once: its stream and its sub stream.
    assert_eq!(
        snapshot(&c, &format!("ipc-{id}")).await,
        (StatusCode::OK, Some((640, 480)))
    );
    assert_eq!(
        snapshot(&c, &format!("ipc-{id}-sub")).await,
        (StatusCode::OK, Some((640, 480)))
    );
    c.wait_camera(&format!("ipc-{id}"), "Live").await;

    // Modify keeps the password when none is typed.
    let (code, page) = c
        .call(
            "save_ipc",
            json!({"id": id, "ipc": camera_json("Front gate", camera.port), "password": "Keep"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(page["ipcs"][0]["ipc"]["name"], "Front gate");
    assert_eq!(snapshot(&c, &format!("ipc-{id}")).await.1, Some((640, 480)));

    // Export Config: the list, no password.
    let (code, file) = c.call("export_ipcs", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(file["format"], "vto-ipc-config");
    assert!(!file.to_string().contains(PASSWORD));
    assert!(!file.to_string().contains("password"));

    // A bad file changes nothing.
    let mut broken = file.clone();
    broken["ipcs"][0]["channel"] = json!(0);
    let (code, body) = c
        .call("import_ipcs", json!({"file": broken.to_string()}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["Invalid"]["message"]
            .as_str()
            .unwrap()
            .contains("Device 1"),
        "{body}"
    );
    let (_, page) = c.call("ipc_list", json!({})).await;
    assert_eq!(page["ipcs"][0]["id"].as_u64(), Some(id));

    // A good one replaces the list; the same camera keeps its password.
    let mut two = file.clone();
    two["ipcs"]
        .as_array_mut()
        .unwrap()
        .push(camera_json("Garden", camera.port));
    let (code, page) = c
        .call("import_ipcs", json!({"file": two.to_string()}))
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let ipcs = page["ipcs"].as_array().unwrap();
    assert_eq!(ipcs.len(), 2);
    assert_eq!(ipcs[0]["password_set"], true);
    let new_id = ipcs[0]["id"].as_u64().unwrap();
    assert_ne!(new_id, id, "imported cameras get new ids");
    // The old id names nothing any more.
    assert_eq!(
        snapshot(&c, &format!("ipc-{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        snapshot(&c, &format!("ipc-{new_id}")).await.1,
        Some((640, 480))
    );

    // Kept over a restart, and relayed again.
    let token = c.cookie();
    vto.stop().await;
    let vto2 = Vto::start_in(&vto.data_dir, &[]).await.expect("restart");
    let c = vto2.client();
    c.set_cookie(token);
    assert_eq!(
        snapshot(&c, &format!("ipc-{new_id}")).await.1,
        Some((640, 480))
    );

    // Delete: gone from the list and from the sources.
    let (code, page) = c.call("delete_ipc", json!({ "id": new_id })).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(page["ipcs"].as_array().unwrap().len(), 1);
    assert_eq!(
        snapshot(&c, &format!("ipc-{new_id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (code, _) = c.call("delete_ipc", json!({ "id": new_id })).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);

    // The audit log names what was done, never the password.
    let (_, log) = c.call("security_log", json!({"offset": 0})).await;
    let log = log.to_string();
    for what in [
        "IPC Setting: Add",
        "IPC Setting: Modify",
        "IPC Setting: Import Config",
        "IPC Setting: Delete",
    ] {
        assert!(log.contains(what), "{what} in {log}");
    }
    assert!(!log.contains(PASSWORD));
    assert!(!vto.logs().contains(PASSWORD) && !vto2.logs().contains(PASSWORD));
}

/// Protocol Onvif: the stream address is asked of the camera (recorded
/// answers of a real camera, WS-Security checked, its clock three hours
/// off), then pulled from the RTSP server it names.
#[tokio::test]
async fn an_onvif_camera_is_asked_for_its_stream_and_relayed() {
    let rtsp = RtspCamera::start(Mode::AudioVideo, Some(Auth::Digest)).await;
    let onvif = OnvifCamera::start(rtsp.port, USER, PASSWORD, -3 * 3600).await;
    let mut vto = Vto::start().await;
    let c = vto.ready().await;
    let mut ipc = camera_json("Porch", onvif.port);
    ipc["protocol"] = json!("Onvif");
    ipc["stream"] = json!("Extra1");
    let (code, page) = c
        .call(
            "save_ipc",
            json!({"id": null, "ipc": ipc, "password": {"Set": PASSWORD}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let id = page["ipcs"][0]["id"].as_u64().unwrap();
    assert_eq!(
        snapshot(&c, &format!("ipc-{id}")).await,
        (StatusCode::OK, Some((640, 480)))
    );
    let status = c.wait_camera(&format!("ipc-{id}"), "Live").await;
    assert_eq!(status["audio"], "G.711 μ-law", "{status}");
    let asked = onvif.requests();
    // Extra1 is the camera's second profile ("1"); the clock is asked
    // first and every signed request was accepted despite the skew.
    assert_eq!(
        asked[..4],
        [
            "GetSystemDateAndTime",
            "GetCapabilities",
            "GetProfiles",
            "GetStreamUri 1"
        ],
        "{asked:?}"
    );
    assert!(!asked.iter().any(|r| r.starts_with("refused")), "{asked:?}");

    // A wrong password is a clear status, and nothing plays.
    ipc["name"] = json!("Porch 2");
    let (code, page) = c
        .call(
            "save_ipc",
            json!({"id": null, "ipc": ipc, "password": {"Set": "wrong"}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{page}");
    let wrong = page["ipcs"][1]["id"].as_u64().unwrap();
    let (code, _) = snapshot(&c, &format!("ipc-{wrong}")).await;
    assert_ne!(code, StatusCode::OK);
    let status = c.wait_camera(&format!("ipc-{wrong}"), "Error").await;
    assert_eq!(
        status["detail"],
        "the camera refused the user name or password (ONVIF)"
    );
    assert!(onvif
        .requests()
        .iter()
        .any(|r| r == "refused GetCapabilities"));
    assert!(!vto.logs().contains("wrong"), "no password in the log");

    // A camera that is not there: reconnecting, with the reason.
    ipc["name"] = json!("Porch 3");
    ipc["port"] = json!(tests::free_port());
    let (_, page) = c
        .call(
            "save_ipc",
            json!({"id": null, "ipc": ipc, "password": {"Set": PASSWORD}}),
        )
        .await;
    let gone = page["ipcs"][2]["id"].as_u64().unwrap();
    let _ = snapshot(&c, &format!("ipc-{gone}")).await;
    let status = c.wait_camera(&format!("ipc-{gone}"), "Reconnecting").await;
    assert!(
        status["detail"]
            .as_str()
            .unwrap()
            .contains("does not answer ONVIF"),
        "{status}"
    );
    vto.stop().await;
}
