//! Issue 15's attacks, performed with free accounts over the API: each test
//! reproduces one and fails if it works again.

use crate::harness::*;
use crate::on_both_backends;
use std::sync::Arc;
use std::time::Duration;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::limits::{
    MAX_OPEN_DEMANDS_PER_REQUESTER, MAX_UNPAID_ORDERS_PER_REQUESTER,
    MAX_WAITING_DEMANDS_PER_REQUESTER,
};

fn page_order(quantity: i64, pay: bool, via: Option<&str>) -> CreatePassOrder {
    CreatePassOrder {
        quantity: Some(quantity),
        pay,
        via: via.map(str::to_string),
        ship_to: Some(address()),
    }
}

/// Free accounts place huge unpaid orders; a paying buyer still gets all the
/// stock, and a unique pass's unit goes to whoever pays first.
async fn unpaid_orders_cannot_lock_out_paying_buyers(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h_id, _h) = srv.account("Hana", &[Role::Holder]).await;
    let (_, buyer) = srv.account("Buyer", &[Role::Requester]).await;
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let prod = provider
        .create_product(&product(
            "Phone charger",
            "electronics/power",
            "1.00",
            20_000,
        ))
        .await
        .unwrap();
    let pass = provider.create_pass(&shareable(&prod.id, 0)).await.unwrap();
    // The attack: two free accounts order half the stock each, unpaid.
    let mut attackers = Vec::new();
    for name in ["Mallory", "Trudy"] {
        let (_, a) = srv.account(name, &[Role::Requester]).await;
        let o = a
            .pass_order(&pass.id, &page_order(10_000, false, None))
            .await
            .unwrap();
        assert_eq!(o.status, "placed");
        assert!(o.pay_by.is_some(), "an unpaid order says when it expires");
        attackers.push((a, o));
    }
    assert_eq!(
        provider.product(&prod.id).await.unwrap().stock,
        20_000,
        "unpaid orders hold no stock"
    );
    // A paying buyer gets all of it.
    for _ in 0..2 {
        let o = buyer
            .pass_order(&pass.id, &page_order(10_000, true, None))
            .await
            .unwrap();
        assert_eq!(o.status, "paid");
    }
    assert_eq!(provider.product(&prod.id).await.unwrap().stock, 0);
    // The attackers can no longer pay: nothing was held for them.
    for (a, o) in &attackers {
        a.set_requester_profile(&profile("4242424242424242"))
            .await
            .unwrap();
        assert_api_err(a.pay_order(&o.id).await, 409, "insufficient_stock");
        assert_eq!(a.order(&o.id).await.unwrap().status, "placed");
    }
    assert_eq!(
        balance_of(&attackers[0].0).await,
        None,
        "a refused payment leaves the ledger alone"
    );

    // A unique pass: an unpaid order moves no unit.
    // (The first attackers are at their unpaid-quantity cap: another account.)
    let (_, mallory_client) = srv.account("Eve", &[Role::Requester]).await;
    mallory_client
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let art = provider
        .create_product(&product("Signed print", "art/prints", "300.00", 5))
        .await
        .unwrap();
    let upass = provider
        .create_pass(&unique(&art.id, 1, 500))
        .await
        .unwrap();
    let mut g = grant(&h_id);
    g.units = Some(1);
    provider.grant(&upass.id, &g).await.unwrap();
    let held = mallory_client
        .pass_order(&upass.id, &page_order(1, false, Some(&h_id)))
        .await
        .unwrap();
    assert_eq!((held.status.as_str(), held.unit_no), ("placed", None));
    let history = srv.anon().unit_history(&upass.id, 1).await.unwrap();
    assert!(history.transfers.is_empty(), "no transfer without payment");
    assert_eq!(history.owner, None);
    // Shipping an unpaid order is refused (it could never be paid after).
    assert_api_err(
        provider.ship_order(&held.id).await,
        409,
        "invalid_transition",
    );
    // A real buyer pays and gets the unit.
    let bought = buyer
        .pass_order(&upass.id, &page_order(1, true, Some(&h_id)))
        .await
        .unwrap();
    assert_eq!((bought.status.as_str(), bought.unit_no), ("paid", Some(1)));
    let history = srv.anon().unit_history(&upass.id, 1).await.unwrap();
    assert_eq!(history.transfers.len(), 1);
    assert!(
        history.transfers[0].to.starts_with("own_"),
        "the buyer, by pseudonym"
    );
    assert_eq!(
        history.owner.as_deref(),
        Some(history.transfers[0].to.as_str())
    );
    assert_api_err(
        mallory_client.pay_order(&held.id).await,
        409,
        "units_exhausted",
    );
    // And new unpaid orders of a sold-out unique pass are refused at once.
    assert_api_err(
        mallory_client
            .pass_order(&upass.id, &page_order(1, false, Some(&h_id)))
            .await,
        409,
        "units_exhausted",
    );
}

