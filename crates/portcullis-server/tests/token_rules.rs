//! The token endpoint's authorization code grant and client authentication against requests that are wrong in
//! one way each (security checklist P3–P6, C1–C5, T1, T2, T5, T6, T7), on SQLite and PostgreSQL, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::model::{ClientType, ConsentType, TokenStatus, TokenType};
use portcullis_core::secret;
use portcullis_server::admin::{ClientSpec, SecretChoice};
use portcullis_testkit::{
    AuthorizeRequest, CONSOLE, Pkce, Reply, SPA, SPA_REDIRECT, TestDatabase, TestProvider, Visitor,
    assert_access_token_inactive, both_databases, fixed_clock, http, redeem, refresh, spa_like, token, token_basic,
    token_raw, userinfo,
};
use reqwest::StatusCode;
use time::Duration;

const WEB_REDIRECT: &str = "http://localhost:5000/signin-oidc";
const WEB_SECRET: &str = "a-web-client-secret-of-some-length";

/// RFC 6749 §5.2: a JSON error with exactly this status and code, a description naming `names`, and the
/// headers of every token endpoint answer (§5.1: no caching).
fn assert_token_error(reply: &Reply, status: StatusCode, code: &str, names: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.error(), code, "{}", reply.body);
    let description = reply.description();
    assert!(description.contains(names), "the description {description:?} should name {names}");
    assert!(reply.header("content-type").unwrap().starts_with("application/json"), "{:?}", reply.headers);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

/// Signs alice in for the SPA and returns a fresh code with its verifier.
async fn spa_code(visitor: &Visitor) -> (String, Pkce) {
    let pkce = Pkce::new();
    let code = visitor.code(&AuthorizeRequest::spa(&pkce), "alice").await;
    (code, pkce)
}

/// The row of the code `code`.
async fn code_row(provider: &TestProvider, code: &str) -> portcullis_core::model::Token {
    let row = provider.state.store.find_token_by_digest(&secret::digest(code)).await.unwrap().expect("the code row");
    assert_eq!(row.token_type, TokenType::AuthorizationCode);
    row
}

/// Checklist P3, RFC 7636 §4.6: a verifier that does not hash to the challenge is `invalid_grant`, and nothing
/// is issued.
async fn checklist_p3_rfc7636_4_6_wrong_code_verifier_is_invalid_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, _) = spa_code(&visitor).await;
    let other = Pkce::new();
    let reply = redeem(&provider.base, &code, &other.verifier).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", "code_verifier");
    assert!(reply.json().get("access_token").is_none());
    let row = code_row(&provider, &code).await;
    let tokens = provider.state.store.list_tokens_of_authorization(row.authorization_id.as_deref().unwrap()).await;
    assert!(tokens.unwrap().iter().all(|token| token.token_type == TokenType::AuthorizationCode), "nothing issued");
}
both_databases!(
    checklist_p3_rfc7636_4_6_wrong_code_verifier_is_invalid_grant,
    checklist_p3_rfc7636_4_6_wrong_code_verifier_is_invalid_grant
);

/// Checklist P4, RFC 7636 §4.5/§4.6: the authorization request sent a challenge, the token request no
/// verifier: `invalid_grant`.
async fn checklist_p4_rfc7636_4_5_challenge_sent_verifier_missing_is_invalid_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, _) = spa_code(&visitor).await;
    let form =
        [("grant_type", "authorization_code"), ("client_id", SPA), ("code", &code), ("redirect_uri", SPA_REDIRECT)];
    assert_token_error(&token(&provider.base, &form).await, StatusCode::BAD_REQUEST, "invalid_grant", "code_verifier");
    // An empty verifier is an absent one (RFC 6749 §3.1).
    let empty = [&form[..], &[("code_verifier", "")]].concat();
    assert_token_error(&token(&provider.base, &empty).await, StatusCode::BAD_REQUEST, "invalid_grant", "code_verifier");
    assert_eq!(code_row(&provider, &code).await.status, TokenStatus::Valid, "nothing was redeemed");
}
both_databases!(
    checklist_p4_rfc7636_4_5_challenge_sent_verifier_missing_is_invalid_grant,
    checklist_p4_rfc7636_4_5_challenge_sent_verifier_missing_is_invalid_grant
);

