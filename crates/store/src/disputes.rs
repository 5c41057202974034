//! Disputes, written once for both SQL backends and expanded per backend by
//! [`sql_dispute_methods!`] into its impl of [`crate::DisputeStore`]. It uses
//! the lifecycle SQL's helpers (`lifecycle_sql`: the order-row lock, events
//! with their audience), so a dispute's steps serialize with the order's.

use crate::{Dispute, DisputeMessage, Page, StoreResult};
use symbolon_core::state::DisputeStatus;
use symbolon_core::Timestamp;

/// Disputes: one per order, a message trail, an operator's decision. A
/// resolution with a refund completes through `LifecycleStore::complete_refund`.
#[async_trait::async_trait]
pub trait DisputeStore: Send + Sync {
    /// Opens the order's one dispute (`Conflict::DisputeExists` for a second).
    async fn open_dispute(&self, d: &Dispute) -> StoreResult<Dispute>;
    /// Adds a message to an open dispute (`Conflict::DisputeClosed`).
    async fn add_dispute_message(&self, m: &DisputeMessage) -> StoreResult<DisputeMessage>;
    /// An operator rejects an open dispute.
    async fn reject_dispute(
        &self,
        dispute_id: &str,
        by_id: &str,
        reason: &str,
        at: Timestamp,
    ) -> StoreResult<Dispute>;
    async fn dispute(&self, dispute_id: &str) -> StoreResult<Dispute>;
    async fn dispute_messages(&self, dispute_id: &str) -> StoreResult<Vec<DisputeMessage>>;
    /// Disputes in `status` (all when `None`), oldest first.
    async fn disputes(
        &self,
        status: Option<DisputeStatus>,
        page: &Page,
    ) -> StoreResult<Vec<Dispute>>;
}

