//! The order lifecycle after payment — cancellations, refunds, delivery,
//! settlement, returns and payouts (disputes: `disputes.rs`, over the same
//! helpers) — written once for both SQL backends
//! (see `outbox.rs` for the dialect trick) and expanded per backend by
//! [`sql_lifecycle_methods!`] into its impl of [`crate::LifecycleStore`].
//!
//! Every mutating step starts by locking its order's row (a no-op UPDATE:
//! PostgreSQL takes the row lock, SQLite's one writer serializes anyway),
//! then reads and checks it, so racing steps of one order run one after the
//! other and each sees the last one's result. The events of a step are
//! written in its transaction, to the audience `OrderEvent::audience` names.
//!
//! Money: a refund is reserved (`refund_claimed_minor`) before the payment
//! gateway is called and completed — ledger, commission reversal, state —
//! in one transaction when the gateway has refunded; racing refunds can
//! never reserve more than was paid. The commission reversed after `R` of a
//! total `T` is refunded is ⌊C·R/T⌋ ([`symbolon_core::state::commission_reversed`]),
//! each refund posting the difference, so the reversals sum to the whole
//! commission exactly when everything is refunded.

use crate::{BucketBalance, NewRefund, Order, Refund, RefundDone, StoreResult};
use symbolon_core::state::{Actor, OrderStatus};
use symbolon_core::Timestamp;

