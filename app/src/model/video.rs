//! Local Setting > Video & Audio (manual 4.2), and where the door camera's
//! picture comes from.
//!
//! The camera is the built-in test camera (the embedded default) or an RTSP
//! camera. The built-in camera applies every setting here at once; an RTSP
//! camera is set up on the camera itself, so the page shows its stream
//! instead of pretending to apply them. The manual gives no bit rates,
//! defaults or ranges for the picture; these are this device's:
//! - Bit Rate: main 256 to 8192 kbit/s (default 2048), sub 64 to 2048
//!   kbit/s (default 512), from fixed lists;
//! - Frame Rate: 1 to 25 (PAL) or 1 to 30 (NTSC); default main 25, sub 15;
//! - Brightness, Contrast, Hue, Saturation, Gamma, Gain: 0 to 100, 50 is
//!   neutral;
//! - the camera address: `rtsp://`, no credentials in it (they have their
//!   own fields; the password is write-only, at most 64 characters).

use serde::{Deserialize, Serialize};

use super::live::SourceStatus;

choices!(
    /// Where the door camera's picture comes from.
    CameraKind {
        #[default]
        BuiltIn = ("builtin", "Built-in camera"),
        Rtsp = ("rtsp", "RTSP camera"),
    }
);

choices!(
    /// How RTP comes from an RTSP camera.
    RtspTransport {
        #[default]
        Tcp = ("tcp", "TCP"),
        Udp = ("udp", "UDP"),
    }
);

choices!(
    /// Video Standard.
    VideoStandard {
        #[default]
        Pal = ("pal", "PAL"),
        Ntsc = ("ntsc", "NTSC"),
    }
);

choices!(
    /// Main stream Video Format.
    MainFormat {
        #[default]
        P720 = ("720p", "720P"),
        Wvga = ("wvga", "WVGA"),
        D1 = ("d1", "D1"),
    }
);

choices!(
    /// Sub stream Video Format.
    SubFormat {
        #[default]
        Cif = ("cif", "CIF"),
        Wvga = ("wvga", "WVGA"),
        Qvga = ("qvga", "QVGA"),
        D1 = ("d1", "D1"),
    }
);

choices!(
    /// Scene Mode.
    SceneMode {
        #[default]
        Automatic = ("auto", "Automatic"),
        Sunny = ("sunny", "Sunny"),
        Night = ("night", "Night"),
        Disabled = ("off", "Disabled"),
    }
);

choices!(
    /// Day/Night Mode.
    DayNightMode {
        #[default]
        Automatic = ("auto", "Automatic"),
        Colorful = ("color", "Colorful"),
        BlackWhite = ("bw", "Black White"),
    }
);

choices!(
    /// BackLight Mode.
    BacklightMode {
        #[default]
        Disabled = ("off", "Disabled"),
        Backlight = ("blc", "Backlight"),
        WideDynamic = ("wdr", "Wide dynamic"),
        Inhibition = ("hlc", "Inhibition"),
    }
);

/// The bit rates offered, kbit/s.
pub const MAIN_BITRATES: &[u32] = &[256, 512, 1024, 1536, 2048, 3072, 4096, 6144, 8192];
pub const SUB_BITRATES: &[u32] = &[64, 128, 256, 384, 512, 768, 1024, 2048];

/// The most characters of a camera address, user name or password.
pub const MAX_URL: usize = 512;
pub const MAX_CREDENTIAL: usize = 64;

impl VideoStandard {
    pub fn max_fps(self) -> u8 {
        match self {
            Self::Pal => 25,
            Self::Ntsc => 30,
        }
    }

    /// D1 and CIF have the standard's line count.
    fn lines(self, pal: u16, ntsc: u16) -> u16 {
        match self {
            Self::Pal => pal,
            Self::Ntsc => ntsc,
        }
    }
}

impl MainFormat {
    pub fn size(self, standard: VideoStandard) -> (u16, u16) {
        match self {
            Self::P720 => (1280, 720),
            Self::Wvga => (800, 480),
            Self::D1 => (704, standard.lines(576, 480)),
        }
    }
}

impl SubFormat {
    pub fn size(self, standard: VideoStandard) -> (u16, u16) {
        match self {
            Self::Cif => (352, standard.lines(288, 240)),
            Self::Wvga => (800, 480),
            Self::Qvga => (320, 240),
            Self::D1 => (704, standard.lines(576, 480)),
        }
    }
}

/// "720P (1280x720)".
pub fn size_label(label: &str, (w, h): (u16, u16)) -> String {
    format!("{label} ({w}x{h})")
}

/// One stream's format, frame rate and bit rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamSettings<F> {
    pub format: F,
    pub fps: u8,
    pub bitrate_kbps: u32,
}

/// The picture adjustments (Conditions and Picture in the manual).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PictureSettings {
    pub scene: SceneMode,
    pub day_night: DayNightMode,
    pub backlight: BacklightMode,
    pub brightness: u8,
    pub contrast: u8,
    pub hue: u8,
    pub saturation: u8,
    pub gamma: u8,
    pub gain: u8,
    pub mirror: bool,
    pub flip: bool,
}

