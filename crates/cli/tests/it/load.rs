//! `symbolon bench load`: a small run on SQLite accounts for every demand and
//! every 2nd offer, writes its history, and writes an SVG plot.

use super::command;
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn bench_load_counts_every_demand_and_second_offer_and_plots_svg() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("load.svg");
    let out = command()
        .current_dir(dir.path())
        .args([
            "--json",
            "bench",
            "load",
            "--listings",
            "80",
            "--holders",
            "10",
            "--passes",
            "20",
            "--rates",
            "5,10",
            "--step-secs",
            "1.5",
            "--think-ms",
            "10",
            "--history",
            "20",
            "--svg",
        ])
        .arg(&svg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench load failed: {stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["backend"], "sqlite");
    assert_eq!(u(&r["history"]), 20, "every past interaction written");
    assert_eq!(u(&r["offer_errors"]), 0, "no holder's offer failed: {r}");
    let steps = r["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    for (s, rate) in steps.iter().zip([5u64, 10]) {
        assert_eq!(u(&s["offered_rate"]), rate);
        // Open loop: every scheduled demand is sent (none dropped at this rate).
        assert_eq!(u(&s["dropped"]), 0, "{s}");
        assert_eq!(u(&s["sent"]), (rate as f64 * 1.5).round() as u64, "{s}");
        assert_eq!(
            u(&s["sent"]),
            u(&s["ok"]) + u(&s["refused"]) + u(&s["errors"]),
            "every demand sent is accounted for: {s}"
        );
        assert_eq!(u(&s["errors"]), 0, "{s}");
        // Demands ask for passes held by 2 holders or more: all match.
        assert_eq!(u(&s["refused"]), 0, "{s}");
        assert_eq!(u(&s["expect_second_offer"]), u(&s["ok"]), "{s}");
        assert_eq!(
            u(&s["second_offer"]["count"]),
            u(&s["expect_second_offer"]),
            "every 2nd offer reached its requester's stream: {s}"
        );
        assert_eq!(u(&s["post"]["count"]), u(&s["ok"]), "{s}");
        let (p50, p99) = (
            s["second_offer"]["p50_ms"].as_f64().unwrap(),
            s["second_offer"]["p99_ms"].as_f64().unwrap(),
        );
        // The 2nd offer comes after the holders' 10 ms think time.
        assert!(p50 >= 10.0 && p99 >= p50, "{s}");
    }
    let text = std::fs::read_to_string(&svg).expect("the SVG was written");
    let doc = roxmltree::Document::parse(&text).expect("the SVG is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(text.contains("<svg"));
    assert!(text.contains("2nd offer p99"), "a series per percentile");
}

/// The same on two replicas sharing a fresh PostgreSQL database, when
/// `SYMBOLON_TEST_POSTGRES_URL` is set: demands go to both replicas, offers
/// reach requesters streaming from either.
#[test]
fn bench_load_on_two_postgres_replicas_counts_every_second_offer() {
    let Ok(admin) = std::env::var("SYMBOLON_TEST_POSTGRES_URL") else {
        eprintln!("SYMBOLON_TEST_POSTGRES_URL not set: skipped");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("load.svg");
    let out = command()
        .current_dir(dir.path())
        .args([
            "--json",
            "bench",
            "load",
            "--database-url",
            &admin,
            "--replicas",
            "2",
            "--listings",
            "80",
            "--holders",
            "10",
            "--passes",
            "20",
            "--rates",
            "10",
            "--step-secs",
            "1",
            "--think-ms",
            "10",
            "--history",
            "20",
            "--svg",
        ])
        .arg(&svg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench load failed: {stderr}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["backend"], "postgres");
    assert_eq!(u(&r["replicas"]), 2);
    assert_eq!(u(&r["history"]), 20);
    assert_eq!(u(&r["offer_errors"]), 0, "{r}");
    let s = &r["steps"][0];
    assert_eq!(u(&s["sent"]), 10, "{s}");
    assert_eq!(u(&s["ok"]), 10, "{s}");
    assert_eq!(
        u(&s["errors"]) + u(&s["refused"]) + u(&s["dropped"]),
        0,
        "{s}"
    );
    assert_eq!(u(&s["second_offer"]["count"]), 10, "{s}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}
