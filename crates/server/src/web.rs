//! Web pages, server-rendered with askama templates (`crates/server/templates/`)
//! in two languages (fluent catalogues in `crates/server/locales/`), mobile-first;
//! every page works without JavaScript: `live.js` swaps in server-rendered
//! fragments when something changes, and `passkey.js` adds passkeys (which
//! need JavaScript; the password stays the way in without it). One module per area:
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
//!   accepted and ordered; the demand cancelled. `orders.rs`: `/orders`, the order page
//!   `/orders/{id}` (timeline and the requester's actions; `/o/{id}` redirects).
//!   `holders.rs`: a holder's public page `/h/{id}`. `live.rs`: the pages'
//!   live-update streams.
//! * `pass.rs`: the pass page `/p/{id}` (the pass's `link`) and its order form.
//! * `balance.rs`: `/balance`.
//! * `inbox.rs`: the holder's inbox `/inbox` (requests arriving live, answered
//!   with a pass and a note or declined). `wallet.rs`: `/wallet`, the passes
//!   held with their share links, QR codes and the orders they brought.
//!   `earnings.rs`: `/earnings`, commission per order and month, with a chart.
//!   `reputation.rs`: `/reputation`, the holder's reputation, its history as
//!   a chart, the ratings and the fields of focus form.
//! * `chart.rs` (+ `templates/chart.html`): charts drawn by `plotters` as SVG, with their figures as a table.
//! * `auth.rs`: sign-up (`/signup`), sign-in (`/login`), sign-out, the error page.
//! * `account.rs`: `/account` — profile, ship-to address and card, language,
//!   signed-in devices, API keys, passkeys, e-mail notifications.
//! * `catalog.rs`: the provider's catalogue `/catalog` (products created
//!   and edited, with their passes). `provider_passes.rs`: `/passes/new`
//!   and a pass's admin page `/passes/{id}` (holders, holder search and
//!   grant, orders, seal, revocation). `provider_orders.rs`: the provider's
//!   side of `/orders` (orders to ship, live) and of `/orders/{id}`.
//!   `sales.rs`: `/sales` (revenue and commissions charted, top lists).
//! * `notify.rs`: the account page's e-mail choices
//!   (`/account/notifications`) and the notification messages' text.
//! * `unsubscribe.rs`: `/unsubscribe?token=…`, the signed link every
//!   notification carries (works without signing in; RFC 8058 one-click).
//! * `passkeys.rs`: the JSON endpoints `passkey.js` drives to add a passkey
//!   (`/account/passkeys/*`) and to sign in with one (`/login/passkey/*`).
//! * `settings.rs`: `/settings/webhooks` (any account's webhook endpoints,
//!   their secrets shown once, attempts, replay) and `/settings/keys` (a
//!   provider's signing keys, rotation, the JWKS link).
//! * `operator.rs`: `/operator/disputes` and `/operator/disputes/{id}`: the
//!   operator's dispute queue, message trails and resolutions.
//!
//! * Sessions: a cookie `sym_session` (`HttpOnly; SameSite=Lax; Path=/`,
//!   `Secure` on an https public URL) holding a random token; the store keeps
//!   only its SHA-256 (`symbolon_exchange::people`). Every sign-in makes a new
//!   one (no fixation); signing out revokes it in the store.
//! * CSRF: every form that acts for an account carries a token bound to the
//!   session (or, before sign-in, to a random `sym_pre` cookie); a POST
//!   without the right one is refused with 403. Besides, every form POST
//!   from another site is refused with 403 before it is read: by
//!   `Sec-Fetch-Site` (only `same-origin` and `none` pass) or, without it,
//!   by `Origin` (it must be the public URL's or the `Host`'s).
//! * The pass page embeds schema.org `Product`/`Offer` JSON-LD and Open Graph
//!   tags, and a QR code (SVG) of its link. `?via=<holder>` credits the
//!   holder whose link brought the buyer.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::handler::Handler;
use axum::http::header::{COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;
use symbolon_core::state::Role;
use symbolon_core::ErrorCode;
use symbolon_exchange::people::Client;
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

mod account;
mod assets;
mod auth;
mod balance;
mod catalog;
mod chart;
mod demands;
mod earnings;
mod format;
mod holders;
mod home;
mod i18n;
mod inbox;
mod layout;
mod live;
mod notify;
mod offers;
mod operator;
mod orders;
mod pass;
mod passkeys;
mod provider_orders;
mod provider_passes;
mod reputation;
mod sales;
mod settings;
mod unsubscribe;
mod wallet;

pub use notify::{render_mail, RenderedMail};

use i18n::Lang;
use layout::{html, Layout};

const SESSION_COOKIE: &str = "sym_session";
const PRE_COOKIE: &str = "sym_pre";

/// One web route: its method, its path and its handler. [`router`] is built
/// from [`table`], and [`routes`] lists the same rows, so a page added here is
/// a page the authorization matrix test (`tests/it/authz_policy.rs`) must name.
struct WebRoute {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
}

fn get_route<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> WebRoute {
    WebRoute {
        method: Method::GET,
        path,
        handler: get(h),
    }
}

fn post_route<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> WebRoute {
    WebRoute {
        method: Method::POST,
        path,
        handler: post(h),
    }
}

/// Every web route (each GET also answers HEAD).
fn table() -> Vec<WebRoute> {
    vec![
        get_route("/p/{id}", pass::pass_page),
        post_route("/p/{id}/order", pass::order_from_page),
        get_route("/", home::home_page),
        get_route("/assets/{file}", assets::serve),
        get_route("/demands", demands::list_page),
        get_route("/demands/new", demands::new_page),
        post_route("/demands/new", demands::create),
        get_route("/demands/{id}", offers::demand_page),
        post_route("/demands/{id}", offers::cancel),
        get_route("/demands/{id}/offers", offers::offers_fragment),
        get_route("/demands/{id}/live", live::demand),
        post_route("/demands/{id}/offers/{offer}", offers::act),
        get_route("/orders", orders::list_page),
        get_route("/orders/live", provider_orders::live),
        get_route("/orders/fragment", provider_orders::fragment),
        get_route("/catalog", catalog::catalog_page),
        post_route("/catalog", catalog::create),
        get_route("/catalog/{id}", catalog::edit_page),
        post_route("/catalog/{id}", catalog::save),
        get_route("/passes/new", provider_passes::new_page),
        post_route("/passes/new", provider_passes::issue),
        get_route("/passes/{id}", provider_passes::admin_page),
        post_route("/passes/{id}/grant", provider_passes::grant),
        post_route("/passes/{id}/revoke", provider_passes::revoke),
        get_route("/sales", sales::sales_page),
        get_route("/orders/{id}", orders::order_page),
        post_route("/orders/{id}", orders::act),
        get_route("/orders/{id}/timeline", orders::timeline_fragment),
        get_route("/orders/{id}/live", live::order),
        get_route("/o/{id}", orders::old_link),
        get_route("/h/{id}", holders::holder_page),
        get_route("/balance", balance::balance_page),
        get_route("/inbox", inbox::inbox_page),
        get_route("/inbox/list", inbox::list_fragment),
        get_route("/inbox/live", live::inbox),
        post_route("/inbox/{id}", inbox::act),
        get_route("/wallet", wallet::wallet_page),
        get_route("/earnings", earnings::earnings_page),
        get_route("/reputation", reputation::reputation_page),
        post_route("/reputation", reputation::save_fields),
        get_route("/signup", auth::signup_page),
        post_route("/signup", auth::signup),
        get_route("/login", auth::login_page),
        post_route("/login", auth::login),
        post_route("/logout", auth::logout),
        get_route("/account", account::account_page),
        post_route("/account/profile", account::save_profile),
        post_route("/account/devices/revoke", account::revoke_device),
        post_route(
            "/account/devices/revoke-others",
            account::revoke_other_devices,
        ),
        post_route("/account/keys", account::create_key),
        post_route("/account/notifications", notify::save),
        get_route("/unsubscribe", unsubscribe::confirm_page),
        post_route("/unsubscribe", unsubscribe::unsubscribe),
        post_route("/account/keys/revoke", account::revoke_key),
        post_route("/account/passkeys/start", passkeys::add_start),
        post_route("/account/passkeys/finish", passkeys::add_finish),
        post_route("/account/passkeys/remove", passkeys::remove),
        post_route("/login/passkey/start", passkeys::login_start),
        post_route("/login/passkey/finish", passkeys::login_finish),
        get_route("/settings/webhooks", settings::webhooks_page),
        post_route("/settings/webhooks", settings::add_webhook),
        post_route("/settings/webhooks/{id}/{action}", settings::webhook_action),
        get_route("/settings/keys", settings::keys_page),
        post_route("/settings/keys/rotate", settings::rotate_key),
        get_route("/operator/disputes", operator::queue_page),
        get_route("/operator/disputes/{id}", operator::dispute_page),
        post_route("/operator/disputes/{id}", operator::resolve),
        post_route("/operator/disputes/{id}/messages", operator::message),
        post_route("/lang", i18n::switch_language),
        get_route("/openapi.json", crate::openapi_doc),
    ]
}

/// The method and path of every web route (pages, forms, fragments, streams
/// and `/openapi.json`): everything outside `/v1` that the OpenAPI document
/// does not list.
pub fn routes() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|r| (r.method, r.path)).collect()
}

