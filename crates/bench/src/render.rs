//! Reports as readable tables, or JSON.

use crate::matching::MatchReport;
use crate::relevance::RelevanceReport;
use crate::stats::{fmt_ms, fmt_rate, Latency};
use comfy_table::{presets, Table};
use serde::Serialize;

/// Prints `v` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(v: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into())
    );
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(|h| h.to_string()));
    t
}

fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "met",
        Some(false) => "NOT met",
        None => "n/a",
    }
}

fn lat_row(name: &str, l: &Latency) -> Vec<String> {
    vec![
        name.to_string(),
        l.count.to_string(),
        fmt_ms(l.p50_ms),
        fmt_ms(l.p99_ms),
        fmt_ms(l.p999_ms),
        fmt_ms(l.mean_ms),
    ]
}

/// The match report as text.
pub fn match_report(r: &MatchReport) -> String {
    let m = &r.market;
    let e = &r.engine;
    let mut out = format!(
        "market: seed {}, {} passes, {} listings, {} holders, {} demands (generated in {:.1} s); \
         {} cores ({})\n\n",
        m.seed,
        fmt_rate(m.passes as f64),
        fmt_rate(m.listings as f64),
        fmt_rate(m.holders as f64),
        fmt_rate(m.demands as f64),
        m.generate_secs,
        m.cores,
        m.cpu
    );

    let mut t = table(&["engine", "value"]);
    t.add_row(vec![
        "build".to_string(),
        format!(
            "{:.1} s: {} listings/s, {} passes/s",
            e.build_secs,
            fmt_rate(e.listings_per_sec),
            fmt_rate(e.passes_per_sec)
        ),
    ]);
    t.add_row(vec![
        "latency, one thread".to_string(),
        format!(
            "p50 {}, p99 {}, p99.9 {}, max {}",
            fmt_ms(e.latency.p50_ms),
            fmt_ms(e.latency.p99_ms),
            fmt_ms(e.latency.p999_ms),
            fmt_ms(e.latency.max_ms)
        ),
    ]);
    t.add_row(vec![
        format!("throughput, {} threads", e.threads),
        format!("{} demands/s", fmt_rate(e.throughput_per_sec)),
    ]);
    if let Some(mem) = &e.memory {
        t.add_row(vec![
            "memory beyond the text index".to_string(),
            format!(
                "{:.0} B/listing (heap +{:.1} MiB; all resident +{:.1} MiB; index on disk {:.1} MiB)",
                mem.bytes_per_listing,
                mem.anon_delta_bytes as f64 / 1048576.0,
                mem.rss_delta_bytes as f64 / 1048576.0,
                mem.index_bytes_on_disk as f64 / 1048576.0
            ),
        ]);
    }
    t.add_row(vec![
        "demands met (≥ min_holders)".to_string(),
        format!(
            "{:.1}% (mean {:.1} holders returned)",
            e.satisfied_share * 100.0,
            e.mean_returned
        ),
    ]);
    if let Some(s) = &r.sanity {
        t.add_row(vec![
            "same as the exact matcher".to_string(),
            format!(
                "top holder {:.1}%, whole list {:.1}% of {} demands (exact: p50 {}, p99 {}){}",
                s.top_holder_agreement * 100.0,
                s.full_list_agreement * 100.0,
                s.demands,
                fmt_ms(s.exact_latency.p50_ms),
                fmt_ms(s.exact_latency.p99_ms),
                s.note
                    .as_ref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            ),
        ]);
    }
    out.push_str(&t.to_string());
    out.push_str("\n\n");

    if !r.baselines.is_empty() {
        let mut t = table(&[
            "latency, one thread",
            "demands",
            "p50",
            "p99",
            "p99.9",
            "mean",
        ]);
        t.add_row(lat_row("engine (all demands)", &e.latency));
        for b in &r.baselines {
            t.add_row(lat_row(
                &format!("engine (demands asked of {})", b.name),
                &b.engine_latency,
            ));
            t.add_row(lat_row(
                &format!("{} (load {:.0} s)", b.name, b.load_secs),
                &b.latency,
            ));
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
        let mut t = table(&[
            "baseline ÷ engine",
            "p50",
            "p99",
            "p99.9",
            "same top holder",
        ]);
        for b in &r.baselines {
            t.add_row(vec![
                b.name.clone(),
                format!("{:.1}×", b.ratio_p50),
                format!("{:.1}×", b.ratio_p99),
                format!("{:.1}×", b.ratio_p999),
                format!("{:.1}%", b.top_holder_agreement * 100.0),
            ]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }

    let mut t = table(&["goal", "measured", ""]);
    for g in &r.goals {
        t.add_row(vec![
            g.goal.clone(),
            g.measured.clone(),
            met(g.met).to_string(),
        ]);
    }
    out.push_str(&t.to_string());
    out
}

/// The relevance report as text.
pub fn relevance_report(r: &RelevanceReport) -> String {
    let mut t = table(&["", "recall@1", "recall@5", "recall@10", "p50", "p99"]);
    let engine = format!("engine (floor {})", r.absent.floor);
    for (name, s) in [
        (engine.as_str(), &r.engine),
        ("plain BM25 + model numbers", &r.bm25),
        ("SQLite FTS5 (bm25)", &r.fts5),
    ] {
        t.add_row(vec![
            name.to_string(),
            format!("{:.3}", s.recall_at_1),
            format!("{:.3}", s.recall_at_5),
            format!("{:.3}", s.recall_at_10),
            fmt_ms(s.p50_ms),
            fmt_ms(s.p99_ms),
        ]);
    }
    let mut c = table(&[
        "floor",
        "recall@1",
        "recall@5",
        "recall@10",
        "absent: refused",
    ]);
    for p in &r.curve {
        c.add_row(vec![
            format!("{:.2}", p.floor),
            format!("{:.3}", p.recall_at_1),
            format!("{:.3}", p.recall_at_5),
            format!("{:.3}", p.recall_at_10),
            format!("{:.3}", p.refusal_rate),
        ]);
    }
    let goal = |name: &str, ok: bool, v: String| {
        format!("{name}: {v} {}", if ok { "met" } else { "NOT met" })
    };
    let a = &r.absent;
    format!(
        "{t}\n\nrelevance floor (present products: recall; absent products: share contacting nobody)\n{c}\n\ngoals:\n  {}\n  {}\n  {}\n  {}\n  {}",
        goal("engine recall@1 ≥ 0.95", r.engine.recall_at_1 >= 0.95, format!("{:.3}", r.engine.recall_at_1)),
        goal("engine recall@10 ≥ 0.99", r.engine.recall_at_10 >= 0.99, format!("{:.3}", r.engine.recall_at_10)),
        goal("engine recall@1 ≥ plain BM25's", r.engine.recall_at_1 >= r.bm25.recall_at_1, format!("{:.3} vs {:.3}", r.engine.recall_at_1, r.bm25.recall_at_1)),
        goal("absent products refused ≥ 50 %", a.refusal_rate >= 0.5, format!("{:.3} at floor {}", a.refusal_rate, a.floor)),
        goal("recall@1 drop from the floor ≤ 0.01", a.recall_at_1_change >= -0.01, format!("{:+.3}", a.recall_at_1_change)),
    )
}
