//! Nobody sees or touches what belongs to someone else; a refused demand contacts nobody.

use crate::harness::*;
use crate::on_both_backends;
use symbolon_client::api::*;

async fn insufficient_holders_contacts_nobody_and_counts_eliminations(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, b) = srv.account("B", &[Role::Holder]).await;
    let (c_id, c) = srv.account("C", &[Role::Holder]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let tea = provider
        .create_product(&product("Green tea 绿茶 100g", "food/tea", "12.00", 50))
        .await
        .unwrap();
    let pot = provider
        .create_product(&product("Cast iron teapot", "home/kitchen", "60.00", 5))
        .await
        .unwrap();
    let tea_pass = provider
        .create_pass(&shareable(&tea.id, 500))
        .await
        .unwrap();
    let pot_pass = provider
        .create_pass(&shareable(&pot.id, 500))
        .await
        .unwrap();
    provider.grant(&tea_pass.id, &grant(&a_id)).await.unwrap();
    provider.grant(&tea_pass.id, &grant(&b_id)).await.unwrap();
    provider.grant(&pot_pass.id, &grant(&c_id)).await.unwrap();
    a.set_holder_profile(&fields(&["food/tea"])).await.unwrap();
    b.set_holder_profile(&fields(&["electronics"]))
        .await
        .unwrap();
    c.set_holder_profile(&fields(&["food"])).await.unwrap();

    let mut d = demand("绿茶");
    d.category = Some("food".into());
    d.max_price = Some(usd("20"));
    d.holder.fields = Some(vec!["food".into()]);
    let details =
        assert_api_err(r.create_demand(&d).await, 422, "insufficient_holders").expect("details");
    // The refused demand's id (for its selection-log entry) is random.
    insta::assert_json_snapshot!("insufficient_holders_details", details, {".demand_id" => "[demand_id]"});
    assert_eq!(details["holders_with_supply"], 3);
    assert_eq!(details["qualified"], 1);
    assert_eq!(details["eliminated"]["fields"], 1); // B
                                                    // Dropping the fields criterion alone would let B in: two qualify.
    assert_eq!(
        details["relaxations"]["fields"],
        serde_json::json!({"to": null, "qualified": 2})
    );
    assert!(
        details["relaxations"].get("max_price").is_none(),
        "no price would bring C's teapot in"
    );
    assert_eq!(details["eliminated"]["query"], 1); // C sells teapots
    assert_eq!(details["eliminated"]["category"], 0); // C was already out on the query
    for h in [&a, &b, &c] {
        assert!(
            h.inbox(None, None).await.unwrap().items.is_empty(),
            "nobody is contacted"
        );
    }
    // min_holders below 2 is refused, naming the field.
    d.min_holders = Some(1);
    let det = assert_api_err(r.create_demand(&d).await, 400, "invalid_field").unwrap();
    assert_eq!(det["field"], "min_holders");
    srv.stop().await;
}

