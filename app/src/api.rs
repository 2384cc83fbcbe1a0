//! Server functions: the browser's API to the device. Paths are stable
//! (`/api/<name>`, JSON in and out) so integrators can script them.
//!
//! Every endpoint needs a session except those in [`PUBLIC_ENDPOINTS`]; the
//! server's auth layer enforces that before a body runs, and the device
//! checks it again.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::{
    error::ApiError,
    // Not imported by name: `#[server]` makes structs named after the
    // functions (`SetupState`, `Overview`).
    model::{
        access, call_log, card, config, intercom, ip_permissions, ipc, live,
        mail::{self, PasswordUpdate},
        message, network, onvif, publish, reset, room, security,
        security_log::SecurityLogPage,
        settings, sip_server, station, system, system_time, time, two_factor, user_info,
        users::{self as accounts, Right},
        video, webhook,
    },
};

/// The right a route needs (default deny: anything not named here needs
/// [`Right::Settings`], which only Admin has). `path` is the request's
/// path: an endpoint (`/api/unlock`), a WHEP or call path, a snapshot, a
/// stored file, or a page.
pub fn required_right(path: &str) -> Right {
    use Right::*;
    if let Some(name) = path.strip_prefix("/api/") {
        return match name {
            // The least right, which every role has: one's own account and
            // what the main page shows to anyone.
            "logout" | "change_password" | "change_email" | "totp_begin" | "totp_confirm"
            | "totp_disable" | "me" | "overview" | "door_status" | "call_status"
            | "call/events" | "live_offer" | "live_status" | "live_end" => LiveView,
            // The Monitor page's cameras (no passwords in it).
            "ipc_list" => LiveView,
            n if n.starts_with("whep/") => LiveView,
            // The door and its calls; the simulated door's buttons too.
            "unlock" | "answer_call" | "reject_call" | "hang_up" | "call" | "simulate"
            | "present_card" | "enter_password" | "call/whep" => OpenDoor,
            n if n.starts_with("call/whep/") => OpenDoor,
            "call_log" | "export_call_log" | "unlock_log" | "export_unlock_log" | "alarm_log"
            | "messages" => Logs,
            _ => Settings,
        };
    }
    if path.starts_with("/snapshot/") {
        return Snapshot;
    }
    // Saved snapshots and visitors' messages, linked from the logs.
    if path.starts_with("/storage/") {
        return Logs;
    }
    crate::pages::required_right(path)
}

/// Endpoints that answer without a session: what the initialization,
/// login and password reset pages need.
pub const PUBLIC_ENDPOINTS: &[&str] = &[
    "/api/setup_state",
    "/api/initialize",
    "/api/login",
    "/api/login_code",
    "/api/reset_info",
    "/api/reset_request",
    "/api/reset_verify",
    "/api/reset_complete",
];

#[server(endpoint = "setup_state", input = Json)]
pub async fn setup_state() -> Result<system::SetupState, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, _| async move { s.setup_state().await }).await
}

#[server(endpoint = "initialize", input = Json)]
pub async fn initialize(password: String, email: Option<String>) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.initialize(&c, password, email).await }).await
}

/// With two-factor login on, the answer has a ticket for `login_code`
/// and no session yet.
#[server(endpoint = "login", input = Json)]
pub async fn login(user: String, password: String) -> Result<two_factor::LoginResult, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move {
        let (cookie, result) = s.login(&c, user, password).await?;
        if let Some(cookie) = cookie {
            set_cookie(&cookie);
        }
        Ok(result)
    })
    .await
}

/// The second login step: the app's code (or a recovery code).
#[server(endpoint = "login_code", input = Json)]
pub async fn login_code(ticket: String, code: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move {
        let cookie = s.login_code(&c, ticket, code).await?;
        set_cookie(&cookie);
        Ok(())
    })
    .await
}

#[server(endpoint = "logout", input = Json)]
pub async fn logout() -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move {
        let cookie = s.logout(&c).await?;
        set_cookie(&cookie);
        Ok(())
    })
    .await
}

#[server(endpoint = "overview", input = Json)]
pub async fn overview() -> Result<system::Overview, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.overview(&c).await }).await
}

