//! Network Setting as every front door sees it: Basic (the listeners and
//! HTTPS, moved live), IP Permissions, Email.

use app::{
    error::ApiError,
    model::{
        ip_permissions::{IpPermissions, ListMode},
        mail::{MailReceipt, MailSettings, PasswordUpdate, MOVED_PASSWORD},
        network::{CertificateUpload, NetworkPage, NetworkSettings},
    },
    services::{Caller, Network},
};

use super::{tls::TlsRecord, NetworkService};
use crate::network::listen::host_name_part;
use crate::{
    error::Error,
    mail::{Mail, MailConfig},
    store::secret::Secret,
    store::{
        settings::{IP_PERMISSIONS, MAIL, NETWORK, TLS},
        tables::{MailRecord, SETTINGS},
        Read,
    },
};

impl NetworkService {
    async fn network_state(
        &self,
    ) -> Result<(Option<NetworkSettings>, Option<TlsRecord>), ApiError> {
        self.settings
            .read(|r| Ok((r.get(SETTINGS, NETWORK.name)?, r.get(SETTINGS, TLS.name)?)))
            .await
    }

    async fn network_page(&self, moved_to: Option<String>) -> Result<NetworkPage, ApiError> {
        let (stored, tls) = self.network_state().await?;
        Ok(NetworkPage {
            settings: self.effective(stored),
            rtsp: self.rtsp(),
            host_name: super::host_name(),
            host_addresses: super::host_addresses(),
            certificate: tls.as_ref().and_then(|t| super::tls::info(t).ok()),
            moved_to,
        })
    }

    /// Stores a new certificate and serves it at once if HTTPS runs.
    async fn replace_certificate(
        &self,
        caller: &Caller,
        record: TlsRecord,
    ) -> Result<NetworkPage, ApiError> {
        let session = caller.session()?;
        let (stored, _) = self.network_state().await?;
        let settings = self.effective(stored);
        let prepared = if settings.https {
            let plan =
                super::plan(&settings, Some(&record)).map_err(|(f, m)| ApiError::invalid(f, m))?;
            Some(
                self.web()?
                    .prepare(plan)
                    .map_err(|(f, m)| ApiError::invalid(f, m))?,
            )
        } else {
            None
        };
        self.settings
            .save(&session.user, caller.ip, "Network Basic", move |w| {
                w.put_settings(TLS, &record)?;
                Ok(vec!["Certificate"])
            })
            .await?;
        if let Some(p) = prepared {
            self.web()?.commit(p).map_err(Error::internal)?;
        }
        self.network_page(None).await
    }
}

#[async_trait::async_trait]
impl Network for NetworkService {
    async fn network(&self, caller: &Caller) -> Result<NetworkPage, ApiError> {
        caller.session()?;
        self.network_page(None).await
    }

    async fn save_network(
        &self,
        caller: &Caller,
        mut settings: NetworkSettings,
    ) -> Result<NetworkPage, ApiError> {
        let session = caller.session()?;
        settings.listen_address = settings.listen_address.trim().to_string();
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let (stored, tls) = self.network_state().await?;
        let old = self.effective(stored);
        // HTTPS needs a certificate: the device makes one the first time.
        let new_tls = match &tls {
            None if settings.https => Some(super::generate_certificate()?),
            _ => None,
        };
        let plan = super::plan(&settings, new_tls.as_ref().or(tls.as_ref()))
            .map_err(|(f, m)| ApiError::invalid(f, m))?;
        // New sockets are bound before anything is stored: a port in use
        // is refused and nothing changes.
        let prepared = self
            .web()?
            .prepare(plan)
            .map_err(|(f, m)| ApiError::invalid(f, m))?;
        let saved = settings.clone();
        let old_for_log = old.clone();
        self.settings
            .save(&session.user, caller.ip, "Network Basic", move |w| {
                w.put_settings(NETWORK, &settings)?;
                let mut changed = settings.changed_fields(&old_for_log);
                if let Some(record) = &new_tls {
                    w.put_settings(TLS, record)?;
                    changed.push("Certificate");
                }
                Ok(changed)
            })
            .await?;
        self.web()?.commit(prepared).map_err(Error::internal)?;
        tracing::info!(ip = %caller.ip, "network settings saved");
        self.network_page(moved_to(caller, &old, &saved)).await
    }

    async fn upload_certificate(
        &self,
        caller: &Caller,
        upload: CertificateUpload,
    ) -> Result<NetworkPage, ApiError> {
        caller.session()?;
        let record = super::tls::upload(&upload.certificate, &upload.private_key)
            .map_err(|(f, m)| ApiError::invalid(f, m))?;
        self.replace_certificate(caller, record).await
    }

    async fn new_certificate(&self, caller: &Caller) -> Result<NetworkPage, ApiError> {
        caller.session()?;
        let record = super::generate_certificate()?;
        self.replace_certificate(caller, record).await
    }

    async fn ip_permissions(&self, caller: &Caller) -> Result<IpPermissions, ApiError> {
        caller.session()?;
        self.settings.get(IP_PERMISSIONS).await
    }

