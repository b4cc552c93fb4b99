//! The seam between the store logic (written once, in `store/`) and the two database drivers.
//!
//! Both SQLite and PostgreSQL accept `$1`-style parameters, so every statement's SQL is shared; a backend only
//! binds values, runs statements, and turns its driver's errors into [`DbError`].

use std::time::Duration;

use async_trait::async_trait;
use portcullis_core::store::StoreError;
use sqlx::error::DatabaseError;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Arguments, AssertSqlSafe, Database, Encode, FromRow, SqlSafeStr, SqlStr, Type};

/// A value bound to a statement parameter. Only the types the schema uses: text, 64-bit integers, booleans.
#[derive(Debug, Clone)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

/// One SQL statement with its parameters.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: Sql,
    pub args: Vec<Value>,
}

#[derive(Debug, Clone)]
pub enum Sql {
    Static(&'static str),
    /// Built at run time; only ever from fixed fragments and `$n` placeholders, never from values.
    Built(String),
}

impl Statement {
    pub fn new(sql: &'static str) -> Self {
        Self { sql: Sql::Static(sql), args: Vec::new() }
    }

    /// Whether the statement changes rows (`INSERT`, `UPDATE`, `DELETE`, also with `RETURNING`), so that a
    /// backend with one writing connection sends it there even when it is run as a query.
    pub fn writes(&self) -> bool {
        let sql = match &self.sql {
            Sql::Static(sql) => sql,
            Sql::Built(sql) => sql.as_str(),
        };
        let verb = sql.split_whitespace().next().unwrap_or_default();
        ["INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"].iter().any(|write| verb.eq_ignore_ascii_case(write))
    }

    /// SQL assembled at run time. The caller promises it holds no value, only placeholders.
    pub fn built(sql: String) -> Self {
        Self { sql: Sql::Built(sql), args: Vec::new() }
    }

    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    /// The SQL and the driver's arguments for it.
    pub fn into_parts<A>(self) -> DbResult<(SqlStr, A)>
    where
        A: Arguments,
        Option<String>: for<'t> Encode<'t, A::Database> + Type<A::Database>,
        Option<i64>: for<'t> Encode<'t, A::Database> + Type<A::Database>,
        bool: for<'t> Encode<'t, A::Database> + Type<A::Database>,
    {
        let mut arguments = A::default();
        for value in self.args {
            match value {
                Value::Text(text) => arguments.add(text),
                Value::Int(int) => arguments.add(int),
                Value::Bool(flag) => arguments.add(flag),
            }
            .map_err(|error| DbError::Other(format!("cannot bind a parameter: {error}")))?;
        }
        let sql = match self.sql {
            Sql::Static(sql) => sql.into_sql_str(),
            Sql::Built(sql) => AssertSqlSafe(sql).into_sql_str(),
        };
        Ok((sql, arguments))
    }
}

/// A row type both drivers can decode (a `#[derive(sqlx::FromRow)]` struct of plain columns).
pub trait Mapped: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {}

impl<T> Mapped for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static {}

/// A driver error, classified. Unique and foreign-key violations stay open until the caller, who knows which
/// value it wrote, turns them into a [`StoreError`] that names it.
#[derive(Debug)]
pub enum DbError {
    /// What the database said collided: SQLite's `table.column` list or PostgreSQL's constraint name. Both
    /// contain the column names, which is what [`DbError::unique_on`] looks for.
    Unique(String),
    /// A row refers to one that does not exist.
    ForeignKey(String),
    Unavailable(String),
    Other(String),
}

impl DbError {
    /// Whether this is a unique violation on an index or key over `column`.
    pub fn unique_on(&self, column: &str) -> bool {
        matches!(self, Self::Unique(what) if what.contains(column))
    }

    pub fn into_message(self) -> String {
        match self {
            Self::Unique(message) | Self::ForeignKey(message) | Self::Unavailable(message) | Self::Other(message) => {
                message
            }
        }
    }

    /// The store error for a failed write, naming the value that collided or the row that was missing.
    pub fn into_store(self, conflict: impl FnOnce(&DbError) -> String, missing: impl FnOnce() -> String) -> StoreError {
        match self {
            Self::Unique(_) => StoreError::Conflict(conflict(&self)),
            Self::ForeignKey(_) => StoreError::NotFound(missing()),
            other => other.into(),
        }
    }
}

impl From<DbError> for StoreError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unique(what) => StoreError::Conflict(what),
            DbError::ForeignKey(what) => StoreError::NotFound(format!("the row referred to ({what})")),
            DbError::Unavailable(message) => StoreError::Unavailable(message),
            DbError::Other(message) => StoreError::Other(message),
        }
    }
}

pub type DbResult<T> = Result<T, DbError>;

