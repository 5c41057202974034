//! Passkeys' JSON endpoints over real HTTP, on both backends: what they
//! refuse (no session: 401; a wrong CSRF token: 403; another site: 403;
//! an unknown, expired or reused ceremony: 400 `passkey_ceremony_invalid`;
//! a malformed credential: 400 `passkey_invalid`, never a 500) and what they
//! answer a browser to start with. The whole ceremony with an authenticator
//! is `web_browser::passkeys_in_chromium`.

use crate::harness::*;
use crate::on_both_backends;
use serde_json::{json, Value};

async fn post_json(
    srv: &TestServer,
    http: &reqwest::Client,
    path: &str,
    cookie: &str,
    body: &Value,
) -> (u16, Value) {
    let r = http
        .post(format!("{}{path}", srv.url))
        .header("cookie", cookie)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Finishes adding a passkey named "Laptop" with `credential`.
async fn add_finish(
    srv: &TestServer,
    http: &reqwest::Client,
    session: &str,
    csrf: &str,
    ceremony: &str,
    credential: Value,
) -> (u16, Value) {
    let body =
        json!({"csrf": csrf, "ceremony": ceremony, "credential": credential, "name": "Laptop"});
    post_json(srv, http, "/account/passkeys/finish", session, &body).await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// A signed-up account's session cookie and its CSRF token.
async fn signed_up(srv: &TestServer, http: &reqwest::Client, email: &str) -> (String, String) {
    let r = http
        .get(format!("{}/signup", srv.url))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&r, "sym_pre").unwrap();
    let csrf = csrf_of(&r.text().await.unwrap());
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf)
        .append_pair("name", "Pia")
        .append_pair("email", email)
        .append_pair("password", WEB_PASSWORD)
        .append_pair("roles", "requester")
        .finish();
    let r = http
        .post(format!("{}/signup", srv.url))
        .header("cookie", &pre)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = set_cookie(&r, "sym_session").unwrap();
    let page = http
        .get(format!("{}/account", srv.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("id=\"passkeys\""),
        "the account page lists passkeys"
    );
    (session, csrf_of(&page))
}

async fn passkey_endpoints_refuse_what_they_must(backend: Backend) {
    let srv = TestServer::configured(
        backend,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.public_url = Some(LOCALHOST.into()),
    )
    .await;
    let http = web_client();
    let (session, csrf) = signed_up(&srv, &http, "pia@example.org").await;

    // Adding a passkey needs a session and its token.
    let (s, v) = post_json(
        &srv,
        &http,
        "/account/passkeys/start",
        "",
        &json!({"csrf": csrf}),
    )
    .await;
    assert_eq!((s, code(&v)), (401, "unauthorized"), "{v}");
    let (s, v) = post_json(
        &srv,
        &http,
        "/account/passkeys/start",
        &session,
        &json!({"csrf": "nope"}),
    )
    .await;
    assert_eq!((s, code(&v)), (403, "forbidden"), "{v}");
    let (s, _) = post_json(
        &srv,
        &http,
        "/account/passkeys/start",
        &session,
        &json!("[]"),
    )
    .await;
    assert_eq!(s, 403, "a body that is no object has no token");
    let r = http
        .post(format!("{}/account/passkeys/start", srv.url))
        .header("cookie", &session)
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/json")
        .body(json!({"csrf": csrf}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "from another site");

    // The start: options for navigator.credentials.create, for this site.
    let (s, start) = post_json(
        &srv,
        &http,
        "/account/passkeys/start",
        &session,
        &json!({"csrf": csrf}),
    )
    .await;
    assert_eq!(s, 200, "{start}");
    let ceremony = start["ceremony"].as_str().unwrap().to_string();
    assert_eq!(ceremony.len(), 64);
    let pk = &start["options"]["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["rp"]["name"], "Symbolon");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert!(pk["challenge"].as_str().is_some_and(|c| c.len() >= 32));

    // A malformed credential is a 400, and uses the ceremony up.
    let (s, v) = add_finish(
        &srv,
        &http,
        &session,
        &csrf,
        &ceremony,
        json!({"id": "x", "response": 3}),
    )
    .await;
    assert_eq!((s, code(&v)), (400, "passkey_invalid"), "{v}");
    let (s, v) = add_finish(&srv, &http, &session, &csrf, &ceremony, json!({})).await;
    assert_eq!(
        (s, code(&v)),
        (400, "passkey_ceremony_invalid"),
        "reused: {v}"
    );
    let (s, v) = add_finish(&srv, &http, &session, &csrf, "unknown", json!({})).await;
    assert_eq!(
        (s, code(&v)),
        (400, "passkey_ceremony_invalid"),
        "unknown: {v}"
    );
    assert!(v["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));

    // An expired ceremony is refused.
    let (_, start) = post_json(
        &srv,
        &http,
        "/account/passkeys/start",
        &session,
        &json!({"csrf": csrf}),
    )
    .await;
    let expired = start["ceremony"].as_str().unwrap().to_string();
    srv.exec_sql(&format!(
        "UPDATE passkey_ceremonies SET expires_at = 1 WHERE id = '{expired}'"
    ))
    .await;
    let (s, v) = add_finish(&srv, &http, &session, &csrf, &expired, json!({})).await;
    assert_eq!(
        (s, code(&v)),
        (400, "passkey_ceremony_invalid"),
        "expired: {v}"
    );

    // Another account cannot finish this account's ceremony.
    let (other, other_csrf) = signed_up(&srv, &http, "otto@example.org").await;
    let (_, start) = post_json(
        &srv,
        &http,
        "/account/passkeys/start",
        &session,
        &json!({"csrf": csrf}),
    )
    .await;
    let (s, v) = post_json(
        &srv,
        &http,
        "/account/passkeys/finish",
        &other,
        &json!({"csrf": other_csrf, "ceremony": start["ceremony"], "credential": {}, "name": "x"}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (400, "passkey_ceremony_invalid"),
        "another's: {v}"
    );

    // Signing in: the pre-session token, a discoverable request.
    let r = http.get(format!("{}/login", srv.url)).send().await.unwrap();
    let pre = set_cookie(&r, "sym_pre").unwrap();
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"passkey-login\" hidden"),
        "hidden until the script shows it"
    );
    let pre_csrf = csrf_of(&page);
    let (s, v) = post_json(
        &srv,
        &http,
        "/login/passkey/start",
        &pre,
        &json!({"csrf": csrf}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (403, "forbidden"),
        "the session's token is not the visitor's"
    );
    let (s, start) = post_json(
        &srv,
        &http,
        "/login/passkey/start",
        &pre,
        &json!({"csrf": pre_csrf}),
    )
    .await;
    assert_eq!(s, 200, "{start}");
    assert_eq!(start["options"]["publicKey"]["rpId"], "localhost");
    assert!(
        start["options"].get("mediation").is_none(),
        "a modal request"
    );
    let (s, v) = post_json(
        &srv,
        &http,
        "/login/passkey/finish",
        &pre,
        &json!({"csrf": pre_csrf, "ceremony": start["ceremony"], "credential": {"id": 1}}),
    )
    .await;
    assert_eq!((s, code(&v)), (400, "passkey_invalid"), "{v}");
    let (s, v) = post_json(
        &srv,
        &http,
        "/login/passkey/finish",
        &pre,
        &json!({"csrf": pre_csrf, "ceremony": start["ceremony"], "credential": {}}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (400, "passkey_ceremony_invalid"),
        "reused: {v}"
    );

    // Removing a passkey that is not the account's.
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &csrf)
        .append_pair("id", "not-mine")
        .finish();
    let r = http
        .post(format!("{}/account/passkeys/remove", srv.url))
        .header("cookie", &session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

on_both_backends!(passkey_endpoints_refuse_what_they_must);
