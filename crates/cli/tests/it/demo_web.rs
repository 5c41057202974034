//! `symbolon demo --keep` leaves a server whose every account signs in on
//! the web: the demo prints each role's console URL with the email to sign
//! in as (password `symbolon-demo`), and each opens for its account.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

/// Stops the demo (SIGINT, as Ctrl-C would) when dropped.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// The CSRF token of the first form of `page`.
fn csrf(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[at..].split('"').next().unwrap_or_default().to_string()
}

#[test]
fn the_demo_prints_a_console_for_every_role_and_its_accounts_sign_in() {
    let mut child = crate::command()
        .args(["demo", "--keep", "--seed", "11"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the demo");
    let stdout = child.stdout.take().expect("stdout");
    let _demo = Demo(child);
    // The consoles: `    URL  as EMAIL — what`, after "In a browser".
    let mut consoles = Vec::new();
    let mut in_browser = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        if line.contains("Press Ctrl-C") {
            break;
        }
        if line.trim_start().starts_with("In a browser") {
            assert!(line.contains("symbolon-demo"), "the password: {line}");
            in_browser = true;
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if in_browser && words.len() > 3 && words[0].starts_with("http") && words[1] == "as" {
            consoles.push((words[0].to_string(), words[2].to_string()));
        }
    }
    let paths: Vec<&str> = consoles
        .iter()
        .map(|(u, _)| {
            &u[u.find("/demands")
                .or(u.find("/inbox"))
                .or(u.find("/catalog"))
                .unwrap_or(0)..]
        })
        .collect();
    assert_eq!(paths, ["/demands", "/inbox", "/catalog"], "{consoles:?}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http");
    rt.block_on(async {
        for (url, email) in &consoles {
            let (base, path) = url.split_at(url.rfind('/').expect("a path"));
            let login = http
                .get(format!("{base}/login"))
                .send()
                .await
                .expect("login");
            let pre = cookie(&login, "sym_pre").expect("a pre-session cookie");
            let token = csrf(&login.text().await.expect("page"));
            let body: String = [
                ("email", email.as_str()),
                ("password", "symbolon-demo"),
                ("csrf", &token),
                ("next", path),
            ]
            .iter()
            .map(|(k, v)| format!("{k}={}", v.replace('@', "%40").replace('/', "%2F")))
            .collect::<Vec<_>>()
            .join("&");
            let signed = http
                .post(format!("{base}/login"))
                .header("cookie", pre)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("sign in");
            assert_eq!(signed.status(), 303, "{email} signs in");
            let session = cookie(&signed, "sym_session").expect("a session");
            let page = http
                .get(url)
                .header("cookie", session)
                .send()
                .await
                .expect("console");
            assert_eq!(page.status(), 200, "{email} opens {url}");
            let html = page.text().await.expect("page");
            assert!(
                html.contains("action=\"/logout\""),
                "{email} is signed in on {url}"
            );
        }
    });
}
