//! Every committed corpus and regression input through its harness, and
//! the harnesses driven by proptest — so `cargo test` guards every crash
//! ever found without cargo-fuzz.

mod fixtures;
mod random;
mod replay;