/// The web routes (merged into the API router). Sign-up counts against the
/// same per-address registration limit as `POST /v1/accounts`.
pub fn router(registrations: Arc<crate::registration::RegistrationLimiter>) -> Router<AppState> {
    table()
        .into_iter()
        .fold(Router::new(), |r, w| r.route(w.path, w.handler))
        .layer(axum::Extension(registrations))
}

/// The web session token a request carries (not yet checked).
pub(crate) fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        // The last one, as the pages read cookies (`cookies`): the limiter
        // must count the session the page will use.
        .rfind(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// The error page of a request refused by the rate limit (429), in the
/// visitor's language, saying how long to wait.
pub(crate) fn rate_limited_page(
    exchange: Arc<symbolon_exchange::Exchange>,
    headers: &HeaderMap,
    retry_after_seconds: u64,
) -> Response {
    let w = Web::new(AppState { exchange }, headers);
    let n = i64::try_from(retry_after_seconds).unwrap_or(i64::MAX);
    auth::error_page(
        &w,
        StatusCode::TOO_MANY_REQUESTS,
        &w.tn("error-rate-limited", n),
    )
}

/// The 404 page of a path no route serves, for a browser.
pub(crate) fn not_found_page(
    exchange: Arc<symbolon_exchange::Exchange>,
    headers: &HeaderMap,
) -> Response {
    let w = Web::new(AppState { exchange }, headers);
    auth::error_page(&w, StatusCode::NOT_FOUND, &w.t("error-code-not_found"))
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

/// The parsing behind the web forms, as their handlers run it: a urlencoded
/// body to the API request it becomes, or the field and the (English)
/// message that refuse it. Pure, for the fuzz harnesses (`crates/fuzz`).
pub mod forms {
    use super::{catalog, demands, form, provider_passes, Lang};
    use axum::body::Bytes;
    use symbolon_api as api;

    /// A refused field and its message.
    pub type Refusal = (String, String);

    fn fields(body: &[u8]) -> std::collections::HashMap<String, String> {
        form(&Bytes::copy_from_slice(body))
    }

    /// `POST /demands/new`.
    pub fn demand(body: &[u8]) -> Result<api::CreateDemand, Refusal> {
        demands::parse(Lang::EnUs, &fields(body))
    }

    /// `POST /catalog` and `POST /catalog/{id}`.
    pub fn product(body: &[u8]) -> Result<api::CreateProduct, Refusal> {
        catalog::parse(
            Lang::EnUs,
            &catalog::ProductForm::posted(None, &fields(body)),
        )
    }

    /// `POST /passes/new`.
    pub fn pass(body: &[u8]) -> Result<api::CreatePass, Refusal> {
        provider_passes::parse(Lang::EnUs, &fields(body))
    }

    /// The cookies of a `Cookie` header, as every page reads them.
    pub fn cookies(header: &str) -> std::collections::HashMap<String, String> {
        let mut h = super::HeaderMap::new();
        if let Ok(v) = super::HeaderValue::from_str(header) {
            h.insert(super::COOKIE, v);
        }
        super::cookies(&h)
    }
}

/// A form POST: its request's [`Web`] and its fields (a repeated field: its
/// last value). Refused with 403 when it comes from another site.
struct FormPost {
    w: Web,
    f: HashMap<String, String>,
}

/// A form POST with every value of repeated fields (checkboxes), in order.
struct FormPairs {
    w: Web,
    pairs: Vec<(String, String)>,
}

/// The request's [`Web`] (with the client's address) and its body, unless
/// the request comes from another site.
async fn form_post(req: Request, state: &AppState) -> Result<(Web, Bytes), Response> {
    let mut w = Web::new(state.clone(), req.headers());
    w.ip = crate::client_ip::ClientIp::of(req.extensions()).map(crate::registration::key);
    if cross_site(req.headers(), &state.exchange.config().public_url) {
        return Err(auth::error_page(
            &w,
            StatusCode::FORBIDDEN,
            &w.t("error-cross-site"),
        ));
    }
    let body = Bytes::from_request(req, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok((w, body))
}

impl FromRequest<AppState> for FormPost {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (w, body) = form_post(req, state).await?;
        Ok(Self { w, f: form(&body) })
    }
}

impl FromRequest<AppState> for FormPairs {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (w, body) = form_post(req, state).await?;
        let pairs = form_urlencoded::parse(&body).into_owned().collect();
        Ok(Self { w, pairs })
    }
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    match url[start..].find('/') {
        Some(end) => &url[..start + end],
        None => url,
    }
}

/// Whether a POST comes from another site: by `Sec-Fetch-Site` (browsers
/// that send it), else by `Origin` (neither the public URL's nor the
/// `Host`'s). A request with neither (not from a browser) is not refused
/// here; its CSRF token still must be right.
fn cross_site(headers: &HeaderMap, public_url: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(site) = text(axum::http::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text(ORIGIN) else {
        return false;
    };
    let host = text(HOST).unwrap_or("");
    let same_host = origin
        .split_once("://")
        .is_some_and(|(_, h)| !host.is_empty() && h == host);
    !(origin == origin_of(public_url) || same_host)
}

/// One web request: the state, its cookies and its language.
struct Web {
    state: AppState,
    cookies: HashMap<String, String>,
    lang: Lang,
    user_agent: String,
    /// The client's address (as the registration limit counts it), on form posts.
    ip: Option<std::net::IpAddr>,
}

impl Web {
    fn new(state: AppState, headers: &HeaderMap) -> Self {
        let cookies = cookies(headers);
        let lang = Lang::of_request(&cookies, headers);
        let user_agent = headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Self {
            state,
            cookies,
            lang,
            user_agent,
            ip: None,
        }
    }

    /// Where a sign-in comes from, for the throttle and the devices list.
    fn client(&self) -> Client {
        Client {
            ip: self
                .ip
                .map_or_else(|| "unknown".to_string(), |ip| ip.to_string()),
            user_agent: self.user_agent.clone(),
        }
    }

    fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    fn tn(&self, key: &str, n: i64) -> String {
        self.lang.tn(key, n)
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
            roles: me.map(|a| a.roles.clone()).unwrap_or_default(),
        }
    }

    /// [`Web::signed_in`] for a console page of `role`: an account without
    /// the role gets the 403 page (naming the role it lacks), whatever it asks for.
    async fn signed_in_as(
        &self,
        here: &str,
        role: Role,
    ) -> Result<(Account, String, String), Response> {
        let (me, token, csrf) = self.signed_in(here).await?;
        if !me.has_role(role) {
            let role_name = self.t(&format!("role-name-{}", role_key(role)));
            let page = auth::error_page_for(
                self,
                &me,
                &csrf,
                StatusCode::FORBIDDEN,
                &self.lang.ta("error-lacks-role", &role_name),
            );
            return Err(page);
        }
        Ok((me, token, csrf))
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

    /// What a visitor may read of an error: internal errors are logged and
    /// replaced; in English, the exchange's own (specific) message; in
    /// other languages, the code's sentence from the catalogue
    /// (`errors.ftl`), naming the field when the error has one.
    fn public_message(&self, e: &ExchangeError) -> String {
        if e.code == ErrorCode::Internal {
            tracing::error!(error = %e, source = ?e.source, "internal error");
            return self.t("error-internal");
        }
        if self.lang == Lang::EnUs {
            return e.message.clone();
        }
        let sentence = self.t(&format!("error-code-{}", e.code.as_str()));
        match e
            .details
            .as_ref()
            .and_then(|d| d.get("field"))
            .and_then(|f| f.as_str())
        {
            Some(field) => format!("{sentence} ({field})"),
            None => sentence,
        }
    }

    fn exchange_error(&self, e: &ExchangeError) -> Response {
        auth::error_page(self, self.status_of(e), &self.public_message(e))
    }
}

/// A role's key in the catalogue (`role-name-<key>`).
fn role_key(role: Role) -> &'static str {
    match role {
        Role::Provider => "provider",
        Role::Holder => "holder",
        Role::Requester => "requester",
        Role::Operator => "operator",
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
    fn posts_from_other_sites_are_told_apart() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, HeaderValue::from_static(v));
            }
            m
        };
        let public = "https://symbolon.example/base";
        assert_eq!(origin_of(public), "https://symbolon.example");
        assert!(!cross_site(&h(&[]), public), "no browser headers");
        for ok in ["same-origin", "none"] {
            assert!(!cross_site(&h(&[("sec-fetch-site", ok)]), public));
        }
        for bad in ["cross-site", "same-site"] {
            assert!(cross_site(&h(&[("sec-fetch-site", bad)]), public));
        }
        assert!(!cross_site(
            &h(&[("origin", "https://symbolon.example")]),
            public
        ));
        assert!(!cross_site(
            &h(&[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080")
            ]),
            public
        ));
        assert!(cross_site(
            &h(&[
                ("origin", "https://evil.example"),
                ("host", "symbolon.example")
            ]),
            public
        ));
        assert!(cross_site(&h(&[("origin", "null")]), public));
    }

    /// Every error code has its sentence in the catalogue (both languages:
    /// `i18n`'s tests hold the two catalogues to the same keys).
    #[test]
    fn every_error_code_has_a_sentence() {
        let en = include_str!("../locales/en-US/errors.ftl");
        let zh = include_str!("../locales/zh-CN/errors.ftl");
        for code in ErrorCode::ALL {
            let key = format!("error-code-{} = ", code.as_str());
            assert!(en.contains(&key) && zh.contains(&key), "{key}");
        }
        assert_eq!(Lang::ZhCn.t("error-code-not_found"), "这里什么也没有。");
    }

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
