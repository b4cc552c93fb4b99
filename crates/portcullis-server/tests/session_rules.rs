//! The provider's pages and browser session against requests that are wrong in one way each (security
//! checklist S1, S2, S4, S5, S6, U1, R8, R9), on SQLite and PostgreSQL, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

use portcullis_core::{Clock, SystemClock, secret};
use portcullis_server::config::Config;
use portcullis_server::pages::Locale;
use portcullis_testkit::{
    AuthorizeRequest, CONSOLE, CSRF_COOKIE, EVIL_ORIGIN, PASSWORD, Pkce, Reply, SESSION_COOKIE, SPA, SPA_ORIGIN,
    TestDatabase, TestProvider, Visitor, both_databases, fixed_clock, jwt_parts, query_param, spa_tokens, token_basic,
};
use reqwest::StatusCode;
use time::Duration;

const SIGNED_OUT: &str = "You are not signed in.";

/// What `GET /` says about the visitor's session.
async fn home(visitor: &Visitor) -> String {
    visitor.get("/").await.testid("message-text")
}

/// Checklist S2: the form refused as a cross-site request forgery: 403, the provider's page, no redirect, no
/// session cookie set.
fn assert_forbidden(reply: &Reply, why: &str) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{why}: {}", reply.body);
    assert_eq!(reply.location(), None, "{why}");
    assert_eq!(reply.set_cookie(SESSION_COOKIE), None, "{why}");
    reply.assert_unframeable(why);
}

/// Whether the store has a live session for the cookie value `value`.
async fn session_exists(provider: &TestProvider, value: &str) -> bool {
    provider.state.store.find_session(&secret::digest(value), SystemClock.now()).await.unwrap().is_some()
}

/// The login page for the SPA's authorization request: `(page, csrf_token, return_to)`.
async fn login_page(visitor: &Visitor) -> (Reply, String, String) {
    let to_login = visitor.get(&AuthorizeRequest::spa(&Pkce::new()).path()).await;
    let login = visitor.get(to_login.location().unwrap()).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let (csrf, return_to) = (login.hidden("csrf_token"), login.hidden("return_to"));
    (login, csrf, return_to)
}

