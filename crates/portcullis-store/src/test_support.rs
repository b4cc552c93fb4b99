//! Throw-away databases for tests, here and in other crates (feature `test-support`).
//!
//! Each [`TestDatabase`] is a fresh, migrated database of its own, removed when it is dropped, also when the
//! test panicked: a temporary SQLite file, or a new database on the PostgreSQL server named by
//! `PORTCULLIS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`, trust authentication).
//! Constructors panic on failure, with a message saying what to fix: they are for tests only.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use portcullis_core::secret::new_id;
use portcullis_core::store::Store;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

use crate::backend::{Backend, DbResult, Lock, Mapped, Statement};
use crate::opening::redact_url;
use crate::{Database, SqlStore};

/// The environment variable naming the PostgreSQL server tests create their databases on.
pub const POSTGRES_URL_ENV: &str = "PORTCULLIS_TEST_POSTGRES_URL";
/// Where tests find PostgreSQL when [`POSTGRES_URL_ENV`] is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The PostgreSQL URL tests connect to for creating and dropping their databases.
pub fn postgres_admin_url() -> String {
    std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A fresh database with the schema applied; see the module documentation.
#[derive(Debug)]
pub struct TestDatabase {
    // Declared first so the pool is dropped before the database is removed.
    database: Database,
    url: String,
    _cleanup: Cleanup,
}

impl TestDatabase {
    /// A new SQLite file in a temporary directory of its own.
    pub async fn sqlite() -> Self {
        let directory = std::env::temp_dir().join(format!("portcullis-test-{}", new_id()));
        let cleanup = Cleanup::Directory(directory.clone());
        let url = format!("sqlite://{}", directory.join("portcullis.db").display());
        Self::open(url, cleanup).await
    }

    /// A new database on the test PostgreSQL server.
    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("portcullis_t_{}", new_id().replace('-', ""));
        let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
            panic!(
                "PostgreSQL for tests is not reachable at {} ({error}): start it, or set {POSTGRES_URL_ENV}",
                redact_url(&admin_url)
            )
        });
        // The name is ours (a prefix and hex digits), so it is safe to put in the statement.
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot create the test database {name}: {error}"));
        let _ = admin.close().await;
        let cleanup = Cleanup::Postgres { admin_url: admin_url.clone(), name: name.clone() };
        let mut url =
            url::Url::parse(&admin_url).unwrap_or_else(|error| panic!("{POSTGRES_URL_ENV} is not a URL: {error}"));
        url.set_path(&name);
        Self::open(url.to_string(), cleanup).await
    }

    async fn open(url: String, cleanup: Cleanup) -> Self {
        // `cleanup` is dropped, and so removes the database, if opening panics.
        let database =
            Database::open(&url).await.unwrap_or_else(|error| panic!("cannot open the test database: {error}"));
        database.migrate().await.unwrap_or_else(|error| panic!("cannot migrate the test database: {error}"));
        Self { database, url, _cleanup: cleanup }
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.database.store()
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// A store on this database that counts its round trips: every call it makes to the database, one
    /// statement or one transaction of several. What a request costs the database, measured, not assumed.
    pub fn counted_store(&self) -> (Arc<dyn Store>, RoundTrips) {
        let trips = RoundTrips::default();
        let store: Arc<dyn Store> = match &self.database {
            Database::Sqlite(store) => {
                Arc::new(SqlStore::new(Counted { inner: store.backend().clone(), trips: trips.clone() }))
            }
            Database::Postgres(store) => {
                Arc::new(SqlStore::new(Counted { inner: store.backend().clone(), trips: trips.clone() }))
            }
        };
        (store, trips)
    }

    /// The URL of this database, to open it again (as a restarted server would) or to configure a server.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` on a connection of its own, as an administrator would (to break the schema under a running
    /// provider, say). Panics when it fails.
    pub async fn execute(&self, sql: &str) {
        let run = async {
            match &self.database {
                Database::Sqlite(_) => {
                    let mut connection = SqliteConnection::connect(&self.url).await?;
                    sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut connection).await?;
                    connection.close().await
                }
                Database::Postgres(_) => {
                    let mut connection = PgConnection::connect(&self.url).await?;
                    sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut connection).await?;
                    connection.close().await
                }
            }
        };
        run.await.unwrap_or_else(|error: sqlx::Error| panic!("cannot run {sql:?}: {error}"));
    }

    /// Takes the database's write lock and holds it until [`WriteLock::release`], as a long migration or an
    /// administrator's open transaction would: reads go on, every write waits. SQLite: `BEGIN IMMEDIATE` on a
    /// connection of its own. PostgreSQL: `LOCK TABLE … IN EXCLUSIVE MODE` on every table of the schema, which
    /// lets `SELECT` through and makes `INSERT`, `UPDATE` and `DELETE` wait.
    pub async fn hold_write_lock(&self) -> WriteLock {
        let taken = async {
            match &self.database {
                Database::Sqlite(_) => {
                    let mut connection = SqliteConnection::connect(&self.url).await?;
                    sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut connection).await?;
                    Ok(WriteLock::Sqlite(connection))
                }
                Database::Postgres(_) => {
                    let mut connection = PgConnection::connect(&self.url).await?;
                    let tables: Vec<(String,)> =
                        sqlx::query_as("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()")
                            .fetch_all(&mut connection)
                            .await?;
                    let names: Vec<String> = tables.into_iter().map(|(name,)| format!("\"{name}\"")).collect();
                    // Table names come from the catalogue, quoted: nothing of the test's goes into the statement.
                    let lock = format!("BEGIN; LOCK TABLE {} IN EXCLUSIVE MODE", names.join(", "));
                    sqlx::raw_sql(AssertSqlSafe(lock)).execute(&mut connection).await?;
                    Ok(WriteLock::Postgres(connection))
                }
            }
        };
        taken.await.unwrap_or_else(|error: sqlx::Error| panic!("cannot take the write lock: {error}"))
    }

    /// PostgreSQL only: removes the database now, ending every connection to it (`DROP DATABASE … WITH
    /// (FORCE)`), as an administrator who drops it under a running provider would. Stores on it stop working.
    pub async fn drop_now(&self) {
        let Cleanup::Postgres { admin_url, name } = &self._cleanup else {
            panic!("drop_now is for PostgreSQL test databases");
        };
        let mut admin = PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL for tests is not reachable: {error}"));
        sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("cannot drop the test database {name}: {error}"));
        let _ = admin.close().await;
    }

    /// PostgreSQL only: ends every connection to this database but the caller's (`pg_terminate_backend`), as
    /// a restarting server or a failover would; the database itself stays.
    pub async fn terminate_connections(&self) {
        let Cleanup::Postgres { admin_url, name } = &self._cleanup else {
            panic!("terminate_connections is for PostgreSQL test databases");
        };
        let mut admin = PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL for tests is not reachable: {error}"));
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name.as_str())
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot end the connections to {name}: {error}"));
        let _ = admin.close().await;
    }
}

