//! Named builders for what the tests store. Tests change what matters to them with struct update syntax.

use portcullis_core::model::{
    AccessTokenFormat, AuthorizationKind, ClientType, ConsentType, GrantType, KeyUse, NewAuthorization, NewClient,
    NewSession, NewToken, NewUser, Permissions, StoredKey, TokenStatus, TokenType,
};
use portcullis_core::secret;
use portcullis_core::store::StoreError;
use time::OffsetDateTime;
use time::macros::datetime;

/// The time every test starts at; whole seconds, as the stores keep them.
pub const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

pub fn client(client_id: &str) -> NewClient {
    NewClient {
        client_id: client_id.to_owned(),
        secret_digest: Some(secret::digest("the client secret")),
        client_type: ClientType::Confidential,
        consent_type: ConsentType::Explicit,
        display_name: format!("The {client_id} application"),
        redirect_uris: vec![format!("https://{client_id}.example/callback"), "http://127.0.0.1/callback".to_owned()],
        post_logout_redirect_uris: vec![format!("https://{client_id}.example/")],
        cors_origins: vec![format!("https://{client_id}.example")],
        permissions: Permissions {
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: vec!["openid".to_owned(), "profile".to_owned()],
            introspection: false,
            revocation: true,
        },
        pkce_exempt: false,
        access_token_format: Some(AccessTokenFormat::Jwt),
    }
}

pub fn user(id: &str, username: &str, email: Option<&str>) -> NewUser {
    NewUser {
        id: id.to_owned(),
        username: username.to_owned(),
        name: Some(format!("{username} Example")),
        email: email.map(str::to_owned),
        email_confirmed: email.is_some(),
        phone: None,
        phone_confirmed: false,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned(),
        security_stamp: "stamp-1".to_owned(),
    }
}

pub fn authorization(id: &str, subject: &str, client_id: &str) -> NewAuthorization {
    NewAuthorization {
        id: id.to_owned(),
        subject: subject.to_owned(),
        client_id: client_id.to_owned(),
        kind: AuthorizationKind::Permanent,
        scopes: vec!["openid".to_owned(), "profile".to_owned()],
        created_at: T0,
    }
}

/// A valid refresh token of `client_id`, looked up by the digest of `<id>-value`, expiring after 30 days.
pub fn token(id: &str, client_id: &str) -> NewToken {
    NewToken {
        id: id.to_owned(),
        token_type: TokenType::RefreshToken,
        subject: Some("user-1".to_owned()),
        client_id: client_id.to_owned(),
        authorization_id: None,
        reference_digest: Some(secret::digest(&format!("{id}-value"))),
        status: TokenStatus::Valid,
        created_at: T0,
        expires_at: Some(T0 + time::Duration::days(30)),
        payload: Some(r#"{"scopes":["openid"]}"#.to_owned()),
        family_id: None,
    }
}

pub fn session(id: &str, subject: &str) -> NewSession {
    NewSession {
        id: secret::digest(id),
        subject: subject.to_owned(),
        auth_time: T0,
        amr: vec!["pwd".to_owned()],
        created_at: T0,
        expires_at: T0 + time::Duration::hours(8),
    }
}

pub fn key(kid: &str, created_at: OffsetDateTime) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        key_use: KeyUse::Signing,
        alg: "RS256".to_owned(),
        private_jwk: format!(r#"{{"kid":"{kid}","d":"private"}}"#),
        public_jwk: format!(r#"{{"kid":"{kid}","n":"public"}}"#),
        created_at,
        not_before: created_at + time::Duration::hours(1),
        retired_at: None,
    }
}

#[track_caller]
pub fn assert_conflict(error: StoreError, names: &str) {
    match error {
        StoreError::Conflict(what) => assert!(what.contains(names), "{what:?} should name {names:?}"),
        other => panic!("expected a conflict naming {names:?}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found(error: StoreError, names: &str) {
    match error {
        StoreError::NotFound(what) => assert!(what.contains(names), "{what:?} should name {names:?}"),
        other => panic!("expected not found naming {names:?}, got {other:?}"),
    }
}
