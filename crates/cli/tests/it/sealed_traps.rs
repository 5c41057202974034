//! The traps around sealed secrets, through the real binary (issue 18,
//! item 8): a grant from a machine without the seal is refused unless
//! `--without-share`; a buyer without keys is told there is a secret and how
//! to open it; the provider agent retries a release the buyer's missing keys
//! refused, and releases once; `open` names the missing share; `keys init`
//! does not silently replace keys registered from another machine.

use super::sealed::{cli, ok, party, party_without_keys, start, Node, Party, SECRET};
use super::{command, REQUESTER_PROFILE};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// How long a step the test waits for (the agent's next line) may take
/// before the test fails; a bound on waiting, never an assertion on speed.
const PATIENCE: Duration = Duration::from_secs(60);

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fails(o: Output, what: &str) -> String {
    assert!(
        !o.status.success(),
        "`{what}` should have failed: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    stderr(&o)
}

fn contains_all(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "`{n}` missing from:\n{text}");
    }
}

/// A provider with a product and a 2-of-2 sealed, shareable pass; returns the pass id.
fn sealed_pass(node: &Node, provider: &Party) -> String {
    let product = provider.json(
        node,
        &[
            "product",
            "create",
            "--title",
            "Mesh Wi-Fi router AX3000",
            "--category",
            "electronics/network",
            "--price",
            "89.00",
            "--currency",
            "USD",
            "--stock",
            "20",
        ],
    );
    let pass = provider.json(
        node,
        &[
            "pass",
            "create",
            "--product",
            product["id"].as_str().unwrap(),
            "--mode",
            "shareable",
            "--commission-bps",
            "800",
        ],
    );
    let pass_id = pass["id"].as_str().unwrap().to_string();
    let secret_file = provider.home.path().join("admin-password.txt");
    std::fs::write(&secret_file, SECRET).unwrap();
    provider.json(
        node,
        &[
            "seal",
            "--pass",
            &pass_id,
            "--secret-file",
            secret_file.to_str().unwrap(),
        ],
    );
    pass_id
}

/// The shares wrapped to `p` for `pass_id`.
fn shares_of(node: &Node, p: &Party, pass_id: &str) -> Vec<symbolon_client::api::SealedShare> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let c = symbolon_client::Client::new(&node.url)
            .unwrap()
            .with_key(&p.key);
        c.my_shares(pass_id).await.unwrap().items
    })
}

#[test]
fn a_sealed_grant_from_a_machine_without_the_seal_is_refused_unless_without_share() {
    let node = start();
    let provider = party(&node, "Router Co", "provider");
    let hana = party(&node, "Hana", "holder");
    let hugo = party_without_keys(&node, "Hugo", "holder");
    let pass_id = sealed_pass(&node, &provider);

    // The provider's account on a laptop without its keystore.
    let laptop = tempfile::tempdir().unwrap();
    let grant = |home: &std::path::Path, holder: &str, extra: &[&str]| {
        let mut args = vec!["pass", "grant", pass_id.as_str(), "--holder", holder];
        args.extend(extra);
        cli(&node, home, Some(&provider.key), true, &args)
    };
    let refused = fails(
        grant(laptop.path(), &hana.id, &[]),
        "grant without the seal",
    );
    contains_all(
        &refused,
        &[
            "not granted",
            "sealed secret",
            "no keystore",
            "seals",
            "machine that sealed the pass",
            "--without-share",
            &format!("symbolon share send --pass {pass_id} --holder {}", hana.id),
        ],
    );
    let wallet = hana.json(&node, &["wallet"]);
    assert_eq!(
        wallet["items"],
        serde_json::json!([]),
        "nothing was granted"
    );

    // Explicitly without the share: granted, and told how to send it later.
    let out = grant(laptop.path(), &hana.id, &["--without-share"]);
    let note = stderr(&out);
    let holding = ok(out, "grant --without-share");
    assert_eq!(holding["holder_id"], hana.id.as_str());
    contains_all(
        &note,
        &["without the holder's share", "symbolon share send"],
    );
    assert!(shares_of(&node, &hana, &pass_id).is_empty());
    // From the machine that sealed: the share follows.
    ok(
        provider.run(
            &node,
            &["share", "send", "--pass", &pass_id, "--holder", &hana.id],
        ),
        "share send",
    );
    assert_eq!(shares_of(&node, &hana, &pass_id).len(), 1);

    // A holder without keys cannot receive its share: refused, and why.
    let refused = fails(
        grant(provider.home.path(), &hugo.id, &[]),
        "grant to a holder without keys",
    );
    contains_all(
        &refused,
        &[
            &format!("holder {} has not registered keys", hugo.id),
            "symbolon keys init",
            "--without-share",
        ],
    );
    assert_eq!(
        hugo.json(&node, &["wallet"])["items"],
        serde_json::json!([])
    );
}

