//! The device authorization grant (RFC 8628) end to end on SQLite and PostgreSQL: the device authorization
//! endpoint over HTTP, the verification pages driven like a browser, and the token-endpoint grant the device
//! polls (called as the token endpoint calls it, for an authenticated client), with time from a fixed clock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::sync::Arc;

use portcullis_core::model::{Client, ClientType, ConsentType, GrantType, TokenStatus};
use portcullis_core::protocol::params::Params;
use portcullis_core::{ErrorCode, FixedClock, OAuthError, secret};
use portcullis_jose::SigningAlg;
use portcullis_server::admin::{self, ClientSpec, SecretChoice};
use portcullis_server::endpoint::token;
use portcullis_server::metadata::{DEVICE_AUTHORIZATION_PATH, DEVICE_VERIFY_PATH};
use portcullis_server::tokens::TokenResponse;
use portcullis_testkit::{Reply, TestDatabase, TestProvider, Visitor, both_databases, http};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use time::Duration;
use time::macros::datetime;

const DEVICE: &str = "device";
const PASSWORD: &str = "Demo-Passw0rd!";
const SCOPE: &str = "openid profile email offline_access dataEventRecords";
/// The same message for an unknown, an expired and a used code.
const INVALID_CODE: &str = "This code is not valid: it may have expired or already been used.";
const TOO_MANY: &str = "Too many incorrect codes.";

/// A provider on a fresh demo database whose time stands still until the test moves it.
async fn start(db: &TestDatabase) -> (TestProvider, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(datetime!(2026-11-01 12:00 UTC)));
    let provider = TestProvider::builder(db).seed_demo().clock(clock.clone()).start().await;
    (provider, clock)
}

/// RFC 8628 §3.2 device authorization response.
#[derive(Debug, Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

/// `POST /connect/device` as a public client, with `scope` unless `None`.
async fn device_authorization_request(
    provider: &TestProvider,
    client_id: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("client_id", client_id)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    http().post(provider.url(DEVICE_AUTHORIZATION_PATH)).form(&form).send().await.unwrap()
}