/// One account cannot open more than `MAX_UNPAID_ORDERS_PER_REQUESTER`
/// unpaid orders, however fast it fires them — through two replicas on
/// PostgreSQL.
async fn the_unpaid_order_limit_cannot_be_raced(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let replica = match backend {
        Backend::Postgres => Some(srv.replica().await),
        Backend::Sqlite => None,
    };
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (_, a) = srv.account("Mallory", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product(
            "Phone charger",
            "electronics/power",
            "1.00",
            1_000,
        ))
        .await
        .unwrap();
    let pass = provider.create_pass(&shareable(&prod.id, 0)).await.unwrap();
    let key = a.api_key().unwrap().to_string();
    let clients: Vec<Client> = match &replica {
        Some((b, _)) => vec![a.clone(), b.anon().with_key(&key)],
        None => vec![a.clone()],
    };
    let fired = MAX_UNPAID_ORDERS_PER_REQUESTER as usize + 10;
    let barrier = Arc::new(tokio::sync::Barrier::new(fired));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..fired {
        let (c, pass_id, barrier) = (
            clients[i % clients.len()].clone(),
            pass.id.clone(),
            barrier.clone(),
        );
        set.spawn(async move {
            barrier.wait().await;
            c.pass_order(&pass_id, &page_order(1, false, None)).await
        });
    }
    let (mut ok, mut refused) = (0, 0);
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(_) => ok += 1,
            Err(e) if e.code() == Some("too_many_unpaid_orders") => {
                assert_eq!(e.status(), Some(429));
                refused += 1
            }
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(ok, MAX_UNPAID_ORDERS_PER_REQUESTER as usize);
    assert_eq!(refused, 10);
    if let Some((b, _)) = replica {
        b.stop().await;
    }
    srv.stop().await;
}

