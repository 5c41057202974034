//! An API key made on the web account page drives the CLI: sign up on the
//! real server's `/signup`, make a key on `/account`, use it with
//! `symbolon --key … account show`; once revoked on the page, the CLI is
//! refused.

use super::Server;

/// The value after `marker` up to the next `"` or `<`.
fn after(page: &str, marker: &str) -> String {
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {page}"))
        + marker.len();
    page[at..]
        .split(['"', '<'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}

async fn post(
    http: &reqwest::Client,
    url: String,
    cookie: &str,
    body: &[(&str, &str)],
) -> reqwest::Response {
    let body: String = body
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+").replace('@', "%40")))
        .collect::<Vec<_>>()
        .join("&");
    http.post(url)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("post")
}

async fn account_page(http: &reqwest::Client, url: &str, session: &str) -> String {
    http.get(format!("{url}/account"))
        .header("cookie", session)
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("page")
}

#[test]
fn a_key_made_on_the_account_page_drives_the_cli_until_revoked() {
    let srv = Server::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    let (key, session, csrf) = rt.block_on(async {
        let r = http
            .get(format!("{}/signup", srv.url))
            .send()
            .await
            .expect("signup page");
        let pre = cookie(&r, "sym_pre");
        let page = r.text().await.expect("page");
        let csrf = after(&page, "name=\"csrf\" value=\"");
        let r = post(
            &http,
            format!("{}/signup", srv.url),
            &pre,
            &[
                ("csrf", &csrf),
                ("name", "Web Person"),
                ("email", "web@example.org"),
                ("password", "correct horse battery"),
                ("roles", "requester"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        let session = cookie(&r, "sym_session");
        let page = account_page(&http, &srv.url, &session).await;
        let csrf = after(&page, "name=\"csrf\" value=\"");
        let r = post(
            &http,
            format!("{}/account/keys", srv.url),
            &session,
            &[("csrf", &csrf), ("label", "cli")],
        )
        .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.expect("page");
        (after(&page, "id=\"new-key-value\">"), session, csrf)
    });
    let me = srv.json(Some(&key), &["account", "show"]);
    assert_eq!(me["name"], "Web Person");
    rt.block_on(async {
        let page = account_page(&http, &srv.url, &session).await;
        let id = after(
            &page[page.find("/account/keys/revoke").expect("a key")..],
            "name=\"id\" value=\"",
        );
        let r = post(
            &http,
            format!("{}/account/keys/revoke", srv.url),
            &session,
            &[("csrf", &csrf), ("id", &id)],
        )
        .await;
        assert_eq!(r.status(), 303);
    });
    let out = srv.run(Some(&key), true, &["account", "show"]);
    assert!(!out.status.success(), "a revoked key is refused");
}

/// `account create --email` reads the password from standard input (never
/// the command line); the account then signs in on the web. Without a
/// password on stdin it refuses before registering anything.
#[test]
fn an_account_made_by_the_cli_with_an_email_signs_in_on_the_web() {
    use std::io::Write;
    let srv = Server::start();
    let create = |stdin: &[u8]| {
        let mut c = crate::command();
        let mut child = c
            .args(["--server", &srv.url, "--json", "account", "create"])
            .args(["--name", "Cli Person", "--role", "requester"])
            .args(["--email", "Cli@Example.org"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run the CLI");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin)
            .expect("write");
        child.wait_with_output().expect("output")
    };
    let refused = create(b"");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("password on standard input"));
    let made = create(b"a long passphrase\n");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    rt.block_on(async {
        let r = http
            .get(format!("{}/login", srv.url))
            .send()
            .await
            .expect("login page");
        let pre = cookie(&r, "sym_pre");
        let page = r.text().await.expect("page");
        let csrf = after(&page, "name=\"csrf\" value=\"");
        let r = post(
            &http,
            format!("{}/login", srv.url),
            &pre,
            &[
                ("csrf", &csrf),
                ("email", "cli@example.org"),
                ("password", "a long passphrase"),
                ("next", "/account"),
            ],
        )
        .await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
        let session = cookie(&r, "sym_session");
        let page = account_page(&http, &srv.url, &session).await;
        assert!(page.contains("Cli Person") && page.contains("Cli@Example.org"));
    });
}
