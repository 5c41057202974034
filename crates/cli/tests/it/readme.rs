//! The README's "The CLI at a glance" stays true: every `symbolon …` line of
//! its first ```sh block runs, in the README's order, through the real binary
//! against a real `symbolon serve`.
//!
//! The README is read at run time. Its lines are matched against [`steps`],
//! one entry per line: whose key runs it, which placeholders (`pas_…`, `ord_…`,
//! the example host) stand for which ids made by earlier steps, what setup it
//! needs (setup may use any command; only the README's lines are under test),
//! and what its output must show. A line added to or changed in the README
//! without an entry here fails the test, naming the line.
//!
//! Each line runs as a reader would type it: the words after substitution,
//! the server and key from `SYMBOLON_SERVER`/`SYMBOLON_KEY` (as the README
//! says), in a scratch directory where `pass.jws`, `issuer-jwks.json` and
//! `my-key.json` are the files earlier steps made.

use super::{command, s, Server};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::process::Stdio;
use std::time::{Duration, Instant};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
const HEADING: &str = "## The CLI at a glance";

// ------------------------------------------------------------------ the README

/// The command lines (continuations joined, comments stripped) of the first
/// ```sh block under [`HEADING`] that start with `symbolon `, in order.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(README).expect("read README.md");
    let start = text
        .lines()
        .position(|l| l.trim_end() == HEADING)
        .unwrap_or_else(|| panic!("README.md has no `{HEADING}` heading"));
    let mut block = None;
    let mut lines = text.lines().skip(start + 1);
    while let Some(l) = lines.next() {
        if l.starts_with("## ") {
            break;
        }
        if l.trim_end() == "```sh" {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| l.trim_end() != "```")
                .collect();
            block = Some(body.join("\n"));
            break;
        }
    }
    let block = block.unwrap_or_else(|| panic!("no ```sh block under `{HEADING}` in README.md"));
    logical_lines(&block)
        .into_iter()
        .filter(|l| l.starts_with("symbolon "))
        .collect()
}

/// Shell-like logical lines: `\` + newline joins (the break and the next
/// line's indentation become one space), a `#` at the start of a word outside
/// quotes starts a comment, quotes are kept as written.
fn logical_lines(block: &str) -> Vec<String> {
    let chars: Vec<char> = block.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut flush = |cur: &mut String| {
        let l = cur.trim().to_string();
        if !l.is_empty() {
            out.push(l);
        }
        cur.clear();
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                } else if q == '"' && c == '\\' && i + 1 < chars.len() {
                    cur.push(chars[i + 1]);
                    i += 1;
                }
            }
            None => match c {
                '\\' if chars.get(i + 1) == Some(&'\n') => {
                    let kept = cur.trim_end().len();
                    cur.truncate(kept);
                    cur.push(' ');
                    i += 2;
                    while matches!(chars.get(i), Some(' ' | '\t')) {
                        i += 1;
                    }
                    continue;
                }
                '\\' => {
                    cur.push(c);
                    if let Some(n) = chars.get(i + 1) {
                        cur.push(*n);
                        i += 1;
                    }
                }
                '"' | '\'' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '#' if cur.is_empty() || cur.ends_with(char::is_whitespace) => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                '\n' => flush(&mut cur),
                _ => cur.push(c),
            },
        }
        i += 1;
    }
    assert!(quote.is_none(), "an unclosed quote in the README block");
    flush(&mut cur);
    out
}

/// The words of a command line, as a POSIX shell splits them (quotes and
/// backslashes; no expansions).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => cur.push(n),
                            Some(n) => {
                                cur.push('\\');
                                cur.push(n);
                            }
                            None => cur.push('\\'),
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

// ------------------------------------------------------------------ the table

/// Whose credentials a line runs with.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// No key: public reads and registration.
    Anyone,
    /// No server either (`SYMBOLON_SERVER` points at a closed port).
    Offline,
    Provider,
    /// The first holder.
    Holder,
    Requester,
    Operator,
    /// The server's administrator: no key, the server's store
    /// (`SYMBOLON_DATA_DIR`, as `serve` reads it).
    Admin,
}

impl Who {
    fn key(self) -> Option<&'static str> {
        match self {
            Who::Anyone | Who::Offline | Who::Admin => None,
            Who::Provider => Some("provider.key"),
            Who::Holder => Some("holder.key"),
            Who::Requester => Some("requester.key"),
            Who::Operator => Some("operator.key"),
        }
    }
}

