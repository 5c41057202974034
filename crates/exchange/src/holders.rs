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
use symbolon_match::{MatchQuery, Matcher};
use symbolon_store::{self as store, Holding};

/// How many interaction requests, orders or ratings the holder's console
/// reads at most for one page (the newest first list, the earnings and the
/// reputation history walk the paged store reads up to this many).
pub const CONSOLE_SCAN_LIMIT: u32 = 2_000;

/// One interaction request as the holder's console shows it: the inbox
/// item, the criteria its requester set, why the matcher chose this holder
/// and the holder's reason when it declined.
#[derive(Debug, Clone)]
pub struct InboxRequest {
    pub item: api::InboxItem,
    pub criteria: api::HolderCriteria,
    pub why: Option<api::MatchReason>,
    pub decline_reason: Option<String>,
    /// Milliseconds left before the deadline (0 once it passed).
    pub remaining_ms: i64,
}

/// What a holder's reputation is made of, with when each happened: its
/// ratings (positive or not) and its decided requests (answered with an
/// offer or not), oldest first.
#[derive(Debug, Clone, Default)]
pub struct ReputationHistory {
    pub ratings: Vec<(symbolon_core::Timestamp, bool)>,
    pub outcomes: Vec<(symbolon_core::Timestamp, bool)>,
}

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
        // The offered pass must really match the item: one the matcher chose
        // for this request when it was sent, or — judged now, on a fresh
        // market, with its statistics and floor — another that does.
        let chosen = interaction.matched_pass_ids.contains(&req.pass_id);
        if !chosen {
            self.fresh_market().await?;
        }
        let query = MatchQuery::new(item, Default::default());
        if !chosen && !self.engine.check(&query, &doc).passes() {
            return Err(ExchangeError::value(
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

    /// The holder's newest interaction requests (up to [`CONSOLE_SCAN_LIMIT`]), newest first.
    async fn newest_interactions(
        &self,
        me: &store::Account,
        limit: u32,
    ) -> ExchangeResult<Vec<store::Interaction>> {
        require(me, Role::Holder)?;
        Ok(self
            .store
            .inbox_newest(&me.id, limit.min(CONSOLE_SCAN_LIMIT))
            .await?)
    }

    /// The holder's newest `limit` interaction requests, newest first, each
    /// with its demand's criteria and why the matcher chose the holder.
    pub async fn inbox_newest(
        &self,
        me: &store::Account,
        limit: usize,
    ) -> ExchangeResult<Vec<InboxRequest>> {
        let newest = self
            .newest_interactions(me, u32::try_from(limit).unwrap_or(u32::MAX))
            .await?;
        let now = self.now();
        let mut demands: HashMap<String, store::DemandRecord> = HashMap::new();
        let mut out = Vec::new();
        for i in &newest {
            if !demands.contains_key(&i.demand_id) {
                let d = self.store.demand(&i.demand_id).await?;
                demands.insert(i.demand_id.clone(), d);
            }
            let d = &demands[&i.demand_id];
            out.push(InboxRequest {
                item: api::InboxItem {
                    id: i.id.clone(),
                    demand_id: i.demand_id.clone(),
                    status: i.status_at(now).as_str().to_string(),
                    rank: i.rank,
                    item: convert::demand_item(d),
                    deadline: convert::ts(i.deadline),
                    matched_pass_ids: i.matched_pass_ids.clone(),
                    created_at: convert::ts(i.created_at),
                },
                criteria: api::HolderCriteria {
                    min_positive_rate: d.min_positive_rate,
                    min_success_rate: d.min_success_rate,
                    min_ratings: d.min_ratings.map(|r| r.max(0) as u64),
                    fields: (!d.fields.is_empty()).then(|| d.fields.clone()),
                },
                why: serde_json::from_value(i.why.clone()).ok(),
                decline_reason: i.decline_reason.clone(),
                remaining_ms: (i.deadline.millis() - now.millis()).max(0),
            });
        }
        Ok(out)
    }

    /// The holder's ratings and decided requests with their moments, oldest
    /// first (the newest [`CONSOLE_SCAN_LIMIT`] requests): a request answered with
    /// an offer counts at its answer, a declined one at its decline, an
    /// expired one at its deadline; pending and withdrawn ones do not count.
    pub async fn reputation_history(
        &self,
        me: &store::Account,
    ) -> ExchangeResult<ReputationHistory> {
        require(me, Role::Holder)?;
        let now = self.now();
        let mut ratings: Vec<_> = self
            .store
            .holder_reviews(&me.id, CONSOLE_SCAN_LIMIT)
            .await?
            .into_iter()
            .map(|r| (r.created_at, r.positive))
            .collect();
        ratings.sort_by_key(|(at, _)| at.millis());
        let mut outcomes: Vec<_> = self
            .newest_interactions(me, CONSOLE_SCAN_LIMIT)
            .await?
            .into_iter()
            .filter_map(|i| {
                use symbolon_core::state::InteractionStatus as S;
                match i.status_at(now) {
                    S::Offered => Some((i.decided_at.unwrap_or(i.created_at), true)),
                    S::Declined => Some((i.decided_at.unwrap_or(i.created_at), false)),
                    S::Expired => Some((i.deadline, false)),
                    S::Pending | S::Withdrawn => None,
                }
            })
            .collect();
        outcomes.sort_by_key(|(at, _)| at.millis());
        Ok(ReputationHistory { ratings, outcomes })
    }

    /// The newest orders the holder brought (up to [`CONSOLE_SCAN_LIMIT`]),
    /// oldest first, as holders see them (no buyer address, payment or
    /// tracking). Every page is read and only the newest kept, so a long
    /// history never hides what came last.
    pub async fn holder_orders(&self, me: &store::Account) -> ExchangeResult<Vec<api::Order>> {
        let mut newest = std::collections::VecDeque::new();
        let mut after: Option<String> = None;
        loop {
            let list = self
                .orders(me, Some("holder"), after.as_deref(), Some(MAX_PAGE_LIMIT))
                .await?;
            for o in list.items {
                newest.push_back(o);
                if newest.len() > CONSOLE_SCAN_LIMIT as usize {
                    newest.pop_front();
                }
            }
            match list.next {
                Some(n) => after = Some(n),
                None => return Ok(newest.into()),
            }
        }
    }
}
