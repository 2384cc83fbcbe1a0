//! The NTP client (SNTP, RFC 4330, through rsntp): asks the server how far
//! the host's clock is off; the device's clock takes that as its offset.

use std::{net::SocketAddr, time::Duration};

/// How long one request waits for an answer.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The server's time minus the host's, in milliseconds.
pub async fn query(server: &str, port: u16) -> Result<i64, String> {
    let addr = tokio::net::lookup_host((server, port))
        .await
        .map_err(|e| format!("cannot resolve {server}: {e}"))?
        .next()
        .ok_or_else(|| format!("cannot resolve {server}"))?;
    let bind: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let client = rsntp::AsyncSntpClient::with_config(
        rsntp::Config::default().bind_address(bind).timeout(TIMEOUT),
    );
    let result = client
        .synchronize(addr)
        .await
        .map_err(|e| format!("no time from {addr}: {e}"))?;
    let offset = result.clock_offset().as_secs_f64() * 1000.0;
    if !offset.is_finite() || offset.abs() > 1e15 {
        return Err(format!("{addr} answered an impossible time"));
    }
    Ok(offset.round() as i64)
}
