//! Conformance cases of what owners do with what they made: products
//! listed, changed and archived; demands listed and cancelled; the inbox
//! filtered to what awaits an answer; a decline's reason and a shipment's
//! tracking kept.

use super::*;
use symbolon_core::state::DemandStatus;

/// A change of `product` by `provider` that sets nothing.
fn change(product: &str, provider: &str) -> ProductChange {
    ProductChange {
        product_id: product.into(),
        provider_id: provider.into(),
        ..Default::default()
    }
}

fn ids(products: &[(i64, Product)]) -> Vec<&str> {
    products.iter().map(|(_, p)| p.id.as_str()).collect()
}

/// products_of lists a provider's own products, oldest first, page by page;
/// update_product changes only the owner's product, bumps the revision when
/// a signed field changes, refuses a signed field once a pass exists (and a
/// pass signed from an older revision), and always lets stock change.
pub async fn products_are_listed_and_changed_by_their_owner_only(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let bare = w.add_product(5).await; // no pass yet
    create_account(s, "acc_rival", &[Role::Provider]).await;
    s.create_product(&product("prd_rival", "acc_rival", 3, 900))
        .await
        .must("rival product");

    let all = s
        .products_of(&w.provider, &page(None, 100))
        .await
        .must("list");
    assert_eq!(ids(&all), [w.product.id.as_str(), bare.id.as_str()]);
    assert_eq!(all[0].1, w.product);
    let first = s
        .products_of(&w.provider, &page(None, 1))
        .await
        .must("page 1");
    assert_eq!(ids(&first), [w.product.id.as_str()]);
    let second = s
        .products_of(&w.provider, &page(Some(first[0].0), 1))
        .await
        .must("page 2");
    assert_eq!(ids(&second), [bare.id.as_str()]);
    assert!(s
        .products_of(&w.provider, &page(Some(second[0].0), 1))
        .await
        .must("page 3")
        .is_empty());
    assert_eq!(
        ids(&s
            .products_of("acc_rival", &page(None, 100))
            .await
            .must("rival")),
        ["prd_rival"]
    );
    assert!(s
        .products_of("acc_nope", &page(None, 10))
        .await
        .must("nobody's")
        .is_empty());

    // Without a pass, everything may change; signed fields bump the revision.
    let c = ProductChange {
        title: Some("Studio monitors".into()),
        description: Some(String::new()),
        category: Some("electronics/audio/speakers".into()),
        specs: Some(vec![("watts".into(), "50".into())]),
        price: Some((4_200, "USD".into())),
        gtin: Some(None),
        stock: Some(7),
        ..change(&bare.id, &w.provider)
    };
    let changed = s.update_product(&c).await.must("update");
    let want = Product {
        title: "Studio monitors".into(),
        description: String::new(),
        category: "electronics/audio/speakers".into(),
        specs: vec![("watts".into(), "50".into())],
        price_minor: 4_200,
        currency: "USD".into(),
        gtin: None,
        stock: 7,
        revision: 1,
        ..bare.clone()
    };
    assert_eq!(changed, want);
    assert_eq!(s.product(&bare.id).await.must("product"), want);
    // Setting the same values, or only the stock, is no signed change.
    let same = s.update_product(&c).await.must("same again");
    assert_eq!(same.revision, 1);
    let restocked = s
        .update_product(&ProductChange {
            stock: Some(0),
            ..change(&bare.id, &w.provider)
        })
        .await
        .must("stock");
    assert_eq!((restocked.stock, restocked.revision), (0, 1));

    // Another provider's product is not found, and stays as it was.
    assert_err!(
        s.update_product(&ProductChange {
            stock: Some(1),
            ..change(&bare.id, "acc_rival")
        })
        .await,
        StoreError::NotFound,
        "a rival changes my product"
    );
    assert_err!(
        s.update_product(&change("prd_nope", &w.provider)).await,
        StoreError::NotFound,
        "an unknown product"
    );
    assert_eq!(s.product(&bare.id).await.must("product").stock, 0);

    // A pass signed from revision 0 is refused now; from 1 it is issued.
    let stale = pass(&w.id("pas"), &bare, PassMode::Shareable, None);
    assert_err!(
        s.create_pass(&stale, 0).await,
        StoreError::Conflict(Conflict::ProductChanged),
        "a pass of an older revision"
    );
    assert_err!(
        s.pass(&stale.id).await,
        StoreError::NotFound,
        "nothing issued"
    );
    s.create_pass(&stale, 1).await.must("the current revision");

    // With a pass, the signed fields are frozen; stock still changes.
    for (field, c) in [
        (
            "title",
            ProductChange {
                title: Some("Other".into()),
                ..change(&bare.id, &w.provider)
            },
        ),
        (
            "price",
            ProductChange {
                price: Some((4_200, "EUR".into())),
                ..change(&bare.id, &w.provider)
            },
        ),
        (
            "specs",
            ProductChange {
                specs: Some(vec![]),
                stock: Some(9),
                ..change(&bare.id, &w.provider)
            },
        ),
    ] {
        let got = s.update_product(&c).await;
        assert!(
            is_conflict(&got, Conflict::ProductHasPasses { field }),
            "changing {field} after a pass: {got:?}"
        );
    }
    assert_eq!(
        s.product(&bare.id).await.must("product"),
        Product {
            stock: 0,
            ..want.clone()
        },
        "a refused change changes nothing, not even its stock"
    );
    let unchanged_title = ProductChange {
        title: Some(want.title.clone()),
        stock: Some(3),
        ..change(&bare.id, &w.provider)
    };
    let p = s.update_product(&unchanged_title).await.must("stock only");
    assert_eq!((p.stock, p.revision), (3, 1));
}

