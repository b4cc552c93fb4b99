//! The `portcullis` command: argument parsing and output. The rules live in [`crate::admin`].

mod clients;
mod scopes;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use portcullis_core::SystemClock;

use self::clients::ClientsCommand;
use self::scopes::ScopesCommand;
use self::users::UsersCommand;
use crate::admin;
use crate::config::{Config, LogFormat, Overrides, Settings};
use crate::failure::Failure;
use crate::{demo, serve};

#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about = "Portcullis: an OpenID Connect and OAuth 2.0 provider")]
pub struct Cli {
    /// TOML configuration file (also PORTCULLIS_CONFIG).
    #[arg(long, global = true, env = "PORTCULLIS_CONFIG")]
    config: Option<PathBuf>,
    /// Where the SQLite file and other local state live (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://FILE or postgres://USER@HOST:PORT/DATABASE (default: a SQLite file in the data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the provider.
    Serve {
        /// Seed the demo clients, users and scopes and allow their public secrets. Never in production.
        #[arg(long)]
        demo: bool,
        /// Address to listen on, e.g. 127.0.0.1:44319.
        #[arg(long)]
        listen: Option<String>,
        /// Issuer URL, e.g. https://id.example.com.
        #[arg(long)]
        issuer: Option<String>,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Create the standard scopes and, with --demo, the demo data (only what is missing).
    Seed {
        #[arg(long)]
        demo: bool,
    },
    /// Manage client applications.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage scopes.
    #[command(subcommand)]
    Scopes(ScopesCommand),
    /// Key utilities.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Delete dead tokens, consents and sessions older than `pruning.threshold` once, and print the counts.
    Prune,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a new random master key for `master_key` / PORTCULLIS_MASTER_KEY.
    MasterKey,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let mut overrides = Overrides { data_dir: cli.data_dir, database_url: cli.database_url, ..Overrides::default() };
    if let Command::Serve { demo, listen, issuer } = &cli.command {
        overrides.demo = *demo;
        overrides.listen = listen.clone();
        overrides.issuer = issuer.clone();
    }
    if let Command::Keys(KeysCommand::MasterKey) = cli.command {
        println!("{}", portcullis_jose::generate_master_key()?);
        return Ok(());
    }
    let settings = Config::load(cli.config.as_deref(), &overrides)?.validate()?;
    init_logging(&settings);
    if let Command::Serve { .. } = cli.command {
        return serve::run(settings).await;
    }
    let database = serve::open(&settings).await?;
    let result = administer(&settings, &database, cli.command).await;
    database.close().await;
    result
}

async fn administer(
    settings: &Settings,
    database: &portcullis_store::Database,
    command: Command,
) -> Result<(), Failure> {
    let store = database.store();
    let store = store.as_ref();
    let clock = SystemClock;
    match command {
        Command::Serve { .. } | Command::Keys(_) => Ok(()),
        Command::Migrate => {
            println!("the database at {} is up to date", crate::config::redact_url(&settings.database_url));
            Ok(())
        }
        Command::Seed { demo: with_demo } => {
            admin::ensure_standard_scopes(store).await?;
            if with_demo {
                demo::seed(store, &clock).await?;
                println!("{}", demo::banner(settings.issuer.as_str()));
            } else {
                println!("standard scopes are present; add --demo for the demo clients and users");
            }
            Ok(())
        }
        Command::Prune => {
            let report = crate::prune::run_once(store, &clock, &settings.pruning).await?;
            println!("pruned {} tokens and {} authorizations", report.tokens, report.authorizations);
            Ok(())
        }
        Command::Clients(command) => clients::run(store, &clock, command).await,
        Command::Users(command) => users::run(store, &clock, command).await,
        Command::Scopes(command) => scopes::run(store, command).await,
    }
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
