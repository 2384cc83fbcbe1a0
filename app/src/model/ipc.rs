//! Household Setting > IPC Setting (manual 5.4): the cameras (IPC, NVR,
//! HCVR, XVR) this device relays to its viewers, 32 at most. Each gets two
//! sources: `ipc-<id>` (its Stream: Main or Extra1) and `ipc-<id>-sub`
//! (Extra1, for tiles). The password is write-only, and Export Config leaves
//! it out.
//!
//! The manual gives no ranges; these are this device's:
//! - IPC Name: 1 to 32 characters, unique;
//! - IP Addr.: an IPv4 or IPv6 address;
//! - Username, Password: at most 64 characters;
//! - Port No.: 1 to 65535 (default 554 for Local, 80 for Onvif);
//! - Channel: 1 to 256 (an NVR's channel; 1 for a camera).

use serde::{Deserialize, Serialize};

use super::live::SourceStatus;

choices!(
    /// Protocol.
    IpcProtocol {
        #[default]
        Local = ("local", "Local"),
        Onvif = ("onvif", "Onvif"),
    }
);

choices!(
    /// Stream.
    IpcStream {
        #[default]
        Main = ("main", "Main"),
        Extra1 = ("extra1", "Extra1"),
    }
);

choices!(
    /// Device Type.
    IpcDeviceType {
        #[default]
        Ipc = ("ipc", "IPC"),
        Nvr = ("nvr", "NVR"),
        Hcvr = ("hcvr", "HCVR"),
        Xvr = ("xvr", "XVR"),
    }
);

/// The total the manual calls fixed.
pub const MAX_IPCS: usize = 32;
pub const MAX_NAME: usize = 32;
pub const MAX_CREDENTIAL: usize = 64;
pub const MAX_CHANNEL: u16 = 256;

impl IpcProtocol {
    pub fn default_port(self) -> u16 {
        match self {
            Self::Local => 554,
            Self::Onvif => 80,
        }
    }
}

/// One camera as the page edits it (no password: that is write-only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ipc {
    pub name: String,
    pub ip: String,
    pub user: String,
    pub port: u16,
    pub protocol: IpcProtocol,
    pub stream: IpcStream,
    pub channel: u16,
    pub device_type: IpcDeviceType,
}

impl Default for Ipc {
    fn default() -> Self {
        Self {
            name: String::new(),
            ip: String::new(),
            user: "admin".into(),
            port: IpcProtocol::Local.default_port(),
            protocol: IpcProtocol::Local,
            stream: IpcStream::Main,
            channel: 1,
            device_type: IpcDeviceType::Ipc,
        }
    }
}

impl Ipc {
    /// Whether `self` sends the password nowhere else than `other` did:
    /// the same address (any case) and port.
    pub fn same_destination(&self, other: &Ipc) -> bool {
        self.ip.trim().eq_ignore_ascii_case(other.ip.trim()) && self.port == other.port
    }

    /// Every field error, as (field id, message); empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            errors.push(("ipc-name", "Enter a name of 1 to 32 characters".into()));
        }
        if self.ip.trim().parse::<std::net::IpAddr>().is_err() {
            errors.push((
                "ipc-ip",
                "Enter an IP address, e.g. 192.168.1.108".to_string(),
            ));
        }
        if self.user.chars().count() > MAX_CREDENTIAL {
            errors.push(("ipc-user", "At most 64 characters".into()));
        }
        if self.port == 0 {
            errors.push(("ipc-port", "Enter a port from 1 to 65535".into()));
        }
        if !(1..=MAX_CHANNEL).contains(&self.channel) {
            errors.push(("ipc-channel", "Enter a channel from 1 to 256".into()));
        }
        errors
    }

    /// The Dahua RTSP address of this camera's stream (Local protocol):
    /// `rtsp://IP:PORT/cam/realmonitor?channel=C&subtype=0|1`.
    pub fn local_url(&self, stream: IpcStream) -> String {
        let ip = self.ip.trim();
        let host = if ip.contains(':') {
            format!("[{ip}]")
        } else {
            ip.to_string()
        };
        let subtype = match stream {
            IpcStream::Main => 0,
            IpcStream::Extra1 => 1,
        };
        format!(
            "rtsp://{host}:{}/cam/realmonitor?channel={}&subtype={subtype}",
            self.port, self.channel
        )
    }
}

