//! The device authorization grant (RFC 8628), for devices that cannot show a browser: the device asks for codes
//! at `POST /connect/device` (§3.1–3.2), the user approves at `/connect/verify` in a browser elsewhere (§3.3,
//! [`verify`]), and the device polls the token endpoint until it gets tokens (§3.4–3.5, the token endpoint's
//! `device_code` grant).
//!
//! A request is two token rows written together (see `portcullis_core::protocol::device`): the device code,
//! `inactive` until the user answers, then `valid` (approved) or `revoked` (denied), and `redeemed` once the
//! device has its tokens; and the user code, `valid` until the user answers with it.

mod attempts;
pub mod verify;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::model::{Client, GrantType, NewToken, TokenStatus, TokenType};
use portcullis_core::protocol::device::{UserCode, UserCodeKey};
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::payload::{DeviceCodePayload, Payload, PayloadError, UserCodePayload};
use portcullis_core::protocol::scope::ScopeSet;
use portcullis_core::store::StoreError;
use portcullis_core::{OAuthError, secret};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::credentials::{authenticated_form, no_store_json};
use crate::error::{ApiError, store_error};
use crate::metadata::DEVICE_VERIFY_PATH;
use crate::state::AppState;

pub use verify::verify_routes;

/// How many user codes are drawn before giving up when each one collides with a code already stored. One
/// collision among live codes is already unlikely (20^8 values); several in a row mean something is wrong.
const USER_CODE_DRAWS: usize = 5;

/// RFC 8628 §3.2 device authorization response.
#[derive(Clone, Serialize)]
pub struct DeviceAuthorizationResponse {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: u64,
}

/// Both codes are credentials (the device code gets the tokens, the user code approves a device): a debug print
/// or a log line must never show them.
impl std::fmt::Debug for DeviceAuthorizationResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceAuthorizationResponse")
            .field("device_code", &"[redacted]")
            .field("user_code", &"[redacted]")
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

