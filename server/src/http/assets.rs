//! The web UI's static files, embedded at build time (see `build.rs`).

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Serves an embedded file, with an ETag so browsers revalidate cheaply.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let Some((_, content_type, etag, bytes)) = ASSETS.iter().find(|(p, ..)| *p == uri.path())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut res = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(*bytes))
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ETAG, HeaderValue::from_static(etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// URL paths of the embedded files.
pub fn paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(p, ..)| *p)
}
