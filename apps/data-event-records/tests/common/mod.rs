//! Shared by the API's tests: a real provider started in-process on 127.0.0.1 (`portcullis-testkit`), tokens
//! obtained from it as clients would, and the API's router called directly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use data_event_records::Records;
use portcullis_core::SystemClock;
use portcullis_core::model::{ClientType, ConsentType, GrantType, Scope};
use portcullis_server::admin::{self, ClientSpec, SecretChoice};
use portcullis_testkit::{PASSWORD, TestDatabase, TestProvider, http};
use portcullis_validation::{ClientSecret, Validator, ValidatorBuilder};
use serde_json::Value;
use tower::ServiceExt;

pub use portcullis_testkit::{API, API_SECRET, CONSOLE, SPA_ORIGIN, nowhere};

pub const RECORDS: &str = "/api/DataEventRecords";
/// What a client of the API asks for: the API's scope, and `roles` so the token carries the user's roles.
pub const API_SCOPE: &str = "openid roles dataEventRecords";
/// A second scope of the same API (same audience), that is not `dataEventRecords`: a token with only this one
/// reaches the API but lacks the scope it requires.
pub const AUDIT_SCOPE: &str = "dataEventRecords.audit";
pub const AUDIT_CLIENT: (&str, &str) = ("auditclient", "auditClientSecret-for-tests");

/// The demo data, plus [`AUDIT_SCOPE`] and a client allowed it; call before the provider starts.
pub async fn seed(db: &TestDatabase) {
    portcullis_testkit::seed_demo(db).await;
    let store = db.store();
    let scope = Scope {
        name: AUDIT_SCOPE.into(),
        display_name: "Audit data event records".into(),
        description: None,
        resources: vec![API.into()],
    };
    admin::add_scope(store.as_ref(), scope).await.unwrap();
    let client = ClientSpec {
        client_id: AUDIT_CLIENT.0.into(),
        client_type: ClientType::Confidential,
        consent_type: ConsentType::Implicit,
        display_name: None,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        cors_origins: Vec::new(),
        grant_types: vec![GrantType::Password],
        scopes: vec!["openid".into(), "roles".into(), AUDIT_SCOPE.into()],
        introspection: false,
        revocation: false,
        pkce_exempt: false,
        access_token_format: None,
        secret: SecretChoice::Given(AUDIT_CLIENT.1.into()),
    };
    admin::add_client(store.as_ref(), &SystemClock, client).await.unwrap();
}

/// Introspection as the demo's API client, against `provider`.
pub fn introspection(provider: &TestProvider) -> ValidatorBuilder {
    Validator::introspection(&provider.base, API, ClientSecret::new(API_SECRET))
}

/// Local JWT validation for the demo's API, against `provider`.
pub fn local_jwt(provider: &TestProvider) -> ValidatorBuilder {
    Validator::local_jwt(&provider.base, API)
}

/// The API on the database `db` (its own tables, beside the provider's), validating with `validator`.
pub async fn api(db: &TestDatabase, validator: &Validator) -> Router {
    let records = Records::open(db.url()).await.unwrap();
    data_event_records::router(records, validator, vec![HeaderValue::from_static(SPA_ORIGIN)])
}

/// An access token from the resource owner password grant, for `client`.
pub async fn token_for(provider: &TestProvider, (id, secret): (&str, &str), username: &str, scope: &str) -> Value {
    let response = http()
        .post(provider.url("/connect/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "password"), ("username", username), ("password", PASSWORD), ("scope", scope)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

/// `username`'s access token for the API, from the console client.
pub async fn access_token(provider: &TestProvider, username: &str) -> String {
    access_token_with(provider, username, API_SCOPE).await
}

pub async fn access_token_with(provider: &TestProvider, username: &str, scope: &str) -> String {
    token_for(provider, CONSOLE, username, scope).await["access_token"].as_str().unwrap().to_owned()
}

/// Revokes `token` as the client it was issued to (RFC 7009).
pub async fn revoke(provider: &TestProvider, (id, secret): (&str, &str), token: &str) {
    let response = http()
        .post(provider.url("/connect/revoke"))
        .basic_auth(id, Some(secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The provider's private RSA-OAEP JWK, read from its store (unsealed: the tests set no master key).
pub async fn encryption_key(provider: &TestProvider) -> String {
    let keys = provider.state.store.list_active_keys().await.unwrap();
    keys.into_iter().find(|key| key.alg == "RSA-OAEP").expect("an encryption key").private_jwk
}

/// One answer of the API, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The `WWW-Authenticate` challenge.
    pub fn challenge(&self) -> &str {
        self.header("www-authenticate").unwrap_or_else(|| panic!("no challenge: {self:?}"))
    }

    /// The `error_description` of a token refusal.
    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or_else(|| panic!("no error_description: {self:?}"))
    }

    /// The `detail` of a problem document, checking it is one (RFC 9457).
    pub fn problem(&self) -> &str {
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{self:?}");
        assert_eq!(self.body["status"], self.status.as_u16(), "{self:?}");
        assert!(self.body["title"].is_string(), "{self:?}");
        self.body["detail"].as_str().unwrap()
    }
}

/// A request to the API, with a bearer token and a JSON body when given.
pub fn request(method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .unwrap()
}

pub async fn send(api: &Router, request: Request<Body>) -> Answer {
    let response = api.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1024 * 1024).await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer { status, headers, body }
}

pub async fn call(api: &Router, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Answer {
    send(api, request(method, path, token, body)).await
}

/// A record body as the SPA sends it on `POST`.
pub fn new_record(name: &str, description: &str) -> Value {
    serde_json::json!({"name": name, "description": description, "timestamp": "2026-11-01T12:00:00.000Z"})
}