async fn device_authorization(provider: &TestProvider, scope: &str) -> DeviceAuthorization {
    let response = device_authorization_request(provider, DEVICE, Some(scope)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// An RFC 6749 §5.2 error answer: its status, code and description.
async fn oauth_error(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap().to_owned(), body["error_description"].as_str().unwrap().to_owned())
}

async fn client(provider: &TestProvider, client_id: &str) -> Client {
    provider.state.store.find_client(client_id).await.unwrap().unwrap()
}

/// One poll of the token endpoint's device_code grant, by `client_id` (already authenticated).
async fn poll_as(provider: &TestProvider, client_id: &str, device_code: &str) -> Result<TokenResponse, OAuthError> {
    let client = client(provider, client_id).await;
    let params = Params::from_pairs([
        ("grant_type", GrantType::DeviceCode.as_str()),
        ("client_id", client_id),
        ("device_code", device_code),
    ])
    .unwrap();
    token::grant(&provider.state, &client, &params).await
}

async fn poll(provider: &TestProvider, device_code: &str) -> Result<TokenResponse, OAuthError> {
    poll_as(provider, DEVICE, device_code).await
}

#[track_caller]
fn assert_refused(outcome: Result<TokenResponse, OAuthError>, code: ErrorCode, names: &str) -> String {
    match outcome {
        Err(error) => {
            assert_eq!(error.code, code, "{error}");
            assert!(error.description.contains(names), "{:?} should name {names:?}", error.description);
            error.description
        }
        Ok(tokens) => panic!("expected {code}, got tokens {tokens:?}"),
    }
}

/// Signs alice in through the link the device shows, and returns the code entry page it leads back to.
async fn sign_in_at(browser: &Visitor, verification_uri_complete: &str) -> Reply {
    let entry = browser.sign_in(verification_uri_complete, "alice", PASSWORD).await;
    assert_eq!(entry.status, StatusCode::OK, "{}", entry.body);
    assert!(entry.body.contains("data-testid=\"device-code-input\""), "not the entry page: {}", entry.body);
    entry
}

/// Submits `user_code` on the entry page in front of the browser.
async fn enter_code(browser: &Visitor, entry: &Reply, user_code: &str) -> Reply {
    let csrf = entry.hidden("csrf_token");
    browser.post(DEVICE_VERIFY_PATH, &[("csrf_token", &csrf), ("user_code", user_code)]).await
}

/// Answers the confirmation page in front of the browser.
async fn answer(browser: &Visitor, confirm: &Reply, decision: &str) -> Reply {
    assert!(confirm.body.contains("data-testid=\"device-approve\""), "not the confirmation page: {}", confirm.body);
    let csrf = confirm.hidden("csrf_token");
    let user_code = confirm.hidden("user_code");
    browser.post(DEVICE_VERIFY_PATH, &[("csrf_token", &csrf), ("user_code", &user_code), ("decision", decision)]).await
}

/// alice signs in on a browser of her own, enters the code and answers.
async fn user_answers(provider: &TestProvider, device: &DeviceAuthorization, decision: &str) -> Reply {
    let browser = Visitor::new(&provider.base);
    let entry = sign_in_at(&browser, &device.verification_uri_complete).await;
    let confirm = enter_code(&browser, &entry, &device.user_code).await;
    answer(&browser, &confirm, decision).await
}

fn problem_shown(page: &Reply) -> &str {
    let at =
        page.body.find("data-testid=\"device-error\">").unwrap_or_else(|| panic!("no problem shown: {}", page.body));
    let text = &page.body[at + "data-testid=\"device-error\">".len()..];
    &text[..text.find('<').unwrap()]
}

/// RFC 8628 §3.1–3.5 end to end: codes → pending → the user signs in on the verification page, checks the code
/// and approves → the next poll (after the interval) gets an access token that works at userinfo, an ID token
/// for `openid` and a refresh token for `offline_access` that works at the token endpoint.
async fn rfc8628_3_device_flow_end_to_end(db: TestDatabase) {
    let (provider, clock) = start(&db).await;
    let response = device_authorization_request(&provider, DEVICE, Some(SCOPE)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let device: DeviceAuthorization = response.json().await.unwrap();

    // RFC 8628 §3.2 and §6.1: a high-entropy device code, a short user code of the base-20 alphabet.
    assert_eq!(device.device_code.len(), 43);
    let (first, second) = device.user_code.split_once('-').unwrap();
    assert_eq!((first.len(), second.len()), (4, 4), "{}", device.user_code);
    assert!(format!("{first}{second}").bytes().all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b)), "{}", device.user_code);
    assert_eq!(device.verification_uri, provider.url("/connect/verify"));
    assert_eq!(device.verification_uri_complete, format!("{}?user_code={}", device.verification_uri, device.user_code));
    assert_eq!((device.expires_in, device.interval), (600, 5));

    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::AuthorizationPending, "not answered yet");

    // RFC 8628 §3.3: not signed in, the link leads through the sign-in page and back, the code filled in.
    let browser = Visitor::new(&provider.base);
    let to_login = browser.get(&device.verification_uri_complete).await;
    assert_eq!(to_login.status, StatusCode::SEE_OTHER);
    assert!(to_login.location().unwrap().starts_with("/login?return_to=%2Fconnect%2Fverify%3Fuser_code%3D"));
    let entry = sign_in_at(&browser, &device.verification_uri_complete).await;
    assert_eq!(entry.hidden("user_code"), device.user_code);
    // §3.3.1: the confirmation shows the client, the scopes in words, and the code to compare with the device.
    let confirm = enter_code(&browser, &entry, &device.user_code.to_lowercase().replace('-', " ")).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("Device demo application"), "{}", confirm.body);
    assert!(confirm.body.contains("Your email address"), "{}", confirm.body);
    assert!(confirm.body.contains("Read and change your data event records"), "{}", confirm.body);
    assert!(confirm.body.contains(&format!("data-testid=\"device-user-code\">{}<", device.user_code)));
    let done = answer(&browser, &confirm, "approve").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("data-testid=\"device-done\" data-outcome=\"approved\""), "{}", done.body);

    clock.advance(Duration::seconds(5));
    let tokens = poll(&provider, &device.device_code).await.unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.scope, "dataEventRecords email offline_access openid profile");

    let (_, claims) = provider
        .state
        .published()
        .keyring
        .verify(tokens.id_token.as_deref().expect("an ID token for openid"), &[SigningAlg::Rs256])
        .unwrap();
    let alice = provider.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert_eq!(claims["sub"], alice.id.as_str());
    assert_eq!(claims["aud"], DEVICE);
    assert_eq!(claims["iss"], provider.base.as_str());
    assert!(claims.get("nonce").is_none() && claims.get("sid").is_none(), "{claims:?}");
    assert_eq!(claims["auth_time"], datetime!(2026-11-01 12:00 UTC).unix_timestamp());

    let userinfo =
        http().get(provider.url("/connect/userinfo")).bearer_auth(&tokens.access_token).send().await.unwrap();
    assert_eq!(userinfo.status(), StatusCode::OK);
    let userinfo: Value = userinfo.json().await.unwrap();
    assert_eq!(userinfo["email"], "alice@example.com");

    let refreshed = http()
        .post(provider.url("/connect/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEVICE),
            ("refresh_token", tokens.refresh_token.as_deref().expect("a refresh token for offline_access")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
}
both_databases!(end_to_end, rfc8628_3_device_flow_end_to_end);

/// RFC 8628 §3.5 / checklist D2: single use. The device code gives tokens once; a second poll is invalid_grant,
/// and does not take back the tokens of the first (it is the device retrying, not a thief).
async fn rfc8628_3_5_device_code_is_single_use(db: TestDatabase) {
    let (provider, clock) = start(&db).await;
    let device = device_authorization(&provider, SCOPE).await;
    user_answers(&provider, &device, "approve").await;
    let tokens = poll(&provider, &device.device_code).await.unwrap();
    clock.advance(Duration::seconds(5));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::InvalidGrant, "single-use");
    let refresh = secret::digest(tokens.refresh_token.as_deref().unwrap());
    let refresh = provider.state.store.find_token_by_digest(&refresh).await.unwrap().unwrap();
    assert_eq!(refresh.status, TokenStatus::Valid, "the tokens of the first poll stay valid");
}
both_databases!(single_use, rfc8628_3_5_device_code_is_single_use);

/// Checklist D1: a device code polled by another client is invalid_grant, before and after approval, and the
/// attempt leaves the device's own grant intact.
async fn checklist_d1_rfc8628_3_4_device_code_of_another_client_is_invalid_grant(db: TestDatabase) {
    let (provider, clock) = start(&db).await;
    let spec = ClientSpec {
        client_id: "tv".into(),
        client_type: ClientType::Public,
        consent_type: ConsentType::Explicit,
        display_name: Some("Another television".into()),
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        cors_origins: vec![],
        grant_types: vec![GrantType::DeviceCode, GrantType::RefreshToken],
        scopes: SCOPE.split(' ').map(str::to_owned).collect(),
        introspection: false,
        revocation: false,
        pkce_exempt: false,
        access_token_format: None,
        secret: SecretChoice::Generate,
    };
    admin::add_client(provider.state.store.as_ref(), provider.state.clock.as_ref(), spec).await.unwrap();
    let device = device_authorization(&provider, SCOPE).await;

    assert_refused(poll_as(&provider, "tv", &device.device_code).await, ErrorCode::InvalidGrant, "another client");
    user_answers(&provider, &device, "approve").await;
    assert_refused(poll_as(&provider, "tv", &device.device_code).await, ErrorCode::InvalidGrant, "another client");
    clock.advance(Duration::seconds(5));
    assert!(poll(&provider, &device.device_code).await.is_ok());
}
both_databases!(other_client, checklist_d1_rfc8628_3_4_device_code_of_another_client_is_invalid_grant);

/// RFC 8628 §3.5 access_denied / checklist D1: once the user denies, every poll is access_denied, and the code
/// cannot be approved afterwards: no token, ever.
async fn rfc8628_3_5_denied_request_is_access_denied_and_never_gives_tokens(db: TestDatabase) {
    let (provider, clock) = start(&db).await;
    let device = device_authorization(&provider, SCOPE).await;
    let browser = Visitor::new(&provider.base);
    let entry = sign_in_at(&browser, &device.verification_uri_complete).await;
    let confirm = enter_code(&browser, &entry, &device.user_code).await;
    let done = answer(&browser, &confirm, "deny").await;
    assert!(done.body.contains("data-outcome=\"denied\""), "{}", done.body);
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::AccessDenied, "denied");

    // The same confirmation page submitted again, now approving: the code is used up.
    let again = answer(&browser, &confirm, "approve").await;
    assert!(problem_shown(&again).starts_with(INVALID_CODE), "{}", again.body);
    clock.advance(Duration::seconds(30));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::AccessDenied, "denied");
    let alice = provider.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert!(provider.state.store.find_permanent_authorizations(&alice.id, DEVICE).await.unwrap().is_empty());
}
both_databases!(denied, rfc8628_3_5_denied_request_is_access_denied_and_never_gives_tokens);

