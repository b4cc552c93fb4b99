//! The authorization endpoint against requests that are wrong in one way each (security checklist R1, R2, R5,
//! R6, R10, P1, P2, M1, I1, O1, O2, T5), on SQLite and PostgreSQL, over HTTP.
//!
//! Until the client and its redirect URI are trusted, an error is the provider's own page and never a redirect
//! (RFC 6749 §4.1.2.1); after that, every error goes back to the client with `state` and `iss`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::Clock;
use portcullis_core::model::ClientType;
use portcullis_jose::SigningAlg;
use portcullis_server::admin::{ClientSpec, SecretChoice};
use portcullis_testkit::{
    AuthorizeRequest, Pkce, Reply, SPA_REDIRECT, TestDatabase, TestProvider, Visitor, both_databases, fixed_clock,
    fragment_param, http, jwt_parts, query_param, redeem, spa_like, spa_tokens,
};
use reqwest::StatusCode;
use time::Duration;
use url::Url;

const WEB_REDIRECT: &str = "http://localhost:5000/signin-oidc";

/// An error the provider sends back to the client: a 303 to the registered redirect URI with `error`, an
/// `error_description` naming `names`, the request's `state`, and `iss` (RFC 9207 §2). Returns the URL.
fn assert_redirected_error(reply: &Reply, issuer: &str, code: &str, names: &str) -> Url {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let url = reply.redirect_url();
    assert!(url.as_str().starts_with(SPA_REDIRECT) || url.as_str().starts_with(WEB_REDIRECT), "{url}");
    assert_eq!(query_param(&url, "error").as_deref(), Some(code), "{url}");
    let description = query_param(&url, "error_description").unwrap_or_default();
    assert!(description.contains(names), "the description {description:?} should name {names}");
    assert_eq!(query_param(&url, "state").as_deref(), Some("af0ifjsldkj"), "{url}");
    assert_eq!(query_param(&url, "iss").as_deref(), Some(issuer), "{url}");
    assert_eq!(query_param(&url, "code"), None, "{url}");
    url
}

/// A confidential web application with the authorization code grant; `pkce_exempt` as given.
fn web_client(client_id: &str, pkce_exempt: bool) -> ClientSpec {
    ClientSpec {
        client_type: ClientType::Confidential,
        pkce_exempt,
        secret: SecretChoice::Given("a-web-client-secret-of-some-length".into()),
        ..spa_like(client_id, &[WEB_REDIRECT])
    }
}

/// Checklist R1, RFC 6749 §4.1.2.1: a redirect URI the client did not register gets the provider's error
/// page (400), and the browser is never sent there.
async fn checklist_r1_rfc6749_4_1_2_1_unregistered_redirect_uri_is_an_error_page(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let request = AuthorizeRequest::spa(&Pkce::new()).with("redirect_uri", "https://evil.example/callback");
    let page = visitor.get(&request.path()).await;
    page.assert_error_page("invalid_request", "\"https://evil.example/callback\"");
    assert!(!page.body.contains("af0ifjsldkj"), "nothing of the request is reflected towards the client");

    // Signed in, it is the same: validation comes before the session.
    spa_tokens(&visitor, "alice").await;
    visitor.get(&request.path()).await.assert_error_page("invalid_request", "\"https://evil.example/callback\"");
}
both_databases!(
    checklist_r1_rfc6749_4_1_2_1_unregistered_redirect_uri_is_an_error_page,
    checklist_r1_rfc6749_4_1_2_1_unregistered_redirect_uri_is_an_error_page
);