async fn parties_only_reach_their_own_objects(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, p1) = srv.account("Maker one", &[Role::Provider]).await;
    let (_, p2) = srv.account("Maker two", &[Role::Provider]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, b) = srv.account("B", &[Role::Holder]).await;
    let (_, r1) = srv.account("R1", &[Role::Requester]).await;
    let (_, r2) = srv.account("R2", &[Role::Requester]).await;
    let prod = p1
        .create_product(&product(
            "Mechanical keyboard",
            "electronics/computing",
            "120.00",
            10,
        ))
        .await
        .unwrap();
    let pass = p1.create_pass(&shareable(&prod.id, 800)).await.unwrap();

    // Providers: another provider's product and pass are off limits.
    assert_api_err(
        p2.create_pass(&shareable(&prod.id, 800)).await,
        403,
        "forbidden",
    );
    assert_api_err(p2.grant(&pass.id, &grant(&a_id)).await, 403, "forbidden");
    // Roles: a holder cannot issue passes; a requester cannot grant.
    assert_api_err(
        a.create_product(&product("x", "a", "1", 1)).await,
        403,
        "forbidden",
    );
    assert_api_err(r1.grant(&pass.id, &grant(&a_id)).await, 403, "forbidden");

    p1.grant(&pass.id, &grant(&a_id)).await.unwrap();
    p1.grant(&pass.id, &grant(&b_id)).await.unwrap();
    let d = r1.create_demand(&demand("keyboard")).await.unwrap();
    let ia = a.inbox(None, None).await.unwrap().items.remove(0);
    let ib = b.inbox(None, None).await.unwrap().items.remove(0);
    assert_ne!(ia.id, ib.id);
    // Holders: only their own inbox; never another's interaction.
    assert!(a
        .inbox(None, None)
        .await
        .unwrap()
        .items
        .iter()
        .all(|i| i.id != ib.id));
    assert_api_err(
        a.offer(
            &ib.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await,
        403,
        "forbidden",
    );
    assert_api_err(a.decline(&ib.id).await, 403, "forbidden");
    let oa = a
        .offer(
            &ia.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();

    // Requesters: another's demand, offer and order are off limits.
    assert_api_err(r2.demand(&d.id).await, 403, "forbidden");
    assert_api_err(r2.accept(&oa.id).await, 403, "forbidden");
    assert_api_err(
        r2.rate(
            &oa.id,
            &CreateRating {
                positive: false,
                comment: None,
            },
        )
        .await,
        403,
        "forbidden",
    );
    r1.accept(&oa.id).await.unwrap();
    assert_api_err(
        r2.create_order(&order(&oa.id, 1, false)).await,
        403,
        "forbidden",
    );
    r1.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let o = r1.create_order(&order(&oa.id, 1, true)).await.unwrap();
    assert_api_err(r2.order(&o.id).await, 403, "forbidden");
    assert_api_err(r2.pay_order(&o.id).await, 403, "forbidden");
    assert!(r2.orders(None, None, None).await.unwrap().items.is_empty());

    // Providers: never ship another provider's order, never list it.
    assert_api_err(p2.ship_order(&o.id).await, 403, "forbidden");
    assert!(p2.orders(None, None, None).await.unwrap().items.is_empty());
    assert_api_err(
        b.orders(Some("provider"), None, None).await,
        403,
        "forbidden",
    );
    assert_eq!(p1.ship_order(&o.id).await.unwrap().status, "shipped");
    srv.stop().await;
}

async fn inbox_pages_oldest_first(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, _b) = srv.account("B", &[Role::Holder]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let prod = p
        .create_product(&product(
            "USB-C charger 65W",
            "electronics/power",
            "30.00",
            100,
        ))
        .await
        .unwrap();
    let pass = p.create_pass(&shareable(&prod.id, 500)).await.unwrap();
    p.grant(&pass.id, &grant(&a_id)).await.unwrap();
    p.grant(&pass.id, &grant(&b_id)).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(r.create_demand(&demand("charger")).await.unwrap().id);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = a.inbox(after.as_deref(), Some(2)).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|i| i.demand_id.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_api_err(a.inbox(None, Some(0)).await, 400, "invalid_query");
    assert_api_err(a.inbox(None, Some(201)).await, 400, "invalid_query");
    assert_api_err(a.inbox(Some("xyz"), None).await, 400, "invalid_query");
    srv.stop().await;
}

/// An account that is both holder and requester is never matched with itself,
/// and the other holders' requests are withdrawn once an offer is accepted.
async fn no_self_dealing_and_withdrawn_requests_do_not_count(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let (both_id, both) = srv.account("Both", &[Role::Holder, Role::Requester]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, b) = srv.account("B", &[Role::Holder]).await;
    let prod = p
        .create_product(&product(
            "Travel mug 保温杯",
            "home/kitchen/drinkware",
            "32.00",
            50,
        ))
        .await
        .unwrap();
    let pass = p.create_pass(&shareable(&prod.id, 1100)).await.unwrap();
    for h in [&both_id, &a_id, &b_id] {
        p.grant(&pass.id, &grant(h)).await.unwrap();
    }
    let d = both.create_demand(&demand("保温杯")).await.unwrap();
    let contacted: Vec<&str> = d.contacted.iter().map(|c| c.holder_id.as_str()).collect();
    assert!(
        !contacted.contains(&both_id.as_str()),
        "never matched with itself: {contacted:?}"
    );
    assert_eq!(contacted.len(), 2);
    assert!(both.inbox(None, None).await.unwrap().items.is_empty());

    let ia = a.inbox(None, None).await.unwrap().items.remove(0);
    let oa = a
        .offer(
            &ia.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    both.accept(&oa.id).await.unwrap();
    let ib = b.inbox(None, None).await.unwrap().items.remove(0);
    assert_eq!(ib.status, "withdrawn");
    assert_api_err(
        b.offer(
            &ib.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await,
        409,
        "interaction_closed",
    );
    let rep_b = srv.anon().holder(&b_id).await.unwrap();
    assert_eq!(
        (rep_b.success_rate, rep_b.interactions),
        (None, 0),
        "a withdrawn request is not held against B"
    );
    let view = both.demand(&d.id).await.unwrap();
    let statuses: Vec<&str> = view.contacted.iter().map(|c| c.status.as_str()).collect();
    assert!(
        statuses.contains(&"offered") && statuses.contains(&"withdrawn"),
        "{statuses:?}"
    );
    srv.stop().await;
}

/// A contacted holder cannot answer with a pass that does not really match
/// the item (a TV for a kettle); the pass the matcher chose is accepted.
async fn an_offer_with_an_unrelated_pass_is_refused(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, _) = srv.account("B", &[Role::Holder]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let kettle = provider
        .create_product(&product(
            "Electric kettle 1.7 L",
            "home/kitchen",
            "40.00",
            50,
        ))
        .await
        .unwrap();
    let tv = provider
        .create_product(&product(
            "OLED television 55 inch",
            "electronics/tv",
            "900.00",
            5,
        ))
        .await
        .unwrap();
    let kettle_pass = provider
        .create_pass(&shareable(&kettle.id, 500))
        .await
        .unwrap();
    let tv_pass = provider.create_pass(&shareable(&tv.id, 500)).await.unwrap();
    for h in [&a_id, &b_id] {
        provider.grant(&kettle_pass.id, &grant(h)).await.unwrap();
    }
    provider.grant(&tv_pass.id, &grant(&a_id)).await.unwrap();
    let created = r.create_demand(&demand("electric kettle")).await.unwrap();
    assert_eq!(created.contacted.len(), 2);
    let item = a.inbox(None, None).await.unwrap().items.remove(0);
    assert_eq!(item.matched_pass_ids, vec![kettle_pass.id.clone()]);
    let wrong = a
        .offer(
            &item.id,
            &CreateOffer {
                pass_id: tv_pass.id.clone(),
                note: None,
            },
        )
        .await;
    assert_api_err(wrong, 422, "invalid_value");
    a.offer(
        &item.id,
        &CreateOffer {
            pass_id: kettle_pass.id.clone(),
            note: None,
        },
    )
    .await
    .unwrap();
}

on_both_backends!(
    an_offer_with_an_unrelated_pass_is_refused,
    insufficient_holders_contacts_nobody_and_counts_eliminations,
    parties_only_reach_their_own_objects,
    inbox_pages_oldest_first,
    no_self_dealing_and_withdrawn_requests_do_not_count
);
