//! The one error type of the API layer. It crosses the wire as JSON, so the
//! browser gets the same typed error the server produced, and it maps to an
//! HTTP status in one place.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::model::time::format_duration_secs;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// No valid session: log in (again).
    #[error("Please log in.")]
    Unauthorized,
    /// A state-changing request from another site.
    #[error("This request must come from the device's own pages.")]
    CrossOrigin,
    /// The account's role has not the right this needs.
    #[error("Your account ({}) may not do this.", role.label())]
    Forbidden { role: crate::model::users::Role },
    #[error("The device is already initialized.")]
    AlreadyInitialized,
    #[error("The device is not initialized yet.")]
    NotInitialized,
    /// A field failed validation; `field` names the form field.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Wrong user name or password. Says nothing about which one.
    #[error("Incorrect user name or password.{}", attempts_hint(*attempts_left))]
    BadCredentials { attempts_left: u32 },
    /// Too many failures from this address.
    #[error(
        "Too many failed attempts: this account is locked for your address. Try again in {}.",
        format_duration_secs(*retry_after_secs)
    )]
    Locked { retry_after_secs: u64 },
    /// Reset Password is off, or the account has no email address.
    #[error("Password reset is not available on this device. Without the password, restore factory defaults on the device itself.")]
    ResetUnavailable,
    /// Too many wrong security codes in a row.
    #[error(
        "Too many wrong security codes: password reset is locked for {}.",
        format_duration_secs(*retry_after_secs)
    )]
    ResetLocked { retry_after_secs: u64 },
    /// A request made too often (new security codes).
    #[error(
        "Too many requests. Try again in {}.",
        format_duration_secs(*retry_after_secs)
    )]
    TooManyRequests { retry_after_secs: u64 },
    /// A mail was not accepted by the SMTP server (or the outbox).
    #[error("The mail could not be sent: {0}")]
    Mail(String),
    /// The device is busy (e.g. too many password checks at once).
    #[error("The device is busy. Try again in a moment.")]
    Busy,
    #[error("Internal error: {0}")]
    Internal(String),
    /// The request did not reach the device or its answer was unreadable.
    #[error("Cannot reach the device: {0}")]
    Transport(String),
    /// The device could not read the request (malformed JSON, an unknown
    /// choice): a script's mistake, nothing was changed.
    #[error("The request was not understood: {0}")]
    BadRequest(String),
}

fn attempts_hint(left: u32) -> String {
    match left {
        0 => String::new(),
        1 => " 1 attempt left before the account is locked for your address.".into(),
        n => format!(" {n} attempts left before the account is locked for your address."),
    }
}

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A wrong current password typed into `field` of a form.
    pub fn wrong_password(field: &str, attempts_left: u32) -> Self {
        Self::invalid(
            field,
            format!("Incorrect password.{}", attempts_hint(attempts_left)),
        )
    }

    /// The message for `field`, when this error is about that field.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            Self::Invalid { field: f, message } if f == field => Some(message.clone()),
            _ => None,
        }
    }

    /// Seconds to wait before trying again, for errors that have them.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Locked { retry_after_secs }
            | Self::ResetLocked { retry_after_secs }
            | Self::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The HTTP status this error is sent with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Unauthorized | Self::BadCredentials { .. } => 401,
            Self::CrossOrigin | Self::Forbidden { .. } => 403,
            Self::AlreadyInitialized | Self::NotInitialized | Self::ResetUnavailable => 409,
            Self::Invalid { .. } => 422,
            Self::Locked { .. } | Self::ResetLocked { .. } | Self::TooManyRequests { .. } => 429,
            Self::Mail(_) => 502,
            Self::Busy => 503,
            Self::BadRequest(_) => 400,
            Self::Internal(_) | Self::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the device, a body it cannot read is the caller's error.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(e) | ServerFnErrorErr::Args(e) => Self::BadRequest(e),
            ServerFnErrorErr::Request(e) | ServerFnErrorErr::Response(e) => Self::Transport(e),
            #[cfg(not(feature = "ssr"))]
            ServerFnErrorErr::Deserialization(e) => Self::Transport(e),
            ServerFnErrorErr::Serialization(e) => Self::Transport(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_user_readable() {
        assert_eq!(
            ApiError::BadCredentials { attempts_left: 2 }.to_string(),
            "Incorrect user name or password. 2 attempts left before the account is locked for your address."
        );
        assert_eq!(
            ApiError::Locked { retry_after_secs: 272 }.to_string(),
            "Too many failed attempts: this account is locked for your address. Try again in 4 min 32 s."
        );
    }

    #[test]
    fn forbidden_names_the_role() {
        let e = ApiError::Forbidden {
            role: crate::model::users::Role::Operator,
        };
        assert_eq!(e.to_string(), "Your account (Operator) may not do this.");
        assert_eq!(e.status(), 403);
    }

    #[test]
    fn round_trips_as_json() {
        let e = ApiError::invalid("email", "Enter an email address");
        let json = serde_json::to_string(&e).unwrap_or_default();
        assert_eq!(serde_json::from_str::<ApiError>(&json).ok(), Some(e));
    }
}
