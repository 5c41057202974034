//! `symbolon config default` and `config check`, and `serve --config` on
//! the file they make.

use super::command;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn run(args: &[&str]) -> std::process::Output {
    command().args(args).output().expect("run the CLI")
}

#[test]
fn the_default_file_checks_and_a_serve_starts_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["config", "default"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("#listen = \"127.0.0.1:7878\""), "{text}");
    assert!(text.contains("SYMBOLON_RATE_LIMIT_PER_SECOND"), "{text}");
    let file = dir.path().join("symbolon.toml");
    std::fs::write(&file, &text).unwrap();
    let out = run(&["--json", "config", "check", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["sets"], serde_json::json!([]));

    // Uncomment two settings, as an operator would, and start on the file.
    let data = dir.path().join("data");
    let edited = text
        .replace("#listen = \"127.0.0.1:7878\"", "listen = \"127.0.0.1:0\"")
        .replace(
            "#data_dir = \"./symbolon-data\"",
            &format!("data_dir = {:?}", data.display().to_string()),
        );
    std::fs::write(&file, &edited).unwrap();
    let out = run(&["config", "check", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("data_dir") && said.contains("listen"),
        "{said}"
    );
    let mut child = command()
        .args(["serve", "--config", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    assert!(
        data.join("symbolon.db").exists(),
        "the file's data_dir is used"
    );
}

#[test]
fn a_bad_file_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let cases = [
        (
            "listn = \"0.0.0.0:80\"\n",
            "unknown setting `listn` (did you mean `listen`?)",
        ),
        ("max_connections = \"many\"\n", "max_connections"),
        ("idle_timeout = \"3h\"\n", "idle_timeout"),
        ("rate_limit_per_second = -1\n", "rate_limit_per_second"),
        ("listen = \n", "not TOML"),
    ];
    for (text, says) in cases {
        std::fs::write(&file, text).unwrap();
        let out = run(&["config", "check", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text}: {err}");
        assert!(err.contains(says), "{text}: {err}");
    }
    // `serve` refuses the same file before it opens anything.
    std::fs::write(&file, "listn = \"127.0.0.1:0\"\n").unwrap();
    let data = dir.path().join("data");
    let out = command()
        .args(["serve", "--config", file.to_str().unwrap(), "--data-dir"])
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("unknown setting `listn` (did you mean `listen`?)"),
        "{err}"
    );
    assert!(!data.exists(), "nothing was created");
}

/// `symbolon healthcheck`: 0 on a ready server (the address from
/// `SYMBOLON_LISTEN`, an unspecified address as loopback, as in the
/// container image), 1 naming the URL when nothing answers.
#[test]
fn healthcheck_passes_on_a_ready_server_and_fails_otherwise() {
    let server = super::Server::start();
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let check = |listen: &str, extra: &[&str]| {
        command()
            .env("SYMBOLON_LISTEN", listen)
            .arg("healthcheck")
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = check(&format!("0.0.0.0:{port}"), &[]);
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        said.contains("/readyz: 200 OK") && said.contains("\"ready\""),
        "{said}"
    );
    let live = check(&format!("0.0.0.0:{port}"), &["--live"]);
    assert!(live.status.success());
    assert!(String::from_utf8_lossy(&live.stdout).contains("/healthz: 200 OK"));
    // Nothing listens on a port just freed.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = free.local_addr().unwrap().to_string();
    drop(free);
    let out = check(&dead, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("http://{dead}/readyz")), "{err}");
}
