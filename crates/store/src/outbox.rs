//! The outbox and webhook queries, shared by the SQL backends.
//!
//! The events themselves are written by triggers (each backend's migration
//! v5), in the transaction of the change that causes them. What is here reads
//! them and keeps webhook delivery state: SQL written once with `$n`
//! placeholders (SQLite reads them as `?n`), expanded per backend by
//! [`sql_outbox_methods!`] into that backend's [`crate::OutboxStore`] impl.
//! Only locking differs: PostgreSQL locks the account row before counting
//! its endpoints, and serializes claims with a transaction-scoped advisory
//! lock; SQLite's one writer serializes both already.

/// The data of `demand.opened`, which the backends write (to the requester)
/// in the transaction that sends a waiting demand's interaction requests.
pub fn demand_opened(demand_id: &str, contacted: usize) -> String {
    serde_json::json!({"demand_id": demand_id, "contacted": contacted}).to_string()
}

/// Columns of an endpoint, with its count of waiting deliveries.
pub const WEBHOOK_SELECT: &str = "SELECT e.id, e.account_id, e.url, e.secret, e.previous_secret, e.previous_until,
    e.created_at, e.disabled_at, e.disabled_reason, e.failing_since,
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending') AS pending
  FROM webhook_endpoints e";

/// The claim: `$1` lease_until, `$2` owner, `$3` now, `$4` limit, `$5` the
/// most leases one endpoint may hold, `$6` the most one account may hold.
///
/// A due delivery's *endpoint slot* is its rank among its endpoint's due
/// deliveries (oldest first) plus the endpoint's live leases; its *account
/// slot* is its rank among its account's deliveries that fit their endpoint
/// plus the account's live leases. Only deliveries within both bounds are
/// taken, ordered by account slot: each account's first, then each one's
/// second, … — so ten slow endpoints of one account neither hold every lease
/// nor push another account's events to the back of the queue. The outer
/// conditions repeat `pending` and the lease so that a row changed meanwhile
/// by another transaction is skipped, never taken twice.
pub const CLAIM: &str = "UPDATE webhook_deliveries SET lease_until = $1, leased_by = $2
 WHERE state = 'pending' AND lease_until <= $3 AND (endpoint_id, event_seq) IN (
   SELECT endpoint_id, event_seq FROM (
     SELECT endpoint_id, event_seq, next_attempt_at,
       account_live + ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY next_attempt_at, event_seq) AS account_slot
     FROM (
       SELECT d.endpoint_id, d.event_seq, d.next_attempt_at, e.account_id,
         COALESCE(le.n, 0)
           + ROW_NUMBER() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.event_seq) AS endpoint_slot,
         COALESCE(la.n, 0) AS account_live
       FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id
       LEFT JOIN (SELECT endpoint_id, COUNT(*) AS n FROM webhook_deliveries
                  WHERE state = 'pending' AND lease_until > $3 GROUP BY endpoint_id) le
         ON le.endpoint_id = d.endpoint_id
       LEFT JOIN (SELECT le_e.account_id, COUNT(*) AS n
                  FROM webhook_deliveries le_d JOIN webhook_endpoints le_e ON le_e.id = le_d.endpoint_id
                  WHERE le_d.state = 'pending' AND le_d.lease_until > $3 GROUP BY le_e.account_id) la
         ON la.account_id = e.account_id
       WHERE d.state = 'pending' AND d.next_attempt_at <= $3 AND d.lease_until <= $3
         AND e.disabled_at IS NULL
     ) due WHERE endpoint_slot <= $5
   ) fair WHERE account_slot <= $6
   ORDER BY account_slot, next_attempt_at, event_seq LIMIT $4)
 RETURNING endpoint_id, event_seq, attempts";

