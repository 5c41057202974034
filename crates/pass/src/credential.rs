use crate::StatusEntry;
use serde_json::{json, Value};
use symbolon_core::{Money, Timestamp};

/// Something a holder of the pass can do, with its endpoint, so a client
/// needs nothing but the pass to act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassAction {
    /// `order`, `order_and_pay`, `open_sealed` or `view`.
    pub kind: &'static str,
    /// HTTP method.
    pub method: &'static str,
    pub target: String,
    /// A JSON body to send, if any.
    pub body: Option<Value>,
}

impl PassAction {
    fn to_json(&self) -> Value {
        let mut v = json!({"type": self.kind, "method": self.method, "target": self.target});
        if let Some(b) = &self.body {
            v["body"] = b.clone();
        }
        v
    }
}

/// The actions every pass carries: `order` and `order_and_pay` (POST to
/// `<pass>/orders`), `view` (its page) and, for unique passes, `unit_history`.
/// The exchange issues passes with exactly these, and accepts provider-signed
/// uploads only with exactly these.
pub fn standard_actions(pass_url: &str, page_url: &str, unique: bool) -> Vec<PassAction> {
    let orders = format!("{pass_url}/orders");
    let mut actions = vec![
        PassAction {
            kind: "order",
            method: "POST",
            target: orders.clone(),
            body: Some(json!({"quantity": 1, "pay": false})),
        },
        PassAction {
            kind: "order_and_pay",
            method: "POST",
            target: orders,
            body: Some(json!({"quantity": 1, "pay": true})),
        },
        PassAction {
            kind: "view",
            method: "GET",
            target: page_url.to_string(),
            body: None,
        },
    ];
    if unique {
        actions.push(PassAction {
            kind: "unit_history",
            method: "GET",
            target: format!("{pass_url}/units/{{unit}}/history"),
            body: None,
        });
    }
    actions
}

/// The JSON of a list of actions (as it appears in `credentialSubject.actions`).
pub fn actions_json(actions: &[PassAction]) -> Value {
    Value::Array(actions.iter().map(PassAction::to_json).collect())
}

/// Whether `gtin` is a GTIN-8/12/13/14 with a correct check digit.
pub fn valid_gtin(gtin: &str) -> bool {
    let len = gtin.len();
    if !matches!(len, 8 | 12 | 13 | 14) || !gtin.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = gtin.bytes().map(|b| u32::from(b - b'0')).collect();
    let (body, check) = digits.split_at(len - 1);
    // Weights 3,1,3,… from the right of the body.
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

/// A GS1 Digital Link URI for a GTIN (padded to GTIN-14), optionally for one serial.
pub fn gs1_digital_link(gtin: &str, serial: Option<&str>) -> String {
    let mut s = format!("https://id.gs1.org/01/{gtin:0>14}");
    if let Some(serial) = serial {
        s.push_str("/21/");
        s.push_str(serial);
    }
    s
}

/// The product a pass describes.
#[derive(Debug, Clone)]
pub struct PassSubject<'a> {
    pub product_id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub category: &'a str,
    pub specs: &'a [(String, String)],
    pub price: Money,
    /// The pass's web page.
    pub link: &'a str,
    /// Where a holder of the pass places an order.
    pub order_endpoint: &'a str,
    /// The product's GTIN, if known (checked with [`valid_gtin`]).
    pub gtin: Option<&'a str>,
    pub actions: &'a [PassAction],
    pub status: Option<&'a StatusEntry>,
}

/// The distribution terms of a pass.
#[derive(Debug, Clone)]
pub struct PassTerms {
    pub mode: &'static str,
    pub units: Option<i64>,
    pub commission_bps: i64,
}

