//! The configuration as read: built-in defaults, then a TOML file, then `PORTCULLIS_*` environment variables,
//! then command-line flags, each overriding the one before. Every key is documented here, where its default is
//! defined, and in the README. Lifetimes are whole seconds, as the file and the environment write them.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use portcullis_core::model::AccessTokenFormat;
use serde::{Deserialize, Serialize};

/// Settings as read; [`Config::validate`] turns them into the [`Settings`](super::Settings) the provider runs
/// with.
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
    /// How long to wait for the database (`[database]`, `PORTCULLIS_DATABASE__<KEY>`).
    pub database: DatabaseSettings,
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

/// How long a request waits for the database before it fails with 503 and `Retry-After` (rule H3 of
/// docs/security.md). With the defaults a request fails within about 2 s when the database is down,
/// unreachable or locked. The reasons for each default are on `portcullis_store::DatabaseOptions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// Milliseconds to wait for a connection: to open one (the connect timeout) or for one to come free.
    /// Default 1000: a healthy database gives one at once.
    pub acquire_timeout_ms: u64,
    /// Milliseconds one statement may run or wait for a lock: PostgreSQL's `statement_timeout`, SQLite's busy
    /// timeout. Default 1000: every statement of the provider takes milliseconds. Migrations are not bound.
    pub statement_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { acquire_timeout_ms: 1000, statement_timeout_ms: 1000 }
    }
}

/// The background job that deletes what can no longer be used, so the tables stay small.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PruningSettings {
    /// Seconds between runs; 0 turns the job off (e.g. when `portcullis prune` runs from cron). Default hourly:
    /// often enough that the tables stay small, rarely enough that the job's cost goes unnoticed.
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

/// Lifetimes in seconds, each from 1 to a year (the leeway from 0). Defaults follow the design: short-lived
/// codes and access tokens, long refresh tokens that rotate on every use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenSettings {
    /// `encrypted` (signed JWT inside a JWE; only the provider and resource servers given the key read it),
    /// `jwt` (RFC 9068 signed JWT, validated locally by APIs) or `reference` (opaque, introspected). A client's
    /// own setting wins. Default `encrypted`: what a token says about its user stays unreadable to the client
    /// and to anyone the token leaks to.
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
    /// argon2id checks that run at once; 0 for one per core, which is all the machine can do anyway.
    pub password_check_threads: usize,
    /// Checks that may wait for a thread. 64 keeps the wait under a second on two cores (about 30 ms a check)
    /// and the memory they hold small; a burst beyond it is refused with 503 rather than queued without end.
    pub password_check_queue: usize,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self { lockout_max_failures: 5, lockout_seconds: 900, password_check_threads: 0, password_check_queue: 64 }
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
            database: DatabaseSettings::default(),
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
    use time::Duration;

    use super::*;

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
            assert_eq!(settings.tokens.access_token_lifetime, Duration::seconds(900));
            Ok(())
        });
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let message = Config::load(Some(Path::new("/nonexistent/portcullis.toml")), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(message.contains("/nonexistent/portcullis.toml"), "{message}");
    }
}
