//! What the fuzz targets and the seed generator (`examples/seeds.rs`) share: the fixed keyring, the tokens it
//! minted for the corpus, and the clients the authorization requests are checked against.
//!
//! The keys in `fixtures/keys.json` are throw-away keys made for fuzzing and guard nothing. They are fixed, not
//! generated per run, so that the seed tokens carry a `kid` the keyring knows and a mutated seed reaches the
//! signature check instead of stopping at an unknown key.

use std::collections::HashSet;
use std::sync::OnceLock;

use portcullis_core::model::{
    AccessTokenFormat, Client, ClientType, ConsentType, GrantType, KeyUse, Permissions, StoredKey,
};
use portcullis_jose::{Decrypter, KeyAlg, Keyring};
use serde_json::Value;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The instant every target judges tokens at; the minted tokens are valid then.
pub const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);
pub const ISSUER: &str = "https://id.example";
/// The API the access tokens are for.
pub const AUDIENCE: &str = "dataEventRecords";

const KEYS_JSON: &str = include_str!("../fixtures/keys.json");
const MINTED_JSON: &str = include_str!("../fixtures/minted.json");

/// The stored records of the fixture keys: one each for RS256, ES256 and RSA-OAEP, active since a day.
pub fn stored_keys() -> Vec<StoredKey> {
    let keys: Vec<Value> = serde_json::from_str(KEYS_JSON).unwrap_or_default();
    keys.iter()
        .map(|key| {
            let text = |name: &str| key.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
            let alg = KeyAlg::parse(&text("alg")).unwrap_or(KeyAlg::Es256);
            StoredKey {
                kid: text("kid"),
                key_use: if alg == KeyAlg::RsaOaep { KeyUse::Encryption } else { KeyUse::Signing },
                alg: alg.as_str().to_owned(),
                private_jwk: text("private_jwk"),
                public_jwk: text("public_jwk"),
                created_at: NOW - Duration::days(1),
                not_before: NOW - Duration::days(1),
                retired_at: None,
            }
        })
        .collect()
}

/// The provider's keyring made of the fixture keys; a broken fixture stops the target at once.
pub fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| match Keyring::new(&stored_keys(), None, NOW) {
        Ok(keyring) => keyring,
        Err(error) => panic!("fixtures/keys.json does not make a keyring: {error}"),
    })
}

/// What a resource server configured with the encryption key holds.
pub fn decrypter() -> Decrypter {
    let key = stored_keys().into_iter().find(|key| key.alg == KeyAlg::RsaOaep.as_str());
    match key.map(|key| Decrypter::from_private_jwk(&key.private_jwk)) {
        Some(Ok(decrypter)) => decrypter,
        _ => panic!("fixtures/keys.json has no usable RSA-OAEP key"),
    }
}

/// Every token the fixture keyring signed or encrypted for the corpus: the only ones it may accept.
pub fn minted() -> &'static HashSet<String> {
    static MINTED: OnceLock<HashSet<String>> = OnceLock::new();
    MINTED.get_or_init(|| serde_json::from_str(MINTED_JSON).unwrap_or_default())
}

/// The minted JWE with the same protected header, IV, ciphertext and tag as `token`, if any. RFC 7516 protects
/// those with the tag, not the encrypted key: another encoding of the same RSA-OAEP ciphertext (RSA decryption
/// tolerates dropped leading zero bytes) unwraps to the same key and passes. What the token says cannot change
/// that way, which is what the targets check.
pub fn minted_jwe_like(token: &str) -> Option<&'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    minted().iter().map(String::as_str).find(|minted| {
        let theirs: Vec<&str> = minted.split('.').collect();
        theirs.len() == 5 && parts.len() == 5 && [0, 2, 3, 4].iter().all(|&i| theirs[i] == parts[i])
    })
}

pub const PUBLIC_CLIENT: &str = "angularclient";
pub const CONFIDENTIAL_CLIENT: &str = "webapp";

/// Registered redirect URIs of the public client: exact, loopback (any port at request time), private-use
/// scheme, and one with a query the response must keep.
pub const PUBLIC_REDIRECT_URIS: [&str; 4] = [
    "http://localhost:4200/callback",
    "http://127.0.0.1/callback",
    "com.example.app:/oauth2redirect",
    "https://spa.example/cb?tenant=a",
];

pub const SCOPES: [&str; 7] = ["openid", "profile", "email", "phone", "roles", "offline_access", AUDIENCE];

/// The clients the authorization target knows, as the store would return them by `client_id`.
pub fn clients() -> Vec<Client> {
    let public = Client {
        id: "1".into(),
        client_id: PUBLIC_CLIENT.into(),
        secret_digest: None,
        client_type: ClientType::Public,
        consent_type: ConsentType::Explicit,
        display_name: "Angular SPA".into(),
        redirect_uris: PUBLIC_REDIRECT_URIS.iter().map(|uri| (*uri).to_owned()).collect(),
        post_logout_redirect_uris: vec!["http://localhost:4200".into()],
        cors_origins: vec!["http://localhost:4200".into()],
        permissions: Permissions {
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: SCOPES.iter().map(|scope| (*scope).to_owned()).collect(),
            introspection: false,
            revocation: false,
        },
        pkce_exempt: false,
        access_token_format: None,
        created_at: NOW - Duration::days(30),
    };
    // One registered URI, so a request may leave `redirect_uri` out; exempt from PKCE.
    let confidential = Client {
        id: "2".into(),
        client_id: CONFIDENTIAL_CLIENT.into(),
        secret_digest: Some("digest".into()),
        client_type: ClientType::Confidential,
        redirect_uris: vec!["https://webapp.example.com/signin-oidc".into()],
        pkce_exempt: true,
        access_token_format: Some(AccessTokenFormat::Jwt),
        ..public.clone()
    };
    vec![public, confidential]
}
