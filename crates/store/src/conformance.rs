//! The store conformance suite: one set of async tests every [`Store`] backend must pass.
//!
//! A backend instantiates the suite in an integration test with a factory that
//! returns a FRESH, isolated store for every case:
//!
//! ```ignore
//! async fn fresh_store() -> Arc<dyn Store> { /* a new, empty database */ }
//!
//! mod conformance {
//!     symbolon_store::store_conformance_suite!(super::fresh_store);
//! }
//! ```
//!
//! Every case then shows up as its own named test (`conformance::accept_one_offer_per_demand`, …).
//! The generated tests use `#[tokio::test]`, so the backend crate needs `tokio` (with the
//! `macros` and `rt-multi-thread` features) as a dev-dependency. [`run_all`] runs every case
//! in one test instead.
//!
//! A factory whose store depends on a resource that must outlive it (a temporary directory,
//! a scratch schema) wraps the store in a [`GuardedStore`].
//!
//! A backend whose database may be absent (a server named by an environment variable) uses the
//! `optional` form, with a factory returning `Option<Arc<dyn Store>>`: a case whose factory
//! returns `None` is skipped and passes (the factory says why, once):
//!
//! ```ignore
//! async fn fresh_store() -> Option<Arc<dyn Store>> { /* None when no server is configured */ }
//!
//! mod conformance {
//!     symbolon_store::store_conformance_suite!(optional super::fresh_store);
//! }
//! ```
//!
//! Beyond what the [`Store`] docs say, the suite pins a few behaviours every backend shares:
//! single-object getters fail with [`StoreError::NotFound`] for unknown ids; listings of
//! unknown parents (wallet, inbox, orders, balances, a demand's requests and offers) are empty;
//! inserting an object whose id exists fails with [`Conflict::Duplicate`]; and a failed
//! operation changes nothing.

use crate::HolderState;
use crate::{
    Acceptance, Account, Address, Bucket, BucketBalance, Conflict, DemandRecord, Dispute,
    DisputeMessage, Holding, Interaction, MarketChange, MarketSnapshot, NewAccount, NewGrant,
    NewOffer, NewRefund, Offer, Order, OrderParty, Page, Pass, PassActivity, Posting, Product,
    ProviderKeyRecord, Rating, Refund, RefundDone, RequesterProfile, Settlement, Store, StoreError,
    StoreResult, StoredPaymentMethod, Unit, UnitCounts, UnitSummary, UnitTransfer,
};
use crate::{DeliveryAttempt, DeliveryJob, DeliveryResult, EventRecord, WebhookEndpoint};
use crate::{DemandListing, ProductChange};
use crate::{IdempotencyStart, StoredResponse};
use crate::{PartyKeys, PassSeal, SealedShare};
use std::any::Any;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::state::{InteractionStatus, OfferStatus, OrderStatus, PassMode, Role};
use symbolon_core::Timestamp;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

// ---------------------------------------------------------------------------
// Running the suite
// ---------------------------------------------------------------------------

/// One conformance case: takes a fresh store and panics on a failure.
pub type Case = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every case, by name.
pub fn cases() -> Vec<(&'static str, Case)> {
    crate::__store_conformance_cases!(list)
}

/// Runs every case, each against a fresh store from `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    for (name, case) in cases() {
        eprintln!("store conformance: {name}");
        case(make().await).await;
    }
}

/// Instantiates the conformance suite: one `#[tokio::test]` per case, each against a fresh
/// store from `$make` (a path to an `async fn() -> Arc<dyn Store>`).
///
/// `store_conformance_suite!(optional $make)` takes an `async fn() -> Option<Arc<dyn Store>>`
/// instead; a case whose factory returns `None` is skipped (and passes).
#[macro_export]
macro_rules! store_conformance_suite {
    (optional $make:path) => {
        $crate::__store_conformance_cases!(optional_tests $make);
    };
    ($make:path) => {
        $crate::__store_conformance_cases!(tests $make);
    };
}

/// The one list of cases; `$crate::__store_conformance_expand` turns it into tests or a list.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_cases {
    ($($mode:tt)*) => {
        $crate::__store_conformance_expand! { [$($mode)*]
            accounts_round_trip,
            account_errors,
            product_round_trip,
            pass_round_trip,
            unique_pass_units_are_numbered,
            grant_shareable_pass,
            grant_adds_units,
            grant_units_exhausted_changes_nothing,
            grant_errors,
            wallet_in_grant_order,
            holder_fields_round_trip,
            holder_reputation_counts,
            expiries_count_once_per_requester_per_day,
            reputation_counters_equal_the_history,
            market_lists_usable_holdings,
            demand_round_trip,
            demand_errors,
            inbox_pages_oldest_first,
            create_offer_marks_interaction_offered,
            create_offer_after_deadline_is_closed,
            create_offer_after_decline_or_offer_is_closed,
            create_offer_errors,
            decline_interaction,
            expire_due_marks_due_interactions,
            accept_shareable_sets_licence,
            accept_unique_moves_a_unit_only_when_paid,
            accept_one_offer_per_demand,
            accept_wrong_requester_is_not_found,
            accept_unique_without_units_left,
            accept_withdraws_other_pending_requests,
            accept_unique_needs_stock,
            place_order_without_settlement,
            place_order_with_settlement,
            place_order_requires_accepted_offer,
            place_order_once_per_offer,
            place_order_insufficient_stock_changes_nothing,
            place_order_duplicate_id,
            pay_order_once,
            unpaid_orders_expire_and_take_nothing,
            unpaid_orders_never_lock_out_paying_buyers,
            ship_order_transitions,
            order_transitions_follow_the_table,
            refunds_reverse_commission_exactly_and_never_exceed_the_payment,
            concurrent_refunds_never_exceed_the_payment,
            cancelling_gives_stock_and_unit_back_once,
            delivery_and_settlement_release_pending_money_once,
            returns_hold_the_settlement_until_answered,
            disputes_open_talk_and_close_once,
            lifecycle_events_reach_their_audience_only,
            orders_per_party_paginated,
            balances_and_ledger_totals,
            rate_once,
            rating_needs_a_paid_order_of_the_accepted_offer,
            requester_profile_round_trip,
            concurrent_accepts_one_wins,
            concurrent_orders_never_oversell,
            concurrent_ratings_count_once,
            concurrent_unique_grants_never_overgrant,
            concurrent_unique_payments_never_double_transfer,
            market_version_grows_with_every_matching_change,
            waiting_demand_activates_once,
            signing_key_limit_holds_under_concurrency,
            market_changes_name_the_holder_of_each_version,
            concurrent_activations_contact_once,
            unit_transfers_form_a_chain_and_never_double_sell,
            concurrent_transfers_move_a_unit_once,
            revocation_and_status_indices,
            provider_key_rotation_and_sealing,
            page_orders_without_offer_and_pass_activity,
            page_order_of_a_unique_unit_transfers_it_atomically,
            idempotency_keys_run_once_and_replay,
            concurrent_idempotent_requests_run_once,
            events_follow_every_change_in_its_transaction,
            event_wakeups_follow_commits,
            webhook_deliveries_are_leased_retried_and_never_dropped,
            webhooks_disabled_by_their_owner_keep_their_deliveries,
            oldest_undelivered_event_counts_enabled_endpoints_only,
            schema_version_is_the_one_this_binary_migrates_to,
            concurrent_claims_lease_each_delivery_once,
            claims_bound_sends_in_flight_and_take_turns_across_accounts,
            webhook_limit_holds_under_concurrent_registrations,
            sealed_secrets_round_trip,
            products_are_listed_and_changed_by_their_owner_only,
            provider_console_reads_passes_holders_and_names,
            archived_products_leave_the_market_and_sell_no_more,
            demands_are_listed_newest_first_by_their_owner,
            cancelling_a_demand_withdraws_its_pending_requests_once,
            concurrent_accept_and_cancel_one_wins,
            concurrent_pass_and_price_change_never_disagree,
            pending_inbox_decline_reasons_and_tracking,
            logins_are_unique_by_lowercased_email,
            sessions_expire_touch_and_revoke,
            api_keys_authenticate_until_revoked,
            sign_in_failures_count_per_scope,
            passkeys_are_counted_used_and_removed_by_their_owner,
            passkey_ceremonies_are_taken_once_before_they_expire,
            passkey_ceremonies_are_bounded_per_address,
            ended_sessions_are_pruned,
            ratings_and_categories_are_read_for_the_pages,
            mail_prefs_round_trip_and_opt_outs_keep_each_other,
            mail_is_queued_once_per_cursor_move,
            mail_is_leased_retried_and_sent_once,
            selection_log_is_gapless_and_matches_the_selections,
            log_key_is_made_once_and_checkpoints_are_kept,
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_expand {
    ([tests $make:path] $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let store: ::std::sync::Arc<dyn $crate::Store> = $make().await;
                $crate::conformance::$case(store).await;
            }
        )*
    };
    ([optional_tests $make:path] $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let store: ::std::option::Option<::std::sync::Arc<dyn $crate::Store>> =
                    $make().await;
                if let ::std::option::Option::Some(store) = store {
                    $crate::conformance::$case(store).await;
                }
            }
        )*
    };
    ([list] $($case:ident),* $(,)?) => {
        vec![
            $(
                (
                    stringify!($case),
                    (|store: ::std::sync::Arc<dyn $crate::Store>| {
                        ::std::boxed::Box::pin($crate::conformance::$case(store))
                            as ::std::pin::Pin<::std::boxed::Box<dyn ::std::future::Future<Output = ()> + Send>>
                    }) as $crate::conformance::Case,
                ),
            )*
        ]
    };
}

// ---------------------------------------------------------------------------
// A store that keeps a resource alive
// ---------------------------------------------------------------------------

/// A store plus a guard dropped after it (e.g. the temporary directory of its database).
pub struct GuardedStore {
    inner: Arc<dyn Store>,
    _guard: Box<dyn Any + Send + Sync>,
}

impl GuardedStore {
    pub fn new(inner: Arc<dyn Store>, guard: impl Any + Send + Sync) -> Self {
        Self {
            inner,
            _guard: Box::new(guard),
        }
    }
}

