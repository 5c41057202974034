//! Passes anyone can verify: published keys and their rotation, revocation
//! through a status list, unit ownership as a signed hash chain, orders
//! placed on a pass directly (its actions and its page), and web sessions
//! for the pass page.

use crate::convert::{self, pass_url};
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::service::{on_sale, one_click_method, product_price, require, usable};
use crate::Exchange;
use serde_json::{json, Value};
use symbolon_api as api;
use symbolon_core::demand::validate_range;
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::state::{PassMode, Role};
use symbolon_core::{ErrorCode, Timestamp};
use symbolon_pass::{Jwk, Jwks};
use symbolon_store::{self as store, Conflict, StoreError};

/// What a pass page shows.
#[derive(Debug, Clone)]
pub struct PassPage {
    pub pass: api::Pass,
    pub product: api::Product,
    pub provider_name: String,
    pub activity: store::PassActivity,
    /// The crediting holder (`?via=`), when it holds the pass: `(id, name)`.
    pub via: Option<(String, String)>,
    pub issuer_metadata_url: String,
    pub jwks_url: String,
    /// How many can be bought through this page: the product's stock, and
    /// for a unique pass no more than its unsold units (the crediting
    /// holder's, with `?via=`).
    pub available: i64,
}

impl Exchange {
    pub(crate) fn status_list_url(&self, provider_id: &str) -> String {
        format!("{}/status/revocation", self.issuer_id(provider_id))
    }

    fn unit_id(&self, pass_id: &str, unit_no: i64) -> String {
        format!(
            "{}/units/{unit_no}",
            pass_url(&self.config.public_url, pass_id)
        )
    }

    async fn provider(&self, provider_id: &str) -> ExchangeResult<store::Account> {
        let account = self
            .store
            .account(provider_id)
            .await
            .or_not_found("provider")?;
        if !account.has_role(Role::Provider) {
            return Err(ExchangeError::not_found("provider"));
        }
        Ok(account)
    }

    /// How an account appears in a unit's public history and signed
    /// statements: the holder the unit was granted to by its id (holders are
    /// public), a buyer by a pseudonym — stable within the pass (so the chain
    /// links), unlinkable across passes, and not reversible without the
    /// master key.
    pub(crate) fn unit_party(
        &self,
        pass_id: &str,
        account_id: &str,
        holder: Option<&str>,
    ) -> String {
        if holder == Some(account_id) {
            return account_id.to_string();
        }
        let tag = self
            .config
            .master_key
            .mac("unit-owner", &format!("{pass_id}\u{0}{account_id}"));
        format!("own_{}", &tag[..tag.len().min(22)])
    }

