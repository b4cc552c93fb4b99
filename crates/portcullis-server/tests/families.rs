//! Token families on SQLite and PostgreSQL, over HTTP: every sign-in (here, alice in two browsers with the
//! demo SPA, which share one remembered consent) is a family of its own. A family has one live refresh token
//! whatever the concurrency (checklist F7); a second tab renewing with the token its first tab just rotated
//! gets the same successor (F8); and a replay or a revocation ends that sign-in and not the other (V5).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::model::{Token, TokenStatus, TokenType};
use portcullis_core::secret;
use portcullis_testkit::{
    AuthorizeRequest, Pkce, SPA, TestDatabase, TestProvider, Visitor, assert_access_token_inactive, both_databases,
    fixed_clock, http, redeem, refresh, spa_tokens, userinfo,
};
use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;

fn field<'v>(response: &'v Value, name: &str) -> &'v str {
    response[name].as_str().unwrap_or_else(|| panic!("no {name} in {response}"))
}

/// The rows of the family `refresh_token` belongs to.
async fn family(provider: &TestProvider, refresh_token: &str) -> Vec<Token> {
    let store = &provider.state.store;
    let row = store.find_token_by_digest(&secret::digest(refresh_token)).await.unwrap().expect("a row");
    let family = row.family_id.clone().expect("refresh tokens belong to a family");
    let all = store.list_tokens_of_authorization(row.authorization_id.as_deref().unwrap()).await.unwrap();
    all.into_iter().filter(|token| token.family_id.as_deref() == Some(family.as_str())).collect()
}

/// Alice signed in to the SPA in two browsers: two sign-ins under one remembered consent.
async fn two_browsers(provider: &TestProvider) -> (Value, Value) {
    let first = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let second = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    (first, second)
}

/// The other browser's sign-in is untouched: its access token works, and it renews.
async fn assert_still_signed_in(provider: &TestProvider, tokens: &Value) {
    assert_eq!(userinfo(&provider.base, field(tokens, "access_token")).await.status, StatusCode::OK);
    let renewed = refresh(&provider.base, field(tokens, "refresh_token"), None).await;
    assert_eq!(renewed.status, StatusCode::OK, "the other sign-in must renew: {}", renewed.body);
}

async fn assert_signed_out(provider: &TestProvider, tokens: &Value) {
    assert_access_token_inactive(&provider.base, field(tokens, "access_token")).await;
    let renewed = refresh(&provider.base, field(tokens, "refresh_token"), None).await;
    assert_eq!(renewed.status, StatusCode::BAD_REQUEST, "{}", renewed.body);
}

/// Checklist V5 with C1: a code replayed after its redemption ends the sign-in it started, not the user's
/// sign-in in another browser with the same client.
async fn checklist_v5_a_code_replay_ends_that_sign_in_only(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let other = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let pkce = Pkce::new();
    let code = Visitor::new(&provider.base).code(&AuthorizeRequest::spa(&pkce), "alice").await;
    let first = redeem(&provider.base, &code, &pkce.verifier).await.json();
    clock.advance(Duration::seconds(3));
    let replay = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_eq!(replay.error(), "invalid_grant", "{}", replay.body);
    assert_signed_out(&provider, &first).await;
    assert_still_signed_in(&provider, &other).await;
}
both_databases!(code_replay, checklist_v5_a_code_replay_ends_that_sign_in_only);

/// Checklist V5 with F1: a refresh token reused after the leeway ends its sign-in only.
async fn checklist_v5_a_refresh_token_replay_ends_that_sign_in_only(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let (first, other) = two_browsers(&provider).await;
    let rotated = refresh(&provider.base, field(&first, "refresh_token"), None).await.json();
    clock.advance(Duration::seconds(31));
    let replay = refresh(&provider.base, field(&first, "refresh_token"), None).await;
    assert_eq!(replay.error(), "invalid_grant", "{}", replay.body);
    assert_signed_out(&provider, &rotated).await;
    assert_still_signed_in(&provider, &other).await;
}
both_databases!(refresh_replay, checklist_v5_a_refresh_token_replay_ends_that_sign_in_only);

/// Checklist V5 with V2, RFC 7009 §2.1: revoking a refresh token (the SPA signing out in one browser) ends
/// the tokens of that sign-in, and the other browser stays signed in.
async fn checklist_v5_revoking_a_refresh_token_ends_that_sign_in_only(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let (first, other) = two_browsers(&provider).await;
    let response = http()
        .post(provider.url("/connect/revoke"))
        .form(&[("client_id", SPA), ("token", field(&first, "refresh_token")), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_signed_out(&provider, &first).await;
    assert_still_signed_in(&provider, &other).await;
}
both_databases!(revocation, checklist_v5_revoking_a_refresh_token_ends_that_sign_in_only);

/// Checklists F7 and F8, RFC 9700 §4.14.2: one refresh token presented 50 times at once (tabs, retries)
/// gives one successor — every success carries the same refresh token — and the family keeps exactly one live
/// refresh token, which renews again; no request is refused, so no tab is signed out.
async fn checklist_f7_f8_fifty_parallel_refreshes_leave_one_live_chain(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let tokens = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let presented = field(&tokens, "refresh_token").to_owned();
    let mut tabs = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (base, presented) = (provider.base.clone(), presented.clone());
        tabs.spawn(async move { refresh(&base, &presented, None).await });
    }
    let mut successors = Vec::new();
    let mut access_tokens = Vec::new();
    while let Some(reply) = tabs.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        successors.push(field(&reply.json(), "refresh_token").to_owned());
        access_tokens.push(field(&reply.json(), "access_token").to_owned());
    }
    successors.dedup();
    assert_eq!(successors.len(), 1, "every tab got the same successor");
    let live: Vec<Token> = family(&provider, &presented)
        .await
        .into_iter()
        .filter(|token| token.token_type == TokenType::RefreshToken && token.status == TokenStatus::Valid)
        .collect();
    assert_eq!(live.len(), 1, "one live refresh token in the family: {live:?}");
    assert_eq!(live[0].reference_digest.as_deref(), Some(secret::digest(&successors[0]).as_str()));
    for access_token in access_tokens.iter().take(3) {
        assert_eq!(userinfo(&provider.base, access_token).await.status, StatusCode::OK);
    }
    let next = refresh(&provider.base, &successors[0], None).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
}
both_databases!(parallel_chain, checklist_f7_f8_fifty_parallel_refreshes_leave_one_live_chain);

