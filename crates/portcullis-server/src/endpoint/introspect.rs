//! `POST /connect/introspect` (RFC 7662) and `POST /connect/revoke` (RFC 7009): what a token is, and ending
//! it. Both require an authenticated client, and a client may only see or end tokens that concern it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::OAuthError;
use portcullis_core::model::{Client, Token, TokenStatus};
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::payload::{Payload, RefreshTokenPayload};
use serde_json::{Map, Value, json};

use crate::client_auth::{self, Method};
use crate::credentials::no_store_json;
use crate::error::{ApiError, Channel, store_error};
use crate::state::AppState;
use crate::tokens::{self, ResolveError};

/// A token found by its value: the row, and the claims an access token carries.
struct Found {
    token: Token,
    claims: Option<Map<String, Value>>,
}

/// Authenticates the caller; both endpoints need a client that proved who it is (RFC 7662 §2.1, RFC 7009 §2.1).
async fn caller(state: &AppState, headers: &HeaderMap, params: &Params) -> Result<(Client, Channel), ApiError> {
    let (client, method) = client_auth::authenticate(state, headers, params).await?;
    let channel = if method == Method::Basic { Channel::JsonBasic } else { Channel::Json };
    Ok((client, channel))
}

fn hint(params: &Params) -> Result<Option<&str>, OAuthError> {
    match params.get("token_type_hint") {
        None => Ok(None),
        Some(hint @ ("access_token" | "refresh_token")) => Ok(Some(hint)),
        // RFC 7009 §2.2.1: "unsupported_token_type: The authorization server does not support the revocation
        // of the presented token type."
        Some(other) => Err(OAuthError::unsupported_token_type(format!(
            "token_type_hint {other:?} is not supported; use access_token or refresh_token"
        ))),
    }
}

/// Looks the value up as the hinted type first, then as the other (RFC 7009 §2.1: the hint only speeds up the
/// search).
async fn find(state: &AppState, value: &str, hint: Option<&str>) -> Result<Option<Found>, OAuthError> {
    let as_refresh = async {
        let token = tokens::find_refresh_token(state, value).await.map_err(store_error)?;
        Ok::<_, OAuthError>(token.map(|token| Found { token, claims: None }))
    };
    let as_access = async {
        match tokens::find_access_token(state, value).await {
            Ok(active) => Ok(Some(Found { token: active.token, claims: Some(active.claims) })),
            Err(ResolveError::Invalid(_)) => Ok(None),
            Err(ResolveError::Store(error)) => Err(store_error(error)),
        }
    };
    if hint == Some("refresh_token") {
        if let Some(found) = as_refresh.await? {
            return Ok(Some(found));
        }
        return as_access.await;
    }
    if let Some(found) = as_access.await? {
        return Ok(Some(found));
    }
    as_refresh.await
}

/// Checklist V1: the client the token was issued to, or a resource server named in its audience.
fn concerns(found: &Found, client: &Client) -> bool {
    if found.token.client_id == client.client_id {
        return true;
    }
    let named = |aud: &Value| aud.as_str() == Some(client.client_id.as_str());
    match found.claims.as_ref().and_then(|claims| claims.get("aud")) {
        Some(Value::Array(audiences)) => audiences.iter().any(named),
        Some(audience) => named(audience),
        None => false,
    }
}

pub async fn introspect(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match introspection(&state, &headers, &body).await {
        Ok(answer) => no_store_json(answer),
        Err(error) => error.into_response(),
    }
}

