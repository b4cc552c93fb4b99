//! Portcullis storage: the [`portcullis_core::store::Store`] traits on SQLite (the default, one file) and
//! PostgreSQL, with their numbered migrations.
//!
//! The store logic and its SQL are written once (`store/`) and run on either database through a small sealed
//! backend seam; the two backends only bind values, run statements and classify their driver's errors. This
//! crate is plain persistence: the rules deciding *whether* to write live in `portcullis-core`. It must not
//! depend on HTTP or the server, and never reads the clock: every time is passed in.
//!
//! ```no_run
//! # async fn start() -> Result<(), portcullis_core::store::StoreError> {
//! let database = portcullis_store::Database::open("sqlite://data/portcullis.db").await?;
//! database.migrate().await?;
//! let store = database.store();
//! store.ping().await?;
//! # Ok(()) }
//! ```

mod backend;
mod database;
mod opening;
mod postgres;
mod rows;
mod sqlite;
mod store;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use database::{Database, connect, migrate};
pub use opening::DatabaseOptions;
pub use postgres::PostgresBackend;
pub use sqlite::SqliteBackend;
pub use store::SqlStore;

/// The store on a SQLite file (or in memory).
pub type SqliteStore = SqlStore<SqliteBackend>;
/// The store on PostgreSQL.
pub type PostgresStore = SqlStore<PostgresBackend>;