#[server(endpoint = "change_password", input = Json)]
pub async fn change_password(old_password: String, new_password: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move {
        s
            .change_password(&c, old_password, new_password)
            .await
    })
    .await
}

#[server(endpoint = "change_email", input = Json)]
pub async fn change_email(
    password: String,
    email: Option<String>,
) -> Result<system::EmailChanged, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.change_email(&c, password, email).await }).await
}

#[server(endpoint = "reboot", input = Json)]
pub async fn reboot() -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.reboot(&c).await }).await
}

#[server(endpoint = "factory_reset", input = Json)]
pub async fn factory_reset(password: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move {
        let cookie = s.factory_reset(&c, password).await?;
        set_cookie(&cookie);
        Ok(())
    })
    .await
}

#[server(endpoint = "security_log", input = Json)]
pub async fn security_log(offset: u64) -> Result<SecurityLogPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Logs>, c| async move { s.security_log(&c, offset).await }).await
}

#[server(endpoint = "call_log", input = Json)]
pub async fn call_log(offset: u64) -> Result<call_log::CallLogPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Logs>, c| async move { s.call_log(&c, offset).await }).await
}

/// Export Data of Log Management > Call: the CSV text.
#[server(endpoint = "export_call_log", input = Json)]
pub async fn export_call_log() -> Result<String, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Logs>, c| async move { s.export_call_log(&c).await }).await
}

#[server(endpoint = "reset_info", input = Json)]
pub async fn reset_info() -> Result<reset::ResetInfo, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.reset_info(&c).await }).await
}

/// Mails a new security code (voiding the old one).
#[server(endpoint = "reset_request", input = Json)]
pub async fn reset_request() -> Result<reset::ResetIssued, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.reset_request(&c).await }).await
}

#[server(endpoint = "reset_verify", input = Json)]
pub async fn reset_verify(code: String) -> Result<reset::ResetTicket, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.reset_verify(&c, code).await }).await
}

#[server(endpoint = "reset_complete", input = Json)]
pub async fn reset_complete(ticket: String, password: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.reset_complete(&c, ticket, password).await }).await
}

#[server(endpoint = "mail_settings", input = Json)]
pub async fn mail_settings() -> Result<mail::MailSettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.mail_settings(&c).await }).await
}

#[server(endpoint = "save_mail_settings", input = Json)]
pub async fn save_mail_settings(
    settings: mail::MailSettings,
    password: PasswordUpdate,
) -> Result<mail::MailSettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.save_mail_settings(&c, settings, password).await })
        .await
}

#[server(endpoint = "send_test_mail", input = Json)]
pub async fn send_test_mail(
    settings: mail::MailSettings,
    password: PasswordUpdate,
) -> Result<mail::MailReceipt, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.send_test_mail(&c, settings, password).await })
        .await
}

#[server(endpoint = "security_settings", input = Json)]
pub async fn security_settings() -> Result<security::SecuritySettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.security_settings(&c).await }).await
}

#[server(endpoint = "save_security_settings", input = Json)]
pub async fn save_security_settings(
    settings: security::SecuritySettings,
) -> Result<security::SecuritySettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.save_security_settings(&c, settings).await }).await
}

#[server(endpoint = "totp_begin", input = Json)]
pub async fn totp_begin(password: String) -> Result<two_factor::TotpEnrolment, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.totp_begin(&c, password).await }).await
}

#[server(endpoint = "totp_confirm", input = Json)]
pub async fn totp_confirm(code: String) -> Result<two_factor::RecoveryCodes, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.totp_confirm(&c, code).await }).await
}

#[server(endpoint = "totp_disable", input = Json)]
pub async fn totp_disable(password: String, code: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.totp_disable(&c, password, code).await }).await
}

#[server(endpoint = "basic_settings", input = Json)]
pub async fn basic_settings() -> Result<settings::BasicSettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.basic_settings(&c).await }).await
}

/// Saves the whole Basic page (all or nothing).
#[server(endpoint = "save_basic_settings", input = Json)]
pub async fn save_basic_settings(
    settings: settings::BasicSettings,
) -> Result<settings::BasicSettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.save_basic_settings(&c, settings).await }).await
}

