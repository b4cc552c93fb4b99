//! The API validating JWT access tokens locally (RFC 9068), against a real provider started in-process: plain
//! signed tokens (`tokens.access_token_format = jwt`) and the provider's default encrypted ones, decrypted with
//! its RSA-OAEP key read from its store.
//!
//! Local validation does not see revocations: a revoked JWT is accepted until it expires. That is the trade
//! for not calling the provider per token, and why introspection is the API's default.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod common;

use axum::http::StatusCode;
use common::*;
use portcullis_core::model::AccessTokenFormat;
use portcullis_testkit::{TestDatabase, TestProvider, Visitor, fixed_clock, spa_tokens_with_scope};
use portcullis_validation::Decrypter;

/// A provider that issues plain signed JWT access tokens.
async fn jwt_provider(db: &TestDatabase) -> TestProvider {
    seed(db).await;
    TestProvider::builder(db)
        .configure(|mut config| {
            config.tokens.access_token_format = AccessTokenFormat::Jwt;
            config
        })
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alice_writes_and_bob_reads_with_locally_validated_jwts() {
    let db = TestDatabase::sqlite().await;
    let provider = jwt_provider(&db).await;
    let api = api(&db, &local_jwt(&provider).build().unwrap()).await;
    let alice = access_token(&provider, "alice").await;
    assert_eq!(alice.split('.').count(), 3, "a plain signed JWT");

    let created = call(&api, "POST", RECORDS, Some(&alice), Some(&new_record("Local", "checked here"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let item = format!("{RECORDS}/{}", created.body["id"]);
    let updated = call(&api, "PUT", &item, Some(&alice), Some(&new_record("Local", "changed"))).await;
    assert_eq!(updated.status, StatusCode::OK);

    let bob = access_token(&provider, "bob").await;
    assert_eq!(call(&api, "GET", &item, Some(&bob), None).await.body["description"], "changed");
    let refused = call(&api, "DELETE", &item, Some(&bob), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.challenge().starts_with("Bearer error=\"insufficient_scope\""));
    assert_eq!(call(&api, "DELETE", &item, Some(&alice), None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs1_a_token_without_the_scope_is_403_insufficient_scope() {
    let db = TestDatabase::sqlite().await;
    let provider = jwt_provider(&db).await;
    let api = api(&db, &local_jwt(&provider).build().unwrap()).await;
    let token = token_for(&provider, AUDIT_CLIENT, "alice", &format!("openid roles {AUDIT_SCOPE}")).await;
    let answer = call(&api, "GET", RECORDS, token["access_token"].as_str(), None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{answer:?}");
    assert!(answer.challenge().ends_with(", scope=\"dataEventRecords\""), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs3_a_token_for_another_audience_is_401_naming_expected_and_found() {
    let db = TestDatabase::sqlite().await;
    let provider = jwt_provider(&db).await;
    let api = api(&db, &local_jwt(&provider).build().unwrap()).await;
    // Without the API's scope the audience is the console client itself.
    let token = access_token_with(&provider, "alice", "openid profile roles").await;
    let answer = call(&api, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge(),
        "Bearer error=\"invalid_token\", error_description=\"audience mismatch: expected \
         'rs_dataEventRecordsApi', found 'consoleclient'\""
    );
    assert_eq!(answer.description(), "audience mismatch: expected \"rs_dataEventRecordsApi\", found \"consoleclient\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs3_a_token_of_another_provider_is_401() {
    let db = TestDatabase::sqlite().await;
    let provider = jwt_provider(&db).await;
    let api = api(&db, &local_jwt(&provider).build().unwrap()).await;
    // Another provider, with its own keys and issuer, and the same demo clients and users.
    let other_db = TestDatabase::sqlite().await;
    let other = jwt_provider(&other_db).await;
    let token = access_token(&other, "alice").await;
    let answer = call(&api, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.description().contains("which is not in the provider's JWKS"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs3_an_id_token_is_not_an_access_token() {
    let db = TestDatabase::sqlite().await;
    let provider = jwt_provider(&db).await;
    let api = api(&db, &local_jwt(&provider).build().unwrap()).await;
    let tokens =
        spa_tokens_with_scope(&Visitor::new(&provider.base), "alice", "openid profile roles dataEventRecords").await;
    assert_eq!(call(&api, "GET", RECORDS, tokens["access_token"].as_str(), None).await.status, StatusCode::OK);
    let answer = call(&api, "GET", RECORDS, tokens["id_token"].as_str(), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.description().contains("typ is \"JWT\", not \"at+jwt\""), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs1_an_expired_token_is_401_by_the_validators_own_clock() {
    let db = TestDatabase::sqlite().await;
    let provider = jwt_provider(&db).await;
    let clock = fixed_clock();
    let api = api(&db, &local_jwt(&provider).clock(clock.clone()).build().unwrap()).await;
    let token = access_token(&provider, "alice").await;
    assert_eq!(call(&api, "GET", RECORDS, Some(&token), None).await.status, StatusCode::OK);
    // The provider's tokens live an hour; the leeway is 30 s.
    clock.advance(time::Duration::seconds(3600 + 31 + 1));
    let answer = call(&api, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.challenge().starts_with("Bearer error=\"invalid_token\", error_description=\"the token expired at"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_tokens_are_read_with_the_providers_encryption_key() {
    let db = TestDatabase::sqlite().await;
    seed(&db).await;
    // The provider's default: the signed JWT inside a JWE.
    let provider = TestProvider::builder(&db).start().await;
    let key = Decrypter::from_private_jwk(&encryption_key(&provider).await).unwrap();
    let api = api(&db, &local_jwt(&provider).decryption_key(key).build().unwrap()).await;
    let alice = access_token(&provider, "alice").await;
    assert_eq!(alice.split('.').count(), 5, "a JWE");
    let created = call(&api, "POST", RECORDS, Some(&alice), Some(&new_record("Sealed", ""))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let bob = access_token(&provider, "bob").await;
    assert_eq!(call(&api, "GET", RECORDS, Some(&bob), None).await.body.as_array().unwrap().len(), 1);
    assert_eq!(call(&api, "POST", RECORDS, Some(&bob), Some(&new_record("No", ""))).await.status, 403);

    let without_key = api_without_key(&db, &provider).await;
    let answer = call(&without_key, "GET", RECORDS, Some(&alice), None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.description().contains("no decryption key"), "{answer:?}");
}

async fn api_without_key(db: &TestDatabase, provider: &TestProvider) -> axum::Router {
    api(db, &local_jwt(provider).build().unwrap()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_being_down_is_503() {
    let db = TestDatabase::sqlite().await;
    let issuer = nowhere().await;
    let api = api(&db, &portcullis_validation::Validator::local_jwt(issuer, API).build().unwrap()).await;
    let answer = call(&api, "GET", RECORDS, Some("eyJhbGciOiJFUzI1NiJ9.e30.sig"), None).await;
    // Refused by its header first (no typ): a key is fetched only for a token that could be valid.
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let db2 = TestDatabase::sqlite().await;
    let provider = jwt_provider(&db2).await;
    let token = access_token(&provider, "alice").await;
    let answer = call(&api, "GET", RECORDS, Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
}
