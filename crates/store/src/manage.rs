//! What owners do with what they made — a provider's products (list,
//! change, archive) and a requester's demands (list, cancel) — written once
//! for both SQL backends (see `outbox.rs` for the dialect trick) and
//! expanded per backend by [`sql_manage_methods!`] into its impl of
//! [`crate::ManageStore`].
//!
//! Each change locks its row first (a no-op `UPDATE`: PostgreSQL takes the
//! row lock, SQLite's one writer serializes anyway) and then reads and
//! checks it, so it serializes with everything else that locks the row:
//! issuing a pass (`create_pass` locks the product too, and is refused
//! against a revision that moved), and accepting an offer (which locks the
//! demand).
//!
//! Archiving takes a product off the market the way selling out does: the
//! products trigger (schema v13) logs a supply change for every holder of
//! its passes when the product stops (or starts) being on the market — in
//! stock and not archived — so each replica re-reads just those holders'
//! holdings, which leave out archived products.

use crate::{
    Account, DemandListing, DemandRecord, HolderReview, Holding, Page, Pass, Product,
    ProductChange, StoreResult,
};
use symbolon_core::Timestamp;

/// The columns a product is read with (`product_from`).
pub const PRODUCT_COLS: &str = "id, provider_id, title, description, category, specs, price_minor, currency, stock, created_at, gtin, archived_at, revision";
/// The columns a demand is read with (`demand_from`).
pub const DEMAND_READ_COLS: &str = "id, requester_id, query, category, max_price_minor, currency, min_positive_rate, min_success_rate, min_ratings, fields, min_holders, max_holders, ttl_seconds, deadline, created_at, accepted_offer_id, waiting, cancelled_at";

/// Providers' products and requesters' demands, as their owners manage them.
#[async_trait::async_trait]
pub trait ManageStore: Send + Sync {
    /// The provider's products, oldest first, each with its place in the
    /// list (`seq`: the `Page::after` of the next page).
    async fn products_of(&self, provider_id: &str, page: &Page)
        -> StoreResult<Vec<(i64, Product)>>;
    /// Applies a provider's change to its product, in one transaction under
    /// the product row's lock: another provider's product is `NotFound`, an
    /// archived one `Conflict::ProductArchived`; a change of a field its
    /// passes sign (anything but `stock`) to a new value is
    /// `Conflict::ProductHasPasses` once a pass was issued for it, and bumps
    /// `revision` otherwise. Returns the product as it is now.
    async fn update_product(&self, change: &ProductChange) -> StoreResult<Product>;
    /// Archives a provider's product (another's is `NotFound`); archiving
    /// again keeps the first time. It leaves the market at once (a supply
    /// change for the holders of its passes).
    async fn archive_product(
        &self,
        product_id: &str,
        provider_id: &str,
        at: Timestamp,
    ) -> StoreResult<Product>;
    /// The requester's demands, newest first, with how many holders were
    /// contacted and how many offered (`Page::after`: a demand's `seq`; the
    /// next page holds older ones).
    async fn demands_of(&self, requester_id: &str, page: &Page) -> StoreResult<Vec<DemandListing>>;
    /// Cancels a requester's demand (another's is `NotFound`) at `at`, under
    /// the demand row's lock: `Conflict::DemandCancelled` if it was
    /// cancelled before, `Conflict::DemandNotCancellable` if an offer was
    /// accepted or it expired waiting. A waiting demand stops waiting (it is
    /// never activated); its requests still pending before their deadline
    /// become `withdrawn` (each holder hears `interaction.withdrawn`, and
    /// its success rate does not count them). Offers already made stay, but
    /// none can be accepted any more.
    async fn cancel_demand(
        &self,
        demand_id: &str,
        requester_id: &str,
        at: Timestamp,
    ) -> StoreResult<DemandRecord>;
    /// The ratings a holder received, newest first (at most `limit`).
    async fn holder_reviews(&self, holder_id: &str, limit: u32) -> StoreResult<Vec<HolderReview>>;
    /// The rating of an offer, if it was rated.
    async fn offer_rating(&self, offer_id: &str) -> StoreResult<Option<HolderReview>>;
    /// The categories of the products on the market (in stock, not
    /// archived), sorted, at most `limit`.
    async fn categories_in_use(&self, limit: u32) -> StoreResult<Vec<String>>;
    /// The provider's passes, newest first (at most `limit`).
    async fn passes_of(&self, provider_id: &str, limit: u32) -> StoreResult<Vec<Pass>>;
    /// The grants of a pass, oldest first (at most `limit`), each with the
    /// units its holder was granted and still holds (unique passes).
    async fn pass_holdings(&self, pass_id: &str, limit: u32) -> StoreResult<Vec<Holding>>;
    /// Holder accounts whose id is `query` or whose name starts with it
    /// (case-insensitively, `%` and `_` taken literally), by name (at most `limit`).
    async fn holders_named(&self, query: &str, limit: u32) -> StoreResult<Vec<Account>>;
}

