//! Accounts for people at the edges of their limits, without HTTP: API keys
//! per account and label length, a session's absolute expiry however often
//! it is used, sign-ins refused at exactly `MAX_SIGN_IN_FAILURES`, and a
//! successful sign-in that forgets its email's failures but not the address's.
//! Passkeys: the ceremony TTL, the name length and the passkeys per account.

use crate::Fixture;
use symbolon_api as api;
use symbolon_core::limits::*;
use symbolon_core::{Clock, ErrorCode};
use symbolon_exchange::people::{Client, SignUp};

fn client(ip: &str) -> Client {
    Client {
        ip: ip.into(),
        user_agent: "test".into(),
    }
}

fn person(email: &str) -> SignUp {
    SignUp {
        name: "Ann".into(),
        email: email.into(),
        password: "correct horse".into(),
        roles: vec![api::Role::Requester],
    }
}

#[tokio::test]
async fn api_keys_and_labels_stop_at_their_limits() {
    let f = Fixture::new(1).await;
    let (me, _) = f
        .exchange
        .sign_up(&person("ann@example.org"), &client("192.0.2.1"))
        .await
        .unwrap();
    let at_limit = "l".repeat(MAX_API_KEY_LABEL_CHARS);
    let over = "l".repeat(MAX_API_KEY_LABEL_CHARS + 1);
    let e = f.exchange.create_api_key(&me, &over).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidField);
    for _ in 0..MAX_API_KEYS_PER_ACCOUNT {
        f.exchange.create_api_key(&me, &at_limit).await.unwrap();
    }
    let e = f
        .exchange
        .create_api_key(&me, "one more")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::TooManyApiKeys);
    let first = f.exchange.api_keys(&me).await.unwrap()[0].id.clone();
    f.exchange.revoke_api_key(&me, &first).await.unwrap();
    let (_, key) = f.exchange.create_api_key(&me, "again").await.unwrap();
    assert_eq!(f.exchange.authenticate(&key).await.unwrap().id, me.id);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_expiry_however_often_used() {
    let f = Fixture::new(2).await;
    let (me, token) = f
        .exchange
        .sign_up(&person("ann@example.org"), &client("192.0.2.1"))
        .await
        .unwrap();
    let mut used = 0;
    while used + 86_400 < WEB_SESSION_TTL_SECONDS {
        f.clock.advance_seconds(86_400);
        used += 86_400;
        assert_eq!(f.exchange.web_session(&token).await.unwrap().id, me.id);
    }
    f.clock.advance_seconds(WEB_SESSION_TTL_SECONDS - used - 1);
    assert!(
        f.exchange.web_session(&token).await.is_some(),
        "a second before"
    );
    f.clock.advance_seconds(1);
    assert!(
        f.exchange.web_session(&token).await.is_none(),
        "at the expiry"
    );
}

#[tokio::test]
async fn sign_ins_are_refused_at_the_failure_limit_per_email_and_per_address() {
    let f = Fixture::new(3).await;
    let ex = &f.exchange;
    ex.sign_up(&person("ann@example.org"), &client("192.0.2.1"))
        .await
        .unwrap();
    ex.sign_up(&person("bob@example.org"), &client("192.0.2.1"))
        .await
        .unwrap();
    // One below the limit from one address, then a success: the email's
    // failures are forgotten, the address's are not.
    for _ in 0..MAX_SIGN_IN_FAILURES - 1 {
        let e = ex
            .sign_in("ann@example.org", "wrong", &client("192.0.2.7"))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidCredentials);
    }
    ex.sign_in("ANN@example.org", "correct horse", &client("192.0.2.7"))
        .await
        .unwrap();
    let e = ex
        .sign_in("bob@example.org", "wrong", &client("192.0.2.7"))
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::InvalidCredentials,
        "the limit-th failure"
    );
    let e = ex
        .sign_in("bob@example.org", "correct horse", &client("192.0.2.7"))
        .await
        .unwrap_err();
    assert_eq!(
        e.code,
        ErrorCode::TooManySignIns,
        "the address is at the limit"
    );
    // Another address is not held back by that one, nor is Ann's email.
    ex.sign_in("bob@example.org", "correct horse", &client("192.0.2.8"))
        .await
        .unwrap();
    ex.sign_in("ann@example.org", "correct horse", &client("192.0.2.9"))
        .await
        .unwrap();
}

