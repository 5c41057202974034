//! One method per API operation.

use crate::convert::{self, pass_url};
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::payment::PaymentError;
use crate::Exchange;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use symbolon_api as api;
use symbolon_core::demand::{
    parse_fields, validate_range, validate_rate, validate_text, Fanout, HolderCriteria, ItemSpec,
};
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::state::{DemandStatus, InteractionStatus, OfferStatus, PassMode, Role};
use symbolon_core::{ErrorCode, Money, TaxonomyPath, Timestamp, ValidationError};
use symbolon_match::engine::SyncStats;
use symbolon_match::{
    check_item, text::Terms, HolderProfile, Listing, Market, MatchQuery, Matcher, PassDoc,
    RankedHolder,
};
use symbolon_pass::ProviderKey;
use symbolon_store::{self as store, Holding, OrderParty, Page, StoreError};

/// Hex SHA-256 of an API key: keys are high-entropy, so a fast hash suffices.
pub fn hash_api_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn random_secret() -> [u8; 32] {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b
}

fn new_api_key() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let s: String = random_secret()
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect();
    format!("sk_{s}")
}

fn parse_money(field: &str, m: &api::Money) -> Result<Money, ValidationError> {
    let money = Money::parse(&m.amount, &m.currency).map_err(|e| {
        let sub = if e.contains("currency") {
            "currency"
        } else {
            "amount"
        };
        ValidationError::new(format!("{field}.{sub}"), e)
    })?;
    if money.minor < 0 {
        return Err(ValidationError::new(
            format!("{field}.amount"),
            "must not be negative",
        ));
    }
    Ok(money)
}

/// A store lookup of an object the request body names: `NotFound` becomes a 400 naming the field.
fn referenced<T>(r: Result<T, StoreError>, field: &str, message: &str) -> ExchangeResult<T> {
    r.map_err(|e| match e {
        StoreError::NotFound => ExchangeError::field(field, message),
        other => other.into(),
    })
}

/// Units of a pass or a grant: required for unique passes, refused for shareable ones.
pub(crate) fn units_for(mode: PassMode, units: Option<i64>) -> ExchangeResult<Option<i64>> {
    match (mode, units) {
        (PassMode::Unique, Some(u)) => Ok(Some(validate_range("units", u, 1, MAX_UNITS)?)),
        (PassMode::Unique, None) => {
            Err(ExchangeError::field("units", "required for a unique pass"))
        }
        (PassMode::Shareable, Some(_)) => Err(ExchangeError::field(
            "units",
            "only unique passes have units",
        )),
        (PassMode::Shareable, None) => Ok(None),
    }
}

/// The pass can be granted, offered or ordered at `now`.
pub(crate) fn usable(pass: &store::Pass, now: Timestamp) -> ExchangeResult<()> {
    if pass.revoked_at.is_some() {
        return Err(ExchangeError::new(
            ErrorCode::PassRevoked,
            "the pass was revoked by its provider",
        ));
    }
    if !pass.is_valid_at(now) {
        return Err(ExchangeError::new(
            ErrorCode::PassExpired,
            "the pass is no longer valid",
        ));
    }
    Ok(())
}

/// A product's price as money (it is stored as minor units and a currency code).
pub(crate) fn product_price(product: &store::Product) -> ExchangeResult<Money> {
    Money::parse(
        &convert::money(product.price_minor, &product.currency).amount,
        &product.currency,
    )
    .map_err(ExchangeError::internal)
}

/// Unit price, total and commission (`commission_bps` of the total) of `quantity` of `product`.
pub(crate) fn order_amounts(
    product: &store::Product,
    quantity: i64,
    commission_bps: i64,
) -> ExchangeResult<(Money, Money, Money)> {
    let unit_price = product_price(product)?;
    let total = unit_price
        .times(quantity)
        .ok_or_else(|| ExchangeError::field("quantity", "the total is too large"))?;
    Ok((unit_price, total, total.basis_points(commission_bps)))
}

/// The saved payment method to charge now, when the order is to be paid in one click.
pub(crate) fn one_click_method(
    profile: Option<&store::RequesterProfile>,
    pay: bool,
) -> ExchangeResult<Option<store::StoredPaymentMethod>> {
    if !pay {
        return Ok(None);
    }
    profile
        .and_then(|p| p.payment_method.clone())
        .map(Some)
        .ok_or_else(|| {
            ExchangeError::new(
                ErrorCode::PaymentMethodMissing,
                "save a payment method in the requester profile to pay in one click",
            )
        })
}

pub(crate) fn require(account: &store::Account, role: Role) -> ExchangeResult<()> {
    if account.has_role(role) {
        Ok(())
    } else {
        Err(ExchangeError::forbidden(format!(
            "this operation needs the `{role}` role"
        )))
    }
}

fn page(after: Option<&str>, limit: Option<u32>) -> ExchangeResult<Page> {
    let after = match after {
        None | Some("") => None,
        Some(s) => Some(s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ExchangeError::new(
                ErrorCode::InvalidQuery,
                "after: not a cursor from a previous page",
            )
            .with_details(json!({"field": "after"}))
        })?),
    };
    let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
        return Err(ExchangeError::new(
            ErrorCode::InvalidQuery,
            format!("limit: must be between 1 and {MAX_PAGE_LIMIT}"),
        )
        .with_details(json!({"field": "limit"})));
    }
    Ok(Page { after, limit })
}

pub(crate) fn validate_address(
    field: &str,
    a: &api::Address,
) -> Result<store::Address, ValidationError> {
    let f = |name: &str| format!("{field}.{name}");
    let country = a.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ValidationError::new(
            f("country"),
            "an ISO 3166-1 alpha-2 code, e.g. US",
        ));
    }
    Ok(store::Address {
        name: validate_text(&f("name"), &a.name, MAX_ADDRESS_CHARS, false)?,
        line1: validate_text(&f("line1"), &a.line1, MAX_ADDRESS_CHARS, false)?,
        line2: a
            .line2
            .as_deref()
            .map(|l| validate_text(&f("line2"), l, MAX_ADDRESS_CHARS, true))
            .transpose()?
            .filter(|l| !l.is_empty()),
        city: validate_text(&f("city"), &a.city, MAX_ADDRESS_CHARS, false)?,
        postal_code: validate_text(&f("postal_code"), &a.postal_code, 32, false)?,
        country,
    })
}

impl Exchange {
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn issuer_id(&self, provider_id: &str) -> String {
        format!("{}/v1/providers/{provider_id}", self.config.public_url)
    }

    /// The provider's active custodial signing key (the newest not retired).
    pub(crate) async fn signing_key(&self, provider_id: &str) -> ExchangeResult<ProviderKey> {
        let keys = self.store.provider_keys(provider_id).await?;
        let newest = keys
            .iter()
            .rev()
            .find(|k| k.retired_at.is_none() && k.secret.is_some())
            .ok_or_else(|| {
                ExchangeError::internal(format!(
                    "provider {provider_id} has no active custodial signing key"
                ))
            })?;
        let seed = self
            .config
            .master_key
            .open(&newest.kid, newest.secret.as_deref().unwrap_or_default())
            .map_err(ExchangeError::internal)?;
        Ok(ProviderKey::from_secret_bytes(seed))
    }

    /// A new custodial key record, its seed sealed under the master key.
    pub(crate) fn new_key_record(
        &self,
        provider_id: &str,
        now: Timestamp,
    ) -> store::ProviderKeyRecord {
        let key = ProviderKey::from_secret_bytes(random_secret());
        let kid = key.kid();
        store::ProviderKeyRecord {
            secret: Some(self.config.master_key.seal(&kid, &key.secret_bytes())),
            kid,
            provider_id: provider_id.to_string(),
            public_key: key.public_bytes(),
            created_at: now,
            retired_at: None,
        }
    }

    // ------------------------------------------------------------ accounts

