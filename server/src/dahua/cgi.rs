//! The HTTP CGI API: `/cgi-bin/<script>.cgi?action=...` on the web port,
//! as Dahua door stations answer it (see `dahua::cgi` for the wire rules
//! and `../shared/guide/dahua-interop.md` for what clients send).
//!
//! Every request is authenticated by HTTP Digest ([`super::digest`])
//! before anything else is looked at, then checked against the account's
//! role; every answer closes the connection, as devices' answers do.

use std::{convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use app::{
    error::ApiError,
    model::{
        access::UnlockVia,
        users::{Right, Role},
    },
    services::{Caller, Door as _, SessionRef, System as _},
};
use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode, Version},
    response::{IntoResponse, Response},
};
use dahua::{
    cgi::{body, table, Request as Cgi, BAD_REQUEST, OK},
    events::{self as ev, Filter},
};
use futures_util::stream;
use tokio::sync::broadcast::error::RecvError;

use super::{Dahua, DEVICE_TYPE};
use crate::account::digest::Verdict;
use crate::{account::online::FrontDoor, http::AppState};

/// The route: every script.
pub const PATH: &str = "/cgi-bin/{script}";
/// The scripts answered (others get 400 like any unsupported request).
pub const SCRIPTS: &[&str] = &[
    "magicBox.cgi",
    "accessControl.cgi",
    "snapshot.cgi",
    "eventManager.cgi",
    "configManager.cgi",
    "recordFinder.cgi",
];
/// `heartbeat=N` accepted, in seconds.
const HEARTBEAT_S: std::ops::RangeInclusive<u64> = 1..=3600;

/// A request refused: its status and body, or a new challenge.
#[derive(Debug)]
enum Refusal {
    Text(StatusCode, String),
    Challenge { stale: bool, why: String },
}

fn bad_request() -> Refusal {
    Refusal::Text(StatusCode::BAD_REQUEST, BAD_REQUEST.into())
}

fn error(status: StatusCode, why: impl std::fmt::Display) -> Refusal {
    Refusal::Text(status, format!("Error\r\n{why}\r\n"))
}

/// Who a request proved to be.
pub struct Who {
    pub user: String,
    pub role: Role,
    pub caller: Caller,
}

impl Who {
    fn may(&self, right: Right) -> Result<(), Refusal> {
        if self.role.may(right) {
            Ok(())
        } else {
            tracing::warn!(user = %self.user, ?right, "HTTP API request beyond the account's role");
            Err(error(StatusCode::FORBIDDEN, "No Authority!"))
        }
    }
}

/// A `text/plain` answer that closes the connection.
fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut res = (status, body.into()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// 401 with a new challenge (`stale` when only the nonce was old).
fn challenge(d: &Dahua, stale: bool, why: &str) -> Response {
    let Ok(random) = crate::error::random::<16>() else {
        // No predictable nonce: no challenge at all.
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Error\r\nNo random numbers\r\n",
        );
    };
    let mut res = text(StatusCode::UNAUTHORIZED, format!("Error\r\n{why}\r\n"));
    let value = d.gate.challenge(random, stale, d.mono());
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

pub async fn handle(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let d = state.dahua.clone();
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
    let method = req.method().as_str().to_string();
    // The body is never read: every request here is a GET's query.
    drop(req);
    let who = match authenticate(&d, authorization.as_deref(), method, &target, peer).await {
        Ok(who) => who,
        Err(refusal) => return respond(&d, refusal),
    };
    let Ok(cgi) = Cgi::parse(&target) else {
        return respond(&d, bad_request());
    };
    let result = match (cgi.script.as_str(), cgi.action.as_deref()) {
        ("magicBox", Some(action)) => magic_box(&d, &who, action, &cgi).await,
        ("accessControl", Some("openDoor")) => open_door(&d, &who, &cgi).await,
        ("snapshot", _) => snapshot(&d, &who, &cgi).await,
        ("eventManager", Some("attach")) => attach(&d, who, &cgi),
        ("configManager", Some("getConfig")) => get_config(&d, &who, &cgi).await,
        ("configManager", Some("setConfig")) => set_config(&d, &who, &cgi).await,
        ("recordFinder", Some("find")) => find_records(&d, &who, &cgi).await,
        _ => Err(bad_request()),
    };
    result.unwrap_or_else(|refusal| respond(&d, refusal))
}

fn respond(d: &Dahua, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Text(status, body) => text(status, body),
        Refusal::Challenge { stale, why } => challenge(d, stale, &why),
    }
}

