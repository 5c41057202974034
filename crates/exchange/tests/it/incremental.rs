//! Incremental market state == recomputed market state, through the
//! services and a real store: a replica that follows grants, revocations,
//! new passes, field changes, answers and declines in place ranks, explains and reports exactly as a
//! fresh replica that reads the whole market, after every step of a seeded
//! random sequence.

use crate::Fixture;
use std::sync::Arc;
use symbolon_api as api;
use symbolon_core::demand::{HolderCriteria, ItemSpec};
use symbolon_core::ids::IdGen;
use symbolon_exchange::{Exchange, SandboxGateway};
use symbolon_match::engine::Engine;
use symbolon_match::{MatchQuery, Matcher};

/// A fresh replica over the same store: its first match reads everything.
fn oracle(f: &Fixture) -> (Exchange, Arc<Engine>) {
    let engine = Arc::new(Engine::in_memory().expect("engine"));
    let x = Exchange::new(
        f.store.clone(),
        engine.clone(),
        Arc::new(SandboxGateway::new()),
        f.clock.clone(),
        IdGen::from_seed(999),
        crate::config(),
    );
    (x, engine)
}

fn queries() -> Vec<MatchQuery> {
    let q = |text: &str, min_rate: Option<f64>, fields: &[&str]| {
        MatchQuery::new(
            ItemSpec {
                query: text.into(),
                category: None,
                max_price: None,
            },
            HolderCriteria {
                min_positive_rate: None,
                min_success_rate: min_rate,
                min_ratings: None,
                fields: fields
                    .iter()
                    .map(|f| symbolon_core::TaxonomyPath::parse(f, "fields").expect("path"))
                    .collect(),
            },
        )
    };
    vec![
        q("coffee grinder", None, &[]),
        q("kettle", None, &[]),
        q("steel", Some(0.5), &[]),
        q("grinder kettle scale", None, &["home"]),
    ]
}

/// xorshift64*: the sequence replays from the seed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n as u64) as usize
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_following_changes_in_place_agrees_with_a_full_read() {
    let seed = std::env::var("SYMBOLON_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    let f = Fixture::new(seed).await;
    let x = &f.exchange;
    let mut rng = Rng(seed | 1);
    let provider = f.account("Maker", &[api::Role::Provider]).await;
    let titles = [
        ("Burr coffee grinder", "home/kitchen"),
        ("Electric kettle, steel", "home/kitchen"),
        ("Kitchen scale", "home"),
        ("Steel coffee grinder, manual", "home/kitchen"),
        ("Gooseneck kettle", "home/kitchen"),
    ];
    let mut passes = Vec::new();
    for (title, category) in titles {
        passes.push(f.pass_of(&provider, title, category).await);
    }
    let mut holders = Vec::new();
    for i in 0..6 {
        holders.push(f.account(&format!("H{i}"), &[api::Role::Holder]).await);
    }
    let buyer = f.account("Buyer", &[api::Role::Requester]).await;
    // Two holders hold a pass from the start, so the first demand matches.
    for h in &holders[..2] {
        f.grant(&provider, &passes[0], h).await;
    }
    x.fresh_market().await.expect("first sync");
    let full_at_start = x.full_syncs().await;
    let (mut granted, mut revoked) = (0, 0);
    for step in 0..40 {
        match rng.below(6) {
            4 => {
                // A new pass (nobody holds it), or a revoked one (its
                // holders lose it), now and then.
                if rng.below(2) == 0 && passes.len() < 8 {
                    let n = passes.len();
                    passes.push(
                        f.pass_of(&provider, &format!("Grinder mk{n}"), "home/kitchen")
                            .await,
                    );
                } else if passes.len() > 3 {
                    let p = passes.remove(1 + rng.below(passes.len() - 1));
                    x.revoke_pass(&provider, &p.id).await.expect("revoke");
                    revoked += 1;
                }
            }
            0 | 1 => {
                let (p, h) = (rng.below(passes.len()), rng.below(holders.len()));
                f.grant(&provider, &passes[p], &holders[h]).await;
                granted += 1;
            }
            2 => {
                let h = &holders[rng.below(holders.len())];
                let fields = match rng.below(3) {
                    0 => vec![],
                    1 => vec!["home".to_string()],
                    _ => vec!["electronics".to_string()],
                };
                x.set_holder_profile(h, &api::HolderProfileUpdate { fields })
                    .await
                    .expect("fields");
            }
            _ => {
                let ask = api::CreateDemand {
                    query: "coffee grinder".into(),
                    category: None,
                    max_price: None,
                    holder: Default::default(),
                    min_holders: None,
                    max_holders: Some(6),
                    ttl_seconds: Some(600),
                    wait: None,
                };
                let Ok(d) = x.create_demand(&buyer, &ask).await else {
                    continue; // too few holders yet, or the open-demand limit
                };
                for c in &d.contacted {
                    let h = holders
                        .iter()
                        .find(|h| h.id == c.holder_id)
                        .expect("holder");
                    if rng.below(2) == 0 {
                        x.decline(h, &c.interaction_id, None)
                            .await
                            .expect("decline");
                    } else {
                        let pass_id = c.why.matched_pass_ids[0].clone();
                        x.offer(
                            h,
                            &c.interaction_id,
                            &api::CreateOffer {
                                pass_id,
                                note: None,
                            },
                        )
                        .await
                        .expect("offer");
                    }
                }
            }
        }
        x.fresh_market().await.expect("follow");
        let (fresh, full) = oracle(&f);
        fresh.fresh_market().await.expect("full read");
        for q in queries() {
            assert_eq!(
                f.engine.rank(&q, usize::MAX),
                full.rank(&q, usize::MAX),
                "step {step} (seed {seed}): {:?}",
                q.item.query
            );
            assert_eq!(
                f.engine.eliminations(&q),
                full.eliminations(&q),
                "step {step}"
            );
        }
    }
    assert!(granted > 5, "the sequence granted passes ({granted})");
    assert!(revoked > 0, "the sequence revoked passes ({revoked})");
    assert_eq!(
        x.full_syncs().await,
        full_at_start,
        "grants, revocations, new passes, fields, answers and declines were all applied in place"
    );
}
