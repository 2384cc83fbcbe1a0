//! The seam between the UI's server functions and the device (server only).
//!
//! The `server` crate implements [`Device`] and puts it in the Leptos
//! context; its HTTP layer puts a [`Caller`] and a [`CspNonce`] in each
//! request's extensions. Server function bodies only translate between the
//! wire and this trait.

use std::{net::IpAddr, sync::Arc};

use leptos::prelude::*;

use crate::{
    error::ApiError,
    model::{
        access::{
            AccessSettings, AlarmLogPage, DoorStatus, SimAction, UnlockFilter, UnlockLogPage,
            UnlockLogSettings, UnlockRecord, UnlockVia,
        },
        call_log::CallLogPage,
        card::{CardChange, RoomCards},
        config::DeviceInfo,
        ip_permissions::IpPermissions,
        ipc::{Ipc, IpcExport, IpcPage},
        live::{LiveAnswer, SourceStatus},
        mail::{MailReceipt, MailSettings, PasswordUpdate},
        network::{CertificateUpload, NetworkPage, NetworkSettings},
        reset::{ResetInfo, ResetIssued, ResetTicket},
        room::{Room, RoomBatch, RoomPage},
        security::SecuritySettings,
        security_log::SecurityLogPage,
        settings::BasicSettings,
        station::{Station, StationKind, StationPage},
        system::{EmailChanged, Overview, SetupState},
        system_time::{ClockUpdate, SystemTimePage, TimeSettings},
        time::UnixMillis,
        two_factor::{LoginResult, RecoveryCodes, TotpEnrolment},
        video::{VideoPage, VideoSettings},
    },
};

/// Who is calling: set by the server's auth layer for every request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub ip: IpAddr,
    /// The validated session, if the request carried one.
    pub session: Option<SessionRef>,
    /// Whether the request came over HTTPS (cookies then get `Secure`).
    pub secure: bool,
    /// The Host the browser addressed (checked to be a plain host[:port]),
    /// for links back to the device (the reset QR code).
    pub host: Option<String>,
}

/// A session that the auth layer has validated. Holds only the hash of the
/// session id, never the id itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRef {
    pub id_hash: [u8; 32],
    pub user: String,
}

impl Caller {
    /// The session, or [`ApiError::Unauthorized`].
    pub fn session(&self) -> Result<&SessionRef, ApiError> {
        self.session.as_ref().ok_or(ApiError::Unauthorized)
    }
}

/// The nonce of this response's Content-Security-Policy.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// A `Set-Cookie` header value to send with the answer.
#[derive(Clone, Debug)]
pub struct SetCookie(pub String);

