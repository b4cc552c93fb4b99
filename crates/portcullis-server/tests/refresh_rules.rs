//! The refresh token grant against requests that are wrong in one way each (security checklist F1, F2, F3's
//! sequential half, F4, F5), on SQLite and PostgreSQL, over HTTP, with time from a stopped clock.
//!
//! Refresh tokens rotate: every use returns a new one. The old one may be presented again for 30 seconds (two
//! tabs refreshing at once), and gets the same successor back while that successor is live; any other reuse is a
//! replay, which RFC 9700 §4.14.2 answers by revoking every token of that sign-in (its family). These tests have
//! one sign-in each, so that is every token of the authorization; `families.rs` shows the other sign-ins stay.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::model::{AuthorizationStatus, Token, TokenStatus};
use portcullis_core::secret;
use portcullis_testkit::{
    CONSOLE, Reply, SPA_REDIRECT, TestDatabase, TestProvider, Visitor, assert_access_token_inactive, both_databases,
    fixed_clock, refresh, spa_like, spa_tokens, token, token_basic, userinfo,
};
use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;

fn assert_invalid_grant(reply: &Reply, names: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_grant", "{}", reply.body);
    let description = reply.description();
    assert!(description.contains(names), "the description {description:?} should name {names}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

/// A refresh that must succeed: the new token response.
async fn rotate(provider: &TestProvider, refresh_token: &str) -> Value {
    let reply = refresh(&provider.base, refresh_token, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_ne!(body["refresh_token"].as_str().unwrap(), refresh_token, "refresh tokens rotate");
    body
}

fn field<'v>(response: &'v Value, name: &str) -> &'v str {
    response[name].as_str().unwrap_or_else(|| panic!("no {name} in {response}"))
}

/// The row of a refresh token.
async fn refresh_row(provider: &TestProvider, refresh_token: &str) -> Token {
    provider.state.store.find_token_by_digest(&secret::digest(refresh_token)).await.unwrap().expect("a row")
}

/// Every token row of the authorization `refresh_token` belongs to.
async fn authorization_tokens(provider: &TestProvider, refresh_token: &str) -> Vec<Token> {
    let row = refresh_row(provider, refresh_token).await;
    provider.state.store.list_tokens_of_authorization(row.authorization_id.as_deref().unwrap()).await.unwrap()
}

async fn assert_all_revoked(provider: &TestProvider, refresh_token: &str) {
    let tokens = authorization_tokens(provider, refresh_token).await;
    assert!(!tokens.is_empty());
    for token in tokens {
        assert_eq!(token.status, TokenStatus::Revoked, "{:?} {}", token.token_type, token.id);
    }
}

/// Checklist F1, RFC 9700 §4.14.2: "If a refresh token is compromised and subsequently used by both the
/// attacker and the legitimate client, one of them will present an invalidated refresh token, which will
/// inform the authorization server of the breach. The authorization server cannot determine which party
/// submitted the invalid refresh token, but it will revoke the active refresh token." After the 30 s leeway
/// the rotated token is `invalid_grant`, and every token of the sign-in is revoked.
async fn checklist_f1_rfc9700_4_14_2_rotated_refresh_token_replayed_after_leeway_revokes_all(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);
    let first = spa_tokens(&visitor, "alice").await;
    let second = rotate(&provider, field(&first, "refresh_token")).await;

    clock.advance(Duration::seconds(31));
    let replay = refresh(&provider.base, field(&first, "refresh_token"), None).await;
    assert_invalid_grant(&replay, "already used");

    let successor = refresh(&provider.base, field(&second, "refresh_token"), None).await;
    assert_invalid_grant(&successor, "revoked");
    assert_access_token_inactive(&provider.base, field(&second, "access_token")).await;
    assert_access_token_inactive(&provider.base, field(&first, "access_token")).await;
    assert_all_revoked(&provider, field(&second, "refresh_token")).await;
}
both_databases!(
    checklist_f1_rfc9700_4_14_2_rotated_refresh_token_replayed_after_leeway_revokes_all,
    checklist_f1_rfc9700_4_14_2_rotated_refresh_token_replayed_after_leeway_revokes_all
);