/// RFC 8628 §3.5 expired_token: after `expires_in`, polls are expired_token, and the verification page says the
/// code is not valid, in the very words it uses for a code that never existed.
async fn rfc8628_3_5_expired_device_code_is_expired_token(db: TestDatabase) {
    let (provider, clock) = start(&db).await;
    let device = device_authorization(&provider, SCOPE).await;
    let browser = Visitor::new(&provider.base);
    let entry = sign_in_at(&browser, &device.verification_uri_complete).await;
    let unknown = enter_code(&browser, &entry, "BCDF-GHJK").await;

    clock.advance(Duration::seconds(600));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::ExpiredToken, "expired at");
    let expired = enter_code(&browser, &entry, &device.user_code).await;
    assert_eq!(expired.status, StatusCode::OK);
    assert!(problem_shown(&expired).starts_with(INVALID_CODE), "{}", expired.body);
    assert_eq!(problem_shown(&unknown), problem_shown(&expired), "no enumeration");
    clock.advance(Duration::seconds(60));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::ExpiredToken, "new device authorization");
}
both_databases!(expired, rfc8628_3_5_expired_device_code_is_expired_token);

/// RFC 8628 §3.5 slow_down: polling faster than the interval is slow_down, and the interval grows by 5 s for
/// that device code from then on.
async fn rfc8628_3_5_polling_too_fast_is_slow_down_and_the_interval_grows(db: TestDatabase) {
    let (provider, clock) = start(&db).await;
    let device = device_authorization(&provider, SCOPE).await;
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::AuthorizationPending, "5 seconds");
    clock.advance(Duration::seconds(1));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::SlowDown, "at least 10 seconds");
    // 5 s would have been enough before; the interval is now 10 s, counted from the last poll.
    clock.advance(Duration::seconds(5));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::SlowDown, "at least 15 seconds");
    clock.advance(Duration::seconds(15));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::AuthorizationPending, "15 seconds");
    clock.advance(Duration::seconds(15));
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::AuthorizationPending, "15 seconds");
}
both_databases!(slow_down, rfc8628_3_5_polling_too_fast_is_slow_down_and_the_interval_grows);

