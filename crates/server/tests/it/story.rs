//! The whole exchange, end to end, as the acceptance story.

use crate::harness::*;
use crate::on_both_backends;
use std::collections::HashSet;
use symbolon_client::api::*;
use symbolon_core::Clock;
use symbolon_pass::{verify_compact, verify_pass, Jwks, LICENCE_TYP};

async fn demand_to_offers_to_one_click_order_to_rating(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;

    // --- registration
    let (provider_id, provider) = srv.account("Acme Audio", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana (audio)", &[Role::Holder]).await;
    let (h2_id, h2) = srv.account("Hugo (electronics)", &[Role::Holder]).await;
    let (h3_id, h3) = srv.account("Hilde (kitchen)", &[Role::Holder]).await;
    let (h4_id, h4) = srv.account("Hans (grinders)", &[Role::Holder]).await;
    let (_r0_id, r0) = srv.account("Earlier buyer", &[Role::Requester]).await;
    let (requester_id, requester) = srv.account("Ada", &[Role::Requester]).await;

    // --- products and passes
    let headphones = provider
        .create_product(&product(
            "Noise cancelling headphones",
            "electronics/audio/headphones",
            "200.00",
            10,
        ))
        .await
        .unwrap();
    assert_eq!(headphones.price, usd("200.00"));
    let grinder = provider
        .create_product(&product("Burr coffee grinder", "home/kitchen", "80.00", 5))
        .await
        .unwrap();
    let hp_pass = provider
        .create_pass(&shareable(&headphones.id, 1000))
        .await
        .unwrap();
    let grinder_pass = provider
        .create_pass(&unique(&grinder.id, 3, 500))
        .await
        .unwrap();
    assert!(hp_pass.url.ends_with(&format!("/v1/passes/{}", hp_pass.id)));
    assert_eq!(hp_pass.jws.split('.').count(), 3);

    // --- grants and profiles
    for h in [&h1_id, &h2_id, &h3_id] {
        provider.grant(&hp_pass.id, &grant(h)).await.unwrap();
    }
    let g = provider
        .grant(
            &grinder_pass.id,
            &CreateGrant {
                holder_id: h4_id.clone(),
                units: Some(2),
            },
        )
        .await
        .unwrap();
    assert_eq!((g.units_granted, g.units_left), (Some(2), Some(2)));
    h1.set_holder_profile(&fields(&["electronics/audio"]))
        .await
        .unwrap();
    h2.set_holder_profile(&fields(&["electronics"]))
        .await
        .unwrap();
    h3.set_holder_profile(&fields(&["home/kitchen"]))
        .await
        .unwrap();
    h4.set_holder_profile(&fields(&["home/kitchen"]))
        .await
        .unwrap();
    assert_eq!(h1.wallet().await.unwrap().items.len(), 1);

    // --- an earlier demand builds reputations from real interactions:
    // h1 offers (then is rated positive), h2 declines, h3 lets it expire.
    let d0 = r0.create_demand(&demand("headphones")).await.unwrap();
    let contacted0: HashSet<String> = d0.contacted.iter().map(|c| c.holder_id.clone()).collect();
    assert_eq!(
        contacted0,
        HashSet::from([h1_id.clone(), h2_id.clone(), h3_id.clone()])
    );
    let i0 = |c: &symbolon_client::Client| {
        let c = c.clone();
        async move { c.inbox(None, None).await.unwrap().items.remove(0) }
    };
    let off0 = h1
        .offer(
            &i0(&h1).await.id,
            &CreateOffer {
                pass_id: hp_pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    h2.decline(&i0(&h2).await.id).await.unwrap();
    clock.advance_seconds(301); // d0's TTL is 300 s: h3's request expires.
    let i3 = i0(&h3).await;
    assert_eq!(i3.status, "expired");
    // Only a buyer rates: r0 buys through h1's offer, then rates it.
    let bought = buy(&r0, &off0.id).await;
    deliver(&provider, &r0, &bought.id).await;
    r0.rate(
        &off0.id,
        &CreateRating {
            positive: true,
            comment: Some("fast".into()),
        },
    )
    .await
    .unwrap();
    assert_api_err(
        h3.offer(
            &i3.id,
            &CreateOffer {
                pass_id: hp_pass.id.clone(),
                note: None,
            },
        )
        .await,
        409,
        "interaction_closed",
    );
    let rep1 = srv.anon().holder(&h1_id).await.unwrap();
    assert_eq!(
        (
            rep1.positive_rate,
            rep1.ratings,
            rep1.success_rate,
            rep1.interactions
        ),
        (Some(1.0), 1, Some(1.0), 1)
    );
    let rep2 = srv.anon().holder(&h2_id).await.unwrap();
    assert_eq!(
        (
            rep2.positive_rate,
            rep2.ratings,
            rep2.success_rate,
            rep2.interactions
        ),
        (None, 0, Some(0.0), 1)
    );
    let rep3 = srv.anon().holder(&h3_id).await.unwrap();
    assert_eq!((rep3.success_rate, rep3.interactions), (Some(0.0), 1));

    // --- the demand: only h1 and h2 qualify (h3 fails fields, h4 holds no matching pass), h1 first.
    let mut d = demand("noise cancelling headphones");
    d.category = Some("electronics/audio".into());
    d.max_price = Some(usd("250.00"));
    d.holder.fields = Some(vec!["electronics/audio".into()]);
    d.ttl_seconds = Some(600);
    let created = requester.create_demand(&d).await.unwrap();
    assert_eq!(created.status, "open");
    let ranked: Vec<&str> = created
        .contacted
        .iter()
        .map(|c| c.holder_id.as_str())
        .collect();
    assert_eq!(
        ranked,
        vec![h1_id.as_str(), h2_id.as_str()],
        "exactly the qualifying holders, best first"
    );
    assert_eq!(created.contacted[0].rank, 1);
    assert!(created.contacted[0].why.score > created.contacted[1].why.score);
    assert_eq!(
        created.contacted[0].why.matched_fields,
        vec!["electronics/audio"]
    );
    assert_eq!(
        created.contacted[0].why.matched_pass_ids,
        vec![hp_pass.id.clone()]
    );

    // --- interaction requests in exactly their inboxes
    let in1 = h1.inbox(None, None).await.unwrap().items;
    let in2 = h2.inbox(None, None).await.unwrap().items;
    let mine = |items: &[InboxItem]| {
        items
            .iter()
            .filter(|i| i.demand_id == created.id)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (r1, r2) = (mine(&in1), mine(&in2));
    assert_eq!((r1.len(), r2.len()), (1, 1));
    assert!(mine(&h3.inbox(None, None).await.unwrap().items).is_empty());
    assert!(mine(&h4.inbox(None, None).await.unwrap().items).is_empty());
    assert_eq!(r1[0].status, "pending");
    assert_eq!(r1[0].item.query, "noise cancelling headphones");
    assert_eq!(r1[0].item.max_price, Some(usd("250.00")));
    assert_eq!(r1[0].matched_pass_ids, vec![hp_pass.id.clone()]);

    // --- offers, whose passes verify against the provider's JWKS
    let o1 = h1
        .offer(
            &r1[0].id,
            &CreateOffer {
                pass_id: hp_pass.id.clone(),
                note: Some("ships today".into()),
            },
        )
        .await
        .unwrap();
    let o2 = h2
        .offer(
            &r2[0].id,
            &CreateOffer {
                pass_id: hp_pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    assert_api_err(
        h1.offer(
            &r1[0].id,
            &CreateOffer {
                pass_id: hp_pass.id.clone(),
                note: None,
            },
        )
        .await,
        409,
        "interaction_closed",
    );
    let view = requester.demand(&created.id).await.unwrap();
    assert_eq!(view.offers.len(), 2);
    let jwks: Jwks = serde_json::from_value(srv.anon().jwks(&provider_id).await.unwrap()).unwrap();
    assert_eq!(jwks.keys.len(), 1);
    for offer in &view.offers {
        let v = verify_pass(&offer.pass.jws, &jwks, clock.now()).expect("pass verifies");
        assert_eq!(
            v.claims["credentialSubject"]["name"],
            "Noise cancelling headphones"
        );
        assert_eq!(v.claims["credentialSubject"]["price"]["amount"], "200.00");
        assert_eq!(v.claims["termsOfUse"][0]["commission"]["basisPoints"], 1000);
        assert_eq!(v.claims["iss"], v.claims["issuer"]["id"]);
    }
    let o1_view = view.offers.iter().find(|o| o.id == o1.id).unwrap();
    assert_eq!(o1_view.holder.id, h1_id);
    assert_eq!(o1_view.holder.positive_rate, Some(1.0));
    assert_eq!(o1_view.note.as_deref(), Some("ships today"));
    assert_eq!(o1_view.pass.price, usd("200.00"));

    // --- accept (a licence for a shareable pass), once
    let accepted = requester.accept(&o1.id).await.unwrap();
    assert_eq!(accepted.status, "accepted");
    let licence = accepted.licence.expect("licence");
    let lv = verify_compact(&licence, &jwks, LICENCE_TYP).unwrap();
    assert_eq!(lv.claims["sub"], requester_id.as_str());
    assert_eq!(lv.claims["holder"], h1_id.as_str());
    assert_api_err(
        requester.accept(&o1.id).await,
        409,
        "offer_already_accepted",
    );
    assert_api_err(
        requester.accept(&o2.id).await,
        409,
        "offer_already_accepted",
    );
    assert_eq!(
        requester.demand(&created.id).await.unwrap().status,
        "accepted"
    );

    // --- one-click order + pay; a declined card first leaves nothing behind
    requester
        .set_requester_profile(&profile("4000000000000002"))
        .await
        .unwrap();
    assert_api_err(
        requester.create_order(&order(&o1.id, 2, true)).await,
        402,
        "payment_declined",
    );
    assert!(requester
        .orders(None, None, None)
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(provider.product(&headphones.id).await.unwrap().stock, 9);
    assert_eq!(balance_of(&requester).await, None);
    assert_api_err(
        requester.create_order(&order(&o1.id, 11, false)).await,
        409,
        "insufficient_stock",
    );
    requester
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let placed = requester
        .create_order(&order(&o1.id, 2, true))
        .await
        .unwrap();
    assert_eq!(placed.status, "paid");
    assert_eq!(placed.total, usd("400.00"));
    assert_eq!(placed.commission, usd("40.00"));
    assert_eq!(
        (
            placed.provider_id.as_str(),
            placed.holder_id.as_deref().unwrap_or_default()
        ),
        (provider_id.as_str(), h1_id.as_str())
    );
    assert_eq!(placed.ship_to, Some(address()));
    assert_eq!(provider.product(&headphones.id).await.unwrap().stock, 7);
    assert_api_err(
        requester.create_order(&order(&o1.id, 1, true)).await,
        409,
        "already_ordered",
    );

    // --- balances exact, summing to zero
    assert_eq!(balance_of(&provider).await.as_deref(), Some("540.00"));
    assert_eq!(balance_of(&h1).await.as_deref(), Some("60.00"));
    assert_eq!(balance_of(&requester).await.as_deref(), Some("-400.00"));
    assert_eq!(balance_of(&h2).await, None);

    // --- the provider sees and ships the order
    let provider_orders = provider.orders(None, None, None).await.unwrap();
    assert_eq!(
        provider_orders
            .items
            .iter()
            .map(|o| o.id.as_str())
            .filter(|id| *id == placed.id)
            .count(),
        1
    );
    assert_eq!(provider_orders.items.len(), 2, "r0's and this one");
    let shipped = provider.ship_order(&placed.id).await.unwrap();
    assert_eq!(shipped.status, "shipped");
    assert!(shipped.shipped_at.is_some());
    assert_api_err(
        provider.ship_order(&placed.id).await,
        409,
        "invalid_transition",
    );
    assert_eq!(
        h1.orders(Some("holder"), None, None)
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    // --- ratings: once per offer, only by the buyer of the accepted offer, once delivered
    assert_api_err(
        requester
            .rate(
                &o1.id,
                &CreateRating {
                    positive: true,
                    comment: None,
                },
            )
            .await,
        409,
        "rating_not_allowed",
    );
    let delivered = requester.confirm_delivery(&placed.id).await.unwrap();
    assert_eq!(delivered.status, "delivered");
    assert!(delivered.return_by.is_some());
    requester
        .rate(
            &o1.id,
            &CreateRating {
                positive: true,
                comment: None,
            },
        )
        .await
        .unwrap();
    assert_api_err(
        requester
            .rate(
                &o1.id,
                &CreateRating {
                    positive: false,
                    comment: None,
                },
            )
            .await,
        409,
        "already_rated",
    );
    // The competitor's offer was not bought: no rating (the griefing path).
    assert_api_err(
        requester
            .rate(
                &o2.id,
                &CreateRating {
                    positive: false,
                    comment: Some("slow".into()),
                },
            )
            .await,
        409,
        "rating_not_allowed",
    );

    // h1: 2 positive of 2 ratings; offered 2 of 2 decided.
    let rep1 = srv.anon().holder(&h1_id).await.unwrap();
    assert_eq!(
        (
            rep1.positive_rate,
            rep1.ratings,
            rep1.success_rate,
            rep1.interactions
        ),
        (Some(1.0), 2, Some(1.0), 2)
    );
    // h2: no rating; offered 1 of 2 decided (one decline).
    let rep2 = srv.anon().holder(&h2_id).await.unwrap();
    assert_eq!(
        (
            rep2.positive_rate,
            rep2.ratings,
            rep2.success_rate,
            rep2.interactions
        ),
        (None, 0, Some(0.5), 2)
    );
    // h4 was never contacted: no rates at all.
    let rep4 = srv.anon().holder(&h4_id).await.unwrap();
    assert_eq!(
        (rep4.positive_rate, rep4.success_rate, rep4.interactions),
        (None, None, 0)
    );

    // Every event each party heard is in its documented shape.
    let mut heard = std::collections::BTreeSet::new();
    for c in [&provider, &h1, &h2, &h3, &h4, &r0, &requester] {
        heard.extend(schema_checked_events(c).await.into_iter().map(|e| e.kind));
    }
    for kind in [
        "interaction.requested",
        "offer.created",
        "offer.accepted",
        "order.placed",
        "order.paid",
        "order.shipped",
        "order.delivered",
        "rating.created",
    ] {
        assert!(heard.contains(kind), "{kind} not heard: {heard:?}");
    }

    srv.stop().await;
}

async fn unique_pass_transfers_one_unit_per_paid_order(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (a_id, a) = srv.account("A", &[Role::Holder]).await;
    let (b_id, _b) = srv.account("B", &[Role::Holder]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let p = provider
        .create_product(&product("Signed vinyl record", "music/vinyl", "50.00", 100))
        .await
        .unwrap();
    let pass = provider.create_pass(&unique(&p.id, 2, 0)).await.unwrap();
    provider
        .grant(
            &pass.id,
            &CreateGrant {
                holder_id: a_id.clone(),
                units: Some(1),
            },
        )
        .await
        .unwrap();
    provider
        .grant(
            &pass.id,
            &CreateGrant {
                holder_id: b_id.clone(),
                units: Some(1),
            },
        )
        .await
        .unwrap();
    let details = assert_api_err(
        provider
            .grant(
                &pass.id,
                &CreateGrant {
                    holder_id: a_id.clone(),
                    units: Some(1),
                },
            )
            .await,
        409,
        "units_exhausted",
    )
    .expect("details");
    assert_eq!(
        (&details["field"], &details["asked"], &details["left"]),
        (&"units".into(), &1.into(), &0.into()),
        "the refusal says how many were asked and how many are left"
    );
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    // What is left to buy: 1 unit with each holder, none sold yet.
    let units = srv.anon().pass_units(&pass.id, None, None).await.unwrap();
    assert_eq!((units.unsold, units.items.len()), (2, 0));
    assert!(pass_page(&srv, &pass.id, None)
        .await
        .contains("<span id=\"available\">2</span> units left"));
    assert!(pass_page(&srv, &pass.id, Some(&a_id))
        .await
        .contains("<span id=\"available\">1</span> unit left"));

    let d = r.create_demand(&demand("vinyl")).await.unwrap();
    assert_eq!(d.contacted.len(), 2);
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
    let acc = r.accept(&oa.id).await.unwrap();
    assert_eq!(acc.unit, None, "a unit moves only with the payment");
    assert_eq!(acc.licence, None);
    assert_eq!(a.wallet().await.unwrap().items[0].units_left, Some(1));
    assert_api_err(
        r.create_order(&order(&oa.id, 2, true)).await,
        422,
        "invalid_value",
    );
    // Ordered without paying, the unit stays with the holder; paying moves it.
    let o = r.create_order(&order(&oa.id, 1, false)).await.unwrap();
    assert_eq!((o.status.as_str(), o.unit_no), ("placed", None));
    assert_eq!(a.wallet().await.unwrap().items[0].units_left, Some(1));
    let r_key = r.api_key().expect("key").to_string();
    let unpaid = web_page(&srv, &r_key, &format!("/orders/{}", o.id)).await;
    assert!(
        unpaid.contains("<td id=\"order-unit\">assigned when paid</td>"),
        "{unpaid}"
    );
    // A second order of the offer is refused with the id of the one that exists.
    let details = assert_api_err(
        r.create_order(&order(&oa.id, 1, false)).await,
        409,
        "already_ordered",
    )
    .expect("details");
    assert_eq!(details["order_id"], o.id.as_str());
    let o = r.pay_order(&o.id).await.unwrap();
    assert_eq!((o.status.as_str(), o.unit_no), ("paid", Some(1)));
    let paid = web_page(&srv, &r_key, &format!("/orders/{}", o.id)).await;
    assert!(
        paid.contains(&format!(
            "<a href=\"/v1/passes/{}/units/1/history\">No. 1</a>",
            pass.id
        )),
        "{paid}"
    );
    // The unit's history is listed on the pass; A has none left to sell.
    let units = srv.anon().pass_units(&pass.id, None, None).await.unwrap();
    assert_eq!(units.unsold, 1);
    assert_eq!(units.items.len(), 1);
    let sold = &units.items[0];
    assert_eq!((sold.unit_no, sold.transfers), (1, 1));
    assert!(
        sold.owner.as_deref().is_some_and(|o| o.starts_with("own_")),
        "{sold:?}"
    );
    assert_eq!(
        sold.history,
        format!("/v1/passes/{}/units/1/history", pass.id)
    );
    assert!(pass_page(&srv, &pass.id, Some(&a_id))
        .await
        .contains("no unit left"));
    assert!(pass_page(&srv, &pass.id, Some(&b_id))
        .await
        .contains("<span id=\"available\">1</span> unit left"));
    assert_api_err(
        srv.anon().pass_units(&pass.id, None, Some(0)).await,
        400,
        "invalid_query",
    );
    assert_eq!(
        (o.total.amount.as_str(), o.commission.amount.as_str()),
        ("50.00", "0.00")
    );
    assert_eq!(a.wallet().await.unwrap().items[0].units_left, Some(0));
    let offer = r.demand(&d.id).await.unwrap().offers.remove(0);
    assert_eq!(
        offer.unit.as_deref(),
        Some(format!("{}/units/1", pass.id).as_str())
    );

    // A's unit is gone: a new demand reaches only B, so it is refused.
    let refused = r.create_demand(&demand("vinyl")).await;
    let details = assert_api_err(refused, 422, "insufficient_holders").unwrap();
    assert_eq!(details["qualified"], 1);
    srv.stop().await;
}

async fn one_click_order_without_payment_then_pay(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("A", &[Role::Holder]).await;
    let (h2_id, _h2) = srv.account("B", &[Role::Holder]).await;
    let (_, r) = srv.account("R", &[Role::Requester]).await;
    let p = provider
        .create_product(&product(
            "Espresso machine",
            "home/kitchen/coffee",
            "99.99",
            3,
        ))
        .await
        .unwrap();
    let pass = provider.create_pass(&shareable(&p.id, 1000)).await.unwrap();
    provider.grant(&pass.id, &grant(&h1_id)).await.unwrap();
    provider.grant(&pass.id, &grant(&h2_id)).await.unwrap();
    r.create_demand(&demand("espresso")).await.unwrap();
    let i = h1.inbox(None, None).await.unwrap().items.remove(0);
    let o = h1
        .offer(
            &i.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    assert_api_err(
        r.create_order(&order(&o.id, 1, false)).await,
        409,
        "offer_not_accepted",
    );
    r.accept(&o.id).await.unwrap();
    assert_api_err(
        r.create_order(&order(&o.id, 1, false)).await,
        422,
        "shipping_address_missing",
    );
    r.set_requester_profile(&RequesterProfileUpdate {
        ship_to: Some(address()),
        payment_method: None,
    })
    .await
    .unwrap();
    let placed = r.create_order(&order(&o.id, 1, false)).await.unwrap();
    assert_eq!(placed.status, "placed");
    assert_eq!(placed.commission, usd("9.99")); // 10% of 99.99, rounded down to the cent
    assert_eq!(balance_of(&r).await, None);
    assert_api_err(r.pay_order(&placed.id).await, 422, "payment_method_missing");
    r.set_requester_profile(&RequesterProfileUpdate {
        ship_to: None,
        payment_method: Some(PaymentMethodInput {
            kind: "sandbox_card".into(),
            number: "4242424242424242".into(),
        }),
    })
    .await
    .unwrap();
    let prof = r.requester_profile().await.unwrap();
    assert_eq!(
        prof.ship_to,
        Some(address()),
        "a partial update keeps the saved address"
    );
    assert_eq!(prof.payment_method.unwrap().last4, "4242");
    let paid = r.pay_order(&placed.id).await.unwrap();
    assert_eq!(paid.status, "paid");
    assert_api_err(r.pay_order(&placed.id).await, 409, "invalid_transition");
    assert_eq!(balance_of(&r).await.as_deref(), Some("-99.99"));
    assert_eq!(balance_of(&provider).await.as_deref(), Some("90.00"));
    assert_eq!(balance_of(&h1).await.as_deref(), Some("9.99"));
    srv.stop().await;
}

on_both_backends!(
    demand_to_offers_to_one_click_order_to_rating,
    unique_pass_transfers_one_unit_per_paid_order,
    one_click_order_without_payment_then_pay
);

/// The public pass page, through a holder's link or not.
async fn pass_page(srv: &TestServer, pass_id: &str, via: Option<&str>) -> String {
    let via = via.map(|v| format!("?via={v}")).unwrap_or_default();
    reqwest::get(format!("{}/p/{pass_id}{via}", srv.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
