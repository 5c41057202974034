use crate::error::StoreResult;
use crate::model::*;
use symbolon_core::Timestamp;

/// A live subscription to "events were committed" (see [`Store::event_wakeups`]).
#[async_trait::async_trait]
pub trait EventWakeups: Send {
    /// Waits for the next commit of events by any process. An error means
    /// the connection was lost; the next call reconnects.
    async fn next(&mut self) -> StoreResult<()>;
}

/// Everything Symbolon persists. Each method is atomic.
///
/// Reputation is derived from interactions and ratings as of a moment `now`:
/// a pending interaction whose deadline has passed counts as expired even
/// before [`Store::expire_due`] has marked it.
#[async_trait::async_trait]
pub trait Store:
    OutboxStore
    + SealStore
    + crate::LifecycleStore
    + crate::DisputeStore
    + crate::UnitStore
    + crate::ManageStore
    + crate::PeopleStore
    + crate::MailStore
    + crate::LogStore
    + Send
    + Sync
    + 'static
{
    /// A short name of the backend (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// Flushes and closes connections; called once at shutdown.
    async fn close(&self) {}

    /// The newest migration applied to the database: a cheap read that
    /// answers only when the store does (the readiness probe).
    async fn schema_version(&self) -> StoreResult<i64>;

    /// The newest migration this binary knows (and runs at open).
    fn known_schema_version(&self) -> i64;

    /// The backend's connection pools, for metrics (none by default).
    fn pool_stats(&self) -> Vec<PoolStats> {
        Vec::new()
    }

    /// Wake-ups when any process commits events, for backends shared by
    /// several processes (PostgreSQL: `LISTEN symbolon_events`, notified by
    /// a trigger on `events` at commit). `None`: the backend has none, and
    /// replicas rely on polling [`OutboxStore::last_event_seq`]. A wake-up is
    /// a hint to poll, never a substitute: notifications sent while the
    /// listener reconnects are lost.
    async fn event_wakeups(&self) -> StoreResult<Option<Box<dyn EventWakeups>>> {
        Ok(None)
    }

    // --- accounts -------------------------------------------------------
    /// Creates an account (and, for providers, its first signing key; for
    /// people, their login: `Conflict::EmailTaken` if another login has the
    /// same lowercased email).
    async fn create_account(&self, new: &NewAccount) -> StoreResult<()>;
    async fn account(&self, id: &str) -> StoreResult<Account>;
    /// The account whose API key hashes to `hash`: its registration key, or
    /// one of its API keys not revoked ([`crate::PeopleStore`]).
    async fn account_by_key_hash(&self, hash: &str) -> StoreResult<Account>;
    /// A provider's signing keys, oldest first.
    async fn provider_keys(&self, provider_id: &str) -> StoreResult<Vec<ProviderKeyRecord>>;
    /// Adds a key; with `retire_others` (rotation) the provider's active keys
    /// are retired at the new key's `created_at`, in the same transaction.
    /// A provider with `MAX_SIGNING_KEYS` keys already is refused
    /// ([`crate::Conflict::TooManySigningKeys`]), counted in that transaction.
    async fn add_provider_key(
        &self,
        key: &ProviderKeyRecord,
        retire_others: bool,
    ) -> StoreResult<()>;
    /// Keys whose secret is still a 32-byte unsealed seed (written before schema v3).
    async fn unsealed_provider_keys(&self) -> StoreResult<Vec<ProviderKeyRecord>>;
    /// Replaces a key's unsealed seed `plain` by `sealed`; `false` if it was no longer `plain`.
    async fn set_provider_key_secret(
        &self,
        kid: &str,
        plain: &[u8],
        sealed: &[u8],
    ) -> StoreResult<bool>;
    /// When the oldest of the provider's passes not yet expired at `now` was
    /// issued: a retired key stays published while a pass issued before its
    /// retirement lives (it signed that pass, or statements and licences about it).
    async fn oldest_unexpired_pass(
        &self,
        provider_id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>>;
    /// One provider key whose secret is sealed (start-up checks the master key opens it).
    async fn any_sealed_provider_key(&self) -> StoreResult<Option<ProviderKeyRecord>>;

    // --- catalog --------------------------------------------------------
    async fn create_product(&self, product: &Product) -> StoreResult<()>;
    async fn product(&self, id: &str) -> StoreResult<Product>;
    /// Creates a pass; a unique pass gets its units numbered 1..=units.
    /// Under the product row's lock it refuses a product archived
    /// ([`crate::Conflict::ProductArchived`]) or whose signed fields changed
    /// since `product_revision`, the revision the pass was signed from
    /// ([`crate::Conflict::ProductChanged`]): a pass never claims what its
    /// product no longer is.
    async fn create_pass(&self, pass: &Pass, product_revision: i64) -> StoreResult<()>;
    async fn pass(&self, id: &str) -> StoreResult<Pass>;
    /// Puts a pass in a holder's wallet (again: adds units). Unique passes
    /// take `units` from the units no holder has yet ([`crate::Conflict::UnitsExhausted`] if too few).
    async fn grant(&self, grant: &NewGrant) -> StoreResult<Holding>;

    /// Revokes a pass (once: revoking again keeps the first time) and returns it.
    async fn revoke_pass(&self, pass_id: &str, at: Timestamp) -> StoreResult<Pass>;
    /// The status list indices of the provider's revoked passes.
    async fn revoked_status_indices(&self, provider_id: &str) -> StoreResult<Vec<i64>>;
    async fn unit(&self, pass_id: &str, unit_no: i64) -> StoreResult<Unit>;
    /// The lowest-numbered unsold unit the holder holds.
    async fn free_unit(&self, pass_id: &str, holder_id: &str) -> StoreResult<Option<i64>>;
    /// A unit's transfers, oldest first.
    async fn unit_history(&self, pass_id: &str, unit_no: i64) -> StoreResult<Vec<UnitTransfer>>;
    /// Records a transfer by the unit's owner: `seq` must follow the last
    /// transfer and `from_id` must own the unit ([`crate::Conflict::UnitAlreadySold`] otherwise).
    async fn transfer_unit(&self, transfer: &UnitTransfer) -> StoreResult<()>;
    /// Purchases (paid orders: an unpaid order is no purchase) and reviews of
    /// a pass, for its page (`recent` of each, newest first; a purchase dated
    /// by its payment).
    async fn pass_activity(&self, pass_id: &str, recent: u32) -> StoreResult<PassActivity>;

    // --- holders --------------------------------------------------------
    async fn set_holder_fields(&self, holder_id: &str, fields: &[String]) -> StoreResult<()>;
    /// A holder's fields and reputation at `now`. Expired requests count once
    /// per requester per UTC day of their deadline (`EXPIRY_COUNT_WINDOW_MS`),
    /// answers and declines one by one.
    async fn holder(&self, holder_id: &str, now: Timestamp) -> StoreResult<HolderState>;
    /// The holder's wallet, in grant order.
    async fn wallet(&self, holder_id: &str) -> StoreResult<Vec<Holding>>;
    /// One pass in a holder's wallet.
    async fn holding(&self, holder_id: &str, pass_id: &str) -> StoreResult<Holding>;
    /// Every holding usable at `now` (pass valid, units left for unique passes,
    /// product in stock and not archived) and the state of every holder behind them.
    async fn market(&self, now: Timestamp) -> StoreResult<MarketSnapshot>;

    // --- demands and interactions --------------------------------------
    /// Records a demand and the interaction requests sent for it. Inside the
    /// same transaction it refuses a requester who already has
    /// `MAX_OPEN_DEMANDS_PER_REQUESTER` demands open at the demand's
    /// `created_at` ([`crate::Conflict::TooManyOpenDemands`]) or, for a
    /// standing demand, `MAX_WAITING_DEMANDS_PER_REQUESTER` waiting
    /// ([`crate::Conflict::TooManyWaitingDemands`]), so no interleaving of
    /// requests passes a limit.
    async fn create_demand(
        &self,
        demand: &DemandRecord,
        requests: &[Interaction],
    ) -> StoreResult<()> {
        self.create_demand_logged(demand, requests, None).await
    }
    /// [`Store::create_demand`], appending `entry` to the selection log
    /// ([`crate::LogStore`]) last in the same transaction: the selection and
    /// its entry commit together or not at all.
    async fn create_demand_logged(
        &self,
        demand: &DemandRecord,
        requests: &[Interaction],
        entry: Option<&crate::tlog::NewLogEntry>,
    ) -> StoreResult<()>;
    async fn demand(&self, id: &str) -> StoreResult<DemandRecord>;
    /// Standing demands still waiting for holders at `now` (deadline after it), oldest first.
    async fn waiting_demands(&self, now: Timestamp) -> StoreResult<Vec<DemandRecord>>;
    /// How many standing demands of this requester are waiting at `now`.
    async fn count_waiting(&self, requester_id: &str, now: Timestamp) -> StoreResult<u64>;
    /// Sends a waiting demand's interaction requests, if it is still waiting
    /// and before its deadline; `false` (and nothing written) otherwise — so
    /// replicas racing to activate one demand contact its holders once.
    async fn activate_demand(
        &self,
        demand_id: &str,
        requests: &[Interaction],
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.activate_demand_logged(demand_id, requests, now, None)
            .await
    }
    /// [`Store::activate_demand`], appending `entry` to the selection log in
    /// the same transaction (nothing is appended when it returns `false`).
    async fn activate_demand_logged(
        &self,
        demand_id: &str,
        requests: &[Interaction],
        now: Timestamp,
        entry: Option<&crate::tlog::NewLogEntry>,
    ) -> StoreResult<bool>;
    /// A number that grows with every committed change that can change
    /// matching (passes, grants, stock, units, holder fields, interactions,
    /// ratings). Equal numbers mean the same market, on every replica.
    async fn market_version(&self) -> StoreResult<i64>;
    /// The holder each market version in `(after, upto]` changed, oldest
    /// first: one row per version that changed only one holder — its
    /// reputation or fields, or its supply (a grant or its removal,
    /// `supply`). Versions that changed other supply (passes, units, stock)
    /// have no row, so fewer rows than `upto - after` mean "re-read the
    /// market". Rows older than what [`Store::prune_market_changes`] kept are
    /// gone (the same answer).
    async fn market_changes(&self, after: i64, upto: i64) -> StoreResult<Vec<MarketChange>>;
    /// The holdings of these holders usable at `now`, exactly as
    /// [`Store::market`] would list them (ordered by holder, then pass).
    async fn holdings_of(&self, holder_ids: &[String], now: Timestamp)
        -> StoreResult<Vec<Holding>>;
    /// Forgets market changes up to `version`, at most `limit` of them (the
    /// oldest; a sweep's work stays bounded however many piled up); returns
    /// how many.
    async fn prune_market_changes(&self, version: i64, limit: u32) -> StoreResult<u64>;
    /// [`Store::holder`] for each of `ids` (unknown ones are skipped).
    async fn holders(&self, ids: &[String], now: Timestamp) -> StoreResult<Vec<HolderState>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.holder(id, now).await {
                Ok(h) => out.push(h),
                Err(crate::StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
    /// The interaction requests of a demand, best match first.
    async fn demand_interactions(&self, demand_id: &str) -> StoreResult<Vec<Interaction>>;
    /// The offers made for a demand, oldest first.
    async fn demand_offers(&self, demand_id: &str) -> StoreResult<Vec<Offer>>;
    /// A holder's interaction requests, oldest first; with `pending_at`, only
    /// those still awaiting an answer then (pending, before their deadline).
    async fn inbox(
        &self,
        holder_id: &str,
        pending_at: Option<Timestamp>,
        page: &Page,
    ) -> StoreResult<Vec<Interaction>>;
    /// A holder's newest `limit` interaction requests, newest first (the
    /// console's inbox: what arrived last is never cut off by what came before).
    async fn inbox_newest(&self, holder_id: &str, limit: u32) -> StoreResult<Vec<Interaction>>;
    async fn interaction(&self, id: &str) -> StoreResult<Interaction>;
    /// Answers a pending interaction with an offer, if `now` is before its
    /// deadline and the pass's product was not archived
    /// ([`crate::Conflict::ProductArchived`]).
    async fn create_offer(&self, offer: &NewOffer) -> StoreResult<Offer>;
    /// Declines a pending interaction, if `now` is before its deadline, with
    /// the holder's reason, if it gave one.
    async fn decline(
        &self,
        interaction_id: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Interaction>;
    /// Marks every pending interaction whose deadline is at or before `now` as expired; returns how many.
    async fn expire_due(&self, now: Timestamp) -> StoreResult<u64>;
    async fn offer(&self, id: &str) -> StoreResult<Offer>;
    /// Accepts an offer: one per demand. For a unique pass the holder must
    /// still have an unsold unit and the product stock, but nothing changes
    /// hands: a unit moves only when the order placed from the offer is paid.
    /// The demand's other pending requests become `withdrawn`. A cancelled
    /// demand ([`crate::Conflict::DemandCancelled`]) or an archived product
    /// ([`crate::Conflict::ProductArchived`]) is refused.
    async fn accept_offer(&self, acceptance: &Acceptance) -> StoreResult<Offer>;

    // --- requesters, orders, ledger ------------------------------------
    /// Saves a requester profile; a `None` field keeps what is saved (merged atomically).
    async fn set_requester_profile(&self, profile: &RequesterProfile) -> StoreResult<()>;
    async fn requester_profile(&self, account_id: &str) -> StoreResult<RequesterProfile>;
    /// Places an order — from an accepted offer, or from the pass page when
    /// `offer_id` is `None`. With a settlement it is paid as it is placed:
    /// the stock is taken, a unique pass's unit changes hands (`transfer`) and
    /// the ledger is posted, all in one transaction. Without one it is an
    /// unpaid order (`pay_by` set) that takes nothing; the store checks, in
    /// the same transaction, that the product has the quantity in stock now,
    /// that the holder of a unique pass still has an unsold unit, and the
    /// requester's unpaid limits (`MAX_UNPAID_ORDERS_PER_REQUESTER`,
    /// `MAX_UNPAID_QUANTITY_PER_REQUESTER`:
    /// [`crate::Conflict::TooManyUnpaidOrders`]). An archived product is no
    /// longer sold ([`crate::Conflict::ProductArchived`]).
    async fn place_order(
        &self,
        order: &Order,
        transfer: Option<&UnitTransfer>,
        settlement: Option<&Settlement>,
    ) -> StoreResult<Order>;
    /// Pays a placed order before its `pay_by` (the settlement's time):
    /// takes the stock, moves the unit of a unique pass (`transfer`, required
    /// when the order has no unit yet) and posts the ledger, in one
    /// transaction. [`crate::Conflict::OrderExpired`] past `pay_by`;
    /// [`crate::Conflict::ProductArchived`] once the product was archived.
    async fn pay_order(
        &self,
        order_id: &str,
        settlement: &Settlement,
        transfer: Option<&UnitTransfer>,
    ) -> StoreResult<Order>;
    /// Marks unpaid orders whose `pay_by` is at or before `now` as expired
    /// (each an `order.expired` event); returns how many.
    async fn expire_unpaid_orders(&self, now: Timestamp) -> StoreResult<u64>;
    /// Ships a paid order (an unpaid one is [`crate::Conflict::InvalidState`]),
    /// with the carrier's tracking, if given.
    async fn ship_order(
        &self,
        order_id: &str,
        tracking: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Order>;
    async fn order(&self, id: &str) -> StoreResult<Order>;
    async fn orders(&self, party: OrderParty<'_>, page: &Page) -> StoreResult<Vec<Order>>;
    /// Balances of an account per currency (only currencies with postings).
    async fn balances(&self, account_id: &str) -> StoreResult<Vec<(String, i64)>>;
    /// The sum of all postings per currency (zero in a sound ledger).
    async fn ledger_totals(&self) -> StoreResult<Vec<(String, i64)>>;

    // --- idempotency keys ---------------------------------------------------
    /// Claims `(account, key)` for a request with `fingerprint`, atomically:
    /// a new key (or one whose running lock is older than `stale_before`) is
    /// locked at `now` and [`IdempotencyStart::Run`]; a finished one replays;
    /// a different fingerprint is a mismatch; a fresh lock is in progress.
    async fn idempotency_begin(
        &self,
        account_id: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<IdempotencyStart>;
    /// Stores the response of a running key.
    async fn idempotency_finish(
        &self,
        account_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a running key (the request failed in a way worth retrying).
    async fn idempotency_release(&self, account_id: &str, key: &str) -> StoreResult<()>;
    /// Deletes keys created before `before`; returns how many.
    async fn idempotency_prune(&self, before: Timestamp) -> StoreResult<u64>;

    // --- ratings --------------------------------------------------------
    /// Records the one rating of an offer. Only its requester may rate
    /// (`NotFound` otherwise), only an accepted offer whose order is paid
    /// ([`crate::Conflict::RatingNotAllowed`]), and only once
    /// ([`crate::Conflict::AlreadyRated`]) — checked in the writing transaction.
    async fn rate(&self, rating: &Rating) -> StoreResult<()>;
}

/// The outbox and webhook deliveries (part of every [`Store`]). The SQL
/// backends implement it once, through `sql_outbox_methods!`.
#[async_trait::async_trait]
pub trait OutboxStore: Send + Sync {
    // --- events (the outbox) and webhooks ----------------------------------
    /// The account's events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(
        &self,
        account_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<EventRecord>>;
    /// Every account's events with `seq > after`, oldest first, at most
    /// `limit`: what a replica's event hub tails (one read for all streams).
    /// Events are numbered in commit order on every backend, so a tail never
    /// skips one that commits later.
    async fn events_since(&self, after: i64, limit: u32) -> StoreResult<Vec<EventRecord>>;
    /// The highest event `seq` committed (0 if none).
    async fn last_event_seq(&self) -> StoreResult<i64>;
    /// When the oldest event still waiting for a webhook delivery to an
    /// enabled endpoint was written (`None`: nothing waits).
    async fn oldest_undelivered_event(&self) -> StoreResult<Option<Timestamp>>;
    /// Deletes events created before `before` that no delivery still waits
    /// for; returns how many.
    async fn prune_events(&self, before: Timestamp) -> StoreResult<u64>;
    /// Registers an endpoint unless its account already has `max_per_account`
    /// ([`crate::Conflict::TooManyWebhooks`]): counted inside the inserting
    /// transaction, after locking the account, so no interleaving of
    /// concurrent registrations (on any replica) passes the limit.
    async fn create_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        max_per_account: usize,
    ) -> StoreResult<()>;
    /// The account's endpoints, oldest first.
    async fn webhooks(&self, account_id: &str) -> StoreResult<Vec<WebhookEndpoint>>;
    /// One of the account's endpoints ([`crate::StoreError::NotFound`] for another account's).
    async fn webhook(&self, account_id: &str, id: &str) -> StoreResult<WebhookEndpoint>;
    /// Deletes an endpoint with its deliveries and attempts.
    async fn delete_webhook(&self, account_id: &str, id: &str) -> StoreResult<()>;
    /// Replaces the endpoint's secret, keeping `previous` until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        id: &str,
        secret: &[u8],
        previous: &[u8],
        previous_until: Timestamp,
    ) -> StoreResult<()>;
    /// Re-enables a disabled endpoint; its waiting deliveries become due at `now`.
    async fn enable_webhook(&self, id: &str, now: Timestamp) -> StoreResult<()>;
    /// Disables an endpoint at its owner's request, as of `now` with
    /// `reason` (an endpoint disabled already keeps its moment and reason):
    /// nothing is sent to it until it is enabled again, and its events keep
    /// waiting. [`crate::StoreError::NotFound`] for no such endpoint.
    async fn disable_webhook(&self, id: &str, now: Timestamp, reason: &str) -> StoreResult<()>;
    /// Queues again every event of the endpoint's account with `seq > after`
    /// (at most `limit`, oldest first), due at `now`; returns how many.
    async fn replay_webhook(
        &self,
        id: &str,
        after: i64,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<u64>;
    /// Claims up to `limit` due deliveries of enabled endpoints for `owner`
    /// until `lease_until`. A claim whose lease ran out (a crashed worker) is
    /// due again. Replicas never claim the same delivery at once.
    ///
    /// Claims are fair and bounded: counting the live leases of every
    /// worker, an endpoint never has more than
    /// [`WEBHOOK_IN_FLIGHT_PER_ENDPOINT`](symbolon_core::limits::WEBHOOK_IN_FLIGHT_PER_ENDPOINT)
    /// deliveries leased at once (its oldest due first), nor an account more
    /// than [`WEBHOOK_IN_FLIGHT_PER_ACCOUNT`](symbolon_core::limits::WEBHOOK_IN_FLIGHT_PER_ACCOUNT);
    /// and due work is taken round-robin across accounts (each account's
    /// oldest, then each one's next), not globally oldest first.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        owner: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryJob>>;
    /// Records an attempt and its result; `false` (nothing changed but the
    /// attempt's record) if `owner` no longer holds the lease.
    async fn finish_delivery(
        &self,
        owner: &str,
        attempt: &DeliveryAttempt,
        result: &DeliveryResult,
    ) -> StoreResult<bool>;
    /// The endpoint's latest attempts, newest first.
    async fn webhook_attempts(
        &self,
        endpoint_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>>;
}

/// Sealed secrets' public keys, payloads and wrapped shares (part of every
/// [`Store`]). The SQL backends implement it once, through `sql_seal_methods!`.
#[async_trait::async_trait]
pub trait SealStore: Send + Sync {
    // --- sealed secrets ----------------------------------------------------
    /// Sets (replaces) an account's public keys.
    async fn set_party_keys(&self, keys: &PartyKeys) -> StoreResult<()>;
    async fn party_keys(&self, account_id: &str) -> StoreResult<PartyKeys>;
    /// Stores a pass's seal, once ([`crate::Conflict::Duplicate`] if it has one).
    async fn put_seal(&self, seal: &PassSeal) -> StoreResult<()>;
    async fn pass_seal(&self, pass_id: &str) -> StoreResult<PassSeal>;
    async fn add_share(&self, share: &SealedShare) -> StoreResult<()>;
    /// The shares wrapped to `recipient_id` for a pass, newest first (at most 100).
    async fn shares_for(&self, recipient_id: &str, pass_id: &str) -> StoreResult<Vec<SealedShare>>;
}
