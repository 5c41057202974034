//! The demand form `/demands/new` and the requester's demands `/demands`.
//!
//! The form's fields are named as `POST /v1/demands`' (holder criteria
//! without the `holder.` prefix); rates are asked in percent and sent as
//! 0–1. A POST creates the demand through the same exchange service as the
//! API. A refusal for too few holders (`insufficient_holders`) is explained
//! in words — how many holders each criterion eliminated — with one button
//! per relaxation the exchange found, which resubmits the form with that
//! value. A bad field answers 422 with the form again, the message beside
//! the field and every input kept.

use super::{format, html, redirect, AppState, FormPost, Lang, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::{
    DEFAULT_MAX_HOLDERS, DEFAULT_MIN_HOLDERS, DEFAULT_TTL_SECONDS, MAX_MAX_HOLDERS,
    MAX_QUERY_CHARS, MIN_MIN_HOLDERS,
};
use symbolon_core::state::Role;
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;

/// The form's fields, in order (also what a relaxation button repeats).
const FIELDS: [&str; 12] = [
    "query",
    "category",
    "max_price",
    "currency",
    "min_positive_rate",
    "min_success_rate",
    "min_ratings",
    "fields",
    "min_holders",
    "max_holders",
    "ttl_seconds",
    "wait",
];

/// The currencies the form offers for the price cap.
const CURRENCIES: [&str; 5] = ["USD", "EUR", "GBP", "CNY", "JPY"];

/// The demand lifetimes the form offers (seconds).
const TTLS: [(u32, &str); 4] = [
    (300, "demand-ttl-5m"),
    (3600, "demand-ttl-1h"),
    (86_400, "demand-ttl-1d"),
    (604_800, "demand-ttl-7d"),
];

/// Why a demand was refused for too few holders, in words.
struct Explanation {
    summary: String,
    /// One line per criterion that eliminated holders.
    lines: Vec<String>,
    /// The passes closest to the item below the relevance floor: (pass id, how much of the query each covers).
    closest: Vec<(String, String)>,
    relaxations: Vec<Relax>,
}

/// One relaxation: its label and the form's values with it applied.
struct Relax {
    id: String,
    label: String,
    values: Vec<(&'static str, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "demand_new.html")]
struct NewTemplate {
    l: Layout,
    values: HashMap<String, String>,
    /// Field → message.
    errors: HashMap<String, String>,
    /// A message not about one field.
    error: Option<String>,
    explanation: Option<Explanation>,
    categories: Vec<String>,
    currencies: [&'static str; 5],
    ttls: Vec<(u32, String)>,
    max_query: usize,
    max_max_holders: u32,
    min_min_holders: u32,
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

    fn selected(&self, k: &str, v: &str) -> bool {
        self.value(k) == v
    }

    fn ttl_selected(&self, v: &u32) -> bool {
        self.value("ttl_seconds") == v.to_string()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "demands.html")]
struct ListTemplate {
    l: Layout,
    items: Vec<api::DemandSummary>,
    next: Option<String>,
}

impl ListTemplate {
    fn status(&self, s: &str) -> String {
        status_text(&self.l, s)
    }
}

/// A demand's status in words.
pub(super) fn status_text(l: &Layout, s: &str) -> String {
    l.t(match s {
        "waiting" => "demand-status-waiting",
        "open" => "demand-status-open",
        "closed" => "demand-status-closed",
        "accepted" => "demand-status-accepted",
        "expired" => "demand-status-expired",
        "cancelled" => "demand-status-cancelled",
        _ => "demand-status-unknown",
    })
}

/// What the form shows: its status (200 for a fresh form, 422 for one
/// with errors), values, errors and a refusal's explanation.
struct Shown {
    status: StatusCode,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    error: Option<String>,
    explanation: Option<Explanation>,
}

impl Shown {
    fn new(status: StatusCode, values: HashMap<String, String>) -> Self {
        Self {
            status,
            values,
            errors: HashMap::new(),
            error: None,
            explanation: None,
        }
    }
}

async fn show_form(w: &Web, me: &symbolon_store::Account, csrf: &str, s: Shown) -> Response {
    let Shown {
        status,
        values,
        errors,
        error,
        explanation,
    } = s;
    let categories = w
        .state
        .exchange
        .categories_in_use(200)
        .await
        .unwrap_or_default();
    let t = NewTemplate {
        l: w.layout(w.t("demand-new-title"), Some(me), csrf, "/demands/new"),
        values,
        errors,
        error,
        explanation,
        categories,
        currencies: CURRENCIES,
        ttls: TTLS.iter().map(|(s, k)| (*s, w.t(k))).collect(),
        max_query: MAX_QUERY_CHARS,
        max_max_holders: MAX_MAX_HOLDERS,
        min_min_holders: MIN_MIN_HOLDERS,
    };
    html(status, t, vec![])
}

/// `GET /demands/new[?query=…]`.
pub(super) async fn new_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let here = match q.get("query") {
        Some(query) => format!(
            "/demands/new?query={}",
            form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
        ),
        None => "/demands/new".to_string(),
    };
    let (me, _, csrf) = match w.signed_in_as(&here, Role::Requester).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut values: HashMap<String, String> = FIELDS
        .iter()
        .filter_map(|k| q.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    values
        .entry("min_holders".into())
        .or_insert_with(|| DEFAULT_MIN_HOLDERS.to_string());
    values
        .entry("max_holders".into())
        .or_insert_with(|| DEFAULT_MAX_HOLDERS.to_string());
    values
        .entry("ttl_seconds".into())
        .or_insert_with(|| DEFAULT_TTL_SECONDS.to_string());
    values
        .entry("currency".into())
        .or_insert_with(|| "USD".to_string());
    show_form(&w, &me, &csrf, Shown::new(StatusCode::OK, values)).await
}

/// The form's values as the API's request; a field's error otherwise.
pub(super) fn parse(
    l: Lang,
    f: &HashMap<String, String>,
) -> Result<api::CreateDemand, (String, String)> {
    let get = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let bad = |k: &str, key: &str| (k.to_string(), l.t(key));
    let number = |k: &str| -> Result<Option<f64>, (String, String)> {
        match get(k) {
            None => Ok(None),
            Some(v) => match v.trim_end_matches('%').trim().parse::<f64>() {
                Ok(n) if n.is_finite() && (0.0..=100.0).contains(&n) => Ok(Some(n / 100.0)),
                _ => Err(bad(k, "demand-err-percent")),
            },
        }
    };
    let whole = |k: &str| -> Result<Option<u64>, (String, String)> {
        match get(k) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| bad(k, "demand-err-whole")),
        }
    };
    let small = |k: &str| -> Result<Option<u32>, (String, String)> {
        whole(k)?
            .map(|n| u32::try_from(n).map_err(|_| bad(k, "demand-err-whole")))
            .transpose()
    };
    let query = get("query").ok_or_else(|| bad("query", "demand-err-query"))?;
    let max_price = get("max_price").map(|amount| api::Money {
        amount: amount.to_string(),
        currency: get("currency").unwrap_or("USD").to_string(),
    });
    let fields: Vec<String> = get("fields")
        .map(|v| {
            v.split([',', '，', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(api::CreateDemand {
        query: query.to_string(),
        category: get("category").map(str::to_string),
        max_price,
        holder: api::HolderCriteria {
            min_positive_rate: number("min_positive_rate")?,
            min_success_rate: number("min_success_rate")?,
            min_ratings: whole("min_ratings")?,
            fields: (!fields.is_empty()).then_some(fields),
        },
        min_holders: small("min_holders")?,
        max_holders: small("max_holders")?,
        ttl_seconds: small("ttl_seconds")?,
        wait: Some(get("wait").is_some()),
    })
}

/// The form field an exchange error names (`holder.min_ratings` → `min_ratings`).
fn field_of(e: &ExchangeError) -> Option<String> {
    let field = e.details.as_ref()?.get("field")?.as_str()?;
    let field = field.strip_prefix("holder.").unwrap_or(field);
    let field = field.split(['.', '[']).next().unwrap_or(field);
    FIELDS.contains(&field).then(|| field.to_string())
}

/// A rate (0–1) as the form's percent, rounded down to 0.01 so that the
/// relaxed threshold still admits the holder whose rate it is.
fn percent_value(rate: f64) -> String {
    let p = (rate * 10_000.0).floor() / 100.0;
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The refusal's `details` in words, with the relaxations as resubmissions.
fn explain(w: &Web, details: &serde_json::Value, f: &HashMap<String, String>) -> Explanation {
    let n = |k: &str| details.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let summary = format!(
        "{} {} {}",
        w.lang
            .tn("demand-insufficient-supply", n("holders_with_supply")),
        w.lang
            .tn("demand-insufficient-matching", n("holders_matching_item")),
        w.lang.tn("demand-insufficient-qualified", n("qualified")),
    ) + " "
        + &w.lang.tn("demand-insufficient-need", n("min_holders"));
    let mut lines = Vec::new();
    if let Some(elim) = details.get("eliminated").and_then(|v| v.as_object()) {
        for (name, count) in elim {
            let count = count.as_u64().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let what = criterion_name(w, name);
            lines.push(format!(
                "{what}: {}",
                w.lang.tn("demand-eliminated", count as i64)
            ));
        }
    }
    let closest = details
        .get("closest")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    let id = c.get("pass_id")?.as_str()?.to_string();
                    let pct = (c.get("coverage")?.as_f64()? * 100.0).round();
                    Some((id, w.lang.ta("demand-closest-coverage", &format!("{pct}"))))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut relaxations = Vec::new();
    if let Some(rel) = details.get("relaxations").and_then(|v| v.as_object()) {
        for (name, r) in rel {
            let to = r.get("to").unwrap_or(&serde_json::Value::Null);
            let qualified = r.get("qualified").and_then(|v| v.as_u64()).unwrap_or(0);
            let mut changes: Vec<(&'static str, String)> = Vec::new();
            let what = match (name.as_str(), to) {
                (_, serde_json::Value::Null) => {
                    let Some(field) = FIELDS.iter().find(|k| **k == name.as_str()) else {
                        continue;
                    };
                    changes.push((*field, String::new()));
                    if *field == "max_price" {
                        changes.push(("currency", String::new()));
                    }
                    w.lang.ta("demand-relax-drop", &criterion_name(w, name))
                }
                ("min_positive_rate", v) | ("min_success_rate", v) => {
                    let Some(rate) = v.as_f64() else { continue };
                    let field = if name == "min_positive_rate" {
                        "min_positive_rate"
                    } else {
                        "min_success_rate"
                    };
                    changes.push((field, percent_value(rate)));
                    let shown = format::percent(w.lang, (rate * 100.0).floor() / 100.0);
                    w.lang.ta(&format!("demand-relax-{name}"), &shown)
                }
                ("min_ratings", v) => {
                    let Some(c) = v.as_u64() else { continue };
                    changes.push(("min_ratings", c.to_string()));
                    w.lang.ta("demand-relax-min_ratings", &c.to_string())
                }
                ("max_price", v) => {
                    let (Some(amount), Some(currency)) = (
                        v.get("amount").and_then(|a| a.as_str()),
                        v.get("currency").and_then(|a| a.as_str()),
                    ) else {
                        continue;
                    };
                    changes.push(("max_price", amount.to_string()));
                    changes.push(("currency", currency.to_string()));
                    let m = api::Money {
                        amount: amount.into(),
                        currency: currency.into(),
                    };
                    w.lang
                        .ta("demand-relax-max_price", &format::money(w.lang, &m))
                }
                ("category", v) => {
                    let Some(c) = v.as_str() else { continue };
                    changes.push(("category", c.to_string()));
                    w.lang.ta("demand-relax-category", c)
                }
                _ => continue,
            };
            let values = FIELDS
                .iter()
                .map(|k| {
                    let v = changes
                        .iter()
                        .find(|(c, _)| c == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| f.get(*k).cloned().unwrap_or_default());
                    (*k, v)
                })
                .filter(|(_, v)| !v.is_empty())
                .collect();
            relaxations.push(Relax {
                id: format!("relax-{name}"),
                label: format!(
                    "{what} → {}",
                    w.lang.tn("demand-relax-holders", qualified as i64)
                ),
                values,
            });
        }
    }
    Explanation {
        summary,
        lines,
        closest,
        relaxations,
    }
}

fn criterion_name(w: &Web, name: &str) -> String {
    w.t(match name {
        "query" => "demand-crit-query",
        "relevance" => "demand-crit-relevance",
        "category" => "demand-crit-category",
        "max_price" => "demand-crit-max_price",
        "min_positive_rate" => "demand-crit-min_positive_rate",
        "min_success_rate" => "demand-crit-min_success_rate",
        "min_ratings" => "demand-crit-min_ratings",
        "fields" => "demand-crit-fields",
        _ => "demand-crit-other",
    })
}

/// `POST /demands/new`: creates the demand and goes to its page.
pub(super) async fn create(FormPost { w, f }: FormPost) -> Response {
    let (me, token, csrf) = match w.signed_in("/demands/new").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let values: HashMap<String, String> = FIELDS
        .iter()
        .filter_map(|k| f.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let msg = w.t("error-form-foreign");
        let shown = Shown {
            error: Some(msg),
            ..Shown::new(StatusCode::FORBIDDEN, values)
        };
        return show_form(&w, &me, &csrf, shown).await;
    }
    let req = match parse(w.lang, &f) {
        Ok(r) => r,
        Err((field, msg)) => {
            let shown = Shown {
                errors: HashMap::from([(field, msg)]),
                ..Shown::new(StatusCode::UNPROCESSABLE_ENTITY, values)
            };
            return show_form(&w, &me, &csrf, shown).await;
        }
    };
    match w.state.exchange.create_demand(&me, &req).await {
        Ok(d) => redirect(&format!("/demands/{}", d.id), vec![]),
        Err(e) if e.code == ErrorCode::InsufficientHolders => {
            let explanation = e.details.as_ref().map(|d| explain(&w, d, &f));
            let msg = w.t("demand-insufficient");
            let shown = Shown {
                error: Some(msg),
                explanation,
                ..Shown::new(StatusCode::UNPROCESSABLE_ENTITY, values)
            };
            show_form(&w, &me, &csrf, shown).await
        }
        Err(e) => match field_of(&e) {
            Some(field) => {
                let msg = format!("{} {}", w.t("demand-err-invalid"), w.public_message(&e));
                let shown = Shown {
                    errors: HashMap::from([(field, msg)]),
                    ..Shown::new(StatusCode::UNPROCESSABLE_ENTITY, values)
                };
                show_form(&w, &me, &csrf, shown).await
            }
            None => {
                let msg = w.public_message(&e);
                let shown = Shown {
                    error: Some(msg),
                    ..Shown::new(w.status_of(&e), values)
                };
                show_form(&w, &me, &csrf, shown).await
            }
        },
    }
}

/// `GET /demands[?after=…]`: the requester's demands, newest first.
pub(super) async fn list_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in("/demands").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let list = match w
        .state
        .exchange
        .demands(&me, q.get("after").map(String::as_str), None)
        .await
    {
        Ok(l) => l,
        Err(e) => return w.exchange_error(&e),
    };
    let t = ListTemplate {
        l: w.layout(w.t("demands-title"), Some(&me), &csrf, "/demands"),
        items: list.items,
        next: list.next,
    };
    html(StatusCode::OK, t, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_rates_round_down_to_a_hundredth_of_a_percent() {
        assert_eq!(percent_value(0.8333333), "83.33");
        assert_eq!(percent_value(0.5), "50");
        assert_eq!(percent_value(1.0), "100");
        assert!(percent_value(0.8333333).parse::<f64>().unwrap() / 100.0 <= 0.8333333);
    }
}
