//! Conformance cases of accounts for people: logins (email unique
//! case-insensitively), server-side sessions (expiry, inactivity, touch at
//! most once a minute, revocation), API keys (several per account, counted
//! and revocable, authenticating beside the registration key) and the
//! failed sign-in counters.

use super::*;
use crate::{ApiKeyRecord, NewLogin, PasskeyCeremony, PasskeyRecord, WebSession};
use symbolon_core::limits::WEB_SESSION_TOUCH_SECONDS;

fn login(email: &str) -> NewLogin {
    NewLogin {
        email: email.into(),
        email_lower: email.to_lowercase(),
        password_hash: format!("hash-of-{email}"),
    }
}

fn person(id: &str, email: &str) -> NewAccount {
    NewAccount {
        login: Some(login(email)),
        ..new_account(id, &[Role::Requester])
    }
}

fn session(id: &str, account: &str, at: Timestamp) -> WebSession {
    WebSession {
        id: id.into(),
        token_hash: format!("hash-of-token-{id}"),
        account_id: account.into(),
        created_at: at,
        last_seen_at: at,
        expires_at: at.plus_seconds(3_600),
        idle_expires_at: at.plus_seconds(600),
        user_agent: "Firefox".into(),
        revoked_at: None,
    }
}

fn api_key(id: &str, account: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        key_hash: format!("hash-of-api-key-{id}"),
        account_id: account.into(),
        label: format!("label {id}"),
        hint: "abcd".into(),
        created_at: T0,
        revoked_at: None,
    }
}

/// A login is written with its account; its email is unique whatever the
/// case (and a refused account is not created); API-only accounts have none.
pub async fn logins_are_unique_by_lowercased_email(store: Arc<dyn Store>) {
    let s = &*store;
    s.create_account(&person("acc_ann", "Ann@Example.org"))
        .await
        .must("person");
    let l = s.login_by_email("ann@example.org").await.must("by email");
    assert_eq!(
        (
            l.account_id.as_str(),
            l.email.as_str(),
            l.password_hash.as_str()
        ),
        ("acc_ann", "Ann@Example.org", "hash-of-Ann@Example.org")
    );
    assert_eq!(s.login_of("acc_ann").await.must("of account"), l);
    assert_err!(
        s.create_account(&person("acc_bob", "ANN@example.ORG"))
            .await,
        StoreError::Conflict(Conflict::EmailTaken),
        "the same email in another case"
    );
    assert_err!(
        s.account("acc_bob").await,
        StoreError::NotFound,
        "the refused account"
    );
    assert_err!(
        s.login_by_email("Ann@Example.org").await,
        StoreError::NotFound,
        "looked up by the lowercased email only"
    );
    create_account(s, "acc_api", &[Role::Holder]).await;
    assert_err!(
        s.login_of("acc_api").await,
        StoreError::NotFound,
        "api-only"
    );
}

