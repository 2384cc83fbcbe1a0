//! Local Setting > Security (manual 4.5).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecuritySettings {
    /// Reset Password: whether "Forgot Password?" works (it also needs an
    /// email address on the account).
    pub reset_password: bool,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            reset_password: true,
        }
    }
}
