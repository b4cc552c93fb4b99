//! Sealing secrets at rest (private JWKs in the store) with a master key: JWE `dir` + `A256GCM`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use josekit::jwe::alg::direct::{DirectJweDecrypter, DirectJweEncrypter};
use josekit::jwe::{Dir, JweHeader};
use sha2::{Digest, Sha256};

use crate::compact::{self, protected_header, required_member};
use crate::error::{JoseError, clip};

const MASTER_KEY_LEN: usize = 32;
const SEAL_ENC: &str = "A256GCM";

/// A 256-bit key that seals private keys before they are stored, and from which other server secrets are
/// derived ([`MasterKey::derive`]). Its `Debug` shows only its id.
pub struct MasterKey {
    id: String,
    encrypter: DirectJweEncrypter,
    decrypter: DirectJweDecrypter,
    /// Kept for [`MasterKey::derive`] only; never leaves this type.
    bytes: [u8; MASTER_KEY_LEN],
}

impl MasterKey {
    /// Parses 32 bytes written as base64url (RFC 4648 §5); surrounding whitespace and `=` padding are
    /// tolerated because the value usually comes from an environment variable or a file.
    pub fn parse(encoded: &str) -> Result<Self, JoseError> {
        let invalid = |reason: String| JoseError::InvalidMasterKey(reason);
        let trimmed = encoded.trim();
        if trimmed.is_empty() {
            return Err(invalid(format!("it is empty; it must be {MASTER_KEY_LEN} random bytes in base64url")));
        }
        let unpadded = trimmed.trim_end_matches('=');
        if unpadded.contains(['+', '/']) {
            return Err(invalid("it contains '+' or '/': use base64url ('-' and '_'), not standard base64".to_owned()));
        }
        if let Some(position) = unpadded.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            return Err(invalid(format!("it is not base64url: unexpected character at position {position}")));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(unpadded)
            .map_err(|_| invalid("it is not valid base64url (its length or last character is wrong)".to_owned()))?;
        if bytes.len() != MASTER_KEY_LEN {
            return Err(invalid(format!(
                "it decodes to {} bytes; it must be {MASTER_KEY_LEN} bytes (43 base64url characters)",
                bytes.len()
            )));
        }
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self, JoseError> {
        let key: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| {
            JoseError::InvalidMasterKey(format!("it must be {MASTER_KEY_LEN} bytes, not {}", bytes.len()))
        })?;
        // The id lets unseal tell "another master key" apart from "corrupted"; a hash of a random 256-bit key
        // reveals nothing about it.
        let id = URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..8]);
        let crypto = |err: josekit::JoseError| JoseError::Crypto(err.to_string());
        let mut encrypter = Dir.encrypter_from_bytes(bytes).map_err(crypto)?;
        encrypter.set_key_id(id.as_str());
        let mut decrypter = Dir.decrypter_from_bytes(bytes).map_err(crypto)?;
        decrypter.set_key_id(id.as_str());
        Ok(Self { id, encrypter, decrypter, bytes: key })
    }

    /// A 256-bit key for another purpose, named by `label`, derived from this one: HKDF-SHA-256's expand step
    /// (RFC 5869 §2.3) with the master key as the pseudorandom key and `label` as `info`, for one 32-byte block,
    /// which is `HMAC-SHA-256(master key, label || 0x01)`. The extract step is skipped as RFC 5869 §3.3 allows:
    /// the master key is already 32 uniformly random bytes. Distinct labels give independent keys, none of which
    /// tells anything about the master key or the other labels' keys.
    pub fn derive(&self, label: &[u8]) -> [u8; 32] {
        // RFC 2104 §2: HMAC takes keys of any length, so `new_from_slice` cannot fail here.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.bytes) else {
            unreachable!("HMAC accepts a key of any length")
        };
        mac.update(label);
        mac.update(&[1]);
        mac.finalize().into_bytes().into()
    }

    /// A short public identifier of this key, written in the `kid` of everything it seals.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).field("key", &"[redacted]").finish()
    }
}

