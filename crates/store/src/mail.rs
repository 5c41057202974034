//! E-mail notifications, written once for both SQL backends (see
//! `outbox.rs` for the dialect trick) and expanded per backend by
//! [`sql_mail_methods!`] into its impl of [`crate::MailStore`]:
//!
//! * a person's choices (`mail_prefs`): the language of their messages and
//!   the kinds they turned off (no row: every kind on, in en-US);
//! * the mail cursor (`mail_cursor`): up to which event `seq` the mailer has
//!   looked. It moves by a conditional update in the transaction that queues
//!   the messages of the events it passes, so each (event, recipient) is
//!   queued once, by one replica;
//! * the mail outbox (`mail_outbox`): one row per (event, recipient) with its
//!   state and retry schedule, claimed under a lease like
//!   `webhook_deliveries`; a lease that runs out makes it due again.

use crate::StoreResult;
use symbolon_core::Timestamp;

/// A person's choices of messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPrefs {
    pub account_id: String,
    /// The language of their messages (`en-US`, `zh-CN`).
    pub lang: String,
    /// The kinds of message they turned off.
    pub off: Vec<String>,
}

/// A message to queue: the event it tells of and its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub event_seq: i64,
    pub account_id: String,
    /// The kind of message (what a person turns on and off).
    pub kind: String,
    /// The recipient's address (their login's email).
    pub to: String,
    pub lang: String,
    pub event_type: String,
    /// The event's data (JSON), copied: the message outlives the event.
    pub data: String,
    pub created_at: Timestamp,
}

/// A claimed message, with the attempts made before this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailJob {
    pub mail: NewMail,
    pub attempts: i64,
}

/// How an attempt to send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailResult {
    Sent,
    /// Try again at `at`.
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Give up (the retry schedule is exhausted).
    Failed {
        error: String,
    },
}

/// Notification preferences, the mail cursor and the mail outbox.
#[async_trait::async_trait]
pub trait MailStore: Send + Sync {
    /// An account's choices; `None` when it never chose (every kind on, en-US).
    async fn mail_prefs(&self, account_id: &str) -> StoreResult<Option<MailPrefs>>;
    /// Saves an account's choices (replacing earlier ones).
    async fn set_mail_prefs(&self, prefs: &MailPrefs, at: Timestamp) -> StoreResult<()>;
    /// Turns one kind off for an account (keeping its other choices; in
    /// `default_lang` when it had none). Turning it off again changes nothing.
    async fn mail_opt_out(
        &self,
        account_id: &str,
        kind: &str,
        default_lang: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// The last event `seq` the mailer looked at; `None` before it first ran.
    async fn mail_cursor(&self) -> StoreResult<Option<i64>>;
    /// In one transaction: moves the cursor from `from` (`None`: unset) to
    /// `to` and queues `mails` (each (event, recipient) at most once, due at
    /// its `created_at`). `false`, with nothing written, when the cursor is
    /// no longer at `from` (another replica moved it first).
    async fn queue_mails(&self, from: Option<i64>, to: i64, mails: &[NewMail])
        -> StoreResult<bool>;
    /// Leases up to `limit` due messages (pending, due at `now`, no live
    /// lease) to `owner` until `lease_until`, oldest first.
    async fn claim_mails(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        owner: &str,
        limit: u32,
    ) -> StoreResult<Vec<MailJob>>;
    /// Records an attempt on a message `owner` leased: sent, to retry, or
    /// failed. `false` (nothing changed) when the lease is no longer
    /// `owner`'s or the message is no longer pending.
    async fn finish_mail(
        &self,
        owner: &str,
        event_seq: i64,
        account_id: &str,
        result: &MailResult,
        at: Timestamp,
    ) -> StoreResult<bool>;
    /// How many messages are in each state: (pending, sent, failed).
    async fn mail_counts(&self) -> StoreResult<(i64, i64, i64)>;
    /// Forgets messages sent or given up (`failed`) before `before`; a
    /// pending message is never forgotten. How many went.
    async fn prune_mails(&self, before: Timestamp) -> StoreResult<u64>;
}

#[doc(hidden)]
pub type MailRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
);

/// The columns a claimed message is read with, in [`MailRow`] order after
/// `event_seq`.
pub const MAIL_COLS: &str =
    "account_id, kind, to_addr, lang, event_type, data, created_at, attempts, event_seq";

