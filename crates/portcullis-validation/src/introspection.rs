//! Asking the provider what a token is (RFC 7662), with a bounded cache of the answers.
//!
//! The cache is what keeps an API from calling the provider on every request. Its rule: an answer is kept at
//! most `cache_ttl`, and an active answer never beyond the token's own `exp`. Every use of a cached answer
//! still runs the time checks against the validator's clock, so an expired token is refused even while its
//! answer is cached. The price is that a revoked token is still accepted for up to `cache_ttl` after its
//! revocation; a TTL of zero turns the cache off.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use moka::Expiry;
use moka::future::Cache;
use portcullis_core::Clock;
use reqwest::StatusCode;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use crate::provider::{Provider, read_body, unexpected_status, unreachable};
use crate::rejection::clip;
use crate::secret::ClientSecret;
use crate::token::{Expected, Source, check, invalid};
use crate::{AccessToken, Rejection};

const WHAT: &str = "the introspection endpoint";

/// The provider's answer about one token.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Active(Arc<Map<String, Value>>),
    Inactive,
}

/// An answer and how long the cache may keep it.
#[derive(Debug, Clone)]
struct Entry {
    answer: Answer,
    lifetime: std::time::Duration,
}

/// Per-entry expiry: each entry lives exactly its [`Entry::lifetime`].
struct ByLifetime;

impl Expiry<[u8; 32], Entry> for ByLifetime {
    fn expire_after_create(&self, _key: &[u8; 32], entry: &Entry, _created_at: Instant) -> Option<std::time::Duration> {
        Some(entry.lifetime)
    }
}

pub(crate) struct Introspection {
    client_id: String,
    client_secret: ClientSecret,
    /// Keyed by the SHA-256 of the token, so the cache holds no usable token. `None` when the TTL is zero.
    cache: Option<Cache<[u8; 32], Entry>>,
    ttl: std::time::Duration,
}

impl Introspection {
    pub fn new(client_id: String, client_secret: ClientSecret, ttl: std::time::Duration, capacity: u64) -> Self {
        let cache = (!ttl.is_zero() && capacity > 0)
            .then(|| Cache::builder().max_capacity(capacity).expire_after(ByLifetime).build());
        Self { client_id, client_secret, cache, ttl }
    }

    pub async fn validate(
        &self,
        token: &str,
        provider: &Provider,
        expected: &Expected,
        clock: &dyn Clock,
    ) -> Result<AccessToken, Rejection> {
        let entry = match &self.cache {
            None => self.ask(token, provider, clock).await?,
            Some(cache) => {
                let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
                // Concurrent requests with one token share one call; a failed call is not cached, so the next
                // request asks again.
                cache.try_get_with(key, self.ask(token, provider, clock)).await.map_err(|error| (*error).clone())?
            }
        };
        interpret(&entry.answer, expected, clock.now())
    }