type Hook = fn(&mut Story);
type Check = fn(&mut Story, &str);

/// How one README line is run.
struct Step {
    line: &'static str,
    how: How,
}

enum How {
    /// Not run, and why.
    Skip(&'static str),
    Run {
        who: Who,
        /// README word → name of a value in the story.
        subs: Vec<(&'static str, &'static str)>,
        /// Setup before the line (any commands).
        before: Option<Hook>,
        /// Checks on its stdout (it exited 0); may record ids for later lines.
        after: Option<Check>,
    },
}

impl Step {
    fn run(line: &'static str, who: Who) -> Self {
        Self {
            line,
            how: How::Run {
                who,
                subs: Vec::new(),
                before: None,
                after: None,
            },
        }
    }
    fn skip(line: &'static str, why: &'static str) -> Self {
        Self {
            line,
            how: How::Skip(why),
        }
    }
    fn sub(mut self, word: &'static str, value: &'static str) -> Self {
        if let How::Run { subs, .. } = &mut self.how {
            subs.push((word, value));
        }
        self
    }
    fn before(mut self, f: Hook) -> Self {
        if let How::Run { before, .. } = &mut self.how {
            *before = Some(f);
        }
        self
    }
    fn after(mut self, f: Check) -> Self {
        if let How::Run { after, .. } = &mut self.how {
            *after = Some(f);
        }
        self
    }
}

const BENCH_SKIP: &str = "`bench load` is a long-running open-loop benchmark (a market built over \
     the API, then seconds per rate); tests/it/load.rs runs it at a small scale and checks its report";

/// One entry per README line, in the README's order.
fn steps() -> Vec<Step> {
    use Who::*;
    vec![
        Step::run(
            r#"symbolon account create --name "Acme" --role provider"#,
            Anyone,
        )
        .after(|st, out| {
            assert!(out.contains("The key is shown only once"), "{out}");
            st.set("provider.id", field(out, "id"));
            st.set("provider.key", field(out, "api_key"));
        }),
        Step::run(
            r#"symbolon product create --title "降噪耳机 WH-1000XM5" --category electronics/audio/headphones --price 299.00 --currency USD --stock 20 --spec colour=black"#,
            Provider,
        )
        .after(|st, out| {
            assert!(out.contains("299.00 USD") && out.contains("black"), "{out}");
            st.set("product", field(out, "id"));
        }),
        Step::run(
            "symbolon pass create --product prd_… --mode shareable --commission-bps 800",
            Provider,
        )
        .sub("prd_…", "product")
        .after(|st, out| {
            assert!(out.contains("shareable") && out.contains("800 bps"), "{out}");
            st.set("pass", field(out, "id"));
            st.set("pass.page", field(out, "page"));
        }),
        Step::run("symbolon pass grant pas_… --holder acc_…", Provider)
            .sub("pas_…", "pass")
            .sub("acc_…", "holder.id")
            .before(|st| {
                for who in ["holder", "holder2"] {
                    st.account(who, "holder");
                }
            })
            .after(|st, out| {
                assert!(out.contains(&st.get("holder.id")), "{out}");
                // The second holder holds it too: a demand needs two.
                let (pass, h2) = (st.get("pass"), st.get("holder2.id"));
                st.json("provider", &["pass", "grant", &pass, "--holder", &h2]);
            }),
        Step::run("symbolon holder profile --field electronics/audio", Holder).after(|st, out| {
            assert!(out.contains("electronics/audio"), "{out}");
            st.json("holder2", &["holder", "profile", "--field", "electronics/audio"]);
        }),
        Step::run("symbolon inbox", Holder)
            .before(|st| {
                // A requester's demand, so that the inbox has a request.
                st.account("requester", "requester");
                let d = st.json("requester", &["demand", "create", "降噪耳机"]);
                st.set("demand", s(&d["id"]).to_string());
                for who in ["holder", "holder2"] {
                    let id = st.get(&format!("{who}.id"));
                    let c = d["contacted"]
                        .as_array()
                        .expect("contacted")
                        .iter()
                        .find(|c| c["holder_id"] == id.as_str())
                        .unwrap_or_else(|| panic!("{who} not contacted: {d}"));
                    st.set(&format!("{who}.interaction"), s(&c["interaction_id"]).to_string());
                }
            })
            .after(|st, out| {
                assert!(out.contains(&st.get("holder.interaction")), "{out}");
            }),
        Step::run(
            r#"symbolon offer int_… --pass pas_… --note "ships today""#,
            Holder,
        )
        .sub("int_…", "holder.interaction")
        .sub("pas_…", "pass")
        .after(|st, out| {
            assert!(out.contains("offered") && out.contains("ships today"), "{out}");
            st.set("offer", field(out, "offer"));
            // The second holder offers too: the demand shows two offers.
            let (int, pass) = (st.get("holder2.interaction"), st.get("pass"));
            let o = st.json("holder2", &["offer", &int, "--pass", &pass]);
            st.set("offer2", s(&o["id"]).to_string());
        }),
        Step::run(
            r#"symbolon demand create "noise cancelling headphones" --category electronics/audio --max-price 350 --currency USD --min-positive-rate 0.9 --min-ratings 3"#,
            Requester,
        )
        .before(build_reputations)
        .after(|st, out| {
            assert!(
                out.contains("status:   open") && out.contains("Contacted holders (2)"),
                "{out}"
            );
            for who in ["holder.id", "holder2.id"] {
                assert!(out.contains(&st.get(who)), "{who} not contacted:\n{out}");
            }
        }),
        Step::run(
            r#"symbolon demand create "降噪耳机" --wait --ttl 86400"#,
            Requester,
        )
        .after(|_, out| {
            // Two holders hold the pass already, so it opens at once; with
            // fewer it would wait (`waiting`) instead of being refused.
            let status = field(out, "status");
            assert!(status == "open" || status == "waiting", "{out}");
            assert!(field(out, "demand").starts_with("dem_"), "{out}");
        }),
        Step::run("symbolon demand show dem_…", Requester)
            .sub("dem_…", "demand")
            .after(|st, out| {
                for id in [st.get("offer"), st.get("offer2")] {
                    assert!(out.contains(&id), "offer {id} missing:\n{out}");
                }
                assert!(out.contains("Rank") && out.contains("relevance"), "{out}");
            }),
        Step::run("symbolon accept ofr_…", Requester)
            .sub("ofr_…", "offer")
            .after(|_, out| assert!(out.contains("accepted"), "{out}")),
        Step::run(
            r#"symbolon requester profile --name "Ada" --line1 "1 Main St" --city Springfield --postal-code 12345 --country US --card 4242424242424242"#,
            Requester,
        )
        .after(|_, out| assert!(out.contains("Springfield") && out.contains("4242"), "{out}")),
        Step::run("symbolon order create --offer ofr_… --pay", Requester)
            .sub("ofr_…", "offer")
            .after(|st, out| {
                assert_eq!(field(out, "status"), "paid", "{out}");
                assert!(out.contains("299.00 USD") && out.contains("23.92 USD"), "{out}");
                st.set("order.offer", field(out, "order"));
            }),
        Step::run(
            "symbolon order create --pass pas_… --via acc_… --pay",
            Requester,
        )
        .sub("pas_…", "unique")
        .sub("acc_…", "holder.id")
        .before(|st| {
            // A unique pass, so that the order buys a unit with a history
            // (`pass history`, `pass transfer` below).
            let product = st.get("product");
            let p = st.json(
                "provider",
                &[
                    "pass", "create", "--product", &product, "--mode", "unique", "--units", "2",
                    "--commission-bps", "800",
                ],
            );
            st.set("unique", s(&p["id"]).to_string());
            let (pass, holder) = (st.get("unique"), st.get("holder.id"));
            st.json(
                "provider",
                &["pass", "grant", &pass, "--holder", &holder, "--units", "1"],
            );
        })
        .after(|st, out| {
            assert_eq!(field(out, "status"), "paid", "{out}");
            assert!(out.contains(&st.get("holder.id")), "credited holder:\n{out}");
        }),
        Step::run("symbolon order delivered ord_…", Requester)
            .sub("ord_…", "order.offer")
            .before(|st| {
                let o = st.get("order.offer");
                st.json("provider", &["order", "ship", &o]);
            })
            .after(|_, out| assert_eq!(field(out, "status"), "delivered", "{out}")),
        Step::run("symbolon rate ofr_… --positive", Requester)
            .sub("ofr_…", "offer")
            .after(|st, out| {
                assert!(out.contains(&st.get("holder.id")), "{out}");
            }),
        Step::run(
            r#"symbolon order cancel ord_… --reason "ordered twice""#,
            Requester,
        )
        .sub("ord_…", "order.cancel")
        .before(|st| st.paid_order("order.cancel", &[]))
        .after(|_, out| {
            assert_eq!(field(out, "status"), "cancelled", "{out}");
            assert!(out.contains("299.00 USD") && out.contains("ordered twice"), "{out}");
        }),
        Step::run(
            r#"symbolon order refund ord_… --amount 12.50 --reason "scuffed""#,
            Provider,
        )
        .sub("ord_…", "order.refund")
        .before(|st| st.paid_order("order.refund", &[]))
        .after(|_, out| assert!(out.contains("12.50") && out.contains("USD"), "{out}")),
        Step::run(
            r#"symbolon order return ord_… --reason "too small""#,
            Requester,
        )
        .sub("ord_…", "order.return")
        .before(|st| st.paid_order("order.return", &["ship", "delivered"]))
        .after(|_, out| assert_eq!(field(out, "return"), "requested", "{out}")),
        Step::run(
            r#"symbolon order dispute ord_… --kind not_received --reason "…""#,
            Requester,
        )
        .sub("ord_…", "order.dispute")
        .before(|st| st.paid_order("order.dispute", &["ship"]))
        .after(|st, out| {
            assert_eq!(field(out, "status"), "open", "{out}");
            assert_eq!(field(out, "kind"), "not_received", "{out}");
            st.set("dispute", field(out, "dispute"));
        }),
        Step::run(
            r#"symbolon admin create-operator --name "Olga""#,
            Admin,
        )
        .after(|st, out| {
            assert!(out.contains("operator"), "{out}");
            st.set("operator.key", field(out, "api_key"));
        }),
        Step::run(
            r#"symbolon dispute resolve dsp_… --refund 20.00 --reason "…""#,
            Operator,
        )
        .sub("dsp_…", "dispute")
        .after(|_, out| {
            assert_eq!(field(out, "status"), "resolved", "{out}");
            assert!(out.contains("20.00 USD"), "{out}");
        }),
        Step::run("symbolon balance", Provider).after(|_, out| {
            for needle in ["USD", "Pending", "Available", "Paid out"] {
                assert!(out.contains(needle), "{needle} missing:\n{out}");
            }
        }),
        Step::run("symbolon payout --currency USD", Provider)
            .before(settle_the_first_order)
            // 299.00 less the holder's 8% (23.92).
            .after(|_, out| assert!(out.contains("275.08"), "{out}")),
        Step::run(
            "symbolon pass verify https://exchange.example/p/pas_…",
            Anyone,
        )
        .sub("https://exchange.example/p/pas_…", "pass.page")
        .after(|_, out| {
            assert!(
                out.contains("✓ valid pass") && out.contains("revocation checked"),
                "{out}"
            );
        }),
        Step::run(
            "symbolon pass verify pass.jws --jwks issuer-jwks.json --offline",
            Offline,
        )
        .before(|st| {
            let pass = st.get("pass");
            let shown = st.json("anyone", &["pass", "show", &pass]);
            st.write("pass.jws", s(&shown["jws"]));
            let provider = st.get("provider.id");
            let jwks = st.json("anyone", &["pass", "jwks", &provider]);
            st.write("issuer-jwks.json", &jwks.to_string());
        })
        .after(|_, out| assert!(out.contains("✓ valid pass"), "{out}")),
        Step::run("symbolon pass revoke pas_…", Provider)
            .sub("pas_…", "pass")
            .after(|st, out| {
                assert!(out.contains("revoked"), "{out}");
                let pass = st.get("pass");
                assert_eq!(st.json("anyone", &["pass", "show", &pass])["status"], "revoked");
            }),
        Step::run("symbolon pass keys --rotate", Provider).after(|st, out| {
            let keys = st.json("provider", &["pass", "keys"]);
            let keys = keys["keys"].as_array().expect("keys");
            assert!(keys.len() >= 2, "a new key, the old one kept: {keys:?}");
            assert!(keys.iter().all(|k| out.contains(s(&k["kid"]))), "{out}");
        }),
        Step::run("symbolon pass keygen --out my-key.json", Provider).after(|st, _| {
            let key = st.dir.path().join("my-key.json");
            let meta = std::fs::metadata(&key).expect("my-key.json written");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(meta.permissions().mode() & 0o777, 0o600);
            }
            let _ = meta;
        }),
        Step::run(
            "symbolon pass sign --key-file my-key.json --product prd_… --mode shareable --commission-bps 500",
            Provider,
        )
        .sub("prd_…", "product")
        .after(|st, out| {
            assert!(out.contains("500 bps") && out.contains("active"), "{out}");
            // Uploaded: anyone verifies it from its page.
            let page = field(out, "page");
            let v = st.run(Who::Anyone, &["pass", "verify", &page]);
            assert!(v.contains("✓ valid pass"), "{v}");
        }),
        Step::run("symbolon pass history pas_… 1", Anyone)
            .sub("pas_…", "unique")
            .after(|_, out| {
                assert!(out.contains("✓ chain of 1 signed transfer(s) verifies"), "{out}");
            }),
        Step::run("symbolon pass transfer pas_… 1 --to acc_…", Requester)
            .sub("pas_…", "unique")
            .sub("acc_…", "buyer.id")
            .after(|st, out| {
                assert!(out.contains(&st.get("buyer.id")) || out.contains("own_"), "{out}");
                let pass = st.get("unique");
                let chain = st.run(Who::Anyone, &["pass", "history", &pass, "1"]);
                assert!(
                    chain.contains("✓ chain of 2 signed transfer(s) verifies"),
                    "{chain}"
                );
            }),
        Step::skip(
            "symbolon bench load --listings 10000 --rates 100,250,500 --svg load.svg",
            BENCH_SKIP,
        ),
        Step::skip(
            "symbolon bench load --database-url postgres://… --replicas 2 --history 1000000",
            BENCH_SKIP,
        ),
        Step::skip(
            "symbolon --server https://exchange.example bench load --rates 50,100",
            BENCH_SKIP,
        ),
    ]
}

