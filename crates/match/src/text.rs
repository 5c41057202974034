//! Text relevance for the exact scorer.
//!
//! Tokens: lowercase runs of letters and digits (so `WH-1000XM5` gives `wh` and
//! `1000xm5`); CJK text gives one token per character and one per adjacent pair,
//! so Chinese queries match without a dictionary. A query's terms are its
//! distinct tokens (for a CJK run of two or more characters, its pairs).
//!
//! Query words that carry no meaning on their own are not terms: single ASCII
//! characters (`c`, `6`) and a few English stop words ([`STOP_WORDS`]) — unless
//! nothing else is left of the query.
//!
//! `relevance` = Σ over query terms of the best field weight the term appears in
//! (title 3, specs 2, description 1) ÷ (3 × number of terms): 1.0 when every
//! term is in the title, 0 when no term appears anywhere.

use std::collections::HashSet;

/// Weight of a term found in the title.
pub const W_TITLE: u32 = 3;
/// Weight of a term found in spec names or values.
pub const W_SPECS: u32 = 2;
/// Weight of a term found in the description.
pub const W_DESCRIPTION: u32 = 1;

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK Extension A
        | 0x4E00..=0x9FFF // CJK Unified Ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0xF900..=0xFAFF // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F)
}

/// Calls `emit` for every token of `s` (document side: CJK unigrams and bigrams).
fn for_each_token(s: &str, mut emit: impl FnMut(String)) {
    let mut word = String::new();
    let mut prev_cjk: Option<char> = None;
    for c in s.chars().flat_map(char::to_lowercase) {
        if is_cjk(c) {
            if !word.is_empty() {
                emit(std::mem::take(&mut word));
            }
            emit(c.to_string());
            if let Some(p) = prev_cjk {
                emit(format!("{p}{c}"));
            }
            prev_cjk = Some(c);
        } else {
            prev_cjk = None;
            if c.is_alphanumeric() {
                word.push(c);
            } else if !word.is_empty() {
                emit(std::mem::take(&mut word));
            }
        }
    }
    if !word.is_empty() {
        emit(word);
    }
}

/// The distinct tokens of a document field.
pub fn tokens(s: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for_each_token(s, |t| {
        out.insert(t);
    });
    out
}

/// English words dropped from queries (when other terms remain).
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "the", "for", "with", "of", "in", "on", "to", "by", "or", "from",
];

fn is_weak(term: &str) -> bool {
    (term.len() == 1 && term.is_ascii()) || STOP_WORDS.contains(&term)
}

/// The terms of a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms(pub Vec<String>);

impl Terms {
    pub fn of_query(q: &str) -> Self {
        let mut terms: Vec<String> = Vec::new();
        let mut push = |t: String| {
            if !terms.contains(&t) {
                terms.push(t);
            }
        };
        // CJK runs: pairs (or the single character of a one-character run).
        let mut run: Vec<char> = Vec::new();
        let mut word = String::new();
        let flush_run = |run: &mut Vec<char>, push: &mut dyn FnMut(String)| {
            if run.len() == 1 {
                push(run[0].to_string());
            } else {
                for w in run.windows(2) {
                    push(w.iter().collect());
                }
            }
            run.clear();
        };
        for c in q.chars().flat_map(char::to_lowercase) {
            if is_cjk(c) {
                if !word.is_empty() {
                    push(std::mem::take(&mut word));
                }
                run.push(c);
            } else {
                if !run.is_empty() {
                    flush_run(&mut run, &mut push);
                }
                if c.is_alphanumeric() {
                    word.push(c);
                } else if !word.is_empty() {
                    push(std::mem::take(&mut word));
                }
            }
        }
        if !run.is_empty() {
            flush_run(&mut run, &mut push);
        }
        if !word.is_empty() {
            push(word);
        }
        if terms.iter().any(|t| !is_weak(t)) {
            terms.retain(|t| !is_weak(t));
        }
        Terms(terms)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Relevance of a product to the query terms, in [0, 1].
///
/// Streams the document's tokens once per field, best-weighted field first,
/// recording for each term the best weight seen; no per-document sets are built.
pub fn relevance(terms: &Terms, title: &str, description: &str, specs: &[(String, String)]) -> f64 {
    if terms.is_empty() {
        return 0.0;
    }
    let mut best = vec![0u32; terms.0.len()];
    let visit = |text: &str, weight: u32, best: &mut [u32]| {
        for_each_token(text, |t| {
            if let Some(i) = terms.0.iter().position(|x| *x == t) {
                best[i] = best[i].max(weight);
            }
        });
    };
    visit(title, W_TITLE, &mut best);
    if best.iter().any(|w| *w < W_TITLE) {
        for (k, v) in specs {
            visit(k, W_SPECS, &mut best);
            visit(v, W_SPECS, &mut best);
        }
        if best.iter().any(|w| *w < W_SPECS) {
            visit(description, W_DESCRIPTION, &mut best);
        }
    }
    let sum: u32 = best.iter().sum();
    sum as f64 / (W_TITLE as f64 * terms.0.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_numbers_and_case() {
        let t = Terms::of_query("Sony WH-1000XM5");
        assert_eq!(t.0, vec!["sony", "wh", "1000xm5"]);
        assert_eq!(relevance(&t, "SONY wh-1000xm5 headphones", "", &[]), 1.0);
    }

    #[test]
    fn chinese_without_spaces() {
        let t = Terms::of_query("降噪耳机");
        assert_eq!(t.0, vec!["降噪", "噪耳", "耳机"]);
        assert_eq!(relevance(&t, "索尼降噪耳机", "", &[]), 1.0);
        // Only "耳机" appears: 1 of 3 terms in the title.
        let r = relevance(&t, "蓝牙耳机", "", &[]);
        assert!((r - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(relevance(&Terms::of_query("机"), "耳机", "", &[]), 1.0);
        // Mixed text.
        let t = Terms::of_query("华为 Mate60 手机");
        assert_eq!(t.0, vec!["华为", "mate60", "手机"]);
    }

    #[test]
    fn weak_words_are_not_terms_unless_alone() {
        assert_eq!(
            Terms::of_query("Wi-Fi 6 router for the office").0,
            vec!["wi", "fi", "router", "office"]
        );
        assert_eq!(Terms::of_query("the 6").0, vec!["the", "6"]);
        assert_eq!(
            relevance(
                &Terms::of_query("router for kids"),
                "Noise cancelling headphones for kids",
                "",
                &[]
            ),
            1.0 / 2.0
        );
    }

    #[test]
    fn field_weights() {
        let t = Terms::of_query("oled");
        assert_eq!(relevance(&t, "OLED TV", "", &[]), 1.0);
        let specs = vec![("panel".to_string(), "OLED".to_string())];
        assert!((relevance(&t, "TV", "", &specs) - 2.0 / 3.0).abs() < 1e-12);
        assert!((relevance(&t, "TV", "a bright OLED panel", &[]) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(relevance(&t, "TV", "LCD", &[]), 0.0);
        assert_eq!(relevance(&Terms::of_query("  --  "), "TV", "", &[]), 0.0);
    }
}
