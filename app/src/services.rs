//! The device's services, one trait per area of the manual (server only).
//!
//! The `server` crate implements each trait on that area's service and puts
//! it in the Leptos context as `Arc<dyn Area>`; its HTTP layer puts a
//! [`Caller`] and a [`CspNonce`] in each request's extensions. A server
//! function's body calls the method named as its endpoint, nothing more.
//! Other front doors (the SIP user agent, the HTTP CGI API, DHIP, RTSP,
//! ONVIF) call the same services with a [`Caller`] of their own.
//! Every method that needs a session checks it itself.

use std::{future::Future, net::IpAddr};

pub use std::sync::Arc;

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
        intercom::{CallStatus, TalkAnswer},
        ip_permissions::IpPermissions,
        ipc::{Ipc, IpcExport, IpcPage},
        live::{LiveAnswer, SourceStatus},
        mail::{MailReceipt, MailSettings, PasswordUpdate},
        message::MessagePage,
        network::{CertificateUpload, NetworkPage, NetworkSettings},
        onvif::{OnvifPage, OnvifSettings},
        publish::{Publication, PublishPage, PublishRecord},
        reset::{ResetInfo, ResetIssued, ResetTicket},
        room::{Room, RoomBatch, RoomPage},
        security::SecuritySettings,
        security_log::SecurityLogPage,
        settings::{BasicSettings, StorageUsage},
        sip_server::{SipServerPage, SipServerSettings},
        sip_status::StatusPage,
        station::{Station, StationKind, StationPage},
        system::{EmailChanged, Overview, SetupState},
        system_time::{ClockUpdate, SystemTimePage, TimeSettings},
        time::UnixMillis,
        two_factor::{LoginResult, RecoveryCodes, TotpEnrolment},
        user_info::{UserInfo, UserInfoImported},
        users::{Me, NewUser, OnlineKey, OnlinePage, Role, UsersPage},
        video::{VideoPage, VideoSettings},
        webhook::{Delivery, HookSave, WebhooksPage},
    },
};

/// Who is calling: set by the front door (the HTTP layer's auth guard for
/// the UI) for every request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub ip: IpAddr,
    /// The validated session, if the request carried one.
    pub session: Option<SessionRef>,
    /// Whether the request came over HTTPS (cookies then get `Secure`).
    pub secure: bool,
    /// The Host the browser addressed (checked to be a plain host[:port]
    /// that names the device), for addresses shown back to the caller.
    pub host: Option<String>,
    /// Whether `host` is one of the device's names (not an address).
    pub host_is_name: bool,
    /// The device's address that the connection reached, for links that
    /// leave the device when the Host is not the device's own.
    pub local: Option<std::net::SocketAddr>,
}

/// A session that the auth layer has validated. Holds only the hash of the
/// session id, never the id itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRef {
    pub id_hash: [u8; 32],
    pub user: String,
    /// The account's role as stored when the request came.
    pub role: crate::model::users::Role,
}

impl Caller {
    /// The session, or [`ApiError::Unauthorized`].
    pub fn session(&self) -> Result<&SessionRef, ApiError> {
        self.session.as_ref().ok_or(ApiError::Unauthorized)
    }

    /// The session, if its role has `right`: else
    /// [`ApiError::Forbidden`] (or Unauthorized without a session).
    pub fn session_with(&self, right: crate::model::users::Right) -> Result<&SessionRef, ApiError> {
        let s = self.session()?;
        if s.role.may(right) {
            Ok(s)
        } else {
            Err(ApiError::Forbidden { role: s.role })
        }
    }
}

/// The nonce of this response's Content-Security-Policy.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// A `Set-Cookie` header value to send with the answer.
#[derive(Clone, Debug)]
pub struct SetCookie(pub String);

