//! Config manager (manual ch. 3 item 4), Device Info: every setting as one
//! versioned JSON file, without secrets (no password hashes, keys, SMTP
//! password or two-factor secrets). Import checks the whole file first and
//! names the field that is wrong; the device then applies it in one
//! transaction.

use serde::{Deserialize, Serialize};

use super::{
    ip_permissions::IpPermissions,
    mail::{MailSecurity, MailSettings},
    security::SecuritySettings,
    settings::BasicSettings,
    system_time::TimeSettings,
};

/// What the file says it is.
pub const FORMAT: &str = "vto-device-info";
/// The file version this build writes and reads (and all older ones).
pub const VERSION: u32 = 1;
/// Larger files are refused before they are parsed.
pub const MAX_BYTES: usize = 64 * 1024;
pub const FILE_NAME: &str = "vto-device-info.json";

/// Config manager > Backup: the file's name (its text is the sealed
/// backup in base64).
pub const BACKUP_FILE_NAME: &str = "vto-backup.vtobak";
/// The largest backup file accepted (its base64 text).
pub const BACKUP_MAX_BYTES: usize = 64 * 1024 * 1024;
/// The shortest passphrase a backup is sealed with.
pub const BACKUP_MIN_PASSPHRASE: usize = 10;

/// The passphrase's error as typed, if any.
pub fn backup_passphrase_error(passphrase: &str) -> Option<String> {
    (passphrase.chars().count() < BACKUP_MIN_PASSPHRASE).then(|| {
        format!(
            "At least {BACKUP_MIN_PASSPHRASE} characters: the file is only as safe as its passphrase"
        )
    })
}

/// Network Setting > Email without the password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailExport {
    pub server: String,
    pub port: u16,
    pub security: MailSecurity,
    pub user: String,
    pub sender: String,
}

impl From<&MailSettings> for MailExport {
    fn from(m: &MailSettings) -> Self {
        Self {
            server: m.server.clone(),
            port: m.port,
            security: m.security,
            user: m.user.clone(),
            sender: m.sender.clone(),
        }
    }
}