/// `POST /connect/device`.
pub async fn device_authorization(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match handle(&state, &headers, query.as_deref(), &body).await {
        // The answer carries the device code, a credential: no cache may keep it (as RFC 6749 §5.1 for tokens).
        Ok(answer) => no_store_json(answer),
        Err(error) => error.into_response(),
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<DeviceAuthorizationResponse, ApiError> {
    // RFC 8628 §3.1: client_id is "REQUIRED if the client is not authenticating with the authorization server as
    // described in Section 3.2.1 of [RFC6749]"; confidential clients authenticate as at the token endpoint.
    let (params, client, channel) =
        authenticated_form(state, headers, query, body, "device authorization request").await?;
    authorize_device(state, &client, &params).await.map_err(|error| ApiError::json(error).with_channel(channel))
}

/// RFC 8628 §3.1–3.2 for an authenticated client: checks the grant and the scope, records the two codes, and
/// answers with them.
async fn authorize_device(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<DeviceAuthorizationResponse, OAuthError> {
    // RFC 6749 §5.2 unauthorized_client: "The authenticated client is not authorized to use this authorization
    // grant type."
    if !client.permissions.allows_grant(GrantType::DeviceCode) {
        return Err(OAuthError::unauthorized_client(format!(
            "client {:?} is not allowed the device authorization grant ({}); register the grant for it",
            client.client_id,
            GrantType::DeviceCode.as_str()
        )));
    }
    let scopes = requested_scopes(state, client, params)?;
    let now = state.clock.now();
    let lifetime = state.settings.tokens.device_code_lifetime;
    let expires_at = now.saturating_add(lifetime);
    for _ in 0..USER_CODE_DRAWS {
        // RFC 8628 §5.2: "As the device code is not displayed to the user and thus there are no usability
        // considerations on the length, a very high entropy code SHOULD be used": 256 random bits.
        let device_code = secret::generate().map_err(no_randomness)?;
        let user_code = UserCode::generate().map_err(no_randomness)?;
        let (device_row, user_row) =
            rows(client, &device_code, (&user_code, &state.user_code_key), &scopes, now, expires_at)?;
        match state.store.create_device_codes(device_row, user_row).await {
            Ok(()) => return Ok(response(state, device_code, &user_code, lifetime)),
            Err(StoreError::Conflict(what)) => {
                tracing::info!(what, "a new user code collided with a stored one; drawing another");
            }
            Err(error) => return Err(store_error(error)),
        }
    }
    Err(OAuthError::server_error("the provider could not draw a free user code; try again")
        .with_detail(format!("{USER_CODE_DRAWS} user codes in a row collided with stored ones")))
}

/// The `scope` parameter, required here, known to the provider and permitted to the client.
fn requested_scopes(state: &AppState, client: &Client, params: &Params) -> Result<ScopeSet, OAuthError> {
    // RFC 6749 §3.3: "If the client omits the scope parameter when requesting authorization, the authorization
    // server MUST either process the request using a pre-defined default value or fail the request indicating an
    // invalid scope." No default fits every device, so the request fails.
    let Some(requested) = params.get("scope") else {
        return Err(OAuthError::invalid_scope(
            "the scope parameter is required: request the scopes the device needs, e.g. \"openid offline_access\"",
        ));
    };
    let scopes = ScopeSet::parse(requested)?;
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope("the scope parameter names no scope"));
    }
    scopes.check_known(&state.published().scope_names)?;
    scopes.check_permitted(client)?;
    Ok(scopes)
}

/// The device code's row and the user code's row; they expire together.
fn rows(
    client: &Client,
    device_code: &str,
    (user_code, key): (&UserCode, &UserCodeKey),
    scopes: &ScopeSet,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(NewToken, NewToken), OAuthError> {
    let device_id = secret::new_id();
    let device_payload = DeviceCodePayload::new(scopes.clone(), user_code, key);
    let user_payload = UserCodePayload { device_code_id: device_id.clone() };
    let unwritable = |error: PayloadError| {
        OAuthError::server_error("the provider could not record the device authorization")
            .with_detail(error.to_string())
    };
    let device = NewToken {
        id: device_id,
        token_type: TokenType::DeviceCode,
        subject: None,
        client_id: client.client_id.clone(),
        authorization_id: None,
        reference_digest: Some(secret::digest(device_code)),
        status: TokenStatus::Inactive,
        created_at: now,
        expires_at: Some(expires_at),
        payload: Some(device_payload.write().map_err(unwritable)?),
        family_id: None,
    };
    let user = NewToken {
        id: secret::new_id(),
        token_type: TokenType::UserCode,
        // Keyed (HMAC), unlike the device code's plain SHA-256: a user code has too few bits for a plain digest.
        reference_digest: Some(user_code.digest(key)),
        status: TokenStatus::Valid,
        payload: Some(user_payload.write().map_err(unwritable)?),
        ..device.clone()
    };
    Ok((device, user))
}

fn response(
    state: &AppState,
    device_code: String,
    user_code: &UserCode,
    lifetime: Duration,
) -> DeviceAuthorizationResponse {
    let verification_uri = state.settings.issuer.endpoint(DEVICE_VERIFY_PATH);
    let mut complete = url::Url::parse(&verification_uri).ok();
    if let Some(url) = complete.as_mut() {
        url.query_pairs_mut().append_pair("user_code", &user_code.to_string());
    }
    DeviceAuthorizationResponse {
        device_code,
        user_code: user_code.to_string(),
        // RFC 8628 §3.2 verification_uri_complete: "A verification URI that includes the "user_code" [...]
        // which is designed for non-textual transmission" (a QR code).
        verification_uri_complete: complete
            .map(String::from)
            .unwrap_or_else(|| format!("{verification_uri}?user_code={}", user_code.normalized())),
        verification_uri,
        expires_in: lifetime.whole_seconds(),
        interval: portcullis_core::protocol::device::DEFAULT_INTERVAL,
    }
}

fn no_randomness(error: impl std::fmt::Display) -> OAuthError {
    OAuthError::server_error("no randomness available").with_detail(error.to_string())
}
