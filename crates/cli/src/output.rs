//! Output helpers: readable tables by default, JSON with `--json`.
//!
//! Single objects print as aligned `key: value` lines ([`Fields`]); lists print
//! as tables ([`table`]). Values never go through floats on the way: money is
//! the API's decimal string plus its currency.

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table};
use serde::Serialize;
use symbolon_api::{Address, HolderPublic, Money, PassMode, Role};

/// Prints `v` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(v: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into())
    );
}

/// Aligned `key: value` lines for one object.
#[derive(Debug, Default)]
pub struct Fields {
    rows: Vec<(String, String)>,
}

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a line.
    pub fn add(&mut self, key: impl Into<String>, value: impl ToString) -> &mut Self {
        self.rows.push((key.into(), value.to_string()));
        self
    }

    /// Adds a line showing `-` when the value is absent.
    pub fn opt<V: ToString>(&mut self, key: impl Into<String>, value: Option<V>) -> &mut Self {
        self.add(
            key,
            value.map(|v| v.to_string()).unwrap_or_else(|| NONE.into()),
        )
    }

    /// Adds a line only when the value is present.
    pub fn some<V: ToString>(&mut self, key: impl Into<String>, value: Option<V>) -> &mut Self {
        if let Some(v) = value {
            self.add(key, v);
        }
        self
    }

    /// The lines, keys padded so values line up.
    pub fn render(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0)
            + 1;
        let mut out = String::new();
        for (k, v) in &self.rows {
            let key = format!("{k}:");
            // Continuation lines of multi-line values are indented under the value.
            let indent = " ".repeat(width + 1);
            let value = v.replace('\n', &format!("\n{indent}"));
            out.push_str(format!("{key:<width$} {value}").trim_end());
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        print!("{}", self.render());
    }
}

/// The placeholder of an absent value.
pub const NONE: &str = "-";

/// A table with the house style and the given header.
pub fn table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(
            header
                .into_iter()
                .map(Into::into)
                .collect::<Vec<comfy_table::Cell>>(),
        );
    t
}

/// Whether a cell holds an id the next command will need (`ofr_wxe53g1k1f2`,
/// `own_…`): a short lowercase prefix, `_`, then letters and digits.
fn looks_like_id(s: &str) -> bool {
    let Some((prefix, rest)) = s.split_once('_') else {
        return false;
    };
    (2..=5).contains(&prefix.len())
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Keeps every column of ids at its content's width, so an id is never
/// wrapped or cut: the other columns shrink and wrap instead (on a terminal
/// too narrow even for the ids, the lines run long rather than break one).
pub fn keep_ids_whole(t: &mut Table) {
    let columns = t.column_count();
    for i in 0..columns {
        let mut ids = 0;
        let mut others = 0;
        for row in t.row_iter() {
            let Some(cell) = row.cell_iter().nth(i) else {
                continue;
            };
            let text = cell.content();
            match text.as_str() {
                "" | NONE => {}
                x if looks_like_id(x) => ids += 1,
                _ => others += 1,
            }
        }
        if ids > 0 && others == 0 {
            if let Some(c) = t.column_mut(i) {
                c.set_constraint(ColumnConstraint::ContentWidth);
            }
        }
    }
}

/// The table as printed: ids whole.
pub fn render(t: &Table) -> String {
    let mut t = t.clone();
    keep_ids_whole(&mut t);
    t.to_string()
}

/// Prints a titled section: a blank line, the title, then the table, or
/// `(none)` when the table is empty.
pub fn print_section(title: &str, t: &Table) {
    println!();
    println!("{title}");
    if t.is_empty() {
        println!("  (none)");
    } else {
        println!("{}", render(t));
    }
}

/// Prints a table, or `empty` when it has no rows.
pub fn print_table(t: &Table, empty: &str) {
    if t.is_empty() {
        println!("{empty}");
    } else {
        println!("{}", render(t));
    }
}

/// Prints the paging hint when there is a next page.
pub fn print_next(next: Option<&str>) {
    if let Some(c) = next {
        println!("more: pass --after {c}");
    }
}

/// `12.34 USD`.
pub fn money(m: &Money) -> String {
    format!("{} {}", m.amount, m.currency)
}

/// Whether an amount is zero (`0`, `0.00`, …).
pub fn is_zero(m: &Money) -> bool {
    m.amount.chars().all(|c| c == '0' || c == '.' || c == '-')
}

pub fn opt_money(m: Option<&Money>) -> String {
    m.map(money).unwrap_or_else(|| NONE.into())
}

pub fn opt_str(s: Option<&str>) -> String {
    s.map(str::to_string).unwrap_or_else(|| NONE.into())
}

pub fn opt_num<N: ToString>(n: Option<N>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| NONE.into())
}

