//! The requester's journey in the browser, over real HTTP with plain form
//! posts (no JavaScript): a demand from the form — refused for too few
//! holders, explained, and sent again with a relaxation's button — holders
//! answering through the API, the offers compared on the demand page and in
//! its live fragment, accept and Order & pay by buttons, the order's
//! timeline following the provider's shipping, the rating and the holder's
//! public page. Also: bad fields, other people's demands and orders, a
//! demand cancelled, an order's quantity. (`web_pages.rs`: the CSP, the
//! assets, every page in Chinese, live offers in Chromium.)

use crate::harness::*;
use crate::on_both_backends;
use std::collections::HashMap;
use symbolon_client::api::*;
use symbolon_client::Client;

/// A browser of sorts: a session cookie and the last page's CSRF token.
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookie: String,
    pub(crate) lang: Option<&'static str>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The first CSRF token on the page.
    pub(crate) fn csrf(&self) -> String {
        let tag = "name=\"csrf\" value=\"";
        let at = self.body.find(tag).expect("a form with a CSRF token") + tag.len();
        self.body[at..at + self.body[at..].find('"').unwrap()].to_string()
    }

    /// The HTML of the element with `id` up to the end of its tag's first
    /// closing `</{tag}>`.
    pub(crate) fn element(&self, tag: &str, id: &str) -> &str {
        let start = self
            .body
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let start = self.body[..start].rfind(&format!("<{tag}")).unwrap();
        let end = self.body[start..]
            .find(&format!("</{tag}>"))
            .map_or(self.body.len(), |e| start + e);
        &self.body[start..end]
    }
}

/// Signs the account of `api_key` in on the web (email and password at
/// `/login`) and returns a browser with the session.
pub(crate) async fn web_sign_in(srv: &TestServer, api_key: &str) -> Browser {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Browser {
        http,
        base: srv.url.clone(),
        cookie: web_session(srv, api_key).await,
        lang: None,
    }
}