/// RFC 8628 §5.1 / checklist D2, U1: wrong codes are limited per user like sign-ins (5, then 15 minutes); at
/// the limit even the right code waits, and after the wait it works.
async fn rfc8628_5_1_user_code_entry_is_rate_limited(db: TestDatabase) {
    let (provider, clock) = start(&db).await;
    let device = device_authorization(&provider, SCOPE).await;
    let browser = Visitor::new(&provider.base);
    let entry = sign_in_at(&browser, &device.verification_uri_complete).await;
    for wrong in ["BCDF-GHJK", "not a code", "WDJB-MJHT", "BBBB-BBBB"] {
        let page = enter_code(&browser, &entry, wrong).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(problem_shown(&page).starts_with(INVALID_CODE), "{}", page.body);
    }
    let fifth = enter_code(&browser, &entry, "CCCC-CCCC").await;
    assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(problem_shown(&fifth).starts_with(TOO_MANY), "{}", fifth.body);
    let right = enter_code(&browser, &entry, &device.user_code).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(problem_shown(&right).starts_with(TOO_MANY));
    // Signing in again does not reset the count: it is the user's, not the session's.
    let other_browser = Visitor::new(&provider.base);
    let other_entry = sign_in_at(&other_browser, &device.verification_uri_complete).await;
    assert_eq!(enter_code(&other_browser, &other_entry, &device.user_code).await.status, StatusCode::TOO_MANY_REQUESTS);

    clock.advance(Duration::minutes(15));
    let fresh = device_authorization(&provider, SCOPE).await;
    let confirm = enter_code(&browser, &entry, &fresh.user_code).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("data-testid=\"device-approve\""));
}
both_databases!(rate_limited, rfc8628_5_1_user_code_entry_is_rate_limited);

