use time::OffsetDateTime;

use super::{Authorization, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    AuthorizationCode,
    AccessToken,
    RefreshToken,
    IdToken,
    DeviceCode,
    UserCode,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::IdToken => "id_token",
            Self::DeviceCode => "device_code",
            Self::UserCode => "user_code",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::AuthorizationCode,
            Self::AccessToken,
            Self::RefreshToken,
            Self::IdToken,
            Self::DeviceCode,
            Self::UserCode,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == value)
    }
}

/// A token's life: `Valid` → `Redeemed` (codes, rotated refresh tokens) or `Revoked`; `Inactive` for device
/// codes still waiting for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Valid,
    Inactive,
    Redeemed,
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Inactive => "inactive",
            Self::Redeemed => "redeemed",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "valid" => Some(Self::Valid),
            "inactive" => Some(Self::Inactive),
            "redeemed" => Some(Self::Redeemed),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// Every token the provider issues is recorded, so introspection and revocation are exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Also the `jti` of JWT tokens.
    pub id: String,
    pub token_type: TokenType,
    pub subject: Option<String>,
    pub client_id: String,
    pub authorization_id: Option<String>,
    /// SHA-256 digest of the value handed out, for tokens looked up by value (codes, refresh tokens, reference
    /// tokens, device and user codes). Never the value itself.
    pub reference_digest: Option<String>,
    pub status: TokenStatus,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub redeemed_at: Option<OffsetDateTime>,
    /// Whatever the grant needs to remember (requested scopes, PKCE challenge, nonce, …), as JSON.
    pub payload: Option<String>,
    /// The sign-in this token belongs to: every token of one code redemption, password or device grant, and
    /// of the refreshes continuing it. `None` for tokens outside any sign-in (codes not yet redeemed, client
    /// credentials, rows written before families existed).
    pub family_id: Option<String>,
    /// For a rotated refresh token, the refresh token that replaced it.
    pub successor_id: Option<String>,
    /// For a rotated refresh token, its successor's value, encrypted by the provider, so that a reuse within
    /// the leeway gets the same successor back. Never the value in plain text.
    pub successor_value: Option<String>,
}

impl Token {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: String,
    pub token_type: TokenType,
    pub subject: Option<String>,
    pub client_id: String,
    pub authorization_id: Option<String>,
    pub reference_digest: Option<String>,
    pub status: TokenStatus,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub payload: Option<String>,
    pub family_id: Option<String>,
}

/// A token presented back to the provider (a code, a refresh token, a device code) with the user it names and
/// the consent it hangs off, as the grants need them: the store reads all three together, in one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub token: Token,
    /// The user named by the token's subject, when one exists with that id.
    pub user: Option<User>,
    /// The authorization (consent) the token is tied to, when it still exists.
    pub authorization: Option<Authorization>,
}

/// What a token response's write does to a presented token, in the same transaction as it writes the new
/// tokens. When the token is not in the expected state any more, nothing is written: of concurrent requests
/// presenting one token, the state decides which one succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentedChange {
    /// `valid` → `redeemed` (a code, a device code, a refresh token rotated). The row takes the family of the
    /// new tokens and, for a refresh token, the name and sealed value of its successor.
    Redeem,
    /// Left `valid`, and required to still be: the successor answered again within the reuse leeway.
    StillValid,
}