/// A session is found by its token's hash while live; the inactivity expiry
/// moves at most once a minute and never past the absolute expiry; revoked
/// sessions are gone; listing and revoking are per account.
pub async fn sessions_expire_touch_and_revoke(store: Arc<dyn Store>) {
    let s = &*store;
    s.create_account(&person("acc_ann", "ann@example.org"))
        .await
        .must("ann");
    create_account(s, "acc_bob", &[Role::Holder]).await;
    let a = session("ses_a", "acc_ann", T0);
    s.create_session(&a).await.must("a");
    s.create_session(&session("ses_b", "acc_ann", T0.plus_seconds(1)))
        .await
        .must("b");
    s.create_session(&session("ses_c", "acc_bob", T0))
        .await
        .must("c");
    let far = T0.plus_seconds(100_000);

    // Within a minute of the last touch: found, not moved.
    let at = T0.plus_seconds(WEB_SESSION_TOUCH_SECONDS - 1);
    let got = s
        .live_session(&a.token_hash, at, far)
        .await
        .must("live")
        .expect("live");
    assert_eq!(got, a);
    // A minute on: touched; the inactivity expiry never passes the absolute one.
    let at = T0.plus_seconds(WEB_SESSION_TOUCH_SECONDS);
    let got = s
        .live_session(&a.token_hash, at, far)
        .await
        .must("touch")
        .expect("live");
    assert_eq!((got.last_seen_at, got.idle_expires_at), (at, a.expires_at));
    let again = s
        .live_session(&a.token_hash, at.plus_seconds(1), far)
        .await
        .must("read")
        .expect("live");
    assert_eq!(again.idle_expires_at, a.expires_at, "stored");
    assert_eq!(again.last_seen_at, at, "not touched again within a minute");
    // Past its absolute expiry: gone.
    assert!(s
        .live_session(&a.token_hash, a.expires_at, far)
        .await
        .must("expired")
        .is_none());
    // Unused past its inactivity expiry: gone.
    let b = session("ses_b", "acc_ann", T0.plus_seconds(1));
    assert!(s
        .live_session(&b.token_hash, b.idle_expires_at, far)
        .await
        .must("idle")
        .is_none());
    assert!(s
        .live_session("hash-of-nothing", T0, far)
        .await
        .must("unknown")
        .is_none());

    // Listed newest first, per account.
    let ids = |v: Vec<WebSession>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s
            .sessions_of("acc_ann", T0.plus_seconds(2))
            .await
            .must("list")),
        ["ses_b", "ses_a"]
    );
    // Another's session is not found; revoking twice keeps the first time.
    assert_err!(
        s.revoke_session("acc_bob", "ses_a", T0).await,
        StoreError::NotFound,
        "another's session"
    );
    s.revoke_session("acc_ann", "ses_b", T0.plus_seconds(5))
        .await
        .must("revoke");
    s.revoke_session("acc_ann", "ses_b", T0.plus_seconds(9))
        .await
        .must("revoke again");
    assert!(s
        .live_session(&b.token_hash, T0.plus_seconds(6), far)
        .await
        .must("revoked")
        .is_none());
    assert_eq!(
        ids(s
            .sessions_of("acc_ann", T0.plus_seconds(6))
            .await
            .must("list")),
        ["ses_a"]
    );
    // Revoking all others keeps the one named and the other account's.
    s.create_session(&session("ses_d", "acc_ann", T0.plus_seconds(7)))
        .await
        .must("d");
    assert_eq!(
        s.revoke_other_sessions("acc_ann", "ses_d", T0.plus_seconds(8))
            .await
            .must("others"),
        1
    );
    assert_eq!(
        ids(s
            .sessions_of("acc_ann", T0.plus_seconds(8))
            .await
            .must("list")),
        ["ses_d"]
    );
    assert_eq!(
        ids(s
            .sessions_of("acc_bob", T0.plus_seconds(8))
            .await
            .must("bob")),
        ["ses_c"]
    );
}

/// API keys authenticate beside the registration key until revoked; an
/// account has at most `max` unrevoked, counted at insertion.
pub async fn api_keys_authenticate_until_revoked(store: Arc<dyn Store>) {
    let s = &*store;
    let ann = create_account(s, "acc_ann", &[Role::Requester]).await;
    create_account(s, "acc_bob", &[Role::Holder]).await;
    let k1 = api_key("apk_1", "acc_ann");
    s.create_api_key(&k1, 2).await.must("k1");
    s.create_api_key(&api_key("apk_2", "acc_ann"), 2)
        .await
        .must("k2");
    assert_err!(
        s.create_api_key(&api_key("apk_3", "acc_ann"), 2).await,
        StoreError::Conflict(Conflict::TooManyApiKeys),
        "a third key past the limit"
    );
    s.create_api_key(&api_key("apk_4", "acc_bob"), 2)
        .await
        .must("bob's own limit");
    assert_err!(
        s.create_api_key(&api_key("apk_5", "acc_nobody"), 2).await,
        StoreError::NotFound,
        "no account"
    );
    let listed = s.api_keys_of("acc_ann").await.must("list");
    assert_eq!(listed[0], k1);
    assert_eq!(
        listed.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
        ["apk_1", "apk_2"]
    );
    assert_eq!(
        s.account_by_key_hash(&k1.key_hash).await.must("by api key"),
        ann
    );
    assert_eq!(
        s.account_by_key_hash(&key_hash("acc_ann"))
            .await
            .must("by registration key"),
        ann
    );
    assert_err!(
        s.revoke_api_key("acc_bob", "apk_1", T0).await,
        StoreError::NotFound,
        "another's key"
    );
    s.revoke_api_key("acc_ann", "apk_1", T0)
        .await
        .must("revoke");
    s.revoke_api_key("acc_ann", "apk_1", T0).await.must("again");
    assert_err!(
        s.account_by_key_hash(&k1.key_hash).await,
        StoreError::NotFound,
        "a revoked key"
    );
    assert_eq!(s.api_keys_of("acc_ann").await.must("list").len(), 1);
    s.create_api_key(&api_key("apk_3", "acc_ann"), 2)
        .await
        .must("room again after revoking");
}