/// The claims of a pass: a VC 2.0 credential whose claim set *is* the
/// credential (VC-JOSE-COSE forbids a `vc` wrapper claim).
#[allow(clippy::too_many_arguments)]
pub fn credential(
    pass_url: &str,
    issuer_id: &str,
    issuer_name: &str,
    subject: &PassSubject<'_>,
    terms: &PassTerms,
    valid_from: Timestamp,
    valid_until: Option<Timestamp>,
) -> Value {
    let specs: Vec<Value> = subject
        .specs
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let mut terms_json = json!({
        "type": "DistributionTerms",
        "mode": terms.mode,
        "commission": {"basisPoints": terms.commission_bps},
    });
    if let Some(units) = terms.units {
        terms_json["units"] = units.into();
    }
    let mut vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": pass_url,
        "type": ["VerifiableCredential", "ProductPass"],
        "issuer": {"id": issuer_id, "name": issuer_name},
        "iss": issuer_id,
        "jti": pass_url,
        "iat": valid_from.seconds(),
        "validFrom": valid_from.to_rfc3339(),
        "credentialSubject": {
            "id": subject.gtin.map(|g| gs1_digital_link(g, None)).unwrap_or_else(|| format!("{pass_url}#product")),
            "type": "Product",
            "productId": subject.product_id,
            "name": subject.name,
            "description": subject.description,
            "category": subject.category,
            "specs": specs,
            "price": {"amount": subject.price.amount_string(), "currency": subject.price.currency.as_str()},
            "link": subject.link,
            "orderEndpoint": subject.order_endpoint,
            "actions": subject.actions.iter().map(PassAction::to_json).collect::<Vec<_>>(),
        },
        "termsOfUse": [terms_json],
    });
    if let Some(gtin) = subject.gtin {
        vc["credentialSubject"]["gtin"] = gtin.into();
    }
    if let Some(status) = subject.status {
        vc["credentialStatus"] = status.to_json();
    }
    if let Some(until) = valid_until {
        vc["validUntil"] = until.to_rfc3339().into();
    }
    vc
}

/// The claims of a licence: the provider's statement that `requester` may
/// order under shareable pass `pass_url`, brought by `holder`.
pub fn licence_claims(
    licence_id: &str,
    pass_url: &str,
    issuer_id: &str,
    holder_id: &str,
    requester_id: &str,
    offer_id: &str,
    issued_at: Timestamp,
) -> Value {
    json!({
        "jti": licence_id,
        "iss": issuer_id,
        "iat": issued_at.seconds(),
        "type": "PassLicence",
        "pass": pass_url,
        "holder": holder_id,
        "sub": requester_id,
        "offer": offer_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{sign_compact, verify_pass, Jwks, PassError, ProviderKey, PASS_TYP};

    #[test]
    fn pass_verifies_inside_its_window_only() {
        let key = ProviderKey::from_secret_bytes([5; 32]);
        let jwks = Jwks {
            keys: vec![key.jwk()],
        };
        let specs = vec![("RAM".to_string(), "16 GB".to_string())];
        let subject = PassSubject {
            product_id: "prd_1",
            name: "Laptop",
            description: "A laptop",
            category: "electronics/computers",
            specs: &specs,
            price: Money::parse("999.00", "USD").unwrap(),
            link: "http://x/v1/passes/pas_1",
            order_endpoint: "http://x/v1/orders",
            gtin: Some("09521234543213"),
            actions: &[PassAction {
                kind: "view",
                method: "GET",
                target: "http://x/p/pas_1".into(),
                body: None,
            }],
            status: None,
        };
        let terms = PassTerms {
            mode: "unique",
            units: Some(3),
            commission_bps: 500,
        };
        let from = Timestamp::from_millis(1_000_000);
        let until = Timestamp::from_millis(2_000_000);
        let vc = credential(
            "http://x/v1/passes/pas_1",
            "http://x/v1/providers/acc_1",
            "Maker",
            &subject,
            &terms,
            from,
            Some(until),
        );
        assert_eq!(vc["iss"], vc["issuer"]["id"]);
        assert_eq!(vc["credentialSubject"]["price"]["amount"], "999.00");
        assert_eq!(vc["termsOfUse"][0]["units"], 3);
        assert_eq!(
            vc["credentialSubject"]["id"],
            "https://id.gs1.org/01/09521234543213"
        );
        assert_eq!(vc["credentialSubject"]["actions"][0]["type"], "view");
        let jws = sign_compact(&vc, &key, PASS_TYP, Some("vc"));
        assert!(verify_pass(&jws, &jwks, Timestamp::from_millis(1_500_000)).is_ok());
        assert_eq!(
            verify_pass(&jws, &jwks, Timestamp::from_millis(999_999)),
            Err(PassError::NotYetValid)
        );
        assert_eq!(verify_pass(&jws, &jwks, until), Err(PassError::Expired));
    }

    #[test]
    fn gtin_check_digits() {
        assert!(valid_gtin("09521234543213"));
        assert!(valid_gtin("4006381333931"));
        assert!(valid_gtin("96385074"));
        assert!(!valid_gtin("4006381333932"));
        assert!(!valid_gtin("40063813339a1"));
        assert!(!valid_gtin("123"));
        assert_eq!(
            gs1_digital_link("4006381333931", Some("7")),
            "https://id.gs1.org/01/04006381333931/21/7"
        );
    }
}
