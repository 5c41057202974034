//! Accounts and the catalog (products, passes, grants), and the helpers every
//! service shares: input checks, money, paging, authorization by role.

use crate::convert::{self, pass_url};
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::Exchange;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use symbolon_api as api;
use symbolon_core::demand::{validate_range, validate_text};
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::state::{PassMode, Role};
use symbolon_core::{ErrorCode, Money, TaxonomyPath, Timestamp, ValidationError};
use symbolon_pass::ProviderKey;
use symbolon_store::{self as store, Page, StoreError};

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

pub(crate) fn new_api_key() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let s: String = random_secret()
        .iter()
        .map(|b| ALPHABET[(b & 31) as usize] as char)
        .collect();
    format!("sk_{s}")
}

pub(crate) fn parse_money(field: &str, m: &api::Money) -> Result<Money, ValidationError> {
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

/// A store lookup of an object the request body names: `NotFound` becomes a
/// 404 `not_found` naming the field (a well-formed id of nothing, as Stripe answers).
pub(crate) fn referenced<T>(
    r: Result<T, StoreError>,
    field: &str,
    message: &str,
) -> ExchangeResult<T> {
    r.map_err(|e| match e {
        StoreError::NotFound => {
            ExchangeError::new(ErrorCode::NotFound, format!("{field}: {message}"))
                .with_details(json!({"field": field}))
        }
        other => other.into(),
    })
}

/// Units of a pass or a grant: required for unique passes, refused for shareable ones.
pub(crate) fn units_for(mode: PassMode, units: Option<i64>) -> ExchangeResult<Option<i64>> {
    match (mode, units) {
        (PassMode::Unique, Some(u)) => Ok(Some(validate_range("units", u, 1, MAX_UNITS)?)),
        (PassMode::Unique, None) => {
            Err(ExchangeError::value("units", "required for a unique pass"))
        }
        (PassMode::Shareable, Some(_)) => Err(ExchangeError::value(
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

// The checks of a product's fields, the same at creation and on change.

pub(crate) fn product_title(s: &str) -> ExchangeResult<String> {
    Ok(validate_text("title", s, MAX_TITLE_CHARS, false)?)
}

pub(crate) fn product_description(s: &str) -> ExchangeResult<String> {
    Ok(validate_text(
        "description",
        s,
        MAX_DESCRIPTION_CHARS,
        true,
    )?)
}

/// A category path, normalised.
pub(crate) fn product_category(s: &str) -> ExchangeResult<String> {
    Ok(TaxonomyPath::parse(s, "category")?.as_str().to_string())
}

pub(crate) fn product_specs(
    specs: &std::collections::BTreeMap<String, String>,
) -> ExchangeResult<Vec<(String, String)>> {
    if specs.len() > MAX_SPECS {
        return Err(ExchangeError::field(
            "specs",
            format!("at most {MAX_SPECS} entries"),
        ));
    }
    let mut out = Vec::with_capacity(specs.len());
    for (k, v) in specs {
        let field = format!("specs.{k}");
        let name = validate_text(&field, k, MAX_SPEC_NAME_CHARS, false)?;
        let value = validate_text(&field, v, MAX_SPEC_VALUE_CHARS, true)?;
        out.push((name, value));
    }
    Ok(out)
}

pub(crate) fn product_price_in(m: &api::Money) -> ExchangeResult<Money> {
    let price = parse_money("price", m)?;
    // Free items are not a feature: a zero price is a mistake to catch.
    if price.minor == 0 {
        return Err(ExchangeError::field(
            "price.amount",
            "must be more than zero",
        ));
    }
    Ok(price)
}

pub(crate) fn product_stock(n: i64) -> ExchangeResult<i64> {
    Ok(validate_range("stock", n, 0, MAX_STOCK)?)
}

pub(crate) fn product_gtin(g: &str) -> ExchangeResult<String> {
    let g = g.trim();
    if symbolon_pass::valid_gtin(g) {
        Ok(g.to_string())
    } else if matches!(g.len(), 8 | 12 | 13 | 14) && g.bytes().all(|b| b.is_ascii_digit()) {
        Err(ExchangeError::value(
            "gtin",
            "the GTIN's check digit is wrong",
        ))
    } else {
        Err(ExchangeError::field(
            "gtin",
            "not a GTIN-8, -12, -13 or -14 with a valid check digit",
        ))
    }
}

/// The product is still sold: its provider has not archived it.
pub(crate) fn on_sale(product: &store::Product) -> ExchangeResult<()> {
    if product.on_sale() {
        Ok(())
    } else {
        Err(ExchangeError::new(
            ErrorCode::ProductArchived,
            format!(
                "the product {} was archived by its provider: it is no longer sold",
                product.id
            ),
        ))
    }
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
    let total = unit_price.times(quantity).ok_or_else(|| {
        ExchangeError::value("quantity", "the total (unit price × quantity) is too large")
    })?;
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

pub(crate) fn page(after: Option<&str>, limit: Option<u32>) -> ExchangeResult<Page> {
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

/// The cursor of the next page: the `seq` of a full page's last item
/// (`None` after a page that was not full: it was the last).
pub(crate) fn next_cursor(page: &Page, len: usize, last: Option<i64>) -> Option<String> {
    (len as u32 == page.limit)
        .then(|| last.map(|seq| seq.to_string()))
        .flatten()
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
    /// The exchange clock's now.
    pub fn now(&self) -> Timestamp {
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
        let (name, roles) = self.registration(req)?;
        let login = match &req.login {
            Some(l) => Some(
                self.new_login(&l.email, &l.password)
                    .await
                    .map_err(|e| e.under("login"))?,
            ),
            None => None,
        };
        self.new_account(name, roles, login).await.map_err(|e| {
            if e.code == ErrorCode::EmailTaken {
                e.with_details(serde_json::json!({"field": "login.email"}))
            } else {
                e
            }
        })
    }

    /// What registration checks, the same for the API and for people
    /// signing up on the web: registration open, the name, at least one
    /// role and never `operator`. The account's name and roles.
    pub(crate) fn registration(
        &self,
        req: &api::CreateAccount,
    ) -> ExchangeResult<(String, Vec<Role>)> {
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
            if r == Role::Operator {
                return Err(ExchangeError::field(
                    "roles",
                    "`operator` is not open to registration: the server's admin creates operators (`symbolon admin create-operator`)",
                ));
            }
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        Ok((name, roles))
    }

    /// Creates an operator account (dispute resolution), whatever the
    /// registration setting: only the server's admin command calls it.
    pub async fn create_operator(&self, name: &str) -> ExchangeResult<api::AccountCreated> {
        let name = validate_text("name", name, MAX_NAME_CHARS, false)?;
        self.new_account(name, vec![Role::Operator], None).await
    }

    /// Creates an account (with `login`: a person's, who signs in on the
    /// web). Its registration key is made either way: an account made on
    /// the web never sees it, and makes the keys it uses on its page.
    pub(crate) async fn new_account(
        &self,
        name: String,
        roles: Vec<Role>,
        login: Option<store::NewLogin>,
    ) -> ExchangeResult<api::AccountCreated> {
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
                login,
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
        let title = product_title(&req.title)?;
        let description = product_description(&req.description)?;
        let category = product_category(&req.category)?;
        let specs = product_specs(&req.specs)?;
        let price = product_price_in(&req.price)?;
        let stock = product_stock(req.stock)?;
        let gtin = req.gtin.as_deref().map(product_gtin).transpose()?;
        let p = store::Product {
            id: self.new_id(prefix::PRODUCT),
            provider_id: me.id.clone(),
            title,
            description,
            category,
            specs,
            price_minor: price.minor,
            currency: price.currency.as_str().to_string(),
            stock,
            created_at: self.now(),
            gtin,
            archived_at: None,
            revision: 0,
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
        on_sale(&product)?;
        let mode = match req.mode {
            api::PassMode::Shareable => PassMode::Shareable,
            api::PassMode::Unique => PassMode::Unique,
        };
        let units = units_for(mode, req.units)?;
        if let Some(n) = units.filter(|n| *n > product.stock) {
            return Err(ExchangeError::value(
                "units",
                format!(
                    "a unique pass cannot promise {n} units: the product has {} in stock",
                    product.stock
                ),
            ));
        }
        let commission_bps =
            validate_range("commission_bps", req.commission_bps, 0, MAX_COMMISSION_BPS)?;
        let now = self.now();
        let valid_until = match &req.valid_until {
            None => None,
            Some(s) => {
                let t = Timestamp::parse_rfc3339(s)
                    .ok_or_else(|| ExchangeError::field("valid_until", "not an RFC 3339 time"))?;
                if t <= now {
                    return Err(ExchangeError::value("valid_until", "must be in the future"));
                }
                if t > now.plus_seconds(MAX_PASS_VALIDITY_DAYS * 86_400) {
                    return Err(ExchangeError::value(
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
            match self.store.create_pass(&pass, product.revision).await {
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
            return Err(ExchangeError::value(
                "holder_id",
                "the account is not a holder",
            ));
        }
        let units = units_for(pass.mode, req.units)?;
        let now = self.now();
        usable(&pass, now)?;
        on_sale(&self.store.product(&pass.product_id).await?)?;
        let grant = store::NewGrant {
            id: self.new_id(prefix::GRANT),
            pass_id: pass.id.clone(),
            holder_id: req.holder_id.clone(),
            units,
            created_at: now,
        };
        let h = match self.store.grant(&grant).await {
            Err(StoreError::Conflict(symbolon_store::Conflict::UnitsExhausted)) => {
                // Say how many are left beside how many were asked for.
                let granted = self.store.unit_counts(&pass.id, None).await?.granted;
                let left = (pass.units.unwrap_or(0) - granted).max(0);
                let asked = units.unwrap_or(0);
                return Err(ExchangeError::new(
                    ErrorCode::UnitsExhausted,
                    format!("units: {asked} asked, but only {left} unit(s) of this pass are left to grant"),
                )
                .with_details(json!({"field": "units", "asked": asked, "left": left})));
            }
            other => other?,
        };
        tracing::info!(pass_id = %pass.id, holder_id = %req.holder_id, units = ?units, "pass granted");
        Ok(convert::holding(&self.config.public_url, &h, now))
    }
}
