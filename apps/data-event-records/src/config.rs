//! The command line and its environment variables (`DATA_EVENT_RECORDS_*`). Every default is the demo's
//! value, so `cargo run -p data-event-records` works next to `portcullis serve --demo` with no flag at all.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use clap::{Parser, ValueEnum};
use portcullis_validation::{BuildError, ClientSecret, Clock, Decrypter, Validator};

/// The demo's secret for the API's client (design.md, "Demo data"); fine on a laptop, wrong anywhere else.
pub const DEMO_CLIENT_SECRET: &str = "dataEventRecordsSecret";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidationMode {
    /// Ask the provider about every token (RFC 7662), with a short cache: sees revocations, works with every
    /// token format, costs a call per new token.
    Introspection,
    /// Check JWT access tokens here (RFC 9068) with the provider's JWKS: no call per token, but a revoked token
    /// stays valid until it expires. Encrypted tokens need --decryption-key-file.
    Jwt,
}

#[derive(Debug, Parser)]
#[command(
    name = "data-event-records",
    version,
    about = "The dataEventRecords API: records protected by access tokens of a Portcullis provider"
)]
pub struct Cli {
    /// The provider's issuer URL, exactly as its discovery document names it.
    #[arg(long, env = "DATA_EVENT_RECORDS_ISSUER", default_value = "http://localhost:44319")]
    pub issuer: String,
    /// The API's client at the provider, used to authenticate introspection calls.
    #[arg(long, env = "DATA_EVENT_RECORDS_CLIENT_ID", default_value = "rs_dataEventRecordsApi")]
    pub client_id: String,
    /// That client's secret.
    #[arg(long, env = "DATA_EVENT_RECORDS_CLIENT_SECRET", default_value = DEMO_CLIENT_SECRET, hide_default_value = true, hide_env_values = true)]
    pub client_secret: String,
    /// The API's name in the tokens' `aud` (default: the client id, as the demo's `dataEventRecords` scope has
    /// the resource `rs_dataEventRecordsApi`).
    #[arg(long, env = "DATA_EVENT_RECORDS_AUDIENCE")]
    pub audience: Option<String>,
    /// Address and port to listen on; loopback by default, so a laptop's API is not reachable from the network.
    #[arg(long, env = "DATA_EVENT_RECORDS_LISTEN", default_value = "127.0.0.1:44390")]
    pub listen: String,
    /// sqlite://FILE (created when missing) or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "DATA_EVENT_RECORDS_DATABASE_URL", default_value = "sqlite://data/data-event-records.db")]
    pub database_url: String,
    /// How tokens are validated.
    #[arg(long, value_enum, env = "DATA_EVENT_RECORDS_VALIDATION", default_value = "introspection")]
    pub validation: ValidationMode,
    /// With --validation jwt: a file holding the private RSA-OAEP JWK access tokens are encrypted to.
    #[arg(long, env = "DATA_EVENT_RECORDS_DECRYPTION_KEY_FILE")]
    pub decryption_key_file: Option<PathBuf>,
    /// Seconds an introspection answer is reused; a revoked token is accepted at most this long after its
    /// revocation. 0 asks the provider on every request.
    #[arg(long, env = "DATA_EVENT_RECORDS_CACHE_TTL", default_value_t = 30)]
    pub cache_ttl: u64,
    /// Browser origins allowed to call the API (comma-separated): the SPA's.
    #[arg(
        long,
        env = "DATA_EVENT_RECORDS_CORS_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:4200"
    )]
    pub cors_origins: Vec<String>,
    /// Log filter, e.g. `info` or `data_event_records=debug,portcullis_validation=debug`.
    #[arg(long, env = "DATA_EVENT_RECORDS_LOG", default_value = "info")]
    pub log: String,
}

/// A setting that cannot work: one line naming the option and what it expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Everything the API needs to run, checked.
#[derive(Debug)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub cors_origins: Vec<HeaderValue>,
    pub log: String,
    pub validator: Validator,
    /// The demo's client secret with a provider that is not on this machine: worth a warning at start.
    pub demo_secret_elsewhere: bool,
}

