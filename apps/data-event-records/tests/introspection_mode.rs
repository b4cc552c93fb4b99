//! The API as deployed by default: tokens validated by introspection at a real provider started in-process.
//!
//! Cache rule under test: an introspection answer is reused for at most the cache TTL (default 30 s) and never
//! beyond the token's `exp`, so a token revoked after its first use is still accepted until its cached answer
//! expires. Tests of revocation therefore either revoke before the first use, or set a TTL of 0.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use portcullis_testkit::{TestDatabase, TestProvider, Visitor, both_databases, fixed_clock, spa_tokens_with_scope};
use serde_json::json;

struct Stack {
    provider: TestProvider,
    api: axum::Router,
    db: TestDatabase,
}

async fn start(db: TestDatabase) -> Stack {
    seed(&db).await;
    let provider = TestProvider::builder(&db).start().await;
    let api = api(&db, &introspection(&provider).build().unwrap()).await;
    Stack { provider, api, db }
}

async fn crud_by_alice(db: TestDatabase) {
    let Stack { provider, api, db: _db } = start(db).await;
    let alice = access_token(&provider, "alice").await;
    let token = Some(alice.as_str());

    let created = call(&api, "POST", RECORDS, token, Some(&new_record("Deploy", "Release 1.0"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.header("location"), Some(format!("{RECORDS}/{id}").as_str()));
    assert_eq!(
        created.body,
        json!({"id": id, "name": "Deploy", "description": "Release 1.0", "timestamp": "2026-11-01T12:00:00Z"})
    );

    let listed = call(&api, "GET", RECORDS, token, None).await;
    assert_eq!((listed.status, listed.body.clone()), (StatusCode::OK, json!([created.body])));
    let read = call(&api, "GET", &format!("{RECORDS}/{id}"), token, None).await;
    assert_eq!(read.body, created.body);

    // What the SPA sends on PUT: the whole record, id included, timestamp set to now.
    let change =
        json!({"id": id, "name": "Deploy", "description": "Release 1.1", "timestamp": "2026-11-02T08:30:00.250Z"});
    let updated = call(&api, "PUT", &format!("{RECORDS}/{id}"), token, Some(&change)).await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.body["description"], "Release 1.1");
    assert_eq!(updated.body["timestamp"], "2026-11-02T08:30:00.25Z");

    let deleted = call(&api, "DELETE", &format!("{RECORDS}/{id}"), token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = call(&api, "GET", &format!("{RECORDS}/{id}"), token, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.problem(), format!("there is no record {id}"));
}

both_databases!(alice_the_admin_can_create_read_update_and_delete, crud_by_alice);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bob_the_user_can_read_but_every_write_is_403() {
    let Stack { provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    let alice = access_token(&provider, "alice").await;
    let created = call(&api, "POST", RECORDS, Some(&alice), Some(&new_record("Kept", ""))).await;
    let item = format!("{RECORDS}/{}", created.body["id"]);

    let bob = access_token(&provider, "bob").await;
    assert_eq!(call(&api, "GET", RECORDS, Some(&bob), None).await.status, StatusCode::OK);
    assert_eq!(call(&api, "GET", &item, Some(&bob), None).await.body["name"], "Kept");
    let writes = [
        call(&api, "POST", RECORDS, Some(&bob), Some(&new_record("No", ""))).await,
        call(&api, "PUT", &item, Some(&bob), Some(&new_record("No", ""))).await,
        call(&api, "DELETE", &item, Some(&bob), None).await,
    ];
    for answer in writes {
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
        assert!(answer.challenge().starts_with("Bearer error=\"insufficient_scope\""), "{answer:?}");
        assert_eq!(
            answer.description(),
            "the token's user lacks the role dataEventRecords.admin (roles: dataEventRecords.user)"
        );
    }
    assert_eq!(call(&api, "GET", RECORDS, Some(&alice), None).await.body.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs1_a_token_without_the_scope_is_403_insufficient_scope() {
    let Stack { provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    // For this API (same audience) through another of its scopes, but without `dataEventRecords`.
    let token = token_for(&provider, AUDIT_CLIENT, "alice", &format!("openid roles {AUDIT_SCOPE}")).await;
    let answer = call(&api, "GET", RECORDS, token["access_token"].as_str(), None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    assert_eq!(
        answer.challenge(),
        "Bearer error=\"insufficient_scope\", error_description=\"the token lacks the scope dataEventRecords (it \
         has: dataEventRecords.audit openid roles)\", scope=\"dataEventRecords\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs1_no_token_is_401_with_a_bare_bearer_challenge() {
    let Stack { provider: _provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    let answer = call(&api, "GET", RECORDS, None, None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.challenge(), "Bearer");
    let garbage = call(&api, "GET", RECORDS, Some("not-a-token-the-provider-knows"), None).await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert!(garbage.challenge().starts_with("Bearer error=\"invalid_token\", error_description=\"the provider"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs1_a_token_revoked_before_its_first_use_is_401() {
    let Stack { provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    let token = access_token(&provider, "alice").await;
    revoke(&provider, CONSOLE, &token).await;
    let answer = call(&api, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.description().contains("not active"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs1_with_a_cache_ttl_of_zero_a_revocation_takes_effect_at_once() {
    let Stack { provider, db, .. } = start(TestDatabase::sqlite().await).await;
    let api = api(&db, &introspection(&provider).cache_ttl(Duration::ZERO).build().unwrap()).await;
    let token = access_token(&provider, "alice").await;
    assert_eq!(call(&api, "GET", RECORDS, Some(&token), None).await.status, StatusCode::OK);
    revoke(&provider, CONSOLE, &token).await;
    assert_eq!(call(&api, "GET", RECORDS, Some(&token), None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs1_an_expired_token_is_401_whether_the_provider_or_the_cache_answers() {
    let db = TestDatabase::sqlite().await;
    seed(&db).await;
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).clock(clock.clone()).start().await;
    // The provider and the API share the stopped clock; the cache would keep answers for an hour.
    let cached = introspection(&provider).clock(clock.clone()).cache_ttl(Duration::from_secs(3600));
    let cached = api(&db, &cached.build().unwrap()).await;
    let uncached = api(&db, &introspection(&provider).clock(clock.clone()).build().unwrap()).await;
    let token = access_token(&provider, "alice").await;
    assert_eq!(call(&cached, "GET", RECORDS, Some(&token), None).await.status, StatusCode::OK);

    clock.advance(time::Duration::hours(2));
    // Never asked before: the provider itself says the token is no longer active.
    let answer = call(&uncached, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.challenge().contains("error=\"invalid_token\""));
    assert!(answer.description().contains("not active"), "{answer:?}");
    // Cached as active an hour ago: the API's own clock check refuses it, and says when it expired.
    let answer = call(&cached, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.description().starts_with("the token expired at "), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs3_a_token_for_another_audience_is_401() {
    let Stack { provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    // Without the API's scope, the token's audience is the console client itself; the provider does not even
    // tell this API about it (checklist V1), so the API sees an inactive token.
    let token = access_token_with(&provider, "alice", "openid profile roles").await;
    let answer = call(&api, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.challenge().starts_with("Bearer error=\"invalid_token\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs3_the_spa_s_access_token_works_and_its_id_token_does_not() {
    let Stack { provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    let tokens =
        spa_tokens_with_scope(&Visitor::new(&provider.base), "alice", "openid profile roles dataEventRecords").await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.split('.').count(), 5, "the provider's default format is an encrypted JWT");
    assert_eq!(call(&api, "GET", RECORDS, Some(access), None).await.status, StatusCode::OK);
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(call(&api, "GET", RECORDS, Some(id_token), None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_being_down_is_503_not_401() {
    let db = TestDatabase::sqlite().await;
    // The API starts without a provider: nothing is fetched until a request needs it.
    let validator = portcullis_validation::Validator::introspection(
        nowhere().await,
        API,
        portcullis_validation::ClientSecret::new(API_SECRET),
    )
    .build()
    .unwrap();
    let api = api(&db, &validator).await;
    let answer = call(&api, "GET", RECORDS, Some("any-token"), None).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert_eq!(answer.header("retry-after"), Some("5"));
    assert!(answer.description().contains("cannot reach the discovery document"), "{answer:?}");
    // Still no token is a 401: that needs no provider.
    assert_eq!(call(&api, "GET", RECORDS, None, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_stops_answering_makes_new_tokens_503() {
    let Stack { provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    let alice = access_token(&provider, "alice").await;
    let bob = access_token(&provider, "bob").await;
    assert_eq!(call(&api, "GET", RECORDS, Some(&alice), None).await.status, StatusCode::OK);
    drop(provider);
    // Alice's answer is still cached; Bob's token must be asked about, and cannot be.
    assert_eq!(call(&api, "GET", RECORDS, Some(&alice), None).await.status, StatusCode::OK);
    assert_eq!(call(&api, "GET", RECORDS, Some(&bob), None).await.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lets_the_spa_call_the_api_and_read_its_refusals() {
    let Stack { provider: _provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    let preflight = axum::http::Request::builder()
        .method("OPTIONS")
        .uri(RECORDS)
        .header("origin", SPA_ORIGIN)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = send(&api, preflight).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("access-control-allow-origin"), Some(SPA_ORIGIN));
    let methods = answer.header("access-control-allow-methods").unwrap().to_ascii_uppercase();
    assert!(["GET", "POST", "PUT", "DELETE"].iter().all(|method| methods.contains(method)), "{methods}");
    let headers = answer.header("access-control-allow-headers").unwrap().to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");

    let mut refused = request("GET", RECORDS, None, None);
    refused.headers_mut().insert("origin", SPA_ORIGIN.parse().unwrap());
    let answer = send(&api, refused).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("access-control-allow-origin"), Some(SPA_ORIGIN));
    assert!(answer.header("access-control-expose-headers").unwrap().to_ascii_lowercase().contains("www-authenticate"));

    let mut foreign = request("GET", RECORDS, None, None);
    foreign.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(send(&api, foreign).await.header("access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_400_problem_never_a_panic() {
    let Stack { provider, api, db: _db } = start(TestDatabase::sqlite().await).await;
    let alice = access_token(&provider, "alice").await;
    let token = Some(alice.as_str());
    let post = |body: serde_json::Value| {
        let api = api.clone();
        let alice = alice.clone();
        async move { call(&api, "POST", RECORDS, Some(&alice), Some(&body)).await }
    };

    let answer = post(json!({"description": "d", "timestamp": "2026-11-01T12:00:00Z"})).await;
    assert_eq!((answer.status, answer.problem()), (StatusCode::BAD_REQUEST, "\"name\" is required"));
    let answer = post(new_record(&"n".repeat(101), "")).await;
    assert_eq!(answer.problem(), "\"name\" has 101 characters; at most 100 are allowed");
    let answer = post(new_record("n", &"d".repeat(1001))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let answer = post(json!({"name": "n", "description": "d", "timestamp": "yesterday"})).await;
    assert!(answer.problem().contains("RFC 3339"));
    let answer = post(json!({"name": 5, "description": "d", "timestamp": "2026-11-01T12:00:00Z"})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.problem().contains("invalid type"), "{answer:?}");
    let answer =
        post(json!({"name": "n", "description": "d", "timestamp": "2026-11-01T12:00:00Z", "owner": "x"})).await;
    assert!(answer.problem().contains("unknown field `owner`"), "{answer:?}");
    let answer = post(json!({"id": 9, "name": "n", "description": "d", "timestamp": "2026-11-01T12:00:00Z"})).await;
    assert!(answer.problem().contains("assigned by the API"));

    let mut malformed = request("POST", RECORDS, token, None);
    *malformed.body_mut() = axum::body::Body::from("{\"name\": ");
    malformed.headers_mut().insert("content-type", "application/json".parse().unwrap());
    let answer = send(&api, malformed).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.problem().to_ascii_lowercase().contains("json"), "{answer:?}");

    let mut untyped = request("POST", RECORDS, token, None);
    *untyped.body_mut() = axum::body::Body::from(new_record("n", "d").to_string());
    assert_eq!(send(&api, untyped).await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let huge = post(new_record("n", &"d".repeat(64 * 1024))).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    huge.problem();

    let change = json!({"id": 2, "name": "n", "description": "d", "timestamp": "2026-11-01T12:00:00Z"});
    let answer = call(&api, "PUT", &format!("{RECORDS}/1"), token, Some(&change)).await;
    assert_eq!(answer.problem(), "the id in the body (2) is not the id in the URL (1)");
    let answer = call(&api, "PUT", &format!("{RECORDS}/424242"), token, Some(&new_record("n", "d"))).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(call(&api, "DELETE", &format!("{RECORDS}/424242"), token, None).await.status, StatusCode::NOT_FOUND);
    let answer = call(&api, "GET", &format!("{RECORDS}/abc"), token, None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.problem().contains("positive integers"));
    assert_eq!(call(&api, "GET", "/api/Other", token, None).await.status, StatusCode::NOT_FOUND);
    // Nothing of the above was stored.
    assert_eq!(call(&api, "GET", RECORDS, token, None).await.body, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_of_the_validator_is_the_one_injected() {
    // A validator whose clock is two hours ahead refuses a token the provider still finds active: proof that
    // the validation crate reads no system clock of its own.
    let Stack { provider, db, .. } = start(TestDatabase::sqlite().await).await;
    let ahead = fixed_clock();
    ahead.advance(time::Duration::hours(2));
    let api = api(&db, &introspection(&provider).clock(Arc::clone(&ahead) as _).build().unwrap()).await;
    let token = access_token(&provider, "alice").await;
    let answer = call(&api, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.description().starts_with("the token expired at"), "{answer:?}");
}
