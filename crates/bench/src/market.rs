//! A seeded synthetic market with the skew of a real one.
//!
//! * **Passes** are products in a taxonomy of ~300 categories (`top/second/leaf`,
//!   see [`vocab::TAXONOMY`]); titles combine a brand, adjectives, the leaf noun,
//!   a model number like `WH-1000XM5`, sometimes a feature and a colour; about
//!   10% are Chinese (`索尼 无线降噪耳机 WH-1000XM5`). Specs are brand, model and
//!   colour; prices (USD) are log-normal around a per-branch base.
//! * **Listings** (a pass in a holder's wallet): every pass is held at least
//!   once while listings last, the rest go to passes by a Zipf-like law, so a few
//!   passes are held by thousands of holders and most by one or two. Holders are
//!   drawn by a Zipf-like law too: a few large distributors, many small ones.
//! * **Holders**: rating counts log-uniform-ish (many new holders, a few with
//!   thousands), positive and success rates mostly high with a long low tail;
//!   fields of focus taken from what they hold.
//! * **Demands**: a pass's title with words dropped, swapped or replaced
//!   (sometimes just brand and model), criteria drawn from realistic ranges.
//!
//! Everything comes from one seeded RNG, in order, so a seed always yields the
//! same market. Generation is linear; 10⁶ listings take a few seconds.

use crate::api::{HolderProfile, Listing, Market, MatchQuery, PassDoc};
use crate::vocab::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use symbolon_core::demand::{HolderCriteria, ItemSpec};
use symbolon_core::reputation::ReputationCounts;
use symbolon_core::{Currency, Money, TaxonomyPath};

/// A demand of the benchmark: what the matcher is asked, and the fan-out.
#[derive(Debug, Clone)]
pub struct Demand {
    pub query: MatchQuery,
    pub min_holders: u32,
    pub max_holders: u32,
}

/// Share of passes with a Chinese title.
pub const CHINESE_SHARE: f64 = 0.10;

/// One `top/second` row of the taxonomy, parsed.
struct Branch {
    top: TaxonomyPath,
    second: TaxonomyPath,
    leaves: Vec<(&'static str, TaxonomyPath)>,
    nouns_zh: Vec<&'static str>,
    /// Typical price, minor units.
    base_price: f64,
}

fn taxonomy(rng: &mut StdRng) -> Vec<Branch> {
    TAXONOMY
        .iter()
        .map(|row| {
            let (path, rest) = row.split_once(':').expect("row has a colon");
            let (en, zh) = rest.split_once('|').expect("row has a bar");
            let top = path.split('/').next().expect("top");
            let p = |s: &str| TaxonomyPath::parse(s, "category").expect("valid taxonomy path");
            Branch {
                top: p(top),
                second: p(path),
                leaves: en
                    .split_whitespace()
                    .map(|l| (l, p(&format!("{path}/{l}"))))
                    .collect(),
                nouns_zh: zh.split_whitespace().collect(),
                // $5 to $1 000.
                base_price: (rng.random_range(500f64.ln()..100_000f64.ln())).exp(),
            }
        })
        .collect()
}

/// Every category path of the taxonomy (tops, seconds and leaves), for docs and tests.
pub fn categories() -> Vec<TaxonomyPath> {
    let mut rng = StdRng::seed_from_u64(0);
    let mut out: Vec<TaxonomyPath> = Vec::new();
    for b in taxonomy(&mut rng) {
        out.push(b.top);
        out.push(b.second);
        out.extend(b.leaves.into_iter().map(|l| l.1));
    }
    out.sort();
    out.dedup();
    out
}

/// A Zipf-like law over `0..n`: the continuous power law `x^-s` on `[1, n+1)`,
/// sampled by inverting its CDF (O(1) per draw, no table).
#[derive(Debug, Clone, Copy)]
struct Zipf {
    n: usize,
    one_minus_s: f64,
    span: f64,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        assert!(n > 0 && s > 0.0 && s != 1.0);
        let one_minus_s = 1.0 - s;
        Self {
            n,
            one_minus_s,
            span: ((n + 1) as f64).powf(one_minus_s) - 1.0,
        }
    }
    fn sample(&self, rng: &mut StdRng) -> usize {
        let u: f64 = rng.random();
        let x = (self.span * u + 1.0).powf(1.0 / self.one_minus_s);
        (x as usize).saturating_sub(1).min(self.n - 1)
    }
}

