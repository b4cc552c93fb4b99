//! `portcullis-demo`: the whole demo from one command — the Portcullis provider (demo data), the
//! dataEventRecords API and the Angular SPA — in one process, stopped together by Ctrl+C.
//!
//! It binds the three ports before anything else, so a taken port is reported at once and by number; builds the
//! SPA when its bundle is missing or stale; then runs each server on its own Tokio runtime whose threads carry
//! the server's name, which labels every log line (see [`logs`]). It only composes the other crates: nothing of
//! the provider or the API is reimplemented here.

mod api;
mod logs;
mod provider;
mod spa;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// The URLs are fixed by the demo data: the provider's issuer, the SPA's registered redirect URI and CORS
/// origin, and the API URL compiled into the SPA.
pub const PROVIDER_URL: &str = "http://localhost:44319";
pub const API_URL: &str = "http://localhost:44390";
pub const SPA_URL: &str = "http://localhost:4200";

/// How long the servers get to finish their requests after Ctrl+C before the process exits anyway.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "portcullis-demo",
    version,
    about = "Runs the Portcullis demo: the provider on :44319, the dataEventRecords API on :44390 and the \
             Angular SPA on :4200. Ctrl+C stops all three."
)]
struct Args {
    /// Where the provider's and the API's SQLite files live. Default: data/demo in the repository. Delete
    /// it to start again from the demo data. (No environment variable: the provider reads every
    /// `PORTCULLIS_*` variable as its own setting and refuses unknown ones.)
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Serve the SPA's bundle as it is, without checking whether npm must install or build it.
    #[arg(long)]
    no_spa_build: bool,
}

/// One of the three servers.
struct Server {
    port: u16,
    what: &'static str,
}

const SERVERS: [Server; 3] = [
    Server { port: 44319, what: "the provider (the issuer every demo token names)" },
    Server { port: 44390, what: "the dataEventRecords API (the URL the SPA calls)" },
    Server { port: 4200, what: "the SPA (the origin registered for angularclient)" },
];

fn main() -> ExitCode {
    let args = Args::parse();
    logs::init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let repository = find_repository()?;
    let data_dir = args.data_dir.unwrap_or_else(|| repository.join("data").join("demo"));
    std::fs::create_dir_all(&data_dir)
        .map_err(|error| format!("cannot create the data directory {}: {error}", data_dir.display()))?;
    let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);

    let [provider_listener, api_listener, spa_listener] = bind_all().await?;

    let spa = spa::Spa::new(&repository);
    if !args.no_spa_build {
        spa.build_if_needed()?;
    }
    let spa_router = spa.router();

    let (events, reports) = mpsc::unbounded_channel();
    let (stop, stopping) = watch::channel(false);
    let stop_future = |mut stopping: watch::Receiver<bool>| async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    let provider_dir = data_dir.clone();
    let provider_stop = stop_future(stopping.clone());
    start(logs::PROVIDER, provider_listener, events.clone(), move |listener, ready| async move {
        provider::run(listener, &provider_dir, ready, provider_stop).await
    })?;
    let api_dir = data_dir.clone();
    let api_stop = stop_future(stopping.clone());
    start(logs::API, api_listener, events.clone(), move |listener, ready| async move {
        api::run(listener, &api_dir, ready, api_stop).await
    })?;
    let spa_stop = stop_future(stopping);
    let bundle = spa.bundle();
    start(logs::SPA, spa_listener, events, move |listener, ready| async move {
        tracing::info!("SPA at {SPA_URL}, serving {} (index.html for unknown paths)", bundle.display());
        ready.send();
        axum::serve(listener, spa_router)
            .with_graceful_shutdown(spa_stop)
            .await
            .map_err(|error| format!("the SPA's server stopped: {error}"))
    })?;

    supervise(reports, stop, &data_dir).await
}

/// Waits for Ctrl+C (or SIGTERM), or for a server to stop on its own, which is a failure: then stops the others
/// too, and waits a bounded time for all of them.
async fn supervise(
    mut reports: mpsc::UnboundedReceiver<Event>,
    stop: watch::Sender<bool>,
    data_dir: &Path,
) -> Result<(), String> {
    let mut ready = 0;
    let mut running = SERVERS.len();
    let mut failure = None;
    let signal = portcullis_server::serve::shutdown_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            () = &mut signal => break,
            event = reports.recv() => match event {
                Some(Event::Ready) => {
                    ready += 1;
                    if ready == SERVERS.len() {
                        println!("{}", banner(data_dir));
                    }
                }
                Some(Event::Stopped(label, result)) => {
                    running -= 1;
                    failure = Some(match result {
                        Ok(()) => format!("the {label} stopped unexpectedly"),
                        Err(error) => format!("the {label} could not run: {error}"),
                    });
                    tracing::info!("the {label} stopped; stopping the others");
                    break;
                }
                None => break,
            },
        }
    }
    let _ = stop.send(true);
    let stopped = async {
        while running > 0 {
            match reports.recv().await {
                Some(Event::Stopped(label, Err(error))) => {
                    tracing::warn!("the {label} stopped with an error: {error}");
                    running -= 1;
                }
                Some(Event::Stopped(..)) => running -= 1,
                Some(Event::Ready) => {}
                None => break,
            }
        }
    };
    tokio::select! {
        () = stopped => tracing::info!("all servers stopped"),
        () = tokio::time::sleep(STOP_TIMEOUT) => {
            return Err(format!("the servers did not stop within {} s; exiting anyway", STOP_TIMEOUT.as_secs()));
        }
        () = portcullis_server::serve::shutdown_signal() => return Err("stopped again: exiting at once".into()),
    }
    failure.map_or(Ok(()), Err)
}

