//! The README's "The CLI at a glance" stays true: every `symbolon …` line of
//! its first ```sh block runs, in the README's order, through the real binary
//! against a real `symbolon serve`.
//!
//! The README is read at run time. Its lines are matched against [`steps`],
//! one entry per line: whose key runs it, which placeholders (`pas_…`, `ord_…`,
//! the example host) stand for which ids made by earlier steps, what setup it
//! needs (setup may use any command; only the README's lines are under test),
//! and what its output must show. A line added to or changed in the README
//! without an entry in the table fails the test, naming the line.
//!
//! Each line runs as a reader would type it: the words after substitution,
//! the server and key from `SYMBOLON_SERVER`/`SYMBOLON_KEY` (as the README
//! says), in a scratch directory where `pass.jws`, `issuer-jwks.json` and
//! `my-key.json` are the files earlier steps made.
//!
//! Here: reading the README, running its lines, and the tests. The table is
//! in `steps.rs`; the longer setup its lines imply, in `setup.rs`.

mod setup;
mod steps;

use super::{command, Server};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::process::{Output, Stdio};
use steps::{steps, How, Step, Who};

const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
const HEADING: &str = "## The CLI at a glance";

// ------------------------------------------------------------------ the README

/// The command lines (continuations joined, comments stripped) of the first
/// ```sh block under [`HEADING`] that start with `symbolon `, in order.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(README).expect("read README.md");
    let start = text
        .lines()
        .position(|l| l.trim_end() == HEADING)
        .unwrap_or_else(|| panic!("README.md has no `{HEADING}` heading"));
    let mut block = None;
    let mut lines = text.lines().skip(start + 1);
    while let Some(l) = lines.next() {
        if l.starts_with("## ") {
            break;
        }
        if l.trim_end() == "```sh" {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| l.trim_end() != "```")
                .collect();
            block = Some(body.join("\n"));
            break;
        }
    }
    let block = block.unwrap_or_else(|| panic!("no ```sh block under `{HEADING}` in README.md"));
    logical_lines(&block)
        .into_iter()
        .filter(|l| l.starts_with("symbolon "))
        .collect()
}

/// Shell-like logical lines: `\` + newline joins (the break and the next
/// line's indentation become one space), a `#` at the start of a word outside
/// quotes starts a comment, quotes are kept as written.
fn logical_lines(block: &str) -> Vec<String> {
    let chars: Vec<char> = block.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut flush = |cur: &mut String| {
        let l = cur.trim().to_string();
        if !l.is_empty() {
            out.push(l);
        }
        cur.clear();
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                } else if q == '"' && c == '\\' && i + 1 < chars.len() {
                    cur.push(chars[i + 1]);
                    i += 1;
                }
            }
            None => match c {
                '\\' if chars.get(i + 1) == Some(&'\n') => {
                    let kept = cur.trim_end().len();
                    cur.truncate(kept);
                    cur.push(' ');
                    i += 2;
                    while matches!(chars.get(i), Some(' ' | '\t')) {
                        i += 1;
                    }
                    continue;
                }
                '\\' => {
                    cur.push(c);
                    if let Some(n) = chars.get(i + 1) {
                        cur.push(*n);
                        i += 1;
                    }
                }
                '"' | '\'' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '#' if cur.is_empty() || cur.ends_with(char::is_whitespace) => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                '\n' => flush(&mut cur),
                _ => cur.push(c),
            },
        }
        i += 1;
    }
    assert!(quote.is_none(), "an unclosed quote in the README block");
    flush(&mut cur);
    out
}

/// The words of a command line, as a POSIX shell splits them (quotes and
/// backslashes; no expansions).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => cur.push(n),
                            Some(n) => {
                                cur.push('\\');
                                cur.push(n);
                            }
                            None => cur.push('\\'),
                        },
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

// ------------------------------------------------------------------ the story

struct Story {
    srv: Server,
    /// The working directory of every README line.
    dir: tempfile::TempDir,
    vals: HashMap<String, String>,
}

impl Story {
    fn set(&mut self, name: &str, value: String) {
        self.vals.insert(name.to_string(), value);
    }

    fn get(&self, name: &str) -> String {
        self.vals
            .get(name)
            .unwrap_or_else(|| panic!("no `{name}` yet: an earlier step makes it"))
            .clone()
    }

    /// Setup: runs `args` with `--json` as `who` ("provider", "holder2", …,
    /// or "anyone") and returns the answer.
    fn json(&self, who: &str, args: &[&str]) -> Value {
        let key = (who != "anyone").then(|| self.get(&format!("{who}.key")));
        self.srv.json(key.as_deref(), args)
    }

    fn write(&self, file: &str, contents: &str) {
        std::fs::write(self.dir.path().join(file), contents).expect("write a file");
    }

    /// Runs `args` as `who` the way a reader would (environment, working
    /// directory); asserts exit 0 and returns stdout.
    fn run(&self, who: Who, args: &[&str]) -> String {
        self.run_as(who, args, &format!("symbolon {}", args.join(" ")))
    }

