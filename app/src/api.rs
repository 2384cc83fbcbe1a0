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
        access, call_log, card, config, ip_permissions, ipc, live,
        mail::{self, PasswordUpdate},
        network, publish, reset, room, security,
        security_log::SecurityLogPage,
        settings, sip_server, station, system, system_time, time, two_factor, user_info, video,
    },
};

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
    use crate::backend::*;
    call(|device, _| async move { device.setup_state().await }).await
}

#[server(endpoint = "initialize", input = Json)]
pub async fn initialize(password: String, email: Option<String>) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.initialize(&caller, password, email).await }).await
}

/// With two-factor login on, the answer has a ticket for `login_code`
/// and no session yet.
#[server(endpoint = "login", input = Json)]
pub async fn login(user: String, password: String) -> Result<two_factor::LoginResult, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        let (cookie, result) = device.login(&caller, user, password).await?;
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
    use crate::backend::*;
    call(|device, caller| async move {
        let cookie = device.login_code(&caller, ticket, code).await?;
        set_cookie(&cookie);
        Ok(())
    })
    .await
}

#[server(endpoint = "logout", input = Json)]
pub async fn logout() -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        let cookie = device.logout(&caller).await?;
        set_cookie(&cookie);
        Ok(())
    })
    .await
}

#[server(endpoint = "overview", input = Json)]
pub async fn overview() -> Result<system::Overview, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.overview(&caller).await }).await
}

#[server(endpoint = "change_password", input = Json)]
pub async fn change_password(old_password: String, new_password: String) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        device
            .change_password(&caller, old_password, new_password)
            .await
    })
    .await
}

#[server(endpoint = "change_email", input = Json)]
pub async fn change_email(
    password: String,
    email: Option<String>,
) -> Result<system::EmailChanged, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.change_email(&caller, password, email).await }).await
}

#[server(endpoint = "reboot", input = Json)]
pub async fn reboot() -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.reboot(&caller).await }).await
}

#[server(endpoint = "factory_reset", input = Json)]
pub async fn factory_reset(password: String) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        let cookie = device.factory_reset(&caller, password).await?;
        set_cookie(&cookie);
        Ok(())
    })
    .await
}

#[server(endpoint = "security_log", input = Json)]
pub async fn security_log(offset: u64) -> Result<SecurityLogPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.security_log(&caller, offset).await }).await
}

#[server(endpoint = "call_log", input = Json)]
pub async fn call_log(offset: u64) -> Result<call_log::CallLogPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.call_log(&caller, offset).await }).await
}

/// Export Data of Log Management > Call: the CSV text.
#[server(endpoint = "export_call_log", input = Json)]
pub async fn export_call_log() -> Result<String, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.export_call_log(&caller).await }).await
}

#[server(endpoint = "reset_info", input = Json)]
pub async fn reset_info() -> Result<reset::ResetInfo, ApiError> {
    use crate::backend::*;
    call(|device, _| async move { device.reset_info().await }).await
}

/// Mails a new security code (voiding the old one).
#[server(endpoint = "reset_request", input = Json)]
pub async fn reset_request() -> Result<reset::ResetIssued, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.reset_request(&caller).await }).await
}

#[server(endpoint = "reset_verify", input = Json)]
pub async fn reset_verify(code: String) -> Result<reset::ResetTicket, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.reset_verify(&caller, code).await }).await
}

#[server(endpoint = "reset_complete", input = Json)]
pub async fn reset_complete(ticket: String, password: String) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.reset_complete(&caller, ticket, password).await })
        .await
}

#[server(endpoint = "mail_settings", input = Json)]
pub async fn mail_settings() -> Result<mail::MailSettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.mail_settings(&caller).await }).await
}

#[server(endpoint = "save_mail_settings", input = Json)]
pub async fn save_mail_settings(
    settings: mail::MailSettings,
    password: PasswordUpdate,
) -> Result<mail::MailSettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        device
            .save_mail_settings(&caller, settings, password)
            .await
    })
    .await
}

#[server(endpoint = "send_test_mail", input = Json)]
pub async fn send_test_mail(
    settings: mail::MailSettings,
    password: PasswordUpdate,
) -> Result<mail::MailReceipt, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.send_test_mail(&caller, settings, password).await })
        .await
}

#[server(endpoint = "security_settings", input = Json)]
pub async fn security_settings() -> Result<security::SecuritySettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.security_settings(&caller).await }).await
}

#[server(endpoint = "save_security_settings", input = Json)]
pub async fn save_security_settings(
    settings: security::SecuritySettings,
) -> Result<security::SecuritySettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_security_settings(&caller, settings).await })
        .await
}

#[server(endpoint = "totp_begin", input = Json)]
pub async fn totp_begin(password: String) -> Result<two_factor::TotpEnrolment, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.totp_begin(&caller, password).await }).await
}