#[async_trait::async_trait]
impl crate::OutboxStore for GuardedStore {
    async fn events_after(
        &self,
        account_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<EventRecord>> {
        self.inner.events_after(account_id, after, limit).await
    }
    async fn events_since(&self, after: i64, limit: u32) -> StoreResult<Vec<EventRecord>> {
        self.inner.events_since(after, limit).await
    }
    async fn last_event_seq(&self) -> StoreResult<i64> {
        self.inner.last_event_seq().await
    }
    async fn oldest_undelivered_event(&self) -> StoreResult<Option<Timestamp>> {
        self.inner.oldest_undelivered_event().await
    }
    async fn prune_events(&self, before: Timestamp) -> StoreResult<u64> {
        self.inner.prune_events(before).await
    }
    async fn create_webhook(
        &self,
        endpoint: &WebhookEndpoint,
        max_per_account: usize,
    ) -> StoreResult<()> {
        self.inner.create_webhook(endpoint, max_per_account).await
    }
    async fn webhooks(&self, account_id: &str) -> StoreResult<Vec<WebhookEndpoint>> {
        self.inner.webhooks(account_id).await
    }
    async fn webhook(&self, account_id: &str, id: &str) -> StoreResult<WebhookEndpoint> {
        self.inner.webhook(account_id, id).await
    }
    async fn delete_webhook(&self, account_id: &str, id: &str) -> StoreResult<()> {
        self.inner.delete_webhook(account_id, id).await
    }
    async fn rotate_webhook_secret(
        &self,
        id: &str,
        secret: &[u8],
        previous: &[u8],
        previous_until: Timestamp,
    ) -> StoreResult<()> {
        self.inner
            .rotate_webhook_secret(id, secret, previous, previous_until)
            .await
    }
    async fn enable_webhook(&self, id: &str, now: Timestamp) -> StoreResult<()> {
        self.inner.enable_webhook(id, now).await
    }
    async fn disable_webhook(&self, id: &str, now: Timestamp, reason: &str) -> StoreResult<()> {
        self.inner.disable_webhook(id, now, reason).await
    }
    async fn replay_webhook(
        &self,
        id: &str,
        after: i64,
        now: Timestamp,
        limit: u32,
    ) -> StoreResult<u64> {
        self.inner.replay_webhook(id, after, now, limit).await
    }
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        owner: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryJob>> {
        self.inner
            .claim_deliveries(now, lease_until, owner, limit)
            .await
    }
    async fn finish_delivery(
        &self,
        owner: &str,
        attempt: &DeliveryAttempt,
        result: &DeliveryResult,
    ) -> StoreResult<bool> {
        self.inner.finish_delivery(owner, attempt, result).await
    }
    async fn webhook_attempts(
        &self,
        endpoint_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryAttempt>> {
        self.inner.webhook_attempts(endpoint_id, limit).await
    }
}

#[async_trait::async_trait]
impl crate::SealStore for GuardedStore {
    async fn set_party_keys(&self, keys: &PartyKeys) -> StoreResult<()> {
        self.inner.set_party_keys(keys).await
    }
    async fn party_keys(&self, account_id: &str) -> StoreResult<PartyKeys> {
        self.inner.party_keys(account_id).await
    }
    async fn put_seal(&self, seal: &PassSeal) -> StoreResult<()> {
        self.inner.put_seal(seal).await
    }
    async fn pass_seal(&self, pass_id: &str) -> StoreResult<PassSeal> {
        self.inner.pass_seal(pass_id).await
    }
    async fn add_share(&self, share: &SealedShare) -> StoreResult<()> {
        self.inner.add_share(share).await
    }
    async fn shares_for(&self, recipient_id: &str, pass_id: &str) -> StoreResult<Vec<SealedShare>> {
        self.inner.shares_for(recipient_id, pass_id).await
    }
}

#[async_trait::async_trait]
impl crate::UnitStore for GuardedStore {
    async fn unit_counts(&self, pass_id: &str, holder_id: Option<&str>) -> StoreResult<UnitCounts> {
        self.inner.unit_counts(pass_id, holder_id).await
    }
    async fn units_with_history(
        &self,
        pass_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<UnitSummary>> {
        self.inner.units_with_history(pass_id, after, limit).await
    }
    async fn live_order_of_offer(&self, offer_id: &str) -> StoreResult<Option<String>> {
        self.inner.live_order_of_offer(offer_id).await
    }
}

#[async_trait::async_trait]
impl crate::DisputeStore for GuardedStore {
    async fn open_dispute(&self, d: &Dispute) -> StoreResult<Dispute> {
        self.inner.open_dispute(d).await
    }
    async fn add_dispute_message(&self, m: &DisputeMessage) -> StoreResult<DisputeMessage> {
        self.inner.add_dispute_message(m).await
    }
    async fn reject_dispute(
        &self,
        dispute_id: &str,
        by_id: &str,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<Dispute> {
        self.inner
            .reject_dispute(dispute_id, by_id, reason, at)
            .await
    }
    async fn dispute(&self, dispute_id: &str) -> StoreResult<Dispute> {
        self.inner.dispute(dispute_id).await
    }
    async fn dispute_messages(&self, dispute_id: &str) -> StoreResult<Vec<DisputeMessage>> {
        self.inner.dispute_messages(dispute_id).await
    }
    async fn disputes(
        &self,
        status: Option<symbolon_core::state::DisputeStatus>,
        page: &Page,
    ) -> StoreResult<Vec<Dispute>> {
        self.inner.disputes(status, page).await
    }
}

#[async_trait::async_trait]
impl crate::LifecycleStore for GuardedStore {
    async fn cancel_unpaid(
        &self,
        order_id: &str,
        by_id: &str,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<Order> {
        self.inner.cancel_unpaid(order_id, by_id, reason, at).await
    }
    async fn claim_refund(&self, r: &NewRefund, from: &[OrderStatus]) -> StoreResult<Refund> {
        self.inner.claim_refund(r, from).await
    }
    async fn complete_refund(&self, done: &RefundDone) -> StoreResult<(Refund, Order)> {
        self.inner.complete_refund(done).await
    }
    async fn fail_refund(&self, refund_id: &str, at: Timestamp) -> StoreResult<Refund> {
        self.inner.fail_refund(refund_id, at).await
    }
    async fn refund(&self, refund_id: &str) -> StoreResult<Refund> {
        self.inner.refund(refund_id).await
    }
    async fn refunds(&self, order_id: &str) -> StoreResult<Vec<Refund>> {
        self.inner.refunds(order_id).await
    }
    async fn stale_refunds(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<Refund>> {
        self.inner.stale_refunds(before, limit).await
    }
    async fn deliver(
        &self,
        order_id: &str,
        by: symbolon_core::state::Actor,
        at: Timestamp,
    ) -> StoreResult<Order> {
        self.inner.deliver(order_id, by, at).await
    }
    async fn deliver_overdue(
        &self,
        shipped_before: Timestamp,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<u64> {
        self.inner.deliver_overdue(shipped_before, at, limit).await
    }
    async fn settle_matured(
        &self,
        delivered_before: Timestamp,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<u64> {
        self.inner.settle_matured(delivered_before, at, limit).await
    }
    async fn request_return(
        &self,
        order_id: &str,
        reason: &str,
        window_start: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Order> {
        self.inner
            .request_return(order_id, reason, window_start, at)
            .await
    }
    async fn answer_return(
        &self,
        order_id: &str,
        accept: bool,
        at: Timestamp,
    ) -> StoreResult<Order> {
        self.inner.answer_return(order_id, accept, at).await
    }
    async fn ledger_buckets(&self, account_id: &str) -> StoreResult<Vec<BucketBalance>> {
        self.inner.ledger_buckets(account_id).await
    }
    async fn pay_out(
        &self,
        account_id: &str,
        currency: &str,
        amount: Option<i64>,
        ledger_id: &str,
        at: Timestamp,
    ) -> StoreResult<i64> {
        self.inner
            .pay_out(account_id, currency, amount, ledger_id, at)
            .await
    }
}

#[async_trait::async_trait]
impl crate::ManageStore for GuardedStore {
    async fn passes_of(&self, provider_id: &str, limit: u32) -> StoreResult<Vec<Pass>> {
        self.inner.passes_of(provider_id, limit).await
    }
    async fn pass_holdings(&self, pass_id: &str, limit: u32) -> StoreResult<Vec<Holding>> {
        self.inner.pass_holdings(pass_id, limit).await
    }
    async fn holders_named(&self, query: &str, limit: u32) -> StoreResult<Vec<Account>> {
        self.inner.holders_named(query, limit).await
    }
    async fn products_of(
        &self,
        provider_id: &str,
        page: &Page,
    ) -> StoreResult<Vec<(i64, Product)>> {
        self.inner.products_of(provider_id, page).await
    }
    async fn update_product(&self, change: &ProductChange) -> StoreResult<Product> {
        self.inner.update_product(change).await
    }
    async fn archive_product(
        &self,
        product_id: &str,
        provider_id: &str,
        at: Timestamp,
    ) -> StoreResult<Product> {
        self.inner
            .archive_product(product_id, provider_id, at)
            .await
    }
    async fn demands_of(&self, requester_id: &str, page: &Page) -> StoreResult<Vec<DemandListing>> {
        self.inner.demands_of(requester_id, page).await
    }
    async fn cancel_demand(
        &self,
        demand_id: &str,
        requester_id: &str,
        at: Timestamp,
    ) -> StoreResult<DemandRecord> {
        self.inner.cancel_demand(demand_id, requester_id, at).await
    }
    async fn holder_reviews(
        &self,
        holder_id: &str,
        limit: u32,
    ) -> StoreResult<Vec<crate::HolderReview>> {
        self.inner.holder_reviews(holder_id, limit).await
    }
    async fn offer_rating(&self, offer_id: &str) -> StoreResult<Option<crate::HolderReview>> {
        self.inner.offer_rating(offer_id).await
    }
    async fn categories_in_use(&self, limit: u32) -> StoreResult<Vec<String>> {
        self.inner.categories_in_use(limit).await
    }
}

#[async_trait::async_trait]
impl crate::LogStore for GuardedStore {
    async fn append_log_entry(&self, e: &crate::tlog::NewLogEntry) -> StoreResult<i64> {
        self.inner.append_log_entry(e).await
    }
    async fn log_size(&self) -> StoreResult<i64> {
        self.inner.log_size().await
    }
    async fn log_entries(&self, from: i64, limit: u32) -> StoreResult<Vec<crate::tlog::LogEntry>> {
        self.inner.log_entries(from, limit).await
    }
    async fn log_entry_of_demand(
        &self,
        demand_id: &str,
    ) -> StoreResult<Option<crate::tlog::LogEntry>> {
        self.inner.log_entry_of_demand(demand_id).await
    }
    async fn log_entries_naming(
        &self,
        holder_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<crate::tlog::LogEntry>> {
        self.inner
            .log_entries_naming(holder_id, before, limit)
            .await
    }
    async fn log_key(&self) -> StoreResult<Option<Vec<u8>>> {
        self.inner.log_key().await
    }
    async fn init_log_key(&self, sealed: &[u8], at: Timestamp) -> StoreResult<Vec<u8>> {
        self.inner.init_log_key(sealed, at).await
    }
    async fn save_checkpoint(&self, c: &crate::tlog::StoredCheckpoint) -> StoreResult<()> {
        self.inner.save_checkpoint(c).await
    }
    async fn checkpoint_at(&self, size: i64) -> StoreResult<Option<crate::tlog::StoredCheckpoint>> {
        self.inner.checkpoint_at(size).await
    }
    async fn latest_checkpoint(&self) -> StoreResult<Option<crate::tlog::StoredCheckpoint>> {
        self.inner.latest_checkpoint().await
    }
}

#[async_trait::async_trait]
impl crate::MailStore for GuardedStore {
    async fn mail_prefs(&self, account_id: &str) -> StoreResult<Option<crate::mail::MailPrefs>> {
        self.inner.mail_prefs(account_id).await
    }
    async fn set_mail_prefs(
        &self,
        prefs: &crate::mail::MailPrefs,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.inner.set_mail_prefs(prefs, at).await
    }
    async fn mail_opt_out(
        &self,
        account_id: &str,
        kind: &str,
        default_lang: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.inner
            .mail_opt_out(account_id, kind, default_lang, at)
            .await
    }
    async fn mail_cursor(&self) -> StoreResult<Option<i64>> {
        self.inner.mail_cursor().await
    }
    async fn queue_mails(
        &self,
        from: Option<i64>,
        to: i64,
        mails: &[crate::mail::NewMail],
    ) -> StoreResult<bool> {
        self.inner.queue_mails(from, to, mails).await
    }
    async fn claim_mails(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        owner: &str,
        limit: u32,
    ) -> StoreResult<Vec<crate::mail::MailJob>> {
        self.inner.claim_mails(now, lease_until, owner, limit).await
    }
    async fn finish_mail(
        &self,
        owner: &str,
        event_seq: i64,
        account_id: &str,
        result: &crate::mail::MailResult,
        at: Timestamp,
    ) -> StoreResult<bool> {
        self.inner
            .finish_mail(owner, event_seq, account_id, result, at)
            .await
    }
    async fn mail_counts(&self) -> StoreResult<(i64, i64, i64)> {
        self.inner.mail_counts().await
    }
    async fn prune_mails(&self, before: Timestamp) -> StoreResult<u64> {
        self.inner.prune_mails(before).await
    }
}

#[async_trait::async_trait]
impl crate::PeopleStore for GuardedStore {
    async fn login_by_email(&self, email_lower: &str) -> StoreResult<crate::Login> {
        self.inner.login_by_email(email_lower).await
    }
    async fn login_of(&self, account_id: &str) -> StoreResult<crate::Login> {
        self.inner.login_of(account_id).await
    }
    async fn create_session(&self, session: &crate::WebSession) -> StoreResult<()> {
        self.inner.create_session(session).await
    }
    async fn live_session(
        &self,
        token_hash: &str,
        now: Timestamp,
        idle_until: Timestamp,
    ) -> StoreResult<Option<crate::WebSession>> {
        self.inner.live_session(token_hash, now, idle_until).await
    }
    async fn sessions_of(
        &self,
        account_id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<crate::WebSession>> {
        self.inner.sessions_of(account_id, now).await
    }
    async fn revoke_session(&self, account_id: &str, id: &str, at: Timestamp) -> StoreResult<()> {
        self.inner.revoke_session(account_id, id, at).await
    }
    async fn revoke_other_sessions(
        &self,
        account_id: &str,
        keep: &str,
        at: Timestamp,
    ) -> StoreResult<u64> {
        self.inner.revoke_other_sessions(account_id, keep, at).await
    }
    async fn prune_web_sessions(
        &self,
        now: Timestamp,
        revoked_before: Timestamp,
    ) -> StoreResult<u64> {
        self.inner.prune_web_sessions(now, revoked_before).await
    }
    async fn create_api_key(&self, key: &crate::ApiKeyRecord, max: i64) -> StoreResult<()> {
        self.inner.create_api_key(key, max).await
    }
    async fn api_keys_of(&self, account_id: &str) -> StoreResult<Vec<crate::ApiKeyRecord>> {
        self.inner.api_keys_of(account_id).await
    }
    async fn revoke_api_key(&self, account_id: &str, id: &str, at: Timestamp) -> StoreResult<()> {
        self.inner.revoke_api_key(account_id, id, at).await
    }
    async fn sign_in_failures(
        &self,
        scope: &str,
        since: Timestamp,
    ) -> StoreResult<(i64, Option<Timestamp>)> {
        self.inner.sign_in_failures(scope, since).await
    }
    async fn record_sign_in_failure(
        &self,
        scopes: &[String],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()> {
        self.inner
            .record_sign_in_failure(scopes, at, forget_before)
            .await
    }
    async fn clear_sign_in_failures(&self, scope: &str) -> StoreResult<()> {
        self.inner.clear_sign_in_failures(scope).await
    }
    async fn create_passkey(&self, passkey: &crate::PasskeyRecord, max: i64) -> StoreResult<()> {
        self.inner.create_passkey(passkey, max).await
    }
    async fn passkey(&self, credential_id: &str) -> StoreResult<crate::PasskeyRecord> {
        self.inner.passkey(credential_id).await
    }
    async fn passkeys_of(&self, account_id: &str) -> StoreResult<Vec<crate::PasskeyRecord>> {
        self.inner.passkeys_of(account_id).await
    }
    async fn passkey_used(
        &self,
        credential_id: &str,
        passkey_json: &str,
        at: Timestamp,
    ) -> StoreResult<()> {
        self.inner
            .passkey_used(credential_id, passkey_json, at)
            .await
    }
    async fn delete_passkey(&self, account_id: &str, credential_id: &str) -> StoreResult<()> {
        self.inner.delete_passkey(account_id, credential_id).await
    }
    async fn create_passkey_ceremony(
        &self,
        ceremony: &crate::PasskeyCeremony,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.inner.create_passkey_ceremony(ceremony, now).await
    }
    async fn take_passkey_ceremony(
        &self,
        id: &str,
        kind: &str,
        now: Timestamp,
    ) -> StoreResult<Option<crate::PasskeyCeremony>> {
        self.inner.take_passkey_ceremony(id, kind, now).await
    }
}

#[async_trait::async_trait]
impl Store for GuardedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn close(&self) {
        self.inner.close().await
    }
    async fn schema_version(&self) -> StoreResult<i64> {
        self.inner.schema_version().await
    }
    fn known_schema_version(&self) -> i64 {
        self.inner.known_schema_version()
    }
    fn pool_stats(&self) -> Vec<crate::PoolStats> {
        self.inner.pool_stats()
    }
    async fn event_wakeups(&self) -> StoreResult<Option<Box<dyn crate::EventWakeups>>> {
        self.inner.event_wakeups().await
    }
    async fn create_account(&self, new: &NewAccount) -> StoreResult<()> {
        self.inner.create_account(new).await
    }
    async fn account(&self, id: &str) -> StoreResult<Account> {
        self.inner.account(id).await
    }
    async fn account_by_key_hash(&self, hash: &str) -> StoreResult<Account> {
        self.inner.account_by_key_hash(hash).await
    }
    async fn provider_keys(&self, provider_id: &str) -> StoreResult<Vec<ProviderKeyRecord>> {
        self.inner.provider_keys(provider_id).await
    }
    async fn create_product(&self, product: &Product) -> StoreResult<()> {
        self.inner.create_product(product).await
    }
    async fn product(&self, id: &str) -> StoreResult<Product> {
        self.inner.product(id).await
    }
    async fn create_pass(&self, pass: &Pass, product_revision: i64) -> StoreResult<()> {
        self.inner.create_pass(pass, product_revision).await
    }
    async fn pass(&self, id: &str) -> StoreResult<Pass> {
        self.inner.pass(id).await
    }
    async fn grant(&self, grant: &NewGrant) -> StoreResult<Holding> {
        self.inner.grant(grant).await
    }
    async fn set_holder_fields(&self, holder_id: &str, fields: &[String]) -> StoreResult<()> {
        self.inner.set_holder_fields(holder_id, fields).await
    }
    async fn holder(&self, holder_id: &str, now: Timestamp) -> StoreResult<HolderState> {
        self.inner.holder(holder_id, now).await
    }
    async fn wallet(&self, holder_id: &str) -> StoreResult<Vec<Holding>> {
        self.inner.wallet(holder_id).await
    }
    async fn holding(&self, holder_id: &str, pass_id: &str) -> StoreResult<Holding> {
        self.inner.holding(holder_id, pass_id).await
    }
    async fn market(&self, now: Timestamp) -> StoreResult<MarketSnapshot> {
        self.inner.market(now).await
    }
    async fn create_demand(
        &self,
        demand: &DemandRecord,
        requests: &[Interaction],
    ) -> StoreResult<()> {
        self.inner.create_demand(demand, requests).await
    }
    async fn create_demand_logged(
        &self,
        demand: &DemandRecord,
        requests: &[Interaction],
        entry: Option<&crate::tlog::NewLogEntry>,
    ) -> StoreResult<()> {
        self.inner
            .create_demand_logged(demand, requests, entry)
            .await
    }
    async fn activate_demand_logged(
        &self,
        demand_id: &str,
        requests: &[Interaction],
        now: Timestamp,
        entry: Option<&crate::tlog::NewLogEntry>,
    ) -> StoreResult<bool> {
        self.inner
            .activate_demand_logged(demand_id, requests, now, entry)
            .await
    }
    async fn demand(&self, id: &str) -> StoreResult<DemandRecord> {
        self.inner.demand(id).await
    }
    async fn waiting_demands(&self, now: Timestamp) -> StoreResult<Vec<DemandRecord>> {
        self.inner.waiting_demands(now).await
    }
    async fn count_waiting(&self, requester_id: &str, now: Timestamp) -> StoreResult<u64> {
        self.inner.count_waiting(requester_id, now).await
    }
    async fn activate_demand(
        &self,
        demand_id: &str,
        requests: &[Interaction],
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.inner.activate_demand(demand_id, requests, now).await
    }
    async fn market_changes(&self, after: i64, upto: i64) -> StoreResult<Vec<MarketChange>> {
        self.inner.market_changes(after, upto).await
    }
    async fn holdings_of(
        &self,
        holder_ids: &[String],
        now: Timestamp,
    ) -> StoreResult<Vec<Holding>> {
        self.inner.holdings_of(holder_ids, now).await
    }
    async fn prune_market_changes(&self, version: i64, limit: u32) -> StoreResult<u64> {
        self.inner.prune_market_changes(version, limit).await
    }
    async fn market_version(&self) -> StoreResult<i64> {
        self.inner.market_version().await
    }
    async fn demand_interactions(&self, demand_id: &str) -> StoreResult<Vec<Interaction>> {
        self.inner.demand_interactions(demand_id).await
    }
    async fn demand_offers(&self, demand_id: &str) -> StoreResult<Vec<Offer>> {
        self.inner.demand_offers(demand_id).await
    }
    async fn inbox(
        &self,
        holder_id: &str,
        pending_at: Option<Timestamp>,
        page: &Page,
    ) -> StoreResult<Vec<Interaction>> {
        self.inner.inbox(holder_id, pending_at, page).await
    }
    async fn inbox_newest(&self, holder_id: &str, limit: u32) -> StoreResult<Vec<Interaction>> {
        self.inner.inbox_newest(holder_id, limit).await
    }
    async fn interaction(&self, id: &str) -> StoreResult<Interaction> {
        self.inner.interaction(id).await
    }
    async fn create_offer(&self, offer: &NewOffer) -> StoreResult<Offer> {
        self.inner.create_offer(offer).await
    }
    async fn decline(
        &self,
        interaction_id: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Interaction> {
        self.inner.decline(interaction_id, reason, now).await
    }
    async fn expire_due(&self, now: Timestamp) -> StoreResult<u64> {
        self.inner.expire_due(now).await
    }
    async fn offer(&self, id: &str) -> StoreResult<Offer> {
        self.inner.offer(id).await
    }
    async fn accept_offer(&self, acceptance: &Acceptance) -> StoreResult<Offer> {
        self.inner.accept_offer(acceptance).await
    }
    async fn set_requester_profile(&self, profile: &RequesterProfile) -> StoreResult<()> {
        self.inner.set_requester_profile(profile).await
    }
    async fn requester_profile(&self, account_id: &str) -> StoreResult<RequesterProfile> {
        self.inner.requester_profile(account_id).await
    }
    async fn place_order(
        &self,
        order: &Order,
        transfer: Option<&UnitTransfer>,
        settlement: Option<&Settlement>,
    ) -> StoreResult<Order> {
        self.inner.place_order(order, transfer, settlement).await
    }
    async fn add_provider_key(
        &self,
        key: &ProviderKeyRecord,
        retire_others: bool,
    ) -> StoreResult<()> {
        self.inner.add_provider_key(key, retire_others).await
    }
    async fn unsealed_provider_keys(&self) -> StoreResult<Vec<ProviderKeyRecord>> {
        self.inner.unsealed_provider_keys().await
    }
    async fn set_provider_key_secret(
        &self,
        kid: &str,
        plain: &[u8],
        sealed: &[u8],
    ) -> StoreResult<bool> {
        self.inner.set_provider_key_secret(kid, plain, sealed).await
    }
    async fn oldest_unexpired_pass(
        &self,
        provider_id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Timestamp>> {
        self.inner.oldest_unexpired_pass(provider_id, now).await
    }
    async fn any_sealed_provider_key(&self) -> StoreResult<Option<ProviderKeyRecord>> {
        self.inner.any_sealed_provider_key().await
    }
    async fn revoke_pass(&self, pass_id: &str, at: Timestamp) -> StoreResult<Pass> {
        self.inner.revoke_pass(pass_id, at).await
    }
    async fn revoked_status_indices(&self, provider_id: &str) -> StoreResult<Vec<i64>> {
        self.inner.revoked_status_indices(provider_id).await
    }
    async fn unit(&self, pass_id: &str, unit_no: i64) -> StoreResult<Unit> {
        self.inner.unit(pass_id, unit_no).await
    }
    async fn free_unit(&self, pass_id: &str, holder_id: &str) -> StoreResult<Option<i64>> {
        self.inner.free_unit(pass_id, holder_id).await
    }
    async fn unit_history(&self, pass_id: &str, unit_no: i64) -> StoreResult<Vec<UnitTransfer>> {
        self.inner.unit_history(pass_id, unit_no).await
    }
    async fn transfer_unit(&self, transfer: &UnitTransfer) -> StoreResult<()> {
        self.inner.transfer_unit(transfer).await
    }
    async fn pass_activity(&self, pass_id: &str, recent: u32) -> StoreResult<PassActivity> {
        self.inner.pass_activity(pass_id, recent).await
    }
    async fn idempotency_begin(
        &self,
        account_id: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<IdempotencyStart> {
        self.inner
            .idempotency_begin(account_id, key, fingerprint, now, stale_before)
            .await
    }
    async fn idempotency_finish(
        &self,
        account_id: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        self.inner
            .idempotency_finish(account_id, key, response)
            .await
    }
    async fn idempotency_release(&self, account_id: &str, key: &str) -> StoreResult<()> {
        self.inner.idempotency_release(account_id, key).await
    }
    async fn idempotency_prune(&self, before: Timestamp) -> StoreResult<u64> {
        self.inner.idempotency_prune(before).await
    }
    async fn pay_order(
        &self,
        order_id: &str,
        settlement: &Settlement,
        transfer: Option<&UnitTransfer>,
    ) -> StoreResult<Order> {
        self.inner.pay_order(order_id, settlement, transfer).await
    }
    async fn expire_unpaid_orders(&self, now: Timestamp) -> StoreResult<u64> {
        self.inner.expire_unpaid_orders(now).await
    }
    async fn ship_order(
        &self,
        order_id: &str,
        tracking: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Order> {
        self.inner.ship_order(order_id, tracking, now).await
    }
    async fn order(&self, id: &str) -> StoreResult<Order> {
        self.inner.order(id).await
    }
    async fn orders(&self, party: OrderParty<'_>, page: &Page) -> StoreResult<Vec<Order>> {
        self.inner.orders(party, page).await
    }
    async fn balances(&self, account_id: &str) -> StoreResult<Vec<(String, i64)>> {
        self.inner.balances(account_id).await
    }
    async fn ledger_totals(&self) -> StoreResult<Vec<(String, i64)>> {
        self.inner.ledger_totals().await
    }
    async fn rate(&self, rating: &Rating) -> StoreResult<()> {
        self.inner.rate(rating).await
    }
}

// ---------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------

/// Asserts that `$res` is `Err($pat)`, e.g. `StoreError::Conflict(Conflict::Duplicate)`.
macro_rules! assert_err {
    ($res:expr, $pat:pat, $($ctx:tt)+) => {{
        let res = $res;
        assert!(
            matches!(res, Err($pat)),
            "{}: expected Err({}), got {:?}",
            format_args!($($ctx)+),
            stringify!($pat),
            res
        );
    }};
}

/// Unwraps a store result, naming the step on failure.
trait Must<T> {
    fn must(self, what: &str) -> T;
}

impl<T> Must<T> for StoreResult<T> {
    #[track_caller]
    fn must(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{what}: unexpected error: {e:?}"),
        }
    }
}

fn is_conflict(r: &StoreResult<impl Sized>, c: Conflict) -> bool {
    matches!(r, Err(StoreError::Conflict(x)) if *x == c)
}

fn page(after: Option<i64>, limit: u32) -> Page {
    Page { after, limit }
}

fn sorted(mut v: Vec<(String, i64)>) -> Vec<(String, i64)> {
    v.sort();
    v
}

/// Asserts every currency of the ledger sums to zero.
async fn assert_ledger_balanced(store: &dyn Store) {
    let totals = store.ledger_totals().await.must("ledger_totals");
    assert!(
        totals.iter().all(|(_, t)| *t == 0),
        "the ledger does not balance: {totals:?}"
    );
}

async fn join_all<T: Send + 'static>(mut set: JoinSet<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(set.len());
    while let Some(r) = set.join_next().await {
        out.push(r.expect("a concurrent task panicked"));
    }
    out
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// The base time of every fixture (2027-01-15T08:00:00Z). Fixture objects are created at `T0`,
/// passes are valid from a day before, demands are created at `T0` and answered before [`DEADLINE`].
pub const T0: Timestamp = Timestamp::from_millis(1_800_000_000_000);
/// The deadline of fixture demands: an hour after `T0`.
pub const DEADLINE: Timestamp = Timestamp::from_millis(1_800_000_000_000 + 3_600_000);
pub const CURRENCY: &str = "EUR";
/// Commission of fixture passes: 10%.
pub const COMMISSION_BPS: i64 = 1_000;

/// `T0` plus `secs` seconds.
pub fn t(secs: i64) -> Timestamp {
    T0.plus_seconds(secs)
}

/// The API key hash of a fixture account.
pub fn key_hash(account_id: &str) -> String {
    format!("sha256-of-key-of-{account_id}")
}

fn bytes32(tag: &str, salt: u8) -> [u8; 32] {
    let mut out = [salt; 32];
    for (i, b) in tag.bytes().enumerate() {
        out[i % 32] ^= b.wrapping_add(i as u8);
    }
    out
}

pub fn provider_key(kid: &str, provider_id: &str, at: Timestamp) -> ProviderKeyRecord {
    ProviderKeyRecord {
        kid: kid.into(),
        provider_id: provider_id.into(),
        public_key: bytes32(kid, 1),
        secret: Some(bytes32(kid, 2).to_vec()),
        created_at: at,
        retired_at: None,
    }
}

/// A new account; providers get a signing key `key_{id}`.
pub fn new_account(id: &str, roles: &[Role]) -> NewAccount {
    NewAccount {
        account: Account {
            id: id.into(),
            name: format!("Name of {id}"),
            roles: roles.to_vec(),
            created_at: T0,
        },
        api_key_hash: key_hash(id),
        provider_key: roles
            .contains(&Role::Provider)
            .then(|| provider_key(&format!("key_{id}"), id, T0)),
        login: None,
    }
}

pub async fn create_account(store: &dyn Store, id: &str, roles: &[Role]) -> Account {
    let new = new_account(id, roles);
    store.create_account(&new).await.must("create_account");
    new.account
}

pub fn product(id: &str, provider_id: &str, stock: i64, price_minor: i64) -> Product {
    Product {
        id: id.into(),
        provider_id: provider_id.into(),
        title: format!("Title of {id}"),
        description: "A pair of studio headphones.".into(),
        category: "electronics/audio/headphones".into(),
        specs: vec![
            ("impedance".into(), "32 ohm".into()),
            ("colour".into(), "black".into()),
        ],
        price_minor,
        currency: CURRENCY.into(),
        stock,
        created_at: T0,
        gtin: Some("4006381333931".into()),
        archived_at: None,
        revision: 0,
    }
}

/// A pass on `product`, valid from a day before `T0` without end.
pub fn pass(id: &str, product: &Product, mode: PassMode, units: Option<i64>) -> Pass {
    Pass {
        id: id.into(),
        product_id: product.id.clone(),
        provider_id: product.provider_id.clone(),
        mode,
        units,
        commission_bps: COMMISSION_BPS,
        valid_from: t(-86_400),
        valid_until: None,
        jws: format!("jws-of-{id}"),
        created_at: T0,
        kid: Some(format!("key_{}", product.provider_id)),
        status_index: None,
        revoked_at: None,
    }
}

pub fn new_grant(
    id: &str,
    pass_id: &str,
    holder_id: &str,
    units: Option<i64>,
    at: Timestamp,
) -> NewGrant {
    NewGrant {
        id: id.into(),
        pass_id: pass_id.into(),
        holder_id: holder_id.into(),
        units,
        created_at: at,
    }
}

pub fn demand_record(id: &str, requester_id: &str, deadline: Timestamp) -> DemandRecord {
    DemandRecord {
        id: id.into(),
        requester_id: requester_id.into(),
        query: "studio headphones".into(),
        category: Some("electronics/audio".into()),
        max_price_minor: Some(30_000),
        currency: Some(CURRENCY.into()),
        min_positive_rate: Some(0.75),
        min_success_rate: None,
        min_ratings: Some(2),
        fields: vec!["electronics/audio".into(), "music".into()],
        min_holders: 1,
        max_holders: 5,
        ttl_seconds: (deadline.millis() - T0.millis()) / 1000,
        deadline: deadline.millis(),
        created_at: T0.millis(),
        accepted_offer_id: None,
        waiting: false,
        cancelled_at: None,
    }
}

/// A pending interaction request, as handed to [`Store::create_demand`].
pub fn interaction(
    id: &str,
    demand_id: &str,
    holder_id: &str,
    rank: i64,
    deadline: Timestamp,
) -> Interaction {
    Interaction {
        id: id.into(),
        demand_id: demand_id.into(),
        holder_id: holder_id.into(),
        rank,
        status: InteractionStatus::Pending,
        deadline,
        matched_pass_ids: vec!["pas_a".into(), "pas_b".into()],
        why: serde_json::json!({ "rank": rank, "score": 0.5, "fields": ["electronics/audio"] }),
        created_at: T0,
        decided_at: None,
        seq: 0,
        decline_reason: None,
    }
}

pub fn address(name: &str) -> Address {
    Address {
        name: name.into(),
        line1: "1 Main Street".into(),
        line2: Some("Flat 2".into()),
        city: "Lyon".into(),
        postal_code: "69001".into(),
        country: "FR".into(),
    }
}

/// An order of `quantity` of `product` from `offer`, created at `t(180)`; commission is 10%.
pub fn order_for(id: &str, offer: &Offer, product: &Product, quantity: i64) -> Order {
    let total = product.price_minor * quantity;
    Order {
        id: id.into(),
        offer_id: Some(offer.id.clone()),
        requester_id: offer.requester_id.clone(),
        provider_id: product.provider_id.clone(),
        holder_id: Some(offer.holder_id.clone()),
        product_id: product.id.clone(),
        pass_id: offer.pass_id.clone(),
        quantity,
        unit_price_minor: product.price_minor,
        total_minor: total,
        commission_minor: total * COMMISSION_BPS / 10_000,
        currency: product.currency.clone(),
        status: OrderStatus::Placed,
        ship_to: address("Requester"),
        payment_ref: None,
        created_at: t(180),
        paid_at: None,
        shipped_at: None,
        unit_no: None,
        pay_by: Some(t(180 + UNPAID_TTL)),
        seq: 0,
        after_sale: Default::default(),
    }
}

/// How long the suite's unpaid orders may be paid in (seconds).
pub const UNPAID_TTL: i64 = 1800;

/// Transfer statement `seq` of a unit from `from` to `to` (the signature is
/// the exchange's business; the store keeps the text).
pub fn unit_transfer(
    pass_id: &str,
    unit_no: i64,
    seq: i64,
    from: &str,
    to: &str,
    at: Timestamp,
) -> UnitTransfer {
    UnitTransfer {
        id: format!("trf_{pass_id}_{unit_no}_{seq}_{to}"),
        pass_id: pass_id.into(),
        unit_no,
        seq,
        from_id: from.into(),
        to_id: to.into(),
        jws: format!("statement-{seq}-of-{pass_id}-{unit_no}"),
        created_at: at,
    }
}

/// A balanced settlement of `order`: the requester pays the total, the holder gets the
/// commission, the provider the rest.
pub fn settlement_for(ledger_id: &str, order: &Order, at: Timestamp) -> Settlement {
    let posting = |account: &str, amount: i64, memo: &str| Posting {
        account_id: account.into(),
        currency: order.currency.clone(),
        amount_minor: amount,
        memo: memo.into(),
        // The requester's money is gone at once; the sellers' waits for delivery.
        bucket: if account == order.requester_id {
            Bucket::Available
        } else {
            Bucket::Pending
        },
    };
    Settlement {
        ledger_id: ledger_id.into(),
        payment_ref: format!("pay_{}", order.id),
        postings: vec![
            posting(&order.requester_id, -order.total_minor, "payment"),
            posting(
                &order.provider_id,
                order.total_minor - order.commission_minor,
                "sale",
            ),
            posting(
                order.holder_id.as_deref().unwrap_or(&order.provider_id),
                order.commission_minor,
                "commission",
            ),
        ],
        at,
    }
}

pub fn rating(id: &str, offer: &Offer, positive: bool) -> Rating {
    Rating {
        id: id.into(),
        offer_id: offer.id.clone(),
        holder_id: offer.holder_id.clone(),
        requester_id: offer.requester_id.clone(),
        positive,
        comment: Some(if positive { "great" } else { "meh" }.into()),
        created_at: t(400),
    }
}

/// A small world every case starts from:
///
/// * a provider `acc_provider`, a requester `acc_requester`, holders `acc_holder1` and `acc_holder2`;
/// * a product (stock 10, 25.00 EUR) with a shareable pass granted to both holders and a unique
///   pass of 4 units: units 1–2 granted to holder 1, then units 3–4 to holder 2.
///
/// Its helpers create further objects with fresh ids.
pub struct World {
    pub store: Arc<dyn Store>,
    pub provider: String,
    pub requester: String,
    pub holder1: String,
    pub holder2: String,
    pub product: Product,
    pub shareable: Pass,
    pub unique: Pass,
    next: AtomicU64,
}

impl World {
    pub async fn new(store: Arc<dyn Store>) -> Self {
        let s = &*store;
        let provider = create_account(s, "acc_provider", &[Role::Provider])
            .await
            .id;
        let requester = create_account(s, "acc_requester", &[Role::Requester])
            .await
            .id;
        let holder1 = create_account(s, "acc_holder1", &[Role::Holder]).await.id;
        let holder2 = create_account(s, "acc_holder2", &[Role::Holder]).await.id;
        let product = product("prd_main", &provider, 10, 2_500);
        s.create_product(&product).await.must("create product");
        let shareable = pass("pas_shareable", &product, PassMode::Shareable, None);
        let unique = pass("pas_unique", &product, PassMode::Unique, Some(4));
        s.create_pass(&shareable, 0)
            .await
            .must("create shareable pass");
        s.create_pass(&unique, 0).await.must("create unique pass");
        for (i, h) in [&holder1, &holder2].into_iter().enumerate() {
            s.grant(&new_grant(&format!("grt_s{i}"), &shareable.id, h, None, T0))
                .await
                .must("grant shareable");
            s.grant(&new_grant(&format!("grt_u{i}"), &unique.id, h, Some(2), T0))
                .await
                .must("grant unique");
        }
        Self {
            store,
            provider,
            requester,
            holder1,
            holder2,
            product,
            shareable,
            unique,
            next: AtomicU64::new(1),
        }
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// A fresh id with the given prefix.
    pub fn id(&self, prefix: &str) -> String {
        format!("{prefix}_{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// A new holder with the shareable pass in its wallet.
    pub async fn add_holder(&self) -> String {
        let id = self.id("acc_holder");
        create_account(self.store(), &id, &[Role::Holder]).await;
        self.grant(&self.shareable, &id, None).await;
        id
    }

    pub async fn add_requester(&self) -> String {
        let id = self.id("acc_requester");
        create_account(self.store(), &id, &[Role::Requester]).await;
        id
    }

    pub async fn add_product(&self, stock: i64) -> Product {
        let p = product(&self.id("prd"), &self.provider, stock, 1_000);
        self.store.create_product(&p).await.must("create product");
        p
    }

    pub async fn add_pass(&self, product: &Product, mode: PassMode, units: Option<i64>) -> Pass {
        let p = pass(&self.id("pas"), product, mode, units);
        self.store.create_pass(&p, 0).await.must("create pass");
        p
    }

    pub async fn grant(&self, pass: &Pass, holder: &str, units: Option<i64>) -> Holding {
        self.store
            .grant(&new_grant(&self.id("grt"), &pass.id, holder, units, T0))
            .await
            .must("grant")
    }

    /// A demand of the fixture requester sent to `holders` (rank = position), deadline [`DEADLINE`].
    /// Returns the stored requests, best match first.
    pub async fn demand(&self, holders: &[&str]) -> Vec<Interaction> {
        self.demand_by(&self.requester, holders, DEADLINE).await
    }

    pub async fn demand_by(
        &self,
        requester: &str,
        holders: &[&str],
        deadline: Timestamp,
    ) -> Vec<Interaction> {
        let d = demand_record(&self.id("dem"), requester, deadline);
        let requests: Vec<Interaction> = holders
            .iter()
            .enumerate()
            .map(|(i, h)| interaction(&self.id("int"), &d.id, h, i as i64 + 1, deadline))
            .collect();
        self.store
            .create_demand(&d, &requests)
            .await
            .must("create_demand");
        let stored = self
            .store
            .demand_interactions(&d.id)
            .await
            .must("demand_interactions");
        assert_eq!(stored.len(), holders.len());
        stored
    }

    /// Answers `interaction` with an offer of `pass_id` at `t(60)`.
    pub async fn offer(&self, interaction: &Interaction, pass_id: &str) -> Offer {
        let new = NewOffer {
            id: self.id("ofr"),
            interaction_id: interaction.id.clone(),
            pass_id: pass_id.into(),
            note: Some("mint condition".into()),
            created_at: t(60),
        };
        self.store.create_offer(&new).await.must("create_offer")
    }

    /// The offer's requester accepting `offer` at `t(120)`; the world's shareable pass comes with a
    /// licence. Nothing changes hands: a unique pass's unit moves when the order is paid.
    pub async fn acceptance(&self, offer: &Offer) -> Acceptance {
        Acceptance {
            offer_id: offer.id.clone(),
            requester_id: offer.requester_id.clone(),
            licence_jws: (offer.pass_id == self.shareable.id)
                .then(|| format!("licence-for-{}", offer.id)),
            at: t(120),
        }
    }

    /// The first transfer of the holder's first unsold unit of `order`'s unique pass to its
    /// requester, at `at` (`None` when the holder has none left).
    pub async fn first_sale(&self, order: &Order, at: Timestamp) -> Option<UnitTransfer> {
        let holder = order.holder_id.as_deref()?;
        let unit = self
            .store
            .free_unit(&order.pass_id, holder)
            .await
            .must("free_unit")?;
        Some(unit_transfer(
            &order.pass_id,
            unit,
            1,
            holder,
            &order.requester_id,
            at,
        ))
    }

    /// A demand sent to `holder` alone, answered with `pass`, accepted.
    pub async fn accepted_offer(&self, holder: &str, pass: &Pass) -> Offer {
        self.accepted_offer_by(&self.requester, holder, pass).await
    }

    pub async fn accepted_offer_by(&self, requester: &str, holder: &str, pass: &Pass) -> Offer {
        let requests = self.demand_by(requester, &[holder], DEADLINE).await;
        let offer = self.offer(&requests[0], &pass.id).await;
        let mut acc = self.acceptance(&offer).await;
        acc.licence_jws =
            (pass.mode == PassMode::Shareable).then(|| format!("licence-for-{}", offer.id));
        self.store.accept_offer(&acc).await.must("accept_offer")
    }

    /// A demand sent to `holder` alone, answered with `pass`, accepted, ordered (one of
    /// `pass`'s product) and paid — for a unique pass with the holder's first unsold unit.
    /// Returns the offer as it is after the payment (with its unit).
    pub async fn bought_offer(&self, holder: &str, pass: &Pass) -> Offer {
        self.bought_offer_by(&self.requester, holder, pass).await
    }

    pub async fn bought_offer_by(&self, requester: &str, holder: &str, pass: &Pass) -> Offer {
        let offer = self.accepted_offer_by(requester, holder, pass).await;
        let product = self.store.product(&pass.product_id).await.must("product");
        let input = order_for(&self.id("ord"), &offer, &product, 1);
        let order = self
            .store
            .place_order(&input, None, None)
            .await
            .must("place_order");
        let transfer = if pass.mode == PassMode::Unique {
            Some(self.first_sale(&order, t(200)).await.expect("a unit left"))
        } else {
            None
        };
        self.store
            .pay_order(
                &order.id,
                &settlement_for(&self.id("led"), &order, t(200)),
                transfer.as_ref(),
            )
            .await
            .must("pay_order");
        // Delivered: its requester may rate the holder.
        self.store
            .ship_order(&order.id, None, t(201))
            .await
            .must("ship");
        self.store
            .deliver(&order.id, symbolon_core::state::Actor::Requester, t(202))
            .await
            .must("deliver");
        self.store.offer(&offer.id).await.must("offer")
    }

    /// An order of `quantity` of the main product from a freshly accepted shareable offer of holder 1.
    pub async fn order_input(&self, quantity: i64) -> Order {
        let offer = self.accepted_offer(&self.holder1, &self.shareable).await;
        order_for(&self.id("ord"), &offer, &self.product, quantity)
    }

    pub async fn stock(&self, product_id: &str) -> i64 {
        self.store.product(product_id).await.must("product").stock
    }
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

/// create_account, account, account_by_key_hash, provider_keys.
pub async fn accounts_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    assert!(!s.backend().is_empty(), "backend() names the backend");
    let provider = new_account("acc_p", &[Role::Provider]);
    let multi = new_account("acc_multi", &[Role::Holder, Role::Requester]);
    s.create_account(&provider).await.must("create provider");
    s.create_account(&multi)
        .await
        .must("create holder+requester");

    assert_eq!(s.account("acc_p").await.must("account"), provider.account);
    let m = s.account("acc_multi").await.must("account");
    assert_eq!(m, multi.account);
    assert!(m.has_role(Role::Holder) && m.has_role(Role::Requester) && !m.has_role(Role::Provider));
    assert_eq!(
        s.account_by_key_hash(&key_hash("acc_multi"))
            .await
            .must("by key"),
        multi.account
    );
    assert_eq!(
        s.account_by_key_hash(&key_hash("acc_p"))
            .await
            .must("by key"),
        provider.account
    );

    let keys = s.provider_keys("acc_p").await.must("provider_keys");
    assert_eq!(
        keys,
        vec![provider.provider_key.clone().expect("provider key")]
    );
    assert_eq!(
        keys[0].secret,
        Some(bytes32("key_acc_p", 2).to_vec()),
        "the secret survives the round trip"
    );
    assert!(
        s.provider_keys("acc_multi")
            .await
            .must("provider_keys")
            .is_empty(),
        "no keys for a non-provider"
    );
}

/// Unknown accounts, duplicate ids and key hashes; a failed create_account creates nothing.
pub async fn account_errors(store: Arc<dyn Store>) {
    let s = &*store;
    assert_err!(
        s.account("acc_nope").await,
        StoreError::NotFound,
        "unknown account"
    );
    assert_err!(
        s.account_by_key_hash("no-such-hash").await,
        StoreError::NotFound,
        "unknown key hash"
    );

    let first = new_account("acc_a", &[Role::Provider]);
    s.create_account(&first).await.must("create");

    let mut same_id = new_account("acc_a", &[Role::Holder]);
    same_id.api_key_hash = "another-hash".into();
    assert_err!(
        s.create_account(&same_id).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate account id"
    );
    assert_eq!(
        s.account("acc_a").await.must("account"),
        first.account,
        "the first account is untouched"
    );

    let mut same_hash = new_account("acc_b", &[Role::Holder]);
    same_hash.api_key_hash = key_hash("acc_a");
    assert_err!(
        s.create_account(&same_hash).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate API key hash"
    );
    assert_err!(
        s.account("acc_b").await,
        StoreError::NotFound,
        "no account for a duplicate key hash"
    );

    // A provider whose key id exists: neither the account nor the key is created.
    let mut same_kid = new_account("acc_c", &[Role::Provider]);
    same_kid.provider_key = Some(provider_key("key_acc_a", "acc_c", T0));
    assert_err!(
        s.create_account(&same_kid).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate key id"
    );
    assert_err!(
        s.account("acc_c").await,
        StoreError::NotFound,
        "the account of a failed create is not created"
    );
    assert_eq!(s.provider_keys("acc_a").await.must("keys").len(), 1);
    assert!(s.provider_keys("acc_c").await.must("keys").is_empty());
}

// ---------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------

/// create_product and product, NotFound, Duplicate.
pub async fn product_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    create_account(s, "acc_p", &[Role::Provider]).await;
    let p = product("prd_1", "acc_p", 7, 12_345);
    s.create_product(&p).await.must("create_product");
    assert_eq!(s.product("prd_1").await.must("product"), p);

    let mut empty = product("prd_2", "acc_p", 0, 0);
    empty.specs.clear();
    s.create_product(&empty)
        .await
        .must("create product without specs or stock");
    assert_eq!(s.product("prd_2").await.must("product"), empty);

    assert_err!(
        s.product("prd_nope").await,
        StoreError::NotFound,
        "unknown product"
    );
    let mut dup = product("prd_1", "acc_p", 1, 1);
    dup.title = "another".into();
    assert_err!(
        s.create_product(&dup).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate product id"
    );
    assert_eq!(
        s.product("prd_1").await.must("product"),
        p,
        "the first product is untouched"
    );
}

/// create_pass and pass for both modes, NotFound, Duplicate.
pub async fn pass_round_trip(store: Arc<dyn Store>) {
    let s = &*store;
    create_account(s, "acc_p", &[Role::Provider]).await;
    let p = product("prd_1", "acc_p", 7, 100);
    s.create_product(&p).await.must("create_product");

    let shareable = pass("pas_s", &p, PassMode::Shareable, None);
    let mut unique = pass("pas_u", &p, PassMode::Unique, Some(3));
    unique.valid_until = Some(t(86_400));
    unique.commission_bps = 250;
    s.create_pass(&shareable, 0).await.must("create shareable");
    s.create_pass(&unique, 0).await.must("create unique");
    assert_eq!(s.pass("pas_s").await.must("pass"), shareable);
    assert_eq!(s.pass("pas_u").await.must("pass"), unique);

    assert_err!(
        s.pass("pas_nope").await,
        StoreError::NotFound,
        "unknown pass"
    );
    let dup = pass("pas_u", &p, PassMode::Unique, Some(10));
    assert_err!(
        s.create_pass(&dup, 0).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate pass id"
    );
    assert_eq!(
        s.pass("pas_u").await.must("pass"),
        unique,
        "the first pass is untouched"
    );

    // The failed duplicate did not add units: exactly 3 can be granted.
    create_account(s, "acc_h", &[Role::Holder]).await;
    let g = s
        .grant(&new_grant("grt_1", "pas_u", "acc_h", Some(3), T0))
        .await
        .must("grant all units");
    assert_eq!((g.units_granted, g.units_left), (Some(3), Some(3)));
    assert_err!(
        s.grant(&new_grant("grt_2", "pas_u", "acc_h", Some(1), T0))
            .await,
        StoreError::Conflict(Conflict::UnitsExhausted),
        "a unique pass has exactly its units"
    );
}

/// A unique pass's units are numbered 1..=units and handed out in order.
pub async fn unique_pass_units_are_numbered(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    // World: units 1-2 → holder 1, 3-4 → holder 2. Transfers take the holder's lowest unit.
    let a = w.bought_offer(&w.holder2, &w.unique).await;
    assert_eq!(a.unit_no, Some(3));
    let b = w.bought_offer(&w.holder1, &w.unique).await;
    assert_eq!(b.unit_no, Some(1));
    let c = w.bought_offer(&w.holder1, &w.unique).await;
    assert_eq!(c.unit_no, Some(2));
    let d = w.bought_offer(&w.holder2, &w.unique).await;
    assert_eq!(d.unit_no, Some(4));

    // 5 units: 2 to one holder, 3 to another, none left.
    let p = w.add_pass(&w.product, PassMode::Unique, Some(5)).await;
    let h = w.add_holder().await;
    assert_eq!(w.grant(&p, &h, Some(2)).await.units_granted, Some(2));
    assert_eq!(
        w.grant(&p, &w.holder1, Some(3)).await.units_granted,
        Some(3)
    );
    assert_err!(
        w.store
            .grant(&new_grant(&w.id("grt"), &p.id, &w.holder2, Some(1), T0))
            .await,
        StoreError::Conflict(Conflict::UnitsExhausted),
        "all 5 units are granted"
    );
    assert_eq!(w.bought_offer(&w.holder1, &p).await.unit_no, Some(3));
    assert_eq!(w.bought_offer(&h, &p).await.unit_no, Some(1));
}

/// Granting a shareable pass: a holding without units; granting it again keeps one holding.
pub async fn grant_shareable_pass(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let h = w.add_holder().await; // add_holder grants the shareable pass
    let holding = w.store.holding(&h, &w.shareable.id).await.must("holding");
    assert_eq!(holding.holder_id, h);
    assert_eq!(holding.pass, w.shareable);
    assert_eq!(holding.product, w.product);
    assert_eq!((holding.units_granted, holding.units_left), (None, None));

    let again = w.grant(&w.shareable, &h, None).await;
    assert_eq!((again.units_granted, again.units_left), (None, None));
    let wallet = w.store.wallet(&h).await.must("wallet");
    assert_eq!(
        wallet.len(),
        1,
        "granting a pass again does not add a second holding"
    );
    assert_eq!(wallet[0].pass.id, w.shareable.id);
}

/// Granting a unique pass again adds units to the same holding.
pub async fn grant_adds_units(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let p = w.add_pass(&w.product, PassMode::Unique, Some(6)).await;
    let h = w.add_holder().await;
    let first = w.grant(&p, &h, Some(1)).await;
    assert_eq!((first.units_granted, first.units_left), (Some(1), Some(1)));
    assert_eq!(first.holder_id, h);
    assert_eq!(first.pass, p);
    let second = w.grant(&p, &h, Some(2)).await;
    assert_eq!(
        (second.units_granted, second.units_left),
        (Some(3), Some(3))
    );
    let holding = w.store.holding(&h, &p.id).await.must("holding");
    assert_eq!(
        (holding.units_granted, holding.units_left),
        (Some(3), Some(3))
    );
    let wallet = w.store.wallet(&h).await.must("wallet");
    assert_eq!(
        wallet.iter().filter(|x| x.pass.id == p.id).count(),
        1,
        "one holding per pass"
    );

    // After a transfer, units_granted stays and units_left drops; a further grant adds to both.
    w.bought_offer(&h, &p).await;
    let after = w.store.holding(&h, &p.id).await.must("holding");
    assert_eq!((after.units_granted, after.units_left), (Some(3), Some(2)));
    let more = w.grant(&p, &h, Some(3)).await;
    assert_eq!((more.units_granted, more.units_left), (Some(6), Some(5)));
}

/// UnitsExhausted when too few units are left, and nothing half-applied.
pub async fn grant_units_exhausted_changes_nothing(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let p = w.add_pass(&w.product, PassMode::Unique, Some(3)).await;
    let a = w.add_holder().await;
    let b = w.add_holder().await;
    w.grant(&p, &a, Some(2)).await;

    let g = new_grant(&w.id("grt"), &p.id, &b, Some(2), T0);
    assert_err!(
        w.store.grant(&g).await,
        StoreError::Conflict(Conflict::UnitsExhausted),
        "2 wanted, 1 left"
    );
    assert_err!(
        w.store.holding(&b, &p.id).await,
        StoreError::NotFound,
        "no holding from a failed first grant"
    );
    assert!(w
        .store
        .wallet(&b)
        .await
        .must("wallet")
        .iter()
        .all(|h| h.pass.id != p.id));

    let g = new_grant(&w.id("grt"), &p.id, &a, Some(2), T0);
    assert_err!(
        w.store.grant(&g).await,
        StoreError::Conflict(Conflict::UnitsExhausted),
        "2 more wanted, 1 left"
    );
    let held = w.store.holding(&a, &p.id).await.must("holding");
    assert_eq!(
        (held.units_granted, held.units_left),
        (Some(2), Some(2)),
        "the units granted before stay"
    );

    // The last unit was not taken by the failed grants.
    let last = w.grant(&p, &b, Some(1)).await;
    assert_eq!((last.units_granted, last.units_left), (Some(1), Some(1)));
    assert_eq!(w.bought_offer(&b, &p).await.unit_no, Some(3));
}

/// grant of an unknown pass; duplicate grant ids; holding of an ungranted pass.
pub async fn grant_errors(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let h = w.add_holder().await;
    assert_err!(
        w.store
            .grant(&new_grant(&w.id("grt"), "pas_nope", &h, None, T0))
            .await,
        StoreError::NotFound,
        "grant of an unknown pass"
    );
    let p = w.add_pass(&w.product, PassMode::Unique, Some(5)).await;
    // `grt_s0` is holder 1's grant of the shareable pass.
    assert_err!(
        w.store
            .grant(&new_grant("grt_s0", &p.id, &h, Some(2), T0))
            .await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate grant id"
    );
    assert_err!(
        w.store.holding(&h, &p.id).await,
        StoreError::NotFound,
        "no holding from a duplicate grant"
    );
    // No unit was taken by the failed grant.
    assert_eq!(w.grant(&p, &h, Some(5)).await.units_left, Some(5));

    assert_err!(
        w.store.holding(&h, &w.unique.id).await,
        StoreError::NotFound,
        "pass not granted to this holder"
    );
    assert_err!(
        w.store.holding("acc_nope", &w.shareable.id).await,
        StoreError::NotFound,
        "unknown holder"
    );
    assert!(
        w.store.wallet("acc_nope").await.must("wallet").is_empty(),
        "wallet of an unknown holder"
    );
}

/// The wallet lists a holder's passes in grant order, with their products and units.
pub async fn wallet_in_grant_order(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let h = w.id("acc_holder");
    create_account(s, &h, &[Role::Holder]).await;
    let p2 = w.add_product(3).await;
    let late = w.add_pass(&p2, PassMode::Shareable, None).await;
    let mid = w.add_pass(&w.product, PassMode::Unique, Some(2)).await;
    s.grant(&new_grant("grt_z", &late.id, &h, None, t(30)))
        .await
        .must("grant");
    s.grant(&new_grant("grt_y", &mid.id, &h, Some(2), t(20)))
        .await
        .must("grant");
    s.grant(&new_grant("grt_x", &w.shareable.id, &h, None, t(10)))
        .await
        .must("grant");

    let wallet = s.wallet(&h).await.must("wallet");
    let ids: Vec<&str> = wallet.iter().map(|x| x.pass.id.as_str()).collect();
    assert_eq!(
        ids,
        [w.shareable.id.as_str(), mid.id.as_str(), late.id.as_str()],
        "grant order"
    );
    assert_eq!(wallet[0].grant_id, "grt_x");
    assert_eq!(wallet[0].granted_at, t(10));
    assert_eq!(wallet[0].product, w.product);
    assert_eq!(
        (wallet[0].units_granted, wallet[0].units_left),
        (None, None)
    );
    assert_eq!(wallet[1].pass, mid);
    assert_eq!(
        (wallet[1].units_granted, wallet[1].units_left),
        (Some(2), Some(2))
    );
    assert_eq!(wallet[2].product, p2);
    assert!(wallet.iter().all(|x| x.holder_id == h));
    assert_eq!(s.holding(&h, &mid.id).await.must("holding"), wallet[1]);

    // Holder 1's wallet: the shareable and the unique pass of the world.
    let w1 = s.wallet(&w.holder1).await.must("wallet");
    assert_eq!(w1.len(), 2);
    assert!(w1.iter().all(|x| x.holder_id == w.holder1));
}

// ---------------------------------------------------------------------------
// Holders and the market
// ---------------------------------------------------------------------------

/// set_holder_fields and holder: fields, name, overwrite, NotFound.
pub async fn holder_fields_round_trip(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let h = s.holder(&w.holder1, T0).await.must("holder");
    assert_eq!(h.id, w.holder1);
    assert_eq!(h.name, format!("Name of {}", w.holder1));
    assert!(h.fields.is_empty(), "no fields set yet");
    assert_eq!(h.reputation, ReputationCounts::default());

    let fields = vec!["electronics/audio".to_string(), "music/jazz".to_string()];
    s.set_holder_fields(&w.holder1, &fields)
        .await
        .must("set fields");
    assert_eq!(s.holder(&w.holder1, T0).await.must("holder").fields, fields);
    let fewer = vec!["books".to_string()];
    s.set_holder_fields(&w.holder1, &fewer)
        .await
        .must("overwrite fields");
    assert_eq!(s.holder(&w.holder1, T0).await.must("holder").fields, fewer);
    s.set_holder_fields(&w.holder1, &[])
        .await
        .must("clear fields");
    assert!(s
        .holder(&w.holder1, T0)
        .await
        .must("holder")
        .fields
        .is_empty());
    assert!(
        s.holder(&w.holder2, T0)
            .await
            .must("holder")
            .fields
            .is_empty(),
        "other holders untouched"
    );

    assert_err!(
        s.holder("acc_nope", T0).await,
        StoreError::NotFound,
        "unknown holder"
    );
}

/// Reputation: positive/ratings from ratings; offered/interactions from requests, where a
/// pending request whose deadline is at or before `now` counts as decided before expire_due.
pub async fn holder_reputation_counts(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let (h1, h2) = (w.holder1.as_str(), w.holder2.as_str());
    let now = t(7_200);

    // Three requests answered with offers, rated +, +, −.
    for (i, positive) in [true, true, false].into_iter().enumerate() {
        let offer = w.bought_offer(h1, &w.shareable).await;
        s.rate(&rating(&format!("rat_{i}"), &offer, positive))
            .await
            .must("rate");
    }
    // One declined by holder 1 (holder 2 answered the same demand with an offer).
    let d4 = w.demand(&[h1, h2]).await;
    s.decline(&d4[0].id, None, t(30)).await.must("decline");
    w.offer(&d4[1], &w.shareable.id).await;
    // One expired by expire_due. (Each expiry from another requester: one
    // requester's expiries count once a day, see `expiries_count_once_per_requester_per_day`.)
    let (r1, r2, r3) = (
        w.add_requester().await,
        w.add_requester().await,
        w.add_requester().await,
    );
    let d7 = w.demand_by(&r1, &[h1], t(5_000)).await;
    assert_eq!(s.expire_due(t(5_000)).await.must("expire_due"), 1);
    assert_eq!(
        s.interaction(&d7[0].id).await.must("interaction").status,
        InteractionStatus::Expired
    );
    // One pending, due exactly at `now`; one pending, due after `now`.
    let due = w.demand_by(&r2, &[h1], now).await;
    let later = w.demand_by(&r3, &[h1], t(7_201)).await;

    let rep = |positive, ratings, offered, interactions| ReputationCounts {
        positive,
        ratings,
        offered,
        interactions,
    };
    assert_eq!(
        s.holder(h1, now).await.must("holder").reputation,
        rep(2, 3, 3, 6),
        "at the deadline of `due`"
    );
    assert_eq!(
        s.holder(h1, Timestamp::from_millis(now.millis() - 1))
            .await
            .must("holder")
            .reputation,
        rep(2, 3, 3, 5),
        "just before the deadline of `due`"
    );
    assert_eq!(
        s.holder(h1, t(7_201)).await.must("holder").reputation,
        rep(2, 3, 3, 7),
        "both due"
    );
    assert_eq!(
        s.holder(h2, now).await.must("holder").reputation,
        rep(0, 0, 1, 1),
        "holder 2"
    );

    // expire_due changes the stored status, not the counts.
    assert_eq!(s.expire_due(now).await.must("expire_due"), 1);
    assert_eq!(
        s.interaction(&due[0].id).await.must("interaction").status,
        InteractionStatus::Expired
    );
    assert_eq!(
        s.interaction(&later[0].id).await.must("interaction").status,
        InteractionStatus::Pending
    );
    assert_eq!(
        s.holder(h1, now).await.must("holder").reputation,
        rep(2, 3, 3, 6)
    );
    let r = s.holder(h1, now).await.must("holder").reputation;
    assert_eq!(r.positive_rate(), Some(2.0 / 3.0));
    assert_eq!(r.success_rate(), Some(0.5));
}

/// Griefing the success rate with demands nobody means to follow up: one
/// requester's expired requests count once per holder per UTC day of their
/// deadline (in `holder` and in `market` alike); answers and declines count
/// one by one, and other requesters' expiries each count.
pub async fn expiries_count_once_per_requester_per_day(store: Arc<dyn Store>) {
    use symbolon_core::limits::EXPIRY_COUNT_WINDOW_MS;
    let w = World::new(store).await;
    let s = w.store();
    let h1 = w.holder1.as_str();
    // The victim answered one honest demand.
    let honest = w.demand(&[h1]).await;
    w.offer(&honest[0], &w.shareable.id).await;
    let rate = |at: Timestamp| async move {
        let held = s.holder(h1, at).await.must("holder").reputation;
        let market = s.market(at).await.must("market");
        let listed = market
            .holders
            .iter()
            .find(|h| h.id == h1)
            .expect("in the market")
            .reputation;
        assert_eq!(held, listed, "holder() and market() agree");
        (held.offered, held.interactions)
    };
    assert_eq!(rate(t(100)).await, (1, 1));
    // One free account sends 30 demands it never follows up.
    let attacker = w.add_requester().await;
    let day = EXPIRY_COUNT_WINDOW_MS / 1000;
    let t0_day = T0.millis() / EXPIRY_COUNT_WINDOW_MS;
    // Deadlines within one day (of the window) after T0's.
    let first = t((t0_day + 1) * day - T0.seconds() + 60);
    for i in 0..30 {
        w.demand_by(&attacker, &[h1], first.plus_seconds(i * 60))
            .await;
    }
    let after = first.plus_seconds(30 * 60);
    assert_eq!(
        rate(after).await,
        (1, 2),
        "30 expiries of one requester count once"
    );
    assert_eq!(s.expire_due(after).await.must("expire_due"), 30);
    assert_eq!(rate(after).await, (1, 2), "and the same once expired");
    // A second account is another requester.
    let second = w.add_requester().await;
    w.demand_by(&second, &[h1], after.plus_seconds(60)).await;
    assert_eq!(rate(after.plus_seconds(120)).await, (1, 3));
    // The first attacker again, the next day: one more.
    let next_day = first.plus_seconds(day);
    w.demand_by(&attacker, &[h1], next_day).await;
    w.demand_by(&attacker, &[h1], next_day.plus_seconds(60))
        .await;
    assert_eq!(rate(next_day.plus_seconds(120)).await, (1, 4));
    // Declines are the holder's own choice: each counts.
    for _ in 0..2 {
        let d = w
            .demand_by(&attacker, &[h1], next_day.plus_seconds(3600))
            .await;
        s.decline(&d[0].id, None, t(30)).await.must("decline");
    }
    assert_eq!(rate(next_day.plus_seconds(120)).await, (1, 6));
}

/// The maintained reputation counters equal the aggregates over history:
/// random demands to random holders, answered, declined or left to expire,
/// concurrently, with sweeps at random points and ratings of bought offers;
/// at several moments `holder()` and `market()` equal counts recomputed here
/// from what happened (expiries once per requester per UTC day).
pub async fn reputation_counters_equal_the_history(store: Arc<dyn Store>) {
    use std::collections::{BTreeMap, HashSet};
    use symbolon_core::limits::EXPIRY_COUNT_WINDOW_MS;
    let w = World::new(store).await;
    let s = w.store();
    let mut holders = vec![w.holder1.clone(), w.holder2.clone()];
    for _ in 0..3 {
        holders.push(w.add_holder().await);
    }
    let mut requesters = Vec::new();
    for _ in 0..4 {
        requesters.push(w.add_requester().await);
    }
    // Deadlines on two UTC days (T0 is 08:00 UTC).
    let deadlines = [t(100), t(300), t(57_700), t(57_900)];
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    // (holder, requester, deadline, action: 0 offer, 1 decline, 2 none)
    let mut plan: Vec<(Interaction, String, usize)> = Vec::new();
    for _ in 0..48 {
        let r = requesters[next(requesters.len())].clone();
        let d = deadlines[next(deadlines.len())];
        let mut chosen: Vec<&str> = Vec::new();
        while chosen.len() < 2 + next(2) {
            let h = holders[next(holders.len())].as_str();
            if !chosen.contains(&h) {
                chosen.push(h);
            }
        }
        for i in w.demand_by(&r, &chosen, d).await {
            let action = next(3);
            plan.push((i, r.clone(), action));
        }
    }
    // Answers and declines, all at once.
    let mut set = JoinSet::new();
    for (i, _, action) in &plan {
        let (store, i, action) = (w.store.clone(), i.clone(), *action);
        let pass = w.shareable.id.clone();
        let offer_id = w.id("ofr");
        set.spawn(async move {
            match action {
                0 => store
                    .create_offer(&NewOffer {
                        id: offer_id,
                        interaction_id: i.id.clone(),
                        pass_id: pass,
                        note: None,
                        created_at: t(60),
                    })
                    .await
                    .map(|_| ()),
                1 => store.decline(&i.id, None, t(60)).await.map(|_| ()),
                _ => Ok(()),
            }
        });
    }
    for r in join_all(set).await {
        r.must("answer or decline");
    }
    // Ratings of bought offers, concurrently.
    let mut ratings: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut bought = Vec::new();
    for k in 0..6 {
        let h = holders[k % holders.len()].clone();
        bought.push((w.bought_offer(&h, &w.shareable).await, k % 3 != 0));
    }
    let mut set = JoinSet::new();
    for (k, (offer, positive)) in bought.iter().enumerate() {
        let e = ratings.entry(offer.holder_id.clone()).or_default();
        e.1 += 1;
        e.0 += *positive as u64;
        let (store, r) = (
            w.store.clone(),
            rating(&format!("rat_c{k}"), offer, *positive),
        );
        set.spawn(async move { store.rate(&r).await });
    }
    for r in join_all(set).await {
        r.must("rate");
    }
    // The bought offers' own requests were answered (offered) before their deadline.
    let bought_offered: BTreeMap<String, u64> =
        bought.iter().fold(BTreeMap::new(), |mut m, (o, _)| {
            *m.entry(o.holder_id.clone()).or_default() += 1;
            m
        });
    let oracle = |now: Timestamp| {
        let mut out: BTreeMap<String, ReputationCounts> = BTreeMap::new();
        let mut expired: HashSet<(String, String, i64)> = HashSet::new();
        for h in &holders {
            let (positive, n) = ratings.get(h).copied().unwrap_or_default();
            let offered_b = bought_offered.get(h).copied().unwrap_or_default();
            out.insert(
                h.clone(),
                ReputationCounts {
                    positive,
                    ratings: n,
                    offered: offered_b,
                    interactions: offered_b,
                },
            );
        }
        for (i, r, action) in &plan {
            let c = out.get_mut(&i.holder_id).expect("a holder");
            match action {
                0 => {
                    c.offered += 1;
                    c.interactions += 1;
                }
                1 => c.interactions += 1,
                _ if i.deadline <= now => {
                    let day = i.deadline.millis() / EXPIRY_COUNT_WINDOW_MS;
                    if expired.insert((i.holder_id.clone(), r.clone(), day)) {
                        c.interactions += 1;
                    }
                }
                _ => {}
            }
        }
        out
    };
    let check = |now: Timestamp, when: &'static str| {
        let want = oracle(now);
        async move {
            let market = s.market(now).await.must("market");
            for (h, want) in &want {
                let got = s.holder(h, now).await.must("holder").reputation;
                assert_eq!(&got, want, "{h} via holder() at {now:?} ({when})");
                if let Some(m) = market.holders.iter().find(|x| &x.id == h) {
                    assert_eq!(&m.reputation, want, "{h} via market() at {now:?} ({when})");
                }
            }
        }
    };
    check(t(90), "nothing due").await;
    check(t(150), "some due, none swept").await;
    s.expire_due(t(150)).await.must("sweep");
    check(t(150), "swept").await;
    check(t(57_800), "the next day partly due").await;
    s.expire_due(t(57_700)).await.must("sweep");
    check(t(57_800), "the next day partly swept").await;
    s.expire_due(t(60_000)).await.must("sweep");
    check(t(60_000), "all swept").await;
    check(t(200_000), "later").await;
}

/// market: only usable holdings (valid pass, product in stock, unique units left) and the
/// state of the holders behind them.
pub async fn market_lists_usable_holdings(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let now = t(7_200);
    let (h1, h2) = (w.holder1.clone(), w.holder2.clone());

    // Excluded: a pass whose validity ended at `now`, one valid only after `now`,
    // a product out of stock, a unique pass with no units left.
    let mut expired = pass(&w.id("pas"), &w.product, PassMode::Shareable, None);
    expired.valid_until = Some(now);
    let mut not_yet = pass(&w.id("pas"), &w.product, PassMode::Shareable, None);
    not_yet.valid_from = Timestamp::from_millis(now.millis() + 1);
    // Included: valid from exactly `now` until just after.
    let mut just_valid = pass(&w.id("pas"), &w.product, PassMode::Shareable, None);
    just_valid.valid_from = now;
    just_valid.valid_until = Some(Timestamp::from_millis(now.millis() + 1));
    for p in [&expired, &not_yet, &just_valid] {
        s.create_pass(p, 0).await.must("create pass");
    }
    w.grant(&expired, &h1, None).await;
    w.grant(&not_yet, &h2, None).await;
    w.grant(&just_valid, &h2, None).await;
    let sold_out = w.add_product(0).await;
    let on_sold_out = w.add_pass(&sold_out, PassMode::Shareable, None).await;
    w.grant(&on_sold_out, &h1, None).await;
    let used = w.add_pass(&w.product, PassMode::Unique, Some(1)).await;
    let h3 = w.id("acc_holder");
    create_account(s, &h3, &[Role::Holder]).await;
    w.grant(&used, &h3, Some(1)).await;
    w.bought_offer(&h3, &used).await; // holder 3's only unit goes to the requester

    // Reputation: holder 1 has one rated offer; holder 2 one pending request due exactly at `now`.
    let offer = w.bought_offer(&h1, &w.shareable).await;
    s.rate(&rating("rat_1", &offer, true)).await.must("rate");
    w.demand_by(&w.requester, &[&h2], now).await;
    s.set_holder_fields(&h1, &["electronics".to_string()])
        .await
        .must("fields");

    let m = s.market(now).await.must("market");
    let got: BTreeSet<(String, String)> = m
        .holdings
        .iter()
        .map(|x| (x.holder_id.clone(), x.pass.id.clone()))
        .collect();
    assert_eq!(m.holdings.len(), got.len(), "no holding is listed twice");
    let want: BTreeSet<(String, String)> = [
        (&h1, &w.shareable.id),
        (&h1, &w.unique.id),
        (&h2, &w.shareable.id),
        (&h2, &w.unique.id),
        (&h2, &just_valid.id),
    ]
    .into_iter()
    .map(|(h, p)| (h.clone(), p.clone()))
    .collect();
    assert_eq!(got, want, "usable holdings at {now:?}");
    for x in &m.holdings {
        assert_eq!(
            x,
            &s.holding(&x.holder_id, &x.pass.id).await.must("holding"),
            "market holding = holding()"
        );
    }
    let u1 = m
        .holdings
        .iter()
        .find(|x| x.holder_id == h1 && x.pass.id == w.unique.id)
        .expect("unique holding");
    assert_eq!((u1.units_granted, u1.units_left), (Some(2), Some(2)));

    // Every holder behind a holding is listed once, with its state at `now`.
    let holder_ids: Vec<&str> = m.holders.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(
        holder_ids.iter().collect::<BTreeSet<_>>().len(),
        holder_ids.len(),
        "no holder is listed twice"
    );
    for x in &m.holdings {
        assert!(
            holder_ids.contains(&x.holder_id.as_str()),
            "holder {} of a holding is listed",
            x.holder_id
        );
    }
    for x in &m.holders {
        assert_eq!(
            x,
            &s.holder(&x.id, now).await.must("holder"),
            "market holder = holder()"
        );
    }
    let state = |id: &str| {
        m.holders
            .iter()
            .find(|x| x.id == id)
            .expect("holder listed")
            .clone()
    };
    let s1 = state(&h1);
    assert_eq!(s1.fields, vec!["electronics".to_string()]);
    assert_eq!(
        s1.reputation,
        ReputationCounts {
            positive: 1,
            ratings: 1,
            offered: 1,
            interactions: 1
        }
    );
    assert_eq!(
        state(&h2).reputation,
        ReputationCounts {
            positive: 0,
            ratings: 0,
            offered: 0,
            interactions: 1
        }
    );

    // Before `just_valid` starts and after stock runs out.
    let before = s
        .market(Timestamp::from_millis(now.millis() - 1))
        .await
        .must("market");
    assert!(before.holdings.iter().all(|x| x.pass.id != just_valid.id));
    assert!(
        before.holdings.iter().any(|x| x.pass.id == expired.id),
        "`expired` is valid before its end"
    );
}

// ---------------------------------------------------------------------------
// Demands and interactions
// ---------------------------------------------------------------------------

/// create_demand, demand, demand_interactions (best match first), interaction.
pub async fn demand_round_trip(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let h3 = w.add_holder().await;
    let d = demand_record("dem_1", &w.requester, DEADLINE);
    let requests = vec![
        interaction("int_b", "dem_1", &w.holder2, 2, DEADLINE),
        interaction("int_c", "dem_1", &h3, 3, DEADLINE),
        interaction("int_a", "dem_1", &w.holder1, 1, DEADLINE),
    ];
    s.create_demand(&d, &requests).await.must("create_demand");
    assert_eq!(s.demand("dem_1").await.must("demand"), d);

    let mut bare = demand_record("dem_2", &w.requester, DEADLINE);
    bare.category = None;
    bare.max_price_minor = None;
    bare.currency = None;
    bare.min_positive_rate = None;
    bare.min_success_rate = Some(0.25);
    bare.min_ratings = None;
    bare.fields.clear();
    s.create_demand(&bare, &[])
        .await
        .must("create_demand without requests");
    assert_eq!(s.demand("dem_2").await.must("demand"), bare);
    assert!(s
        .demand_interactions("dem_2")
        .await
        .must("interactions")
        .is_empty());

    let stored = s
        .demand_interactions("dem_1")
        .await
        .must("demand_interactions");
    let ids: Vec<&str> = stored.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["int_a", "int_b", "int_c"], "best match first");
    for got in &stored {
        let mut want = requests
            .iter()
            .find(|r| r.id == got.id)
            .expect("sent")
            .clone();
        want.seq = got.seq;
        assert_eq!(got, &want, "request {} round trip", got.id);
        assert_eq!(&s.interaction(&got.id).await.must("interaction"), got);
    }
    let seqs: BTreeSet<i64> = stored.iter().map(|i| i.seq).collect();
    assert_eq!(seqs.len(), 3, "distinct seqs");
    assert!(s
        .demand_offers("dem_1")
        .await
        .must("demand_offers")
        .is_empty());
}

/// Unknown demands and requests; duplicate ids; a failed create_demand creates nothing.
pub async fn demand_errors(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    assert_err!(
        s.demand("dem_nope").await,
        StoreError::NotFound,
        "unknown demand"
    );
    assert_err!(
        s.interaction("int_nope").await,
        StoreError::NotFound,
        "unknown interaction"
    );
    assert!(s
        .demand_interactions("dem_nope")
        .await
        .must("interactions")
        .is_empty());
    assert!(s.demand_offers("dem_nope").await.must("offers").is_empty());

    let first = w.demand(&[&w.holder1]).await;
    let d_id = first[0].demand_id.clone();
    let dup = demand_record(&d_id, &w.requester, t(99));
    assert_err!(
        s.create_demand(&dup, &[]).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate demand id"
    );
    assert_eq!(
        s.demand(&d_id).await.must("demand").deadline,
        DEADLINE.millis(),
        "first demand untouched"
    );

    // A new demand reusing a request id: neither the demand nor its other requests are created.
    let d = demand_record("dem_new", &w.requester, DEADLINE);
    let requests = [
        interaction("int_fresh", "dem_new", &w.holder2, 1, DEADLINE),
        interaction(&first[0].id, "dem_new", &w.holder1, 2, DEADLINE),
    ];
    assert_err!(
        s.create_demand(&d, &requests).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate interaction id"
    );
    assert_err!(
        s.demand("dem_new").await,
        StoreError::NotFound,
        "the demand of a failed create is not created"
    );
    assert_err!(
        s.interaction("int_fresh").await,
        StoreError::NotFound,
        "nor its requests"
    );
    assert!(s
        .inbox(&w.holder2, None, &page(None, 100))
        .await
        .must("inbox")
        .is_empty());
    assert_eq!(
        s.interaction(&first[0].id).await.must("interaction"),
        first[0],
        "first request untouched"
    );
}

/// inbox: a holder's own requests, oldest first, paged by seq.
pub async fn inbox_pages_oldest_first(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let (h1, h2) = (w.holder1.as_str(), w.holder2.as_str());
    let mut mine = Vec::new();
    for i in 0..5 {
        // Holder 1 is rank 2 on odd demands, so rank does not decide inbox order.
        let holders: Vec<&str> = if i % 2 == 1 { vec![h2, h1] } else { vec![h1] };
        let requests = w.demand(&holders).await;
        mine.push(
            requests
                .into_iter()
                .find(|r| r.holder_id == h1)
                .expect("holder 1 request"),
        );
    }
    let all = s.inbox(h1, None, &page(None, 100)).await.must("inbox");
    assert_eq!(all, mine, "all of holder 1's requests, oldest first");
    assert!(all.windows(2).all(|p| p[0].seq < p[1].seq), "seq increases");

    let mut paged = Vec::new();
    let mut after = None;
    let mut sizes = Vec::new();
    for _ in 0..10 {
        let p = s.inbox(h1, None, &page(after, 2)).await.must("inbox page");
        assert!(
            p.iter().all(|i| after.is_none_or(|a| i.seq > a)),
            "a page holds only items after its cursor"
        );
        sizes.push(p.len());
        let Some(last) = p.last() else { break };
        after = Some(last.seq);
        paged.extend(p);
    }
    assert_eq!(sizes, [2, 2, 1, 0]);
    assert_eq!(paged, mine, "pages concatenate to the whole inbox");

    let other = s.inbox(h2, None, &page(None, 100)).await.must("inbox");
    assert_eq!(other.len(), 2);
    assert!(
        other.iter().all(|i| i.holder_id == h2),
        "only the holder's own requests"
    );
    assert_eq!(
        s.inbox(h1, None, &page(Some(mine[2].seq), 1))
            .await
            .must("inbox"),
        vec![mine[3].clone()]
    );
    assert!(s
        .inbox("acc_nope", None, &page(None, 10))
        .await
        .must("inbox")
        .is_empty());

    // The newest first, cut at the limit from the old end.
    let newest = s.inbox_newest(h1, 3).await.must("inbox_newest");
    let mut expected: Vec<_> = mine.iter().rev().take(3).cloned().collect();
    assert_eq!(newest, expected, "the three newest, newest first");
    expected = mine.iter().rev().cloned().collect();
    assert_eq!(s.inbox_newest(h1, 100).await.must("inbox_newest"), expected);
    assert!(s
        .inbox_newest("acc_nope", 10)
        .await
        .must("inbox_newest")
        .is_empty());
}

/// create_offer on a pending request: the offer, and the request becomes offered.
pub async fn create_offer_marks_interaction_offered(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    let new = NewOffer {
        id: "ofr_1".into(),
        interaction_id: requests[0].id.clone(),
        pass_id: w.unique.id.clone(),
        note: Some("unit in mint condition".into()),
        created_at: t(60),
    };
    let offer = s.create_offer(&new).await.must("create_offer");
    let want = Offer {
        id: "ofr_1".into(),
        interaction_id: requests[0].id.clone(),
        demand_id: requests[0].demand_id.clone(),
        holder_id: w.holder1.clone(),
        requester_id: w.requester.clone(),
        pass_id: w.unique.id.clone(),
        note: Some("unit in mint condition".into()),
        status: OfferStatus::Offered,
        created_at: t(60),
        accepted_at: None,
        licence_jws: None,
        unit_no: None,
    };
    assert_eq!(offer, want);
    assert_eq!(s.offer("ofr_1").await.must("offer"), want);

    let i = s.interaction(&requests[0].id).await.must("interaction");
    assert_eq!(i.status, InteractionStatus::Offered);
    assert_eq!(i.decided_at, Some(t(60)));
    assert_eq!(
        s.interaction(&requests[1].id)
            .await
            .must("interaction")
            .status,
        InteractionStatus::Pending
    );

    let mut second = new.clone();
    second.id = "ofr_2".into();
    second.interaction_id = requests[1].id.clone();
    second.note = None;
    second.created_at = t(90);
    let o2 = s.create_offer(&second).await.must("create_offer");
    assert_eq!(o2.note, None);
    let offers = s
        .demand_offers(&requests[0].demand_id)
        .await
        .must("demand_offers");
    assert_eq!(offers, vec![want, o2], "oldest first");
    assert_eq!(w.stock(&w.product.id).await, 10, "offers take no stock");
    assert_eq!(
        s.holding(&w.holder1, &w.unique.id)
            .await
            .must("holding")
            .units_left,
        Some(2),
        "nor units"
    );
}

/// create_offer at or after the deadline → InteractionClosed, changing nothing.
pub async fn create_offer_after_deadline_is_closed(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    let late = NewOffer {
        id: "ofr_late".into(),
        interaction_id: requests[0].id.clone(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: DEADLINE,
    };
    assert_err!(
        s.create_offer(&late).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "offer at the deadline"
    );
    assert_err!(
        s.offer("ofr_late").await,
        StoreError::NotFound,
        "no offer created"
    );
    let i = s.interaction(&requests[0].id).await.must("interaction");
    assert_eq!(
        (i.status, i.decided_at),
        (InteractionStatus::Pending, None),
        "request untouched"
    );
    assert!(s
        .demand_offers(&requests[0].demand_id)
        .await
        .must("offers")
        .is_empty());

    let just_in_time = NewOffer {
        id: "ofr_ok".into(),
        interaction_id: requests[1].id.clone(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: Timestamp::from_millis(DEADLINE.millis() - 1),
    };
    s.create_offer(&just_in_time)
        .await
        .must("offer 1 ms before the deadline");

    // After expire_due too.
    s.expire_due(DEADLINE).await.must("expire_due");
    let mut after_expiry = late.clone();
    after_expiry.created_at = t(60);
    assert_err!(
        s.create_offer(&after_expiry).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "offer on an expired request"
    );
}

/// create_offer after a decline or an offer → InteractionClosed.
pub async fn create_offer_after_decline_or_offer_is_closed(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    s.decline(&requests[0].id, None, t(30))
        .await
        .must("decline");
    let mut new = NewOffer {
        id: "ofr_1".into(),
        interaction_id: requests[0].id.clone(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: t(60),
    };
    assert_err!(
        s.create_offer(&new).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "after decline"
    );
    assert_eq!(
        s.interaction(&requests[0].id).await.must("i").status,
        InteractionStatus::Declined
    );

    new.interaction_id = requests[1].id.clone();
    let first = s.create_offer(&new).await.must("first offer");
    new.id = "ofr_2".into();
    new.created_at = t(61);
    assert_err!(
        s.create_offer(&new).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "second offer"
    );
    assert_err!(
        s.offer("ofr_2").await,
        StoreError::NotFound,
        "no second offer"
    );
    assert_eq!(
        s.demand_offers(&requests[1].demand_id).await.must("offers"),
        vec![first]
    );
    assert_eq!(
        s.interaction(&requests[1].id).await.must("i").decided_at,
        Some(t(60))
    );
}

/// create_offer on an unknown request; a duplicate offer id leaves the request pending.
pub async fn create_offer_errors(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let new = NewOffer {
        id: "ofr_x".into(),
        interaction_id: "int_nope".into(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: t(60),
    };
    assert_err!(
        s.create_offer(&new).await,
        StoreError::NotFound,
        "unknown interaction"
    );
    assert_err!(
        s.offer("ofr_nope").await,
        StoreError::NotFound,
        "unknown offer"
    );

    let a = w.demand(&[&w.holder1]).await;
    let b = w.demand(&[&w.holder1]).await;
    let first = w.offer(&a[0], &w.shareable.id).await;
    let dup = NewOffer {
        id: first.id.clone(),
        interaction_id: b[0].id.clone(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: t(70),
    };
    assert_err!(
        s.create_offer(&dup).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate offer id"
    );
    let i = s.interaction(&b[0].id).await.must("interaction");
    assert_eq!(
        (i.status, i.decided_at),
        (InteractionStatus::Pending, None),
        "request still pending"
    );
    assert_eq!(
        s.offer(&first.id).await.must("offer"),
        first,
        "first offer untouched"
    );
    w.offer(&b[0], &w.shareable.id).await; // and it can still be answered
}

/// decline: pending → declined; again, or after the deadline → InteractionClosed.
pub async fn decline_interaction(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    let d = s
        .decline(&requests[0].id, None, t(30))
        .await
        .must("decline");
    let mut want = requests[0].clone();
    want.status = InteractionStatus::Declined;
    want.decided_at = Some(t(30));
    assert_eq!(d, want);
    assert_eq!(
        s.interaction(&requests[0].id).await.must("interaction"),
        want
    );

    assert_err!(
        s.decline(&requests[0].id, None, t(40)).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "decline twice"
    );
    assert_err!(
        s.decline(&requests[1].id, None, DEADLINE).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "decline at the deadline"
    );
    assert_eq!(
        s.interaction(&requests[1].id).await.must("i").status,
        InteractionStatus::Pending
    );
    w.offer(&requests[1], &w.shareable.id).await;
    assert_err!(
        s.decline(&requests[1].id, None, t(70)).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "decline after an offer"
    );
    assert_eq!(
        s.interaction(&requests[1].id).await.must("i").status,
        InteractionStatus::Offered
    );
    assert_err!(
        s.decline("int_nope", None, t(30)).await,
        StoreError::NotFound,
        "unknown interaction"
    );
}

/// expire_due marks pending requests due at or before `now` and counts them.
pub async fn expire_due_marks_due_interactions(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let (h1, h2) = (w.holder1.as_str(), w.holder2.as_str());
    let r = w.requester.clone();
    let a = w.demand_by(&r, &[h1, h2], t(100)).await; // h1 offers, h2 stays pending
    w.offer(&a[0], &w.shareable.id).await;
    let b = w.demand_by(&r, &[h1, h2], t(200)).await; // h1 declines, h2 stays pending
    s.decline(&b[0].id, None, t(50)).await.must("decline");
    let c = w.demand_by(&r, &[h1], t(300)).await;

    assert_eq!(
        s.expire_due(t(99)).await.must("expire_due"),
        0,
        "nothing due yet"
    );
    assert_eq!(
        s.expire_due(t(200)).await.must("expire_due"),
        2,
        "a[1] and b[1], deadline inclusive"
    );
    for i in [&a[1], &b[1]] {
        let got = s.interaction(&i.id).await.must("interaction");
        assert_eq!(got.status, InteractionStatus::Expired);
        assert!(
            got.decided_at.is_some(),
            "an expired request has a decision time"
        );
    }
    assert_eq!(
        s.interaction(&a[0].id).await.must("i").status,
        InteractionStatus::Offered
    );
    assert_eq!(
        s.interaction(&b[0].id).await.must("i").status,
        InteractionStatus::Declined
    );
    assert_eq!(
        s.interaction(&c[0].id).await.must("i").status,
        InteractionStatus::Pending
    );
    assert_eq!(
        s.expire_due(t(200)).await.must("expire_due"),
        0,
        "already expired"
    );
    assert_eq!(s.expire_due(t(10_000)).await.must("expire_due"), 1, "c");
    assert_eq!(
        s.interaction(&c[0].id).await.must("i").status,
        InteractionStatus::Expired
    );
    assert_eq!(s.expire_due(t(10_000)).await.must("expire_due"), 0);
}

// ---------------------------------------------------------------------------
// Accepting offers
// ---------------------------------------------------------------------------

/// Accepting a shareable offer records the licence; the demand records the accepted offer.
pub async fn accept_shareable_sets_licence(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1]).await;
    let offer = w.offer(&requests[0], &w.shareable.id).await;
    let acc = Acceptance {
        offer_id: offer.id.clone(),
        requester_id: w.requester.clone(),
        licence_jws: Some("eyJhbGciOiJFZERTQSJ9.licence.sig".into()),
        at: t(120),
    };
    let accepted = s.accept_offer(&acc).await.must("accept_offer");
    let mut want = offer.clone();
    want.status = OfferStatus::Accepted;
    want.accepted_at = Some(t(120));
    want.licence_jws = acc.licence_jws.clone();
    want.unit_no = None;
    assert_eq!(accepted, want);
    assert_eq!(s.offer(&offer.id).await.must("offer"), want);
    assert_eq!(
        s.demand(&offer.demand_id)
            .await
            .must("demand")
            .accepted_offer_id,
        Some(offer.id.clone())
    );
    assert_eq!(
        s.demand_offers(&offer.demand_id).await.must("offers"),
        vec![want]
    );
    let h = s.holding(&w.holder1, &w.shareable.id).await.must("holding");
    assert_eq!(
        (h.units_granted, h.units_left),
        (None, None),
        "a shareable pass has no units"
    );
}

/// Accepting a unique offer moves nothing: the unit goes with the payment of
/// the order placed from it, in the paying transaction.
pub async fn accept_unique_moves_a_unit_only_when_paid(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1]).await;
    let offer = w.offer(&requests[0], &w.unique.id).await;
    let accepted = s
        .accept_offer(&w.acceptance(&offer).await)
        .await
        .must("accept_offer");
    assert_eq!(accepted.status, OfferStatus::Accepted);
    assert_eq!(accepted.accepted_at, Some(t(120)));
    assert_eq!(accepted.unit_no, None, "no unit moves at acceptance");
    assert_eq!(accepted.licence_jws, None);
    let left = |h: Holding| (h.units_granted, h.units_left);
    assert_eq!(
        left(s.holding(&w.holder1, &w.unique.id).await.must("holding")),
        (Some(2), Some(2))
    );
    // An unpaid order takes nothing either.
    let input = order_for("ord_u", &accepted, &w.product, 1);
    let placed = s.place_order(&input, None, None).await.must("place_order");
    assert_eq!((placed.status, placed.unit_no), (OrderStatus::Placed, None));
    assert_eq!(
        left(s.holding(&w.holder1, &w.unique.id).await.must("holding")),
        (Some(2), Some(2))
    );
    assert_eq!(w.stock(&w.product.id).await, 10);
    // Paying moves the holder's first unsold unit and takes the stock.
    let transfer = w.first_sale(&placed, t(200)).await.expect("a unit");
    assert_eq!(transfer.unit_no, 1);
    let paid = s
        .pay_order(
            &placed.id,
            &settlement_for("led_u", &placed, t(200)),
            Some(&transfer),
        )
        .await
        .must("pay_order");
    assert_eq!((paid.status, paid.unit_no), (OrderStatus::Paid, Some(1)));
    assert_eq!(s.offer(&offer.id).await.must("offer").unit_no, Some(1));
    let unit = s.unit(&w.unique.id, 1).await.must("unit");
    assert_eq!(unit.owner_id.as_deref(), Some(w.requester.as_str()));
    assert_eq!(
        left(s.holding(&w.holder1, &w.unique.id).await.must("holding")),
        (Some(2), Some(1)),
        "one unit left"
    );
    assert_eq!(
        left(s.holding(&w.holder2, &w.unique.id).await.must("holding")),
        (Some(2), Some(2)),
        "other holders keep theirs"
    );
    assert_eq!(w.stock(&w.product.id).await, 9);
    assert_eq!(
        s.unit_history(&w.unique.id, 1).await.must("history"),
        vec![transfer]
    );
    assert_ledger_balanced(s).await;
}

/// One accepted offer per demand: any second accept → OfferAlreadyAccepted, changing nothing.
pub async fn accept_one_offer_per_demand(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    let o1 = w.offer(&requests[0], &w.unique.id).await;
    let o2 = w.offer(&requests[1], &w.unique.id).await;
    s.accept_offer(&w.acceptance(&o1).await)
        .await
        .must("first accept");

    let mut again = w.acceptance(&o1).await;
    again.at = t(130);
    assert_err!(
        s.accept_offer(&again).await,
        StoreError::Conflict(Conflict::OfferAlreadyAccepted),
        "the same offer again"
    );
    assert_err!(
        s.accept_offer(&w.acceptance(&o2).await).await,
        StoreError::Conflict(Conflict::OfferAlreadyAccepted),
        "another offer of the same demand"
    );
    assert_eq!(
        s.offer(&o2.id).await.must("offer"),
        o2,
        "the other offer is untouched"
    );
    let first = s.offer(&o1.id).await.must("offer");
    assert_eq!(
        (first.accepted_at, first.unit_no),
        (Some(t(120)), None),
        "the accepted offer is untouched"
    );
    assert_eq!(
        s.demand(&o1.demand_id)
            .await
            .must("demand")
            .accepted_offer_id,
        Some(o1.id.clone())
    );
    let h2 = s.holding(&w.holder2, &w.unique.id).await.must("holding");
    assert_eq!(
        h2.units_left,
        Some(2),
        "no unit of the losing holder was transferred"
    );
    let h1 = s.holding(&w.holder1, &w.unique.id).await.must("holding");
    assert_eq!(h1.units_left, Some(2), "no unit moves before payment");
}

/// Accepting with the wrong requester, or an unknown offer → NotFound.
pub async fn accept_wrong_requester_is_not_found(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let other = w.add_requester().await;
    let requests = w.demand(&[&w.holder1]).await;
    let offer = w.offer(&requests[0], &w.unique.id).await;
    let mut acc = w.acceptance(&offer).await;
    acc.requester_id = other;
    assert_err!(
        s.accept_offer(&acc).await,
        StoreError::NotFound,
        "another requester's offer"
    );
    assert_eq!(
        s.offer(&offer.id).await.must("offer"),
        offer,
        "offer untouched"
    );
    assert_eq!(
        s.demand(&offer.demand_id)
            .await
            .must("demand")
            .accepted_offer_id,
        None
    );
    assert_eq!(
        s.holding(&w.holder1, &w.unique.id)
            .await
            .must("holding")
            .units_left,
        Some(2)
    );

    let mut unknown = w.acceptance(&offer).await;
    unknown.offer_id = "ofr_nope".into();
    assert_err!(
        s.accept_offer(&unknown).await,
        StoreError::NotFound,
        "unknown offer"
    );
    s.accept_offer(&w.acceptance(&offer).await)
        .await
        .must("the right requester");
}

/// Accepting a unique offer whose holder has no units left → UnitsExhausted, changing nothing.
pub async fn accept_unique_without_units_left(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let p = w.add_pass(&w.product, PassMode::Unique, Some(4)).await;
    let h = w.add_holder().await;
    w.grant(&p, &h, Some(1)).await;
    w.grant(&p, &w.holder1, Some(2)).await; // units left on the pass, but not with `h`
    let a = w.demand(&[&h]).await;
    let b = w.demand(&[&h]).await;
    let oa = w.offer(&a[0], &p.id).await;
    let ob = w.offer(&b[0], &p.id).await;
    // The first buyer pays, and the holder's only unit goes with the payment.
    let accepted = s
        .accept_offer(&w.acceptance(&oa).await)
        .await
        .must("accept");
    let order = s
        .place_order(&order_for("ord_a", &accepted, &w.product, 1), None, None)
        .await
        .must("place_order");
    let transfer = w.first_sale(&order, t(200)).await.expect("a unit");
    s.pay_order(
        &order.id,
        &settlement_for("led_a", &order, t(200)),
        Some(&transfer),
    )
    .await
    .must("pay_order");
    assert_eq!(s.offer(&oa.id).await.must("offer").unit_no, Some(1));
    assert_err!(
        s.accept_offer(&w.acceptance(&ob).await).await,
        StoreError::Conflict(Conflict::UnitsExhausted),
        "the holder's only unit is gone"
    );
    assert_eq!(s.offer(&ob.id).await.must("offer"), ob, "offer untouched");
    assert_eq!(
        s.demand(&ob.demand_id)
            .await
            .must("demand")
            .accepted_offer_id,
        None,
        "demand still open"
    );
    assert_eq!(
        s.holding(&w.holder1, &p.id)
            .await
            .must("holding")
            .units_left,
        Some(2),
        "others' units untouched"
    );
    let held = s.holding(&h, &p.id).await.must("holding");
    assert_eq!((held.units_granted, held.units_left), (Some(1), Some(0)));

    // Granted another unit, the holder can deliver.
    w.grant(&p, &h, Some(1)).await;
    s.accept_offer(&w.acceptance(&ob).await)
        .await
        .must("accept");
    assert_eq!(
        w.first_sale(&order_for("ord_b", &ob, &w.product, 1), t(300))
            .await
            .map(|t| t.unit_no),
        Some(4)
    );
}

// ---------------------------------------------------------------------------
// Orders and the ledger
// ---------------------------------------------------------------------------

/// place_order without a settlement: placed with its `pay_by`, no stock taken, no ledger entries.
pub async fn place_order_without_settlement(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let input = w.order_input(3).await;
    let order = s.place_order(&input, None, None).await.must("place_order");
    let mut want = input.clone();
    want.seq = order.seq;
    assert_eq!(order, want, "a placed order as given");
    assert_eq!(order.status, OrderStatus::Placed);
    assert_eq!((order.payment_ref.clone(), order.paid_at), (None, None));
    assert_eq!(s.order(&input.id).await.must("order"), want);
    assert_eq!(order.pay_by, Some(t(180 + UNPAID_TTL)));
    assert_eq!(
        w.stock(&w.product.id).await,
        10,
        "an unpaid order takes no stock"
    );
    assert!(
        s.ledger_totals().await.must("ledger_totals").is_empty(),
        "no postings"
    );
    assert!(s.balances(&w.requester).await.must("balances").is_empty());
    assert_err!(
        s.order("ord_nope").await,
        StoreError::NotFound,
        "unknown order"
    );
}

/// place_order with a settlement: paid in the same step, postings recorded.
pub async fn place_order_with_settlement(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let input = w.order_input(2).await;
    let settlement = settlement_for("led_1", &input, t(181));
    let order = s
        .place_order(&input, None, Some(&settlement))
        .await
        .must("place_order");
    let mut want = input.clone();
    want.seq = order.seq;
    want.status = OrderStatus::Paid;
    want.payment_ref = Some(settlement.payment_ref.clone());
    want.paid_at = Some(t(181));
    want.pay_by = None;
    assert_eq!(order, want);
    assert_eq!(s.order(&input.id).await.must("order"), want);
    assert_eq!(w.stock(&w.product.id).await, 8);

    assert_eq!(
        s.balances(&w.requester).await.must("balances"),
        vec![(CURRENCY.to_string(), -5_000)]
    );
    assert_eq!(
        s.balances(&w.provider).await.must("balances"),
        vec![(CURRENCY.to_string(), 4_500)]
    );
    assert_eq!(
        s.balances(&w.holder1).await.must("balances"),
        vec![(CURRENCY.to_string(), 500)]
    );
    assert_eq!(
        s.ledger_totals().await.must("ledger_totals"),
        vec![(CURRENCY.to_string(), 0)]
    );
}

/// place_order from an offer not accepted → OfferNotAccepted; unknown offer → NotFound.
pub async fn place_order_requires_accepted_offer(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1]).await;
    let offer = w.offer(&requests[0], &w.shareable.id).await;
    let input = order_for("ord_1", &offer, &w.product, 1);
    let settlement = settlement_for("led_1", &input, t(181));
    assert_err!(
        s.place_order(&input, None, Some(&settlement)).await,
        StoreError::Conflict(Conflict::OfferNotAccepted),
        "offer not accepted"
    );
    assert_err!(s.order("ord_1").await, StoreError::NotFound, "no order");
    assert_eq!(w.stock(&w.product.id).await, 10, "stock untouched");
    assert!(
        s.ledger_totals().await.must("totals").is_empty(),
        "ledger untouched"
    );

    let mut unknown = input.clone();
    unknown.offer_id = Some("ofr_nope".into());
    assert_err!(
        s.place_order(&unknown, None, None).await,
        StoreError::NotFound,
        "unknown offer"
    );
    assert_eq!(w.stock(&w.product.id).await, 10);
}

/// A second order from the same offer → AlreadyOrdered, changing nothing.
pub async fn place_order_once_per_offer(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let input = w.order_input(1).await;
    let first = s
        .place_order(&input, None, Some(&settlement_for("led_1", &input, t(181))))
        .await
        .must("first");
    let mut second = input.clone();
    second.id = "ord_second".into();
    let settlement = settlement_for("led_2", &second, t(182));
    assert_err!(
        s.place_order(&second, None, Some(&settlement)).await,
        StoreError::Conflict(Conflict::AlreadyOrdered),
        "second order of one offer"
    );
    assert_err!(
        s.order("ord_second").await,
        StoreError::NotFound,
        "no second order"
    );
    assert_eq!(w.stock(&w.product.id).await, 9, "stock decremented once");
    let offer_id = input.offer_id.as_deref().expect("an offer's order");
    assert_eq!(
        s.live_order_of_offer(offer_id).await.must("live order"),
        Some(first.id.clone()),
        "the refusal can name the order that exists"
    );
    assert_eq!(s.live_order_of_offer("ofr_none").await.must("none"), None);
    assert_eq!(
        s.balances(&w.requester).await.must("balances"),
        vec![(CURRENCY.to_string(), -2_500)],
        "paid once"
    );
    assert_eq!(
        s.orders(OrderParty::Requester(&w.requester), &page(None, 10))
            .await
            .must("orders"),
        vec![first]
    );
}

/// Too little stock → InsufficientStock, leaving stock, orders and ledger untouched.
pub async fn place_order_insufficient_stock_changes_nothing(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let product = w.add_product(2).await;
    let p = w.add_pass(&product, PassMode::Shareable, None).await;
    w.grant(&p, &w.holder1, None).await;
    let offer = w.accepted_offer(&w.holder1, &p).await;
    let input = order_for("ord_1", &offer, &product, 3);
    let settlement = settlement_for("led_1", &input, t(181));
    assert_err!(
        s.place_order(&input, None, Some(&settlement)).await,
        StoreError::Conflict(Conflict::InsufficientStock),
        "3 wanted, 2 in stock"
    );
    assert_eq!(w.stock(&product.id).await, 2, "stock untouched");
    assert_err!(s.order("ord_1").await, StoreError::NotFound, "no order");
    assert!(s
        .orders(OrderParty::Requester(&w.requester), &page(None, 10))
        .await
        .must("orders")
        .is_empty());
    assert!(
        s.ledger_totals().await.must("totals").is_empty(),
        "ledger untouched"
    );
    assert!(s.balances(&w.requester).await.must("balances").is_empty());

    // The same offer can still be ordered with a quantity in stock (the ledger id is reusable too).
    let mut fits = input.clone();
    fits.quantity = 2;
    fits.total_minor = 2_000;
    fits.commission_minor = 200;
    let order = s
        .place_order(&fits, None, Some(&settlement_for("led_1", &fits, t(190))))
        .await
        .must("place_order");
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(w.stock(&product.id).await, 0);
    assert_ledger_balanced(s).await;
}

/// An order id or ledger id that exists → Duplicate, changing nothing.
pub async fn place_order_duplicate_id(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let first = w.order_input(1).await;
    s.place_order(&first, None, Some(&settlement_for("led_1", &first, t(181))))
        .await
        .must("first");

    let mut dup = w.order_input(1).await;
    let next_id = dup.id.clone();
    dup.id = first.id.clone();
    assert_err!(
        s.place_order(&dup, None, None).await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate order id"
    );
    assert_eq!(w.stock(&w.product.id).await, 9, "stock untouched");

    dup.id = next_id;
    assert_err!(
        s.place_order(&dup, None, Some(&settlement_for("led_1", &dup, t(182))))
            .await,
        StoreError::Conflict(Conflict::Duplicate),
        "duplicate ledger id"
    );
    assert_eq!(w.stock(&w.product.id).await, 9, "stock untouched");
    assert_err!(s.order(&dup.id).await, StoreError::NotFound, "no order");
    assert_eq!(
        s.balances(&w.requester).await.must("balances"),
        vec![(CURRENCY.to_string(), -2_500)]
    );
    s.place_order(&dup, None, None)
        .await
        .must("the offer can still be ordered");
}

/// pay_order: placed → paid; again → InvalidState (no second posting); unknown → NotFound.
pub async fn pay_order_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let input = w.order_input(1).await;
    let placed = s.place_order(&input, None, None).await.must("place_order");
    let settlement = settlement_for("led_1", &input, t(240));
    let paid = s
        .pay_order(&input.id, &settlement, None)
        .await
        .must("pay_order");
    let mut want = placed.clone();
    want.status = OrderStatus::Paid;
    want.payment_ref = Some(settlement.payment_ref.clone());
    want.paid_at = Some(t(240));
    want.pay_by = None;
    assert_eq!(paid, want);
    assert_eq!(s.order(&input.id).await.must("order"), want);
    assert_eq!(
        s.balances(&w.holder1).await.must("balances"),
        vec![(CURRENCY.to_string(), 250)]
    );

    let again = settlement_for("led_2", &input, t(250));
    assert_err!(
        s.pay_order(&input.id, &again, None).await,
        StoreError::Conflict(Conflict::InvalidState),
        "pay twice"
    );
    assert_eq!(
        s.order(&input.id).await.must("order"),
        want,
        "order untouched"
    );
    assert_eq!(
        s.balances(&w.holder1).await.must("balances"),
        vec![(CURRENCY.to_string(), 250)],
        "paid once"
    );
    assert_ledger_balanced(s).await;

    assert_err!(
        s.pay_order("ord_nope", &again, None).await,
        StoreError::NotFound,
        "unknown order"
    );
    assert_eq!(
        w.stock(&w.product.id).await,
        9,
        "paying took the stock, once"
    );

    // A shipped order cannot be paid either.
    let other = w.order_input(1).await;
    s.place_order(&other, None, Some(&settlement_for("led_3", &other, t(181))))
        .await
        .must("place_order");
    s.ship_order(&other.id, None, t(300))
        .await
        .must("ship_order");
    assert_err!(
        s.pay_order(&other.id, &settlement_for("led_4", &other, t(310)), None)
            .await,
        StoreError::Conflict(Conflict::InvalidState),
        "pay a shipped order"
    );
    assert_eq!(
        s.balances(&w.holder1).await.must("balances"),
        vec![(CURRENCY.to_string(), 500)]
    );
}

/// An unpaid order is paid by its `pay_by` or never: past it, paying is
/// `OrderExpired` (even before the sweeper ran), the sweeper expires it once,
/// and an expired order of an offer leaves room for a new one.
pub async fn unpaid_orders_expire_and_take_nothing(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let input = w.order_input(4).await;
    let placed = s.place_order(&input, None, None).await.must("place_order");
    let deadline = placed.pay_by.expect("pay_by");
    assert_eq!(w.stock(&w.product.id).await, 10, "nothing taken");
    let late = settlement_for("led_late", &placed, deadline);
    assert_err!(
        s.pay_order(&placed.id, &late, None).await,
        StoreError::Conflict(Conflict::OrderExpired),
        "paid at its pay_by"
    );
    assert_eq!(
        s.expire_unpaid_orders(t(180)).await.must("expire"),
        0,
        "not yet"
    );
    assert_eq!(s.expire_unpaid_orders(deadline).await.must("expire"), 1);
    assert_eq!(
        s.expire_unpaid_orders(deadline).await.must("expire"),
        0,
        "once"
    );
    let expired = s.order(&placed.id).await.must("order");
    assert_eq!(expired.status, OrderStatus::Expired);
    assert_err!(
        s.pay_order(&placed.id, &settlement_for("led_x", &placed, t(200)), None)
            .await,
        StoreError::Conflict(Conflict::OrderExpired),
        "an expired order is never paid"
    );
    assert_err!(
        s.ship_order(&placed.id, None, t(200)).await,
        StoreError::Conflict(Conflict::InvalidState),
        "nor shipped"
    );
    let events = all_events(s, &w.requester).await;
    assert_eq!(
        kinds(&events)
            .iter()
            .filter(|k| **k == "order.expired")
            .count(),
        1,
        "one order.expired event: {:?}",
        kinds(&events)
    );
    // The same offer can be ordered again, and that order paid.
    let mut again = input.clone();
    again.id = "ord_again".into();
    let again = s.place_order(&again, None, None).await.must("order again");
    s.pay_order(
        &again.id,
        &settlement_for("led_again", &again, t(200)),
        None,
    )
    .await
    .must("pay the new order");
    assert_eq!(w.stock(&w.product.id).await, 6);
    let mut third = input.clone();
    third.id = "ord_third".into();
    assert_err!(
        s.place_order(&third, None, None).await,
        StoreError::Conflict(Conflict::AlreadyOrdered),
        "one live order per offer"
    );
    assert_ledger_balanced(s).await;
}

/// Unpaid orders hold nothing, so a few accounts cannot lock a product out:
/// two unpaid orders of half the stock each leave all of it to a paying buyer.
/// Each requester may have only `MAX_UNPAID_ORDERS_PER_REQUESTER` unpaid orders
/// open (and `MAX_UNPAID_QUANTITY_PER_REQUESTER` in all); quantities beyond
/// the stock are refused at once.
pub async fn unpaid_orders_never_lock_out_paying_buyers(store: Arc<dyn Store>) {
    use symbolon_core::limits::{
        MAX_UNPAID_ORDERS_PER_REQUESTER, MAX_UNPAID_QUANTITY_PER_REQUESTER,
    };
    let w = World::new(store).await;
    let s = w.store();
    let product = w.add_product(20_000).await;
    let pass = w.add_pass(&product, PassMode::Shareable, None).await;
    w.grant(&pass, &w.holder1, None).await;
    for attacker in ["acc_attacker1", "acc_attacker2"] {
        create_account(s, attacker, &[Role::Requester]).await;
        let offer = w.accepted_offer_by(attacker, &w.holder1, &pass).await;
        let o = order_for(&w.id("ord"), &offer, &product, 10_000);
        s.place_order(&o, None, None).await.must("unpaid half");
    }
    assert_eq!(w.stock(&product.id).await, 20_000, "nothing held");
    let buyer = w.accepted_offer(&w.holder1, &pass).await;
    let all = order_for("ord_buyer", &buyer, &product, 10_000);
    s.place_order(&all, None, Some(&settlement_for("led_b", &all, t(181))))
        .await
        .must("a paying buyer gets the stock");
    assert_eq!(w.stock(&product.id).await, 10_000);
    // More than is in stock is refused even unpaid.
    let r = w.add_requester().await;
    let small = w.add_product(5).await;
    let on_small = w.add_pass(&small, PassMode::Shareable, None).await;
    w.grant(&on_small, &w.holder1, None).await;
    let offer = w.accepted_offer_by(&r, &w.holder1, &on_small).await;
    assert_err!(
        s.place_order(&order_for("ord_big", &offer, &small, 6), None, None)
            .await,
        StoreError::Conflict(Conflict::InsufficientStock),
        "beyond the stock"
    );
    // The per-requester cap on open unpaid orders, at its edge.
    let hoarder = w.add_requester().await;
    for i in 0..MAX_UNPAID_ORDERS_PER_REQUESTER {
        let offer = w.accepted_offer_by(&hoarder, &w.holder1, &pass).await;
        s.place_order(
            &order_for(&format!("ord_h{i}"), &offer, &product, 1),
            None,
            None,
        )
        .await
        .must("within the cap");
    }
    let offer = w.accepted_offer_by(&hoarder, &w.holder1, &pass).await;
    assert_err!(
        s.place_order(&order_for("ord_over", &offer, &product, 1), None, None)
            .await,
        StoreError::Conflict(Conflict::TooManyUnpaidOrders),
        "one unpaid order too many"
    );
    // Paying one frees a place; an expired one does too.
    s.place_order(
        &order_for("ord_over_paid", &offer, &product, 1),
        None,
        Some(&settlement_for(
            "led_h",
            &order_for("ord_over_paid", &offer, &product, 1),
            t(181),
        )),
    )
    .await
    .must("paid orders are not capped");
    // Quantity: the sum over open unpaid orders.
    let product = w.add_product(5 * MAX_UNPAID_QUANTITY_PER_REQUESTER).await;
    let pass = w.add_pass(&product, PassMode::Shareable, None).await;
    w.grant(&pass, &w.holder1, None).await;
    let big = w.add_requester().await;
    let offer = w.accepted_offer_by(&big, &w.holder1, &pass).await;
    s.place_order(
        &order_for(
            "ord_q1",
            &offer,
            &product,
            MAX_UNPAID_QUANTITY_PER_REQUESTER,
        ),
        None,
        None,
    )
    .await
    .must("the quantity cap, exactly");
    let offer = w.accepted_offer_by(&big, &w.holder1, &pass).await;
    assert_err!(
        s.place_order(&order_for("ord_q2", &offer, &product, 1), None, None)
            .await,
        StoreError::Conflict(Conflict::TooManyUnpaidOrders),
        "one more unit unpaid"
    );
    // Past their pay_by they no longer count.
    s.expire_unpaid_orders(t(180 + UNPAID_TTL))
        .await
        .must("expire");
    let mut later = order_for("ord_q3", &offer, &product, 1);
    later.created_at = t(180 + UNPAID_TTL + 1);
    later.pay_by = Some(t(180 + 2 * UNPAID_TTL));
    s.place_order(&later, None, None).await.must("after expiry");
}

/// ship_order: paid → shipped; an unpaid order never ships (it could never be
/// paid afterwards); again → InvalidState; unknown → NotFound.
pub async fn ship_order_transitions(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let placed = w.order_input(1).await;
    s.place_order(&placed, None, None).await.must("place_order");
    let paid = w.order_input(1).await;
    s.place_order(&paid, None, Some(&settlement_for("led_1", &paid, t(181))))
        .await
        .must("place_order");

    assert_err!(
        s.ship_order(&placed.id, None, t(300)).await,
        StoreError::Conflict(Conflict::InvalidState),
        "ship an unpaid order"
    );
    assert_eq!(
        s.order(&placed.id).await.must("order").status,
        OrderStatus::Placed,
        "untouched"
    );
    let shipped = s.ship_order(&paid.id, None, t(301)).await.must("ship paid");
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert_eq!(shipped.shipped_at, Some(t(301)));
    assert_eq!(shipped.paid_at, Some(t(181)), "payment kept");
    assert_eq!(s.order(&paid.id).await.must("order"), shipped);

    assert_err!(
        s.ship_order(&paid.id, None, t(400)).await,
        StoreError::Conflict(Conflict::InvalidState),
        "ship twice"
    );
    assert_eq!(
        s.order(&paid.id).await.must("order").shipped_at,
        Some(t(301)),
        "untouched"
    );
    assert_err!(
        s.ship_order("ord_nope", None, t(400)).await,
        StoreError::NotFound,
        "unknown order"
    );
}

/// The store follows the order lifecycle table (`core::state::ORDER_TRANSITIONS`)
/// exactly: from every state, each action succeeds iff the table has its row,
/// and leads to the row's state (a refund here refunds everything, so it
/// leads to `refunded`). Who may take a step is the exchange's check; the
/// store holds the states.
pub async fn order_transitions_follow_the_table(store: Arc<dyn Store>) {
    use symbolon_core::state::{Actor, DisputeKind, OrderAction, RefundKind, ORDER_TRANSITIONS};
    let w = World::new(store).await;
    let s = w.store();
    // Enough stock for an order per state and action.
    let product = w.add_product(1_000).await;
    let pass = w.add_pass(&product, PassMode::Shareable, None).await;
    w.grant(&pass, &w.holder1, None).await;
    // An order in `status`, made through the store's own operations.
    let make = |status: OrderStatus| {
        let (w, product, pass) = (&w, &product, &pass);
        async move {
            let offer = w.accepted_offer(&w.holder1, pass).await;
            let o = order_for(&w.id("ord"), &offer, product, 1);
            let o = s.place_order(&o, None, None).await.must("place");
            let paid = !matches!(
                status,
                OrderStatus::Placed | OrderStatus::Expired | OrderStatus::Cancelled
            );
            if paid {
                s.pay_order(&o.id, &settlement_for(&w.id("led"), &o, t(200)), None)
                    .await
                    .must("pay");
            }
            match status {
                OrderStatus::Placed | OrderStatus::Paid => {}
                OrderStatus::Shipped | OrderStatus::Delivered => {
                    s.ship_order(&o.id, None, t(210)).await.must("ship");
                    if status == OrderStatus::Delivered {
                        s.deliver(&o.id, Actor::Requester, t(215))
                            .await
                            .must("deliver");
                    }
                }
                OrderStatus::Refunded => {
                    refund_all(w, &o.id, RefundKind::Refund, None)
                        .await
                        .must("refund");
                }
                OrderStatus::Cancelled => {
                    s.cancel_unpaid(&o.id, &w.requester, "mistake", t(205))
                        .await
                        .must("cancel");
                }
                OrderStatus::Expired => {
                    s.expire_unpaid_orders(o.pay_by.expect("pay_by"))
                        .await
                        .must("expire");
                }
            }
            let o = s.order(&o.id).await.must("order");
            assert_eq!(o.status, status);
            o
        }
    };
    let actions = [
        OrderAction::Pay,
        OrderAction::Ship,
        OrderAction::Expire,
        OrderAction::Cancel,
        OrderAction::Refund,
        OrderAction::Deliver,
        OrderAction::RequestReturn,
        OrderAction::AcceptReturn,
        OrderAction::RefuseReturn,
        OrderAction::OpenDispute,
        OrderAction::ResolveDispute,
    ];
    for from in OrderStatus::ALL {
        for action in actions {
            let o = make(from).await;
            let at = t(220);
            let result: StoreResult<()> = match action {
                OrderAction::Pay => s
                    .pay_order(&o.id, &settlement_for(&w.id("led"), &o, at), None)
                    .await
                    .map(|_| ()),
                OrderAction::Ship => s.ship_order(&o.id, None, at).await.map(|_| ()),
                OrderAction::Expire => s
                    .expire_unpaid_orders(o.pay_by.unwrap_or(at).plus_seconds(UNPAID_TTL))
                    .await
                    .map(|_| ()),
                OrderAction::Cancel if from == OrderStatus::Placed => s
                    .cancel_unpaid(&o.id, &w.requester, "mistake", at)
                    .await
                    .map(|_| ()),
                OrderAction::Cancel => refund_all(&w, &o.id, RefundKind::Cancel, None).await,
                OrderAction::Refund => refund_all(&w, &o.id, RefundKind::Refund, None).await,
                OrderAction::Deliver => s.deliver(&o.id, Actor::Exchange, at).await.map(|_| ()),
                OrderAction::RequestReturn => s
                    .request_return(&o.id, "too small", t(0), at)
                    .await
                    .map(|_| ()),
                OrderAction::AcceptReturn | OrderAction::RefuseReturn => {
                    // An answer needs a request first; a request the state refuses
                    // leaves nothing to answer.
                    match s.request_return(&o.id, "too small", t(0), at).await {
                        Ok(_) => s
                            .answer_return(&o.id, action == OrderAction::AcceptReturn, at)
                            .await
                            .map(|_| ()),
                        Err(e) => Err(e),
                    }
                }
                OrderAction::OpenDispute => s
                    .open_dispute(&dispute_input(&w, &o.id, DisputeKind::NotReceived))
                    .await
                    .map(|_| ()),
                OrderAction::ResolveDispute => {
                    match s
                        .open_dispute(&dispute_input(&w, &o.id, DisputeKind::NotAsDescribed))
                        .await
                    {
                        Ok(d) => refund_all(&w, &o.id, RefundKind::Dispute, Some(d.id)).await,
                        Err(e) => Err(e),
                    }
                }
            };
            let after = s.order(&o.id).await.must("order").status;
            let row = ORDER_TRANSITIONS
                .iter()
                .find(|r| r.from == from && r.action == action);
            match row {
                Some(r) => {
                    assert!(result.is_ok(), "{from} {action}: {result:?}");
                    assert_eq!(after, r.to, "{from} {action}");
                }
                None => {
                    assert_eq!(after, from, "{from} {action} is not in the table");
                    if action != OrderAction::Expire {
                        assert!(result.is_err(), "{from} {action} succeeded");
                    }
                }
            }
        }
    }
}

/// Reserves and completes a refund of everything left on the order, with
/// the statuses the table allows `kind` from.
async fn refund_all(
    w: &World,
    order_id: &str,
    kind: symbolon_core::state::RefundKind,
    dispute_id: Option<String>,
) -> StoreResult<()> {
    use symbolon_core::state::{OrderAction, RefundKind};
    let from = match kind {
        RefundKind::Refund => OrderStatus::sources(OrderAction::Refund),
        RefundKind::Dispute => OrderStatus::sources(OrderAction::ResolveDispute),
        RefundKind::Cancel => vec![OrderStatus::Paid],
    };
    let s = w.store();
    let claim = s
        .claim_refund(
            &NewRefund {
                id: w.id("rfd"),
                order_id: order_id.into(),
                kind,
                amount_minor: None,
                reason: "refund".into(),
                by_id: w.provider.clone(),
                dispute_id,
                at: t(230),
            },
            &from,
        )
        .await?;
    s.complete_refund(&RefundDone {
        refund_id: claim.id,
        gateway_ref: format!("gw_{}", w.id("ref")),
        ledger_id: w.id("led"),
        unit_return: None,
        at: t(231),
    })
    .await?;
    Ok(())
}

pub fn dispute_input(
    w: &World,
    order_id: &str,
    kind: symbolon_core::state::DisputeKind,
) -> Dispute {
    Dispute {
        id: w.id("dsp"),
        order_id: order_id.into(),
        requester_id: w.requester.clone(),
        provider_id: w.provider.clone(),
        kind,
        reason: "it never came".into(),
        status: symbolon_core::state::DisputeStatus::Open,
        resolution: None,
        refund_minor: None,
        resolved_by: None,
        created_at: t(225),
        resolved_at: None,
        seq: 0,
    }
}

/// orders per party (provider, requester, holder), oldest first, paged by seq.
pub async fn orders_per_party_paginated(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let r2 = w.add_requester().await;
    let o1 = w.accepted_offer(&w.holder1, &w.shareable).await;
    let o2 = w.accepted_offer(&w.holder2, &w.shareable).await;
    let o3 = w.accepted_offer_by(&r2, &w.holder1, &w.shareable).await;
    let mut placed = Vec::new();
    for (i, o) in [&o1, &o2, &o3].into_iter().enumerate() {
        let input = order_for(&format!("ord_{i}"), o, &w.product, 1);
        placed.push(s.place_order(&input, None, None).await.must("place_order"));
    }
    assert_eq!(
        all_orders(s, OrderParty::Provider(&w.provider)).await,
        placed,
        "provider sees all, oldest first"
    );
    assert_eq!(
        all_orders(s, OrderParty::Requester(&w.requester)).await,
        vec![placed[0].clone(), placed[1].clone()]
    );
    assert_eq!(
        all_orders(s, OrderParty::Requester(&r2)).await,
        vec![placed[2].clone()]
    );
    assert_eq!(
        all_orders(s, OrderParty::Holder(&w.holder1)).await,
        vec![placed[0].clone(), placed[2].clone()]
    );
    assert_eq!(
        all_orders(s, OrderParty::Holder(&w.holder2)).await,
        vec![placed[1].clone()]
    );
    assert!(
        all_orders(s, OrderParty::Provider(&w.requester))
            .await
            .is_empty(),
        "a requester is no provider"
    );
    assert!(all_orders(s, OrderParty::Holder("acc_nope"))
        .await
        .is_empty());

    let p = OrderParty::Provider(&w.provider);
    let first = s.orders(p, &page(None, 2)).await.must("page 1");
    assert_eq!(first, placed[..2].to_vec());
    let second = s
        .orders(p, &page(Some(first[1].seq), 2))
        .await
        .must("page 2");
    assert_eq!(second, placed[2..].to_vec());
    assert!(s
        .orders(p, &page(Some(second[0].seq), 2))
        .await
        .must("page 3")
        .is_empty());
    let h1_second = s
        .orders(
            OrderParty::Holder(&w.holder1),
            &page(Some(placed[0].seq), 1),
        )
        .await
        .must("page");
    assert_eq!(h1_second, vec![placed[2].clone()]);
}

async fn all_orders(s: &dyn Store, party: OrderParty<'_>) -> Vec<Order> {
    s.orders(party, &page(None, 100)).await.must("orders")
}

/// balances per account and currency; ledger_totals sum to zero when postings balance.
pub async fn balances_and_ledger_totals(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    assert!(
        s.ledger_totals().await.must("totals").is_empty(),
        "empty ledger"
    );
    assert!(s.balances(&w.provider).await.must("balances").is_empty());

    let mut chf = product(&w.id("prd"), &w.provider, 5, 4_000);
    chf.currency = "CHF".into();
    s.create_product(&chf).await.must("create product");
    let chf_pass = w.add_pass(&chf, PassMode::Shareable, None).await;
    w.grant(&chf_pass, &w.holder2, None).await;

    let a = w.order_input(2).await; // 50.00 EUR from holder 1
    s.place_order(&a, None, Some(&settlement_for("led_a", &a, t(181))))
        .await
        .must("order a");
    let offer = w.accepted_offer(&w.holder2, &chf_pass).await;
    let b = order_for("ord_chf", &offer, &chf, 1); // 40.00 CHF from holder 2
    s.place_order(&b, None, None).await.must("order b");
    s.pay_order(&b.id, &settlement_for("led_b", &b, t(240)), None)
        .await
        .must("pay b");
    let c = w.order_input(1).await; // placed, not paid: no postings
    s.place_order(&c, None, None).await.must("order c");

    let eur = |v: i64| (CURRENCY.to_string(), v);
    let chf_ = |v: i64| ("CHF".to_string(), v);
    assert_eq!(
        sorted(s.balances(&w.requester).await.must("b")),
        vec![chf_(-4_000), eur(-5_000)]
    );
    assert_eq!(
        sorted(s.balances(&w.provider).await.must("b")),
        vec![chf_(3_600), eur(4_500)]
    );
    assert_eq!(
        sorted(s.balances(&w.holder1).await.must("b")),
        vec![eur(500)]
    );
    assert_eq!(
        sorted(s.balances(&w.holder2).await.must("b")),
        vec![chf_(400)]
    );
    assert_eq!(
        sorted(s.ledger_totals().await.must("totals")),
        vec![chf_(0), eur(0)]
    );
}

// ---------------------------------------------------------------------------
// Ratings and requester profiles
// ---------------------------------------------------------------------------

/// rate once; a second rating of the offer → AlreadyRated; a duplicate rating id → Duplicate.
pub async fn rate_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let offer = w.bought_offer(&w.holder1, &w.shareable).await;
    s.rate(&rating("rat_1", &offer, true)).await.must("rate");
    let rep = s.holder(&w.holder1, t(500)).await.must("holder").reputation;
    assert_eq!((rep.positive, rep.ratings), (1, 1));

    assert_err!(
        s.rate(&rating("rat_2", &offer, false)).await,
        StoreError::Conflict(Conflict::AlreadyRated),
        "second rating of an offer"
    );
    let rep = s.holder(&w.holder1, t(500)).await.must("holder").reputation;
    assert_eq!(
        (rep.positive, rep.ratings),
        (1, 1),
        "the first rating stands"
    );

    let other = w.bought_offer(&w.holder1, &w.shareable).await;
    assert_err!(
        s.rate(&rating("rat_1", &other, false)).await,
        StoreError::Conflict(Conflict::Duplicate),
        "a rating id that exists, for another offer"
    );
    s.rate(&rating("rat_3", &other, false))
        .await
        .must("rate the other offer");
    let rep = s.holder(&w.holder1, t(500)).await.must("holder").reputation;
    assert_eq!((rep.positive, rep.ratings), (1, 2));
    assert_eq!(
        s.holder(&w.holder2, t(500))
            .await
            .must("holder")
            .reputation
            .ratings,
        0
    );
}

/// Only a buyer rates: the requester of the accepted offer, once its order is
/// delivered (or its dispute closed, see `disputes_open_talk_and_close_once`). A non-accepted offer (a competitor's, after another was accepted),
/// another requester's offer, an accepted offer with no order or an unpaid
/// one, and rating twice are refused and change nothing.
pub async fn rating_needs_a_paid_order_of_the_accepted_offer(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    let mine = w.offer(&requests[0], &w.shareable.id).await;
    let competitor = w.offer(&requests[1], &w.shareable.id).await;
    let ratings =
        |h: String| async move { s.holder(&h, t(500)).await.must("holder").reputation.ratings };
    assert_err!(
        s.rate(&rating("rat_early", &mine, true)).await,
        StoreError::Conflict(Conflict::RatingNotAllowed),
        "an offer not accepted"
    );
    let accepted = s
        .accept_offer(&w.acceptance(&mine).await)
        .await
        .must("accept");
    assert_err!(
        s.rate(&rating("rat_comp", &competitor, false)).await,
        StoreError::Conflict(Conflict::RatingNotAllowed),
        "the competitor's offer, after another was accepted"
    );
    assert_err!(
        s.rate(&rating("rat_noorder", &accepted, true)).await,
        StoreError::Conflict(Conflict::RatingNotAllowed),
        "accepted, but nothing ordered"
    );
    let order = s
        .place_order(&order_for("ord_r", &accepted, &w.product, 1), None, None)
        .await
        .must("place_order");
    assert_err!(
        s.rate(&rating("rat_unpaid", &accepted, true)).await,
        StoreError::Conflict(Conflict::RatingNotAllowed),
        "ordered, not paid"
    );
    let stranger = w.add_requester().await;
    let mut forged = rating("rat_forged", &accepted, false);
    forged.requester_id = stranger;
    assert_err!(
        s.rate(&forged).await,
        StoreError::NotFound,
        "another requester"
    );
    assert_eq!(ratings(w.holder1.clone()).await, 0);
    assert_eq!(ratings(w.holder2.clone()).await, 0);
    s.pay_order(&order.id, &settlement_for("led_r", &order, t(200)), None)
        .await
        .must("pay");
    assert_err!(
        s.rate(&rating("rat_paid", &accepted, true)).await,
        StoreError::Conflict(Conflict::RatingNotAllowed),
        "paid, not delivered yet"
    );
    s.ship_order(&order.id, None, t(201)).await.must("ship");
    assert_err!(
        s.rate(&rating("rat_shipped", &accepted, true)).await,
        StoreError::Conflict(Conflict::RatingNotAllowed),
        "shipped, not delivered yet"
    );
    s.deliver(&order.id, symbolon_core::state::Actor::Requester, t(202))
        .await
        .must("deliver");
    s.rate(&rating("rat_ok", &accepted, true))
        .await
        .must("the buyer rates");
    assert_err!(
        s.rate(&rating("rat_twice", &accepted, false)).await,
        StoreError::Conflict(Conflict::AlreadyRated),
        "twice"
    );
    assert_eq!(ratings(w.holder1.clone()).await, 1);
    assert_eq!(ratings(w.holder2.clone()).await, 0);
}

/// set_requester_profile and requester_profile: round trip, overwrite, NotFound.
pub async fn requester_profile_round_trip(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    assert_err!(
        s.requester_profile(&w.requester).await,
        StoreError::NotFound,
        "no profile yet"
    );
    let full = RequesterProfile {
        account_id: w.requester.clone(),
        ship_to: Some(address("Ada Lovelace")),
        payment_method: Some(StoredPaymentMethod {
            kind: "card".into(),
            token: "tok_123".into(),
            last4: "4242".into(),
        }),
        updated_at: t(10),
    };
    s.set_requester_profile(&full).await.must("set profile");
    assert_eq!(
        s.requester_profile(&w.requester).await.must("profile"),
        full
    );

    // A None field keeps what is saved; a Some field replaces it.
    let mut other = full.clone();
    other.ship_to = Some(Address {
        line2: None,
        ..address("Charles Babbage")
    });
    other.payment_method = None;
    other.updated_at = t(20);
    s.set_requester_profile(&other)
        .await
        .must("update the address");
    let mut expected = other.clone();
    expected.payment_method = full.payment_method.clone();
    assert_eq!(
        s.requester_profile(&w.requester).await.must("profile"),
        expected,
        "the saved payment method is kept"
    );

    let empty = RequesterProfile {
        account_id: w.requester.clone(),
        ship_to: None,
        payment_method: None,
        updated_at: t(30),
    };
    s.set_requester_profile(&empty).await.must("touch profile");
    expected.updated_at = t(30);
    assert_eq!(
        s.requester_profile(&w.requester).await.must("profile"),
        expected,
        "an empty update changes nothing but the time"
    );
}

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

const TASKS: usize = 20;

/// 20 tasks accept 20 offers of one demand at once (and 20 the same offer): exactly one wins.
pub async fn concurrent_accepts_one_wins(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let mut holders = Vec::new();
    for _ in 0..TASKS {
        holders.push(w.add_holder().await);
    }
    let refs: Vec<&str> = holders.iter().map(String::as_str).collect();
    let requests = w.demand(&refs).await;
    let mut offers = Vec::new();
    for r in &requests {
        offers.push(w.offer(r, &w.shareable.id).await);
    }

    let barrier = Arc::new(Barrier::new(TASKS));
    let mut set = JoinSet::new();
    for o in &offers {
        let (store, acc, barrier) = (w.store.clone(), w.acceptance(o).await, barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            store.accept_offer(&acc).await
        });
    }
    let results = join_all(set).await;
    let winners: Vec<&Offer> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one accept succeeds: {results:?}");
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| is_conflict(r, Conflict::OfferAlreadyAccepted)),
        "the others fail with OfferAlreadyAccepted: {results:?}"
    );
    let demand_id = &requests[0].demand_id;
    assert_eq!(
        s.demand(demand_id).await.must("demand").accepted_offer_id,
        Some(winners[0].id.clone())
    );
    let accepted = s.demand_offers(demand_id).await.must("offers");
    assert_eq!(
        accepted
            .iter()
            .filter(|o| o.status == OfferStatus::Accepted)
            .count(),
        1
    );

    // The same unique offer accepted by 20 tasks: one transfer.
    let req = w.demand(&[&w.holder1]).await;
    let offer = w.offer(&req[0], &w.unique.id).await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut set = JoinSet::new();
    for _ in 0..TASKS {
        let (store, acc, barrier) = (w.store.clone(), w.acceptance(&offer).await, barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            store.accept_offer(&acc).await
        });
    }
    let results = join_all(set).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "one accept of the same offer: {results:?}"
    );
    assert!(results
        .iter()
        .filter(|r| r.is_err())
        .all(|r| is_conflict(r, Conflict::OfferAlreadyAccepted)));
    assert_eq!(
        s.holding(&w.holder1, &w.unique.id)
            .await
            .must("holding")
            .units_left,
        Some(2),
        "no unit moves at acceptance"
    );
}

/// 10 concurrent orders (from 10 accepted offers) of a product with stock 3: exactly 3 succeed.
pub async fn concurrent_orders_never_oversell(store: Arc<dyn Store>) {
    const ORDERS: usize = 10;
    let w = World::new(store).await;
    let s = w.store();
    let product = w.add_product(3).await;
    let p = w.add_pass(&product, PassMode::Shareable, None).await;
    w.grant(&p, &w.holder1, None).await;
    let mut inputs = Vec::new();
    for i in 0..ORDERS {
        let offer = w.accepted_offer(&w.holder1, &p).await;
        inputs.push(order_for(&format!("ord_{i}"), &offer, &product, 1));
    }

    let barrier = Arc::new(Barrier::new(ORDERS));
    let mut set = JoinSet::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let (store, barrier) = (w.store.clone(), barrier.clone());
        let settlement = settlement_for(&format!("led_{i}"), &input, t(181));
        set.spawn(async move {
            barrier.wait().await;
            store.place_order(&input, None, Some(&settlement)).await
        });
    }
    let results = join_all(set).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        3,
        "exactly 3 orders: {results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| is_conflict(r, Conflict::InsufficientStock)),
        "the others fail with InsufficientStock: {results:?}"
    );
    assert_eq!(w.stock(&product.id).await, 0, "stock ends at 0");
    let orders = s
        .orders(OrderParty::Provider(&w.provider), &page(None, 100))
        .await
        .must("orders");
    assert_eq!(orders.len(), 3);
    assert!(orders.iter().all(|o| o.status == OrderStatus::Paid));
    assert_eq!(
        sorted(s.ledger_totals().await.must("totals")),
        vec![(CURRENCY.to_string(), 0)]
    );
    assert_eq!(
        s.balances(&w.requester).await.must("balances"),
        vec![(CURRENCY.to_string(), -3_000)]
    );
}

/// Two concurrent ratings of the same offer: exactly one counts.
pub async fn concurrent_ratings_count_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let offer = w.bought_offer(&w.holder1, &w.shareable).await;
    let barrier = Arc::new(Barrier::new(2));
    let mut set = JoinSet::new();
    for (i, positive) in [true, false].into_iter().enumerate() {
        let (store, barrier) = (w.store.clone(), barrier.clone());
        let r = rating(&format!("rat_{i}"), &offer, positive);
        set.spawn(async move {
            barrier.wait().await;
            store.rate(&r).await
        });
    }
    let results = join_all(set).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "one rating: {results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| is_conflict(r, Conflict::AlreadyRated)),
        "the other: {results:?}"
    );
    let rep = s.holder(&w.holder1, t(500)).await.must("holder").reputation;
    assert_eq!(rep.ratings, 1, "exactly one rating counts");
}

/// Concurrent grants of a unique pass never hand out more units than it has.
pub async fn concurrent_unique_grants_never_overgrant(store: Arc<dyn Store>) {
    const HOLDERS: usize = 8;
    let w = World::new(store).await;
    let s = w.store();
    let p = w.add_pass(&w.product, PassMode::Unique, Some(5)).await;
    let mut holders = Vec::new();
    for _ in 0..HOLDERS {
        holders.push(w.add_holder().await);
    }
    let barrier = Arc::new(Barrier::new(HOLDERS));
    let mut set = JoinSet::new();
    for h in &holders {
        let (store, barrier) = (w.store.clone(), barrier.clone());
        let g = new_grant(&w.id("grt"), &p.id, h, Some(2), T0);
        set.spawn(async move {
            barrier.wait().await;
            store.grant(&g).await
        });
    }
    let results = join_all(set).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        2,
        "two grants of 2 out of 5 units: {results:?}"
    );
    assert!(results
        .iter()
        .filter(|r| r.is_err())
        .all(|r| is_conflict(r, Conflict::UnitsExhausted)));
    let mut granted = 0;
    for h in &holders {
        match s.holding(h, &p.id).await {
            Ok(x) => granted += x.units_granted.expect("unique"),
            Err(StoreError::NotFound) => {}
            Err(e) => panic!("holding: {e:?}"),
        }
    }
    assert_eq!(granted, 4);
    let last = w.grant(&p, &holders[0], Some(1)).await;
    assert!(
        last.units_granted == Some(1) || last.units_granted == Some(3),
        "the fifth unit is still there"
    );
}

/// Concurrent payments of orders of a holder's 2 units (10 accepted offers,
/// 10 unpaid orders): exactly 2 pay, each moving one unit once.
pub async fn concurrent_unique_payments_never_double_transfer(store: Arc<dyn Store>) {
    const DEMANDS: usize = 10;
    let w = World::new(store).await;
    let s = w.store();
    let mut orders = Vec::new();
    for _ in 0..DEMANDS {
        let offer = w.accepted_offer(&w.holder1, &w.unique).await;
        let input = order_for(&w.id("ord"), &offer, &w.product, 1);
        orders.push(s.place_order(&input, None, None).await.must("place_order"));
    }
    let barrier = Arc::new(Barrier::new(DEMANDS));
    let mut set = JoinSet::new();
    for (i, o) in orders.iter().enumerate() {
        // Half the payments name unit 1, half unit 2: each unit goes once.
        let transfer = unit_transfer(
            &o.pass_id,
            1 + (i as i64 % 2),
            1,
            &w.holder1,
            &o.requester_id,
            t(200),
        );
        let settlement = settlement_for(&format!("led_{i}"), o, t(200));
        let (store, barrier, id) = (w.store.clone(), barrier.clone(), o.id.clone());
        set.spawn(async move {
            barrier.wait().await;
            store.pay_order(&id, &settlement, Some(&transfer)).await
        });
    }
    let results = join_all(set).await;
    let units: BTreeSet<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .filter_map(|o| o.unit_no)
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        2,
        "two units, two payments: {results:?}"
    );
    assert_eq!(units, BTreeSet::from([1, 2]), "each unit transferred once");
    assert_eq!(w.stock(&w.product.id).await, 8, "stock taken twice");
    assert_ledger_balanced(s).await;
    assert!(results
        .iter()
        .filter(|r| r.is_err())
        .all(|r| is_conflict(r, Conflict::UnitAlreadySold)));
    let h = s.holding(&w.holder1, &w.unique.id).await.must("holding");
    assert_eq!((h.units_granted, h.units_left), (Some(2), Some(0)));
    for unit in [1, 2] {
        let history = s.unit_history(&w.unique.id, unit).await.must("history");
        assert_eq!(history.len(), 1, "unit {unit} has one sale recorded");
        let u = s.unit(&w.unique.id, unit).await.must("unit");
        assert_eq!(u.owner_id.as_deref(), Some(history[0].to_id.as_str()));
    }
    assert_eq!(
        s.holding(&w.holder2, &w.unique.id)
            .await
            .must("holding")
            .units_left,
        Some(2)
    );
}

