//! Conformance cases of the order lifecycle after payment: refunds and their
//! commission reversals, cancellations, delivery and settlement, returns,
//! disputes, and who hears of each step.

use super::*;
use symbolon_core::state::{
    commission_reversed, Actor, DisputeKind, DisputeStatus, OrderAction, RefundKind, RefundStatus,
    ReturnStatus,
};

/// A paid order of `quantity` of the main product from holder 1's shareable pass.
async fn paid_order(w: &World, quantity: i64) -> Order {
    let o = w.order_input(quantity).await;
    let o = w.store().place_order(&o, None, None).await.must("place");
    w.store()
        .pay_order(&o.id, &settlement_for(&w.id("led"), &o, t(200)), None)
        .await
        .must("pay")
}

fn new_refund(w: &World, order_id: &str, kind: RefundKind, amount: Option<i64>) -> NewRefund {
    NewRefund {
        id: w.id("rfd"),
        order_id: order_id.into(),
        kind,
        amount_minor: amount,
        reason: format!("{} of {amount:?}", kind.as_str()),
        by_id: w.provider.clone(),
        dispute_id: None,
        at: t(300),
    }
}

fn done(w: &World, refund_id: &str, at: Timestamp) -> RefundDone {
    RefundDone {
        refund_id: refund_id.into(),
        gateway_ref: format!("gw_{refund_id}"),
        ledger_id: w.id("led"),
        unit_return: None,
        at,
    }
}

fn refundable() -> Vec<OrderStatus> {
    OrderStatus::sources(OrderAction::Refund)
}

async fn refund(w: &World, order_id: &str, amount: Option<i64>) -> StoreResult<(Refund, Order)> {
    let r = w
        .store()
        .claim_refund(
            &new_refund(w, order_id, RefundKind::Refund, amount),
            &refundable(),
        )
        .await?;
    w.store().complete_refund(&done(w, &r.id, t(301))).await
}

async fn buckets(w: &World, account: &str) -> (i64, i64) {
    let b = w.store().ledger_buckets(account).await.must("buckets");
    assert!(b.len() <= 1, "one currency: {b:?}");
    b.first().map_or((0, 0), |b| (b.pending, b.available))
}

async fn paid_out(w: &World, account: &str) -> i64 {
    let b = w.store().ledger_buckets(account).await.must("buckets");
    b.first().map_or(0, |b| b.paid_out)
}

