//! The userinfo endpoint as a resource server (RFC 6750, checklist RS1 for the provider's own resource) and
//! the CORS answers of the browser-facing endpoints, on SQLite and PostgreSQL, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_testkit::{
    EVIL_ORIGIN, Reply, SPA_ORIGIN, TestDatabase, TestProvider, Visitor, both_databases, http, refresh, spa_tokens,
    userinfo,
};
use reqwest::{Method, StatusCode};

/// RFC 6750 §3: the error is in the `WWW-Authenticate: Bearer` challenge, with the status §3.1 gives it.
fn assert_bearer_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let challenge = reply.header("www-authenticate").unwrap_or_else(|| panic!("no challenge: {:?}", reply.headers));
    assert!(challenge.starts_with("Bearer realm=\"portcullis\""), "{challenge}");
    assert!(challenge.contains(&format!("error=\"{code}\"")), "{challenge}");
    assert!(challenge.contains("error_description=\""), "RS1: the challenge says what failed: {challenge}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

/// RFC 6750 §3.1: "If the request lacks any authentication information (e.g., the client was unaware that
/// authentication is necessary [...]), the resource server SHOULD NOT include an error code or other error
/// information."
async fn rfc6750_3_1_userinfo_without_token_is_401_with_a_bare_challenge(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let get = Reply::read(http().get(provider.url("/connect/userinfo")).send().await.unwrap()).await;
    let post = Reply::read(
        http()
            .post(provider.url("/connect/userinfo"))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .unwrap(),
    )
    .await;
    for reply in [get, post] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"portcullis\""));
    }
}
both_databases!(
    rfc6750_3_1_userinfo_without_token_is_401_with_a_bare_challenge,
    rfc6750_3_1_userinfo_without_token_is_401_with_a_bare_challenge
);

