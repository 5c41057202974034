//! The authorization matrix (OWASP API1, API2, API3, API5): every API
//! operation and web route × every actor, against the policy declared in
//! `authz_policy.rs`.
//!
//! * `the_policy_names_every_route`: the policy's rows are exactly the
//!   OpenAPI document's operations and the web router's routes — a new
//!   route without a row fails, and so does a row whose route is gone.
//! * `authorization_matrix` (per backend): on one set of fixtures
//!   (`authz_world.rs`), first every refused cell — each must answer 401 or
//!   the sign-in redirect without good credentials, 403 or 404 with them,
//!   never a 2xx — and the owners' views and the database are compared
//!   before and after: a refused write changes nothing. Then every allowed
//!   cell, which must not be refused. No answer, refused or not, may show
//!   an actor another party's private data (addresses, card, e-mails, API
//!   keys, webhook secrets) or a stranger A's private ids. Besides: method
//!   swaps answer 405, bodies carrying fields the caller may not set are
//!   refused or ignored, and named views hold no private field.

use crate::authz_fields::{mass_assignment, private_fields, web_mass_assignment};
use crate::authz_policy::*;
use crate::authz_world::*;
use crate::harness::*;
use crate::on_both_backends;
use std::collections::BTreeSet;

/// What an actor should get from a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    /// No good credentials: 401 (API) or the sign-in redirect (pages).
    Unauthenticated,
    /// Signed in but not allowed: 403 or 404.
    Denied,
}

fn expect(rule: &Rule, a: &Actor) -> Expect {
    if rule.who == Who::Public {
        return Expect::Allowed;
    }
    if !a.signed_in {
        return Expect::Unauthenticated;
    }
    let allowed = match rule.who {
        Who::Public | Who::SignedIn => true,
        Who::Role(r) => a.roles.contains(&r),
        Who::AnyRole(rs) => rs.iter().any(|r| a.roles.contains(r)),
        Who::Parties(ps) => a.party.is_some_and(|p| ps.contains(&p)),
    };
    if allowed {
        Expect::Allowed
    } else {
        Expect::Denied
    }
}

struct Answer {
    status: u16,
    location: String,
    body: String,
}

impl Answer {
    fn to_sign_in(&self) -> bool {
        self.status == 303 && self.location.starts_with("/login")
    }
}

fn all_rules() -> Vec<Rule> {
    let mut rules = api_rules();
    rules.extend(web_rules());
    rules
}