/// Accepting an offer withdraws the demand's other pending requests: they can
/// no longer be answered and do not count in those holders' success rates.
pub async fn accept_withdraws_other_pending_requests(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    let o1 = w.offer(&requests[0], &w.shareable.id).await;
    s.accept_offer(&w.acceptance(&o1).await)
        .await
        .must("accept");
    let other = s.interaction(&requests[1].id).await.must("interaction");
    assert_eq!(other.status, InteractionStatus::Withdrawn);
    let late = NewOffer {
        id: w.id("ofr"),
        interaction_id: requests[1].id.clone(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: t(130),
    };
    assert_err!(
        s.create_offer(&late).await,
        StoreError::Conflict(Conflict::InteractionClosed),
        "a withdrawn request cannot be answered"
    );
    // Long after the deadline, the withdrawn request still does not count.
    let h2 = s.holder(&w.holder2, t(100_000)).await.must("holder");
    assert_eq!((h2.reputation.offered, h2.reputation.interactions), (0, 0));
    let h1 = s.holder(&w.holder1, t(100_000)).await.must("holder");
    assert_eq!((h1.reputation.offered, h1.reputation.interactions), (1, 1));
    assert_eq!(s.expire_due(t(100_000)).await.must("expire"), 0);
}

/// A unit of a unique pass is not transferred when the product is out of stock.
pub async fn accept_unique_needs_stock(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let product = w.add_product(0).await;
    let pass = w.add_pass(&product, PassMode::Unique, Some(2)).await;
    w.grant(&pass, &w.holder1, Some(2)).await;
    let requests = w.demand(&[&w.holder1]).await;
    let offer = w.offer(&requests[0], &pass.id).await;
    assert_err!(
        s.accept_offer(&w.acceptance(&offer).await).await,
        StoreError::Conflict(Conflict::InsufficientStock),
        "no stock"
    );
    let h = s.holding(&w.holder1, &pass.id).await.must("holding");
    assert_eq!(h.units_left, Some(2), "no unit moved");
    assert_eq!(
        s.offer(&offer.id).await.must("offer").status,
        OfferStatus::Offered
    );
}

/// market_version: unchanged by reads and by a pass nobody holds yet, grows
/// with a grant, holder fields, an offer, a decline and a rating.
pub async fn market_version_grows_with_every_matching_change(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let mut last = s.market_version().await.must("market_version");
    let grew = |what: &'static str, v: i64, last: &mut i64| {
        assert!(v > *last, "{what}: version {v} after {last}");
        *last = v;
    };
    s.market(t(1)).await.must("market");
    assert_eq!(
        s.market_version().await.must("version"),
        last,
        "a read changes nothing"
    );
    let pass = w.add_pass(&w.product, PassMode::Shareable, None).await;
    assert_eq!(
        s.market_version().await.must("version"),
        last,
        "a pass nobody holds changes no matching"
    );
    w.grant(&pass, &w.holder1, None).await;
    grew("grant", s.market_version().await.must("version"), &mut last);
    s.set_holder_fields(&w.holder1, &["music".to_string()])
        .await
        .must("fields");
    grew(
        "fields",
        s.market_version().await.must("version"),
        &mut last,
    );
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    // Sending requests changes no reputation (pending ones count only past
    // their deadline): the market stays as it was, and no replica re-syncs.
    assert_eq!(
        s.market_version().await.must("version"),
        last,
        "interaction requests change nothing in matching"
    );
    s.decline(&requests[1].id, None, t(10))
        .await
        .must("decline");
    grew(
        "decline",
        s.market_version().await.must("version"),
        &mut last,
    );
    w.offer(&requests[0], &pass.id).await;
    grew("offer", s.market_version().await.must("version"), &mut last);
    let accepted = w.bought_offer(&w.holder2, &w.shareable).await;
    last = s.market_version().await.must("version");
    s.rate(&rating("rat_v", &accepted, true)).await.must("rate");
    grew(
        "rating",
        s.market_version().await.must("version"),
        &mut last,
    );
}

