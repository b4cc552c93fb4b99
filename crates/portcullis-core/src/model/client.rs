use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// RFC 6749 §2.1 client types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// Can keep a secret (a server-side application); authenticates at the token endpoint.
    Confidential,
    /// Cannot keep a secret (a browser or native application); PKCE protects its codes.
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

/// How the provider asks the user before it lets a client act for them (the OpenIddict consent types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentType {
    /// Ask once, remember the answer as a permanent authorization.
    Explicit,
    /// Never ask: the client is trusted (first-party).
    Implicit,
    /// Never ask, and only accept authorizations created beforehand by an administrator.
    External,
    /// Ask every time.
    Systematic,
}

impl ConsentType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Explicit => "explicit",
            Self::Implicit => "implicit",
            Self::External => "external",
            Self::Systematic => "systematic",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "explicit" => Some(Self::Explicit),
            "implicit" => Some(Self::Implicit),
            "external" => Some(Self::External),
            "systematic" => Some(Self::Systematic),
            _ => None,
        }
    }
}

/// Grant types a client may be permitted (RFC 6749 §4, RFC 8628 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "refresh_token")]
    RefreshToken,
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    #[serde(rename = "password")]
    Password,
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
}

impl GrantType {
    pub const ALL: [GrantType; 5] =
        [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials, Self::Password, Self::DeviceCode];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant| grant.as_str() == value)
    }
}

/// The access-token format a client's tokens are issued in (design.md, "Tokens and keys").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    /// A signed JWT, then encrypted (JWE): only the provider and resource servers given the key can read it.
    Encrypted,
    /// A signed JWT (RFC 9068, `typ: at+jwt`) that APIs validate locally with the JWKS.
    Jwt,
    /// An opaque random handle, resolved by introspection.
    Reference,
}

impl AccessTokenFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Encrypted => "encrypted",
            Self::Jwt => "jwt",
            Self::Reference => "reference",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "encrypted" => Some(Self::Encrypted),
            "jwt" => Some(Self::Jwt),
            "reference" => Some(Self::Reference),
            _ => None,
        }
    }
}

/// What a client is allowed to do. Anything not listed is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    pub grant_types: Vec<GrantType>,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// May call the introspection endpoint (resource servers).
    pub introspection: bool,
    /// May call the revocation endpoint. Clients that obtain tokens may always revoke their own.
    pub revocation: bool,
}

impl Permissions {
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|allowed| allowed == scope)
    }
}

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub client_id: String,
    /// SHA-256 digest of the secret (see [`crate::secret`]); `None` for public clients.
    pub secret_digest: Option<String>,
    pub client_type: ClientType,
    pub consent_type: ConsentType,
    pub display_name: String,
    /// Compared by exact string match (RFC 9700 §4.1.3), with the RFC 8252 §7.3 loopback port exception.
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Browser origins allowed to call the token, userinfo and discovery endpoints (CORS).
    pub cors_origins: Vec<String>,
    pub permissions: Permissions,
    /// PKCE is required unless this is set, and only confidential clients may set it.
    pub pkce_exempt: bool,
    /// `None` follows the provider's default format.
    pub access_token_format: Option<AccessTokenFormat>,
    pub created_at: OffsetDateTime,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.client_type == ClientType::Public
    }
}

/// What it takes to register a client; the store assigns `id` and `created_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub client_id: String,
    pub secret_digest: Option<String>,
    pub client_type: ClientType,
    pub consent_type: ConsentType,
    pub display_name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub cors_origins: Vec<String>,
    pub permissions: Permissions,
    pub pkce_exempt: bool,
    pub access_token_format: Option<AccessTokenFormat>,
}
