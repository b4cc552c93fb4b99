//! Minting: the access token in the configured format, the refresh token, the ID token, and their rows.
//!
//! All signing and encryption happens first, while nothing is written: a key or crypto failure then leaves no
//! trace. The rows are written next, one per token; if one write fails after another succeeded, the rows
//! already written are revoked (best effort) and the error is returned, so a value is only ever handed out when
//! every token of the response was recorded. Should the revocation fail too, nobody holds those values (they
//! were never returned), so the rows are inert and expire with their lifetime.

use portcullis_core::model::{AccessTokenFormat, NewToken, TokenStatus, TokenType};
use portcullis_core::protocol::claims::{at_hash, audiences, role_claim, user_claims};
use portcullis_core::secret;
use portcullis_core::store::{StoreError, TokenStore};
use portcullis_jose::{Keyring, SigningAlg};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::{Grant, IssueError, RefreshTokenPayload, Subject, TokenResponse};
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

/// Mints the tokens `grant` calls for, records them, and returns the token response.
///
/// On an error nothing is handed out, and any row this call had already written is revoked (see the module
/// documentation): a client never holds a token the store does not know.
///
/// Times are whole seconds: JWT NumericDates and the stores both count seconds, and a token's `exp` must be
/// exactly its row's `expires_at` so that a JWT and its introspection never disagree.
pub async fn issue(state: &AppState, grant: Grant<'_>) -> Result<TokenResponse, IssueError> {
    let now = whole_seconds(state.clock.now());
    let settings = &state.settings;

    // The keyring guard is released before any await below: it is a snapshot meant to be held briefly.
    let (access, refresh, id) = {
        let published = state.published();
        // Scopes and their resources come from the published snapshot, not a query per issuance: a scope
        // changed in the store reaches tokens with the next refresh of the snapshot (at most a minute).
        let audiences = audiences(&published.scopes, &grant.scopes);
        let keyring = &published.keyring;
        let access = access_token(keyring, settings, &grant, audiences, now)?;
        let refresh = if grant.issue_refresh_token { Some(refresh_token(settings, &grant, now)?) } else { None };
        let id = match (grant.issue_id_token, grant.subject) {
            (true, Subject::User(user)) => Some(id_token(keyring, settings, &grant, user, &access.value, now)?),
            (true, Subject::Client) => {
                // OIDC Core §2: an ID token is about "the authentication of an End-User"; with client
                // credentials there is none, so a caller asking for one has a bug that must not become a token.
                tracing::warn!(client_id = %grant.client.client_id, "an ID token was requested without a user");
                None
            }
            (false, _) => None,
        };
        (access, refresh, id)
    };

    let rows = [Some(&access), refresh.as_ref(), id.as_ref()].into_iter().flatten().map(|minted| &minted.row);
    record(state.store.as_ref(), rows).await?;

    Ok(TokenResponse {
        access_token: access.value,
        token_type: "Bearer",
        expires_in: settings.tokens.access_token_lifetime.whole_seconds(),
        scope: grant.scopes.to_string(),
        refresh_token: refresh.map(|minted| minted.value),
        id_token: id.map(|minted| minted.value),
    })
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
    let (value, reference_digest) = match format {
        AccessTokenFormat::Jwt => (keyring.sign(SigningAlg::Es256, &claims, Some(ACCESS_TOKEN_TYP))?, None),
        AccessTokenFormat::Encrypted => {
            let jwt = keyring.sign(SigningAlg::Es256, &claims, Some(ACCESS_TOKEN_TYP))?;
            // RFC 7516 §4.1.12: `cty: JWT` tells the reader the plaintext is itself a JWT (a nested JWT).
            (keyring.encrypt(&jwt, Some("JWT"))?, None)
        }
        AccessTokenFormat::Reference => {
            let value = random_value()?;
            let digest = secret::digest(&value);
            (value, Some(digest))
        }
    };
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
        scope: grant.scopes.to_string(),
        auth_time: grant.auth_time.map(whole_seconds),
        sid: grant.sid.clone(),
        previous: grant.previous_refresh_token_id.clone(),
        security_stamp: match grant.subject {
            Subject::User(user) => Some(user.security_stamp.clone()),
            Subject::Client => None,
        },
    };
    // Cannot fail for strings and integers; mapped rather than unwrapped all the same.
    let payload = serde_json::to_string(&payload)
        .map_err(|error| StoreError::Other(format!("cannot write a refresh token payload: {error}")))?;
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
    };
    Ok(Minted { value, row })
}

/// What [`record`] needs of the store: a seam so the rollback can be tested with a store that fails on demand.
trait TokenWriter: Sync {
    async fn create(&self, row: NewToken) -> Result<(), StoreError>;
    async fn revoke(&self, id: &str) -> Result<bool, StoreError>;
}

