//! Web pages beyond the journey: the CSP and the assets' caching, every
//! page in Chinese, and the demand page's live offers in headless Chromium.

use crate::harness::*;
use crate::web_journey::{holders_answer, market, web_sign_in, Browser};
use symbolon_client::api::*;

#[tokio::test]
async fn the_csp_allows_no_inline_code_and_assets_are_cached_for_good() {
    let srv = TestServer::start().await;
    let (_, r) = srv.account("Ada", &[Role::Requester]).await;
    let me = web_sign_in(&srv, r.api_key().unwrap()).await;
    let home = me.get("/").await;
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!home.body.contains("<style") && !home.body.contains(" style=\""));
    assert!(home
        .body
        .contains("<link rel=\"manifest\" href=\"/assets/manifest.webmanifest\">"));
    let css = home
        .body
        .split("<link rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(
        css.starts_with("/assets/app.") && css.ends_with(".css"),
        "{css}"
    );
    let a = me.get(&css).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let etag = a.headers["etag"].to_str().unwrap().to_string();
    let again = Browser::page(
        me.http
            .get(format!("{}{css}", srv.url))
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let plain = me.get("/assets/app.css").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.headers["cache-control"], "public, max-age=300");
    for (path, ty) in [
        ("/assets/live.js", "text/javascript"),
        ("/assets/manifest.webmanifest", "application/manifest+json"),
        ("/assets/icon-192.png", "image/png"),
        ("/assets/icon-512.png", "image/png"),
        ("/assets/icon.svg", "image/svg+xml"),
    ] {
        let a = me.get(path).await;
        assert_eq!(a.status, 200, "{path}");
        assert!(
            a.headers["content-type"].to_str().unwrap().starts_with(ty),
            "{path}"
        );
    }
    assert_eq!(me.get("/assets/nope.css").await.status, 404);
    srv.stop().await;
}

#[tokio::test]
async fn every_page_speaks_chinese() {
    let srv = TestServer::start().await;
    let (p, holders, key, r) = market(&srv).await;
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    holders_answer(&holders, &["好", "好的"]).await;
    let full = r.demand(&d.id).await.unwrap();
    let o = buy(&r, &full.offers[0].id).await;
    p.ship_order(&o.id).await.unwrap();
    let mut me = web_sign_in(&srv, &key).await;
    me.lang = Some("zh-CN,zh;q=0.9");
    let refused = {
        let form = me.get("/demands/new").await;
        me.post(
            "/demands/new",
            &[
                ("csrf", &form.csrf()),
                ("query", "trail camera"),
                ("min_ratings", "5"),
            ],
        )
        .await
    };
    assert_eq!(refused.status, 422);
    let mut pages = vec![("refused", refused)];
    for path in [
        "/".to_string(),
        "/demands/new?query=x".to_string(),
        "/demands".to_string(),
        format!("/demands/{}", d.id),
        format!("/demands/{}/offers", d.id),
        "/orders".to_string(),
        format!("/orders/{}", o.id),
        format!("/orders/{}/timeline", o.id),
        format!("/h/{}", holders[0].0),
        format!("/p/{}", o.pass_id),
        "/balance".to_string(),
    ] {
        let page = me.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        pages.push(("page", page));
    }
    for (what, page) in &pages {
        let b = &page.body;
        assert!(!b.contains("Unknown localization"), "{what}: {b}");
        if b.contains("<html") {
            assert!(b.contains("<html lang=\"zh-CN\">"), "{what}");
        }
        for english in [
            "Sign out",
            "My orders",
            "Offers",
            "Progress",
            "Refresh",
            "holders",
        ] {
            assert!(
                !b.contains(&format!(">{english}<")),
                "{what}: {english} in {b}"
            );
        }
    }
    let order = &pages
        .iter()
        .find(|(_, p)| p.body.contains("id=\"timeline\""))
        .unwrap()
        .1;
    assert!(
        order.body.contains("年") && order.body.contains("已发货"),
        "{}",
        order.body
    );
    assert!(pages[0].1.body.contains("为什么没有询问任何人"));
    srv.stop().await;
}

/// live.js in a real browser (headless Chromium, as `browser.rs`): the
/// demand page, open at phone width, shows the holders' offers as they
/// arrive without a reload, under the strict CSP, and says so in its live
/// region. Skipped (passing) without chromium and chromedriver, as there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_arrive_live_in_chromium() {
    use crate::browser::{artefact_dir, phone_browser, tools_or_skip};
    use fantoccini::Locator;
    use std::time::Duration;
    let Some((chromium, chromedriver)) = tools_or_skip() else {
        return;
    };
    let srv = TestServer::start().await;
    let (_, holders, key, r) = market(&srv).await;
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    let (_driver, browser) = phone_browser(&chromium, &chromedriver).await;
    // Sign in on the page, which comes back to the demand.
    browser
        .goto(&format!("{}/login?next=/demands/{}", srv.url, d.id))
        .await
        .unwrap();
    let email = web_login(&srv, &key).await;
    for (field, value) in [("email", email.as_str()), ("password", WEB_PASSWORD)] {
        browser
            .find(Locator::Css(&format!("input[name={field}]")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    browser
        .find(Locator::Id("btn-login"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Id("no-offers"))
        .await
        .expect("the demand page, no offers yet");
    // The script ran (it hides the Refresh link) and its stream is open.
    let hidden = browser
        .execute("return document.getElementById('refresh').hidden", vec![])
        .await
        .unwrap();
    assert_eq!(hidden, serde_json::json!(true), "live.js did not run");
    tokio::time::sleep(Duration::from_millis(500)).await;
    holders_answer(&holders, &["Ships today", "Spare batteries included"]).await;
    let full = r.demand(&d.id).await.unwrap();
    for o in &full.offers {
        browser
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Id(&format!("offer-{}", o.id)))
            .await
            .expect("the offer, live");
    }
    let announced = browser
        .execute(
            "return document.getElementById('live-status').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(announced, serde_json::json!("The offers were updated."));
    // The stylesheet applied under the CSP, and nothing overflows a phone.
    let looks = browser
        .execute(
            "return [getComputedStyle(document.body).backgroundColor, document.documentElement.scrollWidth <= window.innerWidth]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(looks, serde_json::json!(["rgb(246, 247, 249)", true]));
    let dir = artefact_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let png = browser.screenshot().await.unwrap();
    std::fs::write(dir.join("demand-page-phone.png"), &png).unwrap();
    let _ = browser.close().await;
    srv.stop().await;
}
