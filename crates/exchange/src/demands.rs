//! Demands: validation, matching, interaction requests, offers as the requester
//! sees them, acceptance and ratings.

use crate::convert::{self, pass_url};
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::service::*;
use crate::Exchange;
use serde_json::json;
use symbolon_api as api;
use symbolon_core::demand::{
    parse_fields, validate_range, validate_rate, validate_text, Fanout, HolderCriteria, ItemSpec,
};
use symbolon_core::ids::prefix;
use symbolon_core::limits::*;
use symbolon_core::state::{DemandStatus, InteractionStatus, OfferStatus, PassMode, Role};
use symbolon_core::{ErrorCode, TaxonomyPath, Timestamp};
use symbolon_match::{text::Terms, MatchQuery, Matcher, RankedHolder};
use symbolon_store::{self as store};

/// A demand's request, validated: what [`Exchange::create_demand`] matches
/// and stores.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidDemand {
    pub item: ItemSpec,
    pub criteria: HolderCriteria,
    pub fanout: Fanout,
    pub wait: bool,
}

/// Checks a demand's request against the limits, without the store or the
/// market: the first bad field is the error. Pure, so the fuzz target
/// `demand` drives it directly.
pub fn validate_demand(req: &api::CreateDemand) -> ExchangeResult<ValidDemand> {
    let query = validate_text("query", &req.query, MAX_QUERY_CHARS, false)?;
    if Terms::of_query(&query).is_empty() {
        return Err(ExchangeError::value(
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
    Ok(ValidDemand {
        item: ItemSpec {
            query,
            category,
            max_price,
        },
        criteria,
        fanout,
        wait: req.wait.unwrap_or(false),
    })
}

impl Exchange {
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
        let ValidDemand {
            item,
            criteria,
            fanout,
            wait,
        } = validate_demand(req)?;
        let (query, category, max_price) =
            (item.query.clone(), item.category.clone(), item.max_price);
        let now = self.now();
        if wait && self.store.count_waiting(&me.id, now).await? >= MAX_WAITING_DEMANDS_PER_REQUESTER
        {
            return Err(ExchangeError::new(
                ErrorCode::TooManyWaitingDemands,
                format!(
                    "at most {MAX_WAITING_DEMANDS_PER_REQUESTER} standing demands may wait at once"
                ),
            ));
        }

        let match_started = std::time::Instant::now();
        let names = self.fresh_market().await?;
        let match_query = MatchQuery {
            item,
            criteria: criteria.clone(),
            // A requester is never matched with itself (an account may be both holder and requester).
            exclude_holder: Some(me.id.clone()),
            floor: symbolon_match::score::DEFAULT_FLOOR,
        };
        let ranked = self.engine.rank(&match_query, fanout.max_holders as usize);
        let enough = ranked.len() as u32 >= fanout.min_holders;
        metrics::histogram!(crate::metrics::MATCH_SECONDS)
            .record(match_started.elapsed().as_secs_f64());
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
            cancelled_at: None,
        };
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
            // The refusal is a selection too: logged, and its id lets the
            // requester fetch the entry's proof.
            let entry = crate::tlog::entry_of(
                &record,
                false,
                crate::tlog::Outcome::Refused {
                    qualified: ranked.len(),
                    eliminations: &eliminations,
                },
                now,
            )?;
            self.store.append_log_entry(&entry).await?;
            crate::metrics::demand("refused");
            details["demand_id"] = demand_id.clone().into();
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
        if !enough {
            self.store.create_demand(&record, &[]).await?;
            crate::metrics::demand("waiting");
            tracing::info!(demand_id = %demand_id, requester_id = %me.id, qualified = ranked.len(), min_holders = fanout.min_holders, "standing demand waiting for holders");
            return Ok(api::DemandCreated {
                id: demand_id,
                status: DemandStatus::Waiting.as_str().to_string(),
                deadline: convert::ts(deadline),
                contacted: vec![],
            });
        }
        let requests = self.requests_for(&demand_id, &ranked, deadline, now);
        let entry =
            crate::tlog::entry_of(&record, wait, crate::tlog::Outcome::Contacted(&ranked), now)?;
        self.store
            .create_demand_logged(&record, &requests, Some(&entry))
            .await?;
        tracing::info!(demand_id = %demand_id, requester_id = %me.id, contacted = requests.len(), "demand matched");
        crate::metrics::demand("contacted");
        metrics::histogram!(crate::metrics::HOLDERS_CONTACTED).record(requests.len() as f64);
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
    pub(crate) fn requests_for(
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
                decline_reason: None,
            })
            .collect()
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
        Ok(api::Demand {
            id: d.id.clone(),
            status: d.status_at(now).as_str().to_string(),
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
            cancelled_at: d
                .cancelled_at
                .map(|t| convert::ts(Timestamp::from_millis(t))),
            contacted,
            offers,
        })
    }

    pub(crate) async fn offer_view(&self, o: &store::Offer) -> ExchangeResult<api::Offer> {
        let pass = self.store.pass(&o.pass_id).await?;
        let product = self.store.product(&pass.product_id).await?;
        self.offer_view_of(o, &pass, &product).await
    }

    /// [`Self::offer_view`] with the offer's pass and product already read.
    pub(crate) async fn offer_view_of(
        &self,
        o: &store::Offer,
        pass: &store::Pass,
        product: &store::Product,
    ) -> ExchangeResult<api::Offer> {
        let holder = self.store.holder(&o.holder_id, self.now()).await?;
        Ok(api::Offer {
            id: o.id.clone(),
            demand_id: o.demand_id.clone(),
            interaction_id: o.interaction_id.clone(),
            status: o.status.as_str().to_string(),
            holder: convert::holder_public(&holder),
            pass: convert::pass_summary(&self.config.public_url, pass, product),
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

    /// The rating the requester gave its offer, if it rated it.
    pub async fn offer_rating(
        &self,
        me: &store::Account,
        offer_id: &str,
    ) -> ExchangeResult<Option<store::HolderReview>> {
        let offer = self.own_offer(me, offer_id).await?;
        Ok(self.store.offer_rating(&offer.id).await?)
    }

    pub(crate) async fn own_offer(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<store::Offer> {
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
        if self
            .store
            .demand(&offer.demand_id)
            .await?
            .cancelled_at
            .is_some()
        {
            return Err(ExchangeError::new(
                ErrorCode::DemandCancelled,
                "you cancelled this demand: its offers can no longer be accepted",
            ));
        }
        let pass = self.store.pass(&offer.pass_id).await?;
        let now = self.now();
        usable(&pass, now)?;
        on_sale(&self.store.product(&pass.product_id).await?)?;
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
}

pub(crate) fn contacted_of(
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
        decline_reason: i.decline_reason.clone(),
    })
}
