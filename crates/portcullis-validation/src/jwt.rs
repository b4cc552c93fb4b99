//! Local validation of JWT access tokens (RFC 9068 §4), signed by the provider (JWS) and optionally encrypted
//! to this API (JWE, decrypted first with the key it is configured with).
//!
//! The header is checked before any key is looked at, so that a token naming a key URL (`jku`, `x5u`), carrying
//! its own key (`jwk`, `x5c`), using `none` or HMAC, or of another `typ` is refused without a fetch (row RS2
//! of `docs/security.md`). Keys come only from the provider's JWKS; an unknown `kid` refetches the JWKS (a key
//! may have been published since), at most once per refresh interval whatever the number of such tokens.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::Clock;
use portcullis_jose::{Decrypter, JoseError, JwksVerifier, SigningAlg};
use serde_json::{Map, Value};
use time::Duration;

use crate::fetch::Fetched;
use crate::provider::Provider;
use crate::rejection::clip;
use crate::token::{Expected, Source, check, invalid};
use crate::{AccessToken, Rejection};

/// RFC 8725 §3.10: header parameters that would make us take a key, or a place to fetch one, from the token.
/// `crit` too: we implement no extension, and RFC 7515 §4.1.11 says to refuse what we do not understand.
const REFUSED_HEADERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// RFC 9068 §4: "Resource servers MUST verify that the typ header value is "at+jwt" or "application/at+jwt"".
const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

pub(crate) struct LocalJwt {
    decrypter: Option<Decrypter>,
    algorithms: Vec<SigningAlg>,
    jwks: Fetched<JwksVerifier>,
    refresh_interval: Duration,
}

impl LocalJwt {
    pub fn new(decrypter: Option<Decrypter>, algorithms: Vec<SigningAlg>, refresh_interval: Duration) -> Self {
        Self { decrypter, algorithms, jwks: Fetched::new(), refresh_interval }
    }

    pub async fn validate(
        &self,
        token: &str,
        provider: &Provider,
        expected: &Expected,
        clock: &dyn Clock,
    ) -> Result<AccessToken, Rejection> {
        let jws = self.signed_part(token)?;
        let jws = jws.as_ref();
        let fetch = || self.fetch_jwks(provider, clock);
        let jwks = self.jwks.get(clock, provider.retry_after, fetch).await?;
        let verified = match jwks.verify(jws, &self.algorithms) {
            Err(JoseError::UnknownKey(kid)) => {
                match self.jwks.refresh(clock, &jwks, self.refresh_interval, fetch).await? {
                    Some(newer) => newer.verify(jws, &self.algorithms),
                    None => Err(JoseError::UnknownKey(kid)),
                }
            }
            other => other,
        };
        let (_header, claims) = verified.map_err(signature_rejection)?;
        check(claims, expected, clock.now(), Source::Jwt)
    }

