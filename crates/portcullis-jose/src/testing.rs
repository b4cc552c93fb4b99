//! Shared test fixtures: keys are generated once per test binary because RSA generation is slow.

use std::sync::OnceLock;

use portcullis_core::model::StoredKey;
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime, macros::datetime};

use crate::compact;
use crate::keyring::Keyring;
use crate::keys::{GeneratedKey, KeyAlg, generate_key};

pub(crate) const NOW: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

/// Two distinct keys per algorithm: `key(alg, 0)` and `key(alg, 1)`.
pub(crate) fn key(alg: KeyAlg, index: usize) -> &'static GeneratedKey {
    static RS256: OnceLock<[GeneratedKey; 2]> = OnceLock::new();
    static ES256: OnceLock<[GeneratedKey; 2]> = OnceLock::new();
    static RSA_OAEP: OnceLock<[GeneratedKey; 2]> = OnceLock::new();
    let cell = match alg {
        KeyAlg::Rs256 => &RS256,
        KeyAlg::Es256 => &ES256,
        KeyAlg::RsaOaep => &RSA_OAEP,
    };
    &cell.get_or_init(|| [generate_key(alg).unwrap(), generate_key(alg).unwrap()])[index]
}

/// A stored key that became usable `active_since` before [`NOW`] (negative: becomes usable later).
pub(crate) fn stored(key: &GeneratedKey, active_since: Duration) -> StoredKey {
    let not_before = NOW - active_since;
    key.clone().into_stored(None, not_before.min(NOW - Duration::days(1)), not_before).unwrap()
}

pub(crate) fn retired(mut key: StoredKey, retired_at: OffsetDateTime) -> StoredKey {
    key.retired_at = Some(retired_at);
    key
}

/// One active key of each algorithm (index 0).
pub(crate) fn keyring() -> Keyring {
    let keys: Vec<StoredKey> = [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::RsaOaep]
        .into_iter()
        .map(|alg| stored(key(alg, 0), Duration::hours(1)))
        .collect();
    Keyring::new(&keys, None, NOW).unwrap()
}

pub(crate) fn claims() -> Map<String, Value> {
    let Value::Object(claims) =
        json!({"iss": "https://id.example", "sub": "alice", "aud": "app", "exp": 1_800_000_000})
    else {
        unreachable!()
    };
    claims
}

pub(crate) fn header_of(token: &str) -> Map<String, Value> {
    serde_json::from_slice(&compact::decode(token.split('.').next().unwrap(), "h").unwrap()).unwrap()
}

/// A compact JWS with an arbitrary header and signature, for tokens no honest signer would make.
pub(crate) fn forge(header: &Value, payload: &[u8], signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        compact::encode(header.to_string().as_bytes()),
        compact::encode(payload),
        compact::encode(signature)
    )
}