/// An unpaid order expires at its `pay_by` (30 min by default): paying it
/// after is refused, and every party hears `order.expired` once.
async fn an_unpaid_order_expires_with_an_event(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (_, r) = srv.account("Rita", &[Role::Requester]).await;
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    let prod = provider
        .create_product(&product("Phone charger", "electronics/power", "1.00", 10))
        .await
        .unwrap();
    let pass = provider.create_pass(&shareable(&prod.id, 0)).await.unwrap();
    let o = r
        .pass_order(&pass.id, &page_order(2, false, None))
        .await
        .unwrap();
    clock.advance_seconds(30 * 60);
    assert_api_err(r.pay_order(&o.id).await, 409, "order_expired");
    assert_eq!(r.order(&o.id).await.unwrap().status, "expired");
    // The sweeper (every second) records it and writes the event.
    let mut heard = 0;
    for _ in 0..100 {
        heard = r
            .events(None, Some(500))
            .await
            .unwrap()
            .events
            .iter()
            .filter(|e| e.kind == "order.expired")
            .count();
        if heard > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(heard, 1, "the requester hears order.expired once");
    let provider_heard = provider
        .events(None, Some(500))
        .await
        .unwrap()
        .events
        .iter()
        .filter(|e| e.kind == "order.expired")
        .count();
    assert_eq!(provider_heard, 1);
    assert_eq!(provider.product(&prod.id).await.unwrap().stock, 10);
    srv.stop().await;
}

/// A demand answered by two holders, for the rating attacks.
struct Rated {
    victim_id: String,
    provider: Client,
    requester: Client,
    accepted: Offer,
    competitor: Offer,
}

async fn two_offers(srv: &TestServer) -> Rated {
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Hana", &[Role::Holder]).await;
    let (h2_id, h2) = srv.account("Hugo", &[Role::Holder]).await;
    let (_, requester) = srv.account("Rita", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Espresso grinder", "home/kitchen", "120.00", 100))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 500))
        .await
        .unwrap();
    for id in [&h1_id, &h2_id] {
        provider.grant(&pass.id, &grant(id)).await.unwrap();
    }
    let d = requester
        .create_demand(&demand("espresso grinder"))
        .await
        .unwrap();
    let mut offers = Vec::new();
    for h in [&h1, &h2] {
        let i = h
            .inbox(None, None)
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|i| i.demand_id == d.id)
            .unwrap();
        offers.push(
            h.offer(
                &i.id,
                &CreateOffer {
                    pass_id: pass.id.clone(),
                    note: None,
                },
            )
            .await
            .unwrap(),
        );
    }
    let competitor = offers.pop().unwrap();
    let accepted = offers.pop().unwrap();
    requester.accept(&accepted.id).await.unwrap();
    Rated {
        victim_id: h2_id,
        provider,
        requester,
        accepted,
        competitor,
    }
}

fn rating(positive: bool) -> CreateRating {
    CreateRating {
        positive,
        comment: Some("!".into()),
    }
}

/// Only the requester of the accepted offer rates, once its order is paid:
/// a competitor's offer, another requester's offer, rating before paying and
/// rating twice are refused, and none of them counts.
async fn only_the_buyer_of_the_accepted_offer_rates_once(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let w = two_offers(&srv).await;
    let r = &w.requester;
    // The competitor's offer, after another was accepted (the griefing path).
    assert_api_err(
        r.rate(&w.competitor.id, &rating(false)).await,
        409,
        "rating_not_allowed",
    );
    // Accepted, but not ordered; then ordered, but not paid.
    assert_api_err(
        r.rate(&w.accepted.id, &rating(true)).await,
        409,
        "rating_not_allowed",
    );
    let o = r
        .create_order(&CreateOrder {
            offer_id: w.accepted.id.clone(),
            quantity: 1,
            pay: false,
            ship_to: Some(address()),
        })
        .await
        .unwrap();
    assert_api_err(
        r.rate(&w.accepted.id, &rating(true)).await,
        409,
        "rating_not_allowed",
    );
    // Another requester's offer.
    let (_, stranger) = srv.account("Mallory", &[Role::Requester]).await;
    assert_api_err(
        stranger.rate(&w.accepted.id, &rating(false)).await,
        403,
        "forbidden",
    );
    let victim = srv.anon().holder(&w.victim_id).await.unwrap();
    assert_eq!((victim.ratings, victim.positive_rate), (0, None));
    // The buyer pays, rates once.
    r.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    r.pay_order(&o.id).await.unwrap();
    // Paid is not enough: a buyer rates what it received.
    assert_api_err(
        r.rate(&w.accepted.id, &rating(true)).await,
        409,
        "rating_not_allowed",
    );
    deliver(&w.provider, r, &o.id).await;
    r.rate(&w.accepted.id, &rating(true)).await.unwrap();
    assert_api_err(
        r.rate(&w.accepted.id, &rating(false)).await,
        409,
        "already_rated",
    );
    let victim = srv.anon().holder(&w.victim_id).await.unwrap();
    assert_eq!(victim.ratings, 0, "the competitor was never rated");
}

/// One free account sends 30 demands it never follows up: the victim's
/// success rate drops as if one requester had been ignored once, not 30
/// times. A TTL too short to answer is refused.
async fn a_flood_of_unanswered_demands_counts_once(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h1_id, h1) = srv.account("Victim", &[Role::Holder]).await;
    let (h2_id, _h2) = srv.account("Other", &[Role::Holder]).await;
    let (_, honest) = srv.account("Honest", &[Role::Requester]).await;
    let (_, attacker) = srv.account("Mallory", &[Role::Requester]).await;
    let prod = provider
        .create_product(&product("Espresso grinder", "home/kitchen", "120.00", 100))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 500))
        .await
        .unwrap();
    for id in [&h1_id, &h2_id] {
        provider.grant(&pass.id, &grant(id)).await.unwrap();
    }
    // The victim answers an honest demand.
    let d = honest
        .create_demand(&demand("espresso grinder"))
        .await
        .unwrap();
    let i = h1
        .inbox(None, None)
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|i| i.demand_id == d.id)
        .unwrap();
    h1.offer(
        &i.id,
        &CreateOffer {
            pass_id: pass.id.clone(),
            note: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        srv.anon().holder(&h1_id).await.unwrap().success_rate,
        Some(1.0)
    );
    // A TTL no holder could answer in is refused.
    let mut quick = demand("espresso grinder");
    quick.ttl_seconds = Some(10);
    let details = assert_api_err(attacker.create_demand(&quick).await, 400, "invalid_field");
    assert_eq!(details.unwrap()["field"], "ttl_seconds");
    // The attack: 30 demands with the shortest TTL, never followed up.
    let mut flood = demand("espresso grinder");
    flood.ttl_seconds = Some(60);
    for _ in 0..30 {
        attacker.create_demand(&flood).await.unwrap();
    }
    clock.advance_seconds(61);
    let victim = srv.anon().holder(&h1_id).await.unwrap();
    assert_eq!(
        (victim.success_rate, victim.interactions),
        (Some(0.5), 2),
        "30 expiries of one requester count once"
    );
}

