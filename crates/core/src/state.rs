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
    /// Account roles; an account may have several.
    Role { Provider = "provider", Holder = "holder", Requester = "requester" }
}

str_enum! {
    /// How a pass is distributed: a licence to everyone (shareable) or a finite set of owned units (unique).
    PassMode { Shareable = "shareable", Unique = "unique" }
}

str_enum! {
    /// An interaction request sent to a holder.
    /// `pending → offered | declined | expired | withdrawn`; the last four are final.
    /// `withdrawn`: the requester accepted another holder's offer first; it does not
    /// count in the holder's success rate.
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
    /// A demand: `open` while holders may answer, `closed` after its deadline,
    /// `accepted` once the requester accepted an offer.
    DemandStatus { Waiting = "waiting", Open = "open", Closed = "closed", Accepted = "accepted", Expired = "expired" }
}

str_enum! {
    /// An order's state; [`ORDER_TRANSITIONS`] is the whole lifecycle.
    OrderStatus { Placed = "placed", Paid = "paid", Shipped = "shipped", Expired = "expired" }
}

str_enum! {
    /// What can happen to an order.
    OrderAction { Pay = "pay", Ship = "ship", Expire = "expire" }
}

str_enum! {
    /// Who takes an order transition: one of its parties, or the exchange itself (the sweeper).
    Actor { Requester = "requester", Provider = "provider", Holder = "holder", Exchange = "exchange" }
}

/// One allowed step of the order lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTransition {
    pub from: OrderStatus,
    pub action: OrderAction,
    pub to: OrderStatus,
    pub by: Actor,
}

const fn step(
    from: OrderStatus,
    action: OrderAction,
    to: OrderStatus,
    by: Actor,
) -> OrderTransition {
    OrderTransition {
        from,
        action,
        to,
        by,
    }
}

/// The order lifecycle, the one table every layer follows (the store's
/// conditional updates, the exchange's checks, the documentation):
///
/// | from | action | to | by |
/// | --- | --- | --- | --- |
/// | placed | pay | paid | requester |
/// | placed | expire | expired | exchange (`pay_by` passed) |
/// | paid | ship | shipped | provider |
///
/// An order placed *and paid* in one click is born `paid`. Stock is taken
/// and a unique pass's unit changes hands only with the payment, so an unpaid
/// (`placed`) order holds nothing; it expires at its `pay_by`. Shipping an
/// unpaid order is refused. `shipped` and `expired` are final.
pub const ORDER_TRANSITIONS: &[OrderTransition] = &[
    step(
        OrderStatus::Placed,
        OrderAction::Pay,
        OrderStatus::Paid,
        Actor::Requester,
    ),
    step(
        OrderStatus::Placed,
        OrderAction::Expire,
        OrderStatus::Expired,
        Actor::Exchange,
    ),
    step(
        OrderStatus::Paid,
        OrderAction::Ship,
        OrderStatus::Shipped,
        Actor::Provider,
    ),
];

impl OrderStatus {
    /// Every state.
    pub const ALL: [OrderStatus; 4] = [Self::Placed, Self::Paid, Self::Shipped, Self::Expired];

    /// The state `action` leads to from this one, and who may take it; `None`: not allowed.
    pub fn after(self, action: OrderAction) -> Option<(OrderStatus, Actor)> {
        ORDER_TRANSITIONS
            .iter()
            .find(|t| t.from == self && t.action == action)
            .map(|t| (t.to, t.by))
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
    /// Whether the order was paid (it may have moved on since).
    pub fn was_paid(self) -> bool {
        matches!(self, Self::Paid | Self::Shipped)
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
    fn order_transitions() {
        assert!(OrderStatus::Placed.can_pay());
        assert!(!OrderStatus::Paid.can_pay());
        assert!(OrderStatus::Paid.can_ship());
        // Shipping an unpaid order is refused: it could never be paid afterwards.
        assert!(!OrderStatus::Placed.can_ship());
        assert!(!OrderStatus::Shipped.can_ship());
        assert!(!OrderStatus::Expired.can_pay());
        assert_eq!(
            OrderStatus::Placed.after(OrderAction::Expire),
            Some((OrderStatus::Expired, Actor::Exchange))
        );
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
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
            assert_ne!(a.from, a.to);
        }
        assert!(OrderStatus::Shipped.is_final());
        assert!(OrderStatus::Expired.is_final());
        assert!(!OrderStatus::Placed.is_final());
        // Every state is reachable from `placed` (or is where a one-click order is born).
        for s in OrderStatus::ALL {
            let reachable = s == OrderStatus::Placed
                || s == OrderStatus::Paid
                || ORDER_TRANSITIONS.iter().any(|t| t.to == s);
            assert!(reachable, "{s}");
        }
    }
}