/// Checklist R2, RFC 9700 §2.1 / §4.1.3: exact string matching. Each near miss of the registered
/// `http://localhost:4200/callback` is refused on the error page, naming the URI that was sent.
async fn checklist_r2_rfc9700_4_1_3_redirect_uri_is_matched_exactly(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    for near_miss in [
        "http://localhost:4200/callback?x=1",
        "http://localhost:4200/callback?",
        "http://localhost:4200/Callback",
        "http://LOCALHOST:4200/callback",
        "HTTP://localhost:4200/callback",
        "http://localhost:4200/callback/",
        "http://localhost:4200%2Fcallback",
        "http://localhost:4200/callback%2F",
        "http://localhost:4200/%63allback",
        "http://localhost:4200/./callback",
        "http://localhost:4200/x/../callback",
        "http://localhost:4200/..;/callback",
        "http://localhost:4200/callback/..;/",
        "http://localhost:4200/callback#",
        "http://localhost:4200:80/callback",
        "http://localhost:4201/callback",
        "http://localhost:4200@evil.example/callback",
        "https://localhost:4200/callback",
        "http://localhost:4200/callback ",
    ] {
        let request = AuthorizeRequest::spa(&Pkce::new()).with("redirect_uri", near_miss);
        let page = visitor.get(&request.path()).await;
        page.assert_error_page("invalid_request", &format!("{near_miss:?}"));
    }
    // The registered URI itself is accepted: on to the login page.
    let accepted = visitor.get(&AuthorizeRequest::spa(&Pkce::new()).path()).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    assert!(accepted.location().unwrap().starts_with("/login?"), "{:?}", accepted.location());
}
both_databases!(
    checklist_r2_rfc9700_4_1_3_redirect_uri_is_matched_exactly,
    checklist_r2_rfc9700_4_1_3_redirect_uri_is_matched_exactly
);

/// Checklist R5, RFC 6749 §4.1.2.1: "if the client identifier is missing or invalid" the user sees the error
/// and is not redirected, even to a URI that would be registered for some client.
async fn checklist_r5_rfc6749_4_1_2_1_unknown_or_missing_client_id_is_an_error_page(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let spa = AuthorizeRequest::spa(&Pkce::new());

    let unknown = visitor.get(&spa.clone().with("client_id", "nosuchclient").path()).await;
    unknown.assert_error_page("invalid_request", "\"nosuchclient\"");
    // RFC 6749 §3.1: an empty value is an absent one.
    let empty = visitor.get(&spa.clone().with("client_id", "").path()).await;
    empty.assert_error_page("invalid_request", "\"client_id\"");
    let missing = visitor.get(&spa.clone().without("client_id").path()).await;
    missing.assert_error_page("invalid_request", "\"client_id\"");
    // Client ids are compared exactly too.
    let other_case = visitor.get(&spa.with("client_id", "AngularClient").path()).await;
    other_case.assert_error_page("invalid_request", "\"AngularClient\"");
}
both_databases!(
    checklist_r5_rfc6749_4_1_2_1_unknown_or_missing_client_id_is_an_error_page,
    checklist_r5_rfc6749_4_1_2_1_unknown_or_missing_client_id_is_an_error_page
);

/// Checklist R6, RFC 6749 §3.1.2.3: "If multiple redirection URIs have been registered, [...] the client MUST
/// include a redirection URI with the authorization request". Without one, the provider cannot pick one: error
/// page naming the parameter.
async fn checklist_r6_rfc6749_3_1_2_3_several_registered_uris_and_none_sent_is_an_error_page(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let renew = "http://localhost:4200/silent-renew.html";
    provider.add_client(spa_like("twouris", &[SPA_REDIRECT, renew])).await;
    let visitor = Visitor::new(&provider.base);
    let pkce = Pkce::new();
    let request = AuthorizeRequest::for_client("twouris", SPA_REDIRECT, Some(&pkce));

    let page = visitor.get(&request.clone().without("redirect_uri").path()).await;
    page.assert_error_page("invalid_request", "\"redirect_uri\"");
    assert!(page.testid("error-description").contains("\"twouris\""));

    // Either registered URI, named, is accepted.
    for uri in [SPA_REDIRECT, renew] {
        let accepted = visitor.get(&request.clone().with("redirect_uri", uri).path()).await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{uri}: {}", accepted.body);
        assert!(accepted.location().unwrap().starts_with("/login?"), "{uri}: {:?}", accepted.location());
    }
    // The demo SPA has one URI: without redirect_uri, that one is used (RFC 6749 §3.1.2.3).
    let single = visitor.get(&AuthorizeRequest::spa(&pkce).without("redirect_uri").path()).await;
    assert_eq!(single.status, StatusCode::SEE_OTHER, "{}", single.body);
    assert!(single.location().unwrap().starts_with("/login?"));
}
both_databases!(
    checklist_r6_rfc6749_3_1_2_3_several_registered_uris_and_none_sent_is_an_error_page,
    checklist_r6_rfc6749_3_1_2_3_several_registered_uris_and_none_sent_is_an_error_page
);

