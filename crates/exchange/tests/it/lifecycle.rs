//! The order lifecycle against a simple model: random sequences of steps by
//! random parties (proptest; a failure shrinks to a short sequence and
//! replays from it), on SQLite and — with `SYMBOLON_TEST_POSTGRES_URL` — on
//! PostgreSQL. After every step the exchange must agree with the model on
//! each order (state, refunded, commission reversed), each account's money
//! (pending, available, paid out), the stock and the holder's unsold units,
//! and the ledger must sum to zero. A step the model refuses must be refused
//! with the model's code.

use super::*;
use proptest::prelude::*;
use std::collections::HashMap;
use symbolon_core::state::{Actor, OrderAction, OrderStatus};
use symbolon_core::Clock;
use symbolon_exchange::ExchangeError;

const DAY: i64 = 86_400;
const PRICE: i64 = 8_000; // 80.00
const BPS: i64 = 500; // 5 %
const UNITS: i64 = 3;

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Pays with a card that refunds.
    Ann,
    /// Pays with the card whose refunds fail.
    Bob,
    Provider,
    Holder,
    Operator,
    Stranger,
}

const WHO: [Who; 6] = [
    Who::Ann,
    Who::Bob,
    Who::Provider,
    Who::Holder,
    Who::Operator,
    Who::Stranger,
];

#[derive(Debug, Clone)]
enum Op {
    Place {
        who: Who,
        quantity: i64,
        pay: bool,
        unique: bool,
    },
    Pay {
        order: usize,
        who: Who,
    },
    Ship {
        order: usize,
        who: Who,
    },
    Cancel {
        order: usize,
        who: Who,
    },
    Refund {
        order: usize,
        who: Who,
        cents: Option<i64>,
    },
    Deliver {
        order: usize,
        who: Who,
    },
    RequestReturn {
        order: usize,
        who: Who,
    },
    AnswerReturn {
        order: usize,
        who: Who,
        accept: bool,
    },
    OpenDispute {
        order: usize,
        who: Who,
    },
    Resolve {
        order: usize,
        who: Who,
        cents: Option<i64>,
    },
    Payout {
        who: Who,
    },
    /// Days forward (0: ten minutes), then the sweeper's passes.
    Advance {
        days: i64,
    },
}