#[doc(hidden)]
pub fn mail_from(r: MailRow) -> MailJob {
    MailJob {
        mail: NewMail {
            event_seq: r.8,
            account_id: r.0,
            kind: r.1,
            to: r.2,
            lang: r.3,
            event_type: r.4,
            data: r.5,
            created_at: Timestamp::from_millis(r.6),
        },
        attempts: r.7,
    }
}

#[doc(hidden)]
pub fn off_kinds(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// Expands to `impl MailStore for $store`; `claim_lock` (an `Option<&str>`)
/// runs first in a claim's transaction, for a backend whose writers do not
/// serialize by themselves.
#[macro_export]
macro_rules! sql_mail_methods {
    ($store:ty, write = $w:ident, read = $r:ident, sql = $sql:path, claim_lock = $claim_lock:expr) => {
        mod mail_sql {
            use super::*;
            use symbolon_store::mail::{mail_from, off_kinds, MailRow, MAIL_COLS};
            use symbolon_store::mail::{MailJob, MailPrefs, MailResult, NewMail};
            use symbolon_store::StoreResult;

            #[async_trait::async_trait]
            impl symbolon_store::MailStore for $store {
                async fn mail_prefs(&self, account_id: &str) -> StoreResult<Option<MailPrefs>> {
                    let row: Option<(String, String)> = sqlx::query_as(&$sql(
                        "SELECT lang, off_kinds FROM mail_prefs WHERE account_id = $1",
                    ))
                    .bind(account_id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(row.map(|(lang, off)| MailPrefs {
                        account_id: account_id.to_string(),
                        lang,
                        off: off_kinds(&off),
                    }))
                }

                async fn set_mail_prefs(&self, p: &MailPrefs, at: Timestamp) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    sqlx::query(&$sql(
                        "INSERT INTO mail_prefs (account_id, lang, off_kinds, updated_at) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (account_id) DO UPDATE SET lang = excluded.lang,
                           off_kinds = excluded.off_kinds, updated_at = excluded.updated_at",
                    ))
                    .bind(&p.account_id)
                    .bind(&p.lang)
                    .bind(p.off.join(","))
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn mail_opt_out(
                    &self,
                    account_id: &str,
                    kind: &str,
                    default_lang: &str,
                    at: Timestamp,
                ) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    // Insert the default row first, then lock and read it, so
                    // two opt-outs at once each keep the other's kind.
                    sqlx::query(&$sql(
                        "INSERT INTO mail_prefs (account_id, lang, off_kinds, updated_at) VALUES ($1, $2, '', $3)
                         ON CONFLICT (account_id) DO NOTHING",
                    ))
                    .bind(account_id)
                    .bind(default_lang)
                    .bind(at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    sqlx::query(&$sql(
                        "UPDATE mail_prefs SET updated_at = updated_at WHERE account_id = $1",
                    ))
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let off: String = sqlx::query_scalar(&$sql(
                        "SELECT off_kinds FROM mail_prefs WHERE account_id = $1",
                    ))
                    .bind(account_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    let mut kinds = off_kinds(&off);
                    if !kinds.iter().any(|k| k == kind) {
                        kinds.push(kind.to_string());
                        sqlx::query(&$sql(
                            "UPDATE mail_prefs SET off_kinds = $1, updated_at = $2 WHERE account_id = $3",
                        ))
                        .bind(kinds.join(","))
                        .bind(at.millis())
                        .bind(account_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn mail_cursor(&self) -> StoreResult<Option<i64>> {
                    sqlx::query_scalar(&$sql("SELECT seq FROM mail_cursor WHERE id = 1"))
                        .fetch_optional(&self.$r)
                        .await
                        .map_err(db)
                }

                async fn queue_mails(
                    &self,
                    from: Option<i64>,
                    to: i64,
                    mails: &[NewMail],
                ) -> StoreResult<bool> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let moved = match from {
                        None => sqlx::query(&$sql(
                            "INSERT INTO mail_cursor (id, seq) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                        ))
                        .bind(to)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected(),
                        Some(from) => sqlx::query(&$sql(
                            "UPDATE mail_cursor SET seq = $1 WHERE id = 1 AND seq = $2",
                        ))
                        .bind(to)
                        .bind(from)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected(),
                    };
                    if moved != 1 {
                        // Dropped without a commit: rolled back.
                        return Ok(false);
                    }
                    for m in mails {
                        sqlx::query(&$sql(
                            "INSERT INTO mail_outbox (event_seq, account_id, kind, to_addr, lang, event_type, data,
                               created_at, state, next_attempt_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $8)
                             ON CONFLICT (event_seq, account_id) DO NOTHING",
                        ))
                        .bind(m.event_seq)
                        .bind(&m.account_id)
                        .bind(&m.kind)
                        .bind(&m.to)
                        .bind(&m.lang)
                        .bind(&m.event_type)
                        .bind(&m.data)
                        .bind(m.created_at.millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)?;
                    Ok(true)
                }

                async fn claim_mails(
                    &self,
                    now: Timestamp,
                    lease_until: Timestamp,
                    owner: &str,
                    limit: u32,
                ) -> StoreResult<Vec<MailJob>> {
                    // Polled often: look on a reader first, so an idle poll
                    // never takes the write lock.
                    let due: Option<i64> = sqlx::query_scalar(&$sql(
                        "SELECT event_seq FROM mail_outbox
                         WHERE state = 'pending' AND next_attempt_at <= $1 AND lease_until <= $1 LIMIT 1",
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
                    let q = format!(
                        "UPDATE mail_outbox SET lease_until = $1, leased_by = $2
                         WHERE state = 'pending' AND lease_until <= $3 AND (event_seq, account_id) IN (
                           SELECT event_seq, account_id FROM mail_outbox
                           WHERE state = 'pending' AND next_attempt_at <= $3 AND lease_until <= $3
                           ORDER BY next_attempt_at, event_seq LIMIT $4)
                         RETURNING {MAIL_COLS}"
                    );
                    let rows: Vec<MailRow> = sqlx::query_as(&$sql(&q))
                        .bind(lease_until.millis())
                        .bind(owner)
                        .bind(now.millis())
                        .bind(i64::from(limit))
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db)?;
                    tx.commit().await.map_err(db)?;
                    let mut jobs: Vec<MailJob> = rows.into_iter().map(mail_from).collect();
                    jobs.sort_by_key(|j| j.mail.event_seq);
                    Ok(jobs)
                }

                async fn finish_mail(
                    &self,
                    owner: &str,
                    event_seq: i64,
                    account_id: &str,
                    result: &MailResult,
                    at: Timestamp,
                ) -> StoreResult<bool> {
                    let (state, next, sent_at, error) = match result {
                        MailResult::Sent => ("sent", at, Some(at.millis()), None),
                        MailResult::Retry { at: next, error } => {
                            ("pending", *next, None, Some(error.clone()))
                        }
                        MailResult::Failed { error } => ("failed", at, None, Some(error.clone())),
                    };
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let n = sqlx::query(&$sql(
                        "UPDATE mail_outbox SET state = $1, next_attempt_at = $2, sent_at = $3,
                           last_error = $4, attempts = attempts + 1, lease_until = 0, leased_by = NULL
                         WHERE event_seq = $5 AND account_id = $6 AND leased_by = $7 AND state = 'pending'",
                    ))
                    .bind(state)
                    .bind(next.millis())
                    .bind(sent_at)
                    .bind(error)
                    .bind(event_seq)
                    .bind(account_id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    tx.commit().await.map_err(db)?;
                    Ok(n == 1)
                }

                async fn prune_mails(&self, before: Timestamp) -> StoreResult<u64> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let n = sqlx::query(&$sql(
                        "DELETE FROM mail_outbox WHERE state IN ('sent', 'failed') AND next_attempt_at < $1",
                    ))
                    .bind(before.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    tx.commit().await.map_err(db)?;
                    Ok(n)
                }

                async fn mail_counts(&self) -> StoreResult<(i64, i64, i64)> {
                    let rows: Vec<(String, i64)> = sqlx::query_as(&$sql(
                        "SELECT state, COUNT(*) FROM mail_outbox GROUP BY state",
                    ))
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    let n = |s: &str| rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1);
                    Ok((n("pending"), n("sent"), n("failed")))
                }
            }
        }
    };
}
