//! Compact JWS (RFC 7515) signing and verification with our own keys.

use std::collections::HashMap;
use std::fmt;

use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsSigner, JwsVerifier, RS256};
use serde_json::{Map, Value};

use crate::compact::{self, key_id, protected_header, required_member, string_member, unknown_key};
use crate::error::{JoseError, clip};
use crate::keys::{ParsedKey, SigningAlg};

/// The protected header of a verified JWS, as far as callers need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedHeader {
    pub alg: SigningAlg,
    pub kid: String,
    /// `typ`, e.g. `at+jwt` (RFC 9068 §2.1) or `JWT`; the caller decides which it expects.
    pub typ: Option<String>,
    pub cty: Option<String>,
}

/// A private signing key, parsed once.
pub(crate) struct SigningKey {
    kid: String,
    alg: SigningAlg,
    signer: Box<dyn JwsSigner>,
}

impl SigningKey {
    pub fn new(key: &ParsedKey, alg: SigningAlg) -> Result<Self, JoseError> {
        let signer: Result<Box<dyn JwsSigner>, _> = match alg {
            SigningAlg::Rs256 => RS256.signer_from_jwk(&key.private).map(|s| Box::new(s) as _),
            SigningAlg::Es256 => ES256.signer_from_jwk(&key.private).map(|s| Box::new(s) as _),
        };
        let signer = signer.map_err(|err| JoseError::InvalidKey { kid: key.kid.clone(), reason: err.to_string() })?;
        Ok(Self { kid: key.kid.clone(), alg, signer })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// RFC 7515 §5.1: header `{"alg","kid","typ"}`, payload the claims as JSON, signature over both.
    pub fn sign(&self, claims: &Map<String, Value>, typ: Option<&str>) -> Result<String, JoseError> {
        let mut header = Map::new();
        header.insert("alg".to_owned(), Value::from(self.alg.as_str()));
        header.insert("kid".to_owned(), Value::from(self.kid.as_str()));
        if let Some(typ) = typ {
            header.insert("typ".to_owned(), Value::from(typ));
        }
        let payload = serde_json::to_vec(claims).map_err(|err| JoseError::Crypto(err.to_string()))?;
        let mut token = compact::encode(Value::Object(header).to_string().as_bytes());
        token.push('.');
        token.push_str(&compact::encode(&payload));
        let signature = self.signer.sign(token.as_bytes()).map_err(|err| JoseError::Crypto(err.to_string()))?;
        token.push('.');
        token.push_str(&compact::encode(&signature));
        Ok(token)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

/// A public key, parsed once, bound to the one algorithm it may verify (RFC 8725 §3.1).
pub(crate) struct VerifyingKey {
    alg: SigningAlg,
    verifier: Box<dyn JwsVerifier>,
}

impl VerifyingKey {
    pub fn from_public(public: &Map<String, Value>, alg: SigningAlg, kid: &str) -> Result<Self, JoseError> {
        let invalid = |reason: String| JoseError::InvalidKey { kid: clip(kid), reason };
        let jwk = Jwk::from_map(public.clone()).map_err(|err| invalid(err.to_string()))?;
        let verifier: Result<Box<dyn JwsVerifier>, _> = match alg {
            SigningAlg::Rs256 => RS256.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
            SigningAlg::Es256 => ES256.verifier_from_jwk(&jwk).map(|v| Box::new(v) as _),
        };
        Ok(Self { alg, verifier: verifier.map_err(|err| invalid(err.to_string()))? })
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey").field("alg", &self.alg).finish_non_exhaustive()
    }
}

/// RFC 7515 §5.2 validation with the key named by `kid`. Claims (exp, iss, aud…) are the caller's job.
pub(crate) fn verify<'k>(
    token: &str,
    allowed: &[SigningAlg],
    lookup: impl Fn(&str) -> Option<&'k VerifyingKey>,
) -> Result<(VerifiedHeader, Map<String, Value>), JoseError> {
    let [header_b64, payload_b64, signature_b64] = compact::split::<3>(token, "JWS")?;
    let header = protected_header(header_b64)?;

    // RFC 8725 §3.1 / §2.1: the algorithm list is ours, never the token's. `none` and the HMAC algorithms are
    // not in it, so a token cannot turn our public key into an HMAC secret (the "alg confusion" attack).
    let alg_name = required_member(&header, "alg")?;
    let alg = SigningAlg::parse(alg_name).ok_or_else(|| JoseError::UnsupportedAlgorithm(clip(alg_name)))?;
    if !allowed.contains(&alg) {
        return Err(JoseError::AlgorithmNotAllowed(alg.as_str().to_owned()));
    }
    let kid = key_id(&header)?;
    let key = lookup(kid).ok_or_else(|| unknown_key(kid))?;
    if key.alg != alg {
        return Err(JoseError::KeyAlgorithmMismatch {
            kid: kid.to_owned(),
            key_alg: key.alg.as_str().to_owned(),
            header_alg: alg.as_str().to_owned(),
        });
    }

    let signature = compact::decode(signature_b64, "JWS signature")?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    key.verifier.verify(signing_input.as_bytes(), &signature).map_err(|_| JoseError::BadSignature)?;

    let claims = match serde_json::from_slice(&compact::decode(payload_b64, "JWS payload")?) {
        Ok(Value::Object(claims)) => claims,
        _ => return Err(JoseError::Malformed("the JWS payload is not a JSON object".to_owned())),
    };
    let verified = VerifiedHeader {
        alg,
        kid: kid.to_owned(),
        typ: string_member(&header, "typ")?.map(str::to_owned),
        cty: string_member(&header, "cty")?.map(str::to_owned),
    };
    Ok((verified, claims))
}

/// Verifies tokens against a published JWKS: for resource servers and clients of the provider.
#[derive(Debug)]
pub struct JwksVerifier {
    keys: HashMap<String, VerifyingKey>,
}

impl JwksVerifier {
    /// Reads a JWK Set (RFC 7517 §5). Keys that are not for signing, have no `kid`, or use an algorithm we do
    /// not verify are skipped, so a shared JWKS with other keys still works; a usable key that is broken is
    /// an error.
    pub fn from_jwks_json(jwks: &[u8]) -> Result<Self, JoseError> {
        let document: Value =
            serde_json::from_slice(jwks).map_err(|err| JoseError::Malformed(format!("the JWKS is not JSON: {err}")))?;
        let entries = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JoseError::Malformed("the JWKS has no \"keys\" array".to_owned()))?;
        let mut keys = HashMap::new();
        for entry in entries {
            let Some(jwk) = entry.as_object() else { continue };
            let text = |name: &str| jwk.get(name).and_then(Value::as_str);
            if text("use").is_some_and(|key_use| key_use != "sig") {
                continue;
            }
            let (Some(kid), Some(alg)) = (text("kid"), text("alg").and_then(SigningAlg::parse)) else { continue };
            let key = VerifyingKey::from_public(jwk, alg, kid)?;
            if keys.insert(kid.to_owned(), key).is_some() {
                return Err(JoseError::InvalidKey { kid: clip(kid), reason: "the kid appears twice".to_owned() });
            }
        }
        Ok(Self { keys })
    }

    /// Same checks as [`crate::Keyring::verify`].
    pub fn verify(
        &self,
        token: &str,
        allowed: &[SigningAlg],
    ) -> Result<(VerifiedHeader, Map<String, Value>), JoseError> {
        verify(token, allowed, |kid| self.keys.get(kid))
    }
}

#[cfg(test)]
impl SigningKey {
    pub(crate) fn sign_with_header(&self, header: &Value, payload: &[u8]) -> String {
        let input = format!("{}.{}", compact::encode(header.to_string().as_bytes()), compact::encode(payload));
        let signature = self.signer.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", compact::encode(&signature))
    }
}

#[cfg(test)]
mod tests {
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::sign::Signer;
    use serde_json::json;
    use time::Duration;

