//! Lifecycles: the states of passes, interactions, offers, demands and orders,
//! and the transitions each allows.

use serde::{Deserialize, Serialize};

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($v:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v,)* }
        impl $name {
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s,)* } }
            pub fn parse(s: &str) -> Option<Self> { match s { $($s => Some($name::$v),)* _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

str_enum! {
    /// Account roles; an account may have several. `operator` (resolving
    /// disputes) is never open to registration: the server's admin command
    /// creates it.
    Role { Provider = "provider", Holder = "holder", Requester = "requester", Operator = "operator" }
}

str_enum! {
    /// How a pass is distributed: a licence to everyone (shareable) or a finite set of owned units (unique).
    PassMode { Shareable = "shareable", Unique = "unique" }
}

str_enum! {
    /// An interaction request sent to a holder.
    /// `pending → offered | declined | expired | withdrawn`; the last four are final.
    /// `withdrawn`: the requester accepted another holder's offer first, or
    /// cancelled the demand; it does not count in the holder's success rate.
    /// A holder may give a reason with a decline (shown to the requester).
    InteractionStatus { Pending = "pending", Offered = "offered", Declined = "declined", Expired = "expired", Withdrawn = "withdrawn" }
}

impl InteractionStatus {
    /// The status as seen at `now`: a pending request past its deadline is expired.
    pub fn at(self, deadline_ms: i64, now_ms: i64) -> Self {
        if self == Self::Pending && now_ms >= deadline_ms {
            Self::Expired
        } else {
            self
        }
    }
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
    /// Whether it counts in the success rate's denominator (offered, declined or expired).
    pub fn is_decided(self) -> bool {
        matches!(self, Self::Offered | Self::Declined | Self::Expired)
    }
}

str_enum! {
    /// An offer: `offered → accepted` (one offer per demand may be accepted).
    OfferStatus { Offered = "offered", Accepted = "accepted" }
}

str_enum! {
    /// A demand: `waiting` (a standing demand nobody was contacted for yet)
    /// until enough holders qualify, then `open` while holders may answer,
    /// `closed` after its deadline, `accepted` once the requester accepted an
    /// offer; a waiting demand whose deadline passed is `expired`. The
    /// requester may `cancel` a waiting, open or closed demand: it is then
    /// `cancelled` (final) — no more requests go out, the pending ones are
    /// withdrawn, and none of its offers can be accepted.
    DemandStatus { Waiting = "waiting", Open = "open", Closed = "closed", Accepted = "accepted", Expired = "expired", Cancelled = "cancelled" }
}

impl DemandStatus {
    /// A demand's state at `now_ms` from what is stored: whether an offer was
    /// accepted, whether it was cancelled, whether it still waits for holders,
    /// and its deadline.
    pub fn derive(
        accepted: bool,
        cancelled: bool,
        waiting: bool,
        deadline_ms: i64,
        now_ms: i64,
    ) -> Self {
        let past = now_ms >= deadline_ms;
        match (accepted, cancelled, waiting, past) {
            (true, _, _, _) => Self::Accepted,
            (false, true, _, _) => Self::Cancelled,
            (false, false, true, true) => Self::Expired,
            (false, false, true, false) => Self::Waiting,
            (false, false, false, true) => Self::Closed,
            (false, false, false, false) => Self::Open,
        }
    }

    /// Whether the requester may cancel it: waiting, open, or closed with
    /// offers it could still accept. An accepted, expired or cancelled demand
    /// is finished.
    pub fn can_cancel(self) -> bool {
        matches!(self, Self::Waiting | Self::Open | Self::Closed)
    }
}

str_enum! {
    /// An order's state; [`ORDER_TRANSITIONS`] is the whole lifecycle.
    OrderStatus {
        Placed = "placed", Paid = "paid", Shipped = "shipped", Delivered = "delivered",
        Cancelled = "cancelled", Refunded = "refunded", Expired = "expired"
    }
}

str_enum! {
    /// What can happen to an order.
    OrderAction {
        Pay = "pay", Ship = "ship", Expire = "expire", Cancel = "cancel", Refund = "refund",
        Deliver = "deliver", RequestReturn = "request_return", AcceptReturn = "accept_return",
        RefuseReturn = "refuse_return", OpenDispute = "open_dispute", ResolveDispute = "resolve_dispute"
    }
}

str_enum! {
    /// Who takes an order transition: one of its parties, an operator of the
    /// exchange, or the exchange itself (the sweeper).
    Actor { Requester = "requester", Provider = "provider", Holder = "holder", Operator = "operator", Exchange = "exchange" }
}

str_enum! {
    /// Where a return stands: `requested` by the requester within the return
    /// window after delivery, then `accepted` or `refused` by the provider;
    /// an accepted return becomes `refunded` with the provider's next refund.
    ReturnStatus { Requested = "requested", Accepted = "accepted", Refused = "refused", Refunded = "refunded" }
}

str_enum! {
    /// A dispute: `open` until an operator resolves it with a refund
    /// (`resolved`) or without one (`rejected`).
    DisputeStatus { Open = "open", Resolved = "resolved", Rejected = "rejected" }
}

str_enum! {
    /// Why a requester opens a dispute.
    DisputeKind { NotReceived = "not_received", NotAsDescribed = "not_as_described" }
}

str_enum! {
    /// What a refund is for: a provider's refund, the full refund of a
    /// cancellation, or an operator's refund resolving a dispute.
    RefundKind { Refund = "refund", Cancel = "cancel", Dispute = "dispute" }
}

str_enum! {
    /// A refund is `pending` from the moment its amount is reserved against
    /// the order until the payment gateway answers: `succeeded` (the ledger
    /// is posted in the same transaction) or `failed` (the reservation is
    /// released and nothing was refunded).
    RefundStatus { Pending = "pending", Succeeded = "succeeded", Failed = "failed" }
}

/// One allowed step of the order lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTransition {
    pub from: OrderStatus,
    pub action: OrderAction,
    /// The state it leads to. For `refund` and `resolve_dispute` it is where
    /// the refund that brings the refunded total to the amount paid leads; a
    /// partial refund keeps `from`. Returns and disputes keep `from` (they
    /// live beside the state, in `return_status` and the dispute).
    pub to: OrderStatus,
    /// Who may take it.
    pub by: &'static [Actor],
}

const fn step(
    from: OrderStatus,
    action: OrderAction,
    to: OrderStatus,
    by: &'static [Actor],
) -> OrderTransition {
    OrderTransition {
        from,
        action,
        to,
        by,
    }
}

use Actor as A;
use OrderAction as Do;
use OrderStatus as S;

/// The parties that may cancel an order.
const CANCELLERS: &[Actor] = &[A::Requester, A::Provider];
/// The parties that may refund.
const REFUNDERS: &[Actor] = &[A::Provider];

/// The order lifecycle, the one table every layer follows (the store's
/// conditional updates, the exchange's checks, the documentation):
///
/// | from | action | to | by |
/// | --- | --- | --- | --- |
/// | placed | pay | paid | requester |
/// | placed | expire | expired | exchange (`pay_by` passed) |
/// | placed | cancel | cancelled | requester, provider |
/// | paid | ship | shipped | provider |
/// | paid | cancel | cancelled (refunded in full; stock and unit restored) | requester, provider |
/// | paid, shipped, delivered | refund | same, or refunded once the refunds reach the amount paid | provider |
/// | shipped | deliver | delivered | requester, exchange (N days after shipping) |
/// | delivered | request_return | delivered (`return_status` requested; within the return window) | requester |
/// | delivered | accept_return, refuse_return | delivered | provider |
/// | paid, shipped, delivered | open_dispute | same (one dispute per order) | requester |
/// | paid, shipped, delivered | resolve_dispute | same, or refunded by a full refund | operator |
///
/// An order placed *and paid* in one click is born `paid`. Stock is taken
/// and a unique pass's unit changes hands only with the payment, so an unpaid
/// (`placed`) order holds nothing; it expires at its `pay_by`. Shipping an
/// unpaid order is refused. `cancelled`, `refunded` and `expired` are final.
pub const ORDER_TRANSITIONS: &[OrderTransition] = &[
    step(S::Placed, Do::Pay, S::Paid, &[A::Requester]),
    step(S::Placed, Do::Expire, S::Expired, &[A::Exchange]),
    step(S::Placed, Do::Cancel, S::Cancelled, CANCELLERS),
    step(S::Paid, Do::Ship, S::Shipped, &[A::Provider]),
    step(S::Paid, Do::Cancel, S::Cancelled, CANCELLERS),
    step(S::Paid, Do::Refund, S::Refunded, REFUNDERS),
    step(S::Shipped, Do::Refund, S::Refunded, REFUNDERS),
    step(S::Delivered, Do::Refund, S::Refunded, REFUNDERS),
    step(
        S::Shipped,
        Do::Deliver,
        S::Delivered,
        &[A::Requester, A::Exchange],
    ),
    step(
        S::Delivered,
        Do::RequestReturn,
        S::Delivered,
        &[A::Requester],
    ),
    step(S::Delivered, Do::AcceptReturn, S::Delivered, &[A::Provider]),
    step(S::Delivered, Do::RefuseReturn, S::Delivered, &[A::Provider]),
    step(S::Paid, Do::OpenDispute, S::Paid, &[A::Requester]),
    step(S::Shipped, Do::OpenDispute, S::Shipped, &[A::Requester]),
    step(S::Delivered, Do::OpenDispute, S::Delivered, &[A::Requester]),
    step(S::Paid, Do::ResolveDispute, S::Refunded, &[A::Operator]),
    step(S::Shipped, Do::ResolveDispute, S::Refunded, &[A::Operator]),
    step(
        S::Delivered,
        Do::ResolveDispute,
        S::Refunded,
        &[A::Operator],
    ),
];

/// Why an order transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionRefused {
    /// The action is not allowed from the order's state (`409 invalid_transition`).
    FromState(OrderStatus),
    /// Allowed from this state, but not by this party (`403 forbidden`).
    NotBy(Actor),
}