#[server(endpoint = "totp_confirm", input = Json)]
pub async fn totp_confirm(code: String) -> Result<two_factor::RecoveryCodes, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.totp_confirm(&caller, code).await }).await
}

#[server(endpoint = "totp_disable", input = Json)]
pub async fn totp_disable(password: String, code: String) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.totp_disable(&caller, password, code).await }).await
}

#[server(endpoint = "basic_settings", input = Json)]
pub async fn basic_settings() -> Result<settings::BasicSettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.basic_settings(&caller).await }).await
}

/// Saves the whole Basic page (all or nothing).
#[server(endpoint = "save_basic_settings", input = Json)]
pub async fn save_basic_settings(
    settings: settings::BasicSettings,
) -> Result<settings::BasicSettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_basic_settings(&caller, settings).await }).await
}

#[server(endpoint = "rooms", input = Json)]
pub async fn rooms() -> Result<room::RoomPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.rooms(&caller).await }).await
}

/// Adds a room; without a password the device generates one and shows it
/// once in the answer.
#[server(endpoint = "add_room", input = Json)]
pub async fn add_room(
    room: room::Room,
    password: Option<String>,
) -> Result<room::RoomPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.add_room(&caller, room, password).await }).await
}

/// Adds rooms in batch (floors of rooms); without a password each gets a
/// generated one, shown once in the answer.
#[server(endpoint = "add_rooms", input = Json)]
pub async fn add_rooms(
    batch: room::RoomBatch,
    password: Option<String>,
) -> Result<room::RoomPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.add_rooms(&caller, batch, password).await }).await
}

/// Household Setting > VTO No. Management or VTS Management.
#[server(endpoint = "stations", input = Json)]
pub async fn stations(kind: station::StationKind) -> Result<station::StationPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.stations(&caller, kind).await }).await
}

/// Adds a VTO or VTS; without a password the device generates one, shown
/// once.
#[server(endpoint = "add_station", input = Json)]
pub async fn add_station(
    kind: station::StationKind,
    station: station::Station,
    password: Option<String>,
) -> Result<station::StationPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.add_station(&caller, kind, station, password).await })
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
    use crate::backend::*;
    call(|device, caller| async move {
        device
            .save_station(&caller, kind, number, station, password)
            .await
    })
    .await
}

/// Delete one station, or all of the list (`number` = None: Clear).
#[server(endpoint = "delete_station", input = Json)]
pub async fn delete_station(
    kind: station::StationKind,
    number: Option<String>,
) -> Result<station::StationPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.delete_station(&caller, kind, number).await }).await
}

/// Household Setting > Publish Information > Send Info: sends and waits
/// for each device's answer (up to about 40 s).
#[server(endpoint = "publish", input = Json)]
pub async fn publish(
    publication: publish::Publication,
) -> Result<publish::PublishRecord, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.publish(&caller, publication).await }).await
}

/// History Info, newest first, a page from `offset`.
#[server(endpoint = "publish_history", input = Json)]
pub async fn publish_history(offset: u64) -> Result<publish::PublishPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.publish_history(&caller, offset).await }).await
}

/// Household Setting > Status.
#[server(endpoint = "sip_status", input = Json)]
pub async fn sip_status() -> Result<crate::model::sip_status::StatusPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.sip_status(&caller).await }).await
}

#[server(endpoint = "save_room", input = Json)]
pub async fn save_room(room: room::Room) -> Result<room::RoomPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_room(&caller, room).await }).await
}

#[server(endpoint = "delete_room", input = Json)]
pub async fn delete_room(room_no: String) -> Result<room::RoomPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.delete_room(&caller, room_no).await }).await
}

#[server(endpoint = "clear_rooms", input = Json)]
pub async fn clear_rooms() -> Result<room::RoomPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.clear_rooms(&caller).await }).await
}

#[server(endpoint = "ipc_list", input = Json)]
pub async fn ipc_list() -> Result<ipc::IpcPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.ipc_list(&caller).await }).await
}

/// Adds (`id` null) or modifies a camera; the password is write-only.
#[server(endpoint = "save_ipc", input = Json)]
pub async fn save_ipc(
    id: Option<u32>,
    ipc: ipc::Ipc,
    password: PasswordUpdate,
) -> Result<ipc::IpcPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_ipc(&caller, id, ipc, password).await }).await
}

#[server(endpoint = "delete_ipc", input = Json)]
pub async fn delete_ipc(id: u32) -> Result<ipc::IpcPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.delete_ipc(&caller, id).await }).await
}

/// Export Config: the list without passwords.
#[server(endpoint = "export_ipcs", input = Json)]
pub async fn export_ipcs() -> Result<ipc::IpcExport, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.export_ipcs(&caller).await }).await
}

