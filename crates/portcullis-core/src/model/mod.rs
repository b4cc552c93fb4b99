//! The provider's domain model: what the stores keep and the rules read.

mod authorization;
mod client;
mod key;
mod scope;
mod session;
mod token;
mod user;

pub use authorization::{Authorization, AuthorizationKind, AuthorizationStatus, NewAuthorization};
pub use client::{AccessTokenFormat, Client, ClientType, ConsentType, GrantType, NewClient, Permissions};
pub use key::{KeyUse, NewKey, StoredKey};
pub use scope::{STANDARD_SCOPES, Scope};
pub use session::{NewSession, Session};
pub use token::{NewToken, Presented, PresentedChange, Token, TokenStatus, TokenType};
pub use user::{NewUser, User};

/// Normalises a user name or email for lookups: trimmed and lower-cased, so `Alice` and `alice ` are one user.
pub fn normalize_login(value: &str) -> String {
    value.trim().to_lowercase()
}
