//! Command line and environment.

use std::{net::SocketAddr, path::PathBuf};

use clap::{builder::TypedValueParser, Parser};

/// vto: an open video door station in one binary.
///
/// Serves the door station's web UI (initialization, login, settings, logs)
/// and keeps its data in one database file in the data directory.
#[derive(Debug, Parser)]
#[command(name = "vto", version)]
pub struct Cli {
    /// Directory for the device's data (database; created if missing, mode 0700).
    #[arg(
        long,
        env = "VTO_DATA_DIR",
        default_value = "./vto-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,

    /// Address and port of the web UI. Use 0.0.0.0:80 on a device; port 0 picks a free port.
    #[arg(
        long,
        env = "VTO_HTTP",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub http: SocketAddr,

    /// A DNS name the web UI is reached by, besides IP addresses,
    /// `localhost` and the host's own name (also as `NAME.local`); repeat
    /// or separate with commas. Requests naming any other host get 421
    /// (DNS rebinding).
    #[arg(
        long,
        env = "VTO_HOST_NAMES",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub host_name: Vec<String>,

    /// Seconds a web connection may wait between requests, and may take to
    /// send a request's head (slowloris).
    #[arg(
        long,
        env = "VTO_HTTP_IDLE_SECS",
        default_value_t = 20,
        value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=3_600)
    )]
    pub http_idle_secs: u64,

    /// Seconds that 5 consecutive failed logins lock the account for the source address.
    #[arg(
        long,
        env = "VTO_LOCKOUT_SECS",
        default_value_t = 300,
        value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub lockout_secs: u64,

    /// PEM file of extra CA certificates to trust for TLS to the SMTP server
    /// and to webhooks (a private server), besides the built-in Mozilla
    /// roots.
    #[arg(long, env = "VTO_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// UDP ports for live video (WebRTC), `MIN-MAX`: open these in a firewall.
    #[arg(
        long,
        env = "VTO_WEBRTC_PORTS",
        default_value = "40000-40999",
        value_name = "MIN-MAX",
        value_parser = parse_port_range
    )]
    pub webrtc_ports: (u16, u16),

    /// UDP ports for door calls' RTP and RTCP (an even port and the next
    /// one per stream), `MIN-MAX`: open these in a firewall.
    #[arg(
        long,
        env = "VTO_RTP_PORTS",
        default_value = "30000-30999",
        value_name = "MIN-MAX",
        value_parser = parse_port_range
    )]
    pub rtp_ports: (u16, u16),

    /// How long the door's call rings before nobody answered (and a
    /// visitor may leave a message), in seconds.
    #[arg(long, env = "VTO_RING_SECS", default_value_t = 30, value_name = "SECS",
          value_parser = clap::value_parser!(u16).range(3..=120))]
    pub ring_secs: u16,

    /// The Storage Point (snapshots and visitors' messages) keeps at most
    /// this many of the device's files; beyond, the oldest are removed.
    #[arg(long, env = "VTO_STORAGE_MAX_FILES", default_value_t = 1_000, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub storage_max_files: u32,

    /// ... and at most this many MiB of them.
    #[arg(long, env = "VTO_STORAGE_MAX_MB", default_value_t = 1_024, value_name = "MIB",
          value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub storage_max_mb: u32,

    /// The door's microphone: an ALSA capture device (`default`,
    /// `plughw:1,0`, ...). Without it the door camera's audio (or the
    /// built-in test tone) is the door's.
    #[arg(long, env = "VTO_AUDIO_IN", value_name = "ALSA-DEVICE")]
    pub audio_in: Option<String>,

    /// The door's speaker: an ALSA playback device. Without it the speaker
    /// is simulated (its level shows on the door panel). With both, the
    /// speaker's echo is taken out of the microphone.
    #[arg(long, env = "VTO_AUDIO_OUT", value_name = "ALSA-DEVICE")]
    pub audio_out: Option<String>,

    /// The SIP server (this VTO as SIP server, manual 6.2): UDP and TCP on
    /// this address (port 0 picks a free one), or `off`.
    #[arg(
        long,
        env = "VTO_SIP",
        default_value = "127.0.0.1:5060",
        value_name = "ADDR|off",
        value_parser = parse_listen
    )]
    pub sip: ListenOrOff,

    /// DHIP, the Dahua door stations' TCP protocol that Home Assistant's
    /// Dahua integration, openHAB and DahuaVTO2MQTT use (port 5000 on a
    /// device), or `off`. Authenticated like the HTTP API.
    #[arg(
        long,
        env = "VTO_DHIP",
        default_value = "127.0.0.1:5000",
        value_name = "ADDR|off",
        value_parser = parse_listen
    )]
    pub dhip: ListenOrOff,

    /// RTSP server for recorders and relays: `ADDR` (default the loopback
    /// port 8554 for a workstation; give `0.0.0.0:554` on a device), or
    /// `off`. Digest auth against the accounts (Viewer and up).
    #[arg(
        long,
        env = "VTO_RTSP",
        default_value = "127.0.0.1:8554",
        value_name = "ADDR|off",
        value_parser = parse_listen
    )]
    pub rtsp: ListenOrOff,

    /// WS-Discovery (ONVIF clients find the device): a UDP `ADDR` (default
    /// the loopback port 3702 for a workstation; give `0.0.0.0:3702` on a
    /// device, which also joins 239.255.255.250), or `off`. Answers only
    /// while Network Setting > ONVIF has ONVIF and WS-Discovery on.
    #[arg(
        long,
        env = "VTO_DISCOVERY",
        default_value = "127.0.0.1:3702",
        value_name = "ADDR|off",
        value_parser = parse_listen
    )]
    pub discovery: ListenOrOff,

    /// Seconds a new SIP (TCP), DHIP or RTSP connection may take to send its
    /// first whole request (and a SIP message, once begun, to be whole):
    /// idle and trickling connections are closed after it.
    #[arg(
        long,
        env = "VTO_FIRST_REQUEST_SECS",
        default_value_t = crate::network::conn_limit::FIRST_REQUEST_SECS,
        value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=300)
    )]
    pub first_request_secs: u64,

    /// Live viewers at once, all cameras together (each costs a WebRTC
    /// connection; a small board carries a few dozen).
    #[arg(long, env = "VTO_MAX_VIEWERS", default_value_t = crate::video::live::MAX_VIEWERS,
          value_parser = clap::value_parser!(u16).range(1..=1000).map(usize::from))]
    pub max_viewers: usize,

    /// A USB card reader that types the card number (its input device,
    /// e.g. /dev/input/by-id/usb-...-event-kbd). Without it, cards come
    /// from the simulator on the main page.
    #[arg(long, env = "VTO_CARD_READER", value_name = "DEVICE")]
    pub card_reader: Option<std::path::PathBuf>,

    /// The lock on GPIO lines: the chip (e.g. /dev/gpiochip0), with
    /// --gpio-relay. Without it the lock is the built-in simulator, shown
    /// on the main page.
    #[arg(
        long,
        env = "VTO_GPIO_CHIP",
        value_name = "DEVICE",
        requires = "gpio_relay"
    )]
    pub gpio_chip: Option<std::path::PathBuf>,

    /// The relay's line (offset on the chip).
    #[arg(
        long,
        env = "VTO_GPIO_RELAY",
        value_name = "LINE",
        requires = "gpio_chip"
    )]
    pub gpio_relay: Option<u32>,

    /// The relay board switches on a low level.
    #[arg(long, env = "VTO_GPIO_RELAY_ACTIVE_LOW")]
    pub gpio_relay_active_low: bool,

    /// The door's Call button's line, if one is fitted: a press calls the
    /// Villa Station's room (debounced).
    #[arg(
        long,
        env = "VTO_GPIO_CALL",
        value_name = "LINE",
        requires = "gpio_chip"
    )]
    pub gpio_call: Option<u32>,

    /// The Call button's level when pressed.
    #[arg(long, env = "VTO_GPIO_CALL_PRESSED", value_enum, default_value = "low")]
    pub gpio_call_pressed: crate::door::lock::gpio::Level,

    /// The door sensor's line, if one is fitted.
    #[arg(
        long,
        env = "VTO_GPIO_DOOR",
        value_name = "LINE",
        requires = "gpio_chip"
    )]
    pub gpio_door: Option<u32>,

    /// The door sensor's level when the door is open.
    #[arg(long, env = "VTO_GPIO_DOOR_OPEN", value_enum, default_value = "high")]
    pub gpio_door_open: crate::door::lock::gpio::Level,

    /// The exit button's line, if one is fitted.
    #[arg(
        long,
        env = "VTO_GPIO_EXIT",
        value_name = "LINE",
        requires = "gpio_chip"
    )]
    pub gpio_exit: Option<u32>,

    /// The exit button's level while pressed.
    #[arg(long, env = "VTO_GPIO_EXIT_PRESSED", value_enum, default_value = "low")]
    pub gpio_exit_pressed: crate::door::lock::gpio::Level,

    /// A Wiegand 26/34 card reader's D0 line (with --wiegand-d1 and
    /// --gpio-chip); its cards are read like the simulator's.
    #[arg(
        long,
        env = "VTO_WIEGAND_D0",
        value_name = "LINE",
        requires_all = ["gpio_chip", "wiegand_d1"]
    )]
    pub wiegand_d0: Option<u32>,

    /// The Wiegand reader's D1 line.
    #[arg(
        long,
        env = "VTO_WIEGAND_D1",
        value_name = "LINE",
        requires_all = ["gpio_chip", "wiegand_d0"]
    )]
    pub wiegand_d1: Option<u32>,

    /// Log filter (tracing syntax, e.g. `info` or `vto=debug`).
    #[arg(long, env = "VTO_LOG", default_value = "info", value_name = "FILTER")]
    pub log: String,

    /// How log lines are written (stderr): `text` for a person, `json` for
    /// a log collector (one object per line, with its area in `target`).
    #[arg(long, env = "VTO_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: crate::log_output::LogFormat,

    /// Print every HTTP route with who may use it, then exit.
    #[arg(long)]
    pub list_routes: bool,

    /// Make a new token for `GET /metrics` (Authorization: Bearer), print
    /// it once and exit; only its SHA-256 is kept in the data directory,
    /// and the last token stops working. Works while vto runs.
    #[arg(long, conflicts_with = "revoke_metrics_token")]
    pub new_metrics_token: bool,

    /// Remove the metrics token and exit: `/metrics` answers nobody.
    #[arg(long)]
    pub revoke_metrics_token: bool,
}

