//! After the sale: cancellations, refunds through the payment gateway,
//! delivery, returns, settlement, balances and payouts (disputes and their
//! operators: `disputes.rs`). Who may take which step comes from the one lifecycle table
//! (`core::state::ORDER_TRANSITIONS`); the store holds the states.

use crate::convert;
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::payment::PaymentError;
use crate::Exchange;
use serde_json::json;
use std::collections::BTreeMap;
use symbolon_api as api;
use symbolon_core::demand::validate_text;
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::state::{Actor, OrderAction, OrderStatus, RefundKind, Role, TransitionRefused};
use symbolon_core::{ErrorCode, Money};
use symbolon_store::{self as store, Conflict, StoreError};

pub(crate) fn reason(field: &str, s: &str) -> ExchangeResult<String> {
    Ok(validate_text(field, s, MAX_REASON_CHARS, false)?)
}

/// `409 invalid_transition` naming the order's state.
pub(crate) fn invalid_transition(status: OrderStatus, message: impl Into<String>) -> ExchangeError {
    ExchangeError::new(ErrorCode::InvalidTransition, message)
        .with_details(json!({"status": status.as_str()}))
}

impl Exchange {
    /// The order, if `me` is one of its parties, and the part `me` plays.
    async fn order_as(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<(store::Order, Option<Actor>)> {
        let o = self
            .store
            .order(id)
            .await
            .or_not_found("order")?
            .as_of(self.now());
        let actor = if o.requester_id == me.id && me.has_role(Role::Requester) {
            Some(Actor::Requester)
        } else if o.provider_id == me.id && me.has_role(Role::Provider) {
            Some(Actor::Provider)
        } else if me.has_role(Role::Operator) {
            Some(Actor::Operator)
        } else if o.holder_id.as_deref() == Some(me.id.as_str()) {
            Some(Actor::Holder)
        } else {
            None
        };
        Ok((o, actor))
    }

    /// Checks `action` against the lifecycle table for `me`.
    pub(crate) async fn order_for_step(
        &self,
        me: &store::Account,
        id: &str,
        action: OrderAction,
    ) -> ExchangeResult<(store::Order, Actor)> {
        let (o, actor) = self.order_as(me, id).await?;
        let Some(actor) = actor else {
            return Err(ExchangeError::forbidden(
                "the order belongs to other accounts",
            ));
        };
        match o.status.check(action, actor) {
            Ok(_) => Ok((o, actor)),
            Err(TransitionRefused::NotBy(a)) => Err(ExchangeError::forbidden(format!(
                "the {a} of an order may not {}",
                action.as_str().replace('_', " ")
            ))),
            Err(TransitionRefused::FromState(s)) => Err(invalid_transition(
                s,
                format!(
                    "the order is {s}: it cannot {} (allowed from: {})",
                    action.as_str().replace('_', " "),
                    OrderStatus::sources(action)
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// A store error of a step on `o`, with the order's state named.
    pub(crate) fn step_error(&self, e: StoreError, o: &store::Order) -> ExchangeError {
        match e {
            StoreError::Conflict(Conflict::InvalidTransition(s)) => {
                invalid_transition(s, format!("the order is {s} now"))
            }
            StoreError::Conflict(Conflict::RefundExceedsPaid { refundable }) => {
                let left = convert::money(refundable, &o.currency);
                ExchangeError::new(
                    ErrorCode::RefundExceedsPaid,
                    format!(
                        "amount: with the refunds before it, this would exceed the amount paid; {} {} is left to refund",
                        left.amount, left.currency
                    ),
                )
                .with_details(json!({"field": "amount", "refundable": left}))
            }
            StoreError::Conflict(
                c @ (Conflict::ReturnExists
                | Conflict::ReturnWindowClosed
                | Conflict::NoReturnRequested
                | Conflict::DisputeExists),
            ) => invalid_transition(o.status, c.to_string()),
            other => other.into(),
        }
    }

    /// A step's outcome as answered: the store's refusal with the order's
    /// state named, or the changed order (streams woken) as `actor` sees it.
    fn stepped(
        &self,
        done: Result<store::Order, StoreError>,
        o: &store::Order,
        actor: Actor,
    ) -> ExchangeResult<api::Order> {
        let changed = done.map_err(|e| self.step_error(e, o))?;
        self.hub.kick();
        Ok(self.order_view(&changed, actor))
    }

    /// `now` minus `d`: where a window of length `d` ending now starts.
    fn ago(&self, d: std::time::Duration) -> symbolon_core::Timestamp {
        self.now().plus_millis(-(d.as_millis() as i64))
    }

    fn order_view(&self, o: &store::Order, actor: Actor) -> api::Order {
        match actor {
            Actor::Holder => convert::order_for_holder(o, self.config.return_window),
            _ => convert::order(o, self.config.return_window),
        }
    }

    /// `amount` in the order's currency, more than zero.
    pub(crate) fn amount_in(field: &str, amount: &str, currency: &str) -> ExchangeResult<i64> {
        // The schema states the form; how many fraction digits the order's
        // currency allows it cannot.
        let m = Money::parse(amount, currency).map_err(|e| {
            let (int, frac) = amount.split_once('.').unwrap_or((amount, "1"));
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if digits(int) && digits(frac) && frac.len() <= 4 {
                ExchangeError::value(field, e)
            } else {
                ExchangeError::field(field, e)
            }
        })?;
        if m.minor <= 0 {
            return Err(ExchangeError::field(field, "must be more than zero"));
        }
        Ok(m.minor)
    }

    /// Reserves a refund, has the gateway make it, and completes it: the
    /// ledger and the order's state move in one transaction with the
    /// refund's record. A refusal by the gateway releases the reservation
    /// (`502 refund_failed`); a gateway that does not answer leaves it
    /// pending for the sweeper to retry with the same reference.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn refund_through_gateway(
        &self,
        o: &store::Order,
        kind: RefundKind,
        amount: Option<i64>,
        reason: String,
        by: &store::Account,
        dispute_id: Option<String>,
        unit_return: Option<store::UnitTransfer>,
    ) -> ExchangeResult<(store::Refund, store::Order)> {
        // A run of this request cut off after its reservation: finish that one.
        if let Some(earlier) = self
            .made_by_earlier_run(
                prefix::REFUND,
                |id| async move { self.store.refund(&id).await },
            )
            .await
        {
            return match earlier.status {
                symbolon_core::state::RefundStatus::Succeeded => {
                    let order = self.store.order(&o.id).await?;
                    Ok((earlier, order))
                }
                symbolon_core::state::RefundStatus::Pending => {
                    self.finish_refund(o, &earlier, unit_return).await
                }
                symbolon_core::state::RefundStatus::Failed => Err(ExchangeError::new(
                    ErrorCode::RefundFailed,
                    "the payment gateway refused the refund; nothing was refunded",
                )),
            };
        }
        let from = match kind {
            RefundKind::Refund => OrderStatus::sources(OrderAction::Refund),
            RefundKind::Cancel => vec![OrderStatus::Paid],
            RefundKind::Dispute => OrderStatus::sources(OrderAction::ResolveDispute),
        };
        let claim = self
            .store
            .claim_refund(
                &store::NewRefund {
                    id: self.new_id(prefix::REFUND),
                    order_id: o.id.clone(),
                    kind,
                    amount_minor: amount,
                    reason,
                    by_id: by.id.clone(),
                    dispute_id,
                    at: self.now(),
                },
                &from,
            )
            .await
            .map_err(|e| self.step_error(e, o))?;
        self.finish_refund(o, &claim, unit_return).await
    }

    /// The gateway's part of a reserved refund, then its completion.
    async fn finish_refund(
        &self,
        o: &store::Order,
        claim: &store::Refund,
        unit_return: Option<store::UnitTransfer>,
    ) -> ExchangeResult<(store::Refund, store::Order)> {
        let amount = Money::parse(
            &convert::money(claim.amount_minor, &o.currency).amount,
            &o.currency,
        )
        .map_err(ExchangeError::internal)?;
        let payment = o.payment_ref.clone().unwrap_or_default();
        match self.gateway.refund(&payment, amount, &claim.id).await {
            Ok(gateway_ref) => {
                let done = store::RefundDone {
                    refund_id: claim.id.clone(),
                    gateway_ref,
                    ledger_id: self.new_id(prefix::LEDGER),
                    unit_return,
                    at: self.now(),
                };
                let (refund, order) = match self.store.complete_refund(&done).await {
                    // A unit handed on meanwhile: the money still goes back.
                    Err(StoreError::Conflict(Conflict::UnitAlreadySold))
                        if done.unit_return.is_some() =>
                    {
                        self.store
                            .complete_refund(&store::RefundDone {
                                unit_return: None,
                                ..done
                            })
                            .await?
                    }
                    other => other?,
                };
                self.hub.kick();
                tracing::info!(order_id = %o.id, refund_id = %refund.id, kind = %refund.kind, amount_minor = refund.amount_minor, commission_reversed_minor = refund.commission_reversed_minor, status = %order.status, "refund completed");
                Ok((refund, order))
            }
            Err(PaymentError::Unavailable(e)) => {
                tracing::warn!(order_id = %o.id, refund_id = %claim.id, error = %e, "the gateway did not answer a refund; the sweeper retries it");
                Err(ExchangeError::new(
                    ErrorCode::Unavailable,
                    "the payment gateway did not answer; the refund stays reserved and is retried automatically",
                ))
            }
            Err(e) => {
                self.store.fail_refund(&claim.id, self.now()).await?;
                tracing::warn!(order_id = %o.id, refund_id = %claim.id, error = %e, "refund refused by the gateway");
                Err(ExchangeError::new(
                    ErrorCode::RefundFailed,
                    format!("{e}; nothing was refunded and the order is unchanged"),
                ))
            }
        }
    }

    /// Retries refunds left pending by a stop between their reservation and
    /// the gateway's answer (the sweeper); the same reference refunds once.
    pub async fn retry_stale_refunds(&self) -> ExchangeResult<u64> {
        let before = self.ago(std::time::Duration::from_secs(STALE_REFUND_SECONDS));
        let stale = self
            .store
            .stale_refunds(before, LIFECYCLE_SWEEP_BATCH)
            .await?;
        let mut n = 0;
        for claim in stale {
            let o = self.store.order(&claim.order_id).await?;
            match self.finish_refund(&o, &claim, None).await {
                Ok(_) => n += 1,
                Err(e) => {
                    tracing::warn!(refund_id = %claim.id, error = %e.message, "retrying a pending refund")
                }
            }
        }
        Ok(n)
    }

    /// `POST /v1/orders/{id}/cancel`: an unpaid order is cancelled; a paid,
    /// unshipped one is refunded in full, its stock and unit restored.
    pub async fn cancel_order(
        &self,
        me: &store::Account,
        id: &str,
        req: &api::Reason,
    ) -> ExchangeResult<api::Order> {
        let reason = reason("reason", &req.reason)?;
        if let Some((_, order, actor)) = self.refund_of_earlier_run(me, id).await? {
            return Ok(self.order_view(&order, actor));
        }
        let (o, actor) = self.order_for_step(me, id, OrderAction::Cancel).await?;
        let order = if o.status == OrderStatus::Placed {
            let c = self
                .store
                .cancel_unpaid(&o.id, &me.id, &reason, self.now())
                .await
                .map_err(|e| self.step_error(e, &o))?;
            self.hub.kick();
            c
        } else {
            let unit_return = self.unit_return(&o).await?;
            self.refund_through_gateway(&o, RefundKind::Cancel, None, reason, me, None, unit_return)
                .await?
                .1
        };
        tracing::info!(order_id = %id, by = %me.id, status = %order.status, "order cancelled");
        Ok(self.order_view(&order, actor))
    }

    /// The signed statement handing a cancelled order's unit back to its
    /// holder, if it has one and its buyer still owns it.
    async fn unit_return(&self, o: &store::Order) -> ExchangeResult<Option<store::UnitTransfer>> {
        let (Some(unit_no), Some(holder)) = (o.unit_no, o.holder_id.as_deref()) else {
            return Ok(None);
        };
        let history = self.store.unit_history(&o.pass_id, unit_no).await?;
        let Some(last) = history.last() else {
            return Ok(None);
        };
        if last.to_id != o.requester_id {
            return Err(invalid_transition(
                o.status,
                "the unit of this order was passed on by its buyer: it can no longer be cancelled",
            ));
        }
        let pass = self.store.pass(&o.pass_id).await?;
        Ok(Some(
            self.signed_transfer(
                &pass,
                unit_no,
                last.seq + 1,
                &o.requester_id,
                holder,
                &last.jws,
                self.now(),
                Some(holder),
            )
            .await?,
        ))
    }

    /// The refund a run of this request cut off before its answer was
    /// stored already completed (with its order and `me`'s part), if any:
    /// the retry answers it instead of checking the order's new state.
    async fn refund_of_earlier_run(
        &self,
        me: &store::Account,
        order_id: &str,
    ) -> ExchangeResult<Option<(store::Refund, store::Order, Actor)>> {
        let Some(earlier) = self
            .made_by_earlier_run(
                prefix::REFUND,
                |id| async move { self.store.refund(&id).await },
            )
            .await
        else {
            return Ok(None);
        };
        if earlier.order_id != order_id
            || earlier.by_id != me.id
            || earlier.status != symbolon_core::state::RefundStatus::Succeeded
        {
            return Ok(None);
        }
        let (order, actor) = self.order_as(me, order_id).await?;
        Ok(actor.map(|a| (earlier, order, a)))
    }

    /// `POST /v1/orders/{id}/refunds`: the provider refunds part or all of
    /// what is left.
    pub async fn refund_order(
        &self,
        me: &store::Account,
        id: &str,
        req: &api::CreateRefund,
    ) -> ExchangeResult<api::Refund> {
        let reason = reason("reason", &req.reason)?;
        if let Some((refund, order, actor)) = self.refund_of_earlier_run(me, id).await? {
            return Ok(self.refund_view(&refund, &order, actor));
        }
        let (o, actor) = self.order_for_step(me, id, OrderAction::Refund).await?;
        let amount = req
            .amount
            .as_deref()
            .map(|a| Self::amount_in("amount", a, &o.currency))
            .transpose()?;
        let (refund, order) = self
            .refund_through_gateway(&o, RefundKind::Refund, amount, reason, me, None, None)
            .await?;
        Ok(self.refund_view(&refund, &order, actor))
    }

    fn refund_view(&self, r: &store::Refund, o: &store::Order, actor: Actor) -> api::Refund {
        api::Refund {
            id: r.id.clone(),
            order_id: r.order_id.clone(),
            kind: r.kind.as_str().to_string(),
            amount: convert::money(r.amount_minor, &o.currency),
            reason: r.reason.clone(),
            status: r.status.as_str().to_string(),
            commission_reversed: convert::money(r.commission_reversed_minor, &o.currency),
            created_at: convert::ts(r.created_at),
            order: self.order_view(o, actor),
        }
    }

    /// `POST /v1/orders/{id}/delivered`: the requester confirms delivery.
    pub async fn confirm_delivery(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<api::Order> {
        let (o, actor) = self.order_for_step(me, id, OrderAction::Deliver).await?;
        let done = self.store.deliver(&o.id, actor, self.now()).await;
        self.stepped(done, &o, actor)
    }

    /// `POST /v1/orders/{id}/return`: within the return window after delivery.
    pub async fn request_return(
        &self,
        me: &store::Account,
        id: &str,
        req: &api::Reason,
    ) -> ExchangeResult<api::Order> {
        let reason = reason("reason", &req.reason)?;
        let (o, actor) = self
            .order_for_step(me, id, OrderAction::RequestReturn)
            .await?;
        let (now, window_start) = (self.now(), self.ago(self.config.return_window));
        let done = self
            .store
            .request_return(&o.id, &reason, window_start, now)
            .await;
        self.stepped(done, &o, actor)
    }

    /// `POST /v1/orders/{id}/return/accept` and `…/refuse`: the provider answers.
    pub async fn answer_return(
        &self,
        me: &store::Account,
        id: &str,
        accept: bool,
    ) -> ExchangeResult<api::Order> {
        let action = if accept {
            OrderAction::AcceptReturn
        } else {
            OrderAction::RefuseReturn
        };
        let (o, actor) = self.order_for_step(me, id, action).await?;
        let done = self.store.answer_return(&o.id, accept, self.now()).await;
        self.stepped(done, &o, actor)
    }

    /// Delivers orders shipped longer ago than `auto_deliver_after`, and
    /// settles delivered ones whose return window has passed (the sweeper).
    pub async fn advance_orders(&self) -> ExchangeResult<(u64, u64)> {
        let now = self.now();
        let delivered = self
            .store
            .deliver_overdue(
                self.ago(self.config.auto_deliver_after),
                now,
                LIFECYCLE_SWEEP_BATCH,
            )
            .await?;
        let settled = self
            .store
            .settle_matured(
                self.ago(self.config.return_window),
                now,
                LIFECYCLE_SWEEP_BATCH,
            )
            .await?;
        if delivered + settled > 0 {
            self.hub.kick();
        }
        Ok((delivered, settled))
    }

    /// The account's ledger per currency, by bucket; the total is their sum
    /// (one read: every entry is in exactly one bucket).
    pub async fn balances(&self, me: &store::Account) -> ExchangeResult<api::Balances> {
        let buckets = self.store.ledger_buckets(&me.id).await?;
        let mut b = api::Balances {
            balances: BTreeMap::new(),
            pending: BTreeMap::new(),
            available: BTreeMap::new(),
            paid_out: BTreeMap::new(),
            owes: BTreeMap::new(),
        };
        for x in buckets {
            let c = x.currency.as_str();
            let amount = |minor: i64| convert::money(minor, c).amount;
            b.balances
                .insert(c.to_string(), amount(x.pending + x.available + x.paid_out));
            b.pending.insert(c.to_string(), amount(x.pending));
            b.available.insert(c.to_string(), amount(x.available));
            b.paid_out.insert(c.to_string(), amount(x.paid_out));
            if x.available < 0 {
                b.owes.insert(c.to_string(), amount(-x.available));
            }
        }
        Ok(b)
    }

    /// `POST /v1/payouts`: pays available money out of the exchange.
    pub async fn payout(
        &self,
        me: &store::Account,
        req: &api::CreatePayout,
    ) -> ExchangeResult<api::Payout> {
        let currency = symbolon_core::Currency::parse(&req.currency)
            .map_err(|e| ExchangeError::field("currency", e))?;
        let amount = req
            .amount
            .as_deref()
            .map(|a| Self::amount_in("amount", a, currency.as_str()))
            .transpose()?;
        let paid = self
            .store
            .pay_out(
                &me.id,
                currency.as_str(),
                amount,
                &self.new_id(prefix::LEDGER),
                self.now(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(Conflict::PayoutExceedsAvailable { available }) => {
                    let left = convert::money(available, currency.as_str());
                    ExchangeError::new(
                        ErrorCode::PayoutExceedsAvailable,
                        format!(
                            "amount: only {} {} is available to pay out",
                            left.amount, left.currency
                        ),
                    )
                    .with_details(json!({"field": "amount", "available": left}))
                }
                other => other.into(),
            })?;
        tracing::info!(account_id = %me.id, amount_minor = paid, currency = %currency.as_str(), "payout");
        Ok(api::Payout {
            amount: convert::money(paid, currency.as_str()),
            balances: self.balances(me).await?,
        })
    }
}
