//! What owners do with what they made, over HTTP (issue 18, item 12): a
//! provider lists, changes and archives its products; a requester lists and
//! cancels its demands; a holder sees what awaits its answer and says why it
//! declines; a provider ships with tracking. Only owners may, and nobody sees
//! another's.

use crate::harness::*;
use crate::on_both_backends;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::limits::{
    MAX_DECLINE_REASON_CHARS, MAX_STOCK, MAX_TITLE_CHARS, MAX_TRACKING_CHARS,
};

on_both_backends!(
    a_provider_lists_and_changes_its_own_products_only,
    an_archived_product_is_sold_no_more_and_leaves_the_market,
    a_requester_lists_and_cancels_its_own_demands_only,
    holders_see_what_awaits_them_and_say_why_they_decline,
    providers_ship_with_tracking_the_requester_sees,
);

/// A field error's field.
#[track_caller]
fn field_of<T: std::fmt::Debug>(r: Result<T, symbolon_client::ClientError>) -> String {
    assert_api_err(r, 400, "invalid_field").expect("details")["field"]
        .as_str()
        .expect("field")
        .to_string()
}

/// `n` holders in `audio` holding a shareable pass of a new product of `provider`.
async fn market(
    srv: &TestServer,
    provider: &Client,
    title: &str,
    n: usize,
) -> (Product, Pass, Vec<(String, Client)>) {
    let p = provider
        .create_product(&product(title, "electronics/audio", "80.00", 20))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&p.id, 1_000))
        .await
        .unwrap();
    let mut holders = Vec::new();
    for i in 0..n {
        let (id, h) = srv.account(&format!("Holder {i}"), &[Role::Holder]).await;
        h.set_holder_profile(&fields(&["electronics/audio"]))
            .await
            .unwrap();
        provider.grant(&pass.id, &grant(&id)).await.unwrap();
        holders.push((id, h));
    }
    (p, pass, holders)
}

