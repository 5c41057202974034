//! The selection log: every demand's selection — the holders contacted with
//! their score parts, or the refusal with the holders each criterion
//! eliminated — appended, in the transaction that records it, to a Merkle
//! tree transparency log (RFC 6962 leaves over the entry's canonical JSON),
//! whose checkpoints the log's Ed25519 key signs (C2SP signed notes).
//!
//! Each replica keeps the tree's hashes in memory ([`symbolon_tlog::Tree`])
//! and reads only the entries appended since it last looked, when a
//! checkpoint or a proof is asked for; the demand path never touches it.
//! Checkpoints are signed lazily (when asked for and the tree grew) and
//! kept in the store, so a consistency proof can start from any published
//! one; a replica whose tree does not extend the newest kept checkpoint
//! refuses to sign (an entry was changed or removed).

use crate::convert;
use crate::error::{ExchangeError, ExchangeResult};
use crate::service::require;
use crate::Exchange;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use symbolon_api::tlog as api;
use symbolon_core::limits::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use symbolon_core::state::Role;
use symbolon_core::{ErrorCode, Timestamp};
use symbolon_match::{Eliminations, RankedHolder};
use symbolon_store::tlog::{NewLogEntry, StoredCheckpoint};
use symbolon_store::{self as store};
use symbolon_tlog::{leaf_hash, Checkpoint, LogSigner, Tree};

/// The entry format, first key of every entry.
pub const ENTRY_FORMAT: &str = "symbolon/selection/v1";
/// The associated data the log's seed is sealed under.
const KEY_AAD: &str = "selection-log";
/// Entries read per round trip when a replica catches up.
const SYNC_BATCH: u32 = 1_000;

/// A replica's view of the log: the tree and the signer.
#[derive(Debug, Default)]
pub(crate) struct SelectionLog {
    tree: tokio::sync::Mutex<Tree>,
    signer: tokio::sync::OnceCell<LogSigner>,
}

/// What a selection decided.
pub(crate) enum Outcome<'a> {
    Contacted(&'a [RankedHolder]),
    Refused {
        qualified: usize,
        eliminations: &'a Eliminations,
    },
}

/// JSON with object keys sorted (by their UTF-8 bytes) at every depth and
/// no spaces: the one serialisation an entry is hashed in.
pub fn canonical_json(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The entry of a demand's selection.
pub(crate) fn entry_of(
    d: &store::DemandRecord,
    standing: bool,
    outcome: Outcome<'_>,
    at: Timestamp,
) -> ExchangeResult<NewLogEntry> {
    let demand = json!({
        "query": d.query,
        "category": d.category,
        "max_price": d.max_price_minor.map(|m| json!({"minor": m, "currency": d.currency})),
        "min_positive_rate": d.min_positive_rate,
        "min_success_rate": d.min_success_rate,
        "min_ratings": d.min_ratings,
        "fields": d.fields,
        "min_holders": d.min_holders,
        "max_holders": d.max_holders,
        "ttl_seconds": d.ttl_seconds,
        "standing": standing,
    });
    let policy = json!({
        "floor": symbolon_match::score::DEFAULT_FLOOR,
        "weights": {
            "relevance": symbolon_match::W_RELEVANCE,
            "positive": symbolon_match::W_POSITIVE,
            "success": symbolon_match::W_SUCCESS,
        },
    });
    let mut holder_ids = Vec::new();
    let (kind, selection) = match outcome {
        Outcome::Contacted(ranked) => {
            let contacted: Vec<Value> = ranked
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    holder_ids.push(r.holder_id.clone());
                    json!({
                        "rank": i + 1,
                        "holder_id": r.holder_id,
                        "score": r.score,
                        "relevance": r.relevance,
                        "positive_lower_bound": r.positive_lower_bound,
                        "success_lower_bound": r.success_lower_bound,
                        "matched_fields": r.matched_fields,
                        "matched_pass_ids": r.matched_pass_ids,
                    })
                })
                .collect();
            ("contacted", json!({ "contacted": contacted }))
        }
        Outcome::Refused {
            qualified,
            eliminations,
        } => (
            "refused",
            json!({
                "refusal": {
                    "code": ErrorCode::InsufficientHolders.as_str(),
                    "qualified": qualified,
                },
                "eliminations": serde_json::to_value(eliminations).map_err(ExchangeError::internal)?,
            }),
        ),
    };
    let mut body = json!({
        "format": ENTRY_FORMAT,
        "demand_id": d.id,
        "requester_id": d.requester_id,
        "at": convert::ts(at),
        "demand": demand,
        "policy": policy,
        "outcome": kind,
    });
    if let (Value::Object(b), Value::Object(s)) = (&mut body, selection) {
        b.extend(s);
    }
    Ok(NewLogEntry {
        demand_id: d.id.clone(),
        requester_id: d.requester_id.clone(),
        holder_ids,
        body: canonical_json(&body),
        created_at: at,
    })
}

