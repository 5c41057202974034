//! Text: document tokens and query terms — shared by the exact scorer and the
//! engine, so both see exactly the same words. Scoring is in [`crate::score`].
//!
//! **Words.** Lowercase runs of letters and digits; a decimal point between
//! digits stays in the word (`2.5`). Words joined by `-`, `/`, `.` or `_`
//! without spaces form a *unit* (a compound like `WH-1000XM5`); a CJK run is
//! its own piece.
//!
//! **Document tokens** (per unit, each once):
//! - every word, and the joined form of a compound (`wh`, `1000xm5`, `wh1000xm5`);
//! - **model numbers, split:** a word mixing letters and digits gives every run
//!   of its letter/digit segments (`1000xm5` → `1000`, `xm`, `5`, `1000xm`,
//!   `xm5`) as *derived* tokens (marked with [`DERIVED`]), so the prefixes and
//!   pieces a buyer types find it — for less than the whole word would;
//! - **model numbers, joined across spaces:** neighbouring units written apart
//!   (`WH 1000XM5`) give their concatenation when it holds a digit and each
//!   unit holds a digit or is at most [`MAX_FRAGMENT`] characters long (pairs
//!   and triples), so `WH1000XM5` finds `WH 1000 XM5`;
//! - **units, normalised:** a number followed by a unit (`2 TB`, `2TB`,
//!   `2-TB`, `2 terabytes`) gives one canonical token (`2tb`) ([`UNITS`]);
//! - CJK text: one token per character and one per adjacent pair.
//!
//! **Query terms.** A compound is one term (`wh1000xm5`) that also matches a
//! field holding all its parts; a number and its unit are one term (`2tb`); a
//! CJK run is cut into words by jieba (`降噪耳机` → `降噪` `耳机`): a word of
//! two characters is a term, a longer word gives its adjacent pairs, single
//! characters between words are paired when adjacent. Every term is a
//! document token. Single characters and a few English stop words
//! ([`STOP_WORDS`]) are not terms unless nothing else is left.
//!
//! A term is a **model number** ([`is_model`]) when it mixes letters and
//! digits (three characters or more) or is a number of four digits or more,
//! and is not a quantity with a unit.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Most terms a query contributes (the rest are ignored).
pub const MAX_QUERY_TERMS: usize = 64;
/// A unit this short (in characters) joins its neighbours into a model number.
pub const MAX_FRAGMENT: usize = 3;
/// Longest concatenation of neighbouring units indexed as a model number.
pub const MAX_JOINED: usize = 24;
/// A word with more letter/digit segments than this gives only its segments.
pub const MAX_SEGMENTS: usize = 6;
/// The mark of a derived token (a piece of a model number, see the module docs).
pub const DERIVED: char = '~';
/// Occurrences of a token counted per field (more count as this many).
pub const MAX_TF: u32 = u8::MAX as u32;

/// Unit spellings and their canonical form.
pub const UNITS: &[(&str, &str)] = &[
    ("tb", "tb"),
    ("terabyte", "tb"),
    ("terabytes", "tb"),
    ("gb", "gb"),
    ("gigabyte", "gb"),
    ("gigabytes", "gb"),
    ("mb", "mb"),
    ("megabyte", "mb"),
    ("megabytes", "mb"),
    ("kb", "kb"),
    ("w", "w"),
    ("watt", "w"),
    ("watts", "w"),
    ("kw", "kw"),
    ("v", "v"),
    ("volt", "v"),
    ("volts", "v"),
    ("mah", "mah"),
    ("hz", "hz"),
    ("khz", "khz"),
    ("mhz", "mhz"),
    ("ghz", "ghz"),
    ("ml", "ml"),
    ("milliliter", "ml"),
    ("milliliters", "ml"),
    ("millilitre", "ml"),
    ("millilitres", "ml"),
    ("l", "l"),
    ("liter", "l"),
    ("liters", "l"),
    ("litre", "l"),
    ("litres", "l"),
    ("oz", "oz"),
    ("ounce", "oz"),
    ("ounces", "oz"),
    ("lb", "lb"),
    ("lbs", "lb"),
    ("pound", "lb"),
    ("pounds", "lb"),
    ("kg", "kg"),
    ("g", "g"),
    ("gram", "g"),
    ("grams", "g"),
    ("mm", "mm"),
    ("cm", "cm"),
    ("m", "m"),
    ("in", "in"),
    ("inch", "in"),
    ("inches", "in"),
    ("ft", "ft"),
    ("feet", "ft"),
    ("mp", "mp"),
    ("megapixel", "mp"),
    ("megapixels", "mp"),
    ("pk", "pk"),
    ("pack", "pk"),
];

/// The canonical form of a unit spelling.
pub fn canonical_unit(word: &str) -> Option<&'static str> {
    UNITS.iter().find(|(s, _)| *s == word).map(|(_, c)| *c)
}

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

