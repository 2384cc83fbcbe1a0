//! The web UI's static files, embedded at build time (see `build.rs`):
//! precompressed (brotli and gzip, chosen by `Accept-Encoding`), under
//! hashed names that browsers keep for good.

use std::io::Read;

use axum::{
    body::Body,
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// One embedded file: its bytes as they are, or gzipped and brotli'd
/// (`.ci/build` compresses; a build without it embeds them as they are).
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    /// Quoted, for the identity form; the compressed forms add a suffix.
    pub etag: &'static str,
    pub identity: Option<&'static [u8]>,
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The forms of a body a client may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    fn name(self) -> Option<&'static str> {
        match self {
            Self::Brotli => Some("br"),
            Self::Gzip => Some("gzip"),
            Self::Identity => None,
        }
    }
}

/// What `Accept-Encoding` allows, best first: brotli, gzip, then the bytes
/// as they are (refused only by an explicit `identity;q=0` or `*;q=0`,
/// which we ignore: an answer beats a 406 for a static file).
pub fn accepted(header: Option<&str>) -> Vec<Coding> {
    // Per coding: named with a q above 0, named with q=0, or not named.
    let (mut br, mut gzip, mut star) = (None, None, None);
    for item in header.unwrap_or("").split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            let p = p.trim();
            let q = p
                .strip_prefix("q=")
                .or_else(|| p.strip_prefix("Q="))
                .and_then(|v| v.trim().parse::<f32>().ok());
            q.is_some_and(|q| q <= 0.0)
        });
        match name.as_str() {
            "br" => br = Some(!refused),
            "gzip" | "x-gzip" => gzip = Some(!refused),
            "*" => star = Some(!refused),
            _ => {}
        }
    }
    let star = star.unwrap_or(false);
    let mut out = Vec::with_capacity(3);
    if br.unwrap_or(star) {
        out.push(Coding::Brotli);
    }
    if gzip.unwrap_or(star) {
        out.push(Coding::Gzip);
    }
    out.push(Coding::Identity);
    out
}

/// Serves an embedded file in the best form the client takes.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == uri.path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let wants = accepted(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let (coding, body) = wants
        .iter()
        .find_map(|c| {
            let bytes = match c {
                Coding::Brotli => asset.brotli.map(Body::from),
                Coding::Gzip => asset.gzip.map(Body::from),
                Coding::Identity => asset
                    .identity
                    .map(Body::from)
                    .or_else(|| asset.gzip.map(gunzip)),
            };
            bytes.map(|b| (*c, b))
        })
        .unwrap_or((Coding::Identity, Body::empty()));
    let etag = match coding.name() {
        Some(n) => format!("{}-{n}\"", asset.etag.trim_end_matches('"')),
        None => asset.etag.to_string(),
    };
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(body)
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let (Some(n), false) = (coding.name(), cached) {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(n));
    }
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::CACHE_CONTROL,
        // Every name carries its content's hash: cached for good.
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res
}

/// The gzipped bytes decoded as they are sent, 64 KiB at a time, for the
/// rare client that takes neither form (the binary keeps no third copy).
fn gunzip(gz: &'static [u8]) -> Body {
    let decoder = flate2::read::GzDecoder::new(gz);
    let chunks = futures_util::stream::unfold(Some(decoder), |state| async move {
        let mut decoder = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match decoder.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), Some(decoder)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(chunks)
}

/// URL paths of the embedded files.
pub fn paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.path)
}

#[cfg(test)]
mod tests {
    use super::{accepted, Coding::*};

    #[test]
    fn the_best_coding_the_client_takes_comes_first() {
        assert_eq!(
            accepted(Some("gzip, deflate, br, zstd")),
            [Brotli, Gzip, Identity]
        );
        assert_eq!(accepted(Some("gzip")), [Gzip, Identity]);
        assert_eq!(accepted(Some("br;q=0, gzip;q=0.5")), [Gzip, Identity]);
        assert_eq!(accepted(Some("BR ; Q=0.0 , *")), [Gzip, Identity]);
        assert_eq!(accepted(Some("*")), [Brotli, Gzip, Identity]);
        assert_eq!(accepted(Some("identity")), [Identity]);
        assert_eq!(accepted(None), [Identity]);
        assert_eq!(accepted(Some(",;;q=,\u{7f}")), [Identity]);
    }
}