async fn a_provider_lists_and_changes_its_own_products_only(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, p1) = srv.account("Maker one", &[Role::Provider]).await;
    let (_, p2) = srv.account("Maker two", &[Role::Provider]).await;
    let (_, r) = srv.account("Buyer", &[Role::Requester]).await;
    let first = p1
        .create_product(&product("Desk lamp", "home/lighting", "20.00", 5))
        .await
        .unwrap();
    let second = p1
        .create_product(&product("Floor lamp", "home/lighting", "90.00", 2))
        .await
        .unwrap();
    p2.create_product(&product("Rival lamp", "home/lighting", "19.00", 9))
        .await
        .unwrap();

    // Each provider lists its own, oldest first, page by page.
    let all = p1.products(None, None).await.unwrap();
    let ids: Vec<&str> = all.items.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [first.id.as_str(), second.id.as_str()]);
    assert_eq!(all.next, None);
    let page1 = p1.products(None, Some(1)).await.unwrap();
    assert_eq!(page1.items[0].id, first.id);
    let page2 = p1.products(page1.next.as_deref(), Some(1)).await.unwrap();
    assert_eq!(page2.items[0].id, second.id);
    let theirs = p2.products(None, None).await.unwrap();
    assert_eq!(theirs.items.len(), 1);
    assert!(theirs.items.iter().all(|p| p.title == "Rival lamp"));
    assert_api_err(r.products(None, None).await, 403, "forbidden");
    assert_api_err(p1.products(None, Some(0)).await, 400, "invalid_query");

    // A change of the fields given, each checked as at creation.
    let mut specs = std::collections::BTreeMap::new();
    specs.insert("bulb".to_string(), "E27".to_string());
    let change = UpdateProduct {
        title: Some("Desk lamp, brass".into()),
        price: Some(Money::new("24.50", "usd")),
        stock: Some(MAX_STOCK),
        specs: Some(specs.clone()),
        gtin: Some("4006381333931".into()),
        ..Default::default()
    };
    let changed = p1.update_product(&first.id, &change).await.unwrap();
    assert_eq!(changed.title, "Desk lamp, brass");
    assert_eq!(
        changed.price,
        Money::new("24.50", "USD"),
        "the currency normalised"
    );
    assert_eq!((changed.stock, changed.specs.clone()), (MAX_STOCK, specs));
    assert_eq!(changed.description, first.description, "left out, kept");
    assert_eq!(p1.product(&first.id).await.unwrap(), changed);
    let cleared = p1
        .update_product(
            &first.id,
            &UpdateProduct {
                gtin: Some(String::new()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.gtin, None, "an empty GTIN removes it");
    let at_edge = UpdateProduct {
        title: Some("t".repeat(MAX_TITLE_CHARS)),
        ..Default::default()
    };
    p1.update_product(&first.id, &at_edge).await.unwrap();
    for (bad, want) in [
        (
            UpdateProduct {
                title: Some("t".repeat(MAX_TITLE_CHARS + 1)),
                ..Default::default()
            },
            "title",
        ),
        (
            UpdateProduct {
                title: Some("  ".into()),
                ..Default::default()
            },
            "title",
        ),
        (
            UpdateProduct {
                price: Some(usd("0")),
                ..Default::default()
            },
            "price.amount",
        ),
        (
            UpdateProduct {
                price: Some(Money::new("1.00", "XYZ")),
                ..Default::default()
            },
            "price.currency",
        ),
        (
            UpdateProduct {
                stock: Some(MAX_STOCK + 1),
                ..Default::default()
            },
            "stock",
        ),
        (
            UpdateProduct {
                stock: Some(-1),
                ..Default::default()
            },
            "stock",
        ),
        (
            UpdateProduct {
                gtin: Some("12345".into()),
                ..Default::default()
            },
            "gtin",
        ),
        (
            UpdateProduct {
                category: Some("a//b".into()),
                ..Default::default()
            },
            "category",
        ),
    ] {
        assert_eq!(field_of(p1.update_product(&first.id, &bad).await), want);
    }
    let (status, body) = p1
        .raw(
            reqwest::Method::PATCH,
            &format!("/v1/products/{}", first.id),
            Some(&serde_json::json!({"colour": "red"})),
        )
        .await
        .unwrap();
    assert_eq!(
        (status.as_u16(), &body["error"]["details"]["field"]),
        (400, &serde_json::json!("colour"))
    );
    assert_eq!(
        p1.product(&first.id).await.unwrap().title,
        "t".repeat(MAX_TITLE_CHARS),
        "refused changes change nothing"
    );

    // Only its provider changes it: another gets 403, and nothing moves.
    let stock = UpdateProduct {
        stock: Some(1),
        ..Default::default()
    };
    assert_api_err(p2.update_product(&first.id, &stock).await, 403, "forbidden");
    assert_api_err(r.update_product(&first.id, &stock).await, 403, "forbidden");
    assert_api_err(p2.archive_product(&first.id).await, 403, "forbidden");
    assert_api_err(
        p1.update_product("prd_nope", &stock).await,
        404,
        "not_found",
    );
    assert_api_err(p1.archive_product("prd_nope").await, 404, "not_found");
    let now = p1.product(&first.id).await.unwrap();
    assert_eq!((now.stock, now.archived_at), (MAX_STOCK, None));

    // Once a pass signed it, only the stock changes: what a buyer verified
    // is what it pays.
    let pass = p1.create_pass(&shareable(&second.id, 500)).await.unwrap();
    let reprice = UpdateProduct {
        price: Some(usd("99.00")),
        stock: Some(7),
        ..Default::default()
    };
    let details = assert_api_err(
        p1.update_product(&second.id, &reprice).await,
        409,
        "product_has_passes",
    )
    .expect("details");
    assert_eq!(details["field"], "price");
    let retitle = UpdateProduct {
        title: Some("Tall lamp".into()),
        ..Default::default()
    };
    let details = assert_api_err(
        p1.update_product(&second.id, &retitle).await,
        409,
        "product_has_passes",
    )
    .expect("details");
    assert_eq!(details["field"], "title");
    let same_title = UpdateProduct {
        title: Some(second.title.clone()),
        stock: Some(7),
        ..Default::default()
    };
    let restocked = p1.update_product(&second.id, &same_title).await.unwrap();
    assert_eq!(
        (restocked.stock, restocked.price.clone()),
        (7, second.price.clone())
    );
    assert_eq!(p1.pass(&pass.id).await.unwrap().price, restocked.price);
    srv.stop().await;
}

async fn an_archived_product_is_sold_no_more_and_leaves_the_market(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Acme", &[Role::Provider]).await;
    let (_, rival) = srv.account("Rival", &[Role::Provider]).await;
    let (_, r) = srv.account("Buyer", &[Role::Requester]).await;
    let (p, pass, holders) = market(&srv, &provider, "Studio headphones", 2).await;
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    // Before: a demand reaches both holders; one offer is bought and paid,
    // an order of it waits unpaid, an offer of a second demand is not yet
    // accepted, a third demand's requests still wait for answers.
    let bought = {
        let d = r.create_demand(&demand("studio headphones")).await.unwrap();
        let c = &d.contacted[0];
        let h = &holders.iter().find(|(id, _)| *id == c.holder_id).unwrap().1;
        let offer = h
            .offer(
                &c.interaction_id,
                &CreateOffer {
                    pass_id: pass.id.clone(),
                    note: None,
                },
            )
            .await
            .unwrap();
        buy(&r, &offer.id).await
    };
    let second = r.create_demand(&demand("studio headphones")).await.unwrap();
    let mut offers = Vec::new();
    for c in &second.contacted {
        let h = &holders.iter().find(|(id, _)| *id == c.holder_id).unwrap().1;
        let o = h
            .offer(
                &c.interaction_id,
                &CreateOffer {
                    pass_id: pass.id.clone(),
                    note: None,
                },
            )
            .await
            .unwrap();
        offers.push(o);
    }
    r.accept(&offers[0].id).await.unwrap();
    let unpaid = r
        .create_order(&order(&offers[0].id, 1, false))
        .await
        .unwrap();
    assert_eq!(unpaid.status, "placed");
    let third = r.create_demand(&demand("studio headphones")).await.unwrap();
    let third_offer = holders[1]
        .1
        .offer(
            &third
                .contacted
                .iter()
                .find(|c| c.holder_id == holders[1].0)
                .unwrap()
                .interaction_id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    let fourth = r.create_demand(&demand("studio headphones")).await.unwrap();

    let archived = provider.archive_product(&p.id).await.unwrap();
    let at = archived.archived_at.clone().expect("archived");
    assert_eq!(
        provider.archive_product(&p.id).await.unwrap().archived_at,
        Some(at.clone()),
        "archiving again keeps the first time"
    );
    assert_eq!(provider.product(&p.id).await.unwrap().archived_at, Some(at));
    let listed = provider.products(None, None).await.unwrap();
    assert!(listed.items[0].archived_at.is_some());

    // The matcher no longer offers it: the same demand now finds nobody.
    let details = assert_api_err(
        r.create_demand(&demand("studio headphones")).await,
        422,
        "insufficient_holders",
    )
    .expect("details");
    assert_eq!(details["qualified"], 0, "{details}");

    // Nothing new is sold or signed; nothing changes.
    assert_api_err(
        provider.create_pass(&shareable(&p.id, 100)).await,
        409,
        "product_archived",
    );
    let (newcomer, _) = srv.account("Late holder", &[Role::Holder]).await;
    assert_api_err(
        provider.grant(&pass.id, &grant(&newcomer)).await,
        409,
        "product_archived",
    );
    assert_api_err(
        provider
            .update_product(
                &p.id,
                &UpdateProduct {
                    stock: Some(3),
                    ..Default::default()
                },
            )
            .await,
        409,
        "product_archived",
    );
    let waiting = fourth
        .contacted
        .iter()
        .find(|c| c.holder_id == holders[0].0)
        .unwrap();
    assert_api_err(
        holders[0]
            .1
            .offer(
                &waiting.interaction_id,
                &CreateOffer {
                    pass_id: pass.id.clone(),
                    note: None,
                },
            )
            .await,
        409,
        "product_archived",
    );
    assert_api_err(r.accept(&third_offer.id).await, 409, "product_archived");
    assert_api_err(r.pay_order(&unpaid.id).await, 409, "product_archived");
    assert_eq!(r.order(&unpaid.id).await.unwrap().status, "placed");
    let page_order = CreatePassOrder {
        quantity: Some(1),
        pay: true,
        via: None,
        ship_to: None,
    };
    assert_api_err(
        r.pass_order(&pass.id, &page_order).await,
        409,
        "product_archived",
    );
    assert_api_err(rival.archive_product(&p.id).await, 403, "forbidden");

    // Nothing is revoked: the pass still verifies as active, and the order
    // paid before goes on through its lifecycle. Its page no longer offers it.
    assert_eq!(provider.pass(&pass.id).await.unwrap().status, "active");
    let shipped = provider.ship_order(&bought.id).await.unwrap();
    assert_eq!(shipped.status, "shipped");
    let html = reqwest::get(format!("{}/p/{}", srv.url, pass.id))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"not-orderable\"") && !html.contains("id=\"order-form\""),
        "the page still offers it"
    );
    srv.stop().await;
}