/// A provider's signing keys are capped at `MAX_SIGNING_KEYS`, counted in the
/// adding transaction: many concurrent additions never pass it.
pub async fn signing_key_limit_holds_under_concurrency(store: Arc<dyn Store>) {
    use symbolon_core::limits::MAX_SIGNING_KEYS;
    let w = World::new(store).await;
    let have = w.store.provider_keys(&w.provider).await.must("keys").len();
    let fired = MAX_SIGNING_KEYS + 20 - have;
    let barrier = Arc::new(Barrier::new(fired));
    let mut set = JoinSet::new();
    for i in 0..fired {
        let (store, barrier) = (w.store.clone(), barrier.clone());
        let key = provider_key(&format!("kid_race_{i}"), &w.provider, t(i as i64));
        set.spawn(async move {
            barrier.wait().await;
            store.add_provider_key(&key, i % 2 == 0).await
        });
    }
    let results = join_all(set).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, MAX_SIGNING_KEYS - have, "exactly up to the cap");
    assert!(results
        .iter()
        .filter(|r| r.is_err())
        .all(|r| is_conflict(r, Conflict::TooManySigningKeys)));
    assert_eq!(
        w.store.provider_keys(&w.provider).await.must("keys").len(),
        MAX_SIGNING_KEYS
    );
}

