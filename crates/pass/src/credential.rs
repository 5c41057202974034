use serde_json::{json, Value};
use symbolon_core::{Money, Timestamp};

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
            "type": "Product",
            "productId": subject.product_id,
            "name": subject.name,
            "description": subject.description,
            "category": subject.category,
            "specs": specs,
            "price": {"amount": subject.price.amount_string(), "currency": subject.price.currency.as_str()},
            "link": subject.link,
            "orderEndpoint": subject.order_endpoint,
        },
        "termsOfUse": [terms_json],
    });
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
        let jws = sign_compact(&vc, &key, PASS_TYP, Some("vc"));
        assert!(verify_pass(&jws, &jwks, Timestamp::from_millis(1_500_000)).is_ok());
        assert_eq!(
            verify_pass(&jws, &jwks, Timestamp::from_millis(999_999)),
            Err(PassError::NotYetValid)
        );
        assert_eq!(verify_pass(&jws, &jwks, until), Err(PassError::Expired));
    }
}
