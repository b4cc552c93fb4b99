use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Signs ID tokens and JWT access tokens; published in the JWKS.
    Signing,
    /// Encrypts access tokens; never published.
    Encryption,
}

impl KeyUse {
    /// The JWK `use` value (RFC 7517 §4.2).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signing => "sig",
            Self::Encryption => "enc",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "sig" => Some(Self::Signing),
            "enc" => Some(Self::Encryption),
            _ => None,
        }
    }
}

/// A provider key as the store keeps it. The private JWK may be sealed with the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    pub key_use: KeyUse,
    pub alg: String,
    /// Private JWK, sealed when a master key is configured. Never logged (see the `Debug` impl).
    pub private_jwk: String,
    pub public_jwk: String,
    pub created_at: OffsetDateTime,
    /// Published from `created_at`, used to sign only from here: lets clients learn a key before it signs.
    pub not_before: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("key_use", &self.key_use)
            .field("alg", &self.alg)
            .field("private_jwk", &"[redacted]")
            .field("not_before", &self.not_before)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

pub type NewKey = StoredKey;
