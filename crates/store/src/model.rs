//! Records the store keeps. Times are [`Timestamp`]s; money is integer minor units.

use serde::{Deserialize, Serialize};
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::state::{
    DisputeKind, DisputeStatus, InteractionStatus, OfferStatus, OrderStatus, PassMode, RefundKind,
    RefundStatus, ReturnStatus, Role,
};
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

/// A provider's signing key. `secret` is the Ed25519 seed sealed under the
/// server's master key (see the exchange's `keyring`); a 32-byte value is a
/// seed stored before sealing existed. `None`: the provider keeps the secret
/// and signs its passes itself.
#[derive(Clone, PartialEq)]
pub struct ProviderKeyRecord {
    pub kid: String,
    pub provider_id: String,
    pub public_key: [u8; 32],
    pub secret: Option<Vec<u8>>,
    pub created_at: Timestamp,
    /// When a newer key replaced it for signing.
    pub retired_at: Option<Timestamp>,
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
    /// Set for people who signed up on the web: how they sign in.
    pub login: Option<NewLogin>,
}

/// A person's sign-in, written with the account.
#[derive(Clone, PartialEq)]
pub struct NewLogin {
    /// As given (trimmed).
    pub email: String,
    /// Lowercased: unique across logins.
    pub email_lower: String,
    /// argon2id, PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for NewLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLogin")
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

/// A stored login (see [`crate::PeopleStore`]).
#[derive(Clone, PartialEq)]
pub struct Login {
    pub account_id: String,
    pub email: String,
    pub password_hash: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

/// A web session: only the SHA-256 of its token is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSession {
    /// Public id (`ses_…`), to name it in the list of signed-in devices.
    pub id: String,
    /// Hex SHA-256 of the session token.
    pub token_hash: String,
    pub account_id: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// The absolute expiry.
    pub expires_at: Timestamp,
    /// The inactivity expiry (moved forward as the session is used).
    pub idle_expires_at: Timestamp,
    /// The browser's `User-Agent`, truncated.
    pub user_agent: String,
    pub revoked_at: Option<Timestamp>,
}

/// An API key beyond the registration key: only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    /// Public id (`apk_…`).
    pub id: String,
    /// Hex SHA-256 of the key.
    pub key_hash: String,
    pub account_id: String,
    pub label: String,
    /// The key's last characters, to recognise it in a list.
    pub hint: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A passkey (WebAuthn credential) an account signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// The credential id, base64url (the primary key).
    pub credential_id: String,
    pub account_id: String,
    /// The name its owner gave it.
    pub name: String,
    /// The serialized `webauthn_rs::prelude::Passkey` (public key, counter).
    pub passkey_json: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A passkey ceremony under way: the state the server keeps between its
/// start and its finish (taken once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyCeremony {
    /// A random id, given to the browser.
    pub id: String,
    /// The account registering (none for a sign-in).
    pub account_id: Option<String>,
    /// The client address that started it (the sign-in throttle's key), if
    /// known: at most `MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS` per address.
    pub client: Option<String>,
    /// `register` or `authenticate`.
    pub kind: String,
    /// The serialized webauthn-rs ceremony state.
    pub state_json: String,
    pub expires_at: Timestamp,
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
    pub gtin: Option<String>,
    /// When its provider archived it: it is no longer sold (it leaves the
    /// market as a sold-out product does) and no longer changes.
    pub archived_at: Option<Timestamp>,
    /// Bumped by every change of a field its passes sign (title, description,
    /// category, specs, price, GTIN), which is possible only while it has no
    /// pass: a pass is issued only against the revision it was signed from.
    pub revision: i64,
}

impl Product {
    /// Still sold: not archived.
    pub fn on_sale(&self) -> bool {
        self.archived_at.is_none()
    }
}

/// A provider's change to its product ([`crate::ManageStore::update_product`]):
/// `None` keeps a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductChange {
    pub product_id: String,
    /// The caller; another provider's product is `NotFound`.
    pub provider_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub specs: Option<Vec<(String, String)>>,
    /// Price in minor units and its currency.
    pub price: Option<(i64, String)>,
    /// `Some(None)` removes the GTIN.
    pub gtin: Option<Option<String>>,
    pub stock: Option<i64>,
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
    /// The signing key's id (`None` for passes issued before schema v3).
    pub kid: Option<String>,
    /// The pass's bit in its provider's revocation status list.
    pub status_index: Option<i64>,
    pub revoked_at: Option<Timestamp>,
}

impl Pass {
    /// Inside its validity window and not revoked.
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none()
            && self.valid_from <= now
            && self.valid_until.is_none_or(|u| now < u)
    }
}

/// A unit of a unique pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub pass_id: String,
    pub unit_no: i64,
    /// The holder it was granted to, if any yet.
    pub holder_id: Option<String>,
    /// Its owner, once sold.
    pub owner_id: Option<String>,
}

/// Counts of a unique pass's units (see [`crate::Store::unit_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnitCounts {
    pub granted: i64,
    pub unsold: i64,
}

