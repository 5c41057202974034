//! The pages' static files, compiled into the binary (`crates/server/assets/`):
//! the stylesheet, `live.js`, `passkey.js`, `holder.js`, the web app manifest and the icons.
//!
//! Each is served under its plain name (`/assets/app.css`, cached briefly,
//! for the manifest and old links) and under a name carrying the first 16 hex
//! digits of its SHA-256 (`/assets/app.3f2a….css`, cached for a year as
//! `immutable`: a change makes a new name). Both carry a strong `ETag` (the
//! hash); `If-None-Match` with it answers 304.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file.
pub struct Asset {
    /// The plain name, e.g. `app.css`.
    pub name: &'static str,
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    /// The first 16 hex digits of the SHA-256 of `bytes`.
    pub hash: String,
    /// The name with the hash before the extension, e.g. `app.0123456789abcdef.css`.
    pub hashed_name: String,
}

const FILES: [(&str, &[u8], &str); 8] = [
    (
        "app.css",
        include_bytes!("../../assets/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "live.js",
        include_bytes!("../../assets/live.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "passkey.js",
        include_bytes!("../../assets/passkey.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "holder.js",
        include_bytes!("../../assets/holder.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "manifest.webmanifest",
        include_bytes!("../../assets/manifest.webmanifest"),
        "application/manifest+json",
    ),
    (
        "icon.svg",
        include_bytes!("../../assets/icon.svg"),
        "image/svg+xml",
    ),
    (
        "icon-192.png",
        include_bytes!("../../assets/icon-192.png"),
        "image/png",
    ),
    (
        "icon-512.png",
        include_bytes!("../../assets/icon-512.png"),
        "image/png",
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, bytes, content_type)| {
            let digest = Sha256::digest(bytes);
            let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            let hashed_name = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            Asset {
                name,
                bytes,
                content_type,
                hash,
                hashed_name,
            }
        })
        .collect()
});

/// The URL of an asset under its hashed name (`/assets/app.<hash>.css`);
/// the plain URL for an unknown name.
pub fn url(name: &str) -> String {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => format!("/assets/{}", a.hashed_name),
        None => format!("/assets/{name}"),
    }
}

/// `GET /assets/{file}`.
pub(super) async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (asset, immutable) = match ASSETS.iter().find(|a| a.hashed_name == file) {
        Some(a) => (a, true),
        None => match ASSETS.iter().find(|a| a.name == file) {
            Some(a) => (a, false),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let etag = format!("\"{}\"", asset.hash);
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let matches = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        });
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(CONTENT_TYPE, HeaderValue::from_static(asset.content_type))],
            asset.bytes,
        )
            .into_response()
    };
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_carry_the_content_hash() {
        let css = url("app.css");
        assert!(
            css.starts_with("/assets/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/assets/app..css".len() + 16);
        assert_eq!(url("nope.txt"), "/assets/nope.txt");
        // The PNG icons are real PNGs of the sizes the manifest names.
        for (name, size) in [("icon-192.png", 192u32), ("icon-512.png", 512)] {
            let a = ASSETS.iter().find(|a| a.name == name).unwrap();
            assert_eq!(&a.bytes[..8], b"\x89PNG\r\n\x1a\n");
            assert_eq!(
                u32::from_be_bytes(a.bytes[16..20].try_into().unwrap()),
                size
            );
        }
        let manifest = ASSETS
            .iter()
            .find(|a| a.name == "manifest.webmanifest")
            .unwrap();
        let m: serde_json::Value = serde_json::from_slice(manifest.bytes).unwrap();
        assert_eq!(m["start_url"], "/");
        assert_eq!(m["display"], "standalone");
    }
}