/// A confidential client exempted from PKCE by configuration, with implicit consent.
fn legacy_web_client() -> ClientSpec {
    ClientSpec {
        client_type: ClientType::Confidential,
        consent_type: ConsentType::Implicit,
        pkce_exempt: true,
        secret: SecretChoice::Given(WEB_SECRET.into()),
        ..spa_like("legacyweb", &[WEB_REDIRECT])
    }
}

/// Checklist P5, RFC 9700 §4.8.2 (PKCE downgrade): "authorization servers MUST ensure that if there was no
/// code_challenge in the authorization request, a request to the token endpoint containing a code_verifier is
/// rejected."
async fn checklist_p5_rfc9700_4_8_2_verifier_without_challenge_is_invalid_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    provider.add_client(legacy_web_client()).await;
    let visitor = Visitor::new(&provider.base);
    let request = AuthorizeRequest::for_client("legacyweb", WEB_REDIRECT, None);
    let web = ("legacyweb", WEB_SECRET);

    let code = visitor.code(&request, "alice").await;
    let verifier = Pkce::new().verifier;
    let downgraded = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", WEB_REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let reply = token_basic(&provider.base, web, &downgraded).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", "code_verifier");
    assert_eq!(code_row(&provider, &code).await.status, TokenStatus::Valid, "nothing was redeemed");

    // The exempt client without a verifier is what configuration allows.
    let code = visitor.code(&request, "alice").await;
    let plain = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", WEB_REDIRECT)];
    let reply = token_basic(&provider.base, web, &plain).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
both_databases!(
    checklist_p5_rfc9700_4_8_2_verifier_without_challenge_is_invalid_grant,
    checklist_p5_rfc9700_4_8_2_verifier_without_challenge_is_invalid_grant
);

/// Checklist P6, RFC 7636 §4.1: `code-verifier = 43*128unreserved`. Shorter, longer, or with another character:
/// refused with a description saying which.
async fn checklist_p6_rfc7636_4_1_malformed_code_verifier_is_refused(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, _) = spa_code(&visitor).await;
    for (verifier, names) in [
        ("a".repeat(42), "42 characters".to_owned()),
        ("a".repeat(129), "129 characters".to_owned()),
        (format!("{}+", "a".repeat(42)), "\"+\"".to_owned()),
        (format!("{} b", "a".repeat(42)), "\" \"".to_owned()),
        (format!("{}é", "a".repeat(42)), "\"é\"".to_owned()),
    ] {
        let reply = redeem(&provider.base, &code, &verifier).await;
        assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", &names);
    }
    // Exactly 43 and 128 characters are fine as verifiers (they only fail to match).
    for length in [43, 128] {
        let reply = redeem(&provider.base, &code, &"a".repeat(length)).await;
        assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", "does not match");
    }
    assert_eq!(code_row(&provider, &code).await.status, TokenStatus::Valid, "nothing was redeemed");
}
both_databases!(
    checklist_p6_rfc7636_4_1_malformed_code_verifier_is_refused,
    checklist_p6_rfc7636_4_1_malformed_code_verifier_is_refused
);

