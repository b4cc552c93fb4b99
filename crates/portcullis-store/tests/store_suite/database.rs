//! Opening, reopening and failing to open databases.

use std::time::{Duration, Instant};

use portcullis_core::secret::new_id;
use portcullis_core::store::StoreError;
use portcullis_store::test_support::TestDatabase;
use portcullis_store::{Database, DatabaseOptions};

use crate::fixtures::{T0, client};

pub async fn data_survives_reopening_the_database(database: &TestDatabase) {
    let created = database.store().create_client(client("web"), T0).await.unwrap();
    // A restart: every connection closed, then the same URL opened (and migrated) again.
    database.database().close().await;
    let reopened = Database::open(database.url()).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(reopened.store().find_client("web").await.unwrap(), Some(created));
    reopened.close().await;
}

pub async fn migrating_again_changes_nothing(database: &TestDatabase) {
    database.store().create_client(client("web"), T0).await.unwrap();
    database.database().migrate().await.unwrap();
    assert_eq!(database.store().list_clients().await.unwrap().len(), 1);
}

/// Rule H3: a write that waits for another connection's lock longer than `statement_timeout` (PostgreSQL's
/// `statement_timeout`, SQLite's busy timeout) fails as `Unavailable` soon after, and writes nothing; reads go
/// on meanwhile.
pub async fn a_write_blocked_beyond_the_statement_timeout_is_unavailable(database: &TestDatabase) {
    let options = DatabaseOptions { statement_timeout: Duration::from_millis(200), ..DatabaseOptions::default() };
    let opened = Database::open_with(database.url(), &options).await.unwrap();
    let store = opened.store();
    store.create_client(client("web"), T0).await.unwrap();
    let lock = database.hold_write_lock().await;
    let started = Instant::now();
    match store.create_client(client("blocked"), T0).await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(900), "took {:?}", started.elapsed());
    assert!(store.find_client("web").await.unwrap().is_some(), "reads go on");
    lock.release().await;
    assert_eq!(store.find_client("blocked").await.unwrap(), None);
    store.create_client(client("blocked"), T0).await.unwrap();
    opened.close().await;
}

/// What is expected of any database that cannot be reached: `Unavailable`, in well under the acquire
/// timeout, naming the database and never its password.
#[track_caller]
fn assert_unavailable(result: Result<Database, StoreError>, started: Instant, names: &str) {
    let elapsed = started.elapsed();
    match result {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains(names), "{message:?} should name {names:?}");
            assert!(!message.contains("hunter2"), "{message:?} leaks the password");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[tokio::test]
async fn postgres_that_is_down_is_unavailable_at_once() {
    let started = Instant::now();
    let result = Database::open("postgres://postgres:hunter2@127.0.0.1:1/test").await;
    assert_unavailable(result, started, "postgres://postgres@127.0.0.1:1/test");
}

#[tokio::test]
async fn postgres_that_never_answers_is_unavailable_after_the_acquire_timeout() {
    // A listener that accepts and then says nothing, like a hung server.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = DatabaseOptions { acquire_timeout: Duration::from_millis(500), ..DatabaseOptions::default() };
    let started = Instant::now();
    let url = format!("postgresql://postgres:hunter2@127.0.0.1:{port}/test");
    let result = Database::open_with(&url, &options).await;
    assert_unavailable(result, started, &format!("127.0.0.1:{port}"));
    silent.abort();
}

#[tokio::test]
async fn sqlite_file_that_cannot_be_created_is_unavailable() {
    let started = Instant::now();
    let result = Database::open("sqlite:///proc/portcullis-cannot-exist/portcullis.db").await;
    assert_unavailable(result, started, "/proc/portcullis-cannot-exist");
}

#[tokio::test]
async fn unsupported_database_url_is_refused_with_the_supported_forms() {
    match Database::open("mysql://root:hunter2@127.0.0.1/portcullis").await {
        Err(StoreError::Other(message)) => {
            assert!(message.contains("sqlite://"), "{message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
        other => panic!("expected Other, got {other:?}"),
    }
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_while_open() {
    let store = portcullis_store::connect("sqlite::memory:").await.unwrap();
    store.create_client(client("web"), T0).await.unwrap();
    assert!(store.find_client("web").await.unwrap().is_some());
}

#[tokio::test]
async fn migrate_creates_the_file_and_its_directories_then_connect_uses_it() {
    let directory = std::env::temp_dir().join(format!("portcullis-test-{}", new_id()));
    let file = directory.join("nested").join("portcullis.db");
    let url = format!("sqlite://{}", file.display());

    portcullis_store::migrate(&url).await.unwrap();
    assert!(file.exists());
    let store = portcullis_store::connect(&url).await.unwrap();
    store.create_client(client("web"), T0).await.unwrap();
    assert_eq!(store.list_clients().await.unwrap().len(), 1);

    std::fs::remove_dir_all(&directory).unwrap();
}