/// Checklist R10, OAuth 2.0 Multiple Response Type Encoding Practices §2.1: a response mode the provider does not
/// support is refused (to the trusted redirect URI, in the default mode), naming the mode.
async fn checklist_r10_oauth_response_modes_2_1_unsupported_response_mode_is_refused(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    for mode in ["query.jwt", "web_message", "form_post.jwt", "QUERY"] {
        let request = AuthorizeRequest::spa(&Pkce::new()).with("response_mode", mode);
        let reply = visitor.get(&request.path()).await;
        let url = assert_redirected_error(&reply, &provider.base, "invalid_request", &format!("{mode:?}"));
        assert_eq!(url.fragment(), None, "the default mode of response_type=code is query: {url}");
    }
}
both_databases!(
    checklist_r10_oauth_response_modes_2_1_unsupported_response_mode_is_refused,
    checklist_r10_oauth_response_modes_2_1_unsupported_response_mode_is_refused
);

/// Checklist P1, RFC 7636 §4.4.1: a public client without `code_challenge` gets `invalid_request` at its
/// redirect URI. A confidential client needs PKCE too unless configuration exempts it.
async fn checklist_p1_rfc7636_4_4_1_missing_code_challenge_is_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    provider.add_client(web_client("webapp", false)).await;
    provider.add_client(web_client("legacyweb", true)).await;
    let visitor = Visitor::new(&provider.base);

    let spa = AuthorizeRequest::spa(&Pkce::new()).without("code_challenge").without("code_challenge_method");
    let reply = visitor.get(&spa.path()).await;
    assert_redirected_error(&reply, &provider.base, "invalid_request", "code_challenge");
    let description = query_param(&reply.redirect_url(), "error_description").unwrap();
    assert!(description.contains("\"angularclient\""), "{description}");

    // A method without a challenge is no challenge either.
    let method_only = AuthorizeRequest::spa(&Pkce::new()).without("code_challenge");
    let reply = visitor.get(&method_only.path()).await;
    assert_redirected_error(&reply, &provider.base, "invalid_request", "code_challenge");

    let web = AuthorizeRequest::for_client("webapp", WEB_REDIRECT, None);
    let reply = visitor.get(&web.path()).await;
    assert_redirected_error(&reply, &provider.base, "invalid_request", "\"webapp\"");

    // Exempted by configuration: the request goes on to the login page.
    let legacy = AuthorizeRequest::for_client("legacyweb", WEB_REDIRECT, None);
    let reply = visitor.get(&legacy.path()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(reply.location().unwrap().starts_with("/login?"), "{:?}", reply.location());
}
both_databases!(
    checklist_p1_rfc7636_4_4_1_missing_code_challenge_is_invalid_request,
    checklist_p1_rfc7636_4_4_1_missing_code_challenge_is_invalid_request
);

/// Checklist P2, RFC 7636 §4.2/§4.3: only S256 is advertised, so `plain` (also the default when the method is
/// left out) and unknown methods are `invalid_request`.
async fn checklist_p2_rfc7636_4_3_plain_or_unknown_challenge_method_is_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let pkce = Pkce::new();

    let plain =
        AuthorizeRequest::spa(&pkce).with("code_challenge", &pkce.verifier).with("code_challenge_method", "plain");
    assert_redirected_error(&visitor.get(&plain.path()).await, &provider.base, "invalid_request", "S256");
    let defaulted = AuthorizeRequest::spa(&pkce).without("code_challenge_method");
    assert_redirected_error(&visitor.get(&defaulted.path()).await, &provider.base, "invalid_request", "S256");
    let unknown = AuthorizeRequest::spa(&pkce).with("code_challenge_method", "S512");
    assert_redirected_error(&visitor.get(&unknown.path()).await, &provider.base, "invalid_request", "\"S512\"");
    let lower_case = AuthorizeRequest::spa(&pkce).with("code_challenge_method", "s256");
    assert_redirected_error(&visitor.get(&lower_case.path()).await, &provider.base, "invalid_request", "\"s256\"");
    let short = AuthorizeRequest::spa(&pkce).with("code_challenge", "too-short");
    assert_redirected_error(&visitor.get(&short.path()).await, &provider.base, "invalid_request", "code_challenge");

    let discovery: serde_json::Value =
        http().get(provider.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["code_challenge_methods_supported"], serde_json::json!(["S256"]));
}
both_databases!(
    checklist_p2_rfc7636_4_3_plain_or_unknown_challenge_method_is_invalid_request,
    checklist_p2_rfc7636_4_3_plain_or_unknown_challenge_method_is_invalid_request
);

