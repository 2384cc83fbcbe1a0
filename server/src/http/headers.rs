//! Security headers on every response, with a fresh CSP nonce per response
//! for the inline hydration scripts.

use axum::{
    extract::Request,
    http::{header, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};

use app::services::CspNonce;

/// The policy; `None`: no nonce, so no inline script runs.
pub fn csp(nonce: Option<&str>) -> String {
    let inline = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{inline}; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// A fresh CSP nonce: 128 random bits, URL-safe base64.
pub fn new_nonce() -> Result<String, getrandom::Error> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw)?;
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

pub async fn security_headers(mut req: Request, next: Next) -> Response {
    // Without randomness the page is still sent; its inline scripts are
    // then blocked by a policy with no nonce, never allowed by a guessable
    // one.
    let nonce = new_nonce().ok();
    req.extensions_mut()
        .insert(CspNonce(nonce.clone().unwrap_or_default()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp(nonce.as_deref())) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    let fixed: [(HeaderName, &str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), geolocation=(), microphone=(self), payment=(), usb=()",
        ),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    // Pages and API answers carry private data: never cached. Assets set
    // their own policy.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_nonce_no_inline_script_is_allowed() {
        let with = csp(Some("abc"));
        assert!(with.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-abc';"));
        let without = csp(None);
        assert!(!without.contains("nonce"), "{without}");
        assert!(without.contains("script-src 'self' 'wasm-unsafe-eval';"));
    }
}