/// Cancellations, refunds, delivery, settlement, returns and disputes.
#[async_trait::async_trait]
pub trait LifecycleStore: Send + Sync {
    /// `placed → cancelled` (nothing was taken, nothing is given back);
    /// `Conflict::InvalidTransition` from any other state.
    async fn cancel_unpaid(
        &self,
        order_id: &str,
        by_id: &str,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<Order>;
    /// Reserves a refund against the order, `pending`, if its state is one of
    /// `from` (`Conflict::InvalidTransition` otherwise) and what is left to
    /// refund covers it (`Conflict::RefundExceedsPaid`; no amount means all
    /// that is left, and nothing left is refused too).
    async fn claim_refund(&self, r: &NewRefund, from: &[OrderStatus]) -> StoreResult<Refund>;
    /// Completes a pending refund the gateway has made, in one transaction:
    /// the ledger (the refund to the requester, the commission reversal, from
    /// `pending` money until the order is settled, from `available` after),
    /// the order's totals and state (`refunded` once everything is refunded;
    /// a cancellation of a still-`paid` order makes it `cancelled` and gives
    /// stock and unit back), a dispute it resolves, and the events.
    /// Completing a refund that already succeeded returns it unchanged.
    async fn complete_refund(&self, done: &RefundDone) -> StoreResult<(Refund, Order)>;
    /// The gateway refused a pending refund: it is `failed` and its
    /// reservation released.
    async fn fail_refund(&self, refund_id: &str, at: Timestamp) -> StoreResult<Refund>;
    async fn refund(&self, refund_id: &str) -> StoreResult<Refund>;
    /// An order's refunds, oldest first.
    async fn refunds(&self, order_id: &str) -> StoreResult<Vec<Refund>>;
    /// Refunds still pending that were reserved at or before `before`.
    async fn stale_refunds(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<Refund>>;
    /// `shipped → delivered`, confirmed by `by` (the requester, or the exchange).
    async fn deliver(&self, order_id: &str, by: Actor, at: Timestamp) -> StoreResult<Order>;
    /// Delivers orders shipped at or before `shipped_before`; how many.
    async fn deliver_overdue(
        &self,
        shipped_before: Timestamp,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<u64>;
    /// Settles delivered orders whose delivery is at or before
    /// `delivered_before` (their return window has passed), with no return
    /// waiting and no open dispute: their pending money becomes available.
    async fn settle_matured(
        &self,
        delivered_before: Timestamp,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<u64>;
    /// The requester asks to return a delivered order whose delivery is
    /// after `window_start` (`Conflict::ReturnWindowClosed` otherwise).
    async fn request_return(
        &self,
        order_id: &str,
        reason: &str,
        window_start: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Order>;
    /// The provider accepts or refuses the requested return.
    async fn answer_return(
        &self,
        order_id: &str,
        accept: bool,
        at: Timestamp,
    ) -> StoreResult<Order>;
    /// An account's ledger per currency, pending, available and paid out apart.
    async fn ledger_buckets(&self, account_id: &str) -> StoreResult<Vec<BucketBalance>>;
    /// Pays `amount` (all of it when `None`) of the account's available
    /// money in `currency` out of the exchange: one ledger transaction
    /// (`ledger_id`, no order) from `available` to `paid_out`.
    /// `Conflict::PayoutExceedsAvailable` when it is more than is available
    /// or nothing is; returns what was paid.
    async fn pay_out(
        &self,
        account_id: &str,
        currency: &str,
        amount: Option<i64>,
        ledger_id: &str,
        at: Timestamp,
    ) -> StoreResult<i64>;
}

/// Expands to `impl LifecycleStore for $store`. `$w`/`$r` name the pools,
/// `$conn` the backend's connection type, `$sql` turns the shared SQL into
/// the backend's dialect and `$emit` is the statement writing one event
/// (`$1` account, `$2` type, `$3` data, `$4` time). The expansion site must
/// have `db`, `ORDER_COLS` and the row mappers in scope.
#[macro_export]
macro_rules! sql_lifecycle_methods {
    ($store:ty, write = $w:ident, read = $r:ident, conn = $conn:ty, sql = $sql:path, emit = $emit:expr) => {
        mod lifecycle_sql {
            use super::*;
            use serde_json::json;
            use symbolon_core::limits::{
                MAX_DISPUTE_MESSAGES, MAX_OPERATORS_NOTIFIED, MAX_REFUNDS_PER_ORDER,
            };
            use symbolon_core::state::{
                commission_reversed, Actor, DisputeStatus, OrderEvent, OrderStatus, RefundKind,
                RefundStatus, ReturnStatus,
            };
            use symbolon_store::{
                Bucket, BucketBalance, Conflict, Dispute, DisputeMessage, NewRefund, Order, Page,
                Posting, Refund, RefundDone, StoreError, StoreResult, UnitTransfer,
            };

            const REFUND_COLS: &str = "id, order_id, kind, amount_minor, reason, by_id, dispute_id, status, gateway_ref, commission_reversed_minor, created_at, completed_at";
            pub(super) const DISPUTE_COLS: &str = "seq, id, order_id, requester_id, provider_id, kind, reason, status, resolution, refund_minor, resolved_by, created_at, resolved_at";
            pub(super) const MESSAGE_COLS: &str = "id, dispute_id, author_id, role, body, created_at";

            /// Locks the order's row for the rest of the transaction.
            pub(super) async fn lock(conn: &mut $conn, id: &str) -> StoreResult<()> {
                let n = sqlx::query(&$sql(
                    "UPDATE orders SET refunded_minor = refunded_minor WHERE id = $1",
                ))
                .bind(id)
                .execute(&mut *conn)
                .await
                .map_err(db)?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            pub(super) async fn order(conn: &mut $conn, id: &str) -> StoreResult<Order> {
                let q = $sql(&format!("SELECT {ORDER_COLS} FROM orders WHERE id = $1"));
                let row = sqlx::query(&q)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?
                    .ok_or(StoreError::NotFound)?;
                order_from(&row)
            }

            /// Locks, then reads.
            pub(super) async fn locked(conn: &mut $conn, id: &str) -> StoreResult<Order> {
                lock(conn, id).await?;
                order(conn, id).await
            }

            pub(super) async fn refund_in(conn: &mut $conn, id: &str) -> StoreResult<Refund> {
                let q = $sql(&format!("SELECT {REFUND_COLS} FROM refunds WHERE id = $1"));
                let row = sqlx::query(&q)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?
                    .ok_or(StoreError::NotFound)?;
                refund_from(&row)
            }

            pub(super) async fn dispute_in(conn: &mut $conn, id: &str) -> StoreResult<Dispute> {
                let q = $sql(&format!("SELECT {DISPUTE_COLS} FROM disputes WHERE id = $1"));
                let row = sqlx::query(&q)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?
                    .ok_or(StoreError::NotFound)?;
                dispute_from(&row)
            }

            /// Writes `kind` to every account of its audience.
            pub(super) async fn emit(
                conn: &mut $conn,
                kind: OrderEvent,
                o: &Order,
                data: serde_json::Value,
                at: Timestamp,
            ) -> StoreResult<()> {
                let body = data.to_string();
                let mut to: Vec<String> = Vec::new();
                for actor in kind.audience() {
                    match actor {
                        Actor::Requester => to.push(o.requester_id.clone()),
                        Actor::Provider => to.push(o.provider_id.clone()),
                        Actor::Holder => to.extend(o.holder_id.iter().cloned()),
                        Actor::Operator => {
                            let ids: Vec<String> = sqlx::query_scalar(&$sql(
                                "SELECT id FROM accounts WHERE ',' || roles || ',' LIKE '%,operator,%' ORDER BY id LIMIT $1",
                            ))
                            .bind(MAX_OPERATORS_NOTIFIED)
                            .fetch_all(&mut *conn)
                            .await
                            .map_err(db)?;
                            to.extend(ids);
                        }
                        Actor::Exchange => {}
                    }
                }
                let mut seen = std::collections::HashSet::new();
                for account in to.into_iter().filter(|a| seen.insert(a.clone())) {
                    sqlx::query(&$sql($emit))
                        .bind(account)
                        .bind(kind.as_str())
                        .bind(&body)
                        .bind(at.millis())
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                }
                Ok(())
            }

            pub(super) async fn post(
                conn: &mut $conn,
                order_id: &str,
                ledger_id: &str,
                payment_ref: &str,
                at: Timestamp,
                postings: &[Posting],
            ) -> StoreResult<()> {
                sqlx::query(&$sql(
                    "INSERT INTO ledger_transactions (id, order_id, payment_ref, created_at) VALUES ($1, $2, $3, $4)",
                ))
                .bind(ledger_id)
                .bind(order_id)
                .bind(payment_ref)
                .bind(at.millis())
                .execute(&mut *conn)
                .await
                .map_err(db)?;
                for p in postings {
                    sqlx::query(&$sql(
                        "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor, memo, bucket) VALUES ($1, $2, $3, $4, $5, $6)",
                    ))
                    .bind(ledger_id)
                    .bind(&p.account_id)
                    .bind(&p.currency)
                    .bind(p.amount_minor)
                    .bind(&p.memo)
                    .bind(p.bucket.as_str())
                    .execute(&mut *conn)
                    .await
                    .map_err(db)?;
                }
                Ok(())
            }

            fn status_list(from: &[OrderStatus]) -> String {
                from.iter()
                    .map(|s| format!("'{}'", s.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            }

            /// Hands a cancelled order's unit back to its holder, unsold again:
            /// the signed statement `t` (owner → holder) is appended to its
            /// history and the offer it went with forgets it.
            async fn restore_unit(
                conn: &mut $conn,
                o: &Order,
                t: &UnitTransfer,
            ) -> StoreResult<()> {
                let last = last_transfer_seq(conn, &t.pass_id, t.unit_no).await?;
                if last.unwrap_or(0) != t.seq - 1 {
                    return Err(Conflict::UnitAlreadySold.into());
                }
                let moved = sqlx::query(&$sql(
                    "UPDATE pass_units SET owner_id = NULL, offer_id = NULL
                     WHERE pass_id = $1 AND unit_no = $2 AND owner_id = $3 AND holder_id = $4",
                ))
                .bind(&t.pass_id)
                .bind(t.unit_no)
                .bind(&t.from_id)
                .bind(&t.to_id)
                .execute(&mut *conn)
                .await
                .map_err(db)?
                .rows_affected();
                if moved != 1 {
                    return Err(Conflict::UnitAlreadySold.into());
                }
                insert_transfer(conn, t).await?;
                if let Some(offer_id) = &o.offer_id {
                    sqlx::query(&$sql("UPDATE offers SET unit_no = NULL WHERE id = $1"))
                        .bind(offer_id)
                        .execute(&mut *conn)
                        .await
                        .map_err(db)?;
                }
                Ok(())
            }

            /// Whether the order may be settled now: delivered, not settled,
            /// no return waiting or accepted-but-unrefunded, no open dispute.
            async fn settleable(conn: &mut $conn, o: &Order) -> StoreResult<bool> {
                if o.status != OrderStatus::Delivered || o.after_sale.settled_at.is_some() {
                    return Ok(false);
                }
                if matches!(
                    o.after_sale.return_status,
                    Some(ReturnStatus::Requested | ReturnStatus::Accepted)
                ) {
                    return Ok(false);
                }
                if let Some(d) = &o.after_sale.dispute_id {
                    if dispute_in(conn, d).await?.status == DisputeStatus::Open {
                        return Ok(false);
                    }
                }
                Ok(true)
            }

            impl $store {
                pub(crate) async fn lc_settle_one(&self, id: &str, at: Timestamp) -> StoreResult<bool> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let o = locked(&mut tx, id).await?;
                    if !settleable(&mut tx, &o).await? {
                        return Ok(false);
                    }
                    let rows: Vec<(String, i64)> = sqlx::query_as(&$sql(
                        "SELECT e.account_id, CAST(SUM(e.amount_minor) AS BIGINT) FROM ledger_entries e
                         JOIN ledger_transactions t ON t.id = e.transaction_id
                         WHERE t.order_id = $1 AND e.bucket = 'pending'
                         GROUP BY e.account_id ORDER BY e.account_id",
                    ))
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?;
                    let mut postings = Vec::new();
                    for (account, pending) in rows.into_iter().filter(|(_, n)| *n != 0) {
                        for (amount, bucket) in [(-pending, Bucket::Pending), (pending, Bucket::Available)] {
                            postings.push(Posting {
                                account_id: account.clone(),
                                currency: o.currency.clone(),
                                amount_minor: amount,
                                memo: format!("settled {id}"),
                                bucket,
                            });
                        }
                    }
                    if !postings.is_empty() {
                        post(&mut tx, id, &format!("stl_{id}"), "settlement", at, &postings).await?;
                    }
                    sqlx::query(&$sql("UPDATE orders SET settled_at = $1 WHERE id = $2"))
                        .bind(at.millis())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    let commission = o.commission_minor - o.after_sale.commission_reversed_minor;
                    emit(
                        &mut tx,
                        OrderEvent::Settled,
                        &o,
                        json!({"order_id": id, "commission_minor": commission, "currency": o.currency}),
                        at,
                    )
                    .await?;
                    tx.commit().await.map_err(db)?;
                    Ok(true)
                }
            }

            #[async_trait::async_trait]
            impl symbolon_store::LifecycleStore for $store {
                async fn cancel_unpaid(
                    &self,
                    order_id: &str,
                    by_id: &str,
                    reason: &str,
                    at: Timestamp,
                ) -> StoreResult<Order> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let o = locked(&mut tx, order_id).await?;
                    if o.status != OrderStatus::Placed || o.pay_by.is_some_and(|t| t <= at) {
                        return Err(Conflict::InvalidTransition(o.as_of(at).status).into());
                    }
                    sqlx::query(&$sql(
                        "UPDATE orders SET status = 'cancelled', pay_by = NULL, cancelled_at = $1, cancel_reason = $2, cancelled_by = $3 WHERE id = $4",
                    ))
                    .bind(at.millis())
                    .bind(reason)
                    .bind(by_id)
                    .bind(order_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let o = order(&mut tx, order_id).await?;
                    emit(
                        &mut tx,
                        OrderEvent::Cancelled,
                        &o,
                        json!({"order_id": order_id, "by": by_id, "refunded_minor": 0, "currency": o.currency}),
                        at,
                    )
                    .await?;
                    tx.commit().await.map_err(db)?;
                    Ok(o)
                }

                async fn claim_refund(&self, r: &NewRefund, from: &[OrderStatus]) -> StoreResult<Refund> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let o = locked(&mut tx, &r.order_id).await?;
                    if !from.contains(&o.status) {
                        return Err(Conflict::InvalidTransition(o.status).into());
                    }
                    let left = o.total_minor - o.after_sale.refund_claimed_minor;
                    let amount = r.amount_minor.unwrap_or(left);
                    if amount <= 0 || amount > left {
                        return Err(Conflict::RefundExceedsPaid { refundable: left }.into());
                    }
                    let count: i64 = sqlx::query_scalar(&$sql(
                        "SELECT COUNT(*) FROM refunds WHERE order_id = $1 AND status <> 'failed'",
                    ))
                    .bind(&r.order_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    if count as u64 >= MAX_REFUNDS_PER_ORDER {
                        return Err(Conflict::TooManyRefunds.into());
                    }
                    let q = $sql(&format!(
                        "UPDATE orders SET refund_claimed_minor = refund_claimed_minor + $1
                         WHERE id = $2 AND status IN ({}) AND refund_claimed_minor + $1 <= total_minor",
                        status_list(from)
                    ));
                    let n = sqlx::query(&q)
                        .bind(amount)
                        .bind(&r.order_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected();
                    if n != 1 {
                        // Unreachable under the row lock; refuse rather than over-refund.
                        return Err(Conflict::RefundExceedsPaid { refundable: left }.into());
                    }
                    sqlx::query(&$sql(
                        "INSERT INTO refunds (id, order_id, kind, amount_minor, reason, by_id, dispute_id, status, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8)",
                    ))
                    .bind(&r.id)
                    .bind(&r.order_id)
                    .bind(r.kind.as_str())
                    .bind(amount)
                    .bind(&r.reason)
                    .bind(&r.by_id)
                    .bind(&r.dispute_id)
                    .bind(r.at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let refund = refund_in(&mut tx, &r.id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(refund)
                }

                async fn complete_refund(&self, d: &RefundDone) -> StoreResult<(Refund, Order)> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let order_id: String = sqlx::query_scalar(&$sql("SELECT order_id FROM refunds WHERE id = $1"))
                        .bind(&d.refund_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?
                        .ok_or(StoreError::NotFound)?;
                    let o = locked(&mut tx, &order_id).await?;
                    let refund = refund_in(&mut tx, &d.refund_id).await?;
                    match refund.status {
                        RefundStatus::Pending => {}
                        RefundStatus::Succeeded => return Ok((refund, o)),
                        RefundStatus::Failed => return Err(Conflict::InvalidState.into()),
                    }
                    let before = o.after_sale.refunded_minor;
                    let after = before + refund.amount_minor;
                    let reversed = commission_reversed(o.commission_minor, o.total_minor, after)
                        - commission_reversed(o.commission_minor, o.total_minor, before);
                    let bucket = if o.after_sale.settled_at.is_some() {
                        Bucket::Available
                    } else {
                        Bucket::Pending
                    };
                    let p = |account: &str, amount: i64, bucket: Bucket, memo: &str| Posting {
                        account_id: account.to_string(),
                        currency: o.currency.clone(),
                        amount_minor: amount,
                        memo: format!("{memo} {}", o.id),
                        bucket,
                    };
                    let mut postings = vec![
                        p(&o.requester_id, refund.amount_minor, Bucket::Available, "refund on"),
                        p(&o.provider_id, -refund.amount_minor, bucket, "refund on"),
                    ];
                    if let (Some(holder), true) = (&o.holder_id, reversed != 0) {
                        postings.push(p(holder, -reversed, bucket, "commission reversed on"));
                        postings.push(p(&o.provider_id, reversed, bucket, "commission reversed on"));
                    }
                    post(&mut tx, &o.id, &d.ledger_id, &d.gateway_ref, d.at, &postings).await?;
                    let cancel = refund.kind == RefundKind::Cancel && o.status == OrderStatus::Paid;
                    let status = if cancel {
                        OrderStatus::Cancelled
                    } else if after == o.total_minor {
                        OrderStatus::Refunded
                    } else {
                        o.status
                    };
                    if cancel {
                        sqlx::query(&$sql("UPDATE products SET stock = stock + $1 WHERE id = $2"))
                            .bind(o.quantity)
                            .bind(&o.product_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                        if let Some(t) = &d.unit_return {
                            restore_unit(&mut tx, &o, t).await?;
                        }
                    }
                    let (cancelled_at, cancel_reason, cancelled_by) = if cancel {
                        (Some(d.at.millis()), Some(refund.reason.clone()), Some(refund.by_id.clone()))
                    } else {
                        (
                            o.after_sale.cancelled_at.map(|t| t.millis()),
                            o.after_sale.cancel_reason.clone(),
                            o.after_sale.cancelled_by.clone(),
                        )
                    };
                    sqlx::query(&$sql(
                        "UPDATE orders SET refunded_minor = $1, commission_reversed_minor = commission_reversed_minor + $2,
                           status = $3, cancelled_at = $4, cancel_reason = $5, cancelled_by = $6,
                           return_status = CASE WHEN return_status = 'accepted' THEN 'refunded' ELSE return_status END
                         WHERE id = $7",
                    ))
                    .bind(after)
                    .bind(reversed)
                    .bind(status.as_str())
                    .bind(cancelled_at)
                    .bind(cancel_reason)
                    .bind(cancelled_by)
                    .bind(&o.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    sqlx::query(&$sql(
                        "UPDATE refunds SET status = 'succeeded', gateway_ref = $1, commission_reversed_minor = $2, completed_at = $3 WHERE id = $4",
                    ))
                    .bind(&d.gateway_ref)
                    .bind(reversed)
                    .bind(d.at.millis())
                    .bind(&d.refund_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let o = order(&mut tx, &o.id).await?;
                    emit(
                        &mut tx,
                        OrderEvent::Refunded,
                        &o,
                        json!({"order_id": o.id, "refund_id": refund.id, "amount_minor": refund.amount_minor,
                               "refunded_minor": after, "commission_reversed_minor": reversed,
                               "currency": o.currency, "status": o.status.as_str()}),
                        d.at,
                    )
                    .await?;
                    if cancel {
                        emit(
                            &mut tx,
                            OrderEvent::Cancelled,
                            &o,
                            json!({"order_id": o.id, "by": refund.by_id, "refunded_minor": after, "currency": o.currency}),
                            d.at,
                        )
                        .await?;
                    }
                    if let Some(dispute_id) = &refund.dispute_id {
                        let n = sqlx::query(&$sql(
                            "UPDATE disputes SET status = 'resolved', resolution = $1, refund_minor = $2, resolved_by = $3, resolved_at = $4
                             WHERE id = $5 AND status = 'open'",
                        ))
                        .bind(&refund.reason)
                        .bind(refund.amount_minor)
                        .bind(&refund.by_id)
                        .bind(d.at.millis())
                        .bind(dispute_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected();
                        if n == 1 {
                            emit(
                                &mut tx,
                                OrderEvent::DisputeResolved,
                                &o,
                                json!({"dispute_id": dispute_id, "order_id": o.id, "outcome": "resolved",
                                       "refund_minor": refund.amount_minor, "currency": o.currency}),
                                d.at,
                            )
                            .await?;
                        }
                    }
                    let refund = refund_in(&mut tx, &d.refund_id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok((refund, o))
                }

                async fn fail_refund(&self, refund_id: &str, at: Timestamp) -> StoreResult<Refund> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let order_id: String = sqlx::query_scalar(&$sql("SELECT order_id FROM refunds WHERE id = $1"))
                        .bind(refund_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db)?
                        .ok_or(StoreError::NotFound)?;
                    lock(&mut tx, &order_id).await?;
                    let refund = refund_in(&mut tx, refund_id).await?;
                    if refund.status != RefundStatus::Pending {
                        return Ok(refund);
                    }
                    sqlx::query(&$sql(
                        "UPDATE refunds SET status = 'failed', completed_at = $1 WHERE id = $2",
                    ))
                    .bind(at.millis())
                    .bind(refund_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    sqlx::query(&$sql(
                        "UPDATE orders SET refund_claimed_minor = refund_claimed_minor - $1 WHERE id = $2",
                    ))
                    .bind(refund.amount_minor)
                    .bind(&order_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let refund = refund_in(&mut tx, refund_id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(refund)
                }

                async fn refund(&self, refund_id: &str) -> StoreResult<Refund> {
                    let mut conn = self.$r.acquire().await.map_err(db)?;
                    refund_in(&mut conn, refund_id).await
                }

                async fn refunds(&self, order_id: &str) -> StoreResult<Vec<Refund>> {
                    let q = $sql(&format!("SELECT {REFUND_COLS} FROM refunds WHERE order_id = $1 ORDER BY seq"));
                    let rows = sqlx::query(&q)
                        .bind(order_id)
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter().map(refund_from).collect()
                }

                async fn stale_refunds(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<Refund>> {
                    let q = $sql(&format!(
                        "SELECT {REFUND_COLS} FROM refunds WHERE status = 'pending' AND created_at <= $1 ORDER BY created_at LIMIT $2"
                    ));
                    let rows = sqlx::query(&q)
                        .bind(before.millis())
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter().map(refund_from).collect()
                }

                async fn deliver(&self, order_id: &str, by: Actor, at: Timestamp) -> StoreResult<Order> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let o = locked(&mut tx, order_id).await?;
                    if o.status != OrderStatus::Shipped {
                        return Err(Conflict::InvalidTransition(o.status).into());
                    }
                    sqlx::query(&$sql(
                        "UPDATE orders SET status = 'delivered', delivered_at = $1 WHERE id = $2",
                    ))
                    .bind(at.millis())
                    .bind(order_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let o = order(&mut tx, order_id).await?;
                    emit(
                        &mut tx,
                        OrderEvent::Delivered,
                        &o,
                        json!({"order_id": order_id, "by": by.as_str()}),
                        at,
                    )
                    .await?;
                    tx.commit().await.map_err(db)?;
                    Ok(o)
                }

                async fn deliver_overdue(&self, shipped_before: Timestamp, at: Timestamp, limit: u32) -> StoreResult<u64> {
                    let ids: Vec<String> = sqlx::query_scalar(&$sql(
                        "SELECT id FROM orders WHERE status = 'shipped' AND shipped_at <= $1 ORDER BY shipped_at LIMIT $2",
                    ))
                    .bind(shipped_before.millis())
                    .bind(i64::from(limit))
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    let mut n = 0;
                    for id in ids {
                        match self.deliver(&id, Actor::Exchange, at).await {
                            Ok(_) => n += 1,
                            // Confirmed, refunded or cancelled meanwhile.
                            Err(StoreError::Conflict(Conflict::InvalidTransition(_))) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(n)
                }

                async fn settle_matured(&self, delivered_before: Timestamp, at: Timestamp, limit: u32) -> StoreResult<u64> {
                    let ids: Vec<String> = sqlx::query_scalar(&$sql(
                        "SELECT id FROM orders WHERE status = 'delivered' AND settled_at IS NULL AND delivered_at <= $1
                           AND (return_status IS NULL OR return_status IN ('refused', 'refunded'))
                           AND (dispute_id IS NULL OR NOT EXISTS (SELECT 1 FROM disputes d WHERE d.id = orders.dispute_id AND d.status = 'open'))
                         ORDER BY delivered_at LIMIT $2",
                    ))
                    .bind(delivered_before.millis())
                    .bind(i64::from(limit))
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    let mut n = 0;
                    for id in ids {
                        if self.lc_settle_one(&id, at).await? {
                            n += 1;
                        }
                    }
                    Ok(n)
                }

                async fn request_return(&self, order_id: &str, reason: &str, window_start: Timestamp, at: Timestamp) -> StoreResult<Order> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let o = locked(&mut tx, order_id).await?;
                    if o.status != OrderStatus::Delivered {
                        return Err(Conflict::InvalidTransition(o.status).into());
                    }
                    if o.after_sale.return_status.is_some() {
                        return Err(Conflict::ReturnExists.into());
                    }
                    if o.after_sale.settled_at.is_some()
                        || o.after_sale.delivered_at.map_or(true, |t| t <= window_start)
                    {
                        return Err(Conflict::ReturnWindowClosed.into());
                    }
                    sqlx::query(&$sql(
                        "UPDATE orders SET return_status = 'requested', return_reason = $1, return_requested_at = $2 WHERE id = $3",
                    ))
                    .bind(reason)
                    .bind(at.millis())
                    .bind(order_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let o = order(&mut tx, order_id).await?;
                    emit(&mut tx, OrderEvent::ReturnRequested, &o, json!({"order_id": order_id}), at).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(o)
                }

                async fn answer_return(&self, order_id: &str, accept: bool, at: Timestamp) -> StoreResult<Order> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let o = locked(&mut tx, order_id).await?;
                    if o.status != OrderStatus::Delivered {
                        return Err(Conflict::InvalidTransition(o.status).into());
                    }
                    if o.after_sale.return_status != Some(ReturnStatus::Requested) {
                        return Err(Conflict::NoReturnRequested.into());
                    }
                    let (status, kind) = if accept {
                        (ReturnStatus::Accepted, OrderEvent::ReturnAccepted)
                    } else {
                        (ReturnStatus::Refused, OrderEvent::ReturnRefused)
                    };
                    sqlx::query(&$sql("UPDATE orders SET return_status = $1 WHERE id = $2"))
                        .bind(status.as_str())
                        .bind(order_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    let o = order(&mut tx, order_id).await?;
                    emit(&mut tx, kind, &o, json!({"order_id": order_id}), at).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(o)
                }

                async fn ledger_buckets(&self, account_id: &str) -> StoreResult<Vec<BucketBalance>> {
                    let rows: Vec<(String, String, i64)> = sqlx::query_as(&$sql(
                        "SELECT currency, bucket, CAST(SUM(amount_minor) AS BIGINT) FROM ledger_entries
                         WHERE account_id = $1 GROUP BY currency, bucket",
                    ))
                    .bind(account_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    let mut out: std::collections::BTreeMap<String, BucketBalance> = Default::default();
                    for (currency, bucket, sum) in rows {
                        let b = out.entry(currency.clone()).or_insert(BucketBalance {
                            currency,
                            pending: 0,
                            available: 0,
                            paid_out: 0,
                        });
                        if bucket == Bucket::Pending.as_str() {
                            b.pending += sum;
                        } else if bucket == Bucket::PaidOut.as_str() {
                            b.paid_out += sum;
                        } else {
                            b.available += sum;
                        }
                    }
                    Ok(out.into_values().collect())
                }

                async fn pay_out(
                    &self,
                    account_id: &str,
                    currency: &str,
                    amount: Option<i64>,
                    ledger_id: &str,
                    at: Timestamp,
                ) -> StoreResult<i64> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    // The account's row lock serializes its payouts.
                    let n = sqlx::query(&$sql("UPDATE accounts SET name = name WHERE id = $1"))
                        .bind(account_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected();
                    if n != 1 {
                        return Err(StoreError::NotFound);
                    }
                    let available: i64 = sqlx::query_scalar(&$sql(
                        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM ledger_entries
                         WHERE account_id = $1 AND currency = $2 AND bucket = 'available'",
                    ))
                    .bind(account_id)
                    .bind(currency)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    let amount = amount.unwrap_or(available);
                    if amount <= 0 || amount > available {
                        return Err(Conflict::PayoutExceedsAvailable { available: available.max(0) }.into());
                    }
                    sqlx::query(&$sql(
                        "INSERT INTO ledger_transactions (id, order_id, payment_ref, created_at) VALUES ($1, NULL, 'payout', $2)",
                    ))
                    .bind(ledger_id)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    for (sign, bucket) in [(-1, Bucket::Available), (1, Bucket::PaidOut)] {
                        sqlx::query(&$sql(
                            "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount_minor, memo, bucket) VALUES ($1, $2, $3, $4, 'payout', $5)",
                        ))
                        .bind(ledger_id)
                        .bind(account_id)
                        .bind(currency)
                        .bind(sign * amount)
                        .bind(bucket.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)?;
                    Ok(amount)
                }
            }
        }
    };
}