fn who() -> impl Strategy<Value = Who> {
    // Parties of the order most of the time, anyone now and then.
    prop_oneof![
        4 => Just(Who::Ann),
        2 => Just(Who::Bob),
        4 => Just(Who::Provider),
        1 => Just(Who::Holder),
        2 => Just(Who::Operator),
        1 => Just(Who::Stranger),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let o = 0usize..6;
    let cents = prop::option::of(prop_oneof![0i64..=1, 1i64..=30_000, Just(PRICE)]);
    prop_oneof![
        4 => (prop_oneof![Just(Who::Ann), Just(Who::Bob), Just(Who::Stranger)], 1i64..=3, any::<bool>(), prop::bool::weighted(0.3))
            .prop_map(|(who, quantity, pay, unique)| Op::Place { who, quantity, pay, unique }),
        2 => (o.clone(), who()).prop_map(|(order, who)| Op::Pay { order, who }),
        3 => (o.clone(), who()).prop_map(|(order, who)| Op::Ship { order, who }),
        2 => (o.clone(), who()).prop_map(|(order, who)| Op::Cancel { order, who }),
        3 => (o.clone(), who(), cents.clone()).prop_map(|(order, who, cents)| Op::Refund { order, who, cents }),
        2 => (o.clone(), who()).prop_map(|(order, who)| Op::Deliver { order, who }),
        1 => (o.clone(), who()).prop_map(|(order, who)| Op::RequestReturn { order, who }),
        1 => (o.clone(), who(), any::<bool>()).prop_map(|(order, who, accept)| Op::AnswerReturn { order, who, accept }),
        1 => (o.clone(), who()).prop_map(|(order, who)| Op::OpenDispute { order, who }),
        1 => (o, who(), cents).prop_map(|(order, who, cents)| Op::Resolve { order, who, cents }),
        1 => who().prop_map(|who| Op::Payout { who }),
        2 => (0i64..=16).prop_map(|days| Op::Advance { days }),
    ]
}

/// The model of one order.
#[derive(Debug, Clone)]
struct MOrder {
    id: String,
    buyer: Who,
    unique: bool,
    quantity: i64,
    total: i64,
    commission: i64,
    status: OrderStatus,
    pay_by: i64,
    refunded: i64,
    reversed: i64,
    shipped_at: Option<i64>,
    delivered_at: Option<i64>,
    settled: bool,
    /// requested / accepted / refused / refunded
    ret: Option<&'static str>,
    dispute: Option<(String, bool)>,
    /// (provider, holder) pending money of this order.
    pending: (i64, i64),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Money3 {
    pending: i64,
    available: i64,
    paid_out: i64,
}

struct Model {
    now: i64,
    orders: Vec<MOrder>,
    money: HashMap<&'static str, Money3>,
    stock: (i64, i64),
    free_units: i64,
}

fn key(w: Who) -> &'static str {
    match w {
        Who::Ann => "ann",
        Who::Bob => "bob",
        Who::Provider => "provider",
        Who::Holder => "holder",
        Who::Operator => "operator",
        Who::Stranger => "stranger",
    }
}

impl Model {
    fn m(&mut self, w: Who) -> &mut Money3 {
        self.money.entry(key(w)).or_default()
    }
    /// The status as the exchange reads it (an unpaid order past `pay_by` is expired).
    fn status(&self, o: &MOrder) -> OrderStatus {
        if o.status == OrderStatus::Placed && o.pay_by <= self.now {
            OrderStatus::Expired
        } else {
            o.status
        }
    }
    fn actor(o: &MOrder, w: Who) -> Option<Actor> {
        match w {
            x if x == o.buyer => Some(Actor::Requester),
            Who::Provider => Some(Actor::Provider),
            Who::Operator => Some(Actor::Operator),
            Who::Holder => Some(Actor::Holder),
            _ => None,
        }
    }
    /// The table's verdict for `w` taking `action` on order `i`.
    fn step(&self, i: usize, w: Who, action: OrderAction) -> Result<(), &'static str> {
        let o = &self.orders[i];
        let Some(actor) = Self::actor(o, w) else {
            return Err("forbidden");
        };
        match self.status(o).check(action, actor) {
            Ok(_) => Ok(()),
            Err(symbolon_core::state::TransitionRefused::NotBy(_)) => Err("forbidden"),
            Err(symbolon_core::state::TransitionRefused::FromState(_)) => Err("invalid_transition"),
        }
    }
    fn pay(&mut self, i: usize) {
        let (t, c, buyer, unique, q) = {
            let o = &self.orders[i];
            (o.total, o.commission, o.buyer, o.unique, o.quantity)
        };
        self.m(buyer).available -= t;
        self.m(Who::Provider).pending += t - c;
        self.m(Who::Holder).pending += c;
        let o = &mut self.orders[i];
        o.status = OrderStatus::Paid;
        o.pending = (t - c, c);
        if unique {
            self.stock.1 -= q;
            self.free_units -= 1;
        } else {
            self.stock.0 -= q;
        }
    }
    /// A successful refund of `r` (the gateway took it).
    fn refund(&mut self, i: usize, r: i64, cancel: bool) {
        let o = self.orders[i].clone();
        let before = o.refunded;
        let after = before + r;
        let c = o.commission * after / o.total - o.commission * before / o.total;
        let (buyer, settled) = (o.buyer, o.settled);
        self.m(buyer).available += r;
        if settled {
            self.m(Who::Provider).available -= r - c;
            self.m(Who::Holder).available -= c;
        } else {
            self.m(Who::Provider).pending -= r - c;
            self.m(Who::Holder).pending -= c;
        }
        let (unique, q) = (o.unique, o.quantity);
        let o = &mut self.orders[i];
        if !settled {
            o.pending.0 -= r - c;
            o.pending.1 -= c;
        }
        o.refunded = after;
        o.reversed += c;
        if o.ret == Some("accepted") {
            o.ret = Some("refunded");
        }
        if cancel {
            o.status = OrderStatus::Cancelled;
            if unique {
                self.stock.1 += q;
                self.free_units += 1;
            } else {
                self.stock.0 += q;
            }
        } else if after == o.total {
            o.status = OrderStatus::Refunded;
        }
    }
    /// The sweeper: deliver overdue shipments, settle matured deliveries.
    fn sweep(&mut self) {
        let now = self.now;
        for o in &mut self.orders {
            if o.status == OrderStatus::Shipped && o.shipped_at.is_some_and(|s| s + 14 * DAY <= now)
            {
                o.status = OrderStatus::Delivered;
                o.delivered_at = Some(now);
            }
        }
        let mut moves = Vec::new();
        for o in &mut self.orders {
            let open_dispute = matches!(o.dispute, Some((_, true)));
            if o.status == OrderStatus::Delivered
                && !o.settled
                && o.delivered_at.is_some_and(|d| d + 14 * DAY <= now)
                && !matches!(o.ret, Some("requested" | "accepted"))
                && !open_dispute
            {
                o.settled = true;
                moves.push(o.pending);
                o.pending = (0, 0);
            }
        }
        for (p, h) in moves {
            let m = self.m(Who::Provider);
            m.pending -= p;
            m.available += p;
            let m = self.m(Who::Holder);
            m.pending -= h;
            m.available += h;
        }
    }
}

