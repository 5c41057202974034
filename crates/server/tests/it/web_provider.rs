//! The provider's console over real HTTP with plain form posts: products
//! created (a 422 beside the bad field) and edited at `/catalog`, passes
//! issued at `/passes/new`, granted to a holder found by name and revoked on
//! `/passes/{id}`; the orders to ship at `/orders` with the buyer's address,
//! live; shipping and a partial refund from the order page (checked through
//! the API); `/sales` with its chart and top lists; other roles and other
//! providers refused; the pages in Chinese.

use crate::harness::*;
use crate::on_both_backends;
use crate::web_journey::{web_sign_in, Browser, Page};
use symbolon_client::api::*;
use symbolon_client::Client;

/// The id in a `/prefix/{id}` redirect.
fn id_after(p: &Page, prefix: &str) -> String {
    assert_eq!(p.status, 303, "{}", p.body);
    p.location()
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{} is not under {prefix}", p.location()))
        .to_string()
}

async fn create_product(me: &Browser, title: &str, price: &str) -> Page {
    let form = me.get("/catalog").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = form.csrf();
    me.post(
        "/catalog",
        &[
            ("csrf", &csrf),
            ("title", title),
            ("description", "Waterproof, 20 MP"),
            ("category", "electronics/cameras"),
            ("price", price),
            ("currency", "USD"),
            ("stock", "10"),
            ("gtin", ""),
            ("spec_key_0", "resolution"),
            ("spec_value_0", "20 MP"),
            ("spec_key_1", ""),
            ("spec_value_1", ""),
        ],
    )
    .await
}

async fn issue(me: &Browser, product: &str, mode: &str, units: &str) -> String {
    let form = me.get(&format!("/passes/new?product_id={product}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("id=\"pass-form\"") && form.body.contains("id=\"pass-issue\""));
    let csrf = form.csrf();
    let issued = me
        .post(
            "/passes/new",
            &[
                ("csrf", &csrf),
                ("product_id", product),
                ("mode", mode),
                ("units", units),
                ("commission_bps", "1000"),
                ("valid_until", ""),
            ],
        )
        .await;
    id_after(&issued, "/passes/")
}

