//! Requester profiles, orders and payments: one-click orders, paying, shipping,
//! expiry of unpaid orders, the ledger's settlements and balances.

use crate::convert::{self};
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::payment::PaymentError;
use crate::service::*;
use crate::Exchange;
use serde_json::json;
use symbolon_api as api;
use symbolon_core::demand::{validate_range, validate_text};
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::state::{OfferStatus, PassMode, Role};
use symbolon_core::{ErrorCode, Money, Timestamp};
use symbolon_store::{self as store, OrderParty, StoreError};

impl Exchange {
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
                return Ok(convert::order(&done, self.config.return_window));
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
        on_sale(&product)?;
        let quantity = validate_range("quantity", req.quantity, 1, MAX_ORDER_QUANTITY)?;
        if pass.mode == PassMode::Unique && quantity != 1 {
            return Err(ExchangeError::value(
                "quantity",
                "an accepted unique pass transfers one unit: quantity must be 1",
            ));
        }
        let (profile, ship_to) = self.order_profile(me, req.ship_to.as_ref()).await?;
        let method = one_click_method(profile.as_ref(), req.pay)?;
        let (order, total) = self.new_order(NewOrder {
            me,
            pass: &pass,
            product: &product,
            quantity,
            holder_id: Some(offer.holder_id.clone()),
            offer_id: Some(offer.id.clone()),
            unit_no: offer.unit_no,
            commission_bps: pass.commission_bps,
            ship_to,
            paid_now: method.is_some(),
        })?;
        let placed = match self
            .record_order_retrying(&order, &pass, method.as_ref(), total)
            .await
        {
            Err(mut e) if e.code == ErrorCode::AlreadyOrdered => {
                // Name the order that exists, so the buyer can go on with it.
                if let Some(existing) = self.store.live_order_of_offer(&offer.id).await? {
                    e.message = format!("an order was already placed from this offer: {existing}");
                    e = e.with_details(json!({"order_id": existing}));
                }
                return Err(e);
            }
            other => other?,
        };
        tracing::info!(order_id = %placed.id, requester_id = %me.id, provider_id = %placed.provider_id, holder_id = ?placed.holder_id, status = %placed.status, total = %total, "order placed");
        Ok(convert::order(&placed, self.config.return_window))
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

    /// The record of an order about to be placed (amounts from the product's
    /// price, `pay_by` unless it is paid now), and its total.
    pub(crate) fn new_order(&self, o: NewOrder<'_>) -> ExchangeResult<(store::Order, Money)> {
        let (unit_price, total, commission) =
            order_amounts(o.product, o.quantity, o.commission_bps)?;
        let now = self.now();
        let order = store::Order {
            id: self.new_id(prefix::ORDER),
            offer_id: o.offer_id,
            requester_id: o.me.id.clone(),
            provider_id: o.pass.provider_id.clone(),
            holder_id: o.holder_id,
            product_id: o.product.id.clone(),
            pass_id: o.pass.id.clone(),
            quantity: o.quantity,
            unit_price_minor: unit_price.minor,
            total_minor: total.minor,
            commission_minor: commission.minor,
            currency: total.currency.as_str().to_string(),
            status: symbolon_core::state::OrderStatus::Placed,
            ship_to: o.ship_to,
            payment_ref: None,
            created_at: now,
            paid_at: None,
            shipped_at: None,
            unit_no: o.unit_no,
            pay_by: self.pay_by(now, o.paid_now),
            seq: 0,
            after_sale: Default::default(),
        };
        Ok((order, total))
    }

    /// When an order placed at `now` must be paid by: `None` when it is paid
    /// as it is placed.
    pub(crate) fn pay_by(&self, now: Timestamp, paid_now: bool) -> Option<Timestamp> {
        (!paid_now).then(|| now.plus_millis(self.config.unpaid_order_ttl.as_millis() as i64))
    }

    /// The signed sale of one of `holder`'s unsold units of a unique pass to
    /// `buyer`, at `now` (`UnitsExhausted` if none is left): the unit's first
    /// statement, or the next one of a unit a cancelled order handed back.
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
        // A unit handed back by a cancelled order sells again: its next
        // statement follows the last one of its history.
        let history = self.store.unit_history(&pass.id, unit_no).await?;
        let (seq, prev) = match history.last() {
            Some(t) => (t.seq + 1, t.jws.as_str()),
            None => (1, pass.jws.as_str()),
        };
        self.signed_transfer(pass, unit_no, seq, holder, buyer, prev, now, Some(holder))
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
                ErrorCode::InvalidTransition,
                format!("the order is already {}", order.status),
            )
            .with_details(json!({"status": order.status.as_str()})));
        }
        // An archived product is no longer sold: say so before charging.
        on_sale(&self.store.product(&order.product_id).await?)?;
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
                Ok(convert::order(&o, self.config.return_window))
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
            // The requester's money is gone at once; the provider's and the
            // holder's is pending until the order is delivered and its return
            // window has passed (`settle_matured`).
            bucket: if account == order.requester_id {
                store::Bucket::Available
            } else {
                store::Bucket::Pending
            },
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
            Role::Operator => {
                return Err(ExchangeError::new(
                    ErrorCode::InvalidQuery,
                    "role: one of provider, requester, holder",
                )
                .with_details(json!({"field": "role"})))
            }
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
            Role::Holder => convert::order_for_holder(o, self.config.return_window),
            _ => convert::order(o, self.config.return_window),
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
        // Operators read the orders behind the disputes they resolve.
        if me.has_role(Role::Operator) && o.requester_id != me.id && o.provider_id != me.id {
            return Ok(convert::order(&o, self.config.return_window));
        }
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
            return Ok(convert::order_for_holder(&o, self.config.return_window));
        }
        Ok(convert::order(&o, self.config.return_window))
    }

    /// Ships a paid order, with the carrier's tracking (at most
    /// `MAX_TRACKING_CHARS`; empty is none) for the requester.
    pub async fn ship_order(
        &self,
        me: &store::Account,
        id: &str,
        tracking: Option<&str>,
    ) -> ExchangeResult<api::Order> {
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
            return Err(ExchangeError::new(ErrorCode::InvalidTransition, why)
                .with_details(json!({"status": o.status.as_str()})));
        }
        let tracking = tracking
            .map(|t| validate_text("tracking", t, MAX_TRACKING_CHARS, true))
            .transpose()?
            .filter(|t| !t.is_empty());
        let shipped = self
            .store
            .ship_order(id, tracking.as_deref(), self.now())
            .await?;
        tracing::info!(order_id = %id, provider_id = %me.id, "order shipped");
        Ok(convert::order(&shipped, self.config.return_window))
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
}

/// What [`Exchange::new_order`] builds an order from.
pub(crate) struct NewOrder<'a> {
    pub me: &'a store::Account,
    pub pass: &'a store::Pass,
    pub product: &'a store::Product,
    pub quantity: i64,
    /// The holder credited with it (and its commission), if any.
    pub holder_id: Option<String>,
    pub offer_id: Option<String>,
    /// A unit that already changed hands (units sold before payment-time transfers).
    pub unit_no: Option<i64>,
    pub commission_bps: i64,
    pub ship_to: store::Address,
    pub paid_now: bool,
}

pub(crate) fn profile_view(p: &store::RequesterProfile) -> api::RequesterProfile {
    api::RequesterProfile {
        ship_to: p.ship_to.as_ref().map(convert::address),
        payment_method: p.payment_method.as_ref().map(|m| api::PaymentMethod {
            kind: m.kind.clone(),
            last4: m.last4.clone(),
        }),
        updated_at: convert::ts(p.updated_at),
    }
}