/// Archiving takes the product off the market (a supply change for every
/// holder of its passes), refuses every new sale and change, keeps the
/// first archiving time, and lets paid orders go on.
pub async fn archived_products_leave_the_market_and_sell_no_more(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    // Before archiving: a paid order, an unpaid one, an accepted offer, a pending request.
    let bought = w.accepted_offer(&w.holder2, &w.shareable).await;
    let paid_input = order_for(&w.id("ord"), &bought, &w.product, 1);
    let paid = s
        .place_order(
            &paid_input,
            None,
            Some(&settlement_for(&w.id("led"), &paid_input, t(180))),
        )
        .await
        .must("paid order");
    let accepted = w.accepted_offer(&w.holder1, &w.shareable).await;
    let unpaid = s
        .place_order(
            &order_for(&w.id("ord"), &accepted, &w.product, 1),
            None,
            None,
        )
        .await
        .must("unpaid order");
    let unaccepted = {
        let r = w.demand(&[&w.holder1]).await;
        w.offer(&r[0], &w.shareable.id).await
    };
    let pending = w.demand(&[&w.holder2]).await;
    let listed = |m: &MarketSnapshot| {
        m.holdings
            .iter()
            .filter(|h| h.product.id == w.product.id)
            .count()
    };
    assert!(listed(&s.market(t(100)).await.must("market")) > 0);
    let stock = s.product(&w.product.id).await.must("product").stock;

    assert_err!(
        s.archive_product(&w.product.id, "acc_requester", t(300))
            .await,
        StoreError::NotFound,
        "someone else archives it"
    );
    let v0 = s.market_version().await.must("version");
    let archived = s
        .archive_product(&w.product.id, &w.provider, t(300))
        .await
        .must("archive");
    assert_eq!(archived.archived_at, Some(t(300)));
    assert!(!archived.on_sale());
    let again = s
        .archive_product(&w.product.id, &w.provider, t(400))
        .await
        .must("archive again");
    assert_eq!(again.archived_at, Some(t(300)), "the first time is kept");

    // Off the market, as a sold-out product is: the holders of its passes changed.
    let v1 = s.market_version().await.must("version");
    let changes = s.market_changes(v0, v1).await.must("changes");
    assert_eq!(changes.len() as i64, v1 - v0, "{changes:?}");
    assert!(changes.iter().all(|c| c.supply), "{changes:?}");
    let holders: BTreeSet<&str> = changes.iter().map(|c| c.holder_id.as_str()).collect();
    assert_eq!(
        holders,
        BTreeSet::from([w.holder1.as_str(), w.holder2.as_str()])
    );
    assert_eq!(listed(&s.market(t(500)).await.must("market")), 0);
    let of_holders = s
        .holdings_of(&[w.holder1.clone(), w.holder2.clone()], t(500))
        .await
        .must("holdings_of");
    assert!(
        of_holders.iter().all(|h| h.product.id != w.product.id),
        "{of_holders:?}"
    );

    // No new pass, offer, acceptance, order or payment; no change.
    assert_err!(
        s.create_pass(
            &pass(&w.id("pas"), &w.product, PassMode::Shareable, None),
            0
        )
        .await,
        StoreError::Conflict(Conflict::ProductArchived),
        "a new pass"
    );
    let new_offer = NewOffer {
        id: w.id("ofr"),
        interaction_id: pending[0].id.clone(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: t(500),
    };
    assert_err!(
        s.create_offer(&new_offer).await,
        StoreError::Conflict(Conflict::ProductArchived),
        "an offer"
    );
    assert_eq!(
        s.interaction(&pending[0].id).await.must("i").status,
        InteractionStatus::Pending,
        "the refused offer answered nothing"
    );
    assert_err!(
        s.accept_offer(&w.acceptance(&unaccepted).await).await,
        StoreError::Conflict(Conflict::ProductArchived),
        "an acceptance"
    );
    assert_err!(
        s.pay_order(
            &unpaid.id,
            &settlement_for(&w.id("led"), &unpaid, t(500)),
            None
        )
        .await,
        StoreError::Conflict(Conflict::ProductArchived),
        "paying an order placed before"
    );
    let mut again_order = order_for(&w.id("ord"), &accepted, &w.product, 1);
    again_order.created_at = t(500);
    for settle in [false, true] {
        let settlement = settlement_for(&w.id("led"), &again_order, t(500));
        assert_err!(
            s.place_order(&again_order, None, settle.then_some(&settlement))
                .await,
            StoreError::Conflict(Conflict::ProductArchived),
            "a new order (paid now: {settle})"
        );
    }
    assert_err!(
        s.update_product(&ProductChange {
            stock: Some(50),
            ..change(&w.product.id, &w.provider)
        })
        .await,
        StoreError::Conflict(Conflict::ProductArchived),
        "a change"
    );
    assert_eq!(
        s.product(&w.product.id).await.must("product").stock,
        stock,
        "no stock moved"
    );
    // Its passes are not revoked (what was sold keeps verifying), and an
    // order paid before goes on through its lifecycle.
    assert_eq!(s.pass(&w.shareable.id).await.must("pass").revoked_at, None);
    let shipped = s
        .ship_order(&paid.id, Some("DHL 1234"), t(600))
        .await
        .must("ship a paid order");
    assert_eq!(shipped.status, OrderStatus::Shipped);
    let delivered = s
        .deliver(&paid.id, symbolon_core::state::Actor::Requester, t(700))
        .await
        .must("deliver");
    assert_eq!(delivered.status, OrderStatus::Delivered);
}

/// demands_of lists a requester's own demands, newest first, page by page,
/// with how many holders were contacted and offered.
pub async fn demands_are_listed_newest_first_by_their_owner(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let first = w.demand(&[&w.holder1, &w.holder2]).await;
    w.offer(&first[0], &w.shareable.id).await;
    let second = w.demand(&[&w.holder1]).await;
    let mut standing = demand_record(&w.id("dem"), &w.requester, DEADLINE);
    standing.waiting = true;
    s.create_demand(&standing, &[]).await.must("standing");
    let other = w.add_requester().await;
    w.demand_by(&other, &[&w.holder1], DEADLINE).await;

    let all = s
        .demands_of(&w.requester, &page(None, 100))
        .await
        .must("list");
    let listed: Vec<(&str, i64, i64)> = all
        .iter()
        .map(|l| (l.demand.id.as_str(), l.contacted, l.offers))
        .collect();
    assert_eq!(
        listed,
        [
            (standing.id.as_str(), 0, 0),
            (second[0].demand_id.as_str(), 1, 0),
            (first[0].demand_id.as_str(), 2, 1),
        ],
        "newest first, with the counts"
    );
    assert_eq!(all[0].demand, standing);
    assert!(all.windows(2).all(|p| p[0].seq > p[1].seq));
    let p1 = s
        .demands_of(&w.requester, &page(None, 2))
        .await
        .must("page 1");
    let p2 = s
        .demands_of(&w.requester, &page(Some(p1[1].seq), 2))
        .await
        .must("page 2");
    let paged: Vec<&str> = p1.iter().chain(&p2).map(|l| l.demand.id.as_str()).collect();
    assert_eq!(paged, listed.iter().map(|l| l.0).collect::<Vec<_>>());
    let theirs = s.demands_of(&other, &page(None, 100)).await.must("other");
    assert_eq!(theirs.len(), 1, "only its own: {theirs:?}");
    assert!(s
        .demands_of("acc_nope", &page(None, 10))
        .await
        .must("nobody's")
        .is_empty());
}

/// Cancelling a demand withdraws its requests still pending (each holder
/// hears it; no success rate counts them), keeps answers made, refuses its
/// offers' acceptance, stops a standing demand for good and frees its
/// place; a second cancel, a finished demand and someone else's are refused.
pub async fn cancelling_a_demand_withdraws_its_pending_requests_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let h3 = w.add_holder().await;
    let requests = w.demand(&[&w.holder1, &w.holder2, &h3]).await;
    let demand_id = requests[0].demand_id.clone();
    let offer = w.offer(&requests[0], &w.shareable.id).await;
    s.decline(&requests[1].id, Some("out of stock"), t(61))
        .await
        .must("decline");
    let before = s.holder(&h3, t(10_000)).await.must("holder").reputation;
    let events_before = all_events(s, &h3).await.len();

    assert_err!(
        s.cancel_demand(&demand_id, "acc_holder1", t(90)).await,
        StoreError::NotFound,
        "someone else cancels it"
    );
    let d = s
        .cancel_demand(&demand_id, &w.requester, t(90))
        .await
        .must("cancel");
    assert_eq!(d.cancelled_at, Some(t(90).millis()));
    assert_eq!(d.status_at(t(91)), DemandStatus::Cancelled);
    assert_eq!(d.status_at(t(10_000)), DemandStatus::Cancelled);
    assert_eq!(s.demand(&demand_id).await.must("demand"), d);
    let after: Vec<(String, InteractionStatus)> = s
        .demand_interactions(&demand_id)
        .await
        .must("interactions")
        .into_iter()
        .map(|i| (i.holder_id, i.status))
        .collect();
    assert_eq!(
        after,
        [
            (w.holder1.clone(), InteractionStatus::Offered),
            (w.holder2.clone(), InteractionStatus::Declined),
            (h3.clone(), InteractionStatus::Withdrawn),
        ]
    );
    let heard = all_events(s, &h3).await;
    assert_eq!(heard.len(), events_before + 1);
    assert_eq!(
        heard.last().map(|e| e.kind.as_str()),
        Some("interaction.withdrawn")
    );
    assert_eq!(
        data(heard.last().expect("event"))["demand_id"],
        demand_id.as_str()
    );
    assert_eq!(
        before.interactions, 1,
        "unanswered past its deadline, it would count as expired"
    );
    assert_eq!(
        s.holder(&h3, t(10_000))
            .await
            .must("holder")
            .reputation
            .interactions,
        0,
        "a withdrawn request never counts, not even past its deadline"
    );
    assert!(s
        .inbox(&h3, Some(t(91)), &page(None, 10))
        .await
        .must("pending inbox")
        .is_empty());

    assert_err!(
        s.cancel_demand(&demand_id, &w.requester, t(100)).await,
        StoreError::Conflict(Conflict::DemandCancelled),
        "a second cancel"
    );
    assert_err!(
        s.accept_offer(&w.acceptance(&offer).await).await,
        StoreError::Conflict(Conflict::DemandCancelled),
        "accepting an offer of a cancelled demand"
    );
    assert_eq!(
        s.offer(&offer.id).await.must("offer").status,
        OfferStatus::Offered
    );

    // An accepted demand is finished; its accepted offer and order stay.
    let bought = w.bought_offer(&w.holder1, &w.shareable).await;
    assert_err!(
        s.cancel_demand(&bought.demand_id, &w.requester, t(300))
            .await,
        StoreError::Conflict(Conflict::DemandNotCancellable(DemandStatus::Accepted)),
        "an accepted demand"
    );
    // A closed demand (deadline passed, nothing accepted) may still be cancelled.
    let closed = w.demand_by(&w.requester, &[&w.holder2], t(50)).await;
    let d = s
        .cancel_demand(&closed[0].demand_id, &w.requester, t(60))
        .await
        .must("cancel closed");
    assert_eq!(d.status_at(t(60)), DemandStatus::Cancelled);
    assert_eq!(
        s.interaction(&closed[0].id)
            .await
            .must("i")
            .status_at(t(60)),
        InteractionStatus::Expired,
        "a request past its deadline expired; cancelling does not undo it"
    );

    // A standing demand stops waiting for good and frees its place.
    let mut waiting = Vec::new();
    for _ in 0..symbolon_core::limits::MAX_WAITING_DEMANDS_PER_REQUESTER {
        let mut d = demand_record(&w.id("dem"), &w.requester, DEADLINE);
        d.waiting = true;
        s.create_demand(&d, &[]).await.must("standing");
        waiting.push(d);
    }
    let mut one_more = demand_record(&w.id("dem"), &w.requester, DEADLINE);
    one_more.waiting = true;
    assert_err!(
        s.create_demand(&one_more, &[]).await,
        StoreError::Conflict(Conflict::TooManyWaitingDemands),
        "the waiting limit"
    );
    let stopped = &waiting[0];
    s.cancel_demand(&stopped.id, &w.requester, t(30))
        .await
        .must("cancel waiting");
    assert!(!s
        .waiting_demands(t(31))
        .await
        .must("waiting")
        .iter()
        .any(|d| d.id == stopped.id));
    let late = interaction(&w.id("int"), &stopped.id, &w.holder1, 1, DEADLINE);
    assert!(
        !s.activate_demand(&stopped.id, &[late], t(40))
            .await
            .must("activate"),
        "a cancelled demand is never activated"
    );
    assert!(s
        .demand_interactions(&stopped.id)
        .await
        .must("none")
        .is_empty());
    s.create_demand(&one_more, &[])
        .await
        .must("its place is free");
    // So does an open one under the open-demand limit.
    let busy = w.add_requester().await;
    let mut open = Vec::new();
    for _ in 0..symbolon_core::limits::MAX_OPEN_DEMANDS_PER_REQUESTER {
        let d = demand_record(&w.id("dem"), &busy, DEADLINE);
        s.create_demand(&d, &[]).await.must("open demand");
        open.push(d);
    }
    let extra = demand_record(&w.id("dem"), &busy, DEADLINE);
    assert_err!(
        s.create_demand(&extra, &[]).await,
        StoreError::Conflict(Conflict::TooManyOpenDemands),
        "the open limit"
    );
    s.cancel_demand(&open[0].id, &busy, t(30))
        .await
        .must("cancel open");
    s.create_demand(&extra, &[])
        .await
        .must("a cancelled demand is no longer open");
    // A standing demand that waited in vain is finished.
    let mut lapsed = demand_record(&w.id("dem"), &w.add_requester().await, t(20));
    lapsed.waiting = true;
    s.create_demand(&lapsed, &[]).await.must("lapsed");
    assert_err!(
        s.cancel_demand(&lapsed.id, &lapsed.requester_id, t(20))
            .await,
        StoreError::Conflict(Conflict::DemandNotCancellable(DemandStatus::Expired)),
        "an expired standing demand"
    );
}

