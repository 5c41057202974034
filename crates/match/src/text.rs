//! Text: tokens, query terms and relevance — shared by the exact scorer and the
//! index, so both see exactly the same words.
//!
//! **Document tokens.** Lowercase runs of letters and digits; words joined by
//! `-`, `/`, `.` or `_` without spaces (a model number like `WH-1000XM5`) give
//! their parts *and* the joined form (`wh`, `1000xm5`, `wh1000xm5`), so
//! `WH1000XM5` and `WH-1000XM5` find each other. CJK text gives one token per
//! character and one per adjacent pair.
//!
//! **Query terms.** A joined word is one term (`wh1000xm5`). A CJK run is cut
//! into words by jieba (`降噪耳机` → `降噪` `耳机`); a word of two characters is
//! a term, a longer word gives its adjacent pairs, and single characters left
//! between words are paired with each other when adjacent. Pairs therefore
//! never straddle two words, and every term is a document token.
//!
//! Query words that carry no meaning on their own are not terms: single
//! characters and a few English stop words ([`STOP_WORDS`]) — unless nothing
//! else is left of the query.
//!
//! `relevance` = Σ over query terms of `idf × the best field weight the term
//! appears in` (title 3, specs 2, description 1) ÷ (3 × Σ idf): 1.0 when every
//! term is in the title, 0 when no term appears anywhere. The idf ([`idf_weight`])
//! makes a rare model number count for more than a common word like "black".
//! The coverage is then scaled by at most 5 % for long titles ([`length_factor`]),
//! so among products covering the query equally the one about it comes first.

use std::sync::LazyLock;

/// Weight of a term found in the title.
pub const W_TITLE: u32 = 3;
/// Weight of a term found in spec names or values.
pub const W_SPECS: u32 = 2;
/// Weight of a term found in the description.
pub const W_DESCRIPTION: u32 = 1;

/// Most terms a query contributes (the rest are ignored).
pub const MAX_QUERY_TERMS: usize = 64;

static JIEBA: LazyLock<jieba_rs::Jieba> = LazyLock::new(jieba_rs::Jieba::new);

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK Extension A
        | 0x4E00..=0x9FFF // CJK Unified Ideographs
        | 0xAC00..=0xD7AF // Hangul syllables
        | 0xF900..=0xFAFF // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F)
}

fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '/' | '.' | '_')
}

