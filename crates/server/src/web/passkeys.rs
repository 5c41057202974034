//! Passkeys on the web pages: the JSON endpoints `passkey.js` drives, and
//! removing a passkey from the account page (a plain form POST).
//!
//! * `POST /account/passkeys/start` and `/account/passkeys/finish`: a
//!   signed-in account adds a passkey (the session's CSRF token in the
//!   body).
//! * `POST /login/passkey/start` and `/login/passkey/finish`: a visitor
//!   signs in with a passkey (the pre-session CSRF token in the body); the
//!   finish sets `sym_session` exactly as a password sign-in does and
//!   answers `{"next": "/…"}`.
//!
//! Each is refused from another site (as form posts are: 403), without the right
//! CSRF token (403), and, for the account's, without a session (401). A
//! refusal is `{"error": {"code", "message"}}` with the code's status; its
//! message is in the page's language.

use super::{form_post, safe_next, AppState, FormPost, Web, SESSION_COOKIE};
use axum::extract::{FromRequest, Request};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use symbolon_core::limits::WEB_SESSION_TTL_SECONDS;
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;

/// A JSON POST from this site: its request's [`Web`] and its body (a body
/// that is not a JSON object: an empty one, refused later by its CSRF check).
pub(super) struct JsonPost {
    w: Web,
    body: Value,
}

impl FromRequest<AppState> for JsonPost {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (w, bytes) = form_post(req, state).await?;
        let body = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        Ok(Self { w, body })
    }
}

impl JsonPost {
    fn text(&self, key: &str) -> &str {
        self.body[key].as_str().unwrap_or("")
    }

    fn csrf(&self) -> Option<String> {
        self.body["csrf"].as_str().map(str::to_string)
    }
}

fn refusal(w: &Web, status: StatusCode, code: &str, key: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": w.t(key)}})),
    )
        .into_response()
}

/// The answer to an error of the exchange, its message in the page's language.
fn error(w: &Web, e: &ExchangeError) -> Response {
    let message = match e.code {
        ErrorCode::PasskeyCeremonyInvalid => w.t("passkey-error-ceremony"),
        ErrorCode::PasskeyInvalid => w.t("passkey-error-invalid"),
        ErrorCode::TooManyPasskeys => w.t("passkey-error-too-many"),
        ErrorCode::InvalidField => w.t("passkey-error-name"),
        ErrorCode::TooManySignIns => super::auth::too_many_sign_ins(w, e),
        _ => w.public_message(e),
    };
    (
        w.status_of(e),
        Json(json!({"error": {"code": e.code.as_str(), "message": message}})),
    )
        .into_response()
}

/// The signed-in account of a JSON post with its session's CSRF token.
async fn signed_in(p: &JsonPost) -> Result<symbolon_store::Account, Response> {
    let Some((me, token)) = p.w.account().await else {
        return Err(refusal(
            &p.w,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "passkey-error-signed-out",
        ));
    };
    if !p.w.csrf_ok(Some(&token), p.csrf().as_ref()) {
        return Err(refusal(
            &p.w,
            StatusCode::FORBIDDEN,
            "forbidden",
            "error-form-expired",
        ));
    }
    Ok(me)
}

/// The refusal of a visitor's JSON post without its pre-session CSRF token.
fn visitor_refused(p: &JsonPost) -> Option<Response> {
    (!p.w.csrf_ok(None, p.csrf().as_ref())).then(|| {
        refusal(
            &p.w,
            StatusCode::FORBIDDEN,
            "forbidden",
            "error-form-expired",
        )
    })
}

pub(super) async fn add_start(p: JsonPost) -> Response {
    let me = match signed_in(&p).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    match p
        .w
        .state
        .exchange
        .start_passkey_registration(&me, &p.w.client())
        .await
    {
        Ok((ceremony, options)) => {
            Json(json!({"ceremony": ceremony, "options": options})).into_response()
        }
        Err(e) => error(&p.w, &e),
    }
}

pub(super) async fn add_finish(p: JsonPost) -> Response {
    let me = match signed_in(&p).await {
        Ok(me) => me,
        Err(r) => return r,
    };
    let ex = &p.w.state.exchange;
    match ex
        .finish_passkey_registration(
            &me,
            p.text("ceremony"),
            &p.body["credential"],
            p.text("name"),
        )
        .await
    {
        Ok(_) => Json(json!({"next": "/account#passkeys"})).into_response(),
        Err(e) => error(&p.w, &e),
    }
}

pub(super) async fn login_start(p: JsonPost) -> Response {
    if let Some(r) = visitor_refused(&p) {
        return r;
    }
    match p
        .w
        .state
        .exchange
        .start_passkey_sign_in(&p.w.client())
        .await
    {
        Ok((ceremony, options)) => {
            Json(json!({"ceremony": ceremony, "options": options})).into_response()
        }
        Err(e) => error(&p.w, &e),
    }
}

pub(super) async fn login_finish(p: JsonPost) -> Response {
    if let Some(r) = visitor_refused(&p) {
        return r;
    }
    let next = safe_next(Some(p.text("next")));
    let ex = &p.w.state.exchange;
    match ex
        .finish_passkey_sign_in(p.text("ceremony"), &p.body["credential"], &p.w.client())
        .await
    {
        Ok((_, token)) => {
            let next = if next == "/login" {
                "/account".to_string()
            } else {
                next
            };
            let mut r = Json(json!({"next": next})).into_response();
            let cookie: HeaderValue = p.w.cookie(SESSION_COOKIE, &token, WEB_SESSION_TTL_SECONDS);
            r.headers_mut().append(SET_COOKIE, cookie);
            r
        }
        Err(e) => error(&p.w, &e),
    }
}

/// `POST /account/passkeys/remove` (a form on the account page).
pub(super) async fn remove(FormPost { w, f }: FormPost) -> Response {
    let (me, _) = match super::account::signed_in_post(&w, &f).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = f.get("id").map_or("", String::as_str);
    match w.state.exchange.remove_passkey(&me, id).await {
        Ok(()) => super::redirect("/account#passkeys", vec![]),
        Err(e) => w.exchange_error(&e),
    }
}
