//! Property-level authorization (OWASP API3) for the matrix: views another
//! party may read hold none of the owner's private fields, and bodies that
//! carry fields their caller may not set are refused (JSON) or ignored
//! (web forms).

use crate::authz_matrix::{excerpt, fill};
use crate::authz_world::*;

/// Named views another party may legitimately read hold none of the
/// owner's private fields (API3).
pub async fn private_fields(w: &World, http: &reqwest::Client) -> Vec<String> {
    const PRIVATE: [&str; 10] = [
        "email",
        "api_key",
        "password",
        "ship_to",
        "payment_method",
        "balances",
        "available",
        "pending",
        "login",
        "secret",
    ];
    let views: [(&str, &str, &[&str]); 10] = [
        // A holder's public profile, to anyone.
        ("anonymous", "/v1/holders/{holder}", &PRIVATE),
        ("requester_b", "/v1/holders/{holder}", &PRIVATE),
        // The offer (and its holder) as the requester sees it.
        ("requester_a", "/v1/demands/{demand}", &PRIVATE),
        // What the holder sees of the demand and of the orders its passes brought.
        ("holder_a", "/v1/inbox", &PRIVATE),
        ("holder_a", "/v1/wallet", &PRIVATE),
        // A pass, to a holder and to anyone.
        ("holder_b", "/v1/passes/{pass}", &PRIVATE),
        // The order to its seller: the address to ship to, never the card.
        (
            "provider_a",
            "/v1/orders/{order}",
            &["email", "api_key", "payment_method", "balances", "secret"],
        ),
        // The dispute to the seller and the operator.
        (
            "operator",
            "/v1/disputes/{dispute}",
            &["email", "api_key", "payment_method", "balances", "secret"],
        ),
        // Another party's public keys, never private key material.
        (
            "requester_b",
            "/v1/accounts/{provider}/keys",
            &["d", "secret", "email"],
        ),
        // The provider's own signing keys: public parts only.
        ("provider_a", "/v1/provider/keys", &["d", "secret", "seed"]),
    ];
    let mut failures = Vec::new();
    for (who, path, private) in views {
        let actor = w.actor(who);
        let mut req = http.get(format!("{}{}", w.srv.url, fill(w, path, actor)));
        if let Some(a) = &actor.authorization {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        if r.status() != 200 {
            failures.push(format!("API3 {path} as {who}: {}", r.status()));
            continue;
        }
        let v: serde_json::Value = r.json().await.unwrap();
        let mut keys = Vec::new();
        keys_of(&v, &mut keys);
        for k in private {
            if keys.iter().any(|x| x == k) {
                failures.push(format!("API3 {path} as {who} has the field {k}: {v}"));
            }
        }
    }
    // The webhook's secret is shown once, at creation: not to its owner later.
    let r = w.clients["requester_a"]
        .webhook(&w.id("webhook"))
        .await
        .unwrap();
    if r.secret.is_some() {
        failures.push("API3 the webhook's secret is shown again".into());
    }
    // The holder's pages show neither the buyer nor its address.
    let holder = w.actor("holder_a");
    for page in ["/wallet", "/inbox", "/earnings"] {
        let r = http
            .get(format!("{}{page}", w.srv.url))
            .header("cookie", &holder.cookie)
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        for private in [
            SHIP_NAME,
            SHIP_LINE,
            SHIP_POSTCODE,
            "requester_a",
            &w.id("requester"),
        ] {
            if body.contains(private) {
                failures.push(format!("API3 {page} shows the holder {private}"));
            }
        }
    }
    failures
}

/// Every key of every object in `v`, recursively.
fn keys_of(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                keys_of(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| keys_of(x, out)),
        _ => {}
    }
}

/// Bodies carrying fields their caller must not set are refused (400),
/// whoever sends them — the owner included (API3, mass assignment). The
/// snapshot around the refused cells shows that nothing changed.
pub async fn mass_assignment(w: &World, http: &reqwest::Client) -> Vec<String> {
    let cases: [(&str, &str, &str, &str); 9] = [
        (
            "provider_a",
            "PATCH",
            "/v1/products/{product}",
            r#"{"description":"x","provider_id":"{holder_b}"}"#,
        ),
        (
            "provider_a",
            "PATCH",
            "/v1/products/{product}",
            r#"{"status":"archived"}"#,
        ),
        (
            "provider_a",
            "PATCH",
            "/v1/products/{product}",
            r#"{"id":"prd_other","revision":99}"#,
        ),
        (
            "provider_b",
            "POST",
            "/v1/products",
            r#"{"title":"Lamp","description":"A lamp","category":"home/lighting","specs":{},"price":{"amount":"20.00","currency":"USD"},"stock":3,"provider_id":"{provider}"}"#,
        ),
        (
            "holder_a",
            "PUT",
            "/v1/holder/profile",
            r#"{"fields":["home"],"positive_rate":1.0}"#,
        ),
        (
            "requester_a",
            "PUT",
            "/v1/requester/profile",
            r#"{"account_id":"{requester_b}"}"#,
        ),
        (
            "requester_a",
            "POST",
            "/v1/orders",
            r#"{"offer_id":"{offer}","quantity":1,"pay":false,"status":"delivered"}"#,
        ),
        (
            "anonymous",
            "POST",
            "/v1/accounts",
            r#"{"name":"Mallory","roles":["operator"]}"#,
        ),
        (
            "anonymous",
            "POST",
            "/v1/accounts",
            r#"{"name":"Mallory","roles":["requester"],"id":"{requester}"}"#,
        ),
    ];
    let mut failures = Vec::new();
    for (who, method, path, body) in cases {
        let actor = w.actor(who);
        let mut req = http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{}", w.srv.url, fill(w, path, actor)),
            )
            .header("content-type", "application/json")
            .body(fill(w, body, actor));
        if let Some(a) = &actor.authorization {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        if !matches!(status, 400 | 403 | 422) {
            failures.push(format!(
                "mass assignment {method} {path} {body} as {who}: {status} {}",
                r.text().await.unwrap_or_default()
            ));
        }
    }
    failures
}

/// A web form carrying fields the page does not offer (the product's owner
/// and status) is saved without them.
pub async fn web_mass_assignment(w: &World, http: &reqwest::Client) -> Vec<String> {
    let p = w.actor("provider_a");
    let body = format!(
        "csrf={}&title=Brass+desk+lamp&description=Brass+desk+lamp%2C+sold+by+the+test+provider&category=home%2Flighting&price=40.00&currency=USD&stock=25&provider_id={}&provider={}&status=archived&archived_at=2026-01-01T00%3A00%3A00Z",
        form_urlencoded::byte_serialize(p.csrf.as_bytes()).collect::<String>(),
        w.id("holder_b"),
        w.id("holder_b"),
    );
    let r = http
        .post(format!("{}/catalog/{}", w.srv.url, w.id("product")))
        .header("cookie", &p.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let mut failures = Vec::new();
    if r.status().as_u16() >= 400 {
        let status = r.status();
        let text = excerpt(&r.text().await.unwrap_or_default());
        failures.push(format!(
            "web mass assignment: the owner's save failed: {status} {text}"
        ));
    }
    let product = w.clients["provider_a"]
        .product(&w.id("product"))
        .await
        .unwrap();
    let v = serde_json::to_value(&product).unwrap();
    if v["provider_id"] != w.id("provider").as_str()
        || !v["archived_at"].is_null()
        || v["stock"] != 25
    {
        failures.push(format!("web mass assignment changed the product: {v}"));
    }
    failures
}
