//! Orders: the requester's list `/orders` and the order page `/orders/{id}`
//! (`/o/{id}`, the old link, redirects 301): what was ordered, the payment
//! as the viewer may see it, the status timeline (placed, paid, shipped,
//! delivered, cancellations, refunds, returns, disputes) and the actions the
//! lifecycle allows the requester now — `OrderStatus::check` against the
//! one table, `ORDER_TRANSITIONS`, decides which buttons appear: pay,
//! cancel, confirm delivery, request a return, open a dispute (and follow
//! and answer its messages), and rate the holder once that is allowed.
//!
//! The timeline is also served alone (`/orders/{id}/timeline`) for
//! `live.js`, woken by `/orders/{id}/live`. Actions are form POSTs to
//! `/orders/{id}` (`do` = `pay`, `cancel`, `confirm_delivery`,
//! `request_return`, `open_dispute`, `message`, `rate`), answered 303.
//!
//! The provider's side (its list of orders to ship, live; its actions on
//! the order page) is in `provider_orders.rs`.

use super::provider_orders::{self, Actions};
use super::{format, html, redirect, AppState, FormPost, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::state::{Actor, OrderAction, OrderStatus};
use symbolon_exchange::ExchangeError;
use symbolon_store::{Account, HolderReview};

/// One step of the timeline: its status (the `data-status`), when, and what.
struct Step {
    status: &'static str,
    at: String,
    text: String,
}

/// What the timeline fragment and the page share.
struct View {
    order: api::Order,
    steps: Vec<Step>,
    dispute: Option<api::Dispute>,
    /// The viewer is the order's requester (only it gets actions).
    buyer: bool,
    can_pay: bool,
    can_cancel: bool,
    can_confirm: bool,
    can_return: bool,
    can_dispute: bool,
    can_rate: bool,
    /// The requester's rating of the holder, once given.
    rating: Option<HolderReview>,
    /// The pass carries a sealed secret, opened on the buyer's machine.
    sealed: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "order.html")]
struct OrderTemplate {
    l: Layout,
    v: View,
    headline: String,
    product_title: String,
    /// "assigned when paid": a unique pass's order before payment.
    unit_pending: bool,
    refunded: bool,
    /// The payment row: its element id and its text.
    payment_id: &'static str,
    payment: String,
    error: Option<String>,
    /// The order's provider's actions (`None` for anyone else).
    provider: Option<Actions>,
}

#[derive(Template, WebTemplate)]
#[template(path = "order_timeline.html")]
struct TimelineTemplate {
    l: Layout,
    v: View,
}

#[derive(Template, WebTemplate)]
#[template(path = "orders.html")]
struct ListTemplate {
    l: Layout,
    items: Vec<api::Order>,
    next: Option<String>,
}

impl ListTemplate {
    fn status(&self, s: &str) -> String {
        self.l.t(headline_key(s))
    }
}

fn headline_key(status: &str) -> &'static str {
    match status {
        "paid" => "order-headline-paid",
        "shipped" => "order-headline-shipped",
        "delivered" => "order-headline-delivered",
        "cancelled" => "order-headline-cancelled",
        "refunded" => "order-headline-refunded",
        "expired" => "order-headline-expired",
        _ => "order-headline-placed",
    }
}

/// The timeline, oldest first, from the order's own times.
fn steps(w: &Web, o: &api::Order, dispute: Option<&api::Dispute>) -> Vec<Step> {
    let l = w.lang;
    let mut s = vec![Step {
        status: "placed",
        at: o.created_at.clone(),
        text: l.t("timeline-placed"),
    }];
    if let Some(at) = &o.paid_at {
        s.push(Step {
            status: "paid",
            at: at.clone(),
            text: l.ta("timeline-paid", &format::money(l, &o.total)),
        });
    }
    if let Some(at) = &o.shipped_at {
        let text = match &o.tracking {
            Some(t) => l.ta("timeline-shipped-tracking", t),
            None => l.t("timeline-shipped"),
        };
        s.push(Step {
            status: "shipped",
            at: at.clone(),
            text,
        });
    }
    if let Some(at) = &o.delivered_at {
        s.push(Step {
            status: "delivered",
            at: at.clone(),
            text: l.t("timeline-delivered"),
        });
    }
    if let Some(rs) = &o.return_status {
        s.push(Step {
            status: "return",
            at: String::new(),
            text: l.t(match rs.as_str() {
                "requested" => "timeline-return-requested",
                "accepted" => "timeline-return-accepted",
                "refused" => "timeline-return-refused",
                _ => "timeline-return-refunded",
            }),
        });
    }
    if let Some(d) = dispute {
        s.push(Step {
            status: "dispute",
            at: d.created_at.clone(),
            text: l.t("timeline-dispute-opened"),
        });
        if let Some(at) = &d.resolved_at {
            s.push(Step {
                status: "dispute_closed",
                at: at.clone(),
                text: l.t(if d.status == "resolved" {
                    "timeline-dispute-resolved"
                } else {
                    "timeline-dispute-rejected"
                }),
            });
        }
    }
    if let Some(at) = &o.cancelled_at {
        s.push(Step {
            status: "cancelled",
            at: at.clone(),
            text: match &o.cancel_reason {
                Some(r) => l.ta("timeline-cancelled-because", r),
                None => l.t("timeline-cancelled"),
            },
        });
    }
    if format::positive(&o.refunded_total) && o.cancelled_at.is_none() {
        s.push(Step {
            status: "refunded",
            at: String::new(),
            text: l.ta("timeline-refunded", &format::money(l, &o.refunded_total)),
        });
    }
    if o.status == "expired" {
        s.push(Step {
            status: "expired",
            at: o.pay_by.clone().unwrap_or_default(),
            text: l.t("timeline-expired"),
        });
    }
    if let Some(at) = &o.settled_at {
        s.push(Step {
            status: "settled",
            at: at.clone(),
            text: l.t("timeline-settled"),
        });
    }
    s
}

