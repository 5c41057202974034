//! Idempotency keys: the exchange's side of `Idempotency-Key` (the HTTP
//! middleware lives in the server). Times and TTLs are decided here.

use crate::error::ExchangeResult;
use crate::Exchange;
use symbolon_core::limits::{IDEMPOTENCY_KEY_TTL_SECONDS, IDEMPOTENCY_LOCK_SECONDS};
use symbolon_store as store;

impl Exchange {
    /// Claims an idempotency key for `account` (see `Store::idempotency_begin`);
    /// a running key's lock expires after [`IDEMPOTENCY_LOCK_SECONDS`].
    pub async fn idempotency_begin(
        &self,
        account_id: &str,
        key: &str,
        fingerprint: &str,
    ) -> ExchangeResult<store::IdempotencyStart> {
        let now = self.now();
        Ok(self
            .store
            .idempotency_begin(
                account_id,
                key,
                fingerprint,
                now,
                now.plus_seconds(-IDEMPOTENCY_LOCK_SECONDS),
            )
            .await?)
    }

    pub async fn idempotency_finish(
        &self,
        account_id: &str,
        key: &str,
        response: &store::StoredResponse,
    ) -> ExchangeResult<()> {
        Ok(self
            .store
            .idempotency_finish(account_id, key, response)
            .await?)
    }

    pub async fn idempotency_release(&self, account_id: &str, key: &str) -> ExchangeResult<()> {
        Ok(self.store.idempotency_release(account_id, key).await?)
    }

    /// Forgets keys older than [`IDEMPOTENCY_KEY_TTL_SECONDS`] (the sweeper).
    pub async fn idempotency_prune(&self) -> ExchangeResult<u64> {
        Ok(self
            .store
            .idempotency_prune(self.now().plus_seconds(-IDEMPOTENCY_KEY_TTL_SECONDS))
            .await?)
    }
}
