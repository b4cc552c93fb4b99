//! Rendering tests for the pages: language, the form contracts the flow code relies on, escaping and headers.

use axum::http::StatusCode;
use axum::response::Response;

use super::*;
use crate::metadata::STYLESHEET_PATH;

pub(super) async fn body(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub(super) fn header(response: &Response, name: &str) -> String {
    let value = response.headers().get(name).unwrap_or_else(|| panic!("missing header {name}"));
    value.to_str().unwrap().to_string()
}

/// What an attacker would put in any field that reaches a page.
const HOSTILE: &str = r#"<script>alert("x")</script>' onmouseover='x"#;
const HOSTILE_ESCAPED: &str = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#39; onmouseover=&#39;x";

fn assert_escaped(html: &str) {
    assert!(!html.contains("<script>alert"), "raw markup reached the page: {html}");
    assert!(!html.contains("' onmouseover='"), "a quote broke out of an attribute: {html}");
    assert!(html.contains(HOSTILE_ESCAPED), "the value is missing or escaped differently: {html}");
}

fn login_view(locale: Locale) -> LoginView<'static> {
    LoginView {
        locale,
        csrf_token: "csrf-123",
        return_to: "/connect/authorize?client_id=angularclient&state=s",
        username: "",
        client_name: Some("Angular demo"),
        problem: None,
    }
}

fn scopes() -> Vec<ScopeLine> {
    vec![
        ScopeLine {
            name: "email".into(),
            display_name: "Your email address".into(),
            description: Some("Read the email address of your account.".into()),
        },
        ScopeLine { name: "dataEventRecords".into(), display_name: String::new(), description: None },
    ]
}

fn consent_view(locale: Locale, scopes: &[ScopeLine]) -> ConsentView<'_> {
    ConsentView {
        locale,
        csrf_token: "csrf-123",
        request: "client_id=angularclient&scope=openid%20email&state=s",
        client_name: "Angular demo",
        user_name: "alice",
        scopes,
    }
}

fn logout_fields() -> Vec<(String, String)> {
    vec![
        ("client_id".into(), "angularclient".into()),
        ("post_logout_redirect_uri".into(), "http://localhost:4200".into()),
        ("state".into(), "st".into()),
    ]
}

fn logout_view(locale: Locale, fields: &[(String, String)]) -> LogoutView<'_> {
    LogoutView { locale, csrf_token: "csrf-123", fields, client_name: Some("Angular demo") }
}

fn error_view(locale: Locale) -> ErrorView<'static> {
    ErrorView { locale, error: "invalid_request", description: "The redirect_uri is not registered for this client." }
}

/// Every page, in both languages, as the flow code would produce it.
fn every_page() -> Vec<(&'static str, Response)> {
    let scopes = scopes();
    let fields = logout_fields();
    let mut pages = Vec::new();
    for locale in [Locale::En, Locale::Fr] {
        let t = locale.strings();
        pages.push(("login", login(&login_view(locale))));
        pages.push(("consent", consent(&consent_view(locale, &scopes))));
        pages.push(("logout", logout_confirm(&logout_view(locale, &fields))));
        pages.push((
            "message",
            message(&MessageView { locale, title: t.signed_out_title, message: t.signed_out_message }),
        ));
        pages.push(("error", error(StatusCode::BAD_REQUEST, &error_view(locale))));
    }
    pages.extend(super::device::tests::every_device_page());
    pages
}

#[test]
fn security_checklist_s4_every_page_forbids_framing_and_caching() {
    for (name, response) in every_page() {
        assert_eq!(
            header(&response, "content-security-policy"),
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
            "{name}"
        );
        assert_eq!(header(&response, "x-frame-options"), "DENY", "{name}");
        assert_eq!(header(&response, "cache-control"), "no-store", "{name}");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer", "{name}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{name}");
        assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8", "{name}");
    }
}