/// Every market version that changes only a holder's reputation or fields,
/// or a grant, logs which holder (so replicas update it in place); other
/// supply changes log nothing (a full re-read); versions are consecutive and
/// pruning forgets the old ones.
pub async fn market_changes_name_the_holder_of_each_version(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let v0 = s.market_version().await.must("version");
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    assert_eq!(
        s.market_version().await.must("version"),
        v0,
        "requests change nothing"
    );
    w.offer(&requests[0], &w.shareable.id).await;
    s.decline(&requests[1].id, None, t(61))
        .await
        .must("decline");
    s.set_holder_fields(&w.holder2, &["music".to_string()])
        .await
        .must("fields");
    let v1 = s.market_version().await.must("version");
    let changes = s.market_changes(v0, v1).await.must("changes");
    assert_eq!(
        changes.len() as i64,
        v1 - v0,
        "every version is a holder change: {changes:?}"
    );
    assert!(changes.windows(2).all(|p| p[1].version == p[0].version + 1));
    assert!(changes.iter().all(|c| !c.supply), "{changes:?}");
    let holders: BTreeSet<&str> = changes.iter().map(|c| c.holder_id.as_str()).collect();
    assert_eq!(
        holders,
        BTreeSet::from([w.holder1.as_str(), w.holder2.as_str()])
    );
    assert_eq!(
        changes.last().map(|c| c.holder_id.as_str()),
        Some(w.holder2.as_str())
    );
    // An expiry recorded by the sweeper and a rating are holder changes too.
    let late = w.demand_by(&w.requester, &[&w.holder1], t(100)).await;
    s.expire_due(t(100)).await.must("sweep");
    assert_eq!(
        s.interaction(&late[0].id).await.must("i").status,
        InteractionStatus::Expired
    );
    let bought = w.bought_offer(&w.holder1, &w.shareable).await;
    let v2 = s.market_version().await.must("version");
    s.rate(&rating("rat_mc", &bought, true)).await.must("rate");
    let v3 = s.market_version().await.must("version");
    assert!(v3 > v2);
    let rated = s.market_changes(v2, v3).await.must("changes");
    assert!(!rated.is_empty() && rated.iter().all(|c| c.holder_id == w.holder1 && !c.supply));
    // A new pass (nobody holds it yet) moves nothing.
    let new_pass = w.add_pass(&w.product, PassMode::Shareable, None).await;
    let v4 = s.market_version().await.must("version");
    assert_eq!(v4, v3);
    // Every supply change from here is one logged version per holder it
    // changes, marked `supply` (reputation changes in the same transactions
    // log theirs unmarked).
    let supply_of = |from: i64, to: i64, changes: Vec<MarketChange>| {
        assert_eq!(
            changes.len() as i64,
            to - from,
            "one row per version: {changes:?}"
        );
        changes
            .into_iter()
            .filter(|c| c.supply)
            .map(|c| c.holder_id)
            .collect::<BTreeSet<String>>()
    };
    // A grant logs its holder as a supply change, one version for it; the
    // holder's holdings read alone are what the market snapshot lists.
    w.grant(&new_pass, &w.holder2, None).await;
    let v5 = s.market_version().await.must("version");
    let granted = s.market_changes(v4, v5).await.must("changes");
    assert_eq!(
        granted,
        [MarketChange {
            version: v5,
            holder_id: w.holder2.clone(),
            supply: true
        }],
        "a grant is one supply change of its holder"
    );
    let ids = [w.holder2.clone(), w.holder1.clone(), w.holder2.clone()];
    let alone = s.holdings_of(&ids, t(120)).await.must("holdings_of");
    let mut listed: Vec<Holding> = s.market(t(120)).await.must("market").holdings;
    listed.retain(|h| h.holder_id == w.holder1 || h.holder_id == w.holder2);
    assert_eq!(alone, listed);
    assert!(alone
        .iter()
        .any(|h| h.pass.id == new_pass.id && h.holder_id == w.holder2));
    assert!(s.holdings_of(&[], t(120)).await.must("none").is_empty());
    // A sale that leaves stock does not move the market; selling out does.
    let few = w.add_product(2).await;
    let on_few = w.add_pass(&few, PassMode::Shareable, None).await;
    w.grant(&on_few, &w.holder2, None).await;
    let offer = w.accepted_offer(&w.holder2, &on_few).await;
    let before = s.market_version().await.must("version");
    let one = order_for(&w.id("ord"), &offer, &few, 1);
    s.place_order(
        &one,
        None,
        Some(&settlement_for(&w.id("led"), &one, t(181))),
    )
    .await
    .must("a sale leaving stock");
    assert_eq!(s.market_version().await.must("version"), before);
    let offer = w.accepted_offer(&w.holder2, &on_few).await;
    let last = order_for(&w.id("ord"), &offer, &few, 1);
    s.place_order(
        &last,
        None,
        Some(&settlement_for(&w.id("led"), &last, t(181))),
    )
    .await
    .must("the last one");
    let sold_out = s.market_version().await.must("version");
    assert!(sold_out > before, "sold out");
    assert_eq!(
        supply_of(
            before,
            sold_out,
            s.market_changes(before, sold_out).await.must("c")
        ),
        BTreeSet::from([w.holder2.clone()]),
        "selling out changes the holders of the product's passes"
    );
    // Revoking a pass changes its holders; a unique pass's units change the
    // holder they are assigned to.
    w.grant(&new_pass, &w.holder1, None).await;
    let v6 = s.market_version().await.must("version");
    s.revoke_pass(&new_pass.id, t(190)).await.must("revoke");
    let v7 = s.market_version().await.must("version");
    assert_eq!(
        supply_of(v6, v7, s.market_changes(v6, v7).await.must("c")),
        BTreeSet::from([w.holder1.clone(), w.holder2.clone()])
    );
    let unique = w.add_pass(&w.product, PassMode::Unique, Some(3)).await;
    assert_eq!(s.market_version().await.must("version"), v7);
    w.grant(&unique, &w.holder1, Some(2)).await;
    let v8 = s.market_version().await.must("version");
    assert!(v8 > v7);
    assert_eq!(
        supply_of(v7, v8, s.market_changes(v7, v8).await.must("c")),
        BTreeSet::from([w.holder1.clone()])
    );
    // Pruning.
    // At most `limit` per call, the oldest first (the world's own grants,
    // before v0, go first).
    s.prune_market_changes(v0, 10_000).await.must("prune");
    let first = s.market_changes(v0, v1).await.must("changes");
    assert!(first.len() >= 2, "{first:?}");
    assert_eq!(s.prune_market_changes(v1, 1).await.must("prune"), 1);
    assert_eq!(s.market_changes(v0, v1).await.must("changes"), first[1..]);
    assert!(s.prune_market_changes(v1, 10_000).await.must("prune") > 0);
    assert!(s.market_changes(v0, v1).await.must("changes").is_empty());
    assert!(!s.market_changes(v2, v3).await.must("changes").is_empty());
}