async fn a_requester_lists_and_cancels_its_own_demands_only(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Acme", &[Role::Provider]).await;
    let (_, pass, holders) = market(&srv, &provider, "Studio headphones", 3).await;
    let (_, r) = srv.account("Buyer", &[Role::Requester]).await;
    let (_, other) = srv.account("Other buyer", &[Role::Requester]).await;
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let holder = |id: &str| &holders.iter().find(|(h, _)| h == id).unwrap().1;
    let offer_on = |c: &Contacted| {
        let h = holder(&c.holder_id).clone();
        let (interaction, pass) = (c.interaction_id.clone(), pass.id.clone());
        async move {
            h.offer(
                &interaction,
                &CreateOffer {
                    pass_id: pass,
                    note: None,
                },
            )
            .await
        }
    };

    // One demand answered by all three ways: an offer, a decline, silence.
    let d1 = r.create_demand(&demand("studio headphones")).await.unwrap();
    assert_eq!(d1.contacted.len(), 3);
    let offer = offer_on(&d1.contacted[0]).await.unwrap();
    holder(&d1.contacted[1].holder_id)
        .decline_with_reason(&d1.contacted[1].interaction_id, "sold out here")
        .await
        .unwrap();
    let silent = &d1.contacted[2];
    let d2 = r.create_demand(&demand("studio headphones")).await.unwrap();
    other
        .create_demand(&demand("studio headphones"))
        .await
        .unwrap();

    let mine = r.demands(None, None).await.unwrap();
    let listed: Vec<(&str, &str, u64, u64)> = mine
        .items
        .iter()
        .map(|d| (d.id.as_str(), d.status.as_str(), d.contacted, d.offers))
        .collect();
    assert_eq!(
        listed,
        [
            (d2.id.as_str(), "open", 3, 0),
            (d1.id.as_str(), "open", 3, 1)
        ],
        "newest first, mine only"
    );
    let p1 = r.demands(None, Some(1)).await.unwrap();
    let p2 = r.demands(p1.next.as_deref(), Some(1)).await.unwrap();
    assert_eq!(
        (p1.items[0].id.as_str(), p2.items[0].id.as_str()),
        (d2.id.as_str(), d1.id.as_str())
    );
    assert_eq!(other.demands(None, None).await.unwrap().items.len(), 1);
    assert_api_err(holders[0].1.demands(None, None).await, 403, "forbidden");

    // Nobody else cancels it.
    assert_api_err(other.cancel_demand(&d1.id).await, 403, "forbidden");
    assert_api_err(holders[0].1.cancel_demand(&d1.id).await, 403, "forbidden");
    assert_api_err(r.cancel_demand("dem_nope").await, 404, "not_found");
    assert_eq!(r.demand(&d1.id).await.unwrap().status, "open");

    let silent_holder = holder(&silent.holder_id);
    let before = silent_holder.events(None, None).await.unwrap().events.len();
    let cancelled = r.cancel_demand(&d1.id).await.unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert!(cancelled.cancelled_at.is_some());
    let by_holder = |h: &str| {
        cancelled
            .contacted
            .iter()
            .find(|c| c.holder_id == h)
            .unwrap()
    };
    assert_eq!(by_holder(&silent.holder_id).status, "withdrawn");
    assert_eq!(by_holder(&d1.contacted[0].holder_id).status, "offered");
    assert_eq!(by_holder(&d1.contacted[1].holder_id).status, "declined");
    assert_eq!(
        by_holder(&d1.contacted[1].holder_id)
            .decline_reason
            .as_deref(),
        Some("sold out here")
    );
    // The silent holder is told, and the request no longer waits for it.
    let events = schema_checked_events(silent_holder).await;
    assert_eq!(events.len(), before + 1);
    assert_eq!(events.last().unwrap().kind, "interaction.withdrawn");
    let pending = silent_holder.inbox_pending(None, None).await.unwrap();
    assert!(pending.items.iter().all(|i| i.demand_id != d1.id));
    assert_api_err(offer_on(silent).await, 409, "interaction_closed");
    // Its offer can no longer be accepted; cancelling again is refused.
    assert_api_err(r.accept(&offer.id).await, 409, "demand_cancelled");
    assert_api_err(r.cancel_demand(&d1.id).await, 409, "demand_cancelled");
    assert_eq!(
        r.demands(None, None).await.unwrap().items[1].status,
        "cancelled"
    );

    // An accepted demand is finished: its order goes on.
    let o2 = offer_on(&d2.contacted[0]).await.unwrap();
    let bought = buy(&r, &o2.id).await;
    let details = assert_api_err(r.cancel_demand(&d2.id).await, 409, "demand_not_cancellable")
        .expect("details");
    assert_eq!(details["status"], "accepted");
    assert_eq!(r.order(&bought.id).await.unwrap().status, "paid");

    // A standing demand stops waiting.
    let mut standing = demand("vinyl turntable");
    standing.wait = Some(true);
    let waiting = r.create_demand(&standing).await.unwrap();
    assert_eq!(waiting.status, "waiting");
    let stopped = r.cancel_demand(&waiting.id).await.unwrap();
    assert_eq!(
        (stopped.status.as_str(), stopped.contacted.len()),
        ("cancelled", 0)
    );
    srv.stop().await;
}

