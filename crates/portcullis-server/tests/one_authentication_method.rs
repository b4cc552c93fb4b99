//! One authentication method per request (checklist H1), on SQLite and PostgreSQL, over HTTP: every endpoint
//! that authenticates clients (token, introspection, revocation, device authorization) and the userinfo
//! endpoint refuse two `Authorization` headers, or two ways of sending the same credential, with 400
//! `invalid_request`, even when each credential alone would be accepted.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_testkit::{
    API, API_SECRET, CONSOLE, Reply, TestDatabase, TestProvider, Visitor, both_databases, http, spa_tokens,
};
use reqwest::StatusCode;

/// Each endpoint that authenticates clients, with a form the console client may send to it. A request with one
/// of these forms and the console's credentials once is accepted as far as client authentication goes.
const ENDPOINTS: [(&str, &[(&str, &str)]); 4] = [
    ("/connect/token", &[("grant_type", "client_credentials"), ("scope", "dataEventRecords")]),
    ("/connect/introspect", &[("token", "not-a-token")]),
    ("/connect/revoke", &[("token", "not-a-token")]),
    ("/connect/device", &[("scope", "openid")]),
];

/// `Basic base64(id:secret)`, as reqwest writes it.
fn basic((id, secret): (&str, &str)) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

/// POSTs `form` to `path` with each of `authorization` as an `Authorization` header of its own.
async fn post(provider: &TestProvider, path: &str, authorization: &[&str], form: &[(&str, &str)]) -> Reply {
    let mut request = http().post(provider.url(path)).form(form);
    for value in authorization {
        // `header` appends: two calls send two header lines.
        request = request.header("authorization", *value);
    }
    Reply::read(request.send().await.unwrap()).await
}

/// 400 `invalid_request` whose description names `names`, and nothing issued.
#[track_caller]
fn assert_invalid_request(reply: &Reply, names: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {}", reply.body);
    assert_eq!(reply.error(), "invalid_request", "{what}: {}", reply.body);
    let description = reply.description();
    assert!(description.contains(names), "{what}: the description {description:?} should name {names:?}");
    for issued in ["access_token", "device_code", "active"] {
        assert!(reply.json().get(issued).is_none(), "{what}: {}", reply.body);
    }
}

/// The same request with the console's credentials sent once gets past client authentication: the two-header
/// refusal is not some other failure.
#[track_caller]
fn assert_authenticated(reply: &Reply, path: &str) {
    match path {
        // The console client is not allowed the device grant: refused only after it was authenticated.
        "/connect/device" => assert_eq!(reply.error(), "unauthorized_client", "{path}: {}", reply.body),
        _ => assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body),
    }
}

/// Checklist H1, RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
/// Two `Authorization` headers are refused whether they carry the same credentials, another client's, or
/// another scheme; the description says to send one.
async fn checklist_h1_rfc6749_2_3_two_authorization_headers_are_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let console = basic(CONSOLE);
    let api = basic((API, API_SECRET));
    for (path, form) in ENDPOINTS {
        assert_authenticated(&post(&provider, path, &[&console], form).await, path);
        for pair in [[console.as_str(), console.as_str()], [&console, &api], [&console, "Bearer abc"]] {
            let reply = post(&provider, path, &pair, form).await;
            assert_invalid_request(&reply, "more than one Authorization header", path);
            assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
        }
    }
}
both_databases!(
    checklist_h1_rfc6749_2_3_two_authorization_headers_are_invalid_request,
    checklist_h1_rfc6749_2_3_two_authorization_headers_are_invalid_request
);

/// Checklist H1, RFC 6749 §2.3: HTTP Basic together with a `client_secret` in the body is two methods, refused
/// even when both carry the right secret. A body `client_id` naming another client than the Basic one is
/// refused too; the same `client_id` in the body is only redundant and accepted.
async fn checklist_h1_rfc6749_2_3_basic_and_client_secret_in_body_is_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let console = basic(CONSOLE);
    let (console_id, console_secret) = CONSOLE;
    for (path, form) in ENDPOINTS {
        let with = |extra: &[(&'static str, &'static str)]| [form, extra].concat();

        let both = post(&provider, path, &[&console], &with(&[("client_secret", console_secret)])).await;
        assert_invalid_request(&both, "both in the Authorization header and in the body", path);
        let secret_and_id = with(&[("client_id", console_id), ("client_secret", console_secret)]);
        assert_invalid_request(&post(&provider, path, &[&console], &secret_and_id).await, "use only one", path);

        let other_id = post(&provider, path, &[&console], &with(&[("client_id", API)])).await;
        assert_invalid_request(&other_id, "differs from the client", path);

        let same_id = post(&provider, path, &[&console], &with(&[("client_id", console_id)])).await;
        assert_authenticated(&same_id, path);
    }
}
both_databases!(
    checklist_h1_rfc6749_2_3_basic_and_client_secret_in_body_is_invalid_request,
    checklist_h1_rfc6749_2_3_basic_and_client_secret_in_body_is_invalid_request
);

/// Checklist H1, RFC 6750 §2 ("Clients MUST NOT use more than one method to transmit the token in each
/// request") and §3.1 (invalid_request, 400): two `Authorization` headers at userinfo are refused, even with the
/// same valid token twice, and no claim is released. (The token in the header and in the body is
/// `userinfo_rules.rs::rfc6750_2_token_in_header_and_body_is_400_invalid_request`.)
async fn checklist_h1_rfc6750_2_two_authorization_headers_at_userinfo_are_invalid_request(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let tokens = spa_tokens(&Visitor::new(&provider.base), "alice").await;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
    for pair in [[bearer.as_str(), bearer.as_str()], [&bearer, &basic(CONSOLE)], [&basic(CONSOLE), &bearer]] {
        let mut request = http().get(provider.url("/connect/userinfo"));
        for value in pair {
            request = request.header("authorization", value);
        }
        let reply = Reply::read(request.send().await.unwrap()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        let challenge = reply.header("www-authenticate").unwrap();
        assert!(challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_request\""), "{challenge}");
        assert!(challenge.contains("more than one Authorization header"), "{challenge}");
        assert!(!reply.body.contains("alice"), "{}", reply.body);
    }
    let once = Reply::read(
        http().get(provider.url("/connect/userinfo")).header("authorization", &bearer).send().await.unwrap(),
    )
    .await;
    assert_eq!(once.status, StatusCode::OK, "{}", once.body);
}
both_databases!(
    checklist_h1_rfc6750_2_two_authorization_headers_at_userinfo_are_invalid_request,
    checklist_h1_rfc6750_2_two_authorization_headers_at_userinfo_are_invalid_request
);