/// Passkeys at the edges: a ceremony finishes up to the last second of
/// `PASSKEY_CEREMONY_TTL_SECONDS` and not at it, a name of
/// `MAX_PASSKEY_NAME_CHARS` passes and one more is refused, and an account
/// with `MAX_PASSKEYS_PER_ACCOUNT` passkeys cannot start adding another.
#[tokio::test]
async fn passkeys_stop_at_their_limits() {
    let f = Fixture::new(7).await;
    let (me, _) = f
        .exchange
        .sign_up(&person("ann@example.org"), &client("192.0.2.1"))
        .await
        .unwrap();
    let ex = &f.exchange;
    let empty = serde_json::json!({});
    let longest = "n".repeat(MAX_PASSKEY_NAME_CHARS);
    let (id, options) = ex
        .start_passkey_registration(&me, &client("192.0.2.1"))
        .await
        .unwrap();
    assert_eq!(options["publicKey"]["rp"]["id"], "exchange.test");
    let e = ex
        .finish_passkey_registration(&me, &id, &empty, &format!("{longest}n"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidField, "a name too long");
    f.clock.advance_seconds(PASSKEY_CEREMONY_TTL_SECONDS - 1);
    let e = ex
        .finish_passkey_registration(&me, &id, &empty, &longest)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PasskeyInvalid, "in time, a bad answer");
    let (id, _) = ex
        .start_passkey_registration(&me, &client("192.0.2.1"))
        .await
        .unwrap();
    f.clock.advance_seconds(PASSKEY_CEREMONY_TTL_SECONDS);
    let e = ex
        .finish_passkey_registration(&me, &id, &empty, &longest)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::PasskeyCeremonyInvalid, "expired");

    for i in 0..MAX_PASSKEYS_PER_ACCOUNT {
        if i == MAX_PASSKEYS_PER_ACCOUNT - 1 {
            ex.start_passkey_registration(&me, &client("192.0.2.1"))
                .await
                .unwrap();
        }
        let p = symbolon_store::PasskeyRecord {
            credential_id: format!("cred-{i}"),
            account_id: me.id.clone(),
            name: format!("key {i}"),
            passkey_json: "{}".into(),
            created_at: f.clock.now(),
            last_used_at: None,
        };
        f.store
            .create_passkey(&p, MAX_PASSKEYS_PER_ACCOUNT)
            .await
            .unwrap();
    }
    let e = ex
        .start_passkey_registration(&me, &client("192.0.2.1"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::TooManyPasskeys);
    assert_eq!(
        ex.passkeys(&me).await.unwrap().len() as i64,
        MAX_PASSKEYS_PER_ACCOUNT
    );
    ex.remove_passkey(&me, "cred-0").await.unwrap();
    assert_eq!(
        ex.remove_passkey(&me, "cred-0").await.unwrap_err().code,
        ErrorCode::NotFound
    );
    ex.start_passkey_registration(&me, &client("192.0.2.1"))
        .await
        .unwrap();
}

/// Starting a passkey sign-in needs no account, so an address may have at
/// most `MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS` ceremonies under way:
/// the next is refused with 429, another address is not, and once they
/// expire the address may start again.
#[tokio::test]
async fn an_address_has_a_bounded_number_of_passkey_ceremonies() {
    let f = Fixture::new(8).await;
    let ex = &f.exchange;
    let busy = client("198.51.100.7");
    for _ in 0..MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS {
        ex.start_passkey_sign_in(&busy).await.unwrap();
    }
    let e = ex.start_passkey_sign_in(&busy).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::TooManyPasskeyCeremonies);
    assert_eq!(e.code.http_status(), 429);
    // A signed-in person's registration from that address counts too.
    let (me, _) = ex
        .sign_up(&person("bo@example.org"), &client("192.0.2.9"))
        .await
        .unwrap();
    assert_eq!(
        ex.start_passkey_registration(&me, &busy)
            .await
            .unwrap_err()
            .code,
        ErrorCode::TooManyPasskeyCeremonies
    );
    ex.start_passkey_sign_in(&client("198.51.100.8"))
        .await
        .unwrap();
    f.clock.advance_seconds(PASSKEY_CEREMONY_TTL_SECONDS);
    ex.start_passkey_sign_in(&busy).await.unwrap();
}

/// The sweeper's pruning: a signed-out session's row stays for
/// `REVOKED_SESSION_KEEP_SECONDS` and goes after; a live one stays.
#[tokio::test]
async fn ended_sessions_are_forgotten_after_a_while() {
    let f = Fixture::new(9).await;
    let ex = &f.exchange;
    let (_, gone) = ex
        .sign_up(&person("cy@example.org"), &client("192.0.2.3"))
        .await
        .unwrap();
    ex.sign_out(&gone).await.unwrap();
    let (_, kept) = ex
        .sign_in("cy@example.org", "correct horse", &client("192.0.2.3"))
        .await
        .unwrap();
    assert_eq!(
        ex.prune_web_sessions().await.unwrap(),
        0,
        "revoked just now"
    );
    f.clock.advance_seconds(REVOKED_SESSION_KEEP_SECONDS);
    assert!(ex.web_session(&kept).await.is_some(), "still live");
    assert_eq!(ex.prune_web_sessions().await.unwrap(), 1);
    assert!(ex.web_session(&kept).await.is_some(), "the live one stays");
    assert!(ex.web_session(&gone).await.is_none());
}
