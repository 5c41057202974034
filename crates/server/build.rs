//! Rebuilds the crate when a message catalogue, a template or an asset changes
//! (the fluent loader and the asset embedder read them at compile time;
//! a new file in `locales/` would otherwise go unnoticed).
fn main() {
    println!("cargo:rerun-if-changed=locales");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=assets");
}