async fn view_of(w: &Web, me: &Account, id: &str) -> Result<View, Response> {
    let ex = &w.state.exchange;
    let order = ex.order(me, id).await.map_err(|e| w.exchange_error(&e))?;
    let buyer = order.requester_id == me.id;
    let dispute = match &order.dispute_id {
        Some(d) => ex.dispute(me, d).await.ok(),
        None => None,
    };
    let status = OrderStatus::parse(&order.status);
    let allowed =
        |a: OrderAction| buyer && status.is_some_and(|s| s.check(a, Actor::Requester).is_ok());
    let rating = match (&order.offer_id, buyer) {
        (Some(offer), true) => ex.offer_rating(me, offer).await.ok().flatten(),
        _ => None,
    };
    let dispute_closed = dispute.as_ref().is_some_and(|d| d.status != "open");
    let can_rate = buyer
        && order.offer_id.is_some()
        && rating.is_none()
        && (order.status == "delivered" || dispute_closed);
    let sealed = ex.pass_seal(&order.pass_id).await.is_ok();
    Ok(View {
        steps: steps(w, &order, dispute.as_ref()),
        can_pay: allowed(OrderAction::Pay),
        can_cancel: allowed(OrderAction::Cancel),
        can_confirm: allowed(OrderAction::Deliver),
        can_return: allowed(OrderAction::RequestReturn) && order.return_status.is_none(),
        can_dispute: allowed(OrderAction::OpenDispute) && order.dispute_id.is_none(),
        can_rate,
        rating,
        sealed,
        buyer,
        dispute,
        order,
    })
}

/// The provider's refund amount as posted and a field's message, shown again.
type Posted = Option<(String, Option<(String, String)>)>;

async fn show_order(w: &Web, id: &str, status: StatusCode, error: Option<String>) -> Response {
    show_order_with(w, id, status, error, None).await
}

