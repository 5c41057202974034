//! What the provider's web console reads besides the API's own services:
//! its passes, a pass's holders and orders, holder accounts found by name or
//! id (to grant a pass to), and the sales report (revenue and commissions
//! over time, top products and holders) computed from its orders in integer
//! minor units. Every read is bounded by a named limit and checks the role
//! and ownership the way the API does (another provider's pass is 403).

use crate::convert;
use crate::error::{ExchangeError, ExchangeResult};
use crate::service::*;
use crate::Exchange;
use std::collections::{BTreeMap, HashMap};
use symbolon_api as api;
use symbolon_core::limits::{
    HOLDER_SEARCH_LIMIT, MAX_HOLDER_SEARCH_CHARS, MAX_PAGE_LIMIT, PASS_HOLDERS_LISTED,
    PASS_ORDERS_LISTED, PROVIDER_PASSES_LISTED, SALES_DAILY_UNTIL_DAYS, SALES_MAX_ORDERS,
    SALES_TOP,
};
use symbolon_core::state::Role;
use symbolon_core::ErrorCode;
use symbolon_store::{self as store, OrderParty, Page};

/// One bucket of the sales history (a day or a month) in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesBucket {
    /// `YYYY-MM-DD` or `YYYY-MM`.
    pub label: String,
    /// Paid totals less refunds (minor units).
    pub revenue_minor: i64,
    /// Commissions owed to holders less those reversed (minor units).
    pub commission_minor: i64,
    pub orders: i64,
}

/// The sales of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencySales {
    pub currency: String,
    pub revenue_minor: i64,
    pub commission_minor: i64,
    pub orders: i64,
    /// Oldest first, every bucket between the first sale and now.
    pub buckets: Vec<SalesBucket>,
}

/// A product or holder of a top list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesTop {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub orders: i64,
    pub quantity: i64,
    /// Revenue (products) or commission (holders), minor units.
    pub amount_minor: i64,
}

/// The provider's sales report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesReport {
    /// Whether buckets are days (else months).
    pub daily: bool,
    pub currencies: Vec<CurrencySales>,
    pub top_products: Vec<SalesTop>,
    pub top_holders: Vec<SalesTop>,
    /// The report read its limit of orders: older ones are left out.
    pub truncated: bool,
}

/// A pass as its provider administers it.
pub struct PassAdmin {
    pub pass: api::Pass,
    pub holders: Vec<(api::Holding, String)>,
    pub orders: Vec<api::Order>,
}

impl Exchange {
    /// The provider's passes, newest first (at most [`PROVIDER_PASSES_LISTED`]).
    pub async fn provider_passes(&self, me: &store::Account) -> ExchangeResult<Vec<api::Pass>> {
        require(me, Role::Provider)?;
        let passes = self.store.passes_of(&me.id, PROVIDER_PASSES_LISTED).await?;
        let mut products: HashMap<String, store::Product> = HashMap::new();
        let now = self.now();
        let mut out = Vec::with_capacity(passes.len());
        for p in &passes {
            if !products.contains_key(&p.product_id) {
                let product = self.store.product(&p.product_id).await?;
                products.insert(p.product_id.clone(), product);
            }
            let product = &products[&p.product_id];
            out.push(convert::pass(&self.config.public_url, p, product, now));
        }
        Ok(out)
    }

    /// One of the provider's passes with its holders (and their names) and
    /// its most recent orders; another provider's pass is 403, none 404.
    pub async fn pass_admin(&self, me: &store::Account, id: &str) -> ExchangeResult<PassAdmin> {
        let pass = self.own_pass(me, id).await?;
        let now = self.now();
        let holdings = self
            .store
            .pass_holdings(&pass.id, PASS_HOLDERS_LISTED)
            .await?;
        let mut holders = Vec::with_capacity(holdings.len());
        for h in &holdings {
            let name = match self.store.account(&h.holder_id).await {
                Ok(a) => a.name,
                Err(_) => h.holder_id.clone(),
            };
            holders.push((convert::holding(&self.config.public_url, h, now), name));
        }
        let mut orders = Vec::new();
        let (scanned, _) = self.provider_orders_scan(me).await?;
        for o in scanned.iter().filter(|o| o.pass_id == pass.id) {
            if orders.len() as u32 >= PASS_ORDERS_LISTED {
                break;
            }
            orders.push(convert::order(o, self.config.return_window));
        }
        let product = self.store.product(&pass.product_id).await?;
        Ok(PassAdmin {
            pass: convert::pass(&self.config.public_url, &pass, &product, now),
            holders,
            orders,
        })
    }

