//! The accounts service: rules, `admin` stays Admin, changes end the
//! account's sessions and connections, sessions carry the role.

use std::net::{IpAddr, Ipv4Addr};

use app::model::{
    security_log::SecurityEventKind as Kind,
    time::UnixMillis,
    users::{NewUser, OnlineKey, Role},
};

use super::{online::FrontDoor, *};
use crate::clock::sim::SimClock;

const T0: UnixMillis = UnixMillis(1_800_000_000_000);
const GOOD: &str = "Door-Bell7x";
const OP_PW: &str = "Gate-Keeper9";
const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));

struct Fixture {
    _dir: tempfile::TempDir,
    auth: Auth,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = Arc::new(Store::open(dir.path()).unwrap_or_else(|e| panic!("store: {e}")));
    let auth = Auth::new(store, Arc::new(SimClock::at(T0)), Policy::default())
        .unwrap_or_else(|e| panic!("auth: {e}"));
    auth.initialize(IP, GOOD.into(), None)
        .await
        .unwrap_or_else(|e| panic!("initialize: {e}"));
    Fixture { _dir: dir, auth }
}

impl Fixture {
    async fn login(&self, user: &str, password: &str) -> Result<(String, SessionRef), ApiError> {
        let token = self
            .auth
            .login(IP, user.into(), password.into())
            .await?
            .session()?;
        let s = self
            .auth
            .validate(&token)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok((token, s))
    }

    async fn admin(&self) -> Result<SessionRef, ApiError> {
        Ok(self.login("admin", GOOD).await?.1)
    }

    async fn add(&self, by: &SessionRef, user: &str, role: Role) -> Result<(), ApiError> {
        self.auth
            .add_account(
                by,
                IP,
                NewUser {
                    user: user.into(),
                    password: OP_PW.into(),
                    role,
                },
            )
            .await
    }

    async fn kinds(&self) -> Vec<Kind> {
        let (events, _) = self
            .auth
            .store
            .read(|r| Ok(r.security_events(0, 100)?))
            .await
            .unwrap_or_default();
        events.into_iter().map(|e| e.kind).collect()
    }
}

fn field(r: Result<(), ApiError>) -> Option<String> {
    match r {
        Err(ApiError::Invalid { field, .. }) => Some(field),
        _ => None,
    }
}

