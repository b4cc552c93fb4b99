//! The configuration the provider runs with: every value of the [`Config`] as read, checked once, and every
//! lifetime turned from the file's seconds into a [`Duration`], so that no handler converts or guesses.

use std::net::SocketAddr;
use std::path::PathBuf;

use portcullis_core::model::AccessTokenFormat;
use portcullis_store::DatabaseOptions;
use time::Duration;
use url::Url;

use super::raw::{Config, ConfigError, DatabaseSettings, LogFormat, PruningSettings, SecuritySettings, TokenSettings};

/// The validated configuration the provider runs with.
#[derive(Clone)]
pub struct Settings {
    pub issuer: Issuer,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `[database]`, validated: the waits the store is opened with.
    pub database: DatabaseOptions,
    pub master_key: Option<String>,
    pub demo: bool,
    pub log_format: LogFormat,
    pub log_level: String,
    pub tokens: Tokens,
    pub security: Security,
    pub pruning: Pruning,
}

/// `[tokens]`, validated. The defaults and their reasons are on [`TokenSettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tokens {
    pub access_token_format: AccessTokenFormat,
    pub authorization_code_lifetime: Duration,
    pub access_token_lifetime: Duration,
    pub id_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    /// Zero when a rotated refresh token must never be used again.
    pub refresh_token_reuse_leeway: Duration,
    pub session_lifetime: Duration,
    pub device_code_lifetime: Duration,
}

/// `[security]`, validated. The defaults and their reasons are on [`SecuritySettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Security {
    /// At least 1.
    pub lockout_max_failures: i32,
    /// How long a locked account stays locked (`security.lockout_seconds`).
    pub lockout: Duration,
    /// Password checks at once; `None` for one per core (`security.password_check_threads = 0`).
    pub password_check_threads: Option<usize>,
    /// Password checks that may wait for a thread before more are refused with 503.
    pub password_check_queue: usize,
}

impl Security {
    pub fn password_checks(&self) -> crate::password_checks::PasswordChecks {
        use crate::password_checks::PasswordChecks;
        match self.password_check_threads {
            Some(threads) => PasswordChecks::new(threads, self.password_check_queue),
            None => PasswordChecks::per_core(self.password_check_queue),
        }
    }
}

/// `[pruning]`, validated. The defaults and their reasons are on [`PruningSettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruning {
    /// Time between runs of the background job; `None` when `pruning.interval` is 0 and the job is off.
    pub interval: Option<Duration>,
    pub threshold: Duration,
    /// At least 1.
    pub batch_size: u32,
}

/// The longest span a key accepts: a year. Anything longer is a typo, and the bound keeps every expiry time the
/// provider computes from a setting within what a date can hold.
const A_YEAR: u64 = 366 * 24 * 3600;

/// A lifetime: from 1 second to a year.
fn lifetime(key: &'static str, seconds: u64) -> Result<Duration, ConfigError> {
    seconds_between(key, seconds, 1, "expected a number of seconds between 1 and 31622400 (a year)")
}

/// A span where 0 means none: from 0 to a year.
fn span(key: &'static str, seconds: u64) -> Result<Duration, ConfigError> {
    seconds_between(key, seconds, 0, "expected a number of seconds between 0 and 31622400 (a year)")
}

fn seconds_between(key: &'static str, seconds: u64, least: u64, reason: &str) -> Result<Duration, ConfigError> {
    match i64::try_from(seconds) {
        Ok(whole) if (least..=A_YEAR).contains(&seconds) => Ok(Duration::seconds(whole)),
        _ => Err(ConfigError::Invalid { key, found: seconds.to_string(), reason: reason.into() }),
    }
}

impl TokenSettings {
    fn validate(&self) -> Result<Tokens, ConfigError> {
        Ok(Tokens {
            access_token_format: self.access_token_format,
            authorization_code_lifetime: lifetime(
                "tokens.authorization_code_lifetime",
                self.authorization_code_lifetime,
            )?,
            access_token_lifetime: lifetime("tokens.access_token_lifetime", self.access_token_lifetime)?,
            id_token_lifetime: lifetime("tokens.id_token_lifetime", self.id_token_lifetime)?,
            refresh_token_lifetime: lifetime("tokens.refresh_token_lifetime", self.refresh_token_lifetime)?,
            refresh_token_reuse_leeway: span("tokens.refresh_token_reuse_leeway", self.refresh_token_reuse_leeway)?,
            session_lifetime: lifetime("tokens.session_lifetime", self.session_lifetime)?,
            device_code_lifetime: lifetime("tokens.device_code_lifetime", self.device_code_lifetime)?,
        })
    }
}