/// Two partial refunds, then one too many: each reverses its share of the
/// commission (⌊C·R/T⌋ in total, all of it at the end), the ledger balances
/// after each, the pending money of provider and holder follows, and nothing
/// can be refunded beyond the payment. A refund the gateway refused releases
/// its reservation; an unpaid order refunds nothing.
pub async fn refunds_reverse_commission_exactly_and_never_exceed_the_payment(
    store: Arc<dyn Store>,
) {
    let w = World::new(store).await;
    let s = w.store();
    let o = paid_order(&w, 1).await;
    let (total, commission) = (o.total_minor, o.commission_minor);
    assert_eq!((total, commission), (2_500, 250));
    assert_eq!(buckets(&w, &w.provider).await, (total - commission, 0));
    assert_eq!(buckets(&w, &w.holder1).await, (commission, 0));

    let (r1, after1) = refund(&w, &o.id, Some(999)).await.must("first refund");
    assert_eq!(r1.status, RefundStatus::Succeeded);
    assert_eq!(r1.commission_reversed_minor, 99, "⌊250·999/2500⌋");
    assert_eq!(
        after1.status,
        OrderStatus::Paid,
        "a partial refund keeps the state"
    );
    assert_eq!(after1.after_sale.refunded_minor, 999);
    assert_ledger_balanced(s).await;
    assert_eq!(buckets(&w, &w.holder1).await, (commission - 99, 0));
    assert_eq!(
        buckets(&w, &w.provider).await,
        (total - commission - 999 + 99, 0)
    );
    assert_eq!(
        s.balances(&w.requester).await.must("balances")[0].1,
        -total + 999
    );

    assert_err!(
        refund(&w, &o.id, Some(total - 999 + 1)).await,
        StoreError::Conflict(Conflict::RefundExceedsPaid { refundable: 1501 }),
        "more than is left"
    );
    // A refund the gateway refuses: its reservation is released.
    let failed = s
        .claim_refund(
            &new_refund(&w, &o.id, RefundKind::Refund, Some(1_000)),
            &refundable(),
        )
        .await
        .must("claim");
    assert_eq!(
        s.order(&o.id)
            .await
            .must("order")
            .after_sale
            .refund_claimed_minor,
        1_999
    );
    let failed = s.fail_refund(&failed.id, t(302)).await.must("fail");
    assert_eq!(failed.status, RefundStatus::Failed);
    assert_eq!(
        s.order(&o.id)
            .await
            .must("order")
            .after_sale
            .refund_claimed_minor,
        999
    );
    assert_err!(
        s.complete_refund(&done(&w, &failed.id, t(303))).await,
        StoreError::Conflict(Conflict::InvalidState),
        "a failed refund cannot complete"
    );

    let (r2, after2) = refund(&w, &o.id, None).await.must("the rest");
    assert_eq!(r2.amount_minor, total - 999);
    assert_eq!(r2.commission_reversed_minor, commission - 99);
    assert_eq!(after2.status, OrderStatus::Refunded);
    assert_eq!(after2.after_sale.commission_reversed_minor, commission);
    assert_eq!(buckets(&w, &w.holder1).await, (0, 0));
    assert_eq!(buckets(&w, &w.provider).await, (0, 0));
    assert_eq!(s.balances(&w.requester).await.must("balances")[0].1, 0);
    assert_ledger_balanced(s).await;
    assert_err!(
        refund(&w, &o.id, Some(1)).await,
        StoreError::Conflict(Conflict::InvalidTransition(OrderStatus::Refunded)),
        "a refunded order"
    );
    // Completing a succeeded refund again changes nothing.
    let (again, _) = s
        .complete_refund(&done(&w, &r2.id, t(400)))
        .await
        .must("again");
    assert_eq!(again, r2);
    assert_eq!(s.refunds(&o.id).await.must("refunds").len(), 3);
    assert_ledger_balanced(s).await;

    let unpaid = s
        .place_order(&w.order_input(1).await, None, None)
        .await
        .must("place");
    assert_err!(
        refund(&w, &unpaid.id, None).await,
        StoreError::Conflict(Conflict::InvalidTransition(OrderStatus::Placed)),
        "an unpaid order"
    );
    assert_eq!(
        commission_reversed(commission, total, total),
        commission,
        "the formula the store follows"
    );
}

/// Ten refunds of 300 race on an order of 2 500: exactly ⌊2500/300⌋ = 8 fit
/// (2 400), the other two are refused with 100 left. Their completions race
/// too, and the commission reversed is ⌊C·2400/2500⌋ exactly.
pub async fn concurrent_refunds_never_exceed_the_payment(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let o = paid_order(&w, 1).await;
    let barrier = Arc::new(Barrier::new(10));
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let (store, barrier) = (w.store.clone(), barrier.clone());
        let r = new_refund(&w, &o.id, RefundKind::Refund, Some(300));
        set.spawn(async move {
            barrier.wait().await;
            let claim = store.claim_refund(&r, &refundable()).await?;
            store
                .complete_refund(&RefundDone {
                    refund_id: claim.id.clone(),
                    gateway_ref: format!("gw_{}", claim.id),
                    ledger_id: format!("led_{}", claim.id),
                    unit_return: None,
                    at: t(310),
                })
                .await
        });
    }
    let results = join_all(set).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        8,
        "{results:?}"
    );
    assert!(results.iter().filter(|r| r.is_err()).all(|r| matches!(
        r,
        Err(StoreError::Conflict(Conflict::RefundExceedsPaid {
            refundable: 100
        }))
    )));
    let after = w.store().order(&o.id).await.must("order");
    assert_eq!(after.after_sale.refunded_minor, 2_400);
    assert_eq!(
        after.after_sale.commission_reversed_minor,
        250 * 2_400 / 2_500
    );
    assert_eq!(after.status, OrderStatus::Paid);
    assert_ledger_balanced(w.store()).await;
}