/// Lines the agent prints, stdout and stderr, as they come.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(format!("out: {l}"));
        }
    });
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx2.send(format!("err: {l}"));
        }
    });
    rx
}

/// Waits for a line matching `want`; returns every line seen up to it.
fn wait_for(rx: &Receiver<String>, want: impl Fn(&str) -> bool, what: &str) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let hit = want(&line);
                seen.push(line);
                if hit {
                    return seen;
                }
            }
            Err(_) => panic!("the agent never printed {what}; it printed:\n{seen:#?}"),
        }
    }
}

#[test]
fn a_buyer_without_keys_is_guided_and_the_agent_releases_once_its_keys_exist() {
    let node = start();
    let provider = party(&node, "Router Co", "provider");
    let hana = party(&node, "Hana", "holder");
    let hugo = party(&node, "Hugo", "holder");
    let rita = party_without_keys(&node, "Rita", "requester");
    let pass_id = sealed_pass(&node, &provider);
    for h in [&hana, &hugo] {
        h.json(&node, &["holder", "profile", "--field", "electronics"]);
        ok(
            provider.run(&node, &["pass", "grant", &pass_id, "--holder", &h.id]),
            "grant",
        );
    }
    rita.json(&node, REQUESTER_PROFILE);

    // The agent, with short retries (the defaults wait 10 s, then longer).
    let mut agent = provider.agent(&node, &["--retry-first", "100ms"], Stdio::piped());
    let agent_lines = lines_of(&mut agent);

    // Hana offers; Rita has no keys, so Hana's share cannot go with it.
    let demand = rita.json(&node, &["demand", "create", "mesh router"]);
    let inbox = hana.json(&node, &["inbox"]);
    let item = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["demand_id"] == demand["id"])
        .unwrap()
        .clone();
    let out = hana.run(
        &node,
        &["offer", item["id"].as_str().unwrap(), "--pass", &pass_id],
    );
    assert!(stderr(&out).contains("share of the sealed pass was not sent"));
    let offer_id = ok(out, "offer")["id"].as_str().unwrap().to_string();

    // Accepting tells Rita there is a secret and the steps to open it.
    let out = rita.run(&node, &["accept", &offer_id]);
    let note = stderr(&out);
    ok(out, "accept");
    contains_all(
        &note,
        &[
            "sealed secret",
            "You have no keys yet",
            "1. symbolon keys init",
            &format!("symbolon order create --offer {offer_id} --pay"),
        ],
    );
    // So does ordering, with the order's own `open` line.
    let out = rita.run(&node, &["order", "create", "--offer", &offer_id, "--pay"]);
    let note = stderr(&out);
    let order = ok(out, "order create");
    let order_id = order["id"].as_str().unwrap().to_string();
    assert_eq!(order["status"], "paid");
    contains_all(
        &note,
        &[
            "sealed secret",
            "symbolon keys init",
            "the provider releases its share once the order is paid and your keys are registered",
            &format!("symbolon open --order {order_id}"),
            &format!("symbolon share offer {offer_id} --pass {pass_id}"),
        ],
    );

    // The agent cannot release yet: the buyer has no keys. It says so and retries.
    wait_for(
        &agent_lines,
        |l| l.contains(&order_id) && l.contains("no keys yet") && l.contains("next try in"),
        "a retry for the buyer's missing keys",
    );

    // Opening now names both missing shares and what to do about each.
    let missing = fails(
        rita.run(&node, &["open", "--order", &order_id]),
        "open without keys",
    );
    contains_all(
        &missing,
        &[
            "0 share(s), 2 needed",
            "this machine has no keys",
            &format!("holder {} has not sent it with offer {offer_id}", hana.id),
            &format!("symbolon share offer {offer_id} --pass {pass_id}"),
            &format!("provider {} has not released it yet", provider.id),
            &format!("symbolon provider release {order_id}"),
        ],
    );

    // Rita makes her keys; the agent's next retry releases the provider's share.
    ok(rita.run(&node, &["keys", "init"]), "keys init");
    wait_for(
        &agent_lines,
        |l| l.starts_with("out: released 1 share(s)") && l.contains(&order_id),
        "the release",
    );

    // Only the holder's share is missing now, and `open` says whose and how.
    let missing = fails(
        rita.run(&node, &["open", "--order", &order_id]),
        "open with the provider's share only",
    );
    contains_all(
        &missing,
        &[
            "1 share(s), 2 needed",
            "the holder's share is missing",
            &format!("symbolon share offer {offer_id} --pass {pass_id}"),
        ],
    );
    assert!(!missing.contains("provider's share"), "{missing}");
    ok(
        hana.run(&node, &["share", "offer", &offer_id, "--pass", &pass_id]),
        "share offer",
    );
    let opened = rita.run(&node, &["open", "--order", &order_id]);
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert_eq!(String::from_utf8_lossy(&opened.stdout), SECRET);

    // An order straight from the pass carries no holder's share: said plainly.
    let out = rita.run(&node, &["order", "create", "--pass", &pass_id]);
    let note = stderr(&out);
    ok(out, "order create --pass");
    contains_all(
        &note,
        &[
            "sealed secret",
            "straight from the pass, so it cannot open it",
        ],
    );
    assert!(!note.contains("symbolon open"), "{note}");

    // Released once: the agent keeps nothing to retry, and a new run finds
    // nothing to do for the order.
    let _ = agent.kill();
    let _ = agent.wait();
    let rest: Vec<String> = agent_lines.try_iter().collect();
    assert!(
        !rest
            .iter()
            .any(|l| l.contains(&order_id) && !l.contains("next try")),
        "nothing after the release: {rest:#?}"
    );
    let pending = std::fs::read_to_string(
        provider
            .home
            .path()
            .join("accounts")
            .join(&provider.id)
            .join("agent.pending"),
    )
    .unwrap();
    assert!(!pending.contains(&order_id), "{pending}");
    let again = provider.run(&node, &["provider", "agent", "--once"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&again.stdout),
        stderr(&again)
    );
    assert!(!said.contains(&order_id), "{said}");
    let releases = shares_of(&node, &rita, &pass_id)
        .into_iter()
        .filter(|s| s.kind == "release")
        .count();
    assert_eq!(releases, 1);
}