/// The columns a rating is read with, as (offer, positive 0/1, comment, at).
const REVIEW_COLS: &str =
    "offer_id, CAST(CASE WHEN positive THEN 1 ELSE 0 END AS BIGINT), comment, created_at";

/// The ratings SQL shared by both backends: `$1` is the holder (or offer).
pub fn review_sql(by: &str) -> String {
    format!(
        "SELECT {REVIEW_COLS} FROM ratings WHERE {by} = $1 ORDER BY created_at DESC, id LIMIT $2"
    )
}

/// A rating row as read with [`review_sql`].
pub fn review_from(
    (offer_id, positive, comment, at): (String, i64, Option<String>, i64),
) -> HolderReview {
    HolderReview {
        offer_id,
        positive: positive != 0,
        comment,
        created_at: Timestamp::from_millis(at),
    }
}

/// The fields a pass signs that `change` sets to a value other than
/// `current`'s, by name, in the order the API lists them.
pub fn signed_changes(current: &Product, change: &ProductChange) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut differs = |name: &'static str, yes: bool| {
        if yes {
            out.push(name);
        }
    };
    differs(
        "title",
        change.title.as_ref().is_some_and(|v| *v != current.title),
    );
    differs(
        "description",
        change
            .description
            .as_ref()
            .is_some_and(|v| *v != current.description),
    );
    differs(
        "category",
        change
            .category
            .as_ref()
            .is_some_and(|v| *v != current.category),
    );
    differs(
        "specs",
        change.specs.as_ref().is_some_and(|v| *v != current.specs),
    );
    differs(
        "price",
        change
            .price
            .as_ref()
            .is_some_and(|(m, c)| *m != current.price_minor || *c != current.currency),
    );
    differs(
        "gtin",
        change.gtin.as_ref().is_some_and(|v| *v != current.gtin),
    );
    out
}

