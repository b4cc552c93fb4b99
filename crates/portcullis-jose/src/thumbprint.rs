//! RFC 7638 JWK thumbprints, used as our `kid` values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::JoseError;

/// The RFC 7638 SHA-256 thumbprint of a public (or private) JWK, base64url without padding.
///
/// RFC 7638 §3.2: only the required members of the key type, in lexicographic order, without whitespace;
/// so a thumbprint is stable whatever optional members (`kid`, `use`, private ones) the JWK carries.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Result<String, JoseError> {
    let members: &[&str] = match member(jwk, "kty")? {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        other => return Err(JoseError::UnsupportedAlgorithm(format!("kty {other}"))),
    };
    let mut canonical = String::from("{");
    for (index, name) in members.iter().enumerate() {
        if index > 0 {
            canonical.push(',');
        }
        // serde_json escapes exactly as RFC 7638 §3.3 requires (JSON string rules, no extra whitespace).
        canonical.push_str(&Value::from(*name).to_string());
        canonical.push(':');
        canonical.push_str(&Value::from(member(jwk, name)?).to_string());
    }
    canonical.push('}');
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

fn member<'a>(jwk: &'a Map<String, Value>, name: &str) -> Result<&'a str, JoseError> {
    jwk.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| JoseError::Malformed(format!("JWK member {name:?} is missing or not a string")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rfc7638_example() -> Map<String, Value> {
        let Value::Object(map) = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }) else {
            unreachable!()
        };
        map
    }

    #[test]
    fn rfc7638_3_1_example_thumbprint() {
        assert_eq!(jwk_thumbprint(&rfc7638_example()).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn rfc7638_3_2_optional_and_private_members_do_not_change_the_thumbprint() {
        let mut jwk = rfc7638_example();
        jwk.insert("use".into(), json!("sig"));
        jwk.insert("d".into(), json!("c2VjcmV0"));
        jwk.remove("kid");
        assert_eq!(jwk_thumbprint(&jwk).unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn rfc7638_3_2_missing_required_member_is_an_error() {
        let mut jwk = rfc7638_example();
        jwk.remove("e");
        assert!(matches!(jwk_thumbprint(&jwk), Err(JoseError::Malformed(_))));
    }

    #[test]
    fn rfc7638_oct_keys_are_not_thumbprinted_here() {
        let Value::Object(jwk) = json!({"kty": "oct", "k": "AAAA"}) else { unreachable!() };
        assert!(matches!(jwk_thumbprint(&jwk), Err(JoseError::UnsupportedAlgorithm(_))));
    }
}