/// Every error of a whole list: each camera's, then names used twice and
/// the total. `(index, field, message)`; the index is `None` for the list.
pub fn validate_list(ipcs: &[Ipc]) -> Vec<(Option<usize>, &'static str, String)> {
    let mut errors = Vec::new();
    if ipcs.len() > MAX_IPCS {
        errors.push((None, "ipc-list", format!("At most {MAX_IPCS} devices")));
    }
    for (i, ipc) in ipcs.iter().enumerate() {
        for (field, message) in ipc.validate() {
            errors.push((Some(i), field, message));
        }
        let name = ipc.name.trim();
        if ipcs[..i].iter().any(|o| o.name.trim() == name) {
            errors.push((Some(i), "ipc-name", format!("{name} is used twice")));
        }
    }
    errors
}

/// A camera of the list, as the device shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcEntry {
    /// Stable while it exists: names its sources (`ipc-<id>`).
    pub id: u32,
    pub ipc: Ipc,
    pub password_set: bool,
    pub status: SourceStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcPage {
    pub ipcs: Vec<IpcEntry>,
}

/// The Export Config file: the list without passwords.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcExport {
    pub format: String,
    pub version: u32,
    pub ipcs: Vec<Ipc>,
}

pub const EXPORT_FORMAT: &str = "vto-ipc-config";
pub const EXPORT_VERSION: u32 = 1;

impl IpcExport {
    pub fn new(ipcs: Vec<Ipc>) -> Self {
        Self {
            format: EXPORT_FORMAT.into(),
            version: EXPORT_VERSION,
            ipcs,
        }
    }

    /// Reads and checks a whole file; the first problem, in words, if any.
    pub fn parse(text: &str) -> Result<Vec<Ipc>, String> {
        let file: IpcExport =
            serde_json::from_str(text).map_err(|e| format!("Not an IPC config file: {e}"))?;
        if file.format != EXPORT_FORMAT {
            return Err(format!("Not an IPC config file (format {})", file.format));
        }
        if file.version != EXPORT_VERSION {
            return Err(format!(
                "Version {} of the IPC config is not supported",
                file.version
            ));
        }
        if let Some((i, _, message)) = validate_list(&file.ipcs).into_iter().next() {
            return Err(match i {
                Some(i) => format!("Device {} ({}): {message}", i + 1, file.ipcs[i].name),
                None => message,
            });
        }
        Ok(file.ipcs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(name: &str) -> Ipc {
        Ipc {
            name: name.into(),
            ip: "192.168.1.108".into(),
            ..Ipc::default()
        }
    }

    #[test]
    fn a_camera_is_checked_field_by_field() {
        assert!(camera("Gate").validate().is_empty());
        let bad = Ipc {
            name: " ".into(),
            ip: "cam.local".into(),
            user: "u".repeat(65),
            port: 0,
            channel: 0,
            ..Ipc::default()
        };
        let fields: Vec<&str> = bad.validate().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            vec!["ipc-name", "ipc-ip", "ipc-user", "ipc-port", "ipc-channel"]
        );
    }

    #[test]
    fn the_local_address_is_dahuas() {
        let mut c = camera("Gate");
        c.channel = 3;
        assert_eq!(
            c.local_url(IpcStream::Extra1),
            "rtsp://192.168.1.108:554/cam/realmonitor?channel=3&subtype=1"
        );
        c.ip = "fd00::5".into();
        c.port = 8554;
        assert_eq!(
            c.local_url(IpcStream::Main),
            "rtsp://[fd00::5]:8554/cam/realmonitor?channel=3&subtype=0"
        );
    }

    #[test]
    fn lists_have_unique_names_and_at_most_32() {
        assert!(validate_list(&[camera("A"), camera("B")]).is_empty());
        let twice = validate_list(&[camera("A"), camera("A ")]);
        assert_eq!(twice[0].0, Some(1));
        let many: Vec<Ipc> = (0..33).map(|i| camera(&format!("C{i}"))).collect();
        assert_eq!(validate_list(&many)[0].1, "ipc-list");
    }

    #[test]
    fn export_files_round_trip_and_bad_ones_are_named() {
        let list = vec![camera("Gate"), camera("Garden")];
        let text = serde_json::to_string(&IpcExport::new(list.clone())).unwrap_or_default();
        assert!(!text.contains("password"));
        assert_eq!(IpcExport::parse(&text), Ok(list));
        for (bad, says) in [
            ("{}", "Not an IPC config file"),
            (r#"{"format":"x","version":1,"ipcs":[]}"#, "format x"),
            (
                r#"{"format":"vto-ipc-config","version":9,"ipcs":[]}"#,
                "Version 9",
            ),
            (
                r#"{"format":"vto-ipc-config","version":1,"ipcs":[{"name":"Gate","ip":"nope"}]}"#,
                "Device 1 (Gate): Enter an IP address",
            ),
        ] {
            let e = IpcExport::parse(bad).err().unwrap_or_default();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