/// Cancelling a paid order refunds everything and gives the stock back, once;
/// a unique pass's unit goes back to its holder, unsold, and sells again.
/// An unpaid order cancels without money; a shipped one does not cancel.
pub async fn cancelling_gives_stock_and_unit_back_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let stock = w.stock(&w.product.id).await;
    let o = paid_order(&w, 3).await;
    assert_eq!(w.stock(&w.product.id).await, stock - 3);
    let claim = s
        .claim_refund(
            &new_refund(&w, &o.id, RefundKind::Cancel, None),
            &[OrderStatus::Paid],
        )
        .await
        .must("claim");
    let (r, cancelled) = s
        .complete_refund(&done(&w, &claim.id, t(320)))
        .await
        .must("complete");
    assert_eq!(r.amount_minor, o.total_minor);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        cancelled.after_sale.cancelled_by.as_deref(),
        Some(w.provider.as_str())
    );
    assert_eq!(w.stock(&w.product.id).await, stock, "the stock is back");
    s.complete_refund(&done(&w, &claim.id, t(321)))
        .await
        .must("again");
    assert_eq!(w.stock(&w.product.id).await, stock, "and only once");
    assert_ledger_balanced(s).await;
    for account in [&w.provider, &w.holder1, &w.requester] {
        assert_eq!(
            s.balances(account).await.must("balances")[0].1,
            0,
            "{account}"
        );
    }

    // Unpaid: no money moves.
    let unpaid = s
        .place_order(&w.order_input(1).await, None, None)
        .await
        .must("place");
    let c = s
        .cancel_unpaid(&unpaid.id, &w.requester, "clicked by mistake", t(330))
        .await
        .must("cancel unpaid");
    assert_eq!(c.status, OrderStatus::Cancelled);
    assert_eq!(
        c.after_sale.cancel_reason.as_deref(),
        Some("clicked by mistake")
    );
    assert_err!(
        s.cancel_unpaid(&unpaid.id, &w.requester, "again", t(331))
            .await,
        StoreError::Conflict(Conflict::InvalidTransition(OrderStatus::Cancelled)),
        "twice"
    );
    // Shipped: too late.
    let shipped = paid_order(&w, 1).await;
    s.ship_order(&shipped.id, None, t(340)).await.must("ship");
    assert_err!(
        s.claim_refund(
            &new_refund(&w, &shipped.id, RefundKind::Cancel, None),
            &[OrderStatus::Paid]
        )
        .await,
        StoreError::Conflict(Conflict::InvalidTransition(OrderStatus::Shipped)),
        "shipped"
    );

    // A unique unit goes back to its holder and sells again.
    let offer = w.accepted_offer(&w.holder1, &w.unique).await;
    let input = order_for(&w.id("ord"), &offer, &w.product, 1);
    let placed = s.place_order(&input, None, None).await.must("place unique");
    let sale = w.first_sale(&placed, t(350)).await.expect("a unit");
    let paid = s
        .pay_order(
            &placed.id,
            &settlement_for(&w.id("led"), &placed, t(350)),
            Some(&sale),
        )
        .await
        .must("pay unique");
    let unit_no = paid.unit_no.expect("unit");
    let free_before = s.free_unit(&w.unique.id, &w.holder1).await.must("free");
    assert_ne!(free_before, Some(unit_no));
    let claim = s
        .claim_refund(
            &new_refund(&w, &paid.id, RefundKind::Cancel, None),
            &[OrderStatus::Paid],
        )
        .await
        .must("claim unique");
    let back = unit_transfer(&w.unique.id, unit_no, 2, &w.requester, &w.holder1, t(360));
    let mut d = done(&w, &claim.id, t(360));
    d.unit_return = Some(back);
    s.complete_refund(&d).await.must("cancel unique");
    let unit = s.unit(&w.unique.id, unit_no).await.must("unit");
    assert_eq!(unit.owner_id, None, "unsold again");
    assert_eq!(s.offer(&offer.id).await.must("offer").unit_no, None);
    let history = s.unit_history(&w.unique.id, unit_no).await.must("history");
    assert_eq!(history.len(), 2);
    // It sells again, statement 3 from the holder.
    let r2 = w.add_requester().await;
    let offer2 = w.accepted_offer_by(&r2, &w.holder1, &w.unique).await;
    let placed2 = s
        .place_order(&order_for(&w.id("ord"), &offer2, &w.product, 1), None, None)
        .await
        .must("place again");
    let resale = unit_transfer(&w.unique.id, unit_no, 3, &w.holder1, &r2, t(370));
    s.pay_order(
        &placed2.id,
        &settlement_for(&w.id("led"), &placed2, t(370)),
        Some(&resale),
    )
    .await
    .must("resale");
    assert_eq!(
        s.unit(&w.unique.id, unit_no)
            .await
            .must("unit")
            .owner_id
            .as_deref(),
        Some(r2.as_str())
    );
    assert_ledger_balanced(s).await;
}

