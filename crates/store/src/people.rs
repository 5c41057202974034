//! Accounts for people, written once for both SQL backends (see `outbox.rs`
//! for the dialect trick) and expanded per backend by
//! [`sql_people_methods!`] into its impl of [`crate::PeopleStore`]:
//!
//! * logins: an email (unique case-insensitively: its lowercased copy has a
//!   UNIQUE index) and an argon2id password hash per account, written with
//!   the account ([`crate::NewAccount::login`]);
//! * web sessions, stored only as the SHA-256 of their random token, with an
//!   absolute and an inactivity expiry (moved at most once a minute);
//! * API keys beyond the registration key (several per account, by SHA-256,
//!   revocable); `Store::account_by_key_hash` accepts either kind;
//! * failed sign-ins, one row per failure and scope (an account's email, a
//!   client address), counted over a sliding window, so every replica sees
//!   the same counts.

use crate::{ApiKeyRecord, Login, PasskeyCeremony, PasskeyRecord, StoreResult, WebSession};
use symbolon_core::Timestamp;

/// People's sign-ins, sessions, API keys and failed sign-ins.
#[async_trait::async_trait]
pub trait PeopleStore: Send + Sync {
    /// The login whose lowercased email is `email_lower` (`NotFound` if none).
    async fn login_by_email(&self, email_lower: &str) -> StoreResult<Login>;
    /// The login of an account (`NotFound` for an API-only account).
    async fn login_of(&self, account_id: &str) -> StoreResult<Login>;
    /// Records a new session.
    async fn create_session(&self, session: &WebSession) -> StoreResult<()>;
    /// The session whose token hashes to `token_hash`, if it is live at `now`
    /// (neither revoked nor past either expiry). When it was last seen
    /// `WEB_SESSION_TOUCH_SECONDS` or more before `now`, its last-seen time
    /// becomes `now` and its inactivity expiry `idle_until` (never past its
    /// absolute expiry).
    async fn live_session(
        &self,
        token_hash: &str,
        now: Timestamp,
        idle_until: Timestamp,
    ) -> StoreResult<Option<WebSession>>;
    /// An account's sessions live at `now`, newest first.
    async fn sessions_of(&self, account_id: &str, now: Timestamp) -> StoreResult<Vec<WebSession>>;
    /// Revokes one of an account's sessions (another account's is
    /// `NotFound`); revoking again keeps the first time.
    async fn revoke_session(&self, account_id: &str, id: &str, at: Timestamp) -> StoreResult<()>;
    /// Revokes every live session of an account but `keep` (a session id);
    /// returns how many.
    async fn revoke_other_sessions(
        &self,
        account_id: &str,
        keep: &str,
        at: Timestamp,
    ) -> StoreResult<u64>;
    /// Forgets the sessions that can no longer be used: expired (absolutely
    /// or for idleness) at `now`, or revoked at or before `revoked_before`.
    /// Returns how many.
    async fn prune_web_sessions(
        &self,
        now: Timestamp,
        revoked_before: Timestamp,
    ) -> StoreResult<u64>;
    /// Adds an API key, refused with `Conflict::TooManyApiKeys` when the
    /// account already has `max` unrevoked (counted under the account row's
    /// lock).
    async fn create_api_key(&self, key: &ApiKeyRecord, max: i64) -> StoreResult<()>;
    /// An account's unrevoked API keys, oldest first.
    async fn api_keys_of(&self, account_id: &str) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes one of an account's API keys (another account's is
    /// `NotFound`); revoking again keeps the first time.
    async fn revoke_api_key(&self, account_id: &str, id: &str, at: Timestamp) -> StoreResult<()>;
    /// Failed sign-ins of `scope` after `since` (a failure at `t` counts
    /// while `since < t`): how many, and when the oldest of them was.
    async fn sign_in_failures(
        &self,
        scope: &str,
        since: Timestamp,
    ) -> StoreResult<(i64, Option<Timestamp>)>;
    /// Records one failed sign-in at `at` for each scope, dropping the
    /// failures of those scopes older than `forget_before`.
    async fn record_sign_in_failure(
        &self,
        scopes: &[String],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> StoreResult<()>;
    /// Forgets the failed sign-ins of `scope` (an account signed in).
    async fn clear_sign_in_failures(&self, scope: &str) -> StoreResult<()>;
    /// Adds a passkey, refused with `Conflict::TooManyPasskeys` when the
    /// account already has `max` (counted under the account row's lock) and
    /// `Conflict::Duplicate` for a credential id already stored.
    async fn create_passkey(&self, passkey: &PasskeyRecord, max: i64) -> StoreResult<()>;
    /// The passkey of a credential id (`NotFound` if none).
    async fn passkey(&self, credential_id: &str) -> StoreResult<PasskeyRecord>;
    /// An account's passkeys, oldest first.
    async fn passkeys_of(&self, account_id: &str) -> StoreResult<Vec<PasskeyRecord>>;
    /// After a sign-in with a passkey: its new serialized state (counter)
    /// and when it was used (`NotFound` if it was removed).
    async fn passkey_used(
        &self,
        credential_id: &str,
        passkey_json: &str,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Removes one of an account's passkeys (another account's: `NotFound`).
    async fn delete_passkey(&self, account_id: &str, credential_id: &str) -> StoreResult<()>;
    /// Records a ceremony under way, forgetting the ceremonies expired at
    /// `now`; `TooManyPasskeyCeremonies` when its client already has
    /// `MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS` under way.
    async fn create_passkey_ceremony(
        &self,
        ceremony: &PasskeyCeremony,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Takes (deletes and returns) the ceremony `id` of `kind`; `None` when
    /// there is none, it is of another kind, or it expired at `now`. A
    /// ceremony is taken at most once.
    async fn take_passkey_ceremony(
        &self,
        id: &str,
        kind: &str,
        now: Timestamp,
    ) -> StoreResult<Option<PasskeyCeremony>>;
}

/// The login row written with its account: `$1` account, `$2` email, `$3`
/// lowercased email, `$4` password hash, `$5` created. A unique violation
/// here is the email (the account id was just inserted).
pub const INSERT_LOGIN: &str = "INSERT INTO logins (account_id, email, email_lower, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)";

/// `Store::account_by_key_hash`: `$1` the hash, of the registration key or
/// of an unrevoked API key.
pub const ACCOUNT_BY_KEY_HASH: &str =
    "SELECT id, name, roles, created_at FROM accounts WHERE api_key_hash = $1
  UNION ALL
  SELECT a.id, a.name, a.roles, a.created_at FROM api_keys k JOIN accounts a ON a.id = k.account_id
  WHERE k.key_hash = $1 AND k.revoked_at IS NULL";

/// The columns a session is read with, in [`SessionRow`] order.
pub const SESSION_COLS: &str = "id, token_hash, account_id, created_at, last_seen_at, expires_at, idle_expires_at, user_agent, revoked_at";
/// The columns an API key is read with, in [`ApiKeyRow`] order.
pub const API_KEY_COLS: &str = "id, key_hash, account_id, label, hint, created_at, revoked_at";

#[doc(hidden)]
pub type SessionRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    i64,
    String,
    Option<i64>,
);
#[doc(hidden)]
pub type ApiKeyRow = (String, String, String, String, String, i64, Option<i64>);

/// The columns a passkey is read with, in [`PasskeyRow`] order.
pub const PASSKEY_COLS: &str =
    "credential_id, account_id, name, passkey_json, created_at, last_used_at";
/// The columns a ceremony is read with, in [`CeremonyRow`] order.
pub const CEREMONY_COLS: &str = "id, account_id, kind, state_json, expires_at, client";

#[doc(hidden)]
pub type PasskeyRow = (String, String, String, String, i64, Option<i64>);
#[doc(hidden)]
pub type CeremonyRow = (String, Option<String>, String, String, i64, Option<String>);

#[doc(hidden)]
pub fn passkey_from(r: PasskeyRow) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: r.0,
        account_id: r.1,
        name: r.2,
        passkey_json: r.3,
        created_at: Timestamp::from_millis(r.4),
        last_used_at: r.5.map(Timestamp::from_millis),
    }
}