#[tokio::test]
async fn every_page_links_only_the_stylesheet_of_the_provider() {
    for (name, response) in every_page() {
        let html = body(response).await;
        assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
        assert!(html.contains(&format!(r#"<link rel="stylesheet" href="{STYLESHEET_PATH}?v="#)), "{name}");
        for reference in html.split(" href=\"").skip(1).chain(html.split(" src=\"").skip(1)) {
            assert!(reference.starts_with('/') || reference.starts_with("data:"), "{name} loads {reference}");
        }
        assert!(!html.contains("<script"), "{name}: scripts are blocked by the policy");
        assert!(!html.contains("style="), "{name}: inline styles are blocked by the policy");
        assert!(html.contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#));
    }
}

#[test]
fn templates_never_mark_a_value_safe() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("|safe") && !text.contains("| safe"), "{} disables escaping", path.display());
        assert!(!text.contains("escape"), "{} changes escaping", path.display());
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} templates found in {}", dir.display());
}

// --- Sign-in ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_in_english() {
    let response = login(&login_view(Locale::En));
    assert_eq!(response.status(), StatusCode::OK);
    let html = body(response).await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("<title>Sign in</title>"));
    assert!(html.contains(r#"<label for="username">Username or email</label>"#));
    assert!(html.contains(r#"<label for="password">Password</label>"#));
    assert!(html.contains(r#"to continue to <strong class="client">Angular demo</strong>"#), "{html}");
}

#[tokio::test]
async fn login_in_french() {
    let html = body(login(&login_view(Locale::Fr))).await;
    assert!(html.contains(r#"<html lang="fr">"#));
    assert!(html.contains("<title>Connexion</title>"));
    assert!(html.contains(r#"<label for="username">Nom d’utilisateur ou e-mail</label>"#));
    assert!(html.contains(r#"<label for="password">Mot de passe</label>"#));
    assert!(html.contains(">Se connecter</button>"));
    assert!(html.contains(r#"pour continuer vers <strong class="client">Angular demo</strong>"#));
    assert!(!html.contains("Sign in"), "English text left on the French page");
}

#[tokio::test]
async fn login_form_contract() {
    let html = body(login(&login_view(Locale::En))).await;
    assert!(html.contains(r#"<form method="post" action="/login">"#));
    assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="csrf-123">"#));
    assert!(html.contains(
        r#"<input type="hidden" name="return_to" value="/connect/authorize?client_id=angularclient&#38;state=s">"#
    ));
    assert!(html.contains(r#"name="username" type="text" value="" autocomplete="username""#), "{html}");
    assert!(html.contains(r#"name="password" type="password" autocomplete="current-password""#));
    for hook in ["login-username", "login-password", "login-submit"] {
        assert_eq!(html.matches(&format!(r#"data-testid="{hook}""#)).count(), 1, "{hook}");
    }
    assert!(html.contains(r#"<button type="submit" class="primary" data-testid="login-submit">Sign in</button>"#));
    assert!(!html.contains("login-error"), "no problem, no message");
}

#[tokio::test]
async fn login_prefills_the_username_but_never_a_password() {
    let view =
        LoginView { username: "alice", problem: Some(LoginProblem::InvalidCredentials), ..login_view(Locale::En) };
    let html = body(login(&view)).await;
    assert!(html.contains(r#"name="username" type="text" value="alice""#));
    let password = &html[html.find(r#"name="password""#).unwrap()..];
    let password = &password[..password.find('>').unwrap()];
    assert!(!password.contains("value="), "{password}");
    // Focus goes where the user has to type next.
    assert!(password.contains("autofocus"));
}

#[tokio::test]
async fn login_without_a_client_has_no_continue_to_line() {
    let html = body(login(&LoginView { client_name: None, ..login_view(Locale::En) })).await;
    assert!(!html.contains("to continue to"));
}

#[tokio::test]
async fn security_checklist_u1_login_problems_are_shown_with_their_hook() {
    let cases = [
        (Locale::En, LoginProblem::InvalidCredentials, "The username or password is incorrect. Please try again."),
        (Locale::Fr, LoginProblem::InvalidCredentials, "Le nom d’utilisateur ou le mot de passe est incorrect."),
        (Locale::En, LoginProblem::LockedOut, "Too many unsuccessful sign-in attempts."),
        (Locale::Fr, LoginProblem::LockedOut, "Trop de tentatives de connexion infructueuses."),
        (Locale::En, LoginProblem::SessionExpired, "Your session has expired. Please sign in again."),
        (Locale::Fr, LoginProblem::SessionExpired, "Votre session a expiré."),
    ];
    for (locale, problem, text) in cases {
        let response = login(&LoginView { problem: Some(problem), ..login_view(locale) });
        assert_eq!(response.status(), StatusCode::OK);
        let html = body(response).await;
        let start = html.find(r#"data-testid="login-error">"#).unwrap_or_else(|| panic!("{problem:?}: {html}"));
        assert!(html[start..].contains(text), "{problem:?} in {locale:?}");
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains(r#"aria-describedby="login-error""#));
    }
}

#[tokio::test]
async fn login_escapes_every_value() {
    let view = LoginView {
        locale: Locale::En,
        csrf_token: HOSTILE,
        return_to: HOSTILE,
        username: HOSTILE,
        client_name: Some(HOSTILE),
        problem: Some(LoginProblem::InvalidCredentials),
    };
    let html = body(login(&view)).await;
    assert_escaped(&html);
    assert_eq!(html.matches(HOSTILE_ESCAPED).count(), 4);
}

// --- Consent ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn consent_in_english() {
    let scopes = scopes();
    let html = body(consent(&consent_view(Locale::En, &scopes))).await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains(r#"<strong class="client">Angular demo</strong> wants to:</h1>"#), "{html}");
    assert!(html.contains("Signed in as <strong>alice</strong>"));
    assert!(html.contains(">Allow</button>"));
    assert!(html.contains(">Deny</button>"));
}

#[tokio::test]
async fn consent_in_french() {
    let scopes = scopes();
    let html = body(consent(&consent_view(Locale::Fr, &scopes))).await;
    assert!(html.contains(r#"<html lang="fr">"#));
    assert!(html.contains("<strong class=\"client\">Angular demo</strong>\u{a0}souhaite\u{a0}:</h1>"), "{html}");
    assert!(html.contains("Connecté en tant que <strong>alice</strong>"));
    assert!(html.contains(">Autoriser</button>"));
    assert!(html.contains(">Refuser</button>"));
}

#[tokio::test]
async fn consent_form_contract() {
    let scopes = scopes();
    let html = body(consent(&consent_view(Locale::En, &scopes))).await;
    assert!(html.contains(r#"<form method="post" action="/consent">"#));
    assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="csrf-123">"#));
    assert!(html.contains(
        r#"<input type="hidden" name="request" value="client_id=angularclient&#38;scope=openid%20email&#38;state=s">"#
    ));
    assert!(html.contains(
        r#"<button type="submit" name="decision" value="allow" class="primary" data-testid="consent-allow">"#
    ));
    assert!(html.contains(
        r#"<button type="submit" name="decision" value="deny" class="secondary" data-testid="consent-deny">"#
    ));
}

#[tokio::test]
async fn consent_lists_scopes_by_display_name_and_description() {
    let scopes = scopes();
    let html = body(consent(&consent_view(Locale::En, &scopes))).await;
    let list_start = html.find(r#"data-testid="consent-scopes""#).unwrap();
    let list = &html[list_start..html[list_start..].find("</ul>").unwrap() + list_start];
    assert_eq!(list.matches("<li").count(), 2);
    assert!(list.contains(r#"<li data-scope="email">"#));
    assert!(list.contains(r#"<span class="scope-name">Your email address</span>"#));
    assert!(list.contains(r#"<span class="scope-description">Read the email address of your account.</span>"#));
    // No display name: the scope's own name rather than an empty line.
    assert!(list.contains(r#"<span class="scope-name">dataEventRecords</span>"#), "{list}");
    assert_eq!(list.matches("scope-description").count(), 1, "no empty description for a scope without one");
}

#[tokio::test]
async fn consent_escapes_every_value() {
    let scopes =
        vec![ScopeLine { name: HOSTILE.into(), display_name: HOSTILE.into(), description: Some(HOSTILE.into()) }];
    let view = ConsentView {
        locale: Locale::Fr,
        csrf_token: HOSTILE,
        request: HOSTILE,
        client_name: HOSTILE,
        user_name: HOSTILE,
        scopes: &scopes,
    };
    let html = body(consent(&view)).await;
    assert_escaped(&html);
    assert_eq!(html.matches(HOSTILE_ESCAPED).count(), 7);
}

// --- Logout ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn logout_in_english() {
    let fields = logout_fields();
    let html = body(logout_confirm(&logout_view(Locale::En, &fields))).await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("<h1>Do you want to sign out?</h1>"));
    assert!(html.contains(r#"<strong class="client">Angular demo</strong> asked to sign you out."#));
    assert!(html.contains(">Sign out</button>"));
    assert!(html.contains(">Stay signed in</button>"));
}

#[tokio::test]
async fn logout_in_french() {
    let fields = logout_fields();
    let html = body(logout_confirm(&logout_view(Locale::Fr, &fields))).await;
    assert!(html.contains(r#"<html lang="fr">"#));
    assert!(html.contains("<h1>Voulez-vous vous déconnecter\u{a0}?</h1>"));
    assert!(html.contains(r#"<strong class="client">Angular demo</strong> demande à vous déconnecter."#));
    assert!(html.contains(">Se déconnecter</button>"));
    assert!(html.contains(">Rester connecté</button>"));
}

#[tokio::test]
async fn logout_form_contract() {
    let fields = logout_fields();
    let html = body(logout_confirm(&logout_view(Locale::En, &fields))).await;
    assert!(html.contains(r#"<form method="post" action="/connect/logout">"#));
    assert!(html.contains(r#"<input type="hidden" name="csrf_token" value="csrf-123">"#));
    assert!(html.contains(r#"<input type="hidden" name="client_id" value="angularclient">"#));
    assert!(html.contains(r#"<input type="hidden" name="post_logout_redirect_uri" value="http://localhost:4200">"#));
    assert!(html.contains(r#"<input type="hidden" name="state" value="st">"#));
    assert!(html.contains(r#"name="decision" value="logout" class="primary" data-testid="logout-confirm">"#));
    assert!(html.contains(r#"name="decision" value="cancel" class="secondary" data-testid="logout-cancel">"#));
}

#[tokio::test]
async fn logout_does_not_echo_a_second_csrf_token_or_decision() {
    let mut fields = logout_fields();
    fields.push(("csrf_token".into(), "from-the-request".into()));
    fields.push(("decision".into(), "logout".into()));
    let html = body(logout_confirm(&logout_view(Locale::En, &fields))).await;
    assert_eq!(html.matches(r#"name="csrf_token""#).count(), 1);
    assert!(!html.contains("from-the-request"));
    assert_eq!(html.matches(r#"name="decision""#).count(), 2, "only the two buttons");
}

#[tokio::test]
async fn logout_without_a_client_has_no_requested_by_line() {
    let html = body(logout_confirm(&LogoutView { client_name: None, ..logout_view(Locale::En, &[]) })).await;
    assert!(!html.contains("asked to sign you out"));
    assert!(html.contains("You will be signed out of your account in this browser."));
}

#[tokio::test]
async fn logout_escapes_every_value() {
    let fields = vec![(HOSTILE.to_string(), HOSTILE.to_string())];
    let view = LogoutView { locale: Locale::En, csrf_token: HOSTILE, fields: &fields, client_name: Some(HOSTILE) };
    let html = body(logout_confirm(&view)).await;
    assert_escaped(&html);
    assert_eq!(html.matches(HOSTILE_ESCAPED).count(), 4);
}

// --- Message and error -----------------------------------------------------------------------------------

#[tokio::test]
async fn message_in_both_languages() {
    for (locale, title, text) in [
        (Locale::En, "You are signed out", "You have been signed out of your account."),
        (Locale::Fr, "Déconnexion réussie", "Votre session a été fermée."),
    ] {
        let t = locale.strings();
        let response = message(&MessageView { locale, title: t.signed_out_title, message: t.signed_out_message });
        assert_eq!(response.status(), StatusCode::OK);
        let html = body(response).await;
        assert!(html.contains(&format!(r#"<html lang="{}">"#, locale.tag())));
        assert!(html.contains(&format!("<title>{title}</title>")), "{html}");
        assert!(html.contains(&format!(r#"<h1 data-testid="message-title">{title}</h1>"#)));
        assert!(html.contains(text));
    }
}

#[tokio::test]
async fn message_escapes_every_value() {
    let html = body(message(&MessageView { locale: Locale::En, title: HOSTILE, message: HOSTILE })).await;
    assert_escaped(&html);
    assert_eq!(html.matches(HOSTILE_ESCAPED).count(), 3, "title, heading and text");
}

#[tokio::test]
async fn error_keeps_the_status_and_shows_code_and_description() {
    let response = error(StatusCode::BAD_REQUEST, &error_view(Locale::En));
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let html = body(response).await;
    assert!(html.contains(r#"<html lang="en">"#));
    assert!(html.contains("<h1>Something went wrong</h1>"));
    assert!(html.contains(r#"<code data-testid="error-code">invalid_request</code>"#));
    assert!(
        html.contains(
            r#"<dd data-testid="error-description">The redirect_uri is not registered for this client.</dd>"#
        )
    );
}

#[tokio::test]
async fn error_in_french() {
    let response = error(StatusCode::NOT_FOUND, &error_view(Locale::Fr));
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = body(response).await;
    assert!(html.contains(r#"<html lang="fr">"#));
    assert!(html.contains("<h1>Une erreur est survenue</h1>"));
    assert!(html.contains("<dt>Code d’erreur</dt>"));
}

#[tokio::test]
async fn error_escapes_every_value() {
    let html =
        body(error(StatusCode::BAD_REQUEST, &ErrorView { locale: Locale::En, error: HOSTILE, description: HOSTILE }))
            .await;
    assert_escaped(&html);
    assert_eq!(html.matches(HOSTILE_ESCAPED).count(), 2);
}

#[test]
fn allow_redirect_to_widens_a_rendered_page() {
    let target = url::Url::parse("http://localhost:4200/callback").unwrap();
    let scopes = scopes();
    let response = allow_redirect_to(consent(&consent_view(Locale::En, &scopes)), &target);
    assert!(header(&response, "content-security-policy").contains("form-action 'self' http://localhost:4200;"));
    assert_eq!(header(&response, "x-frame-options"), "DENY");
}
