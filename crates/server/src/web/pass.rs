//! The pass page `/p/{id}` (the pass's `link`) and its order form
//! (`POST /p/{id}/order`): one click for a signed-in requester with a saved
//! address and card, a short form that saves them otherwise. A visitor not
//! signed in is sent to sign in or sign up (`/login?next=` back here).

use super::layout::html;
use super::{format, redirect, AppState, FormPost, Layout, Web, PRE_COOKIE};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::limits::{MAX_ORDER_QUANTITY, WEB_PRE_SESSION_SECONDS};
use symbolon_core::Timestamp;
use symbolon_exchange::PassPage;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    via: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "pass.html")]
struct PassTemplate<'a> {
    l: Layout,
    page: &'a PassPage,
    profile: Option<&'a api::RequesterProfile>,
    signed_in: bool,
    error: Option<String>,
    values: &'a HashMap<String, String>,
    /// The page's link (with `?via=`).
    link: String,
    description: String,
    category: String,
    /// The JSON-LD, escaped for a `<script>` element (a data block, which
    /// browsers never run: the CSP needs no nonce or hash for it).
    ld: String,
    /// Why the pass cannot be used to order, when it cannot.
    not_orderable: Option<String>,
    valid_until: Option<String>,
    kid: String,
    qr: String,
    max_quantity: i64,
    /// Sign-in and sign-up, returning to this page.
    login_link: String,
    signup_link: String,
}

impl PassTemplate<'_> {
    fn unique(&self) -> bool {
        self.page.pass.mode == api::PassMode::Unique
    }

    fn value(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    fn positive_share(&self) -> i64 {
        let a = &self.page.activity;
        a.positive * 100 / a.ratings.max(1)
    }

    fn day(&self, at: impl Day) -> String {
        at.day()
    }

    /// A time as the page's language writes its day.
    fn local_day(&self, at: impl Day) -> String {
        format::day(self.l.lang, &at.day_rfc3339())
    }

    fn status_text(&self) -> String {
        self.page.pass.status.replace('_', " ")
    }

    fn ship_to(&self) -> Option<&api::Address> {
        self.profile.and_then(|p| p.ship_to.as_ref())
    }

    fn card(&self) -> Option<&api::PaymentMethod> {
        self.profile.and_then(|p| p.payment_method.as_ref())
    }
}

/// A time shown as its day (templates hand over references to it).
trait Day {
    fn day(&self) -> String;
    fn day_rfc3339(&self) -> String;
}

impl Day for Timestamp {
    fn day(&self) -> String {
        self.to_rfc3339().get(..10).unwrap_or_default().to_string()
    }
    fn day_rfc3339(&self) -> String {
        self.to_rfc3339()
    }
}

impl<T: Day + ?Sized> Day for &T {
    fn day(&self) -> String {
        (**self).day()
    }
    fn day_rfc3339(&self) -> String {
        (**self).day_rfc3339()
    }
}

