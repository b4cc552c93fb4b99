use thiserror::Error;

/// Everything that can go wrong in this crate, in terms a caller can map to a protocol error.
///
/// Messages never contain key material. Values that come from a token (`kid`, `alg`, header names) are
/// clipped and shown with `{:?}` so a hostile token cannot flood or forge log lines.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JoseError {
    /// The token or document is not well-formed JOSE (parts, base64url, JSON).
    #[error("malformed: {0}")]
    Malformed(String),
    /// The algorithm is one this crate never accepts (`none`, HMAC, unknown names).
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A supported algorithm that the caller did not allow for this token.
    #[error("algorithm {0:?} is not allowed here")]
    AlgorithmNotAllowed(String),
    /// The header has no `kid`: every key of ours is named, so a token without one is not ours.
    #[error("the header has no \"kid\"")]
    MissingKeyId,
    /// No usable (present and not retired) key has this `kid`.
    #[error("no usable key has kid {0:?}")]
    UnknownKey(String),
    /// The `kid` names a key of another algorithm (RFC 8725 §3.1: the key decides the algorithm).
    #[error("key {kid:?} is for {key_alg}, the header says {header_alg:?}")]
    KeyAlgorithmMismatch { kid: String, key_alg: String, header_alg: String },
    /// A header that would make us take a key from the token itself (RFC 8725 §3.10), or an extension we do
    /// not implement (`crit`, RFC 7515 §4.1.11).
    #[error("header parameter {0:?} is refused")]
    ForbiddenHeader(String),
    /// The signature does not verify with the named key.
    #[error("the signature does not verify")]
    BadSignature,
    /// A JWE or sealed value could not be decrypted. Deliberately without detail (RFC 7516 §11.5).
    #[error("decryption failed")]
    Decryption,
    /// The crypto library could not generate a key.
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
    /// No current key for this use and algorithm, e.g. `"ES256 signing"`.
    #[error("no current {0} key")]
    NoKey(String),
    /// A stored or configured key cannot be used. `reason` never quotes key material.
    #[error("key {kid:?} is invalid: {reason}")]
    InvalidKey { kid: String, reason: String },
    /// The master key string is unusable; says what is wrong (encoding, length), never the value.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(String),
    /// A sealed value names a master key other than the configured one.
    #[error("sealed with master key {sealed_with:?}, but the configured master key is {configured:?}")]
    WrongMasterKey { sealed_with: String, configured: String },
    /// A stored private key is sealed and no master key was given to open it.
    #[error("private key {kid:?} is sealed but no master key is configured")]
    MasterKeyRequired { kid: String },
    /// Signing or encrypting failed inside the crypto library (not caused by the caller's input).
    #[error("crypto failure: {0}")]
    Crypto(String),
}

/// Clips a value taken from untrusted input before it goes into an error message.
pub(crate) fn clip(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}