/// Failed sign-ins are counted per scope since a time; recording forgets
/// the scope's old ones; clearing one scope leaves the others.
pub async fn sign_in_failures_count_per_scope(store: Arc<dyn Store>) {
    let s = &*store;
    let email = "email:ann@example.org".to_string();
    let ip = "ip:192.0.2.1".to_string();
    let both = [email.clone(), ip.clone()];
    let before = Timestamp::from_millis(T0.millis() - 1);
    assert_eq!(
        s.sign_in_failures(&email, before).await.must("none"),
        (0, None)
    );
    for i in 0..3 {
        s.record_sign_in_failure(&both, T0.plus_seconds(i), T0)
            .await
            .must("record");
    }
    s.record_sign_in_failure(std::slice::from_ref(&ip), T0.plus_seconds(10), T0)
        .await
        .must("ip only");
    assert_eq!(
        s.sign_in_failures(&email, before).await.must("email"),
        (3, Some(T0))
    );
    assert_eq!(
        s.sign_in_failures(&ip, T0).await.must("ip after"),
        (3, Some(T0.plus_seconds(1)))
    );
    // Recording at a later time forgets what is older than the window.
    s.record_sign_in_failure(
        std::slice::from_ref(&ip),
        T0.plus_seconds(20),
        T0.plus_seconds(2),
    )
    .await
    .must("prune");
    assert_eq!(
        s.sign_in_failures(&ip, before).await.must("pruned"),
        (3, Some(T0.plus_seconds(2)))
    );
    s.clear_sign_in_failures(&email).await.must("clear");
    assert_eq!(
        s.sign_in_failures(&email, before).await.must("cleared"),
        (0, None)
    );
    assert_eq!(s.sign_in_failures(&ip, before).await.must("kept").0, 3);
}

fn passkey(id: &str, account: &str, at: Timestamp) -> PasskeyRecord {
    PasskeyRecord {
        credential_id: id.into(),
        account_id: account.into(),
        name: format!("key {id}"),
        passkey_json: format!("{{\"cred\":\"{id}\",\"counter\":0}}"),
        created_at: at,
        last_used_at: None,
    }
}

fn ceremony(id: &str, account: Option<&str>, kind: &str, expires_at: Timestamp) -> PasskeyCeremony {
    PasskeyCeremony {
        id: id.into(),
        account_id: account.map(Into::into),
        kind: kind.into(),
        state_json: format!("{{\"state\":\"{id}\"}}"),
        expires_at,
        client: None,
    }
}

