//! Stories of the order lifecycle after the sale, over HTTP on both
//! backends: cancellations, refunds (partial, racing, refused by the
//! gateway), delivery (confirmed, automatic), returns, disputes and their
//! operators, settlement, payouts — and who hears of each step.

use crate::harness::*;
use crate::on_both_backends;
use std::sync::Arc;
use symbolon_api::*;
use symbolon_client::Client;
use symbolon_core::clock::ManualClock;

/// A provider selling a $100.00 product through a 10% shareable pass held by
/// one holder, and a buyer with a saved card.
struct Shop {
    srv: TestServer,
    clock: Arc<ManualClock>,
    provider: Client,
    holder_id: String,
    holder: Client,
    holder_key: String,
    buyer: Client,
    product: Product,
    pass: Pass,
}

async fn shop(backend: Backend, card: &str) -> Shop {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let made = srv
        .anon()
        .create_account(&CreateAccount {
            name: "Hana".into(),
            roles: vec![Role::Holder],
            login: None,
        })
        .await
        .unwrap();
    let (holder_id, holder_key) = (made.id, made.api_key);
    let holder = srv.anon().with_key(&holder_key);
    let (_, buyer) = srv.account("Rita", &[Role::Requester]).await;
    let product = provider
        .create_product(&product("Espresso grinder", "home/kitchen", "100.00", 10))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&product.id, 1_000))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&holder_id)).await.unwrap();
    buyer.set_requester_profile(&profile(card)).await.unwrap();
    Shop {
        srv,
        clock,
        provider,
        holder_id,
        holder,
        holder_key,
        buyer,
        product,
        pass,
    }
}

impl Shop {
    /// An order of `quantity` through the holder's link, paid at once or not.
    async fn order(&self, quantity: i64, pay: bool) -> Order {
        self.buyer
            .pass_order(
                &self.pass.id,
                &CreatePassOrder {
                    quantity: Some(quantity),
                    pay,
                    via: Some(self.holder_id.clone()),
                    ship_to: None,
                },
            )
            .await
            .unwrap()
    }
    /// The purchase count the pass page shows.
    async fn purchases(&self) -> u32 {
        let html = reqwest::get(format!("{}/p/{}", self.srv.url, self.pass.id))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let tag = "id=\"order-count\">";
        let at = html.find(tag).expect("order count") + tag.len();
        html[at..at + html[at..].find('<').unwrap()]
            .parse()
            .unwrap()
    }
    async fn stock(&self) -> i64 {
        self.provider.product(&self.product.id).await.unwrap().stock
    }
    async fn operator(&self) -> Client {
        let created = symbolon_server::admin::create_operator(self.srv.config(), "Olga")
            .await
            .unwrap();
        assert_eq!(created.roles, vec![Role::Operator]);
        self.srv.anon().with_key(&created.api_key)
    }
}

fn amount_of(m: &std::collections::BTreeMap<String, String>) -> &str {
    m.get("USD").map(String::as_str).unwrap_or("0.00")
}

/// (pending, available) of an account.
async fn buckets(c: &Client) -> (String, String) {
    let b = c.balance().await.unwrap();
    (
        amount_of(&b.pending).to_string(),
        amount_of(&b.available).to_string(),
    )
}

