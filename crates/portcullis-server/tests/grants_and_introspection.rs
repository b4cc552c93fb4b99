//! Client credentials and password grants, introspection and revocation, against a provider on 127.0.0.1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_testkit::{TestDatabase, TestProvider, Visitor, both_databases, http, spa_tokens_with_scope};
use serde_json::{Value, json};

async fn post(provider: &TestProvider, path: &str, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> (u16, Value) {
    let mut request = http().post(provider.url(path)).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

const API: (&str, &str) = ("rs_dataEventRecordsApi", "dataEventRecordsSecret");
const CONSOLE: (&str, &str) = ("consoleclient", "consoleClientSecret");

async fn introspect(provider: &TestProvider, caller: (&str, &str), token: &str) -> (u16, Value) {
    post(provider, "/connect/introspect", Some(caller), &[("token", token)]).await
}

/// RFC 6749 §4.4 and checklist T8: an access token for the client itself, no refresh token, no ID token; the
/// API named by the scope's resource sees it active with `sub` = the client.
async fn rfc6749_4_4_client_credentials_issue_an_access_token_only(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let (status, body) = post(
        &provider,
        "/connect/token",
        Some(CONSOLE),
        &[("grant_type", "client_credentials"), ("scope", "dataEventRecords")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none(), "{body}");
    let (_, active) = introspect(&provider, API, body["access_token"].as_str().unwrap()).await;
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["sub"], "consoleclient");
    assert_eq!(active["client_id"], "consoleclient");
    assert_eq!(active["scope"], "dataEventRecords");
    assert_eq!(active["aud"], "rs_dataEventRecordsApi");
    assert_eq!(active["iss"], provider.base.as_str());
}
both_databases!(client_credentials, rfc6749_4_4_client_credentials_issue_an_access_token_only);

/// Checklist T7: a grant the client is not permitted is unauthorized_client.
async fn checklist_t7_grant_not_permitted_is_unauthorized_client(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let (status, body) = post(
        &provider,
        "/connect/token",
        None,
        &[("grant_type", "client_credentials"), ("client_id", "angularclient")],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unauthorized_client");
    assert!(body["error_description"].as_str().unwrap().contains("angularclient"));
}
both_databases!(grant_not_permitted, checklist_t7_grant_not_permitted_is_unauthorized_client);

/// RFC 6749 §4.3: the password grant returns an ID token with `openid` and a refresh token with
/// `offline_access`; an unknown user and a wrong password get the same answer (checklist U1).
async fn rfc6749_4_3_password_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let form = |username: &'static str, password: &'static str| {
        [
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("scope", "openid profile offline_access dataEventRecords"),
        ]
    };
    let (status, body) = post(&provider, "/connect/token", Some(CONSOLE), &form("alice", "Demo-Passw0rd!")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string() && body["refresh_token"].is_string(), "{body}");
    let (status_wrong, wrong) =
        post(&provider, "/connect/token", Some(CONSOLE), &form("alice", "wrong-password")).await;
    let (status_unknown, unknown) =
        post(&provider, "/connect/token", Some(CONSOLE), &form("nobody", "wrong-password")).await;
    assert_eq!((status_wrong, status_unknown), (400, 400));
    assert_eq!(wrong, unknown, "unknown user and wrong password must look the same");
    assert_eq!(wrong["error"], "invalid_grant");
}
both_databases!(password_grant, rfc6749_4_3_password_grant);

/// The issue's scenario: the API introspects a token issued to the SPA with its scope and sees it active;
/// another client sees `{"active": false}` only (V1); after the SPA revokes it, it is inactive at once, at
/// introspection and at userinfo (V2).
async fn rfc7662_rfc7009_introspection_then_revocation(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let tokens = spa_tokens_with_scope(
        &Visitor::new(&provider.base),
        "alice",
        "openid profile roles dataEventRecords offline_access",
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap();

    let (status, active) = introspect(&provider, API, access).await;
    assert_eq!(status, 200);
    assert_eq!(active["active"], true, "{active}");
    assert_eq!(active["client_id"], "angularclient");
    assert_eq!(active["username"], "alice");
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["role"], json!(["dataEventRecords.admin", "dataEventRecords.user"]));
    for claim in ["scope", "sub", "exp", "iat", "nbf", "iss", "aud", "jti"] {
        assert!(active.get(claim).is_some(), "{claim} missing from {active}");
    }
    let (_, other) = introspect(&provider, CONSOLE, access).await;
    assert_eq!(other, json!({ "active": false }));

    let (status, _) = post(
        &provider,
        "/connect/revoke",
        None,
        &[("client_id", "angularclient"), ("token", tokens["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(status, 200);
    let (_, after) = introspect(&provider, API, access).await;
    assert_eq!(after, json!({ "active": false }), "revoking the refresh token revokes its access tokens");
    let userinfo = http().get(provider.url("/connect/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    assert!(userinfo.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
}
both_databases!(introspection_and_revocation, rfc7662_rfc7009_introspection_then_revocation);

/// Checklist V4: no client authentication is 401; an unknown token is `{"active": false}`; V3: revoking an
/// unknown token is 200; V1: a client may not revoke another client's token.
async fn checklist_v1_v3_v4_introspection_and_revocation_rules(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let (status, body) = post(&provider, "/connect/introspect", None, &[("token", "anything")]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let (status, body) =
        post(&provider, "/connect/introspect", None, &[("token", "x"), ("client_id", "angularclient")]).await;
    assert_eq!(status, 401, "a public client cannot introspect: {body}");
    assert_eq!(introspect(&provider, API, "no-such-token").await.1, json!({ "active": false }));
    let (status, _) = post(&provider, "/connect/revoke", Some(CONSOLE), &[("token", "no-such-token")]).await;
    assert_eq!(status, 200);

    let (_, issued) = post(
        &provider,
        "/connect/token",
        Some(CONSOLE),
        &[("grant_type", "client_credentials"), ("scope", "dataEventRecords")],
    )
    .await;
    let access = issued["access_token"].as_str().unwrap();
    let (status, body) =
        post(&provider, "/connect/revoke", None, &[("client_id", "angularclient"), ("token", access)]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(introspect(&provider, API, access).await.1["active"], true, "a refused revocation changes nothing");
    let (status, body) =
        post(&provider, "/connect/revoke", Some(CONSOLE), &[("token", access), ("token_type_hint", "id_token")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_token_type")));
}
both_databases!(introspection_rules, checklist_v1_v3_v4_introspection_and_revocation_rules);

/// RFC 8628 §3.4–3.5 through the token endpoint: a fresh device code is pending, and discovery names the
/// device authorization endpoint and grant.
async fn rfc8628_3_5_token_endpoint_answers_authorization_pending(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let (status, device) =
        post(&provider, "/connect/device", None, &[("client_id", "device"), ("scope", "openid profile")]).await;
    assert_eq!(status, 200, "{device}");
    let grant = "urn:ietf:params:oauth:grant-type:device_code";
    let (status, pending) = post(
        &provider,
        "/connect/token",
        None,
        &[("grant_type", grant), ("client_id", "device"), ("device_code", device["device_code"].as_str().unwrap())],
    )
    .await;
    assert_eq!((status, pending["error"].as_str()), (400, Some("authorization_pending")), "{pending}");
    let discovery: Value =
        http().get(provider.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["device_authorization_endpoint"], provider.url("/connect/device").as_str());
    assert!(discovery["grant_types_supported"].as_array().unwrap().contains(&Value::from(grant)));
}
both_databases!(device_polling, rfc8628_3_5_token_endpoint_answers_authorization_pending);

/// The issue's race: 50 parallel redemptions of one refresh token. With no reuse leeway exactly one succeeds
/// and every other is a replay (checklist F1, F3), which revokes the whole sign-in, the winner's new tokens too.
async fn checklist_f3_fifty_parallel_refreshes_without_leeway_succeed_once(db: TestDatabase) {
    let provider = TestProvider::builder(&db)
        .seed_demo()
        .configure(|mut config| {
            config.tokens.refresh_token_reuse_leeway = 0;
            config
        })
        .start()
        .await;
    let (_, issued) = post(
        &provider,
        "/connect/token",
        Some(CONSOLE),
        &[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", "Demo-Passw0rd!"),
            ("scope", "openid offline_access"),
        ],
    )
    .await;
    let refresh = issued["refresh_token"].as_str().unwrap().to_string();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (url, refresh) = (provider.url("/connect/token"), refresh.clone());
        requests.spawn(async move {
            let response = http()
                .post(url)
                .basic_auth(CONSOLE.0, Some(CONSOLE.1))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        });
    }
    let mut winners = Vec::new();
    while let Some(answer) = requests.join_next().await {
        let (status, body) = answer.unwrap();
        if status == 200 {
            winners.push(body);
        } else {
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation may succeed");
    let (_, active) = introspect(&provider, API, winners[0]["access_token"].as_str().unwrap()).await;
    assert_eq!(active, json!({ "active": false }), "the replays revoked the sign-in, the winner's tokens included");
}
both_databases!(parallel_refreshes, checklist_f3_fifty_parallel_refreshes_without_leeway_succeed_once);

/// Checklist V2: when the database fails, revocation answers 503, never a 200 that did not happen.
async fn checklist_v2_storage_failure_during_revocation_is_503(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let (_, issued) = post(
        &provider,
        "/connect/token",
        Some(CONSOLE),
        &[("grant_type", "client_credentials"), ("scope", "dataEventRecords")],
    )
    .await;
    db.database().close().await;
    let (status, body) =
        post(&provider, "/connect/revoke", Some(CONSOLE), &[("token", issued["access_token"].as_str().unwrap())]).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
}
both_databases!(revocation_storage_failure, checklist_v2_storage_failure_during_revocation_is_503);
