//! PostgreSQL: for deployments with more than one provider instance, or an existing database service.

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use portcullis_core::store::StoreError;
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres};

use crate::backend::{Backend, DbError, DbResult, Lock, Mapped, Statement, Waits, bounded, classify_common};
use crate::opening::{DatabaseOptions, migrate_error, redact_url};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Connections per provider instance: requests hold one only for a statement or two, and PostgreSQL's
/// default limit of 100 connections then serves several instances plus administration.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The PostgreSQL side of [`crate::PostgresStore`].
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    pool: PgPool,
    /// How to open the migrations' connection: without the statement timeout, as a migration may take minutes
    /// and another instance's may hold the migration lock that long.
    migrations: PgConnectOptions,
    target: Arc<str>,
    waits: Waits,
}

impl PostgresBackend {
    pub(crate) async fn open(url: &str, options: &DatabaseOptions) -> Result<Self, StoreError> {
        let target: Arc<str> = redact_url(url).into();
        // sqlx's own message could quote the URL, password included: say only what it is.
        let connect = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Other(format!("invalid PostgreSQL URL {target}")))?
            .application_name("portcullis");
        let migrations = connect.clone().options([("statement_timeout", "0")]);
        // Set at connection start, so that it holds for every statement without a round trip of its own; the
        // server then ends a statement stuck on a lock or on an overloaded server with 57014, and the
        // connection stays usable.
        let statement_timeout = format!("{}ms", options.statement_timeout.as_millis().max(1));
        let connect = connect.options([("statement_timeout", statement_timeout.as_str())]);
        let waits = Waits { acquire: options.acquire_timeout, statement: options.statement_timeout };
        // One connection first, outside the pool: the pool retries a refused connection until its timeout and
        // then reports only "timed out", where this says why (refused, no such database, bad password).
        match tokio::time::timeout(waits.acquire, PgConnection::connect_with(&connect)).await {
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "{target} did not answer within {} s",
                    waits.acquire.as_secs_f32()
                )));
            }
            Ok(Err(error)) => return Err(classify(error, &target, waits).into()),
            Ok(Ok(connection)) => {
                // Only a probe: a failure to say goodbye changes nothing.
                let _ = connection.close().await;
            }
        }
        // The acquire timeout also bounds opening a connection: the pool gives up on a connection attempt
        // when it expires, so it is the connect timeout too.
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS))
            .acquire_timeout(waits.acquire)
            .connect_lazy_with(connect);
        Ok(Self { pool, migrations, target, waits })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        let connecting = PgConnection::connect_with(&self.migrations);
        let mut connection = match tokio::time::timeout(self.waits.acquire, connecting).await {
            Ok(connected) => connected.map_err(|error| StoreError::from(self.classify(error)))?,
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "{} did not answer within {} s",
                    self.target,
                    self.waits.acquire.as_secs_f32()
                )));
            }
        };
        // sqlx holds an advisory lock while migrating, so instances starting together take turns.
        let migrated = MIGRATOR.run(&mut connection).await.map_err(|error| migrate_error(error, |e| self.classify(e)));
        // The schema is what matters; a failure to say goodbye changes nothing.
        let _ = connection.close().await;
        migrated
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn target(&self) -> &str {
        &self.target
    }

    fn classify(&self, error: sqlx::Error) -> DbError {
        classify(error, &self.target, self.waits)
    }

    /// The statements in one transaction, after taking `lock` when given. The advisory lock is released by
    /// the `COMMIT` or `ROLLBACK`; waiting for it is bound by the statement timeout like any statement.
    async fn transaction(&self, lock: Option<Lock>, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        let mut connection = self.connection().await?;
        self.bounded(&mut connection, async |connection| {
            let mut transaction = connection.begin().await.map_err(|error| self.classify(error))?;
            if let Some(lock) = lock {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock.key())
                    .execute(&mut *transaction)
                    .await
                    .map_err(|error| self.classify(error))?;
            }
            let mut changed = Vec::with_capacity(statements.len());
            for statement in statements {
                let (sql, arguments) = statement.into_parts::<PgArguments>()?;
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

    /// A connection from the pool, within the acquire timeout (sqlx enforces it, the connection's liveness
    /// check included).
    async fn connection(&self) -> DbResult<PoolConnection<Postgres>> {
        self.pool.acquire().await.map_err(|error| self.classify(error))
    }

    async fn bounded<T>(
        &self,
        connection: &mut PoolConnection<Postgres>,
        call: impl AsyncFnOnce(&mut <Postgres as sqlx::Database>::Connection) -> DbResult<T>,
    ) -> DbResult<T> {
        bounded(self.waits, &self.target, connection, call).await
    }
}

/// Every PostgreSQL error goes through here. What a retry may cure (the server unreachable, shutting down,
/// failing over, out of resources, a statement timed out, a transaction chosen to lose a conflict) is
/// `Unavailable`; what it cannot (a statement the schema does not accept, a constraint the code did not
/// expect) is `Other`.
fn classify(error: sqlx::Error, target: &str, waits: Waits) -> DbError {
    let error = match classify_common(error, target, waits) {
        Ok(database_error) => database_error,
        Err(classified) => return classified,
    };
    let message = error.message().to_owned();
    // Constraint names (ux_users_normalized_email, tokens_pkey, …) contain the columns they cover.
    let constraint = error.constraint().map(str::to_owned);
    match error.kind() {
        ErrorKind::UniqueViolation => return DbError::Unique(constraint.unwrap_or(message)),
        ErrorKind::ForeignKeyViolation => {
            return DbError::ForeignKey(constraint.unwrap_or(message));
        }
        _ => {}
    }
    let code = error.code().map(|code| code.into_owned()).unwrap_or_default();
    let unavailable = |why: &str| DbError::Unavailable(format!("{target}: {why}{message} (SQLSTATE {code})"));
    match code.as_str() {
        // 57014: the statement outlasted `statement_timeout` (stuck behind a lock, or the server overloaded).
        "57014" => unavailable(&format!("no answer within {} s: ", waits.statement.as_secs_f32())),
        // Class 08: connection exceptions. Class 53: insufficient resources (disk full, out of memory, too many
        // connections). Class 58: system errors (I/O) on the server.
        c if c.starts_with("08") || c.starts_with("53") || c.starts_with("58") => unavailable(""),
        // 57P01-05: shut down by an administrator or a crash, starting up, database dropped, idle session
        // ended. 25006: a read-only transaction, i.e. a standby after a failover. 25P03: idle in a
        // transaction too long. 40001, 40P01: serialization failure or deadlock, the transaction rolled back
        // and a retry succeeds. 55P03: a lock not available within `lock_timeout`.
        "57P01" | "57P02" | "57P03" | "57P04" | "57P05" | "25006" | "25P03" | "40001" | "40P01" | "55P03" => {
            unavailable("")
        }
        // 28000/28P01: refused credentials; 3D000: no such database. Configuration, but to a request the
        // database is out of reach all the same.
        "28000" | "28P01" | "3D000" => unavailable(""),
        _ => DbError::Other(format!("{target}: {message} (SQLSTATE {code})")),
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    async fn execute(&self, statement: Statement) -> DbResult<u64> {
        let (sql, arguments) = statement.into_parts::<PgArguments>()?;
        let mut connection = self.connection().await?;
        self.bounded(&mut connection, async |connection| {
            let done = sqlx::query_with(sql, arguments).execute(connection).await;
            done.map(|done| done.rows_affected()).map_err(|error| self.classify(error))
        })
        .await
    }

    async fn fetch_optional<T: Mapped>(&self, statement: Statement) -> DbResult<Option<T>> {
        let (sql, arguments) = statement.into_parts::<PgArguments>()?;
        let mut connection = self.connection().await?;
        self.bounded(&mut connection, async |connection| {
            let found = sqlx::query_as_with::<_, T, _>(sql, arguments).fetch_optional(connection).await;
            found.map_err(|error| self.classify(error))
        })
        .await
    }

    async fn fetch_all<T: Mapped>(&self, statement: Statement) -> DbResult<Vec<T>> {
        let (sql, arguments) = statement.into_parts::<PgArguments>()?;
        let mut connection = self.connection().await?;
        self.bounded(&mut connection, async |connection| {
            let found = sqlx::query_as_with::<_, T, _>(sql, arguments).fetch_all(connection).await;
            found.map_err(|error| self.classify(error))
        })
        .await
    }

    async fn execute_in_transaction(&self, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        self.transaction(None, statements).await
    }

    async fn execute_under_lock(&self, lock: Lock, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        self.transaction(Some(lock), statements).await
    }

    async fn execute_all_or_nothing(&self, statements: Vec<Statement>) -> DbResult<bool> {
        let mut connection = self.connection().await?;
        self.bounded(&mut connection, async |connection| {
            // A guarded UPDATE waits for a concurrent one on the same row, then re-checks its guard against the
            // committed row (READ COMMITTED): of two racing transactions, the second matches nothing and rolls
            // back.
            let mut transaction = connection.begin().await.map_err(|error| self.classify(error))?;
            for statement in statements {
                let (sql, arguments) = statement.into_parts::<PgArguments>()?;
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

#[cfg(all(test, feature = "test-support"))]
// The helpers the tests share fail loudly too; clippy only excuses the tests themselves.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::test_support::postgres_admin_url;

    const WAITS: Waits = Waits { acquire: Duration::from_secs(1), statement: Duration::from_secs(1) };

    async fn raised(connection: &mut PgConnection, code: &str) -> DbError {
        // The code is one of this test's constants, never input.
        let sql = format!("DO $$ BEGIN RAISE EXCEPTION 'raised by the test' USING ERRCODE = '{code}'; END $$");
        let error = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(connection).await.expect_err(code);
        classify(error, "the test database", WAITS)
    }

    /// Rule H3: what a retry may cure (connection trouble, shutdown, failover, resources, timeouts, conflicts)
    /// is an outage (503), whatever statement met it.
    #[tokio::test]
    async fn h3_transient_and_connection_errors_are_unavailable() {
        let mut connection = PgConnection::connect(&postgres_admin_url()).await.unwrap();
        for code in [
            "08006", "08003", "53000", "53100", "53200", "53300", "58030", "57014", "57P01", "57P02", "57P03", "57P04",
            "25006", "40001", "40P01", "55P03", "3D000",
        ] {
            let classified = raised(&mut connection, code).await;
            assert!(matches!(classified, DbError::Unavailable(_)), "{code}: {classified:?}");
        }
    }

    /// Rule H3: what no retry cures (syntax, a missing table, a constraint the code did not expect, an internal
    /// error) stays a fault of the provider (500).
    #[tokio::test]
    async fn h3_faults_no_retry_cures_are_other() {
        let mut connection = PgConnection::connect(&postgres_admin_url()).await.unwrap();
        for code in ["42601", "42P01", "22012", "23514", "23502", "XX000"] {
            let classified = raised(&mut connection, code).await;
            assert!(matches!(classified, DbError::Other(_)), "{code}: {classified:?}");
        }
    }

    /// Rule H3: the session's `statement_timeout` comes from the options, and a statement that outlasts it is
    /// an outage.
    #[tokio::test]
    async fn h3_the_statement_timeout_ends_a_stuck_statement_as_unavailable() {
        let connect =
            PgConnectOptions::from_str(&postgres_admin_url()).unwrap().options([("statement_timeout", "50ms")]);
        let mut connection = PgConnection::connect_with(&connect).await.unwrap();
        let error = sqlx::raw_sql("SELECT pg_sleep(5)").execute(&mut connection).await.unwrap_err();
        let classified = classify(error, "the test database", WAITS);
        assert!(matches!(&classified, DbError::Unavailable(message) if message.contains("57014")), "{classified:?}");
    }

    /// Rule H3: a connection the server ends (`pg_terminate_backend`: a restart, a failover) is an outage.
    #[tokio::test]
    async fn h3_a_connection_ended_by_the_server_is_unavailable() {
        let mut connection = PgConnection::connect(&postgres_admin_url()).await.unwrap();
        let error =
            sqlx::raw_sql("SELECT pg_terminate_backend(pg_backend_pid())").execute(&mut connection).await.unwrap_err();
        let classified = classify(error, "the test database", WAITS);
        assert!(matches!(classified, DbError::Unavailable(_)), "{classified:?}");
    }
}
