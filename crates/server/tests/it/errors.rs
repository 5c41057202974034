//! Bad input gets a clear error from the one table — never a 500.

use crate::harness::*;
use reqwest::Method;
use serde_json::json;
use symbolon_client::api::*;

#[tokio::test]
async fn malformed_unknown_and_bad_values_are_400_naming_the_field() {
    let srv = TestServer::start().await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let cases: Vec<(
        &symbolon_client::Client,
        &str,
        serde_json::Value,
        &str,
        &str,
    )> = vec![
        (
            &p,
            "/v1/products",
            json!({"title": "x", "category": "a", "price": {"amount": "1.234", "currency": "USD"}, "stock": 1}),
            "invalid_field",
            "price.amount",
        ),
        (
            &p,
            "/v1/products",
            json!({"title": "x", "category": "a", "price": {"amount": "1", "currency": "usx"}, "stock": 1}),
            "invalid_field",
            "price.currency",
        ),
        (
            &p,
            "/v1/products",
            json!({"title": "x", "category": "a", "price": {"amount": "-1", "currency": "USD"}, "stock": 1}),
            "invalid_field",
            "price.amount",
        ),
        (
            &p,
            "/v1/products",
            json!({"title": "x", "category": "a", "price": {"amount": 1.5, "currency": "USD"}, "stock": 1}),
            "invalid_field",
            "price.amount",
        ),
        (
            &p,
            "/v1/products",
            json!({"title": "", "category": "a", "price": {"amount": "1", "currency": "USD"}, "stock": 1}),
            "invalid_field",
            "title",
        ),
        (
            &p,
            "/v1/products",
            json!({"title": "x", "category": "a//b", "price": {"amount": "1", "currency": "USD"}, "stock": 1}),
            "invalid_field",
            "category",
        ),
        (
            &p,
            "/v1/products",
            json!({"title": "x", "category": "a", "price": {"amount": "1", "currency": "USD"}, "stock": -1}),
            "invalid_field",
            "stock",
        ),
        (
            &p,
            "/v1/products",
            json!({"title": "x", "category": "a", "price": {"amount": "1", "currency": "USD"}, "stock": 1, "colour": "red"}),
            "invalid_field",
            "colour",
        ),
        (
            &p,
            "/v1/products",
            json!({"category": "a", "price": {"amount": "1", "currency": "USD"}, "stock": 1}),
            "invalid_field",
            "title",
        ),
        (
            &p,
            "/v1/passes",
            json!({"product_id": "prd_nope", "mode": "shareable", "commission_bps": 10}),
            // A well-formed id of nothing: 404, naming the field.
            "not_found",
            "product_id",
        ),
        (
            &p,
            "/v1/passes",
            json!({"product_id": "prd_nope", "mode": "rental", "commission_bps": 10}),
            "invalid_field",
            "mode",
        ),
        (
            &r,
            "/v1/demands",
            json!({"query": "tea", "holder": {"min_positive_rate": 1.5}}),
            "invalid_field",
            "holder.min_positive_rate",
        ),
        (
            &r,
            "/v1/demands",
            json!({"query": "tea", "holder": {"min_ratings": -1}}),
            "invalid_field",
            "holder.min_ratings",
        ),
        (
            &r,
            "/v1/demands",
            json!({"query": "tea", "holder": {"fieldz": []}}),
            "invalid_field",
            "holder.fieldz",
        ),
        (
            &r,
            "/v1/demands",
            json!({"query": "tea", "max_holders": 21}),
            "invalid_field",
            "max_holders",
        ),
        (
            &r,
            "/v1/demands",
            json!({"query": "tea", "ttl_seconds": 5}),
            "invalid_field",
            "ttl_seconds",
        ),
        (
            &r,
            "/v1/demands",
            json!({"query": "  "}),
            "invalid_field",
            "query",
        ),
        (
            &r,
            "/v1/demands",
            json!({"query": "x".repeat(501)}),
            "invalid_field",
            "query",
        ),
        (
            &r,
            "/v1/orders",
            json!({"offer_id": "ofr_nope", "quantity": "two"}),
            "invalid_field",
            "quantity",
        ),
        (
            &r,
            "/v1/offers/ofr_nope/rating",
            json!({"positive": "yes"}),
            "invalid_field",
            "positive",
        ),
    ];
    for (client, path, body, code, field) in cases {
        let (status, v) = client.raw(Method::POST, path, Some(&body)).await.unwrap();
        let want = if code == "not_found" { 404 } else { 400 };
        assert_eq!(status.as_u16(), want, "{path} {body}: {v}");
        assert_eq!(v["error"]["code"], code, "{path} {body}: {v}");
        assert_eq!(v["error"]["details"]["field"], field, "{path} {body}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{v}"
        );
    }
    srv.stop().await;
}