#[doc(hidden)]
pub fn ceremony_from(r: CeremonyRow) -> PasskeyCeremony {
    PasskeyCeremony {
        id: r.0,
        account_id: r.1,
        kind: r.2,
        state_json: r.3,
        expires_at: Timestamp::from_millis(r.4),
        client: r.5,
    }
}

#[doc(hidden)]
pub fn session_from(r: SessionRow) -> WebSession {
    WebSession {
        id: r.0,
        token_hash: r.1,
        account_id: r.2,
        created_at: Timestamp::from_millis(r.3),
        last_seen_at: Timestamp::from_millis(r.4),
        expires_at: Timestamp::from_millis(r.5),
        idle_expires_at: Timestamp::from_millis(r.6),
        user_agent: r.7,
        revoked_at: r.8.map(Timestamp::from_millis),
    }
}

#[doc(hidden)]
pub fn api_key_from(r: ApiKeyRow) -> ApiKeyRecord {
    ApiKeyRecord {
        id: r.0,
        key_hash: r.1,
        account_id: r.2,
        label: r.3,
        hint: r.4,
        created_at: Timestamp::from_millis(r.5),
        revoked_at: r.6.map(Timestamp::from_millis),
    }
}

/// Expands to `impl PeopleStore for $store` and a module `people_sql` with
/// what the backend's `create_account` and `account_by_key_hash` call
/// (`insert_login`, `account_by_key_hash`). `$w`/`$r` name the pools; the
/// backend's `lock_row` (from `sql_order_helpers!`), `db` and
/// `account_from` must be in scope.
#[macro_export]
macro_rules! sql_people_methods {
    ($store:ty, write = $w:ident, read = $r:ident, conn = $conn:ty, sql = $sql:path) => {
        mod people_sql {
            use super::*;
            use symbolon_core::limits::WEB_SESSION_TOUCH_SECONDS;
            use symbolon_store::people::{
                api_key_from, ceremony_from, passkey_from, session_from, ApiKeyRow, CeremonyRow,
                PasskeyRow, SessionRow, API_KEY_COLS, CEREMONY_COLS, PASSKEY_COLS, SESSION_COLS,
            };
            use symbolon_store::{
                ApiKeyRecord, Conflict, Login, PasskeyCeremony, PasskeyRecord, StoreError,
                StoreResult, WebSession,
            };

            type LoginRow = (String, String, String);

            /// Writes a new account's login (in `create_account`'s
            /// transaction): another login with its email is `EmailTaken`.
            pub(crate) async fn insert_login(
                conn: &mut $conn,
                account: &symbolon_store::Account,
                login: &symbolon_store::NewLogin,
            ) -> StoreResult<()> {
                sqlx::query(&$sql(symbolon_store::people::INSERT_LOGIN))
                    .bind(&account.id)
                    .bind(&login.email)
                    .bind(&login.email_lower)
                    .bind(&login.password_hash)
                    .bind(account.created_at.millis())
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| match db(e) {
                        StoreError::Conflict(Conflict::Duplicate) => Conflict::EmailTaken.into(),
                        other => other,
                    })?;
                Ok(())
            }

            /// Revokes the row `id` of `table` if it is `account_id`'s
            /// (`NotFound` otherwise); revoking again keeps the first time.
            async fn revoke_own(
                store: &$store,
                table: &'static str,
                account_id: &str,
                id: &str,
                at: Timestamp,
            ) -> StoreResult<()> {
                let mut tx = store.$w.begin().await.map_err(db)?;
                let n = sqlx::query(&$sql(&format!(
                    "UPDATE {table} SET revoked_at = COALESCE(revoked_at, $1)
                     WHERE id = $2 AND account_id = $3"
                )))
                .bind(at.millis())
                .bind(id)
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::NotFound);
                }
                tx.commit().await.map_err(db)
            }

            /// `Store::account_by_key_hash`, on the read pool.
            pub(crate) async fn account_by_key_hash(
                store: &$store,
                hash: &str,
            ) -> StoreResult<symbolon_store::Account> {
                let row = sqlx::query(&$sql(symbolon_store::people::ACCOUNT_BY_KEY_HASH))
                    .bind(hash)
                    .fetch_one(&store.$r)
                    .await
                    .map_err(db)?;
                account_from(&row)
            }

            fn login_from(r: LoginRow) -> Login {
                Login {
                    account_id: r.0,
                    email: r.1,
                    password_hash: r.2,
                }
            }

            #[async_trait::async_trait]
            impl symbolon_store::PeopleStore for $store {
                async fn login_by_email(&self, email_lower: &str) -> StoreResult<Login> {
                    let row: LoginRow = sqlx::query_as(&$sql(
                        "SELECT account_id, email, password_hash FROM logins WHERE email_lower = $1",
                    ))
                    .bind(email_lower)
                    .fetch_one(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(login_from(row))
                }

                async fn login_of(&self, account_id: &str) -> StoreResult<Login> {
                    let row: LoginRow = sqlx::query_as(&$sql(
                        "SELECT account_id, email, password_hash FROM logins WHERE account_id = $1",
                    ))
                    .bind(account_id)
                    .fetch_one(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(login_from(row))
                }

                async fn create_session(&self, s: &WebSession) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    sqlx::query(&$sql(&format!(
                        "INSERT INTO web_sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    )))
                    .bind(&s.id)
                    .bind(&s.token_hash)
                    .bind(&s.account_id)
                    .bind(s.created_at.millis())
                    .bind(s.last_seen_at.millis())
                    .bind(s.expires_at.millis())
                    .bind(s.idle_expires_at.millis())
                    .bind(&s.user_agent)
                    .bind(s.revoked_at.map(|t| t.millis()))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn live_session(
                    &self,
                    token_hash: &str,
                    now: Timestamp,
                    idle_until: Timestamp,
                ) -> StoreResult<Option<WebSession>> {
                    let row: Option<SessionRow> = sqlx::query_as(&$sql(&format!(
                        "SELECT {SESSION_COLS} FROM web_sessions
                         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND idle_expires_at > $2"
                    )))
                    .bind(token_hash)
                    .bind(now.millis())
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(db)?;
                    let Some(mut s) = row.map(session_from) else {
                        return Ok(None);
                    };
                    let touch_before = now.millis() - WEB_SESSION_TOUCH_SECONDS * 1000;
                    if s.last_seen_at.millis() <= touch_before {
                        let idle = idle_until.millis().min(s.expires_at.millis());
                        let mut tx = self.$w.begin().await.map_err(db)?;
                        sqlx::query(&$sql(
                            "UPDATE web_sessions SET last_seen_at = $1, idle_expires_at = $2
                             WHERE id = $3 AND last_seen_at <= $4",
                        ))
                        .bind(now.millis())
                        .bind(idle)
                        .bind(&s.id)
                        .bind(touch_before)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                        tx.commit().await.map_err(db)?;
                        s.last_seen_at = now;
                        s.idle_expires_at = Timestamp::from_millis(idle);
                    }
                    Ok(Some(s))
                }

                async fn sessions_of(
                    &self,
                    account_id: &str,
                    now: Timestamp,
                ) -> StoreResult<Vec<WebSession>> {
                    let rows: Vec<SessionRow> = sqlx::query_as(&$sql(&format!(
                        "SELECT {SESSION_COLS} FROM web_sessions
                         WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND idle_expires_at > $2
                         ORDER BY created_at DESC, id"
                    )))
                    .bind(account_id)
                    .bind(now.millis())
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(session_from).collect())
                }

                async fn revoke_session(
                    &self,
                    account_id: &str,
                    id: &str,
                    at: Timestamp,
                ) -> StoreResult<()> {
                    revoke_own(self, "web_sessions", account_id, id, at).await
                }

                async fn revoke_other_sessions(
                    &self,
                    account_id: &str,
                    keep: &str,
                    at: Timestamp,
                ) -> StoreResult<u64> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let n = sqlx::query(&$sql(
                        "UPDATE web_sessions SET revoked_at = $1
                         WHERE account_id = $2 AND id <> $3 AND revoked_at IS NULL",
                    ))
                    .bind(at.millis())
                    .bind(account_id)
                    .bind(keep)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    tx.commit().await.map_err(db)?;
                    Ok(n)
                }

                async fn prune_web_sessions(
                    &self,
                    now: Timestamp,
                    revoked_before: Timestamp,
                ) -> StoreResult<u64> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let n = sqlx::query(&$sql(
                        "DELETE FROM web_sessions
                         WHERE expires_at <= $1 OR idle_expires_at <= $1 OR revoked_at <= $2",
                    ))
                    .bind(now.millis())
                    .bind(revoked_before.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    tx.commit().await.map_err(db)?;
                    Ok(n)
                }

                async fn create_api_key(&self, k: &ApiKeyRecord, max: i64) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    lock_row(&mut tx, "accounts", "name", &k.account_id, None).await?;
                    let live: i64 = sqlx::query_scalar(&$sql(
                        "SELECT COUNT(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL",
                    ))
                    .bind(&k.account_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    if live >= max {
                        return Err(Conflict::TooManyApiKeys.into());
                    }
                    sqlx::query(&$sql(&format!(
                        "INSERT INTO api_keys ({API_KEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    )))
                    .bind(&k.id)
                    .bind(&k.key_hash)
                    .bind(&k.account_id)
                    .bind(&k.label)
                    .bind(&k.hint)
                    .bind(k.created_at.millis())
                    .bind(k.revoked_at.map(|t| t.millis()))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn api_keys_of(&self, account_id: &str) -> StoreResult<Vec<ApiKeyRecord>> {
                    let rows: Vec<ApiKeyRow> = sqlx::query_as(&$sql(&format!(
                        "SELECT {API_KEY_COLS} FROM api_keys
                         WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id"
                    )))
                    .bind(account_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(api_key_from).collect())
                }

                async fn revoke_api_key(
                    &self,
                    account_id: &str,
                    id: &str,
                    at: Timestamp,
                ) -> StoreResult<()> {
                    revoke_own(self, "api_keys", account_id, id, at).await
                }

                async fn sign_in_failures(
                    &self,
                    scope: &str,
                    since: Timestamp,
                ) -> StoreResult<(i64, Option<Timestamp>)> {
                    let (n, oldest): (i64, Option<i64>) = sqlx::query_as(&$sql(
                        "SELECT COUNT(*), MIN(at) FROM sign_in_failures WHERE scope = $1 AND at > $2",
                    ))
                    .bind(scope)
                    .bind(since.millis())
                    .fetch_one(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok((n, oldest.map(Timestamp::from_millis)))
                }

                async fn record_sign_in_failure(
                    &self,
                    scopes: &[String],
                    at: Timestamp,
                    forget_before: Timestamp,
                ) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    for scope in scopes {
                        sqlx::query(&$sql(
                            "DELETE FROM sign_in_failures WHERE scope = $1 AND at < $2",
                        ))
                        .bind(scope)
                        .bind(forget_before.millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                        sqlx::query(&$sql(
                            "INSERT INTO sign_in_failures (scope, at) VALUES ($1, $2)",
                        ))
                        .bind(scope)
                        .bind(at.millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                    tx.commit().await.map_err(db)
                }

                async fn clear_sign_in_failures(&self, scope: &str) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    sqlx::query(&$sql("DELETE FROM sign_in_failures WHERE scope = $1"))
                        .bind(scope)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn create_passkey(&self, p: &PasskeyRecord, max: i64) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    lock_row(&mut tx, "accounts", "name", &p.account_id, None).await?;
                    let n: i64 = sqlx::query_scalar(&$sql(
                        "SELECT COUNT(*) FROM passkeys WHERE account_id = $1",
                    ))
                    .bind(&p.account_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    if n >= max {
                        return Err(Conflict::TooManyPasskeys.into());
                    }
                    sqlx::query(&$sql(&format!(
                        "INSERT INTO passkeys ({PASSKEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"
                    )))
                    .bind(&p.credential_id)
                    .bind(&p.account_id)
                    .bind(&p.name)
                    .bind(&p.passkey_json)
                    .bind(p.created_at.millis())
                    .bind(p.last_used_at.map(|t| t.millis()))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn passkey(&self, credential_id: &str) -> StoreResult<PasskeyRecord> {
                    let row: PasskeyRow = sqlx::query_as(&$sql(&format!(
                        "SELECT {PASSKEY_COLS} FROM passkeys WHERE credential_id = $1"
                    )))
                    .bind(credential_id)
                    .fetch_one(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(passkey_from(row))
                }

                async fn passkeys_of(&self, account_id: &str) -> StoreResult<Vec<PasskeyRecord>> {
                    let rows: Vec<PasskeyRow> = sqlx::query_as(&$sql(&format!(
                        "SELECT {PASSKEY_COLS} FROM passkeys
                         WHERE account_id = $1 ORDER BY created_at, credential_id"
                    )))
                    .bind(account_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    Ok(rows.into_iter().map(passkey_from).collect())
                }

                async fn passkey_used(
                    &self,
                    credential_id: &str,
                    passkey_json: &str,
                    at: Timestamp,
                ) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let n = sqlx::query(&$sql(
                        "UPDATE passkeys SET passkey_json = $1, last_used_at = $2
                         WHERE credential_id = $3",
                    ))
                    .bind(passkey_json)
                    .bind(at.millis())
                    .bind(credential_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    if n != 1 {
                        return Err(StoreError::NotFound);
                    }
                    tx.commit().await.map_err(db)
                }

                async fn delete_passkey(
                    &self,
                    account_id: &str,
                    credential_id: &str,
                ) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let n = sqlx::query(&$sql(
                        "DELETE FROM passkeys WHERE credential_id = $1 AND account_id = $2",
                    ))
                    .bind(credential_id)
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    if n != 1 {
                        return Err(StoreError::NotFound);
                    }
                    tx.commit().await.map_err(db)
                }

                async fn create_passkey_ceremony(
                    &self,
                    c: &PasskeyCeremony,
                    now: Timestamp,
                ) -> StoreResult<()> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    sqlx::query(&$sql("DELETE FROM passkey_ceremonies WHERE expires_at <= $1"))
                        .bind(now.millis())
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    if let Some(client) = &c.client {
                        let (open,): (i64,) = sqlx::query_as(&$sql(
                            "SELECT COUNT(*) FROM passkey_ceremonies WHERE client = $1",
                        ))
                        .bind(client)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?;
                        if open >= symbolon_core::limits::MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS {
                            return Err(StoreError::Conflict(Conflict::TooManyPasskeyCeremonies));
                        }
                    }
                    sqlx::query(&$sql(&format!(
                        "INSERT INTO passkey_ceremonies ({CEREMONY_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"
                    )))
                    .bind(&c.id)
                    .bind(&c.account_id)
                    .bind(&c.kind)
                    .bind(&c.state_json)
                    .bind(c.expires_at.millis())
                    .bind(&c.client)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)
                }

                async fn take_passkey_ceremony(
                    &self,
                    id: &str,
                    kind: &str,
                    now: Timestamp,
                ) -> StoreResult<Option<PasskeyCeremony>> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let row: Option<CeremonyRow> = sqlx::query_as(&$sql(&format!(
                        "DELETE FROM passkey_ceremonies WHERE id = $1 AND kind = $2
                         RETURNING {CEREMONY_COLS}"
                    )))
                    .bind(id)
                    .bind(kind)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
                    tx.commit().await.map_err(db)?;
                    Ok(row
                        .map(ceremony_from)
                        .filter(|c| c.expires_at.millis() > now.millis()))
                }
            }
        }
    };
}