// ------------------------------------------------------------------ setup the flow implies

/// Both holders earn three positive ratings on a pass that matches "noise
/// cancelling headphones", so that the demand with `--min-positive-rate 0.9
/// --min-ratings 3` finds two holders. (The README's own product, titled
/// "降噪耳机 WH-1000XM5" with no description, does not match that English
/// query: with it alone the line is refused, `insufficient_holders` with
/// `eliminated.query: 2`.) A second requester buys: each rating needs an
/// accepted offer whose order arrived.
fn build_reputations(st: &mut Story) {
    let p = st.json(
        "provider",
        &[
            "product",
            "create",
            "--title",
            "Noise cancelling headphones",
            "--category",
            "electronics/audio/headphones",
            "--price",
            "249.00",
            "--currency",
            "USD",
            "--stock",
            "10",
        ],
    );
    let pass = st.json(
        "provider",
        &[
            "pass",
            "create",
            "--product",
            s(&p["id"]),
            "--mode",
            "shareable",
            "--commission-bps",
            "500",
        ],
    );
    let pass = s(&pass["id"]).to_string();
    for who in ["holder", "holder2"] {
        let id = st.get(&format!("{who}.id"));
        st.json("provider", &["pass", "grant", &pass, "--holder", &id]);
    }
    st.account("buyer", "requester");
    st.json(
        "buyer",
        &[
            "requester",
            "profile",
            "--name",
            "Bo",
            "--line1",
            "2 Side St",
            "--city",
            "Shelbyville",
            "--postal-code",
            "54321",
            "--country",
            "US",
            "--card",
            "4242424242424242",
        ],
    );
    for who in ["holder", "holder2"] {
        let id = st.get(&format!("{who}.id"));
        for _ in 0..3 {
            let d = st.json(
                "buyer",
                &["demand", "create", "noise cancelling headphones"],
            );
            let int = d["contacted"]
                .as_array()
                .expect("contacted")
                .iter()
                .find(|c| c["holder_id"] == id.as_str())
                .map(|c| s(&c["interaction_id"]).to_string())
                .unwrap_or_else(|| panic!("{who} not contacted: {d}"));
            let offer = st.json(who, &["offer", &int, "--pass", &pass]);
            let offer = s(&offer["id"]).to_string();
            st.json("buyer", &["accept", &offer]);
            let o = st.json("buyer", &["order", "create", "--offer", &offer, "--pay"]);
            let o = s(&o["id"]).to_string();
            st.json("provider", &["order", "ship", &o]);
            st.json("buyer", &["order", "delivered", &o]);
            st.json("buyer", &["rate", &offer, "--positive"]);
        }
        let rep = st.json("anyone", &["holder", "show", &id]);
        assert_eq!(
            (rep["ratings"].as_u64(), rep["positive_rate"].as_f64()),
            (Some(3), Some(1.0))
        );
    }
}

