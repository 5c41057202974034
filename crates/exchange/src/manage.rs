//! What owners do with what they made: a provider lists, changes and
//! archives its products; a requester lists and cancels its demands. Only
//! the owner may: another account's product or demand is 403, and lists
//! show only the caller's own.
//!
//! A product's passes sign its title, description, category, specs, price
//! and GTIN, so once it has a pass only its stock can change (`409
//! product_has_passes`): what a buyer verified is what it is charged.
//! Archiving stops the sale — no new passes, grants, offers, acceptances,
//! orders or payments, and its passes leave the market as a sold-out
//! product's do — but revokes nothing: passes, licences and units already
//! sold keep verifying, and paid orders go on through their lifecycle.

use crate::convert::{self};
use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::service::*;
use crate::Exchange;
use symbolon_api as api;
use symbolon_core::state::Role;
use symbolon_core::Timestamp;
use symbolon_store::{self as store};

impl Exchange {
    // ------------------------------------------------------------ products

    /// The provider's own products, oldest first.
    pub async fn products(
        &self,
        me: &store::Account,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::ProductList> {
        require(me, Role::Provider)?;
        let page = page(after, limit)?;
        let items = self.store.products_of(&me.id, &page).await?;
        let next = next_cursor(&page, items.len(), items.last().map(|(seq, _)| *seq));
        Ok(api::ProductList {
            items: items.iter().map(|(_, p)| convert::product(p)).collect(),
            next,
        })
    }

    /// One of the caller's products (another provider's is 403, none 404).
    async fn own_product(&self, me: &store::Account, id: &str) -> ExchangeResult<store::Product> {
        require(me, Role::Provider)?;
        let product = self.store.product(id).await.or_not_found("product")?;
        if product.provider_id != me.id {
            return Err(ExchangeError::forbidden(
                "the product belongs to another provider",
            ));
        }
        Ok(product)
    }

    /// Changes the fields given, each checked as at creation. Fields its
    /// passes sign change only while it has none; stock always may (until
    /// it is archived).
    pub async fn update_product(
        &self,
        me: &store::Account,
        id: &str,
        req: &api::UpdateProduct,
    ) -> ExchangeResult<api::Product> {
        let product = self.own_product(me, id).await?;
        let change = store::ProductChange {
            product_id: product.id.clone(),
            provider_id: me.id.clone(),
            title: req.title.as_deref().map(product_title).transpose()?,
            description: req
                .description
                .as_deref()
                .map(product_description)
                .transpose()?,
            category: req.category.as_deref().map(product_category).transpose()?,
            specs: req.specs.as_ref().map(product_specs).transpose()?,
            price: req
                .price
                .as_ref()
                .map(product_price_in)
                .transpose()?
                .map(|m| (m.minor, m.currency.as_str().to_string())),
            gtin: req
                .gtin
                .as_deref()
                .map(|g| match g.trim() {
                    "" => Ok(None),
                    g => product_gtin(g).map(Some),
                })
                .transpose()?,
            stock: req.stock.map(product_stock).transpose()?,
        };
        let updated = self.store.update_product(&change).await?;
        tracing::info!(product_id = %id, provider_id = %me.id, revision = updated.revision, "product updated");
        Ok(convert::product(&updated))
    }

    /// Archives the product (again: nothing changes): it is no longer sold.
    pub async fn archive_product(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<api::Product> {
        self.own_product(me, id).await?;
        let archived = self.store.archive_product(id, &me.id, self.now()).await?;
        tracing::info!(product_id = %id, provider_id = %me.id, "product archived");
        Ok(convert::product(&archived))
    }

    // ------------------------------------------------------------ demands

    /// The requester's own demands, newest first, each with its state and
    /// how many holders were contacted and offered.
    pub async fn demands(
        &self,
        me: &store::Account,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::DemandList> {
        require(me, Role::Requester)?;
        let page = page(after, limit)?;
        let items = self.store.demands_of(&me.id, &page).await?;
        let now = self.now();
        let next = next_cursor(&page, items.len(), items.last().map(|l| l.seq));
        let at = |ms: i64| convert::ts(Timestamp::from_millis(ms));
        Ok(api::DemandList {
            items: items
                .iter()
                .map(|l| {
                    let d = &l.demand;
                    api::DemandSummary {
                        id: d.id.clone(),
                        status: d.status_at(now).as_str().to_string(),
                        item: convert::demand_item(d),
                        contacted: l.contacted.max(0) as u64,
                        offers: l.offers.max(0) as u64,
                        accepted_offer_id: d.accepted_offer_id.clone(),
                        deadline: at(d.deadline),
                        created_at: at(d.created_at),
                        cancelled_at: d.cancelled_at.map(at),
                    }
                })
                .collect(),
            next,
        })
    }

    /// Cancels a waiting, open or closed demand: no request goes out for it
    /// any more, those still pending are withdrawn (their holders hear
    /// `interaction.withdrawn`), and none of its offers can be accepted.
    pub async fn cancel_demand(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<api::Demand> {
        require(me, Role::Requester)?;
        let d = self.store.demand(id).await.or_not_found("demand")?;
        if d.requester_id != me.id {
            return Err(ExchangeError::forbidden(
                "the demand belongs to another requester",
            ));
        }
        self.store.cancel_demand(id, &me.id, self.now()).await?;
        tracing::info!(demand_id = %id, requester_id = %me.id, "demand cancelled");
        self.demand(me, id).await
    }
}