impl Cli {
    /// Checks every option; the validator takes its time from `clock`.
    pub fn settings(self, clock: Arc<dyn Clock>) -> Result<Settings, ConfigError> {
        let listen: SocketAddr = self.listen.parse().map_err(|_| {
            ConfigError(format!(
                "--listen {:?}: expected an IP address and a port, such as 127.0.0.1:44390",
                self.listen
            ))
        })?;
        let cors_origins = self.cors_origins.iter().map(|origin| cors_origin(origin)).collect::<Result<_, _>>()?;
        tracing_subscriber::EnvFilter::try_new(&self.log)
            .map_err(|error| ConfigError(format!("--log {:?}: not a log filter: {error}", self.log)))?;
        let audience = self.audience.unwrap_or_else(|| self.client_id.clone());
        let loopback = url::Url::parse(&self.issuer)
            .ok()
            .is_some_and(|url| matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")));
        let demo_secret_elsewhere = self.client_secret == DEMO_CLIENT_SECRET && !loopback;
        let builder = match self.validation {
            ValidationMode::Introspection => {
                if let Some(file) = &self.decryption_key_file {
                    return Err(ConfigError(format!(
                        "--decryption-key-file {}: only used with --validation jwt (the provider decrypts tokens it \
                         is asked to introspect)",
                        file.display()
                    )));
                }
                Validator::introspection(&self.issuer, self.client_id, ClientSecret::new(self.client_secret))
                    .audience(audience)
                    .cache_ttl(Duration::from_secs(self.cache_ttl))
            }
            ValidationMode::Jwt => {
                let builder = Validator::local_jwt(&self.issuer, audience);
                match &self.decryption_key_file {
                    Some(file) => builder.decryption_key(decryption_key(file)?),
                    None => builder,
                }
            }
        };
        let validator = builder.clock(clock).build().map_err(|error| match error {
            BuildError::Issuer(_) => ConfigError(format!(
                "--issuer {:?}: expected the provider's absolute http(s) URL, such as http://localhost:44319",
                self.issuer
            )),
            other => ConfigError(other.to_string()),
        })?;
        Ok(Settings {
            listen,
            database_url: self.database_url,
            cors_origins,
            log: self.log,
            validator,
            demo_secret_elsewhere,
        })
    }
}

/// An origin as browsers send it: scheme, host and port only (RFC 6454 §6.1).
fn cors_origin(origin: &str) -> Result<HeaderValue, ConfigError> {
    let bad = |why: &str| ConfigError(format!("--cors-origins {origin:?}: {why}, such as http://localhost:4200"));
    let url = url::Url::parse(origin).map_err(|_| bad("expected an origin"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad("expected an http or https origin"));
    }
    // `Url` adds a `/` path; an origin has none, and the browser compares the string exactly.
    if url.path() != "/" || origin.ends_with('/') || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("an origin has no path, query or trailing slash"));
    }
    HeaderValue::from_str(origin).map_err(|_| bad("expected an origin"))
}

/// The private JWK file given to decrypt access tokens.
fn decryption_key(file: &PathBuf) -> Result<Decrypter, ConfigError> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| ConfigError(format!("--decryption-key-file {}: cannot read it: {error}", file.display())))?;
    Decrypter::from_private_jwk(text.trim()).map_err(|error| {
        ConfigError(format!(
            "--decryption-key-file {}: not a private RSA-OAEP JWK of the provider: {error}",
            file.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use portcullis_validation::SystemClock;

    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, ConfigError> {
        let cli = Cli::try_parse_from(std::iter::once("data-event-records").chain(args.iter().copied())).unwrap();
        cli.settings(Arc::new(SystemClock))
    }

    fn error(args: &[&str]) -> String {
        parse(args).unwrap_err().to_string()
    }

    #[test]
    fn the_defaults_match_the_demo() {
        let settings = parse(&[]).unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:44390");
        assert_eq!(settings.database_url, "sqlite://data/data-event-records.db");
        assert_eq!(settings.cors_origins, [HeaderValue::from_static("http://localhost:4200")]);
        assert_eq!(settings.validator.issuer(), "http://localhost:44319");
        assert!(!settings.demo_secret_elsewhere);
        let debug = format!("{:?}", settings.validator);
        assert!(debug.contains("rs_dataEventRecordsApi") && debug.contains("introspection"), "{debug}");
    }

    #[test]
    fn bad_values_name_the_option_in_one_line() {
        assert!(error(&["--listen", "localhost"]).starts_with("--listen \"localhost\""));
        assert!(error(&["--issuer", "localhost:44319"]).starts_with("--issuer \"localhost:44319\""));
        assert!(error(&["--cors-origins", "http://localhost:4200/"]).contains("trailing slash"));
        assert!(error(&["--cors-origins", "*"]).starts_with("--cors-origins \"*\""));
        assert!(error(&["--log", "info,=x=y"]).starts_with("--log"));
        assert!(error(&["--decryption-key-file", "k.json"]).contains("only used with --validation jwt"));
        let missing = error(&["--validation", "jwt", "--decryption-key-file", "/nonexistent/k.json"]);
        assert!(missing.contains("cannot read it"), "{missing}");
        for message in [error(&["--listen", "x"]), missing] {
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn a_decryption_key_file_must_hold_a_private_rsa_oaep_jwk() {
        let directory = std::env::temp_dir().join(format!("der-config-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        let file = directory.join("key.json");
        std::fs::write(&file, "{\"kty\":\"oct\"}").unwrap();
        let path = file.to_str().unwrap();
        assert!(error(&["--validation", "jwt", "--decryption-key-file", path]).contains("not a private RSA-OAEP JWK"));
        let key = portcullis_jose::generate_key(portcullis_jose::KeyAlg::RsaOaep).unwrap();
        std::fs::write(&file, key.private_jwk.expose()).unwrap();
        let settings = parse(&["--validation", "jwt", "--decryption-key-file", path]).unwrap();
        assert!(format!("{:?}", settings.validator).contains("local JWT"));
        std::fs::remove_dir_all(&directory).unwrap();
    }

    #[test]
    fn the_demo_secret_with_a_remote_provider_is_flagged() {
        assert!(parse(&["--issuer", "https://id.example.com"]).unwrap().demo_secret_elsewhere);
        let own = parse(&["--issuer", "https://id.example.com", "--client-secret", "a-real-secret-of-ours"]).unwrap();
        assert!(!own.demo_secret_elsewhere);
    }
}