async fn show_order_with(
    w: &Web,
    id: &str,
    status: StatusCode,
    error: Option<String>,
    posted: Posted,
) -> Response {
    let here = format!("/orders/{id}");
    let (me, _, csrf) = match w.signed_in(&here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let v = match view_of(w, &me, id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let ex = &w.state.exchange;
    let order = &v.order;
    let (product_title, unique) = match ex.pass(&order.pass_id).await {
        Ok(p) => (p.title, p.mode == api::PassMode::Unique),
        Err(_) => (order.product_id.clone(), false),
    };
    let headline = w.t(headline_key(&order.status));
    let pay_by = order
        .pay_by
        .as_deref()
        .map(|p| format::datetime(w.lang, p))
        .unwrap_or_else(|| "—".into());
    // What the viewer should know of the payment: the holder sees whether it
    // was paid, never its reference.
    let (payment_id, payment) = match (order.status.as_str(), &order.payment_ref) {
        ("paid" | "shipped" | "delivered" | "refunded" | "cancelled", Some(r)) => {
            ("payment-ref", w.lang.ta("order-payment-received-ref", r))
        }
        ("cancelled", None) => ("payment-state", w.t("order-payment-none-cancelled")),
        ("paid" | "shipped" | "delivered" | "refunded", None) => {
            ("payment-state", w.t("order-payment-received"))
        }
        ("expired", _) => ("payment-state", w.t("order-payment-expired")),
        (_, _) if v.buyer => ("payment-state", w.lang.ta("order-payment-due", &pay_by)),
        (_, _) => (
            "payment-state",
            w.lang.ta("order-payment-awaiting", &pay_by),
        ),
    };
    let dispute_open = v.dispute.as_ref().is_some_and(|d| d.status == "open");
    let provider = provider_orders::actions(&me, order, dispute_open, posted);
    let t = OrderTemplate {
        provider,
        l: w.layout(headline.clone(), Some(&me), &csrf, &here),
        unit_pending: order.unit_no.is_none() && unique && order.status == "placed",
        refunded: format::positive(&order.refunded_total),
        headline,
        product_title,
        payment_id,
        payment,
        error,
        v,
    };
    html(status, t, vec![])
}

/// `GET /orders/{id}`.
pub(super) async fn order_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    show_order(&w, &id, StatusCode::OK, None).await
}

/// `GET /o/{id}`: the old link, moved for good.
pub(super) async fn old_link(Path(id): Path<String>) -> Response {
    let mut r = StatusCode::MOVED_PERMANENTLY.into_response();
    let to = format!(
        "/orders/{}",
        form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    if let Ok(v) = HeaderValue::from_str(&to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

/// `GET /orders/{id}/timeline`: the timeline and actions alone (for `live.js`).
pub(super) async fn timeline_fragment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let here = format!("/orders/{id}");
    let (me, _, csrf) = match w.signed_in(&here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let v = match view_of(&w, &me, &id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let t = TimelineTemplate {
        l: w.layout(String::new(), Some(&me), &csrf, &here),
        v,
    };
    html(StatusCode::OK, t, vec![])
}

/// `GET /orders[?after=…]`: the requester's orders, newest first.
pub(super) async fn list_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in("/orders").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let as_requester = q.get("as").map(String::as_str) == Some("requester");
    if me.has_role(symbolon_core::state::Role::Provider) && !as_requester {
        return provider_orders::list_page(&w, &me, &csrf, &q).await;
    }
    let list = match w
        .state
        .exchange
        .orders(
            &me,
            Some("requester"),
            q.get("after").map(String::as_str),
            None,
        )
        .await
    {
        Ok(l) => l,
        Err(e) => return w.exchange_error(&e),
    };
    let t = ListTemplate {
        l: w.layout(w.t("orders-title"), Some(&me), &csrf, "/orders"),
        items: list.items,
        next: list.next,
    };
    html(StatusCode::OK, t, vec![])
}

/// `POST /orders/{id}`: one of the requester's actions.
pub(super) async fn act(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let here = format!("/orders/{id}");
    let (me, token, _) = match w.signed_in(&here).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let msg = w.t("error-form-foreign");
        return show_order(&w, &id, StatusCode::FORBIDDEN, Some(msg)).await;
    }
    if let Some(done) = provider_orders::act(&w, &me, &id, &f).await {
        return match done {
            Ok(()) => redirect(&here, vec![]),
            Err(r) => {
                let amount = f.get("amount").cloned().unwrap_or_default();
                let (error, field) = match r.field {
                    Some(k) => (None, Some((k, r.message))),
                    None => (Some(r.message), None),
                };
                show_order_with(&w, &id, r.status, error, Some((amount, field))).await
            }
        };
    }
    let ex = w.state.exchange.clone();
    let text = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let done = match f.get("do").map(String::as_str) {
        Some("pay") => ex.pay_order(&me, &id).await.map(|_| ()),
        Some("cancel") => ex
            .cancel_order(
                &me,
                &id,
                &api::Reason {
                    reason: text("reason"),
                },
            )
            .await
            .map(|_| ()),
        Some("confirm_delivery") => ex.confirm_delivery(&me, &id).await.map(|_| ()),
        Some("request_return") => ex
            .request_return(
                &me,
                &id,
                &api::Reason {
                    reason: text("reason"),
                },
            )
            .await
            .map(|_| ()),
        Some("open_dispute") => {
            let req = api::OpenDispute {
                kind: text("kind"),
                reason: text("reason"),
            };
            ex.open_dispute(&me, &id, &req).await.map(|_| ())
        }
        Some("message") => {
            async {
                let o = ex.order(&me, &id).await?;
                let d = o
                    .dispute_id
                    .ok_or_else(|| ExchangeError::not_found("dispute"))?;
                let req = api::CreateDisputeMessage { body: text("body") };
                ex.dispute_message(&me, &d, &req).await.map(|_| ())
            }
            .await
        }
        Some("rate") => {
            async {
                let o = ex.order(&me, &id).await?;
                let offer = o
                    .offer_id
                    .ok_or_else(|| ExchangeError::not_found("offer"))?;
                let req = api::CreateRating {
                    positive: f.get("positive").map(String::as_str) == Some("yes"),
                    comment: Some(text("comment")).filter(|c| !c.is_empty()),
                };
                ex.rate(&me, &offer, &req).await.map(|_| ())
            }
            .await
        }
        _ => {
            let msg = w.t("order-choose-action");
            return show_order(&w, &id, StatusCode::BAD_REQUEST, Some(msg)).await;
        }
    };
    match done {
        Ok(()) => redirect(&here, vec![]),
        Err(e) => {
            let status = w.status_of(&e);
            show_order(&w, &id, status, Some(w.public_message(&e))).await
        }
    }
}