/// Checklist C1, RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization server
/// MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on that
/// authorization code." Once the duplicate window after the redemption is over (a second use sooner is taken
/// for requests racing for the code, C6), the first redemption's access token is refused at userinfo, its
/// refresh token at the token endpoint, and every row of that sign-in is revoked.
async fn checklist_c1_rfc6749_4_1_2_code_replay_revokes_issued_tokens(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;
    let first = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let issued = first.json();
    let access_token = issued["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&provider.base, access_token).await.status, StatusCode::OK);

    clock.advance(Duration::seconds(2));
    let replay = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_token_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant", "already used");

    assert_access_token_inactive(&provider.base, access_token).await;
    let refreshed = refresh(&provider.base, issued["refresh_token"].as_str().unwrap(), None).await;
    assert_token_error(&refreshed, StatusCode::BAD_REQUEST, "invalid_grant", "revoked");
    let row = code_row(&provider, &code).await;
    let tokens =
        provider.state.store.list_tokens_of_authorization(row.authorization_id.as_deref().unwrap()).await.unwrap();
    assert!(tokens.len() >= 4, "code, access, refresh and ID token rows: {tokens:?}");
    for token in tokens {
        assert_eq!(token.status, TokenStatus::Revoked, "{:?} {}", token.token_type, token.id);
    }
}
both_databases!(
    checklist_c1_rfc6749_4_1_2_code_replay_revokes_issued_tokens,
    checklist_c1_rfc6749_4_1_2_code_replay_revokes_issued_tokens
);

/// Checklist C2, RFC 6749 §4.1.2 ("The client MUST NOT use the authorization code more than once"): 50
/// redemptions of one code at the same moment, exactly one gets tokens, the others `invalid_grant`.
async fn checklist_c2_rfc6749_4_1_2_parallel_redemptions_of_one_code_succeed_once(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;
    let mut redemptions = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (base, code, verifier) = (provider.base.clone(), code.clone(), pkce.verifier.clone());
        redemptions.spawn(async move { redeem(&base, &code, &verifier).await });
    }
    let mut successes = 0;
    while let Some(reply) = redemptions.join_next().await {
        let reply = reply.unwrap();
        if reply.status == StatusCode::OK {
            successes += 1;
        } else {
            assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", "authorization code");
        }
    }
    assert_eq!(successes, 1, "exactly one redemption may succeed");
}
both_databases!(
    checklist_c2_rfc6749_4_1_2_parallel_redemptions_of_one_code_succeed_once,
    checklist_c2_rfc6749_4_1_2_parallel_redemptions_of_one_code_succeed_once
);

/// 50 redemptions of `code` at once: the one success's token response, after every answer is in.
async fn race(provider: &TestProvider, code: &str, verifier: &str) -> serde_json::Value {
    let mut redemptions = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (base, code, verifier) = (provider.base.clone(), code.to_owned(), verifier.to_owned());
        redemptions.spawn(async move { redeem(&base, &code, &verifier).await });
    }
    let mut winners = Vec::new();
    while let Some(reply) = redemptions.join_next().await {
        let reply = reply.unwrap();
        if reply.status == StatusCode::OK {
            winners.push(reply.json());
        }
    }
    assert_eq!(winners.len(), 1);
    winners.pop().unwrap()
}

/// Checklist C6 with C2: when redemptions of one code race, exactly one wins, and the losers are duplicates of
/// one request, not replays of a redeemed code: the winner's tokens keep working (RFC 6749 §4.1.2 lets the
/// server revoke; it does so for a replay after the duplicate window, C1). The clock stands still, so every
/// loser, however late, is inside the window. Five races, since the order depends on timing.
async fn checklist_c6_rfc6749_4_1_2_the_winner_of_a_code_race_keeps_working_tokens(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().clock(fixed_clock()).start().await;
    let visitor = Visitor::new(&provider.base);
    for round in 1..=5 {
        let (code, pkce) = spa_code(&visitor).await;
        let winner = race(&provider, &code, &pkce.verifier).await;
        let info = userinfo(&provider.base, winner["access_token"].as_str().unwrap()).await;
        assert_eq!(info.status, StatusCode::OK, "round {round}: the winner's access token was revoked: {}", info.body);
        let refreshed = refresh(&provider.base, winner["refresh_token"].as_str().unwrap(), None).await;
        assert_eq!(refreshed.status, StatusCode::OK, "round {round}: {}", refreshed.body);
    }
}
both_databases!(
    checklist_c6_rfc6749_4_1_2_the_winner_of_a_code_race_keeps_working_tokens,
    checklist_c6_rfc6749_4_1_2_the_winner_of_a_code_race_keeps_working_tokens
);

/// Checklist C3, RFC 6749 §4.1.3: the server must "ensure that the authorization code was issued to the
/// authenticated confidential client, or if the client is public, ensure that the code was issued to
/// "client_id" in the request". Another public client with the same redirect URI and the right verifier
/// still gets `invalid_grant`, and the code stays the rightful client's.
async fn checklist_c3_rfc6749_4_1_3_code_of_another_client_is_invalid_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    provider.add_client(spa_like("copycat", &[SPA_REDIRECT])).await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", "copycat"),
        ("code", &code),
        ("redirect_uri", SPA_REDIRECT),
        ("code_verifier", &pkce.verifier),
    ];
    let reply = token(&provider.base, &form).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", "\"copycat\"");
    assert_eq!(code_row(&provider, &code).await.status, TokenStatus::Valid);
    assert_eq!(redeem(&provider.base, &code, &pkce.verifier).await.status, StatusCode::OK);
}
both_databases!(
    checklist_c3_rfc6749_4_1_3_code_of_another_client_is_invalid_grant,
    checklist_c3_rfc6749_4_1_3_code_of_another_client_is_invalid_grant
);