/// A demand accepted and cancelled at once: exactly one of the two happens.
pub async fn concurrent_accept_and_cancel_one_wins(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    for round in 0..5 {
        let requests = w.demand(&[&w.holder1, &w.holder2]).await;
        let offer = w.offer(&requests[0], &w.shareable.id).await;
        let barrier = Arc::new(Barrier::new(2));
        let (a, b) = (barrier.clone(), barrier);
        let (s1, s2) = (w.store.clone(), w.store.clone());
        let acc = w.acceptance(&offer).await;
        let (demand, requester) = (requests[0].demand_id.clone(), w.requester.clone());
        let accept = tokio::spawn(async move {
            a.wait().await;
            s1.accept_offer(&acc).await
        });
        let cancel = tokio::spawn(async move {
            b.wait().await;
            s2.cancel_demand(&demand, &requester, t(130)).await
        });
        let (accepted, cancelled) = (accept.await.expect("accept"), cancel.await.expect("cancel"));
        let d = w
            .store()
            .demand(&requests[0].demand_id)
            .await
            .must("demand");
        match (&accepted, &cancelled) {
            (
                Ok(_),
                Err(StoreError::Conflict(Conflict::DemandNotCancellable(DemandStatus::Accepted))),
            ) => {
                assert_eq!(d.accepted_offer_id.as_deref(), Some(offer.id.as_str()));
                assert_eq!(d.cancelled_at, None);
            }
            (Err(StoreError::Conflict(Conflict::DemandCancelled)), Ok(_)) => {
                assert_eq!(d.accepted_offer_id, None);
                assert!(d.cancelled_at.is_some());
            }
            other => panic!("round {round}: both or neither happened: {other:?}"),
        }
        // Either way, holder 2's request no longer waits for an answer.
        assert_eq!(
            w.store()
                .interaction(&requests[1].id)
                .await
                .must("i")
                .status,
            InteractionStatus::Withdrawn
        );
    }
}

