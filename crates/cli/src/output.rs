//! Output helpers: readable tables by default, JSON with `--json`.
//!
//! Single objects print as aligned `key: value` lines ([`Fields`]); lists print
//! as tables ([`table`]). Values never go through floats on the way: money is
//! the API's decimal string plus its currency.

use comfy_table::{presets, ContentArrangement, Table};
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

/// Prints a titled section: a blank line, the title, then the table, or
/// `(none)` when the table is empty.
pub fn print_section(title: &str, t: &Table) {
    println!();
    println!("{title}");
    if t.is_empty() {
        println!("  (none)");
    } else {
        println!("{t}");
    }
}

/// Prints a table, or `empty` when it has no rows.
pub fn print_table(t: &Table, empty: &str) {
    if t.is_empty() {
        println!("{empty}");
    } else {
        println!("{t}");
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
