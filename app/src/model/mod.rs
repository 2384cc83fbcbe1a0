//! Typed models shared by the browser and the server. Pure: no I/O here.

pub mod config;
pub mod email;
pub mod ip_permissions;
pub mod live;
pub mod mail;
pub mod network;

pub mod password;
pub mod reset;
pub mod security;
pub mod security_log;
pub mod settings;
pub mod system;
pub mod system_time;
pub mod time;
pub mod two_factor;

/// The one account of the device (manual ch. 2.1).
pub const ADMIN_USER: &str = "admin";