#[server(endpoint = "rooms", input = Json)]
pub async fn rooms() -> Result<room::RoomPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.rooms(&c).await }).await
}

/// Adds a room; without a password the device generates one and shows it
/// once in the answer.
#[server(endpoint = "add_room", input = Json)]
pub async fn add_room(
    room: room::Room,
    password: Option<String>,
) -> Result<room::RoomPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.add_room(&c, room, password).await }).await
}

/// Adds rooms in batch (floors of rooms); without a password each gets a
/// generated one, shown once in the answer.
#[server(endpoint = "add_rooms", input = Json)]
pub async fn add_rooms(
    batch: room::RoomBatch,
    password: Option<String>,
) -> Result<room::RoomPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.add_rooms(&c, batch, password).await }).await
}

/// Household Setting > VTO No. Management or VTS Management.
#[server(endpoint = "stations", input = Json)]
pub async fn stations(kind: station::StationKind) -> Result<station::StationPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.stations(&c, kind).await }).await
}

/// Adds a VTO or VTS; without a password the device generates one, shown
/// once.
#[server(endpoint = "add_station", input = Json)]
pub async fn add_station(
    kind: station::StationKind,
    station: station::Station,
    password: Option<String>,
) -> Result<station::StationPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.add_station(&c, kind, station, password).await })
        .await
}

/// Modify: the number (a VTO's Rec No.; a new Register Password with it)
/// and the IP Address of the station that was `number`.
#[server(endpoint = "save_station", input = Json)]
pub async fn save_station(
    kind: station::StationKind,
    number: String,
    station: station::Station,
    password: Option<String>,
) -> Result<station::StationPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move {
        s.save_station(&c, kind, number, station, password).await
    })
    .await
}

/// Delete one station, or all of the list (`number` = None: Clear).
#[server(endpoint = "delete_station", input = Json)]
pub async fn delete_station(
    kind: station::StationKind,
    number: Option<String>,
) -> Result<station::StationPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.delete_station(&c, kind, number).await }).await
}

/// Household Setting > Publish Information > Send Info: sends and waits
/// for each device's answer (up to about 40 s).
#[server(endpoint = "publish", input = Json)]
pub async fn publish(
    publication: publish::Publication,
) -> Result<publish::PublishRecord, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.publish(&c, publication).await }).await
}

/// History Info, newest first, a page from `offset`.
#[server(endpoint = "publish_history", input = Json)]
pub async fn publish_history(offset: u64) -> Result<publish::PublishPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.publish_history(&c, offset).await }).await
}

/// Household Setting > Status.
#[server(endpoint = "sip_status", input = Json)]
pub async fn sip_status() -> Result<crate::model::sip_status::StatusPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.sip_status(&c).await }).await
}

#[server(endpoint = "save_room", input = Json)]
pub async fn save_room(room: room::Room) -> Result<room::RoomPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.save_room(&c, room).await }).await
}

#[server(endpoint = "delete_room", input = Json)]
pub async fn delete_room(room_no: String) -> Result<room::RoomPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.delete_room(&c, room_no).await }).await
}

#[server(endpoint = "clear_rooms", input = Json)]
pub async fn clear_rooms() -> Result<room::RoomPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.clear_rooms(&c).await }).await
}

#[server(endpoint = "ipc_list", input = Json)]
pub async fn ipc_list() -> Result<ipc::IpcPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.ipc_list(&c).await }).await
}

/// Adds (`id` null) or modifies a camera; the password is write-only.
#[server(endpoint = "save_ipc", input = Json)]
pub async fn save_ipc(
    id: Option<u32>,
    ipc: ipc::Ipc,
    password: PasswordUpdate,
) -> Result<ipc::IpcPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.save_ipc(&c, id, ipc, password).await }).await
}

#[server(endpoint = "delete_ipc", input = Json)]
pub async fn delete_ipc(id: u32) -> Result<ipc::IpcPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.delete_ipc(&c, id).await }).await
}

/// Export Config: the list without passwords.
#[server(endpoint = "export_ipcs", input = Json)]
pub async fn export_ipcs() -> Result<ipc::IpcExport, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.export_ipcs(&c).await }).await
}

