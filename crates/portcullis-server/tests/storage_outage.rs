//! Rule H3 of docs/security.md: when the storage fails, every endpoint that needs it answers 503
//! `temporarily_unavailable` with `Retry-After` (RFC 9110 §15.6.4, §10.2.3; RFC 6749 §5.2), within 2 s, and
//! never a 500 or a success that was not stored. Discovery and the JWKS are served from memory and stay up.
//!
//! The outages: every connection closed (both databases), the PostgreSQL server gone (a relay cut: connections
//! closed, new ones refused), the network dropping every packet (a relay frozen), the database dropped under
//! the provider, and writes blocked by a lock another connection holds (both databases). The 2 s are a bound on
//! a failure path, from the default `database.acquire_timeout_ms` and `database.statement_timeout_ms` (1 s
//! each), not a performance figure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use std::time::{Duration, Instant};

use portcullis_testkit::{
    API, API_SECRET, AuthorizeRequest, CONSOLE, PASSWORD, Pkce, Relay, Reply, TestDatabase, TestProvider, Visitor,
    both_databases, http, query_param, redeem, refresh, spa_tokens, token, token_basic, userinfo,
};
use reqwest::StatusCode;

/// How long a failure may take to be answered (rule H3).
const BOUND: Duration = Duration::from_secs(2);
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What the provider handed out before the outage, to present during it.
struct Before {
    /// Signed in, with a session cookie.
    browser: Visitor,
    /// Not signed in, holding the sign-in page's CSRF cookie and token.
    stranger: Visitor,
    csrf: String,
    access_token: String,
    refresh_token: String,
    id_token: String,
    /// A code not redeemed yet, and its PKCE verifier.
    code: (String, String),
    device_code: String,
    /// The console client's access token (client credentials).
    console_token: String,
}

