//! The one place this crate names the matcher's API, so an API change touches
//! only this module.

pub use symbolon_match::engine::{Engine, EngineError, SyncStats};
pub use symbolon_match::{
    ExactMatcher, HolderProfile, Listing, Market, MatchQuery, Matcher, PassDoc, RankedHolder,
};