    /// The signed JWT of `token`, decrypted first when it is a JWE, with its header checked: every step before a
    /// key of the provider is needed.
    pub(crate) fn signed_part<'t>(&self, token: &'t str) -> Result<Cow<'t, str>, Rejection> {
        let jws = match token.split('.').count() {
            3 => Cow::Borrowed(token),
            5 => Cow::Owned(self.decrypt(token)?),
            _ => {
                return Err(invalid(
                    "the token is not a JWT: a signed JWT has 3 dot-separated parts, an encrypted one 5",
                ));
            }
        };
        self.check_header(&jws)?;
        Ok(jws)
    }

    /// RFC 7516 §5.2 with the configured key; the plaintext must be the signed JWT (RFC 7519 §5.2 nesting).
    fn decrypt(&self, token: &str) -> Result<String, Rejection> {
        let Some(decrypter) = &self.decrypter else {
            return Err(invalid(
                "the token is encrypted (a JWE) and this API has no decryption key: configure the provider's \
                 encryption key, or validate by introspection",
            ));
        };
        let plaintext = decrypter.decrypt(token).map_err(|error| match error {
            JoseError::UnknownKey(kid) => invalid(format!(
                "the token is encrypted to key {kid:?}, not to this API's decryption key {:?}",
                decrypter.kid()
            )),
            JoseError::Decryption => invalid("the token cannot be decrypted with this API's key"),
            other => invalid(format!("the encrypted token is refused: {other}")),
        })?;
        if plaintext.split('.').count() != 3 {
            return Err(invalid("the decrypted token is not a signed JWT"));
        }
        Ok(plaintext)
    }

    /// The checks that need no key: refused headers, the algorithm, `kid`, `typ`.
    fn check_header(&self, jws: &str) -> Result<(), Rejection> {
        let header_part = jws.split('.').next().unwrap_or_default();
        let header = URL_SAFE_NO_PAD
            .decode(header_part)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
            .ok_or_else(|| invalid("the token header is not base64url-encoded JSON"))?;
        if let Some(name) = REFUSED_HEADERS.iter().find(|name| header.contains_key(**name)) {
            return Err(invalid(format!(
                "the token header carries {name:?}, which is refused: keys come only from the provider's JWKS \
                 (RFC 8725 §3.10)"
            )));
        }
        let text = |name: &str| header.get(name).and_then(Value::as_str);
        // RFC 8725 §3.1: the algorithms are ours to choose; `none` and HMAC are never among them, so a token
        // cannot make our public key an HMAC secret.
        let alg = text("alg").ok_or_else(|| invalid("the token header has no alg"))?;
        if !SigningAlg::parse(alg).is_some_and(|alg| self.algorithms.contains(&alg)) {
            let accepted: Vec<&str> = self.algorithms.iter().map(|alg| alg.as_str()).collect();
            return Err(invalid(format!(
                "the token's algorithm {:?} is not accepted (accepted: {})",
                clip(alg),
                accepted.join(", ")
            )));
        }
        if text("kid").is_none() {
            return Err(invalid("the token header has no kid, so no key of the provider can verify it"));
        }
        // RFC 9068 §4, which is what tells an access token from an ID token signed by the same keys (RS3).
        match text("typ") {
            Some(typ) if ACCESS_TOKEN_TYPES.iter().any(|expected| typ.eq_ignore_ascii_case(expected)) => Ok(()),
            Some(typ) => Err(invalid(format!(
                "the token's typ is {:?}, not \"at+jwt\": it is not a JWT access token (an ID token?) (RFC 9068 §4)",
                clip(typ)
            ))),
            None => Err(invalid("the token header has no typ; a JWT access token has \"at+jwt\" (RFC 9068 §2.1)")),
        }
    }

    /// Fetches the JWKS now if none is held yet.
    pub async fn warm_up(&self, provider: &Provider, clock: &dyn Clock) -> Result<(), Rejection> {
        self.jwks.get(clock, provider.retry_after, || self.fetch_jwks(provider, clock)).await.map(drop)
    }

    async fn fetch_jwks(&self, provider: &Provider, clock: &dyn Clock) -> Result<JwksVerifier, Rejection> {
        let metadata = provider.metadata(clock).await?;
        let url = metadata
            .jwks_uri
            .as_ref()
            .ok_or_else(|| Rejection::Misconfigured("the provider's discovery document has no jwks_uri".into()))?;
        let body = provider.get(url, "the JWKS").await?;
        let jwks = JwksVerifier::from_jwks_json(&body)
            .map_err(|error| Rejection::Unavailable(format!("the JWKS at {url} cannot be used: {error}")))?;
        tracing::info!(%url, "fetched the provider's JWKS");
        Ok(jwks)
    }
}

/// A JWS the JWKS does not verify.
pub(crate) fn signature_rejection(error: JoseError) -> Rejection {
    match error {
        JoseError::UnknownKey(kid) => {
            invalid(format!("the token is signed with key {kid:?}, which is not in the provider's JWKS"))
        }
        JoseError::BadSignature => invalid("the token's signature does not verify with the provider's key"),
        other => invalid(format!("the token is refused: {other}")),
    }
}
