//! Headless Chromium for the browser tests: one chromedriver per test, a
//! WebDriver session at a given viewport and language, full-page screenshots
//! to `target/test-artefacts/web/`, axe-core checks, and the WebDriver
//! virtual authenticator (passkeys).
//!
//! Needs Debian's `chromium` and `chromium-driver`, and axe-core's
//! `axe.min.js` (`.ci/run` fetches it with `npm pack` into
//! `target/tools/axe-core/`; `SYMBOLON_AXE` overrides the path). Without them
//! [`Chromium::tools`] says so and the test passes — except under `CI`,
//! where it fails.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A phone's CSS viewport (iPhone 12–15).
pub const PHONE: (u32, u32) = (390, 844);
/// A laptop's.
pub const DESKTOP: (u32, u32) = (1280, 900);

/// The tools a browser test needs.
pub struct Chromium {
    chromium: String,
    chromedriver: String,
    axe: PathBuf,
}

impl Chromium {
    /// The tools, or `None` (after saying why) when one is missing outside CI.
    pub fn tools(test: &str) -> Option<Chromium> {
        let chromium = std::env::var("SYMBOLON_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
        let chromedriver =
            std::env::var("SYMBOLON_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
        let axe = std::env::var("SYMBOLON_AXE")
            .map(PathBuf::from)
            .unwrap_or_else(|_| target_dir().join("tools/axe-core/axe.min.js"));
        let missing: Vec<&str> = [
            (chromium.as_str(), "chromium"),
            (chromedriver.as_str(), "chromium-driver"),
            (axe.to_str().unwrap_or(""), "axe-core (npm pack axe-core)"),
        ]
        .into_iter()
        .filter(|(p, _)| !Path::new(p).exists())
        .map(|(_, what)| what)
        .collect();
        if missing.is_empty() {
            return Some(Chromium {
                chromium,
                chromedriver,
                axe,
            });
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test {test}: missing {missing:?}"
        );
        eprintln!("browser test skipped: {test} needs {missing:?} (see .ci/run)");
        None
    }

    /// A driver and a browser session at `size`, asking for pages in `lang`.
    pub async fn open(&self, size: (u32, u32), lang: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(&self.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": self.chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--window-size={},{}", size.0, size.1), "--hide-scrollbars",
                         format!("--lang={lang}")],
                "prefs": { "intl.accept_languages": lang },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session");
        Browser {
            client,
            size,
            axe: std::fs::read_to_string(&self.axe).expect("axe.min.js"),
            _driver: driver,
        }
    }
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// Where the web tests' screenshots go.
pub fn web_artefacts() -> PathBuf {
    let d = target_dir().join("test-artefacts/web");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One browser session (and its chromedriver, stopped on drop).
pub struct Browser {
    pub client: Client,
    size: (u32, u32),
    axe: String,
    _driver: Driver,
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The element `css`, waited for up to 15 s; on failure, the page is shown.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!(
                "no {css} ({e}); the browser shows {}:\n{}",
                self.client.current_url().await.unwrap(),
                self.client.source().await.unwrap_or_default()
            ),
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Types `value` into the field `css` (clearing it first).
    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.wait_for(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// Waits (up to 20 s) until `css` matches `n` elements (at least `n`
    /// when `at_least`), without reloading.
    pub async fn wait_count(&self, css: &str, n: usize, at_least: bool) {
        let started = Instant::now();
        loop {
            let got = self.client.find_all(Locator::Css(css)).await.unwrap().len();
            if got == n || (at_least && got > n) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{got} of {n} {css} on {}:\n{}",
                self.path().await,
                self.client.source().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Marks the page; [`Browser::still_marked`] then says whether it was not reloaded.
    pub async fn mark(&self) {
        self.client
            .execute("window.__stayed = true", vec![])
            .await
            .unwrap();
    }

    pub async fn still_marked(&self) -> bool {
        self.client
            .execute("return window.__stayed === true", vec![])
            .await
            .unwrap()
            .as_bool()
            == Some(true)
    }

    /// Clicks `css` (a submit button or a link) and waits (up to 20 s) until
    /// another document has loaded, so what follows never finds the old page.
    pub async fn click_and_load(&self, css: &str) {
        self.client
            .execute("window.__before_click = true", vec![])
            .await
            .unwrap();
        self.click(css).await;
        let started = Instant::now();
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__before_click !== true && document.readyState === 'complete'",
                    vec![],
                )
                .await
                .map(|v| v.as_bool() == Some(true))
                .unwrap_or(false);
            if loaded {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no new page after clicking {css}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.unwrap();
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Checks the page with axe-core (WCAG 2.0–2.2 A and AA rules): no
    /// serious or critical violation.
    pub async fn axe(&self, page: &str) {
        self.client.execute(&self.axe, vec![]).await.unwrap();
        let v = self
            .client
            .execute(
                "return axe.run(document,{runOnly:{type:'tag',values:['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})\
                 .then(r=>r.violations.filter(v=>v.impact==='serious'||v.impact==='critical')\
                 .map(v=>({id:v.id,impact:v.impact,help:v.help,nodes:v.nodes.map(n=>n.target.join(' '))})))",
                vec![],
            )
            .await
            .unwrap();
        let list = v.as_array().cloned().unwrap_or_default();
        assert!(
            list.is_empty(),
            "axe-core on {page}: {}",
            serde_json::to_string_pretty(&list).unwrap()
        );
    }

    /// The page fits its viewport: nothing scrolls sideways.
    pub async fn no_sideways_scroll(&self, page: &str) {
        let overflow = self
            .client
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{page}: horizontal overflow {overflow}"
        );
    }

    /// A full-page screenshot `web/<name>.png`, then the window back to its size.
    pub async fn shot(&self, name: &str) {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(self.size.1 as u64) as u32;
        let _ = self
            .client
            .set_window_size(self.size.0, height.clamp(self.size.1, 6000))
            .await;
        let png = self.client.screenshot().await.unwrap();
        assert_eq!(&png[1..4], b"PNG");
        std::fs::write(web_artefacts().join(format!("{name}.png")), &png).unwrap();
        let _ = self.client.set_window_size(self.size.0, self.size.1).await;
    }

    /// Everything a page must pass: axe, no sideways scroll, a screenshot.
    pub async fn check_page(&self, name: &str) {
        self.shot(name).await;
        self.axe(name).await;
        self.no_sideways_scroll(name).await;
    }

    /// Adds a CTAP2 platform authenticator with user verification (the
    /// WebDriver virtual authenticator), returning its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        let r = self
            .client
            .issue_cmd(WebAuthn {
                path: "authenticator",
                method: axum::http::Method::POST,
                body: Some(serde_json::json!({
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserVerified": true,
                })),
            })
            .await
            .expect("a virtual authenticator");
        r.as_str().map(str::to_string).unwrap_or_default()
    }

    /// The credentials the virtual authenticator `id` holds.
    pub async fn authenticator_credentials(&self, id: &str) -> Vec<serde_json::Value> {
        let path: &'static str = Box::leak(format!("authenticator/{id}/credentials").into());
        self.client
            .issue_cmd(WebAuthn {
                path,
                method: axum::http::Method::GET,
                body: None,
            })
            .await
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// A command of the WebAuthn WebDriver extension
/// (`/session/{id}/webauthn/...`).
#[derive(Debug)]
struct WebAuthn {
    path: &'static str,
    method: axum::http::Method,
    body: Option<serde_json::Value>,
}

impl WebDriverCompatibleCommand for WebAuthn {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(|b| b.to_string()),
        )
    }
}
