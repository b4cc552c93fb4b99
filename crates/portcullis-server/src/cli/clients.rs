//! `portcullis clients`: register, list, show and remove client applications.

use clap::{Args, Subcommand, ValueEnum};
use portcullis_core::SystemClock;
use portcullis_core::model::{AccessTokenFormat, Client, ClientType, ConsentType, GrantType};

use crate::admin::{self, ClientSpec, SecretChoice};
use crate::failure::Failure;

#[derive(Debug, Subcommand)]
pub(super) enum ClientsCommand {
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
pub(super) struct ClientArgs {
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

pub(super) async fn run(
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
