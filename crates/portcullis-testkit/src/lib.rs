//! Test harness for Portcullis: **for tests only**.
//!
//! What it gives a test:
//! - [`TestProvider`]: the real provider (`portcullis-server`'s router and state) served in-process on
//!   127.0.0.1 at a port of its own, on a throw-away [`TestDatabase`] (SQLite or PostgreSQL), built with
//!   [`TestProvider::builder`]: optional demo data, a fixed clock the test moves, a configuration hook.
//! - [`both_databases!`] and [`both_databases_ignored!`]: one async test body run on SQLite and on PostgreSQL.
//! - HTTP helpers: [`http`] and [`Reply`] for one exchange, [`Visitor`] for a browser with a cookie jar,
//!   [`AuthorizeRequest`] and [`Pkce`] for authorization requests, token-endpoint and userinfo calls
//!   ([`token`], [`redeem`], [`refresh`], [`userinfo`], …) and [`jwt_parts`] to read what came back.
//! - The demo data's well-known names and secrets ([`SPA`], [`CONSOLE`], [`PASSWORD`], …).
//! - [`Loopback`] and [`nowhere`]: serving a stand-in router, or naming an address where nothing listens.
//! - [`Relay`]: a TCP relay in front of the PostgreSQL server that a test cuts or freezes, for outages.
//!
//! What it must not be used for: anything but tests. Name it only under `[dev-dependencies]`, never as a normal
//! dependency of a crate or application, and never to run a provider that anyone relies on. It serves plain HTTP
//! on loopback, stores private keys unsealed (no master key), seeds users and clients whose passwords and secrets
//! are published in this repository, and panics on any failure instead of returning an error.
//!
//! The modules depend on one another in one direction only: `demo`, `relay` and `server` on nothing of the kit,
//! `provider` on both, `http` on nothing, `oauth` on `http` and `demo`, `browser` on `http`, `oauth` and `demo`.

// A test harness fails loudly: a panic with the reason is what a test wants from its set-up, so the kit
// unwraps where the server crate's code may not (the workspace denies unwrap/expect outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser;
mod demo;
mod http;
mod oauth;
mod provider;
mod relay;
mod server;

pub use browser::{CSRF_COOKIE, EVIL_ORIGIN, SESSION_COOKIE, Visitor, spa_tokens, spa_tokens_with_scope};
pub use demo::{API, API_SECRET, CONSOLE, PASSWORD, SPA, SPA_ORIGIN, SPA_REDIRECT, SPA_SCOPE, seed_demo, spa_like};
pub use http::{Reply, fragment_param, http, query_param};
pub use oauth::{
    AuthorizeRequest, Pkce, assert_access_token_inactive, jwt_parts, redeem, refresh, token, token_basic, token_raw,
    userinfo,
};
pub use portcullis_store::test_support::{RoundTrips, TestDatabase, WriteLock};
pub use provider::{DEFAULT_ISSUER, TestProvider, TestProviderBuilder, fixed_clock};
pub use relay::Relay;
pub use server::{Loopback, Served, nowhere};

/// Runs one async test body against SQLite and against PostgreSQL: `both_databases!(name, body_fn);` defines
/// the tests `name::sqlite` and `name::postgres`, each calling `body_fn(TestDatabase)` on a fresh database.
///
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) among its dependencies.
#[macro_export]
macro_rules! both_databases {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::TestDatabase::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body($crate::TestDatabase::postgres().await).await;
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
                super::$body($crate::TestDatabase::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $reason]
            async fn postgres() {
                super::$body($crate::TestDatabase::postgres().await).await;
            }
        }
    };
}
