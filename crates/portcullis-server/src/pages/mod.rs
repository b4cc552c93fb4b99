//! The server-rendered pages: sign-in, consent, device verification, logout confirmation, messages, errors and
//! the form post response mode, in English and French.
//!
//! Presentation only: the flow code decides what to show and passes it in a view; this module turns it into a
//! complete response with the security headers every page needs (security checklist S4). Templates are askama,
//! which HTML-escapes every value; no template marks a value `|safe`, and a test keeps it that way.

mod csp;
mod device;
mod form_post;
mod i18n;
mod locale;
mod stylesheet;
#[cfg(test)]
mod tests;

use askama::Template;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::metadata::{CONSENT_PATH, LOGIN_PATH, LOGOUT_PATH};

pub use csp::allow_redirect_to;
pub use device::{
    DeviceConfirmView, DeviceEntryView, DeviceOutcome, DeviceProblem, device_confirm, device_done, device_entry,
};
pub use form_post::{form_post, form_post_in};
pub use i18n::{Phrase, Strings};
pub use locale::Locale;
pub use stylesheet::stylesheet;

/// One scope as the consent page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeLine {
    pub name: String,
    /// Shown instead of `name`; an empty one falls back to `name`.
    pub display_name: String,
    pub description: Option<String>,
}

/// Why the sign-in page is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginProblem {
    /// Unknown user and wrong password alike (security checklist U1): telling them apart would let anyone
    /// find out which accounts exist.
    InvalidCredentials,
    LockedOut,
    SessionExpired,
}

#[derive(Debug)]
pub struct LoginView<'a> {
    pub locale: Locale,
    pub csrf_token: &'a str,
    /// Local path+query to continue to after sign-in (hidden field `return_to`).
    pub return_to: &'a str,
    /// Prefill (login_hint or last attempt); never the password.
    pub username: &'a str,
    /// "Sign in to continue to {client}".
    pub client_name: Option<&'a str>,
    pub problem: Option<LoginProblem>,
}

#[derive(Debug)]
pub struct ConsentView<'a> {
    pub locale: Locale,
    pub csrf_token: &'a str,
    /// The original authorization request's query string, echoed back in hidden field `request`.
    pub request: &'a str,
    pub client_name: &'a str,
    pub user_name: &'a str,
    pub scopes: &'a [ScopeLine],
}

#[derive(Debug)]
pub struct LogoutView<'a> {
    pub locale: Locale,
    pub csrf_token: &'a str,
    /// Hidden fields to post back unchanged (id_token_hint, client_id, post_logout_redirect_uri, state, ...).
    /// `csrf_token` and `decision` are left out: the page sets those itself, and a second copy from the
    /// request would make the submission ambiguous.
    pub fields: &'a [(String, String)],
    pub client_name: Option<&'a str>,
}

/// A generic information page (e.g. "You are signed out"); [`Strings`] has the usual titles and messages.
#[derive(Debug)]
pub struct MessageView<'a> {
    pub locale: Locale,
    pub title: &'a str,
    pub message: &'a str,
}

#[derive(Debug)]
pub struct ErrorView<'a> {
    pub locale: Locale,
    /// The OAuth error code (`invalid_request`, ...).
    pub error: &'a str,
    pub description: &'a str,
}

/// What every page's layout needs.
struct Page {
    lang: &'static str,
    t: &'static Strings,
    stylesheet: &'static str,
}

impl Page {
    fn new(locale: Locale) -> Page {
        Page { lang: locale.tag(), t: locale.strings(), stylesheet: stylesheet::href() }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    page: Page,
    view: &'a LoginView<'a>,
    problem: Option<&'static str>,
    action: &'static str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    page: Page,
    view: &'a ConsentView<'a>,
    action: &'static str,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    page: Page,
    view: &'a LogoutView<'a>,
    fields: Vec<(&'a str, &'a str)>,
    action: &'static str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    page: Page,
    view: &'a MessageView<'a>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: Page,
    view: &'a ErrorView<'a>,
}

/// The sign-in page. Always 200, with or without a problem shown: browsers and password managers handle a
/// re-displayed form best that way, and the status tells an attacker nothing the message does not.
pub fn login(view: &LoginView) -> Response {
    let t = view.locale.strings();
    let problem = view.problem.map(|problem| match problem {
        LoginProblem::InvalidCredentials => t.invalid_credentials,
        LoginProblem::LockedOut => t.locked_out,
        LoginProblem::SessionExpired => t.session_expired,
    });
    let page = LoginPage { page: Page::new(view.locale), view, problem, action: LOGIN_PATH };
    render(StatusCode::OK, &page, &csp::page())
}

pub fn consent(view: &ConsentView) -> Response {
    let page = ConsentPage { page: Page::new(view.locale), view, action: CONSENT_PATH };
    render(StatusCode::OK, &page, &csp::page())
}

pub fn logout_confirm(view: &LogoutView) -> Response {
    let fields = view
        .fields
        .iter()
        .filter(|(name, _)| name != "csrf_token" && name != "decision")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let page = LogoutPage { page: Page::new(view.locale), view, fields, action: LOGOUT_PATH };
    render(StatusCode::OK, &page, &csp::page())
}

pub fn message(view: &MessageView) -> Response {
    render(StatusCode::OK, &MessagePage { page: Page::new(view.locale), view }, &csp::page())
}

pub fn error(status: StatusCode, view: &ErrorView) -> Response {
    render(status, &ErrorPage { page: Page::new(view.locale), view }, &csp::page())
}

/// Renders `template` and adds the headers every page carries. A template that fails to render becomes a
/// bare 500 (logged by askama_web through `tracing`) that still carries them.
fn render(status: StatusCode, template: &impl Template, content_security_policy: &str) -> Response {
    let mut response = askama_web::WebTemplate(template).into_response();
    if response.status().is_success() {
        *response.status_mut() = status;
    }
    let headers = response.headers_mut();
    match HeaderValue::from_str(content_security_policy) {
        Ok(value) => headers.insert(CONTENT_SECURITY_POLICY, value),
        // Only reachable if a policy held a control character; then nothing may load, post or frame the page.
        Err(_) => headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"),
        ),
    };
    // Security checklist S4: framing is refused twice, for browsers that predate `frame-ancestors`.
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Pages carry CSRF tokens, usernames and authorization requests: no cache may keep them.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Page URLs carry authorization requests; they must not leak to the next site as a Referer.
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