impl<S: TokenStore + ?Sized> TokenWriter for S {
    async fn create(&self, row: NewToken) -> Result<(), StoreError> {
        self.create_token(row).await.map(drop)
    }

    async fn revoke(&self, id: &str) -> Result<bool, StoreError> {
        self.revoke_token(id).await
    }
}

/// Writes the rows in order; on a failure, revokes those already written and returns the error.
async fn record<'r>(
    store: &(impl TokenWriter + ?Sized),
    rows: impl Iterator<Item = &'r NewToken>,
) -> Result<(), IssueError> {
    let mut written: Vec<&str> = Vec::new();
    for row in rows {
        if let Err(error) = store.create(row.clone()).await {
            for id in written {
                if let Err(revoke_error) = store.revoke(id).await {
                    // Harmless: the value was never handed out. Logged so an operator sees the database trouble.
                    tracing::warn!(token_id = id, error = %revoke_error, "cannot revoke a token of a failed issuance");
                }
            }
            return Err(error.into());
        }
        written.push(&row.id);
    }
    Ok(())
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
    use std::sync::Mutex;

    use time::macros::datetime;

    use super::*;

    /// Accepts `accept` rows, then fails every write; revocations fail when `revoke_fails`.
    struct FailingWriter {
        accept: usize,
        revoke_fails: bool,
        created: Mutex<Vec<String>>,
        revoked: Mutex<Vec<String>>,
    }

    impl FailingWriter {
        fn new(accept: usize, revoke_fails: bool) -> Self {
            Self { accept, revoke_fails, created: Mutex::default(), revoked: Mutex::default() }
        }
    }

    impl TokenWriter for FailingWriter {
        async fn create(&self, row: NewToken) -> Result<(), StoreError> {
            let mut created = self.created.lock().unwrap();
            if created.len() == self.accept {
                return Err(StoreError::Unavailable("connection reset".into()));
            }
            created.push(row.id);
            Ok(())
        }

        async fn revoke(&self, id: &str) -> Result<bool, StoreError> {
            if self.revoke_fails {
                return Err(StoreError::Unavailable("connection reset".into()));
            }
            self.revoked.lock().unwrap().push(id.to_owned());
            Ok(true)
        }
    }

    fn row(id: &str) -> NewToken {
        NewToken {
            id: id.into(),
            token_type: TokenType::AccessToken,
            subject: Some("alice".into()),
            client_id: "angularclient".into(),
            authorization_id: Some("authorization".into()),
            reference_digest: None,
            status: TokenStatus::Valid,
            created_at: datetime!(2026-11-01 12:00 UTC),
            expires_at: None,
            payload: None,
        }
    }

    #[tokio::test]
    async fn a_failed_write_revokes_the_rows_written_before_it_and_reports_the_error() {
        let writer = FailingWriter::new(2, false);
        let rows = [row("access"), row("refresh"), row("id")];
        let error = record(&writer, rows.iter()).await.unwrap_err();
        assert!(matches!(error, IssueError::Store(StoreError::Unavailable(_))), "{error:?}");
        assert_eq!(*writer.created.lock().unwrap(), ["access", "refresh"]);
        assert_eq!(*writer.revoked.lock().unwrap(), ["access", "refresh"]);
    }

    #[tokio::test]
    async fn a_failed_first_write_has_nothing_to_revoke() {
        let writer = FailingWriter::new(0, false);
        let rows = [row("access"), row("refresh")];
        assert!(record(&writer, rows.iter()).await.is_err());
        assert!(writer.revoked.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_revocation_still_reports_the_original_error() {
        let writer = FailingWriter::new(1, true);
        let rows = [row("access"), row("refresh")];
        let error = record(&writer, rows.iter()).await.unwrap_err();
        assert!(error.to_string().contains("connection reset"), "{error}");
    }

    #[tokio::test]
    async fn all_rows_written_is_success() {
        let writer = FailingWriter::new(3, false);
        let rows = [row("access"), row("refresh"), row("id")];
        record(&writer, rows.iter()).await.unwrap();
        assert_eq!(writer.created.lock().unwrap().len(), 3);
        assert!(writer.revoked.lock().unwrap().is_empty());
    }

    #[test]
    fn times_are_whole_seconds() {
        assert_eq!(whole_seconds(datetime!(2026-11-01 12:00:00.75 UTC)), datetime!(2026-11-01 12:00 UTC));
        assert_eq!(after(datetime!(2026-11-01 12:00 UTC), Duration::hours(1)), datetime!(2026-11-01 13:00 UTC));
    }
}