impl Default for PictureSettings {
    fn default() -> Self {
        Self {
            scene: SceneMode::default(),
            day_night: DayNightMode::default(),
            backlight: BacklightMode::default(),
            brightness: 50,
            contrast: 50,
            hue: 50,
            saturation: 50,
            gamma: 50,
            gain: 50,
            mirror: false,
            flip: false,
        }
    }
}

/// Audio (manual 4.2): on or off, and the built-in camera's two levels:
/// Mic Volume (what the microphone hears: a test tone) and Beep Volume (the
/// device's own sounds: a short beep every 2 s), 0 to 100.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AudioSettings {
    pub enabled: bool,
    pub mic_volume: u8,
    pub beep_volume: u8,
}

impl Default for AudioSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            mic_volume: 60,
            beep_volume: 60,
        }
    }
}

/// The door camera's source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CameraSettings {
    pub kind: CameraKind,
    /// `rtsp://host[:port]/path` of an RTSP camera.
    pub url: String,
    pub user: String,
    pub transport: RtspTransport,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VideoSettings {
    pub camera: CameraSettings,
    pub standard: VideoStandard,
    pub main: StreamSettings<MainFormat>,
    pub sub: StreamSettings<SubFormat>,
    pub picture: PictureSettings,
    pub audio: AudioSettings,
}

impl Default for VideoSettings {
    fn default() -> Self {
        Self {
            camera: CameraSettings::default(),
            standard: VideoStandard::Pal,
            main: StreamSettings {
                format: MainFormat::P720,
                fps: 25,
                bitrate_kbps: 2048,
            },
            sub: StreamSettings {
                format: SubFormat::Cif,
                fps: 15,
                bitrate_kbps: 512,
            },
            picture: PictureSettings::default(),
            audio: AudioSettings::default(),
        }
    }
}

/// `host:port` of an RTSP address (lower case, port 554 when absent): where
/// the camera's password is sent.
pub fn camera_destination(url: &str) -> Option<String> {
    let rest = url.trim().strip_prefix("rtsp://")?;
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let has_port = match authority.rsplit_once(':') {
        Some((host, port)) => !port.is_empty() && (!host.contains(':') || host.ends_with(']')),
        None => false,
    };
    Some(if has_port {
        authority
    } else {
        format!("{authority}:554")
    })
}

impl CameraSettings {
    /// Whether `self` sends the camera password nowhere else than `other`
    /// did: an RTSP address at the same host and port, or no camera that
    /// needs one (the built-in camera).
    pub fn same_destination(&self, other: &CameraSettings) -> bool {
        self.kind == CameraKind::BuiltIn
            || (other.kind == CameraKind::Rtsp
                && camera_destination(&self.url).is_some()
                && camera_destination(&self.url) == camera_destination(&other.url))
    }
}

/// Checks an RTSP camera's address as typed: the server parses it again.
pub fn validate_camera_url(url: &str) -> Result<(), &'static str> {
    let url = url.trim();
    let Some(rest) = url.strip_prefix("rtsp://") else {
        return Err("Enter an address starting with rtsp://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("Put the user name and password in their own fields, not in the address");
    }
    if authority.is_empty() || authority.starts_with(':') {
        return Err("The address needs a host");
    }
    if url.len() > MAX_URL || url.chars().any(char::is_whitespace) {
        return Err("Enter an address of at most 512 characters, without spaces");
    }
    Ok(())
}

impl VideoSettings {
    /// Every field error, as (field id, message); empty when valid.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut errors = Vec::new();
        if self.camera.kind == CameraKind::Rtsp {
            if let Err(m) = validate_camera_url(&self.camera.url) {
                errors.push(("camera-url", m.to_string()));
            }
        }
        if self.camera.user.chars().count() > MAX_CREDENTIAL {
            errors.push(("camera-user", "At most 64 characters".to_string()));
        }
        let max = self.standard.max_fps();
        let fps_error = format!("Enter a frame rate from 1 to {max}");
        if !(1..=max).contains(&self.main.fps) {
            errors.push(("main-fps", fps_error.clone()));
        }
        if !(1..=max).contains(&self.sub.fps) {
            errors.push(("sub-fps", fps_error));
        }
        if !MAIN_BITRATES.contains(&self.main.bitrate_kbps) {
            errors.push((
                "main-bitrate",
                "Choose a bit rate from the list".to_string(),
            ));
        }
        if !SUB_BITRATES.contains(&self.sub.bitrate_kbps) {
            errors.push(("sub-bitrate", "Choose a bit rate from the list".to_string()));
        }
        let p = &self.picture;
        for (field, value) in [
            ("brightness", p.brightness),
            ("contrast", p.contrast),
            ("hue", p.hue),
            ("saturation", p.saturation),
            ("gamma", p.gamma),
            ("gain", p.gain),
            ("mic-volume", self.audio.mic_volume),
            ("beep-volume", self.audio.beep_volume),
        ] {
            if value > 100 {
                errors.push((field, "Enter a value from 0 to 100".to_string()));
            }
        }
        errors
    }

    /// The names of the fields that differ from `old`, for the audit log.
    pub fn changed_fields(&self, old: &Self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let (c, o) = (&self.camera, &old.camera);
        for (name, differs) in [
            ("Camera", c.kind != o.kind),
            ("Address", c.url != o.url),
            ("User Name", c.user != o.user),
            ("Transport", c.transport != o.transport),
            ("Video Standard", self.standard != old.standard),
            ("Main Stream", self.main != old.main),
            ("Sub Stream", self.sub != old.sub),
            ("Picture", self.picture != old.picture),
            ("Audio", self.audio != old.audio),
        ] {
            if differs {
                changed.push(name);
            }
        }
        changed
    }
}

