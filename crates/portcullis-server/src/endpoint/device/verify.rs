//! `/connect/verify` (RFC 8628 §3.3): the signed-in user types the code their device shows, sees which client
//! asks for what, and approves or denies.
//!
//! `GET` only shows the entry form (pre-filled from `verification_uri_complete`'s `?user_code=`): a link must not
//! be able to answer for the user, nor to spend their attempts. Every `POST` is a CSRF-checked form (checklist
//! S2) and looks the code up again: without a `decision` it shows the confirmation page, with one it answers.
//! A code that is unknown, expired or already used is one and the same "not valid" message, and counts towards
//! the limit of [`super::attempts`].

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::CookieJar;
use portcullis_core::model::{AuthorizationKind, Client, NewAuthorization, Token, TokenStatus, TokenType};
use portcullis_core::protocol::consent::{self, ConsentDecision};
use portcullis_core::protocol::device::UserCode;
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::payload::{DeviceCodePayload, Payload, UserCodePayload};
use portcullis_core::protocol::scope::ScopeSet;
use portcullis_core::store::{DeviceApproval, DeviceConsent, StoreError};
use portcullis_core::{OAuthError, secret};
use serde::Deserialize;
use time::OffsetDateTime;

use super::attempts::{Limit, UserCodeAttempts};
use crate::endpoint::error_page::{error_page, forbidden};
use crate::error::store_error;
use crate::metadata::{DEVICE_VERIFY_PATH, LOGIN_PATH};
use crate::pages::{self, DeviceConfirmView, DeviceEntryView, DeviceOutcome, DeviceProblem, Locale, ScopeLine};
use crate::session::{self, Current};
use crate::state::AppState;

/// Longest typed code shown back in the form: a real one is nine characters; anything longer is noise that
/// need not travel back and forth.
const MAX_SHOWN_CODE_CHARS: usize = 32;

/// The verification page's routes, with the attempt counter they share. Merge into the pages router.
pub fn verify_routes() -> Router<AppState> {
    Router::new()
        .route(DEVICE_VERIFY_PATH, get(page).post(submit))
        .layer(Extension(Arc::new(UserCodeAttempts::default())))
}

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    user_code: Option<String>,
}

