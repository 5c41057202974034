//! Sign-up (`/signup`), sign-in with an email and a password (`/login`),
//! sign-out (`POST /logout`, which revokes the session in the store) and the
//! error page. Each form is a plain POST answered by a redirect (303); a form
//! with a mistake comes back with its message beside the field and what was
//! typed kept (never the password).

use super::{
    html, redirect, safe_next, AppState, FormPairs, FormPost, Layout, Web, PRE_COOKIE,
    SESSION_COOKIE,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use symbolon_api as api;
use symbolon_core::limits::{
    MAX_EMAIL_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, WEB_PRE_SESSION_SECONDS,
    WEB_SESSION_TTL_SECONDS,
};
use symbolon_core::ErrorCode;
use symbolon_exchange::people::SignUp;
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

use crate::registration::RegistrationLimiter;

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// A form's values as typed and its messages, by field (`""`: the whole form).
#[derive(Default)]
pub struct Form {
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    /// Every value of a checkbox group, as `name=value`.
    checked: Vec<String>,
}

impl Form {
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    /// A field's value if the form holds one.
    pub fn values_of(&self, field: &str) -> Option<&str> {
        self.values.get(field).map(String::as_str)
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.checked.contains(&format!("{name}={value}"))
    }

    pub(super) fn with_error(mut self, field: &str, message: String) -> Self {
        self.errors.insert(field.to_string(), message);
        self
    }

    pub(super) fn of(values: &HashMap<String, String>, keep: &[&str]) -> Self {
        Self {
            values: keep
                .iter()
                .filter_map(|k| values.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect(),
            ..Self::default()
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginTemplate {
    l: Layout,
    /// The signed-in account's name: the page says so instead of a form.
    signed_in: Option<String>,
    next: String,
    /// The form's CSRF token (bound to the pre-session cookie).
    form_csrf: String,
    f: Form,
    max_email: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
struct SignupTemplate {
    l: Layout,
    next: String,
    form_csrf: String,
    f: Form,
    max_email: usize,
    min_password: i64,
    max_password: usize,
}

impl SignupTemplate {
    fn login_href(&self) -> String {
        with_next("/login", &self.next)
    }
}

impl LoginTemplate {
    fn signup_href(&self) -> String {
        with_next("/signup", &self.next)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorTemplate {
    l: Layout,
    status: u16,
    message: String,
}

/// The error page for a signed-in account (its navigation and sign-out shown).
#[allow(dead_code)] // until the consoles land
pub(super) fn error_page_for(
    w: &Web,
    me: &Account,
    csrf: &str,
    status: StatusCode,
    message: &str,
) -> Response {
    let t = ErrorTemplate {
        l: w.layout("Symbolon".into(), Some(me), csrf, "/"),
        status: status.as_u16(),
        message: message.to_string(),
    };
    html(status, t, vec![])
}

pub(super) fn error_page(w: &Web, status: StatusCode, message: &str) -> Response {
    let t = ErrorTemplate {
        l: w.layout("Symbolon".into(), None, "", "/login"),
        status: status.as_u16(),
        message: message.to_string(),
    };
    html(status, t, vec![])
}

/// The CSRF token of a form shown before sign-in, and the pre-session
/// cookie to set when the visitor has none yet.
fn pre_session_csrf(w: &Web) -> (String, Vec<axum::http::HeaderValue>) {
    let (binding, new_pre) = w.csrf_binding(None);
    let csrf = w.state.exchange.csrf_token(&binding);
    let cookies = new_pre
        .map(|n| vec![w.cookie(PRE_COOKIE, &n, WEB_PRE_SESSION_SECONDS)])
        .unwrap_or_default();
    (csrf, cookies)
}

fn with_next(path: &str, next: &str) -> String {
    if next == "/login" {
        path.to_string()
    } else {
        let enc: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
        format!("{path}?next={enc}")
    }
}

fn login_form(w: &Web, next: &str, status: StatusCode, f: Form) -> Response {
    let (csrf, cookies) = pre_session_csrf(w);
    let t = LoginTemplate {
        l: w.layout(w.t("login-title"), None, "", &with_next("/login", next)),
        signed_in: None,
        next: next.to_string(),
        form_csrf: csrf,
        f,
        max_email: MAX_EMAIL_CHARS,
    };
    html(status, t, cookies)
}

fn signup_form(w: &Web, next: &str, status: StatusCode, f: Form) -> Response {
    let (csrf, cookies) = pre_session_csrf(w);
    let t = SignupTemplate {
        l: w.layout(w.t("signup-title"), None, "", &with_next("/signup", next)),
        next: next.to_string(),
        form_csrf: csrf,
        f,
        max_email: MAX_EMAIL_CHARS,
        min_password: i64::try_from(MIN_PASSWORD_CHARS).unwrap_or(i64::MAX),
        max_password: MAX_PASSWORD_CHARS,
    };
    html(status, t, cookies)
}

/// Where to go after signing in: `next`, or the account page.
fn landing(next: &str) -> &str {
    if next == "/login" {
        "/account"
    } else {
        next
    }
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let next = safe_next(q.next.as_deref());
    if let Some((me, token)) = w.account().await {
        if next != "/login" {
            return redirect(&next, vec![]);
        }
        let csrf = w.state.exchange.csrf_token(&token);
        let t = LoginTemplate {
            l: w.layout(w.t("login-signed-in-title"), Some(&me), &csrf, "/login"),
            signed_in: Some(me.name.clone()),
            next,
            form_csrf: String::new(),
            f: Form::default(),
            max_email: MAX_EMAIL_CHARS,
        };
        return html(StatusCode::OK, t, vec![]);
    }
    login_form(&w, &next, StatusCode::OK, Form::default())
}

pub(super) async fn login(FormPost { w, f }: FormPost) -> Response {
    let next = safe_next(f.get("next").map(String::as_str));
    let form = Form::of(&f, &["email"]);
    if !w.csrf_ok(None, f.get("csrf")) {
        let msg = w.t("error-form-expired");
        return login_form(&w, &next, StatusCode::FORBIDDEN, form.with_error("", msg));
    }
    let email = f.get("email").map_or("", String::as_str);
    let password = f.get("password").map_or("", String::as_str);
    match w.state.exchange.sign_in(email, password, &w.client()).await {
        Ok((_, token)) => redirect(
            landing(&next),
            vec![w.cookie(SESSION_COOKIE, &token, WEB_SESSION_TTL_SECONDS)],
        ),
        Err(e) => {
            let msg = match e.code {
                ErrorCode::InvalidCredentials => w.t("login-wrong"),
                ErrorCode::TooManySignIns => too_many_sign_ins(&w, &e),
                _ => w.public_message(&e),
            };
            login_form(&w, &next, w.status_of(&e), form.with_error("", msg))
        }
    }
}

/// The message of `too_many_sign_ins`, with the minutes to wait.
pub(super) fn too_many_sign_ins(w: &Web, e: &ExchangeError) -> String {
    let minutes = e
        .details
        .as_ref()
        .and_then(|d| d["minutes"].as_i64())
        .unwrap_or(15);
    w.tn("login-too-many", minutes)
}

pub(super) async fn signup_page(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let next = safe_next(q.next.as_deref());
    if w.account().await.is_some() {
        return redirect(landing(&next), vec![]);
    }
    signup_form(&w, &next, StatusCode::OK, Form::default())
}

/// The message beside a sign-up field the exchange refused.
fn signup_error(w: &Web, e: &ExchangeError) -> (String, String) {
    let field = e
        .details
        .as_ref()
        .and_then(|d| d["field"].as_str())
        .unwrap_or("")
        .to_string();
    let key = match (e.code, field.as_str()) {
        (ErrorCode::EmailTaken, _) => "signup-email-taken",
        (ErrorCode::InvalidField, "name") => "signup-name-invalid",
        (ErrorCode::InvalidField, "email") => "signup-email-invalid",
        (ErrorCode::InvalidField, "password") => "signup-password-invalid",
        (ErrorCode::InvalidField, "roles") => "signup-roles-invalid",
        _ => return (String::new(), w.public_message(e)),
    };
    let field = if e.code == ErrorCode::EmailTaken {
        "email".to_string()
    } else {
        field
    };
    (field, w.t(key))
}

pub(super) async fn signup(
    Extension(limiter): Extension<Arc<RegistrationLimiter>>,
    FormPairs { w, pairs }: FormPairs,
) -> Response {
    let last = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let next = safe_next(Some(last("next").as_str()));
    let mut form = Form::of(&pairs.iter().cloned().collect(), &["name", "email"]);
    form.checked = pairs
        .iter()
        .filter(|(k, _)| k == "roles")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !w.csrf_ok(None, Some(&last("csrf"))) {
        let msg = w.t("error-form-expired");
        return signup_form(&w, &next, StatusCode::FORBIDDEN, form.with_error("", msg));
    }
    let mut roles = Vec::new();
    for (k, v) in &pairs {
        if k != "roles" {
            continue;
        }
        match v.as_str() {
            "requester" => roles.push(api::Role::Requester),
            "holder" => roles.push(api::Role::Holder),
            "provider" => roles.push(api::Role::Provider),
            _ => {
                let msg = w.t("signup-roles-invalid");
                let form = form.with_error("roles", msg);
                return signup_form(&w, &next, StatusCode::UNPROCESSABLE_ENTITY, form);
            }
        }
    }
    // The per-address registration limit of `POST /v1/accounts`, shared.
    let now = std::time::Instant::now();
    if let Some(ip) = w.ip {
        if let Err(wait) = limiter.try_take(ip, now) {
            let minutes = i64::try_from(wait.as_secs().div_ceil(60).max(1)).unwrap_or(60);
            let msg = w.tn("signup-too-many", minutes);
            let form = form.with_error("", msg);
            return signup_form(&w, &next, StatusCode::TOO_MANY_REQUESTS, form);
        }
    }
    let req = SignUp {
        name: last("name"),
        email: last("email"),
        password: last("password"),
        roles,
    };
    match w.state.exchange.sign_up(&req, &w.client()).await {
        Ok((_, token)) => redirect(
            landing(&next),
            vec![w.cookie(SESSION_COOKIE, &token, WEB_SESSION_TTL_SECONDS)],
        ),
        Err(e) => {
            if let Some(ip) = w.ip {
                limiter.give_back(ip, now);
            }
            let (field, msg) = signup_error(&w, &e);
            let status = match e.code {
                ErrorCode::InvalidField => StatusCode::UNPROCESSABLE_ENTITY,
                _ => w.status_of(&e),
            };
            signup_form(&w, &next, status, form.with_error(&field, msg))
        }
    }
}

pub(super) async fn logout(FormPost { w, f }: FormPost) -> Response {
    let session = w.account().await;
    if !w.csrf_ok(session.as_ref().map(|(_, t)| t.as_str()), f.get("csrf")) {
        return error_page(&w, StatusCode::FORBIDDEN, &w.t("error-form-expired"));
    }
    if let Some((_, token)) = &session {
        if let Err(e) = w.state.exchange.sign_out(token).await {
            return w.exchange_error(&e);
        }
    }
    redirect("/login", vec![w.cookie(SESSION_COOKIE, "", 0)])
}