/// `{name}` placeholders replaced by the fixtures, `{actor}` by the caller's name.
pub(crate) fn fill(w: &World, template: &str, actor: &Actor) -> String {
    let mut out = template.replace("{actor}", actor.name);
    for (k, v) in &w.ids {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

async fn call(w: &World, http: &reqwest::Client, rule: &Rule, actor: &Actor) -> Answer {
    let path = rule.concrete_path(|n| w.id(n));
    let method = reqwest::Method::from_bytes(rule.method.as_bytes()).unwrap();
    let mut req = http.request(method, format!("{}{path}", w.srv.url));
    match rule.surface {
        Surface::Api => {
            if let Some(a) = &actor.authorization {
                req = req.header("authorization", a);
            }
            if let Some(b) = rule.body {
                req = req
                    .header("content-type", "application/json")
                    .body(fill(w, b, actor));
            }
        }
        Surface::Web => {
            req = req.header("cookie", &actor.cookie);
            let csrf = if rule.pre_session {
                &actor.pre_csrf
            } else {
                &actor.csrf
            };
            // The passkey ceremonies' endpoints take JSON.
            if rule.method == "POST"
                && (rule.path.ends_with("/start") || rule.path.ends_with("/finish"))
            {
                req = req.json(&serde_json::json!({ "csrf": csrf }));
            } else if rule.method == "POST" {
                let mut body = rule.body.map(|b| fill(w, b, actor)).unwrap_or_default();
                if !body.is_empty() {
                    body.push('&');
                }
                body.push_str("csrf=");
                body.push_str(
                    &form_urlencoded::byte_serialize(csrf.as_bytes()).collect::<String>(),
                );
                req = req
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
            }
        }
    }
    let r = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} {path}: {e}", rule.method));
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let stream = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    // A live stream never ends: its status is the answer.
    let body = if stream {
        String::new()
    } else {
        r.text().await.unwrap_or_default()
    };
    Answer {
        status,
        location,
        body,
    }
}

/// Whether `ans` is what `expect` promises; the reason if not.
fn judge(rule: &Rule, expect: Expect, ans: &Answer) -> Result<(), String> {
    let ok = match (expect, rule.surface) {
        (Expect::Unauthenticated, Surface::Api) => ans.status == 401,
        // A page sends the visitor to sign in; a fragment, stream or form
        // that cannot come back says 401.
        (Expect::Unauthenticated, Surface::Web) => ans.to_sign_in() || ans.status == 401,
        (Expect::Denied, _) => matches!(ans.status, 403 | 404),
        (Expect::Allowed, _) if !rule.answers.is_empty() => rule.answers.contains(&ans.status),
        (Expect::Allowed, _) => {
            ans.status < 500
                && !matches!(ans.status, 401 | 403 | 404 | 405)
                && !ans.to_sign_in()
                && (rule.method != "GET" || ans.status < 400)
        }
    };
    if ok {
        Ok(())
    } else {
        let body = excerpt(&ans.body);
        Err(format!(
            "{expect:?} but {} {} {body}",
            ans.status, ans.location
        ))
    }
}

/// The start of an answer's text: a page's `<main>` without its tags.
pub(crate) fn excerpt(body: &str) -> String {
    let main = body.find("<main").map_or(body, |at| &body[at..]);
    let mut text = String::new();
    let mut in_tag = false;
    for c in main.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(160).collect()
}

/// No answer shows an actor a secret it may not see, nor (to anyone who is
/// not one of A's parties) A's private ids.
fn leaks(w: &World, actor: &Actor, ans: &Answer) -> Vec<String> {
    let mut found = Vec::new();
    for (secret, allowed) in &w.secrets {
        if ans.body.contains(secret.as_str()) && !allowed.contains(&actor.name) {
            found.push(format!("shows {secret}"));
        }
    }
    if actor.party.is_none() && (200..300).contains(&ans.status) {
        for id in &w.private_ids {
            if ans.body.contains(id.as_str()) {
                found.push(format!("shows A's {id}"));
            }
        }
    }
    found
}

/// The policy's rows are exactly the OpenAPI operations and the web routes.
#[test]
fn the_policy_names_every_route() {
    use utoipa::OpenApi;
    let doc = symbolon_server::openapi::ApiDoc::openapi();
    let mut spec = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
            ("HEAD", &item.head),
            ("OPTIONS", &item.options),
            ("TRACE", &item.trace),
        ] {
            if op.is_some() {
                spec.insert((method.to_string(), path.clone()));
            }
        }
    }
    let web: BTreeSet<(String, String)> = symbolon_server::web::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let rows = |rules: Vec<Rule>| {
        let mut set = BTreeSet::new();
        for r in rules {
            assert!(
                set.insert((r.method.to_string(), r.path.to_string())),
                "{} {} has two rows",
                r.method,
                r.path
            );
            // Every parameter has its fixture (panics otherwise).
            r.concrete_path(|n| n.to_string());
        }
        set
    };
    let api = rows(api_rules());
    let pages = rows(web_rules());
    let missing: Vec<_> = spec.difference(&api).collect();
    let stale: Vec<_> = api.difference(&spec).collect();
    assert!(
        missing.is_empty(),
        "API operations without a policy row: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "policy rows for no API operation: {stale:?}"
    );
    let missing: Vec<_> = web.difference(&pages).collect();
    let stale: Vec<_> = pages.difference(&web).collect();
    assert!(
        missing.is_empty(),
        "web routes without a policy row: {missing:?}"
    );
    assert!(stale.is_empty(), "policy rows for no web route: {stale:?}");
}

on_both_backends!(authorization_matrix);

