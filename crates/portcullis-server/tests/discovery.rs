//! Discovery, JWKS and health, served by a provider started in-process on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_testkit::{TestDatabase, TestProvider, both_databases, http};
use serde_json::Value;

async fn get_json(url: &str) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let response = http().get(url).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap();
    (status, headers, body)
}

/// OIDC Discovery §4.3: "The issuer value returned MUST be identical to the Issuer URL that was used as the
/// prefix to /.well-known/openid-configuration"; §3 lists the REQUIRED members.
async fn oidc_discovery_4_3_document_names_the_exact_issuer_and_what_is_supported(db: TestDatabase) {
    portcullis_server::admin::ensure_standard_scopes(db.store().as_ref()).await.unwrap();
    let provider = TestProvider::builder(&db).start().await;
    let (status, headers, doc) = get_json(&provider.url("/.well-known/openid-configuration")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(doc["issuer"], provider.base.as_str());
    assert_eq!(doc["jwks_uri"], provider.url("/.well-known/jwks").as_str());
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["subject_types_supported"], serde_json::json!(["public"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let scopes: Vec<&str> = doc["scopes_supported"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    for scope in ["openid", "profile", "email", "phone", "roles", "offline_access"] {
        assert!(scopes.contains(&scope), "{scope} missing from {scopes:?}");
    }
    assert!(doc["claims_supported"].as_array().unwrap().contains(&Value::from("sub")));
}
both_databases!(discovery_document, oidc_discovery_4_3_document_names_the_exact_issuer_and_what_is_supported);

/// RFC 7517 §5 / §4: every published key has `kty`, `use`, `alg`, `kid`; no private member ever appears; the
/// `kid` is the RFC 7638 thumbprint; the encryption key is not published.
async fn rfc7517_jwks_publishes_public_signing_keys_only(db: TestDatabase) {
    let provider = TestProvider::builder(&db).start().await;
    let (status, headers, jwks) = get_json(&provider.url("/.well-known/jwks")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    let keys = jwks["keys"].as_array().unwrap();
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert!(algs.contains(&"RS256") && algs.contains(&"ES256"), "{algs:?}");
    for key in keys {
        let map = key.as_object().unwrap();
        for member in ["kty", "use", "alg", "kid"] {
            assert!(map.contains_key(member), "{member} missing in {key}");
        }
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(!map.contains_key(private), "private member {private} published");
        }
        let thumbprint = portcullis_jose::jwk_thumbprint(map).unwrap();
        assert_eq!(key["kid"], thumbprint.as_str(), "kid is not the RFC 7638 thumbprint");
    }
}
both_databases!(jwks_document, rfc7517_jwks_publishes_public_signing_keys_only);

/// Keys are created once and kept: a restarted provider (a new state on the same database) publishes the same.
async fn restart_keeps_the_keys(db: TestDatabase) {
    let first = TestProvider::builder(&db).start().await;
    let (_, _, before) = get_json(&first.url("/.well-known/jwks")).await;
    drop(first);
    let reopened = portcullis_store::Database::open(db.url()).await.unwrap();
    let second = TestProvider::builder(&db).store(reopened.store()).start().await;
    let (_, _, after) = get_json(&second.url("/.well-known/jwks")).await;
    assert_eq!(before, after);
}
both_databases!(restart, restart_keeps_the_keys);

async fn health_reports_the_database(db: TestDatabase) {
    let provider = TestProvider::builder(&db).start().await;
    let (status, _, body) = get_json(&provider.url("/healthz")).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    db.database().close().await;
    let (status, _, body) = get_json(&provider.url("/healthz")).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
}
both_databases!(health, health_reports_the_database);

/// With a master key, private keys are stored sealed; without it they cannot be read, and the error says why.
async fn sealed_keys_need_the_master_key(db: TestDatabase) {
    let master = portcullis_jose::generate_master_key().unwrap();
    let _ = TestProvider::builder(&db)
        .issuer("http://localhost:44319")
        .configure(move |c| portcullis_server::config::Config { master_key: Some(master), ..c })
        .state()
        .await;
    for key in db.store().list_active_keys().await.unwrap() {
        assert!(!key.private_jwk.contains("\"d\""), "private key stored in clear: {}", key.kid);
    }
    let settings = TestProvider::builder(&db).issuer("http://localhost:44319").settings();
    let clock: std::sync::Arc<dyn portcullis_core::Clock> = std::sync::Arc::new(portcullis_core::SystemClock);
    let error = portcullis_server::state::AppState::new(settings, db.store(), clock, None).await.err().unwrap();
    assert!(error.to_string().contains("master_key"), "{error}");
}
both_databases!(master_key, sealed_keys_need_the_master_key);
