//! The pass page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver). Checks every section, signs in, clicks **Order & pay**,
//! sees the confirmation, and checks through the API that the order and its
//! ledger entries exist with the holder credited; saves a phone-width
//! screenshot to `target/test-artefacts/pass-page-phone.png`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).
//! Without them the test says so and passes — except under `CI`, where it fails.

use crate::harness::*;
use fantoccini::{ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use symbolon_client::api::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A phone's CSS viewport (iPhone 12–15).
const PHONE: (u32, u32) = (390, 844);

pub(crate) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The browser tools, or `None` after saying the test is skipped (which
/// fails under `CI`, where the browser tests must run).
pub(crate) fn tools_or_skip() -> Option<(String, String)> {
    let found = tools();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: install chromium and chromium-driver"
        );
        eprintln!("browser test skipped: {CHROMIUM} or {CHROMEDRIVER} missing (apt-get install chromium chromium-driver)");
    }
    found
}

fn tools() -> Option<(String, String)> {
    let chromium = std::env::var("SYMBOLON_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    let driver = std::env::var("SYMBOLON_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    (std::path::Path::new(&chromium).exists() && std::path::Path::new(&driver).exists())
        .then_some((chromium, driver))
}

async fn start_driver(path: &str) -> (Driver, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (Driver(child), url)
}

/// chromedriver and a headless Chromium session at phone width (keep the
/// driver alive as long as the session).
pub(crate) async fn phone_browser(
    chromium: &str,
    chromedriver: &str,
) -> (Driver, fantoccini::Client) {
    let (driver, driver_url) = start_driver(chromedriver).await;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     format!("--window-size={},{}", PHONE.0, PHONE.1), "--hide-scrollbars"],
        }),
    );
    let browser = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver_url)
        .await
        .expect("a WebDriver session");
    (driver, browser)
}

