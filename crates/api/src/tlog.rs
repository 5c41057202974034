//! The selection log: entries with their inclusion proofs, holders' lists
//! and consistency proofs. Hashes are base64 (standard alphabet, padded),
//! as in checkpoints.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A demand's selection entry, with the proof that the log holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SelectionProof {
    pub demand_id: String,
    /// The entry's leaf index.
    pub index: u64,
    /// The entry as logged: canonical JSON (keys sorted, no spaces); the
    /// leaf hash is SHA-256(0x00 ‖ these UTF-8 bytes).
    pub entry: String,
    /// The size of the tree the proof is for (the checkpoint's).
    pub tree_size: u64,
    /// The inclusion proof (RFC 9162 §2.1.3), base64 hashes.
    pub inclusion: Vec<String>,
    /// The checkpoint the proof leads to: a C2SP signed note
    /// (`origin\nsize\nbase64(root)\n\n— name base64(keyID‖signature)\n`).
    pub checkpoint: String,
}

/// One entry naming the holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SelectionEntry {
    pub index: u64,
    pub demand_id: String,
    /// The entry as logged (see [`SelectionProof::entry`]).
    pub entry: String,
    pub created_at: String,
}

/// A page of the entries naming the holder, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SelectionList {
    pub entries: Vec<SelectionEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<u64>,
}

/// A consistency proof between two sizes of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    /// RFC 9162 §2.1.4, base64 hashes (empty when `from` is 0 or equals `to`).
    pub proof: Vec<String>,
}