/// Passkeys: at most `max` per account (counted at insertion), a credential
/// id stored once, listed oldest first, their state and last use updated,
/// and removed by their owner only.
pub async fn passkeys_are_counted_used_and_removed_by_their_owner(store: Arc<dyn Store>) {
    let s = &*store;
    create_account(s, "acc_ann", &[Role::Requester]).await;
    create_account(s, "acc_bob", &[Role::Holder]).await;
    let p1 = passkey("cred-1", "acc_ann", T0);
    s.create_passkey(&p1, 2).await.must("p1");
    s.create_passkey(&passkey("cred-2", "acc_ann", T0.plus_seconds(1)), 2)
        .await
        .must("p2");
    assert_err!(
        s.create_passkey(&passkey("cred-3", "acc_ann", T0), 2).await,
        StoreError::Conflict(Conflict::TooManyPasskeys),
        "a third passkey past the limit"
    );
    assert_err!(
        s.create_passkey(&passkey("cred-1", "acc_bob", T0), 2).await,
        StoreError::Conflict(Conflict::Duplicate),
        "a credential id stored twice"
    );
    assert_err!(
        s.create_passkey(&passkey("cred-9", "acc_nobody", T0), 2)
            .await,
        StoreError::NotFound,
        "no account"
    );
    let listed = s.passkeys_of("acc_ann").await.must("list");
    assert_eq!(listed[0], p1);
    assert_eq!(
        listed
            .iter()
            .map(|p| p.credential_id.as_str())
            .collect::<Vec<_>>(),
        ["cred-1", "cred-2"]
    );
    assert!(s.passkeys_of("acc_bob").await.must("bob's").is_empty());
    assert_eq!(s.passkey("cred-1").await.must("by id"), p1);
    assert_err!(
        s.passkey("cred-none").await,
        StoreError::NotFound,
        "an unknown credential id"
    );
    s.passkey_used("cred-1", "{\"counter\":1}", T0.plus_seconds(60))
        .await
        .must("used");
    let used = &s.passkeys_of("acc_ann").await.must("list")[0];
    assert_eq!(used.passkey_json, "{\"counter\":1}");
    assert_eq!(used.last_used_at, Some(T0.plus_seconds(60)));
    assert_err!(
        s.passkey_used("cred-none", "{}", T0).await,
        StoreError::NotFound,
        "an unknown credential"
    );
    assert_err!(
        s.delete_passkey("acc_bob", "cred-1").await,
        StoreError::NotFound,
        "another's passkey"
    );
    s.delete_passkey("acc_ann", "cred-1").await.must("delete");
    assert_err!(
        s.delete_passkey("acc_ann", "cred-1").await,
        StoreError::NotFound,
        "deleted already"
    );
    s.create_passkey(&passkey("cred-3", "acc_ann", T0), 2)
        .await
        .must("room again after removing");
}

/// Ceremonies: taken (and gone) exactly once, by their kind, refused once
/// expired; starting one forgets the expired ones.
pub async fn passkey_ceremonies_are_taken_once_before_they_expire(store: Arc<dyn Store>) {
    let s = &*store;
    create_account(s, "acc_ann", &[Role::Requester]).await;
    let later = T0.plus_seconds(300);
    let reg = ceremony("pkc_reg", Some("acc_ann"), "register", later);
    s.create_passkey_ceremony(&reg, T0).await.must("register");
    let auth = ceremony("pkc_auth", None, "authenticate", later);
    s.create_passkey_ceremony(&auth, T0)
        .await
        .must("authenticate");
    assert_eq!(
        s.take_passkey_ceremony("pkc_reg", "authenticate", T0)
            .await
            .must("other kind"),
        None
    );
    assert_eq!(
        s.take_passkey_ceremony("pkc_reg", "register", T0)
            .await
            .must("take"),
        Some(reg.clone())
    );
    assert_eq!(
        s.take_passkey_ceremony("pkc_reg", "register", T0)
            .await
            .must("again"),
        None,
        "taken once"
    );
    assert_eq!(
        s.take_passkey_ceremony("pkc_nope", "register", T0)
            .await
            .must("unknown"),
        None
    );
    assert_eq!(
        s.take_passkey_ceremony("pkc_auth", "authenticate", later)
            .await
            .must("expired"),
        None,
        "refused at its expiry"
    );
    // An expired ceremony is forgotten when another starts.
    let old = ceremony("pkc_old", None, "authenticate", T0.plus_seconds(10));
    s.create_passkey_ceremony(&old, T0).await.must("old");
    s.create_passkey_ceremony(
        &ceremony("pkc_new", None, "authenticate", later),
        T0.plus_seconds(20),
    )
    .await
    .must("new");
    assert_eq!(
        s.take_passkey_ceremony("pkc_old", "authenticate", T0)
            .await
            .must("forgotten"),
        None
    );
    assert!(s
        .take_passkey_ceremony("pkc_new", "authenticate", T0.plus_seconds(21))
        .await
        .must("new")
        .is_some());
}