/// Import Config: replaces the list, all or nothing.
#[server(endpoint = "import_ipcs", input = Json)]
pub async fn import_ipcs(file: String) -> Result<ipc::IpcPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.import_ipcs(&c, file).await }).await
}

#[server(endpoint = "video_settings", input = Json)]
pub async fn video_settings() -> Result<video::VideoPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.video_settings(&c).await }).await
}

/// Saves the whole Video & Audio page (all or nothing); it takes effect at
/// once. The camera password is write-only.
#[server(endpoint = "save_video_settings", input = Json)]
pub async fn save_video_settings(
    settings: video::VideoSettings,
    password: PasswordUpdate,
) -> Result<video::VideoPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.save_video_settings(&c, settings, password).await })
        .await
}

#[server(endpoint = "system_time", input = Json)]
pub async fn system_time() -> Result<system_time::SystemTimePage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.system_time(&c).await }).await
}

/// Saves the System page (all or nothing); `clock` sets the device's clock
/// from the System Time field when it was edited.
#[server(endpoint = "save_system_time", input = Json)]
pub async fn save_system_time(
    settings: system_time::TimeSettings,
    clock: system_time::ClockUpdate,
) -> Result<system_time::SystemTimePage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.save_system_time(&c, settings, clock).await }).await
}

/// Sync PC: sets the device's clock to the browser's (UTC ms).
#[server(endpoint = "sync_pc", input = Json)]
pub async fn sync_pc(now: time::UnixMillis) -> Result<system_time::SystemTimePage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.sync_pc(&c, now).await }).await
}

/// Live view: a WebRTC offer (SDP) for `source` ("door") -> the answer.
#[server(endpoint = "live_offer", input = Json)]
pub async fn live_offer(source: String, sdp: String) -> Result<live::LiveAnswer, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.live_offer(&c, source, sdp).await }).await
}

/// Ends a live view (the page closes it; a vanished viewer ends by itself).
/// What a camera's stream is doing (the live view's badge).
#[server(endpoint = "live_status", input = Json)]
pub async fn live_status(source: String) -> Result<live::SourceStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.live_status(&c, source).await }).await
}

#[server(endpoint = "live_end", input = Json)]
pub async fn live_end(id: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Video>, c| async move { s.live_end(&c, id).await }).await
}

#[server(endpoint = "network", input = Json)]
pub async fn network() -> Result<network::NetworkPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.network(&c).await }).await
}

/// Network Setting > SIP Server: the settings (never the password) and how
/// the registration to another server stands.
#[server(endpoint = "sip_server", input = Json)]
pub async fn sip_server() -> Result<sip_server::SipServerPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.sip_server(&c).await }).await
}

/// Saves Network Setting > SIP Server and applies it at once: this VTO
/// becomes the server, or registers to the one given. `password`: None
/// keeps the stored one.
#[server(endpoint = "save_sip_server", input = Json)]
pub async fn save_sip_server(
    settings: sip_server::SipServerSettings,
    password: Option<String>,
) -> Result<sip_server::SipServerPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.save_sip_server(&c, settings, password).await })
        .await
}

/// Saves Network Setting > Basic; a new address or port moves the web
/// server (the answer's `moved_to` says where to).
#[server(endpoint = "save_network", input = Json)]
pub async fn save_network(
    settings: network::NetworkSettings,
) -> Result<network::NetworkPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.save_network(&c, settings).await }).await
}

/// HTTPS certificate and private key, PEM; checked before it is used.
#[server(endpoint = "upload_certificate", input = Json)]
pub async fn upload_certificate(
    upload: network::CertificateUpload,
) -> Result<network::NetworkPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.upload_certificate(&c, upload).await }).await
}

#[server(endpoint = "new_certificate", input = Json)]
pub async fn new_certificate() -> Result<network::NetworkPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.new_certificate(&c).await }).await
}

/// Config manager: every setting, without secrets.
/// Config manager, User Info: the rooms, VTO and VTS lists (no Register
/// Passwords).
#[server(endpoint = "export_user_info", input = Json)]
pub async fn export_user_info() -> Result<user_info::UserInfo, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.export_user_info(&c).await }).await
}

