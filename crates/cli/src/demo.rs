//! `symbolon demo`: starts an embedded exchange in a temporary directory and
//! tells the whole story over the HTTP API (the typed client only; nothing is
//! written to the database behind the server's back).
//!
//! 1. a provider lists a bilingual catalog and issues a pass per product;
//! 2. six holders declare their fields of focus and receive passes;
//! 3. past requesters play earlier demands so that reputations come from real
//!    interactions (offers, declines, acceptances, ratings);
//! 4. a requester sends *the* demand and reads why each holder was contacted,
//!    then a stricter demand is refused with `insufficient_holders`;
//! 5. the contacted holders offer their passes, which the requester verifies
//!    against the provider's JWKS;
//! 6. the best offer is accepted, ordered and paid in one click, and the ledger
//!    is checked;
//! 7. the provider ships, the requester confirms delivery and rates the holder;
//! 8. after the sale: an order cancelled before shipping is refunded in full
//!    with its stock restored, and a 40% refund takes back the holder's
//!    commission in proportion.

mod after_sale;
mod catalog;
mod market;
mod trade;

use market::{catalog_phase, history_phase, holders_phase};
use trade::{demand_phase, offers_phase, order_phase, rating_phase};

use crate::embedded::Embedded;
use anyhow::{anyhow, bail, ensure, Context, Result};
use catalog::{HolderPlan, PassPlan, CATALOG, HISTORY, HOLDERS, PAST_REQUESTERS, PROVIDER_NAME};
use clap::Args;
use comfy_table::{modifiers, presets, CellAlignment, ContentArrangement, Table};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use symbolon_api as api;
use symbolon_client::{Client, ClientError};
use symbolon_core::reputation::wilson_lower_bound;
use symbolon_core::{Clock, Currency, SystemClock, TaxonomyPath};
use symbolon_server::ServerConfig;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Leave the server running and print its URL and keys.
    #[arg(long)]
    pub keep: bool,
    /// Seed of the embedded server's ids (the same seed gives the same ids).
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    demo(&args).await.map(|_| ())
}

/// What the story produced, for the closing lines and for tests.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub server_url: String,
    pub products: usize,
    pub past_demands: usize,
    /// Holders the exchange contacted for the requester's demand.
    pub contacted: usize,
    pub offers: usize,
    /// Whether the stricter demand was refused with `insufficient_holders`.
    pub strict_refused: bool,
    /// Order total and commission, in cents.
    pub total_minor: i64,
    pub commission_minor: i64,
    /// How the order moved each party's balance, in cents (earlier buyers'
    /// purchases moved the provider's and holders' balances before it).
    pub requester_balance_minor: i64,
    pub provider_balance_minor: i64,
    pub holder_balance_minor: i64,
    pub holder_before: api::HolderPublic,
    pub holder_after: api::HolderPublic,
    /// The cancellation and the partial refund.
    pub after_sale: after_sale::AfterSale,
    /// Every account.
    pub accounts: Vec<DemoAccount>,
}

/// One account of the demo, as `--keep` lists it.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: String,
    pub name: String,
    pub id: String,
    pub key: String,
    /// Its web sign-in (with [`DEMO_PASSWORD`]).
    pub email: String,
}

impl DemoAccount {
    fn of(role: impl Into<String>, a: &Acct) -> Self {
        Self {
            role: role.into(),
            name: a.name.clone(),
            id: a.id.clone(),
            key: a.key.clone(),
            email: a.email.clone(),
        }
    }
}

impl DemoSummary {
    /// The sum of the three balance changes: zero when the ledger balances.
    pub fn ledger_sum_minor(&self) -> i64 {
        self.requester_balance_minor + self.provider_balance_minor + self.holder_balance_minor
    }
}

