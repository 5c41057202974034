//! RFC 6962 / RFC 9162 §2.1 Merkle trees: hashes, proofs and their verifiers.

use crate::TlogError;
use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf's, a node's or a root.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// MTH({d}) = SHA-256(0x00 ‖ d).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two smaller than `n` (n ≥ 2): where RFC 6962 splits.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// An append-only tree of leaf hashes that also keeps the hash of every
/// complete, aligned subtree (level `k` holds those of 2^k leaves), so the
/// root of any prefix, and any proof, is O(log² n) hashes away; appending is
/// amortised O(1). About 64 bytes per leaf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index as usize).copied()
    }

    /// Appends a leaf hash (see [`leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut k = 0;
        loop {
            if self.levels.len() == k {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[k];
            level.push(h);
            let n = level.len();
            if n % 2 == 1 {
                return;
            }
            h = node_hash(&level[n - 2], &level[n - 1]);
            k += 1;
        }
    }

    /// MTH of leaves `start..start + n` (within the tree; every left part of
    /// the RFC's recursion is a complete aligned subtree, looked up).
    fn mth(&self, start: u64, n: u64) -> Hash {
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let k = n.trailing_zeros() as usize;
            return self.levels[k][(start >> k) as usize];
        }
        let k = split(n);
        node_hash(&self.mth(start, k), &self.mth(start + k, n - k))
    }

    fn check_size(&self, size: u64) -> Result<(), TlogError> {
        if size > self.len() {
            return Err(TlogError::Range(format!(
                "size {size} is beyond the tree's {}",
                self.len()
            )));
        }
        Ok(())
    }

    /// The root of the tree's first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, TlogError> {
        self.check_size(size)?;
        Ok(self.mth(0, size))
    }

    /// The inclusion proof (RFC 6962 PATH) of leaf `index` in the tree of
    /// the first `size` leaves.
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, TlogError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TlogError::Range(format!(
                "leaf {index} is not in a tree of {size}"
            )));
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    fn path(&self, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) {
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, start, k, out);
            out.push(self.mth(start + k, n - k));
        } else {
            self.path(m - k, start + k, n - k, out);
            out.push(self.mth(start, k));
        }
    }

    /// The consistency proof (RFC 6962 PROOF) from the tree of the first
    /// `first` leaves to that of the first `second`; empty when `first` is
    /// 0 or equals `second`.
    pub fn consistency(&self, first: u64, second: u64) -> Result<Vec<Hash>, TlogError> {
        self.check_size(second)?;
        if first > second {
            return Err(TlogError::Range(format!(
                "size {first} is after size {second}"
            )));
        }
        let mut proof = Vec::new();
        if first > 0 && first < second {
            self.subproof(first, 0, second, true, &mut proof);
        }
        Ok(proof)
    }

    fn subproof(&self, m: u64, start: u64, n: u64, whole: bool, out: &mut Vec<Hash>) {
        if m == n {
            if !whole {
                out.push(self.mth(start, n));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, start, k, whole, out);
            out.push(self.mth(start + k, n - k));
        } else {
            self.subproof(m - k, start + k, n - k, false, out);
            out.push(self.mth(start, k));
        }
    }
}

/// Checks that `leaf` (a leaf hash) is leaf `index` of the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    if index >= size {
        return Err(TlogError::Range(format!(
            "leaf {index} is not in a tree of {size}"
        )));
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(TlogError::Proof("the inclusion proof is too long"));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(TlogError::Proof("the inclusion proof is too short"));
    }
    if &r != root {
        return Err(TlogError::Proof(
            "the inclusion proof leads to another root",
        ));
    }
    Ok(())
}

/// Checks that the tree of `first` leaves with root `first_root` is a prefix
/// of the tree of `second` leaves with root `second_root` (RFC 9162
/// §2.1.4.2). The empty tree is a prefix of every tree (with an empty
/// proof); a tree is consistent with itself only with an empty proof and
/// the same root.
pub fn verify_consistency(
    first: u64,
    second: u64,
    proof: &[Hash],
    first_root: &Hash,
    second_root: &Hash,
) -> Result<(), TlogError> {
    if first > second {
        return Err(TlogError::Range(format!(
            "size {first} is after size {second}"
        )));
    }
    if first == 0 || first == second {
        if !proof.is_empty() {
            return Err(TlogError::Proof("the consistency proof should be empty"));
        }
        if first == second && first_root != second_root {
            return Err(TlogError::Proof("two roots for one size"));
        }
        if first == 0 && first_root != &empty_root() {
            return Err(TlogError::Proof("the empty tree has another root"));
        }
        return Ok(());
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(*first_root);
    }
    path.extend_from_slice(proof);
    let Some((head, rest)) = path.split_first() else {
        return Err(TlogError::Proof("the consistency proof is empty"));
    };
    let (mut fnode, mut snode) = (first - 1, second - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*head, *head);
    for c in rest {
        if snode == 0 {
            return Err(TlogError::Proof("the consistency proof is too long"));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(TlogError::Proof("the consistency proof is too short"));
    }
    if &fr != first_root {
        return Err(TlogError::Proof(
            "the consistency proof does not lead to the earlier root",
        ));
    }
    if &sr != second_root {
        return Err(TlogError::Proof(
            "the consistency proof does not lead to the later root",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