    use super::*;
    use crate::keyring::Keyring;
    use crate::keys::KeyAlg;
    use crate::testing::{NOW, claims, forge, header_of, key, keyring, stored};

    const BOTH: &[SigningAlg] = &[SigningAlg::Rs256, SigningAlg::Es256];

    fn kid(alg: KeyAlg) -> &'static str {
        &key(alg, 0).kid
    }

    fn payload() -> Vec<u8> {
        serde_json::to_vec(&claims()).unwrap()
    }

    #[test]
    fn rfc7515_round_trip_for_each_signing_alg() {
        let keyring = keyring();
        for alg in [SigningAlg::Rs256, SigningAlg::Es256] {
            let token = keyring.sign(alg, &claims(), Some("JWT")).unwrap();
            let (header, verified) = keyring.verify(&token, &[alg]).unwrap();
            assert_eq!(verified, claims());
            assert_eq!(header.alg, alg);
            assert_eq!(header.kid, kid(alg.into()));
            assert_eq!(header.typ.as_deref(), Some("JWT"));
        }
    }

    #[test]
    fn rfc7515_4_1_header_has_alg_kid_and_the_given_typ_only() {
        let token = keyring().sign(SigningAlg::Es256, &claims(), Some("at+jwt")).unwrap();
        assert_eq!(
            Value::Object(header_of(&token)),
            json!({"alg": "ES256", "kid": kid(KeyAlg::Es256), "typ": "at+jwt"})
        );
        let untyped = keyring().sign(SigningAlg::Rs256, &claims(), None).unwrap();
        assert!(!header_of(&untyped).contains_key("typ"));
    }

