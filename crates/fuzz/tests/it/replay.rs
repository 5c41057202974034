//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/`, file by file.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `fuzz/<kind>/<target>/`.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable folder").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input; a panic names the file that caused it.
fn replay(kind: &str, target: &str) -> usize {
    let harness = symbolon_fuzz::target(target).expect("a known target");
    let files = inputs(kind, target);
    for file in &files {
        let data = std::fs::read(file).expect("a readable input");
        let outcome = std::panic::catch_unwind(|| harness(&data));
        assert!(outcome.is_ok(), "{target}: {} fails", file.display());
    }
    files.len()
}

#[test]
fn every_target_has_a_seed_corpus_and_passes_it() {
    for (target, _) in symbolon_fuzz::TARGETS {
        let n = replay("corpus", target);
        assert!(n > 0, "fuzz/corpus/{target}/ is empty or missing");
    }
}

#[test]
fn every_regression_passes() {
    for (target, _) in symbolon_fuzz::TARGETS {
        replay("regressions", target);
    }
}

#[test]
fn regression_folders_name_real_targets() {
    // A regression filed under a misspelt target would never run.
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join("regressions")) else {
        return;
    };
    for e in entries {
        let name = e
            .expect("readable")
            .file_name()
            .into_string()
            .expect("UTF-8");
        if name != "README.md" {
            assert!(
                symbolon_fuzz::target(&name).is_some(),
                "fuzz/regressions/{name}: no such target"
            );
        }
    }
}

#[test]
fn the_fuzz_project_has_a_binary_per_target() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (target, _) in symbolon_fuzz::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml lacks {target}"
        );
        let source = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        let text = std::fs::read_to_string(&source).expect("a fuzz target source");
        assert!(
            text.contains(&format!("symbolon_fuzz::{}", module_of(target))),
            "{}",
            source.display()
        );
    }
}

/// The module path a target's harness lives at.
fn module_of(target: &str) -> String {
    let module = match target {
        "pass_jws" => "pass",
        "seal_header" | "seal_share" => "seal",
        "webhook_verify" => "webhook",
        "money" | "category" => "values",
        _ => "http",
    };
    format!("{module}::{target}")
}