/// Checklist M1, RFC 9207 §2: `iss` is in every authorization response, success and error alike, in every
/// response mode; discovery says so.
async fn checklist_m1_rfc9207_2_every_authorization_response_carries_iss(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let issuer = provider.base.as_str();
    let visitor = Visitor::new(&provider.base);

    // Errors before any sign-in: PKCE missing, scope without openid, prompt=none without a session.
    let no_pkce = AuthorizeRequest::spa(&Pkce::new()).without("code_challenge").without("code_challenge_method");
    assert_redirected_error(&visitor.get(&no_pkce.path()).await, issuer, "invalid_request", "code_challenge");
    let no_openid = AuthorizeRequest::spa(&Pkce::new()).with("scope", "profile email");
    assert_redirected_error(&visitor.get(&no_openid.path()).await, issuer, "invalid_scope", "openid");
    let unknown_scope = AuthorizeRequest::spa(&Pkce::new()).with("scope", "openid admin");
    assert_redirected_error(&visitor.get(&unknown_scope.path()).await, issuer, "invalid_scope", "admin");
    let silent = AuthorizeRequest::spa(&Pkce::new()).with("prompt", "none");
    assert_redirected_error(&visitor.get(&silent.path()).await, issuer, "login_required", "prompt=none");
    // A request for tokens gets its error where it would look for them: the fragment.
    let implicit = AuthorizeRequest::spa(&Pkce::new()).with("response_type", "token");
    let reply = visitor.get(&implicit.path()).await;
    let url = reply.redirect_url();
    assert_eq!(fragment_param(&url, "error").as_deref(), Some("unsupported_response_type"), "{url}");
    assert_eq!(fragment_param(&url, "iss").as_deref(), Some(issuer), "{url}");

    // The user refusing consent.
    let denied_request = AuthorizeRequest::spa(&Pkce::new());
    let to_login = visitor.get(&denied_request.path()).await;
    let signed_in = visitor.sign_in_at(to_login.location().unwrap(), "alice", "Demo-Passw0rd!").await;
    let consent_page = visitor.get(signed_in.location().unwrap()).await;
    let denied = visitor.consent(&consent_page, "deny").await;
    assert_redirected_error(&denied, issuer, "access_denied", "refused");

    // Successes, in each response mode.
    let query = visitor.authorize(&AuthorizeRequest::spa(&Pkce::new()).path(), "alice").await;
    assert!(query_param(&query, "code").is_some(), "{query}");
    assert_eq!(query_param(&query, "iss").as_deref(), Some(issuer), "{query}");
    let fragment = AuthorizeRequest::spa(&Pkce::new()).with("response_mode", "fragment");
    let url = visitor.get(&fragment.path()).await.redirect_url();
    assert!(fragment_param(&url, "code").is_some(), "{url}");
    assert_eq!(fragment_param(&url, "iss").as_deref(), Some(issuer), "{url}");
    let form_post = AuthorizeRequest::spa(&Pkce::new()).with("response_mode", "form_post");
    let page = visitor.get(&form_post.path()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.hidden("code").is_empty());
    assert_eq!(page.hidden("iss"), issuer);
    let consent_again = AuthorizeRequest::spa(&Pkce::new()).with("prompt", "consent");
    let consent_page = visitor.get(&consent_again.path()).await;
    let allowed = visitor.consent(&consent_page, "allow").await.redirect_url();
    assert_eq!(query_param(&allowed, "iss").as_deref(), Some(issuer), "{allowed}");
    assert!(query_param(&allowed, "code").is_some(), "{allowed}");

    let discovery: serde_json::Value =
        http().get(provider.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["authorization_response_iss_parameter_supported"], true);
}
both_databases!(
    checklist_m1_rfc9207_2_every_authorization_response_carries_iss,
    checklist_m1_rfc9207_2_every_authorization_response_carries_iss
);

