//! Rules K1 and K2 of docs/security.md: several provider instances on one database share one key set, and a
//! token signed with a key another instance created since this one loaded its keys is accepted at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::model::{AccessTokenFormat, StoredKey};
use portcullis_core::{Clock, SystemClock};
use portcullis_jose::{KeyAlg, generate_key};
use portcullis_server::config::Config;
use portcullis_server::state::AppState;
use portcullis_testkit::{
    API, API_SECRET, CONSOLE, DEFAULT_ISSUER, PASSWORD, Reply, TestDatabase, TestProvider, both_databases, http,
    jwt_parts, token_basic, userinfo,
};
use reqwest::StatusCode;

const INSTANCES: usize = 4;

/// K1 (RFC 7517 §5): instances started at the same moment on one empty database, each with connections of its
/// own, end with one key per algorithm, and all publish the same JWKS.
async fn k1_rfc7517_5_instances_starting_at_once_share_one_key_set(db: TestDatabase) {
    let mut instances = tokio::task::JoinSet::new();
    for _ in 0..INSTANCES {
        let opened = portcullis_store::Database::open(db.url()).await.unwrap();
        let builder = TestProvider::builder(&db).store(opened.store());
        instances.spawn(async move { (builder.state().await, opened) });
    }
    let started: Vec<(AppState, portcullis_store::Database)> = instances.join_all().await;

    let stored = db.store().list_active_keys().await.unwrap();
    let mut algs: Vec<&str> = stored.iter().map(|key| key.alg.as_str()).collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "RS256", "RSA-OAEP"], "one key per algorithm");
    let jwks: HashSet<Vec<u8>> = started.iter().map(|(state, _)| state.published().jwks.clone()).collect();
    assert_eq!(jwks.len(), 1, "every instance publishes the same JWKS");
    for (state, _) in &started {
        let published = state.published();
        for key in &stored {
            let alg = KeyAlg::parse(&key.alg).unwrap();
            assert_eq!(published.keyring.current_kid(alg), Some(key.kid.as_str()), "{}", key.alg);
        }
    }
    for (_, opened) in started {
        opened.close().await;
    }
}
both_databases!(instances_at_once, k1_rfc7517_5_instances_starting_at_once_share_one_key_set);

/// New keys of every kind, current from now: what another instance's key rotation stores.
fn rotate(now: time::OffsetDateTime) -> Vec<StoredKey> {
    [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::RsaOaep]
        .into_iter()
        .map(|alg| generate_key(alg).unwrap().into_stored(None, now, now).unwrap())
        .collect()
}

fn format(access_token_format: AccessTokenFormat) -> impl FnOnce(Config) -> Config + Send + 'static {
    move |mut config| {
        config.tokens.access_token_format = access_token_format;
        config
    }
}

/// Instance B starts; then keys are rotated in the database and instance A starts, signing and encrypting
/// with keys B never loaded. Both serve one issuer, as instances behind one load balancer do. Returns (A, B).
async fn b_then_rotation_then_a(
    db: &TestDatabase,
    access_token_format: AccessTokenFormat,
) -> (TestProvider, TestProvider) {
    let b = TestProvider::builder(db)
        .seed_demo()
        .issuer(DEFAULT_ISSUER)
        .configure(format(access_token_format))
        .start()
        .await;
    // A rotation: B's keys retired, new ones current, so A signs and encrypts with the new ones only.
    let now = SystemClock.now();
    for old in db.store().list_active_keys().await.unwrap() {
        db.store().retire_key(&old.kid, now).await.unwrap();
    }
    for key in rotate(now) {
        db.store().insert_key(key).await.unwrap();
    }
    let a = TestProvider::builder(db).issuer(DEFAULT_ISSUER).configure(format(access_token_format)).start().await;
    (a, b)
}

/// What A issues to the console client for alice: an access token and an ID token, signed (and, in the
/// `encrypted` format, encrypted) with keys B has not loaded.
async fn tokens_from(a: &TestProvider, b: &TestProvider) -> (String, String) {
    let password = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", PASSWORD),
        ("scope", "openid dataEventRecords"),
    ];
    let reply = token_basic(&a.base, CONSOLE, &password).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let access_token = reply.json()["access_token"].as_str().unwrap().to_owned();
    let id_token = reply.json()["id_token"].as_str().unwrap().to_owned();
    let (header, _) = jwt_parts(&id_token);
    let kid = header["kid"].as_str().unwrap();
    assert!(!String::from_utf8_lossy(&b.state.published().jwks).contains(kid), "B already knows the key {kid}");
    (access_token, id_token)
}

