//! E-mail notifications: which facts become which messages, to whom, and
//! their durable queue. No SMTP here — the server's mailer renders and
//! sends what [`Exchange::claim_mails`] hands it.
//!
//! Messages are derived from the already-durable event stream: the mailer
//! reads the events after the store's mail cursor, decides for each event
//! and recipient whether a message is due (its kind, the recipient's login
//! email and choices), and queues those messages in the transaction that
//! moves the cursor past the events ([`symbolon_store::MailStore::queue_mails`]),
//! so each (event, recipient) is queued exactly once across replicas and
//! restarts. A queued message is leased, sent and marked sent; a replica that
//! dies between claim and mark sends it again after the lease — every
//! attempt carries the same `Message-ID` (per event and recipient, see
//! [`message_id`]), so a receiver can drop the rare duplicate. When mail is
//! off (no SMTP configured) the mailer does not run and nothing is queued;
//! when it first runs, it starts at the newest event (no backlog mailed).

use crate::{Exchange, ExchangeError, ExchangeResult};
use std::time::Duration;
use symbolon_core::limits::{
    MAIL_CLAIM_BATCH, MAIL_KEEP_SECONDS, MAIL_LEASE_SECONDS, MAIL_MAX_EVENT_AGE_SECONDS,
    MAIL_QUEUE_BATCH,
};
use symbolon_store::mail::{MailJob, MailPrefs, MailResult, NewMail};
use symbolon_store::{Account, StoreError};

/// Every kind of message a person can turn on or off, in display order.
pub const MAIL_KINDS: &[&str] = &[
    "request",
    "offer",
    "order_new",
    "order_placed",
    "shipped",
    "refunded",
    "dispute",
];

/// The languages messages are written in; the first is the default.
pub const MAIL_LANGS: &[&str] = &["en-US", "zh-CN"];

/// The purpose of the unsubscribe tokens' MAC under the master key.
const UNSUBSCRIBE_PURPOSE: &str = "mail-unsubscribe";

/// A person's choices, as the account page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The address messages go to (the login's email); `None` for an
    /// account without a login (API only), which gets no mail.
    pub email: Option<String>,
    pub lang: String,
    /// The kinds turned on.
    pub on: Vec<String>,
}

/// The `Message-ID` of the message about event `seq` to `account_id`: the
/// same on every attempt, so a message sent twice (a crash between the
/// send and its record) is one message to the receiver.
pub fn message_id(seq: i64, account_id: &str, host: &str) -> String {
    format!("<evt-{seq}.{account_id}@{host}>")
}

/// The kind of message event `e` makes for its recipient, given the role
/// they play in its order (`Requester`, `Provider` or neither) — `None`: no
/// message.
fn kind_of(event_type: &str, party: Party) -> Option<&'static str> {
    match (event_type, party) {
        ("interaction.requested", _) => Some("request"),
        ("offer.created", _) => Some("offer"),
        ("order.placed", Party::Provider) => Some("order_new"),
        ("order.placed", Party::Requester) => Some("order_placed"),
        ("order.shipped", Party::Requester) => Some("shipped"),
        ("order.refunded", Party::Requester) => Some("refunded"),
        ("dispute.opened" | "dispute.resolved", _) => Some("dispute"),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Requester,
    Provider,
    Other,
}