/// A waiting demand: listed and counted until activated; activation sends its
/// requests once, and never after its deadline.
pub async fn waiting_demand_activates_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let mut d = demand_record("dem_wait", &w.requester, DEADLINE);
    d.waiting = true;
    s.create_demand(&d, &[]).await.must("create waiting demand");
    let mut late = demand_record("dem_late", &w.requester, t(50));
    late.waiting = true;
    s.create_demand(&late, &[])
        .await
        .must("create short demand");
    assert!(s.demand("dem_wait").await.must("demand").waiting);
    let ids = |v: Vec<DemandRecord>| v.into_iter().map(|d| d.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.waiting_demands(t(10)).await.must("waiting")),
        vec!["dem_late", "dem_wait"]
    );
    assert_eq!(
        ids(s.waiting_demands(t(50)).await.must("waiting")),
        vec!["dem_wait"]
    );
    assert_eq!(s.count_waiting(&w.requester, t(10)).await.must("count"), 2);
    assert_eq!(s.count_waiting(&w.holder1, t(10)).await.must("count"), 0);

    let requests = vec![interaction("int_w1", "dem_wait", &w.holder1, 1, DEADLINE)];
    assert!(s
        .activate_demand("dem_wait", &requests, t(20))
        .await
        .must("activate"));
    assert!(!s.demand("dem_wait").await.must("demand").waiting);
    let again = vec![interaction("int_w2", "dem_wait", &w.holder2, 1, DEADLINE)];
    assert!(!s
        .activate_demand("dem_wait", &again, t(21))
        .await
        .must("activate again"));
    let stored = s.demand_interactions("dem_wait").await.must("interactions");
    assert_eq!(stored.len(), 1, "the second activation wrote nothing");
    assert_eq!(stored[0].holder_id, w.holder1);
    // The requester hears it, once, in the same transaction.
    let opened: Vec<EventRecord> = s
        .events_after(&w.requester, 0, 100)
        .await
        .must("events")
        .into_iter()
        .filter(|e| e.kind == "demand.opened")
        .collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    let data: serde_json::Value = serde_json::from_str(&opened[0].data).expect("json");
    assert_eq!(
        data,
        serde_json::json!({"demand_id": "dem_wait", "contacted": 1})
    );
    assert_eq!(opened[0].created_at, t(20));
    // Past its deadline a waiting demand cannot be activated.
    let late_requests = vec![interaction("int_w3", "dem_late", &w.holder1, 1, t(50))];
    assert!(!s
        .activate_demand("dem_late", &late_requests, t(50))
        .await
        .must("activate late"));
    assert!(s
        .demand_interactions("dem_late")
        .await
        .must("none")
        .is_empty());
    assert_eq!(s.count_waiting(&w.requester, t(30)).await.must("count"), 1);
}