async fn holders_see_what_awaits_them_and_say_why_they_decline(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Acme", &[Role::Provider]).await;
    let (_, pass, holders) = market(&srv, &provider, "Studio headphones", 2).await;
    let (_, r) = srv.account("Buyer", &[Role::Requester]).await;
    let (hid, h) = (&holders[0].0, &holders[0].1);
    let mut requests = Vec::new();
    for _ in 0..4 {
        let d = r.create_demand(&demand("studio headphones")).await.unwrap();
        let mine = d.contacted.iter().find(|c| c.holder_id == *hid).unwrap();
        requests.push((d.id.clone(), mine.interaction_id.clone()));
    }
    assert_eq!(h.inbox_pending(None, None).await.unwrap().items.len(), 4);
    h.offer(
        &requests[0].1,
        &CreateOffer {
            pass_id: pass.id.clone(),
            note: None,
        },
    )
    .await
    .unwrap();
    // A reason at its limit is kept; one character more is refused, naming it.
    let reason = "r".repeat(MAX_DECLINE_REASON_CHARS);
    assert_eq!(
        field_of(
            h.decline_with_reason(&requests[1].1, &format!("{reason}r"))
                .await
        ),
        "reason"
    );
    assert_eq!(
        field_of(h.decline_with_reason(&requests[1].1, "a\u{202e}b").await),
        "reason"
    );
    let declined = h
        .decline_with_reason(&requests[1].1, &reason)
        .await
        .unwrap();
    assert_eq!(declined.status, "declined");
    // The body is optional: JSON `null` (or none) declines without a reason;
    // an unknown field is named.
    let decline_path = |i: &str| format!("/v1/interactions/{i}/decline");
    let (status, body) = h
        .raw(
            reqwest::Method::POST,
            &decline_path(&requests[3].1),
            Some(&serde_json::json!({"why": "x"})),
        )
        .await
        .unwrap();
    assert_eq!(
        (status.as_u16(), &body["error"]["details"]["field"]),
        (400, &serde_json::json!("why"))
    );
    let (status, body) = h
        .raw(
            reqwest::Method::POST,
            &decline_path(&requests[2].1),
            Some(&serde_json::Value::Null),
        )
        .await
        .unwrap();
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (200, Some("declined"))
    );

    let pending = h.inbox_pending(None, None).await.unwrap();
    let ids: Vec<&str> = pending.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, [requests[3].1.as_str()], "only what awaits an answer");
    assert!(pending.items.iter().all(|i| i.status == "pending"));
    assert_eq!(
        h.inbox(None, None).await.unwrap().items.len(),
        4,
        "all without the filter"
    );
    let (status, _) = h
        .raw(reqwest::Method::GET, "/v1/inbox?pending=maybe", None)
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 400);
    // Another holder's pending inbox holds only its own.
    let theirs = holders[1].1.inbox_pending(None, None).await.unwrap();
    assert!(theirs
        .items
        .iter()
        .all(|i| !requests.iter().any(|(_, id)| *id == i.id)));

    // The requester sees why; another holder cannot decline for it.
    let shown = r.demand(&requests[1].0).await.unwrap();
    let me = shown
        .contacted
        .iter()
        .find(|c| c.holder_id == *hid)
        .unwrap();
    assert_eq!(me.decline_reason.as_deref(), Some(reason.as_str()));
    let plain = r.demand(&requests[2].0).await.unwrap();
    assert_eq!(
        plain
            .contacted
            .iter()
            .find(|c| c.holder_id == *hid)
            .unwrap()
            .decline_reason,
        None
    );
    assert_api_err(
        holders[1]
            .1
            .decline_with_reason(&requests[3].1, "not mine")
            .await,
        403,
        "forbidden",
    );
    srv.stop().await;
}