    /// RFC 7662 §2.1: `POST` the token with the API's client credentials.
    async fn ask(&self, token: &str, provider: &Provider, clock: &dyn Clock) -> Result<Entry, Rejection> {
        let metadata = provider.metadata(clock).await?;
        let endpoint = metadata.introspection_endpoint.as_ref().ok_or_else(|| {
            Rejection::Misconfigured(
                "the provider's discovery document has no introspection_endpoint; validate JWT access tokens \
                 locally instead"
                    .into(),
            )
        })?;
        let response = provider
            .http()
            .post(endpoint.clone())
            .header(reqwest::header::AUTHORIZATION, basic_authorization(&self.client_id, self.client_secret.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .send()
            .await
            .map_err(|error| unreachable(WHAT, endpoint, &error))?;
        let status = response.status();
        if matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(self.refused(status, response, endpoint).await);
        }
        if status != StatusCode::OK {
            return Err(unexpected_status(WHAT, endpoint, status, &response));
        }
        let body = read_body(response, WHAT, endpoint).await?;
        let answer = read_answer(&body)
            .ok_or_else(|| Rejection::Unavailable(format!("{WHAT} at {endpoint} did not answer RFC 7662 JSON")))?;
        let lifetime = self.lifetime(&answer, clock.now());
        tracing::debug!(active = matches!(answer, Answer::Active(_)), "introspected a token");
        Ok(Entry { answer, lifetime })
    }

    /// How long the cache may keep `answer`: the TTL, and for an active token no longer than its `exp`.
    pub(crate) fn lifetime(&self, answer: &Answer, now: OffsetDateTime) -> std::time::Duration {
        let Answer::Active(members) = answer else { return self.ttl };
        match members.get("exp").and_then(Value::as_i64) {
            Some(exp) => {
                let left = u64::try_from(exp.saturating_sub(now.unix_timestamp())).unwrap_or(0);
                self.ttl.min(std::time::Duration::from_secs(left))
            }
            None => self.ttl,
        }
    }

    /// A 400/401/403: the provider does not accept this API's request, which no retry will change.
    async fn refused(&self, status: StatusCode, response: reqwest::Response, endpoint: &Url) -> Rejection {
        let body = read_body(response, WHAT, endpoint).await.unwrap_or_default();
        let answer: Value = serde_json::from_slice(&body).unwrap_or_default();
        let text = |name: &str| answer.get(name).and_then(Value::as_str).map(clip).unwrap_or_default();
        Rejection::Misconfigured(format!(
            "{WHAT} at {endpoint} refused this API's request (HTTP {status}, {:?}: {:?}); check the client id {:?}, \
             its secret, and that the client may introspect",
            text("error"),
            text("error_description"),
            self.client_id
        ))
    }
}

/// The body of an introspection answer; `None` when it is not RFC 7662 JSON.
pub(crate) fn read_answer(body: &[u8]) -> Option<Answer> {
    let Ok(Value::Object(members)) = serde_json::from_slice(body) else { return None };
    // RFC 7662 §2.2: "active REQUIRED. Boolean indicator of whether or not the presented token is currently
    // active."
    match members.get("active").and_then(Value::as_bool)? {
        true => Some(Answer::Active(Arc::new(members))),
        false => Some(Answer::Inactive),
    }
}

/// RFC 7662 §2.2 then the claim checks shared with JWTs.
pub(crate) fn interpret(answer: &Answer, expected: &Expected, now: OffsetDateTime) -> Result<AccessToken, Rejection> {
    let Answer::Active(members) = answer else {
        return Err(invalid(
            "the provider reports the token as not active: it is expired, revoked, unknown, or not meant for this \
             API (RFC 7662 §2.2)",
        ));
    };
    // RFC 7662 answers about refresh tokens too; only an access token may be used as a bearer token.
    if let Some(token_type) = members.get("token_type").and_then(Value::as_str)
        && !token_type.eq_ignore_ascii_case("Bearer")
    {
        return Err(invalid(format!(
            "the provider reports the token as a {:?}, not a Bearer access token",
            clip(token_type)
        )));
    }
    check(members.as_ref().clone(), expected, now, Source::Introspection)
}

/// RFC 6749 §2.3.1: client_secret_basic, with the id and the secret form-urlencoded before base64.
fn basic_authorization(client_id: &str, secret: &str) -> String {
    let encode = |value: &str| url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret))))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

    fn introspection(ttl: u64) -> Introspection {
        Introspection::new("api".into(), ClientSecret::new("s"), std::time::Duration::from_secs(ttl), 100)
    }

    fn active(members: Value) -> Answer {
        Answer::Active(Arc::new(members.as_object().unwrap().clone()))
    }

    fn expected() -> Expected {
        Expected {
            issuer: "https://id.example".into(),
            audience: Some("api".into()),
            leeway: time::Duration::seconds(30),
            role_claim: "role".into(),
        }
    }

    #[test]
    fn rfc6749_2_3_1_credentials_are_form_encoded_before_base64() {
        assert_eq!(basic_authorization("a b", "p:ss"), format!("Basic {}", STANDARD.encode("a+b:p%3Ass")));
    }

    #[test]
    fn cached_answers_live_no_longer_than_the_ttl_and_the_token() {
        let ttl = introspection(30);
        assert_eq!(ttl.lifetime(&Answer::Inactive, NOW).as_secs(), 30);
        let exp = |seconds: i64| active(json!({"active": true, "exp": NOW.unix_timestamp() + seconds}));
        assert_eq!(ttl.lifetime(&exp(3600), NOW).as_secs(), 30);
        assert_eq!(ttl.lifetime(&exp(10), NOW).as_secs(), 10);
        assert_eq!(ttl.lifetime(&exp(-10), NOW).as_secs(), 0);
        assert!(introspection(0).cache.is_none());
    }

    #[test]
    fn rfc7662_2_2_inactive_is_invalid_token() {
        let rejection = interpret(&Answer::Inactive, &expected(), NOW).unwrap_err();
        assert!(matches!(rejection, Rejection::InvalidToken(text) if text.contains("not active")));
    }

    #[test]
    fn a_refresh_token_is_not_an_access_token() {
        let answer = active(json!({"active": true, "token_type": "refresh_token", "aud": "api"}));
        let rejection = interpret(&answer, &expected(), NOW).unwrap_err();
        assert!(matches!(rejection, Rejection::InvalidToken(text) if text.contains("refresh_token")));
    }

    #[test]
    fn an_active_answer_goes_through_the_claim_checks() {
        let good = active(json!({"active": true, "token_type": "Bearer", "aud": ["api"], "scope": "a b"}));
        assert_eq!(interpret(&good, &expected(), NOW).unwrap().scopes, ["a", "b"]);
        let other = active(json!({"active": true, "aud": "other"}));
        assert!(interpret(&other, &expected(), NOW).unwrap_err().description().contains("found \"other\""));
    }
}
