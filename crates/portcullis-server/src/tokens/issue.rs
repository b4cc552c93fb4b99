//! Minting: the access token in the configured format, the refresh token, the ID token, and the rows that
//! record them. All signing and encryption happens here, before anything is written: a key or crypto failure
//! leaves no trace. The rows are written by the caller in one transaction with the rest of the grant's
//! change (see `write.rs`), so a value is only ever handed out when every token of the response is recorded.

use portcullis_core::model::{AccessTokenFormat, NewToken, TokenStatus, TokenType};
use portcullis_core::protocol::claims::{at_hash, audiences, role_claim, user_claims};
use portcullis_core::protocol::payload::{Payload, RefreshTokenPayload};
use portcullis_core::secret;
use portcullis_core::store::StoreError;
use portcullis_jose::{Keyring, SigningAlg};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::{Grant, IssueError, Subject, TokenResponse};
use crate::config::Settings;
use crate::state::AppState;

/// RFC 9068 §2.1: JWT access tokens "MUST include this media type in the typ header parameter", and §4 has
/// resource servers reject any other `typ`, so an ID token or any other JWT of ours cannot pass for one.
pub(super) const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// A token value and the row that records it.
struct Minted {
    value: String,
    row: NewToken,
}

/// Mints the tokens `grant` calls for at `now` (whole seconds): the token response, and the rows to record
/// before it may go out.
///
/// Times are whole seconds: JWT NumericDates and the stores both count seconds, and a token's `exp` must be
/// exactly its row's `expires_at` so that a JWT and its introspection never disagree.
pub(super) fn mint(
    state: &AppState,
    grant: &Grant<'_>,
    now: OffsetDateTime,
) -> Result<(TokenResponse, Vec<NewToken>), IssueError> {
    let settings = &state.settings;
    // The snapshot guard is dropped at the end of this function, which never awaits.
    let published = state.published();
    // Scopes and their resources come from the published snapshot, not a query per issuance: a scope changed
    // in the store reaches tokens with the next refresh of the snapshot (at most a minute).
    let audiences = audiences(&published.scopes, &grant.scopes);
    let keyring = &published.keyring;
    let access = access_token(keyring, settings, grant, audiences, now)?;
    let refresh = if grant.issue_refresh_token { Some(refresh_token(settings, grant, now)?) } else { None };
    let id = match (grant.issue_id_token, grant.subject) {
        (true, Subject::User(user)) => Some(id_token(keyring, settings, grant, user, &access.value, now)?),
        (true, Subject::Client) => {
            // OIDC Core §2: an ID token is about "the authentication of an End-User"; with client credentials
            // there is none, so a decision asking for one has a bug that must not become a token.
            tracing::warn!(client_id = %grant.client.client_id, "an ID token was requested without a user");
            None
        }
        (false, _) => None,
    };
    let response = TokenResponse {
        access_token: access.value,
        token_type: "Bearer",
        expires_in: settings.tokens.access_token_lifetime.whole_seconds(),
        scope: grant.scopes.to_string(),
        refresh_token: refresh.as_ref().map(|minted| minted.value.clone()),
        id_token: id.as_ref().map(|minted| minted.value.clone()),
    };
    let rows = [Some(access.row), refresh.map(|minted| minted.row), id.map(|minted| minted.row)];
    Ok((response, rows.into_iter().flatten().collect()))
}

