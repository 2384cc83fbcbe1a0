//! Account and sessions as every front door sees them: initialization,
//! login (with the second factor), logout, the account's password and
//! email, password reset by a mailed code, two-factor enrolment. The
//! policy (lockout, sessions, codes) is [`Auth`]'s; this adds what the
//! wire needs: cookies, mails, the QR code.

use std::sync::Arc;

use app::{
    error::ApiError,
    model::{
        reset::{format_code, mask_email, ResetInfo, ResetIssued, ResetTicket},
        security_log::SecurityEventKind,
        system::{EmailChanged, SetupState},
        two_factor::{LoginResult, RecoveryCodes, TotpEnrolment},
        users::{Me, NewUser, OnlineKey, OnlinePage, Right, Role, UsersPage},
    },
    services::{Account, Caller, SetCookie},
};

use super::{session, Auth, LoginOutcome};
use crate::{
    mail::{Mail, Postman},
    qr,
    store::{settings::SettingsStore, Read},
    system::{lifecycle::Lifecycle, time::TimeService},
};

pub struct AccountService {
    pub auth: Arc<Auth>,
    pub settings: Arc<SettingsStore>,
    pub time: Arc<TimeService>,
    pub postman: Arc<Postman>,
    pub lifecycle: Lifecycle,
}

/// `http(s)://host` of the device for a link in a mail: never a Host the
/// caller chose unless it names the device (see `http::host`).
fn origin(caller: &Caller) -> Option<String> {
    let own: Vec<std::net::IpAddr> = crate::network::host_addresses()
        .iter()
        .filter_map(|a| a.address.parse().ok())
        .collect();
    crate::http::host::link_host(
        caller.host.as_deref(),
        caller.host_is_name,
        caller.local,
        &own,
    )
    .map(|h| format!("{}://{h}", if caller.secure { "https" } else { "http" }))
}

fn reset_mail(to: String, code: &str, url: Option<&str>, valid_until: &str) -> Mail {
    // Lines under 76 characters keep the mail in plain 7-bit text.
    let link = url
        .map(|u| format!("Enter it on the reset page (step 2/3):\n{u}\n\n"))
        .unwrap_or_default();
    Mail {
        to,
        subject: "VTO password reset: your security code".into(),
        body: format!(
            "Someone asked to reset the password of your door station (VTO).\n\n\
             Security code: {}\n\n\
             {link}\
             The code works once, until {}.\n\
             A newer code voids this one.\n\n\
             If you did not ask for this, ignore this mail:\n\
             the password stays as it is. This mail never contains a password.\n",
            format_code(code),
            valid_until
        ),
    }
}