/// Replicas racing to activate one waiting demand: exactly one contacts the holders.
pub async fn concurrent_activations_contact_once(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store.clone();
    let mut d = demand_record("dem_race", &w.requester, DEADLINE);
    d.waiting = true;
    s.create_demand(&d, &[]).await.must("create");
    let mut set = JoinSet::new();
    for n in 0..10 {
        let s = s.clone();
        let holder = w.holder1.clone();
        set.spawn(async move {
            let requests = vec![interaction(
                &format!("int_r{n}"),
                "dem_race",
                &holder,
                1,
                DEADLINE,
            )];
            s.activate_demand("dem_race", &requests, t(5))
                .await
                .must("activate")
        });
    }
    let won = join_all(set).await.into_iter().filter(|w| *w).count();
    assert_eq!(won, 1);
    assert_eq!(
        s.demand_interactions("dem_race")
            .await
            .must("interactions")
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------
// Verifiable passes: units, revocation, keys, orders on a pass
// ---------------------------------------------------------------------------

/// A sold unit changes owner only from its owner, statement after statement;
/// a second transfer from the same point, a skipped number or a transfer by a
/// former owner is refused and changes nothing.
pub async fn unit_transfers_form_a_chain_and_never_double_sell(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let sold = w.bought_offer(&w.holder1, &w.unique).await;
    let unit = sold.unit_no.expect("a unit was sold");
    let pass = &w.unique.id;
    let (b, c, d) = (
        w.requester.clone(),
        w.add_requester().await,
        w.add_requester().await,
    );
    let history = s.unit_history(pass, unit).await.must("history");
    assert_eq!(history.len(), 1, "the sale is statement 1");
    assert_eq!(
        (history[0].from_id.as_str(), history[0].to_id.as_str()),
        (w.holder1.as_str(), b.as_str())
    );
    // b → c (statement 2).
    s.transfer_unit(&unit_transfer(pass, unit, 2, &b, &c, t(200)))
        .await
        .must("b transfers to c");
    // b again, from the same point (a double sale), or with the next number (no longer the owner).
    assert_err!(
        s.transfer_unit(&unit_transfer(pass, unit, 2, &b, &d, t(201)))
            .await,
        StoreError::Conflict(Conflict::UnitAlreadySold),
        "a second sale from the same point"
    );
    assert_err!(
        s.transfer_unit(&unit_transfer(pass, unit, 3, &b, &d, t(201)))
            .await,
        StoreError::Conflict(Conflict::UnitAlreadySold),
        "a sale by a former owner"
    );
    assert_err!(
        s.transfer_unit(&unit_transfer(pass, unit, 5, &c, &d, t(201)))
            .await,
        StoreError::Conflict(Conflict::UnitAlreadySold),
        "a skipped statement number"
    );
    // c → d (statement 3): the third hop.
    s.transfer_unit(&unit_transfer(pass, unit, 3, &c, &d, t(202)))
        .await
        .must("c transfers to d");
    let history = s.unit_history(pass, unit).await.must("history");
    let hops: Vec<(i64, &str, &str)> = history
        .iter()
        .map(|h| (h.seq, h.from_id.as_str(), h.to_id.as_str()))
        .collect();
    assert_eq!(
        hops,
        vec![
            (1, w.holder1.as_str(), b.as_str()),
            (2, b.as_str(), c.as_str()),
            (3, c.as_str(), d.as_str())
        ]
    );
    assert_eq!(
        history[2].jws,
        unit_transfer(pass, unit, 3, &c, &d, t(202)).jws
    );
    let u = s.unit(pass, unit).await.must("unit");
    assert_eq!(u.owner_id.as_deref(), Some(d.as_str()));
    assert_eq!(u.holder_id.as_deref(), Some(w.holder1.as_str()));
    // An unsold unit cannot be transferred as if sold; a missing unit is NotFound.
    let unsold = s
        .free_unit(pass, &w.holder1)
        .await
        .must("free_unit")
        .expect("holder 1 has a second unit");
    assert_err!(
        s.transfer_unit(&unit_transfer(pass, unsold, 2, &b, &c, t(203)))
            .await,
        StoreError::Conflict(Conflict::UnitAlreadySold),
        "statement 2 of a unit never sold"
    );
    assert_err!(s.unit(pass, 99).await, StoreError::NotFound, "no unit 99");
    assert!(s.unit_history(pass, 99).await.must("history").is_empty());
    // What is left to buy: 2 units to each holder, one of holder 1's sold.
    let counts = |granted, unsold| UnitCounts { granted, unsold };
    assert_eq!(
        s.unit_counts(pass, Some(&w.holder1)).await.must("counts"),
        counts(2, 1)
    );
    assert_eq!(
        s.unit_counts(pass, Some(&w.holder2)).await.must("counts"),
        counts(2, 2)
    );
    assert_eq!(s.unit_counts(pass, None).await.must("counts"), counts(4, 3));
    assert_eq!(
        s.unit_counts(pass, Some(&b)).await.must("counts"),
        counts(0, 0)
    );
    // Only the sold unit has a history; paging past it finds nothing.
    assert_eq!(
        s.units_with_history(pass, 0, 10).await.must("units"),
        vec![UnitSummary {
            unit_no: unit,
            owner_id: Some(d.clone()),
            holder_id: Some(w.holder1.clone()),
            transfers: 3,
            last_at: t(202),
        }]
    );
    assert!(s
        .units_with_history(pass, unit, 10)
        .await
        .must("units")
        .is_empty());
    assert!(s
        .units_with_history(pass, 0, 0)
        .await
        .must("units")
        .is_empty());
}

/// Ten owners-to-be race for one unit: it moves once.
pub async fn concurrent_transfers_move_a_unit_once(store: Arc<dyn Store>) {
    const TASKS: usize = 10;
    let w = World::new(store).await;
    let sold = w.bought_offer(&w.holder1, &w.unique).await;
    let unit = sold.unit_no.expect("unit");
    let mut targets = Vec::new();
    for _ in 0..TASKS {
        targets.push(w.add_requester().await);
    }
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut set = JoinSet::new();
    for to in &targets {
        let t2 = unit_transfer(&w.unique.id, unit, 2, &w.requester, to, t(300));
        let (store, barrier) = (w.store.clone(), barrier.clone());
        set.spawn(async move {
            barrier.wait().await;
            store.transfer_unit(&t2).await
        });
    }
    let results = join_all(set).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .filter(|r| r.is_err())
        .all(|r| is_conflict(r, Conflict::UnitAlreadySold)));
    let history = w
        .store
        .unit_history(&w.unique.id, unit)
        .await
        .must("history");
    assert_eq!(history.len(), 2);
    let owner = w.store.unit(&w.unique.id, unit).await.must("unit").owner_id;
    assert_eq!(owner.as_deref(), Some(history[1].to_id.as_str()));
}

/// Revocation is recorded once, lists the pass's status index, takes the pass
/// out of the market; status indices are unique per provider.
pub async fn revocation_and_status_indices(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let mut a = pass(&w.id("pas"), &w.product, PassMode::Shareable, None);
    a.status_index = Some(7);
    let mut b = pass(&w.id("pas"), &w.product, PassMode::Shareable, None);
    b.status_index = Some(9);
    s.create_pass(&a, 0).await.must("pass a");
    s.create_pass(&b, 0).await.must("pass b");
    let mut clash = pass(&w.id("pas"), &w.product, PassMode::Shareable, None);
    clash.status_index = Some(7);
    assert_err!(
        s.create_pass(&clash, 0).await,
        StoreError::Conflict(Conflict::Duplicate),
        "a status index is the provider's once"
    );
    assert_eq!(s.pass(&a.id).await.must("pass").status_index, Some(7));
    w.grant(&a, &w.holder1, None).await;
    let in_market = |m: &MarketSnapshot, id: &str| m.holdings.iter().any(|h| h.pass.id == id);
    assert!(in_market(&s.market(t(10)).await.must("market"), &a.id));
    assert!(s
        .revoked_status_indices(&w.provider)
        .await
        .must("indices")
        .is_empty());
    let revoked = s.revoke_pass(&a.id, t(20)).await.must("revoke");
    assert_eq!(revoked.revoked_at, Some(t(20)));
    assert!(!revoked.is_valid_at(t(21)));
    let again = s.revoke_pass(&a.id, t(30)).await.must("revoke again");
    assert_eq!(
        again.revoked_at,
        Some(t(20)),
        "the first revocation time stays"
    );
    assert_eq!(
        s.revoked_status_indices(&w.provider).await.must("indices"),
        vec![7]
    );
    assert!(
        !in_market(&s.market(t(40)).await.must("market"), &a.id),
        "a revoked pass is not matched"
    );
    assert_err!(
        s.revoke_pass("pas_nope", t(40)).await,
        StoreError::NotFound,
        "unknown pass"
    );
    assert_eq!(
        s.oldest_unexpired_pass(&w.provider, t(40))
            .await
            .must("oldest"),
        Some(T0),
        "fixture passes never expire"
    );
    assert_eq!(
        s.oldest_unexpired_pass("acc_nobody", t(40))
            .await
            .must("oldest"),
        None
    );
    let mut short = pass(&w.id("pas"), &w.product, PassMode::Shareable, None);
    short.valid_until = Some(t(50));
    short.created_at = t(-100);
    s.create_pass(&short, 0).await.must("short pass");
    assert_eq!(
        s.oldest_unexpired_pass(&w.provider, t(49))
            .await
            .must("oldest"),
        Some(t(-100))
    );
    assert_eq!(
        s.oldest_unexpired_pass(&w.provider, t(50))
            .await
            .must("oldest"),
        Some(T0),
        "a pass stops counting at its end"
    );
}

/// Rotation retires the active keys in the same step; unsealed 32-byte
/// secrets are listed and replaced once.
pub async fn provider_key_rotation_and_sealing(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    // A provider-held key (no secret) is not retired by rotating the custodial key.
    let mut held = provider_key("key_held", &w.provider, t(50));
    held.secret = None;
    s.add_provider_key(&held, false)
        .await
        .must("provider-held key");
    assert_eq!(
        s.any_sealed_provider_key().await.must("sealed"),
        None,
        "fixture secrets are 32 plain bytes"
    );
    let mut next = provider_key("key_next", &w.provider, t(100));
    next.secret = Some(vec![42; 60]);
    s.add_provider_key(&next, true).await.must("rotate");
    assert_eq!(
        s.any_sealed_provider_key()
            .await
            .must("sealed")
            .map(|k| k.kid),
        Some("key_next".to_string())
    );
    let all = s.provider_keys(&w.provider).await.must("keys");
    assert_eq!(
        all.iter()
            .find(|k| k.kid == "key_held")
            .map(|k| k.retired_at),
        Some(None),
        "rotation retires only custodial keys"
    );
    let keys: Vec<ProviderKeyRecord> = all.into_iter().filter(|k| k.kid != "key_held").collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        keys[0].retired_at,
        Some(t(100)),
        "the old key retired at the new key's birth"
    );
    assert_eq!(keys[1].kid, "key_next");
    assert_eq!(keys[1].retired_at, None);
    // A key without a secret (the provider signs itself) is kept as such.
    let mut own = provider_key("key_own", &w.provider, t(200));
    own.secret = None;
    s.add_provider_key(&own, false).await.must("own key");
    let own_key = s.provider_keys(&w.provider).await.must("keys");
    assert_eq!(
        own_key
            .iter()
            .find(|k| k.kid == "key_own")
            .map(|k| k.secret.clone()),
        Some(None)
    );
    // Sealing: the fixture key's secret is 32 plain bytes.
    let unsealed = s.unsealed_provider_keys().await.must("unsealed");
    let plain = unsealed
        .iter()
        .find(|k| k.kid == format!("key_{}", w.provider))
        .and_then(|k| k.secret.clone())
        .expect("the 32-byte fixture secret is listed");
    assert!(unsealed
        .iter()
        .all(|k| k.secret.as_ref().is_some_and(|s| s.len() == 32)));
    let kid = format!("key_{}", w.provider);
    assert!(s
        .set_provider_key_secret(&kid, &plain, &[1; 72])
        .await
        .must("seal"));
    assert!(
        !s.set_provider_key_secret(&kid, &plain, &[2; 72])
            .await
            .must("seal again"),
        "no longer plain"
    );
    assert_eq!(
        s.provider_keys(&w.provider).await.must("keys")[0].secret,
        Some(vec![1; 72])
    );
    assert!(!s
        .unsealed_provider_keys()
        .await
        .must("unsealed")
        .iter()
        .any(|k| k.kid == kid));
    assert_err!(
        s.add_provider_key(&next, false).await,
        StoreError::Conflict(Conflict::Duplicate),
        "a kid is added once"
    );
}

/// An order placed on a pass (no offer; with or without a crediting holder),
/// and what the pass page shows of the pass's trade.
pub async fn page_orders_without_offer_and_pass_activity(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let offer = w.bought_offer(&w.holder1, &w.shareable).await; // one purchase, at t(200)
    s.rate(&rating(&w.id("rat"), &offer, true))
        .await
        .must("rate");
    let mut direct = order_for(&w.id("ord"), &offer, &w.product, 3);
    direct.offer_id = None;
    direct.holder_id = None;
    direct.commission_minor = 0;
    let mut settlement = settlement_for(&w.id("led"), &direct, t(181));
    settlement.postings.retain(|p| p.amount_minor != 0);
    let placed = s
        .place_order(&direct, None, Some(&settlement))
        .await
        .must("an order without offer or holder");
    assert_eq!(
        (placed.offer_id.clone(), placed.holder_id.clone()),
        (None, None)
    );
    assert_eq!(placed.status, OrderStatus::Paid);
    let mut via = order_for(&w.id("ord"), &offer, &w.product, 1);
    via.offer_id = None;
    via.created_at = t(190);
    s.place_order(&via, None, None)
        .await
        .must("an order credited to holder 1");
    let holder_orders = s
        .orders(OrderParty::Holder(&w.holder1), &page(None, 10))
        .await
        .must("orders");
    assert_eq!(
        holder_orders.len(),
        2,
        "the bought offer's and the credited order"
    );
    assert_eq!(w.stock(&w.product.id).await, 10 - 4);
    assert_ledger_balanced(s).await;
    // The unpaid order is no purchase: the page counts paid ones.
    let a = s.pass_activity(&w.shareable.id, 10).await.must("activity");
    assert_eq!((a.orders, a.quantity), (2, 4));
    assert_eq!(a.recent, vec![(t(200), 1), (t(181), 3)], "newest first");
    s.pay_order(&via.id, &settlement_for(&w.id("led"), &via, t(250)), None)
        .await
        .must("pay");
    let a = s.pass_activity(&w.shareable.id, 10).await.must("activity");
    assert_eq!((a.orders, a.quantity), (3, 5));
    assert_eq!(a.recent[0], (t(250), 1));
    assert_eq!((a.positive, a.ratings), (1, 1));
    assert_eq!(a.reviews.len(), 1);
    assert!(a.reviews[0].positive);
    assert_eq!(a.reviews[0].comment.as_deref(), Some("great"));
    let limited = s.pass_activity(&w.shareable.id, 1).await.must("activity");
    assert_eq!((limited.orders, limited.recent.len()), (3, 1));
    let none = s.pass_activity(&w.unique.id, 10).await.must("activity");
    assert_eq!(none, PassActivity::default());
}

/// A page order of a unique pass paid as it is placed carries the unit's
/// first transfer: both happen, or neither (out of stock, or the unit already
/// sold). Unpaid, it carries none.
pub async fn page_order_of_a_unique_unit_transfers_it_atomically(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let offer = w.accepted_offer(&w.holder1, &w.shareable).await; // for order_for's fields
    let unit = s
        .free_unit(&w.unique.id, &w.holder2)
        .await
        .must("free_unit")
        .expect("holder 2 holds units");
    let transfer = unit_transfer(&w.unique.id, unit, 1, &w.holder2, &w.requester, t(180));
    let mut o = order_for(&w.id("ord"), &offer, &w.product, 1);
    o.offer_id = None;
    o.holder_id = Some(w.holder2.clone());
    o.pass_id = w.unique.id.clone();
    o.unit_no = Some(unit);
    assert!(
        s.place_order(&o, Some(&transfer), None).await.is_err(),
        "an unpaid order moves no unit"
    );
    assert_eq!(s.unit(&w.unique.id, unit).await.must("unit").owner_id, None);
    let placed = s
        .place_order(
            &o,
            Some(&transfer),
            Some(&settlement_for("led_p", &o, t(181))),
        )
        .await
        .must("page order");
    assert_eq!(placed.unit_no, Some(unit));
    assert_eq!(
        s.unit(&w.unique.id, unit)
            .await
            .must("unit")
            .owner_id
            .as_deref(),
        Some(w.requester.as_str())
    );
    let stock = w.stock(&w.product.id).await;
    let mut again = o.clone();
    again.id = w.id("ord");
    assert_err!(
        s.place_order(
            &again,
            Some(&transfer),
            Some(&settlement_for("led_q", &again, t(181)))
        )
        .await,
        StoreError::Conflict(Conflict::UnitAlreadySold),
        "the same unit sold twice"
    );
    assert_eq!(
        w.stock(&w.product.id).await,
        stock,
        "no stock taken by the refused order"
    );
    assert_err!(
        s.order(&again.id).await,
        StoreError::NotFound,
        "no order recorded"
    );
    // Out of stock: the unit stays unsold.
    let empty = w.add_product(0).await;
    let p = w.add_pass(&empty, PassMode::Unique, Some(1)).await;
    w.grant(&p, &w.holder1, Some(1)).await;
    let t1 = unit_transfer(&p.id, 1, 1, &w.holder1, &w.requester, t(180));
    let mut o2 = order_for(&w.id("ord"), &offer, &empty, 1);
    o2.offer_id = None;
    o2.pass_id = p.id.clone();
    assert_err!(
        s.place_order(&o2, Some(&t1), Some(&settlement_for("led_r", &o2, t(181))))
            .await,
        StoreError::Conflict(Conflict::InsufficientStock),
        "no stock"
    );
    assert_eq!(
        s.unit(&p.id, 1).await.must("unit").owner_id,
        None,
        "the unit was not transferred"
    );
    assert!(s.unit_history(&p.id, 1).await.must("history").is_empty());
}

// ---------------------------------------------------------------------------
// Idempotency keys
// ---------------------------------------------------------------------------

/// A key runs once, then replays; other parameters are a mismatch; a running
/// key is in progress until its lock goes stale; keys are per account; pruning
/// forgets old keys.
pub async fn idempotency_keys_run_once_and_replay(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let (a, b) = (w.requester.clone(), w.provider.clone());
    let stale = t(-60);
    assert_eq!(
        s.idempotency_begin(&a, "k1", "fp1", t(0), stale)
            .await
            .must("begin"),
        IdempotencyStart::Run
    );
    assert_eq!(
        s.idempotency_begin(&a, "k1", "fp1", t(1), t(1 - 60))
            .await
            .must("begin"),
        IdempotencyStart::InProgress
    );
    assert_eq!(
        s.idempotency_begin(&a, "k1", "fp2", t(1), t(1 - 60))
            .await
            .must("begin"),
        IdempotencyStart::Mismatch
    );
    // Another account's key of the same name is its own.
    assert_eq!(
        s.idempotency_begin(&b, "k1", "fp9", t(1), t(1 - 60))
            .await
            .must("begin"),
        IdempotencyStart::Run
    );
    let resp = StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: br#"{"id":"ord_1"}"#.to_vec(),
    };
    s.idempotency_finish(&a, "k1", &resp).await.must("finish");
    assert_eq!(
        s.idempotency_begin(&a, "k1", "fp1", t(2), t(2 - 60))
            .await
            .must("begin"),
        IdempotencyStart::Replay(resp.clone())
    );
    assert_eq!(
        s.idempotency_begin(&a, "k1", "fp2", t(2), t(2 - 60))
            .await
            .must("begin"),
        IdempotencyStart::Mismatch,
        "a finished key with other parameters"
    );
    // A crashed request's lock goes stale: the key runs again.
    assert_eq!(
        s.idempotency_begin(&a, "k2", "fp", t(0), stale)
            .await
            .must("begin"),
        IdempotencyStart::Run
    );
    assert_eq!(
        s.idempotency_begin(&a, "k2", "fp", t(30), t(30 - 60))
            .await
            .must("begin"),
        IdempotencyStart::InProgress
    );
    assert_eq!(
        s.idempotency_begin(&a, "k2", "fp", t(61), t(61 - 60))
            .await
            .must("begin"),
        IdempotencyStart::Run,
        "the lock of a request cut off by a crash expires"
    );
    // Released keys start over.
    s.idempotency_release(&a, "k2").await.must("release");
    assert_eq!(
        s.idempotency_begin(&a, "k2", "other", t(62), t(2))
            .await
            .must("begin"),
        IdempotencyStart::Run
    );
    // Pruning.
    assert_eq!(
        s.idempotency_prune(t(2)).await.must("prune"),
        2,
        "k1 of a and of b"
    );
    assert_eq!(
        s.idempotency_begin(&a, "k1", "fp2", t(100), t(40))
            .await
            .must("begin"),
        IdempotencyStart::Run
    );
}

/// Twenty tasks begin the same key at once: one runs.
pub async fn concurrent_idempotent_requests_run_once(store: Arc<dyn Store>) {
    const TASKS: usize = 20;
    let w = World::new(store).await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut set = JoinSet::new();
    for _ in 0..TASKS {
        let (store, barrier, who) = (w.store.clone(), barrier.clone(), w.requester.clone());
        set.spawn(async move {
            barrier.wait().await;
            store
                .idempotency_begin(&who, "same", "fp", t(0), t(-60))
                .await
        });
    }
    let results = join_all(set).await;
    let runs = results
        .iter()
        .filter(|r| matches!(r, Ok(IdempotencyStart::Run)))
        .count();
    assert_eq!(runs, 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(IdempotencyStart::Run | IdempotencyStart::InProgress))));
}

// ---------------------------------------------------------------------------
// Events (the outbox) and webhook deliveries
// ---------------------------------------------------------------------------