/// Delivery (by the requester or, past the deadline, the exchange) and
/// settlement: pending money becomes available once, after the return
/// window; a refund after that comes out of available money, which may go
/// below zero once it was paid out.
pub async fn delivery_and_settlement_release_pending_money_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let o = paid_order(&w, 1).await;
    assert_err!(
        s.deliver(&o.id, Actor::Requester, t(400)).await,
        StoreError::Conflict(Conflict::InvalidTransition(OrderStatus::Paid)),
        "not shipped"
    );
    s.ship_order(&o.id, None, t(400)).await.must("ship");
    let other = paid_order(&w, 1).await;
    s.ship_order(&other.id, None, t(500))
        .await
        .must("ship other");
    assert_eq!(
        s.deliver_overdue(t(399), t(600), 10).await.must("none due"),
        0
    );
    assert_eq!(
        s.deliver_overdue(t(450), t(600), 10).await.must("one due"),
        1
    );
    assert_eq!(
        s.order(&o.id).await.must("o").status,
        OrderStatus::Delivered
    );
    assert_eq!(
        s.order(&other.id).await.must("o").status,
        OrderStatus::Shipped
    );
    let d = s
        .deliver(&other.id, Actor::Requester, t(610))
        .await
        .must("confirm");
    assert_eq!(d.after_sale.delivered_at, Some(t(610)));

    assert_eq!(s.settle_matured(t(599), t(700), 10).await.must("early"), 0);
    assert_eq!(s.settle_matured(t(600), t(700), 10).await.must("one"), 1);
    assert_eq!(s.settle_matured(t(600), t(701), 10).await.must("once"), 0);
    assert_eq!(buckets(&w, &w.holder1).await, (250, 250));
    assert_eq!(buckets(&w, &w.provider).await, (2_250, 2_250));
    assert_ledger_balanced(s).await;
    assert_eq!(
        s.settle_matured(t(610), t(702), 10).await.must("the other"),
        1
    );
    assert_eq!(buckets(&w, &w.holder1).await, (0, 500));

    // A refund after settlement is taken from available money.
    let (r, _) = refund(&w, &o.id, Some(1_000)).await.must("late refund");
    assert_eq!(r.commission_reversed_minor, 100);
    assert_eq!(buckets(&w, &w.holder1).await, (0, 400));
    assert_ledger_balanced(s).await;

    // Paid out, then clawed back: available goes below zero, visibly.
    assert_err!(
        s.pay_out(&w.holder1, CURRENCY, Some(401), &w.id("led"), t(800))
            .await,
        StoreError::Conflict(Conflict::PayoutExceedsAvailable { available: 400 }),
        "more than is available"
    );
    assert_eq!(
        s.pay_out(&w.holder1, CURRENCY, None, &w.id("led"), t(800))
            .await
            .must("payout"),
        400
    );
    assert_err!(
        s.pay_out(&w.holder1, CURRENCY, None, &w.id("led"), t(801))
            .await,
        StoreError::Conflict(Conflict::PayoutExceedsAvailable { available: 0 }),
        "nothing left"
    );
    assert_eq!(paid_out(&w, &w.holder1).await, 400);
    refund(&w, &other.id, None)
        .await
        .must("refund the other in full");
    assert_eq!(
        buckets(&w, &w.holder1).await,
        (0, -250),
        "the holder owes it"
    );
    assert_eq!(
        s.balances(&w.holder1).await.must("b")[0].1,
        150,
        "earned in all"
    );
    assert_ledger_balanced(s).await;
}

