//! Algorithms, key generation, and turning a private JWK into the parts the rest of the crate uses.

use std::fmt;

use josekit::jwk::Jwk;
use portcullis_core::model::{KeyUse, StoredKey};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::JoseError;
use crate::seal::{MasterKey, seal};
use crate::thumbprint::jwk_thumbprint;

/// RSA modulus size of generated keys: the RFC 7518 §3.3 / §4.3 minimum, and what every client handles.
const RSA_BITS: u32 = 2048;

/// The JWS algorithms this provider signs and verifies with. Nothing else is ever accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: ID tokens, because every OIDC client supports it.
    Rs256,
    /// ECDSA P-256 with SHA-256: JWT access tokens, much faster to sign than RSA.
    Es256,
}

impl SigningAlg {
    /// The JWA name (RFC 7518 §3.1).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The algorithm a provider key is for; stored next to the key as its `alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    Rs256,
    Es256,
    /// RSAES-OAEP key wrapping of access tokens (JWE `alg`), content encrypted with [`CONTENT_ENCRYPTION`].
    RsaOaep,
}

/// The JWE `enc` of encrypted access tokens (RFC 7518 §5.2.5).
pub const CONTENT_ENCRYPTION: &str = "A256CBC-HS512";

impl KeyAlg {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::RsaOaep => "RSA-OAEP",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "RS256" => Some(Self::Rs256),
            "ES256" => Some(Self::Es256),
            "RSA-OAEP" => Some(Self::RsaOaep),
            _ => None,
        }
    }

    pub const fn key_use(self) -> KeyUse {
        match self {
            Self::Rs256 | Self::Es256 => KeyUse::Signing,
            Self::RsaOaep => KeyUse::Encryption,
        }
    }

    pub const fn signing(self) -> Option<SigningAlg> {
        match self {
            Self::Rs256 => Some(SigningAlg::Rs256),
            Self::Es256 => Some(SigningAlg::Es256),
            Self::RsaOaep => None,
        }
    }

    const fn kty(self) -> &'static str {
        match self {
            Self::Rs256 | Self::RsaOaep => "RSA",
            Self::Es256 => "EC",
        }
    }
}

impl From<SigningAlg> for KeyAlg {
    fn from(alg: SigningAlg) -> Self {
        match alg {
            SigningAlg::Rs256 => Self::Rs256,
            SigningAlg::Es256 => Self::Es256,
        }
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A private JWK as JSON text. Its `Debug` is redacted and it has no `Display`, so it cannot reach a log by
/// accident; read it with [`PrivateJwk::expose`] only to seal or store it.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateJwk(String);

impl PrivateJwk {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for PrivateJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateJwk([redacted])")
    }
}

/// A freshly generated key. Both JWKs carry `kid`, `alg` and `use`.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    pub alg: KeyAlg,
    pub private_jwk: PrivateJwk,
    /// Public members only (RFC 7517 §4, RFC 7518 §6.2.1 / §6.3.1).
    pub public_jwk: String,
}

impl GeneratedKey {
    pub fn key_use(&self) -> KeyUse {
        self.alg.key_use()
    }

    /// The record to store, with the private JWK sealed when a master key is configured.
    ///
    /// `not_before` later than `created_at` stages the key: published first, signing only from then on.
    pub fn into_stored(
        self,
        master: Option<&MasterKey>,
        created_at: OffsetDateTime,
        not_before: OffsetDateTime,
    ) -> Result<StoredKey, JoseError> {
        let private_jwk = match master {
            Some(master) => seal(master, self.private_jwk.expose())?,
            None => self.private_jwk.into_string(),
        };
        Ok(StoredKey {
            kid: self.kid,
            key_use: self.alg.key_use(),
            alg: self.alg.as_str().to_owned(),
            private_jwk,
            public_jwk: self.public_jwk,
            created_at,
            not_before,
            retired_at: None,
        })
    }
}

