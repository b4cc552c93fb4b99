//! Opening a database from its URL, and applying the migrations.

use std::sync::Arc;
use std::time::Duration;

use portcullis_core::store::{Store, StoreError};
use sqlx::migrate::MigrateError;

use crate::backend::DbError;
use crate::postgres::PostgresBackend;
use crate::sqlite::SqliteBackend;
use crate::{PostgresStore, SqlStore, SqliteStore};

/// How to hold connections. The defaults suit one provider instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// How long to wait for a connection, to open one or for one to come free, before answering
    /// [`StoreError::Unavailable`]. 5 s: longer than any healthy database needs even under load, and short
    /// enough that a request fails while its user is still there, and that startup says at once that the
    /// database is down.
    pub acquire_timeout: Duration,
    /// Most connections open at once. `None`: 8 for a SQLite file (more only queue on its one write lock),
    /// 10 for PostgreSQL (leaves room for several instances within its default of 100). An in-memory SQLite
    /// database always uses exactly one.
    pub max_connections: Option<u32>,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self { acquire_timeout: Duration::from_secs(5), max_connections: None }
    }
}

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

/// The URL without a password (in the user info or a `password=` parameter), to name a database in errors.
pub(crate) fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "the PostgreSQL database (its URL does not parse)".to_owned();
    };
    let _ = parsed.set_password(None);
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| !key.eq_ignore_ascii_case("password"))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

/// A migration failure: connection problems stay `Unavailable`, the rest say which migration failed.
pub(crate) fn migrate_error(error: MigrateError, classify: impl FnOnce(sqlx::Error) -> DbError) -> StoreError {
    match error {
        MigrateError::Execute(error) => match classify(error) {
            DbError::Unavailable(message) => StoreError::Unavailable(message),
            other => StoreError::Other(format!("migrating the schema failed: {}", other.into_message())),
        },
        other => StoreError::Other(format!("migrating the schema failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_appear_in_a_named_database() {
        assert_eq!(
            redact_url("postgres://portcullis:hunter2@db.internal:5432/portcullis"),
            "postgres://portcullis@db.internal:5432/portcullis"
        );
        let redacted = redact_url("postgresql://db/portcullis?password=hunter2&sslmode=require");
        assert!(!redacted.contains("hunter2"), "{redacted}");
        assert!(redacted.contains("sslmode=require"), "{redacted}");
    }

    #[test]
    fn an_unparseable_url_is_not_echoed() {
        assert!(!redact_url("postgres://user:pa ss@[bad").contains("pa ss"));
    }
}
