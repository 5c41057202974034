//! Records the store keeps. Times are [`Timestamp`]s; money is integer minor units.

use serde::{Deserialize, Serialize};
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::state::{InteractionStatus, OfferStatus, OrderStatus, PassMode, Role};
use symbolon_core::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub created_at: Timestamp,
}

impl Account {
    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }
}

/// A provider's signing key. `secret` is the 32-byte Ed25519 seed.
#[derive(Clone, PartialEq)]
pub struct ProviderKeyRecord {
    pub kid: String,
    pub provider_id: String,
    pub public_key: [u8; 32],
    pub secret: [u8; 32],
    pub created_at: Timestamp,
}

impl std::fmt::Debug for ProviderKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderKeyRecord")
            .field("kid", &self.kid)
            .field("provider_id", &self.provider_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    pub account: Account,
    /// SHA-256 of the API key, hex.
    pub api_key_hash: String,
    /// Set for providers: their first signing key.
    pub provider_key: Option<ProviderKeyRecord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: String,
    pub provider_id: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub specs: Vec<(String, String)>,
    pub price_minor: i64,
    pub currency: String,
    pub stock: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    pub id: String,
    pub product_id: String,
    pub provider_id: String,
    pub mode: PassMode,
    /// Total units of a unique pass.
    pub units: Option<i64>,
    pub commission_bps: i64,
    pub valid_from: Timestamp,
    pub valid_until: Option<Timestamp>,
    pub jws: String,
    pub created_at: Timestamp,
}

impl Pass {
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.valid_from <= now && self.valid_until.is_none_or(|u| now < u)
    }
}

/// A request to put a pass in a holder's wallet.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrant {
    pub id: String,
    pub pass_id: String,
    pub holder_id: String,
    /// Units to hand over (unique passes only).
    pub units: Option<i64>,
    pub created_at: Timestamp,
}

/// A pass in a holder's wallet.
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    pub grant_id: String,
    pub holder_id: String,
    pub pass: Pass,
    pub product: Product,
    /// Units granted to this holder (unique passes).
    pub units_granted: Option<i64>,
    /// Units still held, not yet transferred to a requester (unique passes).
    pub units_left: Option<i64>,
    pub granted_at: Timestamp,
}

/// A holder's matching-relevant state.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderState {
    pub id: String,
    pub name: String,
    pub fields: Vec<String>,
    pub reputation: ReputationCounts,
}

/// What the matcher sees: every holding usable at a moment, and the holders behind them.
#[derive(Debug, Clone, Default)]
pub struct MarketSnapshot {
    pub holdings: Vec<Holding>,
    pub holders: Vec<HolderState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandRecord {
    pub id: String,
    pub requester_id: String,
    pub query: String,
    pub category: Option<String>,
    pub max_price_minor: Option<i64>,
    pub currency: Option<String>,
    pub min_positive_rate: Option<f64>,
    pub min_success_rate: Option<f64>,
    pub min_ratings: Option<i64>,
    pub fields: Vec<String>,
    pub min_holders: i64,
    pub max_holders: i64,
    pub ttl_seconds: i64,
    pub deadline: i64,
    pub created_at: i64,
    pub accepted_offer_id: Option<String>,
    /// A standing demand with nobody contacted yet.
    pub waiting: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Interaction {
    pub id: String,
    pub demand_id: String,
    pub holder_id: String,
    /// 1 = best match.
    pub rank: i64,
    /// As stored; use [`InteractionStatus::at`] for the status at a moment.
    pub status: InteractionStatus,
    pub deadline: Timestamp,
    pub matched_pass_ids: Vec<String>,
    /// Why the matcher chose this holder (scores, fields).
    pub why: serde_json::Value,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    /// Insertion order, for inbox pagination.
    pub seq: i64,
}

impl Interaction {
    /// The status as seen at `now`: a pending request past its deadline is expired.
    pub fn status_at(&self, now: Timestamp) -> InteractionStatus {
        self.status.at(self.deadline.millis(), now.millis())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewOffer {
    pub id: String,
    pub interaction_id: String,
    pub pass_id: String,
    pub note: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub id: String,
    pub interaction_id: String,
    pub demand_id: String,
    pub holder_id: String,
    pub requester_id: String,
    pub pass_id: String,
    pub note: Option<String>,
    pub status: OfferStatus,
    pub created_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    /// For a shareable pass: the provider-signed licence given on acceptance.
    pub licence_jws: Option<String>,
    /// For a unique pass: the unit transferred on acceptance.
    pub unit_no: Option<i64>,
}

/// Accepting an offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Acceptance {
    pub offer_id: String,
    pub requester_id: String,
    pub licence_jws: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

/// A payment method as the gateway tokenized it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPaymentMethod {
    #[serde(rename = "type")]
    pub kind: String,
    pub token: String,
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequesterProfile {
    pub account_id: String,
    pub ship_to: Option<Address>,
    pub payment_method: Option<StoredPaymentMethod>,
    pub updated_at: Timestamp,
}

/// One posting of a ledger transaction. The postings of a transaction sum to zero per currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account_id: String,
    pub currency: String,
    pub amount_minor: i64,
    pub memo: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: String,
    pub offer_id: String,
    pub requester_id: String,
    pub provider_id: String,
    pub holder_id: String,
    pub product_id: String,
    pub pass_id: String,
    pub quantity: i64,
    pub unit_price_minor: i64,
    pub total_minor: i64,
    pub commission_minor: i64,
    pub currency: String,
    pub status: OrderStatus,
    pub ship_to: Address,
    pub payment_ref: Option<String>,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub shipped_at: Option<Timestamp>,
    /// Insertion order, for pagination.
    pub seq: i64,
}

/// A payment settling an order: the gateway reference and the ledger postings.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    pub ledger_id: String,
    pub payment_ref: String,
    pub postings: Vec<Posting>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rating {
    pub id: String,
    pub offer_id: String,
    pub holder_id: String,
    pub requester_id: String,
    pub positive: bool,
    pub comment: Option<String>,
    pub created_at: Timestamp,
}

/// A page request: items strictly after `after` (an opaque cursor from a previous page), at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub after: Option<i64>,
    pub limit: u32,
}

/// Orders seen from one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderParty<'a> {
    Provider(&'a str),
    Requester(&'a str),
    Holder(&'a str),
}

pub use symbolon_core::state::Role as AccountRole;