#[tokio::test]
async fn added_accounts_follow_the_rules_and_log_in_with_their_role() -> Result<(), ApiError> {
    let f = fixture().await;
    let admin = f.admin().await?;
    assert_eq!(admin.role, Role::Admin);
    for bad in ["", "has space", "admin", &"x".repeat(33), "a/b"] {
        assert_eq!(
            field(f.add(&admin, bad, Role::Operator).await),
            Some("user-name".into()),
            "{bad:?}"
        );
    }
    // The password rules apply with the new user name.
    let weak = f
        .auth
        .add_account(
            &admin,
            IP,
            NewUser {
                user: "gate".into(),
                password: "xgate-Door1".into(),
                role: Role::Viewer,
            },
        )
        .await;
    assert_eq!(field(weak), Some("user-password".into()));
    f.add(&admin, "op", Role::Operator).await?;
    assert_eq!(
        field(f.add(&admin, "op", Role::Viewer).await),
        Some("user-name".into()),
        "unique"
    );
    // Case-sensitive: another account.
    f.add(&admin, "Op", Role::Viewer).await?;
    let (_, op) = f.login("op", OP_PW).await?;
    assert_eq!(op.role, Role::Operator);
    assert_eq!(f.login("Op", OP_PW).await?.1.role, Role::Viewer);
    // The HA1 of the new account is there for Digest and DHIP.
    assert_eq!(
        f.auth.digest_login("op", IP, |ha1| !ha1.is_empty()).await?,
        Role::Operator
    );
    let list = f.auth.accounts(&admin).await?;
    let names: Vec<&str> = list.iter().map(|u| u.user.as_str()).collect();
    assert_eq!(names, ["admin", "Op", "op"]);
    assert!(f.kinds().await.contains(&Kind::UserAdded));
    // Only Admin manages accounts.
    assert_eq!(
        f.add(&op, "x", Role::Admin).await,
        Err(ApiError::Forbidden {
            role: Role::Operator
        })
    );
    assert!(matches!(
        f.auth.accounts(&op).await,
        Err(ApiError::Forbidden { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn admin_stays_admin_and_cannot_be_deleted_nor_delete_itself() -> Result<(), ApiError> {
    let f = fixture().await;
    let admin = f.admin().await?;
    let r = f
        .auth
        .set_role(&admin, IP, "admin".into(), Role::Viewer)
        .await;
    assert_eq!(field(r), Some("user-role".into()));
    assert_eq!(f.auth.role("admin").await?, Some(Role::Admin));
    let r = f.auth.delete_account(&admin, IP, "admin".into()).await;
    assert_eq!(field(r), Some("user".into()));
    // A second Admin may not delete itself either.
    f.add(&admin, "boss", Role::Admin).await?;
    let (_, boss) = f.login("boss", OP_PW).await?;
    let r = f.auth.delete_account(&boss, IP, "boss".into()).await;
    assert_eq!(field(r), Some("user".into()));
    let r = f.auth.delete_account(&admin, IP, "nobody".into()).await;
    assert_eq!(field(r), Some("user".into()));
    Ok(())
}

#[tokio::test]
async fn role_change_password_and_delete_end_the_accounts_sessions() -> Result<(), ApiError> {
    let f = fixture().await;
    let admin = f.admin().await?;
    f.add(&admin, "op", Role::Operator).await?;
    let online = f.auth.online.clone();

    // Role: the session ends, a new login carries the new role.
    let (token, _) = f.login("op", OP_PW).await?;
    let mut dhip = online.enter("op", Role::Operator, IP, FrontDoor::Dhip, T0);
    f.auth
        .set_role(&admin, IP, "op".into(), Role::Viewer)
        .await?;
    assert_eq!(f.auth.validate(&token).await?, None);
    tokio::time::timeout(std::time::Duration::from_secs(5), dhip.ended())
        .await
        .map_err(|_| ApiError::Internal("DHIP connection not ended".into()))?;
    assert_eq!(f.login("op", OP_PW).await?.1.role, Role::Viewer);

    // Password set by the admin: sessions end, the old password is gone.
    let (token, _) = f.login("op", OP_PW).await?;
    let r = f
        .auth
        .set_password_of(&admin, IP, "op".into(), "abc".into())
        .await;
    assert_eq!(field(r), Some("set-password".into()));
    assert!(f.auth.validate(&token).await?.is_some(), "nothing changed");
    f.auth
        .set_password_of(&admin, IP, "op".into(), "New-Lantern5".into())
        .await?;
    assert_eq!(f.auth.validate(&token).await?, None);
    assert!(f.login("op", OP_PW).await.is_err());
    let (token, _) = f.login("op", "New-Lantern5").await?;
    // Not one's own password: that is the Account page, with the old one.
    let r = f
        .auth
        .set_password_of(&admin, IP, "admin".into(), "New-Lantern5".into())
        .await;
    assert_eq!(field(r), Some("set-password".into()));

    // Delete: the session ends (and would end even if it were kept).
    let _rtsp = online.enter("op", Role::Viewer, IP, FrontDoor::Rtsp, T0);
    f.auth.delete_account(&admin, IP, "op".into()).await?;
    assert_eq!(f.auth.validate(&token).await?, None);
    assert!(online.list().is_empty());
    assert!(f.login("op", "New-Lantern5").await.is_err());
    let kinds = f.kinds().await;
    for k in [
        Kind::UserRoleChanged,
        Kind::UserPasswordSet,
        Kind::UserDeleted,
    ] {
        assert!(kinds.contains(&k), "{k:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_session_whose_account_is_gone_is_invalid_and_removed() -> Result<(), ApiError> {
    let f = fixture().await;
    let admin = f.admin().await?;
    f.add(&admin, "op", Role::Operator).await?;
    let (token, op) = f.login("op", OP_PW).await?;
    // The account vanishes without its sessions (as a bug or an old
    // database might leave them).
    f.auth
        .store
        .write(|w| Ok(w.remove(crate::store::tables::ACCOUNTS, "op")?))
        .await?;
    assert_eq!(f.auth.validate(&token).await?, None);
    let hash = op.id_hash;
    let left = f.auth.store.read(move |r| Ok(r.session(&hash)?)).await?;
    assert!(left.is_none(), "removed from the store");
    Ok(())
}

#[tokio::test]
async fn online_users_lists_web_sessions_by_handle_and_ends_them() -> Result<(), ApiError> {
    let f = fixture().await;
    let admin = f.admin().await?;
    f.add(&admin, "op", Role::Operator).await?;
    let (op_token, op) = f.login("op", OP_PW).await?;
    let mut event_stream =
        f.auth
            .online
            .enter("op", Role::Operator, IP, FrontDoor::EventStream, T0);

    let list = f.auth.online_entries(&admin).await?;
    assert_eq!(list.len(), 3, "{list:?}");
    let mine = list.iter().find(|e| e.this_session).ok_or(ApiError::Busy)?;
    assert_eq!((mine.user.as_str(), mine.door.as_str()), ("admin", "Web"));
    let web = list
        .iter()
        .find(|e| e.user == "op" && e.door == "Web")
        .ok_or(ApiError::Busy)?;
    assert_eq!(web.role, Role::Operator);
    assert_eq!(web.ip, IP.to_string());
    let OnlineKey::Web(h) = &web.key else {
        return Err(ApiError::Busy);
    };
    assert_eq!(h.len(), 8);
    assert!(!op_token.contains(h.as_str()), "the handle is not the id");
    assert_eq!(*h, users::handle(&op.id_hash));
    let other = list
        .iter()
        .find(|e| e.door == FrontDoor::EventStream.label())
        .ok_or(ApiError::Busy)?;

    // Not one's own; only Admin.
    let own = f.auth.end_online(&admin, IP, mine.key.clone()).await;
    assert_eq!(field(own), Some("online".into()));
    assert!(matches!(
        f.auth.end_online(&op, IP, mine.key.clone()).await,
        Err(ApiError::Forbidden { .. })
    ));

    f.auth.end_online(&admin, IP, web.key.clone()).await?;
    assert_eq!(f.auth.validate(&op_token).await?, None);
    f.auth.end_online(&admin, IP, other.key.clone()).await?;
    tokio::time::timeout(std::time::Duration::from_secs(5), event_stream.ended())
        .await
        .map_err(|_| ApiError::Internal("event stream not ended".into()))?;
    let again = f.auth.end_online(&admin, IP, web.key.clone()).await;
    assert_eq!(field(again), Some("online".into()));
    let left = f.auth.online_entries(&admin).await?;
    assert_eq!(left.len(), 1);
    assert!(left[0].this_session);
    assert!(f.kinds().await.contains(&Kind::SessionEnded));
    Ok(())
}
