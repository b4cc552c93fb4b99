//! SQLite: the default database, one file next to the provider.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::store::StoreError;
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Sqlite};

use crate::backend::{Backend, DbError, DbResult, Lock, Mapped, Statement, Waits, bounded, classify_common};
use crate::opening::{DatabaseOptions, migrate_error};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a migration waits for another connection's write (another instance migrating the same file, a
/// backup): migrations run once at start, where waiting is better than failing, unlike a request.
const MIGRATION_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The SQLite side of [`crate::SqliteStore`].
///
/// SQLite lets one connection write at a time, whatever the number of connections. Writers on several
/// connections would each take the file lock in turn, and those that find it taken sleep in SQLite's busy
/// handler (1, 2, 5, 10… ms) before they look again: under load most of a write's time is that sleeping. So
/// every write of this process goes through one connection, `writer`, and concurrent writes queue for it in
/// the pool, in order, woken the moment it is free; reads use the other connections, which WAL never blocks.
/// The busy timeout remains only for writers of other processes on the same file (the command line, another
/// instance).
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pool: SqlitePool,
    /// The one connection every write of this process uses (the same pool as `pool` for an in-memory
    /// database, which has only one connection).
    writer: SqlitePool,
    /// How to open a connection of its own, for migrations. `None` for an in-memory database, which exists
    /// only on the pool's one connection.
    file: Option<SqliteConnectOptions>,
    target: Arc<str>,
    waits: Waits,
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
        let waits = Waits { acquire: options.acquire_timeout, statement: options.statement_timeout };
        let connect = connect
            .create_if_missing(true)
            // WAL lets readers go on while one connection writes; NORMAL sync is durable in WAL mode except
            // for the last transactions before a power cut, never corrupting.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // A write waits this long for another connection's write, then fails as "busy" (Unavailable).
            // Writes here are single short transactions, so a longer wait means something holds the lock.
            .busy_timeout(options.statement_timeout);
        // A connection to a local file does not go stale: no liveness query before each use, which would be
        // one more trip to the connection's thread for every statement.
        let pool = SqlitePoolOptions::new().acquire_timeout(options.acquire_timeout).test_before_acquire(false);
        let file = (!in_memory).then(|| connect.clone().busy_timeout(MIGRATION_BUSY_TIMEOUT));
        let classified = |error| classify(error, &target, waits);
        let (pool, writer) = if in_memory {
            // An in-memory database lives only while a connection to it is open, and its shared cache
            // locks whole tables: one connection, kept for ever, for reads and writes.
            let only = pool.max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None);
            let only = only.connect_with(connect).await.map_err(classified)?;
            (only.clone(), only)
        } else {
            let readers = options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
            let writer = pool.clone().max_connections(1).idle_timeout(None).max_lifetime(None);
            let writer = writer.connect_with(connect.clone()).await.map_err(classified)?;
            (pool.max_connections(readers).connect_with(connect).await.map_err(classified)?, writer)
        };
        Ok(Self { pool, writer, file, target, waits })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        let Some(file) = &self.file else {
            return MIGRATOR.run(&self.pool).await.map_err(|error| migrate_error(error, |e| self.classify(e)));
        };
        let mut connection = match tokio::time::timeout(self.waits.acquire, file.connect()).await {
            Ok(connected) => connected.map_err(|error| StoreError::from(self.classify(error)))?,
            Err(_) => return Err(StoreError::Unavailable(format!("cannot open {} in time", self.target))),
        };
        let migrated = MIGRATOR.run(&mut connection).await.map_err(|error| migrate_error(error, |e| self.classify(e)));
        // The schema is what matters; a failure to say goodbye changes nothing.
        let _ = connection.close().await;
        migrated
    }

    pub(crate) async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    fn classify(&self, error: sqlx::Error) -> DbError {
        classify(error, &self.target, self.waits)
    }

    /// A connection from the pool, within the acquire timeout (sqlx enforces it, the connection's liveness
    /// check included).
    async fn connection(&self) -> DbResult<PoolConnection<Sqlite>> {
        self.pool.acquire().await.map_err(|error| self.classify(error))
    }

    /// The writing connection, once the writes queued before this one are done, within the acquire timeout.
    async fn write_connection(&self) -> DbResult<PoolConnection<Sqlite>> {
        self.writer.acquire().await.map_err(|error| self.classify(error))
    }

    /// The connection a statement runs on: the writer for one that changes rows, a reader otherwise.
    async fn connection_for(&self, statement: &Statement) -> DbResult<PoolConnection<Sqlite>> {
        if statement.writes() { self.write_connection().await } else { self.connection().await }
    }

    async fn bounded<T>(
        &self,
        connection: &mut PoolConnection<Sqlite>,
        call: impl AsyncFnOnce(&mut <Sqlite as sqlx::Database>::Connection) -> DbResult<T>,
    ) -> DbResult<T> {
        bounded(self.waits, &self.target, connection, call).await
    }
}

/// Connections for a file database: WAL serves any number of readers beside the one writer, and more than
/// a handful only queue up on the write lock.
const DEFAULT_MAX_CONNECTIONS: u32 = 8;