impl Exchange {
    /// An account's choices of messages.
    pub async fn mail_settings(&self, me: &Account) -> ExchangeResult<MailSettings> {
        let email = match self.store.login_of(&me.id).await {
            Ok(l) => Some(l.email),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let prefs = self.store.mail_prefs(&me.id).await?;
        let (lang, off) = match prefs {
            Some(p) => (p.lang, p.off),
            None => (MAIL_LANGS[0].to_string(), Vec::new()),
        };
        Ok(MailSettings {
            email,
            lang,
            on: MAIL_KINDS
                .iter()
                .filter(|k| !off.iter().any(|o| o == *k))
                .map(|k| k.to_string())
                .collect(),
        })
    }

    /// Saves an account's choices: its messages' language and the kinds it
    /// wants (every other kind is turned off).
    pub async fn set_mail_settings(
        &self,
        me: &Account,
        lang: &str,
        on: &[String],
    ) -> ExchangeResult<()> {
        if !MAIL_LANGS.contains(&lang) {
            return Err(ExchangeError::field("lang", "must be en-US or zh-CN"));
        }
        if let Some(k) = on.iter().find(|k| !MAIL_KINDS.contains(&k.as_str())) {
            return Err(ExchangeError::field(
                "kinds",
                format!("`{k}` is not a kind of message"),
            ));
        }
        let prefs = MailPrefs {
            account_id: me.id.clone(),
            lang: lang.to_string(),
            off: MAIL_KINDS
                .iter()
                .filter(|k| !on.iter().any(|o| o == *k))
                .map(|k| k.to_string())
                .collect(),
        };
        self.store.set_mail_prefs(&prefs, self.now()).await?;
        Ok(())
    }

    /// The token of the unsubscribe link for `kind` in messages to
    /// `account_id`: `<account>.<kind>.<HMAC under the master key>`, so it
    /// works without signing in and cannot be made for another account.
    pub fn unsubscribe_token(&self, account_id: &str, kind: &str) -> String {
        let mac = self
            .config
            .master_key
            .mac(UNSUBSCRIBE_PURPOSE, &format!("{account_id}\0{kind}"));
        format!("{account_id}.{kind}.{mac}")
    }

    /// The account and kind an unsubscribe token stands for; `None` if it is
    /// not one this server made.
    pub fn unsubscribe_target(&self, token: &str) -> Option<(String, String)> {
        let mut parts = token.splitn(3, '.');
        let (account, kind, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if !MAIL_KINDS.contains(&kind) {
            return None;
        }
        self.config
            .master_key
            .verify_mac(UNSUBSCRIBE_PURPOSE, &format!("{account}\0{kind}"), mac)
            .then(|| (account.to_string(), kind.to_string()))
    }

    /// Turns off the kind an unsubscribe token stands for (`not_found` for a
    /// token this server did not make).
    pub async fn unsubscribe(&self, token: &str) -> ExchangeResult<String> {
        let (account, kind) = self
            .unsubscribe_target(token)
            .ok_or_else(|| ExchangeError::not_found("unsubscribe link"))?;
        self.store
            .mail_opt_out(&account, &kind, MAIL_LANGS[0], self.now())
            .await?;
        Ok(kind)
    }

    /// One step of the mailer's queue: reads the events after the mail
    /// cursor and queues their messages while moving the cursor past them.
    /// Returns how many events it passed (0: nothing new, or another
    /// replica moved the cursor first).
    pub async fn queue_mail(&self) -> ExchangeResult<usize> {
        let Some(from) = self.store.mail_cursor().await? else {
            // First run: start at the newest event, mailing no backlog.
            let last = self.store.last_event_seq().await?;
            self.store.queue_mails(None, last, &[]).await?;
            return Ok(0);
        };
        let events = self.store.events_since(from, MAIL_QUEUE_BATCH).await?;
        let Some(to) = events.last().map(|e| e.seq) else {
            return Ok(0);
        };
        let stale_before = self.now().plus_seconds(-MAIL_MAX_EVENT_AGE_SECONDS);
        let mut mails = Vec::new();
        for e in &events {
            if e.created_at < stale_before {
                continue;
            }
            let party = match e.kind.as_str() {
                "order.placed" | "order.shipped" | "order.refunded" => {
                    let order_id = serde_json::from_str::<serde_json::Value>(&e.data)
                        .ok()
                        .and_then(|d| d.get("order_id")?.as_str().map(str::to_string));
                    match order_id {
                        Some(id) => match self.store.order(&id).await {
                            Ok(o) if o.requester_id == e.account_id => Party::Requester,
                            Ok(o) if o.provider_id == e.account_id => Party::Provider,
                            Ok(_) | Err(StoreError::NotFound) => Party::Other,
                            Err(err) => return Err(err.into()),
                        },
                        None => Party::Other,
                    }
                }
                _ => Party::Other,
            };
            let Some(kind) = kind_of(&e.kind, party) else {
                continue;
            };
            let email = match self.store.login_of(&e.account_id).await {
                Ok(l) => l.email,
                // API-only accounts have no address.
                Err(StoreError::NotFound) => continue,
                Err(err) => return Err(err.into()),
            };
            let (lang, off) = match self.store.mail_prefs(&e.account_id).await? {
                Some(p) => (p.lang, p.off),
                None => (MAIL_LANGS[0].to_string(), Vec::new()),
            };
            if off.iter().any(|o| o == kind) {
                continue;
            }
            mails.push(NewMail {
                event_seq: e.seq,
                account_id: e.account_id.clone(),
                kind: kind.to_string(),
                to: email,
                lang,
                event_type: e.kind.clone(),
                data: e.data.clone(),
                created_at: e.created_at,
            });
        }
        if self.store.queue_mails(Some(from), to, &mails).await? {
            Ok(events.len())
        } else {
            Ok(0)
        }
    }

    /// Leases due messages to `owner` for [`MAIL_LEASE_SECONDS`].
    pub async fn claim_mails(&self, owner: &str) -> ExchangeResult<Vec<MailJob>> {
        let now = self.now();
        Ok(self
            .store
            .claim_mails(
                now,
                now.plus_seconds(MAIL_LEASE_SECONDS),
                owner,
                MAIL_CLAIM_BATCH,
            )
            .await?)
    }

    /// Records an attempt: sent, or (with `error`) retried after the
    /// schedule's delay for this attempt — failed once it is exhausted.
    /// `false` when the lease was lost meanwhile (another replica took it).
    pub async fn finish_mail(
        &self,
        owner: &str,
        job: &MailJob,
        error: Option<String>,
        schedule: &[Duration],
    ) -> ExchangeResult<bool> {
        let now = self.now();
        let result = match error {
            None => MailResult::Sent,
            Some(error) => match usize::try_from(job.attempts)
                .ok()
                .and_then(|n| schedule.get(n))
            {
                Some(delay) => MailResult::Retry {
                    at: now.plus_millis(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
                    error,
                },
                None => MailResult::Failed { error },
            },
        };
        Ok(self
            .store
            .finish_mail(
                owner,
                job.mail.event_seq,
                &job.mail.account_id,
                &result,
                now,
            )
            .await?)
    }

    /// Forgets messages sent or given up more than [`MAIL_KEEP_SECONDS`]
    /// ago (the sweeper), so the outbox does not grow for ever.
    pub async fn prune_mails(&self) -> ExchangeResult<u64> {
        let before = self.now().plus_seconds(-MAIL_KEEP_SECONDS);
        Ok(self.store.prune_mails(before).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fact_goes_to_the_party_it_concerns() {
        assert_eq!(
            kind_of("interaction.requested", Party::Other),
            Some("request")
        );
        assert_eq!(kind_of("offer.created", Party::Requester), Some("offer"));
        assert_eq!(kind_of("order.placed", Party::Provider), Some("order_new"));
        assert_eq!(
            kind_of("order.placed", Party::Requester),
            Some("order_placed")
        );
        assert_eq!(
            kind_of("order.placed", Party::Other),
            None,
            "not the holder"
        );
        assert_eq!(kind_of("order.shipped", Party::Requester), Some("shipped"));
        assert_eq!(kind_of("order.shipped", Party::Provider), None);
        assert_eq!(
            kind_of("order.refunded", Party::Requester),
            Some("refunded")
        );
        assert_eq!(kind_of("dispute.opened", Party::Provider), Some("dispute"));
        assert_eq!(kind_of("rating.created", Party::Other), None);
        for k in [
            "request",
            "offer",
            "order_new",
            "order_placed",
            "shipped",
            "refunded",
            "dispute",
        ] {
            assert!(MAIL_KINDS.contains(&k));
        }
    }
}
