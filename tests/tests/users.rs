//! Users with least privilege through the real binary: an Operator opens
//! the door but may not touch settings, a Viewer may not open the door;
//! pages follow the role; a deleted account's session ends at once.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use reqwest::StatusCode;
use serde_json::{json, Value};
use tests::{Client, Vto};

const OP_PW: &str = "Gate-Keeper9";

async fn add(admin: &Client, user: &str, role: &str) {
    tests::add_user(admin, user, OP_PW, role).await;
}

async fn login_as(vto: &Vto, user: &str) -> Client {
    let c = vto.client();
    let (code, body) = c.login_as(user, OP_PW).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    c
}

fn forbidden(role: &str) -> Value {
    json!({"Forbidden": {"role": role}})
}

#[tokio::test]
async fn roles_decide_what_each_account_may_do() {
    let vto = Vto::start().await;
    let admin = vto.ready().await;
    add(&admin, "op", "Operator").await;
    add(&admin, "viewer", "Viewer").await;

    // A bad user name is an error on its field, and nothing is added.
    let (code, body) = admin
        .call(
            "add_user",
            json!({"new": {"user": "no space", "password": OP_PW, "role": "Operator"}}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Invalid"]["field"], "user-name");
    let (_, page) = admin.call("users", json!({})).await;
    let names: Vec<&str> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "op", "viewer"]);
    assert!(!page.to_string().contains("argon2"), "no hashes: {page}");

    // Operator: the door, the logs and a snapshot; no settings.
    let op = login_as(&vto, "op").await;
    let (code, body) = op.call("unlock", json!({})).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        op.call("unlock_log", json!({"offset": 0})).await.0,
        StatusCode::OK
    );
    assert_eq!(op.call("overview", json!({})).await.0, StatusCode::OK);
    for (name, body) in [
        ("basic_settings", json!({})),
        ("save_basic_settings", json!({"settings": {}})),
        ("users", json!({})),
        ("security_log", json!({"offset": 0})),
        ("reboot", json!({})),
    ] {
        let (code, answer) = op.call(name, body).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{name}: {answer}");
        assert_eq!(answer, forbidden("Operator"), "{name}");
    }
    assert_ne!(
        op.get("/snapshot/door.jpg").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(op.get("/log/unlock").await.status(), StatusCode::OK);
    let page = op.get("/local/basic").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/");
    // Every account changes its own password, under the rules for its name.
    let (code, body) = op
        .call(
            "change_password",
            json!({"old_password": OP_PW, "new_password": "op-Lantern5"}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Invalid"]["field"], "new_password");

    // Viewer: live view only.
    let viewer = login_as(&vto, "viewer").await;
    let (code, answer) = viewer.call("unlock", json!({})).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(answer, forbidden("Viewer"));
    assert_eq!(
        viewer.call("unlock_log", json!({"offset": 0})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(viewer.call("overview", json!({})).await.0, StatusCode::OK);
    let (code, me) = viewer.call("me", json!({})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(me, json!({"user": "viewer", "role": "Viewer"}));
    assert_eq!(
        viewer.get("/snapshot/door.jpg").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(viewer.get("/monitor").await.status(), StatusCode::OK);
    assert_eq!(
        viewer.get("/log/unlock").await.status(),
        StatusCode::SEE_OTHER
    );

    // A new role applies at once: the session ends, the next login has it.
    let (code, body) = admin
        .call(
            "set_user_role",
            json!({"user": "viewer", "role": "Operator"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        viewer.call("overview", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    let promoted = login_as(&vto, "viewer").await;
    assert_eq!(promoted.call("unlock", json!({})).await.0, StatusCode::OK);

    // Deleted: its session ends at once; admin stays.
    let (code, body) = admin.call("delete_user", json!({"user": "op"})).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        op.call("overview", json!({})).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (code, body) = admin.call("delete_user", json!({"user": "admin"})).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (code, body) = admin
        .call("set_user_role", json!({"user": "admin", "role": "Viewer"}))
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(admin.call("overview", json!({})).await.0, StatusCode::OK);

    // The security log says who did what.
    let (_, log) = admin.call("security_log", json!({"offset": 0})).await;
    let text = log.to_string();
    for kind in ["UserAdded", "UserRoleChanged", "UserDeleted"] {
        assert!(text.contains(kind), "{kind}: {text}");
    }
    assert!(!text.contains(OP_PW), "no password in the log");
}
