//! A provider started in-process on 127.0.0.1 with a fresh database, for HTTP tests.
#![allow(dead_code)]

pub mod browser;
pub mod oauth;

use std::sync::Arc;

use portcullis_core::store::Store;
use portcullis_core::{Clock, SystemClock};
use portcullis_server::app;
use portcullis_server::config::{Config, Settings};
use portcullis_server::state::AppState;
use portcullis_store::test_support::TestDatabase;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Runs one async test body against SQLite and against PostgreSQL: `both_databases!(name, body_fn);`
#[macro_export]
macro_rules! both_databases {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(portcullis_store::test_support::TestDatabase::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(portcullis_store::test_support::TestDatabase::postgres().await).await;
            }
        }
    };
}

/// Like [`both_databases!`], for a test that states a rule the provider does not meet yet: both runs are
/// `#[ignore]`d with `reason` (run them with `--run-ignored all`). Remove the `_ignored` once fixed.
#[macro_export]
macro_rules! both_databases_ignored {
    ($name:ident, $body:ident, $reason:literal) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $reason]
            async fn sqlite() {
                super::$body(portcullis_store::test_support::TestDatabase::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $reason]
            async fn postgres() {
                super::$body(portcullis_store::test_support::TestDatabase::postgres().await).await;
            }
        }
    };
}

pub struct TestProvider {
    pub base: String,
    pub state: AppState,
    server: JoinHandle<()>,
}

impl TestProvider {
    /// Starts a provider whose issuer is its own loopback address.
    pub async fn start(db: &TestDatabase) -> Self {
        Self::start_with(db, |config| config).await
    }

    pub async fn start_with(db: &TestDatabase, configure: impl FnOnce(Config) -> Config) -> Self {
        Self::start_on(db.store(), db.url(), configure).await
    }

    /// Starts a provider on a store opened by the caller (e.g. a second handle on the same database).
    pub async fn start_on(store: Arc<dyn Store>, url: &str, configure: impl FnOnce(Config) -> Config) -> Self {
        Self::start_full(store, url, configure, Arc::new(SystemClock)).await
    }

    /// Starts a provider whose time is `clock` (keep an `Arc<FixedClock>` to move it).
    pub async fn start_with_clock(db: &TestDatabase, clock: Arc<dyn Clock>) -> Self {
        Self::start_full(db.store(), db.url(), |config| config, clock).await
    }

    async fn start_full(
        store: Arc<dyn Store>,
        url: &str,
        configure: impl FnOnce(Config) -> Config,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let base = format!("http://{address}");
        let settings = settings_for(url, &base, configure);
        let master_key = portcullis_server::serve::master_key(&settings).unwrap();
        let state = AppState::new(settings, store, clock, master_key).await.unwrap();
        let router = app::router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { base, state, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn settings(db: &TestDatabase, issuer: &str, configure: impl FnOnce(Config) -> Config) -> Settings {
    settings_for(db.url(), issuer, configure)
}

pub fn settings_for(url: &str, issuer: &str, configure: impl FnOnce(Config) -> Config) -> Settings {
    let config = Config { issuer: issuer.to_string(), database_url: Some(url.to_string()), ..Config::default() };
    configure(config).validate().unwrap()
}

pub async fn state(db: &TestDatabase, settings: Settings) -> AppState {
    state_on(db.store(), settings).await
}

pub async fn state_on(store: Arc<dyn Store>, settings: Settings) -> AppState {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let master_key = portcullis_server::serve::master_key(&settings).unwrap();
    AppState::new(settings, store, clock, master_key).await.unwrap()
}

/// A state whose time is `clock`: pass an `Arc<FixedClock>` (keeping a handle) to stop and move time in a test.
pub async fn state_with_clock(db: &TestDatabase, settings: Settings, clock: Arc<dyn Clock>) -> AppState {
    let master_key = portcullis_server::serve::master_key(&settings).unwrap();
    AppState::new(settings, db.store(), clock, master_key).await.unwrap()
}

/// Seeds the demo clients, users and scopes (before a provider starts, so it publishes them).
pub async fn seed_demo(db: &TestDatabase) {
    portcullis_server::demo::seed(db.store().as_ref(), &SystemClock).await.unwrap();
}

/// An HTTP client that, like every OAuth client should, never follows redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}