/// Where a listener (SIP, DHIP) listens, if anywhere.
#[derive(Clone, Copy, Debug)]
pub struct ListenOrOff(pub Option<SocketAddr>);

/// An address, or `off`.
fn parse_listen(s: &str) -> Result<ListenOrOff, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(ListenOrOff(None));
    }
    s.parse()
        .map(|a| ListenOrOff(Some(a)))
        .map_err(|e| format!("expected ADDR:PORT or off: {e}"))
}

/// `MIN-MAX` with 1 <= MIN <= MAX.
fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or("expected MIN-MAX, e.g. 40000-40999")?;
    let (a, b): (u16, u16) = (
        a.trim().parse().map_err(|_| format!("{a} is not a port"))?,
        b.trim().parse().map_err(|_| format!("{b} is not a port"))?,
    );
    if a == 0 || a > b {
        return Err("MIN must be at least 1 and not above MAX".into());
    }
    Ok((a, b))
}

impl Cli {
    /// The door's ALSA devices.
    pub fn audio(&self) -> crate::door::audio::AudioConfig {
        let named = |d: &Option<String>| d.clone().filter(|d| !d.trim().is_empty());
        crate::door::audio::AudioConfig {
            input: named(&self.audio_in),
            output: named(&self.audio_out),
        }
    }