async fn authenticate(
    d: &Dahua,
    authorization: Option<&str>,
    method: String,
    target: &str,
    peer: SocketAddr,
) -> Result<Who, Refusal> {
    let creds = match d.gate.check(authorization, target, d.mono()) {
        Verdict::Challenge { stale } => {
            return Err(Refusal::Challenge {
                stale,
                why: "Unauthorized".into(),
            })
        }
        Verdict::Prove(creds) => creds,
    };
    let ip = peer.ip().to_canonical();
    let user = creds.username.clone();
    match d
        .auth
        .digest_login(&user, ip, move |ha1| creds.check(&method, ha1))
        .await
    {
        Ok(role) => Ok(Who {
            caller: Caller {
                ip,
                // Digest requests have no stored session: the caller is
                // the account (`id_hash` names no session).
                session: Some(SessionRef {
                    id_hash: [0; 32],
                    user: user.clone(),
                    role,
                }),
                secure: false,
                host: None,
                host_is_name: false,
                local: None,
            },
            user,
            role,
        }),
        Err(ApiError::Locked { retry_after_secs }) => Err(Refusal::Challenge {
            stale: false,
            why: format!("Locked: try again in {retry_after_secs} s"),
        }),
        Err(ApiError::Busy) => Err(error(StatusCode::SERVICE_UNAVAILABLE, "Busy: try again")),
        Err(ApiError::BadCredentials { .. } | ApiError::NotInitialized) => {
            Err(Refusal::Challenge {
                stale: false,
                why: "Unauthorized".into(),
            })
        }
        Err(e) => {
            tracing::error!(error = %e, "HTTP API login");
            Err(error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"))
        }
    }
}

fn software_version() -> String {
    format!(
        "{},build:{}",
        env!("CARGO_PKG_VERSION"),
        option_env!("VTO_BUILD_DATE").unwrap_or("unknown")
    )
}

async fn magic_box(d: &Dahua, who: &Who, action: &str, cgi: &Cgi) -> Result<Response, Refusal> {
    let lines: Vec<(&str, String)> = match action {
        "getSystemInfo" => vec![
            ("deviceType", DEVICE_TYPE.into()),
            ("hardwareVersion", std::env::consts::ARCH.into()),
            ("processor", std::env::consts::ARCH.into()),
            ("serialNumber", d.serial.clone()),
            ("updateSerial", DEVICE_TYPE.into()),
        ],
        "getDeviceType" => vec![("type", DEVICE_TYPE.into())],
        "getSoftwareVersion" => vec![("version", software_version())],
        "getMachineName" => vec![("name", machine_name(d).await)],
        "getSerialNo" => vec![("sn", d.serial.clone())],
        "getVendor" => vec![("vendor", "vto".into())],
        "getHardwareVersion" => vec![("version", std::env::consts::ARCH.into())],
        "getProductDefinition" => match cgi.get("name") {
            // One video input (the door camera); no extra stream is served.
            Some("VideoInputChannels") => vec![("table.VideoInputChannels", "1".into())],
            Some("MaxExtraStream") => vec![("table.MaxExtraStream", "0".into())],
            _ => return Err(bad_request()),
        },
        "reboot" => {
            who.may(Right::Settings)?;
            d.services
                .system
                .reboot(&who.caller)
                .await
                .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
            return Ok(text(StatusCode::OK, OK));
        }
        _ => return Err(bad_request()),
    };
    Ok(text(StatusCode::OK, body(&lines)))
}

/// The machine name: the Basic page's VTO No., as the device is known on
/// its SIP network.
async fn machine_name(d: &Dahua) -> String {
    d.services
        .settings
        .get(crate::store::settings::BASIC)
        .await
        .map(|b| b.vto_no)
        .unwrap_or_default()
}

fn config_error(e: super::config::ConfigError) -> Refusal {
    use super::config::ConfigError::*;
    match e {
        Unsupported => bad_request(),
        Forbidden => error(StatusCode::FORBIDDEN, "No Authority!"),
        Invalid(why) => error(StatusCode::BAD_REQUEST, why),
        Failed(why) => error(StatusCode::INTERNAL_SERVER_ERROR, why),
    }
}

async fn get_config(d: &Dahua, who: &Who, cgi: &Cgi) -> Result<Response, Refusal> {
    let name = cgi.config_name().ok_or_else(bad_request)?;
    let lines = super::config::get(d, who, name)
        .await
        .map_err(config_error)?;
    let lines: Vec<(&str, String)> = lines.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    Ok(text(StatusCode::OK, table(&lines)))
}

async fn set_config(d: &Dahua, who: &Who, cgi: &Cgi) -> Result<Response, Refusal> {
    super::config::set(d, who, &cgi.set_config())
        .await
        .map_err(config_error)?;
    Ok(text(StatusCode::OK, OK))
}

async fn find_records(d: &Dahua, who: &Who, cgi: &Cgi) -> Result<Response, Refusal> {
    use super::records::{find, FindError, Query};
    who.may(Right::Logs)?;
    let display = d.services.system.time.display();
    let found = match Query::parse(
        cgi.get("StartTime"),
        cgi.get("EndTime"),
        cgi.get("count"),
        &display,
    ) {
        Ok(query) => find(d, &who.caller, cgi.get("name"), query).await,
        Err(e) => Err(e),
    };
    match found {
        Ok(body) => Ok(text(StatusCode::OK, body)),
        Err(FindError::Unsupported) => Err(bad_request()),
        Err(FindError::Invalid(why)) => Err(error(StatusCode::BAD_REQUEST, why)),
        Err(FindError::Failed(why)) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, why)),
    }
}

