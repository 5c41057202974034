//! The table: one entry per line of the README's CLI section, in the
//! README's order — whose key runs it, which placeholders stand for which ids,
//! the setup before it and the checks on its output.

use super::field;
use super::setup::{build_reputations, settle_the_first_order};
use super::Story;
use crate::s;
use serde_json::Value;

/// This file, named when a README line has no entry.
pub(super) const FILE: &str = file!();

/// Whose credentials a line runs with.
#[derive(Clone, Copy, Debug)]
pub(super) enum Who {
    /// No key: public reads and registration.
    Anyone,
    /// No server either (`SYMBOLON_SERVER` points at a closed port).
    Offline,
    Provider,
    /// The first holder.
    Holder,
    Requester,
    /// The second requester, with a saved address and card (made by
    /// [`build_reputations`]).
    Buyer,
    Operator,
    /// The server's administrator: no key, the server's store
    /// (`SYMBOLON_DATA_DIR`, as `serve` reads it).
    Admin,
}

impl Who {
    pub(super) fn key(self) -> Option<&'static str> {
        match self {
            Who::Anyone | Who::Offline | Who::Admin => None,
            Who::Provider => Some("provider.key"),
            Who::Holder => Some("holder.key"),
            Who::Requester => Some("requester.key"),
            Who::Buyer => Some("buyer.key"),
            Who::Operator => Some("operator.key"),
        }
    }
}

type Hook = fn(&mut Story);
type Check = fn(&mut Story, &str);

/// How one README line is run.
pub(super) struct Step {
    pub(super) line: &'static str,
    pub(super) how: How,
}

