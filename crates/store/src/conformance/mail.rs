//! Conformance cases of e-mail notifications: preferences (and opt-outs
//! that keep each other), the mail cursor (moved once per position, with its
//! messages, by whoever gets there first) and the mail outbox (leased,
//! retried, sent once).

use super::*;
use crate::mail::{MailPrefs, MailResult, NewMail};

fn mail(seq: i64, account: &str, at: Timestamp) -> NewMail {
    NewMail {
        event_seq: seq,
        account_id: account.into(),
        kind: "request".into(),
        to: format!("{account}@example.org"),
        lang: "en-US".into(),
        event_type: "interaction.requested".into(),
        data: "{}".into(),
        created_at: at,
    }
}

/// No row means defaults; saved choices are read back; two opt-outs of
/// one account keep both kinds, and opting out again changes nothing.
pub async fn mail_prefs_round_trip_and_opt_outs_keep_each_other(store: Arc<dyn Store>) {
    let s = &*store;
    s.create_account(&new_account("acc_m", &[Role::Holder]))
        .await
        .must("account");
    assert_eq!(s.mail_prefs("acc_m").await.must("prefs"), None);
    let p = MailPrefs {
        account_id: "acc_m".into(),
        lang: "zh-CN".into(),
        off: vec!["offer".into()],
    };
    s.set_mail_prefs(&p, T0).await.must("set");
    assert_eq!(s.mail_prefs("acc_m").await.must("prefs"), Some(p));
    s.mail_opt_out("acc_m", "request", "en-US", T0)
        .await
        .must("opt out");
    s.mail_opt_out("acc_m", "request", "en-US", T0)
        .await
        .must("opt out again");
    let got = s.mail_prefs("acc_m").await.must("prefs").expect("a row");
    assert_eq!(got.lang, "zh-CN", "an opt-out keeps the language");
    assert_eq!(got.off, vec!["offer".to_string(), "request".to_string()]);
    // An account without choices gets the default language with its opt-out.
    s.create_account(&new_account("acc_n", &[Role::Holder]))
        .await
        .must("account");
    s.mail_opt_out("acc_n", "shipped", "en-US", T0)
        .await
        .must("opt out");
    let got = s.mail_prefs("acc_n").await.must("prefs").expect("a row");
    assert_eq!(
        (got.lang.as_str(), got.off),
        ("en-US", vec!["shipped".to_string()])
    );
    // Concurrent opt-outs of different kinds keep both.
    let kinds = ["order_new", "order_placed", "refunded", "dispute"];
    let mut set = JoinSet::new();
    for k in kinds {
        let st = store.clone();
        set.spawn(async move { st.mail_opt_out("acc_n", k, "en-US", T0).await });
    }
    while let Some(r) = set.join_next().await {
        r.expect("task").must("concurrent opt out");
    }
    let got = s.mail_prefs("acc_n").await.must("prefs").expect("a row");
    for k in kinds {
        assert!(got.off.iter().any(|o| o == k), "{k} kept: {:?}", got.off);
    }
}

/// The cursor starts unset; a move from a stale position writes nothing;
/// racing replicas queue each message once.
pub async fn mail_is_queued_once_per_cursor_move(store: Arc<dyn Store>) {
    let s = &*store;
    s.create_account(&new_account("acc_m", &[Role::Holder]))
        .await
        .must("account");
    assert_eq!(s.mail_cursor().await.must("cursor"), None);
    assert!(s.queue_mails(None, 5, &[]).await.must("start"));
    assert!(
        !s.queue_mails(None, 7, &[mail(6, "acc_m", T0)])
            .await
            .must("start again"),
        "the cursor is set once"
    );
    assert_eq!(s.mail_cursor().await.must("cursor"), Some(5));
    assert_eq!(s.mail_counts().await.must("counts"), (0, 0, 0));
    assert!(!s
        .queue_mails(Some(4), 9, &[mail(6, "acc_m", T0)])
        .await
        .must("stale"));
    assert_eq!(
        s.mail_counts().await.must("counts"),
        (0, 0, 0),
        "nothing queued from a stale cursor"
    );
    // Ten replicas race to move the cursor from 5 to 10 with the same mail.
    let mut set = JoinSet::new();
    for _ in 0..10 {
        let st = store.clone();
        set.spawn(async move { st.queue_mails(Some(5), 10, &[mail(7, "acc_m", T0)]).await });
    }
    let mut won = 0;
    while let Some(r) = set.join_next().await {
        if r.expect("task").must("race") {
            won += 1;
        }
    }
    assert_eq!(won, 1, "one replica moves the cursor");
    assert_eq!(s.mail_cursor().await.must("cursor"), Some(10));
    assert_eq!(s.mail_counts().await.must("counts"), (1, 0, 0));
}