/// Where the run happens.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

async fn fixture(backend: Backend, seed: u64) -> (Fixture, Option<pg::Db>) {
    match backend {
        Backend::Sqlite => (Fixture::new(seed).await, None),
        Backend::Postgres => {
            let db = pg::Db::create().await;
            let store: Arc<dyn Store> = Arc::new(
                symbolon_store_postgres::PostgresStore::connect(&db.url)
                    .await
                    .expect("store"),
            );
            (Fixture::on(store, seed).await, Some(db))
        }
    }
}

fn code(r: &Result<impl Sized, ExchangeError>) -> Result<(), String> {
    match r {
        Ok(_) => Ok(()),
        Err(e) => Err(e.code.as_str().to_string()),
    }
}

fn dollars(cents: i64) -> String {
    format!(
        "{}{}.{:02}",
        if cents < 0 { "-" } else { "" },
        cents.abs() / 100,
        cents.abs() % 100
    )
}

async fn run(backend: Backend, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (f, db) = fixture(backend, 7).await;
    let r = run_on(&f, &ops).await;
    if let Some(db) = db {
        db.drop().await;
    }
    r
}

async fn run_on(f: &Fixture, ops: &[Op]) -> Result<(), TestCaseError> {
    let x = &f.exchange;
    let provider = f.account("Maker", &[api::Role::Provider]).await;
    let holder = f.account("Hana", &[api::Role::Holder]).await;
    let ann = f.account("Ann", &[api::Role::Requester]).await;
    let bob = f.account("Bob", &[api::Role::Requester]).await;
    let stranger = f
        .account("Mallory", &[api::Role::Requester, api::Role::Holder])
        .await;
    let op_made = x.create_operator("Olga").await.expect("operator");
    let operator = x.authenticate(&op_made.api_key).await.expect("operator");
    let shareable = f.grinder_pass(&provider).await;
    f.grant(&provider, &shareable, &holder).await;
    let unique_product = x
        .create_product(
            &provider,
            &api::CreateProduct {
                title: "Numbered kettle".into(),
                description: "One of three".into(),
                category: "home/kitchen".into(),
                specs: Default::default(),
                price: api::Money::new("80.00", "USD"),
                stock: 1_000,
                gtin: None,
            },
        )
        .await
        .expect("product");
    let unique = x
        .create_pass(
            &provider,
            &api::CreatePass {
                product_id: unique_product.id.clone(),
                mode: api::PassMode::Unique,
                units: Some(UNITS),
                commission_bps: BPS,
                valid_until: None,
            },
        )
        .await
        .expect("unique pass");
    x.grant(
        &provider,
        &unique.id,
        &api::CreateGrant {
            holder_id: holder.id.clone(),
            units: Some(UNITS),
        },
    )
    .await
    .expect("grant units");
    for (who, card) in [
        (&ann, "4242424242424242"),
        (&bob, "4000000000005126"),
        (&stranger, "4242424242424242"),
    ] {
        x.set_requester_profile(who, &profile(card))
            .await
            .expect("profile");
    }
    let product_id = x.pass(&shareable.id).await.expect("pass").product_id;
    let account = |w: Who| match w {
        Who::Ann => &ann,
        Who::Bob => &bob,
        Who::Provider => &provider,
        Who::Holder => &holder,
        Who::Operator => &operator,
        Who::Stranger => &stranger,
    };
    let mut m = Model {
        now: f.clock.now().millis() / 1000,
        orders: Vec::new(),
        money: HashMap::new(),
        stock: (1_000, 1_000),
        free_units: UNITS,
    };
    let reason = |s: &str| api::Reason { reason: s.into() };
    for (n, op) in ops.iter().enumerate() {
        let pick = |i: usize| (!m.orders.is_empty()).then(|| i % m.orders.len());
        let (got, want): (Result<(), String>, Result<(), &str>) = match op.clone() {
            Op::Place {
                who,
                quantity,
                pay,
                unique: u,
            } => {
                let q = if u { 1 } else { quantity };
                let r = x
                    .pass_order(
                        account(who),
                        if u { &unique.id } else { &shareable.id },
                        &api::CreatePassOrder {
                            quantity: Some(q),
                            pay,
                            via: Some(holder.id.clone()),
                            ship_to: None,
                        },
                    )
                    .await;
                let unpaid_open = m
                    .orders
                    .iter()
                    .filter(|o| o.buyer == who && m.status(o) == OrderStatus::Placed)
                    .count();
                let want = if u && m.free_units == 0 {
                    Err("units_exhausted")
                } else if !pay && unpaid_open >= 20 {
                    Err("too_many_unpaid_orders")
                } else {
                    Ok(())
                };
                if let (Ok(o), Ok(())) = (&r, &want) {
                    let total = PRICE * q;
                    m.orders.push(MOrder {
                        id: o.id.clone(),
                        buyer: who,
                        unique: u,
                        quantity: q,
                        total,
                        commission: total * BPS / 10_000,
                        status: OrderStatus::Placed,
                        pay_by: m.now + 1800,
                        refunded: 0,
                        reversed: 0,
                        shipped_at: None,
                        delivered_at: None,
                        settled: false,
                        ret: None,
                        dispute: None,
                        pending: (0, 0),
                    });
                    if pay {
                        let i = m.orders.len() - 1;
                        m.pay(i);
                    }
                }
                (code(&r), want)
            }
            Op::Pay { order, who } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x.pay_order(account(who), &o.id).await;
                let want = if !matches!(who, Who::Ann | Who::Bob | Who::Stranger) || who != o.buyer
                {
                    Err("forbidden")
                } else if m.status(&o) == OrderStatus::Expired {
                    Err("order_expired")
                } else if o.status != OrderStatus::Placed {
                    Err("invalid_transition")
                } else if o.unique && m.free_units == 0 {
                    Err("units_exhausted")
                } else {
                    Ok(())
                };
                if r.is_ok() && want.is_ok() {
                    m.pay(i);
                }
                (code(&r), want)
            }
            Op::Ship { order, who } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x.ship_order(account(who), &o.id, None).await;
                let want = if who != Who::Provider {
                    Err("forbidden")
                } else if o.status != OrderStatus::Paid {
                    Err("invalid_transition")
                } else {
                    Ok(())
                };
                if r.is_ok() && want.is_ok() {
                    m.orders[i].status = OrderStatus::Shipped;
                    m.orders[i].shipped_at = Some(m.now);
                }
                (code(&r), want)
            }
            Op::Cancel { order, who } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x
                    .cancel_order(account(who), &o.id, &reason("changed my mind"))
                    .await;
                let mut want = m.step(i, who, OrderAction::Cancel);
                if want.is_ok() && o.status == OrderStatus::Paid && o.buyer == Who::Bob {
                    want = Err("refund_failed");
                }
                if r.is_ok() && want.is_ok() {
                    if o.status == OrderStatus::Placed {
                        m.orders[i].status = OrderStatus::Cancelled;
                    } else {
                        m.refund(i, o.total - o.refunded, true);
                    }
                }
                (code(&r), want)
            }
            Op::Refund { order, who, cents } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x
                    .refund_order(
                        account(who),
                        &o.id,
                        &api::CreateRefund {
                            amount: cents.map(dollars),
                            reason: "refund".into(),
                        },
                    )
                    .await;
                let left = o.total - o.refunded;
                let amount = cents.unwrap_or(left);
                let mut want = m.step(i, who, OrderAction::Refund);
                if want.is_ok() {
                    want = if cents.is_some_and(|c| c <= 0) {
                        Err("invalid_field")
                    } else if amount > left || amount <= 0 {
                        Err("refund_exceeds_paid")
                    } else if o.buyer == Who::Bob {
                        Err("refund_failed")
                    } else {
                        Ok(())
                    };
                }
                if r.is_ok() && want.is_ok() {
                    m.refund(i, amount, false);
                }
                (code(&r), want)
            }
            Op::Deliver { order, who } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x.confirm_delivery(account(who), &o.id).await;
                let want = m.step(i, who, OrderAction::Deliver);
                if r.is_ok() && want.is_ok() {
                    m.orders[i].status = OrderStatus::Delivered;
                    m.orders[i].delivered_at = Some(m.now);
                }
                (code(&r), want)
            }
            Op::RequestReturn { order, who } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x
                    .request_return(account(who), &o.id, &reason("too loud"))
                    .await;
                let mut want = m.step(i, who, OrderAction::RequestReturn);
                if want.is_ok()
                    && (o.ret.is_some()
                        || o.settled
                        || o.delivered_at.is_some_and(|d| d + 14 * DAY <= m.now))
                {
                    want = Err("invalid_transition");
                }
                if r.is_ok() && want.is_ok() {
                    m.orders[i].ret = Some("requested");
                }
                (code(&r), want)
            }
            Op::AnswerReturn { order, who, accept } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x.answer_return(account(who), &o.id, accept).await;
                let action = if accept {
                    OrderAction::AcceptReturn
                } else {
                    OrderAction::RefuseReturn
                };
                let mut want = m.step(i, who, action);
                if want.is_ok() && o.ret != Some("requested") {
                    want = Err("invalid_transition");
                }
                if r.is_ok() && want.is_ok() {
                    m.orders[i].ret = Some(if accept { "accepted" } else { "refused" });
                }
                (code(&r), want)
            }
            Op::OpenDispute { order, who } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let r = x
                    .open_dispute(
                        account(who),
                        &o.id,
                        &api::OpenDispute {
                            kind: "not_received".into(),
                            reason: "nothing came".into(),
                        },
                    )
                    .await;
                let mut want = m.step(i, who, OrderAction::OpenDispute);
                if want.is_ok() && o.dispute.is_some() {
                    want = Err("invalid_transition");
                }
                if let (Ok(d), Ok(())) = (&r, &want) {
                    m.orders[i].dispute = Some((d.id.clone(), true));
                }
                (code(&r), want)
            }
            Op::Resolve { order, who, cents } => {
                let Some(i) = pick(order) else { continue };
                let o = m.orders[i].clone();
                let Some((dispute_id, open)) = o.dispute.clone() else {
                    continue;
                };
                let r = x
                    .resolve_dispute(
                        account(who),
                        &dispute_id,
                        &api::ResolveDispute {
                            refund: cents.map(dollars),
                            reason: "decided".into(),
                        },
                    )
                    .await;
                let left = o.total - o.refunded;
                let want = if who != Who::Operator {
                    Err("forbidden")
                } else if !open {
                    Err("invalid_state")
                } else {
                    match cents {
                        None => Ok(()),
                        Some(c) if c <= 0 => Err("invalid_field"),
                        Some(_) if !m.status(&o).is_purchase() => Err("invalid_transition"),
                        Some(c) if c > left => Err("refund_exceeds_paid"),
                        Some(_) if o.buyer == Who::Bob => Err("refund_failed"),
                        Some(_) => Ok(()),
                    }
                };
                if r.is_ok() && want.is_ok() {
                    m.orders[i].dispute = Some((dispute_id, false));
                    if let Some(c) = cents {
                        m.refund(i, c, false);
                    }
                }
                (code(&r), want)
            }
            Op::Payout { who } => {
                let r = x
                    .payout(
                        account(who),
                        &api::CreatePayout {
                            currency: "USD".into(),
                            amount: None,
                        },
                    )
                    .await;
                let available = m.m(who).available;
                let want = if available > 0 {
                    Ok(())
                } else {
                    Err("payout_exceeds_available")
                };
                if r.is_ok() && want.is_ok() {
                    let a = m.m(who);
                    a.paid_out += a.available;
                    a.available = 0;
                }
                (code(&r), want)
            }
            Op::Advance { days } => {
                let secs = if days == 0 { 600 } else { days * DAY };
                f.clock.advance_seconds(secs);
                m.now += secs;
                x.expire_unpaid_orders().await.expect("expire");
                x.advance_orders().await.expect("sweep");
                for o in &mut m.orders {
                    if o.status == OrderStatus::Placed && o.pay_by <= m.now {
                        o.status = OrderStatus::Expired;
                    }
                }
                m.sweep();
                (Ok(()), Ok(()))
            }
        };
        prop_assert_eq!(
            got.clone(),
            want.map_err(str::to_string),
            "step {} {:?}",
            n,
            op
        );
        // Every order, all the money, stock and units, after every step.
        for o in &m.orders {
            let seen = f
                .store
                .order(&o.id)
                .await
                .expect("order")
                .as_of(f.clock.now());
            prop_assert_eq!(seen.status, m.status(o), "step {} order {} status", n, o.id);
            prop_assert_eq!(
                seen.after_sale.refunded_minor,
                o.refunded,
                "step {} refunded",
                n
            );
            prop_assert!(seen.after_sale.refunded_minor <= seen.total_minor);
            prop_assert_eq!(
                seen.after_sale.commission_reversed_minor,
                o.commission * o.refunded / o.total,
                "step {} reversed = C·R/T",
                n
            );
            prop_assert_eq!(seen.after_sale.commission_reversed_minor, o.reversed);
            prop_assert_eq!(
                seen.after_sale.settled_at.is_some(),
                o.settled,
                "step {} settled",
                n
            );
        }
        for w in WHO {
            let got = f
                .store
                .ledger_buckets(&account(w).id)
                .await
                .expect("buckets")
                .first()
                .map(|b| Money3 {
                    pending: b.pending,
                    available: b.available,
                    paid_out: b.paid_out,
                })
                .unwrap_or_default();
            prop_assert_eq!(
                got,
                m.money.get(key(w)).copied().unwrap_or_default(),
                "step {} {:?}",
                n,
                w
            );
        }
        let totals = f.store.ledger_totals().await.expect("totals");
        prop_assert!(
            totals.iter().all(|(_, t)| *t == 0),
            "the ledger sums to zero: {:?}",
            totals
        );
        prop_assert_eq!(
            f.store.product(&product_id).await.expect("p").stock,
            m.stock.0
        );
        prop_assert_eq!(
            f.store.product(&unique_product.id).await.expect("p").stock,
            m.stock.1
        );
        let free = f
            .store
            .wallet(&holder.id)
            .await
            .expect("wallet")
            .iter()
            .find(|h| h.pass.id == unique.id)
            .and_then(|h| h.units_left)
            .unwrap_or(0);
        prop_assert_eq!(free, m.free_units, "step {} unsold units", n);
    }
    Ok(())
}

