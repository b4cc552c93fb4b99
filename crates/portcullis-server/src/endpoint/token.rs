//! `POST /connect/token` (RFC 6749 §3.2): authenticate the client, load the facts the grant needs, ask core's
//! rules (`portcullis_core::protocol::grant`), apply the decision in one store call, answer.
//!
//! One file per grant below this one loads that grant's facts; a new grant adds a file there, a module in
//! core, and an arm in [`decide`].

mod authorization_code;
mod client_credentials;
mod device_code;
mod password;
mod refresh_token;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::OAuthError;
use portcullis_core::model::{Client, GrantType};
use portcullis_core::protocol::grant::{self, LostRace, Refusal, Revoke};
use portcullis_core::protocol::params::Params;

use crate::credentials::{authenticated_form, no_store_json};
use crate::error::{ApiError, store_error};
use crate::metadata::GRANT_TYPES;
use crate::state::AppState;
use crate::tokens::{self, Decided, TokenResponse, Written};

/// How often a grant is decided again when the presented token changed under it and the decision says to
/// reconsider (a refresh token rotated by a parallel request). The second decision reads the token as the
/// winner left it, so a third is only needed under a storm of requests for one token.
const ATTEMPTS: usize = 3;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match handle(&state, &headers, query.as_deref(), &body).await {
        Ok(response) => no_store_json(response),
        Err(error) => error.into_response(),
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<TokenResponse, ApiError> {
    let (params, client, channel) = authenticated_form(state, headers, query, body, "token request").await?;
    grant(state, &client, &params).await.map_err(|error| ApiError::json(error).with_channel(channel))
}

/// The token request of a client already authenticated: its `grant_type`, decided and applied.
pub async fn grant(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, OAuthError> {
    let grant = grant::grant_type(client, params.require("grant_type")?, &GRANT_TYPES)?;
    for _ in 0..ATTEMPTS {
        let decided = match decide(state, client, params, grant).await {
            Ok(decided) => decided,
            Err(refusal) => return Err(refuse(state, refusal).await),
        };
        match tokens::issue(state, client, decided).await.map_err(tokens::issue_error)? {
            Written::Issued(response) => return Ok(response),
            Written::Lost(LostRace::Refuse(refusal)) => return Err(refuse(state, refusal).await),
            Written::Lost(LostRace::Reconsider) => {}
        }
    }
    Err(OAuthError::temporarily_unavailable(
        "other requests kept changing the presented token while this one was answered; try again",
    ))
}

async fn decide(state: &AppState, client: &Client, params: &Params, grant: GrantType) -> Result<Decided, Refusal> {
    match grant {
        GrantType::AuthorizationCode => authorization_code::decide(state, client, params).await,
        GrantType::RefreshToken => refresh_token::decide(state, client, params).await,
        GrantType::ClientCredentials => client_credentials::decide(state, client, params),
        GrantType::Password => password::decide(state, client, params).await,
        GrantType::DeviceCode => device_code::decide(state, client, params).await,
    }
}

/// Stores what a refusal revokes, then gives its error. The revocation is kept although the request fails: a
/// replay must leave its trace (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
async fn refuse(state: &AppState, refusal: Refusal) -> OAuthError {
    let revoked = match &refusal.revoke {
        None => return refusal.error,
        Some(Revoke::Family(family_id)) => state.store.revoke_family(family_id).await,
        Some(Revoke::TokensOfAuthorization(authorization_id)) => {
            state.store.revoke_tokens_by_authorization(authorization_id).await
        }
    };
    match revoked {
        Ok(count) => {
            tracing::warn!(
                revoke = ?refusal.revoke,
                revoked = count,
                reason = %refusal.error.description,
                "a replay revoked its sign-in"
            );
            refusal.error
        }
        Err(error) => store_error(error),
    }
}
