//! OpenAPI links: from each operation that creates an object to the
//! operations that take its id, so that a client (or a stateful tester)
//! knows where the id of an answer goes.

use serde_json::{json, Value};

/// The operations that take an object's id as the path parameter `id`.
const PASS: &[&str] = &[
    "get_pass",
    "grant",
    "revoke_pass",
    "pass_units",
    "pass_order",
    "put_seal",
    "get_seal",
    "share_to_holder",
    "my_shares",
];
const PRODUCT: &[&str] = &["get_product", "update_product", "archive_product"];
const DEMAND: &[&str] = &["get_demand", "cancel_demand"];
const OFFER: &[&str] = &["accept", "rate", "offer_requester_keys", "share_with_offer"];
const ORDER: &[&str] = &[
    "get_order",
    "pay_order",
    "ship_order",
    "cancel_order",
    "refund_order",
    "confirm_delivery",
    "request_return",
    "accept_return",
    "refuse_return",
    "open_dispute",
    "release_shares",
];
const DISPUTE: &[&str] = &["get_dispute", "dispute_message", "resolve_dispute"];
const WEBHOOK: &[&str] = &[
    "get_webhook",
    "delete_webhook",
    "rotate_webhook",
    "enable_webhook",
    "disable_webhook",
    "replay_webhook",
    "webhook_attempts",
];
const ACCOUNT: &[&str] = &[
    "get_holder",
    "party_keys",
    "jwks",
    "status_list",
    "issuer_metadata",
];

/// (operation, status, JSON pointer in its answer to the id, operations taking it as `id`).
pub const LINKS: &[(&str, &str, &str, &[&str])] = &[
    ("create_account", "201", "/id", ACCOUNT),
    ("create_product", "201", "/id", PRODUCT),
    ("create_pass", "201", "/id", PASS),
    ("upload_pass", "201", "/id", PASS),
    ("grant", "201", "/pass/id", PASS),
    ("create_demand", "201", "/id", DEMAND),
    ("offer", "201", "/id", OFFER),
    ("offer", "201", "/demand_id", DEMAND),
    ("create_order", "201", "/id", ORDER),
    ("pass_order", "201", "/id", ORDER),
    ("open_dispute", "201", "/id", DISPUTE),
    ("create_webhook", "201", "/id", WEBHOOK),
];

/// A link's name: the target operation in CamelCase, with the answer's field when it is not `id`.
fn link_name(target: &str, pointer: &str) -> String {
    let camel = |s: &str| -> String {
        s.split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect()
    };
    if pointer == "/id" {
        camel(target)
    } else {
        format!("{}By{}", camel(target), camel(&pointer.replace('/', "_")))
    }
}

/// Adds [`LINKS`] to the answers they start from (as JSON: utoipa 5
/// writes a link's `operationId` as `operation_id`).
pub fn apply(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let Some(id) = op["operationId"].as_str().map(str::to_string) else {
                continue;
            };
            for (from, status, pointer, targets) in LINKS {
                let resp = &mut op["responses"][*status];
                if *from != id || !resp.is_object() {
                    continue;
                }
                for target in *targets {
                    resp["links"][link_name(target, pointer)] = json!({
                        "operationId": target,
                        "parameters": {"id": format!("$response.body#{pointer}")},
                        "description": format!("`{pointer}` of this answer is the `id` of `{target}`"),
                    });
                }
            }
        }
    }
}