/// Runs the demo: embedded server, story, then (with `--keep`) keys and a wait for Ctrl-C.
pub async fn demo(args: &DemoArgs) -> Result<DemoSummary> {
    let started = Instant::now();
    let server = Embedded::start(
        "symbolon-demo-",
        ServerConfig {
            registration_open: true,
            seed: Some(args.seed),
            // No load balancer to tell: stop at once.
            drain_delay: std::time::Duration::ZERO,
            ..Default::default()
        },
    )
    .await
    .context("starting the embedded server")?;
    println!(
        "Symbolon demo — an embedded exchange at {} (data in a temp dir)",
        server.url
    );
    let outcome = tokio::select! {
        r = story(&server.url, args.seed) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted by Ctrl-C")),
    };
    let summary = match outcome {
        Ok(s) => s,
        Err(e) => {
            // The story failed: stop the server quietly, report the story's error.
            let _ = server.stop().await;
            return Err(e);
        }
    };
    closing(&summary, started, args.keep);
    if args.keep {
        print_keys(&summary);
        let waited = tokio::signal::ctrl_c().await.context("waiting for Ctrl-C");
        println!("\nShutting down…");
        server.stop().await?;
        waited?;
    } else {
        server.stop().await?;
    }
    Ok(summary)
}

// ---------------------------------------------------------------- accounts

#[derive(Clone)]
pub(crate) struct Acct {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) key: String,
    /// The email it signs in with on the web (with [`DEMO_PASSWORD`]).
    pub(crate) email: String,
    pub(crate) client: Client,
}

/// The password of every demo account on the web (a demo on a temp dir:
/// printed, not secret).
pub const DEMO_PASSWORD: &str = "symbolon-demo";

/// A demo account's email: the ASCII words of its name, dotted
/// (`林美 Mei Lin` → `mei.lin@demo.example`).
pub(crate) fn demo_email(name: &str) -> String {
    let words: Vec<String> = name
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let local = if words.is_empty() {
        "someone".to_string()
    } else {
        words.join(".")
    };
    format!("{local}@demo.example")
}

/// Registers an account with one role and a web login ([`demo_email`],
/// [`DEMO_PASSWORD`]), and a client holding its key.
pub(crate) async fn register(anon: &Client, name: &str, role: api::Role) -> Result<Acct> {
    let email = demo_email(name);
    let created = anon
        .create_account(&api::CreateAccount {
            name: name.to_string(),
            roles: vec![role],
            login: Some(api::WebLogin {
                email: email.clone(),
                password: DEMO_PASSWORD.to_string(),
            }),
        })
        .await
        .with_context(|| format!("registering {name}"))?;
    Ok(Acct {
        client: anon.with_key(&created.api_key),
        id: created.id,
        name: created.name,
        key: created.api_key,
        email,
    })
}

struct HolderAcct {
    plan: &'static HolderPlan,
    acct: Acct,
}

struct Listed {
    product: api::Product,
    pass: api::Pass,
}

struct Cast {
    provider: Acct,
    holders: Vec<HolderAcct>,
    listed: BTreeMap<&'static str, Listed>,
    past_requesters: Vec<Acct>,
    /// Each holder's requests decided (offered, declined or expired) as step 3 shows them.
    decided_in_history: HashMap<String, u64>,
}

impl Cast {
    fn holder_by_id(&self, id: &str) -> Option<&HolderAcct> {
        self.holders.iter().find(|h| h.acct.id == id)
    }
}

// ---------------------------------------------------------------- the story

