//! Compact JWE (RFC 7516) with `alg: RSA-OAEP` and `enc: A256CBC-HS512`: encrypted access tokens.

use std::fmt;

use josekit::jwe::alg::rsaes::{RsaesJweDecrypter, RsaesJweEncrypter};
use josekit::jwe::enc::A256CBC_HS512;
use josekit::jwe::{JweContentEncryption, JweDecrypter, JweHeader, RSA_OAEP};
use josekit::jwk::Jwk;
use openssl::hash::MessageDigest;
use openssl::memcmp;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use crate::compact::{self, key_id, protected_header, required_member, unknown_key};
use crate::error::{JoseError, clip};
use crate::keys::{CONTENT_ENCRYPTION, KeyAlg, ParsedKey};

/// A256CBC-HS512 sizes (RFC 7518 §5.2.5): 64-byte key (MAC half first), 16-byte IV, tag of 32 bytes.
const CEK_LEN: usize = 64;
const MAC_KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const TAG_LEN: usize = 32;

/// The public half of the current encryption key, parsed once.
pub(crate) struct Encrypter {
    kid: String,
    inner: RsaesJweEncrypter,
}

impl Encrypter {
    pub fn new(key: &ParsedKey) -> Result<Self, JoseError> {
        let invalid = |reason: String| JoseError::InvalidKey { kid: key.kid.clone(), reason };
        let public = Jwk::from_map(key.public.clone()).map_err(|err| invalid(err.to_string()))?;
        let inner = RSA_OAEP.encrypter_from_jwk(&public).map_err(|err| invalid(err.to_string()))?;
        Ok(Self { kid: key.kid.clone(), inner })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// `content_type` is the JWE `cty`: `"JWT"` when the payload is itself a JWT (RFC 7519 §5.2).
    pub fn encrypt(&self, payload: &str, content_type: Option<&str>) -> Result<String, JoseError> {
        let mut header = JweHeader::new();
        header.set_content_encryption(CONTENT_ENCRYPTION);
        header.set_key_id(self.kid.as_str());
        if let Some(content_type) = content_type {
            header.set_content_type(content_type);
        }
        josekit::jwe::serialize_compact(payload.as_bytes(), &header, &self.inner)
            .map_err(|err| JoseError::Crypto(err.to_string()))
    }
}

impl fmt::Debug for Encrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encrypter").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A private encryption key, parsed once. Resource servers build one from the key they are configured with.
pub struct Decrypter {
    kid: String,
    inner: RsaesJweDecrypter,
}

impl Decrypter {
    /// From a private RSA-OAEP JWK as the provider generates it; its `kid` is its RFC 7638 thumbprint.
    pub fn from_private_jwk(json: &str) -> Result<Self, JoseError> {
        Self::new(&ParsedKey::from_private_json(json, KeyAlg::RsaOaep, "(configured encryption key)")?)
    }