/// Money becomes available to pay out once a delivered order's return window
/// (14 days by default, 1 minute at least) has passed. Time passing is the one
/// thing the test stands in for: the first order's delivery moves 30 days into
/// the past in the server's store, and the server's sweeper (every second)
/// settles it; the test waits, bounded, for the provider's money to be
/// available.
fn settle_the_first_order(st: &mut Story) {
    let order = st.get("order.offer");
    let db = st.srv._dir.path().join("symbolon.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open the server's store");
        let n = sqlx::query(
            "UPDATE orders SET delivered_at = delivered_at - 2592000000 \
             WHERE id = $1 AND delivered_at IS NOT NULL AND settled_at IS NULL",
        )
        .bind(&order)
        .execute(&pool)
        .await
        .expect("move the delivery into the past")
        .rows_affected();
        assert_eq!(n, 1, "{order} is delivered and unsettled");
        pool.close().await;
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let b = st.json("provider", &["balance"]);
        if b["available"]["USD"] == "275.08" {
            break;
        }
        assert!(Instant::now() < deadline, "{order} never settled: {b}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ------------------------------------------------------------------ the story

struct Story {
    srv: Server,
    /// The working directory of every README line.
    dir: tempfile::TempDir,
    vals: HashMap<String, String>,
}

impl Story {
    fn set(&mut self, name: &str, value: String) {
        self.vals.insert(name.to_string(), value);
    }

    fn get(&self, name: &str) -> String {
        self.vals
            .get(name)
            .unwrap_or_else(|| panic!("no `{name}` yet: an earlier step makes it"))
            .clone()
    }

    /// Setup: runs `args` with `--json` as `who` ("provider", "holder2", …,
    /// or "anyone") and returns the answer.
    fn json(&self, who: &str, args: &[&str]) -> Value {
        let key = (who != "anyone").then(|| self.get(&format!("{who}.key")));
        self.srv.json(key.as_deref(), args)
    }

    /// Setup: an account `name` with one role; records `name.id`, `name.key`.
    fn account(&mut self, name: &str, role: &str) {
        let a = self.json(
            "anyone",
            &["account", "create", "--name", name, "--role", role],
        );
        self.set(&format!("{name}.id"), s(&a["id"]).to_string());
        self.set(&format!("{name}.key"), s(&a["api_key"]).to_string());
    }

    /// Setup: the requester orders the README's pass through the first holder
    /// and pays; then each of `steps` (`ship` by the provider, `delivered` by
    /// the requester). Records the order as `name`.
    fn paid_order(&mut self, name: &str, steps: &[&str]) {
        let (pass, holder) = (self.get("pass"), self.get("holder.id"));
        let o = self.json(
            "requester",
            &[
                "order", "create", "--pass", &pass, "--via", &holder, "--pay",
            ],
        );
        assert_eq!(o["status"], "paid", "{o}");
        let id = s(&o["id"]).to_string();
        for step in steps {
            let who = if *step == "ship" {
                "provider"
            } else {
                "requester"
            };
            self.json(who, &["order", step, &id]);
        }
        self.set(name, id);
    }

    fn write(&self, file: &str, contents: &str) {
        std::fs::write(self.dir.path().join(file), contents).expect("write a file");
    }

    /// Runs `args` as `who` the way a reader would (environment, working
    /// directory); asserts exit 0 and returns stdout.
    fn run(&self, who: Who, args: &[&str]) -> String {
        self.run_as(who, args, &format!("symbolon {}", args.join(" ")))
    }

    fn run_as(&self, who: Who, args: &[impl AsRef<std::ffi::OsStr>], shown: &str) -> String {
        let mut c = command();
        c.current_dir(self.dir.path())
            .env("SYMBOLON_HOME", self.dir.path().join("home"))
            .args(args)
            .stdin(Stdio::null());
        match who {
            Who::Offline => c.env("SYMBOLON_SERVER", "http://127.0.0.1:9"),
            _ => c.env("SYMBOLON_SERVER", &self.srv.url),
        };
        if let Some(k) = who.key() {
            c.env("SYMBOLON_KEY", self.get(k));
        }
        if let Who::Admin = who {
            c.env("SYMBOLON_DATA_DIR", self.srv._dir.path());
        }
        let out = c.output().expect("run the CLI");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "`{shown}` (as {who:?}) exited with {}:\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

/// The value of a `key: value` line of a command's table output.
fn field(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key && !l.starts_with(' ')).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no `{key}:` line in:\n{out}"))
}

// ------------------------------------------------------------------ the test

#[test]
fn every_command_of_the_readme_cli_section_runs() {
    let readme = readme_commands();
    assert!(!readme.is_empty(), "no `symbolon` lines under `{HEADING}`");
    let table = steps();

    // The README and the table name the same lines.
    let mut seen = BTreeSet::new();
    let twice: Vec<&String> = readme.iter().filter(|l| !seen.insert(l.as_str())).collect();
    assert!(twice.is_empty(), "README lines written twice: {twice:#?}");
    let known: BTreeSet<&str> = table.iter().map(|s| s.line).collect();
    assert_eq!(known.len(), table.len(), "a line is in the table twice");
    let missing: Vec<&str> = readme
        .iter()
        .map(String::as_str)
        .filter(|l| !known.contains(l))
        .collect();
    let stale: Vec<&str> = known
        .iter()
        .copied()
        .filter(|l| !seen.contains(l))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the README's CLI section and this test's table differ.\n\
         README lines the table does not know (add an entry to `steps()` in {}):\n{}\n\
         table lines no longer in the README (remove or update them):\n{}",
        file!(),
        missing
            .iter()
            .map(|l| format!("  {l}\n"))
            .collect::<String>(),
        stale.iter().map(|l| format!("  {l}\n")).collect::<String>(),
    );

    let mut st = Story {
        srv: Server::start(),
        dir: tempfile::tempdir().expect("temp dir"),
        vals: HashMap::new(),
    };
    let by_line: HashMap<&str, &Step> = table.iter().map(|s| (s.line, s)).collect();
    let mut skipped = Vec::new();
    for line in &readme {
        let step = by_line[line.as_str()];
        let How::Run {
            who,
            subs,
            before,
            after,
        } = &step.how
        else {
            if let How::Skip(why) = &step.how {
                skipped.push((line.as_str(), *why));
            }
            continue;
        };
        if let Some(f) = before {
            f(&mut st);
        }
        let mut argv = words(line);
        assert_eq!(argv.remove(0), "symbolon");
        for (word, name) in subs {
            let value = st.get(name);
            let n = argv.iter().filter(|w| w == word).count();
            assert!(n > 0, "`{word}` is not a word of `{line}`: fix its entry");
            for w in argv.iter_mut().filter(|w| *w == word) {
                *w = value.clone();
            }
        }
        let left: Vec<&String> = argv
            .iter()
            .filter(|w| w.contains("_…") || w.contains("exchange.example"))
            .collect();
        assert!(
            left.is_empty(),
            "`{line}`: placeholders without a substitution: {left:?}"
        );
        let out = st.run_as(*who, &argv, line);
        if let Some(f) = after {
            f(&mut st, &out);
        }
    }
    assert!(
        skipped.iter().all(|(l, _)| l.contains(" bench load")),
        "only `bench load` lines may be skipped: {skipped:#?}"
    );
}

#[test]
fn readme_lines_are_parsed_as_a_shell_would() {
    let block = "symbolon a --x \"q # not a comment\" # a comment\n\
                 \n\
                 symbolon b --long \\\n      --more 'it''s' # tail\n\
                 echo not ours\n\
                 symbolon c x#y\n";
    assert_eq!(
        logical_lines(block),
        [
            "symbolon a --x \"q # not a comment\"",
            "symbolon b --long --more 'it''s'",
            "echo not ours",
            "symbolon c x#y",
        ]
    );
    assert_eq!(
        words("symbolon a --x \"q # y\" 'z w' v\\ u"),
        ["symbolon", "a", "--x", "q # y", "z w", "v u"]
    );
}