/// A pass issued while its product's price changes: either the pass comes
/// first (and the change is refused) or the change (and the pass, signed
/// from the old price, is refused) — never a pass claiming an old price.
pub async fn concurrent_pass_and_price_change_never_disagree(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    for round in 0..5 {
        let p = w.add_product(5).await;
        let new = pass(&w.id("pas"), &p, PassMode::Shareable, None);
        let barrier = Arc::new(Barrier::new(2));
        let (a, b) = (barrier.clone(), barrier);
        let (s1, s2) = (w.store.clone(), w.store.clone());
        let c = ProductChange {
            price: Some((p.price_minor + 100, p.currency.clone())),
            ..change(&p.id, &w.provider)
        };
        let issue = tokio::spawn(async move {
            a.wait().await;
            s1.create_pass(&new, 0).await
        });
        let reprice = tokio::spawn(async move {
            b.wait().await;
            s2.update_product(&c).await
        });
        let (issued, repriced) = (issue.await.expect("issue"), reprice.await.expect("reprice"));
        let now = w.store().product(&p.id).await.must("product");
        match (&issued, &repriced) {
            (Ok(()), Err(StoreError::Conflict(Conflict::ProductHasPasses { field: "price" }))) => {
                assert_eq!((now.price_minor, now.revision), (p.price_minor, 0));
            }
            (Err(StoreError::Conflict(Conflict::ProductChanged)), Ok(_)) => {
                assert_eq!((now.price_minor, now.revision), (p.price_minor + 100, 1));
            }
            other => panic!("round {round}: both or neither happened: {other:?}"),
        }
    }
}

