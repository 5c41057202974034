//! The e-mail notification sender (one per replica, only when `smtp_url` is
//! set). Everything it needs is in the database, as with webhooks
//! (`delivery.rs`): each round it moves the store's mail cursor over new
//! events, queueing their messages in the same transaction
//! (`Exchange::queue_mail`), then claims due messages under a lease, sends
//! each through SMTP with lettre and records the outcome — sent, or retried
//! after the schedule's next delay (given up once it is exhausted). A
//! replica that dies between claim and record loses its lease and another
//! sends again; every attempt carries the same `Message-ID` (per event and
//! recipient), so the rare duplicate is one message to the receiver.
//!
//! Every message carries its unsubscribe link in the body and in
//! `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
//! (RFC 8058).

use crate::web::render_mail;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use symbolon_core::limits::MAIL_SEND_TIMEOUT_SECONDS;
use symbolon_exchange::notify::message_id;
use symbolon_exchange::Exchange;
use symbolon_store::mail::MailJob;
use tokio::sync::watch;

/// What the mailer needs besides the exchange.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    schedule: Vec<Duration>,
    /// The host of `Message-ID`s (the public URL's).
    host: String,
    /// This replica's name in leases.
    owner: String,
}

/// Why the mailer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("smtp_url: {0}")]
    Url(String),
    #[error("mail_from: `{0}` is not an address like Name <name@example.org>")]
    From(String),
}

impl Mailer {
    /// A mailer for `smtp_url` (never logged: it may hold a password).
    pub fn new(
        smtp_url: &str,
        from: Option<&str>,
        public_url: &str,
        schedule: Vec<Duration>,
    ) -> Result<Self, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailerError::Url(e.to_string()))?
            .timeout(Some(Duration::from_secs(MAIL_SEND_TIMEOUT_SECONDS)))
            .build();
        let host = public_url
            .split("://")
            .nth(1)
            .unwrap_or(public_url)
            .split(['/', ':'])
            .next()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost")
            .to_string();
        let from_text = from
            .map(str::to_string)
            .unwrap_or_else(|| format!("Symbolon <noreply@{host}>"));
        let from: Mailbox = from_text
            .parse()
            .map_err(|_| MailerError::From(from_text.clone()))?;
        let owner = format!("mailer-{:016x}", rand_u64());
        Ok(Self {
            transport,
            from,
            schedule,
            host,
            owner,
        })
    }

    /// The message of `job`, with its headers.
    fn message(&self, exchange: &Exchange, job: &MailJob) -> Result<Message, String> {
        let public = &exchange.config().public_url;
        let token = exchange.unsubscribe_token(&job.mail.account_id, &job.mail.kind);
        let unsubscribe_url = format!(
            "{public}/unsubscribe?token={}",
            form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
        );
        let text = render_mail(job, public, &unsubscribe_url);
        let to: Mailbox = job
            .mail
            .to
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(text.subject)
            .message_id(Some(message_id(
                job.mail.event_seq,
                &job.mail.account_id,
                &self.host,
            )))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{unsubscribe_url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(text.body)
            .map_err(|e| e.to_string())
    }

    /// Sends one claimed message and records the outcome.
    async fn send(&self, exchange: &Exchange, job: &MailJob) {
        let error = match self.message(exchange, job) {
            Ok(m) => match self.transport.send(m).await {
                Ok(_) => None,
                Err(e) => Some(e.to_string()),
            },
            Err(e) => Some(e),
        };
        if let Some(e) = &error {
            tracing::warn!(seq = job.mail.event_seq, account = %job.mail.account_id, attempt = job.attempts + 1, error = %e, "sending an e-mail failed");
        }
        match exchange
            .finish_mail(&self.owner, job, error, &self.schedule)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::info!(
                seq = job.mail.event_seq,
                "an e-mail's lease ran out before its send was recorded"
            ),
            Err(e) => tracing::warn!(error = %e, "recording an e-mail attempt failed"),
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

/// Runs until `stop` turns true: queues the messages of new events, then
/// sends the due ones, every `period` (or at once after a full round).
pub async fn run(
    exchange: Arc<Exchange>,
    mailer: Mailer,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let mut busy = false;
        match exchange.queue_mail().await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!(error = %e, "queueing e-mails failed"),
        }
        match exchange.claim_mails(&mailer.owner).await {
            Ok(jobs) => {
                busy |= !jobs.is_empty();
                for job in &jobs {
                    if *stop.borrow() {
                        // Unsent claims come due again when their lease ends.
                        break;
                    }
                    mailer.send(&exchange, job).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "claiming e-mails failed"),
        }
        if *stop.borrow() {
            return;
        }
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