/// The write lock of [`TestDatabase::hold_write_lock`], held until released (or, less promptly, dropped).
#[derive(Debug)]
pub enum WriteLock {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl WriteLock {
    /// Rolls the holding transaction back: writes go through again.
    pub async fn release(self) {
        let released = match self {
            Self::Sqlite(mut connection) => {
                let rolled_back = sqlx::raw_sql("ROLLBACK").execute(&mut connection).await.map(drop);
                let _ = connection.close().await;
                rolled_back
            }
            Self::Postgres(mut connection) => {
                let rolled_back = sqlx::raw_sql("ROLLBACK").execute(&mut connection).await.map(drop);
                let _ = connection.close().await;
                rolled_back
            }
        };
        released.unwrap_or_else(|error| panic!("cannot release the write lock: {error}"));
    }
}

/// The round trips a [`TestDatabase::counted_store`] made.
#[derive(Debug, Clone, Default)]
pub struct RoundTrips(Arc<AtomicUsize>);

impl RoundTrips {
    /// The round trips since the last call, starting again from zero.
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }

    fn count(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A backend that counts the calls made through it, then makes them.
#[derive(Debug, Clone)]
struct Counted<B> {
    inner: B,
    trips: RoundTrips,
}

#[async_trait]
impl<B: Backend> Backend for Counted<B> {
    async fn execute(&self, statement: Statement) -> DbResult<u64> {
        self.trips.count();
        self.inner.execute(statement).await
    }

    async fn fetch_optional<T: Mapped>(&self, statement: Statement) -> DbResult<Option<T>> {
        self.trips.count();
        self.inner.fetch_optional(statement).await
    }

    async fn fetch_all<T: Mapped>(&self, statement: Statement) -> DbResult<Vec<T>> {
        self.trips.count();
        self.inner.fetch_all(statement).await
    }

    async fn execute_in_transaction(&self, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        self.trips.count();
        self.inner.execute_in_transaction(statements).await
    }

    async fn execute_all_or_nothing(&self, statements: Vec<Statement>) -> DbResult<bool> {
        self.trips.count();
        self.inner.execute_all_or_nothing(statements).await
    }

    async fn execute_under_lock(&self, lock: Lock, statements: Vec<Statement>) -> DbResult<Vec<u64>> {
        self.trips.count();
        self.inner.execute_under_lock(lock, statements).await
    }
}

/// Removes a test database when dropped.
#[derive(Debug)]
enum Cleanup {
    Directory(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        match self {
            Self::Directory(directory) => {
                let _ = std::fs::remove_dir_all(directory);
            }
            Self::Postgres { admin_url, name } => drop_postgres_database(admin_url, name),
        }
    }
}

/// `Drop` cannot await, and may run inside the test's runtime: the database is dropped from a thread with
/// a runtime of its own. FORCE ends the connections the test's pool still holds.
fn drop_postgres_database(admin_url: &str, name: &str) {
    let admin_url = admin_url.to_owned();
    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    let outcome = std::thread::spawn(move || {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| error.to_string())?;
        runtime.block_on(async {
            let mut admin = PgConnection::connect(&admin_url).await.map_err(|error| error.to_string())?;
            sqlx::query(AssertSqlSafe(statement)).execute(&mut admin).await.map_err(|error| error.to_string())?;
            let _ = admin.close().await;
            Ok::<(), String>(())
        })
    })
    .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => eprintln!("could not drop the test database {name}: {error}"),
        Err(_) => eprintln!("could not drop the test database {name}: the cleanup thread panicked"),
    }
}