async fn before(provider: &TestProvider) -> Before {
    let browser = Visitor::new(&provider.base);
    let tokens = spa_tokens(&browser, "alice").await;
    let pkce = Pkce::new();
    let code = browser.code(&AuthorizeRequest::spa(&pkce), "alice").await;
    let stranger = Visitor::new(&provider.base);
    let csrf = stranger.get("/login").await.hidden("csrf_token");
    let device = http()
        .post(provider.url("/connect/device"))
        .form(&[("client_id", "device"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    let device = Reply::read(device).await;
    assert_eq!(device.status, StatusCode::OK, "{}", device.body);
    let console =
        token_basic(&provider.base, CONSOLE, &[("grant_type", "client_credentials"), ("scope", "dataEventRecords")])
            .await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.body);
    let text = |value: &serde_json::Value, name: &str| value[name].as_str().unwrap().to_owned();
    Before {
        browser,
        stranger,
        csrf,
        access_token: text(&tokens, "access_token"),
        refresh_token: text(&tokens, "refresh_token"),
        id_token: text(&tokens, "id_token"),
        code: (code, pkce.verifier),
        device_code: text(&device.json(), "device_code"),
        console_token: text(&console.json(), "access_token"),
    }
}

async fn timed(request: impl Future<Output = Reply>) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = request.await;
    (reply, started.elapsed())
}

/// RFC 9110 §15.6.4: 503 with a `Retry-After` of a few seconds (§10.2.3), within [`BOUND`].
fn assert_503(what: &str, reply: &Reply, elapsed: Duration) {
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {}", reply.body);
    let retry_after: u64 = reply
        .header("retry-after")
        .unwrap_or_else(|| panic!("{what}: no Retry-After in {:?}", reply.headers))
        .parse()
        .unwrap_or_else(|_| panic!("{what}: Retry-After is not a number of seconds"));
    assert!((1..=30).contains(&retry_after), "{what}: Retry-After {retry_after}");
    assert!(elapsed < BOUND, "{what}: answered after {elapsed:?}");
}

/// A JSON endpoint: RFC 6749 §5.2 `temporarily_unavailable`.
fn assert_json_503(what: &str, reply: &Reply, elapsed: Duration) {
    assert_503(what, reply, elapsed);
    assert_eq!(reply.error(), "temporarily_unavailable", "{what}");
    assert!(!reply.body.contains("127.0.0.1") && !reply.body.contains("portcullis_t_"), "{what}: {}", reply.body);
}

/// A browser page: the provider's error page, with the 503.
fn assert_page_503(what: &str, reply: &Reply, elapsed: Duration) {
    assert_503(what, reply, elapsed);
    assert!(reply.header("content-type").unwrap().starts_with("text/html"), "{what}: {:?}", reply.headers);
    assert_eq!(reply.testid("error-code"), "temporarily_unavailable", "{what}");
    assert_eq!(reply.location(), None, "{what}: an error page never redirects");
}

/// Every endpoint that needs the storage answers 503 with `Retry-After` in time; discovery and the JWKS are
/// unaffected.
async fn every_endpoint_answers_503(provider: &TestProvider, before: &Before) {
    let base = provider.base.as_str();
    let (code, verifier) = &before.code;
    let (reply, elapsed) = timed(redeem(base, code, verifier)).await;
    assert_json_503("authorization_code grant", &reply, elapsed);
    let (reply, elapsed) = timed(refresh(base, &before.refresh_token, None)).await;
    assert_json_503("refresh_token grant", &reply, elapsed);
    let (reply, elapsed) = timed(token_basic(base, CONSOLE, &[("grant_type", "client_credentials")])).await;
    assert_json_503("client_credentials grant", &reply, elapsed);
    let password = [("grant_type", "password"), ("username", "alice"), ("password", PASSWORD)];
    let (reply, elapsed) = timed(token_basic(base, CONSOLE, &password)).await;
    assert_json_503("password grant", &reply, elapsed);
    let poll = [("grant_type", DEVICE_GRANT), ("client_id", "device"), ("device_code", before.device_code.as_str())];
    let (reply, elapsed) = timed(token(base, &poll)).await;
    assert_json_503("device_code grant", &reply, elapsed);
    let (reply, elapsed) =
        timed(post_basic(provider, "/connect/introspect", (API, API_SECRET), &before.access_token)).await;
    assert_json_503("introspection", &reply, elapsed);
    let (reply, elapsed) = timed(post_basic(provider, "/connect/revoke", CONSOLE, &before.console_token)).await;
    assert_json_503("revocation", &reply, elapsed);
    let (reply, elapsed) = timed(userinfo(base, &before.access_token)).await;
    assert_503("userinfo", &reply, elapsed);
    assert_eq!(reply.error(), "temporarily_unavailable");
    let (reply, elapsed) = timed(device_authorization(provider)).await;
    assert_json_503("device authorization endpoint", &reply, elapsed);

    let (reply, elapsed) = timed(before.browser.get(&AuthorizeRequest::spa(&Pkce::new()).path())).await;
    assert_page_503("authorization page", &reply, elapsed);
    let sign_in = [("username", "alice"), ("password", PASSWORD), ("csrf_token", before.csrf.as_str())];
    let (reply, elapsed) = timed(before.stranger.post("/login", &sign_in)).await;
    assert_page_503("sign-in form", &reply, elapsed);
    let (reply, elapsed) = timed(before.browser.get("/connect/verify")).await;
    assert_page_503("device verification page", &reply, elapsed);
    let logout = format!("/connect/logout?id_token_hint={}", before.id_token);
    let (reply, elapsed) = timed(before.browser.get(&logout)).await;
    assert_page_503("logout with id_token_hint", &reply, elapsed);

    for path in ["/.well-known/openid-configuration", "/.well-known/jwks"] {
        let (reply, elapsed) = timed(get(provider, path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.body);
        assert!(elapsed < BOUND, "{path}: {elapsed:?}");
    }
    let (reply, elapsed) = timed(get(provider, "/healthz")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
    assert!(elapsed < BOUND, "/healthz: {elapsed:?}");
}

async fn get(provider: &TestProvider, path: &str) -> Reply {
    Reply::read(http().get(provider.url(path)).send().await.unwrap()).await
}

async fn post_basic(provider: &TestProvider, path: &str, (id, secret): (&str, &str), token: &str) -> Reply {
    let request = http().post(provider.url(path)).basic_auth(id, Some(secret)).form(&[("token", token)]);
    Reply::read(request.send().await.unwrap()).await
}

async fn device_authorization(provider: &TestProvider) -> Reply {
    let request = http().post(provider.url("/connect/device")).form(&[("client_id", "device"), ("scope", "openid")]);
    Reply::read(request.send().await.unwrap()).await
}

/// H3: every connection of the provider closed under it.
async fn h3_rfc9110_15_6_4_closed_storage_is_503_with_retry_after_everywhere(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let before = before(&provider).await;
    db.database().close().await;
    every_endpoint_answers_503(&provider, &before).await;
}
both_databases!(closed_storage, h3_rfc9110_15_6_4_closed_storage_is_503_with_retry_after_everywhere);

/// A provider on `db` whose connections go through a relay the test controls.
async fn behind_relay(db: &TestDatabase) -> (TestProvider, Relay) {
    let (relay, url) = Relay::in_front_of(db.url()).await;
    let database = portcullis_store::Database::open(&url).await.unwrap();
    let provider = TestProvider::builder(db).store(database.store()).seed_demo().start().await;
    (provider, relay)
}

/// H3: the PostgreSQL server goes away (its connections closed, new ones refused). The pool tries to connect
/// again until its acquire timeout, then the request fails: not after the 5 s it used to take.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_rfc9110_15_6_4_postgres_server_gone_is_503_within_2_s() {
    let db = TestDatabase::postgres().await;
    let (provider, relay) = behind_relay(&db).await;
    let before = before(&provider).await;
    relay.cut();
    every_endpoint_answers_503(&provider, &before).await;
}

/// H3: the network to PostgreSQL drops every packet, so nothing says "refused" and every wait is a timeout:
/// the pooled connections' checks, new connections and statements all stop within the bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_rfc9110_15_6_4_postgres_network_outage_is_503_within_2_s() {
    let db = TestDatabase::postgres().await;
    let (provider, relay) = behind_relay(&db).await;
    let before = before(&provider).await;
    relay.freeze();
    every_endpoint_answers_503(&provider, &before).await;
}

/// H3: the network to PostgreSQL stops carrying anything while a statement waits on the server (here for a
/// lock): neither the server's `statement_timeout` error nor anything else can arrive, so the provider's own
/// clock ends the wait, a quarter second after the statement timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_rfc9110_15_6_4_postgres_network_lost_during_a_statement_is_503_within_2_s() {
    let db = TestDatabase::postgres().await;
    let (provider, relay) = behind_relay(&db).await;
    let before = before(&provider).await;
    let lock = db.hold_write_lock().await;
    let revoking = timed(post_basic(&provider, "/connect/revoke", CONSOLE, &before.console_token));
    let cut_off = async {
        // By then the revocation has read the client and the token, and its write waits for the lock.
        tokio::time::sleep(Duration::from_millis(500)).await;
        relay.freeze();
    };
    let ((reply, elapsed), ()) = tokio::join!(revoking, cut_off);
    assert_json_503("revocation whose statement was cut off", &reply, elapsed);
    assert!(elapsed > Duration::from_millis(1100), "not the path under test: {elapsed:?}");
    lock.release().await;
}

