//! Passes anyone can verify, over HTTP: the credential's shape and actions,
//! key rotation, revocation through the status list, a three-hop unit
//! transfer whose chain verifies offline, orders on a pass credited to the
//! holder whose link brought the buyer, and keys sealed at rest.

use crate::harness::*;
use crate::on_both_backends;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::{Clock, Timestamp};
use symbolon_pass::{Jwks, PassError};

async fn jwks_of(c: &Client, provider_id: &str) -> Jwks {
    serde_json::from_value(c.jwks(provider_id).await.expect("jwks")).expect("a JWK Set")
}

fn offer_of(pass_id: &str) -> CreateOffer {
    CreateOffer {
        pass_id: pass_id.to_string(),
        note: None,
    }
}

async fn a_pass_is_a_verifiable_credential_with_its_actions(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let mut p = product("Trail camera TC-40", "electronics/cameras", "129.00", 5);
    p.gtin = Some("4006381333931".into());
    p.specs.insert("resolution".into(), "24 MP".into());
    let prod = provider.create_product(&p).await.unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 750))
        .await
        .unwrap();
    assert_eq!(pass.status, "active");
    assert_eq!(pass.page, format!("{}/p/{}", srv.url, pass.id));

    let jwks = jwks_of(&srv.anon(), &provider_id).await;
    let now = symbolon_core::SystemClock.now();
    let v = symbolon_pass::verify_pass(&pass.jws, &jwks, now)
        .expect("verifies against the published keys");
    assert_eq!(v.header["alg"], "EdDSA");
    assert_eq!(v.header["typ"], "vc+jwt");
    assert_eq!(v.header["cty"], "vc");
    let c = &v.claims;
    assert_eq!(c["@context"][0], "https://www.w3.org/ns/credentials/v2");
    assert_eq!(
        c["type"],
        serde_json::json!(["VerifiableCredential", "ProductPass"])
    );
    assert_eq!(c["iss"], c["issuer"]["id"]);
    assert_eq!(c["id"], pass.url);
    let s = &c["credentialSubject"];
    assert_eq!(
        s["id"], "https://id.gs1.org/01/04006381333931",
        "GS1 Digital Link from the GTIN"
    );
    assert_eq!(s["price"]["amount"], "129.00", "price as a decimal string");
    assert_eq!(s["link"], pass.page);
    assert_eq!(s["specs"][0]["name"], "resolution");
    let actions: Vec<(String, String)> = s["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().to_string(),
                a["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let orders = format!("{}/orders", pass.url);
    assert_eq!(
        actions,
        vec![
            ("order".to_string(), orders.clone()),
            ("order_and_pay".to_string(), orders),
            ("view".to_string(), pass.page.clone()),
        ]
    );
    assert_eq!(c["termsOfUse"][0]["commission"]["basisPoints"], 750);
    assert_eq!(c["credentialStatus"]["type"], "BitstringStatusListEntry");
    // Issuer metadata points at the keys.
    let (status, meta) = srv
        .anon()
        .raw(
            reqwest::Method::GET,
            &format!("/.well-known/jwt-vc-issuer/v1/providers/{provider_id}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(meta["issuer"], c["iss"]);
    assert_eq!(
        meta["jwks_uri"],
        format!("{}/jwks.json", c["iss"].as_str().unwrap())
    );
    // The pass's `order_and_pay` action works with nothing but the pass.
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let act = &s["actions"][1];
    let target = act["target"]
        .as_str()
        .unwrap()
        .trim_start_matches(&srv.url)
        .to_string();
    let (status, order) = buyer
        .raw(reqwest::Method::POST, &target, Some(&act["body"]))
        .await
        .unwrap();
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "paid");
    assert_eq!(
        order["holder_id"],
        serde_json::Value::Null,
        "no holder brought this buyer"
    );
}

async fn rotation_publishes_new_keys_and_keeps_old_ones_for_their_passes(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let prod = provider
        .create_product(&product("Lamp", "home/lighting", "20.00", 5))
        .await
        .unwrap();
    let mut short = shareable(&prod.id, 100);
    short.valid_until = Some(clock.now().plus_seconds(3_600).to_rfc3339());
    let old = provider.create_pass(&short).await.unwrap();
    let old_kid = symbolon_pass::verify_pass(
        &old.jws,
        &jwks_of(&srv.anon(), &provider_id).await,
        clock.now(),
    )
    .unwrap()
    .kid;

    clock.advance_seconds(1);
    let keys = provider.rotate_key().await.unwrap();
    clock.advance_seconds(1);
    assert_eq!(keys.keys.len(), 2);
    assert!(
        !keys.keys[0].active && keys.keys[0].published,
        "retired, still published"
    );
    assert!(keys.keys[1].active && keys.keys[1].published);
    let new = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    let jwks = jwks_of(&srv.anon(), &provider_id).await;
    assert_eq!(jwks.keys.len(), 2);
    let vo =
        symbolon_pass::verify_pass(&old.jws, &jwks, clock.now()).expect("old passes still verify");
    let vn = symbolon_pass::verify_pass(&new.jws, &jwks, clock.now()).expect("new passes verify");
    assert_eq!(vo.kid, old_kid);
    assert_ne!(vn.kid, old_kid, "new passes use the new key");
    assert_eq!(vn.kid, keys.keys[1].kid);
    // Once the old key's last pass expires, the old key leaves the JWKS.
    clock.advance_seconds(3_601);
    let jwks = jwks_of(&srv.anon(), &provider_id).await;
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(jwks.keys[0].kid, vn.kid);
    let keys = provider.signing_keys().await.unwrap();
    assert!(!keys.keys[0].published);
    // Rotating again retires the second key, which stays published: a pass
    // issued while it was active lives (statements and licences about that
    // pass may carry its signature).
    clock.advance_seconds(1);
    let keys = provider.rotate_key().await.unwrap();
    let published: Vec<&str> = keys
        .keys
        .iter()
        .filter(|k| k.published)
        .map(|k| k.kid.as_str())
        .collect();
    assert_eq!(published, vec![vn.kid.as_str(), keys.keys[2].kid.as_str()]);
    assert_eq!(jwks_of(&srv.anon(), &provider_id).await.keys.len(), 2);
    // Only providers have keys.
    let (_, holder) = srv.account("Hal", &[Role::Holder]).await;
    assert_api_err(holder.rotate_key().await, 403, "forbidden");
}

async fn revocation_reaches_verifiers_through_the_status_list(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h_id, _) = srv.account("Hal", &[Role::Holder]).await;
    let prod = provider
        .create_product(&product("Kettle", "home/kitchen", "35.00", 5))
        .await
        .unwrap();
    let a = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    let b = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    let anon = srv.anon();
    let jwks = jwks_of(&anon, &provider_id).await;
    let now = symbolon_core::SystemClock.now();
    let list = anon.status_list(&provider_id).await.unwrap();
    symbolon_pass::verify_full(&a.jws, &jwks, Some(&list), now).expect("not revoked yet");

    let (_, other) = srv.account("Other", &[Role::Provider]).await;
    assert_api_err(other.revoke_pass(&a.id).await, 403, "forbidden");
    let revoked = provider.revoke_pass(&a.id).await.unwrap();
    assert_eq!(revoked.status, "revoked");
    assert!(revoked.revoked_at.is_some());
    assert_eq!(
        provider.revoke_pass(&a.id).await.unwrap().revoked_at,
        revoked.revoked_at,
        "idempotent"
    );

    let list = anon.status_list(&provider_id).await.unwrap();
    assert_eq!(
        symbolon_pass::verify_full(&a.jws, &jwks, Some(&list), now).unwrap_err(),
        PassError::Revoked
    );
    symbolon_pass::verify_full(&b.jws, &jwks, Some(&list), now)
        .expect("the other pass is untouched");
    // A revoked pass is no longer granted, ordered or shown as valid.
    assert_api_err(
        provider.grant(&a.id, &grant(&h_id)).await,
        409,
        "pass_revoked",
    );
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    assert_api_err(
        buyer
            .pass_order(
                &a.id,
                &CreatePassOrder {
                    quantity: None,
                    pay: true,
                    via: None,
                    ship_to: None,
                },
            )
            .await,
        409,
        "pass_revoked",
    );
    assert_eq!(anon.pass(&a.id).await.unwrap().status, "revoked");
}

async fn a_unit_changes_hands_three_times_and_is_never_sold_twice(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana", &[Role::Holder]).await;
    let (h2_id, h2) = srv.account("Hugo", &[Role::Holder]).await;
    let (r1_id, r1) = srv.account("Ada", &[Role::Requester]).await;
    let (r2_id, r2) = srv.account("Bea", &[Role::Requester]).await;
    let (r3_id, r3) = srv.account("Cy", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Signed print no. 7", "art/prints", "300.00", 3))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&unique(&prod.id, 2, 500))
        .await
        .unwrap();
    let mut g = grant(&h1_id);
    g.units = Some(2);
    provider.grant(&pass.id, &g).await.unwrap();
    let shared = provider
        .create_pass(&shareable(&prod.id, 500))
        .await
        .unwrap();
    provider.grant(&shared.id, &grant(&h2_id)).await.unwrap();

    // Hop 1: holder 1 sells unit 1 to r1 through a demand.
    let d = r1.create_demand(&demand("signed print")).await.unwrap();
    let inbox = h1.inbox(None, None).await.unwrap();
    let req = inbox
        .items
        .iter()
        .find(|i| i.demand_id == d.id)
        .expect("request");
    let offer = h1.offer(&req.id, &offer_of(&pass.id)).await.unwrap();
    let _ = h2; // the second holder makes the demand matchable (two holders)
                // The unit changes hands with the payment, not with the acceptance.
    let paid = buy(&r1, &offer.id).await;
    let unit = paid.unit_no.expect("a unit");
    assert_eq!(
        r1.demand(&d.id).await.unwrap().offers[0].unit_no,
        Some(unit),
        "the offer shows the unit it sold"
    );
    // Hops 2 and 3.
    r1.transfer_unit(&pass.id, unit, &TransferUnit { to: r2_id.clone() })
        .await
        .unwrap();
    // r1 no longer owns it: a second sale by r1 is refused.
    assert_api_err(
        r1.transfer_unit(&pass.id, unit, &TransferUnit { to: r3_id.clone() })
            .await,
        403,
        "forbidden",
    );
    let h = r2
        .transfer_unit(&pass.id, unit, &TransferUnit { to: r3_id.clone() })
        .await
        .unwrap();
    let r3_alias = h.owner.clone().expect("owned");
    assert!(r3_alias.starts_with("own_"), "a pseudonym: {r3_alias}");
    assert_api_err(
        r3.transfer_unit(&pass.id, unit, &TransferUnit { to: r3_id.clone() })
            .await,
        422,
        "invalid_value",
    );
    assert_api_err(
        r3.transfer_unit(
            &pass.id,
            unit,
            &TransferUnit {
                to: "acc_nobody".into(),
            },
        )
        .await,
        404,
        "not_found",
    );

    // The chain, fetched by anyone, verifies offline against the issuer's keys.
    let history = srv.anon().unit_history(&pass.id, unit).await.unwrap();
    let jwks = jwks_of(&srv.anon(), &provider_id).await;
    let statements: Vec<String> = history.transfers.iter().map(|t| t.jws.clone()).collect();
    let chain = symbolon_pass::verify_chain(&history.pass_jws, &statements, &jwks)
        .expect("the chain verifies");
    // The holder is public; buyers appear by pseudonyms (the page promises
    // anonymous purchases): no buyer's account id is anywhere in the history.
    let text = serde_json::to_string(&history).unwrap();
    for id in [&r1_id, &r2_id, &r3_id] {
        assert!(!text.contains(id.as_str()), "{id} is public in {text}");
    }
    let (p1, p2) = (chain.hops[0].1.clone(), chain.hops[1].1.clone());
    assert_eq!(
        chain.hops,
        vec![
            (h1_id.clone(), p1.clone()),
            (p1.clone(), p2.clone()),
            (p2.clone(), r3_alias.clone())
        ]
    );
    assert!([&p1, &p2].iter().all(|p| p.starts_with("own_")));
    assert!(
        p1 != p2 && p2 != r3_alias && p1 != r3_alias,
        "one pseudonym per buyer"
    );
    assert_eq!(chain.owner.as_deref(), Some(r3_alias.as_str()));
    assert_eq!(history.owner.as_deref(), Some(r3_alias.as_str()));
    assert_eq!(
        history
            .transfers
            .iter()
            .map(|t| (t.from.clone(), t.to.clone()))
            .collect::<Vec<_>>(),
        chain.hops,
        "the listed parties are the signed ones"
    );
    assert_eq!(chain.unit_id, history.unit_id);
    // Dropping the middle statement breaks it.
    let gap = vec![statements[0].clone(), statements[2].clone()];
    assert!(matches!(
        symbolon_pass::verify_chain(&history.pass_jws, &gap, &jwks),
        Err(PassError::BrokenChain(_))
    ));
    // The holder's other unit sells; then the holder has none left.
    let d2 = r2.create_demand(&demand("signed print")).await.unwrap();
    let req2 = h1
        .inbox(None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|i| i.demand_id == d2.id)
        .unwrap();
    let o2 = h1.offer(&req2.id, &offer_of(&pass.id)).await.unwrap();
    assert_ne!(
        buy(&r2, &o2.id).await.unit_no,
        Some(unit),
        "a different unit"
    );
    let d3 = r3.create_demand(&demand("signed print")).await;
    if let Ok(d3) = d3 {
        if let Some(req3) = h1
            .inbox(None, None)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|i| i.demand_id == d3.id)
        {
            if let Ok(o3) = h1.offer(&req3.id, &offer_of(&pass.id)).await {
                assert_api_err(r3.accept(&o3.id).await, 409, "units_exhausted");
            }
        }
    }
    assert_api_err(srv.anon().unit_history(&pass.id, 9).await, 404, "not_found");
}

async fn a_holders_link_credits_the_holder_for_page_orders(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h_id, h) = srv.account("Hana", &[Role::Holder]).await;
    let (_, stranger) = srv.account("Stranger", &[Role::Holder]).await;
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Espresso grinder", "home/kitchen", "250.00", 10))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 1_000))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&h_id)).await.unwrap();
    let order_req = |via: Option<&str>, pay: bool| CreatePassOrder {
        quantity: Some(2),
        pay,
        via: via.map(str::to_string),
        ship_to: None,
    };
    // No saved address yet.
    assert_api_err(
        buyer
            .pass_order(&pass.id, &order_req(Some(&h_id), true))
            .await,
        422,
        "shipping_address_missing",
    );
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    // Only a holder of the pass can be credited.
    let stranger_id = stranger.whoami().await.unwrap().id;
    assert_api_err(
        buyer
            .pass_order(&pass.id, &order_req(Some(&stranger_id), true))
            .await,
        404,
        "not_found",
    );
    let o = buyer
        .pass_order(&pass.id, &order_req(Some(&h_id), true))
        .await
        .unwrap();
    assert_eq!(o.status, "paid");
    assert_eq!(o.offer_id, None);
    assert_eq!(o.holder_id.as_deref(), Some(h_id.as_str()));
    assert_eq!(o.total.amount, "500.00");
    assert_eq!(o.commission.amount, "50.00", "10% to the holder");
    assert_eq!(balance_of(&h).await.as_deref(), Some("50.00"));
    assert_eq!(balance_of(&buyer).await.as_deref(), Some("-500.00"));
    assert_eq!(balance_of(&provider).await.as_deref(), Some("450.00"));
    // The holder sees the order it brought, without the buyer's address.
    let seen = h.order(&o.id).await.unwrap();
    assert_eq!(seen.ship_to, None);
    // Ordering without paying, and bad quantities.
    let placed = buyer
        .pass_order(&pass.id, &order_req(None, false))
        .await
        .unwrap();
    assert_eq!(
        (placed.status.as_str(), placed.commission.amount.as_str()),
        ("placed", "0.00")
    );
    let mut bad = order_req(None, false);
    bad.quantity = Some(0);
    assert_api_err(buyer.pass_order(&pass.id, &bad).await, 400, "invalid_field");
    bad.quantity = Some(100);
    assert_api_err(
        buyer.pass_order(&pass.id, &bad).await,
        409,
        "insufficient_stock",
    );
    // A schema-valid quantity whose total the money type cannot hold: 422
    // (a rule the schema cannot state), never 400 (schemathesis found it).
    let dear = provider
        .create_product(&product(
            "Gold grinder",
            "home/kitchen",
            "6000000000000.00",
            10,
        ))
        .await
        .unwrap();
    let dear_pass = provider.create_pass(&shareable(&dear.id, 0)).await.unwrap();
    bad.quantity = Some(2);
    assert_api_err(
        buyer.pass_order(&dear_pass.id, &bad).await,
        422,
        "invalid_value",
    );
    assert_api_err(
        h.pass_order(&pass.id, &order_req(None, false)).await,
        403,
        "forbidden",
    );
    assert_api_err(
        buyer.pass_order("pas_nope", &order_req(None, false)).await,
        404,
        "not_found",
    );
    // A unique pass is sold through a holder's link, one unit per order.
    let uniq = provider
        .create_pass(&unique(&prod.id, 1, 500))
        .await
        .unwrap();
    let mut g = grant(&h_id);
    g.units = Some(1);
    provider.grant(&uniq.id, &g).await.unwrap();
    assert_api_err(
        buyer.pass_order(&uniq.id, &order_req(None, true)).await,
        422,
        "invalid_value",
    );
    let mut one = order_req(Some(&h_id), true);
    one.quantity = Some(1);
    let u = buyer.pass_order(&uniq.id, &one).await.unwrap();
    assert_eq!(u.unit_no, Some(1));
    let history = srv.anon().unit_history(&uniq.id, 1).await.unwrap();
    let buyer_id = buyer.whoami().await.unwrap().id;
    let owner = history.owner.expect("sold");
    assert!(owner.starts_with("own_") && owner != buyer_id, "{owner}");
    assert_api_err(
        buyer.pass_order(&uniq.id, &one).await,
        409,
        "units_exhausted",
    );
}

