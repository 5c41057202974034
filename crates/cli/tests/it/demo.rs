//! `symbolon demo --seed N` keeps its promise: the same seed prints the same
//! ids on every run (ids of every kind: accounts, passes, demands, orders),
//! and another seed prints other ones.

use crate::command;
use std::process::Stdio;

/// Every id the demo printed, in order.
fn demo_ids(seed: &str) -> Vec<String> {
    let out = command()
        .args(["demo", "--seed", seed])
        .stdin(Stdio::null())
        .output()
        .expect("run the demo");
    assert!(
        out.status.success(),
        "the demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            let (prefix, rest) = w.split_at(w.len().min(4));
            w.len() == 24
                && prefix.ends_with('_')
                && prefix[..3].bytes().all(|b| b.is_ascii_lowercase())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_ids() {
    let first = demo_ids("7");
    let kinds: std::collections::BTreeSet<&str> = first.iter().map(|id| &id[..3]).collect();
    for kind in ["acc", "pas", "dem", "ord"] {
        assert!(kinds.contains(kind), "no {kind} id printed: {first:?}");
    }
    assert_eq!(demo_ids("7"), first, "seed 7, run twice");
    let other = demo_ids("8");
    assert_eq!(other.len(), first.len());
    assert!(
        other.iter().all(|id| !first.contains(id)),
        "{other:?} vs {first:?}"
    );
}