/// The page: the settings, whether a camera password is stored (it is
/// never sent back), and what the door camera is doing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoPage {
    pub settings: VideoSettings,
    pub password_set: bool,
    pub status: SourceStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert!(VideoSettings::default().validate().is_empty());
    }

    #[test]
    fn frame_rates_follow_the_video_standard() {
        let mut s = VideoSettings::default();
        s.main.fps = 30;
        assert_eq!(s.validate()[0].0, "main-fps");
        s.standard = VideoStandard::Ntsc;
        assert!(s.validate().is_empty());
        s.sub.fps = 0;
        assert_eq!(s.validate()[0].0, "sub-fps");
    }

    #[test]
    fn d1_and_cif_follow_the_video_standard() {
        assert_eq!(MainFormat::D1.size(VideoStandard::Pal), (704, 576));
        assert_eq!(MainFormat::D1.size(VideoStandard::Ntsc), (704, 480));
        assert_eq!(SubFormat::Cif.size(VideoStandard::Ntsc), (352, 240));
        assert_eq!(MainFormat::Wvga.size(VideoStandard::Ntsc), (800, 480));
    }

    #[test]
    fn bit_rates_and_picture_values_are_checked() {
        let mut s = VideoSettings::default();
        s.main.bitrate_kbps = 1000;
        s.sub.bitrate_kbps = 8192;
        s.picture.gamma = 101;
        let fields: Vec<&str> = s.validate().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["main-bitrate", "sub-bitrate", "gamma"]);
    }

    #[test]
    fn the_camera_password_follows_only_its_host_and_port() {
        let cam = |kind, url: &str| CameraSettings {
            kind,
            url: url.into(),
            ..CameraSettings::default()
        };
        let stored = cam(
            CameraKind::Rtsp,
            "rtsp://Cam.lan/cam/realmonitor?channel=1&subtype=0",
        );
        for (url, same) in [
            (
                "rtsp://cam.lan:554/cam/realmonitor?channel=1&subtype=1",
                true,
            ),
            ("rtsp://cam.lan/other", true),
            ("rtsp://cam.lan:8554/cam/realmonitor", false),
            (
                "rtsp://evil.example/cam/realmonitor?channel=1&subtype=0",
                false,
            ),
            ("rtsp://cam.lan.evil.example/", false),
        ] {
            assert_eq!(
                cam(CameraKind::Rtsp, url).same_destination(&stored),
                same,
                "{url}"
            );
        }
        assert_eq!(
            camera_destination("rtsp://[fe80::1]/x").as_deref(),
            Some("[fe80::1]:554")
        );
        assert_eq!(
            camera_destination("rtsp://[fe80::1]:10554/x").as_deref(),
            Some("[fe80::1]:10554")
        );
        // The built-in camera sends it nowhere; from the built-in camera to
        // an RTSP one is a new destination.
        assert!(cam(CameraKind::BuiltIn, "").same_destination(&stored));
        assert!(!stored.same_destination(&cam(CameraKind::BuiltIn, "")));
    }

    #[test]
    fn an_rtsp_camera_needs_a_clean_address() {
        let mut s = VideoSettings::default();
        s.camera.kind = CameraKind::Rtsp;
        assert_eq!(s.validate()[0].0, "camera-url");
        for (url, ok) in [
            (
                "rtsp://10.0.0.5:554/cam/realmonitor?channel=1&subtype=0",
                true,
            ),
            ("rtsp://[::1]:8554/x", true),
            ("http://10.0.0.5/", false),
            ("rtsp://admin:pw@10.0.0.5/", false),
            ("rtsp:///path", false),
            ("rtsp://:554/x", false),
            ("rtsp://host/a b", false),
        ] {
            assert_eq!(validate_camera_url(url).is_ok(), ok, "{url}");
        }
        // The address is only checked when it is used.
        s.camera.kind = CameraKind::BuiltIn;
        assert!(s.validate().is_empty());
    }

    #[test]
    fn changed_fields_name_what_changed() {
        let old = VideoSettings::default();
        let mut new = old.clone();
        new.camera.kind = CameraKind::Rtsp;
        new.picture.mirror = true;
        assert_eq!(new.changed_fields(&old), vec!["Camera", "Picture"]);
    }
}