async fn story(url: &str, seed: u64) -> Result<DemoSummary> {
    // The server draws its ids from the seed, or from a POST's idempotency
    // key: seeded keys make those the same on every run too.
    let anon = Client::new(url)?.with_seeded_idempotency_keys(seed);
    let mut cast = catalog_phase(&anon)
        .await
        .context("step 1 (provider lists the catalog and issues passes)")?;
    holders_phase(&anon, &mut cast)
        .await
        .context("step 2 (holders join and receive passes)")?;
    let past_demands = history_phase(&anon, &mut cast)
        .await
        .context("step 3 (earlier interactions build reputations)")?;
    let requester = register(&anon, "林美 Mei Lin", api::Role::Requester)
        .await
        .context("step 4 (the requester registers)")?;
    let asked = demand_phase(&cast, &requester)
        .await
        .context("step 4 (the requester sends the demand)")?;
    let offers = offers_phase(&cast, &requester, &asked)
        .await
        .context("step 5 (holders offer their passes)")?;
    let deal = order_phase(&cast, &requester, &offers)
        .await
        .context("step 6 (accept, order and pay)")?;
    let (before, after) = rating_phase(&cast, &requester, &deal)
        .await
        .context("step 7 (ship, deliver and rate)")?;
    let after_sale = after_sale::after_sale_phase(&cast, &requester, &deal)
        .await
        .context("step 8 (a cancellation and a partial refund)")?;

    let mut accounts = vec![DemoAccount::of("provider", &cast.provider)];
    for h in &cast.holders {
        accounts.push(DemoAccount::of(
            format!("holder ({})", h.plan.persona),
            &h.acct,
        ));
    }
    accounts.push(DemoAccount::of("requester", &requester));
    for r in &cast.past_requesters {
        accounts.push(DemoAccount::of("past requester", r));
    }
    Ok(DemoSummary {
        server_url: url.to_string(),
        products: cast.listed.len(),
        past_demands,
        contacted: asked.contacted.len(),
        offers: offers.len(),
        strict_refused: asked.strict_refused,
        total_minor: deal.total_minor,
        commission_minor: deal.commission_minor,
        requester_balance_minor: deal.balances[0],
        provider_balance_minor: deal.balances[1],
        holder_balance_minor: deal.balances[2],
        holder_before: before,
        holder_after: after,
        after_sale,
        accounts,
    })
}

// ---------------------------------------------------------------- closing and --keep

fn closing(s: &DemoSummary, started: Instant, keep: bool) {
    println!();
    println!("━━ The end {}", "━".repeat(62));
    println!(
        "  {} products, {} past demands; the demand reached {} holders and got {} offers{}",
        s.products,
        s.past_demands,
        s.contacted,
        s.offers,
        if s.strict_refused {
            " (the stricter one was refused)"
        } else {
            ""
        }
    );
    println!(
        "  1 order: {} paid, {} commission, ledger sum {} ✓",
        fmt_cents(s.total_minor),
        fmt_cents(s.commission_minor),
        fmt_cents(s.ledger_sum_minor())
    );
    println!(
        "  {}: {} → {} ratings, positive rate {} → {}",
        s.holder_after.name,
        s.holder_before.ratings,
        s.holder_after.ratings,
        s.holder_before
            .positive_rate
            .map(pct)
            .unwrap_or_else(|| "—".into()),
        s.holder_after
            .positive_rate
            .map(pct)
            .unwrap_or_else(|| "—".into())
    );
    let a = &s.after_sale;
    println!(
        "  after the sale: a {} order cancelled, {} refunded, stock {} → {} → {};",
        fmt_cents(a.cancelled_total_minor),
        fmt_cents(a.cancel_refund_minor),
        a.stock[0],
        a.stock[1],
        a.stock[2]
    );
    println!(
        "  a {} refund of a {} order took back {} of {} commission (holder: pending {}, available {})",
        fmt_cents(a.refund_minor),
        fmt_cents(a.refunded_order_total_minor),
        fmt_cents(a.commission_reversed_minor),
        fmt_cents(a.commission_minor),
        fmt_cents(a.holder_pending_change_minor),
        fmt_cents(a.holder_available_change_minor)
    );
    let requester = s.accounts.iter().find(|a| a.role == "requester");
    if let (false, Some(r)) = (keep, requester) {
        println!(
            "  In a browser: `symbolon demo --keep`, then open the URL and sign in as {} (password {DEMO_PASSWORD}).",
            r.email
        );
    }
    println!("  Told in {:.2} s.", started.elapsed().as_secs_f64());
}

