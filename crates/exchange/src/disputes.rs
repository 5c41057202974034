//! Disputes: the requester opens the order's one dispute, its parties and
//! operators talk, an operator resolves it with a refund (through the same
//! reserved-refund path as any refund) or rejects it.

use crate::convert;
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::service::*;
use crate::Exchange;
use serde_json::json;
use symbolon_api as api;
use symbolon_core::ids::prefix;
use symbolon_core::state::{
    Actor, DisputeKind, DisputeStatus, OrderAction, RefundKind, Role, TransitionRefused,
};
use symbolon_core::ErrorCode;
use symbolon_store::{self as store, Conflict, StoreError};

use crate::lifecycle::{invalid_transition, reason};

impl Exchange {
    /// `POST /v1/orders/{id}/disputes`: the requester opens the order's one dispute.
    pub async fn open_dispute(
        &self,
        me: &store::Account,
        id: &str,
        req: &api::OpenDispute,
    ) -> ExchangeResult<api::Dispute> {
        let kind = DisputeKind::parse(&req.kind)
            .ok_or_else(|| ExchangeError::field("kind", "one of not_received, not_as_described"))?;
        let reason = reason("reason", &req.reason)?;
        let (o, _) = self
            .order_for_step(me, id, OrderAction::OpenDispute)
            .await?;
        let d = self
            .store
            .open_dispute(&store::Dispute {
                id: self.new_id(prefix::DISPUTE),
                order_id: o.id.clone(),
                requester_id: o.requester_id.clone(),
                provider_id: o.provider_id.clone(),
                kind,
                reason,
                status: DisputeStatus::Open,
                resolution: None,
                refund_minor: None,
                resolved_by: None,
                created_at: self.now(),
                resolved_at: None,
                seq: 0,
            })
            .await
            .map_err(|e| self.step_error(e, &o))?;
        self.hub.kick();
        tracing::info!(order_id = %o.id, dispute_id = %d.id, kind = %kind, "dispute opened");
        self.dispute_view(&d, &o.currency).await
    }

    async fn dispute_view(
        &self,
        d: &store::Dispute,
        currency: &str,
    ) -> ExchangeResult<api::Dispute> {
        let messages = self.store.dispute_messages(&d.id).await?;
        let mut v = dispute_summary(d, currency);
        v.messages = messages
            .into_iter()
            .map(|m| api::DisputeMessage {
                id: m.id,
                author_id: m.author_id,
                role: m.role,
                body: m.body,
                created_at: convert::ts(m.created_at),
            })
            .collect();
        Ok(v)
    }

