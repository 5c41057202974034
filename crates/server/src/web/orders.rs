//! The order page `/o/{id}`: what was ordered, its status, the payment as
//! the viewer may see it, and after the sale its unit, refunds, delivery
//! and return window.

use super::{html, redirect, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use symbolon_api as api;

#[derive(Template, WebTemplate)]
#[template(path = "order.html")]
struct OrderTemplate {
    l: Layout,
    order: api::Order,
    headline: String,
    product_title: String,
    /// "assigned when paid": a unique pass's order before payment.
    unit_pending: bool,
    refunded: bool,
    /// The payment row: its element id and its text.
    payment_id: &'static str,
    payment: String,
}

pub(super) async fn order_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let Some((me, token)) = w.account().await else {
        return redirect(&format!("/login?next=/o/{id}"), vec![]);
    };
    let ex = &w.state.exchange;
    let order = match ex.order(&me, &id).await {
        Ok(o) => o,
        Err(e) => return w.exchange_error(&e),
    };
    let (product_title, unique) = match ex.pass(&order.pass_id).await {
        Ok(p) => (p.title, p.mode == api::PassMode::Unique),
        Err(_) => (order.product_id.clone(), false),
    };
    let csrf = ex.csrf_token(&token);
    let headline = w.t(match order.status.as_str() {
        "paid" => "order-headline-paid",
        "shipped" => "order-headline-shipped",
        "delivered" => "order-headline-delivered",
        "cancelled" => "order-headline-cancelled",
        "refunded" => "order-headline-refunded",
        "expired" => "order-headline-expired",
        _ => "order-headline-placed",
    });
    let buyer = order.requester_id == me.id;
    let pay_by = order.pay_by.as_deref().unwrap_or("—");
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
        (_, _) if buyer => ("payment-state", w.lang.ta("order-payment-due", pay_by)),
        (_, _) => ("payment-state", w.lang.ta("order-payment-awaiting", pay_by)),
    };
    let t = OrderTemplate {
        l: w.layout(headline.clone(), Some(&me), &csrf, &format!("/o/{id}")),
        unit_pending: order.unit_no.is_none() && unique && order.status == "placed",
        refunded: !order
            .refunded_total
            .amount
            .trim_start_matches(['0', '.'])
            .is_empty(),
        order,
        headline,
        product_title,
        payment_id,
        payment,
    };
    html(StatusCode::OK, t, vec![])
}
