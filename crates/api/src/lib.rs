//! The wire types of Symbolon's HTTP API v1.
//!
//! Requests refuse unknown fields. Money is `{"amount": "12.34", "currency": "USD"}`
//! (a decimal string, never a float); ids are opaque strings; times are RFC 3339.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod events;
pub mod int;
pub mod tlog;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Money: a decimal string amount and an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[cfg_attr(feature = "openapi", schema(example = "12.34"))]
    pub amount: String,
    #[cfg_attr(feature = "openapi", schema(example = "USD"))]
    pub currency: String,
}

impl Money {
    pub fn new(amount: impl Into<String>, currency: impl Into<String>) -> Self {
        Self {
            amount: amount.into(),
            currency: currency.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Provider,
    Holder,
    Requester,
    /// Resolves disputes. Never open to registration: `symbolon admin create-operator` makes one.
    Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PassMode {
    Shareable,
    Unique,
}

// ---------------------------------------------------------------- accounts

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    pub name: String,
    pub roles: Vec<Role>,
    /// An email and a password to sign in on the web with (optional: an
    /// account made without one uses only API keys). The same rules as the
    /// web's sign-up: a unique email (case-insensitively) of at most 254
    /// characters, a password of 8 to 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<WebLogin>,
}

/// An email and a password (the password is never shown by `Debug`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebLogin {
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub password: String,
}

impl std::fmt::Debug for WebLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebLogin")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccountCreated {
    pub id: String,
    pub name: String,
    /// The bearer key; shown once, stored only hashed.
    pub api_key: String,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Account {
    pub id: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub created_at: String,
}

// ---------------------------------------------------------------- catalog

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// A path such as `electronics/audio/headphones`.
    pub category: String,
    #[serde(default)]
    pub specs: BTreeMap<String, String>,
    pub price: Money,
    #[serde(deserialize_with = "int::required")]
    pub stock: i64,
    /// GTIN-8/12/13/14 with a valid check digit; the pass's subject then gets a GS1 Digital Link id.
    #[serde(default)]
    pub gtin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Product {
    pub id: String,
    pub provider_id: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub specs: BTreeMap<String, String>,
    pub price: Money,
    pub stock: i64,
    pub created_at: String,
    pub gtin: Option<String>,
    /// When its provider archived it: it is no longer sold (no new passes,
    /// grants, offers, acceptances, orders or payments; its passes leave the
    /// market) and no longer changes; `null` while it is on sale.
    #[serde(default)]
    pub archived_at: Option<String>,
}

/// `PATCH /v1/products/{id}`: what to change; fields left out stay as they
/// are. Validated as at creation. Once the product has a pass, only `stock`
/// may change: the rest is signed into its passes (`409
/// product_has_passes`, `details.field` naming the first such field).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Replaces all the specs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specs: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Units in stock (0 takes it off the market until it is back).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "int::optional"
    )]
    pub stock: Option<i64>,
    /// A GTIN with a valid check digit; `""` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
}

