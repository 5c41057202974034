//! The commands people reach for (issue 18, item 12), through the real
//! binary against a real server: product list/update/archive, demand
//! list/cancel, inbox --pending, decline --reason, order ship --tracking,
//! and accept with its next step or --order --pay.

use super::{account, s, Server};
use serde_json::Value;

/// The interaction of `demand` in `holder`'s pending inbox.
fn pending_request(srv: &Server, holder: &str, demand: &str) -> Option<String> {
    let inbox = srv.json(Some(holder), &["inbox", "--pending"]);
    inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["demand_id"] == demand)
        .map(|i| s(&i["id"]).to_string())
}

#[test]
fn the_commands_people_reach_for() {
    let srv = Server::start();
    let (_, pk) = account(&srv, "Acme Audio", &["provider"]);
    let product = srv.json(
        Some(&pk),
        &[
            "product",
            "create",
            "--title",
            "Studio headphones",
            "--category",
            "electronics/audio",
            "--price",
            "80.00",
            "--currency",
            "EUR",
            "--stock",
            "10",
        ],
    );
    let product_id = s(&product["id"]).to_string();

    // product update: the flags given; a price keeps the product's currency.
    let changed = srv.json(
        Some(&pk),
        &[
            "product",
            "update",
            &product_id,
            "--title",
            "Studio headphones MK2",
            "--price",
            "85.50",
            "--spec",
            "impedance=32 ohm",
        ],
    );
    assert_eq!(changed["title"], "Studio headphones MK2");
    assert_eq!(
        changed["price"],
        serde_json::json!({"amount": "85.50", "currency": "EUR"})
    );
    assert_eq!(changed["specs"]["impedance"], "32 ohm");
    let nothing = srv.run(Some(&pk), false, &["product", "update", &product_id]);
    assert!(!nothing.status.success(), "an update needs a flag");
    let list = srv.json(Some(&pk), &["product", "list"]);
    assert_eq!(list["items"][0]["id"], product_id.as_str());

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
            "500",
        ],
    );
    let pass_id = s(&pass["id"]).to_string();
    // Signed into the pass now: the price stays, the stock moves.
    let refused = srv.run(
        Some(&pk),
        false,
        &["product", "update", &product_id, "--price", "99.00"],
    );
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("product_has_passes") && err.contains("field: price"),
        "{err}"
    );
    let restocked = srv.json(
        Some(&pk),
        &["product", "update", &product_id, "--stock", "12"],
    );
    assert_eq!(restocked["stock"], 12);

    let mut holders = Vec::new();
    for name in ["Hana", "Hugo"] {
        let (id, key) = account(&srv, name, &["holder"]);
        srv.json(
            Some(&key),
            &["holder", "profile", "--field", "electronics/audio"],
        );
        srv.json(Some(&pk), &["pass", "grant", &pass_id, "--holder", &id]);
        holders.push(key);
    }
    let (_, rk) = account(&srv, "Rita", &["requester"]);
    srv.json(
        Some(&rk),
        &[
            "requester",
            "profile",
            "--name",
            "Rita R",
            "--line1",
            "1 Main St",
            "--city",
            "Springfield",
            "--postal-code",
            "12345",
            "--country",
            "US",
            "--card",
            "4242424242424242",
        ],
    );
    let new_demand = || {
        let d = srv.json(Some(&rk), &["demand", "create", "studio headphones"]);
        s(&d["id"]).to_string()
    };
    let offer = |holder: &str, demand: &str| -> String {
        let i = pending_request(&srv, holder, demand).expect("pending");
        let o = srv.json(Some(holder), &["offer", &i, "--pass", &pass_id]);
        s(&o["id"]).to_string()
    };

    // One holder offers, the other declines with a reason the requester reads.
    let d1 = new_demand();
    let first_offer = offer(&holders[0], &d1);
    let declined = pending_request(&srv, &holders[1], &d1).expect("pending");
    let state = srv.json(
        Some(&holders[1]),
        &["decline", &declined, "--reason", "sold out until May"],
    );
    assert_eq!(state["status"], "declined");
    assert_eq!(pending_request(&srv, &holders[1], &d1), None, "answered");
    let all = srv.json(Some(&holders[1]), &["inbox"]);
    assert!(all["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|i| i["id"] == declined.as_str() && i["status"] == "declined"));
    let shown = srv.text(Some(&rk), &["demand", "show", &d1]);
    assert!(shown.contains("declined: sold out until May"), "{shown}");

    // accept says what to do next.
    let accepted = srv.text(Some(&rk), &["accept", &first_offer]);
    let next = format!("next: symbolon order create --offer {first_offer} --pay");
    assert!(accepted.contains(&next), "{accepted}");
    srv.json(
        Some(&rk),
        &["order", "create", "--offer", &first_offer, "--pay"],
    );

    // accept --order --pay: one command, one paid order.
    let d2 = new_demand();
    let second_offer = offer(&holders[1], &d2);
    let lonely_pay = srv.run(Some(&rk), false, &["accept", &second_offer, "--pay"]);
    assert!(!lonely_pay.status.success(), "--pay needs --order");
    let both = srv.json(Some(&rk), &["accept", &second_offer, "--order", "--pay"]);
    assert_eq!(both["offer"]["status"], "accepted");
    assert_eq!(both["order"]["status"], "paid");
    assert_eq!(both["order"]["offer_id"], second_offer.as_str());
    let order_id = s(&both["order"]["id"]).to_string();
    // Run again, it goes on from the accepted offer: the order exists.
    let again = srv.run(
        Some(&rk),
        false,
        &["accept", &second_offer, "--order", "--pay"],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already_ordered"));

    // order ship --tracking, shown on the order.
    let shipped = srv.json(
        Some(&pk),
        &[
            "order",
            "ship",
            &order_id,
            "--tracking",
            "UPS 1Z999AA10123456784",
        ],
    );
    assert_eq!(shipped["tracking"], "UPS 1Z999AA10123456784");
    let shown = srv.text(Some(&rk), &["order", "show", &order_id]);
    assert!(
        shown.contains("tracking:") && shown.contains("UPS 1Z999AA10123456784"),
        "{shown}"
    );

    // demand list and demand cancel.
    let d3 = new_demand();
    let list = srv.json(Some(&rk), &["demand", "list"]);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| s(&d["id"]))
        .collect();
    assert_eq!(ids, [d3.as_str(), d2.as_str(), d1.as_str()], "newest first");
    assert_eq!(list["items"][1]["status"], "accepted");
    let table = srv.text(Some(&rk), &["demand", "list"]);
    for id in [&d1, &d2, &d3] {
        assert!(table.contains(id.as_str()), "{id} cut:\n{table}");
    }
    let cancelled = srv.json(Some(&rk), &["demand", "cancel", &d3]);
    assert_eq!(cancelled["status"], "cancelled");
    for h in &holders {
        assert_eq!(pending_request(&srv, h, &d3), None, "withdrawn");
    }
    let twice = srv.run(Some(&rk), false, &["demand", "cancel", &d3]);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("demand_cancelled"));
    let other = srv.run(Some(&pk), false, &["demand", "cancel", &d1]);
    assert!(!other.status.success(), "only its requester cancels it");

    // product archive: no longer sold, the list says so.
    let archived = srv.json(Some(&pk), &["product", "archive", &product_id]);
    assert!(archived["archived_at"].is_string(), "{archived}");
    let table = srv.text(Some(&pk), &["product", "list"]);
    assert!(
        table.contains(&product_id) && table.contains("archived"),
        "{table}"
    );
    let refused = srv.run(Some(&rk), false, &["demand", "create", "studio headphones"]);
    assert!(!refused.status.success(), "nobody offers it any more");
    let listed: Value = srv.json(Some(&pk), &["product", "list"]);
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
}
