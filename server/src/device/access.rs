//! Local Setting > Access Control > Local, the door on the main page, and
//! Log Management > Unlock: the UI's side of [`crate::lock`].

use std::time::Duration;

use app::{
    backend::Caller,
    error::ApiError,
    model::access::{
        self, AccessSettings, AlarmLogPage, AlarmRecord, DoorStatus, SimAction, UnlockFilter,
        UnlockLogPage, UnlockLogSettings, UnlockMethod, UnlockRecord, UnlockVia,
    },
};

use super::DeviceImpl;
use crate::{
    lock::{Attempt, LockError},
    store::{
        tables::{ALARM_LOG, SETTINGS, SETTINGS_ACCESS, SETTINGS_UNLOCK_LOG, UNLOCK_LOG},
        Read,
    },
};

/// How long a browser's wait for a change lasts before it asks again.
const STATUS_WAIT: Duration = Duration::from_secs(20);

impl From<LockError> for ApiError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::NotSimulated => ApiError::invalid("simulator", e.to_string()),
            LockError::Stopped => ApiError::Internal(e.to_string()),
        }
    }
}

impl DeviceImpl {
    pub(super) async fn access_page(&self, caller: &Caller) -> Result<AccessSettings, ApiError> {
        caller.session()?;
        self.auth.read(|r| Ok(r.settings(SETTINGS_ACCESS)?)).await
    }

    pub(super) async fn save_access(
        &self,
        caller: &Caller,
        settings: AccessSettings,
    ) -> Result<AccessSettings, ApiError> {
        let session = caller.session()?;
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let saved = settings.clone();
        self.auth
            .save_settings(&session.user, caller.ip, "Access Control", move |w| {
                let old: AccessSettings = w.settings(SETTINGS_ACCESS)?;
                w.put(SETTINGS, SETTINGS_ACCESS, &settings)?;
                Ok(settings.changed_fields(&old))
            })
            .await?;
        self.lock.apply(saved.clone()).await?;
        Ok(saved)
    }

    pub(super) async fn door(&self, caller: &Caller, seen: u64) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        let status = self.lock.changed(seen, STATUS_WAIT).await;
        Ok(self.shown(status))
    }

    fn shown(&self, status: DoorStatus) -> DoorStatus {
        DoorStatus {
            display: self.time.display(),
            ..status
        }
    }

    pub(super) async fn remote_unlock(
        &self,
        caller: &Caller,
        via: UnlockVia,
    ) -> Result<UnlockRecord, ApiError> {
        let session = caller.session()?;
        let attempt = Attempt {
            method: match via {
                UnlockVia::Ui => UnlockMethod::Remote,
                UnlockVia::Api => UnlockMethod::Api,
            },
            who: session.user.clone(),
            source: caller.ip.to_string(),
        };
        let refused = self.lock.unlock(attempt.clone()).await.err();
        Ok(UnlockRecord {
            time: self.time.now(),
            method: attempt.method,
            who: attempt.who,
            source: attempt.source,
            refused,
            snapshot: None,
        })
    }

    pub(super) async fn simulate_at_door(
        &self,
        caller: &Caller,
        action: SimAction,
    ) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        let seen = self.lock.status().version;
        self.lock.simulate(action).await?;
        self.door_after(seen).await
    }

    /// The door once what was just done shows (a short wait: the lock's
    /// task runs it next).
    pub(super) async fn door_after(&self, seen: u64) -> Result<DoorStatus, ApiError> {
        let status = self.lock.changed(seen, Duration::from_millis(500)).await;
        Ok(self.shown(status))
    }

    pub(super) async fn unlock_page(
        &self,
        caller: &Caller,
        offset: u64,
        filter: UnlockFilter,
    ) -> Result<UnlockLogPage, ApiError> {
        caller.session()?;
        let (records, total, settings) = self
            .auth
            .read(move |r| {
                let (records, total) =
                    r.newest_matching(UNLOCK_LOG, offset, access::PAGE_SIZE, |u| {
                        filter.matches(u)
                    })?;
                let settings: UnlockLogSettings = r.settings(SETTINGS_UNLOCK_LOG)?;
                Ok((records, total, settings))
            })
            .await?;
        Ok(UnlockLogPage {
            records,
            total,
            offset,
            display: self.time.display(),
            keep: settings.keep,
        })
    }

    /// Records Kept: stored, and the oldest beyond it dropped, at once.
    pub(super) async fn save_unlock_keep(
        &self,
        caller: &Caller,
        settings: UnlockLogSettings,
    ) -> Result<UnlockLogSettings, ApiError> {
        let session = caller.session()?;
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let keep = settings.keep;
        self.auth
            .save_settings(&session.user, caller.ip, "Unlock", move |w| {
                let old: UnlockLogSettings = w.settings(SETTINGS_UNLOCK_LOG)?;
                w.put(SETTINGS, SETTINGS_UNLOCK_LOG, &settings)?;
                w.trim(UNLOCK_LOG, settings.keep)?;
                Ok(if old == settings {
                    vec![]
                } else {
                    vec!["Records Kept"]
                })
            })
            .await?;
        self.lock.set_keep(keep);
        Ok(UnlockLogSettings { keep })
    }

    pub(super) async fn unlock_csv(
        &self,
        caller: &Caller,
        filter: UnlockFilter,
    ) -> Result<String, ApiError> {
        caller.session()?;
        let (records, _): (Vec<UnlockRecord>, _) = self
            .auth
            .read(move |r| {
                Ok(r.newest_matching(UNLOCK_LOG, 0, access::MAX_RECORDS, |u| filter.matches(u))?)
            })
            .await?;
        Ok(access::to_csv(&records, &self.time.display()))
    }

    pub(super) async fn alarm_page(
        &self,
        caller: &Caller,
        offset: u64,
    ) -> Result<AlarmLogPage, ApiError> {
        caller.session()?;
        let (records, total): (Vec<AlarmRecord>, _) = self
            .auth
            .read(move |r| Ok(r.newest_first(ALARM_LOG, offset, access::PAGE_SIZE)?))
            .await?;
        Ok(AlarmLogPage {
            records,
            total,
            offset,
            display: self.time.display(),
        })
    }
}