/// `GET /v1/products`: the provider's own products, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProductList {
    pub items: Vec<Product>,
    /// Pass as `?after=` to get the next page; null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePass {
    pub product_id: String,
    pub mode: PassMode,
    /// Number of units; required for unique passes, refused for shareable ones.
    #[serde(default, deserialize_with = "int::optional")]
    pub units: Option<i64>,
    /// Commission paid to the holder, in basis points of the order total (0–10000).
    #[serde(deserialize_with = "int::required")]
    pub commission_bps: i64,
    /// RFC 3339; absent means no expiry.
    #[serde(default)]
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Pass {
    pub id: String,
    pub product_id: String,
    pub provider_id: String,
    pub title: String,
    pub price: Money,
    pub mode: PassMode,
    pub units: Option<i64>,
    pub commission_bps: i64,
    pub valid_from: String,
    pub valid_until: Option<String>,
    /// The provider-signed credential (compact JWS, `typ: vc+jwt`).
    pub jws: String,
    /// The pass's address (the credential's `id`).
    pub url: String,
    /// The pass's web page (the credential's `link`).
    pub page: String,
    /// `active`, `revoked`, `expired` or `not_yet_valid`.
    pub status: String,
    pub revoked_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateGrant {
    pub holder_id: String,
    /// Units to hand over (unique passes only).
    #[serde(default, deserialize_with = "int::optional")]
    pub units: Option<i64>,
}

/// A pass in a holder's wallet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Holding {
    pub grant_id: String,
    pub holder_id: String,
    pub pass: Pass,
    pub units_granted: Option<i64>,
    pub units_left: Option<i64>,
    pub granted_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Wallet {
    pub items: Vec<Holding>,
}

// ---------------------------------------------------------------- holders

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HolderProfileUpdate {
    /// Fields of focus, e.g. `["electronics/audio", "home"]`.
    pub fields: Vec<String>,
}

/// A holder's public profile and reputation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HolderPublic {
    pub id: String,
    pub name: String,
    pub fields: Vec<String>,
    /// Positive ratings / ratings; null without ratings.
    pub positive_rate: Option<f64>,
    pub ratings: u64,
    /// Requests answered with an offer before the deadline / requests decided; null before any is decided.
    pub success_rate: Option<f64>,
    pub interactions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemandItem {
    pub query: String,
    pub category: Option<String>,
    pub max_price: Option<Money>,
}

/// An interaction request in a holder's inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InboxItem {
    pub id: String,
    pub demand_id: String,
    /// `pending`, `offered`, `declined` or `expired`.
    pub status: String,
    pub rank: i64,
    pub item: DemandItem,
    pub deadline: String,
    /// The ids of this holder's passes that matched the demand.
    pub matched_pass_ids: Vec<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Inbox {
    pub items: Vec<InboxItem>,
    /// Pass as `?after=` to get the next page; null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOffer {
    pub pass_id: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/interactions/{id}/decline` (the body is optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeclineInteraction {
    /// Why (up to 500 characters); the requester sees it with the demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InteractionState {
    pub id: String,
    pub demand_id: String,
    pub status: String,
}

// ---------------------------------------------------------------- requesters

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HolderCriteria {
    #[serde(default)]
    pub min_positive_rate: Option<f64>,
    #[serde(default)]
    pub min_success_rate: Option<f64>,
    #[serde(default, deserialize_with = "int::optional")]
    pub min_ratings: Option<u64>,
    #[serde(default)]
    pub fields: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDemand {
    pub query: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub max_price: Option<Money>,
    #[serde(default)]
    pub holder: HolderCriteria,
    /// At least 2 (default 2).
    #[serde(default, deserialize_with = "int::optional")]
    pub min_holders: Option<u32>,
    /// Default 5, at most 20.
    #[serde(default, deserialize_with = "int::optional")]
    pub max_holders: Option<u32>,
    /// Default 300.
    #[serde(default, deserialize_with = "int::optional")]
    pub ttl_seconds: Option<u32>,
    /// A standing demand: when fewer than `min_holders` qualify, the demand is
    /// stored as `waiting` (nobody contacted) and matched again as supply
    /// changes, until enough holders qualify or its TTL ends. Default false.
    #[serde(default)]
    pub wait: Option<bool>,
}

/// Why the exchange chose a holder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MatchReason {
    pub score: f64,
    pub relevance: f64,
    pub positive_lower_bound: f64,
    pub success_lower_bound: f64,
    pub matched_fields: Vec<String>,
    pub matched_pass_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Contacted {
    pub interaction_id: String,
    pub holder_id: String,
    pub holder_name: String,
    /// 1 = best match.
    pub rank: i64,
    /// `pending`, `offered`, `declined`, `expired` or `withdrawn` (the
    /// requester accepted another offer or cancelled the demand).
    pub status: String,
    pub why: MatchReason,
    /// The holder's reason, when it declined with one.
    #[serde(default)]
    pub decline_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemandCreated {
    pub id: String,
    pub status: String,
    pub deadline: String,
    pub contacted: Vec<Contacted>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PassSummary {
    pub id: String,
    pub jws: String,
    pub url: String,
    pub title: String,
    pub price: Money,
    pub mode: PassMode,
    pub provider_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Offer {
    pub id: String,
    pub demand_id: String,
    pub interaction_id: String,
    /// `offered` or `accepted`.
    pub status: String,
    pub holder: HolderPublic,
    pub pass: PassSummary,
    pub note: Option<String>,
    pub created_at: String,
    pub accepted_at: Option<String>,
    /// For an accepted shareable pass: the provider-signed licence (compact JWS).
    pub licence: Option<String>,
    /// For a unique pass: the unit the requester bought through this offer —
    /// set once the order placed from it is paid (a unit changes hands only
    /// with a payment; accepting moves none).
    pub unit: Option<String>,
    /// Its number (for `/v1/passes/{id}/units/{unit}/history`).
    pub unit_no: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Demand {
    pub id: String,
    /// `waiting` (standing, nobody contacted yet), `open`, `closed` (deadline
    /// passed), `accepted`, `expired` (waited in vain) or `cancelled`.
    pub status: String,
    pub requester_id: String,
    pub item: DemandItem,
    pub holder: HolderCriteria,
    pub min_holders: u32,
    pub max_holders: u32,
    pub ttl_seconds: u32,
    pub deadline: String,
    pub created_at: String,
    pub accepted_offer_id: Option<String>,
    /// When its requester cancelled it.
    #[serde(default)]
    pub cancelled_at: Option<String>,
    pub contacted: Vec<Contacted>,
    pub offers: Vec<Offer>,
}

/// A demand in its requester's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemandSummary {
    pub id: String,
    /// As in `Demand`: `waiting`, `open`, `closed`, `accepted`, `expired` or `cancelled`.
    pub status: String,
    pub item: DemandItem,
    /// Holders sent an interaction request.
    pub contacted: u64,
    /// Offers they made.
    pub offers: u64,
    pub accepted_offer_id: Option<String>,
    pub deadline: String,
    pub created_at: String,
    pub cancelled_at: Option<String>,
}

/// `GET /v1/demands`: the requester's own demands, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DemandList {
    pub items: Vec<DemandSummary>,
    /// Pass as `?after=` to get the next (older) page; null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodInput {
    /// Only `sandbox_card` is built in.
    #[serde(rename = "type")]
    pub kind: String,
    pub number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: String,
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequesterProfileUpdate {
    #[serde(default)]
    pub ship_to: Option<Address>,
    #[serde(default)]
    pub payment_method: Option<PaymentMethodInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequesterProfile {
    pub ship_to: Option<Address>,
    pub payment_method: Option<PaymentMethod>,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub offer_id: String,
    #[serde(default = "one", deserialize_with = "int::required")]
    pub quantity: i64,
    /// `true`: order and pay in one click with the saved payment method.
    #[serde(default)]
    pub pay: bool,
    /// Defaults to the requester profile's address.
    #[serde(default)]
    pub ship_to: Option<Address>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Order {
    pub id: String,
    /// `placed` (unpaid, holding no stock, payable until `pay_by`), `paid`,
    /// `shipped`, `delivered`, `cancelled`, `refunded` (in full) or `expired`
    /// (not paid by `pay_by`). The lifecycle (`core::state::ORDER_TRANSITIONS`):
    /// placed → paid (requester) → shipped (provider) → delivered (requester,
    /// or the exchange N days after shipping); placed → expired; placed or
    /// paid → cancelled (requester or provider; paid money is refunded in
    /// full, stock and unit restored); paid, shipped or delivered → refunded
    /// once the refunds reach the amount paid.
    pub status: String,
    /// The accepted offer it came from; `null` when placed from the pass page.
    pub offer_id: Option<String>,
    pub product_id: String,
    pub pass_id: String,
    pub requester_id: String,
    pub provider_id: String,
    /// The holder credited with it (and its commission), if any.
    pub holder_id: Option<String>,
    /// For a unique pass: the unit that changed hands with the payment.
    pub unit_no: Option<i64>,
    pub quantity: i64,
    pub unit_price: Money,
    pub total: Money,
    /// The holder's commission, paid by the provider.
    pub commission: Money,
    /// Shown to the requester and the provider; hidden from the holder.
    pub ship_to: Option<Address>,
    pub payment_ref: Option<String>,
    pub created_at: String,
    pub paid_at: Option<String>,
    pub shipped_at: Option<String>,
    /// The carrier and tracking number the provider gave when shipping it.
    /// Shown to the requester and the provider; hidden from the holder.
    #[serde(default)]
    pub tracking: Option<String>,
    /// An unpaid order must be paid by then (RFC 3339); `null` once paid.
    #[serde(default)]
    pub pay_by: Option<String>,
    /// What was refunded so far (zero when nothing was).
    pub refunded_total: Money,
    /// The part of the holder's commission taken back by the refunds:
    /// ⌊commission · refunded / total⌋.
    pub commission_reversed: Money,
    #[serde(default)]
    pub delivered_at: Option<String>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    /// Shown to the requester and the provider; hidden from the holder.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    /// `requested`, `accepted`, `refused` or `refunded`; `null` without a return.
    #[serde(default)]
    pub return_status: Option<String>,
    /// Until when a return may be requested (delivery + the return window).
    #[serde(default)]
    pub return_by: Option<String>,
    /// The order's dispute, if one was opened (one per order).
    #[serde(default)]
    pub dispute_id: Option<String>,
    /// When the provider's and holder's money from it became available
    /// (delivered, return window over, no return or dispute open).
    #[serde(default)]
    pub settled_at: Option<String>,
}

/// `POST /v1/orders/{id}/ship` (the body is optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShipOrder {
    /// Carrier and tracking number, e.g. `UPS 1Z999AA10123456784` (up to
    /// 200 characters); the requester sees it on the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OrderList {
    pub items: Vec<Order>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRating {
    pub positive: bool,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rating {
    pub id: String,
    pub offer_id: String,
    pub holder_id: String,
    pub positive: bool,
    pub comment: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Balances {
    /// The ledger per currency (currency → decimal string): everything the
    /// account received minus everything it paid, pending, available and paid out together.
    pub balances: BTreeMap<String, String>,
    /// Money from orders not yet settled: not delivered, or within their
    /// return window, or with a return or dispute open.
    pub pending: BTreeMap<String, String>,
    /// Settled money, not yet paid out. Negative when a refund took back a
    /// commission (or sale) after it was paid out: see `owes`.
    pub available: BTreeMap<String, String>,
    /// Money paid out of the exchange (`POST /v1/payouts`).
    pub paid_out: BTreeMap<String, String>,
    /// Per currency, what the account owes the exchange because a refund
    /// reversed money it had already been paid out; absent when nothing is owed.
    pub owes: BTreeMap<String, String>,
}

/// `POST /v1/payouts`: pays available money out of the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePayout {
    /// ISO 4217 code.
    pub currency: String,
    /// Decimal string; all that is available when left out.
    #[serde(default)]
    pub amount: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Payout {
    pub amount: Money,
    /// The balances after it.
    pub balances: Balances,
}

// ---------------------------------------------------------------- after the sale

/// `POST /v1/orders/{id}/cancel`, `…/return`, `…/return/refuse`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// 1–2 000 characters.
    pub reason: String,
}

/// `POST /v1/orders/{id}/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// Decimal string in the order's currency, more than zero; everything
    /// not yet refunded when left out.
    #[serde(default)]
    pub amount: Option<String>,
    /// 1–2 000 characters.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Refund {
    pub id: String,
    pub order_id: String,
    /// `refund` (by the provider), `cancel` (a cancellation's full refund)
    /// or `dispute` (an operator's resolution).
    pub kind: String,
    pub amount: Money,
    pub reason: String,
    /// `succeeded` (answers only carry succeeded refunds).
    pub status: String,
    /// The holder's commission this refund took back.
    pub commission_reversed: Money,
    pub created_at: String,
    /// The order after the refund.
    pub order: Order,
}

/// `POST /v1/orders/{id}/disputes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenDispute {
    /// `not_received` or `not_as_described`.
    pub kind: String,
    /// 1–2 000 characters.
    pub reason: String,
}

