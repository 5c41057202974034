//! E-mail notifications against a real SMTP server: Python's aiosmtpd,
//! started by each test on a free port with `smtp_sink.py` writing every
//! message it receives (parsed: recipient, subject, headers, body) as JSON
//! into a directory the test reads. Without python3 or aiosmtpd a test says
//! why and passes — except under `CI`, where it fails.

use crate::harness::*;
use crate::on_both_backends;
use crate::web_journey::{holders_answer, market, web_sign_in};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use symbolon_client::api::*;

/// aiosmtpd on 127.0.0.1:`port`, writing into `dir`.
struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `python3 -m aiosmtpd` can run; if not, says why (and fails under CI).
fn aiosmtpd_available(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let why = "python3 with aiosmtpd is not available (python3 -m pip install aiosmtpd)";
        assert!(std::env::var("CI").is_err(), "{test}: {why}");
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{test} skipped: {why}");
    }
    ok
}

impl SmtpSink {
    async fn start_on(port: u16, dir: tempfile::TempDir) -> Self {
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it");
        let mut child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "smtp_sink.Sink"])
            .arg(dir.path())
            .env("PYTHONPATH", &here)
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd");
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self { child, dir, port };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not listen on {port}");
    }

    async fn start() -> Self {
        Self::start_on(free_port(), tempfile::tempdir().unwrap()).await
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, oldest first.
    fn messages(&self) -> Vec<Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits (up to 20 s) until at least `n` messages arrived.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..400 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{} messages arrived, expected {n}: {:?}",
            self.messages().len(),
            self.messages()
        );
    }

    /// Stops the server, keeping what it received.
    fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn to(m: &Value) -> &str {
    m["rcpt_tos"][0].as_str().unwrap()
}