    /// Holder accounts whose id is `query` or whose name starts with it,
    /// with their public reputation (at most [`HOLDER_SEARCH_LIMIT`]);
    /// providers only.
    pub async fn search_holders(
        &self,
        me: &store::Account,
        query: &str,
    ) -> ExchangeResult<Vec<api::HolderPublic>> {
        require(me, Role::Provider)?;
        let q = query.trim();
        if q.is_empty() {
            return Err(ExchangeError::field("q", "write a name or an id"));
        }
        if q.chars().count() > MAX_HOLDER_SEARCH_CHARS {
            return Err(ExchangeError::field(
                "q",
                format!("at most {MAX_HOLDER_SEARCH_CHARS} characters"),
            ));
        }
        let found = self.store.holders_named(q, HOLDER_SEARCH_LIMIT).await?;
        let ids: Vec<String> = found.iter().map(|a| a.id.clone()).collect();
        let states = self.store.holders(&ids, self.now()).await?;
        let by_id: HashMap<&str, &store::HolderState> =
            states.iter().map(|h| (h.id.as_str(), h)).collect();
        Ok(found
            .iter()
            .map(|a| match by_id.get(a.id.as_str()) {
                Some(h) => convert::holder_public(h),
                None => api::HolderPublic {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    fields: Vec::new(),
                    positive_rate: None,
                    ratings: 0,
                    success_rate: None,
                    interactions: 0,
                },
            })
            .collect())
    }

    /// The provider's newest orders, newest first, at most [`SALES_MAX_ORDERS`]
    /// (and whether there were more). The store pages oldest first, so every
    /// page is read and only the newest are kept: a long history never hides
    /// what came last.
    async fn provider_orders_scan(
        &self,
        me: &store::Account,
    ) -> ExchangeResult<(Vec<store::Order>, bool)> {
        require(me, Role::Provider)?;
        let now = self.now();
        let mut newest = std::collections::VecDeque::new();
        let mut more = false;
        let mut after = None;
        loop {
            let page = Page {
                after,
                limit: MAX_PAGE_LIMIT,
            };
            let items = self
                .store
                .orders(OrderParty::Provider(&me.id), &page)
                .await?;
            let full = items.len() as u32 == MAX_PAGE_LIMIT;
            after = items.last().map(|o| o.seq);
            for o in items {
                newest.push_back(o.as_of(now));
                if newest.len() > SALES_MAX_ORDERS as usize {
                    newest.pop_front();
                    more = true;
                }
            }
            if !full {
                return Ok((newest.into_iter().rev().collect(), more));
            }
        }
    }

    /// The provider's orders with status `status` (as in
    /// `OrderStatus`), newest first, among those the report reads.
    pub async fn provider_orders_with_status(
        &self,
        me: &store::Account,
        status: &str,
    ) -> ExchangeResult<Vec<api::Order>> {
        if symbolon_core::state::OrderStatus::parse(status).is_none() {
            return Err(ExchangeError::new(
                ErrorCode::InvalidQuery,
                "status: one of placed, paid, shipped, delivered, cancelled, refunded, expired",
            )
            .with_details(serde_json::json!({"field": "status"})));
        }
        let (orders, _) = self.provider_orders_scan(me).await?;
        Ok(orders
            .iter()
            .filter(|o| o.status.as_str() == status)
            .take(MAX_PAGE_LIMIT as usize)
            .map(|o| convert::order(o, self.config.return_window))
            .collect())
    }

