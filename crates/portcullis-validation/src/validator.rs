//! [`Validator`]: one configured way of validating access tokens, shared by every request of an API.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use portcullis_core::{Clock, SystemClock};
use portcullis_jose::{Decrypter, SigningAlg};
use url::Url;

use crate::introspection::Introspection;
use crate::jwt::LocalJwt;
use crate::provider::Provider;
use crate::secret::ClientSecret;
use crate::token::{Expected, invalid};
use crate::{AccessToken, Policy, Rejection, RequireBearerLayer, bearer};

/// Default tolerated clock difference with the provider: hosts kept by NTP agree within a second, and 30 s
/// forgives a badly kept one without meaningfully lengthening a token's life.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Default lifetime of a cached introspection answer: the provider is asked about an active token at most
/// twice a minute, and a revocation takes effect here within 30 s.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// Default number of cached introspection answers: a few MiB at most, more tokens than a single API sees
/// in any 30 s.
pub const DEFAULT_CACHE_CAPACITY: u64 = 10_000;
/// Default minimum time between two JWKS fetches caused by unknown `kid`s: providers publish a key before it
/// signs, so such refreshes are rare, and this bounds what a flood of made-up `kid`s costs the provider.
pub const DEFAULT_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Default time during which a failed discovery or JWKS fetch is not retried (requests get the same 503
/// at once): short, so a provider that is back is used again almost at once.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(2);
/// Default limit of one call to the provider: introspection is inside every uncached request, and a provider
/// slower than this is as good as down for the user waiting.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest token looked at: Portcullis' encrypted tokens are about 1.5 KiB, and a bigger one costs work (a
/// hash, a provider call) for nothing.
pub const DEFAULT_MAX_TOKEN_LENGTH: usize = 16 * 1024;

/// A configuration that cannot work, found by [`ValidatorBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("the issuer {0:?} is not an absolute http or https URL without query or fragment")]
    Issuer(String),
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(String),
    #[error("a decryption key is only used to validate JWT access tokens locally, not with introspection")]
    DecryptionKeyWithIntrospection,
    #[error("no signing algorithm is accepted")]
    NoAlgorithms,
}

enum ModeChoice {
    Introspection { client_id: String, client_secret: ClientSecret },
    Local,
}

/// Settings of a [`Validator`]; every one has a default documented where it is defined.
pub struct ValidatorBuilder {
    issuer: String,
    mode: ModeChoice,
    audience: Option<String>,
    leeway: Duration,
    clock: Arc<dyn Clock>,
    role_claim: String,
    cache_ttl: Duration,
    cache_capacity: u64,
    decrypter: Option<Decrypter>,
    algorithms: Vec<SigningAlg>,
    jwks_refresh_interval: Duration,
    retry_interval: Duration,
    timeout: Duration,
    max_token_length: usize,
}

impl ValidatorBuilder {
    fn new(issuer: String, mode: ModeChoice, audience: Option<String>) -> Self {
        Self {
            issuer,
            mode,
            audience,
            leeway: DEFAULT_LEEWAY,
            clock: Arc::new(SystemClock),
            role_claim: "role".to_owned(),
            cache_ttl: DEFAULT_CACHE_TTL,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            decrypter: None,
            // RFC 9068 §4: resource servers "MUST support" RS256; ES256 is what Portcullis signs access tokens
            // with. ID tokens are RS256 too, and are told apart by `typ`.
            algorithms: vec![SigningAlg::Es256, SigningAlg::Rs256],
            jwks_refresh_interval: DEFAULT_JWKS_REFRESH_INTERVAL,
            retry_interval: DEFAULT_RETRY_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            max_token_length: DEFAULT_MAX_TOKEN_LENGTH,
        }
    }

    /// The name this API has in the tokens' `aud` (with introspection: its client id, unless set here).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Where the time comes from (default: the system clock); tests pass a `FixedClock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The claim holding the user's roles (default `role`, as Portcullis issues it).
    pub fn role_claim(mut self, claim: impl Into<String>) -> Self {
        self.role_claim = claim.into();
        self
    }

    /// How long an introspection answer is reused (zero: ask the provider on every request). See the
    /// crate's README for what this means for revocation.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    pub fn cache_capacity(mut self, entries: u64) -> Self {
        self.cache_capacity = entries;
        self
    }

    /// The private key encrypted access tokens are encrypted to (local validation only).
    pub fn decryption_key(mut self, decrypter: Decrypter) -> Self {
        self.decrypter = Some(decrypter);
        self
    }

    pub fn algorithms(mut self, algorithms: Vec<SigningAlg>) -> Self {
        self.algorithms = algorithms;
        self
    }

    pub fn jwks_refresh_interval(mut self, interval: Duration) -> Self {
        self.jwks_refresh_interval = interval;
        self
    }

    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// Limit of one HTTP call to the provider.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn max_token_length(mut self, bytes: usize) -> Self {
        self.max_token_length = bytes;
        self
    }

    /// Checks the settings. Nothing is fetched yet: the provider may be down while the API starts.
    pub fn build(self) -> Result<Validator, BuildError> {
        let discovery_url = discovery_url(&self.issuer)?;
        let http = reqwest::Client::builder()
            // Never follow redirects: a redirected introspection call would hand our credentials to wherever
            // the redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .build()
            .map_err(|error| BuildError::HttpClient(error.to_string()))?;
        if self.algorithms.is_empty() {
            return Err(BuildError::NoAlgorithms);
        }
        let to_time = |duration: Duration| time::Duration::try_from(duration).unwrap_or(time::Duration::MAX);
        let mode = match self.mode {
            ModeChoice::Introspection { client_id, client_secret } => {
                if self.decrypter.is_some() {
                    return Err(BuildError::DecryptionKeyWithIntrospection);
                }
                Mode::Introspection(Introspection::new(client_id, client_secret, self.cache_ttl, self.cache_capacity))
            }
            ModeChoice::Local => {
                Mode::Local(LocalJwt::new(self.decrypter, self.algorithms, to_time(self.jwks_refresh_interval)))
            }
        };
        let provider = Provider::new(self.issuer.clone(), discovery_url, http, to_time(self.retry_interval));
        let expected = Expected {
            issuer: self.issuer,
            audience: self.audience,
            leeway: to_time(self.leeway),
            role_claim: self.role_claim,
        };
        Ok(Validator(Arc::new(Inner {
            provider,
            expected,
            mode,
            clock: self.clock,
            max_token_length: self.max_token_length,
        })))
    }
}