    #[test]
    fn rfc7518_3_4_es256_signatures_are_64_raw_bytes() {
        let token = keyring().sign(SigningAlg::Es256, &claims(), None).unwrap();
        let signature = compact::decode(token.rsplit('.').next().unwrap(), "s").unwrap();
        assert_eq!(signature.len(), 64);
    }

    #[test]
    fn rfc8725_3_1_alg_none_is_refused() {
        let token = forge(&json!({"alg": "none", "kid": kid(KeyAlg::Rs256)}), &payload(), b"");
        assert_eq!(keyring().verify(&token, BOTH), Err(JoseError::UnsupportedAlgorithm("none".into())));
        let unsigned = format!("{}.{}.", compact::encode(br#"{"alg":"none"}"#), compact::encode(&payload()));
        assert_eq!(keyring().verify(&unsigned, BOTH), Err(JoseError::UnsupportedAlgorithm("none".into())));
    }

    #[test]
    fn rfc8725_2_1_hs256_signed_with_the_rsa_public_key_as_secret_is_refused() {
        // The classic confusion: an attacker HMACs with our public key, hoping the verifier treats it as a secret.
        let public_jwk = key(KeyAlg::Rs256, 0).public_jwk.as_bytes();
        let header = json!({"alg": "HS256", "kid": kid(KeyAlg::Rs256), "typ": "JWT"});
        let input = format!("{}.{}", compact::encode(header.to_string().as_bytes()), compact::encode(&payload()));
        let mut hmac = Signer::new(MessageDigest::sha256(), &PKey::hmac(public_jwk).unwrap()).unwrap();
        hmac.update(input.as_bytes()).unwrap();
        let token = format!("{input}.{}", compact::encode(&hmac.sign_to_vec().unwrap()));
        assert_eq!(keyring().verify(&token, BOTH), Err(JoseError::UnsupportedAlgorithm("HS256".into())));
    }

    #[test]
    fn rfc8725_3_1_an_alg_outside_the_allowed_list_is_refused() {
        let token = keyring().sign(SigningAlg::Es256, &claims(), None).unwrap();
        assert_eq!(keyring().verify(&token, &[SigningAlg::Rs256]), Err(JoseError::AlgorithmNotAllowed("ES256".into())));
        let ps256 = forge(&json!({"alg": "PS256", "kid": kid(KeyAlg::Rs256)}), &payload(), b"x");
        assert_eq!(keyring().verify(&ps256, BOTH), Err(JoseError::UnsupportedAlgorithm("PS256".into())));
    }

    #[test]
    fn rfc8725_3_1_a_kid_whose_key_has_another_alg_is_refused() {
        let keyring = keyring();
        let header = json!({"alg": "RS256", "kid": kid(KeyAlg::Es256)});
        let token = keyring.sign_with_header(SigningAlg::Rs256, &header, &payload());
        assert!(matches!(keyring.verify(&token, BOTH), Err(JoseError::KeyAlgorithmMismatch { .. })));
    }

    #[test]
    fn rfc7515_4_1_4_an_unknown_kid_is_refused() {
        let keyring = keyring();
        let token = keyring.sign_with_header(SigningAlg::Es256, &json!({"alg": "ES256", "kid": "nope"}), &payload());
        assert_eq!(keyring.verify(&token, BOTH), Err(JoseError::UnknownKey("nope".into())));
    }

    #[test]
    fn rfc7515_4_1_4_a_missing_kid_is_refused() {
        let keyring = keyring();
        let token = keyring.sign_with_header(SigningAlg::Es256, &json!({"alg": "ES256"}), &payload());
        assert_eq!(keyring.verify(&token, BOTH), Err(JoseError::MissingKeyId));
    }

    #[test]
    fn rfc8725_3_10_headers_that_carry_or_point_to_keys_are_refused() {
        let keyring = keyring();
        let public: Value = serde_json::from_str(&key(KeyAlg::Es256, 0).public_jwk).unwrap();
        let cases = [
            ("jku", json!("https://attacker.example/jwks.json")),
            ("x5u", json!("https://attacker.example/cert.pem")),
            ("jwk", public),
            ("x5c", json!(["MIIB"])),
            ("crit", json!(["exp"])),
        ];
        for (name, value) in cases {
            let mut header = json!({"alg": "ES256", "kid": kid(KeyAlg::Es256)});
            header[name] = value;
            let token = keyring.sign_with_header(SigningAlg::Es256, &header, &payload());
            assert_eq!(keyring.verify(&token, BOTH), Err(JoseError::ForbiddenHeader(name.into())), "{name}");
        }
    }

    #[test]
    fn rfc7515_5_2_a_tampered_payload_fails_the_signature() {
        let keyring = keyring();
        for alg in [SigningAlg::Rs256, SigningAlg::Es256] {
            let token = keyring.sign(alg, &claims(), None).unwrap();
            let [header, _, signature] = compact::split::<3>(&token, "t").unwrap();
            let mut changed = claims();
            changed.insert("sub".into(), json!("mallory"));
            let tampered = format!("{header}.{}.{signature}", compact::encode(&serde_json::to_vec(&changed).unwrap()));
            assert_eq!(keyring.verify(&tampered, BOTH), Err(JoseError::BadSignature), "{alg}");
        }
    }

    #[test]
    fn rfc7515_5_2_a_token_signed_by_another_key_under_our_kid_fails_the_signature() {
        for alg in [KeyAlg::Rs256, KeyAlg::Es256] {
            let signing = alg.signing().unwrap();
            let impostor = Keyring::new(&[stored(key(alg, 1), Duration::hours(1))], None, NOW).unwrap();
            let header = json!({"alg": alg.as_str(), "kid": kid(alg)});
            let token = impostor.sign_with_header(signing, &header, &payload());
            assert_eq!(keyring().verify(&token, BOTH), Err(JoseError::BadSignature), "{alg}");
        }
    }

    #[test]
    fn rfc7515_7_1_malformed_compact_tokens_are_refused() {
        let keyring = keyring();
        let good = keyring.sign(SigningAlg::Es256, &claims(), None).unwrap();
        let cases = [
            String::new(),
            "a.b".to_owned(),
            format!("{good}.extra"),
            format!("!!!{good}"),
            format!("{}.e30.sig", compact::encode(b"[1]")),
            format!("{}.e30.sig", compact::encode(br#"{"alg":7}"#)),
            "x".repeat(compact::MAX_TOKEN_LEN + 1),
        ];
        for token in cases {
            assert!(matches!(keyring.verify(&token, BOTH), Err(JoseError::Malformed(_))), "{token:.40}");
        }
    }

    #[test]
    fn rfc7515_a_payload_that_is_not_a_json_object_is_malformed() {
        let keyring = keyring();
        let header = json!({"alg": "ES256", "kid": kid(KeyAlg::Es256)});
        let token = keyring.sign_with_header(SigningAlg::Es256, &header, b"[1,2]");
        assert!(matches!(keyring.verify(&token, BOTH), Err(JoseError::Malformed(_))));
    }

    #[test]
    fn rfc7517_5_resource_servers_verify_with_the_published_jwks() {
        let keyring = keyring();
        let verifier = JwksVerifier::from_jwks_json(keyring.jwks_json()).unwrap();
        for alg in [SigningAlg::Rs256, SigningAlg::Es256] {
            let token = keyring.sign(alg, &claims(), Some("at+jwt")).unwrap();
            let (header, verified) = verifier.verify(&token, &[alg]).unwrap();
            assert_eq!((header.alg, verified), (alg, claims()));
        }
        let none = forge(&json!({"alg": "none", "kid": kid(KeyAlg::Rs256)}), &payload(), b"");
        assert_eq!(verifier.verify(&none, BOTH), Err(JoseError::UnsupportedAlgorithm("none".into())));
    }

    #[test]
    fn rfc7517_5_jwks_keys_not_for_our_signing_algs_are_skipped() {
        let jwks = json!({"keys": [
            {"kty": "oct", "k": "AAAA", "kid": "h", "alg": "HS256"},
            {"kty": "RSA", "use": "enc", "kid": "e", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "kid": "no-alg", "n": "AQAB", "e": "AQAB"},
        ]});
        let verifier = JwksVerifier::from_jwks_json(jwks.to_string().as_bytes()).unwrap();
        assert!(verifier.keys.is_empty());
    }
}
