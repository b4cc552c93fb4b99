use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationStatus {
    Valid,
    Revoked,
}

impl AuthorizationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "valid" => Some(Self::Valid),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// Whether a consent outlives the flow that created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationKind {
    /// Remembered consent: later requests for the same scopes skip the consent page.
    Permanent,
    /// Lives only as long as the tokens of one flow; pruned with them.
    AdHoc,
}

impl AuthorizationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permanent => "permanent",
            Self::AdHoc => "ad-hoc",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "permanent" => Some(Self::Permanent),
            "ad-hoc" => Some(Self::AdHoc),
            _ => None,
        }
    }
}

/// A user's consent for a client to use some scopes; every token is tied to one, so revoking it revokes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub id: String,
    /// The user id, or the client id for client credentials.
    pub subject: String,
    pub client_id: String,
    pub status: AuthorizationStatus,
    pub kind: AuthorizationKind,
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthorization {
    pub id: String,
    pub subject: String,
    pub client_id: String,
    pub kind: AuthorizationKind,
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
}