/// The access token in the client's format, or the provider's default.
fn access_token(
    keyring: &Keyring,
    settings: &Settings,
    grant: &Grant<'_>,
    audiences: Vec<String>,
    now: OffsetDateTime,
) -> Result<Minted, IssueError> {
    let id = secret::new_id();
    let expires_at = after(now, settings.tokens.access_token_lifetime);
    let claims = access_token_claims(settings, grant, &id, audiences, now, expires_at);
    let format = grant.client.access_token_format.unwrap_or(settings.tokens.access_token_format);
    let value = match format {
        AccessTokenFormat::Jwt => keyring.sign(SigningAlg::Es256, &claims, Some(ACCESS_TOKEN_TYP))?,
        AccessTokenFormat::Encrypted => {
            let jwt = keyring.sign(SigningAlg::Es256, &claims, Some(ACCESS_TOKEN_TYP))?;
            // RFC 7516 §4.1.12: `cty: JWT` tells the reader the plaintext is itself a JWT (a nested JWT).
            keyring.encrypt(&jwt, Some("JWT"))?
        }
        AccessTokenFormat::Reference => random_value()?,
    };
    // Every format is recorded with its digest: the provider reads its own tokens back by a lookup, without
    // a signature check or a private-key decryption per call (introspection, userinfo, revocation).
    let reference_digest = Some(secret::digest(&value));
    let row = NewToken {
        id,
        token_type: TokenType::AccessToken,
        subject: Some(subject_id(grant).to_owned()),
        client_id: grant.client.client_id.clone(),
        authorization_id: Some(grant.authorization_id.clone()),
        reference_digest,
        status: TokenStatus::Valid,
        created_at: now,
        expires_at: Some(expires_at),
        payload: Some(Value::Object(claims).to_string()),
        family_id: Some(grant.family_id.clone()),
    };
    Ok(Minted { value, row })
}

/// RFC 9068 §2.2 claims, the same for every format.
fn access_token_claims(
    settings: &Settings,
    grant: &Grant<'_>,
    id: &str,
    audiences: Vec<String>,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".to_owned(), Value::from(settings.issuer.as_str()));
    claims.insert("sub".to_owned(), Value::from(subject_id(grant)));
    // RFC 9068 §2.2 makes `aud` REQUIRED. When no granted scope names a resource, the client is the only party
    // the token is known to be for; a resource server checking for its own audience then refuses the token,
    // which is right, as no scope granted access to it.
    let audience = match <[String; 1]>::try_from(audiences) {
        Ok([one]) => Value::from(one),
        Err(many) if many.is_empty() => Value::from(grant.client.client_id.as_str()),
        // RFC 7519 §4.1.3: one audience may be a plain string, several are an array.
        Err(many) => Value::from(many),
    };
    claims.insert("aud".to_owned(), audience);
    claims.insert("exp".to_owned(), Value::from(expires_at.unix_timestamp()));
    claims.insert("iat".to_owned(), Value::from(now.unix_timestamp()));
    claims.insert("nbf".to_owned(), Value::from(now.unix_timestamp()));
    claims.insert("jti".to_owned(), Value::from(id));
    claims.insert("client_id".to_owned(), Value::from(grant.client.client_id.as_str()));
    if !grant.scopes.is_empty() {
        claims.insert("scope".to_owned(), Value::from(grant.scopes.to_string()));
    }
    if let Subject::User(user) = grant.subject {
        if let Some(auth_time) = grant.auth_time {
            claims.insert("auth_time".to_owned(), Value::from(auth_time.unix_timestamp()));
        }
        // The same `role` claim (always an array) as the ID token and userinfo, so an API's role policy reads
        // one shape whichever token it is given.
        if grant.scopes.contains("roles")
            && let Some(roles) = role_claim(&user.roles)
        {
            claims.insert("role".to_owned(), roles);
        }
    }
    claims
}

/// An opaque value; the row keeps its digest only (design.md: refresh tokens "are stored as SHA-256 digests,
/// never in plain text").
fn refresh_token(settings: &Settings, grant: &Grant<'_>, now: OffsetDateTime) -> Result<Minted, IssueError> {
    let value = random_value()?;
    let payload = RefreshTokenPayload {
        scope: grant.scopes.clone(),
        auth_time: grant.auth_time.map(whole_seconds),
        sid: grant.sid.clone(),
        previous: grant.previous_refresh_token_id.clone(),
        security_stamp: match grant.subject {
            Subject::User(user) => Some(user.security_stamp.clone()),
            Subject::Client => None,
        },
    };
    // Cannot fail for strings and integers; mapped rather than unwrapped all the same.
    let payload = payload.write().map_err(|error| StoreError::Other(error.to_string()))?;
    let row = NewToken {
        id: secret::new_id(),
        token_type: TokenType::RefreshToken,
        subject: Some(subject_id(grant).to_owned()),
        client_id: grant.client.client_id.clone(),
        authorization_id: Some(grant.authorization_id.clone()),
        reference_digest: Some(secret::digest(&value)),
        status: TokenStatus::Valid,
        created_at: now,
        expires_at: Some(after(now, settings.tokens.refresh_token_lifetime)),
        payload: Some(payload),
        family_id: Some(grant.family_id.clone()),
    };
    Ok(Minted { value, row })
}