/// A return: requested within the window only, once; answered once; while it
/// waits (or is accepted and not yet refunded) the order does not settle.
pub async fn returns_hold_the_settlement_until_answered(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let o = paid_order(&w, 1).await;
    assert_err!(
        s.request_return(&o.id, "too big", t(0), t(400)).await,
        StoreError::Conflict(Conflict::InvalidTransition(OrderStatus::Paid)),
        "not delivered"
    );
    s.ship_order(&o.id, None, t(400)).await.must("ship");
    s.deliver(&o.id, Actor::Requester, t(500))
        .await
        .must("deliver");
    assert_err!(
        s.request_return(&o.id, "too big", t(500), t(900)).await,
        StoreError::Conflict(Conflict::ReturnWindowClosed),
        "window over"
    );
    assert_err!(
        s.answer_return(&o.id, true, t(510)).await,
        StoreError::Conflict(Conflict::NoReturnRequested),
        "nothing to answer"
    );
    let r = s
        .request_return(&o.id, "too big", t(499), t(520))
        .await
        .must("request");
    assert_eq!(r.after_sale.return_status, Some(ReturnStatus::Requested));
    assert_err!(
        s.request_return(&o.id, "again", t(499), t(521)).await,
        StoreError::Conflict(Conflict::ReturnExists),
        "twice"
    );
    assert_eq!(s.settle_matured(t(600), t(700), 10).await.must("held"), 0);
    let a = s.answer_return(&o.id, true, t(530)).await.must("accept");
    assert_eq!(a.after_sale.return_status, Some(ReturnStatus::Accepted));
    assert_err!(
        s.answer_return(&o.id, false, t(531)).await,
        StoreError::Conflict(Conflict::NoReturnRequested),
        "answered"
    );
    assert_eq!(s.settle_matured(t(600), t(700), 10).await.must("held"), 0);
    let (_, refunded) = refund(&w, &o.id, Some(2_000))
        .await
        .must("refund the return");
    assert_eq!(
        refunded.after_sale.return_status,
        Some(ReturnStatus::Refunded)
    );
    assert_eq!(s.settle_matured(t(600), t(700), 10).await.must("now"), 1);
    assert_eq!(buckets(&w, &w.holder1).await, (0, 250 - 200));
    assert_ledger_balanced(s).await;
}

