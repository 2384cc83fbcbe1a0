//! `GET /metrics` on the web port, for a scraper with the metrics token
//! (`Authorization: Bearer <token>`); nobody else, not even a session.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use super::{token, Gauges, METRICS};
use crate::http::AppState;

pub const PATH: &str = "/metrics";

/// The Prometheus text format's media type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub async fn handle(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    let Some(presented) = presented else {
        return refuse();
    };
    let data_dir = state.services.data_dir.clone();
    let presented = presented.to_string();
    // A file read: off the async threads.
    let verdict = tokio::task::spawn_blocking(move || token::check(&data_dir, &presented)).await;
    match verdict {
        Ok(token::Check::Valid) => {}
        Ok(token::Check::Wrong | token::Check::NoneSet) => {
            let ip = peer.ip().to_canonical();
            tracing::warn!(%ip, "metrics: wrong token");
            METRICS.login_failed("metrics_token");
            return refuse();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    let s = &state.services;
    let gauges = Gauges {
        version: env!("CARGO_PKG_VERSION"),
        registrations: s.household.sip.registered(),
        viewers: s
            .video
            .media
            .live_if_started()
            .map_or(0, |live| live.count()),
        rtsp: METRICS.rtsp_playing(),
    };
    let body = super::render(&METRICS.families(&gauges));
    (
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn refuse() -> Response {
    let mut r = StatusCode::UNAUTHORIZED.into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"vto metrics\""),
    );
    r
}
