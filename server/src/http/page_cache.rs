//! The login page, rendered once per stored state instead of on every
//! request: it shows only what the database holds (whether password reset
//! by email is set up, and to which masked address), so a render stays
//! good until the next commit (`Store::changes`). Anyone may ask for it
//! without a session, so a flood of it should cost no database read and
//! no Leptos render.
//!
//! Each response still carries its own CSP nonce: the page is rendered
//! with a random placeholder nonce, kept as the pieces between the
//! placeholders, and joined with the request's nonce when sent.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use app::services::{Caller, CspNonce};

use crate::store::Store;

/// The pages served from the cache: public, and rendered from stored state
/// alone. (`/reset` is not: its steps follow the query and the code's
/// state.)
pub const CACHED: &[&str] = &["/login"];

/// A rendered page is a few KiB; anything larger is not kept.
const MAX_PAGE: usize = 256 * 1024;

pub struct PageCache {
    store: Arc<Store>,
    /// The nonce the cached renders were made with.
    placeholder: String,
    pages: Mutex<HashMap<&'static str, Arc<Page>>>,
}

struct Page {
    /// `Store::changes` when it was rendered.
    changes: u64,
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
    pub fn new(store: Arc<Store>) -> Result<Self, getrandom::Error> {
        Ok(Self {
            store,
            placeholder: super::headers::new_nonce()?,
            pages: Mutex::new(HashMap::new()),
        })
    }

    fn get(&self, path: &str, changes: u64) -> Option<Arc<Page>> {
        let pages = self.pages.lock().ok()?;
        pages.get(path).filter(|p| p.changes == changes).cloned()
    }

    fn put(&self, path: &'static str, page: Arc<Page>) {
        if let Ok(mut pages) = self.pages.lock() {
            // A render that began before a newer one was kept must not
            // replace it.
            if pages.get(path).is_none_or(|p| p.changes <= page.changes) {
                pages.insert(path, page);
            }
        }
    }
}

/// The cached page a request may get: a plain GET of a cached path, with
/// no query and no cookie (a stale cookie's page may differ), from no
/// session (the guard ran before this).
fn cacheable(req: &Request) -> Option<&'static str> {
    if req.method() != Method::GET
        || req.uri().query().is_some()
        || req.headers().contains_key(header::COOKIE)
        || req
            .extensions()
            .get::<Caller>()
            .is_none_or(|c| c.session.is_some())
    {
        return None;
    }
    CACHED.iter().copied().find(|p| *p == req.uri().path())
}

/// Middleware (inside the guard, outside the router).
pub async fn serve(State(cache): State<Arc<PageCache>>, mut req: Request, next: Next) -> Response {
    let Some(path) = cacheable(&req) else {
        return next.run(req).await;
    };
    let Some(CspNonce(nonce)) = req.extensions().get::<CspNonce>().cloned() else {
        return next.run(req).await;
    };
    // Read before rendering: a commit during the render makes this
    // render stale, and the next request renders again.
    let changes = cache.store.changes();
    if let Some(page) = cache.get(path, changes) {
        return page.response(&nonce);
    }
    req.extensions_mut()
        .insert(CspNonce(cache.placeholder.clone()));
    let (mut parts, body) = next.run(req).await.into_parts();
    // The joined body's length is the server's to set (a nonce need not be
    // as long as the placeholder).
    parts.headers.remove(header::CONTENT_LENGTH);
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAGE).await else {
        tracing::warn!(path, "page too large to send");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = Page {
        changes,
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
        cache.put(path, Arc::new(page));
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
            changes: 0,
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
