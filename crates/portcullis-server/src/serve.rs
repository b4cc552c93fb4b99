//! `portcullis serve`: open the store, prepare keys and data, listen, and stop cleanly on Ctrl+C or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use portcullis_core::{Clock, SystemClock};
use portcullis_jose::MasterKey;
use portcullis_store::Database;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::failure::Failure;
use crate::state::AppState;
use crate::{admin, app, demo};

/// How often keys and scopes are reloaded from the store, so that several instances agree within this time. A
/// token naming a key not loaded yet does not wait for it: it reloads the keys at once (`AppState::with_keys`).
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// Opens the store (applying migrations) and prepares the data the provider needs to run.
pub async fn open(settings: &Settings) -> Result<Database, Failure> {
    let database = Database::open_with(&settings.database_url, &settings.database).await?;
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

/// Opens and checks the database, seeds what the mode needs, and prepares the keys: everything before
/// listening.
pub async fn prepare(settings: &Settings) -> Result<(Database, AppState), Failure> {
    let database = open(settings).await?;
    let store = database.store();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let master_key = master_key(settings)?;
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
    Ok((database, state))
}

/// Binds the listening address, with a message that names it when it is taken.
pub async fn bind(address: std::net::SocketAddr, what: &str) -> Result<TcpListener, Failure> {
    TcpListener::bind(address).await.map_err(|error| {
        Failure::new(format!(
            "cannot listen on {address} for {what}: {error}. Is another program using this port? Stop it, or choose \
             another address"
        ))
    })
}

pub async fn run(settings: Settings) -> Result<(), Failure> {
    let (database, state) = prepare(&settings).await?;
    let listener = bind(settings.listen, "the provider (--listen or PORTCULLIS_LISTEN)").await?;
    if settings.demo {
        println!("{}", demo::banner(settings.issuer.as_str()));
    }
    serve(listener, database, state, shutdown_signal()).await
}

/// Serves the provider until `shutdown` completes, with its background jobs, then closes the database.
pub async fn serve(
    listener: TcpListener,
    database: Database,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
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
    let forgetter = tokio::spawn(crate::prune::forget_successors_forever(state.clone()));
    let settings = &state.settings;
    tracing::info!(issuer = settings.issuer.as_str(), listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "Portcullis is ready");
    let served = axum::serve(listener, app::router(state.clone())).with_graceful_shutdown(shutdown).await;
    refresher.abort();
    pruner.abort();
    forgetter.abort();
    database.close().await;
    served.map_err(|error| Failure::new(format!("the server stopped: {error}")))
}

/// Ctrl+C or SIGTERM.
pub async fn shutdown_signal() {
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
