//! The settings pages and the operator's disputes in the browser, over real
//! HTTP with plain form posts: `/settings/webhooks` (an endpoint added by
//! the form with its secret shown once, a bad URL refused beside the field,
//! disabled and enabled, its secret rotated, a replay, the delivery attempts
//! of a real local receiver), `/settings/keys` (the keys, the JWKS link,
//! rotation with a confirmation, no private material) and
//! `/operator/disputes` (the open disputes with their messages, partial
//! refunds, rejections and full refunds as the API's rules have them). Who
//! may see which page, and every page in Chinese.

use crate::harness::*;
use crate::on_both_backends;
use crate::web_journey::{market, web_sign_in, Browser, Page};
use axum::extract::State;
use axum::http::HeaderMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::webhook;

on_both_backends!(
    webhooks_are_added_shown_once_switched_rotated_and_attempted,
    signing_keys_are_listed_and_rotated_with_a_confirmation,
    operators_resolve_disputes_by_the_apis_rules,
    settings_and_disputes_belong_to_their_roles,
);

/// A webhook receiver that answers 200 and keeps what it got.
#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<(HeaderMap, String)>>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: String) -> &'static str {
    r.got.lock().unwrap().push((headers, body));
    "ok"
}

async fn start_receiver() -> (String, Arc<Receiver>) {
    let r = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, r)
}

/// The text of the element with `id` (its first child text, up to `<`).
fn text_of<'a>(page: &'a Page, id: &str) -> &'a str {
    let tag = format!("id=\"{id}\"");
    let at = page
        .body
        .find(&tag)
        .unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let rest = &page.body[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap();
    &rest[start..start + end]
}

/// A server whose webhooks may reach this machine, retrying fast.
async fn server(backend: Backend) -> TestServer {
    TestServer::configured(backend, Arc::new(symbolon_core::SystemClock), |c| {
        c.allow_private_webhooks = true;
        c.webhook_retry_schedule = vec![Duration::from_millis(100)];
    })
    .await
}

