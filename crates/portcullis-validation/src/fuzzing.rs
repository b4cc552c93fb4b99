//! Entry points for the fuzz targets of `fuzz/` (feature `fuzzing`; not a stable API): the steps of token
//! validation that need no network, reached through the same functions a [`crate::Validator`] calls, with the
//! JWKS and the time given instead of fetched and read from a clock.

use axum::http::{HeaderMap, HeaderValue, header};
use portcullis_jose::{Decrypter, JoseError, JwksVerifier, SigningAlg};
use time::{Duration, OffsetDateTime};

use crate::introspection::{Introspection, interpret, read_answer};
use crate::jwt::{LocalJwt, signature_rejection};
use crate::secret::ClientSecret;
use crate::token::{Expected, Source, check};
use crate::{AccessToken, Rejection, bearer};

/// Both algorithms the provider signs with, so ID tokens reach the `typ` check instead of failing earlier.
const ALGORITHMS: &[SigningAlg] = &[SigningAlg::Es256, SigningAlg::Rs256];

/// A validator's configuration without its provider: what it expects, the JWKS it would have fetched, and the
/// decryption key it may hold.
pub struct Reader {
    local: LocalJwt,
    jwks: JwksVerifier,
    introspection: Introspection,
    expected: Expected,
}

impl Reader {
    /// Tokens from `issuer` for `audience`, with the default leeway; `cache_ttl` bounds introspection answers.
    pub fn new(
        issuer: &str,
        audience: &str,
        jwks_json: &[u8],
        decrypter: Option<Decrypter>,
        cache_ttl: std::time::Duration,
    ) -> Result<Self, JoseError> {
        Ok(Self {
            local: LocalJwt::new(decrypter, ALGORITHMS.to_vec(), Duration::minutes(1)),
            jwks: JwksVerifier::from_jwks_json(jwks_json)?,
            // A capacity of zero: no cache, so every answer is judged afresh.
            introspection: Introspection::new("api".into(), ClientSecret::new("unused"), cache_ttl, 0),
            expected: Expected {
                issuer: issuer.to_owned(),
                audience: Some(audience.to_owned()),
                leeway: Duration::seconds(30),
                role_claim: "role".to_owned(),
            },
        })
    }

    pub fn leeway(&self) -> Duration {
        self.expected.leeway
    }

    /// The bearer token of an `Authorization` header value (RFC 6750 §2.1).
    pub fn bearer(authorization: &[u8]) -> Option<Result<String, Rejection>> {
        let value = HeaderValue::from_bytes(authorization).ok()?;
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value);
        Some(bearer::bearer_token(&headers).map(str::to_owned))
    }

    /// Local validation of a JWT access token at `now`, as [`LocalJwt::validate`] does once it holds the JWKS.
    pub fn jwt(&self, token: &str, now: OffsetDateTime) -> Result<AccessToken, Rejection> {
        let jws = self.local.signed_part(token)?;
        let (_header, claims) = self.jwks.verify(&jws, ALGORITHMS).map_err(signature_rejection)?;
        check(claims, &self.expected, now, Source::Jwt)
    }

    /// An introspection answer's body read at `now`: `None` when it is not RFC 7662 JSON, else the verdict and
    /// how long the cache would keep the answer.
    pub fn introspection_answer(
        &self,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Option<(Result<AccessToken, Rejection>, std::time::Duration)> {
        let answer = read_answer(body)?;
        let lifetime = self.introspection.lifetime(&answer, now);
        Some((interpret(&answer, &self.expected, now), lifetime))
    }
}
