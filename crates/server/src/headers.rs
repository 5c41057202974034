//! The security headers of every response, set in one place (the outermost
//! layer), so no page, error page, 404 or asset can go out without them:
//!
//! * HTML: the pages' Content Security Policy ([`PAGE_CSP`]: scripts, styles,
//!   fonts and connections only from this origin — the embedded assets —,
//!   no inline script or style, no plugins, no framing, forms only to this
//!   origin), `X-Frame-Options: DENY` for browsers older than
//!   `frame-ancestors`;
//! * everything else (JSON, event streams, assets): [`OTHER_CSP`], which
//!   lets nothing load or run should a browser open it as a document;
//! * always: `X-Content-Type-Options: nosniff` and `Referrer-Policy:
//!   same-origin` (stricter than `strict-origin-when-cross-origin`: links
//!   to other sites learn nothing, not even our origin, and page URLs carry
//!   ids such as `?via=<holder>`); and, when the public URL is `https://`,
//!   `Strict-Transport-Security: max-age=63072000; includeSubDomains`
//!   (never over plain HTTP, where RFC 6797 forbids it).
//!
//! A header a handler set itself is kept.

use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The pages' policy. `img-src data:` is for the inline SVG of QR codes and
/// charts' `data:` images; no `'unsafe-inline'` anywhere. (JSON-LD in a
/// `<script type="application/ld+json">` is a data block, which browsers never
/// run, so it needs no nonce.)
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of every other response: nothing may load, run or frame it.
pub const OTHER_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// HSTS, sent only when the public URL is `https://`.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// What the layer needs to know: whether the server is reached over HTTPS.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    pub hsts: bool,
}

impl SecurityHeaders {
    /// HSTS when `public_url` is `https://`.
    pub fn for_public_url(public_url: &str) -> Self {
        Self {
            hsts: public_url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://")),
        }
    }
}

/// The layer.
pub async fn set(State(cfg): State<SecurityHeaders>, req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let html = r
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/html")
        });
    let h = r.headers_mut();
    let mut put = |name: HeaderName, value: &'static str| {
        h.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    };
    put(X_CONTENT_TYPE_OPTIONS, "nosniff");
    put(REFERRER_POLICY, "same-origin");
    if html {
        put(CONTENT_SECURITY_POLICY, PAGE_CSP);
        put(X_FRAME_OPTIONS, "DENY");
    } else {
        put(CONTENT_SECURITY_POLICY, OTHER_CSP);
    }
    if cfg.hsts {
        put(STRICT_TRANSPORT_SECURITY, HSTS);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsts_only_over_https() {
        assert!(SecurityHeaders::for_public_url("https://symbolon.example").hsts);
        assert!(SecurityHeaders::for_public_url("HTTPS://symbolon.example").hsts);
        assert!(!SecurityHeaders::for_public_url("http://127.0.0.1:7878").hsts);
        assert!(!SecurityHeaders::for_public_url("").hsts);
    }

    #[test]
    fn the_page_policy_admits_no_inline_code() {
        for part in [
            "default-src 'self'",
            "script-src 'self';",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(PAGE_CSP.contains(part), "{part}");
        }
        assert!(!PAGE_CSP.contains("unsafe") && !PAGE_CSP.contains("nonce"));
    }
}