async fn provider_console(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (pid, p) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let me = web_sign_in(&srv, p.api_key().unwrap()).await;

    // A bad price and an empty title: 422, the message beside the field.
    let bad = create_product(&me, "Trail camera", "12.3.4").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad
        .element("form", "product-form")
        .contains("id=\"price-error\""));
    assert!(bad.body.contains("value=\"Trail camera\""), "inputs kept");
    let empty = create_product(&me, "", "129.00").await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("id=\"title-error\""), "{}", empty.body);
    assert!(p.products(None, None).await.unwrap().items.is_empty());

    // Created, then edited (stock and a new spec row).
    let made = create_product(&me, "Trail camera TC-40", "129.00").await;
    let product = id_after(&made, "/catalog/");
    let api_product = p.product(&product).await.unwrap();
    assert_eq!(api_product.price.amount, "129.00");
    assert_eq!(api_product.specs["resolution"], "20 MP");
    let edit = me.get(&format!("/catalog/{product}")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.body.contains("id=\"product-save\""));
    assert!(
        edit.body.contains("name=\"spec_key_3\""),
        "extra empty rows"
    );
    let csrf = edit.csrf();
    let saved = me
        .post(
            &format!("/catalog/{product}"),
            &[
                ("csrf", &csrf),
                ("title", "Trail camera TC-40"),
                ("description", "Waterproof, 20 MP"),
                ("category", "electronics/cameras"),
                ("price", "119.00"),
                ("currency", "USD"),
                ("stock", "8"),
                ("gtin", ""),
                ("spec_key_0", "resolution"),
                ("spec_value_0", "20 MP"),
                ("spec_key_1", "battery"),
                ("spec_value_1", "8 months"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let api_product = p.product(&product).await.unwrap();
    assert_eq!(
        (api_product.stock, api_product.price.amount.as_str()),
        (8, "119.00")
    );
    assert_eq!(api_product.specs["battery"], "8 months");
    let bad_stock = me
        .post(
            &format!("/catalog/{product}"),
            &[
                ("csrf", &csrf),
                ("title", "Trail camera TC-40"),
                ("price", "119.00"),
                ("currency", "USD"),
                ("stock", "lots"),
            ],
        )
        .await;
    assert_eq!(bad_stock.status, 422);
    assert!(bad_stock.body.contains("id=\"stock-error\""));

    // Passes: a unique one of 3 units and a shareable one; both listed.
    let unique = issue(&me, &product, "unique", "3").await;
    let shareable = issue(&me, &product, "shareable", "").await;
    let u = p.pass(&unique).await.unwrap();
    assert_eq!((u.mode, u.units), (PassMode::Unique, Some(3)));
    assert_eq!(p.pass(&shareable).await.unwrap().mode, PassMode::Shareable);
    let catalog = me.get("/catalog").await;
    for id in [&unique, &shareable] {
        assert!(
            catalog.body.contains(&format!("href=\"/passes/{id}\"")),
            "{id}"
        );
    }
    let form = me.get("/passes/new").await;
    let too_many = me
        .post(
            "/passes/new",
            &[
                ("csrf", &form.csrf()),
                ("product_id", &product),
                ("mode", "unique"),
                ("units", "99"),
                ("commission_bps", "1000"),
            ],
        )
        .await;
    assert_eq!(too_many.status, 422, "{}", too_many.body);
    assert!(too_many.body.contains("id=\"units-error\""));

    // A holder found by name and granted; a requester-only namesake is not found.
    let (hid, h) = srv.account("Hana Distributing", &[Role::Holder]).await;
    h.set_holder_profile(&fields(&["electronics/cameras"]))
        .await
        .unwrap();
    let (_, _) = srv.account("Hana Buyer", &[Role::Requester]).await;
    let found = me.get(&format!("/passes/{shareable}?q=hana")).await;
    assert_eq!(found.status, 200, "{}", found.body);
    let results = found.element("table", "holder-results");
    assert!(
        results.contains("Hana Distributing") && !results.contains("Hana Buyer"),
        "{results}"
    );
    assert!(found.body.contains(&format!("id=\"grant-{hid}\"")));
    assert!(
        found.body.contains("id=\"holder-search\"")
            && found
                .element("form", "holder-search")
                .contains("name=\"q\"")
    );
    let by_id = me.get(&format!("/passes/{shareable}?q={hid}")).await;
    assert!(by_id.body.contains(&format!("id=\"grant-{hid}\"")));
    let granted = me
        .post(
            &format!("/passes/{shareable}/grant"),
            &[("csrf", &found.csrf()), ("holder_id", &hid)],
        )
        .await;
    assert_eq!(granted.status, 303, "{}", granted.body);
    assert_eq!(h.wallet().await.unwrap().items.len(), 1);
    let admin = me.get(&format!("/passes/{shareable}")).await;
    assert!(admin
        .element("table", "holder-table")
        .contains("Hana Distributing"));
    assert!(admin.body.contains("symbolon seal --pass"));
    assert!(admin
        .element("p", "seal-state")
        .contains("No sealed secret"));
    // A unique pass: too many units is 422 beside the field.
    let page = me.get(&format!("/passes/{unique}?q=hana")).await;
    let over = me
        .post(
            &format!("/passes/{unique}/grant"),
            &[("csrf", &page.csrf()), ("holder_id", &hid), ("units", "7")],
        )
        .await;
    assert_eq!(over.status, 422, "{}", over.body);
    assert!(over.body.contains("id=\"units-error\""));
    let ok = me
        .post(
            &format!("/passes/{unique}/grant"),
            &[("csrf", &page.csrf()), ("holder_id", &hid), ("units", "2")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);

    // Revocation needs the box ticked.
    let unticked = me
        .post(
            &format!("/passes/{unique}/revoke"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(unticked.status, 422);
    assert!(unticked.body.contains("id=\"confirm-error\""));
    assert!(p.pass(&unique).await.unwrap().revoked_at.is_none());
    assert!(page.body.contains("id=\"revoke\""));
    let revoked = me
        .post(
            &format!("/passes/{unique}/revoke"),
            &[("csrf", &page.csrf()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(revoked.status, 303);
    assert!(p.pass(&unique).await.unwrap().revoked_at.is_some());
    assert!(me
        .get(&format!("/passes/{unique}"))
        .await
        .body
        .contains("id=\"revoked\""));

    // The orders page: live, then a requester orders and pays through the holder's link.
    let (_, r) = srv.account("Ada", &[Role::Requester]).await;
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let orders = me.get("/orders").await;
    assert_eq!(orders.status, 200);
    assert!(orders.body.contains("data-live=\"/orders/live\""));
    let stream = me
        .req(me.http.get(format!("{}/orders/live", me.base)))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let order = r
        .pass_order(
            &shareable,
            &CreatePassOrder {
                quantity: Some(2),
                pay: true,
                via: Some(hid.clone()),
                ship_to: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(order.status, "paid");
    wait_for_change(stream).await;
    let orders = me.get("/orders").await;
    let row = orders.element("li", &format!("order-{}", order.id));
    assert!(
        row.contains("12 St James&#x27;s Square")
            || row.contains("12 St James's Square")
            || row.contains("12 St James&#39;s Square"),
        "{row}"
    );
    assert!(row.contains(&format!("id=\"ship-{}\"", order.id)));
    let fragment = me.get("/orders/fragment?status=paid").await;
    assert!(
        fragment.body.contains(&format!("order-{}", order.id)) && !fragment.body.contains("<html")
    );
    let filtered = me.get("/orders?status=shipped").await;
    assert!(!filtered
        .body
        .contains(&format!("id=\"order-{}\"", order.id)));
    assert_eq!(me.get("/orders?status=lost").await.status, 400);

    // The order page: Ship (with tracking), then refunds.
    let page = me.get(&format!("/orders/{}", order.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"ship\"") && page.body.contains("id=\"ship-to\""));
    let shipped = me
        .post(
            &format!("/orders/{}", order.id),
            &[
                ("csrf", &page.csrf()),
                ("do", "ship"),
                ("tracking", "UPS 1Z999"),
            ],
        )
        .await;
    assert_eq!(shipped.status, 303, "{}", shipped.body);
    let o = p.order(&order.id).await.unwrap();
    assert_eq!(
        (o.status.as_str(), o.tracking.as_deref()),
        ("shipped", Some("UPS 1Z999"))
    );
    let page = me.get(&format!("/orders/{}", order.id)).await;
    assert!(!page.body.contains("id=\"ship\""));
    let bad = me
        .post(
            &format!("/orders/{}", order.id),
            &[
                ("csrf", &page.csrf()),
                ("do", "refund"),
                ("amount", "abc"),
                ("reason", "scratched"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad
        .element("form", "refund-form")
        .contains("id=\"amount-error\""));
    let too_much = me
        .post(
            &format!("/orders/{}", order.id),
            &[
                ("csrf", &page.csrf()),
                ("do", "refund"),
                ("amount", "9999.00"),
                ("reason", "scratched"),
            ],
        )
        .await;
    assert_eq!(too_much.status, 422, "{}", too_much.body);
    assert!(too_much.body.contains("id=\"amount-error\""));
    let refunded = me
        .post(
            &format!("/orders/{}", order.id),
            &[
                ("csrf", &page.csrf()),
                ("do", "refund"),
                ("amount", "10.00"),
                ("reason", "scratched"),
            ],
        )
        .await;
    assert_eq!(refunded.status, 303, "{}", refunded.body);
    assert_eq!(
        p.order(&order.id).await.unwrap().refunded_total.amount,
        "10.00"
    );

    // Sales: 2 × 119.00 − 10.00 = 228.00; the holder's commission shows.
    let sales = me.get("/sales").await;
    assert_eq!(sales.status, 200, "{}", sales.body);
    assert!(
        sales.element("td", "revenue-USD").contains("228.00"),
        "{}",
        sales.body
    );
    assert!(sales.body.contains("<svg"), "a chart");
    assert!(sales.body.contains("<table"));
    assert!(sales
        .element("tr", &format!("top-product-{product}"))
        .contains("Trail camera TC-40"));
    assert!(sales
        .element("tr", &format!("top-holder-{hid}"))
        .contains("Hana Distributing"));

    // The requester's own view is unchanged; the requester sees no provider actions.
    let buyer = web_sign_in(&srv, r.api_key().unwrap()).await;
    let mine = buyer.get("/orders").await;
    assert!(mine.body.contains(&format!("id=\"order-{}\"", order.id)));
    assert!(!mine.body.contains("id=\"ship-"));
    let theirs = buyer.get(&format!("/orders/{}", order.id)).await;
    assert!(!theirs.body.contains("id=\"provider-actions\""));
    let forged = buyer
        .post(
            &format!("/orders/{}", order.id),
            &[
                ("csrf", &theirs.csrf()),
                ("do", "refund"),
                ("amount", "1.00"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    // Wrong roles: 403; signed out: to sign-in.
    let (_, holder_only) = (hid.clone(), web_sign_in(&srv, h.api_key().unwrap()).await);
    for path in [
        "/catalog",
        "/passes/new",
        "/sales",
        &format!("/passes/{shareable}"),
        &format!("/catalog/{product}"),
    ] {
        assert_eq!(holder_only.get(path).await.status, 403, "{path}");
        assert_eq!(buyer.get(path).await.status, 403, "{path}");
    }
    assert_eq!(buyer.get("/orders/live").await.status, 403);
    let anon = web_client()
        .get(format!("{}/sales", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 303);
    assert!(anon.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next=/sales"));

    // Another provider: the API's 403 on the pass, the product and the order.
    let (_, rival) = srv.account("Rival", &[Role::Provider]).await;
    let them = web_sign_in(&srv, rival.api_key().unwrap()).await;
    assert_eq!(them.get(&format!("/passes/{shareable}")).await.status, 403);
    assert_eq!(them.get(&format!("/catalog/{product}")).await.status, 403);
    let theirs = them.get(&format!("/orders/{}", order.id)).await.status;
    assert!(theirs == 403 || theirs == 404, "{theirs}");
    assert!(!them.get("/orders").await.body.contains(&order.id));
    let _ = pid;

    // In Chinese.
    let mut zh = web_sign_in(&srv, p.api_key().unwrap()).await;
    zh.lang = Some("zh-CN");
    for (path, text) in [
        ("/catalog", "商品目录"),
        ("/passes/new", "签发通行证"),
        (&format!("/passes/{shareable}") as &str, "持有人"),
        ("/orders", "待处理订单"),
        ("/sales", "收入"),
    ] {
        let page = zh.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(text), "{path}: {}", page.body);
    }
}

/// A holder's reputation is public, its address never shown to it.
async fn holders_see_no_address(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, p) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let prod = p
        .create_product(&product("Lens", "electronics/cameras", "10.00", 5))
        .await
        .unwrap();
    let pass = p.create_pass(&shareable(&prod.id, 500)).await.unwrap();
    let (hid, h) = srv.account("Ivo", &[Role::Holder, Role::Provider]).await;
    p.grant(&pass.id, &grant(&hid)).await.unwrap();
    let (_, r) = srv.account("Ada", &[Role::Requester]).await;
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let o = r
        .pass_order(
            &pass.id,
            &CreatePassOrder {
                quantity: Some(1),
                pay: true,
                via: Some(hid.clone()),
                ship_to: None,
            },
        )
        .await
        .unwrap();
    // The holder (who is also a provider of nothing here) gets no address and no actions.
    let hb = web_sign_in(&srv, h.api_key().unwrap()).await;
    let page = hb.get(&format!("/orders/{}", o.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("St James"), "{}", page.body);
    assert!(!page.body.contains("id=\"provider-actions\""));
    assert!(!hb.get("/orders").await.body.contains("St James"));
    let _: &Client = &h;
}

/// A catalogue longer than a page: `/catalog` lists the first page and
/// links to the next, which holds the rest (the newest product included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_pages_through_every_product() {
    use symbolon_core::limits::MAX_PAGE_LIMIT;
    // One key makes a page and one more of products at once: more than the
    // default burst of 200 requests per key.
    let srv = TestServer::configured(
        Backend::Sqlite,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.rate_limit_burst = 1000,
    )
    .await;
    let (_, p) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let n = MAX_PAGE_LIMIT as usize + 1;
    for i in 0..n {
        p.create_product(&product(
            &format!("Lens {i:03}"),
            "electronics/cameras",
            "10.00",
            1,
        ))
        .await
        .unwrap();
    }
    let me = web_sign_in(&srv, p.api_key().unwrap()).await;
    let first = me.get("/catalog").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body.matches("class=\"product\"").count(), n - 1);
    let newest = format!("Lens {:03}", n - 1);
    assert!(!first.body.contains(&newest));
    let at = first
        .body
        .find("id=\"catalog-next\"")
        .expect("a next-page link");
    let href_at = first.body[..at].rfind("href=\"").expect("its href") + 6;
    let href = first.body[href_at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let second = me.get(&href).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body.matches("class=\"product\"").count(), 1);
    assert!(second.body.contains(&newest), "the newest on page two");
    assert!(!second.body.contains("id=\"catalog-next\""));
}

on_both_backends!(provider_console, holders_see_no_address);