/// H3: the database is dropped under the provider (`DROP DATABASE … WITH (FORCE)`, which ends its connections
/// with `pg_terminate_backend`); reconnecting then fails with "database does not exist".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_rfc9110_15_6_4_postgres_database_dropped_is_503_within_2_s() {
    let db = TestDatabase::postgres().await;
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let before = before(&provider).await;
    db.drop_now().await;
    every_endpoint_answers_503(&provider, &before).await;
}

/// H3: connections ended by the server (a restart, a failover: `pg_terminate_backend`) are no outage: the
/// next requests open new connections and succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_postgres_connections_ended_by_the_server_are_replaced() {
    let db = TestDatabase::postgres().await;
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let before = before(&provider).await;
    db.terminate_connections().await;
    let reply = post_basic(&provider, "/connect/introspect", (API, API_SECRET), &before.access_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["active"], true);
}

/// H3: writes blocked by a lock another connection holds (a long migration, an administrator's open
/// transaction) fail after the statement timeout (PostgreSQL `statement_timeout`, SQLite's busy timeout) with
/// 503, and leave nothing behind: the code whose redemption failed redeems once the lock is gone. Reads go on.
/// An authorization request whose code cannot be recorded sends `temporarily_unavailable` back to the client.
async fn h3_rfc9110_15_6_4_blocked_writes_are_503_and_store_nothing(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let before = before(&provider).await;
    let base = provider.base.as_str();
    let lock = db.hold_write_lock().await;

    let (code, verifier) = &before.code;
    let (reply, elapsed) = timed(redeem(base, code, verifier)).await;
    assert_json_503("authorization_code grant", &reply, elapsed);
    let (reply, elapsed) = timed(refresh(base, &before.refresh_token, None)).await;
    assert_json_503("refresh_token grant", &reply, elapsed);
    let (reply, elapsed) = timed(token_basic(base, CONSOLE, &[("grant_type", "client_credentials")])).await;
    assert_json_503("client_credentials grant", &reply, elapsed);
    let password = [("grant_type", "password"), ("username", "alice"), ("password", PASSWORD)];
    let (reply, elapsed) = timed(token_basic(base, CONSOLE, &password)).await;
    assert_json_503("password grant", &reply, elapsed);
    let poll = [("grant_type", DEVICE_GRANT), ("client_id", "device"), ("device_code", before.device_code.as_str())];
    let (reply, elapsed) = timed(token(base, &poll)).await;
    assert_json_503("device_code grant", &reply, elapsed);
    let (reply, elapsed) = timed(post_basic(&provider, "/connect/revoke", CONSOLE, &before.console_token)).await;
    assert_json_503("revocation", &reply, elapsed);
    let (reply, elapsed) = timed(device_authorization(&provider)).await;
    assert_json_503("device authorization endpoint", &reply, elapsed);
    let sign_in = [("username", "alice"), ("password", PASSWORD), ("csrf_token", before.csrf.as_str())];
    let (reply, elapsed) = timed(before.stranger.post("/login", &sign_in)).await;
    assert_page_503("sign-in form", &reply, elapsed);
    // RFC 6749 §4.1.2.1: once the client and its redirect URI are verified, the error goes back to the client,
    // as a redirect cannot carry a 503.
    let request = AuthorizeRequest::spa(&Pkce::new());
    let (reply, elapsed) = timed(before.browser.get(&request.path())).await;
    assert!(elapsed < BOUND, "authorization with a remembered consent: {elapsed:?}");
    let callback = reply.redirect_url();
    assert!(callback.as_str().starts_with(request.redirect_uri()), "{callback}");
    assert_eq!(query_param(&callback, "error").as_deref(), Some("temporarily_unavailable"), "{callback}");
    assert_eq!(query_param(&callback, "state").as_deref(), request.get("state"));
    assert_eq!(query_param(&callback, "code"), None);
    // Reads are not blocked: the provider still answers what needs no write.
    let reply = userinfo(base, &before.access_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    lock.release().await;
    let reply = redeem(base, code, verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "the failed redemption spent the code: {}", reply.body);
    let reply = post_basic(&provider, "/connect/introspect", (API, API_SECRET), &before.console_token).await;
    assert_eq!(reply.json()["active"], true, "the failed revocation was stored: {}", reply.body);
    let reply = token_basic(base, CONSOLE, &[("grant_type", "client_credentials")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}
both_databases!(blocked_writes, h3_rfc9110_15_6_4_blocked_writes_are_503_and_store_nothing);

/// H3: a statement that fails for a reason no retry cures (here the schema is not what the provider expects)
/// is a fault of the provider, not an outage: 500 `server_error`, without `Retry-After`.
async fn h3_a_statement_that_cannot_succeed_is_500_not_503(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let before = before(&provider).await;
    db.execute("ALTER TABLE tokens RENAME TO tokens_elsewhere").await;
    let reply = post_basic(&provider, "/connect/introspect", (API, API_SECRET), &before.console_token).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", reply.body);
    assert_eq!(reply.error(), "server_error");
    assert_eq!(reply.header("retry-after"), None);
    assert!(!reply.body.contains("tokens"), "the detail stays in the logs: {}", reply.body);
}
both_databases!(broken_schema, h3_a_statement_that_cannot_succeed_is_500_not_503);
