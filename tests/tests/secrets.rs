//! Passwords and session ids never reach the logs or the data directory.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup stops the test

use serde_json::json;
use tests::{contains_bytes, files_under, Vto, STRONG, STRONG2};

#[tokio::test]
async fn no_secret_in_logs_or_data() {
    let mut vto = Vto::start_with(&["--log", "debug"]).await;
    let c = vto.ready().await;
    let first_token = c.cookie().unwrap_or_default();
    c.login("Wrong-Pass1").await;
    c.call(
        "change_password",
        json!({"old_password": STRONG, "new_password": STRONG2}),
    )
    .await;
    c.login(STRONG2).await;
    let second_token = c.cookie().unwrap_or_default();
    // The rebooted process logs its start too: stopped once it is up.
    let boot = vto.boot_id().await.expect("a boot id");
    c.call("reboot", json!({})).await;
    vto.wait_new_boot(&boot).await;
    vto.stop().await;

    let logs = vto.logs();
    assert!(logs.contains("login"), "the log says something: {logs}");
    let secrets = [STRONG, STRONG2, "Wrong-Pass1", &first_token, &second_token];
    for s in secrets {
        assert!(!s.is_empty());
        assert!(!logs.contains(s), "{s} in logs");
    }
    let files = files_under(&vto.data_dir);
    assert!(!files.is_empty());
    for (path, bytes) in files {
        for s in secrets {
            assert!(
                !contains_bytes(&bytes, s.as_bytes()),
                "{s} in {}",
                path.display()
            );
        }
    }
}
