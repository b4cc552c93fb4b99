//! Proof Key for Code Exchange (RFC 7636), S256 only.
//!
//! At the authorization endpoint a client sends `code_challenge` (and `code_challenge_method=S256`); the
//! challenge is stored with the code. At the token endpoint the client proves it started the flow by sending
//! the `code_verifier` whose SHA-256 is that challenge. Errors of the first step are `invalid_request` (they are
//! redirected to the client); errors of the second are `invalid_grant` (RFC 7636 §4.6).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::OAuthError;
use crate::protocol::quoted;

/// RFC 7636 §4.2: BASE64URL of a 32-byte SHA-256 digest, without padding, is 43 characters.
const CHALLENGE_LEN: usize = 43;
/// RFC 7636 §4.1: "with a minimum length of 43 characters and a maximum length of 128 characters."
const VERIFIER_MIN_LEN: usize = 43;
const VERIFIER_MAX_LEN: usize = 128;

/// The only transformation this provider accepts. `plain` exists in RFC 7636 for clients that cannot compute
/// SHA-256; every client today can, and `plain` gives no protection when the authorization request leaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeChallengeMethod {
    S256,
}

impl CodeChallengeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
        }
    }
}

/// A `code_challenge` proven to be the S256 digest form: 43 base64url characters that decode to 32 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeChallenge {
    encoded: String,
    digest: [u8; 32],
}

impl CodeChallenge {
    /// Reads the PKCE parameters of an authorization request: `Ok(None)` when neither was sent (whether that is
    /// allowed is the caller's policy), the challenge when both are valid, `invalid_request` otherwise.
    pub fn from_request(challenge: Option<&str>, method: Option<&str>) -> Result<Option<Self>, OAuthError> {
        match (challenge, method) {
            (None, None) => Ok(None),
            (None, Some(method)) => Err(OAuthError::invalid_request(format!(
                "code_challenge_method={} was sent without a code_challenge",
                quoted(method)
            ))),
            (Some(challenge), method) => Self::parse(challenge, method).map(Some),
        }
    }

    /// Validates a challenge and its method: from a request, or read back from storage.
    pub fn parse(challenge: &str, method: Option<&str>) -> Result<Self, OAuthError> {
        match method {
            Some("S256") => {}
            // RFC 7636 §4.3: "code_challenge_method: OPTIONAL, defaults to "plain" if not present in the
            // request." So an absent method is `plain`, refused like an explicit one.
            None | Some("plain") => {
                return Err(OAuthError::invalid_request(
                    "code_challenge_method must be S256: this provider supports only S256, not plain \
                     (the default when code_challenge_method is omitted)",
                ));
            }
            Some(other) => {
                return Err(OAuthError::invalid_request(format!(
                    "code_challenge_method {} is not supported; only S256 is",
                    quoted(other)
                )));
            }
        }
        // RFC 7636 §4.2: "code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))", which is always 43
        // characters; anything else cannot be the S256 challenge of any verifier.
        if challenge.len() != CHALLENGE_LEN {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge must be 43 base64url characters (BASE64URL(SHA256(code_verifier))); it has {}",
                challenge.chars().count()
            )));
        }
        let digest =
            URL_SAFE_NO_PAD.decode(challenge).ok().and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()).ok_or_else(
                || {
                    OAuthError::invalid_request(format!(
                        "code_challenge {} is not base64url without padding",
                        quoted(challenge)
                    ))
                },
            )?;
        Ok(Self { encoded: challenge.to_owned(), digest })
    }

    /// The challenge as sent, for storage with the code.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    pub fn method(&self) -> CodeChallengeMethod {
        CodeChallengeMethod::S256
    }

    /// Whether `verifier` is the one this challenge was computed from. The comparison takes the same time
    /// whatever the inputs, so a client cannot learn the challenge byte by byte.
    pub fn verify(&self, verifier: &CodeVerifier) -> bool {
        // RFC 7636 §4.6: "BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge". Comparing the
        // digests is the same test without re-encoding.
        let computed = Sha256::digest(verifier.0.as_bytes());
        computed.as_slice().ct_eq(&self.digest).into()
    }
}

impl fmt::Debug for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CodeChallenge").field(&self.encoded).finish()
    }
}

