//! Log Management (manual ch. 7): the security log (every login, change
//! and settings save), the call log (written behind by the SIP server), the
//! unlock and alarm logs (written by the lock). Pages newest first; Export
//! Data as CSV.

use std::sync::Arc;

use app::{
    error::ApiError,
    model::{
        access::{
            self, AlarmLogPage, AlarmRecord, UnlockFilter, UnlockLogPage, UnlockLogSettings,
            UnlockRecord,
        },
        call_log::{self, CallLogPage},
        security_log::{SecurityLogPage, PAGE_SIZE},
    },
    services::{Caller, Logs},
};

use crate::{
    door::lock::LockService,
    error::Error,
    household::sip_server::SipService,
    store::{
        settings::{SettingsStore, UNLOCK_LOG},
        tables::{ALARM_LOG, UNLOCK_LOG as UNLOCK_TABLE},
        Read,
    },
    system::time::TimeService,
};

pub struct LogService {
    pub settings: Arc<SettingsStore>,
    pub time: Arc<TimeService>,
    pub sip: Arc<SipService>,
    pub lock: Arc<LockService>,
}

impl LogService {
    /// Every call kept from `offset`, up to `limit`, newest first.
    async fn calls(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<call_log::CallRecord>, u64), ApiError> {
        let sip = self.sip.clone();
        // The SIP server writes the calls of its last tick first.
        Ok(
            tokio::task::spawn_blocking(move || sip.call_log(offset, limit))
                .await
                .map_err(Error::Task)??,
        )
    }
}

#[async_trait::async_trait]
impl Logs for LogService {
    async fn security_log(
        &self,
        caller: &Caller,
        offset: u64,
    ) -> Result<SecurityLogPage, ApiError> {
        caller.session()?;
        let (events, total) = self
            .settings
            .read(move |r| Ok(r.security_events(offset, PAGE_SIZE)?))
            .await?;
        Ok(SecurityLogPage {
            events,
            total,
            offset,
            display: self.time.display(),
        })
    }

    async fn call_log(&self, caller: &Caller, offset: u64) -> Result<CallLogPage, ApiError> {
        caller.session()?;
        let (records, total) = self.calls(offset, call_log::PAGE_SIZE).await?;
        Ok(CallLogPage {
            records,
            total,
            offset,
            display: self.time.display(),
        })
    }

    async fn export_call_log(&self, caller: &Caller) -> Result<String, ApiError> {
        caller.session()?;
        let (records, _) = self.calls(0, call_log::MAX_RECORDS).await?;
        Ok(call_log::to_csv(&records, &self.time.display()))
    }

    async fn unlock_log(
        &self,
        caller: &Caller,
        offset: u64,
        filter: UnlockFilter,
    ) -> Result<UnlockLogPage, ApiError> {
        caller.session()?;
        let (records, total, settings) = self
            .settings
            .read(move |r| {
                let (records, total) =
                    r.newest_matching(UNLOCK_TABLE, offset, access::PAGE_SIZE, |u| {
                        filter.matches(u)
                    })?;
                Ok((records, total, r.settings(UNLOCK_LOG)?))
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

    async fn export_unlock_log(
        &self,
        caller: &Caller,
        filter: UnlockFilter,
    ) -> Result<String, ApiError> {
        caller.session()?;
        let (records, _): (Vec<UnlockRecord>, _) = self
            .settings
            .read(move |r| {
                Ok(r.newest_matching(UNLOCK_TABLE, 0, access::MAX_RECORDS, |u| filter.matches(u))?)
            })
            .await?;
        Ok(access::to_csv(&records, &self.time.display()))
    }

    /// Records Kept: stored, and the oldest beyond it dropped, at once.
    async fn save_unlock_log_settings(
        &self,
        caller: &Caller,
        settings: UnlockLogSettings,
    ) -> Result<UnlockLogSettings, ApiError> {
        let session = caller.session()?;
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let keep = settings.keep;
        self.settings
            .save(&session.user, caller.ip, "Unlock", move |w| {
                let old = w.settings(UNLOCK_LOG)?;
                w.put_settings(UNLOCK_LOG, &settings)?;
                w.trim(UNLOCK_TABLE, settings.keep)?;
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

    async fn alarm_log(&self, caller: &Caller, offset: u64) -> Result<AlarmLogPage, ApiError> {
        caller.session()?;
        let (records, total): (Vec<AlarmRecord>, _) = self
            .settings
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
