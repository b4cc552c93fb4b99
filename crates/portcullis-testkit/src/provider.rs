//! The provider itself, started in-process: [`TestProvider::builder`] chooses its database, demo data, clock
//! and configuration.

use std::sync::Arc;

use portcullis_core::store::Store;
use portcullis_core::{Clock, FixedClock, SystemClock};
use portcullis_server::admin::ClientSpec;
use portcullis_server::app;
use portcullis_server::config::{Config, Settings};
use portcullis_server::state::AppState;
use portcullis_store::test_support::TestDatabase;

use crate::demo;
use crate::server::{Loopback, Served};

/// The issuer of a provider that is built ([`TestProviderBuilder::state`]) but not served, unless one is given.
pub const DEFAULT_ISSUER: &str = "http://localhost:44319";

type Configure = Box<dyn FnOnce(Config) -> Config + Send>;

/// The provider served on 127.0.0.1 at a port of its own; it stops when dropped.
pub struct TestProvider {
    /// `http://127.0.0.1:PORT`: where it answers, and its issuer unless the configuration says otherwise.
    pub base: String,
    /// The state its router serves: its store, clock and settings.
    pub state: AppState,
    _server: Served,
}

impl TestProvider {
    /// A provider on `db`, as built so far: call [`TestProviderBuilder::start`] to serve it.
    pub fn builder(db: &TestDatabase) -> TestProviderBuilder {
        TestProviderBuilder {
            store: db.store(),
            database_url: db.url().to_owned(),
            issuer: None,
            seed_demo: false,
            clock: None,
            configure: Vec::new(),
        }
    }

    /// `base` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers `spec` through the administration rules, as `portcullis clients add` would.
    pub async fn add_client(&self, spec: ClientSpec) {
        portcullis_server::admin::add_client(self.state.store.as_ref(), &SystemClock, spec).await.unwrap();
    }
}

/// How a [`TestProvider`] is set up; every choice has a default, so `TestProvider::builder(&db).start()` is a
/// provider on an empty database, with the system clock and the default configuration.
pub struct TestProviderBuilder {
    store: Arc<dyn Store>,
    database_url: String,
    issuer: Option<String>,
    seed_demo: bool,
    clock: Option<Arc<dyn Clock>>,
    configure: Vec<Configure>,
}

impl TestProviderBuilder {
    /// Seeds the demo clients, users and scopes before the provider starts (so it publishes them).
    pub fn seed_demo(mut self) -> Self {
        self.seed_demo = true;
        self
    }

    /// The provider's time: pass an `Arc<FixedClock>` and keep a handle to stop and move time in a test.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Changes the configuration after the issuer and the database URL are set in it, before it is validated.
    /// Several hooks run in the order given.
    pub fn configure(mut self, configure: impl FnOnce(Config) -> Config + Send + 'static) -> Self {
        self.configure.push(Box::new(configure));
        self
    }

    /// The issuer, instead of the provider's own address (or [`DEFAULT_ISSUER`] for a provider not served).
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    /// Another handle on the same database (say, one opened again as a restarted server would), used
    /// instead of the test database's own.
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// Serves the provider on 127.0.0.1 at a port of its own.
    pub async fn start(self) -> TestProvider {
        let loopback = Loopback::bind().await;
        let base = loopback.base().to_owned();
        let state = self.build_state(&base).await;
        let server = loopback.serve(app::router(state.clone()));
        TestProvider { base, state, _server: server }
    }

    /// The provider's state (keys created, snapshot published) without serving it: for tests that call the
    /// server's functions directly.
    pub async fn state(self) -> AppState {
        self.build_state(DEFAULT_ISSUER).await
    }

    /// The validated settings this builder would start the provider with, for an issuer of
    /// [`DEFAULT_ISSUER`] unless one is given. Seeds nothing.
    pub fn settings(self) -> Settings {
        self.settings_for(DEFAULT_ISSUER)
    }

    async fn build_state(mut self, default_issuer: &str) -> AppState {
        if self.seed_demo {
            demo::seed_store(self.store.as_ref()).await;
        }
        let store = self.store.clone();
        let clock = self.clock.take().unwrap_or_else(|| Arc::new(SystemClock));
        let settings = self.settings_for(default_issuer);
        let master_key = portcullis_server::serve::master_key(&settings).unwrap();
        AppState::new(settings, store, clock, master_key).await.unwrap()
    }

    fn settings_for(self, default_issuer: &str) -> Settings {
        let issuer = self.issuer.unwrap_or_else(|| default_issuer.to_owned());
        let config = Config { issuer, database_url: Some(self.database_url), ..Config::default() };
        self.configure.into_iter().fold(config, |config, configure| configure(config)).validate().unwrap()
    }
}

/// A clock stopped at the current time; keep the `Arc` to move it.
pub fn fixed_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(SystemClock.now()))
}
