//! The RFC 6962 reference vectors (the Certificate Transparency test
//! leaves, their roots and proofs as transparency-dev/merkle publishes
//! them), a naive statement of the RFC's definitions, and properties.

use super::*;
use proptest::prelude::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn h(s: &str) -> Hash {
    unhex(s).try_into().expect("32 bytes")
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// The root for each size 0..=8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn reference_tree() -> Tree {
    let mut t = Tree::new();
    for l in LEAVES {
        t.push(leaf_hash(&unhex(l)));
    }
    t
}

#[test]
fn roots_match_rfc_6962() {
    let t = reference_tree();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(t.root(size as u64).unwrap(), h(want), "size {size}");
    }
    assert_eq!(empty_root(), h(ROOTS[0]));
    assert!(t.root(9).is_err());
}

#[test]
fn inclusion_proofs_match_rfc_6962() {
    let t = reference_tree();
    let cases: [(u64, u64, &[&str]); 2] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    for (index, size, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        assert_eq!(t.inclusion(index, size).unwrap(), want, "{index}/{size}");
        let leaf = t.leaf(index).unwrap();
        verify_inclusion(&leaf, index, size, &want, &h(ROOTS[size as usize])).unwrap();
    }
}

#[test]
fn consistency_proofs_match_rfc_6962() {
    let t = reference_tree();
    let cases: [(u64, u64, &[&str]); 3] = [
        (
            2,
            8,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (first, second, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        assert_eq!(
            t.consistency(first, second).unwrap(),
            want,
            "{first}→{second}"
        );
        verify_consistency(
            first,
            second,
            &want,
            &h(ROOTS[first as usize]),
            &h(ROOTS[second as usize]),
        )
        .unwrap();
    }
}

#[test]
fn degenerate_consistency() {
    let t = reference_tree();
    let r4 = t.root(4).unwrap();
    let r5 = t.root(5).unwrap();
    verify_consistency(4, 4, &[], &r4, &r4).unwrap();
    assert!(verify_consistency(4, 4, &[], &r4, &r5).is_err());
    assert!(verify_consistency(4, 4, &[r4], &r4, &r4).is_err());
    verify_consistency(0, 8, &[], &empty_root(), &t.root(8).unwrap()).unwrap();
    assert!(verify_consistency(0, 8, &[r4], &empty_root(), &r5).is_err());
    assert!(verify_consistency(5, 4, &[], &r5, &r4).is_err());
    assert!(verify_consistency(4, 5, &[], &r4, &r5).is_err());
    assert!(verify_inclusion(&r4, 8, 8, &[], &r4).is_err());
}

/// The RFC's recursive definitions, written as plainly as it states them.
fn naive_mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&naive_mth(&d[..k]), &naive_mth(&d[k..]))
        }
    }
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u32).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn tree_of(d: &[Hash]) -> Tree {
    let mut t = Tree::new();
    for l in d {
        t.push(*l);
    }
    t
}

#[test]
fn cached_roots_equal_the_definition() {
    let d = leaves(70);
    let t = tree_of(&d);
    for n in 0..=70 {
        assert_eq!(t.root(n as u64).unwrap(), naive_mth(&d[..n]), "size {n}");
    }
}

fn flip(proof: &mut [Hash], which: usize, bit: u8) {
    let i = which % proof.len();
    proof[i][(bit / 8) as usize % 32] ^= 1 << (bit % 8);
}

proptest! {
    #[test]
    fn inclusion_proofs_verify_and_a_flipped_bit_fails(size in 1u64..300, seed in any::<u64>(), which in any::<usize>(), bit in any::<u8>()) {
        let d = leaves(size as usize);
        let t = tree_of(&d);
        let index = seed % size;
        let root = t.root(size).unwrap();
        let proof = t.inclusion(index, size).unwrap();
        prop_assert!(verify_inclusion(&d[index as usize], index, size, &proof, &root).is_ok());
        // Another leaf or index does not verify.
        let other = leaf_hash(b"another entry");
        prop_assert!(verify_inclusion(&other, index, size, &proof, &root).is_err());
        if size > 1 {
            prop_assert!(verify_inclusion(&d[index as usize], (index + 1) % size, size, &proof, &root).is_err());
        }
        // (The size is bound by the signed checkpoint, not by the path: a
        // path can have the same shape in two sizes.)
        if !proof.is_empty() {
            let mut bad = proof.clone();
            flip(&mut bad, which, bit);
            prop_assert!(verify_inclusion(&d[index as usize], index, size, &bad, &root).is_err());
            prop_assert!(verify_inclusion(&d[index as usize], index, size, &proof[..proof.len() - 1], &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&d[index as usize], index, size, &longer, &root).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_a_flipped_bit_fails(second in 1u64..300, seed in any::<u64>(), which in any::<usize>(), bit in any::<u8>()) {
        let d = leaves(second as usize);
        let t = tree_of(&d);
        let first = seed % (second + 1);
        let (r1, r2) = (t.root(first).unwrap(), t.root(second).unwrap());
        let proof = t.consistency(first, second).unwrap();
        prop_assert!(verify_consistency(first, second, &proof, &r1, &r2).is_ok());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            flip(&mut bad, which, bit);
            prop_assert!(verify_consistency(first, second, &bad, &r1, &r2).is_err());
            prop_assert!(verify_consistency(first, second, &proof[..proof.len() - 1], &r1, &r2).is_err());
        }
        if first > 0 && first < second {
            // A fork: the same sizes, one earlier leaf changed.
            let mut forked = d.clone();
            forked[(seed as usize / 7) % first as usize] = leaf_hash(b"rewritten");
            let f = tree_of(&forked);
            prop_assert!(verify_consistency(first, second, &proof, &f.root(first).unwrap(), &r2).is_err());
            prop_assert!(verify_consistency(first, second, &f.consistency(first, second).unwrap(), &r1, &f.root(second).unwrap()).is_err());
        }
    }
}
