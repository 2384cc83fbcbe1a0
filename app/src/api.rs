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
    model::{security_log::SecurityLogPage, system},
};

/// Endpoints that answer without a session: what the initialization and
/// login pages need.
pub const PUBLIC_ENDPOINTS: &[&str] = &["/api/setup_state", "/api/initialize", "/api/login"];

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

#[server(endpoint = "login", input = Json)]
pub async fn login(user: String, password: String) -> Result<(), ApiError> {
    use crate::backend::*;
    call(|device, caller| async move {
        let cookie = device.login(&caller, user, password).await?;
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
pub async fn change_email(password: String, email: Option<String>) -> Result<(), ApiError> {
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
