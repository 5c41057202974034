//! Fuzz harnesses: one function per target, each feeding its input to the
//! real parsers and verifiers and asserting what must hold whatever the
//! input — no panic, a clean error for bad input, what parses re-serialises
//! and re-parses to the same value, a verifier never accepts a mutated
//! signature.
//!
//! The cargo-fuzz project in `fuzz/` (outside the workspace) wraps each in a
//! three-line `fuzz_target!`; this crate's `tests/it` replays every file of
//! `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` through them under
//! plain `cargo test`, and drives them with proptest, so no regression needs
//! cargo-fuzz to be caught.
//!
//! Inputs that need structure start with a *mode* byte choosing how the rest
//! is read (see each harness); fields are separated by NUL bytes.

pub mod fixtures;
#[cfg(feature = "server")]
pub mod http;
pub mod pass;
pub mod seal;
pub mod values;
pub mod webhook;

/// A harness: takes any bytes, panics only on a broken invariant.
pub type Harness = fn(&[u8]);

/// Every target by name (the name of its `fuzz_target!` binary and of its
/// corpus and regression folders).
pub const TARGETS: &[(&str, Harness)] = &[
    ("pass_jws", pass::pass_jws),
    ("seal_header", seal::seal_header),
    ("seal_share", seal::seal_share),
    ("webhook_verify", webhook::webhook_verify),
    ("money", values::money),
    ("category", values::category),
    #[cfg(feature = "server")]
    ("demand", http::demand),
    #[cfg(feature = "server")]
    ("json_extractors", http::json_extractors),
    #[cfg(feature = "server")]
    ("form_extractors", http::form_extractors),
];

/// The harness named `name`.
pub fn target(name: &str) -> Option<Harness> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}

/// The input's first byte (the mode) and the rest.
pub(crate) fn mode(data: &[u8]) -> Option<(u8, &[u8])> {
    data.split_first().map(|(m, rest)| (*m, rest))
}

/// The NUL-separated fields of an input, as text (`None` unless all are UTF-8).
pub(crate) fn text_fields<const N: usize>(data: &[u8]) -> Option<[&str; N]> {
    let mut parts = data.splitn(N, |b| *b == 0);
    let mut out = [""; N];
    for slot in out.iter_mut() {
        *slot = std::str::from_utf8(parts.next().unwrap_or_default()).ok()?;
    }
    Some(out)
}