/// Checklist I1, OIDC Core §2 and §3.1.3.7, RFC 8725 §3.1: the ID token is signed RS256 (never `none`) by a
/// key named by `kid` and published in the JWKS; `iss` is the issuer exactly, `aud` the client, `nonce`
/// echoed.
async fn checklist_i1_oidc_core_3_1_3_7_id_token_is_rs256_with_kid_exact_iss_aud_and_nonce(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    let id_token = tokens["id_token"].as_str().unwrap();

    let (header, claims) = jwt_parts(id_token);
    assert_eq!(header["alg"], "RS256", "{header}");
    let kid = header["kid"].as_str().expect("a kid");
    assert!(!kid.is_empty());
    for forbidden in ["jku", "jwk", "x5u", "x5c"] {
        assert!(header.get(forbidden).is_none(), "{forbidden} in {header}");
    }
    let jwks: serde_json::Value =
        http().get(provider.url("/.well-known/jwks")).send().await.unwrap().json().await.unwrap();
    let published = jwks["keys"].as_array().unwrap().iter().find(|key| key["kid"] == kid).expect("kid in the JWKS");
    assert_eq!(published["kty"], "RSA");
    provider.state.published().keyring.verify(id_token, &[SigningAlg::Rs256]).expect("the signature verifies");

    assert_eq!(claims["iss"], provider.base.as_str(), "iss is the issuer exactly, no trailing slash");
    assert_eq!(claims["aud"], "angularclient");
    assert_eq!(claims["azp"], "angularclient");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());

    let discovery: serde_json::Value =
        http().get(provider.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
}
both_databases!(
    checklist_i1_oidc_core_3_1_3_7_id_token_is_rs256_with_kid_exact_iss_aud_and_nonce,
    checklist_i1_oidc_core_3_1_3_7_id_token_is_rs256_with_kid_exact_iss_aud_and_nonce
);

/// Checklist O1, OIDC Core §3.1.2.1 prompt=none: "The Authorization Server MUST NOT display any authentication
/// or consent user interface pages"; without a session that is `login_required`, sent to the client. With a
/// session but no consent for the scopes, `consent_required`.
async fn checklist_o1_oidc_core_3_1_2_1_prompt_none_without_session_is_login_required(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let silent = AuthorizeRequest::spa(&Pkce::new()).with("prompt", "none");
    let reply = visitor.get(&silent.path()).await;
    assert_redirected_error(&reply, &provider.base, "login_required", "prompt=none");
    assert_eq!(visitor.cookie("portcullis_session"), None, "nothing was signed in");

    // Signed in with consent to fewer scopes than asked: consent_required, no page.
    let narrow = AuthorizeRequest::spa(&Pkce::new()).with("scope", "openid");
    visitor.authorize(&narrow.path(), "alice").await;
    let wider = AuthorizeRequest::spa(&Pkce::new()).with("scope", "openid email").with("prompt", "none");
    assert_redirected_error(&visitor.get(&wider.path()).await, &provider.base, "consent_required", "prompt=none");
    // prompt=none combined with another value is refused outright (OIDC Core §3.1.2.1).
    let combined = AuthorizeRequest::spa(&Pkce::new()).with("prompt", "none login");
    assert_redirected_error(&visitor.get(&combined.path()).await, &provider.base, "invalid_request", "\"none login\"");
}
both_databases!(
    checklist_o1_oidc_core_3_1_2_1_prompt_none_without_session_is_login_required,
    checklist_o1_oidc_core_3_1_2_1_prompt_none_without_session_is_login_required
);