/// A unit that has changed hands at least once.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSummary {
    pub unit_no: i64,
    /// Its owner now (none once a cancelled sale handed it back).
    pub owner_id: Option<String>,
    /// The holder it was granted to.
    pub holder_id: Option<String>,
    pub transfers: i64,
    /// When it last changed hands.
    pub last_at: Timestamp,
}

/// One signed transfer of a unit's ownership (see `symbolon_pass::transfer`).
#[derive(Debug, Clone, PartialEq)]
pub struct UnitTransfer {
    pub id: String,
    pub pass_id: String,
    pub unit_no: i64,
    /// 1 for the first sale, then 2, 3, …
    pub seq: i64,
    pub from_id: String,
    pub to_id: String,
    pub jws: String,
    pub created_at: Timestamp,
}

/// What a pass page shows of a pass's trade.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassActivity {
    /// Orders placed under the pass.
    pub orders: i64,
    /// Units ordered in all.
    pub quantity: i64,
    /// The most recent orders: `(placed at, quantity)`, newest first.
    pub recent: Vec<(Timestamp, i64)>,
    /// Ratings of offers of this pass, newest first.
    pub reviews: Vec<Review>,
    pub positive: i64,
    pub ratings: i64,
}

/// A rating of a holder, shown on its public page (no rater identity).
#[derive(Debug, Clone, PartialEq)]
pub struct HolderReview {
    pub offer_id: String,
    pub positive: bool,
    pub comment: Option<String>,
    pub created_at: Timestamp,
}

/// A rating shown on a pass page (no rater identity).
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub positive: bool,
    pub comment: Option<String>,
    pub created_at: Timestamp,
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

/// One logged market version ([`crate::Store::market_changes`]): the holder
/// it changed, and whether it changed the holder's supply (a grant or its
/// removal: re-read the holder's holdings) or only its reputation or fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketChange {
    pub version: i64,
    pub holder_id: String,
    pub supply: bool,
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
    /// When its requester cancelled it (ms).
    #[serde(default)]
    pub cancelled_at: Option<i64>,
}

impl DemandRecord {
    /// Its state at `now`.
    pub fn status_at(&self, now: Timestamp) -> symbolon_core::state::DemandStatus {
        symbolon_core::state::DemandStatus::derive(
            self.accepted_offer_id.is_some(),
            self.cancelled_at.is_some(),
            self.waiting,
            self.deadline,
            now.millis(),
        )
    }
}

/// A demand as its requester's list shows it: the demand and how far it got.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandListing {
    /// Its place in the requester's list (the cursor of the next page).
    pub seq: i64,
    pub demand: DemandRecord,
    /// Interaction requests sent for it.
    pub contacted: i64,
    /// Offers the holders made.
    pub offers: i64,
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
    /// The holder's reason, when it declined.
    pub decline_reason: Option<String>,
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
    pub bucket: Bucket,
}

/// Where a posting's money sits: a provider's and a holder's money from an
/// order is `Pending` until the order is delivered and its return window has
/// passed, then the sweeper settles it to `Available`. A refund after that
/// takes it back from `Available`, which may then go negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    Pending,
    Available,
    /// Available money paid out of the exchange (to the account's bank).
    PaidOut,
}

impl Bucket {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Available => "available",
            Self::PaidOut => "paid_out",
        }
    }
}

/// What happened to an order after its sale (all zero or `None` until then).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AfterSale {
    /// Refunds that succeeded.
    pub refunded_minor: i64,
    /// Refunds that succeeded or are in flight (reserved before the gateway is called).
    pub refund_claimed_minor: i64,
    /// ⌊commission · refunded / total⌋: the holder's commission taken back.
    pub commission_reversed_minor: i64,
    pub delivered_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    /// The account that cancelled it.
    pub cancelled_by: Option<String>,
    pub return_status: Option<ReturnStatus>,
    pub return_reason: Option<String>,
    pub return_requested_at: Option<Timestamp>,
    pub dispute_id: Option<String>,
    /// When its pending money became available.
    pub settled_at: Option<Timestamp>,
    /// The carrier and tracking number the provider gave when shipping it.
    pub tracking: Option<String>,
}

/// A refund, from its reservation to the gateway's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub order_id: String,
    pub kind: RefundKind,
    pub amount_minor: i64,
    pub reason: String,
    pub by_id: String,
    pub dispute_id: Option<String>,
    pub status: RefundStatus,
    pub gateway_ref: Option<String>,
    pub commission_reversed_minor: i64,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

/// A refund to reserve: `amount_minor: None` is the rest of what was paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    pub id: String,
    pub order_id: String,
    pub kind: RefundKind,
    pub amount_minor: Option<i64>,
    pub reason: String,
    pub by_id: String,
    pub dispute_id: Option<String>,
    pub at: Timestamp,
}