#[test]
fn keys_init_on_another_machine_does_not_replace_registered_keys() {
    let node = start();
    let hana = party(&node, "Hana", "holder");
    let registered = hana.json(&node, &["keys", "show"]);
    assert_eq!(registered["registered"], true);
    let fingerprint = registered["fingerprint"].as_str().unwrap().to_string();

    // A new machine: refused, saying what is there and what --force would break.
    let laptop = tempfile::tempdir().unwrap();
    let on_laptop = |args: &[&str]| cli(&node, laptop.path(), Some(&hana.key), true, args);
    let refused = fails(on_laptop(&["keys", "init"]), "keys init on a new machine");
    contains_all(
        &refused,
        &[
            "already has keys registered",
            &fingerprint,
            "no keystore",
            "Nothing was changed",
            "--force",
            "only where the old keystore is",
            "buyers can no",
            &format!("symbolon keys trust {}", hana.id),
        ],
    );
    let still: Value = hana.json(&node, &["keys", "show"]);
    assert_eq!(
        still["registered"], true,
        "the registered keys are untouched"
    );
    // On the machine that has them, `keys init` stays a harmless re-run.
    let again = hana.json(&node, &["keys", "init"]);
    assert_eq!(again["fingerprint"], fingerprint.as_str());

    // --force replaces them, and says so.
    let out = on_laptop(&["keys", "init", "--force"]);
    let warning = stderr(&out);
    let new = ok(out, "keys init --force");
    assert_ne!(new["fingerprint"], fingerprint.as_str());
    contains_all(&warning, &["replaced the keys", &fingerprint, "keys trust"]);
    assert_eq!(hana.json(&node, &["keys", "show"])["registered"], false);

    // The first machine's keys are now the stale ones: it refuses too.
    let refused = fails(
        hana.run(&node, &["keys", "init"]),
        "keys init over newer keys",
    );
    contains_all(&refused, &["other keys", "Nothing was changed", "--force"]);
    let fresh = cli(
        &node,
        laptop.path(),
        Some(&hana.key),
        true,
        &["keys", "show"],
    );
    assert_eq!(ok(fresh, "keys show")["registered"], true);
}

/// The agent's (and `events --follow`'s) event stream warns under its own
/// module's name, not `sealing`, while it waits out an unreachable server.
#[test]
fn the_event_follower_logs_under_its_own_name() {
    let mut follow = command()
        .args([
            "--server",
            "http://127.0.0.1:9",
            "--key",
            "sk_unused",
            "events",
            "--follow",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(follow.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = follow.kill();
    let _ = follow.wait();
    assert!(
        line.contains("symbolon::follower") && line.contains("event stream unavailable"),
        "{line}"
    );
    assert!(!line.contains("sealing"), "{line}");
}
