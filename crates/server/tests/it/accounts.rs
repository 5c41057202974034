//! Accounts for people on the web, over real HTTP on both backends: sign-up,
//! a session that works, an API key made on the account page that
//! authenticates the API (the client crate the CLI uses), wrong passwords
//! (one generic 401), throttling (the 11th try is 429), CSRF and
//! cross-origin POSTs (403), sessions that expire or are revoked from the
//! devices list, and forms that come back with the message beside the field
//! and the input kept.

use crate::harness::*;
use crate::on_both_backends;
use symbolon_client::api::*;
use symbolon_core::limits::{MAX_PASSWORD_CHARS, SIGN_IN_WINDOW_SECONDS, WEB_SESSION_IDLE_SECONDS};

/// A page's pre-session cookie and CSRF token, for a form before sign-in.
async fn pre_form(srv: &TestServer, http: &reqwest::Client, path: &str) -> (String, String) {
    let r = http.get(format!("{}{path}", srv.url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let pre = set_cookie(&r, "sym_pre").expect("pre cookie");
    (pre, csrf_of(&r.text().await.unwrap()))
}

async fn post_form(
    srv: &TestServer,
    http: &reqwest::Client,
    path: &str,
    cookie: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        body.append_pair(k, v);
    }
    http.post(format!("{}{path}", srv.url))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.finish())
        .send()
        .await
        .unwrap()
}

/// Signs up through the form: the answer.
async fn sign_up(
    srv: &TestServer,
    http: &reqwest::Client,
    name: &str,
    email: &str,
    password: &str,
    roles: &[&str],
) -> reqwest::Response {
    let (pre, csrf) = pre_form(srv, http, "/signup").await;
    let mut pairs = vec![
        ("csrf", csrf.as_str()),
        ("name", name),
        ("email", email),
        ("password", password),
    ];
    for r in roles {
        pairs.push(("roles", r));
    }
    post_form(srv, http, "/signup", &pre, &pairs).await
}