on_both_backends!(
    a_pass_is_a_verifiable_credential_with_its_actions,
    rotation_publishes_new_keys_and_keeps_old_ones_for_their_passes,
    revocation_reaches_verifiers_through_the_status_list,
    a_unit_changes_hands_three_times_and_is_never_sold_twice,
    a_holders_link_credits_the_holder_for_page_orders,
);

/// Signing keys are sealed under the master key outside the database: the
/// database holds no 32-byte seed, and a restart on the same data directory
/// (same master key file) signs with the same key.
#[tokio::test]
async fn signing_keys_are_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let srv = TestServer::start_at(dir.path(), clock.clone()).await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let prod = provider
        .create_product(&product("Desk", "home/furniture", "99.00", 2))
        .await
        .unwrap();
    provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    srv.stop().await;
    let key_file = dir.path().join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("symbolon.db").display()
    ))
    .await
    .unwrap();
    let secrets: Vec<Vec<u8>> = sqlx::query_scalar("SELECT secret FROM provider_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(secrets.len(), 1);
    assert_ne!(secrets[0].len(), 32, "the seed is not stored in the clear");
    pool.close().await;
    let srv = TestServer::start_at(dir.path(), clock).await;
    let provider = srv.anon().with_key(provider.api_key().unwrap());
    let again = provider
        .create_pass(&shareable(&prod.id, 100))
        .await
        .unwrap();
    let jwks = jwks_of(&srv.anon(), &provider_id).await;
    symbolon_pass::verify_pass(
        &again.jws,
        &jwks,
        Timestamp::parse_rfc3339("2026-11-28T12:00:01Z").unwrap(),
    )
    .expect("signed after restart with the same key");
    assert_eq!(jwks.keys.len(), 1);
    // Without the master key file the sealed keys cannot be opened: the
    // server refuses to start (rather than failing later to sign).
    srv.stop().await;
    std::fs::remove_file(&key_file).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = symbolon_server::ServerConfig {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    let err = match symbolon_server::prepare(listener, config, manual_clock()).await {
        Ok(_) => panic!("a server started with the wrong master key"),
        Err(e) => format!("{e}: {:?}", std::error::Error::source(&e)),
    };
    assert!(err.contains("master key"), "{err}");
    let _ = provider;
}

/// Builds the credential the exchange issues for `prod`, as a provider
/// signing itself would (the CLI's `pass sign` does the same).
fn own_claims(
    srv: &TestServer,
    provider_id: &str,
    name: &str,
    prod: &Product,
    index: u32,
) -> serde_json::Value {
    let id = symbolon_core::ids::IdGen::fresh("pas");
    let url = format!("{}/v1/passes/{id}", srv.url);
    let page = format!("{}/p/{id}", srv.url);
    let issuer = format!("{}/v1/providers/{provider_id}", srv.url);
    let actions = symbolon_pass::standard_actions(&url, &page, false);
    let status = symbolon_pass::StatusEntry {
        index,
        list_url: format!("{issuer}/status/revocation"),
    };
    let specs: Vec<(String, String)> = prod
        .specs
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    symbolon_pass::credential(
        &url,
        &issuer,
        name,
        &symbolon_pass::PassSubject {
            product_id: &prod.id,
            name: &prod.title,
            description: &prod.description,
            category: &prod.category,
            specs: &specs,
            price: symbolon_core::Money::parse(&prod.price.amount, &prod.price.currency).unwrap(),
            link: &page,
            order_endpoint: &format!("{url}/orders"),
            gtin: prod.gtin.as_deref(),
            actions: &actions,
            status: Some(&status),
        },
        &symbolon_pass::PassTerms {
            mode: "shareable",
            units: None,
            commission_bps: 400,
        },
        symbolon_core::SystemClock.now(),
        None,
    )
}

async fn a_provider_signs_passes_itself_and_the_server_checks_them(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (provider_id, provider) = srv.account("Own Key Ltd", &[Role::Provider]).await;
    let prod = provider
        .create_product(&product("Rain jacket", "apparel/outdoor", "89.90", 3))
        .await
        .unwrap();
    let own = symbolon_pass::ProviderKey::from_secret_bytes([77; 32]);
    let jwk = serde_json::to_value(own.jwk()).unwrap();
    // Bad registrations: a private key, another curve, garbage.
    let mut private = jwk.clone();
    private["d"] = "AAAA".into();
    assert_api_err(
        provider
            .register_key(&RegisterSigningKey { jwk: private })
            .await,
        400,
        "invalid_field",
    );
    let mut x25519 = jwk.clone();
    x25519["crv"] = "X25519".into();
    assert_api_err(
        provider
            .register_key(&RegisterSigningKey { jwk: x25519 })
            .await,
        400,
        "invalid_field",
    );
    assert_api_err(
        provider
            .register_key(&RegisterSigningKey {
                jwk: serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "short"}),
            })
            .await,
        400,
        "invalid_field",
    );
    let upload = |jws: String| {
        let p = provider.clone();
        async move { p.upload_pass(&UploadPass { jws }).await }
    };
    // Before its key is registered, a self-signed pass is refused.
    let claims = own_claims(&srv, &provider_id, "Own Key Ltd", &prod, 10);
    let jws = symbolon_pass::sign_compact(&claims, &own, symbolon_pass::PASS_TYP, Some("vc"));
    assert_api_err(upload(jws.clone()).await, 422, "pass_signature_invalid");
    let keys = provider
        .register_key(&RegisterSigningKey { jwk: jwk.clone() })
        .await
        .unwrap();
    assert_eq!(keys.keys.len(), 2);
    assert_api_err(
        provider.register_key(&RegisterSigningKey { jwk }).await,
        409,
        "invalid_state",
    );

    let pass = upload(jws.clone()).await.unwrap();
    assert_eq!(pass.jws, jws, "stored exactly as signed");
    assert_eq!(pass.url, claims["id"]);
    let published = jwks_of(&srv.anon(), &provider_id).await;
    let v = symbolon_pass::verify_pass(&pass.jws, &published, symbolon_core::SystemClock.now())
        .unwrap();
    assert_eq!(v.kid, own.kid());
    // It trades like any pass: an order on it.
    let (_, buyer) = srv.account("Ada", &[Role::Requester]).await;
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let o = buyer
        .pass_order(
            &pass.id,
            &CreatePassOrder {
                quantity: None,
                pay: true,
                via: None,
                ship_to: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(o.status, "paid");
    // The same pass twice, or its status bit reused: refused.
    assert_api_err(upload(jws).await, 409, "invalid_state");
    let reuse = own_claims(&srv, &provider_id, "Own Key Ltd", &prod, 10);
    assert_api_err(
        upload(symbolon_pass::sign_compact(
            &reuse,
            &own,
            symbolon_pass::PASS_TYP,
            Some("vc"),
        ))
        .await,
        409,
        "invalid_state",
    );
    // Content that is not what the exchange lists: refused, naming the member.
    let mut cheap = own_claims(&srv, &provider_id, "Own Key Ltd", &prod, 11);
    cheap["credentialSubject"]["price"]["amount"] = "1.00".into();
    let details = assert_api_err(
        upload(symbolon_pass::sign_compact(
            &cheap,
            &own,
            symbolon_pass::PASS_TYP,
            Some("vc"),
        ))
        .await,
        400,
        "invalid_field",
    );
    assert_eq!(details.unwrap()["field"], "jws.credentialSubject");
    let mut foreign = own_claims(&srv, &provider_id, "Own Key Ltd", &prod, 12);
    foreign["id"] = "https://elsewhere.example/v1/passes/pas_aaaaaaaaaaaaaaaaaaaa".into();
    assert_api_err(
        upload(symbolon_pass::sign_compact(
            &foreign,
            &own,
            symbolon_pass::PASS_TYP,
            Some("vc"),
        ))
        .await,
        400,
        "invalid_field",
    );
    // A tampered signature, a wrong typ, garbage.
    let good = symbolon_pass::sign_compact(
        &own_claims(&srv, &provider_id, "Own Key Ltd", &prod, 13),
        &own,
        symbolon_pass::PASS_TYP,
        Some("vc"),
    );
    let mut bytes = good.into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let details = assert_api_err(
        upload(String::from_utf8(bytes).unwrap()).await,
        422,
        "pass_signature_invalid",
    );
    assert_eq!(details.unwrap()["reason"], "bad_signature");
    let wrong_typ = symbolon_pass::sign_compact(
        &own_claims(&srv, &provider_id, "Own Key Ltd", &prod, 14),
        &own,
        "jwt",
        None,
    );
    assert_api_err(upload(wrong_typ).await, 422, "pass_signature_invalid");
    assert_api_err(
        upload("garbage".into()).await,
        422,
        "pass_signature_invalid",
    );
    assert_api_err(upload("x".repeat(70_000)).await, 400, "invalid_field");
    // Another provider cannot upload passes of this provider's products.
    let (other_id, other) = srv.account("Other", &[Role::Provider]).await;
    let other_key = symbolon_pass::ProviderKey::from_secret_bytes([78; 32]);
    other
        .register_key(&RegisterSigningKey {
            jwk: serde_json::to_value(other_key.jwk()).unwrap(),
        })
        .await
        .unwrap();
    let theirs = own_claims(&srv, &other_id, "Other", &prod, 15);
    assert_api_err(
        other
            .upload_pass(&UploadPass {
                jws: symbolon_pass::sign_compact(
                    &theirs,
                    &other_key,
                    symbolon_pass::PASS_TYP,
                    Some("vc"),
                ),
            })
            .await,
        403,
        "forbidden",
    );
}

on_both_backends!(a_provider_signs_passes_itself_and_the_server_checks_them);

/// The pass page tells the truth: a revoked or expired pass says it can no
/// longer be used and offers no Order buttons; an active one does.
#[tokio::test]
async fn the_pass_page_of_a_revoked_or_expired_pass_offers_no_order() {
    let clock = manual_clock();
    let srv = TestServer::start_on(Backend::Sqlite, clock.clone()).await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let prod = p
        .create_product(&product("Kettle", "home/kitchen", "30.00", 5))
        .await
        .unwrap();
    let page = |id: String| {
        let url = format!("{}/p/{id}", srv.url);
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let active = p.create_pass(&shareable(&prod.id, 500)).await.unwrap();
    let html = page(active.id.clone()).await;
    assert!(html.contains("id=\"btn-order-pay\""), "{html}");
    assert!(!html.contains("not-orderable"));

    let revoked = p.create_pass(&shareable(&prod.id, 500)).await.unwrap();
    p.revoke_pass(&revoked.id).await.unwrap();
    let html = page(revoked.id.clone()).await;
    assert!(
        html.contains("id=\"not-orderable\"") && html.contains("its provider revoked it"),
        "{html}"
    );
    assert!(!html.contains("id=\"btn-order"), "{html}");

    let mut short = shareable(&prod.id, 500);
    short.valid_until = Some(clock.now().plus_seconds(3_600).to_rfc3339());
    let short = p.create_pass(&short).await.unwrap();
    clock.advance_seconds(7_200);
    let html = page(short.id.clone()).await;
    assert!(html.contains("it has expired"), "{html}");
    assert!(!html.contains("id=\"btn-order"), "{html}");
}
