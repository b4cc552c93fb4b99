//! The dataEventRecords API: the sample resource server of Portcullis. It keeps records (id, name,
//! description, timestamp) in its own SQLite or PostgreSQL database and serves them at
//! `/api/DataEventRecords` to callers whose access token the provider issued for it: reading needs the
//! `dataEventRecords` scope and the `dataEventRecords.user` role, writing the `dataEventRecords.admin` role.
//!
//! Tokens are checked by `portcullis-validation`, by introspection or locally. This crate must not depend on
//! the provider's server or storage crates: it knows the provider only through HTTP, like any other API.

pub mod config;
pub mod problem;
pub mod record;
pub mod routes;
pub mod store;

use std::fmt;

use tokio::net::TcpListener;

pub use config::{Cli, Settings};
pub use routes::router;
pub use store::Records;

/// Why the API could not start or stopped: one line for the operator.
#[derive(Debug)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Opens the database, binds the address and serves until Ctrl-C or SIGTERM.
///
/// The provider is not needed to start: its discovery document is read in the background and again at the
/// first request if it did not answer, and until it does, requests get 503.
pub async fn run(settings: Settings) -> Result<(), Failure> {
    let (records, app) = prepare(&settings).await?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|error| Failure(format!("cannot listen on {}: {error}", settings.listen)))?;
    tracing::info!("dataEventRecords API listening on http://{}{}", settings.listen, routes::BASE_PATH);
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await;
    records.close().await;
    served.map_err(|error| Failure(format!("the server stopped: {error}")))
}

/// Everything [`run`] does before binding: opens (and migrates) the database, starts asking the provider in
/// the background, and builds the router. For launchers that serve the API on a listener of their own.
pub async fn prepare(settings: &Settings) -> Result<(Records, axum::Router), Failure> {
    let target = store::redact(&settings.database_url);
    let records = Records::open(&settings.database_url)
        .await
        .map_err(|error| Failure(format!("cannot open the records database {target}: {error}")))?;
    if settings.demo_secret_elsewhere {
        tracing::warn!("the API uses the demo's client secret with a provider that is not on this machine");
    }
    let validator = settings.validator.clone();
    tokio::spawn(async move {
        match validator.warm_up().await {
            Ok(()) => tracing::info!(issuer = validator.issuer(), "the provider answers"),
            Err(rejection) => tracing::warn!(
                issuer = validator.issuer(),
                "the provider does not answer yet ({rejection}); requests get 503 until it does"
            ),
        }
    });
    let app = router(records.clone(), &settings.validator, settings.cors_origins.clone());
    Ok((records, app))
}

/// Resolves at Ctrl-C or SIGTERM: what [`run`] stops on.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
