//! The sign-in page (`GET /login`) and its form (`POST /login`).
//!
//! Unknown users and wrong passwords get the same answer after the same work (a real argon2 verification
//! against a dummy hash), and failures count towards a lockout shared with every other way to sign in.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use portcullis_core::OAuthError;
use portcullis_core::model::User;
use portcullis_core::password;
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::redirect_uri;
use serde::Deserialize;

use crate::endpoint::error_page::{error_page, forbidden};
use crate::error::store_error;
use crate::metadata::{AUTHORIZE_PATH, DEVICE_VERIFY_PATH};
use crate::pages::{self, Locale, LoginProblem, LoginView, MessageView};
use crate::password_checks::Overloaded;
use crate::session;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// Where the browser may be sent after signing in: only back into the provider's own flows, never to another
/// site (checklist R9: no open redirector).
pub fn safe_return_to(value: Option<&str>) -> String {
    match value {
        Some(path) if is_local_flow(path) => path.to_string(),
        _ => "/".to_string(),
    }
}

fn is_local_flow(path: &str) -> bool {
    let allowed = [AUTHORIZE_PATH, DEVICE_VERIFY_PATH];
    allowed.iter().any(|prefix| path == *prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('?')))
        && !path.contains(['\\', '\r', '\n'])
}

/// The original request's parameters, for the page's language, client name and user name hint.
fn request_params(return_to: &str) -> Option<Params> {
    let (_, query) = return_to.split_once('?')?;
    Params::parse(query.as_bytes()).ok()
}

/// The client of the flow being continued: its name for the page, and the redirect URI the flow will end on
/// (only a registered one), which the page's `form-action` must allow.
async fn flow_client(state: &AppState, params: Option<&Params>) -> (Option<String>, Option<url::Url>) {
    let Some(params) = params else { return (None, None) };
    let Some(client_id) = params.get("client_id") else { return (None, None) };
    let Ok(Some(client)) = state.store.find_client(client_id).await else { return (None, None) };
    let redirect = match params.get("redirect_uri") {
        Some(uri) => redirect_uri::find_registered(&client.redirect_uris, uri, false).ok(),
        None => match client.redirect_uris.as_slice() {
            [only] => redirect_uri::the_registered(only, false).ok(),
            _ => None,
        },
    };
    (Some(client.display_name), redirect.map(|uri| uri.url().clone()))
}

fn locale_for(headers: &HeaderMap, params: Option<&Params>) -> Locale {
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Locale::negotiate(params.and_then(|p| p.get("ui_locales")), accept_language)
}

/// The flow a sign-in continues, read from its `return_to`.
struct Flow {
    return_to: String,
    locale: Locale,
    client_name: Option<String>,
    /// Where the flow will end; the page's `form-action` must allow it (Chrome applies it to the redirects that
    /// follow the form).
    redirect: Option<url::Url>,
    login_hint: String,
}

async fn flow(state: &AppState, headers: &HeaderMap, return_to: Option<&str>) -> Flow {
    let return_to = safe_return_to(return_to);
    let params = request_params(&return_to);
    let locale = locale_for(headers, params.as_ref());
    let login_hint = params.as_ref().and_then(|p| p.get("login_hint")).unwrap_or_default().to_string();
    let (client_name, redirect) = flow_client(state, params.as_ref()).await;
    Flow { return_to, locale, client_name, redirect, login_hint }
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<LoginQuery>,
) -> Response {
    let flow = flow(&state, &headers, query.return_to.as_deref()).await;
    render(&state, jar, &flow, &flow.login_hint, None)
}

fn render(state: &AppState, jar: CookieJar, flow: &Flow, username: &str, problem: Option<LoginProblem>) -> Response {
    let (jar, csrf) = session::csrf_token(state, jar);
    let view = LoginView {
        locale: flow.locale,
        csrf_token: &csrf,
        return_to: &flow.return_to,
        username,
        client_name: flow.client_name.as_deref(),
        problem,
    };
    let page = pages::login(&view);
    let page = match &flow.redirect {
        Some(target) => pages::allow_redirect_to(page, target),
        None => page,
    };
    (jar, page).into_response()
}

