//! The Standard Webhooks verifier (`symbolon_core::webhook`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use symbolon_core::webhook::{decode_secret, sign, verify, VerifyError};

/// Target `webhook_verify`: the input is NUL-separated text fields — secret,
/// message id, `webhook-timestamp`, `webhook-signature`, body — and the
/// verifier runs at the timestamp (tolerance 300 s) and far from it.
///
/// Whatever verifies carries the genuine MAC of the message; a message
/// signed with its secret verifies; a changed body or id never does.
pub fn webhook_verify(data: &[u8]) {
    let Some([secret, id, timestamp, signatures, body]) = crate::text_fields::<5>(data) else {
        return;
    };
    let body = body.as_bytes();
    let ts = timestamp.trim().parse::<i64>().ok();
    for now in [ts.unwrap_or(0), 0, i64::MAX, i64::MIN] {
        for tolerance in [300, 0, i64::MIN] {
            let result = verify(secret, id, timestamp, signatures, body, now, tolerance);
            if result.is_ok() {
                let ts = ts.expect("a verified timestamp parses");
                assert!(now.abs_diff(ts) <= tolerance.unsigned_abs());
                genuine(secret, id, ts, signatures, body);
            }
        }
    }
    let Ok(key) = decode_secret(secret) else {
        assert_eq!(
            verify(secret, id, timestamp, signatures, body, 0, 0),
            Err(VerifyError::BadSecret)
        );
        return;
    };
    let ts = ts.unwrap_or(1_649_367_553);
    let ours = sign(&key, id, ts, body);
    let stamp = ts.to_string();
    assert_eq!(verify(secret, id, &stamp, &ours, body, ts, 0), Ok(()));
    // Beside the input's signatures (a rotation), ours still verifies.
    let both = format!("{signatures} {ours}");
    assert_eq!(verify(secret, id, &stamp, &both, body, ts, 0), Ok(()));
    // Another body or message id: ours no longer matches.
    let mut other = body.to_vec();
    other.push(b'x');
    assert_eq!(
        verify(secret, id, &stamp, &ours, &other, ts, 0),
        Err(VerifyError::NoMatch)
    );
    let other_id = format!("{id}x");
    assert_eq!(
        verify(secret, &other_id, &stamp, &ours, body, ts, 0),
        Err(VerifyError::NoMatch)
    );
}

/// Some `v1,` signature of `signatures` is exactly the message's MAC.
fn genuine(secret: &str, id: &str, ts: i64, signatures: &str, body: &[u8]) {
    let key = decode_secret(secret).expect("a verified secret decodes");
    let expected = STANDARD
        .decode(&sign(&key, id, ts, body)[3..])
        .expect("our own signature decodes");
    let found = signatures.split(' ').any(|s| {
        s.strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|tag| tag == expected)
    });
    assert!(found, "a webhook verified without its MAC: {signatures:?}");
}