#[tokio::test]
async fn transport_level_errors_use_the_same_shape() {
    let srv = TestServer::start().await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let http = reqwest::Client::new();
    let key = p.api_key().unwrap().to_string();
    let send = |method: Method, path: &str| http.request(method, format!("{}{path}", srv.url));

    // Malformed JSON.
    let resp = send(Method::POST, "/v1/products")
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"title\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "malformed_json"
    );
    // Not JSON at all.
    let resp = send(Method::POST, "/v1/products")
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    // Over 1 MiB.
    let big = format!(
        "{{\"title\":\"{}\"}}",
        "x".repeat(symbolon_core::limits::MAX_BODY_BYTES)
    );
    let resp = send(Method::POST, "/v1/products")
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );
    // Just under the limit is read (and then refused for its content, not its size).
    let fill = symbolon_core::limits::MAX_BODY_BYTES - 20;
    let near = format!("{{\"title\":\"{}\"}}", "x".repeat(fill));
    let resp = send(Method::POST, "/v1/products")
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(near)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // No key, a wrong key.
    let resp = send(Method::GET, "/v1/balance").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = send(Method::GET, "/v1/balance")
        .bearer_auth("sk_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "unauthorized"
    );
    // Unknown route and method.
    let resp = send(Method::GET, "/v1/nope").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "route_not_found"
    );
    let resp = send(Method::DELETE, "/v1/accounts").send().await.unwrap();
    assert_eq!(resp.status(), 405);
    // An undecodable path parameter.
    let resp = send(Method::GET, "/v1/passes/%FF").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
    // Unknown objects.
    assert_api_err(srv.anon().pass("pas_nope").await, 404, "not_found");
    assert_api_err(srv.anon().holder("acc_nope").await, 404, "not_found");
    assert_api_err(srv.anon().jwks("acc_nope").await, 404, "not_found");
    srv.stop().await;
}

/// Throws odd bodies at every endpoint: whatever happens, never a 5xx.
#[tokio::test]
async fn no_client_mistake_yields_a_500() {
    let srv = TestServer::start().await;
    let (_, all) = srv
        .account("Everyone", &[Role::Provider, Role::Holder, Role::Requester])
        .await;
    let paths = [
        (Method::POST, "/v1/accounts"),
        (Method::POST, "/v1/products"),
        (Method::POST, "/v1/passes"),
        (Method::POST, "/v1/passes/pas_x/grants"),
        (Method::PUT, "/v1/holder/profile"),
        (Method::GET, "/v1/inbox?limit=-1"),
        (Method::POST, "/v1/interactions/int_x/offer"),
        (Method::POST, "/v1/interactions/int_x/decline"),
        (Method::POST, "/v1/demands"),
        (Method::GET, "/v1/demands/dem_x"),
        (Method::POST, "/v1/offers/ofr_x/accept"),
        (Method::POST, "/v1/offers/ofr_x/rating"),
        (Method::PUT, "/v1/requester/profile"),
        (Method::POST, "/v1/orders"),
        (Method::GET, "/v1/orders?role=admin"),
        (Method::POST, "/v1/orders/ord_x/ship"),
        (Method::POST, "/v1/orders/ord_x/pay"),
        (Method::GET, "/v1/products/%00"),
        (Method::GET, "/v1/holders/acc_x"),
    ];
    let bodies = [
        json!(null),
        json!([]),
        json!(1),
        json!("s"),
        json!({}),
        json!({"name": "\u{0}"}),
        json!({"title": "t", "category": "a", "price": {"amount": "99999999999999999999999", "currency": "USD"}, "stock": 9223372036854775807u64}),
        json!({"query": "x", "holder": {"min_positive_rate": -0.0, "fields": ["a/".repeat(40)]}, "min_holders": 4294967295u64}),
        json!({"product_id": "p", "mode": "unique", "units": 0, "commission_bps": 10001, "valid_until": "1999-01-01T00:00:00Z"}),
        json!({"offer_id": "o", "quantity": 0, "pay": true}),
        json!({"ship_to": {"name": "n", "line1": "l", "city": "c", "postal_code": "p", "country": "ZZZ"}, "payment_method": {"type": "sandbox_card", "number": "1"}}),
        json!({"fields": vec!["x"; 40]}),
        json!({"holder_id": "acc_x", "units": -5}),
    ];
    for (method, path) in &paths {
        for body in &bodies {
            let (status, v) = all.raw(method.clone(), path, Some(body)).await.unwrap();
            assert!(
                status.as_u16() < 500,
                "{method} {path} {body} → {status} {v}"
            );
            let takes_body = !path.ends_with("/decline")
                && !path.ends_with("/accept")
                && !path.ends_with("/ship")
                && !path.ends_with("/pay")
                && *method != Method::GET;
            if takes_body && !body.is_object() {
                assert_eq!(
                    status.as_u16(),
                    400,
                    "{method} {path} {body} → {status} {v}"
                );
            }
            if !status.is_success() {
                assert!(
                    v["error"]["code"].is_string(),
                    "{method} {path} {body} → {v}"
                );
            }
        }
    }
    srv.stop().await;
}