/// A compound: words joined without spaces; `spaced` when only spaces
/// separate it from the previous unit of the same text.
#[derive(Debug, Clone, PartialEq)]
struct Unit {
    parts: Vec<String>,
    spaced: bool,
}

impl Unit {
    fn joined(&self) -> String {
        self.parts.concat()
    }
}

/// One piece of text: a unit or a CJK run.
enum Piece {
    Unit(Unit),
    Cjk(Vec<char>),
}

/// Splits `s` (lowercased) into units and CJK runs, in order.
fn pieces(s: &str) -> Vec<Piece> {
    let chars: Vec<char> = s.chars().flat_map(char::to_lowercase).collect();
    let mut out = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    // What separated the current unit from the previous one: only spaces?
    let mut spaced = false;
    let mut gap = String::new(); // non-word characters since the last word
    let flush_unit = |parts: &mut Vec<String>, spaced: &mut bool, out: &mut Vec<Piece>| {
        if !parts.is_empty() {
            out.push(Piece::Unit(Unit {
                parts: std::mem::take(parts),
                spaced: *spaced,
            }));
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        if is_cjk(c) {
            if !word.is_empty() {
                parts.push(std::mem::take(&mut word));
            }
            flush_unit(&mut parts, &mut spaced, &mut out);
            gap.clear();
            gap.push('\n');
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            out.push(Piece::Cjk(std::mem::take(&mut run)));
        }
        let decimal = c == '.'
            && word.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || decimal {
            if word.is_empty() {
                // A new word: joined to the unit when only one joiner came between.
                let joined =
                    gap.chars().count() == 1 && gap.chars().all(is_joiner) && !parts.is_empty();
                if !joined {
                    flush_unit(&mut parts, &mut spaced, &mut out);
                    spaced = !gap.is_empty() && gap.chars().all(|g| g == ' ' || g == '\t');
                }
                gap.clear();
            }
            word.push(c);
        } else {
            if !word.is_empty() {
                parts.push(std::mem::take(&mut word));
            }
            gap.push(c);
        }
    }
    if !word.is_empty() {
        parts.push(word);
    }
    flush_unit(&mut parts, &mut spaced, &mut out);
    if !run.is_empty() {
        out.push(Piece::Cjk(run));
    }
    out
}

fn has_digit(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
}

fn has_letter(s: &str) -> bool {
    s.chars().any(|c| c.is_alphabetic())
}

/// `2tb`, `65inch`, `2.5tb` → the number and its canonical unit (`65in`).
fn quantity(word: &str) -> Option<String> {
    let split = word.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = word.split_at(split);
    if num.is_empty() || !num.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    canonical_unit(unit).map(|u| format!("{num}{u}"))
}

/// Whether a number of `num` characters followed by `unit` is a quantity.
fn number_and_unit(num: &str, unit: &str) -> Option<String> {
    let is_number = !num.is_empty()
        && num.starts_with(|c: char| c.is_ascii_digit())
        && num.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !is_number {
        return None;
    }
    canonical_unit(unit).map(|u| format!("{num}{u}"))
}

/// Whether a term is a model number (see the module docs).
pub fn is_model(term: &str) -> bool {
    if quantity(term).is_some() {
        return false;
    }
    let n = term.chars().count();
    (has_digit(term) && has_letter(term) && n >= 3)
        || (n >= 4 && term.chars().all(|c| c.is_ascii_digit()))
}

/// The letter/digit segments of a word (`wh1000xm5` → `wh` `1000` `xm` `5`).
fn segments(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, c) in word.char_indices() {
        let digit = c.is_ascii_digit() || c == '.';
        if prev.is_some_and(|p| p != digit) {
            out.push(&word[start..i]);
            start = i;
        }
        prev = Some(digit);
    }
    if start < word.len() {
        out.push(&word[start..]);
    }
    out
}

/// Whether a unit may join its neighbours into a model number.
fn is_fragment(joined: &str) -> bool {
    has_digit(joined) || joined.chars().count() <= MAX_FRAGMENT
}

/// The distinct tokens of one unit, in order.
#[derive(Default)]
struct UnitTokens {
    list: Vec<String>,
    seen: std::collections::HashSet<String>,
}

impl UnitTokens {
    fn add(&mut self, t: String) {
        if !t.is_empty() && self.seen.insert(t.clone()) {
            self.list.push(t);
        }
    }

    fn clear(&mut self) {
        self.list.clear();
        self.seen.clear();
    }
}

