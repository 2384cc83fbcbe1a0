//! Command line and environment.

use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;

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

    /// Seconds that 5 consecutive failed logins lock the account for the source address.
    #[arg(
        long,
        env = "VTO_LOCKOUT_SECS",
        default_value_t = 300,
        value_name = "SECS",
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub lockout_secs: u64,

    /// PEM file of extra CA certificates to trust for the SMTP server's TLS
    /// (a private mail server), besides the built-in Mozilla roots.
    #[arg(long, env = "VTO_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Log filter (tracing syntax, e.g. `info` or `vto=debug`).
    #[arg(long, env = "VTO_LOG", default_value = "info", value_name = "FILTER")]
    pub log: String,

    /// Print every HTTP route with who may use it, then exit.
    #[arg(long)]
    pub list_routes: bool,
}