/// Account and sessions: initialization, login, logout, the account's
/// password and email, password reset, two-factor login.
#[async_trait::async_trait]
pub trait Account: Send + Sync + 'static {
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
    async fn reset_info(&self, caller: &Caller) -> Result<ResetInfo, ApiError>;
    async fn reset_request(&self, caller: &Caller) -> Result<ResetIssued, ApiError>;
    async fn reset_verify(&self, caller: &Caller, code: String) -> Result<ResetTicket, ApiError>;
    async fn reset_complete(
        &self,
        caller: &Caller,
        ticket: String,
        password: String,
    ) -> Result<(), ApiError>;
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
    /// Who is signed in, and their role.
    async fn me(&self, caller: &Caller) -> Result<Me, ApiError>;
    /// Users (admin only): the accounts.
    async fn users(&self, caller: &Caller) -> Result<UsersPage, ApiError>;
    async fn add_user(&self, caller: &Caller, new: NewUser) -> Result<UsersPage, ApiError>;
    /// Ends the account's sessions and connections.
    async fn set_user_role(
        &self,
        caller: &Caller,
        user: String,
        role: Role,
    ) -> Result<UsersPage, ApiError>;
    /// Another account's new password; ends its sessions and connections.
    async fn set_user_password(
        &self,
        caller: &Caller,
        user: String,
        password: String,
    ) -> Result<UsersPage, ApiError>;
    /// Not `admin`, not oneself; ends its sessions and connections.
    async fn delete_user(&self, caller: &Caller, user: String) -> Result<UsersPage, ApiError>;
    /// Online Users (admin only): web sessions and other front doors'
    /// connections.
    async fn online_users(&self, caller: &Caller) -> Result<OnlinePage, ApiError>;
    /// Ends one of them (not the caller's own session).
    async fn end_online(&self, caller: &Caller, key: OnlineKey) -> Result<OnlinePage, ApiError>;
}

/// System and time: the main page's overview, Local Setting > Basic,
/// System and Security, the config manager's Device Info, reboot and
/// factory reset.
#[async_trait::async_trait]
pub trait System: Send + Sync + 'static {
    async fn overview(&self, caller: &Caller) -> Result<Overview, ApiError>;
    async fn reboot(&self, caller: &Caller) -> Result<(), ApiError>;
    async fn factory_reset(&self, caller: &Caller, password: String)
        -> Result<SetCookie, ApiError>;
    async fn basic_settings(&self, caller: &Caller) -> Result<BasicSettings, ApiError>;
    async fn save_basic_settings(
        &self,
        caller: &Caller,
        settings: BasicSettings,
    ) -> Result<BasicSettings, ApiError>;
    async fn system_time(&self, caller: &Caller) -> Result<SystemTimePage, ApiError>;
    async fn save_system_time(
        &self,
        caller: &Caller,
        settings: TimeSettings,
        clock: ClockUpdate,
    ) -> Result<SystemTimePage, ApiError>;
    async fn sync_pc(&self, caller: &Caller, now: UnixMillis) -> Result<SystemTimePage, ApiError>;
    async fn security_settings(&self, caller: &Caller) -> Result<SecuritySettings, ApiError>;
    async fn save_security_settings(
        &self,
        caller: &Caller,
        settings: SecuritySettings,
    ) -> Result<SecuritySettings, ApiError>;
    async fn export_device_info(&self, caller: &Caller) -> Result<DeviceInfo, ApiError>;
    /// Checks the whole file, then applies it in one transaction.
    async fn import_device_info(&self, caller: &Caller, file: String) -> Result<(), ApiError>;
    /// A full backup sealed with `passphrase`, as base64.
    async fn backup(
        &self,
        caller: &Caller,
        password: String,
        passphrase: String,
    ) -> Result<String, ApiError>;
    /// Replaces everything with a full backup (base64), then restarts.
    async fn restore(
        &self,
        caller: &Caller,
        password: String,
        passphrase: String,
        file: String,
    ) -> Result<(), ApiError>;
}

/// Network Setting: Basic (listeners, HTTPS), IP Permissions, Email.
#[async_trait::async_trait]
pub trait Network: Send + Sync + 'static {
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
    async fn new_certificate(&self, caller: &Caller) -> Result<NetworkPage, ApiError>;
    async fn ip_permissions(&self, caller: &Caller) -> Result<IpPermissions, ApiError>;
    /// Refused when the lists would shut out the caller's own address.
    async fn save_ip_permissions(
        &self,
        caller: &Caller,
        settings: IpPermissions,
    ) -> Result<IpPermissions, ApiError>;
    async fn mail_settings(&self, caller: &Caller) -> Result<MailSettings, ApiError>;
    async fn save_mail_settings(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailSettings, ApiError>;
    /// To the account's address with the settings as given (saved or not).
    async fn send_test_mail(
        &self,
        caller: &Caller,
        settings: MailSettings,
        password: PasswordUpdate,
    ) -> Result<MailReceipt, ApiError>;
}

