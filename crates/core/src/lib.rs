//! Symbolon's domain: the types and rules every other crate shares.
//!
//! Nothing in this crate performs IO. Time and randomness come in through
//! [`clock::Clock`] and [`ids::IdGen`] so that tests can replay a run from a seed.

pub mod category;
pub mod clock;
pub mod demand;
pub mod error;
pub mod ids;
pub mod limits;
pub mod money;
pub mod reputation;
pub mod state;
pub mod webhook;

pub use category::TaxonomyPath;
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{ErrorCode, ValidationError};
pub use money::{Currency, Money};