/// Expands to `impl ManageStore for $store`. `$w`/`$r` name the pools,
/// `$conn` the backend's connection type and `$sql` turns the shared SQL
/// into the backend's dialect. The expansion site must have `db`,
/// `product_from`, `demand_from`, `pass_from`, `holding_from`,
/// `account_from`, `PASS_COLS`, `HOLDING_SELECT`, `specs_to_json` and the helpers of
/// [`crate::sql_order_helpers!`] (`lock_row`) in scope.
#[macro_export]
macro_rules! sql_manage_methods {
    ($store:ty, write = $w:ident, read = $r:ident, conn = $conn:ty, sql = $sql:path) => {
        mod manage_sql {
            use super::*;
            use symbolon_core::state::DemandStatus;
            use symbolon_store::manage::{signed_changes, DEMAND_READ_COLS, PRODUCT_COLS};
            use symbolon_store::{
                Conflict, DemandListing, DemandRecord, Page, Product, ProductChange, StoreResult,
            };

            /// The product's row, locked for the rest of the transaction;
            /// `NotFound` unless it is `provider_id`'s.
            async fn locked_product(
                conn: &mut $conn,
                id: &str,
                provider_id: &str,
            ) -> StoreResult<Product> {
                lock_row(conn, "products", "revision", id, Some(("provider_id", provider_id)))
                    .await?;
                product_in(conn, id).await
            }

            async fn product_in(conn: &mut $conn, id: &str) -> StoreResult<Product> {
                let q = $sql(&format!("SELECT {PRODUCT_COLS} FROM products WHERE id = $1"));
                let row = sqlx::query(&q)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                product_from(&row, "")
            }

            async fn demand_in(conn: &mut $conn, id: &str) -> StoreResult<DemandRecord> {
                let q = $sql(&format!("SELECT {DEMAND_READ_COLS} FROM demands WHERE id = $1"));
                let row = sqlx::query(&q)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db)?;
                demand_from(&row)
            }

            #[async_trait::async_trait]
            impl symbolon_store::ManageStore for $store {
                async fn products_of(
                    &self,
                    provider_id: &str,
                    page: &Page,
                ) -> StoreResult<Vec<(i64, Product)>> {
                    let q = $sql(&format!(
                        "SELECT {PRODUCT_COLS}, seq FROM products WHERE provider_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                    ));
                    let rows = sqlx::query(&q)
                        .bind(provider_id)
                        .bind(page.after.unwrap_or(0))
                        .bind(i64::from(page.limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter()
                        .map(|r| {
                            let seq: i64 = sqlx::Row::try_get(r, "seq").map_err(db)?;
                            Ok((seq, product_from(r, "")?))
                        })
                        .collect()
                }

                async fn update_product(&self, c: &ProductChange) -> StoreResult<Product> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let current = locked_product(&mut tx, &c.product_id, &c.provider_id).await?;
                    if !current.on_sale() {
                        return Err(Conflict::ProductArchived.into());
                    }
                    let signed = signed_changes(&current, c);
                    if let Some(field) = signed.first() {
                        let passes: i64 = sqlx::query_scalar(&$sql(
                            "SELECT COUNT(*) FROM passes WHERE product_id = $1",
                        ))
                        .bind(&c.product_id)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?;
                        if passes > 0 {
                            return Err(Conflict::ProductHasPasses { field: *field }.into());
                        }
                    }
                    let (price_minor, currency) = c
                        .price
                        .clone()
                        .unwrap_or((current.price_minor, current.currency.clone()));
                    sqlx::query(&$sql(
                        "UPDATE products SET title = $1, description = $2, category = $3, specs = $4,
                           price_minor = $5, currency = $6, gtin = $7, stock = COALESCE($8, stock),
                           revision = revision + $9
                         WHERE id = $10",
                    ))
                    .bind(c.title.as_ref().unwrap_or(&current.title))
                    .bind(c.description.as_ref().unwrap_or(&current.description))
                    .bind(c.category.as_ref().unwrap_or(&current.category))
                    .bind(specs_to_json(c.specs.as_ref().unwrap_or(&current.specs)))
                    .bind(price_minor)
                    .bind(currency)
                    .bind(c.gtin.clone().unwrap_or(current.gtin.clone()))
                    .bind(c.stock)
                    .bind(i64::from(!signed.is_empty()))
                    .bind(&c.product_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    let product = product_in(&mut tx, &c.product_id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(product)
                }

                async fn archive_product(
                    &self,
                    product_id: &str,
                    provider_id: &str,
                    at: Timestamp,
                ) -> StoreResult<Product> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let current = locked_product(&mut tx, product_id, provider_id).await?;
                    if !current.on_sale() {
                        return Ok(current);
                    }
                    sqlx::query(&$sql("UPDATE products SET archived_at = $1 WHERE id = $2"))
                        .bind(at.millis())
                        .bind(product_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    let product = product_in(&mut tx, product_id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(product)
                }

                async fn demands_of(
                    &self,
                    requester_id: &str,
                    page: &Page,
                ) -> StoreResult<Vec<DemandListing>> {
                    let q = $sql(&format!(
                        "SELECT {DEMAND_READ_COLS}, seq,
                           (SELECT COUNT(*) FROM interactions i WHERE i.demand_id = demands.id) AS contacted,
                           (SELECT COUNT(*) FROM offers o WHERE o.demand_id = demands.id) AS offered
                         FROM demands WHERE requester_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
                    ));
                    let rows = sqlx::query(&q)
                        .bind(requester_id)
                        .bind(page.after.unwrap_or(i64::MAX))
                        .bind(i64::from(page.limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter()
                        .map(|r| {
                            Ok(DemandListing {
                                seq: sqlx::Row::try_get(r, "seq").map_err(db)?,
                                demand: demand_from(r)?,
                                contacted: sqlx::Row::try_get(r, "contacted").map_err(db)?,
                                offers: sqlx::Row::try_get(r, "offered").map_err(db)?,
                            })
                        })
                        .collect()
                }

                async fn cancel_demand(
                    &self,
                    demand_id: &str,
                    requester_id: &str,
                    at: Timestamp,
                ) -> StoreResult<DemandRecord> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    lock_row(&mut tx, "demands", "waiting", demand_id, Some(("requester_id", requester_id)))
                        .await?;
                    let d = demand_in(&mut tx, demand_id).await?;
                    match d.status_at(at) {
                        DemandStatus::Cancelled => return Err(Conflict::DemandCancelled.into()),
                        s if !s.can_cancel() => {
                            return Err(Conflict::DemandNotCancellable(s).into())
                        }
                        _ => {}
                    }
                    sqlx::query(&$sql(
                        "UPDATE demands SET cancelled_at = $1, waiting = 0 WHERE id = $2",
                    ))
                    .bind(at.millis())
                    .bind(demand_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    // Requests still pending before their deadline are
                    // withdrawn (those past it expired: they count as the
                    // sweeper records them, as they would have anyway).
                    // Interactions lock in `seq` order, as accepting does.
                    let pending: Vec<i64> = sqlx::query_scalar(&$sql(
                        "SELECT seq FROM interactions WHERE demand_id = $1 AND status = 'pending' AND deadline > $2 ORDER BY seq",
                    ))
                    .bind(demand_id)
                    .bind(at.millis())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db)?;
                    for seq in pending {
                        sqlx::query(&$sql(
                            "UPDATE interactions SET status = 'withdrawn', decided_at = $1
                             WHERE seq = $2 AND status = 'pending' AND deadline > $1",
                        ))
                        .bind(at.millis())
                        .bind(seq)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    }
                    let d = demand_in(&mut tx, demand_id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(d)
                }

                async fn holder_reviews(
                    &self,
                    holder_id: &str,
                    limit: u32,
                ) -> StoreResult<Vec<symbolon_store::HolderReview>> {
                    let rows: Vec<(String, i64, Option<String>, i64)> =
                        sqlx::query_as(&$sql(&symbolon_store::manage::review_sql("holder_id")))
                            .bind(holder_id)
                            .bind(i64::from(limit))
                            .fetch_all(&self.$r)
                            .await
                            .map_err(db)?;
                    Ok(rows.into_iter().map(symbolon_store::manage::review_from).collect())
                }

                async fn offer_rating(
                    &self,
                    offer_id: &str,
                ) -> StoreResult<Option<symbolon_store::HolderReview>> {
                    let row: Option<(String, i64, Option<String>, i64)> =
                        sqlx::query_as(&$sql(&symbolon_store::manage::review_sql("offer_id")))
                            .bind(offer_id)
                            .bind(1i64)
                            .fetch_optional(&self.$r)
                            .await
                            .map_err(db)?;
                    Ok(row.map(symbolon_store::manage::review_from))
                }

                async fn categories_in_use(&self, limit: u32) -> StoreResult<Vec<String>> {
                    let mut cats: Vec<String> = sqlx::query_scalar(&$sql(
                        "SELECT DISTINCT category FROM products WHERE archived_at IS NULL AND stock > 0 LIMIT $1",
                    ))
                    .bind(i64::from(limit))
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                    cats.sort();
                    Ok(cats)
                }

                async fn passes_of(&self, provider_id: &str, limit: u32) -> StoreResult<Vec<symbolon_store::Pass>> {
                    let q = $sql(&format!(
                        "SELECT {PASS_COLS} FROM passes WHERE provider_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
                    ));
                    let rows = sqlx::query(&q)
                        .bind(provider_id)
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter().map(pass_from).collect()
                }

                async fn pass_holdings(&self, pass_id: &str, limit: u32) -> StoreResult<Vec<symbolon_store::Holding>> {
                    let q = $sql(&format!(
                        "{HOLDING_SELECT} WHERE g.pass_id = $1 ORDER BY g.created_at, g.id LIMIT $2"
                    ));
                    let rows = sqlx::query(&q)
                        .bind(pass_id)
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter().map(holding_from).collect()
                }

                async fn holders_named(&self, query: &str, limit: u32) -> StoreResult<Vec<symbolon_store::Account>> {
                    let mut pattern = String::with_capacity(query.len() + 1);
                    for c in query.to_lowercase().chars() {
                        if matches!(c, '%' | '_' | '\\') {
                            pattern.push('\\');
                        }
                        pattern.push(c);
                    }
                    pattern.push('%');
                    let q = $sql(
                        "SELECT id, name, roles, created_at FROM accounts \
                         WHERE (id = $1 OR lower(name) LIKE $2 ESCAPE '\\') \
                         AND (',' || roles || ',') LIKE '%,holder,%' \
                         ORDER BY name, id LIMIT $3",
                    );
                    let rows = sqlx::query(&q)
                        .bind(query)
                        .bind(pattern)
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter().map(account_from).collect()
                }
            }
        }
    };
}