/// A claimed message is leased (no second claim while the lease lives),
/// due again when the lease runs out (a replica died between claim and
/// send), retried when it asks, and never claimed once sent or failed;
/// a lease taken over is no longer its first owner's to finish; pruning
/// forgets finished messages only.
pub async fn mail_is_leased_retried_and_sent_once(store: Arc<dyn Store>) {
    let s = &*store;
    s.create_account(&new_account("acc_m", &[Role::Holder]))
        .await
        .must("account");
    s.create_account(&new_account("acc_o", &[Role::Holder]))
        .await
        .must("account");
    let later = T0.plus_seconds(60);
    assert!(s
        .queue_mails(None, 2, &[mail(1, "acc_m", T0), mail(2, "acc_o", later)])
        .await
        .must("queue"));
    let jobs = s
        .claim_mails(T0, T0.plus_seconds(30), "a", 10)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 1, "only what is due");
    assert_eq!(jobs[0].mail, mail(1, "acc_m", T0));
    assert_eq!(jobs[0].attempts, 0);
    assert!(
        s.claim_mails(T0.plus_seconds(10), T0.plus_seconds(40), "b", 10)
            .await
            .must("claim")
            .is_empty(),
        "a live lease is not claimed twice"
    );
    // "a" died: its lease runs out and "b" takes the message.
    let jobs = s
        .claim_mails(T0.plus_seconds(30), T0.plus_seconds(60), "b", 1)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 1);
    assert!(
        !s.finish_mail("a", 1, "acc_m", &MailResult::Sent, T0.plus_seconds(31))
            .await
            .must("late finish"),
        "a lost lease is not finished"
    );
    let retry_at = T0.plus_seconds(100);
    assert!(s
        .finish_mail(
            "b",
            1,
            "acc_m",
            &MailResult::Retry {
                at: retry_at,
                error: "connection refused".into()
            },
            T0.plus_seconds(31),
        )
        .await
        .must("retry"));
    assert_eq!(s.mail_counts().await.must("counts"), (2, 0, 0));
    let jobs = s
        .claim_mails(T0.plus_seconds(99), T0.plus_seconds(130), "b", 10)
        .await
        .must("claim");
    assert_eq!(
        jobs.len(),
        1,
        "only the other message is due before the retry"
    );
    assert_eq!(jobs[0].mail.event_seq, 2);
    assert!(s
        .finish_mail(
            "b",
            2,
            "acc_o",
            &MailResult::Failed { error: "no".into() },
            T0.plus_seconds(99)
        )
        .await
        .must("fail"));
    let jobs = s
        .claim_mails(retry_at, retry_at.plus_seconds(30), "c", 10)
        .await
        .must("claim");
    assert_eq!(jobs.len(), 1);
    assert_eq!((jobs[0].mail.event_seq, jobs[0].attempts), (1, 1));
    assert!(s
        .finish_mail("c", 1, "acc_m", &MailResult::Sent, retry_at)
        .await
        .must("sent"));
    assert!(!s
        .finish_mail("c", 1, "acc_m", &MailResult::Sent, retry_at)
        .await
        .must("sent again"));
    assert_eq!(s.mail_counts().await.must("counts"), (0, 1, 1));
    assert!(
        s.claim_mails(
            retry_at.plus_seconds(3600),
            retry_at.plus_seconds(3700),
            "d",
            10
        )
        .await
        .must("claim")
        .is_empty(),
        "sent and failed messages are never claimed again"
    );
    // Pruning forgets what was finished before the moment, never what is pending.
    assert!(s
        .queue_mails(Some(2), 3, &[mail(3, "acc_m", T0)])
        .await
        .must("queue"));
    assert_eq!(s.prune_mails(T0.plus_seconds(99)).await.must("prune"), 0);
    assert_eq!(s.prune_mails(T0.plus_seconds(100)).await.must("prune"), 1);
    assert_eq!(s.mail_counts().await.must("counts"), (1, 1, 0));
    assert_eq!(
        s.prune_mails(retry_at.plus_seconds(86_400 * 365))
            .await
            .must("prune"),
        1
    );
    assert_eq!(
        s.mail_counts().await.must("counts"),
        (1, 0, 0),
        "the pending message stays"
    );
}
