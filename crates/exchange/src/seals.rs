//! Sealed secrets, the exchange's side: it stores and relays, and checks what
//! it can (who may send which share to whom, the header's signature, the
//! payload's hash, sizes) — it never holds anything that opens a secret.
//! Sealing, wrapping and opening happen on the parties' machines
//! (`symbolon-seal`, driven by the CLI).

use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::Exchange;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use symbolon_api as api;
use symbolon_core::state::OrderStatus;
use symbolon_core::ErrorCode;
use symbolon_seal as seal;
use symbolon_store::{self as store, Conflict, StoreError};

const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

fn keys_out(k: &store::PartyKeys) -> api::PartyKeys {
    api::PartyKeys {
        account_id: k.account_id.clone(),
        age_recipient: k.age_recipient.clone(),
        signing_jwk: serde_json::from_str(&k.signing_jwk).unwrap_or(serde_json::Value::Null),
        fingerprint: seal::fingerprint(&k.age_recipient),
        updated_at: k.updated_at.to_rfc3339(),
    }
}

fn share_out(s: &store::SealedShare) -> api::SealedShare {
    api::SealedShare {
        id: s.id.clone(),
        pass_id: s.pass_id.clone(),
        sender_id: s.sender_id.clone(),
        kind: s.kind.clone(),
        offer_id: s.offer_id.clone(),
        order_id: s.order_id.clone(),
        wrapped: STANDARD.encode(&s.wrapped),
        created_at: s.created_at.to_rfc3339(),
    }
}

/// A wrapped share: base64 of an age file of bounded size.
fn wrapped(field: &str, b64: &str) -> ExchangeResult<Vec<u8>> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|_| ExchangeError::field(field, "not standard base64"))?;
    if bytes.len() > seal::MAX_WRAPPED_SHARE_BYTES || !bytes.starts_with(AGE_MAGIC) {
        return Err(ExchangeError::field(
            field,
            format!(
                "not an age file of at most {} bytes",
                seal::MAX_WRAPPED_SHARE_BYTES
            ),
        ));
    }
    Ok(bytes)
}

