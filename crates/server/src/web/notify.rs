//! E-mail notifications on the web side: the account page's choices
//! (`POST /account/notifications`: the kinds wanted, one checkbox each, and
//! the messages' language) and the messages themselves, rendered as plain
//! text from the `notify.ftl` catalogues in the recipient's language
//! ([`render_mail`], called by the server's mailer).

use super::account::{form_status, show, signed_in_post};
use super::auth::Form;
use super::format;
use super::i18n::Lang;
use super::{redirect, FormPost};
use axum::response::Response;
use symbolon_core::Timestamp;
use symbolon_exchange::notify::MAIL_KINDS;
use symbolon_store::mail::MailJob;

/// The catalogue key naming a kind of message (its checkbox's label).
pub(super) fn kind_key(kind: &str) -> &'static str {
    match kind {
        "request" => "notify-kind-request",
        "offer" => "notify-kind-offer",
        "order_new" => "notify-kind-order_new",
        "order_placed" => "notify-kind-order_placed",
        "shipped" => "notify-kind-shipped",
        "refunded" => "notify-kind-refunded",
        _ => "notify-kind-dispute",
    }
}

/// `POST /account/notifications` (`csrf`, `mail_lang`, `kind_<kind>=on`
/// per kind wanted): saves the choices; a language we do not write in
/// brings the page back (422) with the message beside the select.
pub(super) async fn save(FormPost { w, f }: FormPost) -> Response {
    let (me, token) = match signed_in_post(&w, &f).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let lang = f.get("mail_lang").map_or("", String::as_str);
    let on: Vec<String> = MAIL_KINDS
        .iter()
        .filter(|k| f.contains_key(&format!("kind_{k}")))
        .map(|k| k.to_string())
        .collect();
    match w.state.exchange.set_mail_settings(&me, lang, &on).await {
        Ok(()) => redirect("/account#notifications", vec![]),
        Err(e) => {
            let field = if e.details.as_ref().and_then(|d| d["field"].as_str()) == Some("lang") {
                "mail_lang"
            } else {
                ""
            };
            let message = if field == "mail_lang" {
                w.t("notify-bad-lang")
            } else {
                w.public_message(&e)
            };
            let form = Form::default().with_error(field, message);
            show(&w, me, &token, form_status(&w, &e), form, None).await
        }
    }
}

/// A message ready to send: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub body: String,
}

/// The text of `job` in its recipient's language; `public_url` makes the
/// link to the page it concerns, `unsubscribe_url` ends it.
pub fn render_mail(job: &MailJob, public_url: &str, unsubscribe_url: &str) -> RenderedMail {
    let m = &job.mail;
    let l = Lang::parse(&m.lang).unwrap_or(Lang::EnUs);
    let d: serde_json::Value = serde_json::from_str(&m.data).unwrap_or_default();
    let text = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let money = |minor: &str| {
        format::money_minor(
            l,
            d.get(minor).and_then(|v| v.as_i64()).unwrap_or(0),
            &text("currency"),
        )
    };
    let order = text("order_id");
    let order_link = format!("{public_url}/orders/{order}");
    let (subject, mut lines, link) = match m.kind.as_str() {
        "request" => {
            let deadline = match d.get("deadline") {
                Some(serde_json::Value::Number(n)) => {
                    format::datetime_of(l, Timestamp::from_millis(n.as_i64().unwrap_or(0)))
                }
                Some(serde_json::Value::String(s)) => format::datetime(l, s),
                _ => String::new(),
            };
            let query = text("query");
            (
                l.ta("mail-subject-request", &query),
                vec![
                    l.ta("mail-body-request", &query),
                    String::new(),
                    l.ta("mail-deadline", &deadline),
                ],
                format!("{public_url}/inbox"),
            )
        }
        "offer" => (
            l.t("mail-subject-offer"),
            vec![l.t("mail-body-offer")],
            format!("{public_url}/demands/{}", text("demand_id")),
        ),
        "order_new" => (
            l.ta("mail-subject-order_new", &order),
            vec![l.ta("mail-body-order_new", &money("total_minor"))],
            order_link,
        ),
        "order_placed" => (
            l.ta("mail-subject-order_placed", &order),
            vec![l.ta("mail-body-order_placed", &money("total_minor"))],
            order_link,
        ),
        "shipped" => (
            l.ta("mail-subject-shipped", &order),
            vec![l.t("mail-body-shipped")],
            order_link,
        ),
        "refunded" => (
            l.ta("mail-subject-refunded", &order),
            vec![l.ta("mail-body-refunded", &money("amount_minor"))],
            order_link,
        ),
        _ => (
            l.ta("mail-subject-dispute", &order),
            vec![if m.event_type == "dispute.resolved" {
                l.t("mail-body-dispute-resolved")
            } else {
                l.t("mail-body-dispute-opened")
            }],
            order_link,
        ),
    };
    lines.push(String::new());
    lines.push(l.ta("mail-open", &link));
    lines.push(String::new());
    lines.push("-- ".into());
    lines.push(l.t("mail-why"));
    lines.push(l.ta("mail-unsubscribe", unsubscribe_url));
    RenderedMail {
        subject,
        body: lines.join("\r\n") + "\r\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symbolon_store::mail::NewMail;

    fn job(kind: &str, lang: &str, data: &str) -> MailJob {
        MailJob {
            mail: NewMail {
                event_seq: 1,
                account_id: "acc_x".into(),
                kind: kind.into(),
                to: "x@example.org".into(),
                lang: lang.into(),
                event_type: "interaction.requested".into(),
                data: data.into(),
                created_at: Timestamp::from_millis(0),
            },
            attempts: 0,
        }
    }

    #[test]
    fn messages_speak_the_recipients_language_and_carry_the_deadline() {
        let data = r#"{"query":"walkman","deadline":1800000000000,"demand_id":"dem_1"}"#;
        let en = render_mail(
            &job("request", "en-US", data),
            "https://x.test",
            "https://x.test/u",
        );
        assert_eq!(en.subject, "New request: walkman");
        assert!(en.body.contains("Answer before"), "{}", en.body);
        assert!(en.body.contains("2027"), "the deadline: {}", en.body);
        assert!(en.body.contains("https://x.test/u"));
        let zh = render_mail(
            &job("request", "zh-CN", data),
            "https://x.test",
            "https://x.test/u",
        );
        assert_eq!(zh.subject, "新请求：walkman");
        assert!(zh.body.contains("之前回复"), "{}", zh.body);
        for k in MAIL_KINDS {
            let r = render_mail(&job(k, "zh-CN", "{}"), "https://x.test", "https://x.test/u");
            assert!(!r.subject.is_empty() && !r.body.is_empty(), "{k}");
        }
    }
}
