//! A demand's page `/demands/{id}`: the holders contacted and why, and the
//! offers compared side by side — holder and public reputation, price, the
//! pass as the server checks it now, the note — each with Accept and, once
//! accepted, Order and Order & pay (one click with the saved address and
//! card; otherwise a short first-time form that saves them and orders).
//!
//! The holders contacted and the offers are also served alone
//! (`/demands/{id}/offers`), which
//! `live.js` re-fetches when `/demands/{id}/live` says something changed;
//! without JavaScript the page's Refresh link does the same.
//! Actions are form POSTs to `/demands/{id}/offers/{offer}` (`do` = `accept`,
//! `order`, `order_pay`), answered with a 303 to the demand or the new order.

use super::{html, redirect, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_store::Account;

/// An offer as the page shows it.
struct Card {
    o: api::Offer,
    /// The pass is usable now (active: signed, in validity, not revoked).
    pass_ok: bool,
    /// Its status in words.
    pass_status: String,
    /// The order placed from it, if any.
    order_id: Option<String>,
}

/// What the offers section needs (the page and the fragment share it).
struct Offers {
    d: api::Demand,
    cards: Vec<Card>,
    /// The requester saved an address and a card: ordering is one click.
    profile_ready: bool,
    /// An offer may still be accepted.
    can_accept: bool,
    /// One line per holder contacted: its status and why it was chosen.
    contacted: Vec<(api::Contacted, String, String)>,
    /// The largest quantity one order may ask for.
    max_quantity: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "demand.html")]
struct DemandTemplate {
    l: Layout,
    x: Offers,
    status: String,
    error: Option<String>,
    values: HashMap<String, String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "demand_offers.html")]
struct OffersTemplate {
    l: Layout,
    x: Offers,
    values: HashMap<String, String>,
}