/// How long a backend waits, from [`crate::DatabaseOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// For a connection: to open one, or for one to come free.
    pub acquire: Duration,
    /// For one statement, enforced by the database itself (PostgreSQL `statement_timeout`, SQLite's busy
    /// timeout).
    pub statement: Duration,
}

impl Waits {
    /// How long the statements of one call may take on our own clock, once it has its connection. The
    /// database's own limit normally ends a statement first, with an error saying why, and leaves the
    /// connection usable; this one ends a call on a network that carries nothing, where not even an error
    /// ever comes back. The grace gives the database's answer time to arrive.
    pub fn run(&self) -> Duration {
        self.statement + RUN_GRACE
    }
}

/// See [`Waits::run`]: a quarter of a second covers the round trip of a timed-out statement's error on any
/// network a provider and its database share.
const RUN_GRACE: Duration = Duration::from_millis(250);

/// Runs the statements of one call on `connection` within [`Waits::run`]. A call cut short is
/// [`DbError::Unavailable`], and its connection is closed rather than returned to the pool, as its state is
/// unknown. Whatever the call had not committed is rolled back by the database when the connection ends; if
/// the `COMMIT` itself was under way, the caller still answers a failure, never a success that may not have
/// been stored.
pub async fn bounded<DB: Database, T>(
    waits: Waits,
    target: &str,
    connection: &mut PoolConnection<DB>,
    call: impl AsyncFnOnce(&mut DB::Connection) -> DbResult<T>,
) -> DbResult<T> {
    match tokio::time::timeout(waits.run(), call(&mut **connection)).await {
        Ok(done) => done,
        Err(_) => {
            connection.close_on_drop();
            Err(DbError::Unavailable(format!(
                "no answer from {target} within {} s: the database or the network to it is down or overloaded",
                waits.run().as_secs_f32()
            )))
        }
    }
}

/// Classifies the driver errors both databases share. The database's own errors are handed back for the
/// backend to read its codes; `target` names the database (never with a password) for the person reading.
pub fn classify_common(error: sqlx::Error, target: &str, waits: Waits) -> Result<Box<dyn DatabaseError>, DbError> {
    Err(match error {
        sqlx::Error::Database(error) => return Ok(error),
        sqlx::Error::Io(error) => DbError::Unavailable(format!("cannot reach {target}: {error}")),
        sqlx::Error::Tls(error) => DbError::Unavailable(format!("TLS with {target} failed: {error}")),
        sqlx::Error::PoolTimedOut => DbError::Unavailable(format!(
            "no connection to {target} within {} s: the database is down, unreachable or overloaded",
            waits.acquire.as_secs_f32()
        )),
        sqlx::Error::PoolClosed => {
            DbError::Unavailable(format!("the connections to {target} are closed (the provider is shutting down)"))
        }
        sqlx::Error::WorkerCrashed => DbError::Unavailable(format!("the connection to {target} crashed")),
        other => DbError::Other(other.to_string()),
    })
}

/// A lock across every instance on one database, held by one transaction at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Adding the provider's keys (rule K1 of docs/security.md).
    KeyGeneration,
}

impl Lock {
    /// The PostgreSQL advisory lock key: fixed, and far from sqlx's migration lock (a CRC of the database
    /// name times a constant).
    pub fn key(self) -> i64 {
        match self {
            Self::KeyGeneration => i64::from_be_bytes(*b"pc:keys\0"),
        }
    }
}

/// What the shared store logic needs from a database. Sealed: only this crate's two backends implement it.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Runs a statement; returns the number of rows it changed.
    async fn execute(&self, statement: Statement) -> DbResult<u64>;
    async fn fetch_optional<T: Mapped>(&self, statement: Statement) -> DbResult<Option<T>>;
    async fn fetch_all<T: Mapped>(&self, statement: Statement) -> DbResult<Vec<T>>;
    /// Runs the statements in order in one transaction; returns the rows each changed. Any failure rolls all
    /// of them back.
    async fn execute_in_transaction(&self, statements: Vec<Statement>) -> DbResult<Vec<u64>>;
    /// Like [`Backend::execute_in_transaction`], in a transaction that first takes `lock`: transactions under
    /// the same lock run one after the other, from any instance, so each sees what the previous committed.
    async fn execute_under_lock(&self, lock: Lock, statements: Vec<Statement>) -> DbResult<Vec<u64>>;
    /// Runs the statements in order in one transaction, and commits only if every one of them changed at least
    /// one row: a guarded `UPDATE … WHERE status = …` that matches nothing rolls back everything before it.
    /// Returns whether it committed.
    async fn execute_all_or_nothing(&self, statements: Vec<Statement>) -> DbResult<bool>;
}
