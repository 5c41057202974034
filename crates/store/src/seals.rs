//! The sealed-secret queries, shared by the SQL backends (see `outbox.rs` for
//! the dialect trick). The store keeps public keys, sealed payloads and
//! wrapped shares only: nothing here can open a secret.

/// Expands to `impl SealStore for $store`.
#[macro_export]
macro_rules! sql_seal_methods {
    ($store:ty, write = $w:ident, read = $r:ident, sql = $sql:path) => {
        #[async_trait::async_trait]
        impl symbolon_store::SealStore for $store {
            async fn set_party_keys(&self, k: &PartyKeys) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                sqlx::query(&$sql(
                    "INSERT INTO party_keys (account_id, age_recipient, signing_jwk, updated_at)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (account_id) DO UPDATE SET age_recipient = excluded.age_recipient,
                       signing_jwk = excluded.signing_jwk, updated_at = excluded.updated_at",
                ))
                .bind(&k.account_id)
                .bind(&k.age_recipient)
                .bind(&k.signing_jwk)
                .bind(k.updated_at.millis())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }

            async fn party_keys(&self, account_id: &str) -> StoreResult<PartyKeys> {
                let row: Option<(String, String, String, i64)> = sqlx::query_as(&$sql(
                    "SELECT account_id, age_recipient, signing_jwk, updated_at FROM party_keys WHERE account_id = $1",
                ))
                .bind(account_id)
                .fetch_optional(&self.$r)
                .await
                .map_err(db)?;
                let (account_id, age_recipient, signing_jwk, at) = row.ok_or(StoreError::NotFound)?;
                Ok(PartyKeys {
                    account_id,
                    age_recipient,
                    signing_jwk,
                    updated_at: Timestamp::from_millis(at),
                })
            }

            async fn put_seal(&self, s: &PassSeal) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                sqlx::query(&$sql(
                    "INSERT INTO pass_seals (pass_id, seal_id, header_jws, payload, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                ))
                .bind(&s.pass_id)
                .bind(&s.seal_id)
                .bind(&s.header_jws)
                .bind(&s.payload)
                .bind(s.created_at.millis())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }

            async fn pass_seal(&self, pass_id: &str) -> StoreResult<PassSeal> {
                let row: Option<(String, String, String, Vec<u8>, i64)> = sqlx::query_as(&$sql(
                    "SELECT pass_id, seal_id, header_jws, payload, created_at FROM pass_seals WHERE pass_id = $1",
                ))
                .bind(pass_id)
                .fetch_optional(&self.$r)
                .await
                .map_err(db)?;
                let (pass_id, seal_id, header_jws, payload, at) = row.ok_or(StoreError::NotFound)?;
                Ok(PassSeal {
                    pass_id,
                    seal_id,
                    header_jws,
                    payload,
                    created_at: Timestamp::from_millis(at),
                })
            }

            async fn add_share(&self, s: &SealedShare) -> StoreResult<()> {
                let mut tx = self.$w.begin().await.map_err(db)?;
                sqlx::query(&$sql(
                    "INSERT INTO sealed_shares (id, pass_id, recipient_id, sender_id, kind, offer_id, order_id, wrapped, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                ))
                .bind(&s.id)
                .bind(&s.pass_id)
                .bind(&s.recipient_id)
                .bind(&s.sender_id)
                .bind(&s.kind)
                .bind(&s.offer_id)
                .bind(&s.order_id)
                .bind(&s.wrapped)
                .bind(s.created_at.millis())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
                tx.commit().await.map_err(db)?;
                Ok(())
            }

            async fn shares_for(
                &self,
                recipient_id: &str,
                pass_id: &str,
            ) -> StoreResult<Vec<SealedShare>> {
                #[allow(clippy::type_complexity)]
                let rows: Vec<(String, String, String, String, String, Option<String>, Option<String>, Vec<u8>, i64)> =
                    sqlx::query_as(&$sql(
                        "SELECT id, pass_id, recipient_id, sender_id, kind, offer_id, order_id, wrapped, created_at
                         FROM sealed_shares WHERE recipient_id = $1 AND pass_id = $2 ORDER BY created_at DESC, id DESC LIMIT 100",
                    ))
                    .bind(recipient_id)
                    .bind(pass_id)
                    .fetch_all(&self.$r)
                    .await
                    .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, pass_id, recipient_id, sender_id, kind, offer_id, order_id, wrapped, at)| SealedShare {
                        id,
                        pass_id,
                        recipient_id,
                        sender_id,
                        kind,
                        offer_id,
                        order_id,
                        wrapped,
                        created_at: Timestamp::from_millis(at),
                    })
                    .collect())
            }
        }
    };
}
