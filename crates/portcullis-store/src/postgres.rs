//! PostgreSQL: for deployments with more than one provider instance, or an existing database service.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::store::StoreError;
use sqlx::Connection;
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

use crate::backend::{Backend, DbError, DbResult, Mapped, Statement, classify_common};
use crate::opening::{DatabaseOptions, migrate_error, redact_url};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Connections per provider instance: requests hold one only for a statement or two, and PostgreSQL's
/// default limit of 100 connections then serves several instances plus administration.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// The PostgreSQL side of [`crate::PostgresStore`].
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    pool: PgPool,
    target: Arc<str>,
    acquire_timeout: Duration,
}

impl PostgresBackend {
    pub(crate) async fn open(url: &str, options: &DatabaseOptions) -> Result<Self, StoreError> {
        let target: Arc<str> = redact_url(url).into();
        // sqlx's own message could quote the URL, password included: say only what it is.
        let connect = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Other(format!("invalid PostgreSQL URL {target}")))?
            .application_name("portcullis");
        let acquire_timeout = options.acquire_timeout;
        // One connection first, outside the pool: the pool retries a refused connection until its timeout and
        // then reports only "timed out", where this says why (refused, no such database, bad password).
        match tokio::time::timeout(acquire_timeout, PgConnection::connect_with(&connect)).await {
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "{target} did not answer within {} s",
                    acquire_timeout.as_secs_f32()
                )));
            }
            Ok(Err(error)) => return Err(classify(error, &target, acquire_timeout).into()),
            Ok(Ok(connection)) => {
                // Only a probe: a failure to say goodbye changes nothing.
                let _ = connection.close().await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS))
            .acquire_timeout(acquire_timeout)
            .connect_lazy_with(connect);
        Ok(Self { pool, target, acquire_timeout })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        // sqlx holds an advisory lock while migrating, so instances starting together take turns.
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

/// Every PostgreSQL error goes through here.
fn classify(error: sqlx::Error, target: &str, acquire_timeout: Duration) -> DbError {
    let error = match classify_common(error, target, acquire_timeout) {
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
    match code.as_str() {
        // Class 08: connection exceptions; 57P01-03: shut down or starting; 53300: too many connections;
        // 28000/28P01: refused credentials; 3D000: no such database.
        c if c.starts_with("08") => DbError::Unavailable(format!("{target}: {message}")),
        "57P01" | "57P02" | "57P03" | "53300" | "28000" | "28P01" | "3D000" => {
            DbError::Unavailable(format!("{target}: {message}"))
        }
        _ => DbError::Other(format!("{target}: {message} (SQLSTATE {code})")),
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    async fn execute(&self, statement: Statement) -> DbResult<u64> {
        let (sql, arguments) = statement.into_parts::<PgArguments>()?;
        sqlx::query_with(sql, arguments)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .map_err(|error| self.classify(error))
    }

    async fn fetch_optional<T: Mapped>(&self, statement: Statement) -> DbResult<Option<T>> {
        let (sql, arguments) = statement.into_parts::<PgArguments>()?;
        sqlx::query_as_with::<_, T, _>(sql, arguments)
            .fetch_optional(&self.pool)
            .await
            .map_err(|error| self.classify(error))
    }

    async fn fetch_all<T: Mapped>(&self, statement: Statement) -> DbResult<Vec<T>> {
        let (sql, arguments) = statement.into_parts::<PgArguments>()?;
        sqlx::query_as_with::<_, T, _>(sql, arguments).fetch_all(&self.pool).await.map_err(|error| self.classify(error))
    }

    async fn execute_in_transaction(&self, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        let mut transaction = self.pool.begin().await.map_err(|error| self.classify(error))?;
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
    }

    async fn execute_all_or_nothing(&self, statements: Vec<Statement>) -> DbResult<bool> {
        // A guarded UPDATE waits for a concurrent one on the same row, then re-checks its guard against the
        // committed row (READ COMMITTED): of two racing transactions, the second matches nothing and rolls back.
        let mut transaction = self.pool.begin().await.map_err(|error| self.classify(error))?;
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
    }
}
