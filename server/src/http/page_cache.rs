//! Pages rendered once per state instead of on every request.
//!
//! - The login page shows only what the database holds (whether password
//!   reset by email is set up, and to which masked address), so a render
//!   stays good until the next commit (`Store::changes`). Anyone may ask
//!   for it without a session, so a flood of it should cost no database
//!   read and no Leptos render.
//! - The main page, for a session, shows the stored state as that account
//!   sees it plus the door's and the call's live status: a render is kept
//!   per account (user and role) and per address the browser used, and
//!   stays good until a commit or a new door or call status version
//!   ([`LiveVersion`]). Nothing in it is per session. (Not Monitor: its
//!   camera list carries each camera's live state.)
//!
//! Each response still carries its own CSP nonce: the page is rendered
//! with a random placeholder nonce, kept as the pieces between the
//! placeholders, and joined with the request's nonce when sent.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use app::{
    model::users::Role,
    services::{Caller, CspNonce},
};

use crate::store::Store;

/// The public pages served from the cache: rendered from stored state
/// alone. (`/reset` is not: its steps follow the query and the code's
/// state.)
pub const CACHED: &[&str] = &["/login"];

/// The pages served from the cache to a session: stored state and the
/// door's and call's live status, nothing per session.
pub const CACHED_SIGNED_IN: &[&str] = &["/"];

/// A rendered page is a few KiB; anything larger is not kept.
const MAX_PAGE: usize = 256 * 1024;

/// Renders kept at most (accounts x addresses x pages; a device has a
/// handful of each).
const MAX_PAGES: usize = 64;

/// The live status the signed-in pages show, as one number that moves on
/// whenever any of it changes (the sum of versions that only grow).
pub type LiveVersion = Box<dyn Fn() -> u64 + Send + Sync>;

pub struct PageCache {
    store: Arc<Store>,
    live: LiveVersion,
    /// The nonce the cached renders were made with.
    placeholder: String,
    pages: Mutex<HashMap<Key, Arc<Page>>>,
}

/// What a render depends on besides the state ([`Stamp`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    path: &'static str,
    /// `None`: the public render.
    viewer: Option<Viewer>,
}

/// Whom a signed-in render was for: the account, and the address the
/// browser used (pages show addresses built from it).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Viewer {
    user: String,
    role: Role,
    host: Option<String>,
    local: Option<SocketAddr>,
    secure: bool,
}

/// The state a render showed: `Store::changes` and the live version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp {
    changes: u64,
    live: u64,
}

struct Page {
    stamp: Stamp,
    headers: HeaderMap,
    /// The body split at each placeholder nonce.
    pieces: Vec<Bytes>,
}

impl Page {
    fn response(&self, nonce: &str) -> Response {
        let len = self.pieces.iter().map(Bytes::len).sum::<usize>()
            + nonce.len() * self.pieces.len().saturating_sub(1);
        let mut body = Vec::with_capacity(len);
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(piece);
        }
        let mut res = Response::new(Body::from(body));
        *res.headers_mut() = self.headers.clone();
        res
    }
}

impl PageCache {
    pub fn new(store: Arc<Store>, live: LiveVersion) -> Result<Self, getrandom::Error> {
        Ok(Self {
            store,
            live,
            placeholder: super::headers::new_nonce()?,
            pages: Mutex::new(HashMap::new()),
        })
    }

    fn stamp(&self) -> Stamp {
        Stamp {
            changes: self.store.changes(),
            live: (self.live)(),
        }
    }

    fn get(&self, key: &Key, stamp: Stamp) -> Option<Arc<Page>> {
        let pages = self.pages.lock().ok()?;
        pages.get(key).filter(|p| p.stamp == stamp).cloned()
    }

    fn put(&self, key: Key, page: Arc<Page>) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        // A render that began before a newer one was kept must not
        // replace it.
        if pages.get(&key).is_some_and(|p| p.stamp > page.stamp) {
            return;
        }
        if pages.len() >= MAX_PAGES && !pages.contains_key(&key) {
            let stamp = page.stamp;
            pages.retain(|_, p| p.stamp == stamp);
            if pages.len() >= MAX_PAGES {
                return;
            }
        }
        pages.insert(key, page);
    }
}

/// The cache entry a request may get: a plain GET of a cached path with no
/// query, either from no session and with no cookie (a stale cookie's page
/// may differ), or from a session (the guard ran before this).
fn cacheable(req: &Request) -> Option<Key> {
    if req.method() != Method::GET || req.uri().query().is_some() {
        return None;
    }
    let caller = req.extensions().get::<Caller>()?;
    let path = req.uri().path();
    match &caller.session {
        None if !req.headers().contains_key(header::COOKIE) => Some(Key {
            path: CACHED.iter().copied().find(|p| *p == path)?,
            viewer: None,
        }),
        None => None,
        Some(session) => Some(Key {
            path: CACHED_SIGNED_IN.iter().copied().find(|p| *p == path)?,
            viewer: Some(Viewer {
                user: session.user.clone(),
                role: session.role,
                host: caller.host.clone(),
                local: caller.local,
                secure: caller.secure,
            }),
        }),
    }
}

/// Middleware (inside the guard, outside the router).
pub async fn serve(State(cache): State<Arc<PageCache>>, mut req: Request, next: Next) -> Response {
    let Some(key) = cacheable(&req) else {
        return next.run(req).await;
    };
    let Some(CspNonce(nonce)) = req.extensions().get::<CspNonce>().cloned() else {
        return next.run(req).await;
    };
    // Read before rendering: a change during the render makes this
    // render stale, and the next request renders again.
    let stamp = cache.stamp();
    if let Some(page) = cache.get(&key, stamp) {
        return page.response(&nonce);
    }
    req.extensions_mut()
        .insert(CspNonce(cache.placeholder.clone()));
    let (mut parts, body) = next.run(req).await.into_parts();
    // The joined body's length is the server's to set (a nonce need not be
    // as long as the placeholder).
    parts.headers.remove(header::CONTENT_LENGTH);
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE).await else {
        tracing::warn!(path = key.path, "page too large to send");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = Page {
        stamp,
        pieces: split(&bytes, cache.placeholder.as_bytes()),
        headers: parts.headers,
    };
    let res = {
        let mut res = page.response(&nonce);
        *res.status_mut() = parts.status;
        res
    };
    // Only a plain page is kept: no error, redirect or cookie.
    if parts.status == StatusCode::OK && !page.headers.contains_key(header::SET_COOKIE) {
        cache.put(key, Arc::new(page));
    }
    res
}

/// `bytes` cut at every `sep`.
fn split(bytes: &Bytes, sep: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= bytes.len() {
        if &bytes[i..i + sep.len()] == sep {
            pieces.push(bytes.slice(start..i));
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    pieces.push(bytes.slice(start..));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join_round_trip() {
        let page = Page {
            stamp: Stamp {
                changes: 0,
                live: 0,
            },
            headers: HeaderMap::new(),
            pieces: split(&Bytes::from_static(b"a NONCE b NONCE"), b"NONCE"),
        };
        assert_eq!(page.pieces.len(), 3);
        let body = page.response("xyz").into_body();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let bytes = rt.block_on(axum::body::to_bytes(body, 100)).expect("body");
        assert_eq!(&bytes[..], b"a xyz b xyz");
        assert_eq!(split(&Bytes::from_static(b"none here"), b"NONCE").len(), 1);
    }
}