/// The QR code of `text` as inline SVG (also the wallet's share links).
pub(super) fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(160, 160)
                .quiet_zone(true)
                .build();
            // Inline: drop the XML declaration.
            match svg.find("<svg") {
                Some(i) => svg[i..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

/// Serializes JSON for a `<script type="application/ld+json">` block
/// (`<` escaped so no text can close the element).
fn json_ld(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

/// The `kid` in a compact JWS's header.
fn kid_of(jws: &str) -> Option<String> {
    symbolon_pass::peek_header(jws)
        .ok()?
        .get("kid")?
        .as_str()
        .map(str::to_string)
}

/// schema.org `Product` with its `Offer`, ratings and reviews.
fn structured_data(page: &PassPage, link: &str, description: &str, w: &Web) -> serde_json::Value {
    let p = &page.pass;
    let product = &page.product;
    let availability =
        if page.available > 0 && p.status == "active" && product.archived_at.is_none() {
            "https://schema.org/InStock"
        } else {
            "https://schema.org/OutOfStock"
        };
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.title,
        "description": description,
        "category": product.category,
        "url": link,
        "sku": product.id,
        "brand": {"@type": "Brand", "name": page.provider_name},
        "additionalProperty": product.specs.iter().map(|(k, v)| json!({"@type": "PropertyValue", "name": k, "value": v})).collect::<Vec<_>>(),
        "offers": {
            "@type": "Offer",
            "price": product.price.amount,
            "priceCurrency": product.price.currency,
            "availability": availability,
            "url": link,
            "seller": {"@type": "Organization", "name": page.provider_name},
        },
    });
    if let Some(gtin) = &product.gtin {
        ld["gtin"] = gtin.clone().into();
    }
    if let Some(until) = &p.valid_until {
        ld["offers"]["priceValidUntil"] = until.get(..10).unwrap_or(until).into();
    }
    let a = &page.activity;
    if a.ratings > 0 {
        ld["aggregateRating"] = json!({
            "@type": "AggregateRating",
            "ratingValue": format!("{:.1}", 1.0 + 4.0 * a.positive as f64 / a.ratings as f64),
            "bestRating": "5", "worstRating": "1",
            "ratingCount": a.ratings,
        });
        let author = w.t("pass-verified-buyer");
        ld["review"] = a
            .reviews
            .iter()
            .map(|r| {
                json!({
                    "@type": "Review",
                    "reviewRating": {"@type": "Rating", "ratingValue": if r.positive { "5" } else { "1" }, "bestRating": "5", "worstRating": "1"},
                    "reviewBody": r.comment.clone().unwrap_or_default(),
                    "datePublished": r.created_at.to_rfc3339().get(..10).unwrap_or_default(),
                    "author": {"@type": "Person", "name": author},
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    ld
}

async fn show_pass_page(
    w: &Web,
    id: &str,
    via: Option<&str>,
    status: StatusCode,
    error: Option<String>,
    values: &HashMap<String, String>,
    mut set_cookies: Vec<HeaderValue>,
) -> Response {
    let ex = &w.state.exchange;
    let page = match ex.pass_page(id, via).await {
        Ok(p) => p,
        Err(e) => return w.exchange_error(&e),
    };
    let signed_in = w.account().await;
    let (binding, new_pre) = w.csrf_binding(signed_in.as_ref().map(|(_, t)| t.as_str()));
    if let Some(n) = new_pre {
        set_cookies.push(w.cookie(PRE_COOKIE, &n, WEB_PRE_SESSION_SECONDS));
    }
    let csrf = ex.csrf_token(&binding);
    let me = signed_in.as_ref().map(|(a, _)| a);
    let profile = match me {
        Some(a) if a.has_role(symbolon_core::state::Role::Requester) => {
            ex.requester_profile(a).await.ok()
        }
        _ => None,
    };
    let p = &page.pass;
    let product = &page.product;
    let link = match &page.via {
        Some((id, _)) => format!("{}?via={}", p.page, id),
        None => p.page.clone(),
    };
    let description = if product.description.is_empty() {
        product.title.clone()
    } else {
        product.description.clone()
    };
    let not_orderable = (p.status != "active" || product.archived_at.is_some()).then(|| {
        w.t(match p.status.as_str() {
            "active" => "pass-why-archived",
            "revoked" => "pass-why-revoked",
            "expired" => "pass-why-expired",
            "not_yet_valid" => "pass-why-not-yet-valid",
            _ => "pass-why-invalid",
        })
    });
    let here = match via {
        Some(v) => format!("/p/{}?via={v}", p.id),
        None => format!("/p/{}", p.id),
    };
    let page_ref = &page;
    let back: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    let t = PassTemplate {
        login_link: format!("/login?next={back}"),
        signup_link: format!("/signup?next={back}"),
        l: w.layout(product.title.clone(), me, &csrf, &here),
        ld: json_ld(&structured_data(page_ref, &link, &description, w)),
        category: product.category.replace('/', " › "),
        valid_until: p.valid_until.as_ref().map(|u| format::day(w.lang, u)),
        kid: kid_of(&p.jws).unwrap_or_default(),
        qr: qr_svg(&link),
        page: page_ref,
        profile: profile.as_ref(),
        signed_in: me.is_some(),
        error,
        values,
        link,
        description,
        not_orderable,
        max_quantity: MAX_ORDER_QUANTITY,
    };
    html(status, t, set_cookies)
}

pub(super) async fn pass_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    show_pass_page(
        &w,
        &id,
        q.via.as_deref(),
        StatusCode::OK,
        None,
        &HashMap::new(),
        vec![],
    )
    .await
}

/// The short first-time form (address and card): saved to the requester's
/// profile when given, so the next order is one click. The pass page and
/// an accepted offer's Order buttons share it.
pub(super) async fn save_short_form(
    ex: &symbolon_exchange::Exchange,
    me: &symbolon_store::Account,
    f: &HashMap<String, String>,
) -> Result<(), symbolon_exchange::ExchangeError> {
    let ship_to = address_from(f);
    let card = f
        .get("card_number")
        .map(|c| {
            c.chars()
                .filter(|ch| !ch.is_whitespace())
                .collect::<String>()
        })
        .filter(|c| !c.is_empty());
    if ship_to.is_some() || card.is_some() {
        let update = api::RequesterProfileUpdate {
            ship_to,
            payment_method: card.map(|number| api::PaymentMethodInput {
                kind: "sandbox_card".into(),
                number,
            }),
        };
        ex.set_requester_profile(me, &update).await?;
    }
    Ok(())
}

fn address_from(f: &HashMap<String, String>) -> Option<api::Address> {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let fields = ["name", "line1", "city", "postal_code", "country"];
    if fields.iter().all(|k| get(k).is_empty()) {
        return None;
    }
    Some(api::Address {
        name: get("name"),
        line1: get("line1"),
        line2: None,
        city: get("city"),
        postal_code: get("postal_code"),
        country: get("country").to_ascii_uppercase(),
    })
}

/// The requester profile a form's address and card fields give (each
/// `None` when left empty).
pub(super) fn profile_update_from(f: &HashMap<String, String>) -> api::RequesterProfileUpdate {
    let card = f
        .get("card_number")
        .map(|c| {
            c.chars()
                .filter(|ch| !ch.is_whitespace())
                .collect::<String>()
        })
        .filter(|c| !c.is_empty());
    api::RequesterProfileUpdate {
        ship_to: address_from(f),
        payment_method: card.map(|number| api::PaymentMethodInput {
            kind: "sandbox_card".into(),
            number,
        }),
    }
}

pub(super) async fn order_from_page(
    Path(id): Path<String>,
    FormPost { w, f }: FormPost,
) -> Response {
    let via = f.get("via").filter(|v| !v.is_empty()).cloned();
    let ex = w.state.exchange.clone();
    let signed_in = w.account().await;
    let fail = |status: StatusCode, msg: String, cookies: Vec<HeaderValue>| {
        let w = &w;
        let f = &f;
        let id = &id;
        let via = via.clone();
        async move { show_pass_page(w, id, via.as_deref(), status, Some(msg), f, cookies).await }
    };
    if !w.csrf_ok(signed_in.as_ref().map(|(_, t)| t.as_str()), f.get("csrf")) {
        return fail(StatusCode::FORBIDDEN, w.t("error-form-foreign"), vec![]).await;
    }
    let Some((me, _)) = signed_in else {
        return fail(StatusCode::UNAUTHORIZED, w.t("pass-sign-in-first"), vec![]).await;
    };
    if let Err(e) = save_short_form(&ex, &me, &f).await {
        return fail(w.status_of(&e), w.public_message(&e), vec![]).await;
    }
    let quantity = match f
        .get("quantity")
        .map(|q| q.trim())
        .filter(|q| !q.is_empty())
    {
        None => None,
        Some(q) => match q.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return fail(StatusCode::BAD_REQUEST, w.t("pass-quantity-whole"), vec![]).await
            }
        },
    };
    let pay = match f.get("action").map(String::as_str) {
        Some("order") => false,
        Some("order_and_pay") => true,
        _ => return fail(StatusCode::BAD_REQUEST, w.t("pass-choose-action"), vec![]).await,
    };
    let req = api::CreatePassOrder {
        quantity,
        pay,
        via: via.clone(),
        ship_to: None,
    };
    match ex.pass_order(&me, &id, &req).await {
        Ok(order) => redirect(&format!("/orders/{}", order.id), vec![]),
        Err(e) => fail(w.status_of(&e), w.public_message(&e), vec![]).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        assert_eq!(
            json_ld(&serde_json::json!({"n": "</script><script>"})),
            r#"{"n":"\u003c/script>\u003cscript>"}"#
        );
    }
}