/// Calls `emit` for every token of a document field (see the module docs);
/// a token repeated in the text is emitted each time.
pub fn for_each_token(s: &str, mut emit: impl FnMut(&str)) {
    let pieces = pieces(s);
    let mut unit_tokens = UnitTokens::default();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Cjk(run) => {
                let mut buf = String::new();
                for (j, c) in run.iter().enumerate() {
                    buf.clear();
                    buf.push(*c);
                    emit(&buf);
                    if let Some(next) = run.get(j + 1) {
                        buf.push(*next);
                        emit(&buf);
                    }
                }
            }
            Piece::Unit(unit) => {
                unit_tokens.clear();
                let joined = unit.joined();
                for p in &unit.parts {
                    unit_tokens.add(p.clone());
                }
                if unit.parts.len() > 1 {
                    unit_tokens.add(joined.clone());
                }
                // Model numbers split at letter/digit boundaries.
                for w in unit.parts.iter().chain(std::iter::once(&joined)) {
                    if !(has_digit(w) && has_letter(w)) {
                        continue;
                    }
                    let segs = segments(w);
                    if segs.len() > MAX_SEGMENTS {
                        segs.iter()
                            .for_each(|s| unit_tokens.add(format!("{DERIVED}{s}")));
                        continue;
                    }
                    for a in 0..segs.len() {
                        for b in a + 1..=segs.len() {
                            let piece = segs[a..b].concat();
                            if piece != *w && !unit.parts.contains(&piece) && piece != joined {
                                unit_tokens.add(format!("{DERIVED}{piece}"));
                            }
                        }
                    }
                }
                // Quantities: `2tb`, `2-tb`, `65inch` → canonical.
                if let Some(q) = quantity(&joined) {
                    unit_tokens.add(q);
                }
                // Neighbours written apart: `2 TB`, `WH 1000XM5`.
                let prev = |k: usize| -> Option<&Unit> {
                    match pieces.get(k)? {
                        Piece::Unit(u) => Some(u),
                        Piece::Cjk(_) => None,
                    }
                };
                if unit.spaced && i > 0 {
                    if let Some(p1) = prev(i - 1) {
                        let j1 = p1.joined();
                        if let Some(q) = number_and_unit(&j1, &joined) {
                            unit_tokens.add(q);
                        }
                        let pair = format!("{j1}{joined}");
                        if is_fragment(&j1)
                            && is_fragment(&joined)
                            && has_digit(&pair)
                            && pair.chars().count() <= MAX_JOINED
                        {
                            unit_tokens.add(pair.clone());
                            if p1.spaced && i > 1 {
                                if let Some(p2) = prev(i - 2) {
                                    let j2 = p2.joined();
                                    let triple = format!("{j2}{pair}");
                                    if is_fragment(&j2) && triple.chars().count() <= MAX_JOINED {
                                        unit_tokens.add(triple);
                                    }
                                }
                            }
                        }
                    }
                }
                unit_tokens.list.iter().for_each(|t| emit(t));
            }
        }
    }
}

/// The distinct tokens of a document field.
pub fn tokens(s: &str) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for_each_token(s, |t| {
        out.insert(t.to_string());
    });
    out
}

/// Each token of a field and how often it occurs (at most [`MAX_TF`]), and the
/// field's length in tokens.
pub fn token_counts(s: &str) -> (HashMap<String, u32>, u32) {
    let mut counts: HashMap<String, u32> = HashMap::new();
    let mut len = 0u32;
    for_each_token(s, |t| {
        len = len.saturating_add(1);
        let c = counts.entry(t.to_string()).or_insert(0);
        *c = (*c + 1).min(MAX_TF);
    });
    (counts, len)
}

/// English words dropped from queries (when other terms remain).
pub const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "the", "for", "with", "of", "in", "on", "to", "by", "or", "from",
];

fn is_weak(term: &str) -> bool {
    term.chars().count() == 1 || STOP_WORDS.contains(&term)
}

/// One query term: its token, and the parts a field may hold instead (for a
/// compound or a quantity written apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub parts: Vec<String>,
    /// A model number ([`is_model`]).
    pub model: bool,
    /// Shorter forms of a model number that a listing of the same product
    /// may carry instead (see [`model_variants`]); each counts as a piece.
    pub variants: Vec<String>,
}

/// Shorter forms of a model number a shop may write instead: its longest
/// prefix at a letter/digit boundary that is still a model number (`c270h` →
/// `c270`, `ih16g` → `ih16`), its longest run of at least four digits when
/// that is at least half of it (`lp34992` → `34992`), and the parts of a compound that are model numbers
/// (`MSMT2G/TQ` → `msmt2g`).
pub fn model_variants(text: &str, parts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: String| {
        if v != text && !out.contains(&v) {
            out.push(v);
        }
    };
    for p in parts {
        if is_model(p) {
            add(p.clone());
        }
    }
    let segs = segments(text);
    if let Some(prefix) = (1..segs.len())
        .rev()
        .map(|k| segs[..k].concat())
        .find(|p| is_model(p))
    {
        add(prefix);
    }
    if let Some(digits) = segs
        .iter()
        .filter(|s| {
            s.len() >= 4 && 2 * s.len() >= text.len() && s.chars().all(|c| c.is_ascii_digit())
        })
        .max_by_key(|s| s.len())
    {
        add(digits.to_string());
    }
    out
}

