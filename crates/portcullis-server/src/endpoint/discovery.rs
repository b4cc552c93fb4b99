//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
//!
//! The document is built once from what the provider really supports and served as precomputed bytes; it
//! is rebuilt only when the scopes or keys change.

use serde_json::{Value, json};

use crate::config::Issuer;

/// What the document states, each list holding only what works.
#[derive(Debug, Clone)]
pub struct DiscoveryInput<'a> {
    pub issuer: &'a Issuer,
    pub scopes: Vec<String>,
    pub signing_algs: Vec<String>,
    /// Grant types with a working implementation at the token endpoint.
    pub grant_types: Vec<&'static str>,
}

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

pub fn document(input: &DiscoveryInput<'_>) -> Value {
    let issuer = input.issuer;
    json!({
        "issuer": issuer.as_str(),
        "jwks_uri": issuer.endpoint(crate::endpoint::JWKS_PATH),
        "authorization_endpoint": issuer.endpoint(crate::endpoint::authorize::AUTHORIZE_PATH),
        "token_endpoint": issuer.endpoint(crate::endpoint::token::TOKEN_PATH),
        "userinfo_endpoint": issuer.endpoint(crate::endpoint::userinfo::USERINFO_PATH),
        "end_session_endpoint": issuer.endpoint(crate::endpoint::logout::LOGOUT_PATH),
        "introspection_endpoint": issuer.endpoint(crate::endpoint::introspect::INTROSPECTION_PATH),
        "revocation_endpoint": issuer.endpoint(crate::endpoint::introspect::REVOCATION_PATH),
        "device_authorization_endpoint": issuer.endpoint(crate::endpoint::device::DEVICE_AUTHORIZATION_PATH),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": crate::client_auth::METHODS_SUPPORTED,
        "token_endpoint_auth_methods_supported": crate::client_auth::METHODS_SUPPORTED,
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

pub async fn configuration(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
) -> impl axum::response::IntoResponse {
    let published = state.published();
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        published.discovery.clone(),
    )
}
