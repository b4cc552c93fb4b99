//! Browser sessions at the provider and the CSRF protection of its forms.
//!
//! The session cookie holds a random 256-bit value; the store keeps only its SHA-256 digest, so a database
//! leak does not hand out live sessions. Forms carry a token that must equal the value of a separate CSRF
//! cookie (double submit), and cross-site POSTs are refused by their `Origin` / `Sec-Fetch-Site` headers.

use axum::http::HeaderMap;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use portcullis_core::model::{Session, User};
use portcullis_core::secret;
use portcullis_core::store::StoreError;
use subtle::ConstantTimeEq;

use crate::state::AppState;

pub const SESSION_COOKIE: &str = "portcullis_session";
pub const CSRF_COOKIE: &str = "portcullis_csrf";

/// The signed-in user of a request, if any.
pub struct Current {
    pub session: Session,
    pub user: User,
}

/// Finds the session named by the cookie, if it is live and its user may still sign in.
pub async fn current(state: &AppState, jar: &CookieJar) -> Result<Option<Current>, StoreError> {
    let Some(cookie) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    let now = state.clock.now();
    let Some(session) = state.store.find_session(&secret::digest(cookie.value()), now).await? else {
        return Ok(None);
    };
    let Some(user) = state.store.find_user(&session.subject).await? else { return Ok(None) };
    if user.disabled || user.is_locked_out(now) {
        return Ok(None);
    }
    Ok(Some(Current { session, user }))
}

/// Starts a new session for `user`, ending the one the browser had: a fresh identifier at every sign-in
/// defeats session fixation (checklist S1).
pub async fn start(state: &AppState, jar: CookieJar, user: &User) -> Result<(CookieJar, Session), StoreError> {
    if let Some(old) = jar.get(SESSION_COOKIE) {
        state.store.delete_session(&secret::digest(old.value())).await?;
    }
    let value = secret::generate().map_err(|error| StoreError::Other(format!("no randomness: {error}")))?;
    let now = state.clock.now();
    let lifetime = state.settings.tokens.session_lifetime;
    let session = state
        .store
        .create_session(Session {
            id: secret::digest(&value),
            subject: user.id.clone(),
            auth_time: now,
            amr: vec!["pwd".to_string()],
            created_at: now,
            expires_at: now + lifetime,
        })
        .await?;
    let jar = jar.add(cookie(state, SESSION_COOKIE, value));
    Ok((jar, session))
}

/// Ends the browser's session on the server and in the browser.
pub async fn end(state: &AppState, jar: CookieJar) -> Result<CookieJar, StoreError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state.store.delete_session(&secret::digest(cookie.value())).await?;
    }
    Ok(jar.remove(removal(state, SESSION_COOKIE)))
}

/// The `sid` claim for a session: derived from, but not revealing, the stored digest.
pub fn sid(session: &Session) -> String {
    secret::digest(&session.id)
}

/// The CSRF token for a form: the browser's CSRF cookie value, created when missing.
pub fn csrf_token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(existing) = jar.get(CSRF_COOKIE)
        && existing.value().len() == 43
    {
        let value = existing.value().to_string();
        return (jar, value);
    }
    let value = secret::generate().unwrap_or_default();
    (jar.add(cookie(state, CSRF_COOKIE, value.clone())), value)
}

/// Why a form submission was refused as a possible cross-site request forgery.
#[derive(Debug)]
pub struct CsrfRejection(pub &'static str);

/// Checks a form POST: same-origin (by `Sec-Fetch-Site` and `Origin` when the browser sends them) and a form
/// token equal to the CSRF cookie, compared in constant time (checklist S2).
pub fn check_form(
    state: &AppState,
    headers: &HeaderMap,
    jar: &CookieJar,
    form_token: Option<&str>,
) -> Result<(), CsrfRejection> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site == "cross-site"
    {
        return Err(CsrfRejection("the form was sent from another site"));
    }
    if let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok())
        && origin != "null"
        && origin != issuer_origin(state)
    {
        return Err(CsrfRejection("the form was sent from another origin"));
    }
    let Some(cookie) = jar.get(CSRF_COOKIE) else {
        return Err(CsrfRejection("the form's security cookie is missing; reload the page"));
    };
    let Some(token) = form_token else { return Err(CsrfRejection("the form's security token is missing")) };
    if cookie.value().is_empty() || !bool::from(cookie.value().as_bytes().ct_eq(token.as_bytes())) {
        return Err(CsrfRejection("the form's security token does not match; reload the page"));
    }
    Ok(())
}

fn issuer_origin(state: &AppState) -> String {
    url::Url::parse(state.settings.issuer.as_str()).map(|url| url.origin().ascii_serialization()).unwrap_or_default()
}

fn secure(state: &AppState) -> bool {
    state.settings.issuer.as_str().starts_with("https://")
}

/// `HttpOnly; SameSite=Lax; Path=/` and `Secure` on https (checklist S5). Lax, not Strict: the browser must
/// send the session along when a client's page navigates to the authorization endpoint.
fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value)).http_only(true).same_site(SameSite::Lax).path("/").secure(secure(state)).build()
}

fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    cookie(state, name, String::new())
}