    /// The dispute, if `me` is its requester, its provider or an operator,
    /// and the part `me` plays.
    async fn dispute_as(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<(store::Dispute, store::Order, Actor)> {
        let d = self.store.dispute(id).await.or_not_found("dispute")?;
        let actor = if d.requester_id == me.id && me.has_role(Role::Requester) {
            Actor::Requester
        } else if d.provider_id == me.id && me.has_role(Role::Provider) {
            Actor::Provider
        } else if me.has_role(Role::Operator) {
            Actor::Operator
        } else {
            return Err(ExchangeError::forbidden(
                "only the dispute's requester and provider, and operators, see it",
            ));
        };
        let o = self.store.order(&d.order_id).await?;
        Ok((d, o, actor))
    }

    pub async fn dispute(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Dispute> {
        let (d, o, _) = self.dispute_as(me, id).await?;
        self.dispute_view(&d, &o.currency).await
    }

    /// `POST /v1/disputes/{id}/messages`.
    pub async fn dispute_message(
        &self,
        me: &store::Account,
        id: &str,
        req: &api::CreateDisputeMessage,
    ) -> ExchangeResult<api::DisputeMessage> {
        let body = reason("body", &req.body)?;
        let (d, _, actor) = self.dispute_as(me, id).await?;
        let m = self
            .store
            .add_dispute_message(&store::DisputeMessage {
                id: self.new_id(prefix::DISPUTE_MESSAGE),
                dispute_id: d.id.clone(),
                author_id: me.id.clone(),
                role: actor.as_str().to_string(),
                body,
                created_at: self.now(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(Conflict::DisputeClosed) => ExchangeError::new(
                    ErrorCode::InvalidState,
                    "the dispute is closed: it takes no more messages",
                ),
                other => other.into(),
            })?;
        self.hub.kick();
        Ok(api::DisputeMessage {
            id: m.id,
            author_id: m.author_id,
            role: m.role,
            body: m.body,
            created_at: convert::ts(m.created_at),
        })
    }

    /// `POST /v1/disputes/{id}/resolve`: an operator refunds (in full or in
    /// part) or rejects.
    pub async fn resolve_dispute(
        &self,
        me: &store::Account,
        id: &str,
        req: &api::ResolveDispute,
    ) -> ExchangeResult<api::Dispute> {
        require(me, Role::Operator)?;
        let reason = reason("reason", &req.reason)?;
        let (d, o, _) = self.dispute_as(me, id).await?;
        if d.status != DisputeStatus::Open {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                format!("the dispute is already {}", d.status),
            ));
        }
        match req.refund.as_deref() {
            Some(amount) => {
                let amount = Self::amount_in("refund", amount, &o.currency)?;
                let o = o.clone().as_of(self.now());
                if let Err(TransitionRefused::FromState(s)) =
                    o.status.check(OrderAction::ResolveDispute, Actor::Operator)
                {
                    return Err(invalid_transition(
                        s,
                        format!("the order is {s}: nothing can be refunded"),
                    ));
                }
                self.refund_through_gateway(
                    &o,
                    RefundKind::Dispute,
                    Some(amount),
                    reason,
                    me,
                    Some(d.id.clone()),
                    None,
                )
                .await
                .map_err(|mut e| {
                    if e.code == ErrorCode::RefundExceedsPaid {
                        e.message = e.message.replacen("amount:", "refund:", 1);
                        e.details = Some(json!({"field": "refund", "refundable": e.details.as_ref().and_then(|d| d.get("refundable")).cloned()}));
                    }
                    e
                })?;
            }
            None => {
                self.store
                    .reject_dispute(&d.id, &me.id, &reason, self.now())
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict(Conflict::DisputeClosed) => ExchangeError::new(
                            ErrorCode::InvalidState,
                            "the dispute is already closed",
                        ),
                        other => other.into(),
                    })?;
                self.hub.kick();
            }
        }
        let d = self.store.dispute(&d.id).await?;
        tracing::info!(dispute_id = %d.id, operator = %me.id, status = %d.status, "dispute closed");
        self.dispute_view(&d, &o.currency).await
    }

    /// `GET /v1/disputes` (operators): oldest first, optionally by status.
    pub async fn disputes(
        &self,
        me: &store::Account,
        status: Option<&str>,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::DisputeList> {
        require(me, Role::Operator)?;
        let status = status
            .map(|s| {
                DisputeStatus::parse(s).ok_or_else(|| {
                    ExchangeError::new(
                        ErrorCode::InvalidQuery,
                        "status: one of open, resolved, rejected",
                    )
                    .with_details(json!({"field": "status"}))
                })
            })
            .transpose()?;
        let page = page(after, limit)?;
        let items = self.store.disputes(status, &page).await?;
        let next = (items.len() as u32 == page.limit)
            .then(|| items.last().map(|d| d.seq.to_string()))
            .flatten();
        let mut out = Vec::with_capacity(items.len());
        for d in &items {
            let o = self.store.order(&d.order_id).await?;
            out.push(dispute_summary(d, &o.currency));
        }
        Ok(api::DisputeList { items: out, next })
    }
}

/// A dispute without its messages.
fn dispute_summary(d: &store::Dispute, currency: &str) -> api::Dispute {
    api::Dispute {
        id: d.id.clone(),
        order_id: d.order_id.clone(),
        requester_id: d.requester_id.clone(),
        provider_id: d.provider_id.clone(),
        kind: d.kind.as_str().to_string(),
        reason: d.reason.clone(),
        status: d.status.as_str().to_string(),
        resolution: d.resolution.clone(),
        refund: d.refund_minor.map(|m| convert::money(m, currency)),
        created_at: convert::ts(d.created_at),
        resolved_at: d.resolved_at.map(convert::ts),
        messages: Vec::new(),
    }
}