/// Checklist C4, RFC 6749 §4.1.3: `redirect_uri` is "REQUIRED, if the "redirect_uri" parameter was included
/// in the authorization request [...] and their values MUST be identical". A different one is `invalid_grant`
/// naming it; a missing one is `invalid_request` naming the parameter.
async fn checklist_c4_rfc6749_4_1_3_different_redirect_uri_is_invalid_grant(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;
    let with_uri = |uri: &'static str| {
        [
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", code.as_str()),
            ("redirect_uri", uri),
            ("code_verifier", pkce.verifier.as_str()),
        ]
    };
    for different in
        ["http://localhost:4200/callback/", "http://localhost:4200/Callback", "http://localhost:4200/callback?x=1"]
    {
        let reply = token(&provider.base, &with_uri(different)).await;
        assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", &format!("{different:?}"));
    }
    let without: Vec<_> = with_uri(SPA_REDIRECT).into_iter().filter(|(name, _)| *name != "redirect_uri").collect();
    assert_token_error(
        &token(&provider.base, &without).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "redirect_uri",
    );
    assert_eq!(token(&provider.base, &with_uri(SPA_REDIRECT)).await.status, StatusCode::OK);
}
both_databases!(
    checklist_c4_rfc6749_4_1_3_different_redirect_uri_is_invalid_grant,
    checklist_c4_rfc6749_4_1_3_different_redirect_uri_is_invalid_grant
);

/// Checklist C5, RFC 6749 §4.1.2 ("A maximum authorization code lifetime of 10 minutes is RECOMMENDED"; the
/// provider's default is 5): once expired, `invalid_grant` saying so.
async fn checklist_c5_rfc6749_4_1_2_expired_code_is_invalid_grant(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);
    let (late, late_pkce) = spa_code(&visitor).await;
    let (in_time, in_time_pkce) = spa_code(&visitor).await;

    clock.advance(Duration::seconds(299));
    assert_eq!(redeem(&provider.base, &in_time, &in_time_pkce.verifier).await.status, StatusCode::OK);
    clock.advance(Duration::seconds(2));
    let reply = redeem(&provider.base, &late, &late_pkce.verifier).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", "expired");
}
both_databases!(
    checklist_c5_rfc6749_4_1_2_expired_code_is_invalid_grant,
    checklist_c5_rfc6749_4_1_2_expired_code_is_invalid_grant
);

/// Checklist T1, RFC 6749 §5.2 invalid_client: "The authorization server MAY return an HTTP 401 [...]. If the
/// client attempted to authenticate via the "Authorization" request header field, the authorization server
/// MUST respond with an HTTP 401 (Unauthorized) status code and include the "WWW-Authenticate" response header
/// field matching the authentication scheme used by the client." Unknown client and wrong secret read alike.
async fn checklist_t1_rfc6749_5_2_wrong_client_secret_is_401_invalid_client(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", "whatever")];

    let basic = token_basic(&provider.base, ("consoleclient", "wrong-secret"), &form).await;
    assert_token_error(&basic, StatusCode::UNAUTHORIZED, "invalid_client", "\"consoleclient\"");
    assert!(basic.header("www-authenticate").unwrap().starts_with("Basic "), "{:?}", basic.headers);

    let unknown = token_basic(&provider.base, ("nosuchclient", "wrong-secret"), &form).await;
    assert_token_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_client", "\"nosuchclient\"");
    assert!(unknown.header("www-authenticate").unwrap().starts_with("Basic "));
    assert_eq!(
        basic.description().replace("consoleclient", "X"),
        unknown.description().replace("nosuchclient", "X"),
        "an unknown client and a wrong secret are told apart by nothing"
    );

    let in_body = [&form[..], &[("client_id", "consoleclient"), ("client_secret", "wrong-secret")]].concat();
    let body = token(&provider.base, &in_body).await;
    assert_token_error(&body, StatusCode::UNAUTHORIZED, "invalid_client", "\"consoleclient\"");
    assert_eq!(body.header("www-authenticate"), None, "no Basic challenge when Basic was not used");

    // A confidential client without its secret, and a garbled Basic header, are invalid_client too.
    let no_secret = [&form[..], &[("client_id", "consoleclient")]].concat();
    assert_token_error(&token(&provider.base, &no_secret).await, StatusCode::UNAUTHORIZED, "invalid_client", "secret");
    let garbled = http()
        .post(provider.url("/connect/token"))
        .header("authorization", "Basic !!!not-base64!!!")
        .form(&form)
        .send()
        .await
        .unwrap();
    let garbled = Reply::read(garbled).await;
    assert_token_error(&garbled, StatusCode::UNAUTHORIZED, "invalid_client", "base64");
    assert!(garbled.header("www-authenticate").unwrap().starts_with("Basic "));
}
both_databases!(
    checklist_t1_rfc6749_5_2_wrong_client_secret_is_401_invalid_client,
    checklist_t1_rfc6749_5_2_wrong_client_secret_is_401_invalid_client
);

