//! Idempotency keys: the exchange's side of `Idempotency-Key` (the HTTP
//! middleware lives in the server). Times and TTLs are decided here.
//!
//! A request run under a key makes its ids from the key ([`with_request_ids`]):
//! the n-th id of a prefix is derived from (account, key, prefix, n). If a
//! crash cuts a request off after its transaction committed but before its
//! response was stored, the retry runs again, makes the same ids, and finds
//! what the first run wrote (the operations that create an object look for
//! it first and answer it) instead of doing it twice.

use crate::error::{ExchangeError, ExchangeResult};
use crate::{Exchange, MasterKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
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
        let start = self
            .store
            .idempotency_begin(
                account_id,
                key,
                fingerprint,
                now,
                now.plus_seconds(-IDEMPOTENCY_LOCK_SECONDS),
            )
            .await?;
        Ok(match start {
            store::IdempotencyStart::Replay(mut r) => {
                if MasterKey::is_sealed_blob(&r.body) {
                    r.body = self
                        .config
                        .master_key
                        .open_blob(&response_aad(account_id, key), &r.body)
                        .map_err(|_| {
                            ExchangeError::internal(
                                "a stored idempotent response does not open with this master key, account and key",
                            )
                        })?;
                }
                // Else a plaintext body stored before sealing existed: replayed
                // as it is, and gone with its key within 24 h.
                store::IdempotencyStart::Replay(r)
            }
            other => other,
        })
    }

    /// Stores the answer to replay, its body sealed under the master key and
    /// bound to the account and the key (it may hold a webhook's secret or an
    /// address; a body moved to another row does not open).
    pub async fn idempotency_finish(
        &self,
        account_id: &str,
        key: &str,
        response: &store::StoredResponse,
    ) -> ExchangeResult<()> {
        let sealed = store::StoredResponse {
            body: self
                .config
                .master_key
                .seal_blob(&response_aad(account_id, key), &response.body),
            ..response.clone()
        };
        Ok(self
            .store
            .idempotency_finish(account_id, key, &sealed)
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

/// What a stored response body is bound to: its account and its key.
fn response_aad(account_id: &str, key: &str) -> Vec<u8> {
    let mut aad = b"symbolon idempotent response\0".to_vec();
    aad.extend_from_slice(account_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(key.as_bytes());
    aad
}

struct RequestIds {
    seed: [u8; 32],
    counters: Mutex<HashMap<String, u32>>,
}

impl RequestIds {
    fn derive(&self, prefix: &str, n: u32) -> String {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(prefix.as_bytes());
        h.update(n.to_be_bytes());
        let digest = h.finalize();
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest[..20]);
        symbolon_core::ids::format_id(prefix, &bytes)
    }
}

tokio::task_local! {
    static REQUEST_IDS: RequestIds;
}

/// Runs `fut` (one request of `account` under idempotency `key`, whose
/// method, path and body hash to `fingerprint`) with ids derived from them.
/// A key reused for another request derives other ids; reused for the same
/// request after its 24 h, it answers what that request created.
pub async fn with_request_ids<F: Future>(
    account_id: &str,
    key: &str,
    fingerprint: &str,
    fut: F,
) -> F::Output {
    let mut h = Sha256::new();
    h.update(b"symbolon request ids\0");
    h.update(account_id.as_bytes());
    h.update([0u8]);
    h.update(key.as_bytes());
    h.update([0u8]);
    h.update(fingerprint.as_bytes());
    let ids = RequestIds {
        seed: h.finalize().into(),
        counters: Mutex::default(),
    };
    REQUEST_IDS.scope(ids, fut).await
}

impl Exchange {
    /// A new id: derived from the request's idempotency key when there is
    /// one, random otherwise.
    pub(crate) fn new_id(&self, prefix: &str) -> String {
        REQUEST_IDS
            .try_with(|r| {
                let mut counters = r.counters.lock().unwrap_or_else(|e| e.into_inner());
                let n = counters.entry(prefix.to_string()).or_default();
                let id = r.derive(prefix, *n);
                *n += 1;
                id
            })
            .unwrap_or_else(|_| self.ids.next(prefix))
    }

    /// The first id of `prefix` this request makes, if it runs under an
    /// idempotency key: an object with that id exists only if an earlier run
    /// of the same request created it.
    pub(crate) fn first_request_id(&self, prefix: &str) -> Option<String> {
        REQUEST_IDS.try_with(|r| r.derive(prefix, 0)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ids_derive_from_account_and_key() {
        let ids = |account: &'static str, key: &'static str| async move {
            with_request_ids(account, key, "fp", async {
                REQUEST_IDS.with(|r| (r.derive("dem", 0), r.derive("dem", 1), r.derive("int", 0)))
            })
            .await
        };
        let a = ids("acc_a", "k1").await;
        assert_eq!(
            a,
            ids("acc_a", "k1").await,
            "the same request, the same ids"
        );
        assert_ne!(a.0, a.1);
        assert!(a.0.starts_with("dem_") && a.2.starts_with("int_"));
        assert!(symbolon_core::ids::looks_like(&a.0, "dem"));
        assert_ne!(a, ids("acc_a", "k2").await, "another key");
        assert_ne!(a, ids("acc_b", "k1").await, "another account");
    }
}