/// `POST /v1/disputes/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDisputeMessage {
    /// 1–2 000 characters.
    pub body: String,
}

/// `POST /v1/disputes/{id}/resolve` (operators only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResolveDispute {
    /// Decimal string: refund this much (up to what is left to refund) and
    /// close the dispute as `resolved`. Left out: close it as `rejected`.
    #[serde(default)]
    pub refund: Option<String>,
    /// 1–2 000 characters.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DisputeMessage {
    pub id: String,
    pub author_id: String,
    /// `requester`, `provider` or `operator`.
    pub role: String,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Dispute {
    pub id: String,
    pub order_id: String,
    pub requester_id: String,
    pub provider_id: String,
    /// `not_received` or `not_as_described`.
    pub kind: String,
    pub reason: String,
    /// `open`, `resolved` (with a refund) or `rejected`.
    pub status: String,
    pub resolution: Option<String>,
    pub refund: Option<Money>,
    pub created_at: String,
    pub resolved_at: Option<String>,
    /// The message trail, oldest first.
    pub messages: Vec<DisputeMessage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DisputeList {
    /// Without their messages (`GET /v1/disputes/{id}` has them).
    pub items: Vec<Dispute>,
    pub next: Option<String>,
}

// ---------------------------------------------------------------- events and webhooks

/// An event, as streamed (`data:` of an SSE event whose `id:` is `id`), paged
/// and sent to webhooks (the body; `webhook-id` is `id`). The same event
/// always has the same id: use it to drop duplicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Event {
    /// `evt_<n>`; ids of one account's events grow in the order they happened.
    #[cfg_attr(feature = "openapi", schema(example = "evt_42"))]
    pub id: String,
    /// `interaction.requested`, `interaction.expired`, `interaction.withdrawn`,
    /// `offer.created`, `offer.accepted`, `order.placed`, `order.paid`,
    /// `order.shipped`, `order.expired`, `rating.created`; after the sale
    /// `order.cancelled`, `order.refunded`, `order.delivered` and
    /// `order.settled` (requester, provider, holder — the holder's without
    /// the buyer's reasons; `order.settled` to provider and holder),
    /// `order.return_requested`, `order.return_accepted`,
    /// `order.return_refused` (requester and provider), `dispute.opened`,
    /// `dispute.message` (requester, provider, operators),
    /// `dispute.resolved` (requester and provider), and `demand.opened`
    /// (requester: a waiting demand's requests went out).
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(example = "interaction.requested"))]
    pub kind: String,
    /// When it happened (RFC 3339).
    pub timestamp: String,
    /// The ids and facts of the change, by `type` (the `EventData` schemas):
    /// money as `{amount, currency}`; the `*_minor` integers beside it are
    /// deprecated and go in the next release.
    #[cfg_attr(feature = "openapi", schema(value_type = events::EventData))]
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Pass as `after` to get what follows (the last event's id, or `after` itself when empty).
    pub next_after: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An `http(s)` URL; loopback and private addresses are refused unless the
    /// exchange allows them (`--allow-private-webhooks`).
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://hooks.example.com/symbolon")
    )]
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Webhook {
    pub id: String,
    pub url: String,
    /// `whsec_…`, only in the answers to creation and rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: String,
    /// `active` or `disabled`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// The first failed attempt since the last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// Events not yet delivered.
    pub pending: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplayWebhook {
    /// Re-send every event after this id (`evt_…`); all kept events when absent.
    #[serde(default)]
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Replay {
    /// Events queued for delivery.
    pub queued: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookAttempt {
    pub event_id: String,
    /// 1 for the first attempt of that event.
    pub attempt: i64,
    pub at: String,
    /// The endpoint's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `delivered`, `retry` or `disabled`.
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookAttempts {
    /// Newest first.
    pub items: Vec<WebhookAttempt>,
}

// ---------------------------------------------------------------- sealed secrets

/// An account's public keys for sealed secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetPartyKeys {
    /// X25519 in age's format (`age1…`); shares are wrapped to it.
    pub age_recipient: String,
    /// The public Ed25519 JWK that signs seal headers (providers).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub signing_jwk: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PartyKeys {
    pub account_id: String,
    pub age_recipient: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub signing_jwk: serde_json::Value,
    /// SHA-256 of the recipient, 16 bytes in hex groups: compare it out of band.
    pub fingerprint: String,
    pub updated_at: String,
}

/// A pass's sealed payload (standard base64 of an age v1 file) and its
/// provider-signed header (a compact JWS, `typ` `pass-seal+jwt`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PassSeal {
    pub header: String,
    pub payload: String,
}

/// A share wrapped (age, standard base64) to its recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShareToHolder {
    pub holder_id: String,
    pub wrapped: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WrappedShares {
    /// One or more wrapped shares (at most 16).
    pub wrapped: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SealedShare {
    pub id: String,
    pub pass_id: String,
    pub sender_id: String,
    /// `holder` (from the provider), `offer` (from the holder, with an offer) or
    /// `release` (from the provider, once the order is paid).
    pub kind: String,
    pub offer_id: Option<String>,
    pub order_id: Option<String>,
    pub wrapped: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SealedShares {
    pub items: Vec<SealedShare>,
}

// ---------------------------------------------------------------- errors

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// A stable code from the error table, e.g. `insufficient_holders`.
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
}

/// The readiness probe's answer (`GET /readyz`, 200): every check passed.
/// When one fails the answer is 503 `not_ready`, whose `details` carry the
/// same `checks` and name the first failing one (`failing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Readiness {
    /// `ready`.
    pub status: String,
    /// `draining`, `store`, `migrations`, `engine`, in that order.
    pub checks: Vec<ReadinessCheck>,
}

/// One readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReadinessCheck {
    pub name: String,
    pub ok: bool,
    /// What was found, e.g. `schema 17 of 17`.
    pub detail: String,
}

// ---------------------------------------------------------------- verifiable passes

/// An order placed on a pass directly (the pass's `order` / `order_and_pay` actions, and its page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreatePassOrder {
    /// 1–`MAX_ORDER_QUANTITY` (default 1; unique passes: 1).
    #[serde(default, deserialize_with = "int::optional")]
    pub quantity: Option<i64>,
    /// Pay at once with the saved payment method (one click).
    #[serde(default)]
    pub pay: bool,
    /// The holder whose link brought the buyer: credited with the order and its commission. It must hold the pass.
    #[serde(default)]
    pub via: Option<String>,
    /// Defaults to the saved profile's address.
    #[serde(default)]
    pub ship_to: Option<Address>,
}

