//! What a verifier pays per pass: signing, verifying a pass (signature,
//! validity), verifying with revocation (decoding the issuer's 16 KiB status
//! list each time, or checking a list decoded once), and a unit's three-hop
//! chain. `cargo bench -p symbolon-pass`; figures in docs/BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use symbolon_core::{Money, Timestamp};
use symbolon_pass::status::{bit, decode_list, encode_list, status_list_credential};
use symbolon_pass::*;

const ISS: &str = "https://x.example/v1/providers/acc_p";
const LIST: &str = "https://x.example/v1/providers/acc_p/status/revocation";

fn pass_claims() -> serde_json::Value {
    let specs: Vec<(String, String)> = (0..8)
        .map(|i| (format!("spec {i}"), format!("value {i}")))
        .collect();
    let actions = standard_actions(
        "https://x.example/v1/passes/pas_1",
        "https://x.example/p/pas_1",
        true,
    );
    let status = StatusEntry {
        index: 4_242,
        list_url: LIST.into(),
    };
    credential(
        "https://x.example/v1/passes/pas_1",
        ISS,
        "Maker",
        &PassSubject {
            product_id: "prd_1",
            name: "Sony WH-1000XM5 wireless noise cancelling headphones",
            description: "Industry-leading noise cancellation, 30 hours of battery, multipoint.",
            category: "electronics/audio/headphones",
            specs: &specs,
            price: Money::parse("349.99", "USD").unwrap(),
            link: "https://x.example/p/pas_1",
            order_endpoint: "https://x.example/v1/passes/pas_1/orders",
            gtin: Some("4548736132610"),
            actions: &actions,
            status: Some(&status),
        },
        &PassTerms {
            mode: "unique",
            units: Some(50),
            commission_bps: 800,
        },
        Timestamp::from_millis(1_000_000),
        Some(Timestamp::from_millis(9_000_000_000_000)),
    )
}

fn bench(c: &mut Criterion) {
    let key = ProviderKey::from_secret_bytes([3; 32]);
    let jwks = Jwks {
        keys: vec![key.jwk()],
    };
    let claims = pass_claims();
    let now = Timestamp::from_millis(2_000_000);
    let jws = sign_compact(&claims, &key, PASS_TYP, Some("vc"));
    // A list with 1 000 revoked passes.
    let revoked: Vec<u32> = (0..1_000).map(|i| i * 131).collect();
    let list_claims = status_list_credential(
        LIST,
        ISS,
        &encode_list(&revoked),
        now,
        now.plus_seconds(600),
    );
    let list = sign_compact(&list_claims, &key, PASS_TYP, Some("vc"));
    let bits = decode_list(
        list_claims["credentialSubject"]["encodedList"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut chain = Vec::new();
    for (i, (from, to)) in [("h", "a"), ("a", "b"), ("b", "c")].iter().enumerate() {
        let prev = chain
            .last()
            .map(|s: &String| link_hash(s))
            .unwrap_or_else(|| link_hash(&jws));
        chain.push(sign_transfer(
            &Transfer {
                id: "t",
                unit_id: "https://x.example/v1/passes/pas_1/units/1",
                pass_id: "https://x.example/v1/passes/pas_1",
                issuer_id: ISS,
                seq: i as u32 + 1,
                from,
                to,
                prev: &prev,
                at: now,
            },
            &key,
        ));
    }

    let mut g = c.benchmark_group("pass");
    g.bench_function("sign", |b| {
        b.iter(|| sign_compact(black_box(&claims), &key, PASS_TYP, Some("vc")))
    });
    g.bench_function("verify (signature, validity)", |b| {
        b.iter(|| verify_pass(black_box(&jws), &jwks, now).unwrap())
    });
    g.bench_function("verify + revocation (decode the list each time)", |b| {
        b.iter(|| verify_full(black_box(&jws), &jwks, Some(&list), now).unwrap())
    });
    g.bench_function("verify + revocation (list decoded once)", |b| {
        b.iter(|| {
            let v = verify_pass(black_box(&jws), &jwks, now).unwrap();
            let e = StatusEntry::of(&v.claims).unwrap().unwrap();
            assert!(!bit(&bits, e.index));
        })
    });
    g.bench_function("unit chain, 3 hops", |b| {
        b.iter(|| verify_chain(black_box(&jws), &chain, &jwks).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
