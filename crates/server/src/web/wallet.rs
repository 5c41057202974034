//! The holder's wallet `/wallet`: the passes it holds (shareable, or the
//! units left of a unique pass), each with its share link
//! (`{public_url}/p/{id}?via=<holder>`, which credits the holder with the
//! orders it brings), that link's QR code (drawn as on the pass page) and a
//! copy button (`holder.js`; without JavaScript the link is selectable in a
//! read-only field), and the orders the pass brought — as holders see
//! orders: never the buyer's address, name, payment or tracking.

use super::{format, html, pass, AppState, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use symbolon_api as api;
use symbolon_core::state::Role;

/// One order a pass brought, as the holder may see it.
pub(super) struct OrderLine {
    pub id: String,
    pub day: String,
    pub status: String,
    pub quantity: i64,
    pub total: String,
    pub commission: String,
}

/// One pass of the wallet.
struct Card {
    h: api::Holding,
    link: String,
    qr: String,
    /// The pass's commission rate, as the language writes it.
    commission: String,
    orders: Vec<OrderLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "wallet.html")]
struct WalletTemplate {
    l: Layout,
    cards: Vec<Card>,
}

/// An order's status in the holder's words.
pub(super) fn order_status(w: &Web, o: &api::Order) -> String {
    if o.settled_at.is_some() {
        return w.t("holder-order-settled");
    }
    w.t(match o.status.as_str() {
        "placed" => "holder-order-placed",
        "paid" => "holder-order-paid",
        "shipped" => "holder-order-shipped",
        "delivered" => "holder-order-delivered",
        "cancelled" => "holder-order-cancelled",
        "refunded" => "holder-order-refunded",
        "expired" => "holder-order-expired",
        _ => "holder-order-other",
    })
}

pub(super) fn order_line(w: &Web, o: &api::Order) -> OrderLine {
    OrderLine {
        id: o.id.clone(),
        day: format::day(w.lang, o.paid_at.as_deref().unwrap_or(&o.created_at)),
        status: order_status(w, o),
        quantity: o.quantity,
        total: format::money(w.lang, &o.total),
        commission: format::money(w.lang, &o.commission),
    }
}

/// `GET /wallet`.
pub(super) async fn wallet_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/wallet", Role::Holder).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ex = &w.state.exchange;
    let wallet = match ex.wallet(&me).await {
        Ok(x) => x,
        Err(e) => return w.exchange_error(&e),
    };
    let orders = match ex.holder_orders(&me).await {
        Ok(x) => x,
        Err(e) => return w.exchange_error(&e),
    };
    let via = form_urlencoded::byte_serialize(me.id.as_bytes()).collect::<String>();
    let cards = wallet
        .items
        .into_iter()
        .map(|h| {
            let link = format!("{}?via={via}", h.pass.page);
            Card {
                qr: pass::qr_svg(&link),
                commission: format::percent(w.lang, h.pass.commission_bps as f64 / 10_000.0),
                orders: orders
                    .iter()
                    .rev()
                    .filter(|o| o.pass_id == h.pass.id)
                    .map(|o| order_line(&w, o))
                    .collect(),
                link,
                h,
            }
        })
        .collect();
    let t = WalletTemplate {
        l: w.layout(w.t("wallet-title"), Some(&me), &csrf, "/wallet"),
        cards,
    };
    html(StatusCode::OK, t, vec![])
}
