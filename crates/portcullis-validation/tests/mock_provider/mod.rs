//! A stand-in provider on 127.0.0.1 for the validation crate's tests: discovery, JWKS and introspection
//! endpoints whose answers and availability a test controls, with a count of the calls each one got.
//!
//! The real provider is exercised by the dataEventRecords API's tests; this one lets a test make the provider
//! misbehave (down, redirecting, rotating keys) in ways the real one never would on purpose. Serving it, the demo
//! API's credentials and reading a JWT come from `portcullis-testkit`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis_core::model::StoredKey;
use portcullis_jose::{KeyAlg, Keyring, SigningAlg, generate_key};
use portcullis_testkit::{Loopback, Served, jwt_parts};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

pub const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);
pub use portcullis_testkit::{API, API_SECRET};

/// The provider's keys (ES256, RS256, RSA-OAEP) and a second set nobody publishes; generated once per test
/// binary, as RSA key generation is the slow part.
pub struct Keys {
    pub provider: Vec<StoredKey>,
    pub stranger: Vec<StoredKey>,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let set = || -> Vec<StoredKey> {
            [KeyAlg::Es256, KeyAlg::Rs256, KeyAlg::RsaOaep]
                .into_iter()
                .map(|alg| generate_key(alg).unwrap().into_stored(None, NOW, NOW).unwrap())
                .collect()
        };
        Keys { provider: set(), stranger: set() }
    })
}

pub fn keyring(keys: &[StoredKey]) -> Keyring {
    Keyring::new(keys, None, NOW).unwrap()
}

pub fn provider_keyring() -> Keyring {
    keyring(&keys().provider)
}

/// The provider's private RSA-OAEP JWK, as an API would be configured with it.
pub fn encryption_jwk(keys: &[StoredKey]) -> String {
    keys.iter().find(|key| key.alg == "RSA-OAEP").unwrap().private_jwk.clone()
}

/// What the stand-in does, shared with the test.
#[derive(Default)]
pub struct Behaviour {
    /// Discovery answers 503 while set.
    pub discovery_down: AtomicBool,
    /// Discovery answers a redirect while set.
    pub discovery_redirects: AtomicBool,
    pub jwks: Mutex<Vec<u8>>,
    /// Introspection answers by token; unknown tokens are inactive.
    pub answers: Mutex<HashMap<String, Value>>,
    pub discovery_calls: AtomicUsize,
    pub jwks_calls: AtomicUsize,
    pub introspection_calls: AtomicUsize,
}

pub struct MockProvider {
    pub issuer: String,
    pub behaviour: Arc<Behaviour>,
    _server: Served,
}

impl MockProvider {
    pub async fn start() -> Self {
        let loopback = Loopback::bind().await;
        let issuer = loopback.base().to_owned();
        let behaviour = Arc::new(Behaviour::default());
        *behaviour.jwks.lock().unwrap() = provider_keyring().jwks_json().to_vec();
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/introspect", post(introspect))
            .with_state((issuer.clone(), behaviour.clone()));
        Self { issuer, behaviour, _server: loopback.serve(router) }
    }

    pub fn calls(&self) -> (usize, usize, usize) {
        let b = &self.behaviour;
        (
            b.discovery_calls.load(Ordering::SeqCst),
            b.jwks_calls.load(Ordering::SeqCst),
            b.introspection_calls.load(Ordering::SeqCst),
        )
    }

    pub fn answer(&self, token: &str, answer: Value) {
        self.behaviour.answers.lock().unwrap().insert(token.to_owned(), answer);
    }

    pub fn publish(&self, keys: &[StoredKey]) {
        *self.behaviour.jwks.lock().unwrap() = keyring(keys).jwks_json().to_vec();
    }
}

type Shared = State<(String, Arc<Behaviour>)>;

async fn discovery(State((issuer, behaviour)): Shared) -> Response {
    behaviour.discovery_calls.fetch_add(1, Ordering::SeqCst);
    if behaviour.discovery_down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if behaviour.discovery_redirects.load(Ordering::SeqCst) {
        return (StatusCode::FOUND, [(header::LOCATION, "https://elsewhere.example/")]).into_response();
    }
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks"),
        "introspection_endpoint": format!("{issuer}/introspect"),
    }))
    .into_response()
}

async fn jwks(State((_, behaviour)): Shared) -> Response {
    behaviour.jwks_calls.fetch_add(1, Ordering::SeqCst);
    let body = behaviour.jwks.lock().unwrap().clone();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn introspect(
    State((_, behaviour)): Shared,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    behaviour.introspection_calls.fetch_add(1, Ordering::SeqCst);
    let expected = format!("Basic {}", STANDARD.encode(format!("{API}:{API_SECRET}")));
    if headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()) != Some(expected.as_str()) {
        let body = json!({"error": "invalid_client", "error_description": "client authentication failed"});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    let token = form.get("token").cloned().unwrap_or_default();
    let answer = behaviour.answers.lock().unwrap().get(&token).cloned().unwrap_or(json!({"active": false}));
    Json(answer).into_response()
}

/// RFC 9068 §2.2 claims as the provider issues them, for `issuer`, valid for an hour from [`NOW`].
pub fn claims(issuer: &str) -> Map<String, Value> {
    json!({
        "iss": issuer,
        "sub": "alice-id",
        "aud": API,
        "exp": NOW.unix_timestamp() + 3600,
        "iat": NOW.unix_timestamp(),
        "nbf": NOW.unix_timestamp(),
        "jti": "token-1",
        "client_id": "angularclient",
        "scope": "openid dataEventRecords",
        "role": ["dataEventRecords.admin", "dataEventRecords.user"],
    })
    .as_object()
    .unwrap()
    .clone()
}

/// Claims with some members replaced (`null` removes one).
pub fn claims_with(issuer: &str, changes: Value) -> Map<String, Value> {
    let mut claims = claims(issuer);
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.remove(name);
        } else {
            claims.insert(name.clone(), value.clone());
        }
    }
    claims
}

/// A JWT access token signed ES256 by the provider's key, `typ: at+jwt`.
pub fn access_token(claims: &Map<String, Value>) -> String {
    provider_keyring().sign(SigningAlg::Es256, claims, Some("at+jwt")).unwrap()
}

/// A compact JWS with exactly this header and payload, and `signature` as its third part.
pub fn forge(header: &Value, claims: &Map<String, Value>, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The header of a compact token, decoded.
pub fn header_of(token: &str) -> Map<String, Value> {
    let (header, _) = jwt_parts(token);
    header.as_object().unwrap().clone()
}

/// `token` with its header replaced by `header` (the signature no longer matches, which is beside the point
/// for checks that must refuse before verifying).
pub fn with_header(token: &str, header: &Map<String, Value>) -> String {
    let rest: Vec<&str> = token.split('.').skip(1).collect();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(Value::Object(header.clone()).to_string()), rest.join("."))
}

/// The `error_description` of an `invalid_token` rejection, or a panic naming what came instead.
pub fn invalid_token(result: Result<portcullis_validation::AccessToken, portcullis_validation::Rejection>) -> String {
    match result {
        Err(portcullis_validation::Rejection::InvalidToken(description)) => description,
        other => panic!("expected invalid_token, got {other:?}"),
    }
}
