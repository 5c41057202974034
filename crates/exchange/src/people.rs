//! Accounts for people: sign-up with an email and a password (the same
//! account, and the same checks, as `POST /v1/accounts` registration),
//! sign-in to a server-side session, sign-out, the signed-in devices, API
//! keys made and revoked by their owner, and the CSRF tokens of web forms.
//!
//! * Passwords: argon2id with the `argon2` crate's defaults (m = 19 MiB,
//!   t = 2, p = 1: OWASP's minimum), hashed and verified on the blocking
//!   pool. `MIN_PASSWORD_CHARS`..=`MAX_PASSWORD_CHARS` characters, no
//!   composition rules.
//! * Sign-in answers one generic `invalid_credentials` for an unknown email
//!   and a wrong password, after the same work (a verification against a
//!   dummy hash when the email is unknown).
//! * Throttle: failed sign-ins are counted in the store (so across replicas)
//!   per email and per client address over `SIGN_IN_WINDOW_SECONDS`; with
//!   `MAX_SIGN_IN_FAILURES` in the window either way, sign-in is refused
//!   (`too_many_sign_ins`) before any password is checked, until the oldest
//!   failure leaves the window. A success forgets its email's failures, never
//!   the address's. Against lockout used as a denial of service: the lock is
//!   a sliding window that never escalates (an attacker must keep failing
//!   to keep it), one address can lock at most one email per window (its own
//!   limit stops it first), and a locked account keeps its live sessions
//!   and API keys.
//! * Sessions: a random 256-bit token in the cookie, only its SHA-256 in the
//!   store; a new one at every sign-in; an absolute expiry
//!   (`WEB_SESSION_TTL_SECONDS`) and an inactivity expiry
//!   (`WEB_SESSION_IDLE_SECONDS`, moved at most once a minute).
//! * API keys: as many as `MAX_API_KEYS_PER_ACCOUNT`, shown once, stored by
//!   SHA-256 with a label and their last four characters. The registration
//!   key of `POST /v1/accounts` keeps authenticating and is not among them:
//!   it cannot be revoked from the page (an account made on the web never
//!   saw its own).

use crate::error::{ExchangeError, ExchangeResult};
use crate::service::{hash_api_key, new_api_key, random_secret};
use crate::Exchange;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde_json::json;
use std::sync::LazyLock;
use symbolon_api as api;
use symbolon_core::demand::validate_text;
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::{ErrorCode, Timestamp};
use symbolon_store::{self as store, StoreError};

/// One message for an unknown email and a wrong password.
pub const WRONG_EMAIL_OR_PASSWORD: &str = "wrong email or password";

/// What a person gives to sign up.
#[derive(Clone)]
pub struct SignUp {
    pub name: String,
    pub email: String,
    pub password: String,
    pub roles: Vec<api::Role>,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp")
            .field("name", &self.name)
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("roles", &self.roles)
            .finish()
    }
}

/// Where a sign-in comes from: the client's address (counted by the
/// throttle) and its `User-Agent` (kept, truncated, for the devices list).
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

/// A signed-in session as its account sees it.
#[derive(Debug, Clone)]
pub struct Device {
    pub session: store::WebSession,
    /// The session of the request that lists it.
    pub current: bool,
}

/// An email as stored: trimmed, at most `MAX_EMAIL_CHARS` characters, one
/// `@` with something on each side, no spaces or control characters.
pub fn validate_email(email: &str) -> ExchangeResult<String> {
    let e = email.trim();
    let bad = |m: &str| Err(ExchangeError::field("email", m));
    if e.is_empty() {
        return bad("must not be empty");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return bad(&format!("must be at most {MAX_EMAIL_CHARS} characters"));
    }
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces");
    }
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(e.to_string())
        }
        _ => bad("must be an address like name@example.org"),
    }
}

/// A new password: `MIN_PASSWORD_CHARS`..=`MAX_PASSWORD_CHARS` characters,
/// whatever they are.
pub fn validate_password(password: &str) -> ExchangeResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ExchangeError::field(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(ExchangeError::field(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// An argon2id PHC string of `password` (blocking: call it off the async
/// threads, as [`hash_password`] does).
pub fn hash_password_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&random_secret()[..16])?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash nobody's password matches, verified against when the email is
/// unknown so that both answers take the same work.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random: String = random_secret().iter().map(|b| format!("{b:02x}")).collect();
    hash_password_blocking(&random).unwrap_or_default()
});