/// Hands a unit one owns to another account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransferUnit {
    pub to: String,
}

/// One signed transfer of a unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnitTransferView {
    pub seq: i64,
    /// Who handed it on, as the statement names them: the holder by its
    /// account id, a buyer by a pseudonym (`own_…`, stable within this pass).
    pub from: String,
    /// Who received it (a buyer's pseudonym).
    pub to: String,
    /// The statement: compact JWS, `typ: pass-transfer+jwt`, linked to the one before by `prev`.
    pub jws: String,
    pub created_at: String,
}

/// A unit's ownership history; verifies offline with the pass and its issuer's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnitHistory {
    pub pass_id: String,
    pub unit_no: i64,
    /// The unit's id (the statements' `unit`).
    pub unit_id: String,
    pub pass_jws: String,
    pub jwks_url: String,
    /// The current owner's pseudonym (`own_…`; purchases are anonymous);
    /// `null` while unsold.
    pub owner: Option<String>,
    /// The holder it was granted to (holders are public).
    pub holder: Option<String>,
    pub transfers: Vec<UnitTransferView>,
}

/// The units of a unique pass that have changed hands (public), and how
/// many can still be bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PassUnits {
    pub pass_id: String,
    /// Units granted to holders and not yet sold (0 for a shareable pass).
    pub unsold: i64,
    /// Units with a history, by number.
    pub items: Vec<UnitSummary>,
    /// Pass as `?after=` to get the next page; null on the last page.
    pub next: Option<String>,
}

/// A unit that has changed hands at least once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnitSummary {
    pub unit_no: i64,
    /// The owner's pseudonym (`own_…`), or the holder's id when it was handed
    /// back; null if nobody owns it.
    pub owner: Option<String>,
    /// How many signed transfers its history has.
    pub transfers: i64,
    /// When it last changed hands (RFC 3339).
    pub last_at: String,
    /// Its full history: `GET` this path.
    pub history: String,
}

/// A provider's signing key as the provider sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SigningKey {
    pub kid: String,
    /// Signs new passes.
    pub active: bool,
    /// Still in the published JWKS (active, or retired with passes not yet expired).
    pub published: bool,
    pub created_at: String,
    pub retired_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SigningKeys {
    pub keys: Vec<SigningKey>,
}

/// A public key the provider keeps the private half of (it signs passes itself with `symbolon pass sign`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterSigningKey {
    /// An OKP/Ed25519 public JWK: `{"kty":"OKP","crv":"Ed25519","x":…}`. A private `d` is refused.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub jwk: serde_json::Value,
}

/// A pass the provider signed itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UploadPass {
    /// The compact JWS (`typ: vc+jwt`), signed with one of the provider's active keys.
    pub jws: String,
}