/// Checklist T2, RFC 6749 §2.3.1: the client secret "MUST NOT" be in the request URI. Refused even when right.
async fn checklist_t2_rfc6749_2_3_1_client_secret_in_query_is_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let form = "grant_type=refresh_token&refresh_token=whatever&client_id=consoleclient";
    for query in ["?client_secret=consoleClientSecret", "?client_id=consoleclient&client_secret=consoleClientSecret"] {
        let reply = token_raw(&provider.base, query, Some("application/x-www-form-urlencoded"), form).await;
        assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_request", "client_secret");
    }
}
both_databases!(
    checklist_t2_rfc6749_2_3_1_client_secret_in_query_is_invalid_request,
    checklist_t2_rfc6749_2_3_1_client_secret_in_query_is_invalid_request
);

/// Checklist T5, RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once." Each
/// repeated parameter is `invalid_request` naming it, and a repeated code is not redeemed.
async fn checklist_t5_rfc6749_3_1_repeated_token_parameter_is_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", &code),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", &pkce.verifier),
        ])
        .finish();
    for (name, value) in [
        ("code", "another-code"),
        ("grant_type", "refresh_token"),
        ("client_id", "copycat"),
        ("redirect_uri", "https://evil.example/cb"),
        ("code_verifier", ""),
    ] {
        let body =
            format!("{form}&{name}={}", url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>());
        let reply = token_raw(&provider.base, "", Some("application/x-www-form-urlencoded"), &body).await;
        assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_request", &format!("\"{name}\""));
    }
    assert_eq!(code_row(&provider, &code).await.status, TokenStatus::Valid, "no attempt redeemed the code");
}
both_databases!(
    checklist_t5_rfc6749_3_1_repeated_token_parameter_is_invalid_request,
    checklist_t5_rfc6749_3_1_repeated_token_parameter_is_invalid_request
);

/// RFC 6749 §5.1 headers and body of a token response, for this grant.
fn assert_token_response(reply: &Reply, grant: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{grant}: {}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"), "{grant}");
    assert_eq!(reply.header("cache-control"), Some("no-store"), "{grant}");
    assert_eq!(reply.header("pragma"), Some("no-cache"), "{grant}");
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer", "{grant}: {body}");
    assert!(body["access_token"].as_str().is_some_and(|token| !token.is_empty()), "{grant}: {body}");
    assert!(body["expires_in"].as_u64().is_some_and(|seconds| seconds > 0), "{grant}: {body}");
}

