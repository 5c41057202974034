//! Passkeys (WebAuthn, with `webauthn-rs`) for web accounts: a signed-in
//! account registers passkeys (at most `MAX_PASSKEYS_PER_ACCOUNT`, each
//! named), lists and removes them; anyone signs in with one without typing
//! an email (a discoverable credential: the browser offers the passkeys it
//! holds for this site, the credential id says whose it is).
//!
//! * Relying party: the host of `public_url` as its id, `public_url` as the
//!   origin, named "Symbolon"; built once with the exchange. Without a
//!   usable `public_url` (an IP address cannot be an RP id) passkeys are
//!   unavailable (`passkey_invalid`).
//! * Each ceremony's state stays on the server, in the store
//!   (`passkey_ceremonies`), under a random id the browser sends back; it is
//!   taken exactly once and refused after `PASSKEY_CEREMONY_TTL_SECONDS`
//!   (`passkey_ceremony_invalid`).
//! * A sign-in makes a web session exactly as a password does; failures
//!   count against the client address's sign-in throttle.
//! * Registration asks for a resident (discoverable) key, with user
//!   verification; the authenticator's counter is kept up to date.

use crate::error::{ExchangeError, ExchangeResult};
use crate::people::Client;
use crate::service::random_secret;
use crate::Exchange;
use serde_json::Value;
use sha2::{Digest, Sha256};
use symbolon_core::demand::validate_text;
use symbolon_core::limits::{
    MAX_PASSKEYS_PER_ACCOUNT, MAX_PASSKEY_NAME_CHARS, PASSKEY_CEREMONY_TTL_SECONDS,
};
use symbolon_core::ErrorCode;
use symbolon_store::{self as store, StoreError};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

const REGISTER: &str = "register";
const AUTHENTICATE: &str = "authenticate";

/// The relying party of `public_url` (none when it cannot be one).
pub(crate) fn relying_party(public_url: &str) -> Option<Webauthn> {
    let origin = Url::parse(public_url).ok()?;
    let host = origin.host_str()?.to_string();
    match WebauthnBuilder::new(&host, &origin).and_then(|b| b.rp_name("Symbolon").build()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, public_url, "passkeys unavailable for this public URL");
            None
        }
    }
}