/// One piece of text: an alphanumeric compound (its parts) or a CJK run.
enum Piece<'a> {
    Compound(&'a [String]),
    Cjk(&'a [char]),
}

/// Splits lowercased `s` into compounds and CJK runs.
fn for_each_piece(s: &str, mut emit: impl FnMut(Piece<'_>)) {
    let mut parts: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut joined = false; // the last character was a joiner after a word
    let mut run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, parts: &mut Vec<String>| {
        if !word.is_empty() {
            parts.push(std::mem::take(word));
        }
    };
    for c in s.chars().flat_map(char::to_lowercase) {
        if is_cjk(c) {
            flush_word(&mut word, &mut parts);
            if !parts.is_empty() {
                emit(Piece::Compound(&parts));
                parts.clear();
            }
            joined = false;
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            emit(Piece::Cjk(&run));
            run.clear();
        }
        if c.is_alphanumeric() {
            if word.is_empty() && !joined && !parts.is_empty() {
                emit(Piece::Compound(&parts));
                parts.clear();
            }
            word.push(c);
            joined = false;
        } else if is_joiner(c) && !word.is_empty() {
            flush_word(&mut word, &mut parts);
            joined = true;
        } else {
            flush_word(&mut word, &mut parts);
            if !parts.is_empty() {
                emit(Piece::Compound(&parts));
                parts.clear();
            }
            joined = false;
        }
    }
    flush_word(&mut word, &mut parts);
    if !parts.is_empty() {
        emit(Piece::Compound(&parts));
    }
    if !run.is_empty() {
        emit(Piece::Cjk(&run));
    }
}

/// Calls `emit` for every token of a document field (repeats included).
pub fn for_each_token(s: &str, mut emit: impl FnMut(&str)) {
    let mut buf = String::new();
    for_each_piece(s, |piece| match piece {
        Piece::Compound(parts) => {
            for p in parts {
                emit(p);
            }
            if parts.len() > 1 {
                buf.clear();
                parts.iter().for_each(|p| buf.push_str(p));
                emit(&buf);
            }
        }
        Piece::Cjk(run) => {
            for (i, c) in run.iter().enumerate() {
                buf.clear();
                buf.push(*c);
                emit(&buf);
                if let Some(next) = run.get(i + 1) {
                    buf.push(*next);
                    emit(&buf);
                }
            }
        }
    });
}

/// The distinct tokens of a document field.
pub fn tokens(s: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for_each_token(s, |t| {
        out.insert(t.to_string());
    });
    out
}

/// English words dropped from queries (when other terms remain).
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "the", "for", "with", "of", "in", "on", "to", "by", "or", "from",
];

fn is_weak(term: &str) -> bool {
    term.chars().count() == 1 || STOP_WORDS.contains(&term)
}

/// The terms of a query. A term joined from a compound (`wh1000xm5` from
/// `WH-1000XM5`) also matches a field holding all its parts (`WH 1000XM5`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms(pub Vec<String>, Vec<Vec<String>>);

/// The terms of one CJK run of a query (see the module docs).
fn cjk_terms(run: &[char], push: &mut dyn FnMut(String)) {
    if run.len() == 1 {
        push(run[0].to_string());
        return;
    }
    let text: String = run.iter().collect();
    let mut singles: Vec<char> = Vec::new();
    let flush = |singles: &mut Vec<char>, push: &mut dyn FnMut(String)| {
        match singles.len() {
            0 => {}
            1 => push(singles[0].to_string()),
            _ => singles.windows(2).for_each(|w| push(w.iter().collect())),
        }
        singles.clear();
    };
    for token in JIEBA.cut(&text, false) {
        let chars: Vec<char> = token.word.chars().collect();
        if chars.len() == 1 {
            singles.push(chars[0]);
            continue;
        }
        flush(&mut singles, push);
        chars.windows(2).for_each(|w| push(w.iter().collect()));
    }
    flush(&mut singles, push);
}

impl Terms {
    pub fn of_query(q: &str) -> Self {
        let mut terms: Vec<(String, Vec<String>)> = Vec::new();
        let mut push = |t: String, parts: Vec<String>| {
            if !terms.iter().any(|(x, _)| *x == t) && terms.len() < MAX_QUERY_TERMS {
                terms.push((t, parts));
            }
        };
        for_each_piece(q, |piece| match piece {
            Piece::Compound(parts) if parts.len() > 1 => push(parts.concat(), parts.to_vec()),
            Piece::Compound(parts) => push(parts[0].clone(), vec![]),
            Piece::Cjk(run) => cjk_terms(run, &mut |t| push(t, vec![])),
        });
        if terms.iter().any(|(t, _)| !is_weak(t)) {
            terms.retain(|(t, _)| !is_weak(t));
        }
        let (words, parts) = terms.into_iter().unzip();
        Terms(words, parts)
    }

    /// The parts of term `i` when it was joined from a compound (else empty).
    pub fn parts(&self, i: usize) -> &[String] {
        self.1.get(i).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether term `i` is in a field with these tokens.
    fn in_field(&self, i: usize, field: &std::collections::HashSet<String>) -> bool {
        field.contains(&self.0[i]) || {
            let parts = self.parts(i);
            !parts.is_empty() && parts.iter().all(|p| field.contains(p))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The weight of a term by its rarity: `round(100 · ln(1 + (n + 1) / (df + 1)))`
/// where `df` is how many of the `n` pass documents have the term in their
/// title. Integers (≥ 69), so weighted sums stay exact in `f32` inside the index.
pub fn idf_weight(df: u64, n: u64) -> u32 {
    let idf = (1.0 + (n as f64 + 1.0) / (df as f64 + 1.0)).ln();
    (10.0 * idf * idf * idf).round() as u32
}

/// Title tokens beyond which the length factor stops falling.
pub const LENGTH_CAP: u32 = 100;
/// Most a long title loses (5 %): a tie-breaker towards the product that is
/// about the query rather than mentioning it among many words.
pub const LENGTH_PENALTY: f64 = 0.05;

/// How many tokens a title has (repeats, joined model numbers and CJK pairs included).
pub fn title_len(title: &str) -> u32 {
    let mut n = 0u32;
    for_each_token(title, |_| n = n.saturating_add(1));
    n
}

/// The length factor: `1 − 0.05 · min(title tokens, 100) / 100`, in [0.95, 1].
pub fn length_factor(title_len: u32) -> f64 {
    1.0 - LENGTH_PENALTY * title_len.min(LENGTH_CAP) as f64 / LENGTH_CAP as f64
}

/// Relevance from a weighted sum: `sum ÷ (3 × Σ term weights)`.
pub fn relevance_of_sum(sum: u64, weights: &[u32]) -> f64 {
    let total: u64 = weights.iter().map(|w| *w as u64).sum();
    if total == 0 {
        return 0.0;
    }
    sum as f64 / (W_TITLE as f64 * total as f64)
}

/// Coverage of the query terms by a product, in [0, 1], every term weighing
/// the same and no length factor: 1.0 when every term is in the title.
pub fn relevance(terms: &Terms, title: &str, description: &str, specs: &[(String, String)]) -> f64 {
    coverage(terms, &vec![1; terms.0.len()], title, description, specs)
}

/// Relevance as matchers rank by it: weighted [`coverage`] × the title's [`length_factor`].
pub fn weighted_relevance(
    terms: &Terms,
    weights: &[u32],
    title: &str,
    description: &str,
    specs: &[(String, String)],
) -> f64 {
    coverage(terms, weights, title, description, specs) * length_factor(title_len(title))
}

/// Coverage of the query terms by a product, in [0, 1]: Σ over terms of
/// `weight × best field weight` ÷ (3 × Σ weights).
///
/// A field is the title, all specs (names and values), or the description.
pub fn coverage(
    terms: &Terms,
    weights: &[u32],
    title: &str,
    description: &str,
    specs: &[(String, String)],
) -> f64 {
    if terms.is_empty() {
        return 0.0;
    }
    let mut best = vec![0u32; terms.0.len()];
    let visit = |field: &std::collections::HashSet<String>, weight: u32, best: &mut [u32]| {
        for (i, b) in best.iter_mut().enumerate() {
            if *b < weight && terms.in_field(i, field) {
                *b = weight;
            }
        }
    };
    visit(&tokens(title), W_TITLE, &mut best);
    if best.iter().any(|w| *w < W_TITLE) {
        let mut spec_tokens = std::collections::HashSet::new();
        for (k, v) in specs {
            spec_tokens.extend(tokens(k));
            spec_tokens.extend(tokens(v));
        }
        visit(&spec_tokens, W_SPECS, &mut best);
        if best.iter().any(|w| *w < W_SPECS) {
            visit(&tokens(description), W_DESCRIPTION, &mut best);
        }
    }
    let sum: u64 = best
        .iter()
        .zip(weights)
        .map(|(b, w)| *b as u64 * *w as u64)
        .sum();
    relevance_of_sum(sum, weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_numbers_and_case() {
        let t = Terms::of_query("Sony WH-1000XM5");
        assert_eq!(t.0, vec!["sony", "wh1000xm5"]);
        assert_eq!(t.parts(1), ["wh", "1000xm5"]);
        // Written apart in the document: all parts in one field match.
        assert_eq!(relevance(&t, "Sony WH 1000XM5", "", &[]), 1.0);
        assert_eq!(relevance(&t, "Sony WH", "", &[]), 0.5);
        assert_eq!(relevance(&t, "SONY wh-1000xm5 headphones", "", &[]), 1.0);
        // Written with or without the hyphen, either way round.
        let t = Terms::of_query("WH1000XM5");
        assert_eq!(relevance(&t, "Sony WH-1000XM5", "", &[]), 1.0);
        assert_eq!(relevance(&t, "Sony WH/1000XM5", "", &[]), 1.0);
        let t = Terms::of_query("wh-1000xm5");
        assert_eq!(relevance(&t, "Sony WH1000XM5", "", &[]), 1.0);
        assert_eq!(relevance(&t, "Sony WH-1000XM4", "", &[]), 0.0);
        let mut doc = tokens("USB-C 2.0 hub, a-b");
        let mut want: Vec<&str> = vec!["usb", "c", "usbc", "2", "0", "20", "hub", "a", "b", "ab"];
        want.sort();
        let mut got: Vec<String> = doc.drain().collect();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn chinese_without_spaces() {
        let t = Terms::of_query("降噪耳机");
        assert_eq!(t.0, vec!["降噪", "耳机"]);
        assert_eq!(relevance(&t, "索尼 WH-1000XM5 无线降噪耳机", "", &[]), 1.0);
        // Only "耳机" appears: 1 of 2 terms in the title.
        let r = relevance(&t, "蓝牙耳机", "", &[]);
        assert!((r - 1.0 / 2.0).abs() < 1e-12);
        assert_eq!(relevance(&Terms::of_query("机"), "耳机", "", &[]), 1.0);
        // Mixed text.
        let t = Terms::of_query("华为 Mate60 手机");
        assert_eq!(t.0, vec!["华为", "mate60", "手机"]);
        assert_eq!(relevance(&t, "华为Mate60 5G手机", "", &[]), 1.0);
        // A longer word gives its pairs; pairs never straddle two words.
        let t = Terms::of_query("笔记本电脑");
        assert!(t.0.iter().all(|x| x.chars().count() == 2), "{t:?}");
        assert_eq!(relevance(&t, "联想笔记本电脑", "", &[]), 1.0);
    }

    #[test]
    fn weak_words_are_not_terms_unless_alone() {
        assert_eq!(
            Terms::of_query("Wi-Fi 6 router for the office").0,
            vec!["wifi", "router", "office"]
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
    fn rare_terms_weigh_more_and_long_titles_a_little_less() {
        let t = Terms::of_query("black wh1000xm5");
        // "black" is in every title, the model number in one: it weighs more.
        let (common, rare) = (idf_weight(100, 100), idf_weight(1, 100));
        assert!(rare > common * 5, "{rare} vs {common}");
        let w = [common, rare];
        let only_model = coverage(&t, &w, "WH-1000XM5", "", &[]);
        let only_colour = coverage(&t, &w, "black", "", &[]);
        assert!(
            only_model > 0.8 && only_colour < 0.2,
            "{only_model} {only_colour}"
        );
        // Equal coverage: the shorter title ranks higher, by at most 5 %.
        let short = weighted_relevance(&t, &w, "Black WH-1000XM5", "", &[]);
        let long = weighted_relevance(
            &t,
            &w,
            &format!("Black WH-1000XM5 {}", "word ".repeat(200)),
            "",
            &[],
        );
        assert!(short > long && long >= 0.95 * short, "{short} {long}");
        assert_eq!(length_factor(0), 1.0);
        assert_eq!(length_factor(LENGTH_CAP * 3), 1.0 - LENGTH_PENALTY);
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
