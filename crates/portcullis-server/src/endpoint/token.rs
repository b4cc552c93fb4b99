//! `POST /connect/token` (RFC 6749 §3.2): client authentication, then one function per grant type.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use portcullis_core::OAuthError;
use portcullis_core::model::{Client, GrantType, Token, TokenStatus, TokenType};
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::pkce::{self, CodeChallenge};
use portcullis_core::protocol::scope::ScopeSet;
use portcullis_core::secret;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::credentials::{authenticated_form, no_store_json};
use crate::endpoint::grant_facts::{active_user, iso, issue_error, live_authorization};
use crate::error::{ApiError, store_error};
use crate::metadata::GRANT_TYPES;
use crate::state::AppState;
use crate::tokens::{self, Grant, RefreshTokenPayload, Subject, TokenResponse};

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
    let grant_type = params.require("grant_type").map_err(|e| ApiError::json(e).with_channel(channel))?;
    let result = match GrantType::parse(grant_type) {
        None => Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {grant_type:?} is not supported; use one of: {}",
            GRANT_TYPES.join(", ")
        ))),
        // RFC 6749 §5.2 unauthorized_client: "not authorized to use this authorization grant type".
        Some(grant) if !client.permissions.allows_grant(grant) => Err(OAuthError::unauthorized_client(format!(
            "client {:?} is not allowed the {} grant",
            client.client_id,
            grant.as_str()
        ))),
        Some(GrantType::AuthorizationCode) => authorization_code(state, &client, &params).await,
        Some(GrantType::RefreshToken) => refresh_token(state, &client, &params).await,
        Some(GrantType::ClientCredentials) => client_credentials(state, &client, &params).await,
        Some(GrantType::Password) => password(state, &client, &params).await,
        Some(GrantType::DeviceCode) => crate::endpoint::device::device_code_grant(state, &client, &params).await,
    };
    result.map_err(|error| ApiError::json(error).with_channel(channel))
}

/// What the authorization endpoint recorded with a code.
#[derive(Debug, Deserialize)]
struct CodePayload {
    redirect_uri: String,
    redirect_uri_in_request: bool,
    code_challenge: Option<String>,
    nonce: Option<String>,
    scope: String,
    auth_time: i64,
    sid: Option<String>,
}

