//! Web pages, server-rendered with askama templates (`crates/server/templates/`)
//! in two languages (fluent catalogues in `crates/server/locales/`), mobile-first;
//! every page works without JavaScript, and `live.js` (the only script)
//! swaps in server-rendered fragments when something changes. One module per area:
//!
//! * `layout.rs`: what every page shares (title, language, account menu,
//!   flash message) and the response headers (CSP, `Vary`, no-store).
//! * `assets.rs`: the stylesheet, `live.js`, manifest and icons from the
//!   binary, under hashed names. `format.rs`: money, numbers and times per language.
//! * `i18n.rs`: the catalogues and the choice of language (a `lang` cookie set
//!   by the layout's switch, else `Accept-Language`, else en-US).
//! * `home.rs`: `/`. `demands.rs`: the demand form `/demands/new` (with the
//!   explanation of a refusal and its relaxations) and `/demands`.
//!   `offers.rs`: a demand's page `/demands/{id}`, its offers compared,
//!   accepted and ordered. `orders.rs`: `/orders`, the order page
//!   `/orders/{id}` (timeline and the requester's actions; `/o/{id}` redirects).
//!   `holders.rs`: a holder's public page `/h/{id}`. `live.rs`: the pages'
//!   live-update streams.
//! * `pass.rs`: the pass page `/p/{id}` (the pass's `link`) and its order form.
//! * `balance.rs`: `/balance`. `auth.rs`: sign-in, sign-out, the error page.
//!
//! * Sessions: a cookie `sym_session` (`HttpOnly; SameSite=Lax`, `Secure` on
//!   an https public URL) holding a token signed with the master key.
//! * CSRF: every form that acts for an account carries a token bound to the
//!   session (or, before sign-in, to a random `sym_pre` cookie); a POST
//!   without the right one is refused with 403 `forbidden`. The language
//!   switch only sets a preference cookie and carries none.
//! * The pass page embeds schema.org `Product`/`Offer` JSON-LD and Open Graph
//!   tags, and a QR code (SVG) of its link. `?via=<holder>` credits the
//!   holder whose link brought the buyer.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

mod assets;
mod auth;
mod balance;
mod demands;
mod format;
mod holders;
mod home;
mod i18n;
mod layout;
mod live;
mod offers;
mod orders;
mod pass;

use i18n::Lang;
use layout::{html, Layout};

const SESSION_COOKIE: &str = "sym_session";
const PRE_COOKIE: &str = "sym_pre";

/// The web routes (merged into the API router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{id}", get(pass::pass_page))
        .route("/p/{id}/order", post(pass::order_from_page))
        .route("/", get(home::home_page))
        .route("/assets/{file}", get(assets::serve))
        .route("/demands", get(demands::list_page))
        .route("/demands/new", get(demands::new_page).post(demands::create))
        .route("/demands/{id}", get(offers::demand_page))
        .route("/demands/{id}/offers", get(offers::offers_fragment))
        .route("/demands/{id}/live", get(live::demand))
        .route("/demands/{id}/offers/{offer}", post(offers::act))
        .route("/orders", get(orders::list_page))
        .route("/orders/{id}", get(orders::order_page).post(orders::act))
        .route("/orders/{id}/timeline", get(orders::timeline_fragment))
        .route("/orders/{id}/live", get(live::order))
        .route("/o/{id}", get(orders::old_link))
        .route("/h/{id}", get(holders::holder_page))
        .route("/balance", get(balance::balance_page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", post(i18n::switch_language))
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn form(body: &Bytes) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// A form POST: its request's [`Web`] and its fields.
struct FormPost {
    w: Web,
    f: HashMap<String, String>,
}

impl FromRequest<AppState> for FormPost {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let w = Web::new(state.clone(), req.headers());
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self { w, f: form(&body) })
    }
}

/// One web request: the state, its cookies and its language.
struct Web {
    state: AppState,
    cookies: HashMap<String, String>,
    lang: Lang,
}

