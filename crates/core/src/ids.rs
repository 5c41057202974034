//! Opaque identifiers: a short type prefix and 20 random base-32 characters
//! (100 bits), e.g. `acc_7g3k…`. Randomness comes from an [`IdGen`], seeded in tests.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::collections::HashMap;
use std::sync::Mutex;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Prefixes of each kind of object.
pub mod prefix {
    pub const ACCOUNT: &str = "acc";
    pub const PRODUCT: &str = "prd";
    pub const PASS: &str = "pas";
    pub const GRANT: &str = "grt";
    pub const UNIT: &str = "unt";
    pub const DEMAND: &str = "dem";
    pub const INTERACTION: &str = "int";
    pub const OFFER: &str = "ofr";
    pub const LICENCE: &str = "lic";
    pub const ORDER: &str = "ord";
    pub const RATING: &str = "rat";
    pub const LEDGER: &str = "led";
    pub const KEY: &str = "key";
    pub const TRANSFER: &str = "trf";
    pub const REFUND: &str = "rfd";
    pub const DISPUTE: &str = "dsp";
    pub const DISPUTE_MESSAGE: &str = "dmg";
    pub const SESSION: &str = "ses";
    pub const API_KEY: &str = "apk";
}

/// Whether `id` has the shape of an id with `prefix` (`prefix_` and 20 base-32 characters).
pub fn looks_like(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|r| r.len() == 20 && r.bytes().all(|b| ALPHABET.contains(&b)))
}

/// Generates ids. Seeded: the same seed yields the same sequence of each
/// kind — every prefix (and [`IdGen::below`]) draws from its own stream,
/// derived from the seed and the prefix, so ids of one kind do not depend on
/// how many ids of other kinds background work (matching, expiry,
/// settlement) happened to take in between.
pub struct IdGen {
    seed: Option<u64>,
    streams: Mutex<HashMap<String, StdRng>>,
}

/// FNV-1a: a hash of a prefix that stays the same across builds.
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl IdGen {
    pub fn from_seed(seed: u64) -> Self {
        Self {
            seed: Some(seed),
            streams: Mutex::new(HashMap::new()),
        }
    }
    /// A new id drawn from the OS (for ids made outside the server, e.g. a provider signing a pass itself).
    pub fn fresh(prefix: &str) -> String {
        Self::from_entropy().next(prefix)
    }

    pub fn from_entropy() -> Self {
        Self {
            seed: None,
            streams: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `f` on the stream named `name`.
    fn with<T>(&self, name: &str, f: impl FnOnce(&mut StdRng) -> T) -> T {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if !streams.contains_key(name) {
            let rng = match self.seed {
                Some(seed) => StdRng::seed_from_u64(seed ^ stable_hash(name)),
                None => StdRng::from_os_rng(),
            };
            streams.insert(name.to_string(), rng);
        }
        f(streams.get_mut(name).expect("inserted above"))
    }

    /// A uniformly random number below `n` (`n` > 0).
    pub fn below(&self, n: u32) -> u32 {
        use rand::Rng;
        self.with("\u{0}below", |rng| rng.random_range(0..n.max(1)))
    }

    /// A new id with the given prefix.
    pub fn next(&self, prefix: &str) -> String {
        let mut bytes = [0u8; 20];
        self.with(prefix, |rng| rng.fill_bytes(&mut bytes));
        format_id(prefix, &bytes)
    }
}

/// The id `prefix_…` made of 20 given bytes (5 bits of each).
pub fn format_id(prefix: &str, bytes: &[u8; 20]) -> String {
    let mut s = String::with_capacity(prefix.len() + 21);
    s.push_str(prefix);
    s.push('_');
    for b in bytes {
        s.push(ALPHABET[(b & 31) as usize] as char);
    }
    s
}

impl std::fmt::Debug for IdGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdGen")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_replay() {
        let a = IdGen::from_seed(7);
        let b = IdGen::from_seed(7);
        let x = a.next(prefix::ORDER);
        assert_eq!(x, b.next(prefix::ORDER));
        assert!(x.starts_with("ord_"));
        assert_eq!(x.len(), 24);
        assert_ne!(a.next(prefix::ORDER), x);
    }

    #[test]
    fn each_kind_replays_whatever_other_kinds_took_meanwhile() {
        let a = IdGen::from_seed(7);
        let b = IdGen::from_seed(7);
        let quiet: Vec<String> = (0..3).map(|_| a.next(prefix::PASS)).collect();
        let busy: Vec<String> = (0..3)
            .map(|i| {
                for _ in 0..i {
                    b.next(prefix::INTERACTION);
                    b.below(10);
                }
                b.next(prefix::PASS)
            })
            .collect();
        assert_eq!(quiet, busy);
        assert_ne!(
            IdGen::from_seed(7).next(prefix::PASS),
            IdGen::from_seed(8).next(prefix::PASS)
        );
        // Streams of different kinds differ, beyond their prefixes.
        let c = IdGen::from_seed(7);
        assert_ne!(c.next("aaa")[4..], c.next("bbb")[4..]);
    }
}
