//! The storage contract of Symbolon.
//!
//! One [`Store`] trait; one crate per backend implements it (`store-sqlite`,
//! later `store-postgres`) and runs the `conformance` suite (feature `conformance`). Every method that
//! changes state is one transaction: it either applies completely or not at all,
//! and it re-checks the state it depends on inside that transaction (stock,
//! units, statuses), so concurrent requests never oversell or double count.
//! Its outbox and sealed-secret parts are the supertraits [`OutboxStore`] and
//! [`SealStore`]; the SQL backends implement those once, through the shared
//! `sql_outbox_methods!` and `sql_seal_methods!`.

pub mod disputes;
mod error;
pub mod lifecycle;
pub mod mail;
pub mod manage;
mod model;
#[doc(hidden)]
pub mod orders;
pub mod outbox;
pub mod people;
mod rows;
#[doc(hidden)]
pub mod seals;
mod store;
pub mod tlog;
pub mod units;

#[cfg(feature = "conformance")]
pub mod conformance;

/// The schema version migrations have brought a database to (both backends'
/// `Store::schema_version`; the same SQL in either dialect).
pub const APPLIED_SCHEMA_VERSION: &str =
    "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";

pub use disputes::DisputeStore;
pub use error::{Conflict, StoreError, StoreResult};
pub use lifecycle::LifecycleStore;
pub use mail::MailStore;
pub use manage::ManageStore;
pub use model::*;
pub use outbox::demand_opened;
pub use people::PeopleStore;
pub use store::{EventWakeups, OutboxStore, SealStore, Store};
pub use tlog::LogStore;
pub use units::UnitStore;