/// Generates a key for `alg`: RSA-2048 for RS256 and RSA-OAEP, P-256 for ES256.
pub fn generate_key(alg: KeyAlg) -> Result<GeneratedKey, JoseError> {
    let jwk = match alg {
        KeyAlg::Rs256 | KeyAlg::RsaOaep => Jwk::generate_rsa_key(RSA_BITS),
        KeyAlg::Es256 => Jwk::generate_ec_key(josekit::jwk::P_256),
    }
    .map_err(|err| JoseError::KeyGeneration(err.to_string()))?;
    let parsed = ParsedKey::from_private_map(jwk.into(), alg, "(new key)")?;
    Ok(GeneratedKey {
        kid: parsed.kid.clone(),
        alg,
        private_jwk: PrivateJwk(Value::Object(parsed.private.as_ref().clone()).to_string()),
        public_jwk: Value::Object(parsed.public).to_string(),
    })
}

/// A private JWK checked against its algorithm, with its public half and thumbprint worked out once.
pub(crate) struct ParsedKey {
    pub kid: String,
    pub alg: KeyAlg,
    /// Built from an allow-list of public members, so no private member can slip into a JWKS.
    pub public: Map<String, Value>,
    pub private: Jwk,
}

impl ParsedKey {
    /// `label` names the key in errors (its stored kid, or a description): the JSON itself never appears.
    pub fn from_private_json(json: &str, alg: KeyAlg, label: &str) -> Result<Self, JoseError> {
        let invalid = |reason: &str| JoseError::InvalidKey { kid: label.to_owned(), reason: reason.to_owned() };
        match serde_json::from_str::<Value>(json) {
            Ok(Value::Object(map)) => Self::from_private_map(map, alg, label),
            Ok(_) => Err(invalid("the private JWK is not a JSON object")),
            // serde_json errors name a line and column, never the text around them.
            Err(err) => Err(invalid(&format!("the private JWK is not JSON: {err}"))),
        }
    }

    pub fn from_private_map(mut map: Map<String, Value>, alg: KeyAlg, label: &str) -> Result<Self, JoseError> {
        let invalid = |reason: String| JoseError::InvalidKey { kid: label.to_owned(), reason };
        let kty = map.get("kty").and_then(Value::as_str).unwrap_or_default();
        if kty != alg.kty() {
            return Err(invalid(format!("kty {kty:?} cannot be used for {alg}")));
        }
        if alg == KeyAlg::Es256 && map.get("crv").and_then(Value::as_str) != Some("P-256") {
            return Err(invalid("ES256 needs a P-256 key (RFC 7518 §3.4)".to_owned()));
        }
        for (member, expected) in [("alg", alg.as_str()), ("use", alg.key_use().as_str())] {
            if let Some(found) = map.get(member)
                && found.as_str() != Some(expected)
            {
                return Err(invalid(format!("the JWK says {member} {found}, the key is stored for {expected:?}")));
            }
        }
        if !map.contains_key("d") {
            return Err(invalid("the JWK has no private part (\"d\")".to_owned()));
        }
        let kid = jwk_thumbprint(&map).map_err(|err| invalid(err.to_string()))?;
        if let Some(found) = map.get("kid")
            && found.as_str() != Some(kid.as_str())
        {
            return Err(invalid(format!("its kid {found} is not its RFC 7638 thumbprint {kid:?}")));
        }

        let public_members: &[&str] = match alg.kty() {
            "RSA" => &["kty", "n", "e"],
            _ => &["kty", "crv", "x", "y"],
        };
        let mut public = Map::new();
        for name in public_members {
            if let Some(value) = map.get(*name) {
                public.insert((*name).to_owned(), value.clone());
            }
        }
        for (name, value) in [("kid", kid.as_str()), ("alg", alg.as_str()), ("use", alg.key_use().as_str())] {
            public.insert(name.to_owned(), Value::from(value));
            map.insert(name.to_owned(), Value::from(value));
        }
        let private = Jwk::from_map(map).map_err(|err| invalid(err.to_string()))?;
        Ok(Self { kid, alg, public, private })
    }
}