/// A comma-separated list, or `-` when empty.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        NONE.into()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub fn role(r: Role) -> &'static str {
    match r {
        Role::Provider => "provider",
        Role::Holder => "holder",
        Role::Requester => "requester",
        Role::Operator => "operator",
    }
}

pub fn roles(rs: &[Role]) -> String {
    list(&rs.iter().map(|r| role(*r)).collect::<Vec<_>>())
}

pub fn mode(m: PassMode) -> &'static str {
    match m {
        PassMode::Shareable => "shareable",
        PassMode::Unique => "unique",
    }
}

/// `1000 bps (10.00%)`.
pub fn bps(b: i64) -> String {
    format!("{b} bps ({}.{:02}%)", b / 100, (b % 100).abs())
}

/// A rate in [0, 1] as a percentage, `-` when absent.
pub fn rate(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => NONE.into(),
    }
}

/// A score or bound with three decimals.
pub fn score(s: f64) -> String {
    format!("{s:.3}")
}

/// `Ada Lovelace, 1 Main St, Apt 2, 12345 Springfield, US`.
pub fn address(a: &Address) -> String {
    let mut parts = vec![a.name.clone(), a.line1.clone()];
    if let Some(l2) = a.line2.as_deref().filter(|l| !l.is_empty()) {
        parts.push(l2.to_string());
    }
    parts.push(format!("{} {}", a.postal_code, a.city));
    parts.push(a.country.clone());
    parts.join(", ")
}

/// A holder's public reputation as `key: value` lines.
pub fn holder_fields(f: &mut Fields, h: &HolderPublic) {
    f.add("id", &h.id)
        .add("name", &h.name)
        .add("fields", list(&h.fields))
        .add(
            "positive rate",
            format!(
                "{} ({} rating{})",
                rate(h.positive_rate),
                h.ratings,
                plural(h.ratings)
            ),
        )
        .add("success rate", rate(h.success_rate))
        .add("interactions", h.interactions);
}

/// Decimals a relaxed threshold is shown with.
pub const THRESHOLD_DECIMALS: i32 = 3;

/// A minimum rate for people: [`THRESHOLD_DECIMALS`] decimals at most,
/// rounded *down*, so the value shown, typed back as the minimum, still
/// admits the holder whose rate it is (`0.8333…` → `0.833`; `0.834` would
/// shut that holder out).
pub fn min_rate(r: f64) -> f64 {
    let scale = 10f64.powi(THRESHOLD_DECIMALS);
    let mut t = (r * scale).floor() / scale;
    // `r · scale` may round up to the next integer; never show more than `r`.
    if t > r {
        t = ((r * scale).floor() - 1.0) / scale;
    }
    t
}