/// An address has at most `MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS`
/// ceremonies under way; taken or expired ones leave room; ceremonies
/// without an address are not counted.
pub async fn passkey_ceremonies_are_bounded_per_address(store: Arc<dyn Store>) {
    use symbolon_core::limits::MAX_OPEN_PASSKEY_CEREMONIES_PER_ADDRESS as MAX;
    let s = &*store;
    let later = T0.plus_seconds(300);
    let of = |id: String, client: &str| PasskeyCeremony {
        client: Some(client.into()),
        ..ceremony(&id, None, "authenticate", later)
    };
    for i in 0..MAX {
        s.create_passkey_ceremony(&of(format!("pkc_{i}"), "ip:a"), T0)
            .await
            .must("under the bound");
    }
    assert!(matches!(
        s.create_passkey_ceremony(&of("pkc_over".into(), "ip:a"), T0)
            .await,
        Err(StoreError::Conflict(Conflict::TooManyPasskeyCeremonies))
    ));
    s.create_passkey_ceremony(&of("pkc_b".into(), "ip:b"), T0)
        .await
        .must("another address");
    s.create_passkey_ceremony(&ceremony("pkc_none", None, "authenticate", later), T0)
        .await
        .must("no address");
    let taken = s
        .take_passkey_ceremony("pkc_0", "authenticate", T0)
        .await
        .must("take");
    assert_eq!(taken.and_then(|c| c.client).as_deref(), Some("ip:a"));
    s.create_passkey_ceremony(&of("pkc_again".into(), "ip:a"), T0)
        .await
        .must("room after one was taken");
    s.create_passkey_ceremony(&of("pkc_later".into(), "ip:a"), later)
        .await
        .must("room once they expired");
}

/// Pruning forgets sessions expired (absolutely or for idleness) at `now`
/// and those revoked at or before the cut, and keeps the rest.
pub async fn ended_sessions_are_pruned(store: Arc<dyn Store>) {
    let s = &*store;
    s.create_account(&person("acc_ann", "ann@example.org"))
        .await
        .must("ann");
    // Live at T0+700: absolute expiry T0+3600 but idle from T0+600 → idle-expired.
    s.create_session(&session("ses_idle", "acc_ann", T0))
        .await
        .must("idle");
    // Created later: live at T0+700.
    let live = session("ses_live", "acc_ann", T0.plus_seconds(500));
    s.create_session(&live).await.must("live");
    // Revoked at T0+100 (before the cut) and at T0+650 (after it).
    for (id, at) in [("ses_old_rev", 100), ("ses_new_rev", 650)] {
        s.create_session(&session(id, "acc_ann", T0.plus_seconds(400)))
            .await
            .must(id);
        s.revoke_session("acc_ann", id, T0.plus_seconds(at))
            .await
            .must("revoke");
    }
    let now = T0.plus_seconds(700);
    let pruned = s
        .prune_web_sessions(now, T0.plus_seconds(200))
        .await
        .must("prune");
    assert_eq!(pruned, 2, "the idle one and the one revoked before the cut");
    assert_eq!(
        s.prune_web_sessions(now, T0.plus_seconds(200))
            .await
            .must("again"),
        0
    );
    // The recently revoked one is still there: revoking it again is a no-op.
    s.revoke_session("acc_ann", "ses_new_rev", now)
        .await
        .must("kept for a while");
    let listed = s.sessions_of("acc_ann", now).await.must("list");
    assert_eq!(
        listed.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        vec!["ses_live"]
    );
    assert!(s
        .live_session(&live.token_hash, now, now.plus_seconds(600))
        .await
        .must("live")
        .is_some());
}