impl SecuritySettings {
    fn validate(&self) -> Result<Security, ConfigError> {
        let lockout = lifetime("security.lockout_seconds", self.lockout_seconds)?;
        if self.lockout_max_failures < 1 {
            return Err(ConfigError::Invalid {
                key: "security.lockout_max_failures",
                found: self.lockout_max_failures.to_string(),
                reason: "expected at least 1".into(),
            });
        }
        if self.password_check_threads > 1024 {
            return Err(ConfigError::Invalid {
                key: "security.password_check_threads",
                found: self.password_check_threads.to_string(),
                reason: "expected 0 (one per core) to 1024".into(),
            });
        }
        if self.password_check_queue > 100_000 {
            return Err(ConfigError::Invalid {
                key: "security.password_check_queue",
                found: self.password_check_queue.to_string(),
                reason: "expected 0 to 100000".into(),
            });
        }
        Ok(Security {
            lockout_max_failures: self.lockout_max_failures,
            lockout,
            password_check_threads: (self.password_check_threads > 0).then_some(self.password_check_threads),
            password_check_queue: self.password_check_queue,
        })
    }
}

impl PruningSettings {
    fn validate(&self) -> Result<Pruning, ConfigError> {
        let interval = span("pruning.interval", self.interval)?;
        let threshold = lifetime("pruning.threshold", self.threshold)?;
        if self.batch_size == 0 {
            return Err(ConfigError::Invalid {
                key: "pruning.batch_size",
                found: "0".into(),
                reason: "expected at least 1 row per statement".into(),
            });
        }
        Ok(Pruning { interval: (!interval.is_zero()).then_some(interval), threshold, batch_size: self.batch_size })
    }
}

/// The longest wait for the database a key accepts: 10 minutes. A request waiting longer has long been
/// given up by its client; the bound catches seconds written where milliseconds are meant.
const MAX_DATABASE_WAIT_MS: u64 = 600_000;

impl DatabaseSettings {
    fn validate(&self) -> Result<DatabaseOptions, ConfigError> {
        let wait = |key: &'static str, millis: u64| {
            if (1..=MAX_DATABASE_WAIT_MS).contains(&millis) {
                Ok(std::time::Duration::from_millis(millis))
            } else {
                Err(ConfigError::Invalid {
                    key,
                    found: millis.to_string(),
                    reason: "expected a number of milliseconds between 1 and 600000 (10 minutes)".into(),
                })
            }
        };
        Ok(DatabaseOptions {
            acquire_timeout: wait("database.acquire_timeout_ms", self.acquire_timeout_ms)?,
            statement_timeout: wait("database.statement_timeout_ms", self.statement_timeout_ms)?,
            ..DatabaseOptions::default()
        })
    }
}

impl Config {
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
        let database = self.database.validate()?;
        let tokens = self.tokens.validate()?;
        let security = self.security.validate()?;
        let pruning = self.pruning.validate()?;
        let master_key = self.master_key.filter(|key| !key.trim().is_empty());
        Ok(Settings {
            issuer,
            listen,
            data_dir: self.data_dir,
            database_url,
            database,
            master_key,
            demo: self.demo,
            log_format: self.log_format,
            log_level: self.log_level,
            tokens,
            security,
            pruning,
        })
    }
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

#[cfg(test)]
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
    fn lifetimes_are_durations_from_the_seconds_of_the_file() {
        let settings = validated(Config::default()).unwrap();
        assert_eq!(settings.tokens.access_token_lifetime, Duration::hours(1));
        assert_eq!(settings.tokens.refresh_token_reuse_leeway, Duration::seconds(30));
        assert_eq!(settings.security.lockout, Duration::minutes(15));
        assert_eq!(settings.pruning.interval, Some(Duration::hours(1)));
        let mut config = Config::default();
        config.tokens.refresh_token_reuse_leeway = 0;
        config.pruning.interval = 0;
        let settings = validated(config).unwrap();
        assert_eq!(settings.tokens.refresh_token_reuse_leeway, Duration::ZERO);
        assert_eq!(settings.pruning.interval, None, "0 turns the pruning job off");
    }

    #[test]
    fn h3_database_waits_default_to_a_second_each_and_name_their_keys() {
        let settings = validated(Config::default()).unwrap();
        assert_eq!(settings.database.acquire_timeout, std::time::Duration::from_secs(1));
        assert_eq!(settings.database.statement_timeout, std::time::Duration::from_secs(1));
        let mut config = Config::default();
        config.database.statement_timeout_ms = 250;
        assert_eq!(validated(config).unwrap().database.statement_timeout, std::time::Duration::from_millis(250));
        for (acquire, statement, key) in
            [(0, 1000, "`database.acquire_timeout_ms`"), (1000, 600_001, "`database.statement_timeout_ms`")]
        {
            let mut config = Config::default();
            config.database.acquire_timeout_ms = acquire;
            config.database.statement_timeout_ms = statement;
            let message = validated(config).unwrap_err().to_string();
            assert!(message.contains(key), "{message}");
        }
    }

    #[test]
    fn a_leeway_or_interval_beyond_a_year_names_its_key() {
        let mut config = Config::default();
        config.tokens.refresh_token_reuse_leeway = u64::MAX;
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("`tokens.refresh_token_reuse_leeway`"), "{message}");
        let mut config = Config::default();
        config.pruning.interval = 366 * 24 * 3600 + 1;
        let message = validated(config).unwrap_err().to_string();
        assert!(message.contains("`pruning.interval`"), "{message}");
    }
}
