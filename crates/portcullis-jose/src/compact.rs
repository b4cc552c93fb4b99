//! Parsing of the compact serialisation shared by JWS (RFC 7515 §7.1) and JWE (RFC 7516 §7.1).
//!
//! We parse and check the protected header ourselves, before any key is chosen, so that a refused header
//! never reaches the crypto library and each refusal has its own error.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::{JoseError, clip};

/// Far above any token we issue (a few KiB); bounds the work an attacker can make us do per token.
pub(crate) const MAX_TOKEN_LEN: usize = 64 * 1024;

/// Header parameters that would have us take a key (or a place to fetch one) from the token itself.
/// RFC 8725 §3.10: never trust them. `crit` is refused because we implement no extension (RFC 7515 §4.1.11).
const REFUSED_HEADERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// Splits a compact token into exactly `N` dot-separated parts.
pub(crate) fn split<'t, const N: usize>(token: &'t str, what: &str) -> Result<[&'t str; N], JoseError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JoseError::Malformed(format!("the {what} is longer than {MAX_TOKEN_LEN} bytes")));
    }
    let mut parts = [""; N];
    let mut pieces = token.split('.');
    for part in &mut parts {
        *part = pieces.next().ok_or_else(|| JoseError::Malformed(format!("a compact {what} has {N} parts")))?;
    }
    if pieces.next().is_some() {
        return Err(JoseError::Malformed(format!("a compact {what} has {N} parts")));
    }
    Ok(parts)
}

/// Decodes base64url without padding; non-canonical trailing bits are refused, so a token has one encoding.
pub(crate) fn decode(part: &str, what: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| JoseError::Malformed(format!("the {what} is not base64url")))
}

pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes the protected header and refuses embedded keys and extensions.
pub(crate) fn protected_header(part: &str) -> Result<Map<String, Value>, JoseError> {
    let bytes = decode(part, "protected header")?;
    let header = match serde_json::from_slice(&bytes) {
        Ok(Value::Object(header)) => header,
        _ => return Err(JoseError::Malformed("the protected header is not a JSON object".to_owned())),
    };
    for name in REFUSED_HEADERS {
        if header.contains_key(name) {
            return Err(JoseError::ForbiddenHeader(name.to_owned()));
        }
    }
    Ok(header)
}

/// An optional string member of a header; present but not a string is malformed.
pub(crate) fn string_member<'a>(header: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, JoseError> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(JoseError::Malformed(format!("header parameter {name:?} is not a string"))),
    }
}

pub(crate) fn required_member<'a>(header: &'a Map<String, Value>, name: &str) -> Result<&'a str, JoseError> {
    string_member(header, name)?.ok_or_else(|| JoseError::Malformed(format!("header parameter {name:?} is missing")))
}

/// The `kid`, which we always require: every key of ours has one, so a token without it is not ours.
pub(crate) fn key_id(header: &Map<String, Value>) -> Result<&str, JoseError> {
    string_member(header, "kid")?.ok_or(JoseError::MissingKeyId)
}

/// A lookup miss, with the (untrusted) kid clipped for the message.
pub(crate) fn unknown_key(kid: &str) -> JoseError {
    JoseError::UnknownKey(clip(kid))
}