/// Every SQLite error goes through here. What a retry may cure (a lock held too long, the disk full or
/// failing, the file out of reach) is `Unavailable`; what it cannot (a statement the schema does not accept,
/// a corrupt file) is `Other`.
fn classify(error: sqlx::Error, target: &str, waits: Waits) -> DbError {
    let error = match classify_common(error, target, waits) {
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
            waits.statement.as_secs_f32()
        )),
        // SQLITE_NOMEM, SQLITE_READONLY (the file or its file system turned read-only), SQLITE_INTERRUPT,
        // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_PROTOCOL (a lock race)
        Some(7 | 8 | 9 | 10 | 13 | 14 | 15) => DbError::Unavailable(format!("cannot use {target}: {message}")),
        _ => DbError::Other(format!("{target}: {message}")),
    }
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn execute(&self, statement: Statement) -> DbResult<u64> {
        let mut connection = self.connection_for(&statement).await?;
        let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
        self.bounded(&mut connection, async |connection| {
            let done = sqlx::query_with(sql, arguments).execute(connection).await;
            done.map(|done| done.rows_affected()).map_err(|error| self.classify(error))
        })
        .await
    }

    async fn fetch_optional<T: Mapped>(&self, statement: Statement) -> DbResult<Option<T>> {
        let mut connection = self.connection_for(&statement).await?;
        let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
        self.bounded(&mut connection, async |connection| {
            let found = sqlx::query_as_with::<_, T, _>(sql, arguments).fetch_optional(connection).await;
            found.map_err(|error| self.classify(error))
        })
        .await
    }

    async fn fetch_all<T: Mapped>(&self, statement: Statement) -> DbResult<Vec<T>> {
        let mut connection = self.connection_for(&statement).await?;
        let (sql, arguments) = statement.into_parts::<SqliteArguments>()?;
        self.bounded(&mut connection, async |connection| {
            let found = sqlx::query_as_with::<_, T, _>(sql, arguments).fetch_all(connection).await;
            found.map_err(|error| self.classify(error))
        })
        .await
    }

    async fn execute_in_transaction(&self, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        let mut connection = self.write_connection().await?;
        self.bounded(&mut connection, async |connection| {
            // IMMEDIATE takes the write lock up front (waiting through the busy timeout): a deferred
            // transaction that read first could fail at its first write instead of waiting.
            let mut transaction =
                connection.begin_with("BEGIN IMMEDIATE").await.map_err(|error| self.classify(error))?;
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
        })
        .await
    }

    async fn execute_under_lock(&self, _lock: Lock, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        // Every write transaction here begins IMMEDIATE, taking the database's one write lock: transactions
        // that write already run one after the other, across every connection and process on the file.
        self.execute_in_transaction(statements).await
    }

    async fn execute_all_or_nothing(&self, statements: Vec<Statement>) -> DbResult<bool> {
        let mut connection = self.write_connection().await?;
        self.bounded(&mut connection, async |connection| {
            // IMMEDIATE, as above: the guards are read under the write lock, so no other writer slips in.
            let mut transaction =
                connection.begin_with("BEGIN IMMEDIATE").await.map_err(|error| self.classify(error))?;
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
        })
        .await
    }
}

#[cfg(test)]
// The helpers the tests share fail loudly too; clippy only excuses the tests themselves.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use sqlx::{ConnectOptions, SqliteConnection};

    use super::*;

    const WAITS: Waits = Waits { acquire: Duration::from_secs(1), statement: Duration::from_millis(50) };

    #[test]
    fn memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://portcullis?mode=memory"));
        assert!(!is_in_memory("sqlite://data/portcullis.db"));
    }

    async fn failure(connection: &mut SqliteConnection, sql: &'static str) -> DbError {
        let error = sqlx::raw_sql(sql).execute(connection).await.expect_err(sql);
        classify(error, "the test database", WAITS)
    }

    /// Rule H3: a write that waited out the busy timeout behind another connection's lock is an outage a
    /// retry may cure (503), not a fault (500).
    #[tokio::test]
    async fn h3_a_write_locked_out_beyond_the_busy_timeout_is_unavailable() {
        let directory = std::env::temp_dir().join(format!("portcullis-test-{}", portcullis_core::secret::new_id()));
        let options = SqliteConnectOptions::new().filename(directory.join("locked.db")).create_if_missing(true);
        std::fs::create_dir_all(&directory).unwrap();
        let mut holder = options.connect().await.unwrap();
        sqlx::raw_sql("CREATE TABLE t (x INTEGER); BEGIN IMMEDIATE").execute(&mut holder).await.unwrap();
        let mut waiting = options.clone().busy_timeout(WAITS.statement).connect().await.unwrap();
        let classified = failure(&mut waiting, "INSERT INTO t VALUES (1)").await;
        assert!(matches!(&classified, DbError::Unavailable(message) if message.contains("locked")), "{classified:?}");
        std::fs::remove_dir_all(&directory).unwrap();
    }

    /// Rule H3: what no retry cures stays a fault of the provider (500).
    #[tokio::test]
    async fn h3_a_statement_the_schema_refuses_is_other() {
        let mut connection = SqliteConnectOptions::from_str("sqlite::memory:").unwrap().connect().await.unwrap();
        for sql in ["SELEC 1", "SELECT * FROM no_such_table"] {
            let classified = failure(&mut connection, sql).await;
            assert!(matches!(classified, DbError::Other(_)), "{sql}: {classified:?}");
        }
    }
}