/// Checklist F2: the leeway covers only the immediate predecessor of an unused token. Within 30 s, a token two
/// rotations old is a replay: `invalid_grant`, and the sign-in's tokens are revoked.
async fn checklist_f2_rfc9700_4_14_2_leeway_covers_only_the_immediate_predecessor(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);
    let first = spa_tokens(&visitor, "alice").await;
    let second = rotate(&provider, field(&first, "refresh_token")).await;
    clock.advance(Duration::seconds(5));
    let third = rotate(&provider, field(&second, "refresh_token")).await;
    clock.advance(Duration::seconds(5));

    let replay = refresh(&provider.base, field(&first, "refresh_token"), None).await;
    assert_invalid_grant(&replay, "already used");
    assert_invalid_grant(&refresh(&provider.base, field(&third, "refresh_token"), None).await, "revoked");
    assert_access_token_inactive(&provider.base, field(&third, "access_token")).await;
    assert_all_revoked(&provider, field(&third, "refresh_token")).await;
}
both_databases!(
    checklist_f2_rfc9700_4_14_2_leeway_covers_only_the_immediate_predecessor,
    checklist_f2_rfc9700_4_14_2_leeway_covers_only_the_immediate_predecessor
);

/// Checklist F3 (sequential half): within the leeway, the predecessor of a still unused token may be used again
/// (two tabs refreshing at once): 200, and nothing is revoked. Once the leeway is over, the same reuse is a
/// replay.
async fn checklist_f3_reuse_within_leeway_while_successor_unused_succeeds(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);
    let first = spa_tokens(&visitor, "alice").await;
    let second = rotate(&provider, field(&first, "refresh_token")).await;

    clock.advance(Duration::seconds(29));
    let other_tab = rotate(&provider, field(&first, "refresh_token")).await;
    assert_eq!(userinfo(&provider.base, field(&second, "access_token")).await.status, StatusCode::OK);
    assert_eq!(userinfo(&provider.base, field(&other_tab, "access_token")).await.status, StatusCode::OK);
    assert_eq!(refresh_row(&provider, field(&second, "refresh_token")).await.status, TokenStatus::Valid);
    assert_eq!(refresh_row(&provider, field(&other_tab, "refresh_token")).await.status, TokenStatus::Valid);

    clock.advance(Duration::seconds(2));
    assert_invalid_grant(&refresh(&provider.base, field(&first, "refresh_token"), None).await, "already used");
    assert_all_revoked(&provider, field(&other_tab, "refresh_token")).await;
}
both_databases!(
    checklist_f3_reuse_within_leeway_while_successor_unused_succeeds,
    checklist_f3_reuse_within_leeway_while_successor_unused_succeeds
);

/// Checklist F3 (parallel half): two refreshes with one token at the same moment (two tabs) are within the leeway,
/// since the successor of the token is unused (not even recorded yet): both succeed, with live successors. And
/// whatever happens, an answer saying "every token of this sign-in is revoked" is true when it is sent. Five
/// rounds, since the outcome depends on timing.
async fn checklist_f3_parallel_refreshes_within_leeway_both_succeed(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    for round in 1..=5 {
        let tokens = spa_tokens(&visitor, "alice").await;
        let mut tabs = tokio::task::JoinSet::new();
        for _ in 0..2 {
            let (base, refresh_token) = (provider.base.clone(), field(&tokens, "refresh_token").to_owned());
            tabs.spawn(async move { refresh(&base, &refresh_token, None).await });
        }
        let mut answers = Vec::new();
        while let Some(reply) = tabs.join_next().await {
            answers.push(reply.unwrap());
        }
        for reply in &answers {
            if reply.status != StatusCode::OK && reply.description().contains("revoked") {
                for token in authorization_tokens(&provider, field(&tokens, "refresh_token")).await {
                    assert_eq!(
                        token.status,
                        TokenStatus::Revoked,
                        "round {round}: {:?} says everything is revoked, yet {:?} {} is {:?}",
                        reply.description(),
                        token.token_type,
                        token.id,
                        token.status
                    );
                }
            }
        }
        for reply in &answers {
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "round {round}: the other tab's refresh was refused: {}",
                reply.body
            );
            let successor = refresh_row(&provider, field(&reply.json(), "refresh_token")).await;
            assert_eq!(successor.status, TokenStatus::Valid, "round {round}");
        }
    }
}
both_databases!(
    checklist_f3_parallel_refreshes_within_leeway_both_succeed,
    checklist_f3_parallel_refreshes_within_leeway_both_succeed
);