async fn introspection(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let params = Params::parse(body)?;
    let (client, channel) = caller(state, headers, &params).await?;
    let fail = |error: OAuthError| ApiError::json(error).with_channel(channel);
    // RFC 7662 §2.1: "the endpoint MUST also require some form of authorization": a secret, not just an id.
    if client.is_public() {
        return Err(fail(OAuthError::invalid_client(format!(
            "client {:?} is public; introspection needs a confidential client that authenticates with its secret",
            client.client_id
        ))));
    }
    let value = params.require("token").map_err(fail)?;
    let hint = hint(&params).map_err(fail)?;
    // RFC 7662 §2.2: anything not active, or not the caller's to see, is `{"active": false}` and nothing else.
    let inactive = json!({ "active": false });
    let Some(found) = find(state, value, hint).await.map_err(fail)? else { return Ok(inactive) };
    let now = state.clock.now();
    if found.token.status != TokenStatus::Valid || found.token.is_expired(now) || !concerns(&found, &client) {
        return Ok(inactive);
    }
    let mut answer = Map::new();
    answer.insert("active".into(), Value::Bool(true));
    match &found.claims {
        Some(claims) => {
            // RFC 7662 §2.2 allows more members: `role` lets a resource server apply role policies without a
            // second call.
            for name in ["scope", "client_id", "sub", "exp", "iat", "nbf", "iss", "aud", "jti", "role", "auth_time"] {
                if let Some(value) = claims.get(name) {
                    answer.insert(name.into(), value.clone());
                }
            }
            answer.insert("token_type".into(), Value::from("Bearer"));
        }
        None => {
            let payload = RefreshTokenPayload::read(&found.token).map_err(|error| fail(error.into()))?;
            answer.insert("scope".into(), Value::from(payload.scope.to_string()));
            answer.insert("client_id".into(), Value::from(found.token.client_id.clone()));
            if let Some(subject) = &found.token.subject {
                answer.insert("sub".into(), Value::from(subject.clone()));
            }
            if let Some(expires_at) = found.token.expires_at {
                answer.insert("exp".into(), Value::from(expires_at.unix_timestamp()));
            }
            answer.insert("iat".into(), Value::from(found.token.created_at.unix_timestamp()));
            answer.insert("iss".into(), Value::from(state.settings.issuer.as_str()));
            answer.insert("jti".into(), Value::from(found.token.id.clone()));
            answer.insert("token_type".into(), Value::from("refresh_token"));
        }
    }
    if let Some(subject) = &found.token.subject
        && let Some(user) = state.store.find_user(subject).await.map_err(|e| fail(store_error(e)))?
    {
        answer.insert("username".into(), Value::from(user.username));
    }
    Ok(Value::Object(answer))
}

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match revocation(&state, &headers, &body).await {
        // RFC 7009 §2.2: "The authorization server responds with HTTP status code 200 if the token has been
        // revoked successfully or if the client submitted an invalid token."
        Ok(()) => no_store_json(json!({})),
        Err(error) => error.into_response(),
    }
}

async fn revocation(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let params = Params::parse(body)?;
    let (client, channel) = caller(state, headers, &params).await?;
    let fail = |error: OAuthError| ApiError::json(error).with_channel(channel);
    let value = params.require("token").map_err(fail)?;
    let hint = hint(&params).map_err(fail)?;
    // Checklist V3: an unknown token is not an error.
    let Some(found) = find(state, value, hint).await.map_err(fail)? else { return Ok(()) };
    // Checklist V1. RFC 7009 §2.1: the server "verifies whether the token was issued to the client making the
    // revocation request"; a resource server named in the audience may end an access token it was given.
    let allowed =
        found.token.client_id == client.client_id || (client.permissions.revocation && concerns(&found, &client));
    if !allowed {
        return Err(fail(OAuthError::unauthorized_client(format!(
            "client {:?} may not revoke a token issued to another client",
            client.client_id
        ))));
    }
    // Checklist V2: a storage failure must not look like success, so every error here becomes 503/500.
    let store = &state.store;
    match (&found.claims, &found.token.family_id, &found.token.authorization_id) {
        // RFC 7009 §2.1: revoking a refresh token "SHOULD also invalidate all access tokens based on the same
        // authorization grant": the sign-in it belongs to (its family), not the user's other sign-ins with the
        // same client, which share the remembered consent (checklist V5).
        (None, Some(family_id), _) => {
            store.revoke_family(family_id).await.map_err(|e| fail(store_error(e)))?;
        }
        // A refresh token from before families existed.
        (None, None, Some(authorization_id)) => {
            store.revoke_tokens_by_authorization(authorization_id).await.map_err(|e| fail(store_error(e)))?;
        }
        _ => {
            store.revoke_token(&found.token.id).await.map_err(|e| fail(store_error(e)))?;
        }
    }
    tracing::info!(token = %found.token.id, client = %client.client_id, "token revoked");
    Ok(())
}