async fn introspect(provider: &TestProvider, token: &str) -> Reply {
    let request =
        http().post(provider.url("/connect/introspect")).basic_auth(API, Some(API_SECRET)).form(&[("token", token)]);
    Reply::read(request.send().await.unwrap()).await
}

/// K2 (OIDC Core §10.1.1): an access token (JWE around a JWS) from A, encrypted and signed with keys B has
/// never seen, is accepted by B at once: B reloads its keys for the unknown `kid` instead of refusing it until
/// its next periodic reload. An ID token from A is accepted as B's `id_token_hint`.
async fn k2_oidc_core_10_1_1_a_key_another_instance_created_is_found_at_once(db: TestDatabase) {
    let (a, b) = b_then_rotation_then_a(&db, AccessTokenFormat::Encrypted).await;
    let (access_token, id_token) = tokens_from(&a, &b).await;

    let reply = userinfo(&b.base, &access_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["sub"], a.state.store.find_user_by_login("alice").await.unwrap().unwrap().id);
    let reply = introspect(&b, &access_token).await;
    assert_eq!(reply.json()["active"], true, "{}", reply.body);
    // RP-Initiated Logout §2: a verified hint for a user not signed in here is asked about, not refused.
    let reply =
        Reply::read(http().get(b.url(&format!("/connect/logout?id_token_hint={id_token}"))).send().await.unwrap())
            .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // B now publishes the new signing keys too.
    let (header, _) = jwt_parts(&id_token);
    assert!(String::from_utf8_lossy(&b.state.published().jwks).contains(header["kid"].as_str().unwrap()));
}
both_databases!(unknown_kid_reloads, k2_oidc_core_10_1_1_a_key_another_instance_created_is_found_at_once);

/// K2 with RFC 9068 JWT access tokens: the ES256 key A signed with is found by B at once.
async fn k2_rfc9068_a_jwt_access_token_signed_with_a_new_key_is_accepted_at_once(db: TestDatabase) {
    let (a, b) = b_then_rotation_then_a(&db, AccessTokenFormat::Jwt).await;
    let (access_token, _) = tokens_from(&a, &b).await;
    assert_eq!(access_token.matches('.').count(), 2, "a JWS");
    let reply = introspect(&b, &access_token).await;
    assert_eq!(reply.json()["active"], true, "{}", reply.body);
}
both_databases!(unknown_kid_reloads_jwt, k2_rfc9068_a_jwt_access_token_signed_with_a_new_key_is_accepted_at_once);

/// A JWS header naming `kid`, with a payload and signature that never verify.
fn forged(kid: &str) -> String {
    let header = serde_json::json!({"alg": "ES256", "kid": kid, "typ": "at+jwt"});
    format!("{}.e30.c2lnbmF0dXJl", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// K2: tokens naming keys that exist nowhere (made up) are refused, and cost the database at most one read of
/// the keys per reload interval and instance, however many arrive and however concurrently.
async fn k2_made_up_kids_reload_the_keys_at_most_once_per_interval(db: TestDatabase) {
    let (counted, trips) = db.counted_store();
    let provider = TestProvider::builder(&db).store(counted).start().await;
    trips.take();
    let mut requests = tokio::task::JoinSet::new();
    for attempt in 0..10 {
        let base = provider.base.clone();
        requests.spawn(async move { userinfo(&base, &forged(&format!("made-up-{attempt}"))).await });
    }
    for reply in requests.join_all().await {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert!(reply.header("www-authenticate").unwrap().contains("invalid_token"));
    }
    // Each token is first looked up by the digest of its value (no row has it), then its kid is unknown.
    assert_eq!(trips.take(), 10 + 1, "ten lookups, and one read of the keys for ten unknown kids");
    let reply = userinfo(&provider.base, &forged("made-up-again")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(trips.take(), 1, "its lookup, and no second reload within the interval");
}
both_databases!(made_up_kids, k2_made_up_kids_reload_the_keys_at_most_once_per_interval);
