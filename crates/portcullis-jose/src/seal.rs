//! Sealing secrets at rest (private JWKs in the store) with a master key: JWE `dir` + `A256GCM`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::alg::direct::{DirectJweDecrypter, DirectJweEncrypter};
use josekit::jwe::{Dir, JweHeader};
use sha2::{Digest, Sha256};

use crate::compact::{self, protected_header, required_member};
use crate::error::{JoseError, clip};

const MASTER_KEY_LEN: usize = 32;
const SEAL_ENC: &str = "A256GCM";

/// A 256-bit key that seals private keys before they are stored. Its `Debug` shows only its id.
pub struct MasterKey {
    id: String,
    encrypter: DirectJweEncrypter,
    decrypter: DirectJweDecrypter,
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
        // The id lets unseal tell "another master key" apart from "corrupted"; a hash of a random 256-bit key
        // reveals nothing about it.
        let id = URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..8]);
        let crypto = |err: josekit::JoseError| JoseError::Crypto(err.to_string());
        let mut encrypter = Dir.encrypter_from_bytes(bytes).map_err(crypto)?;
        encrypter.set_key_id(id.as_str());
        let mut decrypter = Dir.decrypter_from_bytes(bytes).map_err(crypto)?;
        decrypter.set_key_id(id.as_str());
        Ok(Self { id, encrypter, decrypter })
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
