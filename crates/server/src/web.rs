//! Web pages: the pass page `/p/{id}` (the pass's `link`), sign-in, the
//! order page and the balance page (`web/balance.rs`). Server-rendered,
//! mobile-first, no JavaScript.
//!
//! * Sessions: a cookie `sym_session` (`HttpOnly; SameSite=Lax`, `Secure` on
//!   an https public URL) holding a token signed with the master key.
//! * CSRF: every form carries a token bound to the session (or, before
//!   sign-in, to a random `sym_pre` cookie); a POST without the right one is
//!   refused with 403 `forbidden`.
//! * The pass page embeds schema.org `Product`/`Offer` JSON-LD and Open Graph
//!   tags, and a QR code (SVG) of its link. `?via=<holder>` credits the
//!   holder whose link brought the buyer.

use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write as _;
use symbolon_api as api;
use symbolon_core::limits::WEB_SESSION_TTL_SECONDS;
use symbolon_core::ErrorCode;
use symbolon_exchange::{ExchangeError, PassPage};
use symbolon_store::Account;

mod balance;

const SESSION_COOKIE: &str = "sym_session";
const PRE_COOKIE: &str = "sym_pre";

/// The web routes (merged into the API router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/p/{id}", get(pass_page))
        .route("/p/{id}/order", post(order_from_page))
        .route("/o/{id}", get(order_page))
        .route("/balance", get(balance::balance_page))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
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

struct Web {
    state: AppState,
    cookies: HashMap<String, String>,
}

