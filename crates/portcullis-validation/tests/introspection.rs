//! Introspection (RFC 7662) against a stand-in provider: answers, the cache and its limits, failures; and the
//! axum layer's RFC 6750 §3.1 responses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod mock_provider;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use mock_provider::{API, API_SECRET, MockProvider, NOW, invalid_token};
use portcullis_testkit::nowhere;
use portcullis_validation::{AccessToken, ClientSecret, FixedClock, Policy, Rejection, Validator, ValidatorBuilder};
use serde_json::{Value, json};
use tower::ServiceExt;

fn active(provider: &MockProvider, changes: Value) -> Value {
    let mut answer = json!({
        "active": true,
        "iss": provider.issuer,
        "aud": API,
        "sub": "alice-id",
        "username": "alice",
        "client_id": "angularclient",
        "token_type": "Bearer",
        "scope": "openid dataEventRecords",
        "role": ["dataEventRecords.admin", "dataEventRecords.user"],
        "exp": NOW.unix_timestamp() + 3600,
        "iat": NOW.unix_timestamp(),
    });
    for (name, value) in changes.as_object().unwrap() {
        answer[name] = value.clone();
    }
    answer
}

async fn setup(
    configure: impl FnOnce(ValidatorBuilder) -> ValidatorBuilder,
) -> (MockProvider, Arc<FixedClock>, Validator) {
    let provider = MockProvider::start().await;
    let clock = Arc::new(FixedClock::new(NOW));
    let builder = Validator::introspection(&provider.issuer, API, ClientSecret::new(API_SECRET)).clock(clock.clone());
    let validator = configure(builder).build().unwrap();
    (provider, clock, validator)
}

#[tokio::test]
async fn rfc7662_an_active_answer_becomes_the_access_token() {
    let (provider, _, validator) = setup(|builder| builder).await;
    provider.answer("t1", active(&provider, json!({})));
    let token = validator.validate("t1").await.unwrap();
    assert_eq!(token.username.as_deref(), Some("alice"));
    assert_eq!(token.roles, ["dataEventRecords.admin", "dataEventRecords.user"]);
    assert!(token.has_scope("dataEventRecords"));
}

#[tokio::test]
async fn rfc7662_inactive_is_401_invalid_token() {
    let (_provider, _, validator) = setup(|builder| builder).await;
    assert!(invalid_token(validator.validate("revoked-or-unknown").await).contains("not active"));
}

#[tokio::test]
async fn answers_are_cached_so_repeated_calls_do_not_reach_the_provider() {
    let (provider, _, validator) = setup(|builder| builder).await;
    provider.answer("t1", active(&provider, json!({})));
    for _ in 0..5 {
        validator.validate("t1").await.unwrap();
    }
    for _ in 0..3 {
        invalid_token(validator.validate("unknown").await);
    }
    assert_eq!(provider.calls(), (1, 0, 2));
}

#[tokio::test]
async fn a_cached_answer_does_not_outlive_the_token_on_the_validators_clock() {
    let (provider, clock, validator) = setup(|builder| builder.cache_ttl(Duration::from_secs(3600))).await;
    provider.answer("t1", active(&provider, json!({"exp": NOW.unix_timestamp() + 60})));
    validator.validate("t1").await.unwrap();
    clock.advance(time::Duration::minutes(2));
    let description = invalid_token(validator.validate("t1").await);
    assert!(description.starts_with("the token expired at 2026-11-01T12:01:00Z"), "{description}");
}

#[tokio::test]
async fn with_a_ttl_of_zero_every_request_asks_so_revocation_is_immediate() {
    let (provider, _, validator) = setup(|builder| builder.cache_ttl(Duration::ZERO)).await;
    provider.answer("t1", active(&provider, json!({})));
    validator.validate("t1").await.unwrap();
    provider.answer("t1", json!({"active": false}));
    invalid_token(validator.validate("t1").await);
    assert_eq!(provider.calls().2, 2);
}

#[tokio::test]
async fn rs3_another_audience_or_issuer_in_the_answer_is_refused() {
    let (provider, _, validator) = setup(|builder| builder).await;
    provider.answer("aud", active(&provider, json!({"aud": ["consoleclient"]})));
    assert_eq!(
        invalid_token(validator.validate("aud").await),
        "audience mismatch: expected \"rs_dataEventRecordsApi\", found \"consoleclient\""
    );
    provider.answer("iss", active(&provider, json!({"iss": "https://evil.example"})));
    assert!(invalid_token(validator.validate("iss").await).starts_with("issuer mismatch"));
    provider.answer("refresh", active(&provider, json!({"token_type": "refresh_token"})));
    assert!(invalid_token(validator.validate("refresh").await).contains("not a Bearer access token"));
}