/// The types of an account's events, each held to its schema.
async fn kinds(c: &Client) -> Vec<String> {
    schema_checked_events(c)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

on_both_backends!(
    cancel_before_payment_takes_nothing,
    cancel_after_payment_refunds_in_full_and_restores_stock,
    partial_refunds_in_two_steps_reverse_the_commission_exactly,
    delivery_confirmed_or_automatic_then_settled_and_paid_out,
    a_return_accepted_then_refunded,
    disputes_resolved_with_a_refund_or_rejected_by_an_operator,
    racing_refunds_pass_exactly_the_amount_paid,
    a_refused_refund_changes_nothing,
    steps_are_refused_with_the_current_state_and_only_parties_take_them,
    retried_steps_with_one_idempotency_key_take_effect_once,
);

async fn retried_steps_with_one_idempotency_key_take_effect_once(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let o = s.order(1, true).await;
    let keyed = s.provider.with_idempotency_key("refund-once");
    let a = keyed
        .refund_order(&o.id, Some("10.00"), "dent")
        .await
        .unwrap();
    let b = keyed
        .refund_order(&o.id, Some("10.00"), "dent")
        .await
        .unwrap();
    assert_eq!(a.id, b.id, "replayed");
    // A run cut off before its answer was stored: the retry finds the refund
    // its first run made instead of refunding again.
    s.srv.exec_sql("DELETE FROM idempotency_keys").await;
    let c = keyed
        .refund_order(&o.id, Some("10.00"), "dent")
        .await
        .unwrap();
    assert_eq!(c.id, a.id, "answered, not refunded again");
    assert_eq!(
        s.buyer.order(&o.id).await.unwrap().refunded_total,
        usd("10.00")
    );
    let cancel = s.buyer.with_idempotency_key("cancel-once");
    let x = cancel.cancel_order(&o.id, "mistake").await.unwrap();
    s.srv.exec_sql("DELETE FROM idempotency_keys").await;
    let y = cancel.cancel_order(&o.id, "mistake").await.unwrap();
    assert_eq!(
        (x.status.as_str(), y.status.as_str()),
        ("cancelled", "cancelled")
    );
    assert_eq!(x.refunded_total, usd("100.00"));
    assert_eq!(s.stock().await, 10);
    let r = s.buyer.with_idempotency_key("dispute-once");
    let other = s.order(1, true).await;
    let d1 = r
        .open_dispute(&other.id, "not_received", "late")
        .await
        .unwrap();
    let d2 = r
        .open_dispute(&other.id, "not_received", "late")
        .await
        .unwrap();
    assert_eq!(d1.id, d2.id);
}

async fn cancel_before_payment_takes_nothing(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let placed = s.order(2, false).await;
    assert_eq!(placed.status, "placed");
    assert_api_err(
        s.buyer.cancel_order(&placed.id, " ").await,
        400,
        "invalid_field",
    );
    let c = s
        .buyer
        .cancel_order(&placed.id, "clicked twice")
        .await
        .unwrap();
    assert_eq!(c.status, "cancelled");
    assert_eq!(c.cancel_reason.as_deref(), Some("clicked twice"));
    assert_eq!(c.refunded_total, usd("0.00"));
    assert_eq!(s.stock().await, 10);
    assert_api_err(
        s.buyer.pay_order(&placed.id).await,
        409,
        "invalid_transition",
    );
    assert_eq!(balance_of(&s.buyer).await, None, "no money moved");
    // The holder hears of it, without the buyer's reason.
    let seen = s.holder.order(&placed.id).await.unwrap();
    assert_eq!(
        (seen.status.as_str(), seen.cancel_reason),
        ("cancelled", None)
    );
    assert!(kinds(&s.holder)
        .await
        .contains(&"order.cancelled".to_string()));
    // The pass page counts no purchase.
    assert_eq!(s.purchases().await, 0);
}

async fn cancel_after_payment_refunds_in_full_and_restores_stock(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let paid = s.order(3, true).await;
    assert_eq!((paid.status.as_str(), s.stock().await), ("paid", 7));
    assert_eq!(s.purchases().await, 1);
    assert_eq!(buckets(&s.holder).await, ("30.00".into(), "0.00".into()));
    let c = s
        .provider
        .cancel_order(&paid.id, "out of stock at the warehouse")
        .await
        .unwrap();
    assert_eq!(c.status, "cancelled");
    assert_eq!(c.refunded_total, usd("300.00"));
    assert_eq!(c.commission_reversed, usd("30.00"));
    assert_eq!(s.stock().await, 10, "stock restored");
    for who in [&s.buyer, &s.provider, &s.holder] {
        assert_eq!(balance_of(who).await.as_deref(), Some("0.00"));
    }
    assert_api_err(
        s.provider.refund_order(&paid.id, None, "again").await,
        409,
        "invalid_transition",
    );
    assert_eq!(s.purchases().await, 0);
    // A shipped order no longer cancels.
    let shipped = s.order(1, true).await;
    s.provider.ship_order(&shipped.id).await.unwrap();
    let e = s.buyer.cancel_order(&shipped.id, "changed my mind").await;
    assert_api_err(e, 409, "invalid_transition");
}

async fn partial_refunds_in_two_steps_reverse_the_commission_exactly(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let paid = s.order(1, true).await;
    let r1 = s
        .provider
        .refund_order(&paid.id, Some("33.33"), "scratched box")
        .await
        .unwrap();
    assert_eq!(r1.amount, usd("33.33"));
    assert_eq!(r1.commission_reversed, usd("3.33"), "⌊10.00 · 33.33/100⌋");
    assert_eq!(r1.order.status, "paid");
    assert_eq!(r1.order.refunded_total, usd("33.33"));
    let e = s
        .provider
        .refund_order(&paid.id, Some("66.68"), "too much")
        .await;
    assert_api_err(e, 422, "refund_exceeds_paid");
    let r2 = s
        .provider
        .refund_order(&paid.id, None, "the rest")
        .await
        .unwrap();
    assert_eq!(r2.amount, usd("66.67"));
    assert_eq!(r2.commission_reversed, usd("6.67"));
    assert_eq!(r2.order.status, "refunded");
    assert_eq!(r2.order.commission_reversed, usd("10.00"));
    for who in [&s.buyer, &s.provider, &s.holder] {
        assert_eq!(balance_of(who).await.as_deref(), Some("0.00"));
    }
    let holder_events = kinds(&s.holder).await;
    assert_eq!(
        holder_events
            .iter()
            .filter(|k| *k == "order.refunded")
            .count(),
        2
    );
    let other = s.order(1, true).await;
    // Out of the documented form: 400; of the form but finer than the
    // order's currency allows (a rule the schema cannot state): 422.
    for (bad, status, code) in [
        ("0.00", 400, "invalid_field"),
        ("-1.00", 400, "invalid_field"),
        ("ten", 400, "invalid_field"),
        ("1.001", 422, "invalid_value"),
    ] {
        assert_api_err(
            s.provider.refund_order(&other.id, Some(bad), "bad").await,
            status,
            code,
        );
    }
}

async fn delivery_confirmed_or_automatic_then_settled_and_paid_out(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let confirmed = s.order(1, true).await;
    let automatic = s.order(1, true).await;
    for o in [&confirmed, &automatic] {
        s.provider.ship_order(&o.id).await.unwrap();
    }
    let d = s.buyer.confirm_delivery(&confirmed.id).await.unwrap();
    assert_eq!(d.status, "delivered");
    assert!(d.return_by.is_some());
    assert_api_err(
        s.buyer.confirm_delivery(&confirmed.id).await,
        409,
        "invalid_transition",
    );
    // 14 days after shipping, the sweeper delivers the other.
    s.clock.advance_seconds(14 * 86_400 + 1);
    let delivered = wait_for_status(&s.buyer, &automatic.id, "delivered").await;
    assert!(delivered.delivered_at.is_some());
    // The confirmed one was delivered 14 days ago: its window has passed too.
    wait_until(|| async {
        s.holder
            .order(&confirmed.id)
            .await
            .unwrap()
            .settled_at
            .is_some()
    })
    .await;
    assert_eq!(buckets(&s.holder).await, ("10.00".into(), "10.00".into()));
    // 14 more days: the return windows pass and both settle.
    s.clock.advance_seconds(14 * 86_400 + 1);
    wait_until(|| async {
        s.holder
            .order(&automatic.id)
            .await
            .unwrap()
            .settled_at
            .is_some()
    })
    .await;
    assert_eq!(buckets(&s.holder).await, ("0.00".into(), "20.00".into()));
    assert_eq!(buckets(&s.provider).await, ("0.00".into(), "180.00".into()));
    // The holder is paid out, then a refund takes back its commission: it owes it.
    let paid_out = s.holder.payout("USD", None).await.unwrap();
    assert_eq!(paid_out.amount, usd("20.00"));
    assert_api_err(
        s.holder.payout("USD", Some("0.01")).await,
        422,
        "payout_exceeds_available",
    );
    s.provider
        .refund_order(&confirmed.id, None, "goodwill")
        .await
        .unwrap();
    let b = s.holder.balance().await.unwrap();
    assert_eq!(amount_of(&b.available), "-10.00");
    assert_eq!(amount_of(&b.owes), "10.00");
    assert_eq!(amount_of(&b.paid_out), "20.00");
    assert!(kinds(&s.holder)
        .await
        .contains(&"order.settled".to_string()));
    // The balance page says so too.
    let page = web_page(&s.srv, &s.holder_key, "/balance").await;
    assert!(page.contains("id=\"owes-USD\""), "{page}");
    assert!(page.contains("<strong>$10.00</strong>"), "{page}");
    assert!(
        page.contains("<td class=\"paid-out\">$20.00</td>"),
        "{page}"
    );
}

async fn a_return_accepted_then_refunded(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let o = s.order(1, true).await;
    assert_api_err(
        s.buyer.request_return(&o.id, "too loud").await,
        409,
        "invalid_transition",
    );
    s.provider.ship_order(&o.id).await.unwrap();
    s.buyer.confirm_delivery(&o.id).await.unwrap();
    let r = s.buyer.request_return(&o.id, "too loud").await.unwrap();
    assert_eq!(r.return_status.as_deref(), Some("requested"));
    assert_api_err(
        s.buyer.request_return(&o.id, "again").await,
        409,
        "invalid_transition",
    );
    assert_api_err(s.holder.accept_return(&o.id).await, 403, "forbidden");
    let a = s.provider.accept_return(&o.id).await.unwrap();
    assert_eq!(a.return_status.as_deref(), Some("accepted"));
    // The window passes; an accepted, unrefunded return holds the settlement.
    s.clock.advance_seconds(15 * 86_400);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert!(s.provider.order(&o.id).await.unwrap().settled_at.is_none());
    let refund = s
        .provider
        .refund_order(&o.id, None, "return received")
        .await
        .unwrap();
    assert_eq!(refund.order.status, "refunded");
    assert_eq!(refund.order.return_status.as_deref(), Some("refunded"));
    assert!(!kinds(&s.holder)
        .await
        .iter()
        .any(|k| k.starts_with("order.return")));
    assert!(kinds(&s.buyer)
        .await
        .contains(&"order.return_accepted".to_string()));
    // Too late for another order's return.
    let late = s.order(1, true).await;
    s.provider.ship_order(&late.id).await.unwrap();
    s.buyer.confirm_delivery(&late.id).await.unwrap();
    s.clock.advance_seconds(14 * 86_400 + 1);
    assert_api_err(
        s.buyer.request_return(&late.id, "late").await,
        409,
        "invalid_transition",
    );
}

async fn disputes_resolved_with_a_refund_or_rejected_by_an_operator(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let op = s.operator().await;
    // Registration never makes an operator.
    assert_api_err(
        s.srv
            .anon()
            .create_account(&CreateAccount {
                name: "Eve".into(),
                roles: vec![Role::Operator],
                login: None,
            })
            .await,
        400,
        "invalid_field",
    );
    let lost = s.order(1, true).await;
    s.provider.ship_order(&lost.id).await.unwrap();
    let d = s
        .buyer
        .open_dispute(&lost.id, "not_received", "nothing came")
        .await
        .unwrap();
    assert_eq!(d.status, "open");
    assert_api_err(
        s.buyer
            .open_dispute(&lost.id, "not_received", "again")
            .await,
        409,
        "invalid_transition",
    );
    s.provider
        .dispute_message(&d.id, "tracking says delivered")
        .await
        .unwrap();
    op.dispute_message(&d.id, "please send a photo of the mailbox")
        .await
        .unwrap();
    assert_api_err(s.holder.dispute(&d.id).await, 403, "forbidden");
    assert_api_err(
        s.provider.resolve_dispute(&d.id, None, "mine").await,
        403,
        "forbidden",
    );
    let open = op.disputes(Some("open"), None, None).await.unwrap();
    assert_eq!(open.items.len(), 1);
    // The operator reads the order behind it.
    assert_eq!(op.order(&lost.id).await.unwrap().total, usd("100.00"));
    let resolved = op
        .resolve_dispute(&d.id, Some("60.00"), "carrier lost it; partial refund")
        .await
        .unwrap();
    assert_eq!(resolved.status, "resolved");
    assert_eq!(resolved.refund, Some(usd("60.00")));
    assert_eq!(resolved.messages.len(), 2);
    let o = s.buyer.order(&lost.id).await.unwrap();
    assert_eq!(o.refunded_total, usd("60.00"));
    assert_eq!(o.commission_reversed, usd("6.00"));
    assert_api_err(
        s.buyer.dispute_message(&d.id, "thanks").await,
        409,
        "invalid_state",
    );

    let fine = s.order(1, true).await;
    let d2 = s
        .buyer
        .open_dispute(&fine.id, "not_as_described", "wrong colour")
        .await
        .unwrap();
    let rejected = op
        .resolve_dispute(&d2.id, None, "the listing shows this colour")
        .await
        .unwrap();
    assert_eq!(rejected.status, "rejected");
    assert_eq!(
        s.buyer.order(&fine.id).await.unwrap().refunded_total,
        usd("0.00")
    );
    assert_api_err(
        op.resolve_dispute(&d2.id, Some("1.00"), "changed my mind")
            .await,
        409,
        "invalid_state",
    );
    // Who heard what: the operator hears the disputes, the holder none of them.
    let op_kinds = kinds(&op).await;
    assert!(op_kinds.contains(&"dispute.opened".to_string()));
    assert!(!kinds(&s.holder)
        .await
        .iter()
        .any(|k| k.starts_with("dispute.")));
    assert_eq!(
        kinds(&s.buyer)
            .await
            .iter()
            .filter(|k| *k == "dispute.resolved")
            .count(),
        2
    );
}

async fn racing_refunds_pass_exactly_the_amount_paid(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let o = s.order(1, true).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..7 {
        let (p, id) = (s.provider.clone(), o.id.clone());
        set.spawn(async move { p.refund_order(&id, Some("15.00"), "race").await });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        match r.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_api_err::<()>(Err(e), 422, "refund_exceeds_paid");
            }
        }
    }
    assert_eq!(ok, 6, "6 × 15.00 fit in 100.00, a seventh does not");
    let after = s.buyer.order(&o.id).await.unwrap();
    assert_eq!(after.refunded_total, usd("90.00"));
    assert_eq!(after.commission_reversed, usd("9.00"));
    assert_eq!(balance_of(&s.buyer).await.as_deref(), Some("-10.00"));
}