impl Web {
    fn new(state: AppState, headers: &HeaderMap) -> Self {
        Self {
            state,
            cookies: cookies(headers),
        }
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
}

fn html(status: StatusCode, body: String, set_cookies: Vec<HeaderValue>) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    for c in set_cookies {
        h.append(SET_COOKIE, c);
    }
    r
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

const STYLE: &str = "
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;background:#f6f7f9}
main{max-width:44rem;margin:0 auto;padding:1rem}header.top{display:flex;justify-content:space-between;align-items:center;font-size:.9rem;color:#555}
section{background:#fff;border-radius:12px;padding:1rem 1.1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h1{font-size:1.5rem;line-height:1.25;margin:.2rem 0 .5rem}h2{font-size:1.1rem;margin:0 0 .6rem}
.price{font-size:1.6rem;font-weight:700}.muted{color:#667}.badge{display:inline-block;padding:.1rem .5rem;border-radius:99px;background:#e8f3ec;color:#17653a;font-size:.8rem}
.badge.bad{background:#fdecec;color:#9b1c1c}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem .25rem;border-bottom:1px solid #eee;vertical-align:top}
ul.plain{list-style:none;padding:0;margin:0}ul.plain li{padding:.35rem 0;border-bottom:1px solid #f0f0f0}
label{display:block;font-size:.85rem;color:#444;margin:.5rem 0 .15rem}input{width:100%;font:inherit;padding:.55rem .6rem;border:1px solid #ccd;border-radius:8px}
.buttons{display:flex;gap:.6rem;margin-top:1rem;flex-wrap:wrap}button{flex:1 1 10rem;font:inherit;font-weight:600;padding:.8rem 1rem;border-radius:10px;border:0;cursor:pointer}
button.primary{background:#1f6feb;color:#fff}button.secondary{background:#e7eefc;color:#174ea6}
.error{background:#fdecec;color:#9b1c1c;border-radius:8px;padding:.6rem .8rem;margin-bottom:1rem}
.qr svg{width:10rem;height:10rem}#link{word-break:break-all}summary{color:#174ea6;margin-top:.6rem}.row{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
code{font-size:.8rem;word-break:break-all}details summary{cursor:pointer}";

fn layout(
    title: &str,
    head_extra: &str,
    signed_in: Option<&Account>,
    csrf: &str,
    body: &str,
) -> String {
    let who = match signed_in {
        Some(a) => format!(
            "<span id=\"signed-in\">Signed in as <strong>{}</strong></span>\
             <form method=\"post\" action=\"/logout\" style=\"display:inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button class=\"secondary\" style=\"padding:.2rem .6rem;flex:none\">Sign out</button></form>",
            esc(&a.name),
            esc(csrf)
        ),
        None => "<a href=\"/login\">Sign in</a>".to_string(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title>{head_extra}<style>{STYLE}</style></head>\
         <body><main><header class=\"top\"><span>Symbolon</span><span>{who}</span></header>{body}</main></body></html>",
        esc(title)
    )
}

fn qr_svg(text: &str) -> String {
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

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    via: Option<String>,
}

struct FormState<'a> {
    error: Option<String>,
    values: &'a HashMap<String, String>,
}

fn render_pass_page(
    page: &PassPage,
    me: Option<&Account>,
    profile: Option<&api::RequesterProfile>,
    csrf: &str,
    form: FormState<'_>,
) -> String {
    let p = &page.pass;
    let product = &page.product;
    let link = match &page.via {
        Some((id, _)) => format!("{}?via={}", p.page, id),
        None => p.page.clone(),
    };
    let status_badge = match p.status.as_str() {
        "active" => "<span class=\"badge\" id=\"status\">Valid pass</span>".to_string(),
        other => format!(
            "<span class=\"badge bad\" id=\"status\">{}</span>",
            esc(&other.replace('_', " "))
        ),
    };
    let price = format!("{} {}", product.price.amount, product.price.currency);
    let description = if product.description.is_empty() {
        product.title.clone()
    } else {
        product.description.clone()
    };
    // ---- head: Open Graph and JSON-LD
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
        ld["review"] = a
            .reviews
            .iter()
            .map(|r| {
                json!({
                    "@type": "Review",
                    "reviewRating": {"@type": "Rating", "ratingValue": if r.positive { "5" } else { "1" }, "bestRating": "5", "worstRating": "1"},
                    "reviewBody": r.comment.clone().unwrap_or_default(),
                    "datePublished": r.created_at.to_rfc3339().get(..10).unwrap_or_default(),
                    "author": {"@type": "Person", "name": "Verified buyer"},
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    let head = format!(
        "<meta name=\"description\" content=\"{d}\">\
         <meta property=\"og:type\" content=\"product\"><meta property=\"og:title\" content=\"{t}\">\
         <meta property=\"og:description\" content=\"{d}\"><meta property=\"og:url\" content=\"{u}\">\
         <meta property=\"og:site_name\" content=\"Symbolon\">\
         <meta property=\"product:price:amount\" content=\"{pa}\"><meta property=\"product:price:currency\" content=\"{pc}\">\
         <link rel=\"alternate\" type=\"application/vc+jwt\" href=\"{api}\">\
         <script type=\"application/ld+json\">{ld}</script>",
        d = esc(&description),
        t = esc(&product.title),
        u = esc(&link),
        pa = esc(&product.price.amount),
        pc = esc(&product.price.currency),
        api = esc(&p.url),
        ld = json_ld(&ld),
    );
    // ---- body
    let mut b = String::new();
    if let Some(e) = &form.error {
        let _ = write!(
            b,
            "<div class=\"error\" id=\"error\" role=\"alert\">{}</div>",
            esc(e)
        );
    }
    let _ = write!(
        b,
        "<section id=\"intro\"><div class=\"muted\">{cat}</div><h1>{title}</h1>\
         <p id=\"description\">{desc}</p>\
         <div class=\"row\"><span class=\"price\" id=\"price\">{price}</span>{status_badge}</div>\
         <p class=\"muted\" id=\"provider\">Sold and shipped by <strong>{prov}</strong>{via}</p></section>",
        cat = esc(&product.category.replace('/', " › ")),
        title = esc(&product.title),
        desc = esc(&product.description),
        price = esc(&price),
        prov = esc(&page.provider_name),
        via = match &page.via {
            Some((_, name)) => format!(" · recommended by <strong id=\"via\">{}</strong>", esc(name)),
            None => String::new(),
        },
    );
    // specs
    b.push_str("<section id=\"specs\"><h2>Specifications</h2><table>");
    if product.specs.is_empty() {
        b.push_str("<tr><td class=\"muted\">No specifications given.</td></tr>");
    }
    for (k, v) in &product.specs {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(k),
            esc(v)
        );
    }
    if let Some(gtin) = &product.gtin {
        let _ = write!(
            b,
            "<tr><th scope=\"row\">GTIN</th><td>{}</td></tr>",
            esc(gtin)
        );
    }
    let _ = write!(
        b,
        "<tr><th scope=\"row\">Pass</th><td>{} · {}{}</td></tr></table></section>",
        match p.mode {
            api::PassMode::Shareable => "shareable",
            api::PassMode::Unique => "unique units",
        },
        match &p.valid_until {
            Some(u) => format!("valid until {}", esc(u.get(..10).unwrap_or(u))),
            None => "no expiry".to_string(),
        },
        match (page.available, p.mode) {
            (0, api::PassMode::Unique) => " · no unit left".to_string(),
            (0, _) => " · out of stock".to_string(),
            (n, api::PassMode::Unique) => format!(
                " · <span id=\"available\">{n}</span> unit{} left",
                if n == 1 { "" } else { "s" }
            ),
            (n, _) => format!(" · <span id=\"available\">{n}</span> in stock"),
        },
    );
    // purchase records
    let _ = write!(
        b,
        "<section id=\"purchases\"><h2>Purchases</h2><p><strong id=\"order-count\">{}</strong> order{} · {} unit{} in all</p><ul class=\"plain\">",
        a.orders,
        if a.orders == 1 { "" } else { "s" },
        a.quantity,
        if a.quantity == 1 { "" } else { "s" },
    );
    if a.recent.is_empty() {
        b.push_str("<li class=\"muted\">No purchases yet.</li>");
    }
    for (at, q) in &a.recent {
        let _ = write!(
            b,
            "<li class=\"purchase\">A buyer ordered <strong>{q}</strong> · <time datetime=\"{d}\">{d}</time></li>",
            d = esc(at.to_rfc3339().get(..10).unwrap_or_default()),
        );
    }
    b.push_str("</ul></section>");
    // reviews
    let _ = write!(b, "<section id=\"reviews\"><h2>Reviews</h2>");
    if a.ratings > 0 {
        let _ = write!(
            b,
            "<p><strong id=\"positive-share\">{}%</strong> positive of {} rating{}</p>",
            a.positive * 100 / a.ratings,
            a.ratings,
            if a.ratings == 1 { "" } else { "s" }
        );
    }
    b.push_str("<ul class=\"plain\">");
    if a.reviews.is_empty() {
        b.push_str("<li class=\"muted\">No reviews yet.</li>");
    }
    for r in &a.reviews {
        let _ = write!(
            b,
            "<li class=\"review\"><span class=\"badge{}\">{}</span> {} <span class=\"muted\">· {}</span></li>",
            if r.positive { "" } else { " bad" },
            if r.positive { "Positive" } else { "Negative" },
            esc(r.comment.as_deref().unwrap_or("")),
            esc(r.created_at.to_rfc3339().get(..10).unwrap_or_default()),
        );
    }
    b.push_str("</ul></section>");
    // order form: only while the pass can be used and its product is sold
    if p.status != "active" || product.archived_at.is_some() {
        let why = match p.status.as_str() {
            "active" => "its provider no longer sells the product",
            "revoked" => "its provider revoked it",
            "expired" => "it has expired",
            "not_yet_valid" => "it is not valid yet",
            _ => "it is not valid",
        };
        let _ = write!(
            b,
            "<section id=\"order\"><h2>Order</h2><p class=\"error\" id=\"not-orderable\" role=\"status\">\
             This pass can no longer be used to order: {why}.</p></section>"
        );
    } else {
        let v = |k: &str| esc(form.values.get(k).map(String::as_str).unwrap_or(""));
        let _ = write!(
        b,
        "<section id=\"order\"><h2>Order</h2><form method=\"post\" action=\"/p/{id}/order\" id=\"order-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{via}",
        id = esc(&p.id),
        csrf = esc(csrf),
        via = match &page.via {
            Some((id, _)) => format!("<input type=\"hidden\" name=\"via\" value=\"{}\">", esc(id)),
            None => String::new(),
        },
    );
        if me.is_none() {
            b.push_str(
            "<p class=\"muted\">Sign in with your requester API key to order; your address and card are saved for one-click orders next time.</p>\
             <label for=\"api_key\">API key</label><input id=\"api_key\" name=\"api_key\" type=\"password\" autocomplete=\"current-password\" required>",
        );
        }
        let has_address = profile.is_some_and(|p| p.ship_to.is_some());
        let has_card = profile.is_some_and(|p| p.payment_method.is_some());
        if p.mode == api::PassMode::Shareable {
            let _ = write!(
            b,
            "<label for=\"quantity\">Quantity</label><input id=\"quantity\" name=\"quantity\" type=\"number\" min=\"1\" max=\"{}\" value=\"{}\" inputmode=\"numeric\">",
            symbolon_core::limits::MAX_ORDER_QUANTITY,
            form.values.get("quantity").map(|q| esc(q)).unwrap_or_else(|| "1".into()),
        );
        }
        // Signed out, the address and card fields are folded away: a saved
        // profile makes them unnecessary; a first order unfolds them.
        let fold = me.is_none();
        if fold {
            b.push_str(
                "<details id=\"new-buyer\"><summary>New here? Add your address and card</summary>",
            );
        }
        if has_address {
            if let Some(a) = profile.and_then(|p| p.ship_to.as_ref()) {
                let _ = write!(
                    b,
                    "<p id=\"ship-to\">Ships to <strong>{}</strong>, {}, {} {}</p>",
                    esc(&a.name),
                    esc(&a.line1),
                    esc(&a.city),
                    esc(&a.country)
                );
            }
        } else {
            let _ = write!(
            b,
            "<fieldset id=\"address\" style=\"border:0;padding:0;margin:0\"><legend class=\"muted\">Shipping address</legend>\
             <label for=\"name\">Name</label><input id=\"name\" name=\"name\" autocomplete=\"name\" value=\"{}\">\
             <label for=\"line1\">Address</label><input id=\"line1\" name=\"line1\" autocomplete=\"address-line1\" value=\"{}\">\
             <label for=\"city\">City</label><input id=\"city\" name=\"city\" autocomplete=\"address-level2\" value=\"{}\">\
             <label for=\"postal_code\">Postal code</label><input id=\"postal_code\" name=\"postal_code\" autocomplete=\"postal-code\" value=\"{}\">\
             <label for=\"country\">Country (2 letters)</label><input id=\"country\" name=\"country\" autocomplete=\"country\" maxlength=\"2\" value=\"{}\"></fieldset>",
            v("name"), v("line1"), v("city"), v("postal_code"), v("country"),
        );
        }
        if let Some(pm) = profile.and_then(|p| p.payment_method.as_ref()) {
            let _ = write!(
                b,
                "<p id=\"card\">Pays with card ending <strong>{}</strong></p>",
                esc(&pm.last4)
            );
        }
        if !has_card {
            b.push_str("<label for=\"card_number\">Card number (for Order &amp; pay)</label><input id=\"card_number\" name=\"card_number\" inputmode=\"numeric\" autocomplete=\"cc-number\">");
        }
        if fold {
            b.push_str("</details>");
        }
        b.push_str(
        "<div class=\"buttons\"><button class=\"secondary\" type=\"submit\" name=\"action\" value=\"order\" id=\"btn-order\">Order</button>\
         <button class=\"primary\" type=\"submit\" name=\"action\" value=\"order_and_pay\" id=\"btn-order-pay\">Order &amp; pay</button></div></form></section>",
    );
    }
    // QR and verification
    let _ = write!(
        b,
        "<section id=\"share\"><h2>Share this pass</h2><div class=\"row\"><div class=\"qr\" id=\"qr\" aria-label=\"QR code of the link\">{qr}</div>\
         <p><a href=\"{link}\" id=\"link\">{link}</a></p></div></section>\
         <section id=\"verify\"><h2>Verify</h2><p>This pass is a W3C Verifiable Credential signed by <strong>{prov}</strong> (Ed25519). \
         Check it with any JOSE library against the <a href=\"{jwks}\">issuer's keys</a> (<a href=\"{meta}\">issuer metadata</a>), or offline:</p>\
         <p><code>symbolon pass verify {api}</code></p><details><summary>Key and signed pass</summary><p>Key: <code id=\"kid\">{kid}</code></p>\
         <p><code id=\"jws\">{jws}</code></p></details></section>",
        qr = qr_svg(&link),
        link = esc(&link),
        prov = esc(&page.provider_name),
        jwks = esc(&page.jwks_url),
        meta = esc(&page.issuer_metadata_url),
        api = esc(&p.url),
        kid = esc(&kid_of(&p.jws).unwrap_or_default()),
        jws = esc(&p.jws),
    );
    layout(&product.title, &head, me, csrf, &b)
}

/// The `kid` in a compact JWS's header.
fn kid_of(jws: &str) -> Option<String> {
    symbolon_pass::peek_header(jws)
        .ok()?
        .get("kid")?
        .as_str()
        .map(str::to_string)
}

fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        layout(
            "Symbolon",
            "",
            None,
            "",
            &format!("<section><h1>{}</h1><p class=\"error\" id=\"error\">{}</p><p><a href=\"/login\">Sign in</a></p></section>", status.as_u16(), esc(message)),
        ),
        vec![],
    )
}

fn status_of(e: &ExchangeError) -> StatusCode {
    StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn public_message(e: &ExchangeError) -> String {
    if e.code == ErrorCode::Internal {
        tracing::error!(error = %e, source = ?e.source, "internal error");
        "Something went wrong on our side; nothing was charged. Please try again.".into()
    } else {
        e.message.clone()
    }
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
        Err(e) => return error_page(status_of(&e), &public_message(&e)),
    };
    let signed_in = w.account().await;
    let (binding, new_pre) = w.csrf_binding(signed_in.as_ref().map(|(_, t)| t.as_str()));
    if let Some(n) = new_pre {
        set_cookies.push(w.cookie(PRE_COOKIE, &n, WEB_SESSION_TTL_SECONDS));
    }
    let csrf = ex.csrf_token(&binding);
    let me = signed_in.as_ref().map(|(a, _)| a);
    let profile = match me {
        Some(a) if a.has_role(symbolon_core::state::Role::Requester) => {
            ex.requester_profile(a).await.ok()
        }
        _ => None,
    };
    let body = render_pass_page(
        &page,
        me,
        profile.as_ref(),
        &csrf,
        FormState { error, values },
    );
    html(status, body, set_cookies)
}

async fn pass_page(
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

async fn order_from_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let w = Web::new(state, &headers);
    let f = form(&body);
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
        return fail(
            StatusCode::FORBIDDEN,
            "The form expired or did not come from this page; please try again.".into(),
            vec![],
        )
        .await;
    }
    let mut set_cookies = Vec::new();
    let me = match signed_in {
        Some((a, _)) => a,
        None => {
            let key = f.get("api_key").map(|k| k.trim()).unwrap_or("");
            if key.is_empty() {
                return fail(
                    StatusCode::UNAUTHORIZED,
                    "Sign in with your API key to order.".into(),
                    vec![],
                )
                .await;
            }
            match ex.web_sign_in(key).await {
                Ok((a, token)) => {
                    set_cookies.push(w.cookie(SESSION_COOKIE, &token, WEB_SESSION_TTL_SECONDS));
                    a
                }
                Err(e) => return fail(status_of(&e), public_message(&e), vec![]).await,
            }
        }
    };
    // The short form: save what was given, so the next order is one click.
    let ship_to = address_from(&f);
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
        if let Err(e) = ex.set_requester_profile(&me, &update).await {
            return fail(status_of(&e), public_message(&e), set_cookies).await;
        }
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
                return fail(
                    StatusCode::BAD_REQUEST,
                    "quantity: a whole number".into(),
                    set_cookies,
                )
                .await
            }
        },
    };
    let pay = match f.get("action").map(String::as_str) {
        Some("order") => false,
        Some("order_and_pay") => true,
        _ => {
            return fail(
                StatusCode::BAD_REQUEST,
                "Choose Order or Order & pay.".into(),
                set_cookies,
            )
            .await
        }
    };
    let req = api::CreatePassOrder {
        quantity,
        pay,
        via: via.clone(),
        ship_to: None,
    };
    match ex.pass_order(&me, &id, &req).await {
        Ok(order) => redirect(&format!("/o/{}", order.id), set_cookies),
        Err(e) => fail(status_of(&e), public_message(&e), set_cookies).await,
    }
}

async fn order_page(
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
        Err(e) => return error_page(status_of(&e), &public_message(&e)),
    };
    let (product_title, unique) = match ex.pass(&order.pass_id).await {
        Ok(p) => (p.title, p.mode == api::PassMode::Unique),
        Err(_) => (order.product_id.clone(), false),
    };
    let csrf = ex.csrf_token(&token);
    let headline = match order.status.as_str() {
        "paid" => "Order placed and paid",
        "shipped" => "Order shipped",
        "delivered" => "Order delivered",
        "cancelled" => "Order cancelled",
        "refunded" => "Order refunded",
        "expired" => "Order expired",
        _ => "Order placed",
    };
    // After the sale: refunds, delivery, the return window.
    let mut after = String::new();
    // A unique pass's unit: its number and signed history once paid.
    match order.unit_no {
        Some(n) => {
            let _ = write!(
                after,
                "<tr><th>Unit</th><td id=\"order-unit\"><a href=\"/v1/passes/{pass}/units/{n}/history\">No. {n}</a></td></tr>",
                pass = esc(&order.pass_id),
            );
        }
        None if unique && order.status == "placed" => {
            after.push_str("<tr><th>Unit</th><td id=\"order-unit\">assigned when paid</td></tr>");
        }
        None => {}
    }
    if !order
        .refunded_total
        .amount
        .trim_start_matches(['0', '.'])
        .is_empty()
    {
        let _ = write!(
            after,
            "<tr><th>Refunded</th><td id=\"order-refunded\">{} {}</td></tr>",
            esc(&order.refunded_total.amount),
            esc(&order.refunded_total.currency)
        );
    }
    if let Some(at) = &order.delivered_at {
        let _ = write!(
            after,
            "<tr><th>Delivered</th><td id=\"order-delivered\">{}</td></tr>",
            esc(at)
        );
    }
    if let Some(by) = &order.return_by {
        let _ = write!(
            after,
            "<tr><th>Returns until</th><td id=\"order-return-by\">{}</td></tr>",
            esc(by)
        );
    }
    let buyer = order.requester_id == me.id;
    // What the viewer should know of the payment: the holder sees whether it
    // was paid, never its reference.
    let payment = match (order.status.as_str(), &order.payment_ref) {
        ("paid" | "shipped" | "delivered" | "refunded" | "cancelled", Some(r)) => format!(
            "<tr><th>Payment</th><td id=\"payment-ref\">received ({})</td></tr>",
            esc(r)
        ),
        ("cancelled", None) => {
            "<tr><th>Payment</th><td id=\"payment-state\">none: cancelled before payment</td></tr>"
                .to_string()
        }
        ("paid" | "shipped" | "delivered" | "refunded", None) => {
            "<tr><th>Payment</th><td id=\"payment-state\">received</td></tr>".to_string()
        }
        ("expired", _) => {
            "<tr><th>Payment</th><td id=\"payment-state\">not made in time; the order expired</td></tr>"
                .to_string()
        }
        (_, _) if buyer => format!(
            "<tr><th>Payment</th><td id=\"payment-state\">due by {}; pay from your orders</td></tr>",
            esc(order.pay_by.as_deref().unwrap_or("—"))
        ),
        (_, _) => format!(
            "<tr><th>Payment</th><td id=\"payment-state\">awaiting the buyer's payment (until {})</td></tr>",
            esc(order.pay_by.as_deref().unwrap_or("—"))
        ),
    };
    let body = format!(
        "<section id=\"confirmation\"><h1 id=\"headline\">{headline}</h1>\
         <p>Thank you. <strong>{title}</strong> × {q}</p>\
         <table><tr><th>Order</th><td id=\"order-id\">{oid}</td></tr><tr><th>Status</th><td id=\"order-status\">{status}</td></tr>\
         <tr><th>Total</th><td id=\"order-total\">{amount} {cur}</td></tr>{payment}{after}</table>\
         <p><a href=\"/p/{pass}\">Back to the pass</a></p></section>",
        title = esc(&product_title),
        q = order.quantity,
        oid = esc(&order.id),
        status = esc(&order.status),
        amount = esc(&order.total.amount),
        cur = esc(&order.total.currency),
        pass = esc(&order.pass_id),
    );
    html(
        StatusCode::OK,
        layout(headline, "", Some(&me), &csrf, &body),
        vec![],
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
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

fn login_form(w: &Web, next: &str, error: Option<&str>) -> Response {
    let (binding, new_pre) = w.csrf_binding(None);
    let csrf = w.state.exchange.csrf_token(&binding);
    let cookies = new_pre
        .map(|n| vec![w.cookie(PRE_COOKIE, &n, WEB_SESSION_TTL_SECONDS)])
        .unwrap_or_default();
    let body = format!(
        "<section id=\"login\"><h1>Sign in</h1>{err}<form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label for=\"api_key\">API key</label><input id=\"api_key\" name=\"api_key\" type=\"password\" autocomplete=\"current-password\" required>\
         <div class=\"buttons\"><button class=\"primary\" type=\"submit\" id=\"btn-login\">Sign in</button></div></form></section>",
        err = error
            .map(|e| format!("<div class=\"error\" id=\"error\">{}</div>", esc(e)))
            .unwrap_or_default(),
        csrf = esc(&csrf),
        next = esc(next),
    );
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    html(status, layout("Sign in", "", None, "", &body), cookies)
}

async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let next = safe_next(q.next.as_deref());
    if let Some((me, _)) = w.account().await {
        if next != "/login" {
            return redirect(&next, vec![]);
        }
        let body = format!(
            "<section><h1>Signed in</h1><p>as <strong>{}</strong>.</p></section>",
            esc(&me.name)
        );
        return html(
            StatusCode::OK,
            layout("Signed in", "", Some(&me), "", &body),
            vec![],
        );
    }
    login_form(&w, &next, None)
}

async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let w = Web::new(state, &headers);
    let f = form(&body);
    let next = safe_next(f.get("next").map(String::as_str));
    if !w.csrf_ok(None, f.get("csrf")) {
        return login_form(&w, &next, Some("The form expired; please try again."));
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
        Err(_) => login_form(&w, &next, Some("Unknown API key.")),
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let w = Web::new(state, &headers);
    let f = form(&body);
    let session = w.account().await;
    if !w.csrf_ok(session.as_ref().map(|(_, t)| t.as_str()), f.get("csrf")) {
        return error_page(StatusCode::FORBIDDEN, "The form expired; please try again.");
    }
    redirect("/login", vec![w.cookie(SESSION_COOKIE, "", 0)])
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

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(
            json_ld(&serde_json::json!({"n": "</script><script>"})),
            r#"{"n":"\u003c/script>\u003cscript>"}"#
        );
    }
}