/// Checklist S1, OWASP session fixation: the session id changes at every sign-in (a value planted before is
/// never adopted), and the previous value stops finding a session, in the store and at the endpoints.
async fn checklist_s1_session_id_is_rotated_at_sign_in(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let planted = "planted-by-an-attacker-AAAAAAAAAAAAAAAAAAAA";
    visitor.set_cookie(SESSION_COOKIE, planted);
    spa_tokens(&visitor, "alice").await;
    let first = visitor.cookie(SESSION_COOKIE).unwrap();
    assert_ne!(first, planted, "a planted session id is never adopted");
    assert!(session_exists(&provider, &first).await);

    // prompt=login: a second sign-in in the same browser.
    let again = AuthorizeRequest::spa(&Pkce::new()).with("prompt", "login");
    let to_login = visitor.get(&again.path()).await;
    assert!(to_login.location().unwrap().starts_with("/login?"), "prompt=login shows the login page");
    let signed_in = visitor.sign_in_at(to_login.location().unwrap(), "alice", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    let second = visitor.cookie(SESSION_COOKIE).unwrap();
    assert_ne!(second, first, "the session id changes at sign-in");
    assert!(!session_exists(&provider, &first).await, "the old session is gone from the store");
    assert!(session_exists(&provider, &second).await);

    // Whoever kept the old value holds nothing.
    let old = Visitor::new(&provider.base);
    old.set_cookie(SESSION_COOKIE, &first);
    assert_eq!(home(&old).await, SIGNED_OUT);
    let silent = AuthorizeRequest::spa(&Pkce::new()).with("prompt", "none");
    let reply = old.get(&silent.path()).await;
    assert_eq!(query_param(&reply.redirect_url(), "error").as_deref(), Some("login_required"));
    assert_eq!(home(&visitor).await, "You are signed in as alice.");
}
both_databases!(checklist_s1_session_id_is_rotated_at_sign_in, checklist_s1_session_id_is_rotated_at_sign_in);

/// Checklist S2 on the login form: without the CSRF token, with a wrong one, without the CSRF cookie, or sent
/// from another site (`Origin`, `Sec-Fetch-Site`), a sign-in with the right password is 403 and signs nobody in.
async fn checklist_s2_login_form_without_csrf_proof_is_403_and_signs_nobody_in(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (_, csrf, return_to) = login_page(&visitor).await;
    let credentials = [("username", "alice"), ("password", PASSWORD), ("return_to", return_to.as_str())];
    let no_token = credentials.to_vec();
    let wrong = [&credentials[..], &[("csrf_token", "not-the-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]].concat();
    let right = [&credentials[..], &[("csrf_token", csrf.as_str())]].concat();
    let same_origin = [("origin", provider.base.as_str())];

    assert_forbidden(&visitor.post_with("/login", &no_token, &same_origin).await, "no csrf_token");
    assert_forbidden(&visitor.post_with("/login", &wrong, &same_origin).await, "wrong csrf_token");
    assert_forbidden(&visitor.post_with("/login", &right, &[("origin", EVIL_ORIGIN)]).await, "Origin evil");
    let cross_site = [("sec-fetch-site", "cross-site")];
    assert_forbidden(&visitor.post_with("/login", &right, &cross_site).await, "Sec-Fetch-Site cross-site");
    // The right token without the cookie it must equal (a forged form elsewhere cannot read the cookie).
    let stranger = Visitor::new(&provider.base);
    assert_forbidden(&stranger.post("/login", &right).await, "no CSRF cookie");

    assert_eq!(visitor.cookie(SESSION_COOKIE), None);
    assert_eq!(home(&visitor).await, SIGNED_OUT);
    let alice = provider.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert_eq!(alice.failed_count, 0, "a refused form is not a sign-in attempt");

    // The same form, same-origin with its token, signs in.
    let accepted = visitor.post_with("/login", &right, &same_origin).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert!(visitor.cookie(SESSION_COOKIE).is_some());
}
both_databases!(
    checklist_s2_login_form_without_csrf_proof_is_403_and_signs_nobody_in,
    checklist_s2_login_form_without_csrf_proof_is_403_and_signs_nobody_in
);

/// Checklist S2 on the consent form: a forged "allow" is 403; no consent is recorded and no code issued.
async fn checklist_s2_consent_form_without_csrf_proof_is_403_and_issues_nothing(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let (_, csrf, return_to) = login_page(&visitor).await;
    let signed_in = visitor
        .post(
            "/login",
            &[("username", "alice"), ("password", PASSWORD), ("csrf_token", &csrf), ("return_to", &return_to)],
        )
        .await;
    let consent_page = visitor.get(signed_in.location().unwrap()).await;
    assert!(consent_page.body.contains("consent-allow"), "{}", consent_page.body);
    let request = consent_page.hidden("request");
    let token = consent_page.hidden("csrf_token");

    let same_origin = [("origin", provider.base.as_str())];
    let no_token = [("request", request.as_str()), ("decision", "allow")];
    assert_forbidden(&visitor.post_with("/consent", &no_token, &same_origin).await, "no csrf_token");
    let wrong = [("request", request.as_str()), ("decision", "allow"), ("csrf_token", "wrong")];
    assert_forbidden(&visitor.post_with("/consent", &wrong, &same_origin).await, "wrong csrf_token");
    let right = [("request", request.as_str()), ("decision", "allow"), ("csrf_token", token.as_str())];
    assert_forbidden(&visitor.post_with("/consent", &right, &[("origin", EVIL_ORIGIN)]).await, "Origin evil");
    assert_forbidden(&visitor.post_with("/consent", &right, &[("sec-fetch-site", "cross-site")]).await, "cross-site");

    let alice = provider.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    let consents = provider.state.store.find_permanent_authorizations(&alice.id, SPA).await.unwrap();
    assert!(consents.is_empty(), "no consent was recorded: {consents:?}");

    let allowed = visitor.post_with("/consent", &right, &same_origin).await;
    assert!(query_param(&allowed.redirect_url(), "code").is_some());
}
both_databases!(
    checklist_s2_consent_form_without_csrf_proof_is_403_and_issues_nothing,
    checklist_s2_consent_form_without_csrf_proof_is_403_and_issues_nothing
);

/// Checklist S2 on the logout confirmation: a forged "log out" is 403 and the session lives on.
async fn checklist_s2_logout_form_without_csrf_proof_is_403_and_keeps_the_session(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    spa_tokens(&visitor, "alice").await;
    let session = visitor.cookie(SESSION_COOKIE).unwrap();
    let confirm = visitor.get("/connect/logout").await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let token = confirm.hidden("csrf_token");

    let same_origin = [("origin", provider.base.as_str())];
    let forged = [("decision", "logout")];
    assert_forbidden(&visitor.post_with("/connect/logout", &forged, &same_origin).await, "no csrf_token");
    let wrong = [("decision", "logout"), ("csrf_token", "wrong")];
    assert_forbidden(&visitor.post_with("/connect/logout", &wrong, &same_origin).await, "wrong csrf_token");
    let right = [("decision", "logout"), ("csrf_token", token.as_str())];
    assert_forbidden(&visitor.post_with("/connect/logout", &right, &[("origin", EVIL_ORIGIN)]).await, "Origin evil");

    assert!(session_exists(&provider, &session).await);
    assert_eq!(home(&visitor).await, "You are signed in as alice.");
    let done = visitor.post_with("/connect/logout", &right, &same_origin).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(!session_exists(&provider, &session).await);
}
both_databases!(
    checklist_s2_logout_form_without_csrf_proof_is_403_and_keeps_the_session,
    checklist_s2_logout_form_without_csrf_proof_is_403_and_keeps_the_session
);

/// Checklist S4, CSP Level 3 `frame-ancestors` and RFC 7034: no page of the provider may be framed
/// (clickjacking the login, consent or logout buttons). Every kind of page the flows show is checked.
async fn checklist_s4_every_page_refuses_framing(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let mut pages: Vec<(&str, Reply)> = Vec::new();

    pages.push(("home, signed out", visitor.get("/").await));
    pages.push(("login without a flow", visitor.get("/login").await));
    let (login, csrf, return_to) = login_page(&visitor).await;
    pages.push(("login", login));
    let wrong = [("username", "alice"), ("password", "wrong"), ("csrf_token", &csrf), ("return_to", &return_to)];
    pages.push(("login, wrong password", visitor.post("/login", &wrong).await));
    pages.push(("CSRF refusal", visitor.post("/login", &[("username", "alice")]).await));
    let unregistered = AuthorizeRequest::spa(&Pkce::new()).with("redirect_uri", "https://evil.example/cb");
    pages.push(("error page", visitor.get(&unregistered.path()).await));
    let right = [("username", "alice"), ("password", PASSWORD), ("csrf_token", &csrf), ("return_to", &return_to)];
    let signed_in = visitor.post("/login", &right).await;
    let consent = visitor.get(signed_in.location().unwrap()).await;
    assert!(consent.body.contains("consent-allow"));
    visitor.consent(&consent, "allow").await;
    pages.push(("consent", consent));
    pages.push(("home, signed in", visitor.get("/").await));
    let form_post = AuthorizeRequest::spa(&Pkce::new()).with("response_mode", "form_post");
    pages.push(("form_post response", visitor.get(&form_post.path()).await));
    let confirm = visitor.get("/connect/logout").await;
    let token = confirm.hidden("csrf_token");
    pages.push(("logout confirmation", confirm));
    pages.push((
        "logout cancelled",
        visitor.post("/connect/logout", &[("decision", "cancel"), ("csrf_token", &token)]).await,
    ));
    pages
        .push(("logged out", visitor.post("/connect/logout", &[("decision", "logout"), ("csrf_token", &token)]).await));
    pages.push(("logout error", visitor.get("/connect/logout?id_token_hint=not-a-jwt").await));

    for (what, page) in &pages {
        assert!(page.header("content-type").unwrap().starts_with("text/html"), "{what}: {:?}", page.headers);
        page.assert_unframeable(what);
    }
}
both_databases!(checklist_s4_every_page_refuses_framing, checklist_s4_every_page_refuses_framing);

/// Whether a `Set-Cookie` header has the attribute `attribute` (case-insensitively, as RFC 6265 §5.2 reads).
fn has_attribute(set_cookie: &str, attribute: &str) -> bool {
    set_cookie.split(';').skip(1).any(|part| part.trim().eq_ignore_ascii_case(attribute))
}

fn assert_cookie_protected(set_cookie: &str, secure: bool) {
    assert!(has_attribute(set_cookie, "HttpOnly"), "{set_cookie}");
    assert!(has_attribute(set_cookie, "SameSite=Lax"), "{set_cookie}");
    assert!(has_attribute(set_cookie, "Path=/"), "{set_cookie}");
    assert_eq!(has_attribute(set_cookie, "Secure"), secure, "{set_cookie}");
}

/// Checklist S5, RFC 9700 §4.12: after a POST the browser is sent on with 303 (a 307 would re-post the user's
/// credentials to the client); cookies are `HttpOnly; SameSite=Lax`, and `Secure` when the issuer is https.
async fn checklist_s5_rfc9700_4_12_post_redirects_are_303_and_cookies_are_httponly_lax(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let to_login = visitor.get(&AuthorizeRequest::spa(&Pkce::new()).path()).await;
    let login = visitor.get(to_login.location().unwrap()).await;
    assert_cookie_protected(login.set_cookie(CSRF_COOKIE).expect("the CSRF cookie"), false);
    let (csrf, return_to) = (login.hidden("csrf_token"), login.hidden("return_to"));
    let signed_in = visitor
        .post(
            "/login",
            &[("username", "bob"), ("password", PASSWORD), ("csrf_token", &csrf), ("return_to", &return_to)],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_cookie_protected(signed_in.set_cookie(SESSION_COOKIE).expect("the session cookie"), false);

    let consent = visitor.get(signed_in.location().unwrap()).await;
    let allowed = visitor.consent(&consent, "allow").await;
    assert_eq!(allowed.status, StatusCode::SEE_OTHER, "consent answer");
    let posted = AuthorizeRequest::spa(&Pkce::new());
    assert_eq!(visitor.post("/connect/authorize", &posted.pairs()).await.status, StatusCode::SEE_OTHER);
    let denied = visitor.get(&AuthorizeRequest::spa(&Pkce::new()).with("prompt", "consent").path()).await;
    assert_eq!(visitor.consent(&denied, "deny").await.status, StatusCode::SEE_OTHER, "consent refusal");

    let logout = format!("/connect/logout?client_id={SPA}&post_logout_redirect_uri={SPA_ORIGIN}");
    let confirm = visitor.get(&logout).await;
    let mut fields = vec![("decision".to_owned(), "logout".to_owned())];
    for name in ["csrf_token", "client_id", "post_logout_redirect_uri"] {
        fields.push((name.to_owned(), confirm.hidden(name)));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    let signed_out = visitor.post("/connect/logout", &fields).await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER, "{}", signed_out.body);
    assert_cookie_protected(signed_out.set_cookie(SESSION_COOKIE).expect("the session cookie removed"), false);

    // Behind an https issuer (TLS ends at a proxy), the same cookies are Secure.
    let https = TestProvider::builder(&db)
        .configure(|config| Config { issuer: "https://id.example.test".into(), ..config })
        .start()
        .await;
    let page = Visitor::new(&https.base).get("/login").await;
    assert_cookie_protected(page.set_cookie(CSRF_COOKIE).expect("the CSRF cookie"), true);
}
both_databases!(
    checklist_s5_rfc9700_4_12_post_redirects_are_303_and_cookies_are_httponly_lax,
    checklist_s5_rfc9700_4_12_post_redirects_are_303_and_cookies_are_httponly_lax
);

/// Checklist S6, RP-Initiated Logout 1.0 §2 and §6: without a valid `id_token_hint` the OP "SHOULD ask the
/// End-User whether to log out": a confirmation page, no redirect, the session intact. Confirming with the
/// CSRF token signs out (server-side) and only then redirects, to the registered URI, with `state`.
async fn checklist_s6_rp_initiated_logout_2_without_hint_asks_before_signing_out(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    spa_tokens(&visitor, "alice").await;
    let session = visitor.cookie(SESSION_COOKIE).unwrap();

    let request = format!("/connect/logout?client_id={SPA}&post_logout_redirect_uri={SPA_ORIGIN}&state=bye");
    let confirm = visitor.get(&request).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert_eq!(confirm.location(), None, "no automatic redirect");
    assert!(confirm.body.contains("logout-confirm"), "{}", confirm.body);
    assert!(session_exists(&provider, &session).await, "nothing happens before the user confirms");

    // A hint for somebody else (bob) is not a hint for alice's session: confirmation too.
    let bob = spa_tokens(&Visitor::new(&provider.base), "bob").await;
    let hinted = format!("{request}&id_token_hint={}", bob["id_token"].as_str().unwrap());
    let for_bob = visitor.get(&hinted).await;
    assert_eq!(for_bob.status, StatusCode::OK, "{}", for_bob.body);
    assert_eq!(for_bob.location(), None);
    assert!(session_exists(&provider, &session).await);

    let mut fields = vec![("decision".to_owned(), "logout".to_owned())];
    for name in ["csrf_token", "client_id", "post_logout_redirect_uri", "state"] {
        fields.push((name.to_owned(), confirm.hidden(name)));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    let done = visitor.post("/connect/logout", &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("http://localhost:4200/?state=bye"));
    assert!(!session_exists(&provider, &session).await, "the session ended server-side");
    assert_eq!(home(&visitor).await, SIGNED_OUT);
}
both_databases!(
    checklist_s6_rp_initiated_logout_2_without_hint_asks_before_signing_out,
    checklist_s6_rp_initiated_logout_2_without_hint_asks_before_signing_out
);

/// Checklist R8, RP-Initiated Logout 1.0 §3: the `post_logout_redirect_uri` "MUST have been previously
/// registered with the OP"; compared exactly, and only among the named client's URIs. Otherwise: the error page,
/// no redirect.
async fn checklist_r8_rp_initiated_logout_3_unregistered_post_logout_uri_is_not_followed(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    let hint = tokens["id_token"].as_str().unwrap();
    let logout = |who: &str, uri: &str| {
        let mut url = url::Url::parse(&provider.url("/connect/logout")).unwrap();
        let mut query = url.query_pairs_mut();
        match who {
            "hint" => query.append_pair("id_token_hint", hint),
            client_id => query.append_pair("client_id", client_id),
        };
        query.append_pair("post_logout_redirect_uri", uri).append_pair("state", "bye");
        drop(query);
        url.to_string()
    };
    for (who, uri) in [
        ("hint", "https://evil.example/"),
        ("hint", "http://localhost:4200?next=https://evil.example"),
        ("hint", "http://localhost:4200/?x=1"),
        (SPA, "http://localhost:4200/callback"),
        (SPA, "http://localhost:4200/"),
        (SPA, "http://LOCALHOST:4200"),
        ("consoleclient", SPA_ORIGIN),
        ("nosuchclient", SPA_ORIGIN),
    ] {
        let page = visitor.get(&logout(who, uri)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{who} {uri}: {}", page.body);
        assert_eq!(page.location(), None, "{who} {uri}");
        assert_eq!(page.testid("error-code"), "invalid_request");
        if who != "nosuchclient" {
            assert!(page.testid("error-description").contains(&format!("{uri:?}")), "{}", page.body);
        }
    }
    // Without a client to look it up in, the URI cannot be verified either.
    let anonymous = visitor.get(&format!("/connect/logout?post_logout_redirect_uri={SPA_ORIGIN}")).await;
    assert_eq!(anonymous.status, StatusCode::BAD_REQUEST);
    assert_eq!(anonymous.location(), None);
    // The registered one, with a valid hint, is followed.
    let registered = visitor.get(&logout("hint", SPA_ORIGIN)).await;
    assert_eq!(registered.location(), Some("http://localhost:4200/?state=bye"));
}
both_databases!(
    checklist_r8_rp_initiated_logout_3_unregistered_post_logout_uri_is_not_followed,
    checklist_r8_rp_initiated_logout_3_unregistered_post_logout_uri_is_not_followed
);

/// Checklist R9, RFC 9700 §4.11 (open redirectors): the login page's `return_to` only ever leads back into the
/// provider's own flows; another site, scheme-relative or backslash tricks land on `/`.
async fn checklist_r9_rfc9700_4_11_login_return_to_another_site_is_not_followed(db: TestDatabase) {
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    for hostile in [
        "https://evil.example/",
        "//evil.example/connect/authorize?x=1",
        "/\\evil.example/",
        "https:evil.example",
        "/connect/authorize.evil.example",
        "javascript:alert(1)",
    ] {
        let visitor = Visitor::new(&provider.base);
        let encoded: String = url::form_urlencoded::byte_serialize(hostile.as_bytes()).collect();
        let page = visitor.get(&format!("/login?return_to={encoded}")).await;
        assert_eq!(page.hidden("return_to"), "/", "{hostile}");
        let csrf = page.hidden("csrf_token");
        let signed_in = visitor
            .post(
                "/login",
                &[("username", "alice"), ("password", PASSWORD), ("csrf_token", &csrf), ("return_to", hostile)],
            )
            .await;
        assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{hostile}: {}", signed_in.body);
        assert_eq!(signed_in.location(), Some("/"), "{hostile}");
    }
}
both_databases!(
    checklist_r9_rfc9700_4_11_login_return_to_another_site_is_not_followed,
    checklist_r9_rfc9700_4_11_login_return_to_another_site_is_not_followed
);

/// A sign-in attempt from a fresh login page: the answer to the POST.
async fn attempt(visitor: &Visitor, username: &str, password: &str) -> Reply {
    let page = visitor.get("/login").await;
    let csrf = page.hidden("csrf_token");
    visitor
        .post("/login", &[("username", username), ("password", password), ("csrf_token", &csrf), ("return_to", "/")])
        .await
}

/// Checklist U1 and T3: an unknown user and a wrong password get the same page but for the echoed name; after 5
/// failures the account is locked for 15 minutes: the right password then shows the lockout message (only to
/// whoever knows it) and starts no session; the lock is in the store and ends on time.
async fn checklist_u1_same_answer_for_unknown_user_and_lockout_after_5_failures(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let strings = Locale::En.strings();
    let visitor = Visitor::new(&provider.base);

    let unknown = attempt(&visitor, "mallory", "Demo-Passw0rd!").await;
    let wrong = attempt(&visitor, "alice", "not-the-password").await;
    for reply in [&unknown, &wrong] {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.testid("login-error"), strings.invalid_credentials);
        assert_eq!(reply.set_cookie(SESSION_COOKIE), None);
    }
    assert_eq!(unknown.body.replace("mallory", "NAME"), wrong.body.replace("alice", "NAME"), "indistinguishable pages");

    for _ in 2..=5 {
        assert_eq!(
            attempt(&visitor, "alice", "not-the-password").await.testid("login-error"),
            strings.invalid_credentials
        );
    }
    let alice = provider.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert!(alice.is_locked_out(clock.now()), "5 failures lock the account: {alice:?}");
    assert_eq!(alice.lockout_end.unwrap().unix_timestamp(), (clock.now() + Duration::minutes(15)).unix_timestamp());

    let locked = attempt(&visitor, "alice", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::OK);
    assert_eq!(locked.testid("login-error"), strings.locked_out);
    assert_eq!(locked.set_cookie(SESSION_COOKIE), None);
    assert_eq!(visitor.cookie(SESSION_COOKIE), None);
    // Someone without the password learns nothing about the lock.
    let guessing = attempt(&visitor, "alice", "another-guess").await;
    assert_eq!(guessing.testid("login-error"), strings.invalid_credentials);
    // Another account is not affected.
    assert_eq!(attempt(&Visitor::new(&provider.base), "bob", PASSWORD).await.status, StatusCode::SEE_OTHER);

    clock.advance(Duration::minutes(15) + Duration::seconds(1));
    let after = attempt(&visitor, "alice", PASSWORD).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "{}", after.body);
    assert!(visitor.cookie(SESSION_COOKIE).is_some());
}
both_databases!(
    checklist_u1_same_answer_for_unknown_user_and_lockout_after_5_failures,
    checklist_u1_same_answer_for_unknown_user_and_lockout_after_5_failures
);

/// The console client's password grant (RFC 6749 §4.3) for `username` / `password`.
async fn password_grant(provider: &TestProvider, username: &str, password: &str) -> Reply {
    let form = [("grant_type", "password"), ("username", username), ("password", password), ("scope", "openid")];
    token_basic(&provider.base, CONSOLE, &form).await
}

/// Checklist U1: "the same lockout/throttle on the login page, password grant and device verification" (RFC
/// 6749 §4.3.2: the server "MUST protect the endpoint against brute force attacks"). Failures through the
/// password grant lock the login page, and the locked account is refused by both.
async fn checklist_u1_rfc6749_4_3_2_password_grant_and_login_page_share_one_lockout(db: TestDatabase) {
    let clock = fixed_clock();
    let provider = TestProvider::builder(&db).seed_demo().clock(clock.clone()).start().await;
    let visitor = Visitor::new(&provider.base);

    for _ in 0..3 {
        let reply = password_grant(&provider, "alice", "not-the-password").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(reply.error(), "invalid_grant");
    }
    for _ in 0..2 {
        let page = attempt(&visitor, "alice", "not-the-password").await;
        assert_eq!(page.testid("login-error"), Locale::En.strings().invalid_credentials);
    }
    let alice = provider.state.store.find_user_by_login("alice").await.unwrap().unwrap();
    assert!(alice.is_locked_out(clock.now()), "3 failures by the grant and 2 on the page are 5: {alice:?}");

    let page = attempt(&visitor, "alice", PASSWORD).await;
    assert_eq!(page.testid("login-error"), Locale::En.strings().locked_out);
    assert_eq!(visitor.cookie(SESSION_COOKIE), None);
    let grant = password_grant(&provider, "alice", PASSWORD).await;
    assert_eq!(grant.status, StatusCode::BAD_REQUEST, "{}", grant.body);
    assert_eq!(grant.error(), "invalid_grant");
    assert!(grant.description().contains("locked"), "{}", grant.description());
    assert!(grant.json().get("access_token").is_none());

    clock.advance(Duration::minutes(15) + Duration::seconds(1));
    assert_eq!(password_grant(&provider, "alice", PASSWORD).await.status, StatusCode::OK);
}
both_databases!(
    checklist_u1_rfc6749_4_3_2_password_grant_and_login_page_share_one_lockout,
    checklist_u1_rfc6749_4_3_2_password_grant_and_login_page_share_one_lockout
);

/// Checklist S6 with RFC 8725 §3.1/§3.8: an `id_token_hint` only counts when it is an ID token of this
/// provider: signed with its RS256 key (never `alg: none`) and with its exact `iss`. A forged hint naming the
/// signed-in user neither signs them out nor sends them anywhere.
async fn checklist_s6_rfc8725_3_1_forged_id_token_hint_is_refused(db: TestDatabase) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let provider = TestProvider::builder(&db).seed_demo().start().await;
    let visitor = Visitor::new(&provider.base);
    let tokens = spa_tokens(&visitor, "alice").await;
    let session = visitor.cookie(SESSION_COOKIE).unwrap();
    let (_, mut claims) = jwt_parts(tokens["id_token"].as_str().unwrap());

    let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let unsigned = format!("{}.{}.", encode(&serde_json::json!({"alg": "none", "typ": "JWT"})), encode(&claims));
    claims["iss"] = serde_json::Value::from("https://other-issuer.example");
    let other_issuer = provider
        .state
        .published()
        .keyring
        .sign(portcullis_jose::SigningAlg::Rs256, claims.as_object().unwrap(), Some("JWT"))
        .unwrap();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    for (what, hint) in [("alg none", unsigned), ("another issuer", other_issuer), ("an access token", access_token)] {
        let mut url = url::Url::parse(&provider.url("/connect/logout")).unwrap();
        url.query_pairs_mut().append_pair("id_token_hint", &hint).append_pair("post_logout_redirect_uri", SPA_ORIGIN);
        let page = visitor.get(url.as_str()).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{what}: {}", page.body);
        assert_eq!(page.location(), None, "{what}");
        assert_eq!(page.testid("error-code"), "invalid_request", "{what}");
        assert!(page.testid("error-description").contains("id_token_hint"), "{what}");
        assert!(session_exists(&provider, &session).await, "{what}: the session must survive");
    }
}
both_databases!(
    checklist_s6_rfc8725_3_1_forged_id_token_hint_is_refused,
    checklist_s6_rfc8725_3_1_forged_id_token_hint_is_refused
);
