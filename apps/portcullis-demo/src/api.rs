//! The dataEventRecords API with its demo settings (introspection at the demo provider as
//! `rs_dataEventRecordsApi`, CORS for the SPA), its SQLite file in the demo's data directory.

use std::path::Path;
use std::sync::Arc;

use data_event_records::Cli;
use portcullis_validation::SystemClock;
use tokio::net::TcpListener;

use crate::{PROVIDER_URL, Ready, SPA_URL};

pub async fn run(
    listener: TcpListener,
    data_dir: &Path,
    ready: Ready,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let database_url = format!("sqlite://{}", data_dir.join("data-event-records.db").display());
    let listen = listener.local_addr().map(|address| address.to_string()).unwrap_or_default();
    // Parsed like its command line: the demo fixes the addresses and the database; every other option keeps
    // the API's default or its `DATA_EVENT_RECORDS_*` variable (e.g. `DATA_EVENT_RECORDS_VALIDATION=jwt`).
    let arguments = [
        "data-event-records",
        "--issuer",
        PROVIDER_URL,
        "--listen",
        &listen,
        "--database-url",
        &database_url,
        "--cors-origins",
        SPA_URL,
    ];
    let cli = <Cli as clap::Parser>::try_parse_from(arguments)
        .map_err(|error| format!("the API's configuration: {}", error.to_string().trim()))?;
    let settings = cli.settings(Arc::new(SystemClock)).map_err(|error| format!("the API's configuration: {error}"))?;
    // Opens the database, starts asking the provider in the background, builds the router.
    let (records, app) = data_event_records::prepare(&settings).await.map_err(|failure| failure.to_string())?;
    tracing::info!("dataEventRecords API at {}/api/DataEventRecords, database {database_url}", crate::API_URL);
    ready.send();
    let served = axum::serve(listener, app).with_graceful_shutdown(stop).await;
    records.close().await;
    served.map_err(|error| format!("the API's server stopped: {error}"))
}
