//! WHEP (RFC 9725) for scripts and players other than the device's pages:
//! `POST /api/whep/<source>` with an SDP offer (`application/sdp`) answers
//! `201 Created` with the SDP answer and a `Location` naming the viewer;
//! `DELETE` on that location ends it. Under `/api/`, so the guard wants a
//! session and the device's own origin like every other API call. Offers
//! go through the same [`app::services::Video::live_offer`] as the pages'.

use axum::{
    body::Body,
    extract::{Path, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use app::{
    error::ApiError,
    services::{Caller, Video},
};

use super::{guard::api_error, AppState};

/// `POST` here with an offer.
pub const OFFER_PATH: &str = "/api/whep/{source}";
/// `DELETE` here ends a viewer.
pub const VIEWER_PATH: &str = "/api/whep/{source}/{id}";
/// The largest offer taken (browsers send a few KiB).
const MAX_OFFER: usize = 64 * 1024;

pub(super) fn caller(req: &Request<Body>) -> Result<Caller, ApiError> {
    let caller = req
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or(ApiError::Unauthorized)?;
    caller.session()?;
    Ok(caller)
}

pub(super) fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.into(),
    )
        .into_response()
}

/// The body of a WHEP `POST`: an SDP offer as `application/sdp`, or the
/// response that refuses it.
pub(super) async fn sdp_body(req: Request<Body>) -> Result<String, Response> {
    let is_sdp = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/sdp"));
    if !is_sdp {
        return Err(plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the offer as application/sdp",
        ));
    }
    let body = axum::body::to_bytes(req.into_body(), MAX_OFFER)
        .await
        .map_err(|_| plain(StatusCode::PAYLOAD_TOO_LARGE, "The offer is too large"))?;
    String::from_utf8(body.to_vec())
        .map_err(|_| plain(StatusCode::BAD_REQUEST, "The offer is not UTF-8 text"))
}

/// `201 Created` with the SDP answer and where to `DELETE` it.
pub(super) fn created(sdp: String, location: &str) -> Response {
    let mut res = (StatusCode::CREATED, sdp).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/sdp"),
    );
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    res
}

pub async fn offer(
    State(state): State<AppState>,
    Path(source): Path<String>,
    req: Request<Body>,
) -> Response {
    let caller = match caller(&req) {
        Ok(c) => c,
        Err(e) => return api_error(&e),
    };
    if !state.services.video.has_source(&source) {
        return plain(StatusCode::NOT_FOUND, format!("No camera named {source}"));
    }
    let sdp = match sdp_body(req).await {
        Ok(sdp) => sdp,
        Err(res) => return res,
    };
    match state
        .services
        .video
        .live_offer(&caller, source.clone(), sdp)
        .await
    {
        Ok(answer) => created(answer.sdp, &format!("/api/whep/{source}/{}", answer.id)),
        Err(ApiError::Invalid { message, .. }) => plain(StatusCode::BAD_REQUEST, message),
        Err(e) => api_error(&e),
    }
}

pub async fn end(
    State(state): State<AppState>,
    Path((_source, id)): Path<(String, String)>,
    req: Request<Body>,
) -> Response {
    if let Err(e) = caller(&req) {
        return api_error(&e);
    }
    if state.services.video.end_viewer(&id).await {
        StatusCode::OK.into_response()
    } else {
        plain(StatusCode::NOT_FOUND, "No such viewer")
    }
}