impl Web {
    fn new(state: AppState, headers: &HeaderMap) -> Self {
        let cookies = cookies(headers);
        let lang = Lang::of_request(&cookies, headers);
        Self {
            state,
            cookies,
            lang,
        }
    }

    fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    fn secure(&self) -> bool {
        self.state
            .exchange
            .config()
            .public_url
            .starts_with("https://")
    }

    async fn account(&self) -> Option<(Account, String)> {
        let token = self.cookies.get(SESSION_COOKIE)?;
        let account = self.state.exchange.web_session(token).await?;
        Some((account, token.clone()))
    }

    fn cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure() { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The CSRF binding of a visitor: its session, or its pre-session nonce
    /// (made now, returned to be set as a cookie, when it has none).
    fn csrf_binding(&self, session: Option<&str>) -> (String, Option<String>) {
        match session {
            Some(s) => (s.to_string(), None),
            None => match self.cookies.get(PRE_COOKIE) {
                Some(n) if !n.is_empty() => (format!("pre:{n}"), None),
                _ => {
                    let n = self.state.exchange.nonce();
                    (format!("pre:{n}"), Some(n))
                }
            },
        }
    }

    fn csrf_ok(&self, session: Option<&str>, token: Option<&String>) -> bool {
        let binding = match session {
            Some(s) => s.to_string(),
            None => match self.cookies.get(PRE_COOKIE) {
                Some(n) => format!("pre:{n}"),
                None => return false,
            },
        };
        token.is_some_and(|t| self.state.exchange.csrf_ok(&binding, t))
    }

    /// The layout of a page at `here` (where the language switch returns).
    fn layout(&self, title: String, me: Option<&Account>, csrf: &str, here: &str) -> Layout {
        Layout {
            lang: self.lang,
            title,
            me: me.map(|a| a.name.clone()),
            csrf: csrf.to_string(),
            here: here.to_string(),
        }
    }

    /// The signed-in account, its session token and the session's CSRF
    /// token; or, for a visitor, a redirect to sign-in that comes back to `here`.
    async fn signed_in(&self, here: &str) -> Result<(Account, String, String), Response> {
        match self.account().await {
            Some((me, token)) => {
                let csrf = self.state.exchange.csrf_token(&token);
                Ok((me, token, csrf))
            }
            None => Err(redirect(
                &format!("/login?next={}", safe_next(Some(here))),
                vec![],
            )),
        }
    }

    fn status_of(&self, e: &ExchangeError) -> StatusCode {
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// What a visitor may read of an error: the exchange's message, except
    /// for internal errors, which are logged and replaced.
    fn public_message(&self, e: &ExchangeError) -> String {
        if e.code == ErrorCode::Internal {
            tracing::error!(error = %e, source = ?e.source, "internal error");
            self.t("error-internal")
        } else {
            e.message.clone()
        }
    }

    fn exchange_error(&self, e: &ExchangeError) -> Response {
        auth::error_page(self, self.status_of(e), &self.public_message(e))
    }
}

fn redirect(to: &str, set_cookies: Vec<HeaderValue>) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    for c in set_cookies {
        r.headers_mut().append(SET_COOKIE, c);
    }
    r
}

/// Only a local path may be a redirect target (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    // A local path of plain characters only: browsers drop tabs and newlines
    // from URLs, so `/\t/evil.example` would become `//evil.example`.
    let plain = |n: &str| {
        n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_-.?=&%".contains(&b))
    };
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && plain(n) => n.to_string(),
        _ => "/login".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_local_paths_are_redirect_targets() {
        assert_eq!(safe_next(Some("/p/pas_1?via=acc_2")), "/p/pas_1?via=acc_2");
        assert_eq!(safe_next(Some("/o/ord_1")), "/o/ord_1");
        for evil in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/login", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/login");
    }
}