/// A `code_verifier` proven to follow RFC 7636 §4.1. It is a secret, so `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// Validates a verifier sent to the token endpoint; `invalid_grant` if it is malformed.
    pub fn parse(value: &str) -> Result<Self, OAuthError> {
        // RFC 7636 §4.1: "code-verifier = 43*128unreserved
        //                  unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~""
        if let Some((position, bad)) =
            value.chars().enumerate().find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
        {
            return Err(OAuthError::invalid_grant(format!(
                "code_verifier contains {} at position {position}; RFC 7636 §4.1 allows only \
                 A-Z a-z 0-9 - . _ ~",
                quoted(&bad.to_string())
            )));
        }
        // All characters are ASCII from here on, so bytes and characters count the same.
        if !(VERIFIER_MIN_LEN..=VERIFIER_MAX_LEN).contains(&value.len()) {
            return Err(OAuthError::invalid_grant(format!(
                "code_verifier is {} characters long; RFC 7636 §4.1 requires 43 to 128",
                value.len()
            )));
        }
        Ok(Self(value.to_owned()))
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

/// The PKCE check of a token request: `challenge` is what the authorization request stored with the code,
/// `verifier` the `code_verifier` parameter. Every failure is `invalid_grant`.
pub fn verify_token_request(challenge: Option<&CodeChallenge>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        // Only reachable for a client exempted from PKCE by configuration; the authorization endpoint decided.
        (None, None) => Ok(()),
        // RFC 9700 §2.1.1: "Authorization servers MUST mitigate PKCE Downgrade Attacks by ensuring that a token
        // request containing a code_verifier parameter is accepted only if a code_challenge parameter was
        // present in the authorization request." (checklist P5)
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier was sent, but the authorization request had no code_challenge",
        )),
        // Checklist P4: the code is bound to a challenge; redeeming it needs the proof.
        (Some(_), None) => {
            Err(OAuthError::invalid_grant("code_verifier is required: the authorization request sent a code_challenge"))
        }
        (Some(challenge), Some(verifier)) => {
            let verifier = CodeVerifier::parse(verifier)?;
            // RFC 7636 §4.6: "If the values are not equal, an error response indicating "invalid_grant" as
            // described in Section 5.2 of [RFC6749] MUST be returned." (checklist P3)
            if challenge.verify(&verifier) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge of the authorization request",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn challenge() -> CodeChallenge {
        CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap()
    }

    #[test]
    fn rfc7636_appendix_b_s256_verifier_matches() {
        let verifier = CodeVerifier::parse(VERIFIER).unwrap();
        assert!(challenge().verify(&verifier));
        assert_eq!(challenge().as_str(), CHALLENGE);
        assert_eq!(challenge().method().as_str(), "S256");
        assert_eq!(verify_token_request(Some(&challenge()), Some(VERIFIER)), Ok(()));
    }

    #[test]
    fn rfc7636_4_4_neither_parameter_is_no_challenge() {
        assert_eq!(CodeChallenge::from_request(None, None), Ok(None));
    }

    #[test]
    fn rfc7636_4_2_plain_method_is_invalid_request() {
        let err = CodeChallenge::from_request(Some(CHALLENGE), Some("plain")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("only S256"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_3_missing_method_means_plain_and_is_invalid_request() {
        let err = CodeChallenge::from_request(Some(CHALLENGE), None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("only S256"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_3_unknown_method_is_invalid_request_naming_it() {
        let err = CodeChallenge::from_request(Some(CHALLENGE), Some("S512")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("\"S512\""), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_3_method_without_challenge_is_invalid_request() {
        let err = CodeChallenge::from_request(None, Some("S256")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("without a code_challenge"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_2_short_challenge_is_invalid_request() {
        let err = CodeChallenge::from_request(Some(&CHALLENGE[..42]), Some("S256")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("it has 42"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_2_long_challenge_is_invalid_request() {
        let long = format!("{CHALLENGE}A");
        let err = CodeChallenge::from_request(Some(&long), Some("S256")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("it has 44"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_2_non_base64url_challenge_is_invalid_request() {
        // Standard base64 `+` and `/` are not base64url.
        let bad = format!("{}+/", &CHALLENGE[..41]);
        let err = CodeChallenge::from_request(Some(&bad), Some("S256")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains(&bad), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_2_challenge_with_non_canonical_last_character_is_invalid_request() {
        // 43 characters carry 258 bits; a challenge whose last 2 bits are set is no 32-byte digest.
        let bad = format!("{}N", &CHALLENGE[..42]);
        let err = CodeChallenge::from_request(Some(&bad), Some("S256")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn rfc7636_4_6_wrong_verifier_is_invalid_grant() {
        let wrong = format!("{}Y", &VERIFIER[..42]);
        let err = verify_token_request(Some(&challenge()), Some(&wrong)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("does not match"), "{}", err.description);
    }

    #[test]
    fn checklist_p4_missing_verifier_is_invalid_grant() {
        let err = verify_token_request(Some(&challenge()), None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("code_verifier is required"), "{}", err.description);
    }

    #[test]
    fn rfc9700_2_1_1_downgrade_verifier_without_challenge_is_invalid_grant() {
        let err = verify_token_request(None, Some(VERIFIER)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("no code_challenge"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_1_short_verifier_is_invalid_grant() {
        let err = verify_token_request(Some(&challenge()), Some(&"a".repeat(42))).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("42 characters"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_1_long_verifier_is_invalid_grant() {
        let err = verify_token_request(Some(&challenge()), Some(&"a".repeat(129))).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("129 characters"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_1_verifier_bounds_are_inclusive() {
        assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
        assert!(CodeVerifier::parse(&"~".repeat(128)).is_ok());
    }

    #[test]
    fn rfc7636_4_1_verifier_with_illegal_character_is_invalid_grant() {
        let bad = format!("{}+", &VERIFIER[..42]);
        let err = verify_token_request(Some(&challenge()), Some(&bad)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("\"+\" at position 42"), "{}", err.description);
    }

    #[test]
    fn rfc7636_4_1_verifier_with_non_ascii_character_is_invalid_grant() {
        let bad = format!("{}é", &VERIFIER[..42]);
        let err = CodeVerifier::parse(&bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidGrant);
        assert!(err.description.contains("\"é\""), "{}", err.description);
    }

    #[test]
    fn verifier_debug_output_is_redacted() {
        let verifier = CodeVerifier::parse(VERIFIER).unwrap();
        assert_eq!(format!("{verifier:?}"), "CodeVerifier([redacted])");
    }
}
