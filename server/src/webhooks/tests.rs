use super::*;

fn save(id: u32, url: &str, secret: PasswordUpdate) -> HookSave {
    HookSave {
        hook: Webhook {
            id,
            url: url.into(),
            ..Webhook::default()
        },
        secret,
    }
}

fn field(e: ApiError) -> String {
    match e {
        ApiError::Invalid { field, .. } => field,
        other => panic!("{other}"),
    }
}

#[test]
fn ids_are_given_and_never_reused() {
    let mut r = WebhookRecord::default();
    saved(&mut r, save(0, "http://a/", PasswordUpdate::Keep)).unwrap();
    saved(&mut r, save(0, "http://b/", PasswordUpdate::Keep)).unwrap();
    assert_eq!(
        r.hooks.iter().map(|h| h.hook.id).collect::<Vec<_>>(),
        [1, 2]
    );
    r.hooks.retain(|h| h.hook.id != 2);
    saved(&mut r, save(0, "http://c/", PasswordUpdate::Keep)).unwrap();
    assert_eq!(r.hooks[1].hook.id, 3);
}

#[test]
fn a_kept_secret_stays_with_its_host() {
    let mut r = WebhookRecord::default();
    saved(
        &mut r,
        save(0, "http://a:8123/x", PasswordUpdate::Set("k".into())),
    )
    .unwrap();
    // Another path on the same host keeps it.
    let changed = saved(&mut r, save(1, "http://a:8123/y", PasswordUpdate::Keep)).unwrap();
    assert_eq!(changed, ["URL"]);
    assert_eq!(r.hooks[0].secret.as_ref().map(Secret::as_str), Some("k"));
    // Another host or port, or https, needs it again.
    for url in ["http://evil:8123/y", "http://a:9/y", "https://a:8123/y"] {
        let e = saved(&mut r, save(1, url, PasswordUpdate::Keep)).unwrap_err();
        assert_eq!(field(e), "hook-secret", "{url}");
        assert_eq!(r.hooks[0].hook.url, "http://a:8123/y");
    }
    saved(
        &mut r,
        save(1, "http://b/", PasswordUpdate::Set("n".into())),
    )
    .unwrap();
    assert_eq!(r.hooks[0].secret.as_ref().map(Secret::as_str), Some("n"));
    saved(&mut r, save(1, "http://c/", PasswordUpdate::Clear)).unwrap();
    assert!(r.hooks[0].secret.is_none());
}

#[test]
fn bad_input_changes_nothing() {
    let mut r = WebhookRecord::default();
    saved(&mut r, save(0, "http://a/", PasswordUpdate::Keep)).unwrap();
    let before = format!("{r:?}");
    let mut no_events = save(1, "http://b/", PasswordUpdate::Keep);
    no_events.hook.events.clear();
    for (s, f) in [
        (save(1, "ftp://b/", PasswordUpdate::Keep), "hook-url"),
        (no_events, "hook-events"),
        (
            save(
                1,
                "http://b/",
                PasswordUpdate::Set("x".repeat(MAX_SECRET + 1)),
            ),
            "hook-secret",
        ),
        (save(7, "http://b/", PasswordUpdate::Keep), "hook-url"),
    ] {
        assert_eq!(field(saved(&mut r, s).unwrap_err()), f);
    }
    assert_eq!(format!("{r:?}"), before);
    for _ in 1..MAX_WEBHOOKS {
        saved(&mut r, save(0, "http://a/", PasswordUpdate::Keep)).unwrap();
    }
    assert_eq!(
        field(saved(&mut r, save(0, "http://a/", PasswordUpdate::Keep)).unwrap_err()),
        "hook-url"
    );
}

#[test]
fn events_sorted_once() {
    let mut r = WebhookRecord::default();
    let mut s = save(0, "http://a/", PasswordUpdate::Keep);
    s.hook.events = vec![HookEvent::Unlock, HookEvent::Call, HookEvent::Unlock];
    saved(&mut r, s).unwrap();
    assert_eq!(r.hooks[0].hook.events, [HookEvent::Call, HookEvent::Unlock]);
    assert!(!r.hooks[0].hook.has_secret);
}
