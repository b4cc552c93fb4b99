//! Where the records live: SQLite (one file, the default) or PostgreSQL, each with its own numbered
//! migrations embedded in the binary. The SQL is the same on both (`$n` parameters, `RETURNING`), so each
//! operation is written once and run on whichever pool is open.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::record::{Record, RecordId, ValidRecord};

/// The migrations' bookkeeping table. Not sqlx's default `_sqlx_migrations`, so that the API may share a
/// database with the provider (whose migrations use the default) without either mistaking the other's history
/// for its own. Never change it: the migrations would run again.
const MIGRATIONS_TABLE: &str = "_data_event_records_migrations";

/// How long a request waits for a connection before the API answers 503: a healthy database gives one at
/// once, and a user should not wait longer than this for an error.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A failed database operation. Neither kind's message reaches a caller: they are logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or used right now (503).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else (500).
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
                Self::Unavailable(error.to_string())
            }
            other => Self::Other(other.to_string()),
        }
    }
}

impl From<MigrateError> for StoreError {
    fn from(error: MigrateError) -> Self {
        match error {
            MigrateError::Execute(error) => error.into(),
            other => Self::Other(format!("migrating the schema failed: {other}")),
        }
    }
}

/// One row, as both databases return it.
#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    description: String,
    event_timestamp: String,
}

impl From<Row> for Record {
    fn from(row: Row) -> Self {
        Record { id: row.id, name: row.name, description: row.description, timestamp: row.event_timestamp }
    }
}

/// The open database.
#[derive(Debug, Clone)]
pub enum Records {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same statement on whichever pool is open (the expression is compiled once per database type).
macro_rules! on_pool {
    ($records:expr, $pool:ident => $body:expr) => {
        match $records {
            Records::Sqlite($pool) => $body,
            Records::Postgres($pool) => $body,
        }
    };
}

impl Records {
    /// Opens the database at `url` (`sqlite://path/file.db`, `sqlite::memory:`, `postgres://…`) and applies
    /// the migrations it lacks.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase()).unwrap_or_default();
        let records = match scheme.as_str() {
            "sqlite" => Self::Sqlite(open_sqlite(url).await?),
            "postgres" | "postgresql" => Self::Postgres(open_postgres(url)?),
            _ => {
                return Err(StoreError::Other(format!(
                    "unsupported database URL scheme {scheme:?}: use sqlite://path/to/file.db or \
                     postgres://user@host/database"
                )));
            }
        };
        records.migrate().await?;
        Ok(records)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(pool) => {
                let mut migrator: Migrator = sqlx::migrate!("migrations/sqlite");
                migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
                migrator.run(pool).await?;
            }
            Self::Postgres(pool) => {
                let mut migrator: Migrator = sqlx::migrate!("migrations/postgres");
                migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
                migrator.run(pool).await?;
            }
        }
        Ok(())
    }

    /// Every record, oldest first.
    pub async fn list(&self) -> Result<Vec<Record>, StoreError> {
        let sql = "SELECT id, name, description, event_timestamp FROM data_event_records ORDER BY id";
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Record::from).collect())
    }

    pub async fn get(&self, id: RecordId) -> Result<Option<Record>, StoreError> {
        let sql = "SELECT id, name, description, event_timestamp FROM data_event_records WHERE id = $1";
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(sql).bind(id.get()).fetch_optional(pool).await?);
        Ok(row.map(Record::from))
    }

    /// Inserts a record; the database assigns its id.
    pub async fn create(&self, record: &ValidRecord) -> Result<Record, StoreError> {
        let sql = "INSERT INTO data_event_records (name, description, event_timestamp) VALUES ($1, $2, $3) \
                   RETURNING id, name, description, event_timestamp";
        let row: Row = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(&record.name)
            .bind(&record.description)
            .bind(&record.timestamp)
            .fetch_one(pool)
            .await?);
        Ok(row.into())
    }

    /// Replaces the record `id`; `None` when there is none.
    pub async fn update(&self, id: RecordId, record: &ValidRecord) -> Result<Option<Record>, StoreError> {
        let sql = "UPDATE data_event_records SET name = $1, description = $2, event_timestamp = $3 WHERE id = $4 \
                   RETURNING id, name, description, event_timestamp";
        let row: Option<Row> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(&record.name)
            .bind(&record.description)
            .bind(&record.timestamp)
            .bind(id.get())
            .fetch_optional(pool)
            .await?);
        Ok(row.map(Record::from))
    }

    /// Deletes the record `id`; `false` when there was none.
    pub async fn delete(&self, id: RecordId) -> Result<bool, StoreError> {
        let sql = "DELETE FROM data_event_records WHERE id = $1";
        let done = on_pool!(self, pool => sqlx::query(sql).bind(id.get()).execute(pool).await?.rows_affected());
        Ok(done > 0)
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
    }
}

async fn open_sqlite(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|error| StoreError::Other(format!("invalid SQLite URL {url:?}: {error}")))?
        .create_if_missing(true)
        // WAL lets readers go on while one connection writes.
        .journal_mode(SqliteJournalMode::Wal);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let path = options.get_filename().to_path_buf();
    if !in_memory && let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| {
            StoreError::Unavailable(format!(
                "cannot create the directory {} for the database: {error}",
                parent.display()
            ))
        })?;
    }
    let pool = SqlitePoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
    // An in-memory database lives only as long as its one connection.
    let pool = if in_memory { pool.max_connections(1).idle_timeout(None).max_lifetime(None) } else { pool };
    Ok(pool.connect_with(options).await?)
}

fn open_postgres(url: &str) -> Result<PgPool, StoreError> {
    // sqlx's message could quote the URL, password included: say only what it is.
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| StoreError::Other(format!("invalid PostgreSQL URL {}", redact(url))))?
        .application_name("data-event-records");
    // Lazy: the first statement (the migrations, at start) connects and reports a failure.
    Ok(PgPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT).connect_lazy_with(options))
}

/// The URL without its password, to name a database in messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => "(a database URL that does not parse)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_appear_in_a_named_database() {
        assert_eq!(redact("postgres://api:hunter2@db:5432/records?password=x"), "postgres://api@db:5432/records");
        assert!(!redact("postgres://a:pa ss@[bad").contains("pa ss"));
    }
}
