//! `configManager.cgi`: the Dahua config tables that map to vto's
//! settings, read and written through the same services as the UI's
//! pages (so a `setConfig` is validated like the page and audited).
//!
//! - `General`: `MachineName` and `LocalNo`, the Basic page's VTO No.
//!   (read only: the VTO No. is set on its page);
//! - `AccessControl[0]`: `UnlockHoldInterval` (ms) is the Unlock Period,
//!   `UnlockReloadInterval` (ms) the Unlock Responding Interval,
//!   `SensorEnable` and `CloseTimeout` (s) the Door Sensor Check;
//! - `VideoTalkPhoneGeneral`: `AutoRecordEnable` is Leave Message Upload,
//!   `AutoRecordTime` (s) its message time.
//!
//! A `setConfig` names keys of one table; every key is checked before
//! anything is saved, so a bad value changes nothing.

use app::{
    error::ApiError,
    model::{access::AccessSettings, settings::BasicSettings, users::Right},
    services::{Door as _, System as _},
};

use super::Dahua;

/// Why a request was refused, as the body says it.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Unknown table or key: the API's 400 `Bad Request!`.
    Unsupported,
    /// A value that the page would refuse, or a read-only key.
    Invalid(String),
    /// The account's role may not.
    Forbidden,
    Failed(String),
}

impl From<ApiError> for ConfigError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Invalid { message, .. } => Self::Invalid(message),
            other => Self::Failed(other.to_string()),
        }
    }
}

/// The tables answered.
const TABLES: [&str; 3] = ["General", "AccessControl", "VideoTalkPhoneGeneral"];

/// `T`, `T.Key`, `T[0]`, `T[0].Key` -> `T`.
fn table_of(name: &str) -> &str {
    name.split(['.', '[']).next().unwrap_or(name)
}

fn bool_text(b: bool) -> String {
    if b { "true" } else { "false" }.into()
}

fn parse_bool(v: &str) -> Result<bool, ConfigError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::Invalid(format!("{v}: true or false"))),
    }
}

fn parse_u32(v: &str) -> Result<u32, ConfigError> {
    v.parse()
        .map_err(|_| ConfigError::Invalid(format!("{v}: not a number")))
}

/// Milliseconds as whole seconds (vto's settings are in seconds).
fn seconds_of_ms(v: &str) -> Result<u32, ConfigError> {
    let ms = parse_u32(v)?;
    if ms % 1000 != 0 {
        return Err(ConfigError::Invalid(format!(
            "{v}: whole seconds (a multiple of 1000 ms)"
        )));
    }
    Ok(ms / 1000)
}

fn access_lines(a: &AccessSettings) -> Vec<(String, String)> {
    let p = "AccessControl[0]";
    vec![
        (format!("{p}.AccessProtocol"), "Local".into()),
        (format!("{p}.CloseTimeout"), a.sensor_check_s.to_string()),
        (
            format!("{p}.SensorEnable"),
            bool_text(a.sensor_check_enable),
        ),
        (
            format!("{p}.UnlockHoldInterval"),
            (u64::from(a.unlock_period_s) * 1000).to_string(),
        ),
        (
            format!("{p}.UnlockReloadInterval"),
            (u64::from(a.responding_interval_s) * 1000).to_string(),
        ),
    ]
}

fn talk_lines(b: &BasicSettings) -> Vec<(String, String)> {
    vec![
        (
            "VideoTalkPhoneGeneral.AutoRecordEnable".into(),
            bool_text(b.leave_message),
        ),
        (
            "VideoTalkPhoneGeneral.AutoRecordTime".into(),
            b.message_time_s.to_string(),
        ),
    ]
}

fn general_lines(b: &BasicSettings) -> Vec<(String, String)> {
    vec![
        ("General.LocalNo".into(), b.vto_no.clone()),
        ("General.MachineName".into(), b.vto_no.clone()),
    ]
}

