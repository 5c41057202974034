//! The web app in headless Chromium: every page at phone and desktop widths,
//! in English and in Chinese, checked by axe-core and saved as a screenshot
//! to `target/test-artefacts/web/`.

use crate::chromium::{Browser, Chromium, DESKTOP, PHONE};
use crate::harness::*;
use symbolon_client::api::*;

/// The languages and widths every page is checked in.
const VIEWS: [(&str, (u32, u32), &str); 4] = [
    ("en-US", PHONE, "phone"),
    ("en-US", DESKTOP, "desktop"),
    ("zh-CN", PHONE, "phone"),
    ("zh-CN", DESKTOP, "desktop"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_are_accessible_in_both_languages_and_widths() {
    let Some(tools) = Chromium::tools("the_public_pages_are_accessible") else {
        return;
    };
    let srv = TestServer::configured(
        Backend::Sqlite,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.public_url = Some(LOCALHOST.into()),
    )
    .await;
    let (_, provider) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let (h1_id, _) = srv.account("Hana's Outdoor Shop", &[Role::Holder]).await;
    let prod = provider
        .create_product(&product(
            "Trail camera TC-40",
            "electronics/cameras/trail",
            "129.00",
            20,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 1_000))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&h1_id)).await.unwrap();
    for (lang, size, width) in VIEWS {
        let b = tools.open(size, lang).await;
        for (name, path) in [
            ("pass", format!("/p/{}?via={h1_id}", pass.id)),
            ("login", "/login".to_string()),
        ] {
            b.goto(&format!("{}{path}", srv.url)).await;
            b.wait_for("main").await;
            let html_lang = b
                .client
                .execute("return document.documentElement.lang", vec![])
                .await
                .unwrap();
            assert_eq!(html_lang.as_str(), Some(lang), "{name} in {lang}");
            b.check_page(&format!("{name}-{lang}-{width}")).await;
        }
        b.close().await;
    }
}

/// The world of a journey: a provider with a trail camera on a shareable
/// pass granted to two holders who cover the field.
struct World {
    srv: TestServer,
    provider: symbolon_client::Client,
    holders: Vec<(String, symbolon_client::Client)>,
    pass_id: String,
}

async fn world(backend: Backend) -> World {
    let srv = TestServer::configured(
        backend,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.public_url = Some(LOCALHOST.into()),
    )
    .await;
    let (_, provider) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let prod = provider
        .create_product(&product(
            "Trail camera TC-40",
            "electronics/cameras/trail",
            "129.00",
            20,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 1_000))
        .await
        .unwrap();
    let mut holders = Vec::new();
    for name in ["Hana's Outdoor Shop", "Hugo"] {
        let (id, h) = srv.account(name, &[Role::Holder]).await;
        h.set_holder_profile(&fields(&["electronics/cameras"]))
            .await
            .unwrap();
        provider.grant(&pass.id, &grant(&id)).await.unwrap();
        holders.push((id, h));
    }
    World {
        srv,
        provider,
        holders,
        pass_id: pass.id,
    }
}

/// Every holder answers its newest request with the pass.
async fn holders_answer(w: &World, note: &str) {
    for (_, h) in &w.holders {
        let req = h.inbox_pending(None, None).await.unwrap().items;
        let req = req.last().expect("a request");
        h.offer(
            &req.id,
            &CreateOffer {
                pass_id: w.pass_id.clone(),
                note: Some(note.into()),
            },
        )
        .await
        .unwrap();
    }
}

/// Signs up on `/signup` with `password` and the one role `role`.
pub(crate) async fn sign_up(
    b: &Browser,
    base: &str,
    name: &str,
    email: &str,
    password: &str,
    role: &str,
) {
    b.goto(&format!("{base}/signup")).await;
    b.fill("input[name=name]", name).await;
    b.fill("input[name=email]", email).await;
    b.fill("input[name=password]", password).await;
    for r in ["requester", "holder", "provider"] {
        let box_ = b.wait_for(&format!("input[name=roles][value={r}]")).await;
        if box_.is_selected().await.unwrap() != (r == role) {
            box_.click().await.unwrap();
        }
    }
    b.click_and_load("#btn-signup").await;
    b.wait_for("form[action='/logout']").await;
}