/// Checklist F4, RFC 6749 §6: the server must "ensure that the refresh token was issued to the authenticated
/// client" (another client: `invalid_grant`), and the scope "MUST NOT include any scope not originally granted"
/// (`invalid_scope` naming it). Neither refusal spends the token.
async fn checklist_f4_rfc6749_6_other_client_is_invalid_grant_wider_scope_is_invalid_scope(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    provider.add_client(spa_like("copycat", &[SPA_REDIRECT])).await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    let refresh_token = field(&tokens, "refresh_token");

    let public = [("grant_type", "refresh_token"), ("client_id", "copycat"), ("refresh_token", refresh_token)];
    assert_invalid_grant(&token(&provider.base, &public).await, "\"copycat\"");
    let confidential = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    assert_invalid_grant(&token_basic(&provider.base, CONSOLE, &confidential).await, "\"consoleclient\"");

    for (scope, names) in [
        ("openid phone", "\"phone\""),
        ("openid roles", "\"roles\""),
        ("openid profile email offline_access dataEventRecords phone", "\"phone\""),
    ] {
        let reply = refresh(&provider.base, refresh_token, Some(scope)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(reply.error(), "invalid_scope", "{}", reply.body);
        assert!(reply.description().contains(names), "{:?} should name {names}", reply.description());
    }
    assert_eq!(refresh_row(&provider, refresh_token).await.status, TokenStatus::Valid, "not spent by the refusals");

    // Narrowing is allowed.
    let narrowed = refresh(&provider.base, refresh_token, Some("openid email")).await;
    assert_eq!(narrowed.status, StatusCode::OK, "{}", narrowed.body);
    assert_eq!(narrowed.json()["scope"], "email openid");
}
both_databases!(
    checklist_f4_rfc6749_6_other_client_is_invalid_grant_wider_scope_is_invalid_scope,
    checklist_f4_rfc6749_6_other_client_is_invalid_grant_wider_scope_is_invalid_scope
);

/// Checklist F5: a password change (`portcullis users set-password`) ends everything the old password opened;
/// refreshing is `invalid_grant`, and the access tokens and the consent are revoked.
async fn checklist_f5_refresh_after_password_change_is_invalid_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    portcullis_server::admin::set_password(provider.state.store.as_ref(), "alice", "An0ther-Passw0rd!".into())
        .await
        .unwrap();

    assert_invalid_grant(&refresh(&provider.base, field(&tokens, "refresh_token"), None).await, "sign in again");
    assert_access_token_inactive(&provider.base, field(&tokens, "access_token")).await;
    let row = refresh_row(&provider, field(&tokens, "refresh_token")).await;
    let authorization =
        provider.state.store.find_authorization(row.authorization_id.as_deref().unwrap()).await.unwrap().unwrap();
    assert_eq!(authorization.status, AuthorizationStatus::Revoked);
}
both_databases!(
    checklist_f5_refresh_after_password_change_is_invalid_grant,
    checklist_f5_refresh_after_password_change_is_invalid_grant
);

/// Checklist F5, defence in depth: even if only the credentials changed (the security stamp, as a password
/// reset written by another tool would leave it) and nothing was revoked, a refresh token issued before is
/// `invalid_grant`.
async fn checklist_f5_refresh_after_security_stamp_change_is_invalid_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    let store = provider.state.store.clone();
    let alice = store.find_user_by_login("alice").await.unwrap().unwrap();
    store.set_password(&alice.id, &alice.password_hash, "a-new-security-stamp").await.unwrap();

    assert_invalid_grant(&refresh(&provider.base, field(&tokens, "refresh_token"), None).await, "credentials changed");
}
both_databases!(
    checklist_f5_refresh_after_security_stamp_change_is_invalid_grant,
    checklist_f5_refresh_after_security_stamp_change_is_invalid_grant
);

/// Checklist F5: while the user is locked out, refreshing is `invalid_grant`.
async fn checklist_f5_refresh_while_user_locked_out_is_invalid_grant(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    let store = provider.state.store.clone();
    let alice = store.find_user_by_login("alice").await.unwrap().unwrap();
    use portcullis_core::Clock as _;
    let locked = store.record_failed_login(&alice.id, clock.now(), 1, Duration::minutes(15)).await.unwrap();
    assert!(locked.is_locked_out(clock.now()));

    assert_invalid_grant(&refresh(&provider.base, field(&tokens, "refresh_token"), None).await, "may not sign in");
}
both_databases!(
    checklist_f5_refresh_while_user_locked_out_is_invalid_grant,
    checklist_f5_refresh_while_user_locked_out_is_invalid_grant
);

/// The SPA's refresh without `client_id` is a request without client authentication: 401 `invalid_client`.
async fn rfc6749_6_refresh_without_client_is_invalid_client(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    let reply =
        token(&provider.base, &[("grant_type", "refresh_token"), ("refresh_token", field(&tokens, "refresh_token"))])
            .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_client");
    assert_eq!(refresh_row(&provider, field(&tokens, "refresh_token")).await.status, TokenStatus::Valid);
}
both_databases!(rfc6749_6_refresh_without_client_is_invalid_client, rfc6749_6_refresh_without_client_is_invalid_client);