impl Exchange {
    /// Registers (or replaces) the caller's public keys.
    pub async fn set_party_keys(
        &self,
        me: &store::Account,
        req: &api::SetPartyKeys,
    ) -> ExchangeResult<api::PartyKeys> {
        seal::parse_recipient(&req.age_recipient).map_err(|e| {
            // A recipient of the right form whose checksum fails fits the schema.
            let r = req.age_recipient.trim();
            let form = r.len() == 62
                && r.starts_with("age1")
                && r[4..]
                    .bytes()
                    .all(|b| b"qpzry9x8gf2tvdw0s3jn54khce6mua7l".contains(&b));
            let refuse = if form {
                ExchangeError::value
            } else {
                ExchangeError::field
            };
            refuse("age_recipient", e.to_string())
        })?;
        let jwk: symbolon_pass::Jwk = serde_json::from_value(req.signing_jwk.clone())
            .map_err(|e| ExchangeError::field("signing_jwk", e.to_string()))?;
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return Err(ExchangeError::field(
                "signing_jwk",
                "only OKP/Ed25519 keys (kty OKP, crv Ed25519)",
            ));
        }
        public_bytes(&jwk)?;
        jwk.check()
            .map_err(|e| ExchangeError::value("signing_jwk", e.to_string()))?;
        let keys = store::PartyKeys {
            account_id: me.id.clone(),
            age_recipient: req.age_recipient.trim().to_string(),
            signing_jwk: serde_json::to_string(&symbolon_pass::Jwk::from_public_bytes(
                &public_bytes(&jwk)?,
            ))
            .map_err(ExchangeError::internal)?,
            updated_at: self.now(),
        };
        self.store.set_party_keys(&keys).await?;
        tracing::info!(account = %me.id, fingerprint = %seal::fingerprint(&keys.age_recipient), "party keys registered");
        Ok(keys_out(&keys))
    }

    pub async fn party_keys(&self, account_id: &str) -> ExchangeResult<api::PartyKeys> {
        match self.store.party_keys(account_id).await {
            Ok(k) => Ok(keys_out(&k)),
            Err(StoreError::NotFound) => Err(ExchangeError::new(
                ErrorCode::PartyKeysMissing,
                format!("{account_id} has not registered its keys"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The provider stores its pass's seal: the header must verify against
    /// the provider's registered signing key and name this pass, and the
    /// payload must be the one it signs.
    pub async fn put_seal(
        &self,
        me: &store::Account,
        pass_id: &str,
        req: &api::PassSeal,
    ) -> ExchangeResult<api::PassSeal> {
        let pass = self.own_pass(me, pass_id).await?;
        let keys = self.store.party_keys(&me.id).await.map_err(|_| {
            ExchangeError::new(
                ErrorCode::PartyKeysMissing,
                "register your keys first (`symbolon keys init`)",
            )
        })?;
        let jwk: symbolon_pass::Jwk =
            serde_json::from_str(&keys.signing_jwk).map_err(ExchangeError::internal)?;
        let header = seal::verify_header(&req.header, &symbolon_pass::Jwks { keys: vec![jwk] })
            .map_err(|e| ExchangeError::field("header", e.to_string()))?;
        if header.pass != pass.id {
            return Err(ExchangeError::field(
                "header",
                "the header names another pass",
            ));
        }
        if req.payload.len() > seal::MAX_PAYLOAD_BYTES * 4 / 3 + 4 {
            return Err(ExchangeError::field(
                "payload",
                format!("larger than {} bytes", seal::MAX_PAYLOAD_BYTES),
            ));
        }
        let payload = STANDARD
            .decode(req.payload.trim())
            .map_err(|_| ExchangeError::field("payload", "not standard base64"))?;
        seal::check_payload(&header, &payload)
            .map_err(|e| ExchangeError::field("payload", e.to_string()))?;
        let record = store::PassSeal {
            pass_id: pass.id.clone(),
            seal_id: header.seal.clone(),
            header_jws: req.header.clone(),
            payload,
            created_at: self.now(),
        };
        match self.store.put_seal(&record).await {
            Err(StoreError::Conflict(Conflict::Duplicate)) => {
                return Err(ExchangeError::new(
                    ErrorCode::AlreadySealed,
                    "the pass already carries a sealed secret",
                ))
            }
            other => other?,
        }
        tracing::info!(pass_id = %pass.id, seal = %header.seal, k = header.k, n = header.n, "pass sealed");
        Ok(req.clone())
    }

    /// A pass's seal (the payload is encrypted to an identity no one holds whole).
    pub async fn pass_seal(&self, pass_id: &str) -> ExchangeResult<api::PassSeal> {
        let s = self.sealed(pass_id).await?;
        Ok(api::PassSeal {
            header: s.header_jws,
            payload: STANDARD.encode(&s.payload),
        })
    }

    async fn sealed(&self, pass_id: &str) -> ExchangeResult<store::PassSeal> {
        match self.store.pass_seal(pass_id).await {
            Ok(s) => Ok(s),
            Err(StoreError::NotFound) => Err(ExchangeError::new(
                ErrorCode::NotSealed,
                "the pass carries no sealed secret",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The provider gives a holder of the pass its share.
    pub async fn share_to_holder(
        &self,
        me: &store::Account,
        pass_id: &str,
        req: &api::ShareToHolder,
    ) -> ExchangeResult<api::SealedShare> {
        self.own_pass(me, pass_id).await?;
        self.sealed(pass_id).await?;
        self.store
            .holding(&req.holder_id, pass_id)
            .await
            .map_err(|_| {
                ExchangeError::value("holder_id", "that account does not hold the pass")
            })?;
        let bytes = wrapped("wrapped", &req.wrapped)?;
        self.add_share(me, pass_id, &req.holder_id, "holder", None, None, bytes)
            .await
    }

    /// The holder of an offer sends the requester its share, re-wrapped.
    pub async fn share_with_offer(
        &self,
        me: &store::Account,
        offer_id: &str,
        req: &api::WrappedShares,
    ) -> ExchangeResult<api::SealedShares> {
        let offer = self.store.offer(offer_id).await.or_not_found("offer")?;
        if offer.holder_id != me.id {
            return Err(ExchangeError::forbidden("the offer is another holder's"));
        }
        self.sealed(&offer.pass_id).await?;
        if req.wrapped.len() != 1 {
            return Err(ExchangeError::field(
                "wrapped",
                "an offer carries exactly one share",
            ));
        }
        let sent = self
            .add_shares(
                me,
                &offer.pass_id,
                &offer.requester_id,
                "offer",
                Some(&offer.id),
                None,
                req,
            )
            .await;
        match sent {
            // The unique index: an offer carries one share.
            Err(e) if e.code == ErrorCode::InvalidState => Err(already_sent()),
            other => other,
        }
    }

    /// The provider releases its share(s) to the requester of a paid order.
    pub async fn release_shares(
        &self,
        me: &store::Account,
        order_id: &str,
        req: &api::WrappedShares,
    ) -> ExchangeResult<api::SealedShares> {
        let order = self.store.order(order_id).await.or_not_found("order")?;
        if order.provider_id != me.id {
            return Err(ExchangeError::forbidden("the order is another provider's"));
        }
        if order.status == OrderStatus::Placed {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                "the order is not paid yet",
            ));
        }
        self.sealed(&order.pass_id).await?;
        let sent = self
            .store
            .shares_for(&order.requester_id, &order.pass_id)
            .await?;
        if sent
            .iter()
            .any(|s| s.order_id.as_deref() == Some(order.id.as_str()))
        {
            return Err(already_sent());
        }
        self.add_shares(
            me,
            &order.pass_id,
            &order.requester_id,
            "release",
            None,
            Some(&order.id),
            req,
        )
        .await
    }

    /// The shares wrapped to me for a pass.
    pub async fn my_shares(
        &self,
        me: &store::Account,
        pass_id: &str,
    ) -> ExchangeResult<api::SealedShares> {
        let items = self.store.shares_for(&me.id, pass_id).await?;
        Ok(api::SealedShares {
            items: items.iter().map(share_out).collect(),
        })
    }

    /// The keys of the requester of an offer (for its holder, to re-wrap a share).
    pub async fn offer_requester_keys(
        &self,
        me: &store::Account,
        offer_id: &str,
    ) -> ExchangeResult<api::PartyKeys> {
        let offer = self.store.offer(offer_id).await.or_not_found("offer")?;
        if offer.holder_id != me.id && offer.requester_id != me.id {
            return Err(ExchangeError::forbidden("the offer is other accounts'"));
        }
        self.party_keys(&offer.requester_id).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn add_shares(
        &self,
        me: &store::Account,
        pass_id: &str,
        to: &str,
        kind: &str,
        offer_id: Option<&str>,
        order_id: Option<&str>,
        req: &api::WrappedShares,
    ) -> ExchangeResult<api::SealedShares> {
        if req.wrapped.is_empty() || req.wrapped.len() > seal::MAX_SHARES as usize {
            return Err(ExchangeError::field(
                "wrapped",
                format!("1 to {} shares", seal::MAX_SHARES),
            ));
        }
        // All checked before any is stored.
        let all = req
            .wrapped
            .iter()
            .enumerate()
            .map(|(i, w)| wrapped(&format!("wrapped[{i}]"), w))
            .collect::<ExchangeResult<Vec<_>>>()?;
        let mut items = Vec::new();
        for w in all {
            items.push(
                self.add_share(me, pass_id, to, kind, offer_id, order_id, w)
                    .await?,
            );
        }
        Ok(api::SealedShares { items })
    }

    #[allow(clippy::too_many_arguments)]
    async fn add_share(
        &self,
        me: &store::Account,
        pass_id: &str,
        to: &str,
        kind: &str,
        offer_id: Option<&str>,
        order_id: Option<&str>,
        wrapped: Vec<u8>,
    ) -> ExchangeResult<api::SealedShare> {
        let share = store::SealedShare {
            id: self.new_id("shr"),
            pass_id: pass_id.to_string(),
            recipient_id: to.to_string(),
            sender_id: me.id.clone(),
            kind: kind.to_string(),
            offer_id: offer_id.map(str::to_string),
            order_id: order_id.map(str::to_string),
            wrapped,
            created_at: self.now(),
        };
        self.store.add_share(&share).await?;
        if kind == "release" {
            metrics::counter!(crate::metrics::SHARES_RELEASED).increment(1);
        }
        tracing::info!(pass_id, kind, to, "sealed share relayed");
        Ok(share_out(&share))
    }
}

fn already_sent() -> ExchangeError {
    ExchangeError::new(
        ErrorCode::SharesAlreadySent,
        "the share(s) for this offer or order were already sent",
    )
}

fn public_bytes(jwk: &symbolon_pass::Jwk) -> ExchangeResult<[u8; 32]> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    URL_SAFE_NO_PAD
        .decode(&jwk.x)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| ExchangeError::field("signing_jwk", "x is not 32 base64url bytes"))
}
