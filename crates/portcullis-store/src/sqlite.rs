//! SQLite: the default database, one file next to the provider.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::store::StoreError;
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::backend::{Backend, DbError, DbResult, Mapped, Statement, classify_common};
use crate::opening::{DatabaseOptions, migrate_error};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a write waits for another connection's write to finish before giving up with "locked". Writes
/// here are single short statements, so waiting this long means something is wrong, not busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite side of [`crate::SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pool: SqlitePool,
    target: Arc<str>,
    acquire_timeout: Duration,
}

/// Whether a `sqlite:` URL names an in-memory database rather than a file.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

impl SqliteBackend {
    pub(crate) async fn open(url: &str, options: &DatabaseOptions) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|error| StoreError::Other(format!("invalid SQLite URL: {error}")))?;
        let in_memory = is_in_memory(url);
        let path = connect.get_filename().to_path_buf();
        let target: Arc<str> = if in_memory {
            "the in-memory SQLite database".into()
        } else {
            format!("the SQLite database {}", path.display()).into()
        };
        if !in_memory && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Unavailable(format!(
                    "cannot create the directory {} for {target}: {error}",
                    parent.display()
                ))
            })?;
        }
        let connect = connect
            .create_if_missing(true)
            // WAL lets readers go on while one connection writes; NORMAL sync is durable in WAL mode except
            // for the last transactions before a power cut, never corrupting.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let mut pool = SqlitePoolOptions::new().acquire_timeout(options.acquire_timeout);
        pool = if in_memory {
            // An in-memory database lives only while a connection to it is open, and its shared cache
            // locks whole tables: one connection, kept for ever.
            pool.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
        } else {
            pool.max_connections(options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS))
        };
        let acquire_timeout = options.acquire_timeout;
        let pool = pool.connect_with(connect).await.map_err(|error| classify(error, &target, acquire_timeout))?;
        Ok(Self { pool, target, acquire_timeout })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|error| migrate_error(error, |e| self.classify(e)))
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    fn classify(&self, error: sqlx::Error) -> DbError {
        classify(error, &self.target, self.acquire_timeout)
    }
}

/// Connections for a file database: WAL serves any number of readers beside the one writer, and more than
/// a handful only queue up on the write lock.
const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// Every SQLite error goes through here.
fn classify(error: sqlx::Error, target: &str, acquire_timeout: Duration) -> DbError {
    let error = match classify_common(error, target, acquire_timeout) {
        Ok(database_error) => database_error,
        Err(classified) => return classified,
    };
    let message = error.message().to_owned();
    match error.kind() {
        // "UNIQUE constraint failed: users.normalized_email": the columns are in the message.
        ErrorKind::UniqueViolation => return DbError::Unique(message),
        ErrorKind::ForeignKeyViolation => return DbError::ForeignKey(message),
        _ => {}
    }
    // Extended result codes carry the primary code in their low byte.
    let primary = error.code().and_then(|code| code.parse::<i32>().ok()).map(|code| code & 0xff);
    match primary {
        // SQLITE_BUSY, SQLITE_LOCKED
        Some(5 | 6) => DbError::Unavailable(format!(
            "{target} stayed locked by another writer for {} s: {message}",
            BUSY_TIMEOUT.as_secs()
        )),
        // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN
        Some(10 | 13 | 14) => DbError::Unavailable(format!("cannot use {target}: {message}")),
        _ => DbError::Other(format!("{target}: {message}")),
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn execute(&self, statement: Statement) -> DbResult<u64> {
        let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
        sqlx::query_with(sql, arguments)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(|error| self.classify(error))
    }

    async fn fetch_optional<T: Mapped>(&self, statement: Statement) -> DbResult<Option<T>> {
        let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
        sqlx::query_as_with::<_, T, _>(sql, arguments)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| self.classify(error))
    }

    async fn fetch_all<T: Mapped>(&self, statement: Statement) -> DbResult<Vec<T>> {
        let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
        sqlx::query_as_with::<_, T, _>(sql, arguments).fetch_all(&self.pool).await.map_err(|error| self.classify(error))
    }

    async fn execute_in_transaction(&self, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        // IMMEDIATE takes the write lock up front (waiting through the busy timeout): a deferred transaction
        // that read first could fail at its first write instead of waiting.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|error| self.classify(error))?;
        let mut changed = Vec::with_capacity(statements.len());
        for statement in statements {
            let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
            let done = sqlx::query_with(sql, arguments)
                .execute(&mut *transaction)
                .await
                .map_err(|error| self.classify(error))?;
            changed.push(done.rows_affected());
        }
        transaction.commit().await.map_err(|error| self.classify(error))?;
        Ok(changed)
    }

    async fn execute_all_or_nothing(&self, statements: Vec<Statement>) -> DbResult<bool> {
        // IMMEDIATE, as above: the guards are read under the write lock, so no other writer slips in between.
        let mut transaction = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(|error| self.classify(error))?;
        for statement in statements {
            let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
            let done = sqlx::query_with(sql, arguments)
                .execute(&mut *transaction)
                .await
                .map_err(|error| self.classify(error))?;
            if done.rows_affected() == 0 {
                transaction.rollback().await.map_err(|error| self.classify(error))?;
                return Ok(false);
            }
        }
        transaction.commit().await.map_err(|error| self.classify(error))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::is_in_memory;

    #[test]
    fn memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://portcullis?mode=memory"));
        assert!(!is_in_memory("sqlite://data/portcullis.db"));
    }
}
