//! The wire form of events: ids and cursors (`evt_<seq>`), and an event's
//! stored facts put in the API's shapes — what `GET /v1/events`, SSE and
//! webhook bodies carry.

use crate::error::{ExchangeError, ExchangeResult};
use symbolon_api as api;
use symbolon_core::Timestamp;
use symbolon_store::EventRecord;

/// The prefix of event ids.
pub const EVENT_ID_PREFIX: &str = "evt_";

/// `evt_<seq>`.
pub fn event_id(seq: i64) -> String {
    format!("{EVENT_ID_PREFIX}{seq}")
}

/// The `seq` a cursor names: `evt_<n>` or `<n>`; empty means the beginning.
pub fn parse_cursor(field: &str, cursor: &str) -> ExchangeResult<i64> {
    let digits = cursor.trim();
    let digits = digits.strip_prefix(EVENT_ID_PREFIX).unwrap_or(digits);
    if digits.is_empty() {
        return Ok(0);
    }
    match digits.parse::<i64>() {
        Ok(n) if n >= 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ExchangeError::field(
            field,
            format!("`{cursor}` is not an event id (`evt_<n>`)"),
        )),
    }
}

/// The wire form of an event (also the webhook body and the SSE `data:`).
pub fn event_out(e: &EventRecord) -> api::Event {
    let mut data: serde_json::Value =
        serde_json::from_str(&e.data).unwrap_or_else(|_| serde_json::json!({}));
    wire_shape(&mut data);
    api::Event {
        id: event_id(e.seq),
        kind: e.kind.clone(),
        timestamp: e.created_at.to_rfc3339(),
        data,
    }
}

/// Puts an event's stored facts in the API's shapes (the stored rows keep
/// what earlier releases wrote, so every event, old or new, reads the same):
/// each `<name>_minor` amount beside a `currency` gains `<name>` as money,
/// `{amount, currency}` (null when the amount is); the `_minor` field stays,
/// deprecated, for one release. Times kept in milliseconds (`deadline`,
/// `pay_by`) become RFC 3339.
fn wire_shape(data: &mut serde_json::Value) {
    let Some(map) = data.as_object_mut() else {
        return;
    };
    for key in ["deadline", "pay_by"] {
        if let Some(ms) = map.get(key).and_then(|d| d.as_i64()) {
            map.insert(key.into(), Timestamp::from_millis(ms).to_rfc3339().into());
        }
    }
    let currency = map
        .get("currency")
        .and_then(|c| c.as_str())
        .map(str::to_owned);
    let amounts: Vec<(String, Option<i64>)> = map
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_suffix("_minor")?;
            (v.is_null() || v.is_i64()).then(|| (name.to_owned(), v.as_i64()))
        })
        .collect();
    for (name, minor) in amounts {
        if map.contains_key(&name) {
            continue;
        }
        let money = match (minor, &currency) {
            (Some(minor), Some(currency)) => {
                serde_json::to_value(crate::convert::money(minor, currency))
                    .expect("money serializes")
            }
            _ => serde_json::Value::Null,
        };
        map.insert(name, money);
    }
}

/// The exact bytes sent as a webhook body.
pub fn event_body(e: &EventRecord) -> Vec<u8> {
    serde_json::to_vec(&event_out(e)).expect("an event serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_facts_go_out_in_the_apis_shapes() {
        let mut data = serde_json::json!({
            "order_id": "ord_1", "total_minor": 34999, "commission_minor": 2800,
            "currency": "USD", "pay_by": 0, "deadline": 1000,
        });
        wire_shape(&mut data);
        assert_eq!(
            data["total"],
            serde_json::json!({"amount": "349.99", "currency": "USD"})
        );
        assert_eq!(
            data["commission"],
            serde_json::json!({"amount": "28.00", "currency": "USD"})
        );
        assert_eq!(
            data["total_minor"], 34999,
            "kept, deprecated, for one release"
        );
        assert_eq!(data["pay_by"], "1970-01-01T00:00:00.000Z");
        assert_eq!(data["deadline"], "1970-01-01T00:00:01.000Z");
        let mut no_cap = serde_json::json!({"max_price_minor": null, "currency": null});
        wire_shape(&mut no_cap);
        assert_eq!(no_cap["max_price"], serde_json::Value::Null);
        let mut yen = serde_json::json!({"refund_minor": 500, "currency": "JPY"});
        wire_shape(&mut yen);
        assert_eq!(
            yen["refund"],
            serde_json::json!({"amount": "500", "currency": "JPY"})
        );
    }

    #[test]
    fn cursors() {
        assert_eq!(parse_cursor("after", "").unwrap(), 0);
        assert_eq!(parse_cursor("after", "evt_42").unwrap(), 42);
        assert_eq!(parse_cursor("after", "42").unwrap(), 42);
        for bad in ["evt_-1", "evt_x", "-3", "evt_+4", "12345678901234567890"] {
            assert!(parse_cursor("after", bad).is_err(), "{bad}");
        }
    }
}