/// Import Config: replaces the list, all or nothing.
#[server(endpoint = "import_ipcs", input = Json)]
pub async fn import_ipcs(file: String) -> Result<ipc::IpcPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.import_ipcs(&caller, file).await }).await
}

#[server(endpoint = "video_settings", input = Json)]
pub async fn video_settings() -> Result<video::VideoPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.video_settings(&caller).await }).await
}

/// Saves the whole Video & Audio page (all or nothing); it takes effect at
/// once. The camera password is write-only.
#[server(endpoint = "save_video_settings", input = Json)]
pub async fn save_video_settings(
    settings: video::VideoSettings,
    password: PasswordUpdate,
) -> Result<video::VideoPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        device
            .save_video_settings(&caller, settings, password)
            .await
    })
    .await
}

#[server(endpoint = "system_time", input = Json)]
pub async fn system_time() -> Result<system_time::SystemTimePage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.system_time(&caller).await }).await
}

/// Saves the System page (all or nothing); `clock` sets the device's clock
/// from the System Time field when it was edited.
#[server(endpoint = "save_system_time", input = Json)]
pub async fn save_system_time(
    settings: system_time::TimeSettings,
    clock: system_time::ClockUpdate,
) -> Result<system_time::SystemTimePage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_system_time(&caller, settings, clock).await })
        .await
}

/// Sync PC: sets the device's clock to the browser's (UTC ms).
#[server(endpoint = "sync_pc", input = Json)]
pub async fn sync_pc(now: time::UnixMillis) -> Result<system_time::SystemTimePage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.sync_pc(&caller, now).await }).await
}

/// Live view: a WebRTC offer (SDP) for `source` ("door") -> the answer.
#[server(endpoint = "live_offer", input = Json)]
pub async fn live_offer(source: String, sdp: String) -> Result<live::LiveAnswer, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.live_offer(&caller, source, sdp).await }).await
}

/// Ends a live view (the page closes it; a vanished viewer ends by itself).
/// What a camera's stream is doing (the live view's badge).
#[server(endpoint = "live_status", input = Json)]
pub async fn live_status(source: String) -> Result<live::SourceStatus, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.live_status(&caller, source).await }).await
}

#[server(endpoint = "live_end", input = Json)]
pub async fn live_end(id: String) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.live_end(&caller, id).await }).await
}

#[server(endpoint = "network", input = Json)]
pub async fn network() -> Result<network::NetworkPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.network(&caller).await }).await
}

/// Network Setting > SIP Server: the settings (never the password) and how
/// the registration to another server stands.
#[server(endpoint = "sip_server", input = Json)]
pub async fn sip_server() -> Result<sip_server::SipServerPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.sip_server(&caller).await }).await
}

/// Saves Network Setting > SIP Server and applies it at once: this VTO
/// becomes the server, or registers to the one given. `password`: None
/// keeps the stored one.
#[server(endpoint = "save_sip_server", input = Json)]
pub async fn save_sip_server(
    settings: sip_server::SipServerSettings,
    password: Option<String>,
) -> Result<sip_server::SipServerPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_sip_server(&caller, settings, password).await })
        .await
}

/// Saves Network Setting > Basic; a new address or port moves the web
/// server (the answer's `moved_to` says where to).
#[server(endpoint = "save_network", input = Json)]
pub async fn save_network(
    settings: network::NetworkSettings,
) -> Result<network::NetworkPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_network(&caller, settings).await }).await
}

/// HTTPS certificate and private key, PEM; checked before it is used.
#[server(endpoint = "upload_certificate", input = Json)]
pub async fn upload_certificate(
    upload: network::CertificateUpload,
) -> Result<network::NetworkPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.upload_certificate(&caller, upload).await }).await
}

#[server(endpoint = "new_certificate", input = Json)]
pub async fn new_certificate() -> Result<network::NetworkPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.new_certificate(&caller).await }).await
}

/// Config manager: every setting, without secrets.
/// Config manager, User Info: the rooms, VTO and VTS lists (no Register
/// Passwords).
#[server(endpoint = "export_user_info", input = Json)]
pub async fn export_user_info() -> Result<user_info::UserInfo, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.export_user_info(&caller).await }).await
}

/// Replaces the lists with a User Info file's; new accounts get generated
/// passwords, returned once.
#[server(endpoint = "import_user_info", input = Json)]
pub async fn import_user_info(file: String) -> Result<user_info::UserInfoImported, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.import_user_info(&caller, file).await }).await
}

#[server(endpoint = "export_device_info", input = Json)]
pub async fn export_device_info() -> Result<config::DeviceInfo, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.export_device_info(&caller).await }).await
}

/// Config manager: a Device Info file's text; all of it or nothing.
#[server(endpoint = "import_device_info", input = Json)]
pub async fn import_device_info(file: String) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.import_device_info(&caller, file).await }).await
}

