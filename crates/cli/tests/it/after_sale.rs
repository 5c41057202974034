//! After the sale, through the real binary: a cancellation refunded in full
//! with its stock restored, a partial refund reversing the holder's
//! commission in proportion, delivery, a refused return, a dispute with
//! messages resolved by an operator made with `symbolon admin
//! create-operator` on the running server's store, and the balances table.

use super::{account, command, s, Server, REQUESTER_PROFILE};
use std::process::Stdio;

#[test]
fn cancel_refund_return_dispute_and_balances_through_the_cli() {
    let srv = Server::start();

    // A provider, a 100.00 USD product with a 10% shareable pass, two holders.
    let (_, pk) = account(&srv, "Acme Audio", &["provider"]);
    let product = srv.json(
        Some(&pk),
        &[
            "product",
            "create",
            "--title",
            "Studio headphones",
            "--category",
            "electronics/audio/headphones",
            "--price",
            "100.00",
            "--currency",
            "USD",
            "--stock",
            "10",
        ],
    );
    let product_id = s(&product["id"]).to_string();
    let pass = srv.json(
        Some(&pk),
        &[
            "pass",
            "create",
            "--product",
            &product_id,
            "--mode",
            "shareable",
            "--commission-bps",
            "1000",
        ],
    );
    let pass_id = s(&pass["id"]).to_string();
    let mut holders = Vec::new();
    for name in ["Hana", "Hugo"] {
        let (id, key) = account(&srv, name, &["holder"]);
        srv.json(
            Some(&key),
            &["holder", "profile", "--field", "electronics/audio"],
        );
        srv.json(Some(&pk), &["pass", "grant", &pass_id, "--holder", &id]);
        holders.push((id, key));
    }
    let (_, rk) = account(&srv, "Rita", &["requester"]);
    srv.json(Some(&rk), REQUESTER_PROFILE);

    // One order per accepted offer: each order comes from a demand of its
    // own, the first holder's offer accepted and paid in one click.
    let holder_key = &holders[0].1;
    let pay = || {
        let demand = srv.json(Some(&rk), &["demand", "create", "studio headphones"]);
        let demand_id = s(&demand["id"]).to_string();
        let mut offers = Vec::new();
        for (_, key) in &holders {
            let inbox = srv.json(Some(key), &["inbox"]);
            let item = inbox["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|i| i["demand_id"] == demand_id.as_str())
                .unwrap_or_else(|| panic!("no interaction: {inbox}"))
                .clone();
            let offer = srv.json(Some(key), &["offer", s(&item["id"]), "--pass", &pass_id]);
            offers.push(s(&offer["id"]).to_string());
        }
        srv.json(Some(&rk), &["accept", &offers[0]]);
        let o = srv.json(
            Some(&rk),
            &["order", "create", "--offer", &offers[0], "--pay"],
        );
        assert_eq!(o["status"], "paid", "{o}");
        s(&o["id"]).to_string()
    };
    let stock = || srv.json(Some(&pk), &["product", "show", &product_id])["stock"].clone();

    // Cancelled before shipping: refunded in full, stock restored.
    let a = pay();
    assert_eq!(stock(), 9);
    let cancelled = srv.json(
        Some(&rk),
        &["order", "cancel", &a, "--reason", "ordered twice"],
    );
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refunded_total"]["amount"], "100.00");
    assert_eq!(cancelled["cancel_reason"], "ordered twice");
    assert_eq!(stock(), 10);
    let shown = srv.text(Some(&rk), &["order", "show", &a]);
    assert!(
        shown.contains("refunded:")
            && shown.contains("100.00 USD")
            && shown.contains("cancel reason:")
            && shown.contains("ordered twice"),
        "{shown}"
    );

    // 40% refunded: 4.00 of the 10.00 commission reversed.
    let pending_before = srv.json(Some(holder_key), &["balance"])["pending"]["USD"].clone();
    let b = pay();
    let refund = srv.json(
        Some(&pk),
        &[
            "order",
            "refund",
            &b,
            "--amount",
            "40.00",
            "--reason",
            "scuffed case",
        ],
    );
    assert_eq!(refund["amount"]["amount"], "40.00", "{refund}");
    assert_eq!(refund["commission_reversed"]["amount"], "4.00");
    assert_eq!(refund["order"]["refunded_total"]["amount"], "40.00");
    assert_eq!(refund["order"]["status"], "paid");
    let balance = srv.json(Some(holder_key), &["balance"]);
    assert_ne!(balance["pending"]["USD"], pending_before, "{balance}");
    let table = srv.text(Some(holder_key), &["balance"]);
    assert!(
        table.contains("Pending") && table.contains("Available") && table.contains("Paid out"),
        "{table}"
    );
    assert!(!table.contains("you owe"), "{table}");
    let listed = srv.text(Some(&pk), &["order", "list", "--role", "provider"]);
    assert!(
        listed.contains("Refunded") && listed.contains("40.00 USD"),
        "{listed}"
    );

    // Shipped, delivered, a return refused, then a dispute.
    let c = pay();
    srv.json(Some(&pk), &["order", "ship", &c]);
    let delivered = srv.json(Some(&rk), &["order", "delivered", &c]);
    assert_eq!(delivered["status"], "delivered");
    assert!(delivered["return_by"].is_string(), "{delivered}");
    let asked = srv.json(Some(&rk), &["order", "return", &c, "--reason", "too tight"]);
    assert_eq!(asked["return_status"], "requested");
    let refused = srv.json(Some(&pk), &["order", "return-refuse", &c]);
    assert_eq!(refused["return_status"], "refused");
    let dispute = srv.json(
        Some(&rk),
        &[
            "order",
            "dispute",
            &c,
            "--kind",
            "not_as_described",
            "--reason",
            "the left cup crackles",
        ],
    );
    assert_eq!(dispute["status"], "open");
    assert_eq!(dispute["kind"], "not_as_described");
    let dispute_id = s(&dispute["id"]).to_string();
    srv.json(
        Some(&pk),
        &[
            "dispute",
            "message",
            &dispute_id,
            "--body",
            "worked when shipped",
        ],
    );

    // An operator, made on the running server's store.
    let out = command()
        .args([
            "--json",
            "admin",
            "create-operator",
            "--name",
            "Ops",
            "--data-dir",
        ])
        .arg(srv._dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run admin create-operator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let operator: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(operator["roles"], serde_json::json!(["operator"]));
    let ok = s(&operator["api_key"]).to_string();
    let open = srv.json(Some(&ok), &["dispute", "list", "--status", "open"]);
    assert!(
        open["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|d| d["id"] == dispute_id.as_str()),
        "{open}"
    );
    // Only operators list disputes.
    assert!(!srv
        .run(Some(&rk), true, &["dispute", "list"])
        .status
        .success());
    let resolved = srv.json(
        Some(&ok),
        &[
            "dispute",
            "resolve",
            &dispute_id,
            "--refund",
            "25.00",
            "--reason",
            "partly as described",
        ],
    );
    assert_eq!(resolved["status"], "resolved", "{resolved}");
    assert_eq!(resolved["refund"]["amount"], "25.00");
    let shown = srv.text(Some(&rk), &["dispute", "show", &dispute_id]);
    assert!(
        shown.contains("Messages (1)") && shown.contains("worked when shipped"),
        "{shown}"
    );
    let order = srv.json(Some(&rk), &["order", "show", &c]);
    assert_eq!(order["refunded_total"]["amount"], "25.00", "{order}");
    assert_eq!(order["dispute_id"], dispute_id.as_str());
}