impl OrderStatus {
    /// Every state.
    pub const ALL: [OrderStatus; 7] = [
        Self::Placed,
        Self::Paid,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
        Self::Refunded,
        Self::Expired,
    ];

    /// The state `action` leads to from this one, and who may take it; `None`: not allowed.
    pub fn after(self, action: OrderAction) -> Option<(OrderStatus, &'static [Actor])> {
        ORDER_TRANSITIONS
            .iter()
            .find(|t| t.from == self && t.action == action)
            .map(|t| (t.to, t.by))
    }
    /// Whether `actor` may take `action` from this state; the state it leads to.
    /// A party that may take `action` from no state at all is refused as
    /// such (`NotBy`) whatever the state, so the order's state is never what
    /// answers it.
    pub fn check(
        self,
        action: OrderAction,
        actor: Actor,
    ) -> Result<OrderStatus, TransitionRefused> {
        let ever = ORDER_TRANSITIONS
            .iter()
            .any(|t| t.action == action && t.by.contains(&actor));
        if !ever {
            return Err(TransitionRefused::NotBy(actor));
        }
        match self.after(action) {
            None => Err(TransitionRefused::FromState(self)),
            Some((_, by)) if !by.contains(&actor) => Err(TransitionRefused::NotBy(actor)),
            Some((to, _)) => Ok(to),
        }
    }
    /// The states `action` may be taken from.
    pub fn sources(action: OrderAction) -> Vec<OrderStatus> {
        ORDER_TRANSITIONS
            .iter()
            .filter(|t| t.action == action)
            .map(|t| t.from)
            .collect()
    }
    pub fn can_pay(self) -> bool {
        self.after(OrderAction::Pay).is_some()
    }
    pub fn can_ship(self) -> bool {
        self.after(OrderAction::Ship).is_some()
    }
    /// No transition leaves it.
    pub fn is_final(self) -> bool {
        !ORDER_TRANSITIONS.iter().any(|t| t.from == self)
    }
    /// Whether the order was paid and not cancelled or refunded in full: it
    /// counts as a purchase.
    pub fn is_purchase(self) -> bool {
        matches!(self, Self::Paid | Self::Shipped | Self::Delivered)
    }
}