fn unreadable(token: &Token, what: &str) -> OAuthError {
    OAuthError::server_error("the provider could not read what it recorded for this grant")
        .with_detail(format!("{what} {} has an unreadable payload", token.id))
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.6.
async fn authorization_code(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, OAuthError> {
    let code = params.require("code")?;
    let now = state.clock.now();
    // Checklist C3: a code is bound to the client it was issued to.
    let row = presented_row(state, client, code, TokenType::AuthorizationCode, "request a new one").await?;
    if row.status != TokenStatus::Valid {
        return Err(replayed(state, &row).await);
    }
    if row.is_expired(now) {
        return Err(OAuthError::invalid_grant(format!(
            "the authorization code expired at {}; request a new one",
            iso(row.expires_at)
        )));
    }
    let payload: CodePayload =
        serde_json::from_str(row.payload.as_deref().unwrap_or_default()).map_err(|_| unreadable(&row, "code"))?;
    // RFC 6749 §4.1.3: redirect_uri is "REQUIRED, if the "redirect_uri" parameter was included in the
    // authorization request", "and their values MUST be identical" (checklist C4).
    match params.get("redirect_uri") {
        Some(sent) if sent != payload.redirect_uri => {
            return Err(OAuthError::invalid_grant(format!(
                "redirect_uri {sent:?} differs from {:?}, the one of the authorization request",
                payload.redirect_uri
            )));
        }
        None if payload.redirect_uri_in_request => {
            return Err(OAuthError::invalid_request(format!(
                "redirect_uri is required: the authorization request sent {:?}",
                payload.redirect_uri
            )));
        }
        _ => {}
    }
    let challenge = payload
        .code_challenge
        .as_deref()
        .map(|value| CodeChallenge::parse(value, Some("S256")))
        .transpose()
        .map_err(|_| unreadable(&row, "code"))?;
    pkce::verify_token_request(challenge.as_ref(), params.get("code_verifier"))?;
    // The one state change: whoever loses a race for the same code sees a replay (checklist C2).
    if !state.store.redeem_token(&row.id, now).await.map_err(store_error)? {
        return Err(replayed(state, &row).await);
    }
    let user = active_user(state, row.subject.as_deref()).await?;
    let authorization_id = live_authorization(state, row.authorization_id.as_deref()).await?;
    let scopes = ScopeSet::parse(&payload.scope).map_err(|_| unreadable(&row, "code"))?;
    let grant = Grant {
        client,
        subject: Subject::User(&user),
        authorization_id,
        issue_refresh_token: scopes.contains("offline_access")
            && client.permissions.allows_grant(GrantType::RefreshToken),
        issue_id_token: scopes.contains("openid"),
        scopes,
        nonce: payload.nonce,
        auth_time: OffsetDateTime::from_unix_timestamp(payload.auth_time).ok(),
        sid: payload.sid,
        previous_refresh_token_id: None,
    };
    let response = tokens::issue(state, grant).await.map_err(issue_error)?;
    revoke_if_replayed(state, &row).await?;
    Ok(response)
}

/// The row behind a code or refresh token a client presents, of that type and issued to that client.
async fn presented_row(
    state: &AppState,
    client: &Client,
    value: &str,
    kind: TokenType,
    remedy: &str,
) -> Result<Token, OAuthError> {
    let what = kind.as_str().replace('_', " ");
    let row = state
        .store
        .find_token_by_digest(&secret::digest(value))
        .await
        .map_err(store_error)?
        .filter(|row| row.token_type == kind)
        .ok_or_else(|| OAuthError::invalid_grant(format!("the {what} is unknown; {remedy}")))?;
    if row.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(format!(
            "the {what} was issued to another client than {:?}",
            client.client_id
        )));
    }
    Ok(row)
}

/// RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization server MUST deny the
/// request and SHOULD revoke (when possible) all tokens previously issued based on that authorization code."
async fn replayed(state: &AppState, row: &Token) -> OAuthError {
    if let Some(authorization_id) = &row.authorization_id {
        match state.store.revoke_tokens_by_authorization(authorization_id).await {
            Ok(count) => {
                tracing::warn!(code = %row.id, revoked = count, "authorization code replayed; its tokens are revoked")
            }
            Err(error) => return store_error(error),
        }
    }
    OAuthError::invalid_grant("the authorization code was already used; the tokens issued with it are revoked")
}