    async fn save_ip_permissions(
        &self,
        caller: &Caller,
        mut settings: IpPermissions,
    ) -> Result<IpPermissions, ApiError> {
        let session = caller.session()?;
        for list in [&mut settings.white_list, &mut settings.black_list] {
            *list = list.iter().map(|e| e.trim().to_string()).collect();
        }
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        if !settings.compile().allows(caller.ip) {
            let field = match settings.mode {
                ListMode::WhiteList => "white-list",
                ListMode::BlackList => "black-list",
            };
            return Err(ApiError::invalid(
                field,
                format!(
                    "This would shut out your own address {}: the page could not be reached any more. Add it to the white list (or take it off the black list) first.",
                    caller.ip
                ),
            ));
        }
        let saved = settings.clone();
        self.settings
            .save(&session.user, caller.ip, "IP Permissions", move |w| {
                let old = w.settings(IP_PERMISSIONS)?;
                w.put_settings(IP_PERMISSIONS, &settings)?;
                Ok(settings.changed_fields(&old))
            })
            .await?;
        // In force once stored: the next connection is checked.
        self.ip_filter.set(&saved);
        Ok(saved)
    }

    async fn mail_settings(&self, caller: &Caller) -> Result<MailSettings, ApiError> {
        caller.session()?;
        let record = self.settings.get(MAIL).await?;
        Ok(MailSettings {
            has_password: record.password.is_some(),
            ..record.settings
        })
    }

    async fn save_mail_settings(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailSettings, ApiError> {
        let session = caller.session()?;
        let settings = checked_mail_settings(settings)?;
        let saved = self
            .settings
            .write_logged(
                app::model::security_log::SecurityEventKind::MailSettingsChanged,
                &session.user,
                caller.ip,
                move |w| {
                    let old = w.settings(MAIL)?;
                    let same = settings.same_destination(&old.settings);
                    let password = Secret::updated_for(password, old.password, same)
                        .map_err(|_| ApiError::invalid("smtp-password", MOVED_PASSWORD))?;
                    let record = MailRecord {
                        settings: MailSettings {
                            has_password: false,
                            ..settings
                        },
                        password,
                    };
                    w.put_settings(MAIL, &record)?;
                    Ok(MailSettings {
                        has_password: record.password.is_some(),
                        ..record.settings
                    })
                },
            )
            .await?;
        tracing::info!(ip = %caller.ip, "email settings saved");
        Ok(saved)
    }

    async fn send_test_mail(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailReceipt, ApiError> {
        let session = caller.session()?;
        let settings = checked_mail_settings(settings)?;
        let user = session.user.clone();
        let (stored, to) = self
            .settings
            .read(move |r| {
                let record: MailRecord = r.settings(MAIL)?;
                Ok((record, r.account(&user)?.and_then(|a| a.email)))
            })
            .await?;
        // A test to another server must not carry the stored password there.
        let same = settings.same_destination(&stored.settings);
        let stored = stored.password;
        let to = to.ok_or_else(|| {
            ApiError::invalid(
                "test",
                "Set an email address under Account first: the test mail goes there.",
            )
        })?;
        let password = Secret::updated_for(password, stored, same)
            .map_err(|_| ApiError::invalid("smtp-password", MOVED_PASSWORD))?;
        let mail = Mail {
            to,
            subject: "VTO test mail".into(),
            body: format!(
                "This is a test mail from your door station (VTO),\n\
                 sent at {}.\n\
                 Security codes for a password reset will come this way.\n",
                self.time.format(self.time.now())
            ),
        };
        self.postman
            .deliver(&MailConfig { settings, password }, mail)
            .await
    }
}

/// Where the browser finds the Network page after a save that moved the
/// web server; `None` when it stays where it is.
fn moved_to(caller: &Caller, old: &NetworkSettings, new: &NetworkSettings) -> Option<String> {
    let unchanged = old.listen_address == new.listen_address
        && old.http_port == new.http_port
        && old.https == new.https
        && (!new.https || old.https_port == new.https_port);
    if unchanged && caller.secure == new.https {
        return None;
    }
    let ip: std::net::IpAddr = new.listen_address.parse().ok()?;
    let listen = match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    // The name the browser used, unless the server now listens only on
    // another address.
    let host = match caller.host.as_deref().map(host_name_part) {
        Some(h) if ip.is_unspecified() || h.trim_matches(['[', ']']) == ip.to_string() => {
            h.to_string()
        }
        _ => listen,
    };
    let (scheme, port, default) = if new.https {
        ("https", new.https_port, 443)
    } else {
        ("http", new.http_port, 80)
    };
    let port = if port == default {
        String::new()
    } else {
        format!(":{port}")
    };
    Some(format!("{scheme}://{host}{port}/network/basic"))
}

/// The page's settings, trimmed, or the first field error.
fn checked_mail_settings(mut s: MailSettings) -> Result<MailSettings, ApiError> {
    s.server = s.server.trim().to_string();
    s.sender = s.sender.trim().to_string();
    if let Some((field, message)) = s.validate().into_iter().next() {
        return Err(ApiError::invalid(field, message));
    }
    Ok(s)
}