/// Checklist T6, RFC 6749 §5.1: "The authorization server MUST include the HTTP "Cache-Control" response header
/// field with a value of "no-store" in any response containing tokens", JSON, with `token_type`.
async fn checklist_t6_rfc6749_5_1_every_token_response_is_uncached_json_with_token_type(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;
    let redeemed = redeem(&provider.base, &code, &pkce.verifier).await;
    assert_token_response(&redeemed, "authorization_code");
    let refresh_token = redeemed.json()["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = refresh(&provider.base, &refresh_token, None).await;
    assert_token_response(&refreshed, "refresh_token");
    let narrowed = refresh(&provider.base, refreshed.json()["refresh_token"].as_str().unwrap(), Some("openid")).await;
    assert_token_response(&narrowed, "refresh_token with scope");
}
both_databases!(
    checklist_t6_rfc6749_5_1_every_token_response_is_uncached_json_with_token_type,
    checklist_t6_rfc6749_5_1_every_token_response_is_uncached_json_with_token_type
);

/// Checklist T7, RFC 6749 §5.2: `unauthorized_client` when "The authenticated client is not authorized to use
/// this authorization grant type"; `unsupported_grant_type` for one the server does not know; `grant_type`
/// missing is `invalid_request` naming it.
async fn checklist_t7_rfc6749_5_2_grant_not_permitted_is_unauthorized_client(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;

    // The console client has no authorization_code grant: not even a valid code gets it tokens.
    let console = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", SPA_REDIRECT),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    let reply = token_basic(&provider.base, CONSOLE, &console).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client", "\"consoleclient\"");
    assert!(reply.description().contains("authorization_code"), "{}", reply.description());
    assert_eq!(code_row(&provider, &code).await.status, TokenStatus::Valid);

    // The SPA has no client_credentials grant.
    let spa = [("grant_type", "client_credentials"), ("client_id", SPA)];
    let reply = token(&provider.base, &spa).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "unauthorized_client", "client_credentials");

    let unknown = [("grant_type", "urn:example:telepathy"), ("client_id", SPA)];
    let reply = token(&provider.base, &unknown).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "unsupported_grant_type", "\"urn:example:telepathy\"");

    let missing = [("client_id", SPA), ("code", code.as_str())];
    assert_token_error(
        &token(&provider.base, &missing).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "grant_type",
    );
}
both_databases!(
    checklist_t7_rfc6749_5_2_grant_not_permitted_is_unauthorized_client,
    checklist_t7_rfc6749_5_2_grant_not_permitted_is_unauthorized_client
);

/// RFC 6749 §4.1.3: the token request uses "the "application/x-www-form-urlencoded" format". JSON, plain text
/// or no Content-Type at all is `invalid_request` naming what was sent; a charset parameter is fine.
async fn rfc6749_4_1_3_token_request_that_is_not_a_form_is_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (code, pkce) = spa_code(&visitor).await;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", &code),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", &pkce.verifier),
        ])
        .finish();
    let json = serde_json::json!({"grant_type": "authorization_code", "client_id": SPA, "code": code}).to_string();
    let json_reply = token_raw(&provider.base, "", Some("application/json"), &json).await;
    assert_token_error(&json_reply, StatusCode::BAD_REQUEST, "invalid_request", "\"application/json\"");
    let text = token_raw(&provider.base, "", Some("text/plain"), &form).await;
    assert_token_error(&text, StatusCode::BAD_REQUEST, "invalid_request", "\"text/plain\"");
    let none = token_raw(&provider.base, "", None, &form).await;
    assert_token_error(&none, StatusCode::BAD_REQUEST, "invalid_request", "application/x-www-form-urlencoded");
    assert_eq!(code_row(&provider, &code).await.status, TokenStatus::Valid);

    let with_charset =
        token_raw(&provider.base, "", Some("application/x-www-form-urlencoded; charset=UTF-8"), &form).await;
    assert_eq!(with_charset.status, StatusCode::OK, "{}", with_charset.body);
}
both_databases!(
    rfc6749_4_1_3_token_request_that_is_not_a_form_is_invalid_request,
    rfc6749_4_1_3_token_request_that_is_not_a_form_is_invalid_request
);

/// The console client's well-formed request for a grant it has: whatever the answer, it is not a client
/// authentication failure (keeps T1 honest: the right secret is accepted).
async fn checklist_t1_right_secret_passes_client_authentication(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", "not-a-refresh-token")];
    let reply = token_basic(&provider.base, CONSOLE, &form).await;
    assert_token_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", "refresh token");
    let in_body = [&form[..], &[("client_id", CONSOLE.0), ("client_secret", CONSOLE.1)]].concat();
    assert_token_error(
        &token(&provider.base, &in_body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "refresh token",
    );
}
both_databases!(
    checklist_t1_right_secret_passes_client_authentication,
    checklist_t1_right_secret_passes_client_authentication
);