#[server(endpoint = "ip_permissions", input = Json)]
pub async fn ip_permissions() -> Result<ip_permissions::IpPermissions, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.ip_permissions(&caller).await }).await
}

/// Takes effect for the next connection; refused if it would shut out the
/// caller.
#[server(endpoint = "save_ip_permissions", input = Json)]
pub async fn save_ip_permissions(
    settings: ip_permissions::IpPermissions,
) -> Result<ip_permissions::IpPermissions, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_ip_permissions(&caller, settings).await }).await
}

#[server(endpoint = "access_settings", input = Json)]
pub async fn access_settings() -> Result<access::AccessSettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.access_settings(&caller).await }).await
}

#[server(endpoint = "save_access_settings", input = Json)]
pub async fn save_access_settings(
    settings: access::AccessSettings,
) -> Result<access::AccessSettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_access_settings(&caller, settings).await }).await
}

/// The door's state: at once when its version is not `seen`, else when it
/// changes (or after about 20 s): the browser calls again and again.
#[server(endpoint = "door_status", input = Json)]
pub async fn door_status(seen: u64) -> Result<access::DoorStatus, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.door_status(&caller, seen).await }).await
}

/// Opens the door (for integrations too: `POST /api/unlock` with `{}`
/// and a session). The answer says whether it opened or why not.
#[server(endpoint = "unlock", input = Json)]
pub async fn unlock(
    #[server(default)] via: access::UnlockVia,
) -> Result<access::UnlockRecord, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.unlock(&caller, via).await }).await
}

#[server(endpoint = "simulate", input = Json)]
pub async fn simulate(action: access::SimAction) -> Result<access::DoorStatus, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.simulate(&caller, action).await }).await
}

#[server(endpoint = "unlock_log", input = Json)]
pub async fn unlock_log(
    offset: u64,
    #[server(default)] filter: access::UnlockFilter,
) -> Result<access::UnlockLogPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.unlock_log(&caller, offset, filter).await }).await
}

/// Export Data of Log Management > Unlock: the CSV text.
#[server(endpoint = "export_unlock_log", input = Json)]
pub async fn export_unlock_log(
    #[server(default)] filter: access::UnlockFilter,
) -> Result<String, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.export_unlock_log(&caller, filter).await }).await
}

#[server(endpoint = "alarm_log", input = Json)]
pub async fn alarm_log(offset: u64) -> Result<access::AlarmLogPage, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.alarm_log(&caller, offset).await }).await
}

#[server(endpoint = "room_cards", input = Json)]
pub async fn room_cards(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.room_cards(&caller, room_no).await }).await
}

/// Issue Card: starts the countdown.
#[server(endpoint = "issue_card", input = Json)]
pub async fn issue_card(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.issue_card(&caller, room_no).await }).await
}

#[server(endpoint = "name_card", input = Json)]
pub async fn name_card(
    room_no: String,
    number: String,
    name: String,
) -> Result<card::RoomCards, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.name_card(&caller, room_no, number, name).await })
        .await
}

#[server(endpoint = "confirm_send_card", input = Json)]
pub async fn confirm_send_card(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.confirm_send_card(&caller, room_no).await }).await
}

#[server(endpoint = "cancel_issue", input = Json)]
pub async fn cancel_issue(room_no: String) -> Result<card::RoomCards, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.cancel_issue(&caller, room_no).await }).await
}

#[server(endpoint = "change_card", input = Json)]
pub async fn change_card(
    room_no: String,
    number: String,
    change: card::CardChange,
) -> Result<card::RoomCards, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.change_card(&caller, room_no, number, change).await })
        .await
}

#[server(endpoint = "set_access_password", input = Json)]
pub async fn set_access_password(
    room_no: String,
    password: Option<String>,
) -> Result<card::RoomCards, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        device.set_access_password(&caller, room_no, password).await
    })
    .await
}

/// The simulator's card reader.
#[server(endpoint = "present_card", input = Json)]
pub async fn present_card(number: String) -> Result<access::DoorStatus, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.present_card(&caller, number).await }).await
}

/// The simulator's keypad.
#[server(endpoint = "enter_password", input = Json)]
pub async fn enter_password(
    room_no: String,
    password: String,
) -> Result<access::DoorStatus, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.enter_password(&caller, room_no, password).await })
        .await
}

/// Records Kept of Log Management > Unlock.
#[server(endpoint = "save_unlock_log_settings", input = Json)]
pub async fn save_unlock_log_settings(
    settings: access::UnlockLogSettings,
) -> Result<access::UnlockLogSettings, ApiError> {
    use crate::backend::*;
    call(|device, caller| async move { device.save_unlock_log_settings(&caller, settings).await })
        .await
}