    /// The account an API key belongs to.
    pub async fn authenticate(&self, api_key: &str) -> ExchangeResult<store::Account> {
        match self.store.account_by_key_hash(&hash_api_key(api_key)).await {
            Ok(a) => Ok(a),
            Err(StoreError::NotFound) => Err(ExchangeError::new(
                ErrorCode::Unauthorized,
                "unknown API key",
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn create_account(
        &self,
        req: &api::CreateAccount,
    ) -> ExchangeResult<api::AccountCreated> {
        if !self.config.registration_open {
            return Err(ExchangeError::new(
                ErrorCode::RegistrationClosed,
                "registration is closed on this exchange",
            ));
        }
        let name = validate_text("name", &req.name, MAX_NAME_CHARS, false)?;
        if req.roles.is_empty() {
            return Err(ExchangeError::field(
                "roles",
                "at least one of provider, holder, requester",
            ));
        }
        let mut roles: Vec<Role> = Vec::new();
        for r in &req.roles {
            let r = convert::role_in(*r);
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        let now = self.now();
        let id = self.new_id(prefix::ACCOUNT);
        let api_key = new_api_key();
        let provider_key = roles
            .contains(&Role::Provider)
            .then(|| self.new_key_record(&id, now));
        let account = store::Account {
            id: id.clone(),
            name: name.clone(),
            roles: roles.clone(),
            created_at: now,
        };
        self.store
            .create_account(&store::NewAccount {
                account,
                api_key_hash: hash_api_key(&api_key),
                provider_key,
            })
            .await?;
        tracing::info!(account_id = %id, roles = ?roles, "account created");
        Ok(api::AccountCreated {
            id,
            name,
            api_key,
            roles: roles.into_iter().map(convert::role).collect(),
        })
    }

    pub fn whoami(&self, me: &store::Account) -> api::Account {
        convert::account(me)
    }

    // ------------------------------------------------------------ catalog

    pub async fn create_product(
        &self,
        me: &store::Account,
        req: &api::CreateProduct,
    ) -> ExchangeResult<api::Product> {
        require(me, Role::Provider)?;
        let title = validate_text("title", &req.title, MAX_TITLE_CHARS, false)?;
        let description =
            validate_text("description", &req.description, MAX_DESCRIPTION_CHARS, true)?;
        let category = TaxonomyPath::parse(&req.category, "category")?;
        if req.specs.len() > MAX_SPECS {
            return Err(ExchangeError::field(
                "specs",
                format!("at most {MAX_SPECS} entries"),
            ));
        }
        let mut specs = Vec::with_capacity(req.specs.len());
        for (k, v) in &req.specs {
            let field = format!("specs.{k}");
            let name = validate_text(&field, k, MAX_SPEC_NAME_CHARS, false)?;
            let value = validate_text(&field, v, MAX_SPEC_VALUE_CHARS, true)?;
            specs.push((name, value));
        }
        let price = parse_money("price", &req.price)?;
        let stock = validate_range("stock", req.stock, 0, MAX_STOCK)?;
        let gtin = match &req.gtin {
            None => None,
            Some(g) if symbolon_pass::valid_gtin(g.trim()) => Some(g.trim().to_string()),
            Some(_) => {
                return Err(ExchangeError::field(
                    "gtin",
                    "not a GTIN-8, -12, -13 or -14 with a valid check digit",
                ))
            }
        };
        let p = store::Product {
            id: self.new_id(prefix::PRODUCT),
            provider_id: me.id.clone(),
            title,
            description,
            category: category.as_str().to_string(),
            specs,
            price_minor: price.minor,
            currency: price.currency.as_str().to_string(),
            stock,
            created_at: self.now(),
            gtin,
        };
        self.store.create_product(&p).await?;
        Ok(convert::product(&p))
    }

    pub async fn product(&self, id: &str) -> ExchangeResult<api::Product> {
        Ok(convert::product(
            &self.store.product(id).await.or_not_found("product")?,
        ))
    }

    pub async fn create_pass(
        &self,
        me: &store::Account,
        req: &api::CreatePass,
    ) -> ExchangeResult<api::Pass> {
        require(me, Role::Provider)?;
        let product = referenced(
            self.store.product(&req.product_id).await,
            "product_id",
            "no such product",
        )?;
        if product.provider_id != me.id {
            return Err(ExchangeError::forbidden(
                "the product belongs to another provider",
            ));
        }
        let mode = match req.mode {
            api::PassMode::Shareable => PassMode::Shareable,
            api::PassMode::Unique => PassMode::Unique,
        };
        let units = units_for(mode, req.units)?;
        let commission_bps =
            validate_range("commission_bps", req.commission_bps, 0, MAX_COMMISSION_BPS)?;
        let now = self.now();
        let valid_until = match &req.valid_until {
            None => None,
            Some(s) => {
                let t = Timestamp::parse_rfc3339(s)
                    .ok_or_else(|| ExchangeError::field("valid_until", "not an RFC 3339 time"))?;
                if t <= now {
                    return Err(ExchangeError::field("valid_until", "must be in the future"));
                }
                if t > now.plus_seconds(MAX_PASS_VALIDITY_DAYS * 86_400) {
                    return Err(ExchangeError::field(
                        "valid_until",
                        format!("at most {MAX_PASS_VALIDITY_DAYS} days ahead"),
                    ));
                }
                Some(t)
            }
        };
        let id = self.new_id(prefix::PASS);
        let url = pass_url(&self.config.public_url, &id);
        let price = product_price(&product)?;
        let page = convert::page_url(&self.config.public_url, &id);
        let order_endpoint = format!("{url}/orders");
        let actions = symbolon_pass::standard_actions(&url, &page, mode == PassMode::Unique);
        let key = self.signing_key(&me.id).await?;
        let list_url = self.status_list_url(&me.id);
        // A random bit of the provider's status list (herd privacy); a taken
        // bit is drawn again.
        let mut attempt = 0;
        let pass = loop {
            attempt += 1;
            let status = symbolon_pass::StatusEntry {
                index: self.ids.below(symbolon_pass::status::STATUS_LIST_BITS),
                list_url: list_url.clone(),
            };
            let subject = symbolon_pass::PassSubject {
                product_id: &product.id,
                name: &product.title,
                description: &product.description,
                category: &product.category,
                specs: &product.specs,
                price,
                link: &page,
                order_endpoint: &order_endpoint,
                gtin: product.gtin.as_deref(),
                actions: &actions,
                status: Some(&status),
            };
            let terms = symbolon_pass::PassTerms {
                mode: mode.as_str(),
                units,
                commission_bps,
            };
            let claims = symbolon_pass::credential(
                &url,
                &self.issuer_id(&me.id),
                &me.name,
                &subject,
                &terms,
                now,
                valid_until,
            );
            let jws =
                symbolon_pass::sign_compact(&claims, &key, symbolon_pass::PASS_TYP, Some("vc"));
            let pass = store::Pass {
                id: id.clone(),
                product_id: product.id.clone(),
                provider_id: me.id.clone(),
                mode,
                units,
                commission_bps,
                valid_from: now,
                valid_until,
                jws,
                created_at: now,
                kid: Some(key.kid()),
                status_index: Some(i64::from(status.index)),
                revoked_at: None,
            };
            match self.store.create_pass(&pass).await {
                Ok(()) => break pass,
                Err(StoreError::Conflict(symbolon_store::Conflict::Duplicate))
                    if attempt < MAX_STATUS_INDEX_DRAWS =>
                {
                    continue
                }
                Err(e) => return Err(e.into()),
            }
        };
        tracing::info!(pass_id = %pass.id, provider_id = %me.id, mode = %mode, kid = ?pass.kid, "pass issued");
        Ok(convert::pass(&self.config.public_url, &pass, &product, now))
    }

    pub async fn pass(&self, id: &str) -> ExchangeResult<api::Pass> {
        let pass = self.store.pass(id).await.or_not_found("pass")?;
        let product = self.store.product(&pass.product_id).await?;
        Ok(convert::pass(
            &self.config.public_url,
            &pass,
            &product,
            self.now(),
        ))
    }

    pub async fn grant(
        &self,
        me: &store::Account,
        pass_id: &str,
        req: &api::CreateGrant,
    ) -> ExchangeResult<api::Holding> {
        let pass = self.own_pass(me, pass_id).await?;
        let holder = referenced(
            self.store.account(&req.holder_id).await,
            "holder_id",
            "no such holder",
        )?;
        if !holder.has_role(Role::Holder) {
            return Err(ExchangeError::field(
                "holder_id",
                "the account is not a holder",
            ));
        }
        let units = units_for(pass.mode, req.units)?;
        let now = self.now();
        usable(&pass, now)?;
        let grant = store::NewGrant {
            id: self.new_id(prefix::GRANT),
            pass_id: pass.id.clone(),
            holder_id: req.holder_id.clone(),
            units,
            created_at: now,
        };
        let h = self.store.grant(&grant).await?;
        tracing::info!(pass_id = %pass.id, holder_id = %req.holder_id, units = ?units, "pass granted");
        Ok(convert::holding(&self.config.public_url, &h, now))
    }

    // ------------------------------------------------------------ holders

    pub async fn set_holder_profile(
        &self,
        me: &store::Account,
        req: &api::HolderProfileUpdate,
    ) -> ExchangeResult<api::HolderPublic> {
        require(me, Role::Holder)?;
        let fields = parse_fields("fields", &req.fields)?;
        let fields: Vec<String> = fields.iter().map(|f| f.as_str().to_string()).collect();
        self.store.set_holder_fields(&me.id, &fields).await?;
        self.holder_public(&me.id).await
    }

    pub async fn holder_public(&self, id: &str) -> ExchangeResult<api::HolderPublic> {
        let account = self.store.account(id).await.or_not_found("holder")?;
        if !account.has_role(Role::Holder) {
            return Err(ExchangeError::not_found("holder"));
        }
        let h = self
            .store
            .holder(id, self.now())
            .await
            .or_not_found("holder")?;
        Ok(convert::holder_public(&h))
    }

    pub async fn wallet(&self, me: &store::Account) -> ExchangeResult<api::Wallet> {
        require(me, Role::Holder)?;
        let items = self.store.wallet(&me.id).await?;
        let now = self.now();
        Ok(api::Wallet {
            items: items
                .iter()
                .map(|h| convert::holding(&self.config.public_url, h, now))
                .collect(),
        })
    }

    pub async fn inbox(
        &self,
        me: &store::Account,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::Inbox> {
        require(me, Role::Holder)?;
        let page = page(after, limit)?;
        let items = self.store.inbox(&me.id, &page).await?;
        let now = self.now();
        let mut demands: HashMap<String, store::DemandRecord> = HashMap::new();
        let mut out = Vec::with_capacity(items.len());
        for i in &items {
            if !demands.contains_key(&i.demand_id) {
                let d = self.store.demand(&i.demand_id).await?;
                demands.insert(i.demand_id.clone(), d);
            }
            let d = &demands[&i.demand_id];
            out.push(api::InboxItem {
                id: i.id.clone(),
                demand_id: i.demand_id.clone(),
                status: i.status_at(now).as_str().to_string(),
                rank: i.rank,
                item: convert::demand_item(d),
                deadline: convert::ts(i.deadline),
                matched_pass_ids: i.matched_pass_ids.clone(),
                created_at: convert::ts(i.created_at),
            });
        }
        let next = (items.len() as u32 == page.limit)
            .then(|| items.last().map(|i| i.seq.to_string()))
            .flatten();
        Ok(api::Inbox { items: out, next })
    }

    async fn own_interaction(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<store::Interaction> {
        require(me, Role::Holder)?;
        let i = self
            .store
            .interaction(id)
            .await
            .or_not_found("interaction")?;
        if i.holder_id != me.id {
            return Err(ExchangeError::forbidden(
                "the interaction request is addressed to another holder",
            ));
        }
        Ok(i)
    }

    pub async fn offer(
        &self,
        me: &store::Account,
        interaction_id: &str,
        req: &api::CreateOffer,
    ) -> ExchangeResult<api::Offer> {
        if let Some(done) = self
            .made_by_earlier_run(
                prefix::OFFER,
                |id| async move { self.store.offer(&id).await },
            )
            .await
        {
            if done.holder_id == me.id {
                return self.offer_view(&done).await;
            }
        }
        let interaction = self.own_interaction(me, interaction_id).await?;
        let now = self.now();
        if interaction.status_at(now).is_final() {
            return Err(ExchangeError::new(
                ErrorCode::InteractionClosed,
                format!("the interaction request is {}", interaction.status_at(now)),
            ));
        }
        let note = req
            .note
            .as_deref()
            .map(|n| validate_text("note", n, MAX_NOTE_CHARS, true))
            .transpose()?
            .filter(|n| !n.is_empty());
        let holding: Holding = referenced(
            self.store.holding(&me.id, &req.pass_id).await,
            "pass_id",
            "the pass is not in your wallet",
        )?;
        if !holding.pass.is_valid_at(now) {
            return Err(ExchangeError::new(
                ErrorCode::PassExpired,
                "the pass is no longer valid",
            ));
        }
        if holding.pass.mode == PassMode::Unique && holding.units_left.unwrap_or(0) == 0 {
            return Err(ExchangeError::new(
                ErrorCode::UnitsExhausted,
                "you have no unit of this pass left",
            ));
        }
        let demand = self.store.demand(&interaction.demand_id).await?;
        let item = item_of(&demand)?;
        let doc = pass_doc_of(&holding)?;
        if !check_item(&item, &Terms::of_query(&item.query), &doc).passes() {
            return Err(ExchangeError::field(
                "pass_id",
                "the pass does not match the demand's item",
            ));
        }
        // Verify the pass against the provider's published keys before relaying it.
        let jwks = self.jwks(&holding.pass.provider_id).await?;
        if let Err(e) = symbolon_pass::verify_pass(&holding.pass.jws, &jwks, now) {
            tracing::warn!(pass_id = %holding.pass.id, error = %e, "pass failed verification");
            return Err(ExchangeError::new(
                ErrorCode::PassSignatureInvalid,
                format!("the pass does not verify: {e}"),
            ));
        }
        let offer = self
            .store
            .create_offer(&store::NewOffer {
                id: self.new_id(prefix::OFFER),
                interaction_id: interaction.id.clone(),
                pass_id: holding.pass.id.clone(),
                note,
                created_at: now,
            })
            .await?;
        tracing::info!(offer_id = %offer.id, interaction_id = %interaction.id, holder_id = %me.id, "offer made");
        self.offer_view(&offer).await
    }

    pub async fn decline(
        &self,
        me: &store::Account,
        interaction_id: &str,
    ) -> ExchangeResult<api::InteractionState> {
        let interaction = self.own_interaction(me, interaction_id).await?;
        let now = self.now();
        let i = self.store.decline(&interaction.id, now).await?;
        Ok(convert::interaction_state(&i, now))
    }

    // ------------------------------------------------------------ demands

    pub async fn create_demand(
        &self,
        me: &store::Account,
        req: &api::CreateDemand,
    ) -> ExchangeResult<api::DemandCreated> {
        require(me, Role::Requester)?;
        if let Some(done) = self
            .made_by_earlier_run(
                prefix::DEMAND,
                |id| async move { self.store.demand(&id).await },
            )
            .await
        {
            if done.requester_id == me.id {
                let d = self.demand(me, &done.id).await?;
                return Ok(api::DemandCreated {
                    id: d.id,
                    status: d.status,
                    deadline: d.deadline,
                    contacted: d.contacted,
                });
            }
        }
        let query = validate_text("query", &req.query, MAX_QUERY_CHARS, false)?;
        if Terms::of_query(&query).is_empty() {
            return Err(ExchangeError::field(
                "query",
                "must contain at least one word",
            ));
        }
        let category = req
            .category
            .as_deref()
            .map(|c| TaxonomyPath::parse(c, "category"))
            .transpose()?;
        let max_price = req
            .max_price
            .as_ref()
            .map(|m| parse_money("max_price", m))
            .transpose()?;
        let criteria = HolderCriteria {
            min_positive_rate: req
                .holder
                .min_positive_rate
                .map(|r| validate_rate("holder.min_positive_rate", r))
                .transpose()?,
            min_success_rate: req
                .holder
                .min_success_rate
                .map(|r| validate_rate("holder.min_success_rate", r))
                .transpose()?,
            min_ratings: req
                .holder
                .min_ratings
                .map(|r| {
                    validate_range(
                        "holder.min_ratings",
                        r.min(i64::MAX as u64) as i64,
                        0,
                        1_000_000_000,
                    )
                    .map(|v| v as u64)
                })
                .transpose()?,
            fields: parse_fields("holder.fields", req.holder.fields.as_deref().unwrap_or(&[]))?,
        };
        let fanout = Fanout::new(req.min_holders, req.max_holders, req.ttl_seconds)?;
        let item = ItemSpec {
            query: query.clone(),
            category: category.clone(),
            max_price,
        };
        let now = self.now();
        let wait = req.wait.unwrap_or(false);
        if wait && self.store.count_waiting(&me.id, now).await? >= MAX_WAITING_DEMANDS_PER_REQUESTER
        {
            return Err(ExchangeError::new(
                ErrorCode::TooManyWaitingDemands,
                format!(
                    "at most {MAX_WAITING_DEMANDS_PER_REQUESTER} standing demands may wait at once"
                ),
            ));
        }

        let names = self.fresh_market().await?;
        let match_query = MatchQuery {
            item,
            criteria: criteria.clone(),
            // A requester is never matched with itself (an account may be both holder and requester).
            exclude_holder: Some(me.id.clone()),
        };
        let ranked = self.engine.rank(&match_query, fanout.max_holders as usize);
        let enough = ranked.len() as u32 >= fanout.min_holders;
        if !enough && !wait {
            tracing::info!(requester_id = %me.id, qualified = ranked.len(), min_holders = fanout.min_holders, "demand refused: insufficient holders");
            let eliminations = self.engine.eliminations(&match_query);
            let mut details =
                serde_json::to_value(&eliminations).map_err(ExchangeError::internal)?;
            details["min_holders"] = fanout.min_holders.into();
            // The smallest relaxation of each criterion that alone would be enough.
            let relaxations = symbolon_match::explain::relaxations(
                self.engine.as_ref(),
                &match_query,
                fanout.min_holders as u64,
            );
            details["relaxations"] =
                serde_json::to_value(&relaxations).map_err(ExchangeError::internal)?;
            return Err(ExchangeError::new(
                ErrorCode::InsufficientHolders,
                format!(
                    "{} holder(s) qualify, {} needed; nobody was contacted",
                    ranked.len(),
                    fanout.min_holders
                ),
            )
            .with_details(details));
        }
        let demand_id = self.new_id(prefix::DEMAND);
        let deadline = now.plus_seconds(fanout.ttl_seconds as i64);
        let record = store::DemandRecord {
            id: demand_id.clone(),
            requester_id: me.id.clone(),
            query,
            category: category.map(|c| c.as_str().to_string()),
            max_price_minor: max_price.map(|m| m.minor),
            currency: max_price.map(|m| m.currency.as_str().to_string()),
            min_positive_rate: criteria.min_positive_rate,
            min_success_rate: criteria.min_success_rate,
            min_ratings: criteria.min_ratings.map(|r| r as i64),
            fields: criteria
                .fields
                .iter()
                .map(|f| f.as_str().to_string())
                .collect(),
            min_holders: fanout.min_holders as i64,
            max_holders: fanout.max_holders as i64,
            ttl_seconds: fanout.ttl_seconds as i64,
            deadline: deadline.millis(),
            created_at: now.millis(),
            accepted_offer_id: None,
            waiting: !enough,
        };
        if !enough {
            self.store.create_demand(&record, &[]).await?;
            tracing::info!(demand_id = %demand_id, requester_id = %me.id, qualified = ranked.len(), min_holders = fanout.min_holders, "standing demand waiting for holders");
            return Ok(api::DemandCreated {
                id: demand_id,
                status: DemandStatus::Waiting.as_str().to_string(),
                deadline: convert::ts(deadline),
                contacted: vec![],
            });
        }
        let requests = self.requests_for(&demand_id, &ranked, deadline, now);
        self.store.create_demand(&record, &requests).await?;
        tracing::info!(demand_id = %demand_id, requester_id = %me.id, contacted = requests.len(), "demand matched");
        let contacted = requests
            .iter()
            .map(|i| {
                contacted_of(
                    i,
                    names.get(&i.holder_id).map(String::as_str).unwrap_or(""),
                    now,
                )
            })
            .collect::<ExchangeResult<Vec<_>>>()?;
        Ok(api::DemandCreated {
            id: demand_id,
            status: DemandStatus::Open.as_str().to_string(),
            deadline: convert::ts(deadline),
            contacted,
        })
    }

    /// The interaction requests for the ranked holders, best first.
    fn requests_for(
        &self,
        demand_id: &str,
        ranked: &[RankedHolder],
        deadline: Timestamp,
        now: Timestamp,
    ) -> Vec<store::Interaction> {
        ranked
            .iter()
            .enumerate()
            .map(|(i, r)| store::Interaction {
                id: self.new_id(prefix::INTERACTION),
                demand_id: demand_id.to_string(),
                holder_id: r.holder_id.clone(),
                rank: i as i64 + 1,
                status: InteractionStatus::Pending,
                deadline,
                matched_pass_ids: r.matched_pass_ids.clone(),
                why: json!({
                    "score": r.score,
                    "relevance": r.relevance,
                    "positive_lower_bound": r.positive_lower_bound,
                    "success_lower_bound": r.success_lower_bound,
                    "matched_fields": r.matched_fields,
                    "matched_pass_ids": r.matched_pass_ids,
                }),
                created_at: now,
                decided_at: None,
                seq: 0,
            })
            .collect()
    }

    /// Brings the matching engine up to the store's market version (a cheap
    /// read when nothing changed) and returns holder names. Every replica
    /// checks the shared version before matching, so a committed change is
    /// seen by the next demand anywhere.
    pub async fn fresh_market(&self) -> ExchangeResult<Arc<HashMap<String, String>>> {
        self.sync_engine(false).await.map(|(names, _)| names)
    }

    /// Checks the engine's index against the store at start-up and brings it
    /// up to date (a missing index is rebuilt), logging the rate.
    pub async fn sync_index(&self) -> ExchangeResult<SyncStats> {
        let store_version = self.store.market_version().await?;
        let index_version = self.engine.indexed_version();
        let started = std::time::Instant::now();
        let (_, stats) = self.sync_engine(true).await?;
        let stats = stats.unwrap_or_default();
        let secs = started.elapsed().as_secs_f64().max(1e-6);
        tracing::info!(
            store_version,
            index_version = ?index_version,
            indexed = stats.indexed,
            passes = stats.passes,
            listings = stats.listings,
            holders = stats.holders,
            passes_per_second = (stats.indexed as f64 / secs) as u64,
            ms = (secs * 1000.0) as u64,
            "search index ready"
        );
        Ok(stats)
    }

    /// Syncs the engine (always when `force`), logging progress and rate.
    pub(crate) async fn sync_engine(
        &self,
        force: bool,
    ) -> ExchangeResult<(Arc<HashMap<String, String>>, Option<SyncStats>)> {
        let mut mark = self.sync.lock().await;
        let now = self.now();
        let version = self.store.market_version().await?;
        let stale = force
            || mark.version != Some(version)
            || mark.stale_at.is_some_and(|t| now >= t)
            || mark
                .synced_at
                .is_none_or(|t| now.millis() - t.millis() >= MAX_MARKET_SYNC_AGE_MS);
        if !stale {
            return Ok((mark.names.clone(), None));
        }
        // Only holders' reputations or fields changed since the last sync:
        // update those holders in place, without re-reading the market.
        let periodic = mark.stale_at.is_some_and(|t| now >= t)
            || mark
                .synced_at
                .is_none_or(|t| now.millis() - t.millis() >= MAX_MARKET_SYNC_AGE_MS);
        if let (false, false, Some(from)) = (force, periodic, mark.version) {
            if version > from && version - from <= MAX_INCREMENTAL_SYNC_VERSIONS {
                let changes = self.store.market_changes(from, version).await?;
                if changes.len() as i64 == version - from {
                    let mut ids: Vec<String> = changes.into_iter().map(|(_, h)| h).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    let states = self.store.holders(&ids, now).await?;
                    let profiles: Vec<HolderProfile> =
                        states.iter().map(holder_profile_of).collect();
                    let updated = self.engine.update_holders(&profiles);
                    mark.version = Some(version);
                    tracing::debug!(
                        from,
                        version,
                        holders = ids.len(),
                        updated,
                        "matching engine updated in place"
                    );
                    return Ok((mark.names.clone(), None));
                }
            }
        }
        let started = std::time::Instant::now();
        let snapshot = self.store.market(now).await?;
        let market = market_of(&snapshot)?;
        let progress = |done: u64, total: u64| {
            if total >= 10_000 {
                let secs = started.elapsed().as_secs_f64().max(1e-9);
                tracing::info!(
                    done,
                    total,
                    per_second = (done as f64 / secs) as u64,
                    "indexing passes"
                );
            }
        };
        let stats = self
            .engine
            .sync_versioned(&market, version, &progress)
            .map_err(ExchangeError::internal)?;
        mark.version = Some(version);
        mark.synced_at = Some(now);
        mark.stale_at = snapshot
            .holdings
            .iter()
            .filter_map(|h| h.pass.valid_until)
            .filter(|u| *u > now)
            .min();
        mark.names = Arc::new(
            snapshot
                .holders
                .iter()
                .map(|h| (h.id.clone(), h.name.clone()))
                .collect(),
        );
        tracing::debug!(
            version,
            indexed = stats.indexed,
            passes = stats.passes,
            listings = stats.listings,
            holders = stats.holders,
            ms = started.elapsed().as_millis() as u64,
            "matching engine synced"
        );
        Ok((mark.names.clone(), Some(stats)))
    }

    /// Re-matches standing demands the market changed under since they were
    /// last looked at: each whose query now qualifies `min_holders` gets its
    /// interaction requests (once, even with several replicas). The work is
    /// bounded: at most [`MAX_REMATCH_PER_SWEEP`] demands per call, those
    /// checked longest ago first, so however many demands wait, a market
    /// change costs a bounded amount per sweep and every demand gets its turn
    /// within `waiting / MAX_REMATCH_PER_SWEEP` sweeps. Returns how many
    /// demands were activated.
    pub async fn rematch_waiting(&self) -> ExchangeResult<u64> {
        let now = self.now();
        let waiting = self.store.waiting_demands(now).await?;
        if waiting.is_empty() {
            self.sync.lock().await.rematched.clear();
            return Ok(0);
        }
        self.fresh_market().await?;
        let (version, due) = {
            let mut mark = self.sync.lock().await;
            let Some(version) = mark.version else {
                return Ok(0);
            };
            let live: std::collections::HashSet<&str> =
                waiting.iter().map(|d| d.id.as_str()).collect();
            mark.rematched.retain(|id, _| live.contains(id.as_str()));
            // Not yet checked at this version; never checked first, then the
            // longest ago, then the oldest demand (`waiting` is oldest first).
            let mut due: Vec<(Option<i64>, usize)> = waiting
                .iter()
                .enumerate()
                .filter_map(|(i, d)| match mark.rematched.get(&d.id) {
                    Some(v) if *v == version => None,
                    seen => Some((seen.copied(), i)),
                })
                .collect();
            due.sort();
            due.truncate(MAX_REMATCH_PER_SWEEP);
            for (_, i) in &due {
                mark.rematched.insert(waiting[*i].id.clone(), version);
            }
            (version, due)
        };
        let mut activated = 0;
        for (_, i) in due {
            let d = &waiting[i];
            let query = MatchQuery {
                item: item_of(d)?,
                criteria: criteria_of(d)?,
                exclude_holder: Some(d.requester_id.clone()),
            };
            let ranked = self.engine.rank(&query, d.max_holders as usize);
            if (ranked.len() as i64) < d.min_holders {
                continue;
            }
            let deadline = Timestamp::from_millis(d.deadline);
            let requests = self.requests_for(&d.id, &ranked, deadline, now);
            if self.store.activate_demand(&d.id, &requests, now).await? {
                activated += 1;
                tracing::info!(demand_id = %d.id, contacted = requests.len(), version, "standing demand matched");
            }
        }
        if activated > 0 {
            // Activated demands wrote interaction requests, which are events.
            self.hub.kick();
        }
        Ok(activated)
    }

    pub async fn demand(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Demand> {
        let d = self.store.demand(id).await.or_not_found("demand")?;
        if d.requester_id != me.id {
            return Err(ExchangeError::forbidden(
                "the demand belongs to another requester",
            ));
        }
        let now = self.now();
        let interactions = self.store.demand_interactions(id).await?;
        let mut contacted = Vec::with_capacity(interactions.len());
        for i in &interactions {
            let name = self.store.account(&i.holder_id).await?.name;
            contacted.push(contacted_of(i, &name, now)?);
        }
        let mut offers = Vec::new();
        for o in self.store.demand_offers(id).await? {
            offers.push(self.offer_view(&o).await?);
        }
        let status = if d.accepted_offer_id.is_some() {
            DemandStatus::Accepted
        } else if d.waiting && now.millis() >= d.deadline {
            DemandStatus::Expired
        } else if d.waiting {
            DemandStatus::Waiting
        } else if now.millis() >= d.deadline {
            DemandStatus::Closed
        } else {
            DemandStatus::Open
        };
        Ok(api::Demand {
            id: d.id.clone(),
            status: status.as_str().to_string(),
            requester_id: d.requester_id.clone(),
            item: convert::demand_item(&d),
            holder: api::HolderCriteria {
                min_positive_rate: d.min_positive_rate,
                min_success_rate: d.min_success_rate,
                min_ratings: d.min_ratings.map(|r| r as u64),
                fields: (!d.fields.is_empty()).then(|| d.fields.clone()),
            },
            min_holders: d.min_holders as u32,
            max_holders: d.max_holders as u32,
            ttl_seconds: d.ttl_seconds as u32,
            deadline: convert::ts(Timestamp::from_millis(d.deadline)),
            created_at: convert::ts(Timestamp::from_millis(d.created_at)),
            accepted_offer_id: d.accepted_offer_id.clone(),
            contacted,
            offers,
        })
    }

    async fn offer_view(&self, o: &store::Offer) -> ExchangeResult<api::Offer> {
        let holder = self.store.holder(&o.holder_id, self.now()).await?;
        let pass = self.store.pass(&o.pass_id).await?;
        let product = self.store.product(&pass.product_id).await?;
        Ok(api::Offer {
            id: o.id.clone(),
            demand_id: o.demand_id.clone(),
            interaction_id: o.interaction_id.clone(),
            status: o.status.as_str().to_string(),
            holder: convert::holder_public(&holder),
            pass: convert::pass_summary(&self.config.public_url, &pass, &product),
            note: o.note.clone(),
            created_at: convert::ts(o.created_at),
            accepted_at: o.accepted_at.map(convert::ts),
            licence: o.licence_jws.clone(),
            unit: o.unit_no.map(|n| format!("{}/units/{n}", o.pass_id)),
            unit_no: o.unit_no,
        })
    }

    /// One of the caller's passes (a provider's own, else 403; 404 if none).
    pub(crate) async fn own_pass(
        &self,
        me: &store::Account,
        pass_id: &str,
    ) -> ExchangeResult<store::Pass> {
        require(me, Role::Provider)?;
        let pass = self.store.pass(pass_id).await.or_not_found("pass")?;
        if pass.provider_id != me.id {
            return Err(ExchangeError::forbidden(
                "the pass belongs to another provider",
            ));
        }
        Ok(pass)
    }

    async fn own_offer(&self, me: &store::Account, id: &str) -> ExchangeResult<store::Offer> {
        require(me, Role::Requester)?;
        let o = self.store.offer(id).await.or_not_found("offer")?;
        if o.requester_id != me.id {
            return Err(ExchangeError::forbidden(
                "the offer was made to another requester",
            ));
        }
        Ok(o)
    }

    pub async fn accept_offer(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Offer> {
        let offer = self.own_offer(me, id).await?;
        if offer.status == OfferStatus::Accepted {
            return Err(ExchangeError::new(
                ErrorCode::OfferAlreadyAccepted,
                "the offer was already accepted",
            ));
        }
        let pass = self.store.pass(&offer.pass_id).await?;
        let now = self.now();
        usable(&pass, now)?;
        let licence_jws = if pass.mode == PassMode::Shareable {
            let key = self.signing_key(&pass.provider_id).await?;
            let claims = symbolon_pass::licence_claims(
                &self.new_id(prefix::LICENCE),
                &pass_url(&self.config.public_url, &pass.id),
                &self.issuer_id(&pass.provider_id),
                &offer.holder_id,
                &me.id,
                &offer.id,
                now,
            );
            Some(symbolon_pass::sign_compact(
                &claims,
                &key,
                symbolon_pass::LICENCE_TYP,
                None,
            ))
        } else {
            None
        };
        // Nothing changes hands yet: a unique pass's unit goes to the
        // requester only when the order placed from this offer is paid.
        let accepted = self
            .store
            .accept_offer(&store::Acceptance {
                offer_id: offer.id.clone(),
                requester_id: me.id.clone(),
                licence_jws,
                at: now,
            })
            .await?;
        tracing::info!(offer_id = %accepted.id, requester_id = %me.id, "offer accepted");
        self.offer_view(&accepted).await
    }

    pub async fn rate(
        &self,
        me: &store::Account,
        offer_id: &str,
        req: &api::CreateRating,
    ) -> ExchangeResult<api::Rating> {
        let offer = self.own_offer(me, offer_id).await?;
        // Only a buyer rates (the store checks the same inside its transaction).
        if offer.status != OfferStatus::Accepted {
            return Err(ExchangeError::new(
                ErrorCode::RatingNotAllowed,
                "only the offer you accepted can be rated, once its order is paid",
            ));
        }
        let comment = req
            .comment
            .as_deref()
            .map(|c| validate_text("comment", c, MAX_NOTE_CHARS, true))
            .transpose()?
            .filter(|c| !c.is_empty());
        let rating = store::Rating {
            id: self.new_id(prefix::RATING),
            offer_id: offer.id.clone(),
            holder_id: offer.holder_id.clone(),
            requester_id: me.id.clone(),
            positive: req.positive,
            comment,
            created_at: self.now(),
        };
        self.store.rate(&rating).await?;
        tracing::info!(offer_id = %offer.id, holder_id = %offer.holder_id, positive = req.positive, "holder rated");
        Ok(api::Rating {
            id: rating.id,
            offer_id: rating.offer_id,
            holder_id: rating.holder_id,
            positive: rating.positive,
            comment: rating.comment,
            created_at: convert::ts(rating.created_at),
        })
    }

    // ------------------------------------------------------------ requesters and orders

    pub async fn set_requester_profile(
        &self,
        me: &store::Account,
        req: &api::RequesterProfileUpdate,
    ) -> ExchangeResult<api::RequesterProfile> {
        require(me, Role::Requester)?;
        let ship_to = req
            .ship_to
            .as_ref()
            .map(|a| validate_address("ship_to", a))
            .transpose()?;
        let payment_method = req
            .payment_method
            .as_ref()
            .map(|pm| self.gateway.tokenize(&pm.kind, &pm.number))
            .transpose()?;
        // Fields left out keep what is saved; the store merges atomically.
        let update = store::RequesterProfile {
            account_id: me.id.clone(),
            ship_to,
            payment_method,
            updated_at: self.now(),
        };
        self.store.set_requester_profile(&update).await?;
        let saved = self.store.requester_profile(&me.id).await?;
        Ok(profile_view(&saved))
    }

    pub async fn requester_profile(
        &self,
        me: &store::Account,
    ) -> ExchangeResult<api::RequesterProfile> {
        require(me, Role::Requester)?;
        let p = self
            .store
            .requester_profile(&me.id)
            .await
            .or_not_found("requester profile")?;
        Ok(profile_view(&p))
    }

    pub async fn create_order(
        &self,
        me: &store::Account,
        req: &api::CreateOrder,
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
                return Ok(convert::order(&done));
            }
        }
        let offer = referenced(
            self.store.offer(&req.offer_id).await,
            "offer_id",
            "no such offer",
        )?;
        if offer.requester_id != me.id {
            return Err(ExchangeError::forbidden(
                "the offer was made to another requester",
            ));
        }
        if offer.status != OfferStatus::Accepted {
            return Err(ExchangeError::new(
                ErrorCode::OfferNotAccepted,
                "accept the offer before ordering",
            ));
        }
        let pass = self.store.pass(&offer.pass_id).await?;
        if !pass.is_valid_at(self.now()) {
            return Err(ExchangeError::new(
                ErrorCode::PassExpired,
                "the pass is no longer valid",
            ));
        }
        let product = self.store.product(&pass.product_id).await?;
        let quantity = validate_range("quantity", req.quantity, 1, MAX_ORDER_QUANTITY)?;
        if pass.mode == PassMode::Unique && quantity != 1 {
            return Err(ExchangeError::field(
                "quantity",
                "an accepted unique pass transfers one unit: quantity must be 1",
            ));
        }
        let (profile, ship_to) = self.order_profile(me, req.ship_to.as_ref()).await?;
        let (unit_price, total, commission) =
            order_amounts(&product, quantity, pass.commission_bps)?;
        let now = self.now();
        let method = one_click_method(profile.as_ref(), req.pay)?;
        let order = store::Order {
            id: self.new_id(prefix::ORDER),
            offer_id: Some(offer.id.clone()),
            requester_id: me.id.clone(),
            provider_id: pass.provider_id.clone(),
            holder_id: Some(offer.holder_id.clone()),
            product_id: product.id.clone(),
            pass_id: pass.id.clone(),
            quantity,
            unit_price_minor: unit_price.minor,
            total_minor: total.minor,
            commission_minor: commission.minor,
            currency: total.currency.as_str().to_string(),
            status: symbolon_core::state::OrderStatus::Placed,
            ship_to,
            payment_ref: None,
            created_at: now,
            paid_at: None,
            shipped_at: None,
            unit_no: offer.unit_no,
            pay_by: self.pay_by(now, method.is_some()),
            seq: 0,
        };
        let placed = self
            .record_order_retrying(&order, &pass, method.as_ref(), total)
            .await?;
        tracing::info!(order_id = %placed.id, requester_id = %me.id, provider_id = %placed.provider_id, holder_id = ?placed.holder_id, status = %placed.status, total = %total, "order placed");
        Ok(convert::order(&placed))
    }

    /// The requester's saved profile, if any, and where an order ships:
    /// `given`, or else the saved address.
    pub(crate) async fn order_profile(
        &self,
        me: &store::Account,
        given: Option<&api::Address>,
    ) -> ExchangeResult<(Option<store::RequesterProfile>, store::Address)> {
        let profile = match self.store.requester_profile(&me.id).await {
            Ok(p) => Some(p),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let ship_to = match given {
            Some(a) => validate_address("ship_to", a)?,
            None => profile
                .as_ref()
                .and_then(|p| p.ship_to.clone())
                .ok_or_else(|| {
                    ExchangeError::new(
                        ErrorCode::ShippingAddressMissing,
                        "give `ship_to` or save one in the requester profile",
                    )
                })?,
        };
        Ok((profile, ship_to))
    }

    /// When an order placed at `now` must be paid by: `None` when it is paid
    /// as it is placed.
    pub(crate) fn pay_by(&self, now: Timestamp, paid_now: bool) -> Option<Timestamp> {
        (!paid_now).then(|| now.plus_millis(self.config.unpaid_order_ttl.as_millis() as i64))
    }

    /// The signed first transfer of one of `holder`'s unsold units of a
    /// unique pass to `buyer`, at `now` (`UnitsExhausted` if none is left).
    pub(crate) async fn first_sale(
        &self,
        pass: &store::Pass,
        holder: &str,
        buyer: &str,
        now: Timestamp,
    ) -> ExchangeResult<store::UnitTransfer> {
        let Some(unit_no) = self.store.free_unit(&pass.id, holder).await? else {
            return Err(ExchangeError::new(
                ErrorCode::UnitsExhausted,
                "the holder has no unsold unit of this pass left",
            ));
        };
        self.signed_transfer(
            pass,
            unit_no,
            1,
            holder,
            buyer,
            &pass.jws,
            now,
            Some(holder),
        )
        .await
    }

    /// [`Self::record_order`] for an order of `pass`: when it is paid as it is
    /// placed and the pass is unique, one of the holder's unsold units goes
    /// with the payment — the next one when a concurrent sale took the first.
    pub(crate) async fn record_order_retrying(
        &self,
        order: &store::Order,
        pass: &store::Pass,
        method: Option<&store::StoredPaymentMethod>,
        total: Money,
    ) -> ExchangeResult<store::Order> {
        let unit_moves =
            method.is_some() && pass.mode == PassMode::Unique && order.unit_no.is_none();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let transfer = match (&order.holder_id, unit_moves) {
                (Some(holder), true) => Some(
                    self.first_sale(pass, holder, &order.requester_id, order.created_at)
                        .await?,
                ),
                _ => None,
            };
            match self
                .record_order(order, transfer.as_ref(), method, total)
                .await?
            {
                Err(StoreError::Conflict(symbolon_store::Conflict::UnitAlreadySold))
                    if attempt < MAX_UNIT_RACE_RETRIES => {}
                other => return Ok(other?),
            }
        }
    }

    /// Records an order; with a payment method it is paid in the same step:
    /// authorize, record with the settlement, then capture — or void when the
    /// store refuses. The store's refusal is the inner error, so callers can
    /// retry a lost race.
    pub(crate) async fn record_order(
        &self,
        order: &store::Order,
        transfer: Option<&store::UnitTransfer>,
        method: Option<&store::StoredPaymentMethod>,
        total: Money,
    ) -> ExchangeResult<Result<store::Order, StoreError>> {
        let Some(method) = method else {
            return Ok(self.store.place_order(order, transfer, None).await);
        };
        // A reference unique to this attempt (random even under a request's
        // derived ids): a second run that loses the race voids only its own.
        let attempt = self.ids.next(prefix::LEDGER);
        let auth = self
            .authorize(method, total, &format!("{}_{attempt}", order.id))
            .await?;
        let settlement = self.settlement(order, &auth, order.created_at);
        let placed = self
            .store
            .place_order(order, transfer, Some(&settlement))
            .await;
        match &placed {
            Ok(_) => self.capture(&auth).await,
            Err(_) => self.void(&auth).await,
        }
        Ok(placed)
    }

    pub async fn pay_order(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Order> {
        require(me, Role::Requester)?;
        let order = self.store.order(id).await.or_not_found("order")?;
        if order.requester_id != me.id {
            return Err(ExchangeError::forbidden(
                "the order belongs to another requester",
            ));
        }
        if order.status == symbolon_core::state::OrderStatus::Expired
            || (order.status.can_pay() && order.pay_by.is_some_and(|t| t <= self.now()))
        {
            return Err(ExchangeError::new(
                ErrorCode::OrderExpired,
                "the order was not paid in time and has expired; place a new one",
            ));
        }
        if !order.status.can_pay() {
            return Err(ExchangeError::new(
                ErrorCode::InvalidState,
                format!("the order is already {}", order.status),
            ));
        }
        let profile = match self.store.requester_profile(&me.id).await {
            Ok(p) => Some(p),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let method = profile.and_then(|p| p.payment_method).ok_or_else(|| {
            ExchangeError::new(
                ErrorCode::PaymentMethodMissing,
                "save a payment method in the requester profile first",
            )
        })?;
        let total = Money::parse(
            &convert::money(order.total_minor, &order.currency).amount,
            &order.currency,
        )
        .map_err(ExchangeError::internal)?;
        // A reference unique to this attempt: a concurrent second attempt that
        // loses the race voids its own authorization, never the winner's.
        let attempt = self.ids.next(prefix::LEDGER);
        let auth = self
            .authorize(&method, total, &format!("{}_{attempt}", order.id))
            .await
            .map_err(|mut e| {
                if e.code == ErrorCode::PaymentDeclined {
                    e.message = "the payment method was declined; the order stays unpaid".into();
                }
                e
            })?;
        let now = self.now();
        let settlement = self.settlement(&order, &auth, now);
        // A unique pass's unit changes hands with the payment: one of the
        // holder's unsold units, the next one when a concurrent sale took it.
        let pass = self.store.pass(&order.pass_id).await?;
        let unit_moves = pass.mode == PassMode::Unique && order.unit_no.is_none();
        let mut attempt = 0;
        let paid = loop {
            attempt += 1;
            let transfer = match (&order.holder_id, unit_moves) {
                (Some(holder), true) => match self.first_sale(&pass, holder, &me.id, now).await {
                    Ok(t) => Some(t),
                    Err(e) => {
                        self.void(&auth).await;
                        return Err(e);
                    }
                },
                _ => None,
            };
            match self
                .store
                .pay_order(&order.id, &settlement, transfer.as_ref())
                .await
            {
                Err(StoreError::Conflict(symbolon_store::Conflict::UnitAlreadySold))
                    if attempt < MAX_UNIT_RACE_RETRIES => {}
                other => break other,
            }
        };
        match paid {
            Ok(o) => {
                self.capture(&auth).await;
                tracing::info!(order_id = %o.id, requester_id = %me.id, unit_no = ?o.unit_no, "order paid");
                Ok(convert::order(&o))
            }
            Err(e) => {
                self.void(&auth).await;
                Err(e.into())
            }
        }
    }

    pub(crate) async fn authorize(
        &self,
        method: &store::StoredPaymentMethod,
        total: Money,
        reference: &str,
    ) -> ExchangeResult<String> {
        self.gateway
            .authorize(method, total, reference)
            .await
            .map_err(|e| match e {
                PaymentError::Declined => ExchangeError::new(
                    ErrorCode::PaymentDeclined,
                    "the payment method was declined; nothing was ordered",
                ),
                other => ExchangeError::internal(other),
            })
    }

    pub(crate) async fn capture(&self, auth: &str) {
        if let Err(e) = self.gateway.capture(auth).await {
            tracing::error!(authorization = auth, error = %e, "capture failed after the order was recorded");
        }
    }

    pub(crate) async fn void(&self, auth: &str) {
        if let Err(e) = self.gateway.void(auth).await {
            tracing::error!(authorization = auth, error = %e, "void failed");
        }
    }

    /// The double-entry postings of paying an order: the requester pays the
    /// total to the provider; the provider pays the commission to the holder.
    pub(crate) fn settlement(
        &self,
        order: &store::Order,
        auth: &str,
        at: Timestamp,
    ) -> store::Settlement {
        let p = |account: &str, amount: i64, memo: &str| store::Posting {
            account_id: account.to_string(),
            currency: order.currency.clone(),
            amount_minor: amount,
            memo: format!("{memo} {}", order.id),
        };
        let mut postings = vec![
            p(&order.requester_id, -order.total_minor, "payment for"),
            p(&order.provider_id, order.total_minor, "payment for"),
        ];
        if let Some(holder) = &order.holder_id {
            postings.push(p(
                &order.provider_id,
                -order.commission_minor,
                "commission on",
            ));
            postings.push(p(holder, order.commission_minor, "commission on"));
        }
        store::Settlement {
            ledger_id: self.ids.next(prefix::LEDGER),
            payment_ref: auth.to_string(),
            postings,
            at,
        }
    }

    pub async fn orders(
        &self,
        me: &store::Account,
        role: Option<&str>,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::OrderList> {
        let role = match role {
            Some(r) => Role::parse(r).ok_or_else(|| {
                ExchangeError::new(
                    ErrorCode::InvalidQuery,
                    "role: one of provider, requester, holder",
                )
                .with_details(json!({"field": "role"}))
            })?,
            None => [Role::Provider, Role::Requester, Role::Holder]
                .into_iter()
                .find(|r| me.has_role(*r))
                .unwrap_or(Role::Requester),
        };
        require(me, role)?;
        let page = page(after, limit)?;
        let party = match role {
            Role::Provider => OrderParty::Provider(&me.id),
            Role::Requester => OrderParty::Requester(&me.id),
            Role::Holder => OrderParty::Holder(&me.id),
        };
        let now = self.now();
        let items: Vec<store::Order> = self
            .store
            .orders(party, &page)
            .await?
            .into_iter()
            .map(|o| o.as_of(now))
            .collect();
        let view = |o: &store::Order| match role {
            Role::Holder => convert::order_for_holder(o),
            _ => convert::order(o),
        };
        let next = (items.len() as u32 == page.limit)
            .then(|| items.last().map(|o| o.seq.to_string()))
            .flatten();
        Ok(api::OrderList {
            items: items.iter().map(view).collect(),
            next,
        })
    }

    /// The object this request created in an earlier run cut off before its
    /// answer was stored (see [`crate::idempotency`]), if any.
    pub(crate) async fn made_by_earlier_run<T, F, Fut>(&self, prefix: &str, get: F) -> Option<T>
    where
        F: FnOnce(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let id = self.first_request_id(prefix)?;
        get(id).await.ok()
    }

    pub async fn order(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Order> {
        let o = self
            .store
            .order(id)
            .await
            .or_not_found("order")?
            .as_of(self.now());
        if o.requester_id != me.id
            && o.provider_id != me.id
            && o.holder_id.as_deref() != Some(me.id.as_str())
        {
            return Err(ExchangeError::forbidden(
                "the order belongs to other accounts",
            ));
        }
        if o.requester_id != me.id && o.provider_id != me.id {
            // Holders never see the buyer's address or payment reference.
            return Ok(convert::order_for_holder(&o));
        }
        Ok(convert::order(&o))
    }

    pub async fn ship_order(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Order> {
        require(me, Role::Provider)?;
        let o = self.store.order(id).await.or_not_found("order")?;
        if o.provider_id != me.id {
            return Err(ExchangeError::forbidden(
                "the order is for another provider",
            ));
        }
        if !o.status.can_ship() {
            let why = match o.status {
                symbolon_core::state::OrderStatus::Placed => {
                    "the order is not paid yet: only paid orders ship".to_string()
                }
                s => format!("the order is {s}"),
            };
            return Err(ExchangeError::new(ErrorCode::InvalidState, why));
        }
        let shipped = self.store.ship_order(id, self.now()).await?;
        tracing::info!(order_id = %id, provider_id = %me.id, "order shipped");
        Ok(convert::order(&shipped))
    }

    /// Expires unpaid orders past their `pay_by` (the sweeper calls it);
    /// wakes this replica's streams when any expired.
    pub async fn expire_unpaid_orders(&self) -> ExchangeResult<u64> {
        let n = self.store.expire_unpaid_orders(self.now()).await?;
        if n > 0 {
            self.hub.kick();
        }
        Ok(n)
    }

    pub async fn balances(&self, me: &store::Account) -> ExchangeResult<api::Balances> {
        let rows = self.store.balances(&me.id).await?;
        Ok(api::Balances {
            balances: rows
                .into_iter()
                .map(|(c, m)| {
                    let amount = convert::money(m, &c).amount;
                    (c, amount)
                })
                .collect(),
        })
    }
}

fn profile_view(p: &store::RequesterProfile) -> api::RequesterProfile {
    api::RequesterProfile {
        ship_to: p.ship_to.as_ref().map(convert::address),
        payment_method: p.payment_method.as_ref().map(|m| api::PaymentMethod {
            kind: m.kind.clone(),
            last4: m.last4.clone(),
        }),
        updated_at: convert::ts(p.updated_at),
    }
}

fn contacted_of(
    i: &store::Interaction,
    name: &str,
    now: Timestamp,
) -> ExchangeResult<api::Contacted> {
    let why: api::MatchReason =
        serde_json::from_value(i.why.clone()).map_err(ExchangeError::internal)?;
    Ok(api::Contacted {
        interaction_id: i.id.clone(),
        holder_id: i.holder_id.clone(),
        holder_name: name.to_string(),
        rank: i.rank,
        status: i.status_at(now).as_str().to_string(),
        why,
    })
}

fn criteria_of(d: &store::DemandRecord) -> ExchangeResult<HolderCriteria> {
    Ok(HolderCriteria {
        min_positive_rate: d.min_positive_rate,
        min_success_rate: d.min_success_rate,
        min_ratings: d.min_ratings.map(|r| r as u64),
        fields: d
            .fields
            .iter()
            .map(|f| TaxonomyPath::parse(f, "fields"))
            .collect::<Result<_, _>>()
            .map_err(ExchangeError::internal)?,
    })
}

fn item_of(d: &store::DemandRecord) -> ExchangeResult<ItemSpec> {
    let category = d
        .category
        .as_deref()
        .map(|c| TaxonomyPath::parse(c, "category"))
        .transpose()
        .map_err(ExchangeError::internal)?;
    let max_price = match (d.max_price_minor, &d.currency) {
        (Some(m), Some(c)) => Some(Money::new(
            m,
            symbolon_core::Currency::parse(c).map_err(ExchangeError::internal)?,
        )),
        _ => None,
    };
    Ok(ItemSpec {
        query: d.query.clone(),
        category,
        max_price,
    })
}

fn pass_doc_of(h: &Holding) -> ExchangeResult<PassDoc> {
    Ok(PassDoc {
        pass_id: h.pass.id.clone(),
        title: h.product.title.clone(),
        description: h.product.description.clone(),
        specs: h.product.specs.clone(),
        category: TaxonomyPath::parse(&h.product.category, "category")
            .map_err(ExchangeError::internal)?,
        price: Money::new(
            h.product.price_minor,
            symbolon_core::Currency::parse(&h.product.currency).map_err(ExchangeError::internal)?,
        ),
    })
}

/// A holder as the matcher sees it (fields that no longer parse are dropped).
fn holder_profile_of(h: &store::HolderState) -> HolderProfile {
    HolderProfile {
        id: h.id.clone(),
        fields: h
            .fields
            .iter()
            .filter_map(|f| TaxonomyPath::parse(f, "fields").ok())
            .collect(),
        reputation: h.reputation,
    }
}

fn market_of(s: &store::MarketSnapshot) -> ExchangeResult<Market> {
    let mut passes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for h in &s.holdings {
        if seen.insert(h.pass.id.as_str()) {
            passes.push(pass_doc_of(h)?);
        }
    }
    let listings = s
        .holdings
        .iter()
        .map(|h| Listing {
            holder_id: h.holder_id.clone(),
            pass_id: h.pass.id.clone(),
        })
        .collect();
    let holders = s
        .holders
        .iter()
        .map(|h| (h.id.clone(), holder_profile_of(h)))
        .collect();
    Ok(Market {
        passes,
        listings,
        holders,
    })
}
