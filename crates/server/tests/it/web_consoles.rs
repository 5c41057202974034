//! The whole exchange through the web, with a browser per party at once: a
//! provider, two holders and a requester, each signed up on `/signup`.
//! The provider lists a product, issues a pass and grants it to both
//! holders; the requester posts a demand; both holders see it arrive in
//! `/inbox` without a reload and answer; the requester compares, orders and
//! pays; the provider sees the order arrive on `/orders` without a reload
//! and ships it; the requester confirms delivery and rates the holder, whose
//! `/earnings` and `/reputation` then show the commission and the rating.
//! In English and in Chinese, at phone and desktop widths; every page is
//! checked by axe-core and saved as a screenshot.

use crate::chromium::{Browser, Chromium, DESKTOP, PHONE};
use crate::harness::*;
use crate::web_browser::{fill_first_time_order, sign_up};

/// Sets the value of a `<select>` by its option's value.
async fn select(b: &Browser, css: &str, value: &str) {
    let el = b.wait_for(css).await;
    el.select_by_value(value).await.unwrap();
}

/// The exchange in four browsers at one width and in one language.
async fn exchange_in_four_browsers(
    tools: &Chromium,
    backend: Backend,
    lang: &str,
    size: (u32, u32),
    width: &str,
) {
    let srv = TestServer::configured(
        backend,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.public_url = Some(LOCALHOST.into()),
    )
    .await;
    let base = srv.url.clone();
    let url = |p: &str| format!("{base}{p}");
    let tag = |page: &str| format!("console-{page}-{lang}-{width}");
    let suffix = format!("{}.{width}", lang.to_lowercase());
    let (p, h1, h2, r) = tokio::join!(
        tools.open(size, lang),
        tools.open(size, lang),
        tools.open(size, lang),
        tools.open(size, lang)
    );

    // ---- everyone signs up on the web
    sign_up(
        &p,
        &base,
        "Nordlicht Optics",
        &format!("nordlicht.{suffix}@example.org"),
        WEB_PASSWORD,
        "provider",
    )
    .await;
    sign_up(
        &h1,
        &base,
        "Hana Outdoor",
        &format!("hana.{suffix}@example.org"),
        WEB_PASSWORD,
        "holder",
    )
    .await;
    sign_up(
        &h2,
        &base,
        "Hugo Trails",
        &format!("hugo.{suffix}@example.org"),
        WEB_PASSWORD,
        "holder",
    )
    .await;
    sign_up(
        &r,
        &base,
        "Ada",
        &format!("ada.{suffix}@example.org"),
        WEB_PASSWORD,
        "requester",
    )
    .await;

    // ---- the holders declare their field of focus
    for (h, name) in [(&h1, "h1"), (&h2, "h2")] {
        h.goto(&url("/reputation")).await;
        h.fill("#fields-form [name=fields]", "electronics/cameras")
            .await;
        h.click_and_load("#fields-save").await;
        h.wait_for("#fields-form").await;
        let fields = h
            .wait_for("#fields-form [name=fields]")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(fields.contains("electronics/cameras"), "{name}: {fields}");
    }
    h1.check_page(&tag("reputation-new")).await;

    // ---- the provider lists a product and issues a pass
    p.goto(&url("/catalog")).await;
    p.wait_for("#product-form").await;
    p.check_page(&tag("catalog-empty")).await;
    for (field, value) in [
        ("title", "Trail camera TC-40"),
        (
            "description",
            "Weatherproof trail camera, 20 MP, night vision.",
        ),
        ("category", "electronics/cameras/trail"),
        ("price", "129.00"),
        ("stock", "20"),
    ] {
        p.fill(&format!("#product-form [name={field}]"), value)
            .await;
    }
    p.click_and_load("#product-save").await;
    p.wait_for("#product-form").await;
    assert!(
        p.text("main").await.contains("Trail camera TC-40"),
        "the product is listed"
    );
    p.check_page(&tag("catalog")).await;
    p.goto(&url("/passes/new")).await;
    p.wait_for("#pass-form").await;
    select(&p, "#pass-form [name=mode]", "shareable").await;
    p.fill("#pass-form [name=commission_bps]", "1000").await;
    p.check_page(&tag("pass-new")).await;
    p.click_and_load("#pass-issue").await;
    p.wait_for("#holder-search").await;
    let pass_path = p.path().await;
    assert!(pass_path.starts_with("/passes/pas_"), "{pass_path}");
    let pass_id = pass_path.trim_start_matches("/passes/").to_string();
    // Grants: each holder found by name, with its reputation shown.
    for name in ["Hana Outdoor", "Hugo Trails"] {
        p.fill("#holder-search [name=q]", name).await;
        p.click_and_load("#holder-search button").await;
        p.wait_count("[id^='grant-']", 1, true).await;
        if name == "Hana Outdoor" {
            p.check_page(&tag("pass-holder-search")).await;
        }
        p.click_and_load("[id^='grant-']").await;
        p.wait_for("#holder-search").await;
    }
    let pass_page = p.text("main").await;
    for name in ["Hana Outdoor", "Hugo Trails"] {
        assert!(
            pass_page.contains(name),
            "{name} holds the pass: {pass_page}"
        );
    }
    p.check_page(&tag("pass-granted")).await;

    // ---- the holders watch their inboxes; the provider its orders
    for h in [&h1, &h2] {
        h.goto(&url("/inbox")).await;
        h.wait_for("#inbox").await;
        h.mark().await;
    }
    h1.check_page(&tag("inbox-empty")).await;
    h1.mark().await;
    p.goto(&url("/orders")).await;
    p.wait_for("main").await;
    p.mark().await;

    // ---- the requester asks
    r.goto(&url("/")).await;
    r.fill("form#ask-form input[name=query]", "trail camera")
        .await;
    r.click("form#ask-form button[type=submit]").await;
    r.wait_for("form#demand-form").await;
    r.click("form#demand-form button[type=submit]").await;
    r.wait_for("#offers-title").await;
    let demand_path = r.path().await;
    assert!(demand_path.starts_with("/demands/dem_"), "{demand_path}");
    r.mark().await;

    // ---- both holders see it arrive without a reload, and answer
    for (h, name) in [(&h1, "h1"), (&h2, "h2")] {
        h.wait_count("#inbox [id^='req-']", 1, true).await;
        assert!(h.still_marked().await, "{name}: the request came live");
        let text = h.text("#inbox").await;
        assert!(text.contains("trail camera"), "{name}: {text}");
    }
    h1.check_page(&tag("inbox-request")).await;
    for (h, note) in [(&h1, "In stock, ships today"), (&h2, "Two left")] {
        let form = h.wait_for("#inbox form[id^='answer-']").await;
        let form_id = form.attr("id").await.unwrap().unwrap();
        select(h, &format!("#{form_id} [name=pass]"), &pass_id).await;
        h.fill(&format!("#{form_id} [name=note]"), note).await;
        h.click_and_load(&format!("#{form_id}-send")).await;
        h.wait_for("main").await;
    }
    h2.check_page(&tag("inbox-answered")).await;

    // ---- the requester compares, accepts Hana's offer, orders and pays
    r.wait_count("article.offer", 2, true).await;
    assert!(r.still_marked().await, "the offers came without a reload");
    let compared = r.text("main").await;
    for needle in ["Hana Outdoor", "Hugo Trails", "Two left"] {
        assert!(compared.contains(needle), "{needle} in {compared}");
    }
    r.check_page(&tag("requester-offers")).await;
    let hana = r
        .client
        .execute(
            "return [...document.querySelectorAll('article.offer')]
                .find(a => a.querySelector('a.holder').textContent.includes('Hana Outdoor')).id",
            vec![],
        )
        .await
        .unwrap();
    let hana = hana.as_str().expect("Hana's offer").to_string();
    r.click(&format!("#{hana} button[name=do][value=accept]"))
        .await;
    fill_first_time_order(&r).await;
    r.click("article.offer.accepted button[name=do][value=order_pay]")
        .await;
    r.wait_for("ol#timeline li[data-status=paid]").await;
    let order_id = r.path().await.trim_start_matches("/orders/").to_string();
    assert!(order_id.starts_with("ord_"), "{order_id}");
    r.mark().await;

    // ---- the provider sees the order arrive, with the address, and ships it
    p.wait_count(&format!("#order-{order_id}"), 1, true).await;
    assert!(p.still_marked().await, "the order came live");
    let orders = p.text("main").await;
    assert!(orders.contains("12 St James's Square"), "{orders}");
    p.check_page(&tag("provider-orders")).await;
    p.click_and_load(&format!("#ship-{order_id}")).await;
    p.wait_for("main").await;

    // ---- the requester sees it shipped live, confirms delivery, rates
    r.wait_for("ol#timeline li[data-status=shipped]").await;
    assert!(r.still_marked().await, "the timeline moved live");
    r.click("button[name=do][value=confirm_delivery]").await;
    r.wait_for("ol#timeline li[data-status=delivered]").await;
    r.fill("form#rate-form [name=comment]", "Sharp pictures")
        .await;
    r.click("form#rate-form button[name=do][value=rate]").await;
    r.wait_for("#your-rating").await;

    // ---- the holder's earnings and reputation show it
    h1.goto(&url("/earnings")).await;
    h1.wait_for("main").await;
    let earnings = h1.text("main").await;
    assert!(earnings.contains(&order_id[..12]), "{earnings}");
    assert!(
        h1.client
            .find(fantoccini::Locator::Css("figure.chart svg"))
            .await
            .is_ok(),
        "the commission chart"
    );
    h1.check_page(&tag("earnings")).await;
    h1.goto(&url("/reputation")).await;
    h1.wait_for("main").await;
    let reputation = h1.text("main").await;
    assert!(reputation.contains("Sharp pictures"), "{reputation}");
    h1.check_page(&tag("reputation")).await;
    h1.goto(&url("/wallet")).await;
    h1.wait_for("main").await;
    let wallet = h1.text("main").await;
    assert!(
        !wallet.contains("12 St James's Square"),
        "no buyer's address for a holder: {wallet}"
    );
    h1.check_page(&tag("wallet")).await;

    // ---- the provider's other pages
    p.goto(&url("/sales")).await;
    p.wait_for("main").await;
    assert!(p.text("main").await.contains("Trail camera TC-40"));
    p.check_page(&tag("sales")).await;
    p.goto(&url(&pass_path)).await;
    p.wait_for("main").await;
    p.check_page(&tag("pass-sold")).await;
    p.goto(&url(&format!("/orders/{order_id}"))).await;
    p.wait_for("main").await;
    p.check_page(&tag("provider-order")).await;
    p.goto(&url("/settings/webhooks")).await;
    p.wait_for("#webhook-form").await;
    p.check_page(&tag("webhooks")).await;
    p.goto(&url("/settings/keys")).await;
    p.wait_for("main").await;
    p.check_page(&tag("keys")).await;

    // ---- roles: each console is closed to the others
    h2.goto(&url("/catalog")).await;
    h2.wait_for("main").await;
    assert!(
        h2.text("main").await.contains("403"),
        "a holder on /catalog"
    );
    h2.check_page(&tag("forbidden")).await;
    p.goto(&url("/inbox")).await;
    p.wait_for("main").await;
    assert!(p.text("main").await.contains("403"), "a provider on /inbox");
    r.goto(&url("/operator/disputes")).await;
    r.wait_for("main").await;
    assert!(
        r.text("main").await.contains("403"),
        "a requester on /operator"
    );

    for b in [p, h1, h2, r] {
        b.close().await;
    }
}

/// The views the story runs in: both languages at both widths on SQLite;
/// on PostgreSQL one per language (the pages are the same, the store is what differs).
async fn the_exchange_in_four_browsers(backend: Backend) {
    let Some(tools) = Chromium::tools("the_exchange_in_four_browsers") else {
        return;
    };
    let views: &[(&str, (u32, u32), &str)] = match backend {
        Backend::Sqlite => &[
            ("en-US", PHONE, "phone"),
            ("en-US", DESKTOP, "desktop"),
            ("zh-CN", PHONE, "phone"),
            ("zh-CN", DESKTOP, "desktop"),
        ],
        Backend::Postgres => &[("en-US", DESKTOP, "desktop"), ("zh-CN", PHONE, "phone")],
    };
    for (lang, size, width) in views {
        exchange_in_four_browsers(&tools, backend, lang, *size, width).await;
    }
}

crate::on_both_backends!(the_exchange_in_four_browsers);
