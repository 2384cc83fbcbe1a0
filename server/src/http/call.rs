//! The door call for integrators (issue 19): a home-automation dashboard
//! rings and answers like a browser page.
//!
//! - `POST /api/call/whep` with a WebRTC offer (`application/sdp`: audio
//!   send-receive, video receive-only, ICE gathered) answers the ringing
//!   call WHEP-style (RFC 9725): `201 Created`, the SDP answer, `Location:
//!   /api/call/whep/<id>` and `X-Talker: <n>`; `?take_over=1` takes the
//!   talk from whoever talks. 409 with the reason when there is nothing to
//!   answer (`No call to answer`, `Answered at 9901#0`).
//! - `DELETE /api/call/whep/<id>` hangs up while that client talks.
//! - `GET /api/call/events`: the call's status as a server-sent event
//!   stream (`event: status`, `data:` the `call_status` JSON), one event
//!   at once and one per change.
//!
//! Under `/api/`: the guard wants a session and the device's own origin.
//! Everything goes through [`app::services::Intercom`], as the pages do.

use std::{convert::Infallible, time::Duration};

use axum::{
    body::Body,
    extract::{Path, Query, Request, State},
    http::{HeaderValue, StatusCode},
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
};
use futures_util::stream::{self, Stream};

use app::{error::ApiError, services::Intercom};

use super::{
    guard::api_error,
    whep::{caller, created, plain, sdp_body},
    AppState,
};

/// `POST` here with an offer.
pub const ANSWER_PATH: &str = "/api/call/whep";
/// `DELETE` here hangs up.
pub const TALKER_PATH: &str = "/api/call/whep/{id}";
/// `GET` here follows the call.
pub const EVENTS_PATH: &str = "/api/call/events";
/// A comment line this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

#[derive(serde::Deserialize)]
pub struct AnswerQuery {
    #[serde(default)]
    take_over: Option<String>,
}

pub async fn answer(
    State(state): State<AppState>,
    Query(q): Query<AnswerQuery>,
    req: Request<Body>,
) -> Response {
    let caller = match caller(&req) {
        Ok(c) => c,
        Err(e) => return api_error(&e),
    };
    let take_over = matches!(q.take_over.as_deref(), Some("1" | "true" | "yes"));
    let sdp = match sdp_body(req).await {
        Ok(sdp) => sdp,
        Err(res) => return res,
    };
    let intercom = state.services.intercom.clone();
    match Intercom::answer_call(&*intercom, &caller, sdp, take_over).await {
        Ok(answer) => {
            let mut res = created(answer.sdp, &format!("{ANSWER_PATH}/{}", answer.id));
            res.headers_mut()
                .insert("x-talker", HeaderValue::from(answer.talker));
            res
        }
        Err(ApiError::Invalid { message, .. }) => plain(StatusCode::CONFLICT, message),
        Err(e) => api_error(&e),
    }
}

pub async fn hang_up(
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request<Body>,
) -> Response {
    let caller = match caller(&req) {
        Ok(c) => c,
        Err(e) => return api_error(&e),
    };
    match Intercom::end_talk(&*state.services.intercom, &caller, &id).await {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => plain(StatusCode::NOT_FOUND, "No such talker"),
        Err(e) => api_error(&e),
    }
}

pub async fn events(State(state): State<AppState>, req: Request<Body>) -> Response {
    if let Err(e) = caller(&req) {
        return api_error(&e);
    }
    let intercom = state.services.intercom.clone();
    let rx = intercom.follow();
    Sse::new(status_events(intercom, rx))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

/// One event with the status now, then one per change; ends with the
/// device (a client that leaves drops the stream).
fn status_events(
    intercom: std::sync::Arc<crate::intercom::IntercomService>,
    rx: tokio::sync::watch::Receiver<app::model::intercom::CallStatus>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(
        (intercom, rx, true),
        |(intercom, mut rx, first)| async move {
            if !first && rx.changed().await.is_err() {
                return None;
            }
            rx.mark_unchanged();
            let status = intercom.shown();
            let event = Event::default()
                .event("status")
                .json_data(&status)
                .unwrap_or_else(|_| Event::default().comment("status not encoded"));
            Some((Ok(event), (intercom, rx, false)))
        },
    )
}
