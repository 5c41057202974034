//! The harnesses on proptest's inputs: arbitrary bytes after each mode
//! byte, and structured text where bytes would rarely get far.

use proptest::prelude::*;

fn run(target: &str, data: &[u8]) {
    symbolon_fuzz::target(target).expect("a known target")(data);
}

fn with_mode(mode: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(rest);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bytes_through_every_target(mode in any::<u8>(), rest in proptest::collection::vec(any::<u8>(), 0..256)) {
        for (target, _) in symbolon_fuzz::TARGETS {
            run(target, &with_mode(mode, &rest));
        }
    }

    #[test]
    fn edited_passes_never_verify(edits in proptest::collection::vec(any::<u8>(), 3..30)) {
        run("pass_jws", &with_mode(2, &edits));
    }

    #[test]
    fn money_text(amount in "-?[0-9]{0,21}(\\.[0-9]{0,5})?", currency in "[A-Za-z]{3}", n in any::<i64>()) {
        run("money", format!("{amount}\0{currency}\0{n}").as_bytes());
    }

    #[test]
    fn category_text(path in "( ?[a-zA-Zé家İ]{0,3} ?/){0,9}[a-zA-Z]{0,3}") {
        run("category", path.as_bytes());
    }

    #[test]
    fn real_shares_picked_and_edited(picks in proptest::collection::vec(any::<u8>(), 0..8)) {
        run("seal_share", &with_mode(2, &picks));
    }

    #[test]
    fn webhook_fields(id in "[a-z_0-9]{0,12}", ts in -5i64..5_000_000_000, sig in "(v1,[A-Za-z0-9+/=]{0,48} ?){0,3}", body in ".{0,40}") {
        let data = format!("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\0{id}\0{ts}\0{sig}\0{body}");
        run("webhook_verify", data.as_bytes());
    }
}

/// Pieces a mutation splices in: what parsers treat specially.
const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "\\u0000",
    "\\ud800",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "1e999",
    "-0",
    "%",
    "%FF",
    "%E8%80",
    "+",
    "&",
    "=",
    "/",
    ".",
    "-",
    "v1,",
    " ",
    "\t",
    "\u{202E}",
    "\u{200B}",
    "İ",
    "ß",
    "家电",
    "耳机",
    "2TB",
    "WH-1000XM5",
    "1.5",
    "９",
    "\u{0301}",
    "\u{FEFF}",
];

/// A committed seed of `target`, with random edits.
fn mutate(seed: &[u8], edits: &[(u16, u8, u8)]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for &(at, op, byte) in edits {
        let at = usize::from(at) % (data.len() + 1);
        match op % 4 {
            0 if at < data.len() => data[at] = byte,
            1 if at < data.len() => {
                data.remove(at);
            }
            2 => {
                let token = TOKENS[usize::from(byte) % TOKENS.len()].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            _ => data.insert(at, byte),
        }
    }
    data
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.expect("readable").path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).expect("a readable seed"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Seeds with edits (bytes changed, removed, inserted, special tokens
    /// spliced in), through every target: a mutation fuzzer without
    /// coverage, for the targets CI does not run under cargo-fuzz.
    #[test]
    fn mutated_seeds_through_every_target(
        pick in any::<u16>(),
        edits in proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 1..8),
    ) {
        for (target, _) in symbolon_fuzz::TARGETS {
            let seeds = seeds(target);
            if seeds.is_empty() {
                continue;
            }
            let seed = &seeds[usize::from(pick) % seeds.len()];
            run(target, &mutate(seed, &edits));
        }
    }
}
