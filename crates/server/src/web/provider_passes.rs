//! The provider's passes: the issue form `/passes/new` (`POST` issues) and a
//! pass's admin page `/passes/{id}` — its terms and revocation status, its
//! holders and orders, whether a sealed secret is attached (sealing runs on
//! the provider's machine: the page gives the CLI command), the holder
//! search (`?q=`, by name prefix or id, with each holder's public
//! reputation) with a grant button per holder (`POST /passes/{id}/grant`),
//! and revocation behind a confirmation box (`POST /passes/{id}/revoke`).
//! The public pass page stays `/p/{id}` (`pass.rs`).
//!
//! The forms' fields are named as the API's (`product_id`, `mode`, `units`,
//! `commission_bps`, `valid_until`; `holder_id`, `units`); the exchange
//! checks them as for the API, and a bad one answers 422 with the message
//! beside the field.

use super::{html, redirect, AppState, FormPost, Lang, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::{MAX_COMMISSION_BPS, MAX_PAGE_LIMIT};
use symbolon_core::state::Role;
use symbolon_exchange::{ExchangeError, PassAdmin};
use symbolon_store::Account;

/// The issue form's fields.
const FIELDS: [&str; 5] = [
    "product_id",
    "mode",
    "units",
    "commission_bps",
    "valid_until",
];

#[derive(Template, WebTemplate)]
#[template(path = "pass_new.html")]
struct NewTemplate {
    l: Layout,
    products: Vec<api::Product>,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    error: Option<String>,
    max_commission: i64,
}

impl NewTemplate {
    fn value(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    fn invalid(&self, k: &str) -> bool {
        self.errors.contains_key(k)
    }

    fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or("")
    }

    fn is_unique(&self) -> bool {
        self.value("mode") == "unique"
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "pass_admin.html")]
struct AdminTemplate {
    l: Layout,
    a: PassAdmin,
    sealed: bool,
    unique: bool,
    /// The holder search: its text and results (`None`: no search).
    q: String,
    found: Option<Vec<api::HolderPublic>>,
    /// Field → message (`q`, `units`, `confirm`).
    errors: HashMap<String, String>,
    error: Option<String>,
}

impl AdminTemplate {
    fn invalid(&self, k: &str) -> bool {
        self.errors.contains_key(k)
    }

    fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or("")
    }

    fn rate(&self, r: &Option<f64>) -> String {
        match r {
            Some(r) => self.l.pct(*r),
            None => "—".to_string(),
        }
    }

    fn units_text(&self, n: &Option<i64>) -> String {
        n.map_or_else(|| "—".to_string(), |n| self.l.num(n))
    }
}

async fn show_new(
    w: &Web,
    me: &Account,
    csrf: &str,
    status: StatusCode,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    error: Option<String>,
) -> Response {
    let products = match w
        .state
        .exchange
        .products(me, None, Some(MAX_PAGE_LIMIT))
        .await
    {
        Ok(p) => p
            .items
            .into_iter()
            .filter(|p| p.archived_at.is_none())
            .collect(),
        Err(e) => return w.exchange_error(&e),
    };
    let t = NewTemplate {
        l: w.layout(w.t("pass-new-title"), Some(me), csrf, "/passes/new"),
        products,
        values,
        errors,
        error,
        max_commission: MAX_COMMISSION_BPS,
    };
    html(status, t, vec![])
}

/// `GET /passes/new[?product_id=…]`.
pub(super) async fn new_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/passes/new", Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut values = HashMap::new();
    if let Some(p) = q.get("product_id") {
        values.insert("product_id".to_string(), p.clone());
    }
    values.insert("mode".to_string(), "shareable".to_string());
    values.insert("commission_bps".to_string(), "1000".to_string());
    show_new(&w, &me, &csrf, StatusCode::OK, values, HashMap::new(), None).await
}

/// A validity end as the API's RFC 3339 time: a date (`YYYY-MM-DD`, from
/// the date input) means the end of that day (UTC).
fn valid_until(v: &str) -> String {
    if v.len() == 10 && !v.contains('T') {
        format!("{v}T23:59:59Z")
    } else {
        v.to_string()
    }
}

/// The form as the API's request; a field's message otherwise.
pub(super) fn parse(
    l: Lang,
    f: &HashMap<String, String>,
) -> Result<api::CreatePass, (String, String)> {
    let get = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let bad = |k: &str, key: &str| (k.to_string(), l.t(key));
    let mode = match get("mode") {
        Some("unique") => api::PassMode::Unique,
        Some("shareable") => api::PassMode::Shareable,
        _ => return Err(bad("mode", "pass-err-mode")),
    };
    let units = match (mode, get("units")) {
        (api::PassMode::Unique, Some(u)) => Some(
            u.parse::<i64>()
                .map_err(|_| bad("units", "catalog-err-whole"))?,
        ),
        (api::PassMode::Unique, None) => return Err(bad("units", "pass-err-units")),
        (api::PassMode::Shareable, _) => None,
    };
    let commission_bps = get("commission_bps")
        .unwrap_or("0")
        .parse::<i64>()
        .map_err(|_| bad("commission_bps", "catalog-err-whole"))?;
    Ok(api::CreatePass {
        product_id: get("product_id")
            .ok_or_else(|| bad("product_id", "pass-err-product"))?
            .to_string(),
        mode,
        units,
        commission_bps,
        valid_until: get("valid_until").map(valid_until),
    })
}

