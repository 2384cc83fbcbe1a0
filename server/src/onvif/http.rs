//! The ONVIF services on the web port: `POST /onvif/device_service`,
//! `/onvif/media_service`, `/onvif/media2_service`. No session cookie:
//! each request carries a WS-Security UsernameToken (the ONVIF password)
//! or HTTP Digest (the shared gate: the account's own password or the
//! ONVIF one). The clock and what the services are answer without
//! authentication, as the ONVIF core specification allows. ONVIF off: 404.

use std::net::SocketAddr;

use app::model::users::Right;
use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use onvif::{
    answer::{self, Access, DEVICE_PATH, MEDIA2_PATH, MEDIA_PATH},
    fault::{Fault, Soap},
    soap::{self, Service},
};

use super::Denied;
use crate::{
    account::digest::Verdict,
    http::AppState,
    network::listen::{LocalAddr, Secure},
};

/// The three routes, each with the service it serves.
pub const PATHS: [(&str, Service); 3] = [
    (DEVICE_PATH, Service::Device),
    (MEDIA_PATH, Service::Media),
    (MEDIA2_PATH, Service::Media2),
];

fn soap_response(status: StatusCode, soap: Soap, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(soap.content_type()),
    );
    res
}

fn fault(soap: Soap, f: &Fault) -> Response {
    let status = StatusCode::from_u16(f.status()).unwrap_or(StatusCode::BAD_REQUEST);
    soap_response(status, soap, f.envelope(soap))
}

fn not_authorized(soap: Soap, reason: String) -> Response {
    let mut f = Fault::not_authorized();
    f.reason = reason;
    fault(soap, &f)
}

pub async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let onvif = state.services.onvif.clone();
    let record = match onvif.record().await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "ONVIF settings");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    // Off: as if there were no such service.
    if !record.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = req.uri().path().to_string();
    let Some(&(_, path_service)) = PATHS.iter().find(|(p, _)| *p == path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let local = req.extensions().get::<LocalAddr>().map(|l| l.0);
    let secure = req.extensions().get::<Secure>().is_some_and(|s| s.0);
    let (Some(peer), Some(local)) = (peer, local) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let ip = peer.ip().to_canonical();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match axum::body::to_bytes(req.into_body(), onvif::MAX_REQUEST).await {
        Ok(b) => b,
        Err(_) => return fault(Soap::V12, &Fault::malformed("Request too large")),
    };
    let request = match soap::parse(&body) {
        Ok(r) => r,
        Err(f) => return fault(soap::version_of(&body), &f),
    };
    let soap = request.soap;
    // An operation sent to another service's address is not this one's.
    if request.service != path_service {
        return fault(soap, &Fault::action_not_supported(&request.operation));
    }
    let access = answer::access(request.service, &request.operation);
    if access != Access::Public {
        let role = match &request.token {
            Some(token) => onvif.token_login(&record, token, ip).await,
            None => match digest_login(&state, authorization.as_deref(), &target, ip).await {
                Ok(role) => Ok(role),
                Err(Some(denied)) => Err(denied),
                // No credentials at all: HTTP Digest's challenge, with the
                // fault for clients that only read SOAP.
                Err(None) => return challenge(&state, soap),
            },
        };
        let right = match access {
            Access::Snapshot => Right::Snapshot,
            _ => Right::LiveView,
        };
        match role {
            Ok(role) if role.may(right) => {}
            Ok(role) => {
                tracing::warn!(%ip, role = role.label(), op = %request.operation, "ONVIF request beyond the account's role");
                return not_authorized(
                    soap,
                    format!("Sender not Authorized: the {} role may not", role.label()),
                );
            }
            Err(Denied::NotAuthorized(reason)) => return not_authorized(soap, reason),
            Err(Denied::Failed(e)) => {
                tracing::error!(error = %e, "ONVIF login");
                return fault(
                    soap,
                    &Fault::new(onvif::fault::Code::Receiver, &[], "Internal error"),
                );
            }
        }
    }
    let device = match onvif.device(local, secure).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "ONVIF device");
            return fault(
                soap,
                &Fault::new(onvif::fault::Code::Receiver, &[], "Internal error"),
            );
        }
    };
    match answer::answer(&request, &device) {
        Ok(body) => soap_response(StatusCode::OK, soap, body),
        Err(f) => fault(soap, &f),
    }
}

/// HTTP Digest on the shared gate: `Err(None)` when there are no usable
/// credentials (challenge them).
async fn digest_login(
    state: &AppState,
    authorization: Option<&str>,
    target: &str,
    ip: std::net::IpAddr,
) -> Result<app::model::users::Role, Option<Denied>> {
    let d = &state.dahua;
    let creds = match d.gate.check(authorization, target, d.mono()) {
        Verdict::Challenge { .. } => return Err(None),
        Verdict::Prove(creds) => creds,
    };
    let user = creds.username.clone();
    d.auth
        .digest_login(&user, ip, move |ha1| creds.check("POST", ha1))
        .await
        .map_err(|e| Some(super::denied(e)))
}

fn challenge(state: &AppState, soap: Soap) -> Response {
    let mut res = not_authorized(soap, "Sender not Authorized".into());
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    let Ok(random) = crate::error::random::<16>() else {
        return res;
    };
    let value = state
        .dahua
        .gate
        .challenge(random, false, state.dahua.mono());
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}
