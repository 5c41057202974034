//! The `data` of each event type, as it is on the wire.
//!
//! Money is `{"amount", "currency"}` like everywhere else in the API. The
//! `*_minor` integers beside each amount are the shape of earlier releases,
//! kept for one release and marked deprecated. Times are RFC 3339.
//! [`EventData::parse`] reads an event's `data` by its type and refuses
//! fields it does not know, so a test can hold every emitted event to these
//! schemas.

use crate::Money;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

macro_rules! event_data {
    ($($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? })*) => {
        $(
            $(#[$m])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[cfg_attr(feature = "openapi", derive(ToSchema))]
            #[serde(deny_unknown_fields)]
            pub struct $name { $($(#[$fm])* pub $field: $ty,)* }
        )*
    };
}

event_data! {
    /// `interaction.requested` (to the holder): a demand it may answer.
    InteractionRequested {
        interaction_id: String,
        demand_id: String,
        /// Answer before this (RFC 3339).
        deadline: String,
        query: String,
        category: Option<String>,
        /// The demand's price cap, if it has one.
        max_price: Option<Money>,
        /// Deprecated: `max_price` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        max_price_minor: Option<i64>,
        /// Deprecated: the currency of `max_price`.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        currency: Option<String>,
        /// The holder's passes that matched.
        matched_pass_ids: Vec<String>,
    }

    /// `interaction.expired`, `interaction.withdrawn` (to the holder): the
    /// request can no longer be answered.
    InteractionClosed {
        interaction_id: String,
        demand_id: String,
        deadline: String,
    }

    /// `offer.created` (to the requester): a holder answered.
    OfferCreated {
        offer_id: String,
        interaction_id: String,
        demand_id: String,
        holder_id: String,
        pass_id: String,
    }

    /// `offer.accepted` (to the holder).
    OfferAccepted {
        offer_id: String,
        demand_id: String,
        pass_id: String,
        /// The unit reserved for the buyer, on a unique pass.
        unit_no: Option<i64>,
    }

    /// `order.placed` (to requester, provider and holder).
    OrderPlaced {
        order_id: String,
        offer_id: Option<String>,
        pass_id: String,
        product_id: String,
        quantity: i64,
        total: Money,
        commission: Money,
        /// The unit sold, on a unique pass.
        unit_no: Option<i64>,
        /// An unpaid order expires then (RFC 3339); null once paid.
        pay_by: Option<String>,
        /// Deprecated: `total` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        total_minor: i64,
        /// Deprecated: `commission` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        commission_minor: i64,
        /// Deprecated: the currency of the amounts.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        currency: String,
    }

    /// `order.paid`, `order.shipped`, `order.expired` (to requester, provider
    /// and holder).
    OrderStatusChanged {
        order_id: String,
        total: Money,
        /// Deprecated: `total` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        total_minor: i64,
        /// Deprecated: the currency of `total`.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        currency: String,
    }

    /// `rating.created` (to the holder).
    RatingCreated {
        rating_id: String,
        offer_id: String,
        positive: bool,
    }

    /// `order.settled` (to provider and holder): the sellers' money is
    /// available.
    OrderSettled {
        order_id: String,
        /// The holder's commission after reversals.
        commission: Money,
        /// Deprecated: `commission` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        commission_minor: i64,
        /// Deprecated: the currency of `commission`.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        currency: String,
    }

    /// `order.cancelled` (to requester, provider and holder).
    OrderCancelled {
        order_id: String,
        /// The account that cancelled.
        by: String,
        /// Refunded in all (nothing for an unpaid order).
        refunded: Money,
        /// Deprecated: `refunded` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        refunded_minor: i64,
        /// Deprecated: the currency of `refunded`.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        currency: String,
    }

    /// `order.refunded` (to requester, provider and holder).
    OrderRefunded {
        order_id: String,
        refund_id: String,
        /// This refund.
        amount: Money,
        /// Refunded in all, this one included.
        refunded: Money,
        /// The holder's commission this refund reversed.
        commission_reversed: Money,
        /// The order's status after it.
        status: String,
        /// Deprecated: `amount` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        amount_minor: i64,
        /// Deprecated: `refunded` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        refunded_minor: i64,
        /// Deprecated: `commission_reversed` in minor units.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        commission_reversed_minor: i64,
        /// Deprecated: the currency of the amounts.
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        currency: String,
    }

    /// `order.delivered` (to requester, provider and holder).
    OrderDelivered {
        order_id: String,
        /// `requester` (confirmed) or `exchange` (after `auto_deliver_after`).
        by: String,
    }

    /// `order.return_requested`, `order.return_accepted`,
    /// `order.return_refused` (to requester and provider).
    OrderReturn {
        order_id: String,
    }

    /// `dispute.opened` (to requester, provider and operators).
    DisputeOpened {
        dispute_id: String,
        order_id: String,
        kind: String,
    }

    /// `dispute.message` (to requester, provider and operators).
    DisputeMessage {
        dispute_id: String,
        order_id: String,
        message_id: String,
        /// The author's role in the dispute.
        role: String,
    }

    /// `dispute.resolved` (to requester and provider).
    DisputeResolved {
        dispute_id: String,
        order_id: String,
        /// `resolved` (with a refund) or `rejected`.
        outcome: String,
        /// The refund the operator granted, when resolved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refund: Option<Money>,
        /// Deprecated: `refund` in minor units.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        refund_minor: Option<i64>,
        /// Deprecated: the currency of `refund`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(deprecated))]
        currency: Option<String>,
    }

    /// `demand.opened` (to the requester): a waiting demand found enough
    /// holders and its interaction requests went out.
    DemandOpened {
        demand_id: String,
        /// How many holders were asked.
        contacted: i64,
    }
}

/// The `data` of an event, by its type (`oneOf` in the OpenAPI document).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(untagged)]
pub enum EventData {
    InteractionRequested(InteractionRequested),
    InteractionClosed(InteractionClosed),
    OfferCreated(OfferCreated),
    OfferAccepted(OfferAccepted),
    OrderPlaced(OrderPlaced),
    OrderStatusChanged(OrderStatusChanged),
    RatingCreated(RatingCreated),
    OrderSettled(OrderSettled),
    OrderCancelled(OrderCancelled),
    OrderRefunded(OrderRefunded),
    OrderDelivered(OrderDelivered),
    OrderReturn(OrderReturn),
    DisputeOpened(DisputeOpened),
    DisputeMessage(DisputeMessage),
    DisputeResolved(DisputeResolved),
    DemandOpened(DemandOpened),
}

/// Every event type, in the order of [`EventData`]'s documentation.
pub const EVENT_TYPES: &[&str] = &[
    "interaction.requested",
    "interaction.expired",
    "interaction.withdrawn",
    "offer.created",
    "offer.accepted",
    "order.placed",
    "order.paid",
    "order.shipped",
    "order.expired",
    "rating.created",
    "order.settled",
    "order.cancelled",
    "order.refunded",
    "order.delivered",
    "order.return_requested",
    "order.return_accepted",
    "order.return_refused",
    "dispute.opened",
    "dispute.message",
    "dispute.resolved",
    "demand.opened",
];

/// Why an event's `data` did not read as its type's schema.
#[derive(Debug)]
pub enum EventDataError {
    UnknownType(String),
    Shape(serde_json::Error),
}

impl std::fmt::Display for EventDataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownType(t) => write!(f, "unknown event type `{t}`"),
            Self::Shape(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EventDataError {}

impl EventData {
    /// Reads `data` as the schema of event type `kind`.
    pub fn parse(kind: &str, data: &serde_json::Value) -> Result<Self, EventDataError> {
        fn read<T: serde::de::DeserializeOwned>(
            data: &serde_json::Value,
        ) -> Result<T, EventDataError> {
            T::deserialize(data).map_err(EventDataError::Shape)
        }
        Ok(match kind {
            "interaction.requested" => Self::InteractionRequested(read(data)?),
            "interaction.expired" | "interaction.withdrawn" => Self::InteractionClosed(read(data)?),
            "offer.created" => Self::OfferCreated(read(data)?),
            "offer.accepted" => Self::OfferAccepted(read(data)?),
            "order.placed" => Self::OrderPlaced(read(data)?),
            "order.paid" | "order.shipped" | "order.expired" => {
                Self::OrderStatusChanged(read(data)?)
            }
            "rating.created" => Self::RatingCreated(read(data)?),
            "order.settled" => Self::OrderSettled(read(data)?),
            "order.cancelled" => Self::OrderCancelled(read(data)?),
            "order.refunded" => Self::OrderRefunded(read(data)?),
            "order.delivered" => Self::OrderDelivered(read(data)?),
            "order.return_requested" | "order.return_accepted" | "order.return_refused" => {
                Self::OrderReturn(read(data)?)
            }
            "dispute.opened" => Self::DisputeOpened(read(data)?),
            "dispute.message" => Self::DisputeMessage(read(data)?),
            "dispute.resolved" => Self::DisputeResolved(read(data)?),
            "demand.opened" => Self::DemandOpened(read(data)?),
            other => return Err(EventDataError::UnknownType(other.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_listed_type_has_a_schema_and_money_is_an_object() {
        for kind in EVENT_TYPES {
            let err = EventData::parse(kind, &json!({})).unwrap_err();
            assert!(matches!(err, EventDataError::Shape(_)), "{kind}: {err}");
        }
        assert!(matches!(
            EventData::parse("order.nope", &json!({})),
            Err(EventDataError::UnknownType(_))
        ));
        let bare = json!({"order_id": "ord_1", "total_minor": 100, "currency": "USD"});
        assert!(
            EventData::parse("order.paid", &bare).is_err(),
            "money must be an object"
        );
        let good = json!({"order_id": "ord_1", "total": {"amount": "1.00", "currency": "USD"},
                          "total_minor": 100, "currency": "USD"});
        assert!(EventData::parse("order.paid", &good).is_ok());
        let mut extra = good.clone();
        extra["surprise"] = json!(1);
        assert!(
            EventData::parse("order.paid", &extra).is_err(),
            "unknown fields are refused"
        );
    }
}
