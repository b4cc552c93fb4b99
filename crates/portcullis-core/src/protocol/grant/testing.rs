//! Facts for the grants' unit tests: the demo's clients and user, and presented tokens of each kind, all at a
//! fixed time.

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::model::{
    Authorization, AuthorizationKind, AuthorizationStatus, Client, ClientType, ConsentType, GrantType, Permissions,
    Presented, Token, TokenStatus, TokenType, User,
};
use crate::protocol::payload::{CodePayload, DeviceCodePayload, Payload, RefreshTokenPayload};
use crate::protocol::pkce::CodeChallenge;
use crate::protocol::scope::ScopeSet;

pub const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);
pub const REDIRECT_URI: &str = "http://localhost:4200/callback";
/// RFC 7636 Appendix B's challenge.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const SCOPES: [&str; 6] = ["openid", "profile", "email", "roles", "offline_access", "dataEventRecords"];

fn client(client_id: &str, client_type: ClientType, grant_types: Vec<GrantType>) -> Client {
    Client {
        id: format!("{client_id}-row"),
        client_id: client_id.into(),
        secret_digest: None,
        client_type,
        consent_type: ConsentType::Explicit,
        display_name: client_id.into(),
        redirect_uris: vec![REDIRECT_URI.into()],
        post_logout_redirect_uris: Vec::new(),
        cors_origins: Vec::new(),
        permissions: Permissions {
            grant_types,
            scopes: SCOPES.map(str::to_owned).to_vec(),
            introspection: false,
            revocation: false,
        },
        pkce_exempt: false,
        access_token_format: None,
        created_at: NOW - Duration::days(30),
    }
}

/// The demo SPA: public, code + refresh.
pub fn spa() -> Client {
    client("angularclient", ClientType::Public, vec![GrantType::AuthorizationCode, GrantType::RefreshToken])
}

/// The demo console client: confidential, client credentials + password + refresh.
pub fn confidential() -> Client {
    client(
        "consoleclient",
        ClientType::Confidential,
        vec![GrantType::ClientCredentials, GrantType::Password, GrantType::RefreshToken],
    )
}

/// The demo device client: public, device code + refresh.
pub fn device_client() -> Client {
    client("device", ClientType::Public, vec![GrantType::DeviceCode, GrantType::RefreshToken])
}

pub fn alice() -> User {
    User {
        id: "alice-id".into(),
        username: "alice".into(),
        normalized_username: "alice".into(),
        name: Some("Alice".into()),
        email: Some("alice@example.com".into()),
        normalized_email: Some("alice@example.com".into()),
        email_confirmed: true,
        phone: None,
        phone_confirmed: false,
        password_hash: "$argon2id$…".into(),
        security_stamp: "stamp-1".into(),
        lockout_end: None,
        failed_count: 0,
        disabled: false,
        roles: vec!["dataEventRecords.user".into()],
        created_at: NOW - Duration::days(30),
    }
}

fn consent(client_id: &str) -> Authorization {
    Authorization {
        id: "consent-1".into(),
        subject: "alice-id".into(),
        client_id: client_id.into(),
        status: AuthorizationStatus::Valid,
        kind: AuthorizationKind::Permanent,
        scopes: SCOPES.map(str::to_owned).to_vec(),
        created_at: NOW - Duration::days(1),
    }
}

fn token(id: &str, kind: TokenType, client_id: &str, lifetime: Duration, payload: String) -> Token {
    Token {
        id: id.into(),
        token_type: kind,
        subject: Some("alice-id".into()),
        client_id: client_id.into(),
        authorization_id: Some("consent-1".into()),
        reference_digest: Some(format!("{id}-digest")),
        status: TokenStatus::Valid,
        created_at: NOW - Duration::seconds(10),
        expires_at: Some(NOW - Duration::seconds(10) + lifetime),
        redeemed_at: None,
        payload: Some(payload),
        family_id: Some("family-1".into()),
        successor_id: None,
        successor_value: None,
    }
}

pub fn code_payload_with_scope(scope: &str) -> String {
    CodePayload {
        redirect_uri: REDIRECT_URI.into(),
        redirect_uri_in_request: true,
        code_challenge: CodeChallenge::parse(CHALLENGE, Some("S256")).ok(),
        nonce: Some("nonce-1".into()),
        scope: ScopeSet::parse(scope).unwrap(),
        auth_time: NOW - Duration::minutes(1),
        sid: Some("sid-1".into()),
    }
    .write()
    .unwrap()
}

/// A code payload for `openid profile offline_access`; `redirect_uri_in_request` as given.
pub fn code_payload(redirect_uri_in_request: bool) -> String {
    let mut payload: CodePayload =
        serde_json::from_str(&code_payload_with_scope("openid profile offline_access")).unwrap();
    payload.redirect_uri_in_request = redirect_uri_in_request;
    payload.write().unwrap()
}

/// A valid code of the SPA for alice, issued 10 s ago for 5 minutes.
pub fn code_facts() -> Presented {
    Presented {
        token: token("code-1", TokenType::AuthorizationCode, "angularclient", Duration::minutes(5), code_payload(true)),
        user: Some(alice()),
        authorization: Some(consent("angularclient")),
    }
}

pub fn refresh_payload(previous: Option<&str>) -> RefreshTokenPayload {
    RefreshTokenPayload {
        scope: ScopeSet::parse("openid profile offline_access").unwrap(),
        auth_time: Some(NOW - Duration::hours(1)),
        sid: Some("sid-1".into()),
        previous: previous.map(str::to_owned),
        security_stamp: Some("stamp-1".into()),
    }
}

/// A valid refresh token of the console client for alice, issued 10 s ago for 14 days.
pub fn refresh_facts() -> Presented {
    let payload = refresh_payload(None).write().unwrap();
    Presented {
        token: token("refresh-1", TokenType::RefreshToken, "consoleclient", Duration::days(14), payload),
        user: Some(alice()),
        authorization: Some(consent("consoleclient")),
    }
}

/// A device code of the device client, approved by alice (status `valid`), issued 10 s ago for 10 minutes.
pub fn device_facts() -> Presented {
    use crate::protocol::device::{UserCode, UserCodeKey};
    let user_code = UserCode::parse("WDJBMJHT").unwrap();
    let key = UserCodeKey::new([7; UserCodeKey::BYTES]);
    let mut payload = DeviceCodePayload::new(ScopeSet::parse("openid offline_access").unwrap(), &user_code, &key);
    payload.auth_time = Some(NOW - Duration::seconds(5));
    Presented {
        token: token("device-1", TokenType::DeviceCode, "device", Duration::minutes(10), payload.write().unwrap()),
        user: Some(alice()),
        authorization: Some(consent("device")),
    }
}
