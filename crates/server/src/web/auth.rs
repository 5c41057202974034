//! Sign-in with an API key (`/login`), sign-out (`POST /logout`) and the
//! error page. Accounts for people (passwords, passkeys, sessions in the
//! store) come later (issue 19).

use super::{
    html, redirect, safe_next, AppState, FormPost, Layout, Web, PRE_COOKIE, SESSION_COOKIE,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use symbolon_core::limits::WEB_SESSION_TTL_SECONDS;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
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
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorTemplate {
    l: Layout,
    status: u16,
    message: String,
}

pub(super) fn error_page(w: &Web, status: StatusCode, message: &str) -> Response {
    let t = ErrorTemplate {
        l: w.layout("Symbolon".into(), None, "", "/login"),
        status: status.as_u16(),
        message: message.to_string(),
    };
    html(status, t, vec![])
}

fn login_form(w: &Web, next: &str, error: Option<String>) -> Response {
    let (binding, new_pre) = w.csrf_binding(None);
    let csrf = w.state.exchange.csrf_token(&binding);
    let cookies = new_pre
        .map(|n| vec![w.cookie(PRE_COOKIE, &n, WEB_SESSION_TTL_SECONDS)])
        .unwrap_or_default();
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let t = LoginTemplate {
        l: w.layout(w.t("login-title"), None, "", &login_path(next)),
        signed_in: None,
        next: next.to_string(),
        form_csrf: csrf,
        error,
    };
    html(status, t, cookies)
}

fn login_path(next: &str) -> String {
    if next == "/login" {
        "/login".into()
    } else {
        format!("/login?next={next}")
    }
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
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
            error: None,
        };
        return html(StatusCode::OK, t, vec![]);
    }
    login_form(&w, &next, None)
}

pub(super) async fn login(FormPost { w, f }: FormPost) -> Response {
    let next = safe_next(f.get("next").map(String::as_str));
    if !w.csrf_ok(None, f.get("csrf")) {
        return login_form(&w, &next, Some(w.t("error-form-expired")));
    }
    match w
        .state
        .exchange
        .web_sign_in(f.get("api_key").map(|k| k.trim()).unwrap_or(""))
        .await
    {
        Ok((_, token)) => redirect(
            &next,
            vec![w.cookie(SESSION_COOKIE, &token, WEB_SESSION_TTL_SECONDS)],
        ),
        Err(_) => login_form(&w, &next, Some(w.t("login-unknown-key"))),
    }
}

pub(super) async fn logout(FormPost { w, f }: FormPost) -> Response {
    let session = w.account().await;
    if !w.csrf_ok(session.as_ref().map(|(_, t)| t.as_str()), f.get("csrf")) {
        return error_page(&w, StatusCode::FORBIDDEN, &w.t("error-form-expired"));
    }
    redirect("/login", vec![w.cookie(SESSION_COOKIE, "", 0)])
}
