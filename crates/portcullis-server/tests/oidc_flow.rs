//! The authorization code flow end to end, driven by a relying party nobody here wrote (the `openidconnect`
//! crate) against a provider on 127.0.0.1, with the login and consent pages answered over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};
use portcullis_testkit::{TestDatabase, TestProvider, Visitor, both_databases, query_param};

const SPA_REDIRECT: &str = "http://localhost:4200/callback";

fn rp_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// OIDC Core §3.1 with RFC 7636 and RFC 9207: discovery → authorize (PKCE + nonce) → login → consent → code
/// (with `iss`) → token → ID token verified (signature, iss, aud, nonce, at_hash) → userinfo → refresh (same
/// `auth_time`, F6) → RP-initiated logout back to the registered URI → the session is gone (prompt=none fails).
async fn oidc_core_3_1_code_flow_with_pkce_end_to_end(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let http = rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(provider.base.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new("angularclient".into()), None)
        .set_redirect_uri(RedirectUrl::new(SPA_REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("roles".into()))
        .add_scope(Scope::new("offline_access".into()))
        .add_scope(Scope::new("dataEventRecords".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Visitor::new(&provider.base);
    let consent_page = browser.sign_in(authorize_url.as_str(), "alice", "Demo-Passw0rd!").await;
    assert!(consent_page.body.contains("Angular demo application"), "{}", consent_page.body);
    let callback = browser.consent(&consent_page, "allow").await.redirect_url();
    assert!(callback.as_str().starts_with(SPA_REDIRECT), "{callback}");
    assert_eq!(query_param(&callback, "state").as_deref(), Some(state.secret().as_str()));
    assert_eq!(query_param(&callback, "iss").as_deref(), Some(provider.base.as_str()), "RFC 9207 iss");
    let code = query_param(&callback, "code").unwrap();

    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = response.id_token().expect("an ID token for the openid scope");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    let expected_hash = AccessTokenHash::from_token(
        response.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some("alice"));
    let auth_time = claims.auth_time().expect("auth_time");
    let subject = claims.subject().clone();

    let userinfo: CoreUserInfoClaims = client
        .user_info(response.access_token().clone(), Some(subject.clone()))
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(userinfo.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(userinfo.email_verified(), Some(true));

    let refresh = response.refresh_token().expect("a refresh token for offline_access");
    let refreshed = client.exchange_refresh_token(refresh).unwrap().request_async(&http).await.unwrap();
    let refreshed_id = refreshed.id_token().expect("an ID token on refresh");
    // OIDC Core §12.2: no nonce on a refreshed ID token, same sub, same original auth_time.
    let refreshed_claims = refreshed_id.claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(())).unwrap();
    assert_eq!(refreshed_claims.subject(), &subject);
    assert_eq!(refreshed_claims.auth_time(), Some(auth_time));
    assert_ne!(refreshed.refresh_token().unwrap().secret(), refresh.secret(), "refresh tokens rotate");

    // RP-Initiated Logout 1.0 §2 with a valid hint: no confirmation, back to the registered URI with state.
    let mut logout = url::Url::parse(&provider.url("/connect/logout")).unwrap();
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &id_token.to_string())
        .append_pair("post_logout_redirect_uri", "http://localhost:4200")
        .append_pair("state", "bye");
    let after = browser.get(logout.as_str()).await.redirect_url();
    assert_eq!(after.as_str(), "http://localhost:4200/?state=bye");

    // The session ended at the provider: a silent request now needs a login.
    let (silent_url, _, _) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .add_prompt(openidconnect::core::CoreAuthPrompt::None)
        .url();
    let silent = browser.get(silent_url.as_str()).await.redirect_url();
    assert_eq!(query_param(&silent, "error").as_deref(), Some("login_required"));
}
both_databases!(code_flow, oidc_core_3_1_code_flow_with_pkce_end_to_end);

/// Remembered consent (consent type `explicit`): the second sign-in skips the consent page.
async fn explicit_consent_is_remembered(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let http = rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(provider.base.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new("angularclient".into()), None)
        .set_redirect_uri(RedirectUrl::new(SPA_REDIRECT.into()).unwrap());
    let url = || {
        client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
            .url()
            .0
    };
    let browser = Visitor::new(&provider.base);
    let consent_page = browser.sign_in(url().as_str(), "bob", "Demo-Passw0rd!").await;
    let first = browser.consent(&consent_page, "allow").await.redirect_url();
    assert!(query_param(&first, "code").is_some());
    let second = browser.get(url().as_str()).await.redirect_url();
    assert!(second.as_str().starts_with(SPA_REDIRECT), "{second}");
    assert!(query_param(&second, "code").is_some(), "consent was not remembered: {second}");
}
both_databases!(remembered_consent, explicit_consent_is_remembered);

/// RFC 6749 §4.1.2.1: the user refusing consent reaches the client as access_denied, with state and iss.
async fn rfc6749_4_1_2_1_denied_consent_is_access_denied(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let http = rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(provider.base.clone()).unwrap(), &http).await.unwrap();
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new("angularclient".into()), None)
        .set_redirect_uri(RedirectUrl::new(SPA_REDIRECT.into()).unwrap());
    let (url, state, _) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let browser = Visitor::new(&provider.base);
    let consent_page = browser.sign_in(url.as_str(), "alice", "Demo-Passw0rd!").await;
    let denied = browser.consent(&consent_page, "deny").await.redirect_url();
    assert_eq!(query_param(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&denied, "state").as_deref(), Some(state.secret().as_str()));
    assert_eq!(query_param(&denied, "iss").as_deref(), Some(provider.base.as_str()));
}
both_databases!(denied_consent, rfc6749_4_1_2_1_denied_consent_is_access_denied);
