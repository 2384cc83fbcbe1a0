//! The device as the UI sees it: implements `app::backend::Device` on top of
//! [`Auth`], the store and the process lifecycle.

use std::{sync::Arc, time::Duration};

use app::{
    backend::{Caller, Device, SetCookie},
    error::ApiError,
    model::{
        security_log::{SecurityEventKind, SecurityLogPage, PAGE_SIZE},
        settings::BasicSettings,
        system::{AccountInfo, Overview, SetupState, SystemInfo, SECURITY_BASELINE},
    },
};

use crate::{
    auth::{session, Auth},
    lifecycle::Lifecycle,
    store::{tables::SETTINGS_BASIC, Read},
};

pub struct DeviceImpl {
    pub auth: Arc<Auth>,
    pub lifecycle: Lifecycle,
}

/// What this binary is.
pub fn system_info() -> SystemInfo {
    SystemInfo {
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        security_baseline: SECURITY_BASELINE.to_string(),
        build_commit: option_env!("VTO_BUILD_COMMIT")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    }
}

#[async_trait::async_trait]
impl Device for DeviceImpl {
    async fn setup_state(&self) -> Result<SetupState, ApiError> {
        Ok(SetupState {
            initialized: self.auth.is_initialized(),
            boot_id: self.lifecycle.boot_id(),
        })
    }

    async fn initialize(
        &self,
        caller: &Caller,
        password: String,
        email: Option<String>,
    ) -> Result<(), ApiError> {
        self.auth.initialize(caller.ip, password, email).await
    }

    async fn login(
        &self,
        caller: &Caller,
        user: String,
        password: String,
    ) -> Result<SetCookie, ApiError> {
        let token = self.auth.login(caller.ip, user, password).await?;
        Ok(SetCookie(session::set_cookie(&token, caller.secure)))
    }

    async fn logout(&self, caller: &Caller) -> Result<SetCookie, ApiError> {
        self.auth.logout(caller.session()?, caller.ip).await?;
        Ok(SetCookie(session::clear_cookie(caller.secure)))
    }

    async fn overview(&self, caller: &Caller) -> Result<Overview, ApiError> {
        let user = caller.session()?.user.clone();
        let (vto, email) = self
            .auth
            .read(move |r| {
                let vto: BasicSettings = r.settings(SETTINGS_BASIC)?;
                let email = r.account(&user)?.and_then(|a| a.email);
                Ok((vto, email))
            })
            .await?;
        Ok(Overview {
            vto,
            system: system_info(),
            account: AccountInfo {
                user: caller.session()?.user.clone(),
                email,
            },
        })
    }

    async fn change_password(
        &self,
        caller: &Caller,
        old_password: String,
        new_password: String,
    ) -> Result<(), ApiError> {
        self.auth
            .change_password(caller.session()?, caller.ip, old_password, new_password)
            .await
    }

    async fn change_email(
        &self,
        caller: &Caller,
        password: String,
        email: Option<String>,
    ) -> Result<(), ApiError> {
        self.auth
            .change_email(caller.session()?, caller.ip, password, email)
            .await
    }

    async fn reboot(&self, caller: &Caller) -> Result<(), ApiError> {
        let session = caller.session()?;
        self.auth
            .log(SecurityEventKind::Rebooted, &session.user, caller.ip)
            .await?;
        tracing::warn!(ip = %caller.ip, "reboot requested");
        // Answer first, then restart.
        self.lifecycle.reboot_after(Duration::from_millis(200));
        Ok(())
    }

    async fn factory_reset(
        &self,
        caller: &Caller,
        password: String,
    ) -> Result<SetCookie, ApiError> {
        self.auth
            .factory_reset(caller.session()?, caller.ip, password)
            .await?;
        Ok(SetCookie(session::clear_cookie(caller.secure)))
    }

    async fn security_log(
        &self,
        caller: &Caller,
        offset: u64,
    ) -> Result<SecurityLogPage, ApiError> {
        caller.session()?;
        let (events, total) = self
            .auth
            .read(move |r| Ok(r.security_events(offset, PAGE_SIZE)?))
            .await?;
        Ok(SecurityLogPage {
            events,
            total,
            offset,
        })
    }
}
