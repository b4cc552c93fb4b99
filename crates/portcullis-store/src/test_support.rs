//! Throw-away databases for tests, here and in other crates (feature `test-support`).
//!
//! Each [`TestDatabase`] is a fresh, migrated database of its own, removed when it is dropped, also when the
//! test panicked: a temporary SQLite file, or a new database on the PostgreSQL server named by
//! `PORTCULLIS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`, trust authentication).
//! Constructors panic on failure, with a message saying what to fix: they are for tests only.

use std::path::PathBuf;
use std::sync::Arc;

use portcullis_core::secret::new_id;
use portcullis_core::store::Store;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

use crate::Database;
use crate::opening::redact_url;

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

    /// The URL of this database, to open it again (as a restarted server would) or to configure a server.
    pub fn url(&self) -> &str {
        &self.url
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