/// A saved address and sandbox card.
fn profile(card: &str) -> api::RequesterProfileUpdate {
    api::RequesterProfileUpdate {
        ship_to: Some(api::Address {
            name: "Buyer".into(),
            line1: "1 Main St".into(),
            line2: None,
            city: "Springfield".into(),
            postal_code: "12345".into(),
            country: "US".into(),
        }),
        payment_method: Some(api::PaymentMethodInput {
            kind: "sandbox_card".into(),
            number: card.into(),
        }),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn lifecycle_agrees_with_the_model_on_sqlite(ops in prop::collection::vec(op(), 1..40)) {
        runtime().block_on(run(Backend::Sqlite, ops))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, max_shrink_iters: 50, ..ProptestConfig::default() })]

    #[test]
    fn lifecycle_agrees_with_the_model_on_postgres(ops in prop::collection::vec(op(), 1..40)) {
        if pg::admin_url().is_none() {
            eprintln!("PostgreSQL suite skipped (lifecycle_agrees_with_the_model_on_postgres): SYMBOLON_TEST_POSTGRES_URL is unset");
            return Ok(());
        }
        runtime().block_on(run(Backend::Postgres, ops))?;
    }
}

/// Throw-away PostgreSQL databases.
mod pg {
    pub fn admin_url() -> Option<String> {
        std::env::var("SYMBOLON_TEST_POSTGRES_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
    }

    pub struct Db {
        admin: String,
        name: String,
        pub url: String,
    }

    impl Db {
        pub async fn create() -> Self {
            use sqlx::Connection;
            let admin = admin_url().expect("SYMBOLON_TEST_POSTGRES_URL");
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let name = format!("symbolon_test_{secs}_{nanos:09}_{}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let _ = conn.close().await;
            let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
            Self {
                url: format!("{base}/{name}"),
                admin,
                name,
            }
        }

        pub async fn drop(self) {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
                let _ = sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut conn)
                .await;
                let _ = conn.close().await;
            }
        }
    }
}

