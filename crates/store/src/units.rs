//! Reads about unique units and the orders that sell them, shared by the SQL
//! backends: SQL written once with `$n` placeholders, expanded per backend by
//! [`sql_unit_methods!`] into its impl of [`crate::UnitStore`].

use crate::{StoreResult, UnitCounts, UnitSummary};

#[async_trait::async_trait]
pub trait UnitStore: Send + Sync {
    /// How many of a unique pass's units are granted, and how many of those
    /// are unsold (what can still be bought through it) — of one holder, or
    /// of every holder.
    async fn unit_counts(&self, pass_id: &str, holder_id: Option<&str>) -> StoreResult<UnitCounts>;
    /// The units of a pass that have a history (at least one transfer),
    /// numbered above `after`, at most `limit`, by number.
    async fn units_with_history(
        &self,
        pass_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<UnitSummary>>;
    /// The live (neither expired nor cancelled) order placed from an offer.
    async fn live_order_of_offer(&self, offer_id: &str) -> StoreResult<Option<String>>;
}

/// [`UnitStore::unit_counts`]: `$1` pass, `$2` holder or null (every
/// holder); (granted, unsold).
pub const UNIT_COUNTS: &str = "SELECT COUNT(*), COUNT(*) - COUNT(owner_id) FROM pass_units
  WHERE pass_id = $1 AND holder_id IS NOT NULL AND holder_id = COALESCE($2, holder_id)";

/// [`UnitStore::units_with_history`]: `$1` pass, `$2` after, `$3` limit.
pub const UNITS_WITH_HISTORY: &str = "SELECT u.unit_no, u.owner_id, u.holder_id, h.n, h.last_at
  FROM (SELECT unit_no, COUNT(*) AS n, MAX(created_at) AS last_at FROM unit_transfers
        WHERE pass_id = $1 AND unit_no > $2 GROUP BY unit_no ORDER BY unit_no LIMIT $3) h
  JOIN pass_units u ON u.pass_id = $1 AND u.unit_no = h.unit_no
  ORDER BY u.unit_no";

/// [`UnitStore::live_order_of_offer`]: `$1` offer. At most one order of an
/// offer is live (neither expired nor cancelled); placing an order checks
/// with this too.
pub const LIVE_ORDER_OF_OFFER: &str =
    "SELECT id FROM orders WHERE offer_id = $1 AND status NOT IN ('expired', 'cancelled')";

/// Expands to `impl UnitStore for $store`, reading from the pool `$r`.
#[macro_export]
macro_rules! sql_unit_methods {
    ($store:ty, read = $r:ident, sql = $sql:path) => {
        #[async_trait::async_trait]
        impl symbolon_store::UnitStore for $store {
            async fn unit_counts(
                &self,
                pass_id: &str,
                holder_id: Option<&str>,
            ) -> symbolon_store::StoreResult<symbolon_store::UnitCounts> {
                let (granted, unsold): (i64, i64) =
                    sqlx::query_as(&$sql(symbolon_store::units::UNIT_COUNTS))
                        .bind(pass_id)
                        .bind(holder_id)
                        .fetch_one(&self.$r)
                        .await
                        .map_err(db)?;
                Ok(symbolon_store::UnitCounts { granted, unsold })
            }

            async fn units_with_history(
                &self,
                pass_id: &str,
                after: i64,
                limit: u32,
            ) -> symbolon_store::StoreResult<Vec<symbolon_store::UnitSummary>> {
                let rows: Vec<(i64, Option<String>, Option<String>, i64, i64)> =
                    sqlx::query_as(&$sql(symbolon_store::units::UNITS_WITH_HISTORY))
                        .bind(pass_id)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(|(unit_no, owner_id, holder_id, transfers, last_at)| {
                        symbolon_store::UnitSummary {
                            unit_no,
                            owner_id,
                            holder_id,
                            transfers,
                            last_at: symbolon_core::Timestamp::from_millis(last_at),
                        }
                    })
                    .collect())
            }

            async fn live_order_of_offer(
                &self,
                offer_id: &str,
            ) -> symbolon_store::StoreResult<Option<String>> {
                sqlx::query_scalar(&$sql(symbolon_store::units::LIVE_ORDER_OF_OFFER))
                    .bind(offer_id)
                    .fetch_optional(&self.$r)
                    .await
                    .map_err(db)
            }
        }
    };
}