async fn hash_password(password: String) -> ExchangeResult<String> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .map_err(ExchangeError::internal)?
        .map_err(ExchangeError::internal)
}

async fn verify_password(password: String, hash: Option<String>) -> ExchangeResult<bool> {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_blocking(&password, &h),
        None => {
            verify_blocking(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(ExchangeError::internal)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Exchange {
    /// A login to write with a new account: the email checked, the
    /// password checked and hashed (argon2id, off the async threads).
    pub(crate) async fn new_login(
        &self,
        email: &str,
        password: &str,
    ) -> ExchangeResult<store::NewLogin> {
        let email = validate_email(email)?;
        validate_password(password)?;
        let password_hash = hash_password(password.to_string()).await?;
        Ok(store::NewLogin {
            email_lower: email.to_lowercase(),
            email,
            password_hash,
        })
    }

    /// Signs a person up: the account `POST /v1/accounts` would make (same
    /// checks, same roles), with an email and password to sign in with, and
    /// signs it in. Returns the account and the session's token.
    pub async fn sign_up(
        &self,
        req: &SignUp,
        client: &Client,
    ) -> ExchangeResult<(store::Account, String)> {
        let (name, roles) = self.registration(&api::CreateAccount {
            name: req.name.clone(),
            roles: req.roles.clone(),
            login: None,
        })?;
        let login = self.new_login(&req.email, &req.password).await?;
        let created = self
            .new_account(name, roles, Some(login))
            .await
            .map_err(|e| match e.code {
                ErrorCode::EmailTaken => e.with_details(json!({"field": "email"})),
                _ => e,
            })?;
        let account = self.store.account(&created.id).await?;
        let token = self.new_session(&account.id, client).await?;
        Ok((account, token))
    }

    /// Signs in with an email and a password: a new session's token. An
    /// unknown email and a wrong password are one `invalid_credentials`;
    /// `too_many_sign_ins` after `MAX_SIGN_IN_FAILURES` failures of the
    /// email or from the address within the window.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &Client,
    ) -> ExchangeResult<(store::Account, String)> {
        let email_lower = email.trim().to_lowercase();
        let scopes = [format!("email:{email_lower}"), format!("ip:{}", client.ip)];
        self.sign_in_allowed(&scopes).await?;
        let login = match self.store.login_by_email(&email_lower).await {
            Ok(l) => Some(l),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let ok = verify_password(
            password.to_string(),
            login.as_ref().map(|l| l.password_hash.clone()),
        )
        .await?;
        let Some(login) = login.filter(|_| ok) else {
            self.sign_in_failed(&scopes).await?;
            return Err(ExchangeError::new(
                ErrorCode::InvalidCredentials,
                WRONG_EMAIL_OR_PASSWORD,
            ));
        };
        self.store.clear_sign_in_failures(&scopes[0]).await?;
        let account = self.store.account(&login.account_id).await?;
        let token = self.new_session(&account.id, client).await?;
        tracing::info!(account_id = %account.id, "signed in on the web");
        Ok((account, token))
    }

    /// Refuses (`too_many_sign_ins`) when any of `scopes` failed
    /// `MAX_SIGN_IN_FAILURES` times within the window.
    pub(crate) async fn sign_in_allowed(&self, scopes: &[String]) -> ExchangeResult<()> {
        let now = self.now();
        let window_ms = SIGN_IN_WINDOW_SECONDS * 1000;
        // A failure counts for the window after it: while `now - window < at`.
        let since = Timestamp::from_millis(now.millis() - window_ms);
        for scope in scopes {
            let (failures, oldest) = self.store.sign_in_failures(scope, since).await?;
            if failures >= MAX_SIGN_IN_FAILURES {
                let free_at = oldest.map_or(now.millis() + window_ms, |t| t.millis() + window_ms);
                let secs = ((free_at - now.millis() + 999) / 1000).max(1);
                let minutes = (secs + 59) / 60;
                return Err(ExchangeError::new(
                    ErrorCode::TooManySignIns,
                    format!("too many failed sign-ins; try again in {minutes} minutes"),
                )
                .with_details(json!({"retry_after_seconds": secs, "minutes": minutes})));
            }
        }
        Ok(())
    }

    /// Counts a failed sign-in against each of `scopes`.
    pub(crate) async fn sign_in_failed(&self, scopes: &[String]) -> ExchangeResult<()> {
        let now = self.now();
        let forget = Timestamp::from_millis(now.millis() - SIGN_IN_WINDOW_SECONDS * 1000);
        Ok(self
            .store
            .record_sign_in_failure(scopes, now, forget)
            .await?)
    }

    pub(crate) async fn new_session(
        &self,
        account_id: &str,
        client: &Client,
    ) -> ExchangeResult<String> {
        let now = self.now();
        let token = hex(&random_secret());
        let session = store::WebSession {
            id: self.new_id(prefix::SESSION),
            token_hash: hash_api_key(&token),
            account_id: account_id.to_string(),
            created_at: now,
            last_seen_at: now,
            expires_at: now.plus_seconds(WEB_SESSION_TTL_SECONDS),
            idle_expires_at: now.plus_seconds(WEB_SESSION_IDLE_SECONDS),
            user_agent: truncate(&client.user_agent, MAX_USER_AGENT_CHARS),
            revoked_at: None,
        };
        self.store.create_session(&session).await?;
        Ok(token)
    }

    /// The live session of a token, and its account.
    pub async fn session(&self, token: &str) -> Option<(store::Account, store::WebSession)> {
        if token.is_empty() {
            return None;
        }
        let now = self.now();
        let session = match self
            .store
            .live_session(
                &hash_api_key(token),
                now,
                now.plus_seconds(WEB_SESSION_IDLE_SECONDS),
            )
            .await
        {
            Ok(s) => s?,
            Err(e) => {
                tracing::error!(error = %e, "reading a web session");
                return None;
            }
        };
        let account = self.store.account(&session.account_id).await.ok()?;
        Some((account, session))
    }

    /// The account of a live session token (expired or revoked: none).
    pub async fn web_session(&self, token: &str) -> Option<store::Account> {
        self.session(token).await.map(|(a, _)| a)
    }

    /// Forgets sessions that can no longer be used: expired ones, and those
    /// revoked more than [`REVOKED_SESSION_KEEP_SECONDS`] ago (the sweeper).
    pub async fn prune_web_sessions(&self) -> ExchangeResult<u64> {
        let now = self.now();
        Ok(self
            .store
            .prune_web_sessions(now, now.plus_seconds(-REVOKED_SESSION_KEEP_SECONDS))
            .await?)
    }

    /// Ends the session of a token (an unknown or ended one: nothing to do).
    pub async fn sign_out(&self, token: &str) -> ExchangeResult<()> {
        if let Some((account, session)) = self.session(token).await {
            self.store
                .revoke_session(&account.id, &session.id, self.now())
                .await?;
        }
        Ok(())
    }

    /// The email `me` signs in with (none for an API-only account).
    pub async fn login_email(&self, me: &store::Account) -> ExchangeResult<Option<String>> {
        match self.store.login_of(&me.id).await {
            Ok(l) => Ok(Some(l.email)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The signed-in devices of `me` (its live sessions, newest first),
    /// marking the one of `current_token`.
    pub async fn devices(
        &self,
        me: &store::Account,
        current_token: &str,
    ) -> ExchangeResult<Vec<Device>> {
        let current = hash_api_key(current_token);
        Ok(self
            .store
            .sessions_of(&me.id, self.now())
            .await?
            .into_iter()
            .map(|session| Device {
                current: session.token_hash == current,
                session,
            })
            .collect())
    }

    /// Signs one of `me`'s devices out.
    pub async fn revoke_device(&self, me: &store::Account, session_id: &str) -> ExchangeResult<()> {
        match self
            .store
            .revoke_session(&me.id, session_id, self.now())
            .await
        {
            Err(StoreError::NotFound) => Err(ExchangeError::not_found("session")),
            other => Ok(other?),
        }
    }

    /// Signs every device of `me` out but the one of `current_token`.
    pub async fn revoke_other_devices(
        &self,
        me: &store::Account,
        current_token: &str,
    ) -> ExchangeResult<u64> {
        let Some((_, current)) = self.session(current_token).await else {
            return Err(ExchangeError::new(ErrorCode::Unauthorized, "not signed in"));
        };
        Ok(self
            .store
            .revoke_other_sessions(&me.id, &current.id, self.now())
            .await?)
    }

    /// Makes an API key for `me`, labelled: the record and the key, which is
    /// shown this once.
    pub async fn create_api_key(
        &self,
        me: &store::Account,
        label: &str,
    ) -> ExchangeResult<(store::ApiKeyRecord, String)> {
        let label = validate_text("label", label, MAX_API_KEY_LABEL_CHARS, false)?;
        let key = new_api_key();
        let hint: String = key
            .chars()
            .skip(key.chars().count().saturating_sub(4))
            .collect();
        let record = store::ApiKeyRecord {
            id: self.new_id(prefix::API_KEY),
            key_hash: hash_api_key(&key),
            account_id: me.id.clone(),
            label,
            hint,
            created_at: self.now(),
            revoked_at: None,
        };
        self.store
            .create_api_key(&record, MAX_API_KEYS_PER_ACCOUNT)
            .await?;
        tracing::info!(account_id = %me.id, key_id = %record.id, "API key created");
        Ok((record, key))
    }

    /// `me`'s API keys (not the registration key), oldest first.
    pub async fn api_keys(&self, me: &store::Account) -> ExchangeResult<Vec<store::ApiKeyRecord>> {
        Ok(self.store.api_keys_of(&me.id).await?)
    }

    /// Revokes one of `me`'s API keys: it stops authenticating at once.
    pub async fn revoke_api_key(&self, me: &store::Account, id: &str) -> ExchangeResult<()> {
        match self.store.revoke_api_key(&me.id, id, self.now()).await {
            Err(StoreError::NotFound) => Err(ExchangeError::not_found("API key")),
            other => Ok(other?),
        }
    }

    // ------------------------------------------------------------ web forms

    /// The CSRF token of forms posted with a session (or a pre-session nonce).
    pub fn csrf_token(&self, session: &str) -> String {
        self.config.master_key.mac("csrf", session)
    }

    pub fn csrf_ok(&self, session: &str, token: &str) -> bool {
        self.config.master_key.verify_mac("csrf", session, token)
    }

    /// A random nonce (for the CSRF token of forms before sign-in).
    pub fn nonce(&self) -> String {
        random_secret()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_at_their_edges() {
        assert_eq!(
            validate_email("  Ann@Example.org ").unwrap(),
            "Ann@Example.org"
        );
        let at_limit = format!("{}@example.org", "a".repeat(MAX_EMAIL_CHARS - 12));
        assert_eq!(at_limit.chars().count(), MAX_EMAIL_CHARS);
        assert!(validate_email(&at_limit).is_ok());
        let over = format!("a{at_limit}");
        assert!(validate_email(&over).is_err());
        for bad in [
            "",
            "ann",
            "@example.org",
            "ann@",
            "a@b@c",
            "an n@example.org",
        ] {
            let e = validate_email(bad).unwrap_err();
            assert_eq!(e.details.unwrap()["field"], "email", "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_checked_at_their_edges() {
        assert!(validate_password(&"x".repeat(MIN_PASSWORD_CHARS - 1)).is_err());
        assert!(validate_password(&"x".repeat(MIN_PASSWORD_CHARS)).is_ok());
        // Characters, not bytes; no composition rules.
        assert!(validate_password(&"密".repeat(MIN_PASSWORD_CHARS)).is_ok());
        assert!(validate_password(&"x".repeat(MAX_PASSWORD_CHARS)).is_ok());
        let e = validate_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).unwrap_err();
        assert_eq!(e.details.unwrap()["field"], "password");
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify_only_themselves() {
        let h = hash_password_blocking("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("correct horse", &h));
        assert!(!verify_blocking("correct horsE", &h));
        assert!(!verify_blocking("correct horse", &DUMMY_HASH));
        assert_ne!(
            h,
            hash_password_blocking("correct horse").unwrap(),
            "salted"
        );
    }

    #[test]
    fn user_agents_are_truncated_by_characters() {
        let ua = "界".repeat(MAX_USER_AGENT_CHARS + 5);
        assert_eq!(
            truncate(&ua, MAX_USER_AGENT_CHARS).chars().count(),
            MAX_USER_AGENT_CHARS
        );
    }
}
