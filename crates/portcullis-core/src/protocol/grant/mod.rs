//! The token endpoint's grants (RFC 6749 §4 and §6, RFC 8628 §3.4), one module per grant. Each takes the
//! typed request, the facts the server loaded (client, presented token with its user and consent, `now`) and
//! returns a typed decision: an [`Issue`] saying what to mint, what happens to the presented token and what to
//! do if another request changed it first, or a [`Refusal`] with the OAuth error and what to revoke. No HTTP, no
//! SQL, no clock: the server loads the facts, asks, and applies the decision in one store call.
//!
//! A new grant (token exchange, RFC 8693; JWT bearer, RFC 7523) is a new module here with its `Request` and
//! `decide`, a [`GrantType`] variant, and one arm in the server's token endpoint.
//!
//! Checklist ids in comments (C1, F4, …) are the rows of `docs/security.md`.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod password;
pub mod refresh_token;

#[cfg(test)]
mod testing;

use std::collections::HashSet;

use time::OffsetDateTime;

use crate::error::OAuthError;
use crate::model::{Authorization, AuthorizationStatus, Client, GrantType, PresentedChange, Token, TokenType, User};
use crate::protocol::scope::ScopeSet;

/// Whom the issued tokens are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// The user of the presented grant (`sub` is the user id).
    User,
    /// The client itself (client credentials, RFC 6749 §4.4): `sub` is its client id.
    Client,
}

/// The consent the issued tokens hang off: revoking it revokes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// The authorization the presented token is tied to.
    Existing(String),
    /// A consent for this one grant (client credentials, password), written with the tokens.
    AdHoc,
}

/// What to do when the presented token was spent by another request between the read and the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LostRace {
    /// Answer with this refusal.
    Refuse(Refusal),
    /// Read the token again and decide anew (the refresh grant, whose reuse rule depends on what happened).
    Reconsider,
}

/// The presented token's state an issuance depends on: checked and changed in the same write as the new
/// tokens, so that of concurrent requests exactly one succeeds (checklist C2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub token_id: String,
    pub change: PresentedChange,
    /// What to answer when another request changed the token first.
    pub otherwise: LostRace,
}

/// The sign-in the issued tokens belong to: a replay revokes that family, not the user's other sign-ins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Family {
    /// A new sign-in (code redemption, password, device or client credentials grant).
    Start,
    /// A refresh continues the family of the token it presents.
    Continue(String),
}

/// The refresh token of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshToken {
    None,
    /// A new one (a new sign-in, or a rotation).
    New,
    /// The successor already issued for the presented token, answered again (its value as the provider
    /// sealed it): a second tab presenting the token its first tab just rotated stays on the same chain.
    Again {
        sealed_successor: String,
    },
}

impl RefreshToken {
    pub fn is_none(&self) -> bool {
        *self == Self::None
    }
}

/// A positive decision: mint these tokens, write them with the state change, answer with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub holder: Holder,
    pub scopes: ScopeSet,
    pub consent: Consent,
    pub condition: Option<Condition>,
    pub family: Family,
    pub refresh_token: RefreshToken,
    pub id_token: bool,
    /// Echoed in the ID token; `None` on refresh (OIDC Core §12.2: a refreshed ID token "SHOULD NOT have a
    /// nonce Claim Value").
    pub nonce: Option<String>,
    pub auth_time: Option<OffsetDateTime>,
    /// The provider session, for the ID token's `sid` claim.
    pub sid: Option<String>,
    /// The refresh token the new one replaces (rotation): kept in its payload for the reuse rule.
    pub previous_refresh_token: Option<String>,
}

/// What a refusal revokes besides answering the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// Every token of this family: one sign-in and its refreshes (RFC 6749 §4.1.2 code replay, RFC 9700
    /// §4.14.2 refresh reuse), and nothing of the user's other sign-ins (checklist V5).
    Family(String),
    /// Every token of this authorization: for tokens written before families existed.
    TokensOfAuthorization(String),
}

impl Revoke {
    /// What a replay of `token` revokes: its family, or for a token without one, its authorization.
    pub fn replay_of(token: &Token) -> Option<Self> {
        match (&token.family_id, &token.authorization_id) {
            (Some(family), _) => Some(Self::Family(family.clone())),
            (None, Some(authorization)) => Some(Self::TokensOfAuthorization(authorization.clone())),
            (None, None) => None,
        }
    }
}

