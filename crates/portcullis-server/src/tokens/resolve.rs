//! Resolution: from the value a client presents back to the recorded token, for userinfo, introspection and
//! revocation.
//!
//! The store row is the authority on whether a token is still good (revocation must take effect at once), so
//! every format ends with the same row checks; the JWT formats only add a signature check on the way in.

use portcullis_core::model::{Token, TokenStatus, TokenType};
use portcullis_core::secret;
use portcullis_core::store::StoreError;
use portcullis_jose::{JoseError, Keyring, SigningAlg, VerifiedHeader};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::issue::ACCESS_TOKEN_TYP;
use super::{ActiveToken, ResolveError};
use crate::state::AppState;

/// Finds an access token by the value a client presents, in any of the three formats, and checks it is active.
///
/// Every access token is recorded with the SHA-256 digest of its value, so the row is found by that digest
/// whatever the format: only the exact value the provider issued has it, which proves as much as a signature
/// would, and it costs no private-key decryption of a JWE. Tokens recorded before digests were kept for every
/// format (they expire within `tokens.access_token_lifetime`) are read the old way:
/// - five dot-separated parts: a JWE (`encrypted`): decrypted, then verified as below;
/// - three parts: a JWS (`jwt`): verified with our ES256 keys, `typ` must be `at+jwt`, and its `jti` names
///   the row.
///
/// The row must then be an access token, `valid`, and not expired at `state.clock.now()`.
pub async fn resolve_access_token(state: &AppState, presented: &str) -> Result<ActiveToken, ResolveError> {
    let found = find_access_token(state, presented).await?;
    check_active(&found.token, state.clock.now())?;
    Ok(found)
}

/// Finds the recorded access token behind a presented value, whatever its status (revocation must find
/// revoked and expired ones too). The signature of a JWT is still checked: an unverified `jti` could name
/// someone else's token.
pub async fn find_access_token(state: &AppState, presented: &str) -> Result<ActiveToken, ResolveError> {
    if presented.is_empty() {
        return Err(invalid("the access token is empty"));
    }
    if let Some(token) = state.store.find_token_by_digest(&secret::digest(presented)).await? {
        check_type(&token)?;
        let claims = recorded_claims(&token)?;
        return Ok(ActiveToken { token, claims });
    }
    let (token, claims) = match presented.bytes().filter(|byte| *byte == b'.').count() {
        2 | 4 => {
            let claims = verify_jwt(state, presented).await?;
            let jti = claims
                .get("jti")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("the access token has no \"jti\" claim"))?;
            // Looked up by `jti`, so the row's id is the token's `jti` by construction.
            let token = state.store.find_token(jti).await?.ok_or_else(|| invalid("the access token is unknown"))?;
            (token, claims)
        }
        _ => return Err(invalid("the access token is unknown")),
    };
    check_type(&token)?;
    Ok(ActiveToken { token, claims })
}

/// Finds a refresh token row by its value, whatever its status: the refresh grant must see redeemed ones to
/// apply the reuse rule. Rows of other types (codes, reference access tokens) are not refresh tokens.
pub async fn find_refresh_token(state: &AppState, presented: &str) -> Result<Option<Token>, StoreError> {
    if presented.is_empty() {
        return Ok(None);
    }
    let token = state.store.find_token_by_digest(&secret::digest(presented)).await?;
    Ok(token.filter(|token| token.token_type == TokenType::RefreshToken))
}

/// Signature (and for a JWE, decryption) with our keys, and the RFC 9068 `typ`; claims are judged by the row.
/// A token naming a key this instance has not loaded yet reloads the keys once (rule K2).
async fn verify_jwt(state: &AppState, presented: &str) -> Result<Map<String, Value>, ResolveError> {
    let (header, claims) = state.with_keys(|keyring| open_jwt(keyring, presented)).await?.map_err(jose)?;
    // RFC 9068 §4: "Resource servers MUST verify that the typ header value is "at+jwt" or
    // "application/at+jwt" and reject tokens carrying any other value." Media types compare case-insensitively.
    let typ = header.typ.as_deref().unwrap_or_default();
    let media_type = typ.to_ascii_lowercase();
    if media_type.strip_prefix("application/").unwrap_or(&media_type) != ACCESS_TOKEN_TYP {
        return Err(ResolveError::Invalid(format!(
            "the token's typ is {typ:?}, not \"{ACCESS_TOKEN_TYP}\": it is not an access token (RFC 9068 §4)"
        )));
    }
    Ok(claims)
}

/// Decrypts a JWE (five parts) and verifies the JWS inside, or verifies a JWS (three parts).
fn open_jwt(keyring: &Keyring, presented: &str) -> Result<(VerifiedHeader, Map<String, Value>), JoseError> {
    let decrypted;
    let jws = if presented.bytes().filter(|byte| *byte == b'.').count() == 4 {
        decrypted = keyring.decrypt(presented)?;
        decrypted.as_str()
    } else {
        presented
    };
    // Only ES256: ID tokens are RS256, so one presented here fails before its `typ` is even read.
    keyring.verify(jws, &[SigningAlg::Es256])
}

/// The claims recorded with an access token when it was issued.
fn recorded_claims(token: &Token) -> Result<Map<String, Value>, ResolveError> {
    match token.payload.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(claims))) => Ok(claims),
        _ => Err(ResolveError::Store(StoreError::Other(format!("access token {} has no readable claims", token.id)))),
    }
}

fn check_type(token: &Token) -> Result<(), ResolveError> {
    if token.token_type == TokenType::AccessToken {
        return Ok(());
    }
    Err(ResolveError::Invalid(format!("the token is not an access token (it is a {})", token.token_type.as_str())))
}

fn check_active(token: &Token, now: OffsetDateTime) -> Result<(), ResolveError> {
    match token.status {
        TokenStatus::Valid => {}
        TokenStatus::Revoked => return Err(invalid("the access token was revoked")),
        other => return Err(ResolveError::Invalid(format!("the access token is {}, not valid", other.as_str()))),
    }
    if let Some(expires_at) = token.expires_at.filter(|_| token.is_expired(now)) {
        let at = expires_at.format(&Rfc3339).unwrap_or_else(|_| expires_at.unix_timestamp().to_string());
        return Err(ResolveError::Invalid(format!("the access token expired at {at}")));
    }
    Ok(())
}

fn jose(error: JoseError) -> ResolveError {
    ResolveError::Invalid(format!("the access token does not verify: {error}"))
}

fn invalid(why: &str) -> ResolveError {
    ResolveError::Invalid(why.to_owned())
}