impl MailExport {
    /// As settings; the stored password is the device's business.
    pub fn settings(&self) -> MailSettings {
        MailSettings {
            server: self.server.clone(),
            port: self.port,
            security: self.security,
            user: self.user.clone(),
            sender: self.sender.clone(),
            has_password: false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    pub format: String,
    pub version: u32,
    pub basic: BasicSettings,
    pub security: SecuritySettings,
    pub mail: MailExport,
    pub ip_permissions: IpPermissions,
    /// Local Setting > System (not the clock itself). Files from before it
    /// was added have none: the device's stay as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<TimeSettings>,
}

/// The first thing wrong with an import file: `field` is a path such as
/// `basic.vto_no`, empty for the file as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

pub fn err(field: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        field: field.into(),
        message: message.into(),
    }
}

/// Field ids of the pages' validation -> the file's field names.
fn file_field(section: &str, id: &str) -> String {
    let name = match id {
        "smtp-server" => "server",
        "smtp-port" => "port",
        "smtp-user" => "user",
        "zone" => "display.zone",
        "dst-begin" => "display.dst.begin",
        "dst-end" => "display.dst.end",
        "ntp-server" => "ntp.server",
        "ntp-port" => "ntp.port",
        "ntp-cycle" => "ntp.update_cycle",
        "maintenance-time" => "maintenance.minute",
        other => other,
    };
    format!("{section}.{}", name.replace('-', "_"))
}

/// The checks every import file gets first: its size, JSON, its format
/// (`what` names it in the message) and a version this build reads.
pub fn read_versioned(
    text: &str,
    max: usize,
    format: &str,
    version: u32,
    what: &str,
) -> Result<serde_json::Value, ImportError> {
    if text.len() > max {
        return Err(err(
            "",
            format!("The file is larger than {} KiB", max / 1024),
        ));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err("", format!("Not a JSON file ({e})")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(format) {
        return Err(err(
            "format",
            format!("Not a VTO {what} file (format must be \"{format}\")"),
        ));
    }
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if (1..=u64::from(version)).contains(&v) => Ok(value),
        Some(v) => Err(err(
            "version",
            format!("Written by a newer vto (version {v}; this one reads up to {version})"),
        )),
        None => Err(err("version", "Missing or not a number")),
    }
}

/// Reads and checks an import file completely; nothing is applied here.
pub fn parse(text: &str) -> Result<DeviceInfo, ImportError> {
    let value = read_versioned(text, MAX_BYTES, FORMAT, VERSION, "Device Info")?;
    // Each section on its own, so an error names where it is.
    let section = |name: &str| -> Result<serde_json::Value, ImportError> {
        value.get(name).cloned().ok_or_else(|| err(name, "Missing"))
    };
    let basic: BasicSettings =
        serde_json::from_value(section("basic")?).map_err(|e| err("basic", e.to_string()))?;
    let security: SecuritySettings =
        serde_json::from_value(section("security")?).map_err(|e| err("security", e.to_string()))?;
    let mail: MailExport =
        serde_json::from_value(section("mail")?).map_err(|e| err("mail", e.to_string()))?;
    let ip_permissions: IpPermissions = serde_json::from_value(section("ip_permissions")?)
        .map_err(|e| err("ip_permissions", e.to_string()))?;
    if let Some((id, m)) = basic.validate().into_iter().next() {
        return Err(err(&file_field("basic", id), m));
    }
    if let Some((id, m)) = mail.settings().validate().into_iter().next() {
        return Err(err(&file_field("mail", id), m));
    }
    if let Some((id, m)) = ip_permissions.validate().into_iter().next() {
        return Err(err(&file_field("ip_permissions", id), m));
    }
    let system: Option<TimeSettings> = match value.get("system") {
        None => None,
        Some(v) => {
            Some(serde_json::from_value(v.clone()).map_err(|e| err("system", e.to_string()))?)
        }
    };
    if let Some((id, m)) = system.iter().flat_map(TimeSettings::validate).next() {
        return Err(err(&file_field("system", id), m));
    }
    // Anything else at the top level is not ours.
    let info: DeviceInfo = serde_json::from_value(value).map_err(|e| err("", e.to_string()))?;
    Ok(DeviceInfo {
        basic,
        security,
        mail,
        ip_permissions,
        system,
        ..info
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> serde_json::Value {
        serde_json::to_value(DeviceInfo {
            format: FORMAT.into(),
            version: VERSION,
            basic: BasicSettings::default(),
            security: SecuritySettings::default(),
            mail: MailExport::from(&MailSettings::default()),
            ip_permissions: IpPermissions::default(),
            system: Some(TimeSettings::default()),
        })
        .unwrap_or_default()
    }

    fn refused(f: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut v = file();
        f(&mut v);
        match parse(&v.to_string()) {
            Ok(_) => "accepted".into(),
            Err(e) => e.field,
        }
    }

    #[test]
    fn a_good_file_round_trips() {
        let text = file().to_string();
        assert_eq!(
            parse(&text).map(|i| serde_json::to_value(i).ok()),
            Ok(Some(file()))
        );
    }

    #[test]
    fn every_kind_of_bad_file_names_its_fault() {
        assert_eq!(parse("{").map_err(|e| e.field), Err(String::new()));
        assert_eq!(
            parse(&" ".repeat(MAX_BYTES + 1)).map_err(|e| e.field),
            Err(String::new())
        );
        assert_eq!(refused(|v| v["format"] = "other".into()), "format");
        assert_eq!(refused(|v| v["version"] = 2.into()), "version");
        assert_eq!(refused(|v| v["version"] = "1".into()), "version");
        assert_eq!(
            refused(|v| v["basic"]["vto_no"] = "12345678".into()),
            "basic.vto_no"
        );
        assert_eq!(refused(|v| v["basic"]["vto_no"] = 8001.into()), "basic");
        assert_eq!(refused(|v| v["mail"]["port"] = 70000.into()), "mail");
        assert_eq!(refused(|v| v["mail"]["port"] = 0.into()), "mail.port");
        assert_eq!(refused(|v| v["mail"]["password"] = "x".into()), "mail");
        assert_eq!(
            refused(|v| v["mail"]["server"] = "mail.example.com".into()),
            "mail.sender"
        );
        assert_eq!(refused(|v| v["extra"] = 1.into()), "");
        assert_eq!(
            refused(|v| v["system"]["ntp"]["update_cycle"] = 31.into()),
            "system.ntp.update_cycle"
        );
        assert_eq!(
            refused(|v| v["system"]["display"]["zone"] = 61.into()),
            "system.display.zone"
        );
        assert_eq!(
            refused(|v| v["system"]["display"]["zone"] = "x".into()),
            "system"
        );
        // A file from before the System page: accepted, nothing to apply.
        assert_eq!(
            refused(|v| {
                v.as_object_mut().map(|o| o.remove("system"));
            }),
            "accepted"
        );
        assert_eq!(
            refused(|v| v["ip_permissions"]["white_list"] = serde_json::json!(["1.2.3"])),
            "ip_permissions.white_list"
        );
        assert_eq!(
            refused(|v| {
                v.as_object_mut().map(|o| o.remove("security"));
            }),
            "security"
        );
    }
}