async fn providers_ship_with_tracking_the_requester_sees(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Acme", &[Role::Provider]).await;
    let (_, rival) = srv.account("Rival", &[Role::Provider]).await;
    let (_, pass, holders) = market(&srv, &provider, "Studio headphones", 2).await;
    let (_, r) = srv.account("Buyer", &[Role::Requester]).await;
    let mut orders = Vec::new();
    for _ in 0..2 {
        let d = r.create_demand(&demand("studio headphones")).await.unwrap();
        let c = &d.contacted[0];
        let h = &holders.iter().find(|(id, _)| *id == c.holder_id).unwrap().1;
        let o = h
            .offer(
                &c.interaction_id,
                &CreateOffer {
                    pass_id: pass.id.clone(),
                    note: None,
                },
            )
            .await
            .unwrap();
        orders.push((buy(&r, &o.id).await, h.clone()));
    }
    let (paid, holder) = &orders[0];
    let tracking = format!("UPS {}", "9".repeat(MAX_TRACKING_CHARS - 4));
    assert_eq!(
        field_of(
            provider
                .ship_order_tracked(&paid.id, &format!("{tracking}9"))
                .await
        ),
        "tracking"
    );
    assert_eq!(
        r.order(&paid.id).await.unwrap().status,
        "paid",
        "nothing shipped"
    );
    assert_api_err(
        rival.ship_order_tracked(&paid.id, "DHL 1").await,
        403,
        "forbidden",
    );
    let shipped = provider
        .ship_order_tracked(&paid.id, &tracking)
        .await
        .unwrap();
    assert_eq!(
        (shipped.status.as_str(), shipped.tracking.as_deref()),
        ("shipped", Some(tracking.as_str()))
    );
    assert_eq!(r.order(&paid.id).await.unwrap().tracking, Some(tracking));
    assert_eq!(
        holder.order(&paid.id).await.unwrap().tracking,
        None,
        "the holder sees no shipment details"
    );
    // Shipping without a body still works, without tracking.
    let plain = provider.ship_order(&orders[1].0.id).await.unwrap();
    assert_eq!((plain.status.as_str(), plain.tracking), ("shipped", None));
    // What each party heard of it is in the documented shapes.
    for c in [&r, holder, &provider] {
        schema_checked_events(c).await;
    }
    srv.stop().await;
}
