//! What the provider states about itself (OpenID Connect Discovery 1.0 §3, RFC 8414 §2): where each endpoint
//! lives, what it supports, and the discovery document that says so.
//!
//! It imports nothing from the rest of the provider: the router, the endpoints, the pages and the discovery
//! document all read these values from here, so what is served and what is advertised cannot differ.

use serde_json::{Value, json};

/// OIDC Discovery 1.0 §4: where a relying party finds the discovery document.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// RFC 7517 §5: the public signing keys.
pub const JWKS_PATH: &str = "/.well-known/jwks";
/// For load balancers and orchestrators; not advertised.
pub const HEALTH_PATH: &str = "/healthz";
/// OIDC Core §3.1.2, RFC 6749 §3.1.
pub const AUTHORIZE_PATH: &str = "/connect/authorize";
/// RFC 6749 §3.2.
pub const TOKEN_PATH: &str = "/connect/token";
/// OIDC Core §5.3.
pub const USERINFO_PATH: &str = "/connect/userinfo";
/// RFC 7662 §2.
pub const INTROSPECTION_PATH: &str = "/connect/introspect";
/// RFC 7009 §2.
pub const REVOCATION_PATH: &str = "/connect/revoke";
/// Where the logout confirmation posts (OIDC RP-Initiated Logout 1.0 end-session endpoint).
pub const LOGOUT_PATH: &str = "/connect/logout";
/// RFC 8628 §3.1 device authorization endpoint.
pub const DEVICE_AUTHORIZATION_PATH: &str = "/connect/device";
/// Where the device verification forms post (RFC 8628 §3.2 `verification_uri`).
pub const DEVICE_VERIFY_PATH: &str = "/connect/verify";
/// Where the sign-in form posts.
pub const LOGIN_PATH: &str = "/login";
/// Where the consent form posts.
pub const CONSENT_PATH: &str = "/consent";
/// The pages' one stylesheet.
pub const STYLESHEET_PATH: &str = "/assets/portcullis.css";

/// Grant types with a working implementation; discovery advertises exactly these.
pub const GRANT_TYPES: [&str; 5] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
];

/// How a client may authenticate at the token and revocation endpoints (RFC 6749 §2.3): `none` is a public
/// client sending only its id.
pub const CLIENT_AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];

/// Claims the provider can release (OIDC Core §5.1 plus `role`), by the scope that releases them.
pub const CLAIMS_SUPPORTED: [&str; 14] = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "name",
    "preferred_username",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "role",
    "sid",
];

/// What the discovery document states beyond the constants above, each list holding only what works.
#[derive(Debug, Clone)]
pub struct DiscoveryInput<'a> {
    /// The issuer identifier exactly as tokens carry it (no trailing slash); every endpoint URL starts with it.
    pub issuer: &'a str,
    pub scopes: Vec<String>,
    pub signing_algs: Vec<String>,
    /// Grant types with a working implementation at the token endpoint.
    pub grant_types: Vec<&'static str>,
}

pub fn document(input: &DiscoveryInput<'_>) -> Value {
    let endpoint = |path: &str| format!("{}{path}", input.issuer);
    json!({
        "issuer": input.issuer,
        "jwks_uri": endpoint(JWKS_PATH),
        "authorization_endpoint": endpoint(AUTHORIZE_PATH),
        "token_endpoint": endpoint(TOKEN_PATH),
        "userinfo_endpoint": endpoint(USERINFO_PATH),
        "end_session_endpoint": endpoint(LOGOUT_PATH),
        "introspection_endpoint": endpoint(INTROSPECTION_PATH),
        "revocation_endpoint": endpoint(REVOCATION_PATH),
        "device_authorization_endpoint": endpoint(DEVICE_AUTHORIZATION_PATH),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": ["en", "fr"],
        "scopes_supported": input.scopes,
        "claims_supported": CLAIMS_SUPPORTED,
        // Only the code flow: the implicit and hybrid flows are deprecated by RFC 9700 §2.1.2.
        "response_types_supported": ["code"],
        "grant_types_supported": input.grant_types,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": input.signing_algs,
        // RFC 7636 §4.2: `plain` offers no protection once the challenge leaks, so only S256 is accepted.
        "code_challenge_methods_supported": ["S256"],
        // RFC 9207 §3: every authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

/// The document as the bytes served to every request.
pub fn render(input: &DiscoveryInput<'_>) -> Vec<u8> {
    serde_json::to_vec(&document(input)).unwrap_or_default()
}