fn locale_for(headers: &HeaderMap) -> Locale {
    Locale::negotiate(None, headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

fn shown(typed: &str) -> String {
    typed.trim().chars().take(MAX_SHOWN_CODE_CHARS).collect()
}

/// `GET /connect/verify[?user_code=…]`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Query(query): Query<VerifyQuery>,
) -> Response {
    let locale = locale_for(&headers);
    let typed = shown(query.user_code.as_deref().unwrap_or_default());
    match session::current(&state, &jar).await {
        Ok(Some(current)) => entry(&state, jar, locale, &current, &typed, None),
        // RFC 8628 §3.3: "the authorization server prompts the end user to authenticate if not already
        // authenticated"; the sign-in page brings the user back here with the code still filled in.
        Ok(None) => to_login(&typed),
        Err(error) => error_page(locale, &store_error(error)),
    }
}

/// `POST /connect/verify`: a code to look up (`user_code`), and possibly the answer (`decision`).
pub async fn submit(
    State(state): State<AppState>,
    Extension(attempts): Extension<Arc<UserCodeAttempts>>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let locale = locale_for(&headers);
    let form = match Params::parse(&body) {
        Ok(form) => form,
        Err(error) => return error_page(locale, &error),
    };
    if let Err(rejection) = session::check_form(&state, &headers, &jar, form.get("csrf_token")) {
        return forbidden(locale, rejection.0);
    }
    let typed = shown(form.get("user_code").unwrap_or_default());
    let current = match session::current(&state, &jar).await {
        Ok(Some(current)) => current,
        Ok(None) => return to_login(&typed),
        Err(error) => return error_page(locale, &store_error(error)),
    };
    let now = state.clock.now();
    let limit = limit(&state);
    // Checklist D2: once the limit is reached even a right code waits, or the limit would only slow guessing.
    if attempts.is_blocked(&current.user.id, now, limit) {
        return entry(&state, jar, locale, &current, &typed, Some(DeviceProblem::TooManyAttempts));
    }
    let request = match find_request(&state, &typed, now).await {
        Ok(Some(request)) => request,
        Ok(None) => {
            let blocked = attempts.record_failure(&current.user.id, now, limit);
            tracing::info!(user = %current.user.id, blocked, "a user code that is not valid was entered");
            let problem = if blocked { DeviceProblem::TooManyAttempts } else { DeviceProblem::InvalidCode };
            return entry(&state, jar, locale, &current, &typed, Some(problem));
        }
        Err(error) => return error_page(locale, &store_error(error)),
    };
    match form.get("decision") {
        None => confirm(&state, jar, locale, &current, &request),
        Some("approve") => approve(&state, jar, locale, &current, request, now).await,
        Some("deny") => deny(&state, jar, locale, &current, &request, now).await,
        Some(_) => error_page(
            locale,
            &OAuthError::invalid_request("the device form must answer decision=approve or decision=deny"),
        ),
    }
}

/// The sign-in lockout's numbers (checklist U1: the same throttle as the login page).
fn limit(state: &AppState) -> Limit {
    let security = &state.settings.security;
    Limit { max_failures: u32::try_from(security.lockout_max_failures).unwrap_or(1).max(1), window: security.lockout }
}

/// Sends the browser to sign in, and back here afterwards with the code still filled in.
fn to_login(typed: &str) -> Response {
    let return_to = if typed.is_empty() {
        DEVICE_VERIFY_PATH.to_string()
    } else {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("user_code", typed);
        format!("{DEVICE_VERIFY_PATH}?{}", query.finish())
    };
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("return_to", &return_to);
    Redirect::to(&format!("{LOGIN_PATH}?{}", login.finish())).into_response()
}

fn user_name(current: &Current) -> String {
    current.user.name.clone().unwrap_or_else(|| current.user.username.clone())
}

fn entry(
    state: &AppState,
    jar: CookieJar,
    locale: Locale,
    current: &Current,
    typed: &str,
    problem: Option<DeviceProblem>,
) -> Response {
    let (jar, csrf) = session::csrf_token(state, jar);
    let user_name = user_name(current);
    let view = DeviceEntryView { locale, csrf_token: &csrf, user_code: typed, user_name: &user_name, problem };
    (jar, pages::device_entry(&view)).into_response()
}

/// A device authorization request still waiting for its user, found by its user code.
struct PendingRequest {
    user_code: UserCode,
    user_code_row: Token,
    device_code_row: Token,
    payload: DeviceCodePayload,
    client: Client,
}

/// The request a typed code names, if the code is one this provider issued, still valid and unexpired, for a
/// device code still waiting and unexpired. Every other case is `None`, told apart only in this function.
async fn find_request(
    state: &AppState,
    typed: &str,
    now: OffsetDateTime,
) -> Result<Option<PendingRequest>, StoreError> {
    let Some(user_code) = UserCode::parse(typed) else { return Ok(None) };
    let key = &state.user_code_key;
    // Rows written before user codes were keyed hold a plain SHA-256 digest and are not found: their codes get
    // "not valid", and they expire within `tokens.device_code_lifetime` (10 minutes), so no migration rewrites
    // them.
    let Some(user_code_row) = state.store.find_token_by_digest(&user_code.digest(key)).await? else { return Ok(None) };
    if user_code_row.token_type != TokenType::UserCode
        || user_code_row.status != TokenStatus::Valid
        || user_code_row.is_expired(now)
    {
        return Ok(None);
    }
    let link: UserCodePayload = read_payload(&user_code_row)?;
    let Some(device_code_row) = state.store.find_token(&link.device_code_id).await? else { return Ok(None) };
    if device_code_row.token_type != TokenType::DeviceCode
        || device_code_row.status != TokenStatus::Inactive
        || device_code_row.is_expired(now)
        || device_code_row.client_id != user_code_row.client_id
    {
        return Ok(None);
    }
    let payload: DeviceCodePayload = read_payload(&device_code_row)?;
    // The two rows must name each other: a user code can only ever answer for its own device code.
    if !user_code.matches_digest(key, &payload.user_code_digest) {
        return Ok(None);
    }
    let Some(client) = state.store.find_client(&device_code_row.client_id).await? else { return Ok(None) };
    Ok(Some(PendingRequest { user_code, user_code_row, device_code_row, payload, client }))
}

fn read_payload<T: Payload>(row: &Token) -> Result<T, StoreError> {
    T::read(row).map_err(|error| StoreError::Other(error.to_string()))
}

/// The scopes of a request in words, as the consent page shows them.
fn scope_lines(state: &AppState, scopes: &ScopeSet) -> Vec<ScopeLine> {
    let published = state.published();
    scopes
        .iter()
        .map(|name| match published.scope(name) {
            Some(scope) => ScopeLine {
                name: scope.name.clone(),
                display_name: scope.display_name.clone(),
                description: scope.description.clone(),
            },
            None => ScopeLine { name: name.to_string(), display_name: name.to_string(), description: None },
        })
        .collect()
}

fn scopes_of(request: &PendingRequest) -> Result<ScopeSet, OAuthError> {
    // Read (and checked) with the payload.
    Ok(request.payload.scope.clone())
}

/// RFC 8628 §3.3: the user sees which client asks for what. §3.3.1: "The authorization server SHOULD display the
/// "user_code" to the user and instruct the user to confirm that the "user_code" matches the code shown on the
/// device". §5.4 (remote phishing): "inform the user that they are authorizing a device [...] and to confirm
/// that the device is in their possession."
fn confirm(state: &AppState, jar: CookieJar, locale: Locale, current: &Current, request: &PendingRequest) -> Response {
    let scopes = match scopes_of(request) {
        Ok(scopes) => scope_lines(state, &scopes),
        Err(error) => return error_page(locale, &error),
    };
    let (jar, csrf) = session::csrf_token(state, jar);
    let user_name = user_name(current);
    let user_code = request.user_code.to_string();
    let view = DeviceConfirmView {
        locale,
        csrf_token: &csrf,
        user_code: &user_code,
        client_name: &request.client.display_name,
        user_name: &user_name,
        scopes: &scopes,
    };
    (jar, pages::device_confirm(&view)).into_response()
}

/// Records the consent (or reuses a remembered one that covers the request) and moves the device code to
/// `valid`, in one transaction.
async fn approve(
    state: &AppState,
    jar: CookieJar,
    locale: Locale,
    current: &Current,
    request: PendingRequest,
    now: OffsetDateTime,
) -> Response {
    let scopes = match scopes_of(&request) {
        Ok(scopes) => scopes,
        Err(error) => return error_page(locale, &error),
    };
    let client = &request.client;
    let existing = match state.store.find_permanent_authorizations(&current.user.id, &client.client_id).await {
        Ok(existing) => existing,
        Err(error) => return error_page(locale, &store_error(error)),
    };
    let new_consent = |kind: AuthorizationKind| {
        DeviceConsent::New(NewAuthorization {
            id: secret::new_id(),
            subject: current.user.id.clone(),
            client_id: client.client_id.clone(),
            kind,
            scopes: scopes.iter().map(str::to_string).collect(),
            created_at: now,
        })
    };
    // The page was always shown (a device is never approved silently, RFC 8628 §5.4); the client's consent type
    // decides only what the approval is recorded as.
    let consent = match consent::decide(client.consent_type, &BTreeSet::new(), &scopes, &existing) {
        ConsentDecision::UseExisting(authorization_id) => {
            DeviceConsent::Existing { authorization_id, subject: current.user.id.clone() }
        }
        ConsentDecision::GrantNew => new_consent(AuthorizationKind::Permanent),
        ConsentDecision::Ask => new_consent(consent::kind_after_consent(client.consent_type)),
        ConsentDecision::Refuse(error) => return error_page(locale, &error),
    };
    let mut payload = request.payload.clone();
    // The ID token's auth_time: when the approving user last entered their credentials.
    payload.auth_time = Some(current.session.auth_time);
    let payload = match serde_json::to_string(&payload) {
        Ok(payload) => payload,
        Err(error) => {
            return error_page(
                locale,
                &OAuthError::server_error("cannot record the approval").with_detail(error.to_string()),
            );
        }
    };
    let approval = DeviceApproval {
        device_code_id: request.device_code_row.id.clone(),
        user_code_id: request.user_code_row.id.clone(),
        consent,
        payload,
        now,
    };
    match state.store.approve_device_code(approval).await {
        Ok(true) => {
            tracing::info!(user = %current.user.id, client = %client.client_id, "device approved");
            pages::device_done(locale, DeviceOutcome::Approved)
        }
        // Answered in another tab, or expired, since the page was shown: not a guess, so not counted.
        Ok(false) => entry(state, jar, locale, current, "", Some(DeviceProblem::InvalidCode)),
        Err(error) => error_page(locale, &store_error(error)),
    }
}

async fn deny(
    state: &AppState,
    jar: CookieJar,
    locale: Locale,
    current: &Current,
    request: &PendingRequest,
    now: OffsetDateTime,
) -> Response {
    let denied = state
        .store
        .deny_device_code(&request.device_code_row.id, &request.user_code_row.id, &current.user.id, now)
        .await;
    match denied {
        Ok(true) => {
            tracing::info!(user = %current.user.id, client = %request.client.client_id, "device denied");
            pages::device_done(locale, DeviceOutcome::Denied)
        }
        Ok(false) => entry(state, jar, locale, current, "", Some(DeviceProblem::InvalidCode)),
        Err(error) => error_page(locale, &store_error(error)),
    }
}