/// RFC 8628 §3.1 with RFC 6749 §5.2: an unknown scope, a scope the client is not permitted, or no scope at all
/// is invalid_scope.
async fn rfc8628_3_1_unknown_or_missing_scope_is_invalid_scope(db: TestDatabase) {
    let (provider, _) = start(&db).await;
    let (status, error, description) =
        oauth_error(device_authorization_request(&provider, DEVICE, Some("openid admin")).await).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_REQUEST, "invalid_scope"));
    assert!(description.contains("\"admin\""), "{description}");
    let (_, error, description) = oauth_error(device_authorization_request(&provider, DEVICE, None).await).await;
    assert_eq!(error, "invalid_scope");
    assert!(description.contains("scope parameter is required"), "{description}");
}
both_databases!(invalid_scope, rfc8628_3_1_unknown_or_missing_scope_is_invalid_scope);

/// RFC 8628 §3.1 with RFC 6749 §5.2 (checklist T7): a client not permitted the device grant is
/// unauthorized_client; an unknown client is invalid_client.
async fn rfc8628_3_1_client_without_the_grant_is_unauthorized_client(db: TestDatabase) {
    let (provider, _) = start(&db).await;
    let (status, error, description) =
        oauth_error(device_authorization_request(&provider, "angularclient", Some("openid")).await).await;
    assert_eq!((status, error.as_str()), (StatusCode::BAD_REQUEST, "unauthorized_client"));
    assert!(description.contains("\"angularclient\""), "{description}");
    let (status, error, _) = oauth_error(device_authorization_request(&provider, "nobody", Some("openid")).await).await;
    assert_eq!((status, error.as_str()), (StatusCode::UNAUTHORIZED, "invalid_client"));
}
both_databases!(unauthorized_client, rfc8628_3_1_client_without_the_grant_is_unauthorized_client);

/// Checklist S2: an answer without the form's CSRF token, or with a wrong one, is 403 and approves nothing.
async fn checklist_s2_approval_without_csrf_token_is_403_and_approves_nothing(db: TestDatabase) {
    let (provider, _) = start(&db).await;
    let device = device_authorization(&provider, SCOPE).await;
    let browser = Visitor::new(&provider.base);
    let entry = sign_in_at(&browser, &device.verification_uri_complete).await;
    let confirm = enter_code(&browser, &entry, &device.user_code).await;
    let user_code = confirm.hidden("user_code");
    let missing = browser.post(DEVICE_VERIFY_PATH, &[("user_code", user_code.as_str()), ("decision", "approve")]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = browser
        .post(
            DEVICE_VERIFY_PATH,
            &[
                ("csrf_token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                ("user_code", &user_code),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_refused(poll(&provider, &device.device_code).await, ErrorCode::AuthorizationPending, "not answered");
    let row = provider.state.store.find_token_by_digest(&secret::digest(&device.device_code)).await.unwrap().unwrap();
    assert_eq!(row.status, TokenStatus::Inactive);
}
both_databases!(csrf, checklist_s2_approval_without_csrf_token_is_403_and_approves_nothing);

/// Checklist C2 for device codes: 50 parallel polls of an approved device code give tokens exactly once.
async fn rfc8628_3_5_fifty_parallel_polls_of_an_approved_code_succeed_once(db: TestDatabase) {
    let (provider, _) = start(&db).await;
    let device = device_authorization(&provider, SCOPE).await;
    user_answers(&provider, &device, "approve").await;
    let client = client(&provider, DEVICE).await;
    let contenders = 50;
    let barrier = Arc::new(tokio::sync::Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|_| {
            let state = provider.state.clone();
            let client = client.clone();
            let barrier = barrier.clone();
            let device_code = device.device_code.clone();
            tokio::spawn(async move {
                let params = Params::from_pairs([
                    ("grant_type", GrantType::DeviceCode.as_str()),
                    ("device_code", device_code.as_str()),
                ])
                .unwrap();
                barrier.wait().await;
                token::grant(&state, &client, &params).await
            })
        })
        .collect();
    let mut successes = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => successes += 1,
            Err(error) => assert_eq!(error.code, ErrorCode::InvalidGrant, "{error}"),
        }
    }
    assert_eq!(successes, 1);
}
both_databases!(parallel_polls, rfc8628_3_5_fifty_parallel_polls_of_an_approved_code_succeed_once);