/// RFC 6750 §3.1 invalid_token: "The access token provided is expired, revoked, malformed, or invalid for other
/// reasons" → 401. An unknown value, a garbled JWE or JWS, and an ID token (RS256, not `at+jwt`: checklist RS3)
/// are all `invalid_token`; a malformed header is `invalid_request` (400).
async fn rfc6750_3_1_userinfo_with_bad_token_is_401_invalid_token(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let tokens = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let mut tampered = access_token.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for (what, bad) in [
        ("unknown reference", "not-a-token-the-provider-issued"),
        ("garbled JWE", "a.b.c.d.e"),
        ("garbled JWS", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."),
        ("tampered JWE", tampered.as_str()),
        ("ID token", tokens["id_token"].as_str().unwrap()),
        ("refresh token", tokens["refresh_token"].as_str().unwrap()),
    ] {
        let reply = userinfo(&provider.base, bad).await;
        assert_bearer_error(&reply, StatusCode::UNAUTHORIZED, "invalid_token");
        assert!(!reply.body.contains("alice"), "{what}: {}", reply.body);
    }
    let malformed = http().get(provider.url("/connect/userinfo")).header("authorization", "Bearer").send().await;
    assert_bearer_error(&Reply::read(malformed.unwrap()).await, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(userinfo(&provider.base, access_token).await.status, StatusCode::OK, "the real token works");
}
both_databases!(
    rfc6750_3_1_userinfo_with_bad_token_is_401_invalid_token,
    rfc6750_3_1_userinfo_with_bad_token_is_401_invalid_token
);

/// RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token in each request." Header and
/// form body together are `invalid_request` (400); the body alone (§2.2) is accepted.
async fn rfc6750_2_token_in_header_and_body_is_400_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let tokens = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let both = http()
        .post(provider.url("/connect/userinfo"))
        .bearer_auth(access_token)
        .form(&[("access_token", access_token)])
        .send()
        .await
        .unwrap();
    let both = Reply::read(both).await;
    assert_bearer_error(&both, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(!both.body.contains("alice@example.com"), "{}", both.body);

    let body_only =
        http().post(provider.url("/connect/userinfo")).form(&[("access_token", access_token)]).send().await.unwrap();
    let body_only = Reply::read(body_only).await;
    assert_eq!(body_only.status, StatusCode::OK, "{}", body_only.body);
    assert_eq!(body_only.json()["email"], "alice@example.com");
}
both_databases!(
    rfc6750_2_token_in_header_and_body_is_400_invalid_request,
    rfc6750_2_token_in_header_and_body_is_400_invalid_request
);

/// OIDC Core §5.3 ("The Access Token obtained from an OpenID Connect Authentication Request MUST be sent as a
/// Bearer Token") with RFC 6750 §3.1 insufficient_scope (403): an access token narrowed by a refresh to a scope
/// without `openid` does not open userinfo.
async fn rfc6750_3_1_userinfo_token_without_openid_is_403_insufficient_scope(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let tokens = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let narrowed = refresh(&provider.base, tokens["refresh_token"].as_str().unwrap(), Some("dataEventRecords")).await;
    assert_eq!(narrowed.status, StatusCode::OK, "{}", narrowed.body);
    let narrowed = narrowed.json();
    assert_eq!(narrowed["scope"], "dataEventRecords");
    assert!(narrowed.get("id_token").is_none(), "no openid, no ID token: {narrowed}");

    let reply = userinfo(&provider.base, narrowed["access_token"].as_str().unwrap()).await;
    assert_bearer_error(&reply, StatusCode::FORBIDDEN, "insufficient_scope");
    assert!(reply.header("www-authenticate").unwrap().contains("openid"));
}
both_databases!(
    rfc6750_3_1_userinfo_token_without_openid_is_403_insufficient_scope,
    rfc6750_3_1_userinfo_token_without_openid_is_403_insufficient_scope
);

/// A CORS request (`preflight` = OPTIONS with `Access-Control-Request-*`) from `origin`.
async fn cors(provider: &TestProvider, method: Method, path: &str, origin: &str, preflight: bool) -> Reply {
    let mut request = http().request(method.clone(), provider.url(path)).header("origin", origin);
    if preflight {
        request = request
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, authorization");
    } else if method == Method::POST {
        request = request.form(&[("grant_type", "authorization_code"), ("client_id", "angularclient"), ("code", "x")]);
    }
    Reply::read(request.send().await.unwrap()).await
}

/// Fetch Standard §3.2 (CORS protocol): the token and userinfo answers may be read by the browser origins
/// registered on a client (the SPA's `http://localhost:4200`), by no other; discovery and the JWKS are public
/// documents any origin may read.
async fn fetch_3_2_cors_allows_only_registered_origins_on_token_and_userinfo(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    for path in ["/connect/token", "/connect/userinfo"] {
        let preflight = cors(&provider, Method::OPTIONS, path, SPA_ORIGIN, true).await;
        assert!(preflight.status.is_success(), "{path}: {}", preflight.status);
        assert_eq!(preflight.header("access-control-allow-origin"), Some(SPA_ORIGIN), "{path}");
        let methods = preflight.header("access-control-allow-methods").unwrap_or_default().to_ascii_uppercase();
        assert!(methods.contains("POST"), "{path}: {methods}");

        let hostile = cors(&provider, Method::OPTIONS, path, EVIL_ORIGIN, true).await;
        assert_eq!(hostile.header("access-control-allow-origin"), None, "{path}");
        assert_eq!(hostile.header("access-control-allow-credentials"), None, "{path}");
    }
    let token = cors(&provider, Method::POST, "/connect/token", SPA_ORIGIN, false).await;
    assert_eq!(token.status, StatusCode::BAD_REQUEST, "{}", token.body);
    assert_eq!(token.header("access-control-allow-origin"), Some(SPA_ORIGIN), "errors are readable too");
    let stolen = cors(&provider, Method::POST, "/connect/token", EVIL_ORIGIN, false).await;
    assert_eq!(stolen.header("access-control-allow-origin"), None);
    let info = cors(&provider, Method::GET, "/connect/userinfo", EVIL_ORIGIN, false).await;
    assert_eq!(info.header("access-control-allow-origin"), None);

    for path in ["/.well-known/openid-configuration", "/.well-known/jwks"] {
        let document = cors(&provider, Method::GET, path, EVIL_ORIGIN, false).await;
        assert_eq!(document.status, StatusCode::OK, "{path}");
        assert_eq!(document.header("access-control-allow-origin"), Some("*"), "{path}");
    }
}
both_databases!(
    fetch_3_2_cors_allows_only_registered_origins_on_token_and_userinfo,
    fetch_3_2_cors_allows_only_registered_origins_on_token_and_userinfo
);
