//! The security headers: every HTML page (of every role, error pages, the
//! 404 page) carries the CSP without inline script, `frame-ancestors
//! 'none'`, `nosniff` and the referrer policy, and holds no inline script
//! or style the CSP would block; JSON and assets carry `nosniff` and a
//! policy that lets nothing run; HSTS only when the public URL is https.

use crate::harness::*;
use crate::web_journey::{holders_answer, market, web_sign_in, Browser, Page};
use symbolon_server::headers::{HSTS, OTHER_CSP, PAGE_CSP};

/// The headers every HTML response carries, and no inline code in it.
fn assert_page_headers(what: &str, page: &Page) {
    let h = |name: &str| {
        page.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{what}: no {name}"))
    };
    assert!(h("content-type").starts_with("text/html"), "{what}");
    assert_eq!(h("content-security-policy"), PAGE_CSP, "{what}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "same-origin", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    assert!(
        page.headers.get("strict-transport-security").is_none(),
        "{what}: HSTS over http"
    );
    // Nothing inline for the CSP to block: scripts come from /assets (a
    // JSON-LD data block is not a script), no style element or attribute,
    // no event handler attribute.
    let b = &page.body;
    for (i, _) in b.match_indices("<script") {
        let tag = &b[i..i + b[i..].find('>').unwrap()];
        assert!(
            tag.contains(" src=\"/assets/") || tag.contains("type=\"application/ld+json\""),
            "{what}: inline script {tag}"
        );
        assert!(!tag.contains("nonce"), "{what}: {tag}");
    }
    assert!(!b.contains("<style") && !b.contains(" style=\""), "{what}");
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onchange=",
        " onerror=",
    ] {
        assert!(!b.contains(handler), "{what}: {handler}");
    }
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let srv = TestServer::start().await;
    // A market (a provider's product and pass, two holders, a requester)
    // whose demand was answered, bought and shipped.
    let (p, holders, _, r) = market(&srv).await;
    let prod = p.products(None, None).await.unwrap().items.remove(0);
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    holders_answer(&holders, &["Yes", "Sure"]).await;
    let full = r.demand(&d.id).await.unwrap();
    let o = buy(&r, &full.offers[0].id).await;
    p.ship_order(&o.id).await.unwrap();
    let op = symbolon_server::admin::create_operator(srv.config(), "Olga")
        .await
        .unwrap();

    let requester = web_sign_in(&srv, r.api_key().unwrap()).await;
    let holder = web_sign_in(&srv, holders[0].1.api_key().unwrap()).await;
    let provider = web_sign_in(&srv, p.api_key().unwrap()).await;
    let operator = web_sign_in(&srv, &op.api_key).await;
    let visitor = Browser {
        http: web_client(),
        base: srv.url.clone(),
        cookie: String::new(),
        lang: None,
    };
    let hid = &holders[0].0;
    let walks: Vec<(&Browser, Vec<(String, u16)>)> = vec![
        (
            &visitor,
            vec![
                ("/".into(), 200),
                ("/login".into(), 200),
                ("/signup".into(), 200),
                (format!("/p/{}", o.pass_id), 200),
                (format!("/h/{hid}"), 200),
                ("/unsubscribe?t=nope".into(), 404),
            ],
        ),
        (
            &requester,
            vec![
                ("/".into(), 200),
                ("/demands/new?query=x".into(), 200),
                ("/demands".into(), 200),
                (format!("/demands/{}", d.id), 200),
                (format!("/demands/{}/offers", d.id), 200),
                ("/orders".into(), 200),
                (format!("/orders/{}", o.id), 200),
                (format!("/orders/{}/timeline", o.id), 200),
                ("/balance".into(), 200),
                ("/account".into(), 200),
                ("/settings/webhooks".into(), 200),
                ("/demands/dem_nope".into(), 404),
                ("/inbox".into(), 403),
            ],
        ),
        (
            &holder,
            vec![
                ("/inbox".into(), 200),
                ("/inbox/list".into(), 200),
                ("/wallet".into(), 200),
                ("/earnings".into(), 200),
                ("/reputation".into(), 200),
            ],
        ),
        (
            &provider,
            vec![
                ("/catalog".into(), 200),
                (format!("/catalog/{}", prod.id), 200),
                ("/passes/new".into(), 200),
                (format!("/passes/{}", o.pass_id), 200),
                ("/sales".into(), 200),
                ("/orders".into(), 200),
                ("/orders/fragment?status=shipped".into(), 200),
                ("/settings/keys".into(), 200),
            ],
        ),
        (&operator, vec![("/operator/disputes".into(), 200)]),
    ];
    let mut seen = 0;
    for (who, paths) in &walks {
        for (path, status) in paths {
            let page = who.get(path).await;
            assert_eq!(page.status, *status, "{path}: {}", page.body);
            assert_page_headers(path, &page);
            seen += 1;
        }
    }
    assert!(seen >= 30, "{seen} pages");
    // A path no route serves: the 404 page for a browser, JSON otherwise.
    let nope = Browser::page(
        visitor
            .http
            .get(format!("{}/no/such/page", srv.url))
            .header("accept", "text/html,application/xhtml+xml"),
    )
    .await;
    assert_eq!(nope.status, 404);
    assert_page_headers("404 page", &nope);
    let json = visitor.get("/no/such/page").await;
    assert_eq!(json.status, 404);
    assert!(json.body.contains("route_not_found"), "{}", json.body);

    // Everything else: nosniff, and a policy under which nothing runs.
    let css = requester.get("/assets/app.css").await;
    let api = Browser::page(
        visitor
            .http
            .get(format!("{}/v1/account", srv.url))
            .bearer_auth(r.api_key().unwrap()),
    )
    .await;
    let health = visitor.get("/healthz").await;
    for (what, page) in [("asset", &css), ("api", &api), ("healthz", &health)] {
        assert_eq!(page.status, 200, "{what}");
        assert_eq!(page.headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(page.headers["content-security-policy"], OTHER_CSP, "{what}");
        assert!(page.headers.get("strict-transport-security").is_none());
    }
    srv.stop().await;
}

#[tokio::test]
async fn hsts_only_when_the_public_url_is_https() {
    let srv = TestServer::start_with_public_url("https://symbolon.example").await;
    let http = web_client();
    for path in ["/login", "/healthz", "/v1/no-such", "/assets/app.css"] {
        let r = http
            .get(format!("http://{}{path}", srv.addr()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["strict-transport-security"], HSTS, "{path}");
    }
    srv.stop().await;
    let srv = TestServer::start().await;
    for path in ["/login", "/healthz"] {
        let r = http.get(format!("{}{path}", srv.url)).send().await.unwrap();
        assert!(
            r.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
    srv.stop().await;
}