pub async fn submit(State(state): State<AppState>, headers: HeaderMap, jar: CookieJar, body: Bytes) -> Response {
    let fallback = locale_for(&headers, None);
    let form = match Params::parse(&body) {
        Ok(form) => form,
        Err(error) => return error_page(fallback, &error),
    };
    if let Err(rejection) = session::check_form(&state, &headers, &jar, form.get("csrf_token")) {
        return forbidden(fallback, rejection.0);
    }
    let username = form.get("username").unwrap_or_default().trim().to_string();
    let password = form.get("password").unwrap_or_default().to_string();
    let outcome = check_credentials(&state, &username, password).await;
    let flow = flow(&state, &headers, form.get("return_to")).await;
    match outcome {
        Ok(SignIn::Accepted(user)) => match session::start(&state, jar, &user).await {
            // 303: the browser follows with a GET (checklist S5).
            Ok((jar, _)) => (jar, Redirect::to(&flow.return_to)).into_response(),
            Err(error) => error_page(flow.locale, &crate::error::store_error(error)),
        },
        Ok(SignIn::Refused(problem)) => render(&state, jar, &flow, &username, Some(problem)),
        Err(error) => error_page(flow.locale, &error),
    }
}

/// The outcome of a sign-in attempt.
pub enum SignIn {
    Accepted(Box<User>),
    Refused(LoginProblem),
}

/// Checks a user name (or email) and password, counting failures towards the lockout. Shared by the login
/// page, the password grant and device verification, so all three are throttled alike (checklist U1). The
/// error is 503 `temporarily_unavailable` when the store fails or too many checks are waiting (PC-50).
pub async fn check_credentials(state: &AppState, login: &str, password: String) -> Result<SignIn, OAuthError> {
    let now = state.clock.now();
    let user =
        if login.is_empty() { None } else { state.store.find_user_by_login(login).await.map_err(store_error)? };
    let Some(user) = user else {
        // Same work as a real check, so timing does not reveal which accounts exist (checklist T3).
        state.password_checks.run(move || password::verify_against_dummy(&password)).await.map_err(overloaded)?;
        return Ok(SignIn::Refused(LoginProblem::InvalidCredentials));
    };
    let hash = user.password_hash.clone();
    let matches = state.password_checks.run(move || password::verify(&password, &hash)).await.map_err(overloaded)?;
    if user.is_locked_out(now) {
        // Only someone who knows the password learns the account is locked; others see the usual answer.
        return Ok(SignIn::Refused(if matches { LoginProblem::LockedOut } else { LoginProblem::InvalidCredentials }));
    }
    if !matches || user.disabled {
        let security = &state.settings.security;
        let updated = state
            .store
            .record_failed_login(&user.id, now, security.lockout_max_failures, security.lockout)
            .await
            .map_err(store_error)?;
        tracing::info!(user = %user.id, failures = updated.failed_count, locked = updated.is_locked_out(now), "sign-in refused");
        return Ok(SignIn::Refused(LoginProblem::InvalidCredentials));
    }
    if user.failed_count > 0 {
        state.store.record_successful_login(&user.id).await.map_err(store_error)?;
    }
    Ok(SignIn::Accepted(Box::new(user)))
}

fn overloaded(_: Overloaded) -> OAuthError {
    OAuthError::temporarily_unavailable("too many sign-ins are being checked at once; try again shortly")
}

/// `GET /`: where a sign-in without a flow lands.
pub async fn home(State(state): State<AppState>, headers: HeaderMap, jar: CookieJar) -> Response {
    let locale = locale_for(&headers, None);
    let (title, message) = match session::current(&state, &jar).await {
        Ok(Some(current)) => match locale {
            Locale::Fr => {
                ("Portcullis".to_string(), format!("Vous êtes connecté en tant que {}.", current.user.username))
            }
            Locale::En => ("Portcullis".to_string(), format!("You are signed in as {}.", current.user.username)),
        },
        _ => match locale {
            Locale::Fr => ("Portcullis".to_string(), "Vous n'êtes pas connecté.".to_string()),
            Locale::En => ("Portcullis".to_string(), "You are not signed in.".to_string()),
        },
    };
    pages::message(&MessageView { locale, title: &title, message: &message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checklist_r9_return_to_stays_inside_the_provider_flows() {
        assert_eq!(safe_return_to(Some("/connect/authorize?client_id=a")), "/connect/authorize?client_id=a");
        for hostile in [
            "https://evil.example/",
            "//evil.example/connect/authorize?x",
            "/connect/authorize.evil",
            "/connect/authorizex?client_id=a",
            "/\\evil.example",
            "/connect/authorize?x\r\nLocation: https://evil",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_return_to(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
