//! Who may reach what. Every route needs a valid session except the static
//! assets, the initialization and login pages and the endpoints in
//! `app::api::PUBLIC_ENDPOINTS` (default deny). Pages without a session are
//! redirected; API calls get 401. API calls must also come from this
//! device's own pages (Origin / Sec-Fetch-Site), whatever SameSite does.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use app::{
    api::{required_right, PUBLIC_ENDPOINTS},
    error::ApiError,
    pages::PUBLIC_PAGES,
    services::Caller,
};

use super::host::{HostPolicy, Named};
use crate::{
    account::{session, Auth},
    network::ip_filter::IpFilter,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Embedded files: anyone.
    Asset,
    /// `/init`: only while the device is not initialized.
    InitPage,
    /// `/login` and `/reset`: anyone, once the device is initialized.
    LoginPage,
    /// An API endpoint that needs no session.
    PublicApi,
    /// The Dahua HTTP CGI API (`/cgi-bin/`): HTTP Digest against the
    /// accounts, checked by its handler (`dahua::cgi`), never a cookie.
    Digest,
    /// The ONVIF services (`/onvif/`): WS-Security UsernameToken or HTTP
    /// Digest, checked by their handler (`onvif::http`), never a cookie.
    Soap,
    /// `/metrics`: the metrics token (Bearer), checked by its handler
    /// (`metrics::http`), never a cookie.
    Token,
    /// Everything else: a valid session.
    Session,
}

impl Access {
    pub fn label(self) -> &'static str {
        match self {
            Self::Asset => "public (static asset)",
            Self::InitPage => "public until initialized",
            Self::LoginPage => "public",
            Self::PublicApi => "public",
            Self::Digest => "digest",
            Self::Soap => "ws-security",
            Self::Token => "metrics token",
            Self::Session => "session",
        }
    }
}

/// Exact matches only: anything not listed needs a session.
pub fn classify(path: &str) -> Access {
    if super::assets::paths().any(|p| p == path) {
        Access::Asset
    } else if path == PUBLIC_PAGES[0] {
        Access::InitPage
    } else if path == PUBLIC_PAGES[1] || path == PUBLIC_PAGES[2] {
        Access::LoginPage
    } else if PUBLIC_ENDPOINTS.contains(&path) {
        Access::PublicApi
    } else if path.starts_with(CGI_PREFIX) {
        Access::Digest
    } else if path.starts_with(ONVIF_PREFIX) {
        Access::Soap
    } else if path == crate::metrics::http::PATH {
        Access::Token
    } else {
        Access::Session
    }
}

/// Where the HTTP CGI API lives.
pub const CGI_PREFIX: &str = "/cgi-bin/";
/// Where the ONVIF services live.
pub const ONVIF_PREFIX: &str = "/onvif/";

pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

pub async fn guard(
    State((auth, ip_filter, hosts)): State<(Arc<Auth>, Arc<IpFilter>, Arc<HostPolicy>)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    // New connections are filtered when accepted; this catches requests on
    // a connection kept open from before the IP Permissions changed.
    if !ip_filter.allows(peer.ip().to_canonical()) {
        let mut res = StatusCode::FORBIDDEN.into_response();
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return res;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}"));
    let named = hosts.classify(host);
    if named == Named::Stranger {
        tracing::warn!(ip = %peer.ip(), "request for another host name refused");
        return misdirected();
    }
    let path = req.uri().path().to_string();
    let access = classify(&path);
    if matches!(
        access,
        Access::Asset | Access::Digest | Access::Soap | Access::Token
    ) {
        return next.run(req).await;
    }
    let ip = peer.ip().to_canonical();
    let api = is_api(&path);
    if api {
        if let Err(e) = same_origin(req.headers()) {
            tracing::warn!(%ip, path, "cross-origin API call refused");
            return api_error(&e);
        }
        if path == INITIALIZE && !host_fit_for_initialization(req.headers()) {
            tracing::warn!(%ip, "initialization through a public host name refused");
            return api_error(&ApiError::CrossOrigin);
        }
    }
    let token = req
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session::token_from_cookie_header)
        .map(str::to_string);
    let session = match token {
        Some(t) => match auth.validate(&t).await {
            Ok(s) => s,
            Err(e) => return api_error(&e),
        },
        None => None,
    };
    let initialized = auth.is_initialized();
    // Least privilege: a session's role must have the route's right.
    let forbidden = match (&session, access) {
        (Some(s), Access::Session) if !s.role.may(required_right(&path)) => Some(s.role),
        _ => None,
    };
    if api {
        if access != Access::PublicApi && session.is_none() {
            return api_error(&ApiError::Unauthorized);
        }
        if let Some(role) = forbidden {
            tracing::warn!(%ip, path, role = role.label(), "API call refused: no right");
            return api_error(&ApiError::Forbidden { role });
        }
    } else if forbidden.is_some() {
        // A picture or file: refused; a page the role may not open: back
        // to the main page, which every role may.
        if path.starts_with("/snapshot/") || path.starts_with("/storage/") {
            return StatusCode::FORBIDDEN.into_response();
        }
        return Redirect::to("/").into_response();
    } else {
        let redirect = match access {
            Access::InitPage if initialized => Some(if session.is_some() { "/" } else { "/login" }),
            Access::LoginPage if !initialized => Some("/init"),
            Access::LoginPage if session.is_some() => Some("/"),
            Access::Session if !initialized => Some("/init"),
            Access::Session if session.is_none() => Some("/login"),
            _ => None,
        };
        if let Some(to) = redirect {
            return Redirect::to(to).into_response();
        }
    }
    let host = plain_host(req.headers());
    let local = req
        .extensions()
        .get::<crate::network::listen::LocalAddr>()
        .map(|l| l.0);
    let secure = req
        .extensions()
        .get::<crate::network::listen::Secure>()
        .is_some_and(|s| s.0);
    req.extensions_mut().insert(Caller {
        ip,
        session,
        secure,
        host,
        host_is_name: named == Named::Name,
        local,
    });
    next.run(req).await
}