/// Household Setting: rooms, VTO and VTS stations, Publish Information,
/// Status, User Info; and the SIP server they register with.
#[async_trait::async_trait]
pub trait Household: Send + Sync + 'static {
    async fn rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError>;
    /// A room's Register Password is the one typed, or one generated and
    /// shown once in the answer.
    async fn add_room(
        &self,
        caller: &Caller,
        room: Room,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError>;
    /// Adds the rooms of a batch that do not exist yet.
    async fn add_rooms(
        &self,
        caller: &Caller,
        batch: RoomBatch,
        password: Option<String>,
    ) -> Result<RoomPage, ApiError>;
    /// Changes a room's names (the manual's Modify).
    async fn save_room(&self, caller: &Caller, room: Room) -> Result<RoomPage, ApiError>;
    async fn delete_room(&self, caller: &Caller, room_no: String) -> Result<RoomPage, ApiError>;
    async fn clear_rooms(&self, caller: &Caller) -> Result<RoomPage, ApiError>;
    async fn stations(&self, caller: &Caller, kind: StationKind) -> Result<StationPage, ApiError>;
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
    async fn publish(
        &self,
        caller: &Caller,
        publication: Publication,
    ) -> Result<PublishRecord, ApiError>;
    async fn publish_history(&self, caller: &Caller, offset: u64) -> Result<PublishPage, ApiError>;
    async fn export_user_info(&self, caller: &Caller) -> Result<UserInfo, ApiError>;
    /// Replaces the lists; known numbers keep their passwords.
    async fn import_user_info(
        &self,
        caller: &Caller,
        file: String,
    ) -> Result<UserInfoImported, ApiError>;
    async fn sip_status(&self, caller: &Caller) -> Result<StatusPage, ApiError>;
    async fn sip_server(&self, caller: &Caller) -> Result<SipServerPage, ApiError>;
    /// Saves and applies it; `password` None keeps the stored one.
    async fn save_sip_server(
        &self,
        caller: &Caller,
        settings: SipServerSettings,
        password: Option<String>,
    ) -> Result<SipServerPage, ApiError>;
}

/// The door: Access Control > Local, the lock and its simulator, cards and
/// the keypad's access passwords.
#[async_trait::async_trait]
pub trait Door: Send + Sync + 'static {
    async fn access_settings(&self, caller: &Caller) -> Result<AccessSettings, ApiError>;
    /// Applies at once (from the next unlock; the contact type at once).
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
}

/// Video: Local Setting > Video & Audio, live viewers, IPC Setting.
#[async_trait::async_trait]
pub trait Video: Send + Sync + 'static {
    async fn video_settings(&self, caller: &Caller) -> Result<VideoPage, ApiError>;
    /// Applies at once: the door camera's viewers stay and go on with the
    /// new stream.
    async fn save_video_settings(
        &self,
        caller: &Caller,
        settings: VideoSettings,
        password: PasswordUpdate,
    ) -> Result<VideoPage, ApiError>;
    /// Answers a browser's WebRTC offer for a camera.
    async fn live_offer(
        &self,
        caller: &Caller,
        source: String,
        sdp: String,
    ) -> Result<LiveAnswer, ApiError>;
    async fn live_end(&self, caller: &Caller, id: String) -> Result<(), ApiError>;
    async fn live_status(&self, caller: &Caller, source: String) -> Result<SourceStatus, ApiError>;
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
}

/// Log Management: Security, Call, Unlock, Alarm.
#[async_trait::async_trait]
pub trait Logs: Send + Sync + 'static {
    async fn security_log(&self, caller: &Caller, offset: u64)
        -> Result<SecurityLogPage, ApiError>;
    async fn call_log(&self, caller: &Caller, offset: u64) -> Result<CallLogPage, ApiError>;
    /// Export Data: every kept record as CSV.
    async fn export_call_log(&self, caller: &Caller) -> Result<String, ApiError>;
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
    /// Records Kept of the unlock log (the oldest beyond it go at once).
    async fn save_unlock_log_settings(
        &self,
        caller: &Caller,
        settings: UnlockLogSettings,
    ) -> Result<UnlockLogSettings, ApiError>;
    async fn alarm_log(&self, caller: &Caller, offset: u64) -> Result<AlarmLogPage, ApiError>;
}