async fn authorization_matrix(backend: Backend) {
    let w = World::build(backend).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let rules = all_rules();
    let mut failures = Vec::new();
    let mut cells = 0usize;

    let before = snapshot(&w, &http).await;
    failures.extend(private_fields(&w, &http).await);
    failures.extend(mass_assignment(&w, &http).await);
    let swaps = method_swaps(&w, &http, &mut failures).await;
    let probes = query_probes(&w, &http, &mut failures).await;

    // Refused cells first, on fresh fixtures; each must change nothing.
    for rule in &rules {
        for actor in &w.actors {
            let e = expect(rule, actor);
            if e == Expect::Allowed {
                continue;
            }
            cells += 1;
            let ans = call(&w, &http, rule, actor).await;
            let mut why: Vec<String> = judge(rule, e, &ans).err().into_iter().collect();
            why.extend(leaks(&w, actor, &ans));
            for reason in why {
                failures.push(format!(
                    "{} {} as {}: {reason}",
                    rule.method, rule.path, actor.name
                ));
            }
        }
    }
    let after = snapshot(&w, &http).await;
    for ((what, a), (_, b)) in before.iter().zip(&after) {
        if a != b {
            failures.push(format!(
                "refused calls changed {what}:\n  before {a}\n  after  {b}"
            ));
        }
    }
    failures.extend(web_mass_assignment(&w, &http).await);

    // Then the allowed cells, in stages (what archives, cancels, deletes
    // or signs out comes last).
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by_key(|r| r.stage);
    for rule in ordered {
        for actor in &w.actors {
            if expect(rule, actor) != Expect::Allowed {
                continue;
            }
            cells += 1;
            let ans = call(&w, &http, rule, actor).await;
            let mut why: Vec<String> = judge(rule, Expect::Allowed, &ans)
                .err()
                .into_iter()
                .collect();
            why.extend(leaks(&w, actor, &ans));
            for reason in why {
                failures.push(format!(
                    "{} {} as {}: {reason}",
                    rule.method, rule.path, actor.name
                ));
            }
        }
    }
    let total = cells + swaps + probes;
    eprintln!(
        "authz matrix ({backend:?}): {} rows × {} actors = {cells} cells, + {swaps} method swaps + {probes} query probes = {total}",
        rules.len(),
        w.actors.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        cells,
        rules.len() * w.actors.len(),
        "every row × every actor"
    );
    assert!(cells >= 144 * 13, "{cells} cells");
    w.srv.stop().await;
}