    /// The GPIO lock, if a chip is given.
    pub fn gpio(&self) -> Option<crate::door::lock::gpio::GpioConfig> {
        Some(crate::door::lock::gpio::GpioConfig {
            chip: self.gpio_chip.clone()?,
            relay: self.gpio_relay?,
            relay_active_low: self.gpio_relay_active_low,
            door: self.gpio_door.map(|l| (l, self.gpio_door_open)),
            exit: self.gpio_exit.map(|l| (l, self.gpio_exit_pressed)),
            wiegand: self.wiegand_d0.zip(self.wiegand_d1),
            call: self.gpio_call.map(|l| (l, self.gpio_call_pressed)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::door::lock::gpio::Level;

    #[test]
    fn port_ranges() {
        assert_eq!(parse_port_range("40000-40999"), Ok((40000, 40999)));
        assert_eq!(parse_port_range("5000-5000"), Ok((5000, 5000)));
        for bad in ["", "40000", "0-10", "10-5", "a-b", "1-70000"] {
            assert!(parse_port_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_wiegand_reader_needs_both_lines_and_the_chip() {
        use clap::Parser;
        let parse = |args: &[&str]| Cli::try_parse_from([&["vto"], args].concat());
        let gpio = ["--gpio-chip", "/dev/gpiochip0", "--gpio-relay", "17"];
        let both = [&gpio[..], &["--wiegand-d0", "5", "--wiegand-d1", "6"]].concat();
        let cli = parse(&both).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cli.gpio().and_then(|g| g.wiegand), Some((5, 6)));
        assert!(parse(&[&gpio[..], &["--wiegand-d0", "5"]].concat()).is_err());
        assert!(parse(&["--wiegand-d0", "5", "--wiegand-d1", "6"]).is_err());
        let none = parse(&gpio).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(none.gpio().and_then(|g| g.wiegand), None);
        assert_eq!(none.gpio().and_then(|g| g.call), None);
        // The Call button: on a chip, pressed low unless told.
        let call = parse(&[&gpio[..], &["--gpio-call", "22"]].concat());
        let call = call.unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            call.gpio().and_then(|g| g.call),
            Some((22, Level::Low))
        ));
        let high = [
            &gpio[..],
            &["--gpio-call", "22", "--gpio-call-pressed", "high"],
        ]
        .concat();
        let high = parse(&high).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            high.gpio().and_then(|g| g.call),
            Some((22, Level::High))
        ));
        assert!(
            parse(&["--gpio-call", "22"]).is_err(),
            "a line needs its chip"
        );
    }
}