#[tokio::test]
async fn refused_client_credentials_are_a_500_not_the_callers_fault() {
    let provider = MockProvider::start().await;
    let validator = Validator::introspection(&provider.issuer, API, ClientSecret::new("wrong-secret")).build().unwrap();
    let rejection = validator.validate("t1").await.unwrap_err();
    assert!(matches!(&rejection, Rejection::Misconfigured(text) if text.contains("invalid_client")), "{rejection:?}");
    assert_eq!(rejection.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_provider_that_is_down_is_503_and_failures_are_not_cached() {
    let (provider, clock, validator) = setup(|builder| builder).await;
    provider.answer("t1", active(&provider, json!({})));
    provider.behaviour.discovery_down.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(validator.validate("t1").await, Err(Rejection::Unavailable(_))));
    provider.behaviour.discovery_down.store(false, std::sync::atomic::Ordering::SeqCst);
    clock.advance(time::Duration::seconds(2));
    validator.validate("t1").await.unwrap();
}

// The axum layer: what a caller of a protected route sees.

async fn whoami(token: AccessToken) -> String {
    token.username.unwrap_or_default()
}

fn app(validator: &Validator, policy: Policy) -> Router {
    Router::new().route("/records", get(whoami)).route_layer(validator.require(policy))
}

async fn call(app: Router, authorization: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::get("/records");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let challenge = response.headers().get(header::WWW_AUTHENTICATE).map(|value| value.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap();
    (status, challenge, serde_json::from_slice(&body).unwrap_or(Value::String(String::from_utf8_lossy(&body).into())))
}

#[tokio::test]
async fn rs1_the_layer_answers_as_rfc6750_3_1_says() {
    let (provider, _, validator) = setup(|builder| builder).await;
    provider.answer("good", active(&provider, json!({})));
    provider.answer("no-scope", active(&provider, json!({"scope": "openid"})));
    let policy = Policy::new().scope("dataEventRecords").role("dataEventRecords.user");
    let app = app(&validator, policy);

    let (status, challenge, _) = call(app.clone(), None).await;
    assert_eq!((status, challenge.as_deref()), (StatusCode::UNAUTHORIZED, Some("Bearer")));

    let (status, challenge, body) = call(app.clone(), Some("Bearer unknown")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.unwrap().starts_with("Bearer error=\"invalid_token\", error_description=\"the provider"));
    assert_eq!(body["error"], "invalid_token");

    let (status, challenge, body) = call(app.clone(), Some("Bearer no-scope")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge.as_deref(),
        Some(
            "Bearer error=\"insufficient_scope\", error_description=\"the token lacks the scope dataEventRecords \
             (it has: openid)\", scope=\"dataEventRecords\""
        )
    );
    assert_eq!(body["error"], "insufficient_scope");

    let (status, _, body) = call(app.clone(), Some("Bearer good")).await;
    assert_eq!((status, body), (StatusCode::OK, Value::String("alice".into())));

    let (status, _, body) = call(app, Some("Bearer a b")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
}

#[tokio::test]
async fn rs1_a_missing_role_is_403() {
    let (provider, _, validator) = setup(|builder| builder).await;
    provider.answer("bob", active(&provider, json!({"role": "dataEventRecords.user"})));
    let app = app(&validator, Policy::new().scope("dataEventRecords").role("dataEventRecords.admin"));
    let (status, challenge, body) = call(app, Some("Bearer bob")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge.unwrap().starts_with("Bearer error=\"insufficient_scope\""));
    assert_eq!(
        body["error_description"],
        "the token's user lacks the role dataEventRecords.admin (roles: dataEventRecords.user)"
    );
}

#[tokio::test]
async fn the_provider_being_down_is_503_through_the_layer() {
    let validator = Validator::introspection(nowhere().await, API, ClientSecret::new(API_SECRET)).build().unwrap();
    let (status, challenge, body) = call(app(&validator, Policy::new()), Some("Bearer t1")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(challenge, None);
    assert_eq!(body["error"], "temporarily_unavailable");
}

/// Checklist H1, RFC 6750 §3.1 invalid_request (400): two `Authorization` headers are refused before any token
/// is looked at, even when both carry the same good token, and the provider is never asked.
#[tokio::test]
async fn checklist_h1_rfc6750_3_1_two_authorization_headers_are_400_through_the_layer() {
    let (provider, _, validator) = setup(|builder| builder).await;
    provider.answer("good", active(&provider, json!({})));
    let app = app(&validator, Policy::new());
    for pair in [["Bearer good", "Bearer good"], ["Bearer good", "Basic YTpi"], ["Basic YTpi", "Bearer good"]] {
        let mut request = Request::get("/records");
        for value in pair {
            // `header` appends: two calls make two header lines.
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{pair:?}");
        let challenge = response.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer error=\"invalid_request\""), "{challenge}");
        assert!(challenge.contains("more than one Authorization header"), "{challenge}");
    }
    assert_eq!(provider.calls().2, 0, "the provider was asked about a refused request");
    let (status, _, body) = call(app, Some("Bearer good")).await;
    assert_eq!((status, body), (StatusCode::OK, Value::String("alice".into())));
}
