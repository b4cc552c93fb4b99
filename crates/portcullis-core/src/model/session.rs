use time::OffsetDateTime;

/// A signed-in browser session at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 digest of the cookie value; the value itself is never stored.
    pub id: String,
    pub subject: String,
    /// When the user last entered credentials (OIDC Core `auth_time`).
    pub auth_time: OffsetDateTime,
    /// Authentication methods references, e.g. `pwd`.
    pub amr: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

pub type NewSession = Session;