/// The terms of a query, in order, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms(pub Vec<Term>);

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
            if !t.is_empty() && !terms.iter().any(|(x, _)| *x == t) && terms.len() < MAX_QUERY_TERMS
            {
                terms.push((t, parts));
            }
        };
        let pieces = pieces(q);
        let mut i = 0;
        while i < pieces.len() {
            match &pieces[i] {
                Piece::Cjk(run) => cjk_terms(run, &mut |t| push(t, vec![])),
                Piece::Unit(u) => {
                    let joined = u.joined();
                    // A number and its unit written apart: one term.
                    let next = match pieces.get(i + 1) {
                        Some(Piece::Unit(n)) if n.spaced => Some(n),
                        _ => None,
                    };
                    if let Some(q) = next.and_then(|n| number_and_unit(&joined, &n.joined())) {
                        let unit = next.map(Unit::joined).unwrap_or_default();
                        push(q, vec![joined, unit]);
                        i += 2;
                        continue;
                    }
                    if let Some(q) = quantity(&joined) {
                        let parts = if u.parts.len() > 1 {
                            u.parts.clone()
                        } else {
                            vec![]
                        };
                        push(q, parts);
                    } else if u.parts.len() > 1 {
                        push(joined, u.parts.clone());
                    } else {
                        push(joined, vec![]);
                    }
                }
            }
            i += 1;
        }
        if terms.iter().any(|(t, _)| !is_weak(t)) {
            terms.retain(|(t, _)| !is_weak(t));
        }
        Terms(
            terms
                .into_iter()
                .map(|(text, parts)| {
                    let model = is_model(&text);
                    Term {
                        variants: if model {
                            model_variants(&text, &parts)
                        } else {
                            vec![]
                        },
                        model,
                        text,
                        parts,
                    }
                })
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How often term `i` occurs in a field whose token counts `tf` gives:
    /// its own token's count, or — for a term with parts — the least count
    /// of its parts when that is more.
    pub fn tf(&self, i: usize, tf: impl Fn(&str) -> u32) -> u32 {
        let t = &self.0[i];
        let own = tf(&t.text);
        if t.parts.is_empty() {
            return own;
        }
        let parts = t.parts.iter().map(|p| tf(p)).min().unwrap_or(0);
        own.max(parts)
    }

    /// How often term `i` occurs only in part in a field whose token counts
    /// `tf` gives: as a piece of a longer model number (its [`DERIVED`]
    /// token), or — for a model number — as one of its shorter variants
    /// written whole; the most of these.
    pub fn tf_derived(&self, i: usize, tf: impl Fn(&str) -> u32) -> u32 {
        let t = &self.0[i];
        let piece = tf(&format!("{DERIVED}{}", t.text));
        t.variants.iter().map(|v| tf(v)).fold(piece, u32::max)
    }
}

/// A brand's key: its letters and digits, lowercased (`Western Digital` → `westerndigital`).
pub fn brand_key(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The spec names that give a pass's brand.
pub const BRAND_SPECS: &[&str] = &["brand", "manufacturer", "make", "品牌"];

/// The brand key a pass's specs give, if any.
pub fn spec_brand(specs: &[(String, String)]) -> Option<String> {
    specs
        .iter()
        .find(|(k, _)| BRAND_SPECS.contains(&k.trim().to_lowercase().as_str()))
        .map(|(_, v)| brand_key(v))
        .filter(|b| !b.is_empty())
}

/// The brand keys a title could start with: its first unit, and its first two units.
pub fn title_heads(title: &str) -> [Option<String>; 2] {
    let units: Vec<String> = pieces(title)
        .into_iter()
        .take(2)
        .map(|p| match p {
            Piece::Unit(u) => u.joined(),
            Piece::Cjk(run) => run.into_iter().collect(),
        })
        .collect();
    [
        units
            .first()
            .map(|u| brand_key(u))
            .filter(|b| !b.is_empty()),
        (units.len() == 2)
            .then(|| brand_key(&units.concat()))
            .filter(|b| !b.is_empty()),
    ]
}

/// The brand keys a query could name, with the terms that spell each: runs of
/// one to three consecutive terms, concatenated.
pub fn query_brand_candidates(terms: &Terms) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for a in 0..terms.len() {
        for b in a + 1..=(a + 3).min(terms.len()) {
            let key: String = terms.0[a..b].iter().map(|t| brand_key(&t.text)).collect();
            if !key.is_empty() {
                out.push((key, (a..b).collect()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
