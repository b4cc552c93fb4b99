//! Token minting and resolution: what the token endpoint hands out, and how userinfo, introspection and
//! revocation find a token again from the value a client presents.
//!
//! Every token is recorded in the store before its value leaves this module (design.md, "Tokens and keys":
//! "every token is also recorded so introspection and revocation are exact"). What each row holds:
//!
//! | token | `reference_digest` | `payload` | found by |
//! |---|---|---|---|
//! | access token, `jwt` / `encrypted` | none | the JWT claims (JSON object) | the `jti` claim = row id |
//! | access token, `reference` | SHA-256 of the value | the same claims a JWT would carry | digest |
//! | refresh token | SHA-256 of the value | core's `RefreshTokenPayload` | digest |
//! | ID token | none | none (see below) | `jti` = row id |
//!
//! An ID token's row has no payload: the token carries its own claims when it comes back as an
//! `id_token_hint`, and copying the user's personal data into this table would only widen what a leak exposes.
//!
//! Access-token claims are kept even for JWT formats so that introspection answers without decrypting, and so
//! that a reference token carries exactly what a JWT would.

mod issue;
mod resolve;
mod write;

use portcullis_core::OAuthError;
use portcullis_core::model::{Client, Token, User};
use portcullis_core::protocol::scope::ScopeSet;
use portcullis_core::store::StoreError;
use portcullis_jose::JoseError;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use resolve::{find_access_token, find_refresh_token, resolve_access_token};
pub use write::{Decided, Written, issue};

/// Whom the tokens are about.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    /// An end-user: `sub` is the user id.
    User(&'a User),
    /// Client credentials (RFC 6749 §4.4): the client acts for itself, so `sub` is its client id.
    Client,
}

/// Everything minting needs, taken from a grant's decision (see [`write`]).
pub(crate) struct Grant<'a> {
    pub client: &'a Client,
    pub subject: Subject<'a>,
    /// Every token is tied to an authorization (already created by the caller), so revoking it revokes them.
    pub authorization_id: String,
    /// The sign-in the tokens belong to (see `portcullis_core::protocol::grant::Family`).
    pub family_id: String,
    /// The granted scopes.
    pub scopes: ScopeSet,
    /// Echoed in the ID token; `None` on refresh (OIDC Core §12.2: a refreshed ID token "SHOULD NOT have a
    /// nonce Claim Value").
    pub nonce: Option<String>,
    pub auth_time: Option<OffsetDateTime>,
    /// The provider session, for the ID token's `sid` claim (front- and back-channel logout).
    pub sid: Option<String>,
    /// The caller decides: `offline_access` granted and the grant type allows refresh tokens.
    pub issue_refresh_token: bool,
    /// The caller decides: `openid` granted and a user subject. Ignored (with a warning) for [`Subject::Client`].
    pub issue_id_token: bool,
    /// Set when rotating: the id of the refresh token being redeemed, kept in the new one's payload.
    pub previous_refresh_token_id: Option<String>,
}

/// RFC 6749 §5.1 successful response (with OIDC Core §3.1.3.3's `id_token`).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// Tokens are bearer credentials: a debug print or a log line must never show them.
impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |value: &Option<String>| value.as_ref().map(|_| "[redacted]");
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("id_token", &redacted(&self.id_token))
            .finish()
    }
}

/// Why tokens could not be issued. Nothing was handed out and nothing was recorded.
/// The endpoint answers `temporarily_unavailable` for [`StoreError::Unavailable`], `server_error` otherwise
/// (see [`issue_error`]).
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("cannot record the tokens: {0}")]
    Store(#[from] StoreError),
    /// No current key, or signing / encrypting failed.
    #[error("cannot sign or encrypt a token: {0}")]
    Jose(#[from] JoseError),
    /// The operating system's random generator failed, so no token value could be drawn.
    #[error("cannot generate a token value: {0}")]
    Random(String),
    /// A decision that cannot be applied as it stands: a bug, reported rather than turned into tokens.
    #[error("the decision cannot be applied: {0}")]
    Inconsistent(&'static str),
}

/// The OAuth error for a failed issuance: storage trouble keeps its own answer (503 when unavailable).
pub fn issue_error(error: IssueError) -> OAuthError {
    match error {
        IssueError::Store(error) => crate::error::store_error(error),
        other => OAuthError::server_error("the provider could not issue the tokens").with_detail(other.to_string()),
    }
}

/// An access token found by its value and still active.
#[derive(Debug, Clone)]
pub struct ActiveToken {
    /// The store row.
    pub token: Token,
    /// The access token's claims (verified JWT claims, or the payload recorded for a reference token).
    pub claims: Map<String, Value>,
}

/// Why a presented access token is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Not an active access token of this provider; the text says why and is fit for an `error_description`
    /// (malformed, bad signature, unknown, expired at …, revoked).
    #[error("invalid access token: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