async fn a_refused_refund_changes_nothing(backend: Backend) {
    let s = shop(backend, "4000000000005126").await;
    let o = s.order(2, true).await;
    assert_api_err(
        s.provider.refund_order(&o.id, Some("10.00"), "try").await,
        502,
        "refund_failed",
    );
    assert_api_err(
        s.buyer.cancel_order(&o.id, "mistake").await,
        502,
        "refund_failed",
    );
    let after = s.buyer.order(&o.id).await.unwrap();
    assert_eq!(after.status, "paid");
    assert_eq!(after.refunded_total, usd("0.00"));
    assert_eq!(s.stock().await, 8);
    assert_eq!(balance_of(&s.buyer).await.as_deref(), Some("-200.00"));
}

async fn steps_are_refused_with_the_current_state_and_only_parties_take_them(backend: Backend) {
    let s = shop(backend, "4242424242424242").await;
    let o = s.order(1, true).await;
    let e = s.buyer.confirm_delivery(&o.id).await.unwrap_err();
    match e {
        symbolon_client::ClientError::Api {
            status,
            code,
            details,
            ..
        } => {
            assert_eq!((status, code.as_str()), (409, "invalid_transition"));
            assert_eq!(details.unwrap()["status"], "paid");
        }
        other => panic!("{other:?}"),
    }
    assert_api_err(
        s.buyer.refund_order(&o.id, None, "mine").await,
        403,
        "forbidden",
    );
    assert_api_err(
        s.holder.cancel_order(&o.id, "grief").await,
        403,
        "forbidden",
    );
    let (_, stranger) = s
        .srv
        .account("Mallory", &[Role::Requester, Role::Provider])
        .await;
    assert_api_err(
        stranger.cancel_order(&o.id, "grief").await,
        403,
        "forbidden",
    );
    assert_api_err(
        stranger.open_dispute(&o.id, "not_received", "grief").await,
        403,
        "forbidden",
    );
    assert_api_err(
        s.buyer.open_dispute(&o.id, "lost", "x").await,
        400,
        "invalid_field",
    );
    assert!(stranger.events(None, None).await.unwrap().events.is_empty());
}

/// Polls the order until it reaches `status` (the sweeper runs every second).
async fn wait_for_status(c: &Client, id: &str, status: &str) -> Order {
    for _ in 0..100 {
        let o = c.order(id).await.unwrap();
        if o.status == status {
            return o;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("order {id} never became {status}");
}

async fn wait_until<F, Fut>(mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the condition never held");
}