fn print_keys(s: &DemoSummary) {
    println!();
    println!("━━ The server keeps running {}", "━".repeat(45));
    kv("server", &s.server_url);
    let mut table = new_table(&["Role", "Account", "Id", "API key", "Web sign-in", "Console"]);
    // Keys are copied from here: never wrap them.
    table.set_content_arrangement(ContentArrangement::Disabled);
    for a in &s.accounts {
        table.add_row(vec![
            a.role.clone(),
            a.name.clone(),
            a.id.clone(),
            a.key.clone(),
            a.email.clone(),
            format!("{}{}", s.server_url, console_path(&a.role)),
        ]);
    }
    print_table(&table);
    let key_of = |role: &str| {
        s.accounts
            .iter()
            .find(|a| a.role.starts_with(role))
            .map(|a| a.key.clone())
            .unwrap_or_default()
    };
    let email_of = |role: &str| {
        s.accounts
            .iter()
            .find(|a| a.role.starts_with(role))
            .map(|a| a.email.clone())
            .unwrap_or_default()
    };
    note(&format!(
        "In a browser (password {DEMO_PASSWORD} for every account):"
    ));
    for (role, what) in [
        ("requester", "ask, compare offers, order and pay"),
        (
            "holder",
            "answer requests live, share passes, earnings, reputation",
        ),
        (
            "provider",
            "catalog, passes, orders to ship, sales, webhooks, keys",
        ),
    ] {
        println!(
            "    {}{:<10} as {} — {what}",
            s.server_url,
            console_path(role),
            email_of(role)
        );
    }
    note("Try, for example:");
    println!(
        "    symbolon --server {} --key {} inbox",
        s.server_url,
        key_of("holder")
    );
    println!(
        "    symbolon --server {} --key {} balance",
        s.server_url,
        key_of("requester")
    );
    println!(
        "    symbolon --server {} --key {} balance",
        s.server_url,
        key_of("provider")
    );
    println!("    curl {}/v1/holders/{}", s.server_url, s.holder_after.id);
    println!();
    println!("  Press Ctrl-C to stop the server (its temp dir is then removed).");
}

// ---------------------------------------------------------------- helpers

/// Where an account of the demo's `role` (as the table names it) starts on the web.
fn console_path(role: &str) -> &'static str {
    if role.starts_with("holder") {
        "/inbox"
    } else if role.starts_with("provider") {
        "/catalog"
    } else if role.starts_with("operator") {
        "/operator/disputes"
    } else {
        "/demands"
    }
}

fn header(n: usize, title: &str) {
    let line = format!("━━ {n}. {title} ");
    println!();
    println!(
        "{line}{}",
        "━".repeat(74usize.saturating_sub(line.chars().count()))
    );
}

fn done(what: &str, since: Instant) {
    println!("  ✓ {what}  ({} ms)", since.elapsed().as_millis());
}

fn note(what: &str) {
    println!("  {what}");
}

fn kv(k: &str, v: &str) {
    println!("    {k:<11} {v}");
}

/// Widest table, in terminal columns (long cells wrap).
const TABLE_WIDTH: u16 = 116;

fn new_table(headers: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .apply_modifier(modifiers::UTF8_ROUND_CORNERS)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(TABLE_WIDTH);
    t.set_header(headers.to_vec());
    t
}