/// What a server's thread tells the launcher.
enum Event {
    Ready,
    Stopped(&'static str, Result<(), String>),
}

/// Given to a server, which calls [`Ready::send`] once it is prepared (database open, keys loaded).
pub struct Ready(mpsc::UnboundedSender<Event>);

impl Ready {
    pub fn send(self) {
        let _ = self.0.send(Event::Ready);
    }
}

/// Runs a server on its own runtime, on threads named after it (the log label), and reports when it stops.
fn start<F, Fut>(
    label: &'static str,
    listener: std::net::TcpListener,
    events: mpsc::UnboundedSender<Event>,
    server: F,
) -> Result<(), String>
where
    F: FnOnce(TcpListener, Ready) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>>,
{
    std::thread::Builder::new()
        .name(label.into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name(label)
                .enable_all()
                .build()
                .map_err(|error| format!("cannot start its runtime: {error}"))
                .and_then(|runtime| {
                    let result = runtime.block_on(async {
                        let listener = TcpListener::from_std(listener)
                            .map_err(|error| format!("cannot use its listening socket: {error}"))?;
                        server(listener, Ready(events.clone())).await
                    });
                    // Tasks still running (a background job, a slow request) are dropped, not awaited.
                    runtime.shutdown_timeout(Duration::from_secs(1));
                    result
                });
            let _ = events.send(Event::Stopped(label, result));
        })
        .map(drop)
        .map_err(|error| format!("cannot start a thread for the {label}: {error}"))
}

/// Binds the three ports on 127.0.0.1, failing with one line that names the first port already taken.
async fn bind_all() -> Result<[std::net::TcpListener; 3], String> {
    let mut listeners = Vec::with_capacity(SERVERS.len());
    for server in &SERVERS {
        let taken = |error: std::io::Error| {
            format!(
                "port {port} is already in use ({error}); the demo needs it for {what}. Stop the program \
                 listening on it (`ss -ltnp 'sport = :{port}'` shows which) and start the demo again",
                port = server.port,
                what = server.what,
            )
        };
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, server.port))).await.map_err(taken)?;
        // Browsers try `localhost` on ::1 first: a program listening there (a forgotten `ng serve`) would
        // answer instead of the demo. A probe bind finds it; a machine without IPv6 has nothing to find.
        match std::net::TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, server.port))) {
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => return Err(taken(error)),
            _ => {}
        }
        listeners.push(listener.into_std().map_err(|error| format!("port {}: {error}", server.port))?);
    }
    listeners.try_into().map_err(|_| "internal error: expected three listeners".to_string())
}

/// The repository holds the SPA's sources: found from the current directory, else where this binary was built.
fn find_repository() -> Result<PathBuf, String> {
    let is_repository = |dir: &Path| dir.join("clients").join("angular").join("package.json").is_file();
    if let Ok(current) = std::env::current_dir()
        && let Some(found) = current.ancestors().find(|dir| is_repository(dir))
    {
        return Ok(found.to_path_buf());
    }
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    if is_repository(&built_in) {
        return Ok(built_in.canonicalize().unwrap_or(built_in));
    }
    Err("cannot find the Portcullis repository (clients/angular/package.json): run portcullis-demo from inside it"
        .into())
}

fn banner(data_dir: &Path) -> String {
    use portcullis_server::demo::PASSWORD;
    format!(
        "\nPortcullis demo is running. Open {SPA_URL} and log in. Ctrl+C stops all three servers.\n\
         \n  SPA        {SPA_URL}\
         \n  provider   {PROVIDER_URL}   (discovery: {PROVIDER_URL}/.well-known/openid-configuration)\
         \n  API        {API_URL}/api/DataEventRecords\
         \n\n  accounts   alice / {PASSWORD}   roles dataEventRecords.admin + dataEventRecords.user: \
         reads, creates, edits, deletes records\
         \n             bob   / {PASSWORD}   role dataEventRecords.user: reads records only\
         \n\n  data       {}   (delete it to start again from the demo data)\n",
        data_dir.display()
    )
}