fn field_of(e: &ExchangeError, fields: &[&str]) -> Option<String> {
    let field = e.details.as_ref()?.get("field")?.as_str()?;
    let head = field.split(['.', '[']).next().unwrap_or(field);
    fields.contains(&head).then(|| head.to_string())
}

/// `POST /passes/new`: issues the pass.
pub(super) async fn issue(FormPost { w, f }: FormPost) -> Response {
    let (me, token, csrf) = match w.signed_in_as("/passes/new", Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let values: HashMap<String, String> = FIELDS
        .iter()
        .filter_map(|k| f.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    let mut errors = HashMap::new();
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let msg = w.t("error-form-foreign");
        let status = StatusCode::FORBIDDEN;
        return show_new(&w, &me, &csrf, status, values, errors, Some(msg)).await;
    }
    let req = match parse(w.lang, &f) {
        Ok(r) => r,
        Err((k, msg)) => {
            errors.insert(k, msg);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show_new(&w, &me, &csrf, status, values, errors, None).await;
        }
    };
    match w.state.exchange.create_pass(&me, &req).await {
        Ok(p) => redirect(&format!("/passes/{}", p.id), vec![]),
        Err(e) => {
            let msg = w.public_message(&e);
            match field_of(&e, &FIELDS) {
                Some(k) => {
                    errors.insert(k, msg);
                    let status = StatusCode::UNPROCESSABLE_ENTITY;
                    show_new(&w, &me, &csrf, status, values, errors, None).await
                }
                None => {
                    let status = w.status_of(&e);
                    show_new(&w, &me, &csrf, status, values, errors, Some(msg)).await
                }
            }
        }
    }
}

/// What the admin page shows beyond the pass.
#[derive(Default)]
struct Extra {
    q: String,
    errors: HashMap<String, String>,
    error: Option<String>,
}

async fn show_admin(w: &Web, id: &str, status: StatusCode, x: Extra) -> Response {
    let here = format!("/passes/{id}");
    let (me, _, csrf) = match w.signed_in_as(&here, Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ex = &w.state.exchange;
    let a = match ex.pass_admin(&me, id).await {
        Ok(a) => a,
        Err(e) => return w.exchange_error(&e),
    };
    let mut errors = x.errors;
    let mut status = status;
    let found = if x.q.trim().is_empty() {
        None
    } else {
        match ex.search_holders(&me, &x.q).await {
            Ok(f) => Some(f),
            Err(e) => {
                errors.insert("q".into(), w.public_message(&e));
                status = StatusCode::UNPROCESSABLE_ENTITY;
                None
            }
        }
    };
    let sealed = ex.pass_seal(&a.pass.id).await.is_ok();
    let t = AdminTemplate {
        l: w.layout(a.pass.title.clone(), Some(&me), &csrf, &here),
        unique: a.pass.mode == api::PassMode::Unique,
        sealed,
        q: x.q,
        found,
        errors,
        error: x.error,
        a,
    };
    html(status, t, vec![])
}

/// `GET /passes/{id}[?q=…]`: the pass's admin page (and a holder search).
pub(super) async fn admin_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let extra = Extra {
        q: q.get("q").cloned().unwrap_or_default(),
        ..Extra::default()
    };
    show_admin(&w, &id, StatusCode::OK, extra).await
}

/// `POST /passes/{id}/grant`: grants the pass to `holder_id` (`units` of a unique pass).
pub(super) async fn grant(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let here = format!("/passes/{id}");
    let (me, token, _) = match w.signed_in_as(&here, Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut x = Extra {
        q: f.get("q").cloned().unwrap_or_default(),
        ..Extra::default()
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        x.error = Some(w.t("error-form-foreign"));
        return show_admin(&w, &id, StatusCode::FORBIDDEN, x).await;
    }
    let units = match f.get("units").map(|u| u.trim()).filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => match u.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                x.errors.insert("units".into(), w.t("catalog-err-whole"));
                return show_admin(&w, &id, StatusCode::UNPROCESSABLE_ENTITY, x).await;
            }
        },
    };
    let req = api::CreateGrant {
        holder_id: f.get("holder_id").cloned().unwrap_or_default(),
        units,
    };
    match w.state.exchange.grant(&me, &id, &req).await {
        Ok(_) => redirect(&format!("{here}#holders"), vec![]),
        Err(e) => {
            let msg = w.public_message(&e);
            match field_of(&e, &["units", "holder_id"]) {
                Some(k) => {
                    x.errors.insert(k, msg);
                    show_admin(&w, &id, StatusCode::UNPROCESSABLE_ENTITY, x).await
                }
                None => {
                    x.error = Some(msg);
                    show_admin(&w, &id, w.status_of(&e), x).await
                }
            }
        }
    }
}

/// `POST /passes/{id}/revoke`: revokes the pass once `confirm` is ticked.
pub(super) async fn revoke(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let here = format!("/passes/{id}");
    let (me, token, _) = match w.signed_in_as(&here, Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut x = Extra::default();
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        x.error = Some(w.t("error-form-foreign"));
        return show_admin(&w, &id, StatusCode::FORBIDDEN, x).await;
    }
    if f.get("confirm").map(String::as_str) != Some("yes") {
        x.errors.insert("confirm".into(), w.t("pass-err-confirm"));
        return show_admin(&w, &id, StatusCode::UNPROCESSABLE_ENTITY, x).await;
    }
    match w.state.exchange.revoke_pass(&me, &id).await {
        Ok(_) => redirect(&here, vec![]),
        Err(e) => {
            x.error = Some(w.public_message(&e));
            show_admin(&w, &id, w.status_of(&e), x).await
        }
    }
}