/// A refund reserved by a run that stopped before the gateway answered (the
/// reservation is all that is left of it) is completed by the sweeper once it
/// is `STALE_REFUND_SECONDS` old, with its ledger and commission reversal,
/// and only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_completes_a_refund_left_pending() {
    let f = Fixture::new(11).await;
    let x = &f.exchange;
    let provider = f.account("Maker", &[api::Role::Provider]).await;
    let holder = f.account("Hana", &[api::Role::Holder]).await;
    let buyer = f.account("Ann", &[api::Role::Requester]).await;
    let pass = f.grinder_pass(&provider).await;
    f.grant(&provider, &pass, &holder).await;
    x.set_requester_profile(&buyer, &profile("4242424242424242"))
        .await
        .expect("profile");
    let order = x
        .pass_order(
            &buyer,
            &pass.id,
            &api::CreatePassOrder {
                quantity: Some(1),
                pay: true,
                via: Some(holder.id.clone()),
                ship_to: None,
            },
        )
        .await
        .expect("order");
    // The stopped run: its reservation, and nothing after it.
    let claim = f
        .store
        .claim_refund(
            &symbolon_store::NewRefund {
                id: "rfd_stopped".into(),
                order_id: order.id.clone(),
                kind: symbolon_core::state::RefundKind::Refund,
                amount_minor: Some(2_000),
                reason: "dent".into(),
                by_id: provider.id.clone(),
                dispute_id: None,
                at: f.clock.now(),
            },
            &OrderStatus::sources(OrderAction::Refund),
        )
        .await
        .expect("claim");
    assert_eq!(
        x.retry_stale_refunds().await.expect("sweep"),
        0,
        "not stale yet"
    );
    f.clock
        .advance_seconds(symbolon_core::limits::STALE_REFUND_SECONDS as i64);
    assert_eq!(x.retry_stale_refunds().await.expect("sweep"), 1);
    assert_eq!(x.retry_stale_refunds().await.expect("sweep"), 0, "once");
    let done = f.store.refund(&claim.id).await.expect("refund");
    assert_eq!(done.status, symbolon_core::state::RefundStatus::Succeeded);
    assert_eq!(done.commission_reversed_minor, 2_000 * BPS / 10_000);
    let o = f.store.order(&order.id).await.expect("order");
    assert_eq!(o.after_sale.refunded_minor, 2_000);
    let totals = f.store.ledger_totals().await.expect("totals");
    assert!(totals.iter().all(|(_, t)| *t == 0));
}