/// Replaces the lists with a User Info file's; new accounts get generated
/// passwords, returned once.
#[server(endpoint = "import_user_info", input = Json)]
pub async fn import_user_info(file: String) -> Result<user_info::UserInfoImported, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Household>, c| async move { s.import_user_info(&c, file).await }).await
}

#[server(endpoint = "export_device_info", input = Json)]
pub async fn export_device_info() -> Result<config::DeviceInfo, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.export_device_info(&c).await }).await
}

/// Config manager: a Device Info file's text; all of it or nothing.
#[server(endpoint = "import_device_info", input = Json)]
pub async fn import_device_info(file: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.import_device_info(&c, file).await }).await
}

/// Config manager > Backup: everything, secrets included, sealed with
/// `passphrase` (base64 of the file); the account's password first.
#[server(endpoint = "backup", input = Json)]
pub async fn backup(password: String, passphrase: String) -> Result<String, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.backup(&c, password, passphrase).await }).await
}

/// Config manager > Restore: a backup file (base64) checked whole, then
/// everything replaced and the device restarted; or nothing changed.
#[server(endpoint = "restore", input = Json)]
pub async fn restore(password: String, passphrase: String, file: String) -> Result<(), ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn System>, c| async move { s.restore(&c, password, passphrase, file).await })
        .await
}

#[server(endpoint = "ip_permissions", input = Json)]
pub async fn ip_permissions() -> Result<ip_permissions::IpPermissions, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.ip_permissions(&c).await }).await
}

/// Takes effect for the next connection; refused if it would shut out the
/// caller.
#[server(endpoint = "save_ip_permissions", input = Json)]
pub async fn save_ip_permissions(
    settings: ip_permissions::IpPermissions,
) -> Result<ip_permissions::IpPermissions, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Network>, c| async move { s.save_ip_permissions(&c, settings).await }).await
}

#[server(endpoint = "onvif_settings", input = Json)]
pub async fn onvif_settings() -> Result<onvif::OnvifPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Onvif>, c| async move { s.onvif(&c).await }).await
}

/// Saves Network Setting > ONVIF; the password is write-only (empty keeps
/// the stored one).
#[server(endpoint = "save_onvif", input = Json)]
pub async fn save_onvif(
    settings: onvif::OnvifSettings,
    password: PasswordUpdate,
) -> Result<onvif::OnvifPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Onvif>, c| async move { s.save_onvif(&c, settings, password).await }).await
}

#[server(endpoint = "webhooks", input = Json)]
pub async fn webhooks() -> Result<webhook::WebhooksPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Webhooks>, c| async move { s.webhooks(&c).await }).await
}

/// Adds (`hook.id` 0) or modifies a webhook; the secret is write-only.
#[server(endpoint = "save_webhook", input = Json)]
pub async fn save_webhook(save: webhook::HookSave) -> Result<webhook::WebhooksPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Webhooks>, c| async move { s.save_webhook(&c, save).await }).await
}

#[server(endpoint = "delete_webhook", input = Json)]
pub async fn delete_webhook(id: u32) -> Result<webhook::WebhooksPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Webhooks>, c| async move { s.delete_webhook(&c, id).await }).await
}

/// Sends a test event to a saved webhook at once (no retries).
#[server(endpoint = "test_webhook", input = Json)]
pub async fn test_webhook(id: u32) -> Result<webhook::Delivery, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Webhooks>, c| async move { s.test_webhook(&c, id).await }).await
}

#[server(endpoint = "access_settings", input = Json)]
pub async fn access_settings() -> Result<access::AccessSettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.access_settings(&c).await }).await
}

#[server(endpoint = "save_access_settings", input = Json)]
pub async fn save_access_settings(
    settings: access::AccessSettings,
) -> Result<access::AccessSettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.save_access_settings(&c, settings).await }).await
}

/// The door's state: at once when its version is not `seen`, else when it
/// changes (or after about 20 s): the browser calls again and again.
#[server(endpoint = "door_status", input = Json)]
pub async fn door_status(seen: u64) -> Result<access::DoorStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.door_status(&c, seen).await }).await
}

