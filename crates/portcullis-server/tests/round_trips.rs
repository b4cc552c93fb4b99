//! What one token request costs the database, counted: every call the store makes to it (one statement, or
//! one transaction of several) while the token endpoint answers one request of each grant, client
//! authentication included. The figures are the table in `docs/architecture.md`; a change that adds a round
//! trip to a grant fails here and must update both, or find another way.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::model::{AuthorizationKind, NewAuthorization};
use portcullis_core::protocol::payload::{DeviceCodePayload, Payload};
use portcullis_core::secret;
use portcullis_core::store::{DeviceApproval, DeviceConsent};
use portcullis_testkit::{
    AuthorizeRequest, CONSOLE, PASSWORD, Pkce, RoundTrips, TestDatabase, TestProvider, Visitor, both_databases, http,
    redeem, refresh, token, token_basic,
};
use reqwest::StatusCode;
use serde_json::Value;

/// The demo provider on a store that counts its round trips.
async fn counted(db: &TestDatabase) -> (TestProvider, RoundTrips) {
    let (store, trips) = db.counted_store();
    let provider = TestProvider::builder(db).seed_demo().store(store).start().await;
    trips.take();
    (provider, trips)
}

#[track_caller]
fn assert_ok(status: StatusCode, body: &str) {
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// An authorization code redemption is 3 round trips: the client, the code with its user and consent (one
/// join), and one transaction that spends the code and writes the tokens. A refresh is the same three.
async fn a_code_redemption_and_a_refresh_take_three_round_trips_each(db: TestDatabase) {
    let (provider, trips) = counted(&db).await;
    let pkce = Pkce::new();
    let code = Visitor::new(&provider.base).code(&AuthorizeRequest::spa(&pkce), "alice").await;

    trips.take();
    let redeemed = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_ok(redeemed.status, &redeemed.body);
    assert_eq!(trips.take(), 3, "authorization code redemption");

    let refresh_token = redeemed.json()["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = refresh(&provider.base, &refresh_token, None).await;
    assert_ok(refreshed.status, &refreshed.body);
    assert_eq!(trips.take(), 3, "refresh token rotation");
}
both_databases!(code_and_refresh, a_code_redemption_and_a_refresh_take_three_round_trips_each);

/// Client credentials: the client, then the ad-hoc consent and the token in one transaction. The password
/// grant adds the user's lookup and the reset of its failure count.
async fn client_credentials_take_two_round_trips_and_the_password_grant_four(db: TestDatabase) {
    let (provider, trips) = counted(&db).await;
    let machine = token_basic(&provider.base, CONSOLE, &[("grant_type", "client_credentials")]).await;
    assert_ok(machine.status, &machine.body);
    assert_eq!(trips.take(), 2, "client credentials");

    let form = [("grant_type", "password"), ("username", "alice"), ("password", PASSWORD), ("scope", "openid")];
    let signed_in = token_basic(&provider.base, CONSOLE, &form).await;
    assert_ok(signed_in.status, &signed_in.body);
    assert_eq!(trips.take(), 4, "password grant");
}
both_databases!(client_credentials_and_password, client_credentials_take_two_round_trips_and_the_password_grant_four);

/// Device code: a pending poll is the client, the code, and the poll's read and conditional update; the
/// poll of an approved code is the client, the code with its user and consent, and the one transaction.
async fn a_device_poll_takes_four_round_trips_and_its_redemption_three(db: TestDatabase) {
    let (provider, trips) = counted(&db).await;
    let response = http()
        .post(provider.url("/connect/device"))
        .form(&[("client_id", "device"), ("scope", "openid offline_access")])
        .send()
        .await
        .unwrap();
    let device: Value = response.json().await.unwrap();
    let device_code = device["device_code"].as_str().unwrap();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", "device"),
        ("device_code", device_code),
    ];

    trips.take();
    let pending = token(&provider.base, &poll).await;
    assert_eq!(pending.error(), "authorization_pending", "{}", pending.body);
    assert_eq!(trips.take(), 4, "pending device poll");

    // Alice approves, straight through the store (the verification pages are another test's subject).
    let store = db.store();
    let row = store.find_presented(&secret::digest(device_code)).await.unwrap().unwrap().token;
    let mut payload = DeviceCodePayload::read(&row).unwrap();
    let user_code = store.find_token_by_digest(&payload.user_code_digest).await.unwrap().unwrap();
    let alice = store.find_user_by_login("alice").await.unwrap().unwrap();
    let now = provider.state.clock.now();
    payload.auth_time = Some(now);
    let approval = DeviceApproval {
        device_code_id: row.id.clone(),
        user_code_id: user_code.id,
        consent: DeviceConsent::New(NewAuthorization {
            id: secret::new_id(),
            subject: alice.id,
            client_id: "device".into(),
            kind: AuthorizationKind::AdHoc,
            scopes: vec!["openid".into(), "offline_access".into()],
            created_at: now,
        }),
        payload: payload.write().unwrap(),
        now,
    };
    assert!(store.approve_device_code(approval).await.unwrap());

    trips.take();
    let redeemed = token(&provider.base, &poll).await;
    assert_ok(redeemed.status, &redeemed.body);
    assert_eq!(trips.take(), 3, "approved device code redemption");
}
both_databases!(device_code, a_device_poll_takes_four_round_trips_and_its_redemption_three);