/// A negative decision: the OAuth error to answer, and what to revoke first (the revocation is stored even
/// though the request fails, so that a replay leaves its trace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub error: OAuthError,
    pub revoke: Option<Revoke>,
}

impl From<OAuthError> for Refusal {
    fn from(error: OAuthError) -> Self {
        Self { error, revoke: None }
    }
}

impl From<crate::protocol::payload::PayloadError> for Refusal {
    fn from(error: crate::protocol::payload::PayloadError) -> Self {
        OAuthError::from(error).into()
    }
}

/// The `grant_type` parameter: a grant this provider implements (`supported` names them for the error), and
/// one the client is registered for.
pub fn grant_type(client: &Client, value: &str, supported: &[&str]) -> Result<GrantType, OAuthError> {
    let Some(grant) = GrantType::parse(value) else {
        return Err(OAuthError::unsupported_grant_type(format!(
            "grant_type {value:?} is not supported; use one of: {}",
            supported.join(", ")
        )));
    };
    // RFC 6749 §5.2 unauthorized_client: "not authorized to use this authorization grant type" (checklist T7).
    if !client.permissions.allows_grant(grant) {
        return Err(OAuthError::unauthorized_client(format!(
            "client {:?} is not allowed the {} grant",
            client.client_id,
            grant.as_str()
        )));
    }
    Ok(grant)
}

/// The presented row behind a code, refresh token or device code: of the expected kind, and issued to this
/// client (checklists C3, F4, D1). `remedy` ends the error description: what the client should do instead.
pub(crate) fn presented<'t>(
    token: Option<&'t Token>,
    kind: TokenType,
    client: &Client,
    remedy: &str,
) -> Result<&'t Token, OAuthError> {
    let what = kind.as_str().replace('_', " ");
    let token = token
        .filter(|token| token.token_type == kind)
        .ok_or_else(|| OAuthError::invalid_grant(format!("the {what} is unknown; {remedy}")))?;
    // RFC 6749 §4.1.3: "ensure that the authorization code was issued to the authenticated confidential client".
    if token.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(format!(
            "the {what} was issued to another client than {:?}",
            client.client_id
        )));
    }
    Ok(token)
}

/// The user a grant stands for, still allowed to sign in (checklist F5).
pub(crate) fn active_user(user: Option<&User>, now: OffsetDateTime) -> Result<&User, OAuthError> {
    user.filter(|user| !user.disabled && !user.is_locked_out(now))
        .ok_or_else(|| OAuthError::invalid_grant("the user of this grant no longer exists or may not sign in"))
}

/// The consent a grant hangs off, not revoked.
pub(crate) fn live_authorization(authorization: Option<&Authorization>) -> Result<&str, OAuthError> {
    authorization
        .filter(|authorization| authorization.status == AuthorizationStatus::Valid)
        .map(|authorization| authorization.id.as_str())
        .ok_or_else(|| OAuthError::invalid_grant("the user's consent for this client was revoked; sign in again"))
}

/// OIDC Core §11: a refresh token goes with `offline_access`, and only to a client allowed the refresh grant.
pub(crate) fn new_refresh_token(scopes: &ScopeSet, client: &Client) -> RefreshToken {
    if scopes.contains("offline_access") && client.permissions.allows_grant(GrantType::RefreshToken) {
        RefreshToken::New
    } else {
        RefreshToken::None
    }
}

/// The scopes a grant without a consent page asks for: as requested (each known and permitted), or when none
/// is requested, every scope the client is permitted (RFC 6749 §3.3 lets the server apply a default).
pub fn requested_or_permitted(
    scope: Option<&str>,
    client: &Client,
    known: &HashSet<String>,
) -> Result<ScopeSet, OAuthError> {
    let scopes = match scope {
        Some(scope) => ScopeSet::parse(scope)?,
        None => ScopeSet::from_tokens(client.permissions.scopes.iter())?,
    };
    scopes.check_known(known)?;
    scopes.check_permitted(client)?;
    Ok(scopes)
}

/// A time as an error description shows it (RFC 3339), or `-` when there is none.
pub fn iso(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok()).unwrap_or_else(|| "-".into())
}