/// Per-account limits hold under concurrent requests (two replicas on
/// PostgreSQL): standing demands and open demands.
async fn demand_limits_cannot_be_raced(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let replica = match backend {
        Backend::Postgres => Some(srv.replica().await),
        Backend::Sqlite => None,
    };
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (h1_id, _) = srv.account("Hana", &[Role::Holder]).await;
    let (h2_id, _) = srv.account("Hugo", &[Role::Holder]).await;
    let prod = provider
        .create_product(&product("Espresso grinder", "home/kitchen", "120.00", 100))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 500))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&h1_id)).await.unwrap();
    let fire = |c: Vec<Client>, n: usize, req: CreateDemand| async move {
        let barrier = Arc::new(tokio::sync::Barrier::new(n));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let (c, req, barrier) = (c[i % c.len()].clone(), req.clone(), barrier.clone());
            set.spawn(async move {
                barrier.wait().await;
                c.create_demand(&req).await
            });
        }
        let mut codes = std::collections::BTreeMap::new();
        while let Some(r) = set.join_next().await {
            let code = match r.unwrap() {
                Ok(_) => "ok".to_string(),
                Err(e) => e.code().unwrap_or("?").to_string(),
            };
            *codes.entry(code).or_insert(0usize) += 1;
        }
        codes
    };
    let clients = |c: &Client| match &replica {
        Some((b, _)) => vec![c.clone(), b.anon().with_key(c.api_key().unwrap())],
        None => vec![c.clone()],
    };
    // Standing demands: one qualifying holder, so each waits.
    let (_, a) = srv.account("Mallory", &[Role::Requester]).await;
    let mut standing = demand("espresso grinder");
    standing.wait = Some(true);
    let codes = fire(clients(&a), 40, standing).await;
    assert_eq!(
        codes.get("ok").copied(),
        Some(MAX_WAITING_DEMANDS_PER_REQUESTER as usize),
        "{codes:?}"
    );
    assert_eq!(codes.get("too_many_waiting_demands").copied(), Some(20));
    // Open demands: with a second holder every demand is matched.
    provider.grant(&pass.id, &grant(&h2_id)).await.unwrap();
    let (_, b) = srv.account("Trudy", &[Role::Requester]).await;
    let n = MAX_OPEN_DEMANDS_PER_REQUESTER as usize + 20;
    let codes = fire(clients(&b), n, demand("espresso grinder")).await;
    assert_eq!(
        codes.get("ok").copied(),
        Some(MAX_OPEN_DEMANDS_PER_REQUESTER as usize),
        "{codes:?}"
    );
    assert_eq!(codes.get("too_many_open_demands").copied(), Some(20));
    if let Some((r, _)) = replica {
        r.stop().await;
    }
    srv.stop().await;
}

/// Names that display as something they are not, and currencies that do not
/// exist, are refused with the field named.
async fn spoofed_names_and_made_up_currencies_are_refused(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let anon = srv.anon();
    for (name, why) in [
        ("Trusted Seller\u{202E}gnp.exe", "bidirectional"),
        ("\u{2066}Admin\u{2069}", "bidirectional"),
        ("\u{200B}\u{200C}\u{FEFF}", "visible"),
        ("\u{3164}", "visible"),
    ] {
        let r = anon
            .create_account(&CreateAccount {
                name: name.into(),
                roles: vec![Role::Holder],
                login: None,
            })
            .await;
        match r {
            Err(e) => assert!(e.to_string().contains(why), "{name:?}: {e}"),
            Ok(a) => panic!("{name:?} was accepted as {a:?}"),
        }
        let r = anon
            .create_account(&CreateAccount {
                name: name.into(),
                roles: vec![Role::Holder],
                login: None,
            })
            .await;
        let details = assert_api_err(r, 400, "invalid_field").unwrap();
        assert_eq!(details["field"], "name", "{name:?}");
    }
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let mut p = product("Phone charger", "electronics/power", "1.00", 10);
    p.title = "Charger \u{202D}FREE".into();
    let details = assert_api_err(provider.create_product(&p).await, 400, "invalid_field").unwrap();
    assert_eq!(details["field"], "title");
    let mut p = product("Phone charger", "electronics/power", "1.00", 10);
    p.price.currency = "ABC".into();
    let details = assert_api_err(provider.create_product(&p).await, 400, "invalid_field").unwrap();
    assert_eq!(details["field"], "price.currency");
    let mut p = product("Phone charger", "electronics/power", "1.00", 10);
    p.price.currency = "JPY".into();
    p.price.amount = "100".into();
    provider.create_product(&p).await.expect("a real currency");
}

on_both_backends!(
    spoofed_names_and_made_up_currencies_are_refused,
    unpaid_orders_cannot_lock_out_paying_buyers,
    the_unpaid_order_limit_cannot_be_raced,
    an_unpaid_order_expires_with_an_event,
    only_the_buyer_of_the_accepted_offer_rates_once,
    a_flood_of_unanswered_demands_counts_once,
    demand_limits_cannot_be_raced,
);