/// OIDC Discovery §4: the issuer, without a trailing `/`, followed by `/.well-known/openid-configuration`.
fn discovery_url(issuer: &str) -> Result<Url, BuildError> {
    let bad = || BuildError::Issuer(issuer.to_owned());
    let url = Url::parse(issuer).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() || url.fragment().is_some() {
        return Err(bad());
    }
    Url::parse(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))).map_err(|_| bad())
}

enum Mode {
    Introspection(Introspection),
    Local(LocalJwt),
}

struct Inner {
    provider: Provider,
    expected: Expected,
    mode: Mode,
    clock: Arc<dyn Clock>,
    max_token_length: usize,
}

/// Validates access tokens for one API. Cheap to clone: clones share the provider metadata, keys and cache.
#[derive(Clone)]
pub struct Validator(Arc<Inner>);

impl Validator {
    /// Validation by RFC 7662 introspection at the provider of `issuer`, as the API's confidential client.
    /// The expected audience is `client_id` unless [`ValidatorBuilder::audience`] says otherwise.
    pub fn introspection(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
    ) -> ValidatorBuilder {
        let client_id = client_id.into();
        let audience = Some(client_id.clone());
        ValidatorBuilder::new(issuer.into(), ModeChoice::Introspection { client_id, client_secret }, audience)
    }

    /// Local validation of JWT access tokens (RFC 9068) issued by `issuer` for `audience`.
    pub fn local_jwt(issuer: impl Into<String>, audience: impl Into<String>) -> ValidatorBuilder {
        ValidatorBuilder::new(issuer.into(), ModeChoice::Local, Some(audience.into()))
    }

    pub fn issuer(&self) -> &str {
        &self.0.expected.issuer
    }

    /// Validates one access token (as taken from the request, e.g. by [`bearer::bearer_token`]).
    pub async fn validate(&self, token: &str) -> Result<AccessToken, Rejection> {
        let inner = &self.0;
        if token.len() > inner.max_token_length {
            return Err(invalid(format!("the token is longer than {} bytes", inner.max_token_length)));
        }
        let clock = inner.clock.as_ref();
        match &inner.mode {
            Mode::Introspection(introspection) => {
                introspection.validate(token, &inner.provider, &inner.expected, clock).await
            }
            Mode::Local(local) => local.validate(token, &inner.provider, &inner.expected, clock).await,
        }
    }

    /// The whole check of a request: its bearer token, the token, then `policy`.
    pub async fn authorize(&self, parts: &Parts, policy: &Policy) -> Result<AccessToken, Rejection> {
        let token = bearer::bearer_token_of(parts)?;
        let access = self.validate(token).await?;
        policy.check(&access)?;
        Ok(access)
    }

    /// A layer for axum routes that lets through only requests whose token passes `policy`.
    pub fn require(&self, policy: Policy) -> RequireBearerLayer {
        RequireBearerLayer::new(self.clone(), policy)
    }

    /// Reads the provider's discovery document (and, for local validation, its JWKS) now rather than at the
    /// first request: lets a starting API say in its log whether the provider answers.
    pub async fn warm_up(&self) -> Result<(), Rejection> {
        let inner = &self.0;
        let clock = inner.clock.as_ref();
        inner.provider.metadata(clock).await?;
        if let Mode::Local(local) = &inner.mode {
            local.warm_up(&inner.provider, clock).await?;
        }
        Ok(())
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.0.mode {
            Mode::Introspection(_) => "introspection",
            Mode::Local(_) => "local JWT",
        };
        f.debug_struct("Validator")
            .field("issuer", &self.0.expected.issuer)
            .field("audience", &self.0.expected.audience)
            .field("mode", &mode)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_discovery_4_the_document_is_under_the_issuer() {
        assert_eq!(
            discovery_url("http://localhost:44319").unwrap().as_str(),
            "http://localhost:44319/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://id.example/tenant/").unwrap().as_str(),
            "https://id.example/tenant/.well-known/openid-configuration"
        );
        for bad in ["localhost:44319", "ftp://x", "https://id.example?x=1", "https://id.example#f", ""] {
            assert_eq!(discovery_url(bad), Err(BuildError::Issuer(bad.into())), "{bad}");
        }
    }

    #[test]
    fn a_decryption_key_with_introspection_is_a_configuration_error() {
        let key = portcullis_jose::generate_key(portcullis_jose::KeyAlg::RsaOaep).unwrap();
        let decrypter = Decrypter::from_private_jwk(key.private_jwk.expose()).unwrap();
        let built = Validator::introspection("http://localhost:44319", "api", ClientSecret::new("secret"))
            .decryption_key(decrypter)
            .build();
        assert_eq!(built.err(), Some(BuildError::DecryptionKeyWithIntrospection));
    }
}
