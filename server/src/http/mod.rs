//! The web server: embedded assets, the Leptos pages (SSR + hydration) and
//! server functions, behind the auth guard and the security headers.

pub mod assets;
pub mod call;
pub mod guard;
pub mod headers;
pub mod host;
pub mod page_cache;
pub mod whep;

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    middleware,
    response::{IntoResponse, Response},
    routing::{any, delete, get, post},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};

use app::{shell, App};

use crate::{account::Auth, network::ip_filter::IpFilter, services::Services};

#[derive(Clone)]
pub struct AppState {
    pub leptos: LeptosOptions,
    pub services: Arc<Services>,
    /// Who is signed in (the guard).
    pub auth: Arc<Auth>,
    pub ip_filter: Arc<IpFilter>,
    /// The names the device answers to (DNS rebinding).
    pub hosts: Arc<host::HostPolicy>,
    /// The Dahua-compatible front doors (`/cgi-bin/`).
    pub dahua: Arc<crate::dahua::Dahua>,
}

/// Snapshots: `GET /snapshot/<source>.jpg` (session required).
pub const SNAPSHOT_PATH: &str = "/snapshot/{file}";
/// Saved snapshots and visitors' messages (Storage Point):
/// `GET /storage/<file>` (session required).
pub const STORAGE_PATH: &str = "/storage/{file}";

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos.clone()
    }
}

pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("frontend")
        .site_pkg_dir(assets::PKG_DIR)
        .build()
}

/// One route of the web server and who may use it.
pub struct RouteInfo {
    pub method: &'static str,
    pub path: String,
    pub access: guard::Access,
}

/// Every route the router serves: pages, server functions, assets.
pub fn routes() -> Vec<RouteInfo> {
    let mut out: Vec<RouteInfo> = Vec::new();
    for p in assets::paths() {
        out.push(RouteInfo {
            method: "GET",
            path: p.to_string(),
            access: guard::classify(p),
        });
    }
    for r in generate_route_list(App) {
        out.push(RouteInfo {
            method: "GET",
            access: guard::classify(r.path()),
            path: r.path().to_string(),
        });
    }
    // One line per camera, as requested.
    for name in app::model::live::SOURCES {
        let path = format!("/snapshot/{name}.jpg");
        out.push(RouteInfo {
            method: "GET",
            access: guard::classify(&path),
            path,
        });
    }
    out.push(RouteInfo {
        method: "GET",
        access: guard::classify(STORAGE_PATH),
        path: STORAGE_PATH.to_string(),
    });
    for (method, path) in [
        ("POST", call::ANSWER_PATH.to_string()),
        ("DELETE", format!("{}/0", call::ANSWER_PATH)),
        ("GET", call::EVENTS_PATH.to_string()),
    ] {
        out.push(RouteInfo {
            method,
            access: guard::classify(&path),
            path,
        });
    }
    for script in crate::dahua::cgi::SCRIPTS {
        let path = format!("/cgi-bin/{script}");
        out.push(RouteInfo {
            method: "GET",
            access: guard::classify(&path),
            path,
        });
    }
    out.push(RouteInfo {
        method: "GET",
        access: guard::classify(crate::metrics::http::PATH),
        path: crate::metrics::http::PATH.to_string(),
    });
    for (path, _) in crate::onvif::http::PATHS {
        out.push(RouteInfo {
            method: "POST",
            access: guard::classify(path),
            path: path.to_string(),
        });
    }
    for name in app::model::live::SOURCES {
        for (method, path) in [
            ("POST", format!("/api/whep/{name}")),
            ("DELETE", format!("/api/whep/{name}/0")),
        ] {
            out.push(RouteInfo {
                method,
                access: guard::classify(&path),
                path,
            });
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        out.push(RouteInfo {
            method: method_name(&method),
            access: guard::classify(path),
            path: path.to_string(),
        });
    }
    out
}

fn method_name(m: &http::Method) -> &'static str {
    match *m {
        http::Method::GET => "GET",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        _ => "POST",
    }
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let services = state.services.clone();
    let context = move || services.provide();
    let leptos = state.leptos.clone();
    let (lock, intercom) = (
        state.services.door.lock.clone(),
        state.services.intercom.clone(),
    );
    let page_cache = page_cache::PageCache::new(
        state.services.settings.store().clone(),
        Box::new(move || lock.version() + intercom.version()),
    );
    let mut router = Router::new();
    for p in assets::paths() {
        router = router.route(p, get(assets::serve));
    }
    let router = router
        .route("/api/{*fn_name}", any(server_fn))
        .route(SNAPSHOT_PATH, get(snapshot))
        .route(STORAGE_PATH, get(stored))
        .route(whep::OFFER_PATH, post(whep::offer))
        .route(whep::VIEWER_PATH, delete(whep::end))
        .route(call::ANSWER_PATH, post(call::answer))
        .route(call::TALKER_PATH, delete(call::hang_up))
        .route(call::EVENTS_PATH, get(call::events))
        .route(crate::dahua::cgi::PATH, any(crate::dahua::cgi::handle))
        .route(
            crate::metrics::http::PATH,
            get(crate::metrics::http::handle),
        )
        .route(onvif::answer::DEVICE_PATH, post(crate::onvif::http::handle))
        .route(onvif::answer::MEDIA_PATH, post(crate::onvif::http::handle))
        .route(onvif::answer::MEDIA2_PATH, post(crate::onvif::http::handle))
        .leptos_routes_with_context(&state, routes, context, move || {
            shell(leptos.clone(), assets::STYLESHEET, assets::ICON)
        })
        .fallback(not_found)
        .layer(middleware::from_fn(error_status));
    // Without randomness for its placeholder, every page is rendered.
    let router = match page_cache {
        Ok(cache) => router.layer(middleware::from_fn_with_state(
            Arc::new(cache),
            page_cache::serve,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "login page cache off");
            router
        }
    };
    router
        .layer(middleware::from_fn_with_state(
            (
                state.auth.clone(),
                state.ip_filter.clone(),
                state.hosts.clone(),
            ),
            guard::guard,
        ))
        .layer(middleware::from_fn(headers::security_headers))
        .with_state(state)
}

