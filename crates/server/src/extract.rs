//! Extractors: JSON bodies with field-naming errors, query strings, and the caller's account.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

/// A JSON body. Malformed JSON → 400 `malformed_json`; a wrong, missing or
/// unknown field → 400 `invalid_field` naming it; over the size limit → 413;
/// not `application/json` → 415.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(not_json());
        }
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// Whether the request says its body is JSON (`application/json` or `application/*+json`).
fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn not_json() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "send the body as JSON with `Content-Type: application/json`",
    )
}

/// The request body, within the size limit (413 beyond it).
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e: BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!(
                        "the body exceeds {} bytes",
                        symbolon_core::limits::MAX_BODY_BYTES
                    ),
                )
            } else {
                ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("cannot read the body: {e}"),
                )
            }
        })
}

/// An optional JSON body: a request without one (nothing sent, or JSON
/// `null`) gets `T::default()`, so an endpoint that grew a body still
/// answers the clients that send none; a body given is read as [`Json`]
/// reads it.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let typed = req.headers().contains_key(CONTENT_TYPE);
        if typed && !is_json(&req) {
            return Err(not_json());
        }
        let bytes = read_body(req, state).await?;
        let text = String::from_utf8_lossy(&bytes);
        match text.trim() {
            "" => Ok(OptionalJson(T::default())),
            "null" if typed => Ok(OptionalJson(T::default())),
            _ if !typed => Err(not_json()),
            _ => parse_json(&bytes).map(OptionalJson),
        }
    }
}

/// Parses JSON, reporting the path of the offending field. The body must be a JSON object.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b) if *b != b'{') {
        return Err(ApiError::new(
            ErrorCode::MalformedJson,
            "the body must be a JSON object",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Syntax | Category::Eof | Category::Io => Err(ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("the body is not valid JSON: {inner}"),
                )),
                Category::Data => {
                    let msg = inner.to_string();
                    // Unknown and missing fields name themselves in serde's message.
                    let field = if path == "." {
                        extract_backticked(&msg).unwrap_or_default()
                    } else if msg.starts_with("missing field") {
                        format!("{path}.{}", extract_backticked(&msg).unwrap_or_default())
                    } else if msg.starts_with("unknown field") {
                        let name = extract_backticked(&msg).unwrap_or_default();
                        if path.ends_with(&name) {
                            path.clone()
                        } else {
                            format!("{path}.{name}")
                        }
                    } else {
                        path.clone()
                    };
                    let field = field.trim_start_matches('.').to_string();
                    let clean = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    Err(ApiError(
                        ExchangeError::new(ErrorCode::InvalidField, format!("{field}: {clean}"))
                            .with_details(json!({"field": field})),
                    ))
                }
            }
        }
    }
}

fn extract_backticked(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = start + msg[start..].find('`')?;
    Some(msg[start..end].to_string())
}

/// Query-string parameters; a bad one → 400 `invalid_query`.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded_like(q).map(Query)
    }
}

fn serde_urlencoded_like<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{q}")
            .parse()
            .map_err(|_| ApiError::new(ErrorCode::InvalidQuery, "the query string is malformed"))?,
    )
    .map(|axum::extract::Query(v)| v)
    .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
}

/// Path parameters; one that cannot be decoded (e.g. invalid UTF-8) names no object → 404.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no such object ({})", e.body_text()),
            )),
        }
    }
}

/// Longer bearer tokens are refused before any lookup.
pub const MAX_API_KEY_CHARS: usize = 200;

/// The API key of `Authorization: Bearer <api_key>`, if the header has one.
/// The scheme is matched case-insensitively (RFC 7235 §2.1), followed by one
/// or more spaces.
pub fn bearer_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    let header = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(key.trim()).filter(|k| !k.is_empty())
}

/// The authenticated caller (`Authorization: Bearer <api_key>`).
pub struct Caller(pub Account);

/// An account a middleware already authenticated for this request's bearer
/// key (the idempotency layer does), so [`Caller`] does not read it twice.
#[derive(Clone)]
pub(crate) struct Authenticated {
    pub bearer: String,
    pub account: Account,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = bearer_key(&parts.headers).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "send `Authorization: Bearer <api_key>`",
            )
        })?;
        if key.len() > MAX_API_KEY_CHARS {
            return Err(ApiError::new(ErrorCode::Unauthorized, "unknown API key"));
        }
        if let Some(done) = parts.extensions.get::<Authenticated>() {
            if done.bearer == key {
                return Ok(Caller(done.account.clone()));
            }
        }
        let account = state.exchange.authenticate(key).await?;
        Ok(Caller(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let key = |v: &str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert(AUTHORIZATION, v.parse().unwrap());
            bearer_key(&h).map(str::to_string)
        };
        for v in [
            "Bearer k1",
            "bearer k1",
            "BEARER k1",
            "bEaReR k1",
            "Bearer   k1 ",
        ] {
            assert_eq!(key(v).as_deref(), Some("k1"), "{v}");
        }
        for v in [
            "Basic k1", "Bearerk1", "Bearer", "Bearer  ", "Token k1", "k1",
        ] {
            assert_eq!(key(v), None, "{v}");
        }
    }
}