/// OIDC Core §2 ID token, RS256 (§15.1: the algorithm every client supports), with the scope's claims.
fn id_token(
    keyring: &Keyring,
    settings: &Settings,
    grant: &Grant<'_>,
    user: &portcullis_core::model::User,
    access_token: &str,
    now: OffsetDateTime,
) -> Result<Minted, IssueError> {
    let id = secret::new_id();
    let expires_at = after(now, settings.tokens.id_token_lifetime);
    let mut claims = user_claims(user, &grant.scopes);
    claims.insert("iss".to_owned(), Value::from(settings.issuer.as_str()));
    // OIDC Core §2: aud "MAY be a single case-sensitive string" when there is one audience; many clients
    // compare it as a string, so the one audience (the client) is sent as one.
    claims.insert("aud".to_owned(), Value::from(grant.client.client_id.as_str()));
    claims.insert("exp".to_owned(), Value::from(expires_at.unix_timestamp()));
    claims.insert("iat".to_owned(), Value::from(now.unix_timestamp()));
    claims.insert("jti".to_owned(), Value::from(id.as_str()));
    if let Some(auth_time) = grant.auth_time {
        claims.insert("auth_time".to_owned(), Value::from(auth_time.unix_timestamp()));
    }
    if let Some(nonce) = &grant.nonce {
        claims.insert("nonce".to_owned(), Value::from(nonce.as_str()));
    }
    // OIDC Core §3.1.3.6: the hash of the access token "as returned", i.e. the JWE for encrypted tokens.
    claims.insert("at_hash".to_owned(), Value::from(at_hash(access_token)));
    if let Some(sid) = &grant.sid {
        claims.insert("sid".to_owned(), Value::from(sid.as_str()));
    }
    claims.insert("azp".to_owned(), Value::from(grant.client.client_id.as_str()));
    let value = keyring.sign(SigningAlg::Rs256, &claims, Some("JWT"))?;
    let row = NewToken {
        id,
        token_type: TokenType::IdToken,
        subject: Some(user.id.clone()),
        client_id: grant.client.client_id.clone(),
        authorization_id: Some(grant.authorization_id.clone()),
        // Found as an `id_token_hint` by its `jti`, after its signature is verified.
        reference_digest: None,
        status: TokenStatus::Valid,
        created_at: now,
        expires_at: Some(expires_at),
        payload: None,
        family_id: Some(grant.family_id.clone()),
    };
    Ok(Minted { value, row })
}

fn subject_id<'g>(grant: &'g Grant<'_>) -> &'g str {
    match grant.subject {
        Subject::User(user) => &user.id,
        Subject::Client => &grant.client.client_id,
    }
}

fn random_value() -> Result<String, IssueError> {
    secret::generate().map_err(|error| IssueError::Random(error.to_string()))
}

/// `now` without its fraction of a second; see [`issue`].
pub(super) fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

/// `now + lifetime`. Lifetimes are validated to at most a year, so saturation never happens in practice; it
/// only keeps a mistake elsewhere from panicking.
fn after(now: OffsetDateTime, lifetime: Duration) -> OffsetDateTime {
    now.saturating_add(lifetime)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn times_are_whole_seconds() {
        assert_eq!(whole_seconds(datetime!(2026-11-01 12:00:00.75 UTC)), datetime!(2026-11-01 12:00 UTC));
        assert_eq!(after(datetime!(2026-11-01 12:00 UTC), Duration::hours(1)), datetime!(2026-11-01 13:00 UTC));
    }
}
