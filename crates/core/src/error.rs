//! The one error table: every error the exchange reports to a client has a
//! stable code and an HTTP status, defined here and nowhere else.

use std::fmt;

macro_rules! error_codes {
    ($($variant:ident => ($code:literal, $status:literal, $doc:literal);)*) => {
        /// A stable, documented error code. The HTTP layer renders it as
        /// `{"error": {"code", "message", "details"?}}` with [`ErrorCode::http_status`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable snake_case code clients match on.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status the code is answered with.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }

            /// One line on what the code means.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)* }
            }
        }
    };
}

error_codes! {
    MalformedJson => ("malformed_json", 400, "The body is not valid JSON.");
    InvalidField => ("invalid_field", 400, "A field is missing, unknown or has a bad value; `details.field` names it.");
    InvalidQuery => ("invalid_query", 400, "A query-string parameter has a bad value.");
    InvalidValue => ("invalid_value", 422, "A field has the documented form but breaks a rule the schema cannot state (a check digit, a checksum, a relation to another field or object); `details.field` names it and the field's description states the rule.");
    Unauthorized => ("unauthorized", 401, "No API key, or an unknown one.");
    InvalidCredentials => ("invalid_credentials", 401, "Wrong email or password (one message for both: which one is not said).");
    PaymentDeclined => ("payment_declined", 402, "The payment method was declined; nothing was ordered.");
    Forbidden => ("forbidden", 403, "The account lacks the role, or the object belongs to someone else.");
    RegistrationClosed => ("registration_closed", 403, "This exchange does not accept new accounts.");
    NotFound => ("not_found", 404, "No such object.");
    RouteNotFound => ("route_not_found", 404, "No such endpoint.");
    MethodNotAllowed => ("method_not_allowed", 405, "The endpoint does not accept this method.");
    EmailTaken => ("email_taken", 409, "An account already signs in with this email (compared case-insensitively).");
    InteractionClosed => ("interaction_closed", 409, "The interaction request was already answered, declined or has expired.");
    OfferAlreadyAccepted => ("offer_already_accepted", 409, "The offer (or another offer of the same demand) was already accepted.");
    OfferNotAccepted => ("offer_not_accepted", 409, "The offer must be accepted before it can be ordered.");
    AlreadyOrdered => ("already_ordered", 409, "An order was already placed from this offer.");
    AlreadyRated => ("already_rated", 409, "The offer was already rated.");
    RatingNotAllowed => ("rating_not_allowed", 409, "Only the requester of the accepted offer may rate its holder, once the order placed from it is delivered or its dispute closed.");
    InvalidTransition => ("invalid_transition", 409, "The order's state does not allow this step; `details.status` is the current state.");
    RefundExceedsPaid => ("refund_exceeds_paid", 422, "The refund, with the refunds before it, would exceed the amount paid; `details.refundable` is what is left.");
    PayoutExceedsAvailable => ("payout_exceeds_available", 422, "The payout is more than the available money (or nothing is available); `details.available` says how much is.");
    RefundFailed => ("refund_failed", 502, "The payment gateway refused the refund; nothing was refunded and the order is unchanged.");
    OrderExpired => ("order_expired", 409, "The unpaid order passed its payment deadline (`pay_by`); place a new one.");
    UnitsExhausted => ("units_exhausted", 409, "No unit of the unique pass is left to grant or transfer.");
    UnitAlreadySold => ("unit_already_sold", 409, "The unit was already sold.");
    InsufficientStock => ("insufficient_stock", 409, "The product has not enough stock for the quantity.");
    PassExpired => ("pass_expired", 409, "The pass is no longer (or not yet) valid.");
    AlreadySealed => ("already_sealed", 409, "The pass already carries a sealed secret.");
    SharesAlreadySent => ("shares_already_sent", 409, "The share(s) for this offer or order were already sent.");
    NotSealed => ("not_sealed", 409, "The pass carries no sealed secret.");
    PartyKeysMissing => ("party_keys_missing", 409, "The account has not registered its keys (`symbolon keys init`).");
    PassRevoked => ("pass_revoked", 409, "The pass was revoked by its provider.");
    InvalidState => ("invalid_state", 409, "The object is not in a state that allows this operation.");
    ProductArchived => ("product_archived", 409, "The product was archived by its provider: it is no longer sold (no new passes, grants, offers, acceptances, orders or payments) and cannot be changed. Paid orders go on.");
    ProductHasPasses => ("product_has_passes", 409, "The product has passes, which carry its title, description, category, specs, price and GTIN signed: only `stock` can change now; `details.field` names the field. Archive it and create a new product to sell it otherwise.");
    ProductChanged => ("product_changed", 409, "The product changed while the pass was being signed; nothing was issued: retry.");
    DemandCancelled => ("demand_cancelled", 409, "The demand was cancelled by its requester: cancelling it again changes nothing, and none of its offers can be accepted.");
    DemandNotCancellable => ("demand_not_cancellable", 409, "The demand is finished (an offer was accepted, or it expired waiting) and cannot be cancelled; `details.status` is its state.");
    IdempotencyError => ("idempotency_error", 409, "The `Idempotency-Key` was used with other parameters, or its first request is still running (retry later).");
    UnsupportedMediaType => ("unsupported_media_type", 415, "The body must be `application/json`.");
    PayloadTooLarge => ("payload_too_large", 413, "The body exceeds the size limit.");
    RequestTimeout => ("request_timeout", 408, "The request body did not arrive within `body_read_timeout` (30 s by default); the connection is closed.");
    InsufficientHolders => ("insufficient_holders", 422, "Fewer holders qualify than `min_holders`; `details` counts the eliminations per criterion. Nobody was contacted.");
    PaymentMethodMissing => ("payment_method_missing", 422, "`pay: true` needs a saved payment method in the requester profile.");
    ShippingAddressMissing => ("shipping_address_missing", 422, "No `ship_to` in the request and none saved in the requester profile.");
    PassSignatureInvalid => ("pass_signature_invalid", 422, "The pass does not verify against its provider's published keys.");
    TooManyWaitingDemands => ("too_many_waiting_demands", 429, "The requester already has `MAX_WAITING_DEMANDS_PER_REQUESTER` (20) standing demands waiting.");
    TooManyOpenDemands => ("too_many_open_demands", 429, "The requester already has `MAX_OPEN_DEMANDS_PER_REQUESTER` (100) demands open; wait for one to close or accept an offer.");
    TooManyUnpaidOrders => ("too_many_unpaid_orders", 429, "The requester already has `MAX_UNPAID_ORDERS_PER_REQUESTER` (20) unpaid orders open, or their quantities would exceed `MAX_UNPAID_QUANTITY_PER_REQUESTER`; pay or let one expire.");
    TooManyRefunds => ("too_many_refunds", 429, "The order already has `MAX_REFUNDS_PER_ORDER` (100) refunds.");
    TooManyDisputeMessages => ("too_many_dispute_messages", 429, "The dispute already holds `MAX_DISPUTE_MESSAGES` (200) messages.");
    TooManyWebhooks => ("too_many_webhooks", 429, "The account already has `MAX_WEBHOOKS_PER_ACCOUNT` (10) webhook endpoints.");
    TooManyRegistrations => ("too_many_registrations", 429, "This address registered `registrations_per_ip_per_hour` accounts within the last hour; `Retry-After` says when the next is allowed.");
    TooManySignIns => ("too_many_sign_ins", 429, "`MAX_SIGN_IN_FAILURES` (10) sign-ins failed for this account or from this address within `SIGN_IN_WINDOW_SECONDS` (15 minutes); `details.retry_after_seconds` says when to try again.");
    TooManyApiKeys => ("too_many_api_keys", 429, "The account already has `MAX_API_KEYS_PER_ACCOUNT` (20) API keys; revoke one first.");
    TooManyPasskeyCeremonies => ("too_many_passkey_ceremonies", 429, "This address already has `MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS` (20) passkey sign-ins or registrations under way; they expire after 5 minutes.");
    TooManyPasskeys => ("too_many_passkeys", 429, "The account already has `MAX_PASSKEYS_PER_ACCOUNT` (10) passkeys; remove one first.");
    PasskeyCeremonyInvalid => ("passkey_ceremony_invalid", 400, "The passkey ceremony is unknown, expired or already finished; start again.");
    PasskeyInvalid => ("passkey_invalid", 400, "The passkey's answer is malformed or does not verify.");
    RateLimited => ("rate_limited", 429, "Too many requests from this API key or web session (`rate_limit_per_second`, 100 a second with bursts of 200 by default), or from this address when the server limits addresses; `Retry-After` (and `details.retry_after_seconds`) says how many seconds to wait.");
    TooManyStreams => ("too_many_streams", 429, "The account already holds `MAX_STREAMS_PER_ACCOUNT` (16) event streams open.");
    Internal => ("internal", 500, "An internal error; it has been logged.");
    NotReady => ("not_ready", 503, "The node is not ready for traffic (`GET /readyz`): `details.failing` names the first check that failed (`store`, `migrations`, `engine` or `draining`) and `details.checks` says how each went. Liveness (`/livez`) is unaffected.");
    Unavailable => ("unavailable", 503, "The request was stopped (it overran `IDEMPOTENT_REQUEST_TIMEOUT_SECONDS`); retry it with the same `Idempotency-Key`.");
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bad value in client input, naming the field (a JSON path such as `holder.min_positive_rate`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
    /// The value has the documented form (the API schema accepts it) but
    /// breaks a rule the schema cannot state: 422 `invalid_value` rather
    /// than 400 `invalid_field`.
    pub rule: bool,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            rule: false,
        }
    }

    /// A well-formed value refused by a rule the schema cannot state (the `rule` field).
    pub fn rule(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule: true,
            ..Self::new(field, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_statuses_sane() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert!(code
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            let status = code.http_status();
            assert!((400..600).contains(&status));
            assert_eq!(
                status >= 500,
                // The payment gateway refusing a refund is upstream's answer, not the client's fault.
                // A node that is not ready (draining, its store down) says so with 503.
                matches!(
                    code,
                    ErrorCode::Internal
                        | ErrorCode::Unavailable
                        | ErrorCode::RefundFailed
                        | ErrorCode::NotReady
                ),
                "{code}"
            );
        }
    }
}
