//! What the HTTP layer feeds the exchange: JSON bodies through the server's
//! extractor (`symbolon_server::extract::parse_json`), the web forms through
//! their parsing (`symbolon_server::web::forms`), and demand validation
//! (`symbolon_exchange::validate_demand`).

use serde::de::DeserializeOwned;
use serde::Serialize;
use symbolon_api as api;
use symbolon_core::limits::{MAX_FIELDS, MAX_MAX_HOLDERS, MIN_MIN_HOLDERS};
use symbolon_core::ErrorCode;
use symbolon_exchange::{validate_demand, ValidDemand};
use symbolon_server::extract::parse_json;
use symbolon_server::web::forms;

/// Target `demand`. Mode (first byte, mod 2): 0, the rest is the JSON body
/// of `POST /v1/demands`; 1, the urlencoded body of the demand form. What
/// parses is validated: a clean error naming a field, or a demand within
/// every limit.
pub fn demand(data: &[u8]) {
    let Some((mode, rest)) = crate::mode(data) else {
        return;
    };
    let req = if mode % 2 == 0 {
        parse_json::<api::CreateDemand>(rest).ok()
    } else {
        forms::demand(rest).ok()
    };
    if let Some(req) = req {
        validated(&req);
    }
}

fn validated(req: &api::CreateDemand) {
    match validate_demand(req) {
        Ok(ValidDemand {
            item,
            criteria,
            fanout,
            ..
        }) => {
            assert!(!item.query.is_empty() && item.query.trim() == item.query);
            assert!(item.max_price.is_none_or(|m| m.minor >= 0));
            for rate in [criteria.min_positive_rate, criteria.min_success_rate]
                .into_iter()
                .flatten()
            {
                assert!((0.0..=1.0).contains(&rate), "{rate}");
            }
            assert!(criteria.fields.len() <= MAX_FIELDS);
            assert!(MIN_MIN_HOLDERS <= fanout.min_holders);
            assert!(
                fanout.min_holders <= fanout.max_holders && fanout.max_holders <= MAX_MAX_HOLDERS
            );
        }
        Err(e) => {
            assert!(
                e.code == ErrorCode::InvalidField,
                "{:?}: {}",
                e.code,
                e.message
            );
            let field = e.details.as_ref().and_then(|d| d["field"].as_str());
            assert!(field.is_some_and(|f| !f.is_empty()), "{}", e.message);
        }
    }
}

/// One JSON body type: parsed by the extractor; what parses serialises and
/// parses back to itself (`exact`: the type has no floats, whose text
/// serde_json need not read back to the same bits); what fails is a 400
/// `malformed_json` or an `invalid_field` naming its field.
fn json<T: Serialize + DeserializeOwned + PartialEq>(body: &[u8], exact: bool) {
    match parse_json::<T>(body) {
        Ok(v) => {
            let text = serde_json::to_vec(&v).expect("a request serializes");
            let again = parse_json::<T>(&text);
            assert!(
                again.is_ok(),
                "{} does not parse back",
                String::from_utf8_lossy(&text)
            );
            if exact {
                assert!(
                    again.ok() == Some(v),
                    "{} parses back to another value",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        Err(e) => {
            let e = e.0;
            match e.code {
                ErrorCode::MalformedJson => {}
                ErrorCode::InvalidField => {
                    let field = e.details.as_ref().and_then(|d| d["field"].as_str());
                    assert!(field.is_some(), "{}", e.message);
                }
                other => panic!("a body answered {other:?}: {}", e.message),
            }
        }
    }
}

/// Target `json_extractors`: the first byte picks the request type, the rest
/// is its JSON body.
pub fn json_extractors(data: &[u8]) {
    let Some((kind, body)) = crate::mode(data) else {
        return;
    };
    match kind % 24 {
        0 => json::<api::CreateAccount>(body, true),
        1 => json::<api::WebLogin>(body, true),
        2 => json::<api::CreateProduct>(body, true),
        3 => json::<api::UpdateProduct>(body, true),
        4 => json::<api::CreatePass>(body, true),
        5 => json::<api::CreateGrant>(body, true),
        6 => json::<api::HolderProfileUpdate>(body, true),
        7 => json::<api::CreateOffer>(body, true),
        8 => json::<api::DeclineInteraction>(body, true),
        9 => json::<api::CreateDemand>(body, false),
        10 => json::<api::PaymentMethodInput>(body, true),
        11 => json::<api::RequesterProfileUpdate>(body, true),
        12 => json::<api::CreateOrder>(body, true),
        13 => json::<api::ShipOrder>(body, true),
        14 => json::<api::CreateRating>(body, true),
        15 => json::<api::CreatePayout>(body, true),
        16 => json::<api::CreateRefund>(body, true),
        17 => json::<api::OpenDispute>(body, true),
        18 => json::<api::ResolveDispute>(body, true),
        19 => json::<api::CreateWebhook>(body, true),
        20 => json::<api::SetPartyKeys>(body, true),
        21 => json::<api::WrappedShares>(body, true),
        22 => json::<api::CreatePassOrder>(body, true),
        _ => json::<api::TransferUnit>(body, true),
    }
}

/// Target `form_extractors`: the first byte picks the form (demand, product,
/// pass) or the `Cookie` header, the rest is the urlencoded body (header).
pub fn form_extractors(data: &[u8]) {
    let Some((kind, body)) = crate::mode(data) else {
        return;
    };
    match kind % 4 {
        0 => {
            if let Ok(req) = forms::demand(body) {
                assert!(!req.query.trim().is_empty());
                for rate in [req.holder.min_positive_rate, req.holder.min_success_rate]
                    .into_iter()
                    .flatten()
                {
                    assert!((0.0..=1.0).contains(&rate), "{rate}");
                }
                if let Some(fields) = &req.holder.fields {
                    assert!(fields.iter().all(|f| !f.trim().is_empty() && f.trim() == f));
                }
                validated(&req);
            }
        }
        1 => {
            if let Ok(req) = forms::product(body) {
                assert!(req.specs.keys().all(|k| !k.trim().is_empty()));
                let text = serde_json::to_vec(&req).expect("serializes");
                assert!(parse_json::<api::CreateProduct>(&text).ok() == Some(req));
            }
        }
        2 => {
            if let Ok(req) = forms::pass(body) {
                let text = serde_json::to_vec(&req).expect("serializes");
                assert!(parse_json::<api::CreatePass>(&text).ok() == Some(req));
            }
        }
        _ => {
            if let Ok(header) = std::str::from_utf8(body) {
                for (k, _) in forms::cookies(header) {
                    assert!(!k.contains(';'));
                }
            }
        }
    }
}