impl DemandTemplate {
    fn value(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
}

impl OffersTemplate {
    fn value(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }
}

fn pass_status(w: &Web, status: &str) -> String {
    w.t(match status {
        "active" => "offer-pass-valid",
        "revoked" => "pass-why-revoked",
        "expired" => "pass-why-expired",
        "not_yet_valid" => "pass-why-not-yet-valid",
        _ => "pass-why-invalid",
    })
}

/// The demand (the exchange checks it is the requester's) and its offers.
async fn offers_of(w: &Web, me: &Account, id: &str) -> Result<Offers, Response> {
    let ex = &w.state.exchange;
    let d = ex.demand(me, id).await.map_err(|e| w.exchange_error(&e))?;
    let orders = if d.offers.iter().any(|o| o.status == "accepted") {
        ex.orders(me, Some("requester"), None, Some(100))
            .await
            .map(|l| l.items)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut cards = Vec::new();
    for o in &d.offers {
        let status = match ex.pass(&o.pass.id).await {
            Ok(p) => p.status,
            Err(_) => "invalid".to_string(),
        };
        cards.push(Card {
            pass_ok: status == "active",
            pass_status: pass_status(w, &status),
            order_id: orders
                .iter()
                .find(|x| x.offer_id.as_deref() == Some(o.id.as_str()))
                .map(|x| x.id.clone()),
            o: o.clone(),
        });
    }
    let profile_ready = ex
        .requester_profile(me)
        .await
        .is_ok_and(|p| p.ship_to.is_some() && p.payment_method.is_some());
    let can_accept =
        d.accepted_offer_id.is_none() && matches!(d.status.as_str(), "open" | "closed");
    let contacted = d
        .contacted
        .iter()
        .map(|c| (c.clone(), contacted_status(w, &c.status), why(w, c)))
        .collect();
    Ok(Offers {
        contacted,
        d,
        cards,
        profile_ready,
        can_accept,
        max_quantity: symbolon_core::limits::MAX_ORDER_QUANTITY,
    })
}

/// Why a holder was contacted, in words.
fn why(w: &Web, c: &api::Contacted) -> String {
    let l = w.lang;
    let pct = |r: f64| super::format::percent(l, r);
    let mut parts = vec![
        l.ta("offer-why-relevance", &pct(c.why.relevance)),
        l.ta("offer-why-positive", &pct(c.why.positive_lower_bound)),
        l.ta("offer-why-success", &pct(c.why.success_lower_bound)),
    ];
    if !c.why.matched_fields.is_empty() {
        parts.push(l.ta("offer-why-fields", &c.why.matched_fields.join(", ")));
    }
    parts.join(" · ")
}

fn contacted_status(w: &Web, s: &str) -> String {
    w.t(match s {
        "pending" => "contacted-pending",
        "offered" => "contacted-offered",
        "declined" => "contacted-declined",
        "expired" => "contacted-expired",
        "withdrawn" => "contacted-withdrawn",
        _ => "contacted-other",
    })
}

async fn show_demand(
    w: &Web,
    id: &str,
    status: StatusCode,
    error: Option<String>,
    values: HashMap<String, String>,
) -> Response {
    let here = format!("/demands/{id}");
    let (me, _, csrf) = match w.signed_in(&here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let x = match offers_of(w, &me, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let l = w.layout(x.d.item.query.clone(), Some(&me), &csrf, &here);
    let t = DemandTemplate {
        status: super::demands::status_text(&l, &x.d.status),
        l,
        x,
        error,
        values,
    };
    html(status, t, vec![])
}

/// `GET /demands/{id}`.
pub(super) async fn demand_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    show_demand(&w, &id, StatusCode::OK, None, HashMap::new()).await
}

/// `GET /demands/{id}/offers`: the offers section alone (for `live.js`).
pub(super) async fn offers_fragment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let here = format!("/demands/{id}");
    let (me, _, csrf) = match w.signed_in(&here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let x = match offers_of(&w, &me, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = OffersTemplate {
        l: w.layout(String::new(), Some(&me), &csrf, &here),
        x,
        values: HashMap::new(),
    };
    html(StatusCode::OK, t, vec![])
}

/// `POST /demands/{id}/offers/{offer}` (`do` = `accept`, `order`, `order_pay`).
pub(super) async fn act(
    Path((id, offer)): Path<(String, String)>,
    FormPost { w, f }: FormPost,
) -> Response {
    let here = format!("/demands/{id}");
    let (me, token, _) = match w.signed_in(&here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let msg = w.t("error-form-foreign");
        return show_demand(&w, &id, StatusCode::FORBIDDEN, Some(msg), f).await;
    }
    let ex = w.state.exchange.clone();
    // The offer must be one of this demand's.
    match ex.demand(&me, &id).await {
        Ok(d) if d.offers.iter().any(|o| o.id == offer) => {}
        Ok(_) => return w.exchange_error(&symbolon_exchange::ExchangeError::not_found("offer")),
        Err(e) => return w.exchange_error(&e),
    }
    let fail = |e: symbolon_exchange::ExchangeError| {
        let w = &w;
        let id = &id;
        let f = f.clone();
        async move {
            let status = w.status_of(&e);
            show_demand(w, id, status, Some(w.public_message(&e)), f).await
        }
    };
    match f.get("do").map(String::as_str) {
        Some("accept") => match ex.accept_offer(&me, &offer).await {
            Ok(_) => redirect(&format!("{here}#offer-{offer}"), vec![]),
            Err(e) => fail(e).await,
        },
        Some(action @ ("order" | "order_pay")) => {
            // The first-time form: save what was given, so the next order is one click.
            if let Err(e) = super::pass::save_short_form(&ex, &me, &f).await {
                return fail(e).await;
            }
            let quantity = match f.get("quantity").map(|q| q.trim()) {
                None | Some("") => 1,
                Some(q) => match q.parse::<i64>() {
                    Ok(n) => n,
                    Err(_) => {
                        let msg = w.t("pass-quantity-whole");
                        return show_demand(&w, &id, StatusCode::BAD_REQUEST, Some(msg), f).await;
                    }
                },
            };
            let req = api::CreateOrder {
                offer_id: offer.clone(),
                quantity,
                pay: action == "order_pay",
                ship_to: None,
            };
            match ex.create_order(&me, &req).await {
                Ok(o) => redirect(&format!("/orders/{}", o.id), vec![]),
                Err(e) => fail(e).await,
            }
        }
        _ => {
            let msg = w.t("pass-choose-action");
            show_demand(&w, &id, StatusCode::BAD_REQUEST, Some(msg), f).await
        }
    }
}

/// `POST /demands/{id}` (`do` = `cancel_demand`): cancels a waiting, open
/// or closed demand (its pending requests are withdrawn).
pub(super) async fn cancel(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let here = format!("/demands/{id}");
    let (me, token, _) = match w.signed_in(&here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let msg = w.t("error-form-foreign");
        return show_demand(&w, &id, StatusCode::FORBIDDEN, Some(msg), f).await;
    }
    if f.get("do").map(String::as_str) != Some("cancel_demand") {
        let msg = w.t("pass-choose-action");
        return show_demand(&w, &id, StatusCode::BAD_REQUEST, Some(msg), f).await;
    }
    match w.state.exchange.cancel_demand(&me, &id).await {
        Ok(_) => redirect(&here, vec![]),
        Err(e) if e.code == symbolon_core::ErrorCode::Forbidden => w.exchange_error(&e),
        Err(e) if e.code == symbolon_core::ErrorCode::NotFound => w.exchange_error(&e),
        Err(e) => {
            let status = w.status_of(&e);
            let msg = w.public_message(&e);
            show_demand(&w, &id, status, Some(msg), f).await
        }
    }
}