/// 421 Misdirected Request: the Host names something else.
pub fn misdirected() -> Response {
    let mut res = (
        StatusCode::MISDIRECTED_REQUEST,
        "This device does not answer to that host name: use its address, \
         or add the name with --host-name.",
    )
        .into_response();
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// The error as server functions send it: JSON with its status.
pub fn api_error(e: &ApiError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_string(e).unwrap_or_default();
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

const INITIALIZE: &str = "/api/initialize";

/// The Host header when it is a plain `host[:port]` (letters, digits and
/// `.-:[]`), fit to put in a link.
pub fn plain_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    plain.then(|| host.to_string())
}

/// A device that is not initialized yet takes its first password only when
/// addressed by an IP address, `localhost`, a `.local` (mDNS) name or a
/// single-label LAN name. A public DNS name pointing at the device (DNS
/// rebinding from a web page) cannot set the password.
pub fn host_fit_for_initialization(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.0 without Host: not a browser on a rebinding page.
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split(']')
                .next()
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
        }
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.parse::<std::net::Ipv4Addr>().is_ok()
        || name == "localhost"
        || name.ends_with(".local")
        || name.ends_with(".localhost")
        || (!name.is_empty() && !name.contains('.'))
}

/// Refuses requests that a browser marks as coming from another site, and
/// requests whose Origin is not this host. Clients that send neither (curl,
/// scripts) are not browsers and carry no ambient cookies by accident.
pub fn same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return Err(ApiError::CrossOrigin);
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .ok_or(ApiError::CrossOrigin)?;
        let authority = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, rest)| rest)
            .ok_or(ApiError::CrossOrigin)?;
        if !authority.eq_ignore_ascii_case(host) {
            return Err(ApiError::CrossOrigin);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn classification_is_exact() {
        assert_eq!(PUBLIC_PAGES, ["/init", "/login", "/reset"]);
        let wasm = format!("/{}/frontend_bg.wasm", super::super::assets::PKG_DIR);
        assert_eq!(classify(&wasm), Access::Asset);
        assert_eq!(classify("/pkg/frontend_bg.wasm"), Access::Session);
        assert_eq!(classify("/pkg/other.wasm"), Access::Session);
        assert_eq!(classify("/init"), Access::InitPage);
        assert_eq!(classify("/login"), Access::LoginPage);
        assert_eq!(classify("/login/"), Access::Session);
        assert_eq!(classify("/reset"), Access::LoginPage);
        assert_eq!(classify("/api/reset_verify"), Access::PublicApi);
        assert_eq!(classify("/api/reset_settings"), Access::Session);
        assert_eq!(classify("/api/login"), Access::PublicApi);
        assert_eq!(classify("/api/login/../overview"), Access::Session);
        assert_eq!(classify("/api/%6cogin"), Access::Session);
        assert_eq!(classify("/api/overview"), Access::Session);
        assert_eq!(classify("/"), Access::Session);
    }

    #[test]
    fn initialization_only_through_local_names() {
        for ok in [
            "192.168.1.110",
            "192.168.1.110:8080",
            "[fe80::1]:80",
            "[::1]",
            "localhost:8080",
            "vto.local",
            "VTO.LOCAL.",
            "doorstation:80",
        ] {
            let h = headers(&[("host", ok)]);
            assert!(host_fit_for_initialization(&h), "{ok}");
        }
        for bad in [
            "attacker.example",
            "rebind.attacker.example:8080",
            "1.2.3.4.nip.io",
            "[not-v6]",
        ] {
            let h = headers(&[("host", bad)]);
            assert!(!host_fit_for_initialization(&h), "{bad}");
        }
        assert!(host_fit_for_initialization(&HeaderMap::new()));
    }

    #[test]
    fn same_origin_rules() {
        let host = ("host", "10.0.0.5:8080");
        assert!(same_origin(&headers(&[host])).is_ok(), "no browser headers");
        assert!(same_origin(&headers(&[host, ("origin", "http://10.0.0.5:8080")])).is_ok());
        assert!(same_origin(&headers(&[host, ("sec-fetch-site", "same-origin")])).is_ok());
        for bad in [
            vec![host, ("origin", "http://evil.example")],
            vec![host, ("origin", "null")],
            vec![host, ("origin", "http://10.0.0.5:8081")],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "same-site")],
            vec![("origin", "http://10.0.0.5:8080")],
        ] {
            assert_eq!(
                same_origin(&headers(&bad)),
                Err(ApiError::CrossOrigin),
                "{bad:?}"
            );
        }
    }
}
