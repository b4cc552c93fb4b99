//! The kit itself: a provider starts on each database and answers discovery under its own address; the
//! builder's choices reach it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::Clock;
use portcullis_testkit::{
    SPA, SPA_SCOPE, TestDatabase, TestProvider, Visitor, both_databases, fixed_clock, http, nowhere, spa_tokens,
};
use serde_json::Value;

async fn discovery(provider: &TestProvider) -> Value {
    let response = http().get(provider.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn a_started_provider_answers_discovery_as_its_own_issuer(db: TestDatabase) {
    let provider = TestProvider::builder(&db).start().await;
    assert!(provider.base.starts_with("http://127.0.0.1:"), "{}", provider.base);
    let document = discovery(&provider).await;
    assert_eq!(document["issuer"], provider.base.as_str());
    assert_eq!(document["token_endpoint"], provider.url("/connect/token").as_str());
}
both_databases!(discovery_on_each_database, a_started_provider_answers_discovery_as_its_own_issuer);

async fn demo_data_clock_and_configuration_reach_the_provider(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db)
        .seed_demo()
        .clock(clock.clone())
        .configure(|config| portcullis_server::config::Config { issuer: "https://id.example.test".into(), ..config })
        .start()
        .await;
    assert_eq!(discovery(&provider).await["issuer"], "https://id.example.test");
    assert!(provider.state.store.find_client(SPA).await.unwrap().is_some(), "the demo SPA is seeded");
    let now = clock.now();
    clock.advance(time::Duration::hours(1));
    assert_eq!(provider.state.clock.now(), now + time::Duration::hours(1), "the provider reads the test's clock");
}
both_databases!(builder_choices, demo_data_clock_and_configuration_reach_the_provider);

async fn the_demo_spa_signs_in_and_gets_tokens(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let tokens = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    assert_eq!(tokens["scope"].as_str().map(|scope| scope.split(' ').count()), Some(SPA_SCOPE.split(' ').count()));
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string(), "{tokens}");
    let wrong = Visitor::new(&provider.base)
        .sign_in(&portcullis_testkit::AuthorizeRequest::spa(&Default::default()).path(), "alice", "not-the-password")
        .await;
    assert_ne!(wrong.status, 303, "a wrong password signs nobody in: {}", wrong.body);
    assert!(!wrong.hidden("csrf_token").is_empty(), "the login form is shown again");
}
both_databases!(demo_sign_in, the_demo_spa_signs_in_and_gets_tokens);

#[tokio::test]
async fn nowhere_is_an_address_nothing_answers_on() {
    let base = nowhere().await;
    assert!(http().get(&base).send().await.is_err(), "{base} answered");
}