/// Opens the door (for integrations too: `POST /api/unlock` with `{}`
/// and a session). The answer says whether it opened or why not.
#[server(endpoint = "unlock", input = Json)]
pub async fn unlock(
    #[server(default)] via: access::UnlockVia,
) -> Result<access::UnlockRecord, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.unlock(&c, via).await }).await
}

#[server(endpoint = "simulate", input = Json)]
pub async fn simulate(action: access::SimAction) -> Result<access::DoorStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.simulate(&c, action).await }).await
}

/// The door's call: at once when its version is not `seen`, else when it
/// changes (or after about 20 s).
#[server(endpoint = "call_status", input = Json)]
pub async fn call_status(seen: u64) -> Result<intercom::CallStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.call_status(&c, seen).await }).await
}

/// Presses the door's Call button (for integrations too: `POST /api/call`
/// with `{}` calls the Villa Station's room, `{"number": "9902"}` dials).
#[server(endpoint = "call", input = Json)]
pub async fn call_door(
    #[server(default)] number: Option<String>,
) -> Result<intercom::CallStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.call(&c, number).await }).await
}

#[server(endpoint = "messages", input = Json)]
pub async fn messages() -> Result<message::MessagePage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.messages(&c).await }).await
}

/// What snapshots and messages take of the Storage Point, and its bounds.
#[server(endpoint = "storage_usage", input = Json)]
pub async fn storage_usage() -> Result<settings::StorageUsage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.storage_usage(&c).await }).await
}

#[server(endpoint = "delete_message", input = Json)]
pub async fn delete_message(file: String) -> Result<message::MessagePage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.delete_message(&c, file).await }).await
}

/// Answers the ringing door call in this browser (its WebRTC offer; the
/// answer's SDP back), or with `take_over` takes the talk from whoever
/// talks. For integrations too: `POST /api/answer_call`.
#[server(endpoint = "answer_call", input = Json)]
pub async fn answer_call(
    sdp: String,
    #[server(default)] take_over: bool,
) -> Result<intercom::TalkAnswer, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.answer_call(&c, sdp, take_over).await }).await
}

/// Rejects the ringing door call for everyone.
#[server(endpoint = "reject_call", input = Json)]
pub async fn reject_call() -> Result<intercom::CallStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.reject_call(&c).await }).await
}

#[server(endpoint = "hang_up", input = Json)]
pub async fn hang_up() -> Result<intercom::CallStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Intercom>, c| async move { s.hang_up(&c).await }).await
}

#[server(endpoint = "unlock_log", input = Json)]
pub async fn unlock_log(
    offset: u64,
    #[server(default)] filter: access::UnlockFilter,
) -> Result<access::UnlockLogPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Logs>, c| async move { s.unlock_log(&c, offset, filter).await }).await
}

/// Export Data of Log Management > Unlock: the CSV text.
#[server(endpoint = "export_unlock_log", input = Json)]
pub async fn export_unlock_log(
    #[server(default)] filter: access::UnlockFilter,
) -> Result<String, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Logs>, c| async move { s.export_unlock_log(&c, filter).await }).await
}

#[server(endpoint = "alarm_log", input = Json)]
pub async fn alarm_log(offset: u64) -> Result<access::AlarmLogPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Logs>, c| async move { s.alarm_log(&c, offset).await }).await
}

#[server(endpoint = "room_cards", input = Json)]
pub async fn room_cards(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.room_cards(&c, room_no).await }).await
}

/// Issue Card: starts the countdown.
#[server(endpoint = "issue_card", input = Json)]
pub async fn issue_card(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.issue_card(&c, room_no).await }).await
}

#[server(endpoint = "name_card", input = Json)]
pub async fn name_card(
    room_no: String,
    number: String,
    name: String,
) -> Result<card::RoomCards, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.name_card(&c, room_no, number, name).await }).await
}

#[server(endpoint = "confirm_send_card", input = Json)]
pub async fn confirm_send_card(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.confirm_send_card(&c, room_no).await }).await
}

#[server(endpoint = "cancel_issue", input = Json)]
pub async fn cancel_issue(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.cancel_issue(&c, room_no).await }).await
}