/// On a demand's page with an accepted offer: opens the first-time form and
/// fills in the ship-to address and the sandbox card.
pub(crate) async fn fill_first_time_order(b: &Browser) {
    b.wait_for("article.offer.accepted button[name=do][value=order_pay]")
        .await;
    b.click("article.offer.accepted details.first-time summary")
        .await;
    for (field, value) in [
        ("name", "Ada Lovelace"),
        ("line1", "12 St James's Square"),
        ("city", "London"),
        ("postal_code", "SW1Y 4JH"),
        ("country", "GB"),
        ("card_number", "4242424242424242"),
    ] {
        b.fill(&format!("article.offer.accepted [name={field}]"), value)
            .await;
    }
}

/// The requester's whole journey in one language at one width.
async fn journey(tools: &Chromium, backend: Backend, lang: &str, size: (u32, u32), width: &str) {
    let w = world(backend).await;
    let base = w.srv.url.clone();
    let url = |p: &str| format!("{base}{p}");
    let tag = |page: &str| format!("{page}-{lang}-{width}");
    let b = tools.open(size, lang).await;

    // ---- home and sign-up
    b.goto(&url("/")).await;
    b.wait_for("form#ask-form").await;
    b.check_page(&tag("home")).await;
    b.goto(&url("/signup")).await;
    b.wait_for("input[name=email]").await;
    b.check_page(&tag("signup")).await;
    let email = format!("ada.{}.{width}@example.org", lang.to_lowercase());
    sign_up(
        &b,
        &base,
        "Ada",
        &email,
        "correct horse battery",
        "requester",
    )
    .await;

    // ---- "What do you need?" leads to the demand form, which posts it
    b.goto(&url("/")).await;
    b.fill("form#ask-form input[name=query]", "trail camera")
        .await;
    b.click("form#ask-form button[type=submit]").await;
    b.wait_for("form#demand-form").await;
    let query = b
        .wait_for("form#demand-form input[name=query]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(query.as_deref(), Some("trail camera"), "the box's query");
    b.check_page(&tag("demand-new")).await;
    // A bad field: the form again, the message beside the field, the input kept.
    b.fill("form#demand-form input[name=max_price]", "cheap")
        .await;
    b.click("form#demand-form button[type=submit]").await;
    b.wait_for("#max_price-error").await;
    let kept = b
        .wait_for("form#demand-form input[name=max_price]")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("cheap"));
    b.check_page(&tag("demand-bad-field")).await;
    // Criteria no holder meets: the refusal in words, with a way out.
    b.fill("form#demand-form input[name=max_price]", "").await;
    b.fill("form#demand-form input[name=min_ratings]", "3")
        .await;
    b.click("form#demand-form button[type=submit]").await;
    b.wait_for("#explanation").await;
    b.check_page(&tag("demand-refused")).await;
    b.fill("form#demand-form input[name=min_ratings]", "").await;
    b.click("form#demand-form button[type=submit]").await;
    b.wait_for("#offers-title").await;
    let demand_path = b.path().await;
    assert!(demand_path.starts_with("/demands/dem_"), "{demand_path}");
    b.check_page(&tag("demand-waiting")).await;

    // ---- offers arrive without a reload
    b.mark().await;
    holders_answer(&w, "In stock, ships today").await;
    b.wait_count("article.offer", 2, false).await;
    assert!(b.still_marked().await, "the offers came without a reload");
    let compared = b.text("main").await;
    for needle in ["Hana's Outdoor Shop", "Hugo", "In stock, ships today"] {
        assert!(compared.contains(needle), "{needle} in {compared}");
    }
    b.check_page(&tag("demand-offers")).await;

    // ---- accept the first, then Order & pay in one click
    b.click("article.offer button[name=do][value=accept]").await;
    // First time: the short form that saves the address and card.
    fill_first_time_order(&b).await;
    b.check_page(&tag("demand-accepted")).await;
    b.click("article.offer.accepted button[name=do][value=order_pay]")
        .await;
    b.wait_for("ol#timeline li[data-status=paid]").await;
    let order_path = b.path().await;
    assert!(order_path.starts_with("/orders/ord_"), "{order_path}");
    let order_id = order_path.trim_start_matches("/orders/").to_string();
    b.check_page(&tag("order-paid")).await;

    // ---- the provider ships: the timeline moves without a reload
    b.mark().await;
    w.provider.ship_order(&order_id).await.unwrap();
    b.wait_for("ol#timeline li[data-status=shipped]").await;
    assert!(b.still_marked().await, "the timeline moved live");

    // ---- delivery confirmed, the holder rated
    b.click("button[name=do][value=confirm_delivery]").await;
    b.wait_for("ol#timeline li[data-status=delivered]").await;
    b.fill("form#rate-form [name=comment]", "Sharp pictures")
        .await;
    b.click("form#rate-form button[name=do][value=rate]").await;
    b.wait_for("#your-rating").await;
    b.check_page(&tag("order-rated")).await;

    // ---- the lists and the rated holder's public page
    b.goto(&url("/orders")).await;
    assert!(b.text("main").await.contains(&order_id[..12]));
    b.check_page(&tag("orders")).await;
    b.goto(&url("/demands")).await;
    b.wait_for("main").await;
    b.check_page(&tag("demands")).await;
    b.goto(&url(&demand_path)).await;
    b.click("article.offer.accepted a.holder").await;
    b.wait_for("main").await;
    assert!(b.path().await.starts_with("/h/acc_"));
    let holder_page = b.text("main").await;
    assert!(
        holder_page.contains("Sharp pictures"),
        "the rating on the holder's page: {holder_page}"
    );
    b.check_page(&tag("holder")).await;
    b.goto(&url("/account")).await;
    assert!(b.text("main").await.contains(&email), "the account page");
    b.check_page(&tag("account")).await;
    b.goto(&url("/balance")).await;
    b.wait_for("main").await;
    b.check_page(&tag("balance")).await;
    b.goto(&url("/orders/ord_nothing_here")).await;
    b.wait_for("main").await;
    b.check_page(&tag("not-found")).await;
    b.close().await;
}

