//! The Portcullis provider in demo mode, as `portcullis serve --demo` runs it, with its SQLite file in the
//! demo's data directory.

use std::path::Path;

use portcullis_server::config::{Config, Overrides};
use portcullis_server::serve;
use tokio::net::TcpListener;

use crate::{PROVIDER_URL, Ready};

pub async fn run(
    listener: TcpListener,
    data_dir: &Path,
    ready: Ready,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    // The issuer, address and database are fixed: the SPA and the demo data expect them. Other settings
    // (token lifetimes, log level) still come from `PORTCULLIS_*` variables, as for `portcullis serve`.
    let overrides = Overrides {
        data_dir: Some(data_dir.to_path_buf()),
        database_url: Some(format!("sqlite://{}", data_dir.join("portcullis.db").display())),
        listen: listener.local_addr().ok().map(|address| address.to_string()),
        issuer: Some(PROVIDER_URL.into()),
        demo: true,
    };
    let settings = Config::load(None, &overrides)
        .and_then(Config::validate)
        .map_err(|error| format!("the provider's configuration: {error}"))?;
    let (database, state) = serve::prepare(&settings).await.map_err(|failure| failure.to_string())?;
    ready.send();
    serve::serve(listener, database, state, stop).await.map_err(|failure| failure.to_string())
}
