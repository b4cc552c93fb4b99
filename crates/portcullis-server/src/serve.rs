//! `portcullis serve`: open the store, prepare keys and data, listen, and stop cleanly on Ctrl+C or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use portcullis_core::{Clock, SystemClock};
use portcullis_jose::MasterKey;
use portcullis_store::Database;
use tokio::net::TcpListener;

use crate::cli::Failure;
use crate::config::Settings;
use crate::state::AppState;
use crate::{admin, app, demo};

/// How often keys and scopes are reloaded from the store, so that several instances agree within this time.
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// Opens the store (applying migrations) and prepares the data the provider needs to run.
pub async fn open(settings: &Settings) -> Result<Database, Failure> {
    let database = Database::open(&settings.database_url).await?;
    database.migrate().await?;
    Ok(database)
}

pub fn master_key(settings: &Settings) -> Result<Option<MasterKey>, Failure> {
    settings
        .master_key
        .as_deref()
        .map(MasterKey::parse)
        .transpose()
        .map_err(|error| Failure::new(format!("configuration key `master_key`: {error}")))
}

pub async fn run(settings: Settings) -> Result<(), Failure> {
    let database = open(&settings).await?;
    let store = database.store();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let master_key = master_key(&settings)?;
    if matches!(database, Database::Postgres(_)) && master_key.is_none() && !settings.demo {
        return Err(Failure::new(
            "configuration key `master_key` is required with PostgreSQL: the private keys are stored in a shared \
             database and must be sealed. Generate one with `portcullis keys master-key`",
        ));
    }
    admin::ensure_standard_scopes(store.as_ref()).await?;
    if settings.demo {
        demo::seed(store.as_ref(), clock.as_ref()).await?;
    } else {
        let found = demo::well_known_secrets_in_use(store.as_ref()).await?;
        if !found.is_empty() {
            return Err(Failure::new(format!(
                "refusing to start: the database holds the demo's public credentials ({}). Start with --demo, or \
                 remove them (`portcullis clients remove …`, `portcullis users set-password …`)",
                found.join("; ")
            )));
        }
    }
    let state = AppState::new(settings.clone(), store, clock, master_key).await?;
    let listener = TcpListener::bind(settings.listen).await.map_err(|error| {
        Failure::new(format!(
            "cannot listen on {}: {error}. Is another program using this port? Choose another with --listen or \
             PORTCULLIS_LISTEN",
            settings.listen
        ))
    })?;
    let refresher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(REFRESH_INTERVAL);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                if let Err(error) = state.refresh().await {
                    tracing::warn!(%error, "could not reload keys and scopes; serving the previous ones");
                }
            }
        })
    };
    let pruner = tokio::spawn(crate::prune::run_forever(state.clone()));
    if settings.demo {
        println!("{}", demo::banner(settings.issuer.as_str()));
    }
    tracing::info!(issuer = settings.issuer.as_str(), listen = %settings.listen, "Portcullis is ready");
    let served = axum::serve(listener, app::router(state)).with_graceful_shutdown(shutdown_signal()).await;
    refresher.abort();
    pruner.abort();
    database.close().await;
    served.map_err(|error| Failure::new(format!("the server stopped: {error}")))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("stopping");
}
