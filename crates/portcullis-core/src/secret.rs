//! High-entropy secrets (client secrets, codes, tokens) and their digests.
//!
//! Such values are stored as SHA-256 digests: they are random with ≥ 256 bits of entropy, so a fast digest is
//! as safe as a slow password hash and keeps lookups to one indexed query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Bytes of randomness in every generated secret: 256 bits.
pub const SECRET_BYTES: usize = 32;

/// A new random secret, base64url-encoded (43 characters).
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 digest of a secret, base64url-encoded; what the stores keep.
pub fn digest(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(value.as_bytes()))
}

/// Whether `value` is the secret behind `expected_digest`, compared in constant time.
pub fn matches_digest(value: &str, expected_digest: &str) -> bool {
    digest(value).as_bytes().ct_eq(expected_digest.as_bytes()).into()
}

/// A new random identifier for stored rows.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }

    #[test]
    fn digest_matches_only_its_secret() {
        let d = digest("dataEventRecordsSecret");
        assert!(matches_digest("dataEventRecordsSecret", &d));
        assert!(!matches_digest("dataEventRecordsSecreT", &d));
        assert!(!matches_digest("", &d));
        // RFC 6234 test vector "abc", base64url.
        assert_eq!(digest("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    }
}
