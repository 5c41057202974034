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
    /// An order: `placed → paid → shipped`, or `placed → shipped` for orders settled outside the exchange.
    OrderStatus { Placed = "placed", Paid = "paid", Shipped = "shipped" }
}

impl OrderStatus {
    pub fn can_pay(self) -> bool {
        self == Self::Placed
    }
    pub fn can_ship(self) -> bool {
        matches!(self, Self::Placed | Self::Paid)
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
        assert!(!OrderStatus::Shipped.can_ship());
        for s in ["placed", "paid", "shipped"] {
            assert_eq!(OrderStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