/// Expands to `impl DisputeStore for $store`; the expansion site must also
/// expand [`crate::sql_lifecycle_methods!`] (whose helpers it uses).
#[macro_export]
macro_rules! sql_dispute_methods {
    ($store:ty, write = $w:ident, read = $r:ident, conn = $conn:ty, sql = $sql:path) => {
        mod dispute_sql {
            use super::lifecycle_sql::{dispute_in, emit, locked, DISPUTE_COLS, MESSAGE_COLS};
            use super::*;
            use serde_json::json;
            use symbolon_core::limits::MAX_DISPUTE_MESSAGES;
            use symbolon_core::state::{DisputeStatus, OrderEvent};
            use symbolon_store::{Conflict, Dispute, DisputeMessage, Page, StoreResult};

            #[async_trait::async_trait]
            impl symbolon_store::DisputeStore for $store {
                async fn open_dispute(&self, d: &Dispute) -> StoreResult<Dispute> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let o = locked(&mut tx, &d.order_id).await?;
                    if !o.status.is_purchase() {
                        return Err(Conflict::InvalidTransition(o.status).into());
                    }
                    if o.after_sale.dispute_id.is_some() {
                        return Err(Conflict::DisputeExists.into());
                    }
                    sqlx::query(&$sql(
                        "INSERT INTO disputes (id, order_id, requester_id, provider_id, kind, reason, status, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7)",
                    ))
                    .bind(&d.id)
                    .bind(&d.order_id)
                    .bind(&o.requester_id)
                    .bind(&o.provider_id)
                    .bind(d.kind.as_str())
                    .bind(&d.reason)
                    .bind(d.created_at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    sqlx::query(&$sql("UPDATE orders SET dispute_id = $1 WHERE id = $2"))
                        .bind(&d.id)
                        .bind(&d.order_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    emit(
                        &mut tx,
                        OrderEvent::DisputeOpened,
                        &o,
                        json!({"dispute_id": d.id, "order_id": d.order_id, "kind": d.kind.as_str()}),
                        d.created_at,
                    )
                    .await?;
                    let saved = dispute_in(&mut tx, &d.id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(saved)
                }

                async fn add_dispute_message(&self, m: &DisputeMessage) -> StoreResult<DisputeMessage> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let d = dispute_in(&mut tx, &m.dispute_id).await?;
                    let o = locked(&mut tx, &d.order_id).await?;
                    let d = dispute_in(&mut tx, &m.dispute_id).await?;
                    if d.status != DisputeStatus::Open {
                        return Err(Conflict::DisputeClosed.into());
                    }
                    let count: i64 = sqlx::query_scalar(&$sql(
                        "SELECT COUNT(*) FROM dispute_messages WHERE dispute_id = $1",
                    ))
                    .bind(&m.dispute_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db)?;
                    if count as u64 >= MAX_DISPUTE_MESSAGES {
                        return Err(Conflict::TooManyDisputeMessages.into());
                    }
                    sqlx::query(&$sql(
                        "INSERT INTO dispute_messages (id, dispute_id, author_id, role, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    ))
                    .bind(&m.id)
                    .bind(&m.dispute_id)
                    .bind(&m.author_id)
                    .bind(&m.role)
                    .bind(&m.body)
                    .bind(m.created_at.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                    emit(
                        &mut tx,
                        OrderEvent::DisputeMessage,
                        &o,
                        json!({"dispute_id": d.id, "order_id": d.order_id, "message_id": m.id, "role": m.role}),
                        m.created_at,
                    )
                    .await?;
                    tx.commit().await.map_err(db)?;
                    Ok(m.clone())
                }

                async fn reject_dispute(&self, dispute_id: &str, by_id: &str, reason: &str, at: Timestamp) -> StoreResult<Dispute> {
                    let mut tx = self.$w.begin().await.map_err(db)?;
                    let d = dispute_in(&mut tx, dispute_id).await?;
                    let o = locked(&mut tx, &d.order_id).await?;
                    let n = sqlx::query(&$sql(
                        "UPDATE disputes SET status = 'rejected', resolution = $1, resolved_by = $2, resolved_at = $3
                         WHERE id = $4 AND status = 'open'",
                    ))
                    .bind(reason)
                    .bind(by_id)
                    .bind(at.millis())
                    .bind(dispute_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?
                    .rows_affected();
                    if n != 1 {
                        return Err(Conflict::DisputeClosed.into());
                    }
                    emit(
                        &mut tx,
                        OrderEvent::DisputeResolved,
                        &o,
                        json!({"dispute_id": dispute_id, "order_id": d.order_id, "outcome": "rejected"}),
                        at,
                    )
                    .await?;
                    let d = dispute_in(&mut tx, dispute_id).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(d)
                }

                async fn dispute(&self, dispute_id: &str) -> StoreResult<Dispute> {
                    let mut conn = self.$r.acquire().await.map_err(db)?;
                    dispute_in(&mut conn, dispute_id).await
                }

                async fn dispute_messages(&self, dispute_id: &str) -> StoreResult<Vec<DisputeMessage>> {
                    let q = $sql(&format!(
                        "SELECT {MESSAGE_COLS} FROM dispute_messages WHERE dispute_id = $1 ORDER BY seq"
                    ));
                    let rows = sqlx::query(&q)
                        .bind(dispute_id)
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter().map(dispute_message_from).collect()
                }

                async fn disputes(&self, status: Option<DisputeStatus>, page: &Page) -> StoreResult<Vec<Dispute>> {
                    let q = $sql(&format!(
                        "SELECT {DISPUTE_COLS} FROM disputes WHERE ($1 IS NULL OR status = $1) AND seq > $2 ORDER BY seq LIMIT $3"
                    ));
                    let rows = sqlx::query(&q)
                        .bind(status.map(|s| s.as_str()))
                        .bind(page.after.unwrap_or(0))
                        .bind(i64::from(page.limit))
                        .fetch_all(&self.$r)
                        .await
                        .map_err(db)?;
                    rows.iter().map(dispute_from).collect()
                }
            }
        }
    };
}