/// A dispute: only on a paid order, one per order; messages while it is
/// open; an operator rejects it, or resolves it with a refund (the refund's
/// completion closes it). A closed dispute lets the requester rate.
pub async fn disputes_open_talk_and_close_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let operator = create_account(s, "acc_operator", &[Role::Operator])
        .await
        .id;
    let unpaid = s
        .place_order(&w.order_input(1).await, None, None)
        .await
        .must("place");
    assert_err!(
        s.open_dispute(&dispute_input(&w, &unpaid.id, DisputeKind::NotReceived))
            .await,
        StoreError::Conflict(Conflict::InvalidTransition(OrderStatus::Placed)),
        "unpaid"
    );
    let o = paid_order(&w, 1).await;
    let d = s
        .open_dispute(&dispute_input(&w, &o.id, DisputeKind::NotReceived))
        .await
        .must("open");
    assert_eq!(d.status, DisputeStatus::Open);
    assert_eq!(
        s.order(&o.id).await.must("o").after_sale.dispute_id,
        Some(d.id.clone())
    );
    assert_err!(
        s.open_dispute(&dispute_input(&w, &o.id, DisputeKind::NotAsDescribed))
            .await,
        StoreError::Conflict(Conflict::DisputeExists),
        "one per order"
    );
    let msg = |author: &str, role: &str, body: &str| DisputeMessage {
        id: w.id("dmg"),
        dispute_id: d.id.clone(),
        author_id: author.into(),
        role: role.into(),
        body: body.into(),
        created_at: t(410),
    };
    s.add_dispute_message(&msg(&w.provider, "provider", "it was shipped"))
        .await
        .must("provider answers");
    s.add_dispute_message(&msg(&operator, "operator", "tracking?"))
        .await
        .must("operator asks");
    let rated_offer = o.offer_id.clone().expect("offer");
    let offer = s.offer(&rated_offer).await.must("offer");
    assert_err!(
        s.rate(&rating(&w.id("rat"), &offer, false)).await,
        StoreError::Conflict(Conflict::RatingNotAllowed),
        "the dispute is open"
    );
    let rejected = s
        .reject_dispute(&d.id, &operator, "delivered per tracking", t(420))
        .await
        .must("reject");
    assert_eq!(rejected.status, DisputeStatus::Rejected);
    assert_eq!(rejected.resolved_by.as_deref(), Some(operator.as_str()));
    assert_err!(
        s.reject_dispute(&d.id, &operator, "again", t(421)).await,
        StoreError::Conflict(Conflict::DisputeClosed),
        "twice"
    );
    assert_err!(
        s.add_dispute_message(&msg(&w.requester, "requester", "but…"))
            .await,
        StoreError::Conflict(Conflict::DisputeClosed),
        "closed"
    );
    assert_eq!(s.dispute_messages(&d.id).await.must("messages").len(), 2);
    s.rate(&rating(&w.id("rat"), &offer, false))
        .await
        .must("a closed dispute lets the buyer rate");

    // Resolved with a refund.
    let o2 = paid_order(&w, 2).await;
    let d2 = s
        .open_dispute(&dispute_input(&w, &o2.id, DisputeKind::NotAsDescribed))
        .await
        .must("open");
    let mut r = new_refund(&w, &o2.id, RefundKind::Dispute, Some(1_000));
    r.by_id = operator.clone();
    r.dispute_id = Some(d2.id.clone());
    let claim = s
        .claim_refund(&r, &OrderStatus::sources(OrderAction::ResolveDispute))
        .await
        .must("claim");
    s.complete_refund(&done(&w, &claim.id, t(430)))
        .await
        .must("complete");
    let d2 = s.dispute(&d2.id).await.must("dispute");
    assert_eq!(d2.status, DisputeStatus::Resolved);
    assert_eq!(d2.refund_minor, Some(1_000));
    let open = s
        .disputes(Some(DisputeStatus::Open), &page(None, 10))
        .await
        .must("open disputes");
    assert!(open.is_empty(), "{open:?}");
    assert_eq!(s.disputes(None, &page(None, 10)).await.must("all").len(), 2);
    assert_ledger_balanced(s).await;
}