    /// Signs statement `seq` of a unit: `from` hands it to `to`; `prev_jws`
    /// is the statement before (the pass itself for the first). The
    /// statement names the parties as [`Self::unit_party`] does; a later
    /// statement is from whoever the one before was to, as it was signed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn signed_transfer(
        &self,
        pass: &store::Pass,
        unit_no: i64,
        seq: i64,
        from: &str,
        to: &str,
        prev_jws: &str,
        now: Timestamp,
        holder: Option<&str>,
    ) -> ExchangeResult<store::UnitTransfer> {
        let from_party = match seq {
            1 => self.unit_party(&pass.id, from, holder),
            _ => statement_party(prev_jws, "to")
                .unwrap_or_else(|| self.unit_party(&pass.id, from, holder)),
        };
        let to_party = self.unit_party(&pass.id, to, holder);
        let key = self.signing_key(&pass.provider_id).await?;
        let id = self.new_id(prefix::TRANSFER);
        let unit_id = self.unit_id(&pass.id, unit_no);
        let pass_id = pass_url(&self.config.public_url, &pass.id);
        let issuer = self.issuer_id(&pass.provider_id);
        let prev = symbolon_pass::link_hash(prev_jws);
        let jws = symbolon_pass::sign_transfer(
            &symbolon_pass::Transfer {
                id: &id,
                unit_id: &unit_id,
                pass_id: &pass_id,
                issuer_id: &issuer,
                seq: seq as u32,
                from: &from_party,
                to: &to_party,
                prev: &prev,
                at: now,
            },
            &key,
        );
        Ok(store::UnitTransfer {
            id,
            pass_id: pass.id.clone(),
            unit_no,
            seq,
            from_id: from.to_string(),
            to_id: to.to_string(),
            jws,
            created_at: now,
        })
    }

    // ------------------------------------------------------------ keys

    /// The published keys: every active key, and every retired one while a
    /// pass issued before its retirement has not expired — the key signed
    /// that pass, or statements and licences about it (transfers, licences
    /// and status lists are signed by whichever key was active).
    pub async fn jwks(&self, provider_id: &str) -> ExchangeResult<Jwks> {
        self.provider(provider_id).await?;
        let keys = self.store.provider_keys(provider_id).await?;
        let oldest = self
            .store
            .oldest_unexpired_pass(provider_id, self.now())
            .await?;
        Ok(Jwks {
            keys: keys
                .iter()
                .filter(|k| match k.retired_at {
                    None => true,
                    Some(retired) => oldest.is_some_and(|o| o <= retired),
                })
                .map(|k| Jwk::from_public_bytes(&k.public_key))
                .collect(),
        })
    }

    /// The provider's key `kid` alone, as a JWK Set (empty if it has no
    /// such key): what verifies an unexpired pass it signed.
    pub(crate) async fn signing_jwks(&self, provider_id: &str, kid: &str) -> ExchangeResult<Jwks> {
        let keys = self.store.provider_keys(provider_id).await?;
        Ok(Jwks {
            keys: keys
                .iter()
                .filter(|k| k.kid == kid)
                .map(|k| Jwk::from_public_bytes(&k.public_key))
                .collect(),
        })
    }

    /// SD-JWT VC issuer metadata (`/.well-known/jwt-vc-issuer/…`).
    pub async fn issuer_metadata(&self, provider_id: &str) -> ExchangeResult<Value> {
        let p = self.provider(provider_id).await?;
        let issuer = self.issuer_id(provider_id);
        Ok(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/jwks.json"),
            "name": p.name,
            "status_list": self.status_list_url(provider_id),
        }))
    }

    pub async fn signing_keys(&self, me: &store::Account) -> ExchangeResult<api::SigningKeys> {
        require(me, Role::Provider)?;
        let keys = self.store.provider_keys(&me.id).await?;
        let published = self.jwks(&me.id).await?;
        Ok(api::SigningKeys {
            keys: keys
                .iter()
                .map(|k| api::SigningKey {
                    kid: k.kid.clone(),
                    active: k.retired_at.is_none(),
                    published: published.keys.iter().any(|j| j.kid == k.kid),
                    created_at: k.created_at.to_rfc3339(),
                    retired_at: k.retired_at.map(Timestamp::to_rfc3339),
                })
                .collect(),
        })
    }

    /// Rotation: a new key is published and signs from now on; the old ones
    /// are retired and stay published until their passes expire. Both happen
    /// in one transaction, so no pass is ever signed by an unpublished key.
    pub async fn rotate_key(&self, me: &store::Account) -> ExchangeResult<api::SigningKeys> {
        require(me, Role::Provider)?;
        if self.store.provider_keys(&me.id).await?.len() >= MAX_SIGNING_KEYS {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                format!("a provider has at most {MAX_SIGNING_KEYS} signing keys"),
            ));
        }
        let record = self.new_key_record(&me.id, self.now());
        self.store.add_provider_key(&record, true).await?;
        tracing::info!(provider_id = %me.id, kid = %record.kid, "signing key rotated");
        self.signing_keys(me).await
    }

    /// Registers a public key the provider holds the private half of: it is
    /// published at once and may sign passes the provider uploads.
    pub async fn register_key(
        &self,
        me: &store::Account,
        req: &api::RegisterSigningKey,
    ) -> ExchangeResult<api::SigningKeys> {
        require(me, Role::Provider)?;
        let bad = |m: &str| ExchangeError::field("jwk", m.to_string());
        let obj = req
            .jwk
            .as_object()
            .ok_or_else(|| bad("a JSON object (a JWK)"))?;
        if obj.contains_key("d") {
            return Err(bad("a private key (`d`): send only the public half"));
        }
        let get = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
        if get("kty") != "OKP" || get("crv") != "Ed25519" {
            return Err(bad("only OKP/Ed25519 keys (kty OKP, crv Ed25519)"));
        }
        let public = base64_url_32(get("x")).ok_or_else(|| bad("x: 32 bytes in base64url"))?;
        let jwk = Jwk::from_public_bytes(&public);
        if jwk.check().is_err() {
            return Err(ExchangeError::value("jwk", "x: not an Ed25519 public key"));
        }
        let keys = self.store.provider_keys(&me.id).await?;
        if keys.iter().any(|k| k.kid == jwk.kid) {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                "the key is already registered",
            ));
        }
        if keys.len() >= MAX_SIGNING_KEYS {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                format!("a provider has at most {MAX_SIGNING_KEYS} signing keys"),
            ));
        }
        let record = store::ProviderKeyRecord {
            kid: jwk.kid.clone(),
            provider_id: me.id.clone(),
            public_key: public,
            secret: None,
            created_at: self.now(),
            retired_at: None,
        };
        self.store.add_provider_key(&record, false).await?;
        tracing::info!(provider_id = %me.id, kid = %record.kid, "provider-held signing key registered");
        self.signing_keys(me).await
    }

    /// Accepts a pass the provider signed itself (`symbolon pass sign`): its
    /// signature must verify against one of the provider's active keys, and
    /// its content must be exactly the credential this exchange would issue
    /// for that product and those terms — so the page, the matching and the
    /// orders see what the provider signed.
    pub async fn upload_pass(
        &self,
        me: &store::Account,
        req: &api::UploadPass,
    ) -> ExchangeResult<api::Pass> {
        require(me, Role::Provider)?;
        if req.jws.len() > MAX_PASS_JWS_BYTES {
            return Err(ExchangeError::field(
                "jws",
                format!("at most {MAX_PASS_JWS_BYTES} bytes"),
            ));
        }
        let keys = self.store.provider_keys(&me.id).await?;
        let active = Jwks {
            keys: keys
                .iter()
                .filter(|k| k.retired_at.is_none())
                .map(|k| Jwk::from_public_bytes(&k.public_key))
                .collect(),
        };
        let v = symbolon_pass::verify_compact(&req.jws, &active, symbolon_pass::PASS_TYP).map_err(
            |e| {
                ExchangeError::new(
                    ErrorCode::PassSignatureInvalid,
                    format!("the pass does not verify against your active keys: {e}"),
                )
                .with_details(json!({"reason": e.reason()}))
            },
        )?;
        let c = &v.claims;
        let text = |v: &Value| v.as_str().map(str::to_string);
        let field = |f: &str, m: &str| ExchangeError::field(&format!("jws.{f}"), m.to_string());
        let url = text(&c["id"]).ok_or_else(|| field("id", "missing"))?;
        let prefix = format!("{}/v1/passes/", self.config.public_url);
        let id = url
            .strip_prefix(&prefix)
            .filter(|id| symbolon_core::ids::looks_like(id, prefix::PASS))
            .ok_or_else(|| {
                field(
                    "id",
                    &format!("must be {prefix}pas_<20 base-32 characters>"),
                )
            })?
            .to_string();
        let product_id = text(&c["credentialSubject"]["productId"])
            .ok_or_else(|| field("credentialSubject.productId", "missing"))?;
        let product = match self.store.product(&product_id).await {
            Ok(p) if p.provider_id == me.id => p,
            Ok(_) => {
                return Err(ExchangeError::forbidden(
                    "the product belongs to another provider",
                ))
            }
            Err(StoreError::NotFound) => {
                return Err(field("credentialSubject.productId", "no such product"))
            }
            Err(e) => return Err(e.into()),
        };
        on_sale(&product)?;
        let terms = &c["termsOfUse"][0];
        let mode = match terms["mode"].as_str() {
            Some("shareable") => PassMode::Shareable,
            Some("unique") => PassMode::Unique,
            _ => return Err(field("termsOfUse.mode", "shareable or unique")),
        };
        let units = crate::service::units_for(mode, terms.get("units").and_then(Value::as_i64))?;
        let commission_bps = validate_range(
            "jws.termsOfUse.commission.basisPoints",
            terms["commission"]["basisPoints"].as_i64().unwrap_or(-1),
            0,
            MAX_COMMISSION_BPS,
        )?;
        let time = |f: &str| -> ExchangeResult<Option<Timestamp>> {
            match &c[f] {
                Value::Null => Ok(None),
                v => v
                    .as_str()
                    .and_then(Timestamp::parse_rfc3339)
                    .map(Some)
                    .ok_or_else(|| field(f, "an RFC 3339 time")),
            }
        };
        let valid_from = time("validFrom")?.ok_or_else(|| field("validFrom", "missing"))?;
        let valid_until = time("validUntil")?;
        let now = self.now();
        if valid_until.is_some_and(|u| u <= now) {
            return Err(field("validUntil", "must be in the future"));
        }
        if valid_until.is_some_and(|u| u > now.plus_seconds(MAX_PASS_VALIDITY_DAYS * 86_400)) {
            return Err(field(
                "validUntil",
                &format!("at most {MAX_PASS_VALIDITY_DAYS} days ahead"),
            ));
        }
        let status = symbolon_pass::StatusEntry::of(c)
            .map_err(|e| field("credentialStatus", &e.to_string()))?
            .filter(|s| s.list_url == self.status_list_url(&me.id))
            .ok_or_else(|| {
                field(
                    "credentialStatus",
                    "a BitstringStatusListEntry in your status list",
                )
            })?;
        // The credential must be exactly what this exchange would issue.
        let page = convert::page_url(&self.config.public_url, &id);
        let price = product_price(&product)?;
        let actions = symbolon_pass::standard_actions(&url, &page, mode == PassMode::Unique);
        let expected = symbolon_pass::credential(
            &url,
            &self.issuer_id(&me.id),
            &me.name,
            &symbolon_pass::PassSubject {
                product_id: &product.id,
                name: &product.title,
                description: &product.description,
                category: &product.category,
                specs: &product.specs,
                price,
                link: &page,
                order_endpoint: &format!("{url}/orders"),
                gtin: product.gtin.as_deref(),
                actions: &actions,
                status: Some(&status),
            },
            &symbolon_pass::PassTerms {
                mode: mode.as_str(),
                units,
                commission_bps,
            },
            valid_from,
            valid_until,
        );
        if let Some(differs) = expected
            .as_object()
            .into_iter()
            .flatten()
            .chain(c.as_object().into_iter().flatten())
            .map(|(k, _)| k)
            .find(|k| expected.get(k.as_str()) != c.get(k.as_str()))
        {
            return Err(field(
                differs,
                "differs from the credential this exchange issues for the product and terms (see `symbolon pass sign`)",
            ));
        }
        // Byte for byte: no duplicate members or other encodings that another
        // JSON parser could read differently from what was checked here.
        let payload = req.jws.trim().split('.').nth(1).unwrap_or_default();
        if payload != symbolon_pass::encode_claims(&expected) {
            return Err(field(
                "credentialSubject",
                "the payload must be the exact serialization `symbolon pass sign` produces",
            ));
        }
        let pass = store::Pass {
            id,
            product_id: product.id.clone(),
            provider_id: me.id.clone(),
            mode,
            units,
            commission_bps,
            valid_from,
            valid_until,
            jws: req.jws.trim().to_string(),
            created_at: now,
            kid: Some(v.kid.clone()),
            status_index: Some(i64::from(status.index)),
            revoked_at: None,
        };
        self.store
            .create_pass(&pass, product.revision)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(Conflict::Duplicate) => ExchangeError::new(
                    ErrorCode::InvalidState,
                    "a pass with this id or status index exists: sign again with fresh ones",
                ),
                other => other.into(),
            })?;
        tracing::info!(pass_id = %pass.id, provider_id = %me.id, kid = %v.kid, "provider-signed pass accepted");
        Ok(convert::pass(&self.config.public_url, &pass, &product, now))
    }

    /// Start-up: seals signing keys stored before sealing existed, and checks
    /// that the master key opens the sealed ones.
    pub async fn seal_legacy_keys(&self) -> ExchangeResult<u64> {
        let mut sealed = 0;
        for k in self.store.unsealed_provider_keys().await? {
            let Some(plain) = k.secret.as_deref() else {
                continue;
            };
            let Ok(seed) = <[u8; 32]>::try_from(plain) else {
                continue;
            };
            let wrapped = self.config.master_key.seal(&k.kid, &seed);
            if self
                .store
                .set_provider_key_secret(&k.kid, plain, &wrapped)
                .await?
            {
                sealed += 1;
            }
        }
        if sealed > 0 {
            tracing::info!(keys = sealed, "sealed signing keys under the master key");
        }
        // A wrong or lost master key is refused at start-up, not discovered
        // later as failures to sign.
        if let Some(k) = self.store.any_sealed_provider_key().await? {
            self.config
                .master_key
                .open(&k.kid, k.secret.as_deref().unwrap_or_default())
                .map_err(|_| {
                    ExchangeError::internal(
                        "the master key does not open the signing keys in the database: \
                         a wrong SYMBOLON_MASTER_KEY, or a lost <data-dir>/master.key",
                    )
                })?;
        }
        Ok(sealed)
    }

    // ------------------------------------------------------------ revocation

    pub async fn revoke_pass(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Pass> {
        self.own_pass(me, id).await?;
        let now = self.now();
        let pass = self.store.revoke_pass(id, now).await?;
        tracing::info!(pass_id = %id, provider_id = %me.id, "pass revoked");
        let product = self.store.product(&pass.product_id).await?;
        Ok(convert::pass(&self.config.public_url, &pass, &product, now))
    }

    /// The provider's revocation list as a signed Bitstring Status List
    /// credential, valid for [`STATUS_LIST_TTL_SECONDS`].
    pub async fn status_list(&self, provider_id: &str) -> ExchangeResult<String> {
        self.provider(provider_id).await?;
        let revoked: Vec<u32> = self
            .store
            .revoked_status_indices(provider_id)
            .await?
            .into_iter()
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        let now = self.now();
        let claims = symbolon_pass::status::status_list_credential(
            &self.status_list_url(provider_id),
            &self.issuer_id(provider_id),
            &symbolon_pass::status::encode_list(&revoked),
            // Back-dated a little, so a verifier whose clock runs slightly
            // behind does not see a list that is "not yet valid".
            now.plus_seconds(-STATUS_LIST_CLOCK_SKEW_SECONDS),
            now.plus_seconds(STATUS_LIST_TTL_SECONDS),
        );
        let key = self.signing_key(provider_id).await?;
        Ok(symbolon_pass::sign_compact(
            &claims,
            &key,
            symbolon_pass::PASS_TYP,
            Some("vc"),
        ))
    }

    // ------------------------------------------------------------ units

    /// A pass's units with a history (public; owners by pseudonym) and how
    /// many are left to buy.
    pub async fn pass_units(
        &self,
        pass_id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::PassUnits> {
        let page = crate::service::page(after, limit)?;
        let pass = self.store.pass(pass_id).await.or_not_found("pass")?;
        let unique = pass.mode == PassMode::Unique;
        let unsold = if unique {
            self.store.unit_counts(&pass.id, None).await?.unsold
        } else {
            0
        };
        let items = if unique {
            self.store
                .units_with_history(&pass.id, page.after.unwrap_or(0), page.limit)
                .await?
        } else {
            Vec::new()
        };
        let next = items
            .last()
            .filter(|_| items.len() == page.limit as usize)
            .map(|u| u.unit_no.to_string());
        Ok(api::PassUnits {
            pass_id: pass.id.clone(),
            unsold,
            items: items
                .into_iter()
                .map(|u| api::UnitSummary {
                    unit_no: u.unit_no,
                    owner: u
                        .owner_id
                        .as_deref()
                        .map(|o| self.unit_party(&pass.id, o, u.holder_id.as_deref())),
                    transfers: u.transfers,
                    last_at: u.last_at.to_rfc3339(),
                    history: format!("/v1/passes/{}/units/{}/history", pass.id, u.unit_no),
                })
                .collect(),
            next,
        })
    }

    pub async fn unit_history(
        &self,
        pass_id: &str,
        unit_no: i64,
    ) -> ExchangeResult<api::UnitHistory> {
        let pass = self.store.pass(pass_id).await.or_not_found("pass")?;
        let unit = self
            .store
            .unit(pass_id, unit_no)
            .await
            .or_not_found("unit")?;
        let transfers = self.store.unit_history(pass_id, unit_no).await?;
        Ok(api::UnitHistory {
            pass_id: pass.id.clone(),
            unit_no,
            unit_id: self.unit_id(&pass.id, unit_no),
            pass_jws: pass.jws.clone(),
            jwks_url: format!("{}/jwks.json", self.issuer_id(&pass.provider_id)),
            // Buyers appear by their pseudonyms (as in the signed statements).
            owner: unit
                .owner_id
                .as_deref()
                .map(|o| self.unit_party(&pass.id, o, unit.holder_id.as_deref())),
            transfers: transfers
                .into_iter()
                .map(|t| {
                    let party = |field: &str, id: &str| {
                        statement_party(&t.jws, field).unwrap_or_else(|| {
                            self.unit_party(&pass.id, id, unit.holder_id.as_deref())
                        })
                    };
                    api::UnitTransferView {
                        seq: t.seq,
                        from: party("from", &t.from_id),
                        to: party("to", &t.to_id),
                        created_at: t.created_at.to_rfc3339(),
                        jws: t.jws,
                    }
                })
                .collect(),
            holder: unit.holder_id,
        })
    }

    /// The owner of a unit hands it to another account (a resale, a gift):
    /// the next signed statement of its chain. Only the current owner can,
    /// once per point in the chain.
    pub async fn transfer_unit(
        &self,
        me: &store::Account,
        pass_id: &str,
        unit_no: i64,
        req: &api::TransferUnit,
    ) -> ExchangeResult<api::UnitHistory> {
        let pass = self.store.pass(pass_id).await.or_not_found("pass")?;
        if pass.mode != PassMode::Unique {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                "only units of unique passes change owner",
            ));
        }
        let unit = self
            .store
            .unit(pass_id, unit_no)
            .await
            .or_not_found("unit")?;
        if unit.owner_id.as_deref() != Some(me.id.as_str()) {
            return Err(ExchangeError::forbidden("the unit belongs to someone else"));
        }
        if req.to == me.id {
            return Err(ExchangeError::value("to", "the unit is already yours"));
        }
        match self.store.account(&req.to).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Err(
                    ExchangeError::new(ErrorCode::NotFound, "to: no such account")
                        .with_details(json!({"field": "to"})),
                )
            }
            Err(e) => return Err(e.into()),
        }
        let now = self.now();
        usable(&pass, now)?;
        let history = self.store.unit_history(pass_id, unit_no).await?;
        let seq = history.len() as i64 + 1;
        if seq > MAX_UNIT_TRANSFERS {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                format!("a unit changes hands at most {MAX_UNIT_TRANSFERS} times"),
            ));
        }
        let prev = history.last().map(|t| t.jws.as_str()).unwrap_or(&pass.jws);
        let t = self
            .signed_transfer(
                &pass,
                unit_no,
                seq,
                &me.id,
                &req.to,
                prev,
                now,
                unit.holder_id.as_deref(),
            )
            .await?;
        self.store.transfer_unit(&t).await?;
        tracing::info!(pass_id, unit_no, seq, from = %me.id, to = %req.to, "unit transferred");
        self.unit_history(pass_id, unit_no).await
    }

    // ------------------------------------------------------------ orders on a pass

    /// An order placed on the pass itself (its `order`/`order_and_pay`
    /// actions, its page). `via` credits the holder whose link brought the
    /// buyer — it must hold the pass — with the order and its commission; a
    /// unique pass needs one, and transfers one of its unsold units.
    pub async fn pass_order(
        &self,
        me: &store::Account,
        pass_id: &str,
        req: &api::CreatePassOrder,
    ) -> ExchangeResult<api::Order> {
        require(me, Role::Requester)?;
        if let Some(done) = self
            .made_by_earlier_run(
                prefix::ORDER,
                |id| async move { self.store.order(&id).await },
            )
            .await
        {
            if done.requester_id == me.id {
                return Ok(convert::order(&done, self.config.return_window));
            }
        }
        let pass = self.store.pass(pass_id).await.or_not_found("pass")?;
        let now = self.now();
        usable(&pass, now)?;
        let product = self.store.product(&pass.product_id).await?;
        on_sale(&product)?;
        let quantity =
            validate_range("quantity", req.quantity.unwrap_or(1), 1, MAX_ORDER_QUANTITY)?;
        let holder = match &req.via {
            None => None,
            Some(via) => match self.store.holding(via, &pass.id).await {
                Ok(_) if *via == me.id => {
                    return Err(ExchangeError::value("via", "a holder cannot credit itself"))
                }
                Ok(_) => Some(via.clone()),
                Err(StoreError::NotFound) => {
                    return Err(ExchangeError::new(
                        ErrorCode::NotFound,
                        "via: no holder of this pass has that id",
                    )
                    .with_details(json!({"field": "via"})))
                }
                Err(e) => return Err(e.into()),
            },
        };
        if pass.mode == PassMode::Unique {
            if quantity != 1 {
                return Err(ExchangeError::value(
                    "quantity",
                    "a unique pass transfers one unit per order: quantity must be 1",
                ));
            }
            if holder.is_none() {
                return Err(ExchangeError::value(
                    "via",
                    "units of a unique pass are sold by their holders: order through a holder's link",
                ));
            }
        }
        let (profile, ship_to) = self.order_profile(me, req.ship_to.as_ref()).await?;
        // The commission goes to a crediting holder; without one there is none.
        let bps = if holder.is_some() {
            pass.commission_bps
        } else {
            0
        };
        let method = one_click_method(profile.as_ref(), req.pay)?;
        let (order, total) = self.new_order(crate::orders::NewOrder {
            me,
            pass: &pass,
            product: &product,
            quantity,
            holder_id: holder,
            offer_id: None,
            unit_no: None,
            commission_bps: bps,
            ship_to,
            paid_now: method.is_some(),
        })?;
        // Unpaid, it takes nothing (a unique pass's unit moves when it is paid).
        let placed = self
            .record_order_retrying(&order, &pass, method.as_ref(), total)
            .await?;
        tracing::info!(order_id = %placed.id, pass_id, requester_id = %me.id, holder_id = ?placed.holder_id, status = %placed.status, total = %total, "order placed on a pass");
        Ok(convert::order(&placed, self.config.return_window))
    }

    // ------------------------------------------------------------ the pass page

    pub async fn pass_page(&self, pass_id: &str, via: Option<&str>) -> ExchangeResult<PassPage> {
        let pass = self.store.pass(pass_id).await.or_not_found("pass")?;
        let product = self.store.product(&pass.product_id).await?;
        let provider = self.store.account(&pass.provider_id).await?;
        let activity = self.store.pass_activity(pass_id, PASS_PAGE_RECENT).await?;
        let via = match via {
            Some(h) if self.store.holding(h, pass_id).await.is_ok() => {
                let a = self.store.account(h).await?;
                Some((a.id, a.name))
            }
            _ => None,
        };
        let issuer = self.issuer_id(&pass.provider_id);
        let available = match pass.mode {
            PassMode::Unique => {
                let holder = via.as_ref().map(|(id, _)| id.as_str());
                product
                    .stock
                    .min(self.store.unit_counts(&pass.id, holder).await?.unsold)
            }
            PassMode::Shareable => product.stock,
        };
        Ok(PassPage {
            pass: convert::pass(&self.config.public_url, &pass, &product, self.now()),
            product: convert::product(&product),
            provider_name: provider.name,
            activity,
            via,
            issuer_metadata_url: format!(
                "{}/.well-known/jwt-vc-issuer/v1/providers/{}",
                self.config.public_url, pass.provider_id
            ),
            jwks_url: format!("{issuer}/jwks.json"),
            available,
        })
    }
}

/// A party (`from`, `to`) as a statement of ours names it (its payload is
/// read, not verified: it comes from the store).
fn statement_party(jws: &str, field: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = jws.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get(field)?.as_str().map(str::to_string)
}

fn base64_url_32(s: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    <[u8; 32]>::try_from(bytes).ok()
}
