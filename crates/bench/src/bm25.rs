//! The reference the engine's relevance must beat: plain BM25 (`k1` = 1.2,
//! `b` = 0.75) over one field (title and spec values), with model-number
//! normalisation only — lowercase words of letters and digits, and a word
//! joined by `-`, `/`, `.` or `_` also indexed joined (`WH-1000XM5` →
//! `wh`, `1000xm5`, `wh1000xm5`). No field weights, no units, no brands, no
//! floor: what a careful engineer would build in an afternoon.

use std::collections::HashMap;

/// BM25 term-frequency saturation.
pub const K1: f64 = 1.2;
/// BM25 length normalisation.
pub const B: f64 = 0.75;

/// The words of a text, model numbers also joined.
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in s.split_whitespace() {
        let lower = chunk.to_lowercase();
        let parts: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .collect();
        out.extend(parts.iter().map(|p| p.to_string()));
        if parts.len() > 1 {
            out.push(parts.concat());
        }
    }
    out
}

/// An inverted index over documents, scored with BM25.
#[derive(Debug, Default)]
pub struct Bm25 {
    ids: Vec<String>,
    lens: Vec<u32>,
    avg_len: f64,
    /// word → (doc, count).
    postings: HashMap<String, Vec<(u32, u32)>>,
}

impl Bm25 {
    /// Indexes `(id, text)` documents.
    pub fn new<'a>(docs: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        let mut b = Bm25::default();
        for (id, text) in docs {
            let d = b.ids.len() as u32;
            b.ids.push(id.to_string());
            let w = words(&text);
            b.lens.push(w.len() as u32);
            let mut counts: HashMap<String, u32> = HashMap::new();
            for x in w {
                *counts.entry(x).or_insert(0) += 1;
            }
            for (x, c) in counts {
                b.postings.entry(x).or_default().push((d, c));
            }
        }
        let total: u64 = b.lens.iter().map(|l| *l as u64).sum();
        b.avg_len = total as f64 / b.ids.len().max(1) as f64;
        b
    }

    /// The ids of the best `k` documents for `query`, best first (ties: first indexed).
    pub fn top(&self, query: &str, k: usize) -> Vec<String> {
        let mut terms = words(query);
        terms.sort();
        terms.dedup();
        let n = self.ids.len() as f64;
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for t in &terms {
            let Some(list) = self.postings.get(t) else {
                continue;
            };
            let df = list.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            for (d, c) in list {
                let tf = *c as f64;
                let norm = 1.0 - B + B * self.lens[*d as usize] as f64 / self.avg_len;
                *scores.entry(*d).or_insert(0.0) += idf * tf * (K1 + 1.0) / (tf + K1 * norm);
            }
        }
        let mut ranked: Vec<(u32, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(k)
            .map(|(d, _)| self.ids[d as usize].clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_numbers_are_joined_and_rare_words_weigh_more() {
        assert_eq!(
            words("Sony WH-1000XM5"),
            ["sony", "wh", "1000xm5", "wh1000xm5"]
        );
        let b = Bm25::new([
            ("1", "Sony WH-1000XM5 headphones".to_string()),
            ("2", "Sony TV".to_string()),
            ("3", "Sony radio".to_string()),
        ]);
        assert_eq!(b.top("sony wh1000xm5", 1), ["1"]);
        assert_eq!(b.top("nothing", 3), Vec::<String>::new());
    }
}