/// A new random master key, as the base64url string [`MasterKey::parse`] reads.
pub fn generate_master_key() -> Result<String, JoseError> {
    let mut bytes = [0; MASTER_KEY_LEN];
    getrandom::fill(&mut bytes).map_err(|err| JoseError::KeyGeneration(err.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Encrypts `plaintext` with the master key (compact JWE, `alg: dir`, `enc: A256GCM`, `kid`: the key's id).
pub fn seal(master: &MasterKey, plaintext: &str) -> Result<String, JoseError> {
    let mut header = JweHeader::new();
    header.set_content_encryption(SEAL_ENC);
    header.set_key_id(master.id.as_str());
    josekit::jwe::serialize_compact(plaintext.as_bytes(), &header, &master.encrypter)
        .map_err(|err| JoseError::Crypto(err.to_string()))
}

/// Decrypts what [`seal`] produced. Another master key is [`JoseError::WrongMasterKey`]; a modified value is
/// [`JoseError::Decryption`].
pub fn unseal(master: &MasterKey, sealed: &str) -> Result<String, JoseError> {
    let [header_b64, ..] = compact::split::<5>(sealed, "sealed value")?;
    let header = protected_header(header_b64)?;
    for (name, expected) in [("alg", "dir"), ("enc", SEAL_ENC)] {
        let found = required_member(&header, name)?;
        if found != expected {
            return Err(JoseError::UnsupportedAlgorithm(clip(found)));
        }
    }
    let sealed_with = compact::key_id(&header)?;
    if sealed_with != master.id {
        return Err(JoseError::WrongMasterKey { sealed_with: clip(sealed_with), configured: master.id.clone() });
    }
    let (plaintext, _) =
        josekit::jwe::deserialize_compact(sealed, &master.decrypter).map_err(|_| JoseError::Decryption)?;
    String::from_utf8(plaintext).map_err(|_| JoseError::Malformed("the sealed plaintext is not UTF-8".to_owned()))
}

/// Whether a stored private JWK is sealed: a plain JWK is a JSON object, a sealed one is a compact JWE.
pub(crate) fn is_sealed(stored: &str) -> bool {
    !stored.trim_start().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master() -> MasterKey {
        MasterKey::parse(&generate_master_key().unwrap()).unwrap()
    }

    #[test]
    fn seal_then_unseal_round_trips() {
        let master = master();
        let sealed = seal(&master, "{\"d\":\"secret\"}").unwrap();
        assert!(!sealed.contains("secret"));
        assert!(is_sealed(&sealed));
        assert_eq!(unseal(&master, &sealed).unwrap(), "{\"d\":\"secret\"}");
    }

    #[test]
    fn unseal_with_another_master_key_is_wrong_master_key() {
        let sealed = seal(&master(), "x").unwrap();
        let other = master();
        assert!(matches!(unseal(&other, &sealed), Err(JoseError::WrongMasterKey { .. })));
    }

    #[test]
    fn rfc7516_5_2_unseal_of_a_modified_ciphertext_is_decryption_error() {
        let master = master();
        let sealed = seal(&master, "some private key").unwrap();
        let mut parts: Vec<String> = sealed.split('.').map(str::to_owned).collect();
        let mut ciphertext = compact::decode(&parts[3], "c").unwrap();
        ciphertext[0] ^= 1;
        parts[3] = compact::encode(&ciphertext);
        assert_eq!(unseal(&master, &parts.join(".")), Err(JoseError::Decryption));
    }

    #[test]
    fn a_sealed_value_whose_kid_is_forged_still_fails_to_decrypt() {
        let sealed = seal(&master(), "x").unwrap();
        let other = master();
        let [_, rest @ ..] = compact::split::<5>(&sealed, "t").unwrap();
        let header = compact::encode(format!(r#"{{"alg":"dir","enc":"A256GCM","kid":"{}"}}"#, other.id()).as_bytes());
        let forged = format!("{header}.{}", rest.join("."));
        assert_eq!(unseal(&other, &forged), Err(JoseError::Decryption));
    }

    #[test]
    fn master_key_is_32_bytes_of_base64url_and_may_be_padded_or_surrounded_by_whitespace() {
        let encoded = generate_master_key().unwrap();
        assert_eq!(encoded.len(), 43);
        let key = MasterKey::parse(&format!("  {encoded}=\n")).unwrap();
        assert_eq!(key.id(), MasterKey::parse(&encoded).unwrap().id());
    }

    #[test]
    fn bad_master_key_strings_say_what_is_wrong() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            ("AAAA", "decodes to 3 bytes"),
            (&"A".repeat(64), "decodes to 48 bytes"),
            ("ab+/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not standard base64"),
            ("abc!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "unexpected character at position 3"),
            ("A", "not valid base64url"),
        ];
        for (input, expected) in cases {
            match MasterKey::parse(input) {
                Err(JoseError::InvalidMasterKey(reason)) => assert!(reason.contains(expected), "{input:?}: {reason}"),
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }

    /// RFC 5869 Appendix A.1 (test case 1): with its PRK as the master key and its `info` as the label, the
    /// derived key is the first 32 bytes of its OKM.
    #[test]
    fn rfc5869_derive_is_hkdf_sha256_expand() {
        let prk = [
            0x07, 0x77, 0x09, 0x36, 0x2c, 0x2e, 0x32, 0xdf, 0x0d, 0xdc, 0x3f, 0x0d, 0xc4, 0x7b, 0xba, 0x63, 0x90, 0xb6,
            0xc7, 0x3b, 0xb5, 0x0f, 0x9c, 0x31, 0x22, 0xec, 0x84, 0x4a, 0xd7, 0xc2, 0xb3, 0xe5,
        ];
        let info = [0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9];
        let okm = [
            0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f, 0x64, 0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d,
            0x0a, 0x90, 0xcf, 0x1a, 0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4, 0xc5, 0xbf,
        ];
        assert_eq!(MasterKey::from_bytes(&prk).unwrap().derive(&info), okm);
    }

    #[test]
    fn derived_keys_depend_on_the_label_and_the_master_key() {
        let master = master();
        let key = master.derive(b"one purpose");
        assert_eq!(master.derive(b"one purpose"), key, "the same on every instance");
        assert_ne!(master.derive(b"another purpose"), key);
        assert_ne!(self::master().derive(b"one purpose"), key);
    }

    #[test]
    fn master_key_errors_and_debug_never_show_the_key() {
        let encoded = generate_master_key().unwrap();
        let key = MasterKey::parse(&encoded).unwrap();
        assert!(!format!("{key:?}").contains(&encoded));
        let too_long = format!("{encoded}AAAA");
        let err = MasterKey::parse(&too_long).unwrap_err();
        assert!(!err.to_string().contains(&encoded));
    }
}