impl fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

    fn object(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn generated_keys_carry_kid_alg_use_and_kid_is_the_rfc7638_thumbprint() {
        for alg in [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::RsaOaep] {
            let key = generate_key(alg).unwrap();
            let public = object(&key.public_jwk);
            let private = object(key.private_jwk.expose());
            for jwk in [&public, &private] {
                assert_eq!(jwk["kid"], key.kid.as_str());
                assert_eq!(jwk["alg"], alg.as_str());
                assert_eq!(jwk["use"], alg.key_use().as_str());
            }
            assert_eq!(jwk_thumbprint(&public).unwrap(), key.kid);
            assert!(private.contains_key("d"));
        }
    }

    #[test]
    fn rfc7517_public_jwk_has_no_private_member() {
        for alg in [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::RsaOaep] {
            let public = object(&generate_key(alg).unwrap().public_jwk);
            for member in PRIVATE_MEMBERS {
                assert!(!public.contains_key(member), "{alg}: public JWK has {member}");
            }
        }
    }

    #[test]
    fn es256_keys_are_p256_and_rsa_keys_are_2048_bits() {
        let ec = object(&generate_key(KeyAlg::Es256).unwrap().public_jwk);
        assert_eq!(ec["kty"], "EC");
        assert_eq!(ec["crv"], "P-256");
        let rsa = object(&generate_key(KeyAlg::Rs256).unwrap().public_jwk);
        let n = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, rsa["n"].as_str().unwrap())
            .unwrap();
        assert_eq!(n.len() * 8, 2048);
    }

    #[test]
    fn debug_of_a_generated_key_redacts_the_private_jwk() {
        let key = generate_key(KeyAlg::Es256).unwrap();
        let d = object(key.private_jwk.expose())["d"].as_str().unwrap().to_owned();
        let debug = format!("{key:?}");
        assert!(!debug.contains(&d));
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn a_private_jwk_for_another_algorithm_is_refused() {
        let key = generate_key(KeyAlg::Es256).unwrap();
        let err = ParsedKey::from_private_json(key.private_jwk.expose(), KeyAlg::Rs256, "k").unwrap_err();
        assert!(matches!(err, JoseError::InvalidKey { .. }), "{err}");
    }

    #[test]
    fn a_public_jwk_is_not_accepted_as_a_private_key() {
        let key = generate_key(KeyAlg::Es256).unwrap();
        let err = ParsedKey::from_private_json(&key.public_jwk, KeyAlg::Es256, "k").unwrap_err();
        assert!(err.to_string().contains("no private part"), "{err}");
    }

    #[test]
    fn a_kid_that_is_not_the_thumbprint_is_refused() {
        let key = generate_key(KeyAlg::Es256).unwrap();
        let mut private = object(key.private_jwk.expose());
        private.insert("kid".into(), Value::from("chosen-by-someone"));
        let err = ParsedKey::from_private_map(private, KeyAlg::Es256, "k").unwrap_err();
        assert!(err.to_string().contains("thumbprint"), "{err}");
    }

    #[test]
    fn into_stored_seals_the_private_jwk_with_the_master_key() {
        let master = MasterKey::parse(&crate::seal::generate_master_key().unwrap()).unwrap();
        let key = generate_key(KeyAlg::Es256).unwrap();
        let plain = key.private_jwk.clone();
        let at = OffsetDateTime::UNIX_EPOCH;
        let stored = key.into_stored(Some(&master), at, at).unwrap();
        assert_eq!(stored.key_use, KeyUse::Signing);
        assert_eq!(stored.alg, "ES256");
        assert!(!stored.private_jwk.contains("\"d\""));
        assert_eq!(crate::seal::unseal(&master, &stored.private_jwk).unwrap(), plain.expose());
    }
}