/// inbox with `pending_at` lists only the requests still awaiting an answer
/// then; a decline keeps its reason; a shipment keeps its tracking.
pub async fn pending_inbox_decline_reasons_and_tracking(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let h = &w.holder1;
    let answered = w.demand(&[h]).await;
    w.offer(&answered[0], &w.shareable.id).await;
    let declined = w.demand(&[h]).await;
    let reason = "out of stock until May — try the 32 ohm model";
    let d = s
        .decline(&declined[0].id, Some(reason), t(61))
        .await
        .must("decline");
    assert_eq!(d.decline_reason.as_deref(), Some(reason));
    let plain = w.demand(&[h]).await;
    s.decline(&plain[0].id, None, t(62)).await.must("decline");
    let soon = w.demand_by(&w.requester, &[h], t(100)).await;
    let open1 = w.demand(&[h]).await;
    let open2 = w.demand(&[h]).await;

    let all = s.inbox(h, None, &page(None, 100)).await.must("inbox");
    assert_eq!(all.len(), 6);
    let by_id = |id: &str| all.iter().find(|i| i.id == id).expect("listed").clone();
    assert_eq!(
        by_id(&declined[0].id).decline_reason.as_deref(),
        Some(reason)
    );
    assert_eq!(by_id(&plain[0].id).decline_reason, None);
    let pending_ids = |v: Vec<Interaction>| v.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        pending_ids(
            s.inbox(h, Some(t(99)), &page(None, 100))
                .await
                .must("pending")
        ),
        [soon[0].id.clone(), open1[0].id.clone(), open2[0].id.clone()]
    );
    // At its deadline a request no longer waits for an answer.
    let at_100 = s
        .inbox(h, Some(t(100)), &page(None, 100))
        .await
        .must("pending");
    assert_eq!(
        pending_ids(at_100),
        [open1[0].id.clone(), open2[0].id.clone()]
    );
    // Pages of the filtered inbox.
    let first = s
        .inbox(h, Some(t(100)), &page(None, 1))
        .await
        .must("page 1");
    assert_eq!(pending_ids(first.clone()), [open1[0].id.clone()]);
    let next = s
        .inbox(h, Some(t(100)), &page(Some(first[0].seq), 1))
        .await
        .must("page 2");
    assert_eq!(pending_ids(next), [open2[0].id.clone()]);
    assert!(s
        .inbox(&w.holder2, Some(t(1)), &page(None, 10))
        .await
        .must("another holder's")
        .is_empty());

    // Tracking is kept with the shipment; none is none.
    let mut shipped = Vec::new();
    for tracking in [Some("UPS 1Z999AA10123456784"), None] {
        let offer = w.accepted_offer(&w.holder2, &w.shareable).await;
        let o = s
            .place_order(&order_for(&w.id("ord"), &offer, &w.product, 1), None, None)
            .await
            .must("place");
        s.pay_order(&o.id, &settlement_for(&w.id("led"), &o, t(200)), None)
            .await
            .must("pay");
        let o = s.ship_order(&o.id, tracking, t(201)).await.must("ship");
        assert_eq!(o.after_sale.tracking.as_deref(), tracking);
        assert_eq!(
            s.order(&o.id)
                .await
                .must("order")
                .after_sale
                .tracking
                .as_deref(),
            tracking
        );
        shipped.push(o.id);
    }
    // A refused shipment stores nothing.
    assert_err!(
        s.ship_order(&shipped[0], Some("DHL 42"), t(300)).await,
        StoreError::Conflict(Conflict::InvalidState),
        "shipping twice"
    );
    assert_eq!(
        s.order(&shipped[0])
            .await
            .must("order")
            .after_sale
            .tracking
            .as_deref(),
        Some("UPS 1Z999AA10123456784")
    );
}

