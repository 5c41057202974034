//! A unique pass's units through the CLI: the unit on the order, the units
//! that have histories, and a grant refused with how many were asked and left.

use crate::{account, s, Server, REQUESTER_PROFILE};

#[test]
fn the_unit_of_an_order_and_the_units_with_histories() {
    let srv = Server::start();
    let (_, pk) = account(&srv, "Maker", &["provider"]);
    let product = srv.json(
        Some(&pk),
        &[
            "product",
            "create",
            "--title",
            "Signed vinyl record",
            "--category",
            "music/vinyl",
            "--price",
            "50.00",
            "--currency",
            "usd",
            "--stock",
            "10",
        ],
    );
    let pass = srv.json(
        Some(&pk),
        &[
            "pass",
            "create",
            "--product",
            s(&product["id"]),
            "--mode",
            "unique",
            "--units",
            "2",
            "--commission-bps",
            "500",
        ],
    );
    let pass_id = s(&pass["id"]).to_string();
    let (a_id, _) = account(&srv, "Anna", &["holder"]);
    let (b_id, _) = account(&srv, "Ben", &["holder"]);
    for h in [&a_id, &b_id] {
        srv.json(
            Some(&pk),
            &["pass", "grant", &pass_id, "--holder", h, "--units", "1"],
        );
    }
    // None left to grant: the refusal says 1 was asked and 0 are left.
    let refused = srv.run(
        Some(&pk),
        false,
        &["pass", "grant", &pass_id, "--holder", &a_id, "--units", "1"],
    );
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("1 asked, but only 0 unit(s)"), "{err}");

    let empty = srv.text(None, &["pass", "history", &pass_id]);
    assert!(
        empty.contains("no unit of this pass has changed hands yet"),
        "{empty}"
    );
    assert!(empty.contains("2 unit(s) left to buy"), "{empty}");

    let (_, rk) = account(&srv, "Rita", &["requester"]);
    srv.json(Some(&rk), REQUESTER_PROFILE);
    let order = srv.json(
        Some(&rk),
        &[
            "order", "create", "--pass", &pass_id, "--via", &a_id, "--pay",
        ],
    );
    assert_eq!(order["unit_no"], 1);
    let order_id = s(&order["id"]).to_string();
    let shown = srv.text(Some(&rk), &["order", "show", &order_id]);
    assert!(
        shown.contains(&format!("1  (symbolon pass history {pass_id} 1)")),
        "{shown}"
    );

    let listed = srv.text(None, &["pass", "history", &pass_id]);
    assert!(listed.contains("1 unit(s) left to buy"), "{listed}");
    assert!(listed.contains("own_"), "the owner by pseudonym: {listed}");
    assert!(
        listed.contains(&format!("next: symbolon pass history {pass_id} 1")),
        "{listed}"
    );
    let json = srv.json(None, &["pass", "history", &pass_id]);
    assert_eq!(json["items"][0]["unit_no"], 1);
    assert_eq!(json["items"][0]["transfers"], 1);
    let chain = srv.text(None, &["pass", "history", &pass_id, "1"]);
    assert!(
        chain.contains("✓ chain of 1 signed transfer(s) verifies"),
        "{chain}"
    );
}