    pub(crate) fn new(key: &ParsedKey) -> Result<Self, JoseError> {
        let inner = RSA_OAEP
            .decrypter_from_jwk(&key.private)
            .map_err(|err| JoseError::InvalidKey { kid: key.kid.clone(), reason: err.to_string() })?;
        Ok(Self { kid: key.kid.clone(), inner })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Decrypts a token encrypted to this key; a token naming another `kid` is [`JoseError::UnknownKey`].
    pub fn decrypt(&self, token: &str) -> Result<String, JoseError> {
        decrypt(token, |kid| (kid == self.kid).then_some(self))
    }
}

impl fmt::Debug for Decrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decrypter").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// RFC 7516 §5.2 decryption with the key named by `kid`.
pub(crate) fn decrypt<'k>(token: &str, lookup: impl Fn(&str) -> Option<&'k Decrypter>) -> Result<String, JoseError> {
    let [header_b64, key_b64, iv_b64, ciphertext_b64, tag_b64] = compact::split::<5>(token, "JWE")?;
    let header = protected_header(header_b64)?;
    let alg = required_member(&header, "alg")?;
    if alg != KeyAlg::RsaOaep.as_str() {
        return Err(JoseError::UnsupportedAlgorithm(clip(alg)));
    }
    let enc = required_member(&header, "enc")?;
    if enc != CONTENT_ENCRYPTION {
        return Err(JoseError::UnsupportedAlgorithm(clip(enc)));
    }
    // We never compress, and inflating attacker data before authenticating it invites decompression bombs.
    if header.contains_key("zip") {
        return Err(JoseError::ForbiddenHeader("zip".to_owned()));
    }
    let kid = key_id(&header)?;
    let key = lookup(kid).ok_or_else(|| unknown_key(kid))?;

    let encrypted_key = compact::decode(key_b64, "JWE encrypted key")?;
    let iv = compact::decode(iv_b64, "JWE initialization vector")?;
    let ciphertext = compact::decode(ciphertext_b64, "JWE ciphertext")?;
    let tag = compact::decode(tag_b64, "JWE authentication tag")?;
    if iv.len() != IV_LEN || tag.len() != TAG_LEN {
        return Err(JoseError::Malformed("the JWE IV or tag has the wrong length for A256CBC-HS512".to_owned()));
    }

    // RFC 7516 §11.5: when the key cannot be unwrapped, go on with a random key so that every failure is the
    // same tag mismatch, giving no oracle on RSA-OAEP.
    let cek = match key.inner.decrypt(Some(&encrypted_key), &A256CBC_HS512, &JweHeader::new()) {
        Ok(cek) if cek.len() == CEK_LEN => cek.into_owned(),
        _ => {
            let mut random = vec![0; CEK_LEN];
            getrandom::fill(&mut random).map_err(|err| JoseError::Crypto(err.to_string()))?;
            random
        }
    };
    // RFC 7518 §5.2.2.2 checks the tag before decrypting. The library decrypts first and compares the tag with
    // `!=`, which would make CBC padding errors and comparison timing observable; so we check it here first,
    // in constant time.
    if !tag_matches(&cek[..MAC_KEY_LEN], header_b64.as_bytes(), &iv, &ciphertext, &tag) {
        return Err(JoseError::Decryption);
    }
    let plaintext = A256CBC_HS512
        .decrypt(&cek, Some(&iv), &ciphertext, header_b64.as_bytes(), Some(&tag))
        .map_err(|_| JoseError::Decryption)?;
    String::from_utf8(plaintext).map_err(|_| JoseError::Malformed("the JWE plaintext is not UTF-8".to_owned()))
}

/// RFC 7518 §5.2.2.1: HMAC-SHA-512 over AAD || IV || ciphertext || AL, truncated to the first 32 bytes.
fn tag_matches(mac_key: &[u8], aad: &[u8], iv: &[u8], ciphertext: &[u8], tag: &[u8]) -> bool {
    let aad_bits = (aad.len() as u64).wrapping_mul(8).to_be_bytes();
    let computed = (|| {
        let key = PKey::hmac(mac_key)?;
        let mut signer = Signer::new(MessageDigest::sha512(), &key)?;
        for part in [aad, iv, ciphertext, &aad_bits] {
            signer.update(part)?;
        }
        signer.sign_to_vec()
    })();
    match computed {
        Ok(computed) => computed.len() >= TAG_LEN && tag.len() == TAG_LEN && memcmp::eq(&computed[..TAG_LEN], tag),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::jws::VerifiedHeader;
    use crate::keys::SigningAlg;
    use crate::testing::{claims, header_of, key, keyring};

    fn with_part(token: &str, index: usize, change: impl Fn(&mut Vec<u8>)) -> String {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut bytes = compact::decode(&parts[index], "part").unwrap();
        change(&mut bytes);
        parts[index] = compact::encode(&bytes);
        parts.join(".")
    }

    fn with_header(token: &str, change: impl Fn(&mut Map<String, Value>)) -> String {
        let mut header = header_of(token);
        change(&mut header);
        let rest: Vec<&str> = token.split('.').skip(1).collect();
        format!("{}.{}", compact::encode(Value::Object(header).to_string().as_bytes()), rest.join("."))
    }

    #[test]
    fn rfc7516_nested_jwt_round_trip_with_cty_jwt() {
        let keyring = keyring();
        let jwt = keyring.sign(SigningAlg::Es256, &claims(), Some("at+jwt")).unwrap();
        let jwe = keyring.encrypt(&jwt, Some("JWT")).unwrap();
        assert_eq!(
            Value::Object(header_of(&jwe)),
            json!({"alg": "RSA-OAEP", "enc": "A256CBC-HS512", "kid": key(KeyAlg::RsaOaep, 0).kid, "cty": "JWT"})
        );
        let decrypted = keyring.decrypt(&jwe).unwrap();
        assert_eq!(decrypted, jwt);
        let (header, verified): (VerifiedHeader, _) = keyring.verify(&decrypted, &[SigningAlg::Es256]).unwrap();
        assert_eq!((header.typ.as_deref(), verified), (Some("at+jwt"), claims()));
    }

    #[test]
    fn rfc7516_each_encryption_uses_a_fresh_key_and_iv() {
        let keyring = keyring();
        assert_ne!(keyring.encrypt("same", None).unwrap(), keyring.encrypt("same", None).unwrap());
        assert!(!header_of(&keyring.encrypt("x", None).unwrap()).contains_key("cty"));
    }

    #[test]
    fn rfc7516_5_2_any_tampered_part_is_a_decryption_error() {
        let keyring = keyring();
        let jwe = keyring.encrypt("payload", Some("JWT")).unwrap();
        let flip = |bytes: &mut Vec<u8>| bytes[0] ^= 1;
        let tampered = [
            with_part(&jwe, 1, flip), // encrypted key
            with_part(&jwe, 2, flip), // IV
            with_part(&jwe, 3, flip), // ciphertext
            with_part(&jwe, 4, flip), // tag
            with_header(&jwe, |header| {
                header.insert("cty".into(), json!("jwt")); // the header is the AAD
            }),
        ];
        for (index, token) in tampered.iter().enumerate() {
            assert_eq!(keyring.decrypt(token), Err(JoseError::Decryption), "case {index}");
        }
    }

    #[test]
    fn rfc7518_5_2_truncated_tag_or_iv_is_malformed() {
        let keyring = keyring();
        let jwe = keyring.encrypt("payload", None).unwrap();
        for index in [2, 4] {
            let token = with_part(&jwe, index, |bytes| bytes.truncate(8));
            assert!(matches!(keyring.decrypt(&token), Err(JoseError::Malformed(_))), "part {index}");
        }
    }

    #[test]
    fn rfc8725_3_2_other_jwe_algorithms_are_refused() {
        let keyring = keyring();
        let jwe = keyring.encrypt("payload", None).unwrap();
        for (member, value) in [("alg", "RSA1_5"), ("alg", "dir"), ("enc", "A128GCM"), ("enc", "A128CBC-HS256")] {
            let token = with_header(&jwe, |header| {
                header.insert(member.into(), json!(value));
            });
            assert_eq!(keyring.decrypt(&token), Err(JoseError::UnsupportedAlgorithm(value.into())));
        }
    }

    #[test]
    fn rfc8725_3_10_jwe_headers_with_keys_and_zip_are_refused() {
        let keyring = keyring();
        let jwe = keyring.encrypt("payload", None).unwrap();
        for name in ["jku", "jwk", "x5u", "x5c", "zip"] {
            let token = with_header(&jwe, |header| {
                header.insert(name.into(), json!("x"));
            });
            assert_eq!(keyring.decrypt(&token), Err(JoseError::ForbiddenHeader(name.into())));
        }
    }

    #[test]
    fn rfc7516_4_1_6_unknown_or_missing_kid_is_refused() {
        let keyring = keyring();
        let jwe = keyring.encrypt("payload", None).unwrap();
        let unknown = with_header(&jwe, |header| {
            header.insert("kid".into(), json!("other"));
        });
        assert_eq!(keyring.decrypt(&unknown), Err(JoseError::UnknownKey("other".into())));
        let missing = with_header(&jwe, |header| {
            header.remove("kid");
        });
        assert_eq!(keyring.decrypt(&missing), Err(JoseError::MissingKeyId));
    }

    #[test]
    fn a_resource_server_decrypts_with_only_the_private_encryption_jwk() {
        let jwe = keyring().encrypt("payload", Some("JWT")).unwrap();
        let decrypter = Decrypter::from_private_jwk(key(KeyAlg::RsaOaep, 0).private_jwk.expose()).unwrap();
        assert_eq!(decrypter.kid(), key(KeyAlg::RsaOaep, 0).kid);
        assert_eq!(decrypter.decrypt(&jwe).unwrap(), "payload");

        let other = Decrypter::from_private_jwk(key(KeyAlg::RsaOaep, 1).private_jwk.expose()).unwrap();
        assert!(matches!(other.decrypt(&jwe), Err(JoseError::UnknownKey(_))));
        let forged_kid = with_header(&jwe, |header| {
            header.insert("kid".into(), json!(other.kid()));
        });
        assert_eq!(other.decrypt(&forged_kid), Err(JoseError::Decryption));
    }

    #[test]
    fn a_signing_key_is_not_accepted_as_an_encryption_key() {
        let err = Decrypter::from_private_jwk(key(KeyAlg::Rs256, 0).private_jwk.expose()).unwrap_err();
        assert!(matches!(err, JoseError::InvalidKey { .. }), "{err}");
    }

    #[test]
    fn decrypter_debug_shows_only_the_kid() {
        let decrypter = Decrypter::from_private_jwk(key(KeyAlg::RsaOaep, 0).private_jwk.expose()).unwrap();
        let d: Value = serde_json::from_str(key(KeyAlg::RsaOaep, 0).private_jwk.expose()).unwrap();
        let debug = format!("{decrypter:?}");
        assert!(debug.contains(decrypter.kid()));
        assert!(!debug.contains(d["d"].as_str().unwrap()));
    }
}

#[cfg(test)]
mod rfc7518_vectors {
    use super::*;

    /// RFC 7518 Appendix B.3 (AES_256_CBC_HMAC_SHA_512): our own tag check must agree with the spec's tag.
    #[test]
    fn rfc7518_b_3_tag_check_matches_the_test_vector() {
        let key: Vec<u8> = (0u8..64).collect();
        let plaintext = b"A cipher system must not be required to be secret, and it must be able to fall into the hands of the enemy without inconvenience";
        let iv = [0x1a, 0xf3, 0x8c, 0x2d, 0xc2, 0xb9, 0x6f, 0xfd, 0xd8, 0x66, 0x94, 0x09, 0x23, 0x41, 0xbc, 0x04];
        let aad = b"The second principle of Auguste Kerckhoffs";
        let expected_tag = [
            0x4d, 0xd3, 0xb4, 0xc0, 0x88, 0xa7, 0xf4, 0x5c, 0x21, 0x68, 0x39, 0x64, 0x5b, 0x20, 0x12, 0xbf, 0x2e, 0x62,
            0x69, 0xa8, 0xc5, 0x6a, 0x81, 0x6d, 0xbc, 0x1b, 0x26, 0x77, 0x61, 0x95, 0x5b, 0xc5,
        ];
        let (ciphertext, tag) = A256CBC_HS512.encrypt(&key, Some(&iv), plaintext, aad).unwrap();
        assert_eq!(tag.unwrap(), expected_tag);
        assert!(tag_matches(&key[..MAC_KEY_LEN], aad, &iv, &ciphertext, &expected_tag));
        let mut wrong = expected_tag;
        wrong[31] ^= 1;
        assert!(!tag_matches(&key[..MAC_KEY_LEN], aad, &iv, &ciphertext, &wrong));
    }
}