    /// The provider's sales report from its paid orders: revenue is what
    /// was paid less what was refunded; commission what its holders earned
    /// less what refunds took back.
    pub async fn sales_report(&self, me: &store::Account) -> ExchangeResult<SalesReport> {
        let (orders, truncated) = self.provider_orders_scan(me).await?;
        let now = self.now();
        let paid: Vec<(&store::Order, symbolon_core::Timestamp)> = orders
            .iter()
            .filter_map(|o| o.paid_at.map(|t| (o, t)))
            .collect();
        let first = paid.iter().map(|(_, t)| *t).min();
        let daily =
            first.is_some_and(|f| now.seconds() - f.seconds() < SALES_DAILY_UNTIL_DAYS * 86_400);
        let label = |t: symbolon_core::Timestamp| {
            let s = convert::ts(t);
            s[..if daily { 10 } else { 7 }].to_string()
        };
        let mut per_currency: BTreeMap<String, BTreeMap<String, SalesBucket>> = BTreeMap::new();
        let mut products: HashMap<(String, String), SalesTop> = HashMap::new();
        let mut holders: HashMap<(String, String), SalesTop> = HashMap::new();
        for (o, at) in &paid {
            let revenue = o.total_minor - o.after_sale.refunded_minor;
            let commission = if o.holder_id.is_some() {
                o.commission_minor - o.after_sale.commission_reversed_minor
            } else {
                0
            };
            let key = label(*at);
            let b = per_currency
                .entry(o.currency.clone())
                .or_default()
                .entry(key.clone())
                .or_insert_with(|| SalesBucket {
                    label: key,
                    revenue_minor: 0,
                    commission_minor: 0,
                    orders: 0,
                });
            b.revenue_minor += revenue;
            b.commission_minor += commission;
            b.orders += 1;
            let p = products
                .entry((o.product_id.clone(), o.currency.clone()))
                .or_insert_with(|| SalesTop {
                    id: o.product_id.clone(),
                    name: String::new(),
                    currency: o.currency.clone(),
                    orders: 0,
                    quantity: 0,
                    amount_minor: 0,
                });
            p.orders += 1;
            p.quantity += o.quantity;
            p.amount_minor += revenue;
            if let Some(h) = &o.holder_id {
                let t = holders
                    .entry((h.clone(), o.currency.clone()))
                    .or_insert_with(|| SalesTop {
                        id: h.clone(),
                        name: String::new(),
                        currency: o.currency.clone(),
                        orders: 0,
                        quantity: 0,
                        amount_minor: 0,
                    });
                t.orders += 1;
                t.quantity += o.quantity;
                t.amount_minor += commission;
            }
        }
        let currencies = per_currency
            .into_iter()
            .map(|(currency, buckets)| {
                let filled = fill_buckets(buckets, daily, &label(now));
                CurrencySales {
                    revenue_minor: filled.iter().map(|b| b.revenue_minor).sum(),
                    commission_minor: filled.iter().map(|b| b.commission_minor).sum(),
                    orders: filled.iter().map(|b| b.orders).sum(),
                    currency,
                    buckets: filled,
                }
            })
            .collect();
        let top = |m: HashMap<(String, String), SalesTop>| {
            let mut v: Vec<SalesTop> = m.into_values().collect();
            v.sort_by(|a, b| {
                b.amount_minor
                    .cmp(&a.amount_minor)
                    .then(b.quantity.cmp(&a.quantity))
                    .then(a.id.cmp(&b.id))
            });
            v.truncate(SALES_TOP);
            v
        };
        let mut top_products = top(products);
        for p in &mut top_products {
            p.name = match self.store.product(&p.id).await {
                Ok(pr) => pr.title,
                Err(_) => p.id.clone(),
            };
        }
        let mut top_holders = top(holders);
        for h in &mut top_holders {
            h.name = match self.store.account(&h.id).await {
                Ok(a) => a.name,
                Err(_) => h.id.clone(),
            };
        }
        Ok(SalesReport {
            daily,
            currencies,
            top_products,
            top_holders,
            truncated,
        })
    }
}

/// Every bucket from the first with sales to `upto` (empty ones at zero),
/// so the chart's time axis has no holes.
fn fill_buckets(
    buckets: BTreeMap<String, SalesBucket>,
    daily: bool,
    upto: &str,
) -> Vec<SalesBucket> {
    let Some(first) = buckets.keys().next().cloned() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut cur = first;
    let mut guard = 0;
    while cur.as_str() <= upto && guard < 4_000 {
        guard += 1;
        out.push(buckets.get(&cur).cloned().unwrap_or(SalesBucket {
            label: cur.clone(),
            revenue_minor: 0,
            commission_minor: 0,
            orders: 0,
        }));
        cur = match next_label(&cur, daily) {
            Some(n) => n,
            None => break,
        };
    }
    // Buckets later than `upto` (a clock behind the data) still count.
    for (k, b) in &buckets {
        if k.as_str() > upto {
            out.push(b.clone());
        }
    }
    out
}

/// The label after `label` (`YYYY-MM-DD` or `YYYY-MM`).
fn next_label(label: &str, daily: bool) -> Option<String> {
    let y: i64 = label.get(0..4)?.parse().ok()?;
    let m: i64 = label.get(5..7)?.parse().ok()?;
    if !daily {
        let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        return Some(format!("{y:04}-{m:02}"));
    }
    let d: i64 = label.get(8..10)?.parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let (y, m, d) = if d < days {
        (y, m, d + 1)
    } else if m == 12 {
        (y + 1, 1, 1)
    } else {
        (y, m + 1, 1)
    };
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_days_and_months() {
        assert_eq!(
            next_label("2026-02-28", true).as_deref(),
            Some("2026-03-01")
        );
        assert_eq!(
            next_label("2028-02-28", true).as_deref(),
            Some("2028-02-29")
        );
        assert_eq!(
            next_label("2026-12-31", true).as_deref(),
            Some("2027-01-01")
        );
        assert_eq!(next_label("2026-12", false).as_deref(), Some("2027-01"));
        let mut b = BTreeMap::new();
        for l in ["2026-01", "2026-03"] {
            b.insert(
                l.to_string(),
                SalesBucket {
                    label: l.into(),
                    revenue_minor: 5,
                    commission_minor: 1,
                    orders: 1,
                },
            );
        }
        let f = fill_buckets(b, false, "2026-04");
        let labels: Vec<&str> = f.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["2026-01", "2026-02", "2026-03", "2026-04"]);
        assert_eq!(f[1].revenue_minor, 0);
    }
}