/// The holders an entry names (its `contacted`), read back from its body.
fn named_holders(body: &str) -> Vec<String> {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("contacted").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|c| c.get("holder_id").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn b64(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

impl Exchange {
    /// The log's origin (and key name): the public URL without its scheme, then `/selections`.
    pub fn log_origin(&self) -> String {
        let url = &self.config.public_url;
        let bare = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        format!("{bare}/selections")
    }

    /// The log's signer: its seed made once (by whichever replica first
    /// needs it), sealed under the master key in the store.
    async fn log_signer(&self) -> ExchangeResult<&LogSigner> {
        self.tlog
            .signer
            .get_or_try_init(|| async {
                let sealed = match self.store.log_key().await? {
                    Some(s) => s,
                    None => {
                        let mut seed = [0u8; 32];
                        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
                        let sealed = self.config.master_key.seal(KEY_AAD, &seed);
                        self.store.init_log_key(&sealed, self.now()).await?
                    }
                };
                let seed = self
                    .config
                    .master_key
                    .open(KEY_AAD, &sealed)
                    .map_err(ExchangeError::internal)?;
                LogSigner::new(&self.log_origin(), seed).map_err(ExchangeError::internal)
            })
            .await
    }

    /// The log's public key as a signed-note verifier key
    /// (`name+keyID+base64(0x01‖key)`), published at a well-known URL.
    pub async fn log_verifier_key(&self) -> ExchangeResult<String> {
        Ok(self.log_signer().await?.verifier_key())
    }

    /// Brings this replica's tree up to the store's log and returns it, locked.
    async fn synced_tree(&self) -> ExchangeResult<tokio::sync::MutexGuard<'_, Tree>> {
        let mut tree = self.tlog.tree.lock().await;
        loop {
            let from = tree.len() as i64;
            let entries = self.store.log_entries(from, SYNC_BATCH).await?;
            for e in &entries {
                if e.index != tree.len() as i64 {
                    return Err(ExchangeError::internal(format!(
                        "selection log: entry {} where {} was expected",
                        e.index,
                        tree.len()
                    )));
                }
                tree.push(leaf_hash(e.body.as_bytes()));
            }
            if (entries.len() as u32) < SYNC_BATCH {
                return Ok(tree);
            }
        }
    }

    /// The newest checkpoint, signing one for the current size if the log
    /// grew since the last (after checking that the tree extends it).
    async fn signed_state(
        &self,
    ) -> ExchangeResult<(tokio::sync::MutexGuard<'_, Tree>, StoredCheckpoint)> {
        let signer = self.log_signer().await?;
        // Read before the tree, so the tree is at least as large.
        let latest = self.store.latest_checkpoint().await?;
        let tree = self.synced_tree().await?;
        let size = tree.len();
        if let Some(c) = &latest {
            let root = tree
                .root(c.size as u64)
                .map_err(|e| ExchangeError::internal(format!("selection log: {e}")))?;
            if root.as_slice() != c.root.as_slice() {
                tracing::error!(
                    checkpoint_size = c.size,
                    tree_size = size,
                    "selection log: the stored entries do not match the signed checkpoint; refusing to sign"
                );
                return Err(ExchangeError::internal(
                    "selection log does not extend its last checkpoint",
                ));
            }
            if c.size as u64 == size {
                return Ok((tree, c.clone()));
            }
        }
        let checkpoint = Checkpoint {
            origin: signer.name().to_string(),
            size,
            root: tree
                .root(size)
                .map_err(|e| ExchangeError::internal(format!("selection log: {e}")))?,
        };
        let note = signer
            .sign_checkpoint(&checkpoint)
            .map_err(ExchangeError::internal)?;
        self.store
            .save_checkpoint(&StoredCheckpoint {
                size: size as i64,
                root: checkpoint.root.to_vec(),
                note,
                created_at: self.now(),
            })
            .await?;
        // Another replica may have kept this size first: the kept one it is.
        let kept = self
            .store
            .checkpoint_at(size as i64)
            .await?
            .ok_or_else(|| ExchangeError::internal("selection log: checkpoint not kept"))?;
        Ok((tree, kept))
    }

    /// The newest signed checkpoint (a C2SP signed note).
    pub async fn log_checkpoint(&self) -> ExchangeResult<String> {
        Ok(self.signed_state().await?.1.note)
    }

    /// A demand's entry with its inclusion proof in the newest checkpoint:
    /// for the requester who made the demand, and for every holder the
    /// entry names (it is shown whole: the proof is over all of it).
    pub async fn selection_proof(
        &self,
        me: &store::Account,
        demand_id: &str,
    ) -> ExchangeResult<api::SelectionProof> {
        let Some(entry) = self.store.log_entry_of_demand(demand_id).await? else {
            return Err(match self.store.demand(demand_id).await {
                Ok(d) if d.requester_id != me.id => {
                    ExchangeError::forbidden("the demand belongs to another requester")
                }
                Ok(_) => ExchangeError::new(
                    ErrorCode::NotFound,
                    "the demand's holders are not selected yet (it is waiting)",
                ),
                Err(_) => ExchangeError::not_found("demand"),
            });
        };
        if entry.requester_id != me.id && !named_holders(&entry.body).contains(&me.id) {
            return Err(ExchangeError::forbidden(
                "the entry names neither you as its requester nor as a holder contacted",
            ));
        }
        let (tree, checkpoint) = self.signed_state().await?;
        let index = entry.index as u64;
        if tree.leaf(index) != Some(leaf_hash(entry.body.as_bytes())) {
            // Answered as stored: the proof will not verify, which is the point.
            tracing::error!(
                index,
                demand_id,
                "selection log: a stored entry differs from the one logged"
            );
        }
        let inclusion = tree
            .inclusion(index, checkpoint.size as u64)
            .map_err(|e| ExchangeError::internal(format!("selection log: {e}")))?;
        Ok(api::SelectionProof {
            demand_id: entry.demand_id,
            index,
            entry: entry.body,
            tree_size: checkpoint.size as u64,
            inclusion: b64(&inclusion),
            checkpoint: checkpoint.note,
        })
    }

    /// The consistency proof between two sizes the log has reached.
    pub async fn log_consistency(
        &self,
        from: u64,
        to: u64,
    ) -> ExchangeResult<api::ConsistencyProof> {
        if from > to {
            return Err(ExchangeError::value(
                "from",
                "must not be greater than `to`",
            ));
        }
        let tree = self.synced_tree().await?;
        if to > tree.len() {
            return Err(ExchangeError::value(
                "to",
                format!("the log has {} entries", tree.len()),
            ));
        }
        let proof = tree
            .consistency(from, to)
            .map_err(|e| ExchangeError::internal(format!("selection log: {e}")))?;
        Ok(api::ConsistencyProof {
            from,
            to,
            proof: b64(&proof),
        })
    }

    /// The entries naming the calling holder, newest first.
    pub async fn holder_selections(
        &self,
        me: &store::Account,
        before: Option<u64>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::SelectionList> {
        require(me, Role::Holder)?;
        let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        if limit == 0 || limit > MAX_PAGE_LIMIT {
            return Err(ExchangeError::field(
                "limit",
                format!("must be between 1 and {MAX_PAGE_LIMIT}"),
            ));
        }
        let before = before
            .map(|b| i64::try_from(b).map_err(|_| ExchangeError::field("before", "too large")))
            .transpose()?;
        let entries = self.store.log_entries_naming(&me.id, before, limit).await?;
        let next_before = (entries.len() as u32 == limit)
            .then(|| entries.last().map(|e| e.index as u64))
            .flatten();
        Ok(api::SelectionList {
            entries: entries
                .into_iter()
                .map(|e| api::SelectionEntry {
                    index: e.index as u64,
                    demand_id: e.demand_id,
                    entry: e.body,
                    created_at: convert::ts(e.created_at),
                })
                .collect(),
            next_before,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = json!({"b": 1, "a": {"d": [2, {"z": null, "y": "é\n"}], "c": 0.1}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":0.1,"d":[2,{"y":"é\n","z":null}]},"b":1}"#
        );
    }

    #[test]
    fn named_holders_reads_contacted() {
        let body = r#"{"contacted":[{"holder_id":"acc_1"},{"holder_id":"acc_2"}]}"#;
        assert_eq!(named_holders(body), vec!["acc_1", "acc_2"]);
        assert!(named_holders(r#"{"outcome":"refused"}"#).is_empty());
    }
}
