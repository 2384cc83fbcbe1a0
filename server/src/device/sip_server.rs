//! Network Setting > SIP Server: this VTO is the SIP server, or it
//! registers to another one. Saving applies at once (the SIP service
//! switches; the sockets stay).

use app::{
    backend::Caller,
    error::ApiError,
    model::{
        settings::BasicSettings,
        sip_server::{SipServerPage, SipServerSettings},
    },
};

use super::DeviceImpl;
use crate::store::{
    tables::{SipServerRecord, SETTINGS, SETTINGS_BASIC, SETTINGS_SIP_SERVER},
    Read,
};

fn normalized(mut s: SipServerSettings) -> SipServerSettings {
    s.ip = s.ip.trim().to_string();
    s.username = s.username.trim().to_string();
    s.domain = s.domain.trim().to_string();
    s
}

impl DeviceImpl {
    /// The stored settings as the SIP service takes them.
    pub(super) async fn apply_sip_server(&self) -> Result<(), ApiError> {
        let (record, basic) = self
            .auth
            .read(|r| {
                Ok((
                    r.settings::<SipServerRecord>(SETTINGS_SIP_SERVER)?,
                    r.settings::<BasicSettings>(SETTINGS_BASIC)?,
                ))
            })
            .await?;
        self.sip
            .set_upstream(crate::sip::wanted_from(&record, &basic.vto_no));
        self.sip.set_digest(record.settings.digest);
        Ok(())
    }

    pub(super) async fn sip_server_page(&self, caller: &Caller) -> Result<SipServerPage, ApiError> {
        caller.session()?;
        let (record, basic) = self
            .auth
            .read(|r| {
                Ok((
                    r.settings::<SipServerRecord>(SETTINGS_SIP_SERVER)?,
                    r.settings::<BasicSettings>(SETTINGS_BASIC)?,
                ))
            })
            .await?;
        Ok(SipServerPage {
            password_set: record.password.is_some(),
            settings: record.settings,
            vto_no: basic.vto_no,
            registration: self.sip.upstream_status(),
            address: self.sip.address().map(|a| a.to_string()),
            display: self.time.display(),
        })
    }

    pub(super) async fn save_sip_server_with(
        &self,
        caller: &Caller,
        settings: SipServerSettings,
        password: Option<String>,
    ) -> Result<SipServerPage, ApiError> {
        let session = caller.session()?;
        let settings = normalized(settings);
        let typed = password.filter(|p| !p.is_empty());
        if typed
            .as_ref()
            .is_some_and(|p| p.len() > 64 || p.chars().any(char::is_control))
        {
            return Err(ApiError::invalid(
                "sip-password",
                "Up to 64 characters, no control characters".to_string(),
            ));
        }
        self.auth
            .save_settings(&session.user, caller.ip, "SIP Server", move |w| {
                let old: SipServerRecord = w.settings(SETTINGS_SIP_SERVER)?;
                let password = typed.clone().or(old.password.clone());
                if let Some((field, message)) =
                    settings.validate(password.is_some()).into_iter().next()
                {
                    return Err(ApiError::invalid(field, message));
                }
                let mut changed = settings.changed_fields(&old.settings);
                if typed.is_some() {
                    changed.push("Password");
                }
                w.put(
                    SETTINGS,
                    SETTINGS_SIP_SERVER,
                    &SipServerRecord { settings, password },
                )?;
                Ok(changed)
            })
            .await?;
        self.apply_sip_server().await?;
        self.sip_server_page(caller).await
    }
}