/// A cheap fixed permutation of `0..n` (`i·m + c mod n`, `m` coprime with `n`),
/// so that popularity rank is not the id order.
#[derive(Debug, Clone, Copy)]
struct Perm {
    n: u64,
    m: u64,
    c: u64,
}

impl Perm {
    fn new(n: usize, rng: &mut StdRng) -> Self {
        let n = n.max(1) as u64;
        let mut m = rng.random_range(n / 3..=n.max(3)) | 1;
        while gcd(m, n) != 1 {
            m += 1;
        }
        Self {
            n,
            m,
            c: rng.random_range(0..n),
        }
    }
    fn at(&self, i: usize) -> usize {
        ((i as u64 % self.n * self.m + self.c) % self.n) as usize
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn word(rng: &mut StdRng, xs: &[&'static str]) -> &'static str {
    xs[rng.random_range(0..xs.len())]
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// Roughly standard normal (sum of four uniforms, rescaled).
fn normalish(rng: &mut StdRng) -> f64 {
    let s: f64 = (0..4).map(|_| rng.random::<f64>()).sum();
    (s - 2.0) * 3f64.sqrt()
}

fn model_number(rng: &mut StdRng, brand: &str) -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut s = String::with_capacity(12);
    let initial = brand
        .chars()
        .find(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase());
    match initial {
        Some(c) if rng.random_bool(0.5) => s.push(c),
        _ => s.push(*pick(rng, UPPER) as char),
    }
    s.push(*pick(rng, UPPER) as char);
    if rng.random_bool(0.6) {
        s.push('-');
    }
    let digits = rng.random_range(2..=4);
    for _ in 0..digits {
        s.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    if rng.random_bool(0.5) {
        for _ in 0..rng.random_range(1..=2) {
            s.push(*pick(rng, UPPER) as char);
        }
        s.push(char::from(b'0' + rng.random_range(1..10u8)));
    }
    s
}

fn make_pass(i: usize, b: &Branch, rng: &mut StdRng, brands: &Zipf, usd: Currency) -> PassDoc {
    let (leaf, category) = pick(rng, &b.leaves);
    let brand = BRANDS[brands.sample(rng) % BRANDS.len()];
    let model = model_number(rng, brand);
    let colour = word(rng, COLOURS);
    let title = if rng.random_bool(CHINESE_SHARE) && !b.nouns_zh.is_empty() {
        let brand_zh = pick(rng, BRANDS_ZH);
        let mut adj = pick(rng, ADJECTIVES_ZH).to_string();
        if rng.random_bool(0.4) {
            adj.push_str(word(rng, ADJECTIVES_ZH));
        }
        format!("{brand_zh} {adj}{} {model}", pick(rng, &b.nouns_zh))
    } else {
        let mut t = String::with_capacity(80);
        t.push_str(brand);
        t.push(' ');
        t.push_str(word(rng, ADJECTIVES));
        t.push(' ');
        if rng.random_bool(0.5) {
            t.push_str(word(rng, ADJECTIVES));
            t.push(' ');
        }
        t.push_str(leaf);
        t.push(' ');
        t.push_str(&model);
        if rng.random_bool(0.3) {
            t.push(' ');
            t.push_str(word(rng, FEATURES));
        }
        if rng.random_bool(0.3) {
            t.push_str(", ");
            t.push_str(colour);
        }
        t
    };
    let description = format!(
        "{}. {brand} {leaf} in {colour}.",
        pick(rng, DESCRIPTION_PHRASES)
    );
    let price = (b.base_price * (0.6 * normalish(rng)).exp())
        .round()
        .max(99.0) as i64;
    PassDoc {
        pass_id: format!("p{i}"),
        title,
        description,
        specs: vec![
            ("brand".to_string(), brand.to_string()),
            ("model".to_string(), model),
            ("color".to_string(), colour.to_string()),
        ],
        category: category.clone(),
        price: Money::new(price, usd),
    }
}

fn reputation(rng: &mut StdRng) -> ReputationCounts {
    let ratings = if rng.random_bool(0.15) {
        0
    } else {
        let u: f64 = rng.random();
        (u.powf(1.3) * 3000f64.ln()).exp() as u64
    };
    let p = 1.0 - 0.5 * rng.random::<f64>().powi(3);
    let positive = ((p * ratings as f64).round() as u64).min(ratings);
    let interactions = if ratings == 0 && rng.random_bool(0.5) {
        0
    } else {
        ratings + (ratings as f64 * rng.random_range(0.2..1.5)) as u64 + rng.random_range(0..5)
    };
    let q = 1.0 - 0.6 * rng.random::<f64>().powi(2);
    let offered = ((q * interactions as f64).round() as u64).min(interactions);
    ReputationCounts {
        positive,
        ratings,
        offered,
        interactions,
    }
}

/// Words of a title turned into what a buyer would type.
fn query_from_title(rng: &mut StdRng, p: &PassDoc) -> String {
    let brand = &p.specs[0].1;
    let model = &p.specs[1].1;
    let r: f64 = rng.random();
    if r < 0.05 {
        return model.clone();
    }
    if r < 0.12 {
        return format!("{brand} {model}");
    }
    let mut words: Vec<String> = p
        .title
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if words.len() > 2 {
        let keep: Vec<String> = words
            .iter()
            .filter(|_| !rng.random_bool(0.3))
            .cloned()
            .collect();
        if keep.len() >= 2 {
            words = keep;
        }
    }
    if words.len() >= 2 && rng.random_bool(0.3) {
        let i = rng.random_range(0..words.len() - 1);
        words.swap(i, i + 1);
    }
    if rng.random_bool(0.15) {
        let i = rng.random_range(0..words.len());
        words[i] = pick(rng, ADJECTIVES).to_string();
    }
    let q = words.join(" ");
    if rng.random_bool(0.2) {
        q.to_lowercase()
    } else {
        q
    }
}

fn ancestor(rng: &mut StdRng, c: &TaxonomyPath) -> TaxonomyPath {
    let segs: Vec<&str> = c.segments().collect();
    let n = rng.random_range(1..=segs.len());
    TaxonomyPath::parse(&segs[..n].join("/"), "category").expect("prefix of a valid path")
}

/// Generates a market and `demands` demands from `seed`.
///
/// `listings` is met exactly as long as it is at most `holders × passes`.
pub fn generate(
    seed: u64,
    listings: usize,
    holders: usize,
    passes: usize,
    demands: usize,
) -> (Market, Vec<Demand>) {
    let holders = holders.max(1);
    let passes = passes.max(1);
    let listings = listings.min(holders.saturating_mul(passes));
    let mut rng = StdRng::seed_from_u64(seed);
    let usd = Currency::parse("USD").expect("USD");
    let tax = taxonomy(&mut rng);
    let branches = Zipf::new(tax.len(), 0.5);
    let brand_law = Zipf::new(BRANDS.len(), 0.9);

    let pass_docs: Vec<PassDoc> = (0..passes)
        .map(|i| {
            let b = &tax[branches.sample(&mut rng)];
            make_pass(i, b, &mut rng, &brand_law, usd)
        })
        .collect();

    // Listings: pass i gets its first holder while i < listings; the rest by popularity.
    let pass_law = Zipf::new(passes, 0.8);
    let pass_perm = Perm::new(passes, &mut rng);
    let holder_law = Zipf::new(holders, 0.8);
    let holder_perm = Perm::new(holders, &mut rng);
    let mut seen: HashSet<u64> = HashSet::with_capacity(listings);
    let mut first_pass: Vec<u32> = vec![u32::MAX; holders];
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(listings);
    for i in 0..listings {
        let pass = if i < passes {
            i
        } else {
            pass_perm.at(pass_law.sample(&mut rng))
        };
        let mut tries = 0;
        let holder = loop {
            let h = if i < holders && tries == 0 {
                i
            } else if tries < 8 {
                holder_perm.at(holder_law.sample(&mut rng))
            } else {
                rng.random_range(0..holders)
            };
            if seen.insert(pass as u64 * holders as u64 + h as u64) {
                break Some(h);
            }
            tries += 1;
            if tries > 64 {
                break None;
            }
        };
        // Only a pass held by (nearly) every holder gets here; skip it.
        let Some(holder) = holder else { continue };
        if first_pass[holder] == u32::MAX {
            first_pass[holder] = pass as u32;
        }
        pairs.push((holder as u32, pass as u32));
    }
    let listing_rows: Vec<Listing> = pairs
        .iter()
        .map(|&(h, p)| Listing {
            holder_id: format!("h{h}"),
            pass_id: format!("p{p}"),
        })
        .collect();

    let mut holder_map: HashMap<String, HolderProfile> = HashMap::with_capacity(holders);
    for (h, &first) in first_pass.iter().enumerate() {
        let reputation = reputation(&mut rng);
        let mut fields = Vec::new();
        if first != u32::MAX {
            fields.push(ancestor(&mut rng, &pass_docs[first as usize].category));
        }
        if fields.is_empty() || rng.random_bool(0.3) {
            let b = &tax[rng.random_range(0..tax.len())];
            fields.push(if rng.random_bool(0.5) {
                b.top.clone()
            } else {
                b.second.clone()
            });
        }
        fields.dedup();
        let id = format!("h{h}");
        holder_map.insert(
            id.clone(),
            HolderProfile {
                id,
                fields,
                reputation,
            },
        );
    }

    let mut out = Vec::with_capacity(demands);
    for _ in 0..demands {
        let p = if rng.random_bool(0.5) {
            &pass_docs[pass_perm.at(pass_law.sample(&mut rng))]
        } else {
            &pass_docs[rng.random_range(0..passes)]
        };
        let query = query_from_title(&mut rng, p);
        let criteria = HolderCriteria {
            min_positive_rate: rng
                .random_bool(0.30)
                .then(|| (rng.random_range(80..=95) as f64) / 100.0),
            min_success_rate: rng
                .random_bool(0.10)
                .then(|| (rng.random_range(60..=90) as f64) / 100.0),
            min_ratings: rng.random_bool(0.25).then(|| rng.random_range(5..=50)),
            fields: if rng.random_bool(0.15) {
                vec![ancestor(&mut rng, &p.category)]
            } else {
                vec![]
            },
        };
        let item = ItemSpec {
            query,
            category: rng
                .random_bool(0.30)
                .then(|| ancestor(&mut rng, &p.category)),
            max_price: rng.random_bool(0.25).then(|| {
                Money::new(
                    (p.price.minor as f64 * rng.random_range(1.0..2.0)) as i64,
                    usd,
                )
            }),
        };
        let exclude_holder = rng
            .random_bool(0.10)
            .then(|| format!("h{}", rng.random_range(0..holders)));
        let min_holders = if rng.random_bool(0.8) { 2 } else { 3 };
        let max_holders = match rng.random_range(0..10) {
            0..6 => 5,
            6..9 => 10,
            _ => 20,
        };
        out.push(Demand {
            query: MatchQuery {
                item,
                criteria,
                exclude_holder,
                floor: symbolon_match::score::DEFAULT_FLOOR,
            },
            min_holders,
            max_holders,
        });
    }

    (
        Market {
            passes: pass_docs,
            listings: listing_rows,
            holders: holder_map,
        },
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_stays_in_range_and_is_skewed() {
        let mut rng = StdRng::seed_from_u64(1);
        let z = Zipf::new(1000, 0.8);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[z.sample(&mut rng)] += 1;
        }
        assert!(counts[0] > 10 * counts[500].max(1));
    }

    #[test]
    fn perm_is_a_permutation() {
        let mut rng = StdRng::seed_from_u64(2);
        for n in [1usize, 2, 10, 97, 1000] {
            let p = Perm::new(n, &mut rng);
            let mut seen: Vec<usize> = (0..n).map(|i| p.at(i)).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_few_hundred_categories() {
        let n = categories().len();
        assert!((250..=500).contains(&n), "{n}");
    }
}