/// Each step's event reaches the parties its kind is for and nobody else:
/// the holder hears of money, never of a return's or a dispute's talk;
/// operators hear of disputes only; an uninvolved holder hears nothing.
pub async fn lifecycle_events_reach_their_audience_only(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let operator = create_account(s, "acc_operator", &[Role::Operator])
        .await
        .id;
    // A refund, a dispute with a message, rejected; shipped and delivered.
    let o = paid_order(&w, 1).await;
    refund(&w, &o.id, Some(100)).await.must("refund");
    let d = s
        .open_dispute(&dispute_input(&w, &o.id, DisputeKind::NotReceived))
        .await
        .must("dispute");
    s.add_dispute_message(&DisputeMessage {
        id: w.id("dmg"),
        dispute_id: d.id.clone(),
        author_id: w.requester.clone(),
        role: "requester".into(),
        body: "where is it".into(),
        created_at: t(440),
    })
    .await
    .must("message");
    s.reject_dispute(&d.id, &operator, "shipped", t(450))
        .await
        .must("reject");
    s.ship_order(&o.id, None, t(460)).await.must("ship");
    s.deliver(&o.id, Actor::Exchange, t(470))
        .await
        .must("deliver");
    // A cancellation.
    let c = paid_order(&w, 1).await;
    let claim = s
        .claim_refund(
            &new_refund(&w, &c.id, RefundKind::Cancel, None),
            &[OrderStatus::Paid],
        )
        .await
        .must("claim");
    s.complete_refund(&done(&w, &claim.id, t(480)))
        .await
        .must("cancel");
    // Returns requested, accepted and refused; then settlement.
    for accept in [true, false] {
        let r = paid_order(&w, 1).await;
        s.ship_order(&r.id, None, t(490)).await.must("ship");
        s.deliver(&r.id, Actor::Requester, t(500))
            .await
            .must("deliver");
        s.request_return(&r.id, "too big", t(0), t(510))
            .await
            .must("return");
        s.answer_return(&r.id, accept, t(520)).await.must("answer");
    }
    assert!(s.settle_matured(t(600), t(700), 10).await.must("settle") >= 1);

    // Who each kind is for, written out here rather than read from the code.
    let (req, prov, hold, op) = ("requester", "provider", "holder", "operator");
    let expected: &[(&str, &[&str])] = &[
        ("order.refunded", &[req, prov, hold]),
        ("order.cancelled", &[req, prov, hold]),
        ("order.delivered", &[req, prov, hold]),
        ("order.settled", &[prov, hold]),
        ("order.return_requested", &[req, prov]),
        ("order.return_accepted", &[req, prov]),
        ("order.return_refused", &[req, prov]),
        ("dispute.opened", &[req, prov, op]),
        ("dispute.message", &[req, prov, op]),
        ("dispute.resolved", &[req, prov]),
    ];
    let accounts = [
        (req, w.requester.clone()),
        (prov, w.provider.clone()),
        (hold, w.holder1.clone()),
        (op, operator.clone()),
        ("bystander", w.holder2.clone()),
    ];
    for (name, id) in &accounts {
        let events = s.events_after(id, 0, 1_000).await.must("events");
        for (kind, audience) in expected {
            let n = events.iter().filter(|e| e.kind == *kind).count();
            assert_eq!(
                n > 0,
                audience.contains(name),
                "{kind} reached {name} {n} times; it is for {audience:?}"
            );
        }
        // Nothing of the lifecycle that is not in the list above.
        for e in &events {
            let known = e.kind.starts_with("interaction.")
                || e.kind.starts_with("offer.")
                || matches!(
                    e.kind.as_str(),
                    "order.placed"
                        | "order.paid"
                        | "order.shipped"
                        | "order.expired"
                        | "rating.created"
                )
                || expected.iter().any(|(k, _)| *k == e.kind);
            assert!(known, "unexpected event {} for {name}", e.kind);
        }
    }
}