/// Expands to `impl OutboxStore for $store`. `$write`/`$read` name the
/// pools, `$sql` turns the shared SQL into the backend's dialect;
/// `account_lock` (an `Option<&str>`, `$1` the account id) runs first in
/// `create_webhook`'s transaction and `claim_lock` (an `Option<&str>`) first
/// in a claim's, for a backend whose writers do not serialize by themselves.
#[macro_export]
macro_rules! sql_outbox_methods {
    ($store:ty, write = $w:ident, read = $r:ident, sql = $sql:path,
     account_lock = $account_lock:expr, claim_lock = $claim_lock:expr) => {
        #[async_trait::async_trait]
        impl symbolon_store::OutboxStore for $store {
            async fn events_after(
                &self,
                account_id: &str,
                after: i64,
                limit: u32,
            ) -> StoreResult<Vec<EventRecord>> {
                let rows = sqlx::query(&$sql(
                    "SELECT seq, account_id, type, data, created_at FROM events
                     WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                ))
                .bind(account_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await
                .map_err(db)?;
                rows.iter().map(event_from).collect()
            }

            async fn events_since(&self, after: i64, limit: u32) -> StoreResult<Vec<EventRecord>> {
                let rows = sqlx::query(&$sql(
                    "SELECT seq, account_id, type, data, created_at FROM events
                     WHERE seq > $1 ORDER BY seq LIMIT $2",
                ))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await
                .map_err(db)?;
                rows.iter().map(event_from).collect()
            }

            async fn last_event_seq(&self) -> StoreResult<i64> {
                sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq), 0) FROM events")
                    .fetch_one(&self.$r)
                    .await
                    .map_err(db)
            }

            async fn oldest_undelivered_event(&self) -> StoreResult<Option<Timestamp>> {
                let at: Option<i64> = sqlx::query_scalar(
                    "SELECT ev.created_at FROM events ev WHERE ev.seq = (
                       SELECT MIN(d.event_seq) FROM webhook_deliveries d
                       JOIN webhook_endpoints e ON e.id = d.endpoint_id
                       WHERE d.state = 'pending' AND e.disabled_at IS NULL)",
                )
                .fetch_optional(&self.$r)
                .await
                .map_err(db)?;
                Ok(at.map(Timestamp::from_millis))
            }

            async fn prune_events(&self, before: Timestamp) -> StoreResult<u64> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                sqlx::query(&$sql(
                    "DELETE FROM webhook_deliveries WHERE state = 'delivered' AND event_seq IN
                       (SELECT seq FROM events WHERE created_at < $1)",
                ))
                .bind(before.millis())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                let n = sqlx::query(&$sql(
                    "DELETE FROM events WHERE created_at < $1 AND NOT EXISTS
                       (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = events.seq)",
                ))
                .bind(before.millis())
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                tx.commit().await.map_err(db)?;
                Ok(n)
            }

            async fn create_webhook(
                &self,
                e: &WebhookEndpoint,
                max_per_account: usize,
            ) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                let lock: Option<&str> = $account_lock;
                if let Some(lock) = lock {
                    sqlx::query(lock)
                        .bind(&e.account_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                }
                let n: i64 = sqlx::query_scalar(&$sql(
                    "SELECT COUNT(*) FROM webhook_endpoints WHERE account_id = $1",
                ))
                .bind(&e.account_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?;
                if usize::try_from(n).unwrap_or(usize::MAX) >= max_per_account {
                    return Err(Conflict::TooManyWebhooks.into());
                }
                sqlx::query(&$sql(
                    "INSERT INTO webhook_endpoints (id, account_id, url, secret, previous_secret, previous_until,
                       created_at, disabled_at, disabled_reason, failing_since)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                ))
                .bind(&e.id)
                .bind(&e.account_id)
                .bind(&e.url)
                .bind(&e.secret)
                .bind(&e.previous_secret)
                .bind(e.previous_until.map(Timestamp::millis))
                .bind(e.created_at.millis())
                .bind(e.disabled_at.map(Timestamp::millis))
                .bind(&e.disabled_reason)
                .bind(e.failing_since.map(Timestamp::millis))
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)
            }

            async fn webhooks(&self, account_id: &str) -> StoreResult<Vec<WebhookEndpoint>> {
                let q = format!(
                    "{} WHERE e.account_id = $1 ORDER BY e.created_at, e.id",
                    symbolon_store::outbox::WEBHOOK_SELECT
                );
                let rows = sqlx::query(&$sql(&q))
                    .bind(account_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                rows.iter().map(webhook_from).collect()
            }

            async fn webhook(&self, account_id: &str, id: &str) -> StoreResult<WebhookEndpoint> {
                let q = format!(
                    "{} WHERE e.account_id = $1 AND e.id = $2",
                    symbolon_store::outbox::WEBHOOK_SELECT
                );
                let row = sqlx::query(&$sql(&q))
                    .bind(account_id)
                    .bind(id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(db)?
                    .ok_or(StoreError::NotFound)?;
                webhook_from(&row)
            }

            async fn delete_webhook(&self, account_id: &str, id: &str) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                let n = sqlx::query(&$sql(
                    "DELETE FROM webhook_endpoints WHERE account_id = $1 AND id = $2",
                ))
                .bind(account_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                tx.commit().await.map_err(db)?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn rotate_webhook_secret(
                &self,
                id: &str,
                secret: &[u8],
                previous: &[u8],
                previous_until: Timestamp,
            ) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                let n = sqlx::query(&$sql(
                    "UPDATE webhook_endpoints SET secret = $1, previous_secret = $2, previous_until = $3 WHERE id = $4",
                ))
                .bind(secret)
                .bind(previous)
                .bind(previous_until.millis())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                tx.commit().await.map_err(db)?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn enable_webhook(&self, id: &str, now: Timestamp) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                let n = sqlx::query(&$sql(
                    "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
                     WHERE id = $1",
                ))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                sqlx::query(&$sql(
                    "UPDATE webhook_deliveries SET next_attempt_at = $1, attempts = 0
                     WHERE endpoint_id = $2 AND state = 'pending'",
                ))
                .bind(now.millis())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)
            }

            async fn disable_webhook(
                &self,
                id: &str,
                now: Timestamp,
                reason: &str,
            ) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                let n = sqlx::query(&$sql(
                    "UPDATE webhook_endpoints SET disabled_at = COALESCE(disabled_at, $1),
                       disabled_reason = COALESCE(disabled_reason, $2)
                     WHERE id = $3",
                ))
                .bind(now.millis())
                .bind(reason)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await.map_err(db)
            }

            async fn replay_webhook(
                &self,
                id: &str,
                after: i64,
                now: Timestamp,
                limit: u32,
            ) -> StoreResult<u64> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                let n = sqlx::query(&$sql(
                    "INSERT INTO webhook_deliveries (endpoint_id, event_seq, state, next_attempt_at)
                     SELECT e.id, ev.seq, 'pending', $1 FROM webhook_endpoints e
                       JOIN events ev ON ev.account_id = e.account_id
                     WHERE e.id = $2 AND ev.seq > $3 ORDER BY ev.seq LIMIT $4
                     ON CONFLICT (endpoint_id, event_seq) DO UPDATE SET
                       state = 'pending', next_attempt_at = excluded.next_attempt_at, delivered_at = NULL,
                       attempts = 0, lease_until = 0, leased_by = NULL",
                ))
                .bind(now.millis())
                .bind(id)
                .bind(after)
                .bind(i64::from(limit))
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                tx.commit().await.map_err(db)?;
                Ok(n)
            }

            async fn claim_deliveries(
                &self,
                now: Timestamp,
                lease_until: Timestamp,
                owner: &str,
                limit: u32,
            ) -> StoreResult<Vec<DeliveryJob>> {
                // Workers poll twice a second: look on a reader first, so an
                // idle poll never takes the write lock.
                let due: Option<i64> = sqlx::query_scalar(&$sql(
                    "SELECT d.event_seq FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
                     WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.lease_until <= $1
                       AND e.disabled_at IS NULL LIMIT 1",
                ))
                .bind(now.millis())
                .fetch_optional(&self.$r)
                .await
                .map_err(db)?;
                if due.is_none() {
                    return Ok(Vec::new());
                }
                let mut tx = self.$w.begin().await.map_err(db)?;
                let lock: Option<&str> = $claim_lock;
                if let Some(lock) = lock {
                    sqlx::query(lock).execute(&mut *tx).await.map_err(db)?;
                }
                let claimed: Vec<(String, i64, i64)> =
                    sqlx::query_as(&$sql(symbolon_store::outbox::CLAIM))
                        .bind(lease_until.millis())
                        .bind(owner)
                        .bind(now.millis())
                        .bind(i64::from(limit))
                        .bind(i64::from(
                            symbolon_core::limits::WEBHOOK_IN_FLIGHT_PER_ENDPOINT,
                        ))
                        .bind(i64::from(
                            symbolon_core::limits::WEBHOOK_IN_FLIGHT_PER_ACCOUNT,
                        ))
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db)?;
                tx.commit().await.map_err(db)?;
                let mut jobs = Vec::with_capacity(claimed.len());
                for (endpoint_id, seq, attempts) in claimed {
                    let q = format!("{} WHERE e.id = $1", symbolon_store::outbox::WEBHOOK_SELECT);
                    let endpoint = sqlx::query(&$sql(&q))
                        .bind(&endpoint_id)
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(db)?;
                    let event = sqlx::query(&$sql(
                        "SELECT seq, account_id, type, data, created_at FROM events WHERE seq = $1",
                    ))
                    .bind(seq)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(db)?;
                    // Deleted since the claim: nothing to deliver.
                    if let (Some(endpoint), Some(event)) = (endpoint, event) {
                        jobs.push(DeliveryJob {
                            endpoint: webhook_from(&endpoint)?,
                            event: event_from(&event)?,
                            attempts,
                        });
                    }
                }
                Ok(jobs)
            }

            async fn finish_delivery(
                &self,
                owner: &str,
                a: &DeliveryAttempt,
                result: &DeliveryResult,
            ) -> StoreResult<bool> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                sqlx::query(&$sql(
                    "INSERT INTO webhook_attempts (endpoint_id, event_seq, attempt, at, status, error, duration_ms, outcome)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1)",
                ))
                .bind(&a.endpoint_id)
                .bind(a.event_seq)
                .bind(a.attempt)
                .bind(a.at.millis())
                .bind(a.status)
                .bind(&a.error)
                .bind(a.duration_ms)
                .bind(&a.outcome)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                let (state, next, delivered_at) = match result {
                    DeliveryResult::Delivered => ("delivered", a.at, Some(a.at.millis())),
                    DeliveryResult::Retry { at, .. } => ("pending", *at, None),
                    DeliveryResult::Disable { .. } => ("pending", a.at, None),
                };
                let held = sqlx::query(&$sql(
                    "UPDATE webhook_deliveries SET state = $1, next_attempt_at = $2, delivered_at = $3,
                       attempts = attempts + 1, lease_until = 0, leased_by = NULL
                     WHERE endpoint_id = $4 AND event_seq = $5 AND leased_by = $6 AND state = 'pending'",
                ))
                .bind(state)
                .bind(next.millis())
                .bind(delivered_at)
                .bind(&a.endpoint_id)
                .bind(a.event_seq)
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected()
                    == 1;
                if !held {
                    // Another worker took the delivery over: its word counts,
                    // not this one's (only the attempt is recorded).
                    tx.commit().await.map_err(db)?;
                    return Ok(false);
                }
                match result {
                    DeliveryResult::Delivered => {
                        sqlx::query(&$sql("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1"))
                            .bind(&a.endpoint_id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                    }
                    DeliveryResult::Retry {
                        disable_if_failing_since,
                        ..
                    } => {
                        sqlx::query(&$sql(
                            "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $1) WHERE id = $2",
                        ))
                        .bind(a.at.millis())
                        .bind(&a.endpoint_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                        sqlx::query(&$sql(
                            "UPDATE webhook_endpoints SET disabled_at = $1,
                               disabled_reason = 'failing for longer than the failure period'
                             WHERE id = $2 AND disabled_at IS NULL AND failing_since <= $3",
                        ))
                        .bind(a.at.millis())
                        .bind(&a.endpoint_id)
                        .bind(disable_if_failing_since.millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                    DeliveryResult::Disable { reason } => {
                        sqlx::query(&$sql(
                            "UPDATE webhook_endpoints SET disabled_at = $1, disabled_reason = $2,
                               failing_since = COALESCE(failing_since, $1)
                             WHERE id = $3 AND disabled_at IS NULL",
                        ))
                        .bind(a.at.millis())
                        .bind(reason)
                        .bind(&a.endpoint_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                }
                tx.commit().await.map_err(db)?;
                Ok(held)
            }

            async fn webhook_attempts(
                &self,
                endpoint_id: &str,
                limit: u32,
            ) -> StoreResult<Vec<DeliveryAttempt>> {
                let rows = sqlx::query(&$sql(
                    "SELECT endpoint_id, event_seq, attempt, at, status, error, duration_ms, outcome
                     FROM webhook_attempts WHERE endpoint_id = $1 ORDER BY id DESC LIMIT $2",
                ))
                .bind(endpoint_id)
                .bind(i64::from(limit))
                .fetch_all(&self.$r)
                .await
                .map_err(db)?;
                rows.iter().map(attempt_from).collect()
            }
        }
    };
}