fn kinds(events: &[EventRecord]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn all_events(s: &dyn Store, account: &str) -> Vec<EventRecord> {
    s.events_after(account, 0, 1000).await.must("events_after")
}

fn data(e: &EventRecord) -> serde_json::Value {
    serde_json::from_str(&e.data).expect("event data is JSON")
}

/// A backend with wake-ups wakes a listener when events commit (SQLite has
/// none: one process owns its file, and that process knows its own writes).
pub async fn event_wakeups_follow_commits(store: Arc<dyn Store>) {
    let expected = matches!(store.backend(), "postgres");
    let w = World::new(store).await;
    let s = w.store();
    let Some(mut wakeups) = s.event_wakeups().await.must("event wakeups") else {
        assert!(!expected, "{} must offer event wake-ups", s.backend());
        return;
    };
    assert!(
        expected,
        "{} offers wake-ups the suite does not expect",
        s.backend()
    );
    // The market set-up wrote no events, so the first wake-up is the demand's.
    w.demand(&[&w.holder1, &w.holder2]).await;
    let woke = tokio::time::timeout(std::time::Duration::from_secs(30), wakeups.next()).await;
    assert!(
        matches!(woke, Ok(Ok(()))),
        "no wake-up after a commit: {woke:?}"
    );
    // Another commit wakes it again (one notification per transaction).
    let requests = w.demand(&[&w.holder1]).await;
    let woke = tokio::time::timeout(std::time::Duration::from_secs(30), wakeups.next()).await;
    assert!(matches!(woke, Ok(Ok(()))), "no second wake-up: {woke:?}");
    assert_eq!(requests.len(), 1);
}

/// Every change a party must hear about writes its event in the same
/// transaction: requests, offers, acceptance, withdrawal, orders placed, paid
/// and shipped (to requester, provider and holder), ratings and expiry (once).
/// A failed change writes none; `seq` grows and pages resume after it.
pub async fn events_follow_every_change_in_its_transaction(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    assert_eq!(s.last_event_seq().await.must("seq"), 0);
    let requests = w.demand(&[&w.holder1, &w.holder2]).await;
    let h1 = all_events(s, &w.holder1).await;
    assert_eq!(kinds(&h1), ["interaction.requested"]);
    let d = data(&h1[0]);
    assert_eq!(d["interaction_id"], requests[0].id.as_str());
    assert_eq!(d["demand_id"], requests[0].demand_id.as_str());
    assert_eq!(d["deadline"], requests[0].deadline.millis());
    assert!(
        d["query"].is_string() && d["matched_pass_ids"].is_array(),
        "{d}"
    );
    assert_eq!(h1[0].created_at, requests[0].created_at);

    let offer = w.offer(&requests[0], &w.shareable.id).await;
    let r = all_events(s, &w.requester).await;
    assert_eq!(kinds(&r), ["offer.created"]);
    assert_eq!(data(&r[0])["offer_id"], offer.id.as_str());
    assert_eq!(data(&r[0])["holder_id"], w.holder1.as_str());

    // The tail over every account holds each account's events, in order.
    let tail = s.events_since(0, 1000).await.must("events_since");
    assert!(tail.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        tail.last().map(|e| e.seq),
        Some(s.last_event_seq().await.must("seq"))
    );
    for who in [&w.holder1, &w.requester] {
        let mine: Vec<_> = tail
            .iter()
            .filter(|e| &e.account_id == who)
            .cloned()
            .collect();
        assert_eq!(mine, all_events(s, who).await);
    }
    let first = s.events_since(0, 1).await.must("events_since");
    assert_eq!(first.len(), 1);
    assert_eq!(
        s.events_since(first[0].seq, 1000).await.must("rest"),
        tail[1..]
    );

    // A change that fails writes no event.
    let before = s.last_event_seq().await.must("seq");
    let again = NewOffer {
        id: w.id("ofr"),
        interaction_id: requests[0].id.clone(),
        pass_id: w.shareable.id.clone(),
        note: None,
        created_at: t(61),
    };
    assert!(s.create_offer(&again).await.is_err());
    assert_eq!(s.last_event_seq().await.must("seq"), before);

    s.accept_offer(&w.acceptance(&offer).await)
        .await
        .must("accept");
    assert_eq!(
        kinds(&all_events(s, &w.holder1).await),
        ["interaction.requested", "offer.accepted"]
    );
    assert_eq!(
        kinds(&all_events(s, &w.holder2).await),
        ["interaction.requested", "interaction.withdrawn"]
    );

    let order = order_for(&w.id("ord"), &offer, &w.product, 1);
    let paid = s
        .place_order(
            &order,
            None,
            Some(&settlement_for(&w.id("ldg"), &order, t(200))),
        )
        .await
        .must("place_order");
    s.ship_order(&paid.id, None, t(300)).await.must("ship");
    s.deliver(&paid.id, symbolon_core::state::Actor::Requester, t(310))
        .await
        .must("deliver");
    for who in [&w.requester, &w.provider, &w.holder1] {
        let evs = all_events(s, who).await;
        let orders: Vec<_> = evs
            .iter()
            .filter(|e| e.kind.starts_with("order."))
            .collect();
        assert_eq!(
            orders.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
            [
                "order.placed",
                "order.paid",
                "order.shipped",
                "order.delivered"
            ],
            "{who}"
        );
        assert!(orders
            .iter()
            .all(|e| data(e)["order_id"] == paid.id.as_str()));
        assert_eq!(data(orders[0])["total_minor"], paid.total_minor);
        assert_eq!(orders[2].created_at, t(300));
    }
    s.rate(&rating(&w.id("rat"), &offer, true))
        .await
        .must("rate");
    let h1 = all_events(s, &w.holder1).await;
    assert_eq!(h1.last().map(|e| e.kind.as_str()), Some("rating.created"));
    assert_eq!(data(h1.last().unwrap())["positive"], true);

    // Expiry: once, however often it runs.
    let late = w.demand_by(&w.requester, &[&w.holder2], t(500)).await;
    assert_eq!(s.expire_due(t(501)).await.must("expire"), 1);
    assert_eq!(s.expire_due(t(502)).await.must("expire"), 0);
    let h2 = all_events(s, &w.holder2).await;
    assert_eq!(
        kinds(&h2),
        [
            "interaction.requested",
            "interaction.withdrawn",
            "interaction.requested",
            "interaction.expired"
        ]
    );
    assert_eq!(data(&h2[3])["interaction_id"], late[0].id.as_str());
    assert_eq!(
        h2[3].created_at,
        t(500),
        "an expiry happens at the deadline"
    );

    // Sequence numbers grow; paging resumes exactly after a seq.
    let mut everyone = Vec::new();
    for who in [&w.requester, &w.provider, &w.holder1, &w.holder2] {
        let evs = all_events(s, who).await;
        assert!(evs.windows(2).all(|p| p[0].seq < p[1].seq));
        assert!(evs.iter().all(|e| &e.account_id == who));
        let first = s.events_after(who, 0, 1).await.must("page");
        let rest = s.events_after(who, first[0].seq, 1000).await.must("page");
        assert_eq!(first.len() + rest.len(), evs.len());
        assert_eq!(rest.first(), evs.get(1));
        everyone.extend(evs.into_iter().map(|e| e.seq));
    }
    everyone.sort_unstable();
    everyone.dedup();
    assert_eq!(
        everyone.last().copied(),
        Some(s.last_event_seq().await.must("seq"))
    );
    // Pruning keeps nothing old but what a delivery still waits for.
    let mut old = Vec::new();
    for who in [&w.requester, &w.provider, &w.holder1, &w.holder2] {
        old.extend(
            all_events(s, who)
                .await
                .into_iter()
                .filter(|e| e.created_at < t(100))
                .map(|e| (e.kind, e.created_at)),
        );
    }
    assert_eq!(
        s.prune_events(t(100)).await.must("prune"),
        old.len() as u64,
        "{old:?}"
    );
    assert_eq!(all_events(s, &w.holder1).await.len(), h1.len() - 1);
}

fn endpoint(w: &World, account: &str) -> WebhookEndpoint {
    WebhookEndpoint {
        id: w.id("whk"),
        account_id: account.into(),
        url: "https://hooks.example.com/symbolon".into(),
        secret: b"sealed-secret".to_vec(),
        previous_secret: None,
        previous_until: None,
        created_at: t(0),
        disabled_at: None,
        disabled_reason: None,
        failing_since: None,
        pending: 0,
    }
}

fn attempt(
    job: &DeliveryJob,
    at: Timestamp,
    status: Option<i64>,
    outcome: &str,
) -> DeliveryAttempt {
    DeliveryAttempt {
        endpoint_id: job.endpoint.id.clone(),
        event_seq: job.event.seq,
        attempt: job.attempts + 1,
        at,
        status,
        error: None,
        duration_ms: 3,
        outcome: outcome.into(),
    }
}

/// An endpoint disabled by its owner gets nothing claimed while disabled,
/// keeps its waiting deliveries (due again once enabled), and keeps the
/// moment and reason of a first disabling; an unknown endpoint is not found.
pub async fn webhooks_disabled_by_their_owner_keep_their_deliveries(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let e = endpoint(&w, &w.holder1);
    s.create_webhook(&e, 10).await.must("create_webhook");
    let requests = w.demand(&[&w.holder1]).await;
    let at = requests[0].created_at;
    s.disable_webhook(&e.id, at, "disabled by its owner")
        .await
        .must("disable");
    let got = s.webhook(&w.holder1, &e.id).await.must("get");
    assert_eq!(got.disabled_at, Some(at));
    assert_eq!(
        got.disabled_reason.as_deref(),
        Some("disabled by its owner")
    );
    assert_eq!(got.pending, 1, "the waiting delivery stays");
    s.disable_webhook(&e.id, at.plus_seconds(5), "again")
        .await
        .must("disable again");
    let again = s.webhook(&w.holder1, &e.id).await.must("get");
    assert_eq!(
        (again.disabled_at, again.disabled_reason.as_deref()),
        (Some(at), Some("disabled by its owner")),
        "a second disabling changes nothing"
    );
    assert!(s
        .claim_deliveries(at.plus_seconds(10), at.plus_seconds(70), "a", 10)
        .await
        .must("claim")
        .is_empty());
    s.enable_webhook(&e.id, at.plus_seconds(20))
        .await
        .must("enable");
    let enabled = s.webhook(&w.holder1, &e.id).await.must("get");
    assert_eq!((enabled.disabled_at, enabled.pending), (None, 1));
    let jobs = s
        .claim_deliveries(at.plus_seconds(20), at.plus_seconds(80), "a", 10)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 1);
    assert_err!(
        s.disable_webhook("whk_nope", at, "x").await,
        StoreError::NotFound,
        "no such endpoint"
    );
}

/// The oldest event waiting for a webhook delivery (the outbox-age gauge):
/// none before any, the waiting event's time while its endpoint is enabled,
/// none while it is disabled or once delivered.
pub async fn oldest_undelivered_event_counts_enabled_endpoints_only(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    assert_eq!(s.oldest_undelivered_event().await.must("oldest"), None);
    let e = endpoint(&w, &w.holder1);
    s.create_webhook(&e, 10).await.must("create_webhook");
    let requests = w.demand(&[&w.holder1]).await;
    let at = requests[0].created_at;
    let waiting = s.oldest_undelivered_event().await.must("oldest");
    let written = s.events_since(0, 100).await.must("events");
    let first = written
        .iter()
        .filter(|ev| ev.account_id == w.holder1)
        .map(|ev| ev.created_at)
        .min();
    assert!(
        waiting.is_some() && waiting == first,
        "{waiting:?} {first:?}"
    );
    s.disable_webhook(&e.id, at, "disabled by its owner")
        .await
        .must("disable");
    assert_eq!(
        s.oldest_undelivered_event().await.must("oldest"),
        None,
        "a disabled endpoint's deliveries do not count"
    );
    s.enable_webhook(&e.id, at).await.must("enable");
    assert_eq!(s.oldest_undelivered_event().await.must("oldest"), waiting);
    let jobs = s
        .claim_deliveries(at, at.plus_seconds(60), "a", 10)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 1);
    let ok = attempt(&jobs[0], at.plus_seconds(1), Some(200), "delivered");
    assert!(s
        .finish_delivery("a", &ok, &DeliveryResult::Delivered)
        .await
        .must("finish"));
    assert_eq!(s.oldest_undelivered_event().await.must("oldest"), None);
}

/// The readiness probe's read: the applied schema is the newest the
/// binary knows (a fresh store was migrated at open).
pub async fn schema_version_is_the_one_this_binary_migrates_to(store: Arc<dyn Store>) {
    let applied = store.schema_version().await.must("schema_version");
    assert!(applied > 0);
    assert_eq!(applied, store.known_schema_version());
    let pools = store.pool_stats();
    assert!(
        pools.iter().all(|p| p.idle <= p.size && p.size <= p.max),
        "{pools:?}"
    );
}

/// Deliveries are rows: claimed under a lease (a second worker gets nothing
/// until it runs out), retried on schedule, finished only by the lease
/// holder; a disabled endpoint keeps its deliveries, which resume when it is
/// enabled; replay queues delivered events again; deleting drops them.
pub async fn webhook_deliveries_are_leased_retried_and_never_dropped(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    let e = endpoint(&w, &w.holder1);
    s.create_webhook(&e, 10).await.must("create_webhook");
    assert_err!(
        s.webhook(&w.holder2, &e.id).await,
        StoreError::NotFound,
        "another account's endpoint"
    );
    let requests = w.demand(&[&w.holder1]).await;
    let at = requests[0].created_at;
    assert_eq!(s.webhook(&w.holder1, &e.id).await.must("get").pending, 1);
    assert!(s
        .claim_deliveries(at.plus_seconds(-1), at.plus_seconds(60), "a", 10)
        .await
        .must("claim")
        .is_empty());
    let jobs = s
        .claim_deliveries(at, at.plus_seconds(60), "a", 10)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 1);
    let job = jobs[0].clone();
    assert_eq!(
        (job.attempts, job.event.kind.as_str()),
        (0, "interaction.requested")
    );
    assert_eq!(job.endpoint.secret, e.secret);
    assert!(
        s.claim_deliveries(at.plus_seconds(1), at.plus_seconds(61), "b", 10)
            .await
            .must("claim")
            .is_empty(),
        "leased"
    );
    // Worker a died: its lease runs out and b takes the delivery over.
    let jobs_b = s
        .claim_deliveries(at.plus_seconds(60), at.plus_seconds(120), "b", 10)
        .await
        .must("claim");
    assert_eq!(jobs_b.len(), 1);
    let late = attempt(&job, at.plus_seconds(61), Some(410), "disabled");
    let stale = DeliveryResult::Disable {
        reason: "stale".into(),
    };
    assert!(
        !s.finish_delivery("a", &late, &stale).await.must("finish"),
        "a lost its lease"
    );
    let ep = s.webhook(&w.holder1, &e.id).await.must("get");
    assert!(
        ep.disabled_at.is_none() && ep.failing_since.is_none(),
        "a worker without the lease changes nothing but the attempt log: {ep:?}"
    );
    let retry_at = at.plus_seconds(70);
    let failed = attempt(&jobs_b[0], at.plus_seconds(62), Some(500), "retry");
    assert!(s
        .finish_delivery(
            "b",
            &failed,
            &DeliveryResult::Retry {
                at: retry_at,
                disable_if_failing_since: at.plus_seconds(-3600)
            }
        )
        .await
        .must("finish"));
    let ep = s.webhook(&w.holder1, &e.id).await.must("get");
    assert_eq!(
        (ep.pending, ep.failing_since),
        (1, Some(at.plus_seconds(62)))
    );
    assert!(ep.disabled_at.is_none());
    assert!(
        s.claim_deliveries(at.plus_seconds(69), at.plus_seconds(200), "c", 10)
            .await
            .must("claim")
            .is_empty(),
        "not due yet"
    );
    let jobs_c = s
        .claim_deliveries(retry_at, at.plus_seconds(200), "c", 10)
        .await
        .must("claim");
    assert_eq!(jobs_c[0].attempts, 1);
    let ok = attempt(&jobs_c[0], retry_at, Some(204), "delivered");
    assert!(s
        .finish_delivery("c", &ok, &DeliveryResult::Delivered)
        .await
        .must("finish"));
    let ep = s.webhook(&w.holder1, &e.id).await.must("get");
    assert_eq!((ep.pending, ep.failing_since), (0, None));
    let attempts = s.webhook_attempts(&e.id, 10).await.must("attempts");
    assert_eq!(
        attempts
            .iter()
            .map(|a| a.outcome.as_str())
            .collect::<Vec<_>>(),
        ["delivered", "retry", "disabled"],
        "newest first, the lost lease's attempt recorded too"
    );
    assert_eq!(attempts[0], ok);

    // 410: disabled; new events wait, never dropped; enabling resumes them.
    w.demand(&[&w.holder1]).await;
    let jobs = s
        .claim_deliveries(t(1000), t(1060), "a", 10)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 1);
    s.finish_delivery(
        "a",
        &attempt(&jobs[0], t(1000), Some(410), "disabled"),
        &DeliveryResult::Disable {
            reason: "410 Gone".into(),
        },
    )
    .await
    .must("finish");
    let ep = s.webhook(&w.holder1, &e.id).await.must("get");
    assert_eq!(ep.disabled_reason.as_deref(), Some("410 Gone"));
    w.demand(&[&w.holder1]).await;
    assert!(s
        .claim_deliveries(t(2000), t(2060), "a", 10)
        .await
        .must("claim")
        .is_empty());
    assert_eq!(s.webhook(&w.holder1, &e.id).await.must("get").pending, 2);
    s.enable_webhook(&e.id, t(2000)).await.must("enable");
    let jobs = s
        .claim_deliveries(t(2000), t(2060), "a", 10)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 2);
    for j in &jobs {
        s.finish_delivery(
            "a",
            &attempt(j, t(2001), Some(200), "delivered"),
            &DeliveryResult::Delivered,
        )
        .await
        .must("finish");
    }
    // A failure period: failing since long enough disables the endpoint.
    w.demand(&[&w.holder1]).await;
    let j = s
        .claim_deliveries(t(3000), t(3060), "a", 10)
        .await
        .must("claim");
    s.finish_delivery(
        "a",
        &attempt(&j[0], t(3000), None, "retry"),
        &DeliveryResult::Retry {
            at: t(3010),
            disable_if_failing_since: t(3000),
        },
    )
    .await
    .must("finish");
    let ep = s.webhook(&w.holder1, &e.id).await.must("get");
    assert!(ep.disabled_at.is_some() && ep.pending == 1, "{ep:?}");
    s.enable_webhook(&e.id, t(3001)).await.must("enable");

    // Replay queues every event after a point again.
    let evs = all_events(s, &w.holder1).await;
    assert_eq!(
        s.replay_webhook(&e.id, evs[0].seq, t(4000), 100)
            .await
            .must("replay"),
        evs.len() as u64 - 1
    );
    assert_eq!(
        s.webhook(&w.holder1, &e.id).await.must("get").pending,
        evs.len() as i64 - 1
    );
    assert_eq!(
        s.replay_webhook(&e.id, 0, t(4000), 2).await.must("replay"),
        2,
        "limited"
    );
    // Rotation keeps the previous secret for a while.
    s.rotate_webhook_secret(&e.id, b"new", b"sealed-secret", t(5000))
        .await
        .must("rotate");
    let ep = s.webhook(&w.holder1, &e.id).await.must("get");
    assert_eq!(
        (
            ep.secret.as_slice(),
            ep.previous_secret.as_deref(),
            ep.previous_until
        ),
        (&b"new"[..], Some(&b"sealed-secret"[..]), Some(t(5000)))
    );
    assert_eq!(s.webhooks(&w.holder1).await.must("list").len(), 1);
    assert_err!(
        s.delete_webhook(&w.holder2, &e.id).await,
        StoreError::NotFound,
        "another account's endpoint"
    );
    s.delete_webhook(&w.holder1, &e.id).await.must("delete");
    assert!(s.webhooks(&w.holder1).await.must("list").is_empty());
    assert!(s
        .webhook_attempts(&e.id, 10)
        .await
        .must("attempts")
        .is_empty());
    assert!(s
        .claim_deliveries(t(9000), t(9060), "a", 10)
        .await
        .must("claim")
        .is_empty());
}

/// Eight workers claim at once, round after round (each round finishes
/// what it claimed): each delivery is leased to exactly one worker, and no
/// round leases more than the per-endpoint and per-account bounds allow.
pub async fn concurrent_claims_lease_each_delivery_once(store: Arc<dyn Store>) {
    use symbolon_core::limits::{WEBHOOK_IN_FLIGHT_PER_ACCOUNT, WEBHOOK_IN_FLIGHT_PER_ENDPOINT};
    const WORKERS: usize = 8;
    const EVENTS: usize = 15;
    let w = World::new(store).await;
    let s = w.store();
    let mut endpoints = Vec::new();
    for holder in [&w.holder1, &w.holder2] {
        for _ in 0..2 {
            let e = endpoint(&w, holder);
            s.create_webhook(&e, 10).await.must("create");
            endpoints.push(e);
        }
    }
    for _ in 0..EVENTS {
        w.demand(&[&w.holder1, &w.holder2]).await;
    }
    let mut claimed: Vec<(String, i64)> = Vec::new();
    for round in 0..100 {
        let now = t(10_000 + round);
        let barrier = Arc::new(Barrier::new(WORKERS));
        let mut set = JoinSet::new();
        for i in 0..WORKERS {
            let (store, barrier) = (w.store.clone(), barrier.clone());
            set.spawn(async move {
                barrier.wait().await;
                let owner = format!("w{i}");
                let jobs = store
                    .claim_deliveries(now, now.plus_seconds(60), &owner, 7)
                    .await;
                (owner, jobs)
            });
        }
        let mut this_round = Vec::new();
        for (owner, jobs) in join_all(set).await {
            for j in jobs.must("claim") {
                this_round.push((owner.clone(), j));
            }
        }
        if this_round.is_empty() {
            break;
        }
        for e in &endpoints {
            let n = this_round
                .iter()
                .filter(|(_, j)| j.endpoint.id == e.id)
                .count();
            assert!(
                n <= WEBHOOK_IN_FLIGHT_PER_ENDPOINT as usize,
                "round {round}: {n} leases of one endpoint"
            );
        }
        for holder in [&w.holder1, &w.holder2] {
            let n = this_round
                .iter()
                .filter(|(_, j)| &j.endpoint.account_id == holder)
                .count();
            assert!(
                n <= WEBHOOK_IN_FLIGHT_PER_ACCOUNT as usize,
                "round {round}: {n} leases of one account"
            );
        }
        for (owner, j) in this_round {
            assert!(s
                .finish_delivery(
                    &owner,
                    &attempt(&j, now, Some(200), "delivered"),
                    &DeliveryResult::Delivered
                )
                .await
                .must("finish"));
            claimed.push((j.endpoint.id, j.event.seq));
        }
    }
    let n = claimed.len();
    claimed.sort();
    claimed.dedup();
    assert_eq!(
        (n, claimed.len()),
        (4 * EVENTS, 4 * EVENTS),
        "each of 4 × {EVENTS} deliveries once"
    );
}

/// Claims are bounded and fair: an endpoint never has more than
/// `WEBHOOK_IN_FLIGHT_PER_ENDPOINT` deliveries leased (its oldest first), an
/// account never more than `WEBHOOK_IN_FLIGHT_PER_ACCOUNT`, counting live
/// leases of every worker; a finished or run-out lease frees its slot; and
/// due work is taken round-robin across accounts, so an account with a
/// backlog on many endpoints does not come first for being oldest.
pub async fn claims_bound_sends_in_flight_and_take_turns_across_accounts(store: Arc<dyn Store>) {
    use symbolon_core::limits::{WEBHOOK_IN_FLIGHT_PER_ACCOUNT, WEBHOOK_IN_FLIGHT_PER_ENDPOINT};
    let (per_endpoint, per_account) = (
        WEBHOOK_IN_FLIGHT_PER_ENDPOINT as usize,
        WEBHOOK_IN_FLIGHT_PER_ACCOUNT as usize,
    );
    let w = World::new(store).await;
    let s = w.store();
    // holder1 is busy: enough endpoints that its account bound binds before
    // the endpoints' bounds add up; holder2 has one endpoint.
    let busy_endpoints = per_account / per_endpoint + 1;
    assert!(busy_endpoints * per_endpoint > per_account);
    for _ in 0..busy_endpoints {
        s.create_webhook(&endpoint(&w, &w.holder1), 100)
            .await
            .must("create");
    }
    let quiet = endpoint(&w, &w.holder2);
    s.create_webhook(&quiet, 100).await.must("create");
    // Each demand is one event for each holder, holder1's first (lower seq).
    let events = per_endpoint + 2;
    for _ in 0..events {
        w.demand(&[&w.holder1, &w.holder2]).await;
    }
    let quiet_seqs: Vec<i64> = all_events(s, &w.holder2)
        .await
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(quiet_seqs.len(), events);
    let (now, lease) = (t(10_000), t(10_060));
    let of = |jobs: &[DeliveryJob], account: &str| {
        jobs.iter()
            .filter(|j| j.endpoint.account_id == account)
            .count()
    };

    // Two at a time: one of each account, though holder1's are older.
    let first = s.claim_deliveries(now, lease, "a", 2).await.must("claim");
    assert_eq!(
        (of(&first, &w.holder1), of(&first, &w.holder2)),
        (1, 1),
        "round-robin across accounts: {first:?}"
    );
    let q = first
        .iter()
        .find(|j| j.endpoint.id == quiet.id)
        .expect("the quiet account's delivery");
    assert_eq!(q.event.seq, quiet_seqs[0], "an endpoint's oldest first");

    // As many as asked for: the bounds, counting live leases, decide.
    let rest = s
        .claim_deliveries(now, lease, "b", 1000)
        .await
        .must("claim");
    let all: Vec<DeliveryJob> = first.iter().chain(rest.iter()).cloned().collect();
    assert_eq!(
        of(&all, &w.holder1),
        per_account,
        "the account bound, exactly"
    );
    assert_eq!(
        of(&all, &w.holder2),
        per_endpoint,
        "the endpoint bound, exactly"
    );
    let mut quiet_leased: Vec<i64> = all
        .iter()
        .filter(|j| j.endpoint.id == quiet.id)
        .map(|j| j.event.seq)
        .collect();
    quiet_leased.sort_unstable();
    assert_eq!(quiet_leased, quiet_seqs[..per_endpoint], "oldest first");
    for e in s.webhooks(&w.holder1).await.must("list") {
        assert!(all.iter().filter(|j| j.endpoint.id == e.id).count() <= per_endpoint);
    }
    assert!(
        s.claim_deliveries(now, lease, "c", 1000)
            .await
            .must("claim")
            .is_empty(),
        "due work waits while its endpoint and account are at their bounds"
    );

    // A finished send frees one slot: the endpoint's next event goes out.
    let done = all
        .iter()
        .find(|j| j.endpoint.id == quiet.id)
        .expect("a quiet delivery");
    let owner = if first.iter().any(|j| j == done) {
        "a"
    } else {
        "b"
    };
    assert!(s
        .finish_delivery(
            owner,
            &attempt(done, now, Some(204), "delivered"),
            &DeliveryResult::Delivered
        )
        .await
        .must("finish"));
    let next = s
        .claim_deliveries(now.plus_seconds(1), lease, "c", 1000)
        .await
        .must("claim");
    assert_eq!(
        next.iter()
            .map(|j| (&j.endpoint.id, j.event.seq))
            .collect::<Vec<_>>(),
        [(&quiet.id, quiet_seqs[per_endpoint])],
        "one slot, the next event in order"
    );

    // Leases that ran out (crashed workers) no longer count.
    let again = s
        .claim_deliveries(lease, lease.plus_seconds(60), "d", 1000)
        .await
        .must("claim");
    assert_eq!(of(&again, &w.holder1), per_account);
    assert_eq!(of(&again, &w.holder2), per_endpoint);
}

/// The endpoint limit is counted inside the inserting transaction: one at a
/// time the last one passes and the next is refused; thirty at once, exactly
/// the limit pass, on any backend.
pub async fn webhook_limit_holds_under_concurrent_registrations(store: Arc<dyn Store>) {
    const MAX: usize = 10;
    const TRIES: usize = 30;
    let w = World::new(store).await;
    let s = w.store();
    for _ in 0..MAX {
        s.create_webhook(&endpoint(&w, &w.holder2), MAX)
            .await
            .must("create up to the limit");
    }
    assert_err!(
        s.create_webhook(&endpoint(&w, &w.holder2), MAX).await,
        StoreError::Conflict(Conflict::TooManyWebhooks),
        "one past the limit"
    );
    assert_eq!(s.webhooks(&w.holder2).await.must("list").len(), MAX);

    let barrier = Arc::new(Barrier::new(TRIES));
    let mut set = JoinSet::new();
    for _ in 0..TRIES {
        let (store, barrier, e) = (w.store.clone(), barrier.clone(), endpoint(&w, &w.holder1));
        set.spawn(async move {
            barrier.wait().await;
            store.create_webhook(&e, MAX).await
        });
    }
    let results = join_all(set).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        MAX,
        "{results:?}"
    );
    assert!(results.iter().all(|r| matches!(
        r,
        Ok(()) | Err(StoreError::Conflict(Conflict::TooManyWebhooks))
    )));
    assert_eq!(s.webhooks(&w.holder1).await.must("list").len(), MAX);
}

/// Sealed secrets: keys replace, a pass is sealed once, shares are listed to
/// their recipient only.
pub async fn sealed_secrets_round_trip(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store();
    assert_err!(
        s.party_keys(&w.holder1).await,
        StoreError::NotFound,
        "no keys yet"
    );
    let keys = |r: &str, at| PartyKeys {
        account_id: w.holder1.clone(),
        age_recipient: r.into(),
        signing_jwk: "{}".into(),
        updated_at: t(at),
    };
    s.set_party_keys(&keys("age1first", 0)).await.must("keys");
    s.set_party_keys(&keys("age1second", 1)).await.must("keys");
    assert_eq!(
        s.party_keys(&w.holder1).await.must("keys"),
        keys("age1second", 1)
    );
    let seal = PassSeal {
        pass_id: w.shareable.id.clone(),
        seal_id: "seal_1".into(),
        header_jws: "h.e.s".into(),
        payload: b"age-encryption.org/v1\n...".to_vec(),
        created_at: t(2),
    };
    assert_err!(
        s.pass_seal(&seal.pass_id).await,
        StoreError::NotFound,
        "unsealed"
    );
    s.put_seal(&seal).await.must("seal");
    assert_err!(
        s.put_seal(&seal).await,
        StoreError::Conflict(Conflict::Duplicate),
        "sealed once"
    );
    assert_eq!(s.pass_seal(&seal.pass_id).await.must("seal"), seal);
    let share = |id: &str, to: &str, kind: &str| SealedShare {
        id: id.into(),
        pass_id: seal.pass_id.clone(),
        recipient_id: to.into(),
        sender_id: w.provider.clone(),
        kind: kind.into(),
        offer_id: None,
        order_id: None,
        wrapped: vec![1, 2, 3],
        created_at: t(3),
    };
    s.add_share(&share("shr_1", &w.holder1, "holder"))
        .await
        .must("share");
    s.add_share(&share("shr_2", &w.holder2, "holder"))
        .await
        .must("share");
    s.add_share(&share("shr_3", &w.requester, "release"))
        .await
        .must("share");
    assert_eq!(
        s.shares_for(&w.holder1, &seal.pass_id).await.must("shares"),
        vec![share("shr_1", &w.holder1, "holder")]
    );
    assert!(s
        .shares_for(&w.holder1, &w.unique.id)
        .await
        .must("shares")
        .is_empty());
    assert_eq!(
        s.shares_for(&w.requester, &seal.pass_id)
            .await
            .must("shares")
            .len(),
        1
    );
    // One share per offer.
    let offer_share = |id: &str| SealedShare {
        offer_id: Some("ofr_1".into()),
        ..share(id, &w.requester, "offer")
    };
    s.add_share(&offer_share("shr_4")).await.must("share");
    assert_err!(
        s.add_share(&offer_share("shr_5")).await,
        StoreError::Conflict(Conflict::Duplicate),
        "a second share with one offer"
    );
}

mod lifecycle;
pub use lifecycle::*;
mod manage;
pub use manage::*;
mod people;
pub use people::*;
mod mail;
pub use mail::*;
mod tlog;
pub use tlog::*;
