//! The holder's side: profile, wallet, inbox, offers and declines.

use crate::convert::{self};
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::market::{item_of, pass_doc_of};
use crate::service::*;
use crate::Exchange;
use std::collections::HashMap;
use symbolon_api as api;
use symbolon_core::demand::{parse_fields, validate_text};
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::state::{PassMode, Role};
use symbolon_core::ErrorCode;
use symbolon_match::{check_item, text::Terms};
use symbolon_store::{self as store, Holding};

impl Exchange {
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

    /// A holder's public page: its profile and reputation, and the newest
    /// `limit` ratings it received (no rater identity).
    pub async fn holder_page(
        &self,
        id: &str,
        limit: u32,
    ) -> ExchangeResult<(api::HolderPublic, Vec<store::HolderReview>)> {
        let public = self.holder_public(id).await?;
        let reviews = self.store.holder_reviews(id, limit).await?;
        Ok((public, reviews))
    }

    /// The categories of the products on the market, sorted (what a demand
    /// form offers to choose from).
    pub async fn categories_in_use(&self, limit: u32) -> ExchangeResult<Vec<String>> {
        Ok(self.store.categories_in_use(limit).await?)
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

    /// The holder's interaction requests, oldest first; with `pending`, only
    /// those still awaiting an answer (pending, before their deadline).
    pub async fn inbox(
        &self,
        me: &store::Account,
        pending: bool,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::Inbox> {
        require(me, Role::Holder)?;
        let page = page(after, limit)?;
        let now = self.now();
        let items = self
            .store
            .inbox(&me.id, pending.then_some(now), &page)
            .await?;
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

    pub(crate) async fn own_interaction(
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
        on_sale(&holding.product)?;
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
        // Verify the pass against the provider's key that signed it before
        // relaying it. That key is published (`jwks`): the pass is unexpired
        // and was issued before the key could have retired. Only that key is
        // read, so an offer costs no scan of the provider's passes.
        let jwks = match &holding.pass.kid {
            Some(kid) => self.signing_jwks(&holding.pass.provider_id, kid).await?,
            // Issued before passes recorded their key (schema v3).
            None => self.jwks(&holding.pass.provider_id).await?,
        };
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
        // The holding read above has the pass and its product.
        self.offer_view_of(&offer, &holding.pass, &holding.product)
            .await
    }

    /// Declines an interaction request, with a reason the requester will
    /// see (at most `MAX_DECLINE_REASON_CHARS`; empty is none).
    pub async fn decline(
        &self,
        me: &store::Account,
        interaction_id: &str,
        reason: Option<&str>,
    ) -> ExchangeResult<api::InteractionState> {
        let interaction = self.own_interaction(me, interaction_id).await?;
        let reason = reason
            .map(|r| validate_text("reason", r, MAX_DECLINE_REASON_CHARS, true))
            .transpose()?
            .filter(|r| !r.is_empty());
        let now = self.now();
        let i = self
            .store
            .decline(&interaction.id, reason.as_deref(), now)
            .await?;
        Ok(convert::interaction_state(&i, now))
    }
}