/// The requester buys through a new demand answered by the first holder:
/// the paid order.
async fn a_paid_order(holders: &[(String, Client)], r: &Client) -> Order {
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    let (_, h) = &holders[0];
    let item = h.inbox_pending(None, None).await.unwrap().items.remove(0);
    let offer = h
        .offer(
            &item.id,
            &CreateOffer {
                pass_id: item.matched_pass_ids[0].clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(offer.demand_id, d.id);
    buy(r, &offer.id).await
}

async fn webhooks_are_added_shown_once_switched_rotated_and_attempted(backend: Backend) {
    let srv = server(backend).await;
    let (p, holders, _, r) = market(&srv).await;
    let pid = p.whoami().await.unwrap().id;
    let me = web_sign_in(&srv, p.api_key().unwrap()).await;

    let empty = me.get("/settings/webhooks").await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("id=\"webhook-form\""));
    assert!(empty.body.contains("id=\"no-webhooks\""));
    assert!(
        empty.body.contains("href=\"/settings/keys\""),
        "the sub-navigation"
    );

    // A bad URL: 422, the message beside the field, the input kept.
    for bad in ["not a url", "ftp://hooks.example.com/x", ""] {
        let refused = me
            .post(
                "/settings/webhooks",
                &[("csrf", &empty.csrf()), ("url", bad)],
            )
            .await;
        assert_eq!(refused.status, 422, "{bad}: {}", refused.body);
        let field = refused.element("input", "url");
        assert!(field.contains("aria-invalid=\"true\""), "{field}");
        assert!(!text_of(&refused, "url-error").trim().is_empty());
        assert!(!refused.body.contains("id=\"webhook-secret\""));
    }
    assert!(p.webhooks().await.unwrap().items.is_empty());

    // Added: the secret shown this once.
    let (url, rx) = start_receiver().await;
    let added = me
        .post(
            "/settings/webhooks",
            &[("csrf", &empty.csrf()), ("url", &url)],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    let secret = text_of(&added, "webhook-secret").to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let hooks = p.webhooks().await.unwrap().items;
    assert_eq!(hooks.len(), 1);
    let id = hooks[0].id.clone();
    assert_eq!(
        (hooks[0].url.as_str(), hooks[0].status.as_str()),
        (url.as_str(), "active")
    );
    let again = me.get("/settings/webhooks").await;
    assert!(
        !again.body.contains(&secret),
        "the secret is shown once only"
    );
    assert!(!again.body.contains("id=\"webhook-secret\""));
    assert!(again
        .element("article", &format!("webhook-{id}"))
        .contains(&url));

    // An event: the order is paid; the provider's endpoint receives it,
    // signed with the secret the page showed, and the attempt is listed.
    let o = a_paid_order(&holders, &r).await;
    let mut listed = None;
    for _ in 0..300 {
        let page = me.get("/settings/webhooks").await;
        if page.body.contains("class=\"attempt\"") {
            listed = Some(page);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = listed.expect("a delivery attempt is listed");
    let got = rx.got.lock().unwrap().clone();
    assert!(!got.is_empty());
    let (headers, body) = &got[0];
    let h = |n: &str| headers[n].to_str().unwrap().to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(
        webhook::verify(
            &secret,
            &h("webhook-id"),
            &h("webhook-timestamp"),
            &h("webhook-signature"),
            body.as_bytes(),
            now,
            300
        ),
        Ok(())
    );
    let row = listed.element("tr", &format!("attempt-{id}-0"));
    assert!(
        got.iter()
            .any(|(hs, _)| row.contains(hs["webhook-id"].to_str().unwrap())),
        "{row}"
    );
    assert!(row.contains(">200<"), "the response code: {row}");
    let api_attempts = p.webhook_attempts(&id).await.unwrap().items;
    assert!(api_attempts.iter().any(|a| a.status == Some(200)));
    assert!(body.contains(&o.id) || body.contains("order."), "{body}");

    // Disabled, then enabled, by the forms.
    let csrf = listed.csrf();
    let off = me
        .post(
            &format!("/settings/webhooks/{id}/disable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(off.status, 303);
    assert_eq!(p.webhook(&id).await.unwrap().status, "disabled");
    let page = me.get("/settings/webhooks").await;
    assert!(page.body.contains(&format!("id=\"enable-{id}\"")));
    assert!(!page.body.contains(&format!("id=\"disable-{id}\"")));
    let on = me
        .post(
            &format!("/settings/webhooks/{id}/enable"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(on.status, 303);
    assert_eq!(p.webhook(&id).await.unwrap().status, "active");

    // Rotated: a new secret, shown once.
    let rotated = me
        .post(
            &format!("/settings/webhooks/{id}/rotate"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(rotated.status, 200);
    let new_secret = text_of(&rotated, "webhook-secret").to_string();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    let after = me.get("/settings/webhooks").await;
    assert!(!after.body.contains(&new_secret) && !after.body.contains(&secret));

    // Replay: a bad event id beside its field; every kept event queued.
    let bad = me
        .post(
            &format!("/settings/webhooks/{id}/replay"),
            &[("csrf", &csrf), ("after", "yesterday")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(!text_of(&bad, &format!("after-{id}-error"))
        .trim()
        .is_empty());
    let replayed = me
        .post(
            &format!("/settings/webhooks/{id}/replay"),
            &[("csrf", &csrf), ("after", "")],
        )
        .await;
    assert_eq!(replayed.status, 303);
    assert!(
        replayed
            .location()
            .starts_with("/settings/webhooks?queued="),
        "{}",
        replayed.location()
    );
    let n: u64 = replayed.location()["/settings/webhooks?queued=".len()..]
        .split('#')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n >= 1);
    assert!(me
        .get(replayed.location())
        .await
        .body
        .contains("id=\"replay-queued\""));

    // A form without the session's token does nothing.
    let forged = me
        .post(
            &format!("/settings/webhooks/{id}/disable"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(p.webhook(&id).await.unwrap().status, "active");

    // Another account's endpoint is not found, and stays as it was.
    let (_, other) = srv.account("Mallory", &[Role::Requester]).await;
    let mallory = web_sign_in(&srv, other.api_key().unwrap()).await;
    let theirs = mallory.get("/settings/webhooks").await;
    assert_eq!(theirs.status, 200, "any account may have webhooks");
    assert!(!theirs.body.contains(&url));
    let meddled = mallory
        .post(
            &format!("/settings/webhooks/{id}/disable"),
            &[("csrf", &theirs.csrf())],
        )
        .await;
    assert_eq!(meddled.status, 404);
    assert_eq!(p.webhook(&id).await.unwrap().status, "active");
    assert!(
        !theirs.body.contains("href=\"/settings/keys\""),
        "no keys for a requester"
    );

    // Deleted.
    let gone = me
        .post(
            &format!("/settings/webhooks/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(gone.status, 303);
    assert!(p.webhooks().await.unwrap().items.is_empty());
    let _ = pid;
    srv.stop().await;
}

async fn signing_keys_are_listed_and_rotated_with_a_confirmation(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (p, _, _, _) = market(&srv).await;
    let pid = p.whoami().await.unwrap().id;
    let keys = p.signing_keys().await.unwrap().keys;
    assert_eq!(keys.len(), 1, "the pass made a key");
    let old = keys[0].kid.clone();
    let me = web_sign_in(&srv, p.api_key().unwrap()).await;

    let page = me.get("/settings/keys").await;
    assert_eq!(page.status, 200);
    let row = page.element("tr", &format!("key-{old}"));
    assert!(row.contains("data-active=\"true\""), "{row}");
    let link = page.element("a", "jwks-link");
    let jwks_url = format!("/v1/providers/{pid}/jwks.json");
    assert!(link.contains(&format!("{jwks_url}\"")), "{link}");
    assert!(
        page.body.contains("href=\"/settings/webhooks\""),
        "the sub-navigation"
    );
    for private in ["\"d\"", "\"kty\"", "PRIVATE", "BEGIN"] {
        assert!(!page.body.contains(private), "{private}");
    }
    // The link's JWKS is the API's.
    let href = link
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let jwks: serde_json::Value = reqwest::get(href).await.unwrap().json().await.unwrap();
    let kids = |j: &serde_json::Value| -> Vec<String> {
        j["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kids(&jwks), vec![old.clone()]);
    assert!(jwks["keys"][0].get("d").is_none());

    // Without the confirmation: 422 beside the box, nothing rotated.
    let refused = me
        .post("/settings/keys/rotate", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(refused.status, 422);
    assert!(!text_of(&refused, "confirm-error").trim().is_empty());
    assert!(refused
        .element("input", "confirm")
        .contains("aria-invalid=\"true\""));
    assert_eq!(p.signing_keys().await.unwrap().keys.len(), 1);

    // Confirmed: a new kid signs, the old one is retired and still published.
    let rotated = me
        .post(
            "/settings/keys/rotate",
            &[("csrf", &page.csrf()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(rotated.status, 303);
    assert_eq!(rotated.location(), "/settings/keys?rotated=1");
    let keys = p.signing_keys().await.unwrap().keys;
    assert_eq!(keys.len(), 2);
    let new = keys.iter().find(|k| k.kid != old).unwrap();
    let retired = keys.iter().find(|k| k.kid == old).unwrap();
    assert!(new.active && !retired.active && retired.retired_at.is_some());
    let jwks = p.jwks(&pid).await.unwrap();
    let published = kids(&jwks);
    assert!(
        published.contains(&new.kid) && published.contains(&old),
        "{published:?}"
    );
    let after = me.get(rotated.location()).await;
    assert!(after.body.contains("id=\"key-rotated\""));
    assert!(after
        .element("tr", &format!("key-{}", new.kid))
        .contains("data-active=\"true\""));
    let old_row = after.element("tr", &format!("key-{old}"));
    assert!(old_row.contains("data-active=\"false\""), "{old_row}");
    srv.stop().await;
}

/// A paid, shipped order the requester disputes, with messages from both
/// parties: the dispute.
async fn a_dispute(p: &Client, holders: &[(String, Client)], r: &Client, n: usize) -> Dispute {
    let o = a_paid_order(holders, r).await;
    p.ship_order(&o.id).await.unwrap();
    let d = r
        .open_dispute(&o.id, "not_received", &format!("Parcel {n} never came"))
        .await
        .unwrap();
    r.dispute_message(&d.id, &format!("Tracking {n} says lost"))
        .await
        .unwrap();
    p.dispute_message(&d.id, &format!("We sent parcel {n} on time"))
        .await
        .unwrap();
    d
}

async fn operators_resolve_disputes_by_the_apis_rules(backend: Backend) {
    let srv = server(backend).await;
    let (p, holders, _, r) = market(&srv).await;
    let a = a_dispute(&p, &holders, &r, 1).await;
    let b = a_dispute(&p, &holders, &r, 2).await;
    let c = a_dispute(&p, &holders, &r, 3).await;
    let created = symbolon_server::admin::create_operator(srv.config(), "Olga")
        .await
        .unwrap();
    let op_api = srv.anon().with_key(&created.api_key);
    let op = web_sign_in(&srv, &created.api_key).await;

    let queue = op.get("/operator/disputes").await;
    assert_eq!(queue.status, 200);
    for (d, n) in [(&a, 1), (&b, 2), (&c, 3)] {
        let item = queue.element("section", &format!("dispute-{}", d.id));
        for text in [
            format!("Parcel {n} never came"),
            format!("Tracking {n} says lost"),
            format!("We sent parcel {n} on time"),
        ] {
            assert!(item.contains(&text), "{text}: {item}");
        }
        assert!(item.contains(&format!("id=\"resolve-{}\"", d.id)));
    }
    let csrf = queue.csrf();
    let resolve = |id: &str, fields: Vec<(&'static str, String)>| {
        let mut all = vec![("csrf", csrf.clone())];
        all.extend(fields);
        let path = format!("/operator/disputes/{id}");
        let op = &op;
        async move {
            let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            op.post(&path, &pairs).await
        }
    };

    // A partial refund with a bad amount, or more than was paid: 422 beside the amount.
    for amount in ["abc", "1.234", "-5", "999999.00", ""] {
        let refused = resolve(
            &a.id,
            vec![
                ("outcome", "partial".into()),
                ("amount", amount.into()),
                ("reason", "Half of it".into()),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{amount}: {}", refused.body);
        assert!(
            !text_of(&refused, &format!("amount-{}-error", a.id))
                .trim()
                .is_empty(),
            "{amount}"
        );
        assert!(refused
            .element("input", &format!("amount-{}", a.id))
            .contains(&format!("value=\"{amount}\"")));
        assert_eq!(op_api.dispute(&a.id).await.unwrap().status, "open");
    }
    // No reason: 422 beside the reason, whatever the outcome.
    for outcome in ["reject", "partial", "full"] {
        let refused = resolve(
            &b.id,
            vec![
                ("outcome", outcome.into()),
                ("amount", "5.00".into()),
                ("reason", "  ".into()),
            ],
        )
        .await;
        assert_eq!(refused.status, 422, "{outcome}");
        assert!(!text_of(&refused, &format!("reason-{}-error", b.id))
            .trim()
            .is_empty());
        assert_eq!(op_api.dispute(&b.id).await.unwrap().status, "open");
    }

    // The operator writes in the trail.
    let said = op
        .post(
            &format!("/operator/disputes/{}/messages", a.id),
            &[("csrf", &csrf), ("body", "Looking into it")],
        )
        .await;
    assert_eq!(said.status, 303);
    let trail = op_api.dispute(&a.id).await.unwrap().messages;
    assert!(trail
        .iter()
        .any(|m| m.role == "operator" && m.body == "Looking into it"));

    // A partial refund.
    let done = resolve(
        &a.id,
        vec![
            ("outcome", "partial".into()),
            ("amount", "10.00".into()),
            ("reason", "Half the parcel arrived".into()),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let a_now = op_api.dispute(&a.id).await.unwrap();
    assert_eq!(a_now.status, "resolved");
    assert_eq!(a_now.refund.as_ref().unwrap().amount, "10.00");
    assert_eq!(
        r.order(&a.order_id).await.unwrap().refunded_total.amount,
        "10.00"
    );

    // A rejection, with its reason.
    let done = resolve(
        &b.id,
        vec![
            ("outcome", "reject".into()),
            ("amount", "".into()),
            ("reason", "The carrier confirms delivery".into()),
        ],
    )
    .await;
    assert_eq!(done.status, 303);
    let b_now = r.dispute(&b.id).await.unwrap();
    assert_eq!(b_now.status, "rejected");
    assert_eq!(
        b_now.resolution.as_deref(),
        Some("The carrier confirms delivery")
    );
    assert_eq!(
        r.order(&b.order_id).await.unwrap().refunded_total.amount,
        "0.00"
    );

    // A full refund: what was paid.
    let done = resolve(
        &c.id,
        vec![
            ("outcome", "full".into()),
            ("amount", "".into()),
            ("reason", "Lost by the carrier".into()),
        ],
    )
    .await;
    assert_eq!(done.status, 303);
    let order = r.order(&c.order_id).await.unwrap();
    assert_eq!(order.refunded_total, order.total);
    assert_eq!(order.status, "refunded");

    // The queue is empty now; the closed ones are listed by status.
    let queue = op.get("/operator/disputes").await;
    assert!(queue.body.contains("id=\"no-disputes\""));
    let closed = op.get("/operator/disputes?status=resolved").await;
    assert!(closed.body.contains(&format!("id=\"dispute-{}\"", a.id)));
    assert!(
        !closed.body.contains(&format!("id=\"resolve-{}\"", a.id)),
        "no form once closed"
    );
    // Resolving a closed dispute again changes nothing.
    let again = resolve(
        &a.id,
        vec![("outcome", "reject".into()), ("reason", "again".into())],
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(op_api.dispute(&a.id).await.unwrap().status, "resolved");
    let detail = op.get(&format!("/operator/disputes/{}", a.id)).await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("Half the parcel arrived"));
    srv.stop().await;
}

async fn settings_and_disputes_belong_to_their_roles(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (p, holders, rkey, _) = market(&srv).await;
    let provider = web_sign_in(&srv, p.api_key().unwrap()).await;
    let holder = web_sign_in(&srv, holders[0].1.api_key().unwrap()).await;
    let requester = web_sign_in(&srv, &rkey).await;
    for (who, b) in [
        ("provider", &provider),
        ("holder", &holder),
        ("requester", &requester),
    ] {
        let page = b.get("/operator/disputes").await;
        assert_eq!(page.status, 403, "{who}");
        assert_eq!(b.get("/operator/disputes/dsp_1").await.status, 403, "{who}");
    }
    for (who, b) in [("holder", &holder), ("requester", &requester)] {
        assert_eq!(b.get("/settings/keys").await.status, 403, "{who}");
        let page = b.get("/settings/webhooks").await;
        assert_eq!(page.status, 200, "{who}");
        let post = b
            .post(
                "/settings/keys/rotate",
                &[("csrf", &page.csrf()), ("confirm", "yes")],
            )
            .await;
        assert_eq!(post.status, 403, "{who}");
    }
    assert_eq!(p.signing_keys().await.unwrap().keys.len(), 1);

    // Signed out: to sign-in, and back.
    let anon = Browser {
        http: web_client(),
        base: srv.url.clone(),
        cookie: String::new(),
        lang: None,
    };
    for path in ["/settings/webhooks", "/settings/keys", "/operator/disputes"] {
        let page = anon.get(path).await;
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.location(), format!("/login?next={path}"));
    }

    // In Chinese.
    let created = symbolon_server::admin::create_operator(srv.config(), "Olga")
        .await
        .unwrap();
    let mut op = web_sign_in(&srv, &created.api_key).await;
    op.lang = Some("zh-CN");
    let mut provider = provider;
    provider.lang = Some("zh-CN");
    for (page, chinese) in [
        (provider.get("/settings/webhooks").await, "添加端点"),
        (provider.get("/settings/keys").await, "签名密钥"),
        (op.get("/operator/disputes").await, "争议"),
    ] {
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<html lang=\"zh-CN\">"));
        assert!(page.body.contains(chinese), "{chinese}");
    }
    srv.stop().await;
}

/// Signs `b` in through the sign-in form as the account of `api_key`.
async fn chromium_sign_in(b: &crate::chromium::Browser, srv: &TestServer, api_key: &str) {
    let email = web_login(srv, api_key).await;
    b.goto(&format!("{}/login", srv.url)).await;
    b.fill("input[name=email]", &email).await;
    b.fill("input[name=password]", WEB_PASSWORD).await;
    b.click("#btn-login").await;
    b.wait_for("form[action='/logout']").await;
}

/// The settings pages and the dispute queue pass axe-core, fit a phone and
/// speak both languages, with content on them: an endpoint with attempts,
/// two signing keys, an open dispute with messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_disputes_are_accessible_in_chromium() {
    use crate::chromium::{Chromium, DESKTOP, PHONE};
    let Some(tools) = Chromium::tools("settings_and_disputes_are_accessible_in_chromium") else {
        return;
    };
    let srv = server(Backend::Sqlite).await;
    let (p, holders, _, r) = market(&srv).await;
    let (url, _rx) = start_receiver().await;
    let hook = p.create_webhook(&url).await.unwrap();
    p.rotate_key().await.unwrap();
    let d = a_dispute(&p, &holders, &r, 1).await;
    for _ in 0..300 {
        if !p.webhook_attempts(&hook.id).await.unwrap().items.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let op = symbolon_server::admin::create_operator(srv.config(), "Olga")
        .await
        .unwrap();
    for (lang, size, width) in [
        ("en-US", PHONE, "phone"),
        ("en-US", DESKTOP, "desktop"),
        ("zh-CN", PHONE, "phone"),
        ("zh-CN", DESKTOP, "desktop"),
    ] {
        let b = tools.open(size, lang).await;
        chromium_sign_in(&b, &srv, p.api_key().unwrap()).await;
        for (name, path, css) in [
            ("settings-webhooks", "/settings/webhooks", "#webhook-form"),
            ("settings-keys", "/settings/keys", "#rotate-key"),
        ] {
            b.goto(&format!("{}{path}", srv.url)).await;
            b.wait_for(css).await;
            b.check_page(&format!("{name}-{lang}-{width}")).await;
        }
        b.close().await;
        let b = tools.open(size, lang).await;
        chromium_sign_in(&b, &srv, &op.api_key).await;
        for (name, path) in [
            ("operator-disputes", "/operator/disputes".to_string()),
            ("operator-dispute", format!("/operator/disputes/{}", d.id)),
        ] {
            b.goto(&format!("{}{path}", srv.url)).await;
            b.wait_for(&format!("#resolve-{}", d.id)).await;
            b.check_page(&format!("{name}-{lang}-{width}")).await;
        }
        b.close().await;
    }
    srv.stop().await;
}
