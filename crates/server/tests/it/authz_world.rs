//! The fixtures of the authorization matrix, built once per backend over
//! real HTTP: party A's objects of every kind (owned by one provider, one
//! holder, one requester), strangers of every role, an operator, and the
//! credentials that must not work (a revoked API key, a signed-out and an
//! expired web session, an unknown key, a key under another scheme).

use crate::authz_policy::Party;
use crate::harness::*;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_core::SystemClock;
use symbolon_seal as seal;

/// Who makes a call.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: &'static str,
    pub roles: Vec<Role>,
    /// Which of A's parties it is, if any.
    pub party: Option<Party>,
    /// Whether its credentials are good (else it must be treated as anonymous).
    pub signed_in: bool,
    /// The `Authorization` header it sends to the API, if any.
    pub authorization: Option<String>,
    /// The `Cookie` header it sends to pages.
    pub cookie: String,
    /// The CSRF token its forms carry.
    pub csrf: String,
    /// The token of forms made before sign-in (bound to its `sym_pre` cookie).
    pub pre_csrf: String,
}

/// Party A's objects, the actors, and what each must never read.
pub struct World {
    pub srv: TestServer,
    pub actors: Vec<Actor>,
    /// Fixture name → value, for paths and bodies (`{name}`).
    pub ids: BTreeMap<&'static str, String>,
    /// Strings no response may show an actor, with the actors allowed to see each.
    pub secrets: Vec<(String, Vec<&'static str>)>,
    /// The ids of A's objects that only its parties may see.
    pub private_ids: Vec<String>,
    pub clients: BTreeMap<&'static str, Client>,
}

/// A secret ship-to address: only the requester and its seller (and the
/// operator judging a dispute) may read it.
pub const SHIP_NAME: &str = "Zelda Shipwright";
pub const SHIP_LINE: &str = "7 Hidden Mews";
pub const SHIP_POSTCODE: &str = "ZZ9 9ZZ";
pub const CARD: &str = "4242424242424242";

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Registers an age recipient and a signing key for an account.
async fn party_keys(c: &Client, seed: u8) -> (seal::Identity, symbolon_pass::ProviderKey, String) {
    let id = seal::Identity::generate();
    let key = symbolon_pass::ProviderKey::from_secret_bytes([seed; 32]);
    let body = SetPartyKeys {
        age_recipient: id.recipient().into(),
        signing_jwk: serde_json::to_value(key.jwk()).unwrap(),
    };
    c.set_party_keys(&body).await.unwrap();
    let json = serde_json::to_string(&body).unwrap();
    (id, key, json)
}

/// The page's CSRF token and the cookie a visitor's forms need.
async fn visitor(srv: &TestServer) -> (String, String) {
    let login = web_client()
        .get(format!("{}/login", srv.url))
        .send()
        .await
        .unwrap();
    let pre = set_cookie(&login, "sym_pre").expect("a pre-session cookie");
    (pre, csrf_of(&login.text().await.unwrap()))
}

/// A signed-in session's cookie and CSRF token, made with `user_agent`.
async fn session(srv: &TestServer, api_key: &str, user_agent: &str) -> (String, String) {
    let email = web_login(srv, api_key).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .unwrap();
    let r = sign_in(srv, &http, &email, WEB_PASSWORD, "/account").await;
    assert_eq!(r.status(), 303);
    let cookie = set_cookie(&r, "sym_session").expect("a session cookie");
    let page = http
        .get(format!("{}/account", srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    (cookie, csrf_of(&page.text().await.unwrap()))
}

impl World {
    pub async fn build(backend: Backend) -> Self {
        // The matrix sends a few thousand requests, one at a time, from a
        // dozen keys and sessions: the per-key rate limit is raised so that
        // it cannot decide a cell (`rate_limits.rs` tests it).
        let srv = TestServer::configured(backend, Arc::new(SystemClock), |config| {
            config.rate_limit_per_second = 1_000_000;
            config.rate_limit_burst = 1_000_000;
        })
        .await;
        let mut ids = BTreeMap::new();
        let mut clients = BTreeMap::new();
        let mut keys = BTreeMap::new();
        let mut account_ids = BTreeMap::new();
        let people: [(&'static str, &[Role]); 7] = [
            ("provider_a", &[Role::Provider]),
            ("provider_b", &[Role::Provider]),
            ("holder_a", &[Role::Holder]),
            ("holder_b", &[Role::Holder]),
            ("requester_a", &[Role::Requester]),
            ("requester_b", &[Role::Requester]),
            ("multi", &[Role::Provider, Role::Holder, Role::Requester]),
        ];
        for (name, roles) in people {
            let made = srv
                .anon()
                .create_account(&CreateAccount {
                    name: name.into(),
                    roles: roles.to_vec(),
                    login: None,
                })
                .await
                .unwrap();
            clients.insert(name, srv.anon().with_key(&made.api_key));
            keys.insert(name, made.api_key);
            account_ids.insert(name, made.id);
        }
        let op = symbolon_server::admin::create_operator(srv.config(), "operator")
            .await
            .unwrap();
        clients.insert("operator", srv.anon().with_key(&op.api_key));
        keys.insert("operator", op.api_key);
        account_ids.insert("operator", op.id);
        // A second holder the demand reaches (a demand needs two), not an actor.
        let (hugo_id, hugo) = srv.account("hugo", &[Role::Holder]).await;

        let p = &clients["provider_a"];
        let h = &clients["holder_a"];
        let r = &clients["requester_a"];
        let lamp = p
            .create_product(&product("Brass desk lamp", "home/lighting", "40.00", 20))
            .await
            .unwrap();
        let spare = p
            .create_product(&product("Paper lantern", "home/lighting", "15.00", 5))
            .await
            .unwrap();
        let camera = p
            .create_product(&product(
                "Vintage rangefinder camera",
                "electronics/photo",
                "300.00",
                3,
            ))
            .await
            .unwrap();
        let pass = p.create_pass(&shareable(&lamp.id, 1_000)).await.unwrap();
        let spare_pass = p.create_pass(&shareable(&spare.id, 1_000)).await.unwrap();
        let upass = p.create_pass(&unique(&camera.id, 3, 1_000)).await.unwrap();
        for holder in [&account_ids["holder_a"], &hugo_id] {
            p.grant(&pass.id, &grant(holder)).await.unwrap();
        }
        p.grant(
            &upass.id,
            &CreateGrant {
                holder_id: account_ids["holder_a"].clone(),
                units: Some(3),
            },
        )
        .await
        .unwrap();
        // A stranger holder holds another provider's pass.
        let pb = &clients["provider_b"];
        let other = pb
            .create_product(&product("Teak chair", "home/furniture", "80.00", 5))
            .await
            .unwrap();
        let other_pass = pb.create_pass(&shareable(&other.id, 500)).await.unwrap();
        pb.grant(&other_pass.id, &grant(&account_ids["holder_b"]))
            .await
            .unwrap();
        h.set_holder_profile(&fields(&["home"])).await.unwrap();
        hugo.set_holder_profile(&fields(&["home"])).await.unwrap();

        // Sealed secret on A's pass: keys, the seal, the holder's share.
        let (_, pkey, party_keys_json) = party_keys(p, 11).await;
        let (hid, _, _) = party_keys(h, 12).await;
        let (rid, _, _) = party_keys(r, 13).await;
        let sealed = seal::seal(&pass.id, b"door code 4711", 2, 2).unwrap();
        let seal_body = PassSeal {
            header: seal::sign_header(&sealed.header, &pkey),
            payload: b64(&sealed.payload),
        };
        p.put_seal(&pass.id, &seal_body).await.unwrap();
        let to_holder = b64(&seal::wrap(hid.recipient(), &sealed.shares[0]).unwrap());
        p.share_to_holder(
            &pass.id,
            &ShareToHolder {
                holder_id: account_ids["holder_a"].clone(),
                wrapped: to_holder.clone(),
            },
        )
        .await
        .unwrap();
        let to_requester = b64(&seal::wrap(rid.recipient(), &sealed.shares[1]).unwrap());

        // The requester: a private address and card, a demand, an offer accepted, an order paid.
        r.set_requester_profile(&RequesterProfileUpdate {
            ship_to: Some(Address {
                name: SHIP_NAME.into(),
                line1: SHIP_LINE.into(),
                line2: None,
                city: "Hiddenville".into(),
                postal_code: SHIP_POSTCODE.into(),
                country: "GB".into(),
            }),
            payment_method: Some(PaymentMethodInput {
                kind: "sandbox_card".into(),
                number: CARD.into(),
            }),
        })
        .await
        .unwrap();
        for other in ["requester_b", "multi"] {
            clients[other]
                .set_requester_profile(&profile("4000056655665556"))
                .await
                .unwrap();
        }
        let d = r.create_demand(&demand("brass desk lamp")).await.unwrap();
        let interaction = h.inbox(None, None).await.unwrap().items.remove(0);
        let offer = h
            .offer(
                &interaction.id,
                &CreateOffer {
                    pass_id: pass.id.clone(),
                    note: Some("a fine lamp".into()),
                },
            )
            .await
            .unwrap();
        h.share_with_offer(
            &offer.id,
            &WrappedShares {
                wrapped: vec![to_requester.clone()],
            },
        )
        .await
        .unwrap();
        r.accept(&offer.id).await.unwrap();
        let ord = r.create_order(&order(&offer.id, 1, true)).await.unwrap();
        assert_eq!(ord.status, "paid");
        let dispute = r
            .open_dispute(&ord.id, "not_received", "it never came")
            .await
            .unwrap();
        // A unit of the unique pass, bought through the holder's link.
        r.pass_order(
            &upass.id,
            &CreatePassOrder {
                quantity: Some(1),
                pay: true,
                via: Some(account_ids["holder_a"].clone()),
                ship_to: None,
            },
        )
        .await
        .unwrap();
        let units = r.pass_units(&upass.id, None, None).await.unwrap();
        let unit_no = units.items[0].unit_no;
        let hook = r
            .create_webhook("https://93.184.216.34/requester-a")
            .await
            .unwrap();
        let hook_secret = hook.secret.clone().expect("the secret, once");

        for (k, v) in [
            ("provider", account_ids["provider_a"].clone()),
            ("holder", account_ids["holder_a"].clone()),
            ("requester", account_ids["requester_a"].clone()),
            ("holder_b", account_ids["holder_b"].clone()),
            ("requester_b", account_ids["requester_b"].clone()),
            ("product", lamp.id.clone()),
            ("spare_product", spare.id.clone()),
            ("pass", pass.id.clone()),
            ("spare_pass", spare_pass.id.clone()),
            ("upass", upass.id.clone()),
            ("unit", unit_no.to_string()),
            ("interaction", interaction.id.clone()),
            ("demand", d.id.clone()),
            ("offer", offer.id.clone()),
            ("order", ord.id.clone()),
            ("dispute", dispute.id.clone()),
            ("webhook", hook.id.clone()),
            ("party_keys", party_keys_json),
            ("seal_body", serde_json::to_string(&seal_body).unwrap()),
            ("wrapped_to_holder", to_holder.clone()),
            ("wrapped_to_requester", to_requester.clone()),
            ("asset", "app.css".into()),
            (
                "login_email",
                format!("{}%40test.invalid", account_ids["requester_b"]),
            ),
            ("disable", "disable".into()),
        ] {
            ids.insert(k, v);
        }

        let mut actors = Vec::new();
        // Without good credentials: nobody; a revoked key and a signed-out
        // session; an unknown key and session; requester A's own key under
        // another scheme and its session past its lifetime; a bearer and a
        // session cookie that are not even well formed.
        let (pre, pre_csrf) = visitor(&srv).await;
        let unauthenticated =
            |name, authorization: Option<String>, session: Option<String>| Actor {
                name,
                roles: vec![],
                party: None,
                signed_in: false,
                authorization,
                cookie: match session {
                    Some(s) => format!("{s}; {pre}"),
                    None => pre.clone(),
                },
                csrf: pre_csrf.clone(),
                pre_csrf: pre_csrf.clone(),
            };
        actors.push(unauthenticated("anonymous", None, None));
        let (revoked_key, signed_out) = revoked_credentials(&srv, &keys["requester_a"]).await;
        actors.push(unauthenticated(
            "revoked",
            Some(format!("Bearer {revoked_key}")),
            Some(signed_out),
        ));
        actors.push(unauthenticated(
            "unknown",
            Some(format!("Bearer sk_{}", "0".repeat(40))),
            Some(format!("sym_session={}", "A".repeat(43))),
        ));
        let expired = expired_session(&srv, &keys["requester_a"]).await;
        let (spare_session, spare_key) = spare_credentials(&srv, &keys["requester_a"]).await;
        ids.insert("spare_session", spare_session);
        ids.insert("spare_key", spare_key);
        // A passkey of requester A (its public key is never used here).
        srv.exec_sql(&format!(
            "INSERT INTO passkeys (credential_id, account_id, name, passkey_json, created_at)
             VALUES ('authz-passkey', '{}', 'phone', '{{}}', 0)",
            account_ids["requester_a"]
        ))
        .await;
        ids.insert("passkey", "authz-passkey".into());
        actors.push(unauthenticated(
            "expired",
            Some(format!("Basic {}", keys["requester_a"])),
            Some(expired),
        ));
        actors.push(unauthenticated(
            "malformed",
            Some(format!(
                "Bearer {} {}",
                keys["requester_a"],
                "x".repeat(600)
            )),
            Some("sym_session=%00%ZZ;;=".to_string()),
        ));
        let parties = [
            ("provider_a", Some(Party::Provider)),
            ("provider_b", None),
            ("holder_a", Some(Party::Holder)),
            ("holder_b", None),
            ("requester_a", Some(Party::Requester)),
            ("requester_b", None),
            ("multi", None),
            ("operator", Some(Party::Operator)),
        ];
        for (name, party) in parties {
            let (cookie, csrf) = session(&srv, &keys[name], "authz-matrix").await;
            let me = clients[name].whoami().await.unwrap();
            actors.push(Actor {
                name,
                roles: me.roles.clone(),
                party,
                signed_in: true,
                authorization: Some(format!("Bearer {}", keys[name])),
                cookie: format!("{cookie}; {pre}"),
                csrf,
                pre_csrf: pre_csrf.clone(),
            });
        }

        let mut secrets = vec![
            (
                SHIP_NAME.to_string(),
                vec!["requester_a", "provider_a", "operator"],
            ),
            (
                SHIP_LINE.to_string(),
                vec!["requester_a", "provider_a", "operator"],
            ),
            (
                SHIP_POSTCODE.to_string(),
                vec!["requester_a", "provider_a", "operator"],
            ),
            (CARD.to_string(), vec![]),
            (hook_secret, vec![]),
            // The endpoint's address is its owner's business.
            (hook.url.clone(), vec!["requester_a"]),
            // Wrapped shares reach only their recipients (and who sent them).
            (to_holder.clone(), vec!["holder_a", "provider_a"]),
            (
                to_requester.clone(),
                vec!["requester_a", "holder_a", "provider_a"],
            ),
            (revoked_key, vec![]),
        ];
        for (name, key) in &keys {
            secrets.push((key.clone(), vec![]));
            secrets.push((format!("{}@test.invalid", account_ids[name]), vec![*name]));
        }
        let private_ids = [
            "interaction",
            "demand",
            "offer",
            "order",
            "dispute",
            "webhook",
        ]
        .iter()
        .map(|k| ids[k].clone())
        .collect();
        clients.insert("hugo", hugo);
        Self {
            srv,
            actors,
            ids,
            secrets,
            private_ids,
            clients,
        }
    }

    pub fn id(&self, name: &str) -> String {
        self.ids
            .get(name)
            .unwrap_or_else(|| panic!("no fixture {name}"))
            .clone()
    }

    pub fn actor(&self, name: &str) -> &Actor {
        self.actors.iter().find(|a| a.name == name).unwrap()
    }
}

/// An API key of `api_key`'s account made and revoked on its account page,
/// and a session of it signed out: `(key, "sym_session=…")`.
async fn revoked_credentials(srv: &TestServer, api_key: &str) -> (String, String) {
    let (cookie, csrf) = session(srv, api_key, "authz-revoked").await;
    let http = web_client();
    let post = |path: &'static str, body: String| {
        http.post(format!("{}{path}", srv.url))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let made = post("/account/keys", format!("csrf={csrf}&label=doomed"))
        .await
        .unwrap();
    assert_eq!(made.status(), 200);
    let page = made.text().await.unwrap();
    let key = page
        .split("id=\"new-key-value\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        srv.anon().with_key(&key).whoami().await.unwrap().name,
        "requester_a"
    );
    // Its revoke form on the account page (the only key made there).
    let account = http
        .get(format!("{}/account", srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key_id = account
        .split("action=\"/account/keys/revoke\"")
        .nth(1)
        .and_then(|rest| rest.split("name=\"id\" value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("the new key's revoke form")
        .to_string();
    let revoked = post("/account/keys/revoke", format!("csrf={csrf}&id={key_id}"))
        .await
        .unwrap();
    assert_eq!(revoked.status(), 303);
    assert_api_err(
        srv.anon().with_key(&key).whoami().await,
        401,
        "unauthorized",
    );
    let out = post("/logout", format!("csrf={csrf}")).await.unwrap();
    assert_eq!(out.status(), 303);
    (key, cookie)
}

/// A session of `api_key`'s account whose absolute lifetime has run out
/// (moved into the past in the store, as time would).
async fn expired_session(srv: &TestServer, api_key: &str) -> String {
    let (cookie, _) = session(srv, api_key, "authz-expired").await;
    let n = srv
        .exec_sql("UPDATE web_sessions SET expires_at = 1 WHERE user_agent = 'authz-expired'")
        .await;
    assert_eq!(n, 1);
    cookie
}

/// The value of the first `name="id"` field after `marker` on a page.
fn id_after(page: &str, marker: &str) -> String {
    page.split(marker)
        .nth(1)
        .and_then(|rest| rest.split("name=\"id\" value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("a form after {marker}"))
        .to_string()
}

/// Another session of `api_key`'s account and another API key of it, both
/// good: `(session id, key id)`, for the forms that end them.
async fn spare_credentials(srv: &TestServer, api_key: &str) -> (String, String) {
    let (cookie, csrf) = session(srv, api_key, "authz-spare").await;
    let made = web_client()
        .post(format!("{}/account/keys", srv.url))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&label=spare-key"))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 200);
    // Read by another session: a page offers no revoke form for its own.
    let (reader, _) = session(srv, api_key, "authz-reader").await;
    let page = web_client()
        .get(format!("{}/account", srv.url))
        .header("cookie", &reader)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (
        id_after(&page, "title=\"authz-spare\""),
        id_after(&page, "<strong>spare-key</strong>"),
    )
}