async fn server_fn(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let services = state.services.clone();
    handle_server_fns_with_context(move || services.provide(), req).await
}

/// An endpoint's error raised before its body ran (a request body the
/// device cannot read) is sent as 500 by the framework: give it its own
/// status (400).
async fn error_status(req: Request<Body>, next: middleware::Next) -> Response {
    let res = next.run(req).await;
    if res.status() != http::StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key("serverfnerror")
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if let Ok(e) = serde_json::from_slice::<app::error::ApiError>(&bytes) {
        if let Ok(status) = http::StatusCode::from_u16(e.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The guard let only a session through; checked again by the handlers
/// that serve pictures.
fn signed_in(req: &Request<Body>) -> bool {
    req.extensions()
        .get::<app::services::Caller>()
        .is_some_and(|c| c.session.is_some())
}

/// A picture of the door: never cached.
fn jpeg_response(jpeg: Vec<u8>) -> Response {
    (
        [
            (http::header::CONTENT_TYPE, "image/jpeg"),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        jpeg,
    )
        .into_response()
}

/// A recorded message, whole or the one byte range asked for: a browser
/// seeks (and learns a fragmented MP4's duration) with Range requests.
fn video_response(video: Vec<u8>, range: Option<&str>) -> Response {
    let len = video.len();
    let headers = |h: &mut http::HeaderMap| {
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("video/mp4"),
        );
        h.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        h.insert(
            http::header::ACCEPT_RANGES,
            http::HeaderValue::from_static("bytes"),
        );
    };
    let Some(spec) = range else {
        let mut res = video.into_response();
        headers(res.headers_mut());
        return res;
    };
    match byte_range(spec, len) {
        Some((start, end)) => {
            let mut res = (
                http::StatusCode::PARTIAL_CONTENT,
                video[start..=end].to_vec(),
            )
                .into_response();
            headers(res.headers_mut());
            if let Ok(v) = http::HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                res.headers_mut().insert(http::header::CONTENT_RANGE, v);
            }
            res
        }
        None => {
            let mut res = http::StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = http::HeaderValue::from_str(&format!("bytes */{len}")) {
                res.headers_mut().insert(http::header::CONTENT_RANGE, v);
            }
            res
        }
    }
}

/// One range of `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX` over
/// `len` bytes, as (first, last) inclusive; None when unsatisfiable or
/// not one range.
fn byte_range(spec: &str, len: usize) -> Option<(usize, usize)> {
    let (a, b) = spec.trim().strip_prefix("bytes=")?.split_once('-')?;
    if len == 0 || b.contains(',') {
        return None;
    }
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: usize = suffix.parse().ok()?;
            (len.checked_sub(n.min(len))?, len - 1)
        }
        (start, "") => (start.parse().ok()?, len - 1),
        (start, end) => (start.parse().ok()?, end.parse::<usize>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

/// A JPEG of a source's current picture. The guard let only a session
/// through; checked again here.
async fn snapshot(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    req: Request<Body>,
) -> Response {
    if !signed_in(&req) {
        return http::StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(name) = file.strip_suffix(".jpg") else {
        return (http::StatusCode::NOT_FOUND, "no such camera").into_response();
    };
    match state.services.video.snapshot(name).await {
        Ok(Some(jpeg)) => jpeg_response(jpeg),
        Ok(None) => (http::StatusCode::NOT_FOUND, "no such camera").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "snapshot");
            (http::StatusCode::SERVICE_UNAVAILABLE, e).into_response()
        }
    }
}

/// A snapshot saved to the Storage Point. The guard let only a session
/// through; checked again here.
async fn stored(
    State(state): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
    req: Request<Body>,
) -> Response {
    if !signed_in(&req) {
        return http::StatusCode::UNAUTHORIZED.into_response();
    }
    let mp4 = file.ends_with(".mp4");
    let range = req
        .headers()
        .get(http::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match state.services.door.stored_snapshot(file).await {
        Some(video) if mp4 => video_response(video, range.as_deref()),
        Some(jpeg) => jpeg_response(jpeg),
        None => (http::StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

/// Unknown paths (behind the guard, so only with a session): the app's own
/// "Page not found" with status 404.
async fn not_found(State(state): State<AppState>, req: Request<Body>) -> Response {
    let services = state.services.clone();
    let leptos = state.leptos.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || services.provide(),
        move || shell(leptos.clone(), assets::STYLESHEET, assets::ICON),
    );
    handler(req).await.into_response()
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn byte_ranges_as_browsers_ask() {
        assert_eq!(byte_range("bytes=0-", 100), Some((0, 99)));
        assert_eq!(byte_range("bytes=10-19", 100), Some((10, 19)));
        assert_eq!(byte_range("bytes=90-200", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-500", 100), Some((0, 99)));
        for bad in [
            "bytes=100-",
            "bytes=5-4",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=x-1",
            "",
        ] {
            assert_eq!(byte_range(bad, 100), None, "{bad}");
        }
        assert_eq!(byte_range("bytes=0-", 0), None);
    }
}