pub(super) enum How {
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
pub(super) fn steps() -> Vec<Step> {
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
        Step::run("symbolon product list", Provider).after(|st, out| {
            let row = row(out, &st.get("product"));
            for needle in ["降噪耳机 WH-1000XM5", "299.00 USD", " 20 ", "on sale"] {
                assert!(row.contains(needle), "{needle} missing:\n{out}");
            }
        }),
        Step::run("symbolon product update prd_… --stock 35", Provider)
            .sub("prd_…", "product")
            .after(|st, out| {
                assert_eq!(field(out, "stock"), "35", "{out}");
                // The flags given change, nothing else.
                assert_eq!(field(out, "price"), "299.00 USD", "{out}");
                assert_eq!(field(out, "spec colour"), "black", "{out}");
                let product = st.get("product");
                let shown = st.json("provider", &["product", "show", &product]);
                assert_eq!(shown["stock"], 35, "{shown}");
            }),
        Step::run("symbolon product archive prd_…", Provider)
            .sub("prd_…", "archived")
            .before(|st| {
                // A product of its own, with a pass: the README's product is
                // sold by the lines below.
                let p = st.json(
                    "provider",
                    &[
                        "product", "create", "--title", "Last year's headphones", "--category",
                        "electronics/audio/headphones", "--price", "199.00", "--currency", "USD",
                        "--stock", "5",
                    ],
                );
                let id = s(&p["id"]).to_string();
                let pass = st.json(
                    "provider",
                    &[
                        "pass", "create", "--product", &id, "--mode", "shareable",
                        "--commission-bps", "800",
                    ],
                );
                st.set("archived", id);
                st.set("archived.pass", s(&pass["id"]).to_string());
            })
            .after(|st, out| {
                let id = st.get("archived");
                assert_eq!(field(out, "id"), id, "{out}");
                assert!(field(out, "archived").ends_with("(no longer sold)"), "{out}");
                let list = st.run(Who::Provider, &["product", "list"]);
                assert!(row(&list, &id).contains("archived"), "{list}");
                assert!(row(&list, &st.get("product")).contains("on sale"), "{list}");
                // No new passes; the one it has is not revoked.
                let err = st.fails(
                    Who::Provider,
                    &[
                        "pass", "create", "--product", &id, "--mode", "shareable",
                        "--commission-bps", "800",
                    ],
                );
                assert!(err.contains("product_archived"), "{err}");
                let pass = st.get("archived.pass");
                let shown = st.json("anyone", &["pass", "show", &pass]);
                assert_eq!(shown["status"], "active", "{shown}");
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
        Step::run("symbolon inbox --pending", Holder).after(|st, out| {
            let row = row(out, &st.get("holder.interaction"));
            assert!(row.contains("pending") && row.contains("降噪耳机"), "{out}");
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
            r#"symbolon decline int_… --reason "out of stock until May""#,
            Holder,
        )
        .sub("int_…", "declined.interaction")
        .before(|st| st.demand_for_the_pass("requester", "declined"))
        .after(|st, out| {
            assert_eq!(field(out, "status"), "declined", "{out}");
            let int = st.get("declined.interaction");
            assert_eq!(field(out, "interaction"), int, "{out}");
            let demand = st.get("declined");
            let shown = st.run(Who::Requester, &["demand", "show", &demand]);
            assert!(
                row(&shown, &int).contains("declined: out of stock until May"),
                "{shown}"
            );
            // Answered, both of the holder's requests leave `inbox --pending`
            // and stay in `inbox`.
            let pending = st.run(Who::Holder, &["inbox", "--pending"]);
            let all = st.run(Who::Holder, &["inbox"]);
            for int in [int, st.get("holder.interaction")] {
                assert!(!pending.contains(&int), "{int} still pending:\n{pending}");
                assert!(all.contains(&int), "{int} gone:\n{all}");
            }
        }),
        Step::run(
            r#"symbolon demand create "noise cancelling headphones" --category electronics/audio --max-price 350 --currency USD --min-positive-rate 0.9 --min-ratings 3"#,
            Requester,
        )
        .before(build_reputations)
        .after(|st, out| {
            st.set("demand.rated", field(out, "demand"));
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
        .after(|st, out| {
            // Two holders hold the pass already, so it opens at once; with
            // fewer it would wait (`waiting`) instead of being refused.
            let status = field(out, "status");
            assert!(status == "open" || status == "waiting", "{out}");
            assert!(field(out, "demand").starts_with("dem_"), "{out}");
            st.set("demand.standing", field(out, "demand"));
        }),
        Step::run("symbolon demand show dem_…", Requester)
            .sub("dem_…", "demand")
            .after(|st, out| {
                for id in [st.get("offer"), st.get("offer2")] {
                    assert!(out.contains(&id), "offer {id} missing:\n{out}");
                }
                assert!(out.contains("Rank") && out.contains("relevance"), "{out}");
            }),
        Step::run("symbolon demand list", Requester).after(|st, out| {
            // Newest first, each with its state and offers.
            let names = ["demand.standing", "demand.rated", "declined", "demand"];
            let at: Vec<usize> = names
                .iter()
                .map(|n| {
                    let id = st.get(n);
                    out.find(&id)
                        .unwrap_or_else(|| panic!("{n} {id} not listed:\n{out}"))
                })
                .collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "not newest first:\n{out}");
            let row = row(out, &st.get("demand"));
            assert!(row.contains("open") && row.contains("2 of 2"), "{out}");
        }),
        Step::run("symbolon demand cancel dem_…", Requester)
            .sub("dem_…", "cancelled")
            // The first holder offers; the second's request is still pending.
            .before(|st| st.offer_on_a_new_demand("requester", "cancelled"))
            .after(|st, out| {
                assert_eq!(field(out, "status"), "cancelled", "{out}");
                let (pending, offer) = (
                    st.get("cancelled.interaction2"),
                    st.get("cancelled.offer"),
                );
                assert!(row(out, &pending).contains("withdrawn"), "{out}");
                assert!(out.contains(&offer), "offers made stay visible:\n{out}");
                let inbox = st.json("holder2", &["inbox"]);
                let item = inbox["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .find(|i| i["id"] == pending.as_str())
                    .unwrap_or_else(|| panic!("{pending} not in the inbox: {inbox}"));
                assert_eq!(item["status"], "withdrawn", "{item}");
                let err = st.fails(Who::Requester, &["accept", &offer]);
                assert!(err.contains("demand_cancelled"), "{err}");
            }),
        Step::run("symbolon accept ofr_…", Requester)
            .sub("ofr_…", "offer")
            .after(|_, out| assert!(out.contains("accepted"), "{out}")),
        Step::run("symbolon accept ofr_… --order --pay", Buyer)
            .sub("ofr_…", "bought.offer")
            .before(|st| st.offer_on_a_new_demand("buyer", "bought"))
            .after(|st, out| {
                let offer = st.get("bought.offer");
                assert_eq!(field(out, "offer"), offer, "{out}");
                assert_eq!(field(out, "status"), "accepted", "{out}");
                let order = out
                    .split("\n\n")
                    .find(|b| b.starts_with("order:"))
                    .unwrap_or_else(|| panic!("no order after the offer:\n{out}"));
                assert_eq!(field(order, "status"), "paid", "{out}");
                assert_eq!(field(order, "offer"), offer, "{out}");
                assert_eq!(field(order, "total"), "299.00 USD", "{out}");
                assert_eq!(field(order, "commission"), "23.92 USD", "{out}");
                let id = field(order, "order");
                let shown = st.json("buyer", &["order", "show", &id]);
                assert_eq!(shown["status"], "paid", "{shown}");
            }),
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
        Step::run(
            r#"symbolon order ship ord_… --tracking "UPS 1Z999AA10123456784""#,
            Provider,
        )
        .sub("ord_…", "order.offer")
        .after(|st, out| {
            const TRACKING: &str = "UPS 1Z999AA10123456784";
            assert_eq!(field(out, "status"), "shipped", "{out}");
            assert_eq!(field(out, "tracking"), TRACKING, "{out}");
            let order = st.get("order.offer");
            let shown = st.run(Who::Requester, &["order", "show", &order]);
            assert_eq!(field(&shown, "tracking"), TRACKING, "{shown}");
            // The holder sees the order, not its tracking.
            let held = st.json("holder", &["order", "show", &order]);
            assert_eq!(held["status"], "shipped", "{held}");
            assert_eq!(held["tracking"], Value::Null, "{held}");
        }),
        Step::run("symbolon order delivered ord_…", Requester)
            .sub("ord_…", "order.offer")
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

/// The line of a table that names `id`.
fn row<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("no row for {id} in:\n{out}"))
}