/// Checklist F8 in sequence: a tab renewing with the token another tab rotated 29 s earlier gets that same
/// successor back; the successor renews normally afterwards, and the original token is then a replay.
async fn checklist_f8_a_second_tab_within_the_leeway_gets_the_same_successor(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let tokens = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let first_tab = refresh(&provider.base, field(&tokens, "refresh_token"), None).await.json();
    clock.advance(Duration::seconds(29));
    let second_tab = refresh(&provider.base, field(&tokens, "refresh_token"), None).await.json();
    assert_eq!(field(&second_tab, "refresh_token"), field(&first_tab, "refresh_token"));
    assert_ne!(field(&second_tab, "access_token"), field(&first_tab, "access_token"));
    for tab in [&first_tab, &second_tab] {
        assert_eq!(userinfo(&provider.base, field(tab, "access_token")).await.status, StatusCode::OK);
    }
    // The sealed successor is forgotten once the leeway is over; the chain goes on.
    clock.advance(Duration::seconds(2));
    let forgotten = portcullis_server::prune::forget_successors(&provider.state).await.unwrap();
    assert_eq!(forgotten, 1);
    let renewed = refresh(&provider.base, field(&first_tab, "refresh_token"), None).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.body);
    let replay = refresh(&provider.base, field(&tokens, "refresh_token"), None).await;
    assert_eq!(replay.error(), "invalid_grant", "{}", replay.body);
    assert_signed_out(&provider, &renewed.json()).await;
}
both_databases!(second_tab, checklist_f8_a_second_tab_within_the_leeway_gets_the_same_successor);

/// Checklist V5, RP-Initiated Logout 1.0 §2: the relying party signing the user out with its ID token as
/// `id_token_hint` ends that sign-in's tokens; the same user's other browser stays signed in.
async fn checklist_v5_rp_initiated_logout_ends_that_sign_in_only(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let browser = Visitor::new(&provider.base);
    let first = spa_tokens(&browser, "alice").await;
    let other = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let logout = format!("/connect/logout?client_id={SPA}&id_token_hint={}", field(&first, "id_token"));
    let page = browser.get(&logout).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_signed_out(&provider, &first).await;
    assert_still_signed_in(&provider, &other).await;
}
both_databases!(rp_logout, checklist_v5_rp_initiated_logout_ends_that_sign_in_only);

/// Two provider instances on one database, as behind a load balancer: B opens the database again, with a pool of
/// its own, and takes A's address as its issuer, so that the tokens of one are the other's.
async fn two_instances(db: &TestDatabase) -> (TestProvider, TestProvider) {
    let a = TestProvider::builder(db).seed_demo().start().await;
    let database = portcullis_store::Database::open(db.url()).await.unwrap();
    let b = TestProvider::builder(db).store(database.store()).issuer(&a.base).start().await;
    (a, b)
}

/// Checklists C2 and F7 across instances: 50 redemptions of one code split between two instances give exactly
/// one success; then 50 refreshes with its refresh token, split the same way, all get the same successor, and
/// the family keeps one live refresh token.
async fn checklist_c2_f7_races_split_across_two_instances_leave_one_winner_and_one_chain(db: TestDatabase) {
    let (a, b) = two_instances(&db).await;
    let pkce = Pkce::new();
    let code = Visitor::new(&a.base).code(&AuthorizeRequest::spa(&pkce), "alice").await;
    let mut redemptions = tokio::task::JoinSet::new();
    for attempt in 0..50 {
        let base = if attempt % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let (code, verifier) = (code.clone(), pkce.verifier.clone());
        redemptions.spawn(async move { redeem(&base, &code, &verifier).await });
    }
    let mut winners = Vec::new();
    while let Some(reply) = redemptions.join_next().await {
        let reply = reply.unwrap();
        if reply.status == StatusCode::OK {
            winners.push(reply.json());
        } else {
            assert_eq!(reply.error(), "invalid_grant", "{}", reply.body);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one redemption may succeed");
    let presented = field(&winners[0], "refresh_token").to_owned();

    let mut tabs = tokio::task::JoinSet::new();
    for attempt in 0..50 {
        let base = if attempt % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let presented = presented.clone();
        tabs.spawn(async move { refresh(&base, &presented, None).await });
    }
    let mut successors = Vec::new();
    while let Some(reply) = tabs.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        successors.push(field(&reply.json(), "refresh_token").to_owned());
    }
    successors.dedup();
    assert_eq!(successors.len(), 1, "every request got the same successor");
    let live = family(&a, &presented)
        .await
        .into_iter()
        .filter(|token| token.token_type == TokenType::RefreshToken && token.status == TokenStatus::Valid)
        .count();
    assert_eq!(live, 1, "one live refresh token in the family");
    assert_eq!(refresh(&b.base, &successors[0], None).await.status, StatusCode::OK);
}
both_databases!(two_instances_race, checklist_c2_f7_races_split_across_two_instances_leave_one_winner_and_one_chain);