/// Checklist O1, OIDC Core §3.1.2.1 max_age: "If the elapsed time is greater than this value, the OP MUST
/// attempt to actively re-authenticate the End-User", and max_age=0 is prompt=login. The new ID token's
/// `auth_time` is the new sign-in's.
async fn checklist_o1_oidc_core_3_1_2_1_max_age_forces_a_new_login_with_newer_auth_time(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);
    let first = spa_tokens(&visitor, "alice").await;
    let first_auth_time = jwt_parts(first["id_token"].as_str().unwrap()).1["auth_time"].as_i64().unwrap();

    clock.advance(Duration::seconds(120));
    // A session 120 s old satisfies max_age=300: a code at once.
    let recent_enough = AuthorizeRequest::spa(&Pkce::new()).with("max_age", "300");
    let reply = visitor.get(&recent_enough.path()).await;
    assert!(reply.redirect_url().as_str().starts_with(SPA_REDIRECT), "{:?}", reply.location());
    // It does not satisfy max_age=60, nor max_age=0: back to the login page.
    for max_age in ["60", "0"] {
        let too_old = AuthorizeRequest::spa(&Pkce::new()).with("max_age", max_age);
        let reply = visitor.get(&too_old.path()).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert!(reply.location().unwrap().starts_with("/login?"), "max_age={max_age}: {:?}", reply.location());
    }

    let pkce = Pkce::new();
    let forced = AuthorizeRequest::spa(&pkce).with("max_age", "0");
    let code = visitor.code(&forced, "alice").await;
    let second = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let second_auth_time = jwt_parts(second.json()["id_token"].as_str().unwrap()).1["auth_time"].as_i64().unwrap();
    assert_eq!(second_auth_time, clock.now().unix_timestamp(), "auth_time is the new sign-in");
    assert_eq!(second_auth_time - first_auth_time, 120);
}
both_databases!(
    checklist_o1_oidc_core_3_1_2_1_max_age_forces_a_new_login_with_newer_auth_time,
    checklist_o1_oidc_core_3_1_2_1_max_age_forces_a_new_login_with_newer_auth_time
);

/// Checklist O2, RFC 6749 §3.1 ("The authorization server MUST ignore unrecognized request parameters"), §3.3
/// (scope order does not matter), OIDC Core §3.1.2.1 (GET and POST; nonce optional in the code flow): all
/// succeed, through the login and consent pages and with a session.
async fn checklist_o2_rfc6749_3_1_unknown_parameters_scope_order_post_and_no_nonce_succeed(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);

    // Signed out: the unknown parameters survive the trip through the login and consent pages.
    let pkce = Pkce::new();
    let unusual = AuthorizeRequest::spa(&pkce)
        .with("scope", "dataEventRecords offline_access email openid profile")
        .without("nonce")
        .with("x-vendor-flag", "1")
        .with("foo", "bar baz")
        .with("display", "holographic")
        .with("claims_locales", "fr-CA");
    let code = visitor.code(&unusual, "alice").await;
    let reply = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let tokens = reply.json();
    let (_, claims) = jwt_parts(tokens["id_token"].as_str().unwrap());
    assert!(claims.get("nonce").is_none(), "no nonce was sent, none is echoed: {claims}");
    let mut granted: Vec<&str> = tokens["scope"].as_str().unwrap().split(' ').collect();
    granted.sort_unstable();
    assert_eq!(granted, ["dataEventRecords", "email", "offline_access", "openid", "profile"]);

    // Signed in: the same request as a form POST.
    let pkce = Pkce::new();
    let posted = AuthorizeRequest::spa(&pkce).with("scope", "profile openid").without("nonce").with("foo", "bar");
    let reply = visitor.post("/connect/authorize", &posted.pairs()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let callback = reply.redirect_url();
    assert!(callback.as_str().starts_with(SPA_REDIRECT), "{callback}");
    assert_eq!(query_param(&callback, "state").as_deref(), Some("af0ifjsldkj"));
    let code = query_param(&callback, "code").unwrap();
    let redeemed = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_eq!(redeemed.status, StatusCode::OK, "{}", redeemed.body);
}
both_databases!(
    checklist_o2_rfc6749_3_1_unknown_parameters_scope_order_post_and_no_nonce_succeed,
    checklist_o2_rfc6749_3_1_unknown_parameters_scope_order_post_and_no_nonce_succeed
);

/// Checklist T5 at the authorization endpoint, RFC 6749 §3.1: "Request and response parameters MUST NOT be
/// included more than once." Until parsed, nothing in the request is trusted: the error page, naming it.
async fn checklist_t5_rfc6749_3_1_repeated_authorization_parameter_is_an_error_page(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let request = AuthorizeRequest::spa(&Pkce::new());
    for (name, value) in [("state", "second"), ("redirect_uri", "https://evil.example/cb"), ("scope", "openid")] {
        let page = visitor.get(&format!("{}&{name}={}", request.path(), urlencode(value))).await;
        page.assert_error_page("invalid_request", &format!("\"{name}\""));
    }
}
both_databases!(
    checklist_t5_rfc6749_3_1_repeated_authorization_parameter_is_an_error_page,
    checklist_t5_rfc6749_3_1_repeated_authorization_parameter_is_an_error_page
);

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