/// Error details as people read them: the rates of `relaxations` (the
/// smallest change of a criterion that would be enough) with at most
/// [`THRESHOLD_DECIMALS`] decimals, rounded down ([`min_rate`]).
pub fn humane_details(details: &serde_json::Value) -> serde_json::Value {
    let mut d = details.clone();
    if let Some(relaxations) = d
        .get_mut("relaxations")
        .and_then(serde_json::Value::as_object_mut)
    {
        for r in relaxations.values_mut() {
            if let Some(to) = r.get_mut("to") {
                if let Some(x) = to.as_f64().filter(|x| to.is_f64() && x.fract() != 0.0) {
                    *to = serde_json::json!(min_rate(x));
                }
            }
        }
    }
    d
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_rates_are_shown_with_three_decimals_rounded_down() {
        assert_eq!(min_rate(5.0 / 6.0).to_string(), "0.833");
        assert_eq!(min_rate(2.0 / 3.0).to_string(), "0.666");
        assert_eq!(min_rate(0.29).to_string(), "0.29");
        assert_eq!(min_rate(0.5).to_string(), "0.5");
        assert_eq!(min_rate(1.0).to_string(), "1");
        // Never above the rate it stands for, so it still admits that holder.
        for (a, b) in [(5u32, 6u32), (1, 3), (7, 9), (29, 100), (999, 1000), (1, 7)] {
            let r = f64::from(a) / f64::from(b);
            let t = min_rate(r);
            assert!(t <= r && r - t < 0.001, "{a}/{b}: {t}");
        }
        let details = serde_json::json!({
            "qualified": 1,
            "min_holders": 2,
            "relaxations": {
                "min_positive_rate": {"to": 0.8333333333333334, "qualified": 2},
                "min_success_rate": {"to": 0.6666666666666666, "qualified": 3},
                "min_ratings": {"to": 3, "qualified": 2},
                "fields": {"to": null, "qualified": 2}
            }
        });
        let shown = humane_details(&details);
        assert_eq!(
            shown["relaxations"]["min_positive_rate"]["to"].to_string(),
            "0.833"
        );
        assert_eq!(
            shown["relaxations"]["min_success_rate"]["to"].to_string(),
            "0.666"
        );
        assert_eq!(shown["relaxations"]["min_ratings"]["to"], 3);
        assert_eq!(
            shown["relaxations"]["fields"]["to"],
            serde_json::Value::Null
        );
        assert_eq!(shown["qualified"], 1);
    }

    /// An offers table like `demand show`'s: two id columns, names and text.
    fn offers_table(width: u16) -> Table {
        let mut t = table(["offer", "holder", "pass", "price", "note"]);
        for (offer, holder, pass) in [
            (
                "ofr_wxe53g1k1f2wbk0pntwr",
                "Hana's Outdoor Shop",
                "pas_a1b2c3d4e5f6g7h8",
            ),
            ("ofr_0pq9r8s7t6u5v4w3x2y1", "Hugo", "pas_h8g7f6e5d4c3b2a1"),
        ] {
            t.add_row([
                offer,
                holder,
                pass,
                "349.99 USD",
                "Ships today from the Lyon warehouse, gift-wrapped on request",
            ]);
        }
        t.set_width(width);
        t
    }

    #[test]
    fn ids_are_never_wrapped_at_80_or_140_columns() {
        for width in [80u16, 140] {
            let out = render(&offers_table(width));
            for id in [
                "ofr_wxe53g1k1f2wbk0pntwr",
                "pas_a1b2c3d4e5f6g7h8",
                "ofr_0pq9r8s7t6u5v4w3x2y1",
                "pas_h8g7f6e5d4c3b2a1",
            ] {
                assert!(out.contains(id), "{id} is cut at {width} columns:\n{out}");
            }
            insta::assert_snapshot!(format!("offers_at_{width}_columns"), out);
        }
        // Without the constraint, the same table cuts them at 80.
        let plain = offers_table(80).to_string();
        assert!(!plain.contains("ofr_wxe53g1k1f2wbk0pntwr"), "{plain}");
    }

    #[test]
    fn what_counts_as_an_id() {
        assert!(looks_like_id("ofr_wxe53g1k1f2"));
        assert!(looks_like_id("own_AbC123"));
        assert!(!looks_like_id("paid"));
        assert!(!looks_like_id("12.50 USD"));
        assert!(!looks_like_id("home_kitchen appliance"));
        assert!(!looks_like_id("_x"));
    }

    #[test]
    fn fields_align_values() {
        let mut f = Fields::new();
        f.add("id", "x")
            .add("status", "paid")
            .opt::<&str>("note", None);
        assert_eq!(f.render(), "id:     x\nstatus: paid\nnote:   -\n");
    }

    #[test]
    fn formats() {
        assert_eq!(bps(1000), "1000 bps (10.00%)");
        assert_eq!(bps(5), "5 bps (0.05%)");
        assert_eq!(rate(Some(1.0)), "100.0%");
        assert_eq!(rate(None), "-");
        assert_eq!(money(&Money::new("12.34", "USD")), "12.34 USD");
        assert_eq!(list::<&str>(&[]), "-");
        assert!(is_zero(&Money::new("0.00", "USD")) && is_zero(&Money::new("0", "JPY")));
        assert!(!is_zero(&Money::new("0.01", "USD")) && !is_zero(&Money::new("10", "JPY")));
    }
}
