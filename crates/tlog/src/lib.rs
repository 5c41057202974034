//! The transparency log of the exchange's selections, as pure functions and
//! values (no IO):
//!
//! * [`merkle`]: the RFC 6962 / RFC 9162 §2.1 Merkle tree — leaf =
//!   SHA-256(0x00‖entry), node = SHA-256(0x01‖left‖right) — kept as leaf
//!   hashes plus every complete subtree's hash ([`merkle::Tree`]), so roots
//!   and proofs for any earlier size cost O(log² n) hashes, and the
//!   verifiers of inclusion and consistency proofs (§2.1.3.2, §2.1.4.2);
//! * [`note`]: checkpoints (C2SP `tlog-checkpoint`: origin, size, base64
//!   root) as C2SP signed notes with an Ed25519 key (key ID =
//!   SHA-256(name‖0x0A‖0x01‖public key)[:4]), and the verifier key string
//!   `name+hex(key ID)+base64(0x01‖public key)` that publishes it.
//!
//! The server builds proofs with it and the CLI verifies them offline with
//! the same code.

pub mod merkle;
pub mod note;

pub use merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash, Tree};
pub use note::{Checkpoint, LogSigner, LogVerifier};

/// Why a proof, a checkpoint or a key did not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    /// An index or a size beyond the tree, or sizes out of order.
    #[error("out of range: {0}")]
    Range(String),
    /// The proof does not lead to the root it claims.
    #[error("the proof does not verify: {0}")]
    Proof(&'static str),
    /// A checkpoint, note or key that is not well formed.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// No signature by the log's key, or one that does not verify.
    #[error("the checkpoint is not signed by the log's key")]
    Signature,
}