/// What the web pages read: a holder's ratings, newest first (at most
/// `limit`), an offer's rating, and the categories on the market — in stock
/// and not archived — sorted and once each.
pub async fn ratings_and_categories_are_read_for_the_pages(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    assert!(s
        .holder_reviews(&w.holder1, 10)
        .await
        .must("none")
        .is_empty());
    let first = w.bought_offer(&w.holder1, &w.shareable).await;
    assert_eq!(s.offer_rating(&first.id).await.must("unrated"), None);
    s.rate(&rating("rat_1", &first, true)).await.must("rate");
    let second = w.bought_offer(&w.holder1, &w.shareable).await;
    let mut later = rating("rat_2", &second, false);
    later.created_at = t(450);
    later.comment = None;
    s.rate(&later).await.must("rate again");
    let reviews = s.holder_reviews(&w.holder1, 10).await.must("reviews");
    let seen: Vec<(&str, bool, Option<&str>, Timestamp)> = reviews
        .iter()
        .map(|r| {
            (
                r.offer_id.as_str(),
                r.positive,
                r.comment.as_deref(),
                r.created_at,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (second.id.as_str(), false, None, t(450)),
            (first.id.as_str(), true, Some("great"), t(400)),
        ],
        "newest first"
    );
    assert_eq!(s.holder_reviews(&w.holder1, 1).await.must("one").len(), 1);
    assert!(s
        .holder_reviews(&w.holder2, 10)
        .await
        .must("other")
        .is_empty());
    let one = s
        .offer_rating(&first.id)
        .await
        .must("rated")
        .expect("a rating");
    assert_eq!(
        (one.positive, one.comment.as_deref()),
        (true, Some("great"))
    );

    // Categories: the fixture's, one more in stock; none sold out or archived.
    let mut kitchen = product(&w.id("prd"), &w.provider, 3, 500);
    kitchen.category = "home/kitchen".into();
    s.create_product(&kitchen).await.must("kitchen");
    let mut sold_out = product(&w.id("prd"), &w.provider, 0, 500);
    sold_out.category = "garden".into();
    s.create_product(&sold_out).await.must("sold out");
    let mut gone = product(&w.id("prd"), &w.provider, 3, 500);
    gone.category = "toys".into();
    s.create_product(&gone).await.must("gone");
    s.archive_product(&gone.id, &w.provider, t(300))
        .await
        .must("archive");
    assert_eq!(
        s.categories_in_use(100).await.must("categories"),
        ["electronics/audio/headphones", "home/kitchen"]
    );
}

/// passes_of lists a provider's passes newest first, bounded; pass_holdings
/// lists a pass's grants with their units; holders_named finds holder
/// accounts by id or by name prefix (case-insensitively, `%` and `_`
/// literal), never an account without the holder role.
pub async fn provider_console_reads_passes_holders_and_names(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let passes = s.passes_of(&w.provider, 10).await.must("passes");
    let ids: Vec<&str> = passes.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["pas_unique", "pas_shareable"]);
    assert_eq!(s.passes_of(&w.provider, 1).await.must("bounded").len(), 1);
    assert!(s.passes_of(&w.requester, 10).await.must("none").is_empty());

    let held = s.pass_holdings(&w.unique.id, 10).await.must("holdings");
    let holders: Vec<&str> = held.iter().map(|h| h.holder_id.as_str()).collect();
    assert_eq!(holders, [w.holder1.as_str(), w.holder2.as_str()]);
    assert_eq!(held[0].units_granted, Some(2));
    assert_eq!(held[0].pass.id, w.unique.id);
    assert_eq!(
        s.pass_holdings(&w.unique.id, 1).await.must("bounded").len(),
        1
    );
    assert!(s
        .pass_holdings("pas_nope", 10)
        .await
        .must("none")
        .is_empty());

    for (id, name, roles) in [
        ("acc_h_alice", "Alice Shop", &[Role::Holder][..]),
        (
            "acc_h_alfa",
            "Alpha_50%",
            &[Role::Holder, Role::Provider][..],
        ),
        ("acc_p_alina", "Alina", &[Role::Provider][..]),
    ] {
        let mut new = new_account(id, roles);
        new.account.name = name.into();
        s.create_account(&new).await.must("account");
    }
    let names = |v: Vec<Account>| v.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(
        names(s.holders_named("al", 10).await.must("al")),
        ["acc_h_alice", "acc_h_alfa"]
    );
    assert_eq!(
        names(s.holders_named("ALI", 10).await.must("ali")),
        ["acc_h_alice"]
    );
    assert_eq!(
        names(s.holders_named("alpha_50%", 10).await.must("literal")),
        ["acc_h_alfa"]
    );
    assert!(s
        .holders_named("alpha%5", 10)
        .await
        .must("escaped")
        .is_empty());
    assert!(s
        .holders_named("a_ice", 10)
        .await
        .must("underscore")
        .is_empty());
    assert_eq!(
        names(s.holders_named(&w.holder2, 10).await.must("by id")),
        std::slice::from_ref(&w.holder2)
    );
    assert!(s
        .holders_named("acc_p_alina", 10)
        .await
        .must("no role")
        .is_empty());
    assert_eq!(s.holders_named("", 2).await.must("bounded").len(), 2);
}
