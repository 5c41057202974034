use serde_json::Value;
use std::error::Error as StdError;
use symbolon_core::{ErrorCode, ValidationError};
use symbolon_store::{Conflict, StoreError};

/// An error of an exchange operation: a code from the error table, a message
/// for the client and optional details. Internal errors carry their source,
/// which is logged and never shown to the client.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ExchangeError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
    #[source]
    pub source: Option<Box<dyn StdError + Send + Sync>>,
}

pub type ExchangeResult<T> = Result<T, ExchangeError>;

impl ExchangeError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            source: None,
        }
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ValidationError::new(field, message).into()
    }
    /// 422 `invalid_value`: the field has the documented form but breaks a
    /// rule the API schema cannot state (it says the rule in words).
    pub fn value(field: &str, message: impl Into<String>) -> Self {
        ValidationError::rule(field, message).into()
    }
    /// The error of a field checked inside the object `parent`: its
    /// `details.field` (and the message's mention of it) become
    /// `parent.field`. Other errors are unchanged.
    pub fn under(mut self, parent: &str) -> Self {
        let field = self
            .details
            .as_ref()
            .and_then(|d| d.get("field"))
            .and_then(|f| f.as_str())
            .map(str::to_string);
        if let Some(f) = field {
            let nested = format!("{parent}.{f}");
            self.message = self.message.replacen(&f, &nested, 1);
            self.details = Some(serde_json::json!({ "field": nested }));
        }
        self
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no such {what}"))
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn internal(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            details: None,
            source: Some(source.into()),
        }
    }
}

impl From<ValidationError> for ExchangeError {
    fn from(e: ValidationError) -> Self {
        let code = if e.rule {
            ErrorCode::InvalidValue
        } else {
            ErrorCode::InvalidField
        };
        Self::new(code, e.to_string()).with_details(serde_json::json!({"field": e.field}))
    }
}

/// The error table's mapping of store conflicts.
pub fn conflict_code(c: Conflict) -> ErrorCode {
    match c {
        Conflict::InteractionClosed => ErrorCode::InteractionClosed,
        Conflict::OfferAlreadyAccepted => ErrorCode::OfferAlreadyAccepted,
        Conflict::OfferNotAccepted => ErrorCode::OfferNotAccepted,
        Conflict::AlreadyOrdered => ErrorCode::AlreadyOrdered,
        Conflict::AlreadyRated => ErrorCode::AlreadyRated,
        Conflict::UnitsExhausted => ErrorCode::UnitsExhausted,
        Conflict::UnitAlreadySold => ErrorCode::UnitAlreadySold,
        Conflict::InsufficientStock => ErrorCode::InsufficientStock,
        Conflict::TooManyWebhooks => ErrorCode::TooManyWebhooks,
        Conflict::InvalidState | Conflict::Duplicate => ErrorCode::InvalidState,
        Conflict::EmailTaken => ErrorCode::EmailTaken,
        Conflict::TooManyApiKeys => ErrorCode::TooManyApiKeys,
        Conflict::TooManyPasskeys => ErrorCode::TooManyPasskeys,
        Conflict::TooManyPasskeyCeremonies => ErrorCode::TooManyPasskeyCeremonies,
        Conflict::RatingNotAllowed => ErrorCode::RatingNotAllowed,
        Conflict::OrderExpired => ErrorCode::OrderExpired,
        Conflict::TooManyOpenDemands => ErrorCode::TooManyOpenDemands,
        Conflict::TooManyWaitingDemands => ErrorCode::TooManyWaitingDemands,
        Conflict::TooManyUnpaidOrders => ErrorCode::TooManyUnpaidOrders,
        Conflict::TooManySigningKeys => ErrorCode::InvalidState,
        Conflict::InvalidTransition(_)
        | Conflict::ReturnWindowClosed
        | Conflict::ReturnExists
        | Conflict::NoReturnRequested
        | Conflict::DisputeExists => ErrorCode::InvalidTransition,
        Conflict::RefundExceedsPaid { .. } => ErrorCode::RefundExceedsPaid,
        Conflict::PayoutExceedsAvailable { .. } => ErrorCode::PayoutExceedsAvailable,
        Conflict::DisputeClosed => ErrorCode::InvalidState,
        Conflict::TooManyRefunds => ErrorCode::TooManyRefunds,
        Conflict::TooManyDisputeMessages => ErrorCode::TooManyDisputeMessages,
        Conflict::ProductArchived => ErrorCode::ProductArchived,
        Conflict::ProductHasPasses { .. } => ErrorCode::ProductHasPasses,
        Conflict::ProductChanged => ErrorCode::ProductChanged,
        Conflict::DemandCancelled => ErrorCode::DemandCancelled,
        Conflict::DemandNotCancellable(_) => ErrorCode::DemandNotCancellable,
    }
}

impl From<StoreError> for ExchangeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::new(ErrorCode::NotFound, "no such object"),
            StoreError::Conflict(Conflict::InvalidTransition(s)) => {
                Self::new(ErrorCode::InvalidTransition, format!("the order is {s}"))
                    .with_details(serde_json::json!({"status": s.as_str()}))
            }
            StoreError::Conflict(c @ Conflict::ProductHasPasses { field }) => {
                Self::new(conflict_code(c), format!("{field}: {c}"))
                    .with_details(serde_json::json!({"field": field}))
            }
            StoreError::Conflict(c @ Conflict::DemandNotCancellable(s)) => {
                Self::new(conflict_code(c), c.to_string())
                    .with_details(serde_json::json!({"status": s.as_str()}))
            }
            StoreError::Conflict(c) => Self::new(conflict_code(c), c.to_string()),
            other => Self::internal(other),
        }
    }
}

/// Maps a store `NotFound` to a message naming the object.
pub(crate) trait OrNotFound<T> {
    fn or_not_found(self, what: &str) -> ExchangeResult<T>;
}

impl<T> OrNotFound<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &str) -> ExchangeResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ExchangeError::not_found(what),
            other => other.into(),
        })
    }
}
