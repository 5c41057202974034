//! The selection log's endpoints: a demand's entry and inclusion proof, a
//! holder's entries, consistency proofs, the checkpoint and the log's key.

use crate::{enc, Client, Result};
use reqwest::Method;
use symbolon_api::tlog::{ConsistencyProof, SelectionList, SelectionProof};

impl Client {
    /// A demand's selection entry with its inclusion proof (its requester,
    /// or a holder the entry names).
    pub async fn demand_proof(&self, demand_id: &str) -> Result<SelectionProof> {
        self.get(&format!("/v1/demands/{}/proof", enc(demand_id)))
            .await
    }

    /// The entries naming the calling holder, newest first.
    pub async fn holder_selections(
        &self,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> Result<SelectionList> {
        let mut q = Vec::new();
        if let Some(b) = before {
            q.push(format!("before={b}"));
        }
        if let Some(l) = limit {
            q.push(format!("limit={l}"));
        }
        let q = if q.is_empty() {
            String::new()
        } else {
            format!("?{}", q.join("&"))
        };
        self.get(&format!("/v1/holder/selections{q}")).await
    }

    /// The consistency proof between two sizes of the log.
    pub async fn log_consistency(&self, from: u64, to: u64) -> Result<ConsistencyProof> {
        self.get(&format!("/v1/log/consistency?from={from}&to={to}"))
            .await
    }

    /// The newest signed checkpoint (a C2SP signed note).
    pub async fn log_checkpoint(&self) -> Result<String> {
        self.text("/.well-known/symbolon/checkpoint").await
    }

    /// The log's verifier key (`origin+keyID+base64(0x01‖key)`).
    pub async fn log_key(&self) -> Result<String> {
        self.text("/.well-known/symbolon/log-key").await
    }

    async fn text(&self, path: &str) -> Result<String> {
        let (status, bytes) = self.send::<()>(Method::GET, path, None).await?;
        if status.is_success() {
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        self.call::<(), String>(Method::GET, path, None).await
    }
}