async fn get(
    http: &reqwest::Client,
    srv: &TestServer,
    path: &str,
    cookie: &str,
) -> reqwest::Response {
    http.get(format!("{}{path}", srv.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// The `id` field of the first form posting to `action` on a page.
fn id_posted_to(page: &str, action: &str) -> String {
    page.split(&format!("action=\"{action}\""))
        .nth(1)
        .unwrap()
        .split("name=\"id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// The session's CSRF token (from the account page).
async fn session_csrf(srv: &TestServer, http: &reqwest::Client, session: &str) -> String {
    let r = get(http, srv, "/account", session).await;
    assert_eq!(r.status(), 200);
    csrf_of(&r.text().await.unwrap())
}

async fn sign_up_makes_a_session_and_api_keys(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let http = web_client();
    let r = sign_up(
        &srv,
        &http,
        "Ada",
        "Ada@Example.org",
        WEB_PASSWORD,
        &["requester", "holder"],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(r.headers()["location"], "/account");
    let raw = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("sym_session="))
        .unwrap();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax") && raw.contains("Path=/"),
        "{raw}"
    );
    let session = set_cookie(&r, "sym_session").unwrap();

    // The session works: the account page with the profile and the menu.
    let page = get(&http, &srv, "/account", &session)
        .await
        .text()
        .await
        .unwrap();
    for want in [
        "id=\"account-name\">Ada<",
        "Ada@Example.org",
        "href=\"/demands\"",
        "href=\"/orders\"",
        "href=\"/account\"",
        "id=\"profile\"",
        "this device",
    ] {
        assert!(page.contains(want), "{want} in {page}");
    }
    let csrf = csrf_of(&page);

    // An API key made on the page (shown once) authenticates the API.
    let r = post_form(
        &srv,
        &http,
        "/account/keys",
        &session,
        &[("csrf", &csrf), ("label", "laptop CLI")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let shown = r.text().await.unwrap();
    let key = shown
        .split("id=\"new-key-value\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(key.starts_with("sk_"), "{key}");
    let api = srv.anon().with_key(&key);
    let me = api.whoami().await.unwrap();
    assert_eq!(me.name, "Ada");
    assert_eq!(me.roles, vec![Role::Requester, Role::Holder]);
    api.set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    // Listed by label and last characters, never shown again.
    let page = get(&http, &srv, "/account", &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("laptop CLI") && page.contains(&key[key.len() - 4..]));
    assert!(!page.contains(&key), "the key is shown only once");
    assert!(
        page.contains("Ships") || page.contains("value=\"Ada Lovelace\""),
        "{page}"
    );
    // Revoked on the page: it stops authenticating.
    let key_id = id_posted_to(&page, "/account/keys/revoke");
    let r = post_form(
        &srv,
        &http,
        "/account/keys/revoke",
        &session,
        &[("csrf", &csrf), ("id", &key_id)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_api_err(api.whoami().await, 401, "unauthorized");

    // Sign out revokes the session in the store: the cookie stops working.
    let r = post_form(&srv, &http, "/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    let r = get(&http, &srv, "/account", &session).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=/account");

    // Signing in again (the email in another case) makes a new session.
    let r = sign_in(&srv, &http, "ada@EXAMPLE.org", WEB_PASSWORD, "/account").await;
    assert_eq!(r.status(), 303);
    let again = set_cookie(&r, "sym_session").unwrap();
    assert_ne!(again, session, "a new session id at every sign-in");
    assert_eq!(get(&http, &srv, "/account", &again).await.status(), 200);
}

async fn wrong_passwords_are_generic_and_throttled(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let http = web_client();
    let r = sign_up(
        &srv,
        &http,
        "Bo",
        "bo@example.org",
        WEB_PASSWORD,
        &["requester"],
    )
    .await;
    assert_eq!(r.status(), 303);
    // An unknown email and a wrong password: the same 401 and message.
    let unknown = sign_in(&srv, &http, "nobody@example.org", WEB_PASSWORD, "/login").await;
    assert_eq!(unknown.status(), 401);
    let unknown = unknown.text().await.unwrap();
    assert!(unknown.contains("Wrong email or password."), "{unknown}");
    assert!(
        unknown.contains("value=\"nobody@example.org\""),
        "the email is kept"
    );
    assert!(!unknown.contains(WEB_PASSWORD), "never the password");
    clock.advance_seconds(SIGN_IN_WINDOW_SECONDS + 1); // that failure leaves the window
    for i in 1..=10 {
        let r = sign_in(&srv, &http, "bo@example.org", "wrong password", "/login").await;
        assert_eq!(r.status(), 401, "try {i}");
        assert!(r.text().await.unwrap().contains("Wrong email or password."));
    }
    // The 11th, even with the right password: 429 and when to come back.
    let r = sign_in(&srv, &http, "bo@example.org", WEB_PASSWORD, "/login").await;
    assert_eq!(r.status(), 429);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Too many failed sign-ins; try again in 15 minutes."),
        "{page}"
    );
    // Once the failures leave the window, the right password works.
    clock.advance_seconds(SIGN_IN_WINDOW_SECONDS);
    let r = sign_in(&srv, &http, "bo@example.org", WEB_PASSWORD, "/login").await;
    assert_eq!(r.status(), 303);
}

async fn forms_need_their_token_and_this_site(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let http = web_client();
    let r = sign_up(
        &srv,
        &http,
        "Cy",
        "cy@example.org",
        WEB_PASSWORD,
        &["holder"],
    )
    .await;
    let session = set_cookie(&r, "sym_session").unwrap();
    let csrf = session_csrf(&srv, &http, &session).await;
    // Without the token, or with another: 403, nothing made.
    for body in [vec![("label", "k")], vec![("label", "k"), ("csrf", "AAAA")]] {
        let r = post_form(&srv, &http, "/account/keys", &session, &body).await;
        assert_eq!(r.status(), 403);
    }
    let (pre, _) = pre_form(&srv, &http, "/login").await;
    let r = post_form(
        &srv,
        &http,
        "/login",
        &pre,
        &[("email", "cy@example.org"), ("password", WEB_PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "sym_session").is_none());
    // From another site (by Origin, or by Sec-Fetch-Site): 403 even with the token.
    for (h, v) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = http
            .post(format!("{}/account/keys", srv.url))
            .header("cookie", &session)
            .header(h, v)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("label=k&csrf={csrf}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{h}: {v}");
    }
    // From this site: made.
    let r = http
        .post(format!("{}/account/keys", srv.url))
        .header("cookie", &session)
        .header("origin", srv.url.as_str())
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("label=k&csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn sessions_expire_and_are_revoked_from_the_devices_list(backend: Backend) {
    let clock = manual_clock();
    let srv = TestServer::start_on(backend, clock.clone()).await;
    let http = web_client();
    let r = sign_up(
        &srv,
        &http,
        "Di",
        "di@example.org",
        WEB_PASSWORD,
        &["requester"],
    )
    .await;
    let phone = set_cookie(&r, "sym_session").unwrap();
    let laptop = {
        let r = sign_in(&srv, &http, "di@example.org", WEB_PASSWORD, "/login").await;
        set_cookie(&r, "sym_session").unwrap()
    };
    // The phone lists both and signs the laptop out.
    let page = get(&http, &srv, "/account", &phone)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches("class=\"device\"").count(), 2, "{page}");
    let csrf = csrf_of(&page);
    let other = id_posted_to(&page, "/account/devices/revoke");
    assert!(other.starts_with("ses_"));
    let r = post_form(
        &srv,
        &http,
        "/account/devices/revoke",
        &phone,
        &[("csrf", &csrf), ("id", &other)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        get(&http, &srv, "/account", &laptop).await.status(),
        303,
        "revoked"
    );
    assert_eq!(get(&http, &srv, "/account", &phone).await.status(), 200);
    // Unused past the inactivity expiry: signed out.
    clock.advance_seconds(WEB_SESSION_IDLE_SECONDS - 1);
    assert_eq!(
        get(&http, &srv, "/account", &phone).await.status(),
        200,
        "used: kept alive"
    );
    clock.advance_seconds(WEB_SESSION_IDLE_SECONDS);
    let r = get(&http, &srv, "/account", &phone).await;
    assert_eq!(r.status(), 303, "expired");
}

async fn bad_sign_ups_come_back_with_the_message_beside_the_field(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let http = web_client();
    let r = sign_up(
        &srv,
        &http,
        "Ed",
        "ed@example.org",
        WEB_PASSWORD,
        &["provider"],
    )
    .await;
    assert_eq!(r.status(), 303);
    // The same email in another case: 409, beside the email field.
    let r = sign_up(
        &srv,
        &http,
        "Eddie",
        "ED@Example.ORG",
        "another password",
        &["holder"],
    )
    .await;
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("aria-invalid=\"true\" aria-describedby=\"email-error\""),
        "{page}"
    );
    assert!(
        page.contains("id=\"email-error\">An account already uses this email"),
        "{page}"
    );
    assert!(page.contains("value=\"Eddie\"") && page.contains("value=\"ED@Example.ORG\""));
    assert!(
        page.contains("value=\"holder\" checked"),
        "the roles are kept"
    );
    assert!(!page.contains("another password"), "never the password");
    // A short password: 422 beside the password, the rest kept.
    let r = sign_up(
        &srv,
        &http,
        "Fay",
        "fay@example.org",
        "short",
        &["requester"],
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"password-error\">Use 8 to 128 characters."),
        "{page}"
    );
    assert!(page.contains("value=\"Fay\"") && page.contains("value=\"fay@example.org\""));
    // No role, and a bad email: 422 beside each.
    let r = sign_up(&srv, &http, "Fay", "fay@example.org", WEB_PASSWORD, &[]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"roles-error\""));
    let r = sign_up(
        &srv,
        &http,
        "Fay",
        "fay.example.org",
        WEB_PASSWORD,
        &["holder"],
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"email-error\"") && page.contains("value=\"fay.example.org\""));
}

/// `POST /v1/accounts` with a `login` makes an account that also signs in
/// on the web; its email is unique case-insensitively with the web's, and
/// its fields are checked as `login.email` and `login.password`.
async fn api_accounts_may_bring_a_web_login(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let anon = srv.anon();
    let with_login = |name: &str, email: &str, password: &str| CreateAccount {
        name: name.into(),
        roles: vec![Role::Requester],
        login: Some(WebLogin {
            email: email.into(),
            password: password.into(),
        }),
    };
    let made = anon
        .create_account(&with_login("Gus", "Gus@Example.org", "long enough pw"))
        .await
        .unwrap();
    let signed = sign_in(
        &srv,
        &web_client(),
        "gus@example.org",
        "long enough pw",
        "/account",
    )
    .await;
    assert_eq!(signed.status(), 303);
    let session = set_cookie(&signed, "sym_session").expect("a session");
    let page = web_client()
        .get(format!("{}/account", srv.url))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Gus@Example.org"),
        "the account page shows the login"
    );
    // The same account: its API key works, and it is the one signed in.
    assert_eq!(
        anon.with_key(&made.api_key).whoami().await.unwrap().id,
        made.id
    );
    let details = assert_api_err(
        anon.create_account(&with_login("Gus 2", "GUS@example.ORG", "long enough pw"))
            .await,
        409,
        "email_taken",
    );
    assert_eq!(details.unwrap()["field"], "login.email");
    for (email, password, field) in [
        ("no-at-sign", "long enough pw", "login.email"),
        ("h@example.org", "short", "login.password"),
        (
            "h@example.org",
            &"x".repeat(MAX_PASSWORD_CHARS + 1),
            "login.password",
        ),
    ] {
        let details = assert_api_err(
            anon.create_account(&with_login("Hal", email, password))
                .await,
            400,
            "invalid_field",
        );
        assert_eq!(
            details.unwrap()["field"],
            field,
            "{email} / {}",
            password.len()
        );
    }
    // At the edge: the longest password is taken.
    anon.create_account(&with_login(
        "Ida",
        "ida@example.org",
        &"y".repeat(MAX_PASSWORD_CHARS),
    ))
    .await
    .unwrap();
    // The password never shows in Debug output (logs).
    let dbg = format!("{:?}", with_login("Jo", "jo@example.org", "hunter2hunter2"));
    assert!(
        !dbg.contains("hunter2") && dbg.contains("jo@example.org"),
        "{dbg}"
    );
    // Without a login, an API-only account: no web sign-in.
    let plain = anon
        .create_account(&CreateAccount {
            name: "Kim".into(),
            roles: vec![Role::Holder],
            login: None,
        })
        .await
        .unwrap();
    assert!(!plain.id.is_empty());
}

on_both_backends!(
    api_accounts_may_bring_a_web_login,
    sign_up_makes_a_session_and_api_keys,
    wrong_passwords_are_generic_and_throttled,
    forms_need_their_token_and_this_site,
    sessions_expire_and_are_revoked_from_the_devices_list,
    bad_sign_ups_come_back_with_the_message_beside_the_field,
);

/// The pass page sends visitors to sign in and back; signed in on the web,
/// ordering from it works.
#[tokio::test]
async fn the_pass_page_signs_in_with_the_new_form_and_orders() {
    let srv = TestServer::start().await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let prod = p
        .create_product(&product("Lamp", "home/lighting", "20.00", 5))
        .await
        .unwrap();
    let pass = p.create_pass(&shareable(&prod.id, 100)).await.unwrap();
    let http = web_client();
    let page = http
        .get(format!("{}/p/{}", srv.url, pass.id))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let login = format!("/login?next=%2Fp%2F{}", pass.id);
    assert!(page.contains(&login), "{page}");
    assert!(!page.contains("api_key"));
    // Sign up from there, come back, order and pay.
    let (pre, csrf) = pre_form(&srv, &http, &format!("/signup?next=/p/{}", pass.id)).await;
    let back = format!("/p/{}", pass.id);
    let r = post_form(
        &srv,
        &http,
        "/signup",
        &pre,
        &[
            ("csrf", &csrf),
            ("name", "Ada"),
            ("email", "ada@example.org"),
            ("password", WEB_PASSWORD),
            ("roles", "requester"),
            ("next", &back),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], back.as_str());
    let session = set_cookie(&r, "sym_session").unwrap();
    let page = get(&http, &srv, &back, &session)
        .await
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let r = post_form(
        &srv,
        &http,
        &format!("/p/{}/order", pass.id),
        &session,
        &[
            ("csrf", &csrf),
            ("action", "order_and_pay"),
            ("name", "Ada Lovelace"),
            ("line1", "12 St James's Square"),
            ("city", "London"),
            ("postal_code", "SW1Y 4JH"),
            ("country", "gb"),
            ("card_number", "4242 4242 4242 4242"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/orders/ord_"));
}
