//! The `portcullis` command: argument parsing and output. The rules live in [`crate::admin`].

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use portcullis_core::SystemClock;
use portcullis_core::model::{AccessTokenFormat, Client, ClientType, ConsentType, GrantType, Scope, User};

use crate::admin::{self, ClientSpec, SecretChoice, UserSpec};
use crate::config::{Config, LogFormat, Overrides, Settings};
use crate::{demo, serve};

/// A command that could not do its work: one line for the operator, and a non-zero exit.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! failure_from {
    ($($error:ty),*) => {
        $(impl From<$error> for Failure {
            fn from(error: $error) -> Self {
                Self(error.to_string())
            }
        })*
    };
}

failure_from!(
    crate::config::ConfigError,
    portcullis_core::store::StoreError,
    crate::admin::AdminError,
    crate::keys::KeyError,
    portcullis_jose::JoseError
);

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
enum ClientsCommand {
    /// Register a client. A confidential client gets a generated secret, printed once.
    Add(ClientArgs),
    List,
    Show {
        client_id: String,
    },
    /// Remove a client with its authorizations and tokens.
    Remove {
        client_id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ClientTypeArg {
    Public,
    Confidential,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ConsentArg {
    Explicit,
    Implicit,
    External,
    Systematic,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GrantArg {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
    DeviceCode,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Encrypted,
    Jwt,
    Reference,
}

#[derive(Debug, Args)]
struct ClientArgs {
    /// The client id, e.g. my-spa.
    client_id: String,
    #[arg(long = "type", value_enum)]
    client_type: ClientTypeArg,
    #[arg(long)]
    display_name: Option<String>,
    #[arg(long, value_enum, default_value = "explicit")]
    consent: ConsentArg,
    /// Repeat for several.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Browser origin allowed to call the token and userinfo endpoints, e.g. https://app.example.com.
    #[arg(long = "cors-origin")]
    cors_origins: Vec<String>,
    #[arg(long = "grant", value_enum)]
    grants: Vec<GrantArg>,
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// May call the introspection endpoint (resource servers).
    #[arg(long)]
    introspection: bool,
    /// May call the revocation endpoint for tokens it did not obtain itself.
    #[arg(long)]
    revocation: bool,
    /// Exempt a confidential client from PKCE (not recommended: RFC 9700 §2.1.1).
    #[arg(long)]
    pkce_exempt: bool,
    /// Access-token format for this client (default: the provider's).
    #[arg(long, value_enum)]
    access_token_format: Option<FormatArg>,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a user. The password is read from standard input unless --password is given.
    Add {
        username: String,
        #[arg(long)]
        email: Option<String>,
        /// Mark the email as verified.
        #[arg(long)]
        email_confirmed: bool,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// The password (visible to other local users in the process list; prefer standard input).
        #[arg(long)]
        password: Option<String>,
    },
    List,
    /// Set a new password (read from standard input unless --password is given); ends the user's sessions.
    SetPassword {
        user: String,
        #[arg(long)]
        password: Option<String>,
    },
    AddRole {
        user: String,
        role: String,
    },
    RemoveRole {
        user: String,
        role: String,
    },
    /// Remove a user with their sessions, authorizations and tokens.
    Remove {
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum ScopesCommand {
    Add {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Audience (resource server) of access tokens with this scope. Repeat for several.
        #[arg(long = "resource")]
        resources: Vec<String>,
    },
    List,
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
        Command::Clients(command) => clients(store, &clock, command).await,
        Command::Users(command) => users(store, &clock, command).await,
        Command::Scopes(command) => scopes(store, command).await,
    }
}

async fn clients(
    store: &dyn portcullis_core::store::Store,
    clock: &SystemClock,
    command: ClientsCommand,
) -> Result<(), Failure> {
    match command {
        ClientsCommand::Add(args) => {
            let spec = client_spec(args);
            let (client, secret) = admin::add_client(store, clock, spec).await?;
            print_client(&client);
            if let Some(secret) = secret {
                println!("client_secret: {secret}");
                println!("(shown only now: the provider keeps a digest of it, not the secret)");
            }
            Ok(())
        }
        ClientsCommand::List => {
            for client in store.list_clients().await? {
                println!("{}\t{}\t{}", client.client_id, client.client_type.as_str(), client.display_name);
            }
            Ok(())
        }
        ClientsCommand::Show { client_id } => {
            let client = store
                .find_client(&client_id)
                .await?
                .ok_or_else(|| Failure::new(format!("no client has the id {client_id:?}")))?;
            print_client(&client);
            Ok(())
        }
        ClientsCommand::Remove { client_id } => {
            if store.remove_client(&client_id).await? {
                println!("removed client {client_id} with its authorizations and tokens");
                Ok(())
            } else {
                Err(Failure::new(format!("no client has the id {client_id:?}")))
            }
        }
    }
}

fn client_spec(args: ClientArgs) -> ClientSpec {
    ClientSpec {
        client_id: args.client_id,
        client_type: match args.client_type {
            ClientTypeArg::Public => ClientType::Public,
            ClientTypeArg::Confidential => ClientType::Confidential,
        },
        consent_type: match args.consent {
            ConsentArg::Explicit => ConsentType::Explicit,
            ConsentArg::Implicit => ConsentType::Implicit,
            ConsentArg::External => ConsentType::External,
            ConsentArg::Systematic => ConsentType::Systematic,
        },
        display_name: args.display_name,
        redirect_uris: args.redirect_uris,
        post_logout_redirect_uris: args.post_logout_redirect_uris,
        cors_origins: args.cors_origins,
        grant_types: args
            .grants
            .into_iter()
            .map(|grant| match grant {
                GrantArg::AuthorizationCode => GrantType::AuthorizationCode,
                GrantArg::RefreshToken => GrantType::RefreshToken,
                GrantArg::ClientCredentials => GrantType::ClientCredentials,
                GrantArg::Password => GrantType::Password,
                GrantArg::DeviceCode => GrantType::DeviceCode,
            })
            .collect(),
        scopes: args.scopes,
        introspection: args.introspection,
        revocation: args.revocation,
        pkce_exempt: args.pkce_exempt,
        access_token_format: args.access_token_format.map(|format| match format {
            FormatArg::Encrypted => AccessTokenFormat::Encrypted,
            FormatArg::Jwt => AccessTokenFormat::Jwt,
            FormatArg::Reference => AccessTokenFormat::Reference,
        }),
        secret: SecretChoice::Generate,
    }
}

fn print_client(client: &Client) {
    let list = |values: &[String]| {
        if values.is_empty() { "-".to_string() } else { values.join(" ") }
    };
    let grants: Vec<String> = client.permissions.grant_types.iter().map(|g| g.as_str().to_string()).collect();
    println!("client_id: {}", client.client_id);
    println!("type: {}", client.client_type.as_str());
    println!("display_name: {}", client.display_name);
    println!("consent: {}", client.consent_type.as_str());
    println!("redirect_uris: {}", list(&client.redirect_uris));
    println!("post_logout_redirect_uris: {}", list(&client.post_logout_redirect_uris));
    println!("cors_origins: {}", list(&client.cors_origins));
    println!("grant_types: {}", list(&grants));
    println!("scopes: {}", list(&client.permissions.scopes));
    println!("introspection: {}", client.permissions.introspection);
    println!("revocation: {}", client.permissions.revocation);
    println!("pkce: {}", if client.pkce_exempt { "exempt" } else { "required" });
    if let Some(format) = client.access_token_format {
        println!("access_token_format: {}", format.as_str());
    }
}

async fn users(
    store: &dyn portcullis_core::store::Store,
    clock: &SystemClock,
    command: UsersCommand,
) -> Result<(), Failure> {
    match command {
        UsersCommand::Add { username, email, email_confirmed, name, phone, roles, password } => {
            let password = password_from(password)?;
            let spec =
                UserSpec { username, password, name, email, email_confirmed, phone, phone_confirmed: false, roles };
            let user = admin::add_user(store, clock, spec).await?;
            println!("created user {} (id {})", user.username, user.id);
            Ok(())
        }
        UsersCommand::List => {
            for user in store.list_users().await? {
                print_user(&user);
            }
            Ok(())
        }
        UsersCommand::SetPassword { user, password } => {
            let password = password_from(password)?;
            let user = admin::set_password(store, &user, password).await?;
            println!("set a new password for {}; their sessions and tokens have ended", user.username);
            Ok(())
        }
        UsersCommand::AddRole { user, role } => {
            let user = admin::add_role(store, &user, &role).await?;
            println!("{} has the role {role}", user.username);
            Ok(())
        }
        UsersCommand::RemoveRole { user, role } => {
            let found = admin::find_user(store, &user).await?;
            if store.remove_role(&found.id, &role).await? {
                println!("{} no longer has the role {role}", found.username);
                Ok(())
            } else {
                Err(Failure::new(format!("{} does not have the role {role:?}", found.username)))
            }
        }
        UsersCommand::Remove { user } => {
            let user = admin::remove_user(store, &user).await?;
            println!("removed user {} with their sessions, authorizations and tokens", user.username);
            Ok(())
        }
    }
}

fn print_user(user: &User) {
    println!(
        "{}\t{}\t{}\t{}",
        user.username,
        user.email.as_deref().unwrap_or("-"),
        if user.roles.is_empty() { "-".to_string() } else { user.roles.join(",") },
        user.id
    );
}

/// The password from the flag, or one line of standard input (so it stays out of the process list).
fn password_from(flag: Option<String>) -> Result<String, Failure> {
    if let Some(password) = flag {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|error| Failure::new(format!("cannot read the password from standard input: {error}")))?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(Failure::new("no password given: pass --password or write it to standard input"));
    }
    Ok(password)
}

async fn scopes(store: &dyn portcullis_core::store::Store, command: ScopesCommand) -> Result<(), Failure> {
    match command {
        ScopesCommand::Add { name, display_name, description, resources } => {
            let scope =
                Scope { display_name: display_name.unwrap_or_else(|| name.clone()), name, description, resources };
            let scope = admin::add_scope(store, scope).await?;
            println!("created scope {}", scope.name);
            Ok(())
        }
        ScopesCommand::List => {
            for scope in store.list_scopes().await? {
                let resources = if scope.resources.is_empty() { "-".to_string() } else { scope.resources.join(",") };
                println!("{}\t{}\t{}", scope.name, resources, scope.display_name);
            }
            Ok(())
        }
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
