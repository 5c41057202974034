//! Prints the Walmart-Amazon queries whose match is not ranked first (diagnostics).
use std::path::Path;
use symbolon_bench::relevance::{query_text, Dataset};
use symbolon_match::engine::Engine;
use symbolon_match::{HolderCriteria, ItemSpec, MatchQuery, Matcher};

fn main() {
    let dir = std::env::args().nth(1).expect("data dir");
    let d = Dataset::load(Path::new(&dir)).unwrap();
    let market = d.market();
    let titles: std::collections::HashMap<String, String> = market
        .passes
        .iter()
        .map(|p| (p.pass_id.clone(), format!("{} | {:?}", p.title, p.specs)))
        .collect();
    let docs: std::collections::HashMap<String, symbolon_match::PassDoc> = market
        .passes
        .iter()
        .map(|p| (p.pass_id.clone(), p.clone()))
        .collect();
    let engine = Engine::in_memory().unwrap();
    engine.sync(&market).unwrap();
    let mut shown = 0;
    let queries: std::collections::HashMap<&str, _> =
        d.queries.iter().map(|q| (q.id.as_str(), q)).collect();
    for (qid, aid) in &d.pairs {
        let Some(q) = queries.get(qid.as_str()) else {
            continue;
        };
        let want = &format!("a{aid}");
        let text = query_text(q);
        let mut mq = MatchQuery::new(
            ItemSpec {
                query: text.clone(),
                category: None,
                max_price: None,
            },
            HolderCriteria::default(),
        );
        mq.floor = std::env::var("FLOOR")
            .ok()
            .and_then(|f| f.parse().ok())
            .unwrap_or(0.0);
        let r = engine.rank(&mq, 3);
        let got: Vec<String> = r.iter().map(|h| h.matched_pass_ids[0].clone()).collect();
        let refused_only = std::env::var("REFUSED").is_ok();
        if refused_only && docs.get(want).is_none_or(|p| engine.check(&mq, p).passes()) {
            continue;
        }
        if got.first() != Some(want) && shown < 60 {
            shown += 1;
            println!(
                "Q: {text}\n  want {want}: {}",
                titles.get(want).map(String::as_str).unwrap_or("?")
            );
            for (h, g) in r.iter().zip(&got) {
                println!("  got {g} ({:.4}): {}", h.relevance, titles[g]);
            }
            if let Some(p) = docs.get(want) {
                let c = engine.check(&mq, p);
                println!(
                    "  want rel {:.4} cov {:.4}",
                    c.relevance.score, c.relevance.coverage
                );
            }
        }
    }
}
