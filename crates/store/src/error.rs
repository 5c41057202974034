use std::error::Error as StdError;

/// A state conflict detected inside a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("the interaction request is no longer pending")]
    InteractionClosed,
    #[error("an offer of this demand was already accepted")]
    OfferAlreadyAccepted,
    #[error("the offer has not been accepted")]
    OfferNotAccepted,
    #[error("an order was already placed from this offer")]
    AlreadyOrdered,
    #[error("the offer was already rated")]
    AlreadyRated,
    #[error("no unit is left")]
    UnitsExhausted,
    #[error("the unit was already sold")]
    UnitAlreadySold,
    #[error("not enough stock")]
    InsufficientStock,
    /// The account already has the most webhook endpoints it may have
    /// (checked inside the inserting transaction).
    #[error("the account already has the most webhook endpoints it may have")]
    TooManyWebhooks,
    #[error("the object is not in a state that allows this")]
    InvalidState,
    #[error("an object with this id already exists")]
    Duplicate,
    /// Another login has the same email (compared lowercased).
    #[error("an account already signs in with this email")]
    EmailTaken,
    #[error("the account already has MAX_API_KEYS_PER_ACCOUNT API keys")]
    TooManyApiKeys,
    #[error("the account already has MAX_PASSKEYS_PER_ACCOUNT passkeys")]
    TooManyPasskeys,
    #[error("this address already has MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS passkey ceremonies under way")]
    TooManyPasskeyCeremonies,
    #[error("only the requester of the accepted offer may rate, once its order is delivered or its dispute closed")]
    RatingNotAllowed,
    #[error("the unpaid order passed its payment deadline")]
    OrderExpired,
    #[error("the requester has too many demands open")]
    TooManyOpenDemands,
    #[error("the requester has too many standing demands waiting")]
    TooManyWaitingDemands,
    #[error("the requester has too many unpaid orders open")]
    TooManyUnpaidOrders,
    #[error("a provider has at most MAX_SIGNING_KEYS (100) signing keys")]
    TooManySigningKeys,
    /// The order's state (named) does not allow the step.
    #[error("the order is {0}: the step is not allowed from that state")]
    InvalidTransition(symbolon_core::state::OrderStatus),
    /// The refund would take the refunds past the amount paid; `refundable`
    /// minor units are left.
    #[error("the refund exceeds what is left to refund ({refundable} minor units)")]
    RefundExceedsPaid { refundable: i64 },
    #[error("the return window has closed")]
    ReturnWindowClosed,
    #[error("a return was already requested for this order")]
    ReturnExists,
    #[error("no return is waiting for an answer")]
    NoReturnRequested,
    #[error("the order already has a dispute (one per order)")]
    DisputeExists,
    #[error("the dispute is closed")]
    DisputeClosed,
    #[error("the order already has MAX_REFUNDS_PER_ORDER refunds")]
    TooManyRefunds,
    #[error("the dispute already has MAX_DISPUTE_MESSAGES messages")]
    TooManyDisputeMessages,
    /// The product was archived: it is no longer sold and no longer changes.
    #[error("the product was archived")]
    ProductArchived,
    /// A change of a field its passes sign (named) while the product has a pass.
    #[error("the product has passes, which sign its {field}: only its stock can change")]
    ProductHasPasses { field: &'static str },
    /// The product's signed fields changed since the pass was signed from it.
    #[error("the product changed since the pass was signed")]
    ProductChanged,
    #[error("the demand was cancelled")]
    DemandCancelled,
    /// The demand is finished (its state named): it cannot be cancelled.
    #[error("the demand is {0}: it cannot be cancelled")]
    DemandNotCancellable(symbolon_core::state::DemandStatus),
    /// A payout larger than the available money (`available` minor units).
    #[error("the payout exceeds the available money ({available} minor units)")]
    PayoutExceedsAvailable { available: i64 },
}

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The database schema is newer than this binary knows.
    #[error("the database was migrated by a newer Symbolon (schema version {found}, this binary knows up to {known}); upgrade the binary")]
    SchemaTooNew { found: i64, known: i64 },
    /// Anything the backend reports that is not the caller's fault.
    #[error("storage backend error: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    pub fn backend(e: impl StdError + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(e))
    }
    pub fn corrupt(msg: impl Into<String>) -> Self {
        Self::Backend(msg.into().into())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