/// The WebAuthn user handle of an account: not its id, but derived from it.
fn user_handle(account_id: &str) -> Uuid {
    let digest = Sha256::digest(account_id.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(b)
}

/// A credential id as stored: base64url without padding (as the browser's `id`).
fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ceremony_invalid() -> ExchangeError {
    ExchangeError::new(
        ErrorCode::PasskeyCeremonyInvalid,
        "the passkey ceremony is unknown, expired or already finished; start again",
    )
}

fn passkey_invalid(why: impl std::fmt::Display) -> ExchangeError {
    ExchangeError::new(
        ErrorCode::PasskeyInvalid,
        format!("the passkey's answer was refused: {why}"),
    )
}

/// A passkey's name: trimmed, 1..=`MAX_PASSKEY_NAME_CHARS` characters.
pub fn validate_passkey_name(name: &str) -> ExchangeResult<String> {
    Ok(validate_text("name", name, MAX_PASSKEY_NAME_CHARS, false)?)
}

impl Exchange {
    fn webauthn(&self) -> ExchangeResult<&Webauthn> {
        self.webauthn
            .as_ref()
            .ok_or_else(|| passkey_invalid("passkeys need a public URL with a host name"))
    }

    async fn new_ceremony(
        &self,
        account_id: Option<&str>,
        kind: &str,
        state: &impl serde::Serialize,
        client: &Client,
    ) -> ExchangeResult<String> {
        let now = self.now();
        let id = hex(&random_secret());
        let ceremony = store::PasskeyCeremony {
            id: id.clone(),
            account_id: account_id.map(str::to_string),
            kind: kind.to_string(),
            state_json: serde_json::to_string(state).map_err(ExchangeError::internal)?,
            expires_at: now.plus_seconds(PASSKEY_CEREMONY_TTL_SECONDS),
            client: (!client.ip.is_empty()).then(|| client.ip.clone()),
        };
        self.store.create_passkey_ceremony(&ceremony, now).await?;
        Ok(id)
    }

    async fn take_ceremony(&self, id: &str, kind: &str) -> ExchangeResult<store::PasskeyCeremony> {
        if id.is_empty() || id.len() > 128 {
            return Err(ceremony_invalid());
        }
        self.store
            .take_passkey_ceremony(id, kind, self.now())
            .await?
            .ok_or_else(ceremony_invalid)
    }

    /// Starts registering a passkey for `me`: the ceremony's id and the
    /// options for `navigator.credentials.create` (JSON).
    pub async fn start_passkey_registration(
        &self,
        me: &store::Account,
        client: &Client,
    ) -> ExchangeResult<(String, Value)> {
        let wa = self.webauthn()?;
        let existing = self.store.passkeys_of(&me.id).await?;
        if existing.len() >= usize::try_from(MAX_PASSKEYS_PER_ACCOUNT).unwrap_or(usize::MAX) {
            return Err(StoreError::Conflict(store::Conflict::TooManyPasskeys).into());
        }
        let exclude = existing
            .iter()
            .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey_json).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let name = self
            .login_email(me)
            .await?
            .unwrap_or_else(|| me.name.clone());
        let (ccr, state) = wa
            .start_passkey_registration(user_handle(&me.id), &name, &me.name, Some(exclude))
            .map_err(ExchangeError::internal)?;
        let mut options = serde_json::to_value(ccr).map_err(ExchangeError::internal)?;
        // A discoverable credential, so that signing in needs no email.
        let selection = &mut options["publicKey"]["authenticatorSelection"];
        selection["residentKey"] = "required".into();
        selection["requireResidentKey"] = true.into();
        let id = self
            .new_ceremony(Some(&me.id), REGISTER, &state, client)
            .await?;
        Ok((id, options))
    }

    /// Finishes registering: checks the browser's answer (JSON) against the
    /// ceremony `ceremony_id` of `me` and stores the passkey, named.
    pub async fn finish_passkey_registration(
        &self,
        me: &store::Account,
        ceremony_id: &str,
        credential: &Value,
        name: &str,
    ) -> ExchangeResult<store::PasskeyRecord> {
        let wa = self.webauthn()?;
        let name = validate_passkey_name(name)?;
        let ceremony = self.take_ceremony(ceremony_id, REGISTER).await?;
        if ceremony.account_id.as_deref() != Some(me.id.as_str()) {
            return Err(ceremony_invalid());
        }
        let state: PasskeyRegistration =
            serde_json::from_str(&ceremony.state_json).map_err(ExchangeError::internal)?;
        let reg: RegisterPublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(passkey_invalid)?;
        let passkey = wa
            .finish_passkey_registration(&reg, &state)
            .map_err(passkey_invalid)?;
        let record = store::PasskeyRecord {
            credential_id: b64url(passkey.cred_id()),
            account_id: me.id.clone(),
            name,
            passkey_json: serde_json::to_string(&passkey).map_err(ExchangeError::internal)?,
            created_at: self.now(),
            last_used_at: None,
        };
        match self
            .store
            .create_passkey(&record, MAX_PASSKEYS_PER_ACCOUNT)
            .await
        {
            Err(StoreError::Conflict(store::Conflict::Duplicate)) => {
                Err(passkey_invalid("this passkey is registered already"))
            }
            other => other.map_err(ExchangeError::from),
        }?;
        tracing::info!(account_id = %me.id, "passkey added");
        Ok(record)
    }

    /// The passkeys of `me`, oldest first.
    pub async fn passkeys(&self, me: &store::Account) -> ExchangeResult<Vec<store::PasskeyRecord>> {
        Ok(self.store.passkeys_of(&me.id).await?)
    }

    /// Removes one of `me`'s passkeys.
    pub async fn remove_passkey(
        &self,
        me: &store::Account,
        credential_id: &str,
    ) -> ExchangeResult<()> {
        match self.store.delete_passkey(&me.id, credential_id).await {
            Err(StoreError::NotFound) => Err(ExchangeError::not_found("passkey")),
            other => Ok(other?),
        }
    }

    /// Starts a sign-in with a passkey (any of this site's the browser
    /// holds): the ceremony's id and the options for
    /// `navigator.credentials.get` (JSON).
    pub async fn start_passkey_sign_in(&self, client: &Client) -> ExchangeResult<(String, Value)> {
        let wa = self.webauthn()?;
        let (mut rcr, state) = wa
            .start_discoverable_authentication()
            .map_err(ExchangeError::internal)?;
        // A modal request, not conditional mediation (autofill).
        rcr.mediation = None;
        let id = self
            .new_ceremony(None, AUTHENTICATE, &state, client)
            .await?;
        Ok((
            id,
            serde_json::to_value(rcr).map_err(ExchangeError::internal)?,
        ))
    }

    /// Finishes a sign-in with a passkey: a new session's token, as
    /// [`Exchange::sign_in`] gives. A refused answer counts as a failed
    /// sign-in of the client's address.
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony_id: &str,
        credential: &Value,
        client: &Client,
    ) -> ExchangeResult<(store::Account, String)> {
        let wa = self.webauthn()?;
        let scopes = [format!("ip:{}", client.ip)];
        self.sign_in_allowed(&scopes).await?;
        let ceremony = self.take_ceremony(ceremony_id, AUTHENTICATE).await?;
        let state: DiscoverableAuthentication =
            serde_json::from_str(&ceremony.state_json).map_err(ExchangeError::internal)?;
        match self.verify_passkey(wa, state, credential).await {
            Ok(account_id) => {
                let account = self.store.account(&account_id).await?;
                let token = self.new_session(&account.id, client).await?;
                tracing::info!(account_id = %account.id, "signed in with a passkey");
                Ok((account, token))
            }
            Err(e) if e.code == ErrorCode::PasskeyInvalid => {
                self.sign_in_failed(&scopes).await?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// The account whose passkey answered, its counter and last use updated.
    async fn verify_passkey(
        &self,
        wa: &Webauthn,
        state: DiscoverableAuthentication,
        credential: &Value,
    ) -> ExchangeResult<String> {
        let cred: PublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(passkey_invalid)?;
        let (handle, cred_id) = wa
            .identify_discoverable_authentication(&cred)
            .map_err(passkey_invalid)?;
        let cred_id = b64url(cred_id);
        let record = match self.store.passkey(&cred_id).await {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Err(passkey_invalid("unknown passkey")),
            Err(e) => return Err(e.into()),
        };
        if user_handle(&record.account_id) != handle {
            return Err(passkey_invalid("the passkey's user does not match"));
        }
        let mut passkey: Passkey =
            serde_json::from_str(&record.passkey_json).map_err(ExchangeError::internal)?;
        let result = wa
            .finish_discoverable_authentication_v2(&cred, state, &passkey)
            .map_err(passkey_invalid)?;
        passkey.update_credential(&result);
        let json = serde_json::to_string(&passkey).map_err(ExchangeError::internal)?;
        self.store
            .passkey_used(&record.credential_id, &json, self.now())
            .await?;
        Ok(record.account_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_at_the_edge() {
        assert_eq!(validate_passkey_name("  Laptop ").unwrap(), "Laptop");
        let longest = "x".repeat(MAX_PASSKEY_NAME_CHARS);
        assert_eq!(validate_passkey_name(&longest).unwrap(), longest);
        assert!(validate_passkey_name(&format!("{longest}x")).is_err());
        assert!(validate_passkey_name("   ").is_err());
    }

    #[test]
    fn the_relying_party_is_the_public_url_host() {
        assert!(relying_party("http://localhost:8080").is_some());
        assert!(relying_party("https://symbolon.example").is_some());
        assert!(relying_party("not a url").is_none());
        assert_ne!(user_handle("acc_1"), user_handle("acc_2"));
        assert_eq!(user_handle("acc_1"), user_handle("acc_1"));
    }
}
