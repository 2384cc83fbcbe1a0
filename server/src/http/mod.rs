//! The web server: embedded assets, the Leptos pages (SSR + hydration) and
//! server functions, behind the auth guard and the security headers.

pub mod assets;
pub mod guard;
pub mod headers;
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
        .site_pkg_dir("pkg")
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
    let mut router = Router::new();
    for p in assets::paths() {
        router = router.route(p, get(assets::serve));
    }
    router
        .route("/api/{*fn_name}", any(server_fn))
        .route(SNAPSHOT_PATH, get(snapshot))
        .route(STORAGE_PATH, get(stored))
        .route(whep::OFFER_PATH, post(whep::offer))
        .route(whep::VIEWER_PATH, delete(whep::end))
        .leptos_routes_with_context(&state, routes, context, move || shell(leptos.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            (state.auth.clone(), state.ip_filter.clone()),
            guard::guard,
        ))
        .layer(middleware::from_fn(headers::security_headers))
        .with_state(state)
}

async fn server_fn(State(state): State<AppState>, req: Request<Body>) -> impl IntoResponse {
    let services = state.services.clone();
    handle_server_fns_with_context(move || services.provide(), req).await
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
    match state.services.door.stored_snapshot(file).await {
        Some(video) if mp4 => (
            [
                (http::header::CONTENT_TYPE, "video/mp4"),
                (http::header::CACHE_CONTROL, "no-store"),
            ],
            video,
        )
            .into_response(),
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
        move || shell(leptos.clone()),
    );
    handler(req).await.into_response()
}