pub(crate) fn artefact_dir() -> std::path::PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("test-artefacts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_orders_and_pays_from_the_pass_page_in_chromium() {
    let Some((chromium, chromedriver)) = tools_or_skip() else {
        return;
    };
    // ---- the world: a pass with specs, a purchase and a review, a holder's link
    let srv = TestServer::start().await;
    let (_, provider) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana's Outdoor Shop", &[Role::Holder]).await;
    let (h2_id, h2) = srv.account("Hugo", &[Role::Holder]).await;
    let (_, earlier) = srv.account("Earlier buyer", &[Role::Requester]).await;
    let (buyer_id, buyer) = srv.account("Ada", &[Role::Requester]).await;
    let (_, newcomer) = srv.account("Grace", &[Role::Requester]).await;
    let mut p = product(
        "Trail camera TC-40 <4K>",
        "electronics/cameras/trail",
        "129.00",
        20,
    );
    p.description = "Weatherproof trail camera with 0.2 s trigger & night vision.".into();
    p.gtin = Some("4006381333931".into());
    p.specs.insert("Resolution".into(), "24 MP".into());
    p.specs.insert("Battery".into(), "8 × AA".into());
    let prod = provider.create_product(&p).await.unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 1_000))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&h1_id)).await.unwrap();
    provider.grant(&pass.id, &grant(&h2_id)).await.unwrap();
    earlier
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let d = earlier
        .create_demand(&demand("trail camera"))
        .await
        .unwrap();
    let req = h2
        .inbox(None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|i| i.demand_id == d.id)
        .unwrap();
    let o = h2
        .offer(
            &req.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    earlier.accept(&o.id).await.unwrap();
    let bought = earlier.create_order(&order(&o.id, 2, true)).await.unwrap();
    deliver(&provider, &earlier, &bought.id).await;
    earlier
        .rate(
            &o.id,
            &CreateRating {
                positive: true,
                comment: Some("Sharp pictures, quick delivery".into()),
            },
        )
        .await
        .unwrap();
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let _ = h1;
    let buyer_email = web_login(&srv, buyer.api_key().unwrap()).await;
    let newcomer_email = web_login(&srv, newcomer.api_key().unwrap()).await;

    // ---- the browser
    let (_driver, browser) = phone_browser(&chromium, &chromedriver).await;
    let page = format!("{}/p/{}?via={}", srv.url, pass.id, h1_id);
    browser.goto(&page).await.unwrap();
    let text = |id: &'static str| {
        let b = browser.clone();
        async move {
            b.find(Locator::Id(id))
                .await
                .unwrap_or_else(|_| panic!("#{id}"))
                .text()
                .await
                .unwrap()
        }
    };
    // Every section.
    assert!(
        text("intro").await.contains("Trail camera TC-40 <4K>"),
        "escaped title shown as text"
    );
    assert!(text("description")
        .await
        .contains("0.2 s trigger & night vision"));
    assert_eq!(text("price").await, "$129.00");
    assert!(text("provider").await.contains("Nordlicht Optics"));
    assert_eq!(
        text("via").await,
        "Hana's Outdoor Shop",
        "the holder whose link this is"
    );
    let specs = text("specs").await;
    assert!(
        specs.contains("Resolution") && specs.contains("24 MP") && specs.contains("4006381333931"),
        "{specs}"
    );
    assert_eq!(text("order-count").await, "1");
    let purchases = browser
        .find_all(Locator::Css("#purchases li.purchase"))
        .await
        .unwrap();
    assert_eq!(purchases.len(), 1);
    assert!(
        purchases[0].text().await.unwrap().contains("ordered 2"),
        "anonymised: quantity and date"
    );
    assert!(
        !text("purchases").await.contains("Earlier buyer"),
        "buyers are anonymous"
    );
    let reviews = text("reviews").await;
    assert!(
        reviews.contains("Sharp pictures, quick delivery") && reviews.contains("100%"),
        "{reviews}"
    );
    let qr = browser
        .find(Locator::Css("#qr svg"))
        .await
        .expect("a QR code as SVG");
    assert!(qr.html(false).await.unwrap().contains("<svg"));
    assert!(text("verify").await.contains("symbolon pass verify"));
    // Structured data: schema.org Product/Offer JSON-LD and Open Graph.
    let ld_text = browser
        .execute(
            "return document.querySelector('script[type=\"application/ld+json\"]').textContent",
            vec![],
        )
        .await
        .unwrap();
    let ld: serde_json::Value = serde_json::from_str(ld_text.as_str().unwrap()).unwrap();
    assert_eq!(ld["@type"], "Product");
    assert_eq!(ld["offers"]["@type"], "Offer");
    assert_eq!(ld["offers"]["price"], "129.00");
    assert_eq!(ld["gtin"], "4006381333931");
    assert_eq!(ld["aggregateRating"]["ratingCount"], 1);
    let og = browser
        .find(Locator::Css("meta[property='og:title']"))
        .await
        .unwrap()
        .attr("content")
        .await
        .unwrap();
    assert_eq!(og.as_deref(), Some("Trail camera TC-40 <4K>"));
    // The page fits a phone: nothing scrolls sideways.
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "horizontal overflow {overflow}"
    );
    let dir = artefact_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let full_height = browser
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(PHONE.1 as u64) as u32;
    let _ = browser
        .set_window_size(PHONE.0, full_height.max(PHONE.1))
        .await;
    let png = browser.screenshot().await.unwrap();
    assert_eq!(&png[1..4], b"PNG");
    std::fs::write(dir.join("pass-page-phone.png"), &png).unwrap();

    // ---- sign in from the page (and come back), then Order & pay, in one
    // click (the profile is saved)
    let sign_in_here = |email: String| {
        let b = browser.clone();
        async move {
            b.find(Locator::Id("pass-login"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            b.wait().for_element(Locator::Id("login")).await.unwrap();
            b.find(Locator::Id("email"))
                .await
                .unwrap()
                .send_keys(&email)
                .await
                .unwrap();
            b.find(Locator::Id("password"))
                .await
                .unwrap()
                .send_keys(WEB_PASSWORD)
                .await
                .unwrap();
            b.find(Locator::Id("btn-login"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            b.wait()
                .for_element(Locator::Id("order-form"))
                .await
                .unwrap();
        }
    };
    sign_in_here(buyer_email).await;
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("/p/"),
        "back on the pass page"
    );
    browser
        .find(Locator::Id("btn-order-pay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let headline = match browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("headline"))
        .await
    {
        Ok(h) => h,
        Err(e) => panic!(
            "no confirmation ({e}); the browser shows {}:\n{}",
            browser.current_url().await.unwrap(),
            browser.source().await.unwrap_or_default()
        ),
    };
    assert_eq!(headline.text().await.unwrap(), "Order placed and paid");
    let order_id = text("order-id").await;
    assert_eq!(text("order-total").await, "$129.00");
    std::fs::write(
        dir.join("pass-page-confirmation-phone.png"),
        browser.screenshot().await.unwrap(),
    )
    .unwrap();

    // Signed in now: back on the page, one click is enough.
    browser.goto(&page).await.unwrap();
    assert!(text("signed-in").await.contains("Ada"));
    assert!(
        browser.find(Locator::Id("pass-login")).await.is_err(),
        "no sign-in link once signed in"
    );
    assert!(text("ship-to").await.contains("Ada Lovelace"));
    browser
        .find(Locator::Id("btn-order"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let headline = browser
        .wait()
        .for_element(Locator::Id("headline"))
        .await
        .unwrap();
    assert_eq!(headline.text().await.unwrap(), "Order placed");
    // ---- sign out; a newcomer without a saved profile uses the short form
    browser.goto(&page).await.unwrap();
    browser
        .find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("login"))
        .await
        .unwrap();
    browser.goto(&page).await.unwrap();
    sign_in_here(newcomer_email).await;
    for (id, value) in [
        ("name", "Grace Hopper"),
        ("line1", "1 Navy Way"),
        ("city", "Arlington"),
        ("postal_code", "22202"),
        ("country", "us"),
        ("card_number", "4242 4242 4242 4242"),
    ] {
        browser
            .find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    browser
        .find(Locator::Id("btn-order-pay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let headline = browser
        .wait()
        .for_element(Locator::Id("headline"))
        .await
        .unwrap();
    assert_eq!(headline.text().await.unwrap(), "Order placed and paid");
    let saved = newcomer.requester_profile().await.unwrap();
    assert_eq!(
        saved.ship_to.unwrap().city,
        "Arlington",
        "the short form saved the address"
    );
    assert_eq!(saved.payment_method.unwrap().last4, "4242");
    browser.close().await.unwrap();

    // ---- the record: the order, the ledger, the holder credited
    let o = buyer.order(&order_id).await.unwrap();
    assert_eq!(
        (o.status.as_str(), o.requester_id.as_str()),
        ("paid", buyer_id.as_str())
    );
    assert_eq!(
        o.holder_id.as_deref(),
        Some(h1_id.as_str()),
        "credited to the holder whose link it was"
    );
    assert_eq!(o.commission.amount, "12.90");
    assert_eq!(o.offer_id, None);
    assert_eq!(
        balance_of(&h1).await.as_deref(),
        Some("25.80"),
        "commission on the two paid orders made through the holder's link"
    );
    assert_eq!(balance_of(&buyer).await.as_deref(), Some("-129.00"));
    let orders = buyer.orders(None, None, None).await.unwrap();
    assert_eq!(orders.items.len(), 2, "Order & pay, then Order");
    assert!(orders.items.iter().any(|o| o.status == "placed"));
}

/// Forms refuse a POST without the page's CSRF token, and sign-in cookies are
/// `HttpOnly; SameSite=Lax` (no browser needed for these).
#[tokio::test]
async fn page_forms_need_the_csrf_token_and_cookies_are_http_only() {
    let srv = TestServer::start().await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Lamp", "home/lighting", "20.00", 5))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/p/{}", srv.url, pass.id))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let pre = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Lax"),
        "{pre}"
    );
    let cookie = pre.split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let post = |body: String, cookie: Option<String>| {
        let mut r = http
            .post(format!("{}/p/{}/order", srv.url, pass.id))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r.send()
    };
    // No token, a wrong token, or the token without its cookie: refused, nothing ordered.
    for (body, c) in [
        ("action=order_and_pay".to_string(), Some(cookie.clone())),
        (
            "action=order_and_pay&csrf=AAAA".to_string(),
            Some(cookie.clone()),
        ),
        (format!("action=order_and_pay&csrf={csrf}"), None),
    ] {
        assert_eq!(post(body, c).await.unwrap().status(), 403);
    }
    assert!(buyer
        .orders(None, None, None)
        .await
        .unwrap()
        .items
        .is_empty());
    // The right token but not signed in: 401 and the page again with the error.
    let r = post(format!("action=order&csrf={csrf}"), Some(cookie))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("id=\"error\""));
    // Signed in (an HttpOnly session cookie): the session's token orders.
    let email = web_login(&srv, buyer.api_key().unwrap()).await;
    let signed = sign_in(&srv, &http, &email, WEB_PASSWORD, "/login").await;
    let raw = signed.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        raw.starts_with("sym_session=") && raw.contains("HttpOnly") && raw.contains("SameSite=Lax")
    );
    assert!(!raw.contains("Secure"), "not on an http public URL");
    let session = set_cookie(&signed, "sym_session").unwrap();
    let page = http
        .get(format!("{}/p/{}", srv.url, pass.id))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    let r = post(format!("action=order&csrf={csrf}"), Some(session))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/orders/ord_"));
    assert_eq!(buyer.orders(None, None, None).await.unwrap().items.len(), 1);
    // Sign-in redirects only to local paths.
    let login = http
        .get(format!("{}/login?next=https://evil.example/", srv.url))
        .send()
        .await
        .unwrap();
    assert!(login
        .text()
        .await
        .unwrap()
        .contains("name=\"next\" value=\"/login\""));
    // An unknown pass: a 404 page.
    assert_eq!(
        http.get(format!("{}/p/pas_nope", srv.url))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Behind https, the session and CSRF cookies are `Secure` too.
#[tokio::test]
async fn cookies_are_secure_on_an_https_public_url() {
    let srv = TestServer::start_with_public_url("https://exchange.example").await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Lamp", "home/lighting", "20.00", 5))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    assert!(pass.page.starts_with("https://exchange.example/p/"));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/p/{}", srv.url, pass.id))
        .send()
        .await
        .unwrap();
    let pre = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(pre.contains("; Secure"), "{pre}");
    let email = web_login(&srv, buyer.api_key().unwrap()).await;
    let r = sign_in(
        &srv,
        &http,
        &email,
        WEB_PASSWORD,
        &format!("/p/{}", pass.id),
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/p/{}", pass.id)
    );
    let session = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        session.starts_with("sym_session=")
            && session.contains("; Secure")
            && session.contains("HttpOnly")
    );
}