fn align_right(t: &mut Table, columns: &[usize]) {
    for &c in columns {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn print_table(t: &Table) {
    for line in t.to_string().lines() {
        println!("  {line}");
    }
}

fn usd(amount: &str) -> api::Money {
    api::Money::new(amount, "USD")
}

fn money(m: &api::Money) -> String {
    if m.currency == "USD" {
        format!("${}", m.amount)
    } else {
        format!("{} {}", m.amount, m.currency)
    }
}

fn cents(amount: &str) -> Result<i64> {
    symbolon_core::Money::parse(amount, "USD")
        .map(|m| m.minor)
        .map_err(|e| anyhow!("the server sent an amount that is not USD: {e}"))
}

fn fmt_cents(minor: i64) -> String {
    match Currency::parse("USD") {
        Ok(c) => {
            let s = symbolon_core::Money::new(minor, c).amount_string();
            if minor < 0 {
                format!("-${}", &s[1..])
            } else {
                format!("${s}")
            }
        }
        Err(_) => minor.to_string(),
    }
}

fn pct(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

fn mode(m: api::PassMode) -> &'static str {
    match m {
        api::PassMode::Shareable => "shareable",
        api::PassMode::Unique => "unique",
    }
}

fn tail(s: &str, n: usize) -> &str {
    let start = s
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    &s[start..]
}

fn path(s: &str) -> Option<TaxonomyPath> {
    TaxonomyPath::parse(s, "path").ok()
}

fn under(category: &str, ancestor: &str) -> bool {
    matches!((path(category), path(ancestor)), (Some(c), Some(a)) if c.is_under(&a))
}

fn same_branch(a: &str, b: &str) -> bool {
    matches!((path(a), path(b)), (Some(a), Some(b)) if a.same_branch(&b))
}

#[cfg(test)]
mod tests {
    use super::trade::decided_note;
    use super::*;

    /// Every demo account gets its own email, one the exchange accepts.
    #[test]
    fn demo_emails_are_distinct_and_valid() {
        assert_eq!(demo_email("林美 Mei Lin"), "mei.lin@demo.example");
        assert_eq!(demo_email("云端"), "someone@demo.example");
        let mut names: Vec<&str> = vec![PROVIDER_NAME, "林美 Mei Lin"];
        names.extend(HOLDERS.iter().map(|h| h.name));
        names.extend(PAST_REQUESTERS.iter().copied());
        let emails: std::collections::BTreeSet<String> =
            names.iter().map(|n| demo_email(n)).collect();
        assert_eq!(emails.len(), names.len(), "{emails:?}");
        // (The exchange checks them for real: the demo registers them all.)
        for e in &emails {
            assert!(e.is_ascii() && e.matches('@').count() == 1, "{e}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_whole_demo_runs_against_its_embedded_server() {
        let summary = demo(&DemoArgs {
            keep: false,
            seed: 7,
        })
        .await
        .expect("the demo runs to the end");
        assert!(summary.contacted >= 2, "contacted {}", summary.contacted);
        assert!(summary.offers >= 2);
        assert!(summary.strict_refused);
        assert!(summary.products >= 20);
        assert_eq!(summary.ledger_sum_minor(), 0);
        assert_eq!(summary.requester_balance_minor, -summary.total_minor);
        assert_eq!(
            summary.provider_balance_minor,
            summary.total_minor - summary.commission_minor
        );
        assert_eq!(summary.holder_balance_minor, summary.commission_minor);
        assert!(summary.commission_minor > 0);
        assert_eq!(
            summary.holder_after.ratings,
            summary.holder_before.ratings + 1
        );
        let a = &summary.after_sale;
        assert!(a.cancelled_total_minor > 0);
        assert_eq!(a.cancel_refund_minor, a.cancelled_total_minor);
        assert_eq!(a.stock[0], a.stock[2]);
        assert_eq!(a.stock[1], a.stock[0] - 1);
        assert_eq!(a.refund_minor, a.refunded_order_total_minor * 40 / 100);
        assert!(a.commission_reversed_minor > 0);
        assert_eq!(
            a.commission_reversed_minor,
            a.commission_minor * a.refund_minor / a.refunded_order_total_minor
        );
        assert_eq!(a.holder_pending_change_minor, -a.commission_reversed_minor);
        assert_eq!(a.holder_available_change_minor, 0);
        assert_eq!(
            summary.accounts.len(),
            1 + HOLDERS.len() + 1 + PAST_REQUESTERS.len()
        );
    }

    #[test]
    fn the_decided_count_is_explained() {
        let moved = decided_note(13, 14, "Mei");
        assert!(
            moved.contains("13 in step 3, 14 now")
                && moved.contains("Mei's request in step 5 decided 1 more"),
            "{moved}"
        );
        assert!(decided_note(14, 14, "Mei").contains("as in step 3"));
    }

    #[test]
    fn helpers() {
        assert_eq!(fmt_cents(-39999), "-$399.99");
        assert_eq!(fmt_cents(3199), "$31.99");
        assert_eq!(cents("-399.99").unwrap(), -39999);
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 3), "ab");
        assert!(under("electronics/audio/headphones", "electronics/audio"));
        assert!(!under(
            "electronics/audio/earbuds",
            "electronics/audio/headphones"
        ));
        assert!(same_branch("electronics", "electronics/audio"));
        assert!(CATALOG.len() >= 20);
    }
}