/// What A's parties see of their objects, and the database's row counts.
async fn snapshot(w: &World, http: &reqwest::Client) -> Vec<(String, String)> {
    let views: [(&str, &str); 24] = [
        ("provider_a", "/v1/products/{product}"),
        ("provider_a", "/v1/products/{spare_product}"),
        ("provider_a", "/v1/passes/{pass}"),
        ("provider_a", "/v1/passes/{spare_pass}"),
        ("provider_a", "/v1/passes/{upass}/units"),
        ("provider_a", "/v1/passes/{pass}/seal"),
        ("provider_a", "/v1/provider/keys"),
        ("provider_a", "/v1/orders/{order}"),
        ("provider_a", "/v1/balance"),
        ("provider_a", "/v1/events?limit=500"),
        ("holder_a", "/v1/wallet"),
        ("holder_a", "/v1/inbox"),
        ("holder_a", "/v1/holders/{holder}"),
        ("holder_a", "/v1/passes/{pass}/shares"),
        ("holder_a", "/v1/events?limit=500"),
        ("requester_a", "/v1/demands/{demand}"),
        ("requester_a", "/v1/orders/{order}"),
        ("requester_a", "/v1/requester/profile"),
        ("requester_a", "/v1/disputes/{dispute}"),
        ("requester_a", "/v1/webhooks/{webhook}"),
        ("requester_a", "/v1/balance"),
        ("requester_a", "/v1/events?limit=500"),
        ("requester_a", "/v1/passes/{upass}/units/{unit}/history"),
        ("operator", "/v1/disputes"),
    ];
    let mut out = Vec::new();
    for (who, path) in views {
        let actor = w.actor(who);
        let url = format!("{}{}", w.srv.url, fill(w, path, actor));
        let r = http
            .get(url)
            .header("authorization", actor.authorization.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{who} {path}");
        out.push((format!("{who} {path}"), r.text().await.unwrap()));
    }
    for table in [
        "accounts",
        "api_keys",
        "products",
        "passes",
        "grants",
        "demands",
        "interactions",
        "offers",
        "orders",
        "refunds",
        "ratings",
        "disputes",
        "dispute_messages",
        "events",
        "webhook_endpoints",
        "sealed_shares",
        "pass_seals",
        "party_keys",
        "unit_transfers",
        "ledger_entries",
        "web_sessions",
        "passkeys",
    ] {
        // The expired session (`expires_at = 1`) is the sweeper's to forget
        // at any moment, refused calls or not.
        let live = if table == "web_sessions" {
            " WHERE expires_at <> 1"
        } else {
            ""
        };
        let n = w
            .srv
            .count_sql(&format!("SELECT COUNT(*) FROM {table}{live}"))
            .await;
        out.push((format!("rows of {table}"), n.to_string()));
    }
    out
}

/// Every method a path does not route answers 405, never a 2xx (API5);
/// returns how many were tried.
async fn method_swaps(w: &World, http: &reqwest::Client, failures: &mut Vec<String>) -> usize {
    let mut routed: std::collections::BTreeMap<&str, (Rule, BTreeSet<&str>)> = Default::default();
    for r in all_rules() {
        routed
            .entry(r.path)
            .or_insert_with(|| (r.clone(), BTreeSet::new()))
            .1
            .insert(r.method);
    }
    let mut n = 0;
    for (path, (rule, methods)) in &routed {
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if methods.contains(method) {
                continue;
            }
            for who in ["anonymous", "multi"] {
                n += 1;
                let actor = w.actor(who);
                let mut swapped = rule.clone();
                swapped.method = method;
                swapped.body = None;
                let ans = call(w, http, &swapped, actor).await;
                if ans.status != 405 {
                    failures.push(format!("{method} {path} as {who}: {} not 405", ans.status));
                }
            }
        }
    }
    n
}

/// A's ids in query strings (cursors, filters, a form's prefill) and the
/// list filters a role picks: no actor gets a server error, and nobody who
/// is not one of A's parties sees A's private objects (API1).
async fn query_probes(w: &World, http: &reqwest::Client, failures: &mut Vec<String>) -> usize {
    let probe = |surface, path: &'static str, ids: &'static [&'static str]| Rule {
        surface,
        method: "GET",
        path,
        ids,
        body: None,
        who: Who::SignedIn,
        stage: Stage::Early,
        answers: &[],
        pre_session: false,
    };
    let probes = [
        probe(Surface::Api, "/v1/orders?role=provider", &[]),
        probe(Surface::Api, "/v1/orders?role=holder", &[]),
        probe(
            Surface::Api,
            "/v1/orders?role=requester&after={id}",
            &["order"],
        ),
        probe(Surface::Api, "/v1/events?after=0&limit=500", &[]),
        probe(Surface::Api, "/v1/disputes?status=open", &[]),
        probe(Surface::Api, "/v1/demands?after={id}", &["demand"]),
        probe(Surface::Api, "/v1/inbox?after={id}", &["interaction"]),
        probe(Surface::Api, "/v1/products?after={id}", &["product"]),
        probe(Surface::Web, "/orders?as=requester", &[]),
        probe(Surface::Web, "/orders/fragment?status=paid", &[]),
        probe(Surface::Web, "/passes/new?product_id={id}", &["product"]),
        probe(Surface::Web, "/catalog?after={id}", &["product"]),
        probe(Surface::Web, "/passes/{id}?q={holder}", &["pass", "holder"]),
    ];
    let mut n = 0;
    for rule in &probes {
        for actor in &w.actors {
            n += 1;
            let ans = call(w, http, rule, actor).await;
            if ans.status >= 500 {
                failures.push(format!("{} as {}: {}", rule.path, actor.name, ans.status));
            }
            for reason in leaks(w, actor, &ans) {
                failures.push(format!("{} as {}: {reason}", rule.path, actor.name));
            }
        }
    }
    n
}