/// `channel=1` (or absent, or 0): the door. Others are not this device's.
fn door_channel(cgi: &Cgi) -> Result<(), Refusal> {
    match cgi.get("channel") {
        None | Some("0" | "1") => Ok(()),
        Some(_) => Err(bad_request()),
    }
}

async fn open_door(d: &Dahua, who: &Who, cgi: &Cgi) -> Result<Response, Refusal> {
    who.may(Right::OpenDoor)?;
    door_channel(cgi)?;
    let record = d
        .services
        .door
        .unlock(&who.caller, UnlockVia::Api)
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    match record.refused {
        None => Ok(text(StatusCode::OK, OK)),
        Some(r) => Err(error(StatusCode::CONFLICT, r.label())),
    }
}

async fn snapshot(d: &Dahua, who: &Who, cgi: &Cgi) -> Result<Response, Refusal> {
    who.may(Right::Snapshot)?;
    door_channel(cgi)?;
    match d.services.video.snapshot("door").await {
        Ok(Some(jpeg)) => {
            let mut res = (StatusCode::OK, jpeg).into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
        Ok(None) => Err(bad_request()),
        Err(e) => Err(error(StatusCode::SERVICE_UNAVAILABLE, e)),
    }
}

/// `eventManager.cgi?action=attach&codes=[...]`: the door's events until
/// the client goes, its connection is ended from Online Users, or the
/// device stops. `multipart/x-mixed-replace`, close-delimited (HTTP/1.0
/// framing: no chunked encoding), one write per part.
fn attach(d: &Dahua, who: Who, cgi: &Cgi) -> Result<Response, Refusal> {
    who.may(Right::Snapshot)?;
    let filter = cgi
        .get("codes")
        .and_then(|c| Filter::parse(c).ok())
        .ok_or_else(bad_request)?;
    let heartbeat = match cgi.get("heartbeat") {
        None => None,
        Some(h) => match h.parse::<u64>() {
            Ok(s) if HEARTBEAT_S.contains(&s) => Some(Duration::from_secs(s)),
            _ => return Err(bad_request()),
        },
    };
    let presence = d.auth.online.enter(
        &who.user,
        who.role,
        who.caller.ip,
        FrontDoor::EventStream,
        d.auth.now(),
    );
    tracing::info!(user = %who.user, ip = %who.caller.ip, "event stream attached");
    let state = Stream {
        events: d.feed.subscribe(),
        filter,
        heartbeat: heartbeat.map(|p| {
            let mut t = tokio::time::interval_at(crate::clock::monotonic() + p, p);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        }),
        presence,
    };
    let parts = stream::unfold(state, |mut s| async move {
        let part = s.next().await?;
        Some((Ok::<_, Infallible>(bytes::Bytes::from(part)), s))
    });
    let mut res = Response::new(Body::from_stream(parts));
    *res.version_mut() = Version::HTTP_10;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ev::CONTENT_TYPE),
    );
    h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

struct Stream {
    events: tokio::sync::broadcast::Receiver<Arc<ev::Event>>,
    filter: Filter,
    heartbeat: Option<tokio::time::Interval>,
    presence: crate::account::online::Presence,
}

impl Stream {
    /// The next part to write; `None` ends the stream.
    async fn next(&mut self) -> Option<String> {
        loop {
            let beat = async {
                match self.heartbeat.as_mut() {
                    Some(t) => {
                        t.tick().await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = self.presence.ended() => return None,
                () = beat => return Some(ev::heartbeat_part()),
                e = self.events.recv() => match e {
                    Ok(e) if self.filter.wants(&e.code) => return Some(e.part()),
                    Ok(_) => {}
                    // A slow reader loses the oldest events, not the device.
                    Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "event stream reader too slow"),
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }
}
