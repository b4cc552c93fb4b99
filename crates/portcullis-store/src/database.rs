//! Opening a database from its URL, and applying the migrations.

use std::sync::Arc;

use portcullis_core::store::{Store, StoreError};

use crate::opening::DatabaseOptions;
use crate::postgres::PostgresBackend;
use crate::sqlite::SqliteBackend;
use crate::{PostgresStore, SqlStore, SqliteStore};

/// An open database of either kind: what the server opens at start, migrates, and hands out as a [`Store`].
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Database {
    /// Opens the database at `url` without touching its schema:
    /// - `postgres://user@host:port/name` or `postgresql://…` (any libpq-style parameters sqlx accepts);
    /// - `sqlite://path/to/file.db` (relative to the working directory; `sqlite:///abs/path.db` for an
    ///   absolute one), created with its directory when missing;
    /// - `sqlite::memory:`, a database that lives as long as this handle (tests).
    ///
    /// Fails with [`StoreError::Unavailable`] within [`DatabaseOptions::acquire_timeout`] when the database
    /// cannot be reached, with a message that names it (never with its password).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, &DatabaseOptions::default()).await
    }

    pub async fn open_with(url: &str, options: &DatabaseOptions) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite(SqlStore::new(SqliteBackend::open(url, options).await?))),
            "postgres" | "postgresql" => Ok(Self::Postgres(SqlStore::new(PostgresBackend::open(url, options).await?))),
            _ => Err(StoreError::Other(format!(
                "unsupported database URL scheme '{scheme}': use sqlite://path/to/file.db or \
                 postgres://user@host/database"
            ))),
        }
    }

    /// Applies the migrations not applied yet; does nothing when the schema is current. Fails if the
    /// database was migrated by a newer Portcullis (it has migrations this one does not know).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(store) => store.backend().migrate().await,
            Self::Postgres(store) => store.backend().migrate().await,
        }
    }

    /// The store, to share across the server.
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(store) => Arc::new(store.clone()),
            Self::Postgres(store) => Arc::new(store.clone()),
        }
    }

    /// Which database this is, for logs: the file, or the URL without its password.
    pub fn target(&self) -> &str {
        match self {
            Self::Sqlite(store) => store.backend().target(),
            Self::Postgres(store) => store.backend().target(),
        }
    }

    /// Closes every connection, waiting for those in use to come back. Stores handed out stop working.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.backend().close().await,
            Self::Postgres(store) => store.backend().close().await,
        }
    }
}

/// Opens the database at `url` and brings its schema up to date: what the server does at start.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let database = Database::open(url).await?;
    database.migrate().await?;
    Ok(database.store())
}

/// Opens the database at `url`, applies its migrations and closes it: `portcullis migrate`.
pub async fn migrate(url: &str) -> Result<(), StoreError> {
    let database = Database::open(url).await?;
    let migrated = database.migrate().await;
    database.close().await;
    migrated
}