#[async_trait::async_trait]
impl Account for AccountService {
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
    ) -> Result<(Option<SetCookie>, LoginResult), ApiError> {
        match self.auth.login(caller.ip, user, password).await? {
            LoginOutcome::Session(token) => Ok((
                Some(SetCookie(session::set_cookie(&token, caller.secure))),
                LoginResult {
                    second_factor: None,
                },
            )),
            LoginOutcome::SecondFactor(ticket) => Ok((
                None,
                LoginResult {
                    second_factor: Some(ticket),
                },
            )),
        }
    }

    async fn login_code(
        &self,
        caller: &Caller,
        ticket: String,
        code: String,
    ) -> Result<SetCookie, ApiError> {
        let token = self.auth.login_code(caller.ip, ticket, code).await?;
        Ok(SetCookie(session::set_cookie(&token, caller.secure)))
    }

    async fn logout(&self, caller: &Caller) -> Result<SetCookie, ApiError> {
        self.auth.logout(caller.session()?, caller.ip).await?;
        Ok(SetCookie(session::clear_cookie(caller.secure)))
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
    ) -> Result<EmailChanged, ApiError> {
        let session = caller.session()?;
        let old = self
            .auth
            .change_email(session, caller.ip, password, email)
            .await?;
        let new = self
            .settings
            .read({
                let user = session.user.clone();
                move |r| Ok(r.account(&user)?.and_then(|a| a.email))
            })
            .await?;
        let Some(old) = old.filter(|o| Some(o) != new.as_ref()) else {
            return Ok(EmailChanged { notice: None });
        };
        // The old address learns of the change: whoever changed it may not
        // be its owner.
        let mail = Mail {
            to: old,
            subject: "VTO: the password reset address was changed".into(),
            body: format!(
                "The password reset address of your door station (VTO)\n\
                 was changed to {}\n\
                 at {} from {}.\n\n\
                 Security codes for a password reset no longer come here.\n\
                 If this was not you, log in, set the address back\n\
                 and change the password.\n",
                new.as_deref().unwrap_or("(none)"),
                self.time.format(self.time.now()),
                caller.ip
            ),
        };
        let notice = match self.postman.deliver_stored(&self.settings, mail).await {
            Ok(r) => Ok(r.answer),
            Err(e) => {
                self.settings
                    .log(
                        SecurityEventKind::EmailNoticeFailed,
                        &session.user,
                        caller.ip,
                    )
                    .await?;
                Err(e.to_string())
            }
        };
        Ok(EmailChanged {
            notice: Some(notice),
        })
    }

    async fn reset_info(&self, _caller: &Caller) -> Result<ResetInfo, ApiError> {
        let email = self.auth.reset_email().await?;
        Ok(ResetInfo {
            available: email.is_some(),
            email_hint: email.as_deref().map(mask_email),
        })
    }

    async fn reset_request(&self, caller: &Caller) -> Result<ResetIssued, ApiError> {
        let issued = self.auth.reset_issue(caller.ip).await?;
        let url = origin(caller).map(|o| format!("{o}/reset?step=2"));
        let hint = mask_email(&issued.email);
        // The code expires by the host's clock; people read the device's.
        let valid_until = self.auth.to_wall(issued.valid_until);
        let valid_until_text = self.time.format(valid_until);
        let mail = reset_mail(
            issued.email,
            &issued.code,
            url.as_deref(),
            &valid_until_text,
        );
        let receipt = match self.postman.deliver_stored(&self.settings, mail).await {
            Ok(r) => r,
            Err(e) => {
                // A code nobody received must not stay valid.
                self.auth.reset_void().await?;
                return Err(e);
            }
        };
        let qr_url = url.unwrap_or_else(|| "/reset?step=2".into());
        Ok(ResetIssued {
            email_hint: hint,
            qr_svg: qr::svg(&qr_url)?,
            qr_url,
            valid_until,
            valid_until_text,
            delivery: receipt.via,
        })
    }

    async fn reset_verify(&self, caller: &Caller, code: String) -> Result<ResetTicket, ApiError> {
        let ticket = self.auth.reset_verify(caller.ip, code).await?;
        Ok(ResetTicket { ticket })
    }

    async fn reset_complete(
        &self,
        caller: &Caller,
        ticket: String,
        password: String,
    ) -> Result<(), ApiError> {
        self.auth.reset_complete(caller.ip, ticket, password).await
    }

    async fn totp_begin(
        &self,
        caller: &Caller,
        password: String,
    ) -> Result<TotpEnrolment, ApiError> {
        self.auth
            .totp_begin(caller.session()?, caller.ip, password)
            .await
    }

    async fn totp_confirm(&self, caller: &Caller, code: String) -> Result<RecoveryCodes, ApiError> {
        self.auth
            .totp_confirm(caller.session()?, caller.ip, code)
            .await
    }

    async fn totp_disable(
        &self,
        caller: &Caller,
        password: String,
        code: String,
    ) -> Result<(), ApiError> {
        self.auth
            .totp_disable(caller.session()?, caller.ip, password, code)
            .await
    }

    async fn me(&self, caller: &Caller) -> Result<Me, ApiError> {
        let s = caller.session()?;
        Ok(Me {
            user: s.user.clone(),
            role: s.role,
        })
    }

    async fn users(&self, caller: &Caller) -> Result<UsersPage, ApiError> {
        let s = caller.session_with(Right::Settings)?;
        Ok(UsersPage {
            users: self.auth.accounts(s).await?,
            me: s.user.clone(),
            display: self.time.display(),
        })
    }

    async fn add_user(&self, caller: &Caller, new: NewUser) -> Result<UsersPage, ApiError> {
        let s = caller.session_with(Right::Settings)?;
        self.auth.add_account(s, caller.ip, new).await?;
        self.users(caller).await
    }

    async fn set_user_role(
        &self,
        caller: &Caller,
        user: String,
        role: Role,
    ) -> Result<UsersPage, ApiError> {
        let s = caller.session_with(Right::Settings)?;
        self.auth.set_role(s, caller.ip, user, role).await?;
        self.users(caller).await
    }

    async fn set_user_password(
        &self,
        caller: &Caller,
        user: String,
        password: String,
    ) -> Result<UsersPage, ApiError> {
        let s = caller.session_with(Right::Settings)?;
        self.auth
            .set_password_of(s, caller.ip, user, password)
            .await?;
        self.users(caller).await
    }

    async fn delete_user(&self, caller: &Caller, user: String) -> Result<UsersPage, ApiError> {
        let s = caller.session_with(Right::Settings)?;
        self.auth.delete_account(s, caller.ip, user).await?;
        self.users(caller).await
    }

    async fn online_users(&self, caller: &Caller) -> Result<OnlinePage, ApiError> {
        let s = caller.session_with(Right::Settings)?;
        Ok(OnlinePage {
            entries: self.auth.online_entries(s).await?,
            display: self.time.display(),
        })
    }

    async fn end_online(&self, caller: &Caller, key: OnlineKey) -> Result<OnlinePage, ApiError> {
        let s = caller.session_with(Right::Settings)?;
        self.auth.end_online(s, caller.ip, key).await?;
        self.online_users(caller).await
    }
}