#[server(endpoint = "change_card", input = Json)]
pub async fn change_card(
    room_no: String,
    number: String,
    change: card::CardChange,
) -> Result<card::RoomCards, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.change_card(&c, room_no, number, change).await })
        .await
}

#[server(endpoint = "set_access_password", input = Json)]
pub async fn set_access_password(
    room_no: String,
    password: Option<String>,
) -> Result<card::RoomCards, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.set_access_password(&c, room_no, password).await })
        .await
}

/// The simulator's card reader.
#[server(endpoint = "present_card", input = Json)]
pub async fn present_card(number: String) -> Result<access::DoorStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.present_card(&c, number).await }).await
}

/// The simulator's keypad.
#[server(endpoint = "enter_password", input = Json)]
pub async fn enter_password(
    room_no: String,
    password: String,
) -> Result<access::DoorStatus, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Door>, c| async move { s.enter_password(&c, room_no, password).await }).await
}

/// Records Kept of Log Management > Unlock.
#[server(endpoint = "save_unlock_log_settings", input = Json)]
pub async fn save_unlock_log_settings(
    settings: access::UnlockLogSettings,
) -> Result<access::UnlockLogSettings, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Logs>, c| async move { s.save_unlock_log_settings(&c, settings).await }).await
}

/// The signed-in account and its role (the menu shows what it may open).
#[server(endpoint = "me", input = Json)]
pub async fn me() -> Result<accounts::Me, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.me(&c).await }).await
}

/// Users: every account with its role (never a hash).
#[server(endpoint = "users", input = Json)]
pub async fn users() -> Result<accounts::UsersPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.users(&c).await }).await
}

#[server(endpoint = "add_user", input = Json)]
pub async fn add_user(new: accounts::NewUser) -> Result<accounts::UsersPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.add_user(&c, new).await }).await
}

/// Ends the account's sessions and connections.
#[server(endpoint = "set_user_role", input = Json)]
pub async fn set_user_role(
    user: String,
    role: accounts::Role,
) -> Result<accounts::UsersPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.set_user_role(&c, user, role).await }).await
}

/// Another account's new password; ends its sessions and connections.
#[server(endpoint = "set_user_password", input = Json)]
pub async fn set_user_password(
    user: String,
    password: String,
) -> Result<accounts::UsersPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.set_user_password(&c, user, password).await })
        .await
}

#[server(endpoint = "delete_user", input = Json)]
pub async fn delete_user(user: String) -> Result<accounts::UsersPage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.delete_user(&c, user).await }).await
}

/// Online Users: web sessions and other front doors' connections.
#[server(endpoint = "online_users", input = Json)]
pub async fn online_users() -> Result<accounts::OnlinePage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.online_users(&c).await }).await
}

#[server(endpoint = "end_online", input = Json)]
pub async fn end_online(key: accounts::OnlineKey) -> Result<accounts::OnlinePage, ApiError> {
    use crate::services::*;
    call(|s: Arc<dyn Account>, c| async move { s.end_online(&c, key).await }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_default_to_settings() {
        assert_eq!(required_right("/api/unlock"), Right::OpenDoor);
        assert_eq!(required_right("/api/call"), Right::OpenDoor);
        assert_eq!(required_right("/api/call/whep/3"), Right::OpenDoor);
        assert_eq!(required_right("/api/call/events"), Right::LiveView);
        assert_eq!(required_right("/api/whep/door"), Right::LiveView);
        assert_eq!(required_right("/api/unlock_log"), Right::Logs);
        assert_eq!(required_right("/snapshot/door.jpg"), Right::Snapshot);
        assert_eq!(required_right("/api/security_log"), Right::Settings);
        assert_eq!(required_right("/api/users"), Right::Settings);
        assert_eq!(required_right("/api/no_such"), Right::Settings);
        assert_eq!(required_right("/"), Right::LiveView);
        assert_eq!(required_right("/log/unlock"), Right::Logs);
        assert_eq!(required_right("/local/users"), Right::Settings);
        assert_eq!(required_right("/nope"), Right::Settings);
    }
}