/// The `token` of an unsubscribe URL.
fn token_of(url: &str) -> String {
    let q = url.split_once("token=").unwrap().1;
    let q = q.trim_end_matches('>');
    form_urlencoded::parse(format!("t={q}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned()
}

/// Waits until the mail outbox holds no pending message.
async fn settled(srv: &TestServer) {
    for _ in 0..400 {
        if srv
            .count_sql("SELECT COUNT(*) FROM mail_outbox WHERE state = 'pending'")
            .await
            == 0
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mail still pending");
}

/// Holders hear of a request (with its deadline) in their own language;
/// the requester hears of offers; unticking a kind on /account stops it;
/// the unsubscribe link works without signing in (GET asks, POST does it).
async fn holders_hear_of_requests_in_their_language(backend: Backend) {
    if !aiosmtpd_available("holders_hear_of_requests_in_their_language") {
        return;
    }
    let smtp = SmtpSink::start().await;
    let url = smtp.url();
    let srv = TestServer::configured(
        backend,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| {
            c.smtp_url = Some(url);
        },
    )
    .await;
    let (_, holders, rkey, r) = market(&srv).await;
    let hana_email = web_login(&srv, holders[0].1.api_key().unwrap()).await;
    let ivo_email = web_login(&srv, holders[1].1.api_key().unwrap()).await;
    let ada_email = web_login(&srv, &rkey).await;
    // Ivo chooses Chinese messages on his account page.
    let ivo = web_sign_in(&srv, holders[1].1.api_key().unwrap()).await;
    let page = ivo.get("/account").await;
    assert!(page.body.contains("id=\"notifications\""), "{}", page.body);
    assert!(page.body.contains(&ivo_email));
    let csrf = page.csrf();
    let kinds: Vec<(String, String)> = [
        "request",
        "offer",
        "order_new",
        "order_placed",
        "shipped",
        "refunded",
        "dispute",
    ]
    .iter()
    .map(|k| (format!("kind_{k}"), "on".to_string()))
    .collect();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("mail_lang", "zh-CN")];
    fields.extend(kinds.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let saved = ivo.post("/account/notifications", &fields).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    // A language we do not write in: 422, the message beside the select.
    let bad = ivo
        .post(
            "/account/notifications",
            &[("csrf", &csrf), ("mail_lang", "fr-FR")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"mail_lang-error\""), "{}", bad.body);
    // Without the CSRF token: refused.
    let forged = ivo
        .post("/account/notifications", &[("mail_lang", "en-US")])
        .await;
    assert_eq!(forged.status, 403);

    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    let got = smtp.wait_for(2).await;
    let hana = got
        .iter()
        .find(|m| to(m) == hana_email)
        .expect("Hana's mail");
    let ivo_mail = got.iter().find(|m| to(m) == ivo_email).expect("Ivo's mail");
    assert_eq!(hana["subject"], "New request: trail camera");
    assert!(
        hana["body"].as_str().unwrap().contains("Answer before"),
        "{hana}"
    );
    assert!(
        hana["body"].as_str().unwrap().contains(" UTC"),
        "the deadline: {hana}"
    );
    assert_eq!(ivo_mail["subject"], "新请求：trail camera");
    assert!(
        ivo_mail["body"].as_str().unwrap().contains("之前回复"),
        "{ivo_mail}"
    );
    let unsub = hana["list_unsubscribe"].as_str().unwrap();
    assert!(
        unsub.starts_with(&format!("<{}/unsubscribe?token=", srv.url)),
        "{unsub}"
    );
    assert_eq!(hana["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    assert!(hana["body"]
        .as_str()
        .unwrap()
        .contains(unsub.trim_matches(['<', '>'])));
    assert!(hana["message_id"].as_str().unwrap().starts_with("<evt-"));

    // The requester hears of the offers.
    holders_answer(&holders, &["in stock", "有货"]).await;
    let got = smtp.wait_for(4).await;
    let offers: Vec<_> = got.iter().filter(|m| to(m) == ada_email).collect();
    assert_eq!(offers.len(), 2, "{got:?}");
    assert_eq!(offers[0]["subject"], "New offer for your demand");
    assert!(offers[0]["body"]
        .as_str()
        .unwrap()
        .contains(&format!("/demands/{}", d.id)));
    settled(&srv).await;

    // Hana's unsubscribe link, without signing in: GET asks, POST does it.
    let token = token_of(unsub);
    let anon = web_client();
    let ask = anon
        .get(format!("{}/unsubscribe", srv.url))
        .query(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(ask.status(), 200);
    let html = ask.text().await.unwrap();
    assert!(html.contains("id=\"btn-unsubscribe\""), "{html}");
    let off = srv
        .count_sql("SELECT COUNT(*) FROM mail_prefs WHERE off_kinds LIKE '%request%'")
        .await;
    assert_eq!(off, 0, "a GET changes nothing");
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let bad = anon
        .get(format!("{}/unsubscribe", srv.url))
        .query(&[("token", &tampered)])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
    // RFC 8058's one-click POST, as a mail client sends it.
    let done = anon
        .post(unsub.trim_matches(['<', '>']))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("id=\"unsubscribed\""));

    // Ivo unticks offers and requests on /account (his other kinds stay).
    let page = ivo.get("/account").await;
    assert!(page
        .body
        .contains("id=\"kind_request\" name=\"kind_request\" value=\"on\" checked"));
    let csrf = page.csrf();
    let saved = ivo
        .post(
            "/account/notifications",
            &[
                ("csrf", &csrf),
                ("mail_lang", "zh-CN"),
                ("kind_shipped", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let page = ivo.get("/account").await;
    assert!(page
        .body
        .contains("id=\"kind_request\" name=\"kind_request\" value=\"on\">"));

    // A second demand: nobody wants its requests any more.
    let before = smtp.messages().len();
    let (_, r2) = srv.account("Bo", &[Role::Requester]).await;
    r2.create_demand(&demand("trail camera")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    settled(&srv).await;
    assert_eq!(smtp.messages().len(), before, "{:?}", smtp.messages());
    assert_eq!(
        srv.count_sql("SELECT COUNT(*) FROM mail_outbox").await,
        4,
        "nothing queued for kinds turned off"
    );
}

on_both_backends!(holders_hear_of_requests_in_their_language);

/// Without `smtp_url` nothing is sent and nothing is queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_nothing_is_queued() {
    let srv = TestServer::start().await;
    let (_, holders, _, r) = market(&srv).await;
    web_login(&srv, holders[0].1.api_key().unwrap()).await;
    r.create_demand(&demand("trail camera")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM mail_outbox").await, 0);
    assert_eq!(srv.count_sql("SELECT COUNT(*) FROM mail_cursor").await, 0);
}

/// The SMTP server is down: the message is retried (with the schedule's
/// delays), never lost; a replica that died holding its lease loses it; after
/// a restart on the same database with the SMTP server up it arrives —
/// once, and each message once.
async fn a_down_smtp_server_delays_but_never_loses_or_repeats(backend: Backend) {
    if !aiosmtpd_available("a_down_smtp_server_delays_but_never_loses_or_repeats") {
        return;
    }
    let port = free_port();
    let srv = TestServer::configured(
        backend,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| {
            c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
            c.mail_retry_schedule = vec![Duration::from_millis(300); 30];
        },
    )
    .await;
    let (_, holders, _, r) = market(&srv).await;
    let emails = [
        web_login(&srv, holders[0].1.api_key().unwrap()).await,
        web_login(&srv, holders[1].1.api_key().unwrap()).await,
    ];
    r.create_demand(&demand("trail camera")).await.unwrap();
    // Attempts fail and are scheduled again.
    for _ in 0..200 {
        if srv
            .count_sql("SELECT COUNT(*) FROM mail_outbox WHERE state = 'pending' AND attempts >= 2 AND last_error IS NOT NULL")
            .await
            == 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        srv.count_sql("SELECT COUNT(*) FROM mail_outbox WHERE state = 'pending' AND attempts >= 2")
            .await,
        2,
        "both messages retried"
    );
    // The server stops; one message was claimed by a replica that died
    // before sending (its lease has run out).
    let srv = srv.restart_with(|c| c.smtp_url = None).await;
    srv.exec_sql("UPDATE mail_outbox SET leased_by = 'dead-replica', lease_until = 1 WHERE event_seq = (SELECT MIN(event_seq) FROM mail_outbox)")
        .await;
    let smtp = SmtpSink::start_on(port, tempfile::tempdir().unwrap()).await;
    let srv = srv
        .restart_with(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}")))
        .await;
    let got = smtp.wait_for(2).await;
    settled(&srv).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got_after = smtp.messages();
    assert_eq!(got_after.len(), 2, "each message once: {got_after:?}");
    let mut tos: Vec<_> = got.iter().map(|m| to(m).to_string()).collect();
    tos.sort();
    let mut want = emails.to_vec();
    want.sort();
    assert_eq!(tos, want);
    assert_eq!(
        srv.count_sql("SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent'")
            .await,
        2
    );
    let ids: std::collections::BTreeSet<_> = got
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let _ = smtp.stop();
}

on_both_backends!(a_down_smtp_server_delays_but_never_loses_or_repeats);
