//! `/connect/userinfo` (OIDC Core §5.3): the signed-in user's claims, for an access token with `openid`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::OAuthError;
use portcullis_core::protocol::claims::user_claims;
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::scope::ScopeSet;

use crate::error::{ApiError, bearer_challenge, store_error};
use crate::state::AppState;
use crate::tokens::{self, ResolveError};

pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    userinfo(&state, &headers, None).await
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    userinfo(&state, &headers, Some(&body)).await
}

/// RFC 6750 §2.1 (header) and §2.2 (form body); "Clients MUST NOT use more than one method to transmit the
/// token in each request": the token in the header and in the body, or two `Authorization` headers, are
/// `invalid_request` (§3.1: the request "uses more than one method for including an access token"; checklist H1).
fn bearer(headers: &HeaderMap, body: Option<&[u8]>) -> Result<Option<String>, OAuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "the request has more than one Authorization header; send the access token once, in a single \
             `Authorization: Bearer` header",
        ));
    }
    let from_header = match first {
        Some(value) => {
            let value = value.to_str().unwrap_or_default();
            let token = value
                .split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim())
                .filter(|token| !token.is_empty())
                .ok_or_else(|| {
                    OAuthError::invalid_request("the Authorization header must be `Bearer <access token>`")
                })?;
            Some(token.to_string())
        }
        None => None,
    };
    let from_body = match body {
        Some(body) if !body.is_empty() => Params::parse(body)?.get("access_token").map(str::to_string),
        _ => None,
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "the access token was sent both in the header and in the body; send it once",
        )),
        (token, None) | (None, token) => Ok(token),
    }
}

async fn userinfo(state: &AppState, headers: &HeaderMap, body: Option<&[u8]>) -> Response {
    let presented = match bearer(headers, body) {
        Ok(Some(token)) => token,
        Ok(None) => return bearer_challenge(),
        Err(error) => return ApiError::bearer(error).into_response(),
    };
    match claims(state, &presented).await {
        Ok(claims) => {
            let mut response = Json(claims).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn claims(state: &AppState, presented: &str) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    let active = tokens::resolve_access_token(state, presented).await.map_err(|error| match error {
        ResolveError::Invalid(why) => ApiError::bearer(OAuthError::invalid_token(why)),
        ResolveError::Store(error) => ApiError::bearer(store_error(error)),
    })?;
    let scope = active.claims.get("scope").and_then(|scope| scope.as_str()).unwrap_or_default();
    let scopes = ScopeSet::parse(scope).unwrap_or_default();
    // OIDC Core §5.3.1: the userinfo endpoint serves access tokens obtained through an OpenID Connect request.
    if !scopes.contains("openid") {
        return Err(ApiError::bearer(OAuthError::insufficient_scope(
            "the access token lacks the openid scope the userinfo endpoint requires",
        )));
    }
    let gone = || ApiError::bearer(OAuthError::invalid_token("the user of this access token no longer exists"));
    let subject = active.token.subject.as_deref().ok_or_else(gone)?;
    let user = state.store.find_user(subject).await.map_err(|e| ApiError::bearer(store_error(e)))?.ok_or_else(gone)?;
    if user.disabled {
        return Err(gone());
    }
    Ok(user_claims(&user, &scopes))
}