/// What the device does for the UI. Every method that needs a session
/// checks it itself, whatever the HTTP layer already did.
#[async_trait::async_trait]
pub trait Device: Send + Sync + 'static {
    async fn setup_state(&self) -> Result<SetupState, ApiError>;
    async fn initialize(
        &self,
        caller: &Caller,
        password: String,
        email: Option<String>,
    ) -> Result<(), ApiError>;
    /// A cookie when the login is complete; none when a two-factor code
    /// comes next.
    async fn login(
        &self,
        caller: &Caller,
        user: String,
        password: String,
    ) -> Result<(Option<SetCookie>, LoginResult), ApiError>;
    async fn login_code(
        &self,
        caller: &Caller,
        ticket: String,
        code: String,
    ) -> Result<SetCookie, ApiError>;
    async fn logout(&self, caller: &Caller) -> Result<SetCookie, ApiError>;
    async fn overview(&self, caller: &Caller) -> Result<Overview, ApiError>;
    async fn change_password(
        &self,
        caller: &Caller,
        old_password: String,
        new_password: String,
    ) -> Result<(), ApiError>;
    async fn change_email(
        &self,
        caller: &Caller,
        password: String,
        email: Option<String>,
    ) -> Result<EmailChanged, ApiError>;
    async fn reboot(&self, caller: &Caller) -> Result<(), ApiError>;
    async fn factory_reset(&self, caller: &Caller, password: String)
        -> Result<SetCookie, ApiError>;
    async fn security_log(&self, caller: &Caller, offset: u64)
        -> Result<SecurityLogPage, ApiError>;

    // Log Management > Call.
    async fn call_log(&self, caller: &Caller, offset: u64) -> Result<CallLogPage, ApiError>;
    /// Export Data: every kept record as CSV.
    async fn export_call_log(&self, caller: &Caller) -> Result<String, ApiError>;

    // Password reset (public).
    async fn reset_info(&self) -> Result<ResetInfo, ApiError>;
    async fn reset_request(&self, caller: &Caller) -> Result<ResetIssued, ApiError>;
    async fn reset_verify(&self, caller: &Caller, code: String) -> Result<ResetTicket, ApiError>;
    async fn reset_complete(
        &self,
        caller: &Caller,
        ticket: String,
        password: String,
    ) -> Result<(), ApiError>;

    // Network Setting > Email.
    async fn mail_settings(&self, caller: &Caller) -> Result<MailSettings, ApiError>;
    async fn save_mail_settings(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailSettings, ApiError>;
    /// Sends a test mail to the account's address with the settings as
    /// given (saved or not).
    async fn send_test_mail(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailReceipt, ApiError>;

    // Local Setting > Basic.
    async fn basic_settings(&self, caller: &Caller) -> Result<BasicSettings, ApiError>;
    async fn save_basic_settings(
        &self,
        caller: &Caller,
        settings: BasicSettings,
    ) -> Result<BasicSettings, ApiError>;

    // Local Setting > System.
    async fn system_time(&self, caller: &Caller) -> Result<SystemTimePage, ApiError>;
    async fn save_system_time(
        &self,
        caller: &Caller,
        settings: TimeSettings,
        clock: ClockUpdate,
    ) -> Result<SystemTimePage, ApiError>;
    async fn sync_pc(&self, caller: &Caller, now: UnixMillis) -> Result<SystemTimePage, ApiError>;

    // Live view.
    /// Answers a browser's WebRTC offer for a camera.
    async fn live_offer(
        &self,
        caller: &Caller,
        source: String,
        sdp: String,
    ) -> Result<LiveAnswer, ApiError>;
    async fn live_end(&self, caller: &Caller, id: String) -> Result<(), ApiError>;
    async fn live_status(&self, caller: &Caller, source: String) -> Result<SourceStatus, ApiError>;

    // IPC Setting.
    async fn ipc_list(&self, caller: &Caller) -> Result<IpcPage, ApiError>;
    /// Adds (`id` None) or modifies a camera.
    async fn save_ipc(
        &self,
        caller: &Caller,
        id: Option<u32>,
        ipc: Ipc,
        password: PasswordUpdate,
    ) -> Result<IpcPage, ApiError>;
    async fn delete_ipc(&self, caller: &Caller, id: u32) -> Result<IpcPage, ApiError>;
    /// The list without passwords.
    async fn export_ipcs(&self, caller: &Caller) -> Result<IpcExport, ApiError>;
    /// Replaces the list with a file's: checked whole, all or nothing.
    async fn import_ipcs(&self, caller: &Caller, file: String) -> Result<IpcPage, ApiError>;

    // Household Setting > Room No. Management.
    async fn rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError>;
    /// Adds a room; its Register Password is the one typed, or a generated
    /// one shown once in the answer.
    async fn add_room(
        &self,
        caller: &Caller,
        room: Room,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError>;
    /// Changes a room's names (the manual's Modify).
    async fn save_room(&self, caller: &Caller, room: Room) -> Result<RoomPage, ApiError>;
    // Household Setting > VTO No. Management and VTS Management.
    async fn stations(&self, caller: &Caller, kind: StationKind) -> Result<StationPage, ApiError>;
    /// Adds a station; without a password the device generates one, shown
    /// once.
    async fn add_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError>;
    /// Modify the station that was `number`: its number (with a Register
    /// Password, typed or generated) and its IP Address.
    async fn save_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: String,
        station: Station,
        password: Option<String>,
    ) -> Result<StationPage, ApiError>;
    /// Deletes one station, or (None) all but this VTO: Clear.
    async fn delete_station(
        &self,
        caller: &Caller,
        kind: StationKind,
        number: Option<String>,
    ) -> Result<StationPage, ApiError>;

    /// Publish Information > Send Info: to one number or all devices.
    async fn publish(
        &self,
        caller: &Caller,
        publication: crate::model::publish::Publication,
    ) -> Result<crate::model::publish::PublishRecord, ApiError>;
    /// Publish Information > History Info.
    async fn publish_history(
        &self,
        caller: &Caller,
        offset: u64,
    ) -> Result<crate::model::publish::PublishPage, ApiError>;

    /// Config manager, User Info export (no Register Passwords).
    async fn export_user_info(
        &self,
        caller: &Caller,
    ) -> Result<crate::model::user_info::UserInfo, ApiError>;
    /// User Info import: replaces the lists; known numbers keep their
    /// passwords.
    async fn import_user_info(
        &self,
        caller: &Caller,
        file: String,
    ) -> Result<crate::model::user_info::UserInfoImported, ApiError>;

    /// Household Setting > Status.
    async fn sip_status(
        &self,
        caller: &Caller,
    ) -> Result<crate::model::sip_status::StatusPage, ApiError>;
    /// Adds the rooms of a batch that do not exist yet.
    async fn add_rooms(
        &self,
        caller: &Caller,
        batch: RoomBatch,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError>;
    async fn delete_room(&self, caller: &Caller, room_no: String) -> Result<RoomPage, ApiError>;
    async fn clear_rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError>;

    // Local Setting > Video & Audio.
    async fn video_settings(&self, caller: &Caller) -> Result<VideoPage, ApiError>;
    /// Applies at once: the door camera's viewers stay and go on with the
    /// new stream.
    async fn save_video_settings(
        &self,
        caller: &Caller,
        settings: VideoSettings,
        password: PasswordUpdate,
    ) -> Result<VideoPage, ApiError>;

    // Network Setting > Basic.
    /// Network Setting > SIP Server.
    async fn sip_server(
        &self,
        caller: &Caller,
    ) -> Result<crate::model::sip_server::SipServerPage, ApiError>;
    /// Saves and applies it; `password` None keeps the stored one.
    async fn save_sip_server(
        &self,
        caller: &Caller,
        settings: crate::model::sip_server::SipServerSettings,
        password: Option<String>,
    ) -> Result<crate::model::sip_server::SipServerPage, ApiError>;

    // Local Setting > Access Control > Local, the door, Log Management >
    // Unlock.
    async fn access_settings(&self, caller: &Caller) -> Result<AccessSettings, ApiError>;
    /// Saves and applies at once (from the next unlock; the contact type
    /// at once).
    async fn save_access_settings(
        &self,
        caller: &Caller,
        settings: AccessSettings,
    ) -> Result<AccessSettings, ApiError>;
    /// The door's state once its version is not `seen` (at once if it
    /// differs), or after about 20 s.
    async fn door_status(&self, caller: &Caller, seen: u64) -> Result<DoorStatus, ApiError>;
    /// Opens the door if allowed now; the attempt, recorded either way.
    async fn unlock(&self, caller: &Caller, via: UnlockVia) -> Result<UnlockRecord, ApiError>;
    /// The simulated door's controls (refused on real hardware).
    async fn simulate(&self, caller: &Caller, action: SimAction) -> Result<DoorStatus, ApiError>;
    async fn unlock_log(
        &self,
        caller: &Caller,
        offset: u64,
        filter: UnlockFilter,
    ) -> Result<UnlockLogPage, ApiError>;
    /// Export Data: the records that match, as CSV.
    async fn export_unlock_log(
        &self,
        caller: &Caller,
        filter: UnlockFilter,
    ) -> Result<String, ApiError>;
    async fn alarm_log(&self, caller: &Caller, offset: u64) -> Result<AlarmLogPage, ApiError>;
    /// Records Kept of the unlock log (the oldest beyond it go at once).
    async fn save_unlock_log_settings(
        &self,
        caller: &Caller,
        settings: UnlockLogSettings,
    ) -> Result<UnlockLogSettings, ApiError>;

    // Room No. Management > Issue Card, and the keypad's access password.
    async fn room_cards(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError>;
    /// Starts the countdown: cards swiped at the VTO are captured.
    async fn issue_card(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError>;
    /// The Issue Card dialog's Save: names a captured card.
    async fn name_card(
        &self,
        caller: &Caller,
        room_no: String,
        number: String,
        name: String,
    ) -> Result<RoomCards, ApiError>;
    /// Confirm Send Card: saves the named cards captured.
    async fn confirm_send_card(
        &self,
        caller: &Caller,
        room_no: String,
    ) -> Result<RoomCards, ApiError>;
    async fn cancel_issue(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError>;
    async fn change_card(
        &self,
        caller: &Caller,
        room_no: String,
        number: String,
        change: CardChange,
    ) -> Result<RoomCards, ApiError>;
    /// `None` clears it.
    async fn set_access_password(
        &self,
        caller: &Caller,
        room_no: String,
        password: Option<String>,
    ) -> Result<RoomCards, ApiError>;
    /// The simulator's card reader (refused on real hardware).
    async fn present_card(&self, caller: &Caller, number: String) -> Result<DoorStatus, ApiError>;
    /// The simulator's keypad (refused on real hardware).
    async fn enter_password(
        &self,
        caller: &Caller,
        room_no: String,
        password: String,
    ) -> Result<DoorStatus, ApiError>;

    async fn network(&self, caller: &Caller) -> Result<NetworkPage, ApiError>;
    /// Moves the web server when the address or ports change; the page's
    /// `moved_to` then says where the browser goes.
    async fn save_network(
        &self,
        caller: &Caller,
        settings: NetworkSettings,
    ) -> Result<NetworkPage, ApiError>;
    async fn upload_certificate(
        &self,
        caller: &Caller,
        upload: CertificateUpload,
    ) -> Result<NetworkPage, ApiError>;
    /// Replaces the certificate with a new self-signed one.
    async fn new_certificate(&self, caller: &Caller) -> Result<NetworkPage, ApiError>;

    // Network Setting > IP Permissions.
    async fn ip_permissions(&self, caller: &Caller) -> Result<IpPermissions, ApiError>;
    /// Refused when the lists would shut out the caller's own address.
    async fn save_ip_permissions(
        &self,
        caller: &Caller,
        settings: IpPermissions,
    ) -> Result<IpPermissions, ApiError>;

    // Config manager: Device Info.
    async fn export_device_info(&self, caller: &Caller) -> Result<DeviceInfo, ApiError>;
    /// Checks the whole file, then applies it in one transaction.
    async fn import_device_info(&self, caller: &Caller, file: String) -> Result<(), ApiError>;

    // Local Setting > Security.
    async fn security_settings(&self, caller: &Caller) -> Result<SecuritySettings, ApiError>;
    async fn save_security_settings(
        &self,
        caller: &Caller,
        settings: SecuritySettings,
    ) -> Result<SecuritySettings, ApiError>;

    // Two-factor login.
    async fn totp_begin(
        &self,
        caller: &Caller,
        password: String,
    ) -> Result<TotpEnrolment, ApiError>;
    async fn totp_confirm(&self, caller: &Caller, code: String) -> Result<RecoveryCodes, ApiError>;
    async fn totp_disable(
        &self,
        caller: &Caller,
        password: String,
        code: String,
    ) -> Result<(), ApiError>;
}

/// Runs a server function's body: gives it the device and the caller, and
/// sends its error with the error's own HTTP status.
pub async fn call<T, Fut>(body: impl FnOnce(Arc<dyn Device>, Caller) -> Fut) -> Result<T, ApiError>
where
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let result = match context() {
        Ok((device, caller)) => body(device, caller).await,
        Err(e) => Err(e),
    };
    respond(result)
}

/// The device and the caller of the current request.
fn context() -> Result<(Arc<dyn Device>, Caller), ApiError> {
    let device = use_context::<Arc<dyn Device>>()
        .ok_or_else(|| ApiError::Internal("device not in context".into()))?;
    let caller = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .ok_or_else(|| ApiError::Internal("caller not in context".into()))?;
    Ok((device, caller))
}

/// Sends `result`'s error with its own HTTP status (and `Retry-After` for a
/// lockout).
fn respond<T>(result: Result<T, ApiError>) -> Result<T, ApiError> {
    if let Err(e) = &result {
        if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(e.status()) {
                opts.set_status(status);
            }
            if let Some(retry_after_secs) = e.retry_after_secs() {
                if let Ok(v) = http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                    opts.insert_header(http::header::RETRY_AFTER, v);
                }
            }
        }
    }
    result
}

/// Adds a `Set-Cookie` header to the answer.
pub fn set_cookie(cookie: &SetCookie) {
    if let (Some(opts), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&cookie.0),
    ) {
        opts.append_header(http::header::SET_COOKIE, v);
    }
}