    fn run_as(&self, who: Who, args: &[impl AsRef<std::ffi::OsStr>], shown: &str) -> String {
        let out = self.output(who, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "`{shown}` (as {who:?}) exited with {}:\nstdout:\n{stdout}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs `args` as `who` like [`Story::run`]; asserts that it fails and
    /// returns stderr.
    fn fails(&self, who: Who, args: &[&str]) -> String {
        let out = self.output(who, args);
        assert!(
            !out.status.success(),
            "`symbolon {}` (as {who:?}) succeeded:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn output(&self, who: Who, args: &[impl AsRef<std::ffi::OsStr>]) -> Output {
        let mut c = command();
        c.current_dir(self.dir.path())
            .env("SYMBOLON_HOME", self.dir.path().join("home"))
            .args(args)
            .stdin(Stdio::null());
        match who {
            Who::Offline => c.env("SYMBOLON_SERVER", "http://127.0.0.1:9"),
            _ => c.env("SYMBOLON_SERVER", &self.srv.url),
        };
        if let Some(k) = who.key() {
            c.env("SYMBOLON_KEY", self.get(k));
        }
        if let Who::Admin = who {
            c.env("SYMBOLON_DATA_DIR", self.srv._dir.path());
        }
        c.output().expect("run the CLI")
    }
}

/// The value of a `key: value` line of a command's table output.
fn field(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key && !l.starts_with(' ')).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no `{key}:` line in:\n{out}"))
}

// ------------------------------------------------------------------ the test

#[test]
fn every_command_of_the_readme_cli_section_runs() {
    let readme = readme_commands();
    assert!(!readme.is_empty(), "no `symbolon` lines under `{HEADING}`");
    let table = steps();

    // The README and the table name the same lines.
    let mut seen = BTreeSet::new();
    let twice: Vec<&String> = readme.iter().filter(|l| !seen.insert(l.as_str())).collect();
    assert!(twice.is_empty(), "README lines written twice: {twice:#?}");
    let known: BTreeSet<&str> = table.iter().map(|s| s.line).collect();
    assert_eq!(known.len(), table.len(), "a line is in the table twice");
    let missing: Vec<&str> = readme
        .iter()
        .map(String::as_str)
        .filter(|l| !known.contains(l))
        .collect();
    let stale: Vec<&str> = known
        .iter()
        .copied()
        .filter(|l| !seen.contains(l))
        .collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the README's CLI section and this test's table differ.\n\
         README lines the table does not know (add an entry to `steps()` in {}):\n{}\n\
         table lines no longer in the README (remove or update them):\n{}",
        steps::FILE,
        missing
            .iter()
            .map(|l| format!("  {l}\n"))
            .collect::<String>(),
        stale.iter().map(|l| format!("  {l}\n")).collect::<String>(),
    );

    let mut st = Story {
        srv: Server::start(),
        dir: tempfile::tempdir().expect("temp dir"),
        vals: HashMap::new(),
    };
    let by_line: HashMap<&str, &Step> = table.iter().map(|s| (s.line, s)).collect();
    let mut skipped = Vec::new();
    for line in &readme {
        let step = by_line[line.as_str()];
        let How::Run {
            who,
            subs,
            before,
            after,
        } = &step.how
        else {
            if let How::Skip(why) = &step.how {
                skipped.push((line.as_str(), *why));
            }
            continue;
        };
        if let Some(f) = before {
            f(&mut st);
        }
        let mut argv = words(line);
        assert_eq!(argv.remove(0), "symbolon");
        for (word, name) in subs {
            let value = st.get(name);
            let n = argv.iter().filter(|w| w == word).count();
            assert!(n > 0, "`{word}` is not a word of `{line}`: fix its entry");
            for w in argv.iter_mut().filter(|w| *w == word) {
                *w = value.clone();
            }
        }
        let left: Vec<&String> = argv
            .iter()
            .filter(|w| w.contains("_…") || w.contains("exchange.example"))
            .collect();
        assert!(
            left.is_empty(),
            "`{line}`: placeholders without a substitution: {left:?}"
        );
        let out = st.run_as(*who, &argv, line);
        if let Some(f) = after {
            f(&mut st, &out);
        }
    }
    assert!(
        skipped.iter().all(|(l, _)| l.contains(" bench load")),
        "only `bench load` lines may be skipped: {skipped:#?}"
    );
}

#[test]
fn readme_lines_are_parsed_as_a_shell_would() {
    let block = "symbolon a --x \"q # not a comment\" # a comment\n\
                 \n\
                 symbolon b --long \\\n      --more 'it''s' # tail\n\
                 echo not ours\n\
                 symbolon c x#y\n";
    assert_eq!(
        logical_lines(block),
        [
            "symbolon a --x \"q # not a comment\"",
            "symbolon b --long --more 'it''s'",
            "echo not ours",
            "symbolon c x#y",
        ]
    );
    assert_eq!(
        words("symbolon a --x \"q # y\" 'z w' v\\ u"),
        ["symbolon", "a", "--x", "q # y", "z w", "v u"]
    );
}
