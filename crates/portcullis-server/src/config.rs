//! Configuration: built-in defaults, then a TOML file, then `PORTCULLIS_*` environment variables, then
//! command-line flags, each overriding the one before. Every key is documented here, where its default is
//! defined, and in the README.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use url::Url;

pub use portcullis_core::model::AccessTokenFormat;

/// Settings as read; [`Config::validate`] turns them into a [`Settings`] the provider runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The issuer identifier (OIDC Discovery §3): the exact `iss` of every token and the base of every endpoint.
    /// Default: the demo's `http://localhost:44319`. Must be `https` unless the host is a loopback name.
    pub issuer: String,
    /// The address to listen on. Default `127.0.0.1:44319`: loopback only, so a laptop's provider is not
    /// reachable from the network until someone decides it should be.
    pub listen: String,
    /// Where local state lives (the SQLite file). Default `./data`; several instances on one machine each
    /// need their own.
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://FILE` or `postgres://USER@HOST/DB`. Default: `sqlite://<data_dir>/portcullis.db`.
    pub database_url: Option<String>,
    /// Base64url of 32 random bytes; when set, private keys are encrypted with it before they are stored.
    /// Required with PostgreSQL outside demo mode, because that database is shared and backed up elsewhere.
    /// Generate one with `portcullis keys master-key`.
    pub master_key: Option<String>,
    /// Seeds the demo data and allows its well-known secrets. Never in production.
    pub demo: bool,
    /// `text` for people, `json` for log collectors. Default `text`.
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info` or `portcullis=debug,sqlx=warn`. Default `info`.
    pub log_level: String,
    /// Token formats and lifetimes (`[tokens]` in the file, `PORTCULLIS_TOKENS__<KEY>` in the environment).
    pub tokens: TokenSettings,
    /// Sign-in protection (`[security]`, `PORTCULLIS_SECURITY__<KEY>`).
    pub security: SecuritySettings,
    /// Removal of dead tokens and consents (`[pruning]`, `PORTCULLIS_PRUNING__<KEY>`).
    pub pruning: PruningSettings,
}

/// The background job that deletes what can no longer be used, so the tables stay small.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PruningSettings {
    /// Seconds between runs; 0 turns the job off (e.g. when `portcullis prune` runs from cron). Default hourly.
    pub interval: u64,
    /// Seconds a dead token or consent is kept before deletion, for audits and support. Default 14 days.
    pub threshold: u64,
    /// Rows deleted per statement: small enough that no statement holds its locks for long. Default 500.
    pub batch_size: u32,
}

impl Default for PruningSettings {
    fn default() -> Self {
        Self { interval: 3600, threshold: 14 * 24 * 3600, batch_size: 500 }
    }
}

/// Lifetimes in seconds. Defaults follow the design: short-lived codes and access tokens, long refresh tokens
/// that rotate on every use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// `encrypted` (signed JWT inside a JWE; only the provider and resource servers given the key read it),
    /// `jwt` (RFC 9068 signed JWT, validated locally by APIs) or `reference` (opaque, introspected). A client's
    /// own setting wins.
    pub access_token_format: AccessTokenFormat,
    /// 5 minutes: RFC 6749 §4.1.2 recommends at most 10; the code is redeemed within seconds.
    pub authorization_code_lifetime: u64,
    /// 1 hour: long enough to spare the provider, short enough that a leaked token expires soon.
    pub access_token_lifetime: u64,
    /// 20 minutes: an ID token is read once at sign-in.
    pub id_token_lifetime: u64,
    /// 14 days; every use rotates it, so it only lives this long when unused.
    pub refresh_token_lifetime: u64,
    /// 30 seconds in which a just-rotated refresh token is still accepted, for apps open in several tabs that
    /// refresh at once (RFC 9700 §4.14.2). Reuse after it revokes the whole authorization.
    pub refresh_token_reuse_leeway: u64,
    /// 8 hours of browser session at the provider before the user must sign in again.
    pub session_lifetime: u64,
    /// 10 minutes for a device code and its user code (RFC 8628 §3.2 `expires_in`): time to pick up a phone,
    /// sign in and type eight letters, while a code read off a screen by someone else soon stops working. The
    /// user code's short life is part of what makes guessing it hopeless (RFC 8628 §5.1).
    pub device_code_lifetime: u64,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            access_token_format: AccessTokenFormat::Encrypted,
            authorization_code_lifetime: 300,
            access_token_lifetime: 3600,
            id_token_lifetime: 1200,
            refresh_token_lifetime: 14 * 24 * 3600,
            refresh_token_reuse_leeway: 30,
            session_lifetime: 8 * 3600,
            device_code_lifetime: 600,
        }
    }
}

/// Brute-force protection shared by the login page, the password grant and device verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecuritySettings {
    /// Failed sign-ins in a row that lock an account. 5, as OWASP suggests for interactive logins.
    pub lockout_max_failures: i32,
    /// How long a locked account stays locked, in seconds. 15 minutes stops guessing without a support call.
    pub lockout_seconds: u64,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self { lockout_max_failures: 5, lockout_seconds: 900 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:44319".into(),
            listen: "127.0.0.1:44319".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            master_key: None,
            demo: false,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            tokens: TokenSettings::default(),
            security: SecuritySettings::default(),
            pruning: PruningSettings::default(),
        }
    }
}

/// A configuration value that is missing or wrong, with the key that holds it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration key `{key}`: {reason} (found {found:?})")]
    Invalid { key: &'static str, found: String, reason: String },
}

/// Command-line values that override the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub issuer: Option<String>,
    pub demo: bool,
}

impl Config {
    /// Reads the defaults, the file (if given: it must exist), the environment and the overrides.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File { path: path.to_path_buf(), reason: "no such file".into() });
            }
            figment = figment.merge(Toml::file(path));
        }
        // Environment variables are flat (`PORTCULLIS_DATABASE_URL`, sections with `__`). `PORTCULLIS_CONFIG`
        // names the file and `PORTCULLIS_TEST_POSTGRES_URL` the tests' database server: neither is a key.
        figment = figment.merge(Env::prefixed("PORTCULLIS_").ignore(&["config", "test_postgres_url"]).split("__"));
        let mut config: Config = figment.extract().map_err(|error| ConfigError::Parse(describe(&error)))?;
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(url) = &overrides.database_url {
            config.database_url = Some(url.clone());
        }
        if let Some(listen) = &overrides.listen {
            config.listen = listen.clone();
        }
        if let Some(issuer) = &overrides.issuer {
            config.issuer = issuer.clone();
        }
        config.demo |= overrides.demo;
        Ok(config)
    }

    /// Checks every value and resolves the defaults that depend on others.
    pub fn validate(self) -> Result<Settings, ConfigError> {
        let issuer = parse_issuer(&self.issuer)?;
        let listen: SocketAddr = self.listen.parse().map_err(|_| ConfigError::Invalid {
            key: "listen",
            found: self.listen.clone(),
            reason: "expected an IP address and port such as 127.0.0.1:44319 or 0.0.0.0:8080".into(),
        })?;
        let database_url = match &self.database_url {
            Some(url) if !url.trim().is_empty() => {
                check_database_url(url)?;
                url.clone()
            }
            _ => format!("sqlite://{}", self.data_dir.join("portcullis.db").display()),
        };
        if self.log_level.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "log_level",
                found: self.log_level.clone(),
                reason: "expected a filter such as `info` or `portcullis=debug`".into(),
            });
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            return Err(ConfigError::Invalid {
                key: "log_level",
                found: self.log_level.clone(),
                reason: "expected a filter such as `info` or `portcullis_server=debug,sqlx=warn`".into(),
            });
        }
        let lifetimes = [
            ("tokens.authorization_code_lifetime", self.tokens.authorization_code_lifetime),
            ("tokens.access_token_lifetime", self.tokens.access_token_lifetime),
            ("tokens.id_token_lifetime", self.tokens.id_token_lifetime),
            ("tokens.refresh_token_lifetime", self.tokens.refresh_token_lifetime),
            ("tokens.session_lifetime", self.tokens.session_lifetime),
            ("tokens.device_code_lifetime", self.tokens.device_code_lifetime),
            ("security.lockout_seconds", self.security.lockout_seconds),
            ("pruning.threshold", self.pruning.threshold),
        ];
        for (key, seconds) in lifetimes {
            if seconds == 0 || seconds > 366 * 24 * 3600 {
                return Err(ConfigError::Invalid {
                    key,
                    found: seconds.to_string(),
                    reason: "expected a number of seconds between 1 and 31622400 (a year)".into(),
                });
            }
        }
        if self.pruning.batch_size == 0 {
            return Err(ConfigError::Invalid {
                key: "pruning.batch_size",
                found: "0".into(),
                reason: "expected at least 1 row per statement".into(),
            });
        }
        if self.security.lockout_max_failures < 1 {
            return Err(ConfigError::Invalid {
                key: "security.lockout_max_failures",
                found: self.security.lockout_max_failures.to_string(),
                reason: "expected at least 1".into(),
            });
        }
        let master_key = self.master_key.filter(|key| !key.trim().is_empty());
        Ok(Settings {
            issuer,
            listen,
            data_dir: self.data_dir,
            database_url,
            master_key,
            demo: self.demo,
            log_format: self.log_format,
            log_level: self.log_level,
            tokens: self.tokens,
            security: self.security,
            pruning: self.pruning,
        })
    }
}

/// The validated configuration the provider runs with.
#[derive(Clone)]
pub struct Settings {
    pub issuer: Issuer,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub master_key: Option<String>,
    pub demo: bool,
    pub log_format: LogFormat,
    pub log_level: String,
    pub tokens: TokenSettings,
    pub security: SecuritySettings,
    pub pruning: PruningSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("issuer", &self.issuer.as_str())
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("master_key", &self.master_key.as_ref().map(|_| "[redacted]"))
            .field("demo", &self.demo)
            .finish()
    }
}

/// The issuer identifier, exactly as tokens carry it: no trailing slash, no query, no fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL of an endpoint path such as `/connect/token`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }

    /// Whether the issuer is served over plain HTTP on a loopback name (development).
    pub fn is_loopback_http(&self) -> bool {
        Url::parse(&self.0).is_ok_and(|url| url.scheme() == "http")
    }
}

fn parse_issuer(value: &str) -> Result<Issuer, ConfigError> {
    let invalid =
        |reason: &str| ConfigError::Invalid { key: "issuer", found: value.to_string(), reason: reason.to_string() };
    let url = Url::parse(value).map_err(|_| invalid("expected an absolute URL such as https://id.example.com"))?;
    if url.query().is_some() || url.fragment().is_some() {
        // OIDC Discovery §3: "a URL that uses the https scheme with no query or fragment components".
        return Err(invalid("the issuer must not have a query or a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the issuer must not contain user information"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => {
            return Err(invalid(
                "plain http is only allowed for localhost, 127.0.0.1 or [::1]; use https (or TLS at a reverse proxy)",
            ));
        }
        _ => return Err(invalid("the issuer must be an http(s) URL")),
    }
    Ok(Issuer(value.trim_end_matches('/').to_string()))
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: "database_url",
        found: redact_url(url),
        reason: "expected sqlite://FILE or postgres://USER@HOST:PORT/DATABASE".into(),
    })
}

/// A database URL fit for logs and error messages: the password is replaced.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// One line per problem, naming the key the way this README does and where the value came from.
fn describe(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|e| {
            let key = e.path.iter().map(|part| part.to_lowercase()).collect::<Vec<_>>().join(".");
            let source = match &e.metadata {
                Some(m) => match &m.source {
                    Some(origin) => format!(" (from {} {origin})", m.name),
                    None => format!(" (from {})", m.name),
                },
                None => String::new(),
            };
            if key.is_empty() { format!("{}{source}", e.kind) } else { format!("key `{key}`{source}: {}", e.kind) }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return its large error type.
mod tests {
    use super::*;

    fn validated(config: Config) -> Result<Settings, ConfigError> {
        config.validate()
    }

    #[test]
    fn defaults_work_on_a_laptop() {
        let settings = validated(Config::default()).unwrap();
        assert_eq!(settings.issuer.as_str(), "http://localhost:44319");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:44319");
        assert_eq!(settings.database_url, "sqlite://./data/portcullis.db");
    }

    #[test]
    fn issuer_trailing_slash_is_dropped_so_iss_is_exact() {
        let config = Config { issuer: "https://id.example.com/".into(), ..Config::default() };
        assert_eq!(validated(config).unwrap().issuer.as_str(), "https://id.example.com");
    }

    #[test]
    fn oidc_discovery_3_issuer_with_query_is_refused_naming_the_key() {
        let config = Config { issuer: "https://id.example.com/?tenant=1".into(), ..Config::default() };
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("`issuer`") && message.contains("query"), "{message}");
    }

    #[test]
    fn plain_http_issuer_is_refused_outside_loopback() {
        let config = Config { issuer: "http://id.example.com".into(), ..Config::default() };
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("https"), "{message}");
        let config = Config { issuer: "http://127.0.0.1:8080".into(), ..Config::default() };
        assert!(validated(config).is_ok());
    }

    #[test]
    fn bad_listen_address_names_the_key_and_the_expected_form() {
        let config = Config { listen: "localhost".into(), ..Config::default() };
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("`listen`") && message.contains("127.0.0.1:44319"), "{message}");
    }

    #[test]
    fn unknown_database_scheme_is_refused_without_leaking_the_password() {
        let config = Config { database_url: Some("mysql://root:hunter2@db/x".into()), ..Config::default() };
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("`database_url`"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn file_then_environment_then_flags_override_in_that_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "p.toml",
                "issuer = \"https://file.example.com\"\nlisten = \"127.0.0.1:1000\"\ndata_dir = \"/tmp/file\"",
            )?;
            jail.set_env("PORTCULLIS_LISTEN", "127.0.0.1:2000");
            jail.set_env("PORTCULLIS_DATA_DIR", "/tmp/env");
            let overrides = Overrides { data_dir: Some("/tmp/flag".into()), ..Overrides::default() };
            let config = Config::load(Some(Path::new("p.toml")), &overrides).unwrap();
            assert_eq!(config.issuer, "https://file.example.com");
            assert_eq!(config.listen, "127.0.0.1:2000");
            assert_eq!(config.data_dir, PathBuf::from("/tmp/flag"));
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_the_file_is_an_error_naming_it() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("p.toml", "isuer = \"https://typo.example.com\"")?;
            let message = Config::load(Some(Path::new("p.toml")), &Overrides::default()).unwrap_err().to_string();
            assert!(message.contains("isuer") && message.contains("p.toml"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn wrong_type_in_the_environment_names_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PORTCULLIS_DEMO", "maybe");
            let message = Config::load(None, &Overrides::default()).unwrap_err().to_string();
            assert!(message.contains("`demo`") && message.contains("PORTCULLIS_"), "{message}");
            Ok(())
        });
    }

    #[test]
    fn nested_keys_come_from_sections_and_double_underscore_variables() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("p.toml", "[tokens]\naccess_token_format = \"jwt\"\naccess_token_lifetime = 600")?;
            jail.set_env("PORTCULLIS_TOKENS__ACCESS_TOKEN_LIFETIME", "900");
            let settings = Config::load(Some(Path::new("p.toml")), &Overrides::default()).unwrap().validate().unwrap();
            assert_eq!(settings.tokens.access_token_format, AccessTokenFormat::Jwt);
            assert_eq!(settings.tokens.access_token_lifetime, 900);
            Ok(())
        });
    }

    #[test]
    fn zero_lifetime_and_bad_log_filter_name_their_keys() {
        let mut config = Config::default();
        config.tokens.access_token_lifetime = 0;
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("`tokens.access_token_lifetime`"), "{message}");
        let config = Config { log_level: "info,=[".into(), ..Config::default() };
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("`log_level`"), "{message}");
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let message = Config::load(Some(Path::new("/nonexistent/portcullis.toml")), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("/nonexistent/portcullis.toml"), "{message}");
    }
}