#[tokio::test]
async fn closed_registration_refuses_new_accounts() {
    let srv = TestServer::start_closed().await;
    let r = srv
        .anon()
        .create_account(&CreateAccount {
            name: "Eve".into(),
            roles: vec![Role::Requester],
            login: None,
        })
        .await;
    assert_api_err(r, 403, "registration_closed");
    srv.stop().await;
}

#[tokio::test]
async fn limits_are_enforced_at_their_edges() {
    use symbolon_core::limits::*;
    let srv = TestServer::start().await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let (_, h) = srv.account("H", &[Role::Holder]).await;
    let mut ok = product(&"t".repeat(MAX_TITLE_CHARS), "a", "1.00", MAX_STOCK);
    p.create_product(&ok).await.unwrap();
    ok.title.push('t');
    assert_eq!(
        assert_api_err(p.create_product(&ok).await, 400, "invalid_field").unwrap()["field"],
        "title"
    );
    let mut specs = product("x", "a", "1", 1);
    specs.specs = (0..MAX_SPECS)
        .map(|i| (format!("k{i}"), "v".to_string()))
        .collect();
    p.create_product(&specs).await.unwrap();
    specs.specs.insert("one-more".into(), "v".into());
    assert_eq!(
        assert_api_err(p.create_product(&specs).await, 400, "invalid_field").unwrap()["field"],
        "specs"
    );
    let prod = p
        .create_product(&product("x", "a", "1", MAX_UNITS))
        .await
        .unwrap();
    p.create_pass(&unique(&prod.id, MAX_UNITS, MAX_COMMISSION_BPS))
        .await
        .unwrap();
    assert_api_err(
        p.create_pass(&unique(&prod.id, MAX_UNITS + 1, 0)).await,
        400,
        "invalid_field",
    );
    assert_api_err(
        p.create_pass(&shareable(&prod.id, MAX_COMMISSION_BPS + 1))
            .await,
        400,
        "invalid_field",
    );
    let fs: Vec<String> = (0..MAX_FIELDS).map(|i| format!("f{i}")).collect();
    h.set_holder_profile(&HolderProfileUpdate { fields: fs.clone() })
        .await
        .unwrap();
    let mut more = fs;
    more.push("one/more".into());
    assert_eq!(
        assert_api_err(
            h.set_holder_profile(&HolderProfileUpdate { fields: more })
                .await,
            400,
            "invalid_field"
        )
        .unwrap()["field"],
        "fields"
    );
    srv.stop().await;
}

/// Input is handled the same everywhere: currency codes in any letter case
/// are normalised, a zero price is refused, and a unique pass cannot promise
/// more units than its product has in stock.
#[tokio::test]
async fn currencies_normalise_zero_prices_and_overpromised_units_are_refused() {
    let srv = TestServer::start().await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let mut loose = product("Kettle", "home/kitchen", "30.00", 3);
    loose.price.currency = "usd".into();
    let made = p.create_product(&loose).await.unwrap();
    assert_eq!(made.price, usd("30.00"));
    let field = |e: Result<_, symbolon_client::ClientError>| match e {
        Err(symbolon_client::ClientError::Api {
            status,
            code,
            details,
            ..
        }) => (status, code, details.unwrap()["field"].clone()),
        other => panic!("{other:?}"),
    };
    let free = p
        .create_product(&product("Sticker", "home/kitchen", "0.00", 3))
        .await;
    assert_eq!(
        field(free.map(|_| ())),
        (400, "invalid_field".into(), json!("price.amount"))
    );
    let too_many = p.create_pass(&unique(&made.id, 4, 500)).await;
    // The form is right (the schema accepts it); the product's stock refuses it.
    assert_eq!(
        field(too_many.map(|_| ())),
        (422, "invalid_value".into(), json!("units"))
    );
    p.create_pass(&unique(&made.id, 3, 500)).await.unwrap();
}