/// The journey at phone and desktop widths, in English and Chinese, on `backend`.
async fn the_requester_journey_in_chromium(backend: Backend) {
    let Some(tools) = Chromium::tools("the_requester_journey_in_chromium") else {
        return;
    };
    for (lang, size, width) in VIEWS {
        journey(&tools, backend, lang, size, width).await;
    }
}

crate::on_both_backends!(the_requester_journey_in_chromium);

/// Passkeys in Chromium with the WebDriver virtual authenticator: sign up,
/// add a passkey on the account page (the authenticator then holds it and
/// the page lists it), sign out, and sign in again with the passkey alone.
async fn passkeys_in_chromium(backend: Backend) {
    let Some(tools) = Chromium::tools("passkeys_in_chromium") else {
        return;
    };
    let srv = TestServer::configured(
        backend,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.public_url = Some(LOCALHOST.into()),
    )
    .await;
    let base = srv.url.clone();
    let b = tools.open(DESKTOP, "en-US").await;
    let authenticator = b.add_virtual_authenticator().await;
    assert!(b.authenticator_credentials(&authenticator).await.is_empty());
    sign_up(
        &b,
        &base,
        "Pia Passkey",
        "pia@example.org",
        "correct horse battery",
        "requester",
    )
    .await;
    b.goto(&format!("{base}/account")).await;
    // The script shows the form (hidden without it).
    b.wait_for("#passkey-add:not([hidden])").await;
    b.fill("#passkey-name", "Test laptop").await;
    b.click("#btn-passkey-add").await;
    b.wait_count("li.passkey", 1, false).await;
    assert!(b.text("#passkeys").await.contains("Test laptop"));
    assert_eq!(b.authenticator_credentials(&authenticator).await.len(), 1);
    b.check_page("account-passkey-en-US-desktop").await;
    b.click("form[action='/logout'] button").await;
    b.wait_for("#passkey-login:not([hidden])").await;
    b.click("#btn-passkey-login").await;
    b.wait_for("form[action='/logout']").await;
    assert_eq!(b.path().await, "/account");
    assert!(b.text("#account-email").await.contains("pia@example.org"));
    assert!(
        !b.text("#passkeys").await.contains("never used"),
        "the passkey's last use is shown"
    );
    b.close().await;
}

crate::on_both_backends!(passkeys_in_chromium);