/// The gateway refunded a reserved refund: what completes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundDone {
    pub refund_id: String,
    pub gateway_ref: String,
    pub ledger_id: String,
    /// For a cancellation of a paid unique-pass order: the signed statement
    /// handing the unit back to its holder (applied only if the order is
    /// still `paid` when the refund completes).
    pub unit_return: Option<UnitTransfer>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    pub id: String,
    pub order_id: String,
    pub requester_id: String,
    pub provider_id: String,
    pub kind: DisputeKind,
    pub reason: String,
    pub status: DisputeStatus,
    pub resolution: Option<String>,
    pub refund_minor: Option<i64>,
    pub resolved_by: Option<String>,
    pub created_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeMessage {
    pub id: String,
    pub dispute_id: String,
    pub author_id: String,
    /// The author's part in the dispute: requester, provider or operator.
    pub role: String,
    pub body: String,
    pub created_at: Timestamp,
}

/// An account's ledger per currency, split by bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketBalance {
    pub currency: String,
    pub pending: i64,
    pub available: i64,
    pub paid_out: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: String,
    /// The accepted offer it came from; `None` when placed from the pass page.
    pub offer_id: Option<String>,
    pub requester_id: String,
    pub provider_id: String,
    /// The holder credited with the order (and its commission), if any.
    pub holder_id: Option<String>,
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
    /// The unit of a unique pass that changed hands with the payment.
    pub unit_no: Option<i64>,
    /// Until when an unpaid order may be paid (it expires then); `None` for
    /// an order paid as it was placed.
    pub pay_by: Option<Timestamp>,
    /// Insertion order, for pagination.
    pub seq: i64,
    pub after_sale: AfterSale,
}

impl Order {
    /// The order as of `now`: an unpaid order past its `pay_by` is expired
    /// even before the sweeper has marked it.
    pub fn as_of(mut self, now: Timestamp) -> Self {
        if self.status == OrderStatus::Placed && self.pay_by.is_some_and(|t| t <= now) {
            self.status = OrderStatus::Expired;
        }
        self
    }
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

/// The stored answer to a request made with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What [`crate::Store::idempotency_begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    /// First use (or a crashed attempt whose lock expired): run the request, then finish or release.
    Run,
    /// Already answered: replay this.
    Replay(StoredResponse),
    /// The key was used with different parameters.
    Mismatch,
    /// A request with this key is still running.
    InProgress,
}

/// One event of the outbox, addressed to one account. Written by the store in
/// the transaction of the change that causes it; `seq` grows in commit order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    pub seq: i64,
    pub account_id: String,
    /// `interaction.requested`, `offer.created`, `order.paid`, …
    pub kind: String,
    /// A JSON object.
    pub data: String,
    pub created_at: Timestamp,
}

/// A webhook endpoint. Secrets are stored sealed (the exchange seals and opens them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub secret: Vec<u8>,
    /// After a rotation, the previous secret still signs until `previous_until`.
    pub previous_secret: Option<Vec<u8>>,
    pub previous_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
    pub disabled_reason: Option<String>,
    /// The first failed attempt since the last success.
    pub failing_since: Option<Timestamp>,
    /// Deliveries not yet made (read-only; counted on read).
    pub pending: i64,
}

/// A due delivery claimed by a worker (leased until the lease it asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryJob {
    pub endpoint: WebhookEndpoint,
    pub event: EventRecord,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub endpoint_id: String,
    pub event_seq: i64,
    /// 1 for the first attempt.
    pub attempt: i64,
    pub at: Timestamp,
    /// The HTTP status, if the endpoint answered.
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `delivered`, `retry` or `disabled`.
    pub outcome: String,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// 2xx: done; the endpoint is healthy again.
    Delivered,
    /// Try again at `at`; the endpoint is disabled if it has been failing
    /// since `disable_if_failing_since` or earlier.
    Retry {
        at: Timestamp,
        disable_if_failing_since: Timestamp,
    },
    /// The endpoint asked to stop (410): it is disabled; the delivery waits.
    Disable { reason: String },
}

/// An account's public keys for sealed secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyKeys {
    pub account_id: String,
    /// X25519, age's `age1…`.
    pub age_recipient: String,
    /// The account's public Ed25519 JWK (JSON), which signs seal headers.
    pub signing_jwk: String,
    pub updated_at: Timestamp,
}

/// A pass's sealed payload and its signed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassSeal {
    pub pass_id: String,
    pub seal_id: String,
    pub header_jws: String,
    /// An age v1 file.
    pub payload: Vec<u8>,
    pub created_at: Timestamp,
}

/// A share wrapped (age) to its recipient; the store never sees it unwrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedShare {
    pub id: String,
    pub pass_id: String,
    pub recipient_id: String,
    pub sender_id: String,
    /// `holder`, `offer` or `release`.
    pub kind: String,
    pub offer_id: Option<String>,
    pub order_id: Option<String>,
    pub wrapped: Vec<u8>,
    pub created_at: Timestamp,
}

/// One connection pool of a backend, as metrics show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStats {
    /// `reader` (SQLite's read-only pool), `main` (PostgreSQL's).
    pub name: &'static str,
    /// Connections open now (idle or in use).
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}