/// The commission reversed once `refunded` of an order's `total` has been
/// refunded: ⌊commission · refunded / total⌋ minor units. Each refund
/// reverses the difference between this after it and before it, so the
/// reversals sum to exactly this, and a refund of the whole total reverses
/// the whole commission. Inputs out of range are clamped.
pub fn commission_reversed(commission: i64, total: i64, refunded: i64) -> i64 {
    if total <= 0 || commission <= 0 || refunded <= 0 {
        return 0;
    }
    let refunded = refunded.min(total);
    ((commission as i128 * refunded as i128) / total as i128) as i64
}

str_enum! {
    /// Events of the order lifecycle beyond placing, paying, shipping and expiring.
    OrderEvent {
        Cancelled = "order.cancelled", Refunded = "order.refunded", Delivered = "order.delivered",
        Settled = "order.settled", ReturnRequested = "order.return_requested",
        ReturnAccepted = "order.return_accepted", ReturnRefused = "order.return_refused",
        DisputeOpened = "dispute.opened", DisputeMessage = "dispute.message",
        DisputeResolved = "dispute.resolved"
    }
}

impl OrderEvent {
    /// Who hears it. The holder hears what changes its commission (a
    /// cancellation, a refund, a delivery, the settlement), never a return's
    /// or a dispute's exchanges between buyer and provider; operators hear
    /// what needs them (a dispute opened, its messages).
    pub fn audience(self) -> &'static [Actor] {
        match self {
            Self::Cancelled | Self::Refunded | Self::Delivered => {
                &[A::Requester, A::Provider, A::Holder]
            }
            Self::Settled => &[A::Provider, A::Holder],
            Self::ReturnRequested | Self::ReturnAccepted | Self::ReturnRefused => {
                &[A::Requester, A::Provider]
            }
            Self::DisputeOpened | Self::DisputeMessage => &[A::Requester, A::Provider, A::Operator],
            Self::DisputeResolved => &[A::Requester, A::Provider],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_becomes_expired_at_deadline() {
        assert_eq!(
            InteractionStatus::Pending.at(100, 99),
            InteractionStatus::Pending
        );
        assert_eq!(
            InteractionStatus::Pending.at(100, 100),
            InteractionStatus::Expired
        );
        assert_eq!(
            InteractionStatus::Offered.at(100, 500),
            InteractionStatus::Offered
        );
    }

    #[test]
    fn demand_states_derive_from_what_is_stored() {
        use DemandStatus as D;
        let at =
            |accepted, cancelled, waiting, now| D::derive(accepted, cancelled, waiting, 100, now);
        assert_eq!(at(false, false, false, 99), D::Open);
        assert_eq!(at(false, false, false, 100), D::Closed);
        assert_eq!(at(false, false, true, 99), D::Waiting);
        assert_eq!(at(false, false, true, 100), D::Expired);
        assert_eq!(at(false, true, true, 99), D::Cancelled);
        assert_eq!(at(false, true, false, 500), D::Cancelled);
        // An accepted demand stays accepted, whatever else is stored.
        assert_eq!(at(true, false, false, 500), D::Accepted);
        assert_eq!(at(true, true, false, 5), D::Accepted);
        let cancellable: Vec<D> = [
            D::Waiting,
            D::Open,
            D::Closed,
            D::Accepted,
            D::Expired,
            D::Cancelled,
        ]
        .into_iter()
        .filter(|s| s.can_cancel())
        .collect();
        assert_eq!(cancellable, vec![D::Waiting, D::Open, D::Closed]);
        assert_eq!(D::parse("cancelled"), Some(D::Cancelled));
    }

    #[test]
    fn order_transitions() {
        assert!(OrderStatus::Placed.can_pay());
        assert!(!OrderStatus::Paid.can_pay());
        assert!(OrderStatus::Paid.can_ship());
        // Shipping an unpaid order is refused: it could never be paid afterwards.
        assert!(!OrderStatus::Placed.can_ship());
        assert!(!OrderStatus::Shipped.can_ship());
        assert!(!OrderStatus::Expired.can_pay());
        assert_eq!(
            OrderStatus::Placed.check(OrderAction::Expire, Actor::Exchange),
            Ok(OrderStatus::Expired)
        );
        assert_eq!(
            OrderStatus::Shipped.check(OrderAction::Cancel, Actor::Requester),
            Err(TransitionRefused::FromState(OrderStatus::Shipped))
        );
        assert_eq!(
            OrderStatus::Paid.check(OrderAction::Refund, Actor::Requester),
            Err(TransitionRefused::NotBy(Actor::Requester))
        );
        assert_eq!(
            OrderStatus::Shipped.check(OrderAction::Deliver, Actor::Exchange),
            Ok(OrderStatus::Delivered)
        );
        // A party that can never take the step: refused as such in every state.
        for s in OrderStatus::ALL {
            assert_eq!(
                s.check(OrderAction::AcceptReturn, Actor::Requester),
                Err(TransitionRefused::NotBy(Actor::Requester)),
                "{s:?}"
            );
        }
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
    }

    /// The rules, written out independently of the table: the table
    /// must say exactly this for every state, action and party.
    fn expected(from: OrderStatus, action: OrderAction, by: Actor) -> Option<OrderStatus> {
        use Actor::*;
        use OrderAction::*;
        use OrderStatus::*;
        let paid_like = matches!(from, Paid | Shipped | Delivered);
        match (action, by) {
            (Pay, Requester) if from == Placed => Some(Paid),
            (Expire, Exchange) if from == Placed => Some(Expired),
            (Cancel, Requester | Provider) if matches!(from, Placed | Paid) => Some(Cancelled),
            (Ship, Provider) if from == Paid => Some(Shipped),
            (Refund, Provider) if paid_like => Some(Refunded),
            (Deliver, Requester | Exchange) if from == Shipped => Some(Delivered),
            (RequestReturn, Requester) if from == Delivered => Some(Delivered),
            (AcceptReturn | RefuseReturn, Provider) if from == Delivered => Some(Delivered),
            (OpenDispute, Requester) if paid_like => Some(from),
            (ResolveDispute, Operator) if paid_like => Some(Refunded),
            _ => None,
        }
    }

    const ACTIONS: [OrderAction; 11] = [
        OrderAction::Pay,
        OrderAction::Ship,
        OrderAction::Expire,
        OrderAction::Cancel,
        OrderAction::Refund,
        OrderAction::Deliver,
        OrderAction::RequestReturn,
        OrderAction::AcceptReturn,
        OrderAction::RefuseReturn,
        OrderAction::OpenDispute,
        OrderAction::ResolveDispute,
    ];
    const ACTORS: [Actor; 5] = [
        Actor::Requester,
        Actor::Provider,
        Actor::Holder,
        Actor::Operator,
        Actor::Exchange,
    ];

    #[test]
    fn the_table_says_what_the_rules_say() {
        for from in OrderStatus::ALL {
            for action in ACTIONS {
                for by in ACTORS {
                    assert_eq!(
                        from.check(action, by).ok(),
                        expected(from, action, by),
                        "{from} {action} by {by}"
                    );
                }
            }
        }
        // A holder takes no step of an order it brought.
        assert!(ORDER_TRANSITIONS
            .iter()
            .all(|t| !t.by.contains(&Actor::Holder)));
    }

    #[test]
    fn the_order_table_is_a_function_and_final_states_are_final() {
        for (i, a) in ORDER_TRANSITIONS.iter().enumerate() {
            for b in &ORDER_TRANSITIONS[i + 1..] {
                assert!(
                    !(a.from == b.from && a.action == b.action),
                    "two rows for {} {}",
                    a.from,
                    a.action
                );
            }
            assert!(!a.by.is_empty());
        }
        for s in [
            OrderStatus::Cancelled,
            OrderStatus::Refunded,
            OrderStatus::Expired,
        ] {
            assert!(s.is_final(), "{s}");
        }
        assert!(!OrderStatus::Placed.is_final());
        assert!(!OrderStatus::Delivered.is_final());
        // Every state is reachable from `placed` (or is where a one-click order is born).
        for s in OrderStatus::ALL {
            let reachable = s == OrderStatus::Placed
                || s == OrderStatus::Paid
                || ORDER_TRANSITIONS.iter().any(|t| t.to == s);
            assert!(reachable, "{s}");
        }
    }

    #[test]
    fn commission_reversals_sum_to_the_commission() {
        // Any sequence of refunds reverses ⌊C·R/T⌋ in total, and all of C at R = T.
        for (c, t) in [(0, 100), (1, 3), (7, 10), (333, 1000), (999, 1000), (5, 5)] {
            let mut refunded = 0;
            let mut reversed = 0;
            for step in [1, 2, 3, t] {
                let r = step.min(t - refunded);
                if r == 0 {
                    continue;
                }
                let before = commission_reversed(c, t, refunded);
                refunded += r;
                reversed += commission_reversed(c, t, refunded) - before;
                assert_eq!(reversed, c * refunded / t);
            }
            assert_eq!(refunded, t);
            assert_eq!(reversed, c);
        }
        assert_eq!(commission_reversed(i64::MAX, i64::MAX, i64::MAX), i64::MAX);
        assert_eq!(commission_reversed(10, 0, 5), 0);
    }

    #[test]
    fn events_reach_their_parties_only() {
        assert!(!OrderEvent::DisputeMessage
            .audience()
            .contains(&Actor::Holder));
        assert!(OrderEvent::Refunded.audience().contains(&Actor::Holder));
        assert!(!OrderEvent::ReturnRequested
            .audience()
            .contains(&Actor::Holder));
        for e in [OrderEvent::Cancelled, OrderEvent::DisputeResolved] {
            assert_eq!(OrderEvent::parse(e.as_str()), Some(e));
        }
    }
}