/// `getConfig&name=...`: the lines under `name` (without `table.`).
pub async fn get(
    d: &Dahua,
    who: &super::cgi::Who,
    name: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    let table = table_of(name);
    if !TABLES.contains(&table) {
        return Err(ConfigError::Unsupported);
    }
    // The machine name identifies the device to every client; the rest
    // is the installer's.
    if table != "General" && !who.role.may(Right::Settings) {
        return Err(ConfigError::Forbidden);
    }
    let lines = match table {
        "AccessControl" => access_lines(&d.services.door.access_settings(&who.caller).await?),
        "VideoTalkPhoneGeneral" => {
            talk_lines(&d.services.system.basic_settings(&who.caller).await?)
        }
        _ => general_lines(&d.services.system.basic_settings(&who.caller).await?),
    };
    let lines: Vec<(String, String)> = lines
        .into_iter()
        .filter(|(k, _)| {
            k == name || k.starts_with(&format!("{name}.")) || k.starts_with(&format!("{name}["))
                // `AccessControl` covers `AccessControl[0]...`.
                || (name == table && k.starts_with(table))
        })
        .collect();
    if lines.is_empty() {
        return Err(ConfigError::Unsupported);
    }
    Ok(lines)
}

/// `setConfig&T.Key=value[&...]`: keys of one table, all checked, then
/// saved as the page saves them.
pub async fn set(
    d: &Dahua,
    who: &super::cgi::Who,
    pairs: &[(&str, &str)],
) -> Result<(), ConfigError> {
    if !who.role.may(Right::Settings) {
        return Err(ConfigError::Forbidden);
    }
    let Some((first, _)) = pairs.first() else {
        return Err(ConfigError::Unsupported);
    };
    let table = table_of(first);
    if pairs.iter().any(|(k, _)| table_of(k) != table) {
        return Err(ConfigError::Invalid("one table per setConfig".into()));
    }
    match table {
        "AccessControl" => {
            let mut a = d.services.door.access_settings(&who.caller).await?;
            for (k, v) in pairs {
                let key = k
                    .strip_prefix("AccessControl[0].")
                    .or_else(|| k.strip_prefix("AccessControl."))
                    .ok_or(ConfigError::Unsupported)?;
                match key {
                    "UnlockHoldInterval" => a.unlock_period_s = seconds_of_ms(v)?,
                    "UnlockReloadInterval" => a.responding_interval_s = seconds_of_ms(v)?,
                    "CloseTimeout" => a.sensor_check_s = parse_u32(v)?,
                    "SensorEnable" => a.sensor_check_enable = parse_bool(v)?,
                    "AccessProtocol" if *v == "Local" => {}
                    "AccessProtocol" => {
                        return Err(ConfigError::Invalid(format!("{v}: only Local")))
                    }
                    _ => return Err(ConfigError::Unsupported),
                }
            }
            d.services.door.save_access_settings(&who.caller, a).await?;
        }
        "VideoTalkPhoneGeneral" => {
            let mut b = d.services.system.basic_settings(&who.caller).await?;
            for (k, v) in pairs {
                match k.strip_prefix("VideoTalkPhoneGeneral.") {
                    Some("AutoRecordEnable") => b.leave_message = parse_bool(v)?,
                    Some("AutoRecordTime") => {
                        b.message_time_s = v
                            .parse()
                            .map_err(|_| ConfigError::Invalid(format!("{v}: not a number")))?;
                    }
                    _ => return Err(ConfigError::Unsupported),
                }
            }
            d.services
                .system
                .save_basic_settings(&who.caller, b)
                .await?;
        }
        "General" => {
            return Err(ConfigError::Invalid(
                "read only: set the VTO No. on Local Setting > Basic".into(),
            ))
        }
        _ => return Err(ConfigError::Unsupported),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_values_and_lines() {
        assert_eq!(table_of("AccessControl[0].SensorEnable"), "AccessControl");
        assert_eq!(table_of("General.MachineName"), "General");
        assert_eq!(table_of("General"), "General");
        assert_eq!(seconds_of_ms("5000"), Ok(5));
        assert!(matches!(
            seconds_of_ms("1500"),
            Err(ConfigError::Invalid(_))
        ));
        assert!(matches!(parse_bool("yes"), Err(ConfigError::Invalid(_))));
        let lines = access_lines(&AccessSettings::default());
        assert!(lines.contains(&("AccessControl[0].UnlockHoldInterval".into(), "5000".into())));
        assert!(lines.contains(&("AccessControl[0].SensorEnable".into(), "false".into())));
    }
}