/// RFC 6749 §6, with rotation: every use returns a new refresh token, and the old one stops working.
async fn refresh_token(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, OAuthError> {
    let presented = params.require("refresh_token")?;
    let now = state.clock.now();
    let unknown = || OAuthError::invalid_grant("the refresh token is unknown; sign in again");
    // Checklist F4: a refresh token is bound to its client.
    let row = presented_row(state, client, presented, TokenType::RefreshToken, "sign in again").await?;
    if row.is_expired(now) {
        return Err(OAuthError::invalid_grant(format!(
            "the refresh token expired at {}; sign in again",
            iso(row.expires_at)
        )));
    }
    let payload = RefreshTokenPayload::read(&row).map_err(|_| unreadable(&row, "refresh token"))?;
    let granted = ScopeSet::parse(&payload.scope).map_err(|_| unreadable(&row, "refresh token"))?;
    // RFC 6749 §6: the scope "MUST NOT include any scope not originally granted".
    let scopes = match params.get("scope") {
        Some(requested) => {
            let requested = ScopeSet::parse(requested)?;
            requested.check_within_granted(&granted)?;
            requested
        }
        None => granted,
    };
    // Who and what the token stands for is checked before it is spent: a refresh refused because the account
    // is locked must leave the token usable once the lock ends.
    let user = active_user(state, row.subject.as_deref()).await?;
    // Checklist F5: credentials changed since the token was issued.
    if payload.security_stamp.as_deref().is_some_and(|stamp| stamp != user.security_stamp) {
        return Err(OAuthError::invalid_grant(
            "the user's credentials changed since this refresh token was issued; sign in again",
        ));
    }
    let authorization_id = live_authorization(state, row.authorization_id.as_deref()).await?;
    match row.status {
        TokenStatus::Valid => {
            if !state.store.redeem_token(&row.id, now).await.map_err(store_error)? {
                // Another request rotated it a moment ago: judge this one as a reuse.
                let current = state.store.find_token(&row.id).await.map_err(store_error)?.ok_or_else(unknown)?;
                check_reuse(state, &current, now).await?;
            }
        }
        TokenStatus::Redeemed => check_reuse(state, &row, now).await?,
        TokenStatus::Revoked | TokenStatus::Inactive => {
            return Err(OAuthError::invalid_grant("the refresh token was revoked; sign in again"));
        }
    }
    let grant = Grant {
        client,
        subject: Subject::User(&user),
        authorization_id,
        issue_refresh_token: true,
        issue_id_token: scopes.contains("openid"),
        scopes,
        nonce: None,
        auth_time: payload.auth_time,
        sid: payload.sid,
        previous_refresh_token_id: Some(row.id.clone()),
    };
    let response = tokens::issue(state, grant).await.map_err(issue_error)?;
    revoke_if_replayed(state, &row).await?;
    Ok(response)
}

/// A replay detected while this request was issuing (a parallel use of the same code or refresh token) revoked
/// the authorization's tokens, possibly before ours were written: the presented row, revoked with them, tells.
/// Then ours are revoked too. The answer still goes out — exactly one of the racing requests succeeds
/// (checklist C2) — but what it carries is already dead (C1, F1).
async fn revoke_if_replayed(state: &AppState, row: &Token) -> Result<(), OAuthError> {
    let current = state.store.find_token(&row.id).await.map_err(store_error)?;
    if current.is_some_and(|current| current.status != TokenStatus::Revoked) {
        return Ok(());
    }
    if let Some(authorization_id) = &row.authorization_id {
        let count = state.store.revoke_tokens_by_authorization(authorization_id).await.map_err(store_error)?;
        tracing::warn!(token = %row.id, revoked = count, "replayed while issuing; the new tokens are revoked too");
    }
    Ok(())
}

/// The rotation leeway (checklist F1, F2): a refresh token rotated moments ago may be used again — two tabs
/// refreshing at once — but only while its successor is unused. Anything else is a replay, which RFC 9700
/// §4.14.2 answers by revoking every token of the authorization.
async fn check_reuse(state: &AppState, row: &Token, now: OffsetDateTime) -> Result<(), OAuthError> {
    let leeway = state.settings.tokens.refresh_token_reuse_leeway;
    let within_leeway = row.redeemed_at.is_some_and(|at| now < at + leeway);
    if within_leeway && let Some(authorization_id) = &row.authorization_id {
        let siblings = state.store.list_tokens_of_authorization(authorization_id).await.map_err(store_error)?;
        // The successor may not be recorded yet (the other tab's request is still issuing it): what matters is
        // that no successor was itself used or revoked.
        let successor_used = siblings.iter().any(|token| {
            token.token_type == TokenType::RefreshToken
                && matches!(token.status, TokenStatus::Redeemed | TokenStatus::Revoked)
                && RefreshTokenPayload::read(token).ok().and_then(|p| p.previous).as_deref() == Some(row.id.as_str())
        });
        if !successor_used {
            return Ok(());
        }
    }
    if let Some(authorization_id) = &row.authorization_id {
        let count = state.store.revoke_tokens_by_authorization(authorization_id).await.map_err(store_error)?;
        tracing::warn!(token = %row.id, revoked = count, "refresh token replayed; the authorization's tokens are revoked");
    }
    Err(OAuthError::invalid_grant(
        "the refresh token was already used; every token of this sign-in is revoked, sign in again",
    ))
}

/// The scopes a grant without a user asks for: as requested (each known and permitted), or when none is
/// requested, every scope the client is permitted (RFC 6749 §3.3 lets the server apply a default).
fn requested_scopes(state: &AppState, client: &Client, params: &Params) -> Result<ScopeSet, OAuthError> {
    let scopes = match params.get("scope") {
        Some(scope) => ScopeSet::parse(scope)?,
        None => ScopeSet::from_tokens(client.permissions.scopes.iter())?,
    };
    scopes.check_known(&state.published().scope_names)?;
    scopes.check_permitted(client)?;
    Ok(scopes)
}

/// A consent for this one grant, tied to the tokens so revoking either revokes both; pruned with them.
async fn ad_hoc_authorization(
    state: &AppState,
    subject: &str,
    client: &Client,
    scopes: &ScopeSet,
) -> Result<String, OAuthError> {
    let authorization = portcullis_core::model::NewAuthorization {
        id: secret::new_id(),
        subject: subject.to_string(),
        client_id: client.client_id.clone(),
        kind: portcullis_core::model::AuthorizationKind::AdHoc,
        scopes: scopes.iter().map(str::to_string).collect(),
        created_at: state.clock.now(),
    };
    Ok(state.store.create_authorization(authorization).await.map_err(store_error)?.id)
}

/// RFC 6749 §4.4: the client acts for itself. No refresh token (§4.4.3: "A refresh token SHOULD NOT be
/// included") and no ID token, since there is no end-user (checklist T8).
async fn client_credentials(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, OAuthError> {
    // §4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() {
        return Err(OAuthError::unauthorized_client(format!(
            "client {:?} is public; the client_credentials grant needs a confidential client",
            client.client_id
        )));
    }
    let scopes = requested_scopes(state, client, params)?;
    let authorization_id = ad_hoc_authorization(state, &client.client_id, client, &scopes).await?;
    let grant = Grant {
        client,
        subject: Subject::Client,
        authorization_id,
        scopes,
        nonce: None,
        auth_time: None,
        sid: None,
        issue_refresh_token: false,
        issue_id_token: false,
        previous_refresh_token_id: None,
    };
    tokens::issue(state, grant).await.map_err(issue_error)
}

/// RFC 6749 §4.3: the resource owner's password, for the clients explicitly allowed this grant. It shares
/// the login page's lockout, and answers alike for an unknown user and a wrong password (checklist U1).
async fn password(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, OAuthError> {
    let username = params.require("username")?;
    let password = params.require("password")?.to_string();
    let scopes = requested_scopes(state, client, params)?;
    let user = match crate::endpoint::login::check_credentials(state, username, password).await.map_err(store_error)? {
        crate::endpoint::login::SignIn::Accepted(user) => user,
        crate::endpoint::login::SignIn::Refused(crate::pages::LoginProblem::LockedOut) => {
            return Err(OAuthError::invalid_grant(
                "the account is locked after too many failed sign-ins; try again later",
            ));
        }
        crate::endpoint::login::SignIn::Refused(_) => {
            return Err(OAuthError::invalid_grant("the user name or the password is wrong"));
        }
    };
    let authorization_id = ad_hoc_authorization(state, &user.id, client, &scopes).await?;
    let grant = Grant {
        client,
        subject: Subject::User(&user),
        authorization_id,
        issue_refresh_token: scopes.contains("offline_access")
            && client.permissions.allows_grant(GrantType::RefreshToken),
        issue_id_token: scopes.contains("openid"),
        scopes,
        nonce: None,
        auth_time: Some(state.clock.now()),
        sid: None,
        previous_refresh_token_id: None,
    };
    tokens::issue(state, grant).await.map_err(issue_error)
}