/// Network Setting > Webhooks: the URLs the door's events go to.
#[async_trait::async_trait]
pub trait Webhooks: Send + Sync + 'static {
    async fn webhooks(&self, caller: &Caller) -> Result<WebhooksPage, ApiError>;
    /// Adds (`hook.id` 0) or modifies a webhook. Pointing one that has a
    /// secret at another host needs the secret again.
    async fn save_webhook(&self, caller: &Caller, save: HookSave)
        -> Result<WebhooksPage, ApiError>;
    async fn delete_webhook(&self, caller: &Caller, id: u32) -> Result<WebhooksPage, ApiError>;
    /// Sends a `test` event to the saved webhook once, now, and answers
    /// what became of it.
    async fn test_webhook(&self, caller: &Caller, id: u32) -> Result<Delivery, ApiError>;
}

/// Network Setting > ONVIF: the ONVIF services, WS-Discovery and the
/// ONVIF password (write-only).
#[async_trait::async_trait]
pub trait Onvif: Send + Sync + 'static {
    async fn onvif(&self, caller: &Caller) -> Result<OnvifPage, ApiError>;
    /// Checked as a whole (the account must exist); nothing is written
    /// when anything is wrong.
    async fn save_onvif(
        &self,
        caller: &Caller,
        settings: OnvifSettings,
        password: PasswordUpdate,
    ) -> Result<OnvifPage, ApiError>;
}

/// Runs a server function's body: gives it the area's service and the
/// caller, and sends its error with the error's own HTTP status.
pub async fn call<S, T, Fut>(body: impl FnOnce(Arc<S>, Caller) -> Fut) -> Result<T, ApiError>
where
    S: ?Sized + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let service =
        use_context::<Arc<S>>().ok_or_else(|| ApiError::Internal("service not in context".into()));
    let caller = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .ok_or_else(|| ApiError::Internal("caller not in context".into()));
    let result = match (service, caller) {
        (Ok(service), Ok(caller)) => body(service, caller).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    respond(result)
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

/// Door calls: the door's Call button (the simulator's, a GPIO line's, an
/// integration's) rings a room's monitors.
#[async_trait::async_trait]
pub trait Intercom: Send + Sync + 'static {
    /// The call: at once when its version is not `seen`, else when it
    /// changes (or after about 20 s).
    async fn call_status(&self, caller: &Caller, seen: u64) -> Result<CallStatus, ApiError>;
    /// Presses Call: `None` calls the Villa Station's room (the first of
    /// Room No. Management), a number is dialled on the keypad (a room or
    /// the Centre Call No.).
    async fn call(&self, caller: &Caller, number: Option<String>) -> Result<CallStatus, ApiError>;
    /// Ends the door's call (the visitor walked away, or the browser that
    /// talks hangs up).
    async fn hang_up(&self, caller: &Caller) -> Result<CallStatus, ApiError>;
    /// Answers the ringing door call in this browser: `sdp` is its WebRTC
    /// offer (audio sendrecv: its microphone; video to receive). It
    /// becomes the call's one talker and the monitors are cancelled.
    /// Refused when nothing rings or someone answered first, unless
    /// `take_over`: then it takes the talk from the monitor or browser
    /// that talks (which is told, and no longer heard).
    async fn answer_call(
        &self,
        caller: &Caller,
        sdp: String,
        take_over: bool,
    ) -> Result<TalkAnswer, ApiError>;
    /// Hangs up the door's call if `id` (a [`TalkAnswer::id`]) is its
    /// talker; false if not.
    async fn end_talk(&self, caller: &Caller, id: &str) -> Result<bool, ApiError>;
    /// Rejects the ringing door call for everyone (like a monitor's
    /// reject).
    async fn reject_call(&self, caller: &Caller) -> Result<CallStatus, ApiError>;
    /// Visitors' messages, newest first.
    async fn messages(&self, caller: &Caller) -> Result<MessagePage, ApiError>;
    async fn delete_message(&self, caller: &Caller, file: String) -> Result<MessagePage, ApiError>;
    /// What snapshots and messages take of the Storage Point, and its
    /// bounds (Local Setting > Basic).
    async fn storage_usage(&self, caller: &Caller) -> Result<StorageUsage, ApiError>;
}