impl Browser {
    pub(crate) async fn page(r: reqwest::RequestBuilder) -> Page {
        let r = r.send().await.unwrap();
        Page {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub(crate) fn req(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let r = r.header("cookie", &self.cookie);
        match self.lang {
            Some(l) => r.header("accept-language", l),
            None => r,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        Self::page(self.req(self.http.get(format!("{}{path}", self.base)))).await
    }

    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        Self::page(
            self.req(self.http.post(format!("{}{path}", self.base)))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }
}

/// A market: a provider with a product and pass, two holders granted it
/// (with fields), a requester. Returns (provider, holders, requester key, requester).
pub(crate) async fn market(srv: &TestServer) -> (Client, Vec<(String, Client)>, String, Client) {
    let (_, p) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let prod = p
        .create_product(&product(
            "Trail camera TC-40",
            "electronics/cameras",
            "129.00",
            10,
        ))
        .await
        .unwrap();
    let pass = p.create_pass(&shareable(&prod.id, 1000)).await.unwrap();
    let mut holders = Vec::new();
    for name in ["Hana", "Ivo"] {
        let (id, h) = srv.account(name, &[Role::Holder]).await;
        h.set_holder_profile(&fields(&["electronics/cameras"]))
            .await
            .unwrap();
        p.grant(&pass.id, &grant(&id)).await.unwrap();
        holders.push((id, h));
    }
    let (_, r) = srv.account("Ada", &[Role::Requester]).await;
    let key = r.api_key().unwrap().to_string();
    (p, holders, key, r)
}

/// Each holder offers its pass for the demand through the API.
pub(crate) async fn holders_answer(holders: &[(String, Client)], notes: &[&str]) {
    for ((_, h), note) in holders.iter().zip(notes) {
        let item = h.inbox(None, None).await.unwrap().items.remove(0);
        h.offer(
            &item.id,
            &CreateOffer {
                pass_id: item.matched_pass_ids[0].clone(),
                note: Some(note.to_string()),
            },
        )
        .await
        .unwrap();
    }
}

async fn the_journey(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (p, holders, key, _) = market(&srv).await;
    let me = web_sign_in(&srv, &key).await;

    // Home: the box GETs the form with the query filled in.
    let home = me.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("action=\"/demands/new\"") && home.body.contains("name=\"query\""));
    let form = me.get("/demands/new?query=trail%20camera").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("value=\"trail camera\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("<option value=\"electronics/cameras\">"));

    // Too strict: both holders have no ratings yet. Explained, with a relaxation.
    let csrf = form.csrf();
    let refused = me
        .post(
            "/demands/new",
            &[
                ("csrf", &csrf),
                ("query", "trail camera"),
                ("min_ratings", "3"),
                ("min_holders", "2"),
                ("max_holders", "5"),
                ("ttl_seconds", "3600"),
                ("currency", "USD"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let why = refused.element("section", "explanation");
    assert!(why.contains("2 holders have something on offer"), "{why}");
    assert!(
        why.contains("The fewest ratings: ruled out 2 holders"),
        "{why}"
    );
    let relax = refused.element("form", "relax-min_ratings");
    assert!(
        relax.contains("Accept holders with 0 ratings or more → 2 holders"),
        "{relax}"
    );
    // The inputs are kept in the form below.
    assert!(refused
        .body
        .contains("id=\"min_ratings\" name=\"min_ratings\" inputmode=\"numeric\" value=\"3\""));
    // The button resubmits everything with the relaxed value.
    let hidden = hidden_fields(relax);
    assert_eq!(hidden["min_ratings"], "0");
    assert_eq!(hidden["query"], "trail camera");
    assert_eq!(hidden["ttl_seconds"], "3600");
    let pairs: Vec<(&str, &str)> = hidden
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let created = me.post("/demands/new", &pairs).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let demand_url = created.location().to_string();
    assert!(demand_url.starts_with("/demands/dem_"), "{demand_url}");
    let demand_id = demand_url.trim_start_matches("/demands/").to_string();

    // The page before any offer: the live region is there, empty.
    let page = me.get(&demand_url).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(
        "<p id=\"live-status\" class=\"visually-hidden\" role=\"status\" aria-live=\"polite\"></p>"
    ));
    assert!(page
        .body
        .contains(&format!("data-live=\"/demands/{demand_id}/live\"")));
    assert!(page.body.contains("Hana") && page.body.contains("Ivo"));
    assert!(page.body.contains("No offers yet"));
    let list = me.get("/demands").await;
    assert!(list.body.contains(&format!("id=\"demand-{demand_id}\"")));

    // The live stream says `change` when a holder answers.
    let stream = me
        .req(me.http.get(format!("{}/demands/{demand_id}/live", me.base)))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    holders_answer(&holders, &["Ships today", "Spare batteries included"]).await;
    wait_for_change(stream).await;

    // Both offers, side by side, in the page and in the fragment.
    let fragment = me.get(&format!("/demands/{demand_id}/offers")).await;
    assert_eq!(fragment.status, 200);
    assert_eq!(fragment.body.matches("<article class=\"offer\"").count(), 2);
    assert!(!fragment.body.contains("<html"));
    // The holders' answers too: the fragment carries who was asked.
    assert_eq!(fragment.body.matches("made an offer").count(), 2);
    let page = me.get(&demand_url).await;
    assert_eq!(page.body.matches("<article class=\"offer\"").count(), 2);
    assert!(page.body.contains("$129.00") && page.body.contains("Ships today"));
    assert!(page.body.contains("Valid (checked just now)"));
    let d = me_demand(&srv, &key, &demand_id).await;
    let hana_offer = d
        .offers
        .iter()
        .find(|o| o.holder.name == "Hana")
        .unwrap()
        .id
        .clone();
    let card = page.element("article", &format!("offer-{hana_offer}"));
    assert!(
        card.contains(&format!("href=\"/h/{}\"", holders[0].0)),
        "{card}"
    );
    assert!(card.contains("name=\"do\" value=\"accept\""), "{card}");

    // Accept, then Order & pay with the first-time form (saves the profile).
    let action = format!("/demands/{demand_id}/offers/{hana_offer}");
    let accepted = me
        .post(&action, &[("csrf", &page.csrf()), ("do", "accept")])
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let page = me.get(&demand_url).await;
    let card = page.element("article", &format!("offer-{hana_offer}"));
    assert!(
        card.contains("value=\"order\"") && card.contains("value=\"order_pay\""),
        "{card}"
    );
    assert!(
        card.contains("name=\"card_number\""),
        "no saved card yet: {card}"
    );
    let ordered = me
        .post(
            &action,
            &[
                ("csrf", &page.csrf()),
                ("do", "order_pay"),
                ("name", "Ada Lovelace"),
                ("line1", "12 St James's Square"),
                ("city", "London"),
                ("postal_code", "SW1Y 4JH"),
                ("country", "gb"),
                ("card_number", "4242 4242 4242 4242"),
            ],
        )
        .await;
    assert_eq!(ordered.status, 303, "{}", ordered.body);
    let order_url = ordered.location().to_string();
    assert!(order_url.starts_with("/orders/ord_"), "{order_url}");
    let order_id = order_url.trim_start_matches("/orders/").to_string();

    // The order page: paid, a timeline, live.
    let o = me.get(&order_url).await;
    assert_eq!(o.status, 200);
    let timeline = o.element("ol", "timeline");
    assert!(timeline.contains("data-status=\"placed\""));
    assert!(timeline.contains("data-status=\"paid\""), "{timeline}");
    assert!(!timeline.contains("data-status=\"shipped\""));
    assert!(o.body.contains("<td id=\"order-total\">$129.00</td>"));
    assert!(o.body.contains("name=\"do\" value=\"cancel\""));
    assert!(!o.body.contains("value=\"confirm_delivery\""));
    assert!(o
        .body
        .contains(&format!("data-live=\"/orders/{order_id}/live\"")));
    // The old link moved for good.
    let old = me.get(&format!("/o/{order_id}")).await;
    assert_eq!(old.status, 301);
    assert_eq!(old.location(), order_url);

    // The provider ships through the API; the timeline shows it.
    p.ship_order(&order_id).await.unwrap();
    let t = me.get(&format!("/orders/{order_id}/timeline")).await;
    assert_eq!(t.status, 200);
    assert!(t.body.contains("data-status=\"shipped\""), "{}", t.body);
    assert!(t.body.contains("value=\"confirm_delivery\""));
    assert!(
        !t.body.contains("value=\"cancel\""),
        "the table allows no cancel once shipped"
    );
    let confirmed = me
        .post(
            &order_url,
            &[("csrf", &t.csrf()), ("do", "confirm_delivery")],
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let o = me.get(&order_url).await;
    assert!(o
        .element("ol", "timeline")
        .contains("data-status=\"delivered\""));
    assert!(
        o.body.contains("value=\"request_return\"") && o.body.contains("value=\"open_dispute\"")
    );

    // Rate the holder; the holder's page shows it.
    assert!(o.body.contains("name=\"do\" value=\"rate\""));
    let rated = me
        .post(
            &order_url,
            &[
                ("csrf", &o.csrf()),
                ("do", "rate"),
                ("positive", "yes"),
                ("comment", "Quick and friendly"),
            ],
        )
        .await;
    assert_eq!(rated.status, 303, "{}", rated.body);
    let o = me.get(&order_url).await;
    assert!(!o.body.contains("value=\"rate\""), "rated once");
    assert!(o.body.contains("id=\"your-rating\""));
    let h = me.get(&format!("/h/{}", holders[0].0)).await;
    assert_eq!(h.status, 200);
    assert!(
        h.body.contains("Hana") && h.body.contains("Quick and friendly"),
        "{}",
        h.body
    );
    assert!(h.element("td", "positive-rate").contains("100%"));
    let orders = me.get("/orders").await;
    assert!(orders.body.contains(&format!("id=\"order-{order_id}\"")));

    // Something is wrong after all: a dispute, and its messages on the page.
    let opened = me
        .post(
            &order_url,
            &[
                ("csrf", &o.csrf()),
                ("do", "open_dispute"),
                ("kind", "not_as_described"),
                ("reason", "The lens is scratched"),
            ],
        )
        .await;
    assert_eq!(opened.status, 303, "{}", opened.body);
    let said = me
        .post(
            &order_url,
            &[
                ("csrf", &o.csrf()),
                ("do", "message"),
                ("body", "Photo attached by mail"),
            ],
        )
        .await;
    assert_eq!(said.status, 303, "{}", said.body);
    let o = me.get(&order_url).await;
    assert!(o
        .element("ol", "timeline")
        .contains("data-status=\"dispute\""));
    let trail = o.element("ul", "dispute-messages");
    assert!(trail.contains("Photo attached by mail"), "{trail}");
    assert!(
        !o.body.contains("value=\"open_dispute\""),
        "one dispute per order"
    );
    srv.stop().await;
}

/// The hidden inputs of a form, by name.
fn hidden_fields(form: &str) -> HashMap<String, String> {
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|s| {
            let name = s.split("name=\"").nth(1)?.split('"').next()?;
            let value = s.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_string(), value.replace("&#39;", "'")))
        })
        .collect()
}

async fn me_demand(srv: &TestServer, key: &str, id: &str) -> Demand {
    srv.anon().with_key(key).demand(id).await.unwrap()
}

async fn bad_fields_and_other_peoples_things(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (p, holders, key, r) = market(&srv).await;
    let me = web_sign_in(&srv, &key).await;
    let form = me.get("/demands/new").await;
    let bad = me
        .post(
            "/demands/new",
            &[
                ("csrf", &form.csrf()),
                ("query", "trail camera <b>"),
                ("min_positive_rate", "lots"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(
        "id=\"min_positive_rate\" name=\"min_positive_rate\" inputmode=\"decimal\" value=\"lots\" aria-invalid=\"true\" aria-describedby=\"min_positive_rate-error\""
    ), "{}", bad.body);
    assert!(bad
        .body
        .contains("<p class=\"field-error\" id=\"min_positive_rate-error\">Enter a percentage from 0 to 100.</p>"));
    assert!(
        bad.body.contains("value=\"trail camera &#60;b&#62;\"")
            || bad.body.contains("value=\"trail camera &lt;b&gt;\""),
        "{}",
        bad.body
    );
    // A field the exchange refuses: beside its field too.
    let bad = me
        .post(
            "/demands/new",
            &[
                ("csrf", &form.csrf()),
                ("query", "trail camera"),
                ("max_price", "12.345"),
                ("currency", "USD"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("id=\"max_price-error\""), "{}", bad.body);
    assert!(
        bad.body.contains("value=\"12.345\" aria-invalid=\"true\""),
        "{}",
        bad.body
    );
    // A forged form: refused.
    let forged = me
        .post(
            "/demands/new",
            &[("csrf", "nope"), ("query", "trail camera")],
        )
        .await;
    assert_eq!(forged.status, 403);

    // Ada's demand and order, through the API.
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    holders_answer(&holders, &["Mine", "Mine too"]).await;
    let full = r.demand(&d.id).await.unwrap();
    let o = buy(&r, &full.offers[0].id).await;
    // Another requester sees neither: 403 pages without Ada's data.
    let (_, eve) = srv.account("Eve", &[Role::Requester]).await;
    let eve = web_sign_in(&srv, eve.api_key().unwrap()).await;
    for path in [
        format!("/demands/{}", d.id),
        format!("/demands/{}/offers", d.id),
        format!("/demands/{}/live", d.id),
        format!("/orders/{}", o.id),
        format!("/orders/{}/timeline", o.id),
        format!("/orders/{}/live", o.id),
    ] {
        let page = eve.get(&path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(
            !page.body.contains("Mine")
                && !page.body.contains("Ada Lovelace")
                && !page.body.contains("trail camera"),
            "{path}: {}",
            page.body
        );
    }
    let eve_acts = eve
        .post(
            &format!("/orders/{}", o.id),
            &[
                ("csrf", &eve.get("/orders").await.csrf_or_empty()),
                ("do", "cancel"),
                ("reason", "mine now"),
            ],
        )
        .await;
    assert!(eve_acts.status == 403, "{}", eve_acts.status);
    assert_eq!(r.order(&o.id).await.unwrap().status, "paid");
    // Ada cancels it with the button; an empty reason is refused first.
    let page = me.get(&format!("/orders/{}", o.id)).await;
    let empty = me
        .post(
            &format!("/orders/{}", o.id),
            &[("csrf", &page.csrf()), ("do", "cancel"), ("reason", " ")],
        )
        .await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert!(empty.body.contains("id=\"error\""));
    let cancelled = me
        .post(
            &format!("/orders/{}", o.id),
            &[
                ("csrf", &page.csrf()),
                ("do", "cancel"),
                ("reason", "Found one nearby"),
            ],
        )
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    let page = me.get(&format!("/orders/{}", o.id)).await;
    let timeline = page.element("ol", "timeline");
    assert!(
        timeline.contains("data-status=\"cancelled\"") && timeline.contains("Found one nearby"),
        "{timeline}"
    );
    // Unknown: 404. Not signed in: to sign-in, coming back after.
    assert_eq!(me.get("/demands/dem_nope").await.status, 404);
    assert_eq!(me.get("/orders/ord_nope").await.status, 404);
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = anon
        .get(format!("{}/orders/{}", srv.url, o.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/login?next=/orders/{}", o.id).as_str()
    );
    drop(p);
    srv.stop().await;
}

impl Page {
    fn csrf_or_empty(&self) -> String {
        if self.body.contains("name=\"csrf\"") {
            self.csrf()
        } else {
            String::new()
        }
    }
}

/// A demand cancelled from its page: its pending requests are withdrawn,
/// no offer can be accepted, the button is gone; another requester's
/// cancel is a 403 page and changes nothing.
async fn a_demand_is_cancelled_from_its_page(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, holders, key, r) = market(&srv).await;
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    let web = web_sign_in(&srv, &key).await;
    let path = format!("/demands/{}", d.id);
    let page = web.get(&path).await;
    assert!(
        page.body.contains("value=\"cancel_demand\""),
        "a cancel button"
    );
    // Someone else's cancel: a 403 page, the demand untouched.
    let (_, other_key) = srv.account("Mallory", &[Role::Requester]).await;
    let other = web_sign_in(&srv, other_key.api_key().unwrap()).await;
    let csrf = other.get("/demands").await.csrf();
    let refused = other
        .post(&path, &[("csrf", &csrf), ("do", "cancel_demand")])
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        !refused.body.contains("trail camera"),
        "no data of the demand"
    );
    assert_ne!(me_demand(&srv, &key, &d.id).await.status, "cancelled");
    // Without the form's token: refused.
    let forged = web
        .post(&path, &[("csrf", "x"), ("do", "cancel_demand")])
        .await;
    assert_eq!(forged.status, 403);
    // The owner cancels.
    let done = web
        .post(&path, &[("csrf", &page.csrf()), ("do", "cancel_demand")])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), path);
    assert_eq!(me_demand(&srv, &key, &d.id).await.status, "cancelled");
    let after = web.get(&path).await;
    assert!(
        !after.body.contains("value=\"cancel_demand\""),
        "no button any more"
    );
    assert!(after.body.contains("data-status=\"cancelled\""));
    for (_, h) in &holders {
        let pending = h.inbox_pending(None, None).await.unwrap().items;
        assert!(pending.iter().all(|i| i.demand_id != d.id), "withdrawn");
    }
    // Cancelling again: the exchange's refusal, shown on the page.
    let again = web
        .post(&path, &[("csrf", &after.csrf()), ("do", "cancel_demand")])
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
}

/// The offer's order form takes a quantity (a whole number; 1 when left
/// empty), checked by the exchange like the API's.
async fn an_offer_is_ordered_in_the_quantity_asked(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, holders, key, r) = market(&srv).await;
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    holders_answer(&holders, &["one", "two"]).await;
    let web = web_sign_in(&srv, &key).await;
    let path = format!("/demands/{}", d.id);
    let offer = r.demand(&d.id).await.unwrap().offers[0].id.clone();
    let act = format!("{path}/offers/{offer}");
    let csrf = web.get(&path).await.csrf();
    let accepted = web.post(&act, &[("csrf", &csrf), ("do", "accept")]).await;
    assert_eq!(accepted.status, 303);
    let page = web.get(&path).await;
    assert!(page.body.contains(&format!("id=\"quantity-{offer}\"")));
    for (bad, status) in [("two", 400), ("0", 400), ("10001", 400)] {
        let r = web
            .post(&act, &[("csrf", &csrf), ("do", "order"), ("quantity", bad)])
            .await;
        assert_eq!(r.status, status, "quantity {bad}: {}", r.body);
        assert!(r.body.contains("id=\"error\""), "the message on the page");
    }
    assert!(r.orders(None, None, None).await.unwrap().items.is_empty());
    let ordered = web
        .post(&act, &[("csrf", &csrf), ("do", "order"), ("quantity", "3")])
        .await;
    assert_eq!(ordered.status, 303, "{}", ordered.body);
    let order = r.orders(None, None, None).await.unwrap().items.remove(0);
    assert_eq!((order.quantity, order.status.as_str()), (3, "placed"));
    assert_eq!(ordered.location(), format!("/orders/{}", order.id));
}

/// A demand for a model nobody holds: the pass sharing only some words is
/// not a real match, so nobody is asked, and the page names it as the closest.
async fn a_model_nobody_has_is_explained_with_the_closest_passes(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, _, key, _) = market(&srv).await;
    let me = web_sign_in(&srv, &key).await;
    let form = me.get("/demands/new").await;
    let refused = me
        .post(
            "/demands/new",
            &[
                ("csrf", &form.csrf()),
                ("query", "Trail camera TC-50"),
                ("min_holders", "2"),
                ("max_holders", "5"),
                ("ttl_seconds", "3600"),
                ("currency", "USD"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let why = refused.element("section", "explanation");
    assert!(
        why.contains(
            "No pass really matches the item (only some of its words): ruled out 2 holders"
        ),
        "{why}"
    );
    let closest = refused.element("ul", "closest");
    assert!(closest.contains("href=\"/p/pas_"), "{closest}");
    assert!(closest.contains("of what your query asks"), "{closest}");
    // The model it has is still found.
    let form = me.get("/demands/new").await;
    let found = me
        .post(
            "/demands/new",
            &[
                ("csrf", &form.csrf()),
                ("query", "Trail camera TC40"),
                ("min_holders", "2"),
                ("max_holders", "5"),
                ("ttl_seconds", "3600"),
                ("currency", "USD"),
            ],
        )
        .await;
    assert_eq!(found.status, 303, "{}", found.body);
}

on_both_backends!(
    a_model_nobody_has_is_explained_with_the_closest_passes,
    an_offer_is_ordered_in_the_quantity_asked,
    the_journey,
    bad_fields_and_other_peoples_things,
    a_demand_is_cancelled_from_its_page
);
