//! The indexed engine and the exact matcher side by side on one seeded
//! synthetic market (20 000 listings), each iteration answering the next of
//! 200 demands. `cargo bench -p symbolon-bench`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use symbolon_bench::api::{Engine, ExactMatcher, Matcher};
use symbolon_bench::market::{generate, Demand};

const LISTINGS: usize = 20_000;

fn cycle<'a, M: Matcher>(m: &'a M, demands: &'a [Demand]) -> impl FnMut() + 'a {
    let mut i = 0usize;
    move || {
        let d = &demands[i % demands.len()];
        i += 1;
        black_box(m.rank(&d.query, d.max_holders as usize));
    }
}

fn bench(c: &mut Criterion) {
    let (market, demands) = generate(7, LISTINGS, 2_000, 4_000, 200);
    let engine = Engine::in_memory().expect("engine");
    engine.sync(&market).expect("sync");
    let exact = ExactMatcher::new(market);

    let mut g = c.benchmark_group(format!("match_{LISTINGS}_listings"));
    g.bench_function("engine", |b| {
        let mut f = cycle(&engine, &demands);
        b.iter(&mut f)
    });
    g.sample_size(10);
    g.bench_function("exact", |b| {
        let mut f = cycle(&exact, &demands);
        b.iter(&mut f)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
