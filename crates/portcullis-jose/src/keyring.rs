//! The provider's keys at one instant: which key signs and encrypts now, which keys verify and decrypt, and
//! the JWKS document to publish.

use std::collections::{HashMap, HashSet};
use std::fmt;

use portcullis_core::model::StoredKey;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::error::JoseError;
use crate::jwe::{self, Decrypter, Encrypter};
use crate::jws::{self, SigningKey, VerifiedHeader, VerifyingKey};
use crate::keys::{KeyAlg, ParsedKey, SigningAlg};
use crate::seal::{MasterKey, is_sealed, unseal};

/// How keys of one algorithm compete to be current: newest `not_before` wins; ties go to the newest
/// `created_at`, then to the kid so the choice never depends on the order the store returned.
type Rank = (OffsetDateTime, OffsetDateTime, String);

/// Every key is parsed once, here; signing, verifying and the JWKS then cost no parsing.
///
/// A keyring is a snapshot for a given `now`: rebuild it when keys change or at [`Keyring::next_change`].
pub struct Keyring {
    signers: HashMap<SigningAlg, SigningKey>,
    verifiers: HashMap<String, VerifyingKey>,
    encrypter: Option<Encrypter>,
    decrypters: HashMap<String, Decrypter>,
    jwks: Vec<u8>,
    next_change: Option<OffsetDateTime>,
}

impl Keyring {
    /// Builds the keyring from stored keys as of `now`.
    ///
    /// - A key is retired once `retired_at <= now`: it is then ignored entirely (not published, not trusted).
    /// - Every other signing key is published and verifies, even before its `not_before`, so that clients
    ///   learn it before it signs (staged rotation) and so that an instance whose clock runs ahead cannot
    ///   produce tokens the others reject.
    /// - Per algorithm, the current key is the newest whose `not_before <= now`.
    /// - Sealed private keys need `master`; plain ones are accepted either way, so keys stored before a master
    ///   key was configured still load.
    ///
    /// Any key that cannot be used is an error rather than skipped: a broken key store should stop startup.
    pub fn new(keys: &[StoredKey], master: Option<&MasterKey>, now: OffsetDateTime) -> Result<Self, JoseError> {
        let mut seen = HashSet::new();
        let mut current_signers: HashMap<SigningAlg, (Rank, SigningKey)> = HashMap::new();
        let mut current_encrypter: Option<(Rank, Encrypter)> = None;
        let mut verifiers = HashMap::new();
        let mut decrypters = HashMap::new();
        let mut published: Vec<(OffsetDateTime, String, Map<String, Value>)> = Vec::new();
        let mut next_change: Option<OffsetDateTime> = None;

        for key in keys {
            for moment in [Some(key.not_before), key.retired_at].into_iter().flatten() {
                if moment > now && next_change.is_none_or(|next| moment < next) {
                    next_change = Some(moment);
                }
            }
            if key.retired_at.is_some_and(|retired| retired <= now) {
                continue;
            }
            if !seen.insert(key.kid.as_str()) {
                return Err(invalid(key, "the kid appears twice".to_owned()));
            }
            let parsed = parse(key, master)?;
            let rank = || (key.not_before, key.created_at, key.kid.clone());
            let active = key.not_before <= now;
            match parsed.alg.signing() {
                Some(alg) => {
                    verifiers.insert(key.kid.clone(), VerifyingKey::from_public(&parsed.public, alg, &key.kid)?);
                    // Built for every key, not only the current one, so a broken private key fails at startup.
                    let signer = SigningKey::new(&parsed, alg)?;
                    if active && current_signers.get(&alg).is_none_or(|(best, _)| *best < rank()) {
                        current_signers.insert(alg, (rank(), signer));
                    }
                    published.push((key.not_before, key.kid.clone(), parsed.public));
                }
                None => {
                    decrypters.insert(key.kid.clone(), Decrypter::new(&parsed)?);
                    let encrypter = Encrypter::new(&parsed)?;
                    if active && current_encrypter.as_ref().is_none_or(|(best, _)| *best < rank()) {
                        current_encrypter = Some((rank(), encrypter));
                    }
                }
            }
        }

        // Newest first, as clients that take the first key of a JWKS expect the one most likely in use.
        published.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let keys: Vec<Value> = published.into_iter().map(|(_, _, jwk)| Value::Object(jwk)).collect();
        let jwks = serde_json::to_vec(&serde_json::json!({ "keys": keys }))
            .map_err(|err| JoseError::Crypto(err.to_string()))?;

        Ok(Self {
            signers: current_signers.into_iter().map(|(alg, (_, signer))| (alg, signer)).collect(),
            verifiers,
            encrypter: current_encrypter.map(|(_, encrypter)| encrypter),
            decrypters,
            jwks,
            next_change,
        })
    }

    /// Signs `claims` as a compact JWS with the current key for `alg`; the header carries `alg`, `kid` and
    /// `typ` when given (`"JWT"`, or `"at+jwt"` for RFC 9068 access tokens).
    pub fn sign(&self, alg: SigningAlg, claims: &Map<String, Value>, typ: Option<&str>) -> Result<String, JoseError> {
        self.signers.get(&alg).ok_or_else(|| JoseError::NoKey(format!("{alg} signing")))?.sign(claims, typ)
    }

    /// Checks a compact JWS against our keys and returns its header and claims; claims are not checked.
    ///
    /// Refused: `alg` outside `allowed` (so `none` and HMAC always), a missing or unknown `kid`, a `kid` of a
    /// key of another algorithm, `jku`/`x5u`/`jwk`/`x5c`/`crit` headers (RFC 8725 §3.1, §3.10).
    pub fn verify(
        &self,
        token: &str,
        allowed: &[SigningAlg],
    ) -> Result<(VerifiedHeader, Map<String, Value>), JoseError> {
        jws::verify(token, allowed, |kid| self.verifiers.get(kid))
    }

    /// Encrypts to the current encryption key (`RSA-OAEP`, `A256CBC-HS512`); `content_type` is the `cty`,
    /// `"JWT"` for a nested signed JWT.
    pub fn encrypt(&self, payload: &str, content_type: Option<&str>) -> Result<String, JoseError> {
        self.encrypter
            .as_ref()
            .ok_or_else(|| JoseError::NoKey(format!("{} encryption", KeyAlg::RsaOaep)))?
            .encrypt(payload, content_type)
    }

    /// Decrypts a JWE made by [`Keyring::encrypt`] with any non-retired encryption key, chosen by `kid`.
    pub fn decrypt(&self, token: &str) -> Result<String, JoseError> {
        jwe::decrypt(token, |kid| self.decrypters.get(kid))
    }

    /// The JWKS document (`{"keys":[…]}`) of every non-retired signing key, public members only. Encryption
    /// keys are never published: only we encrypt to them.
    pub fn jwks_json(&self) -> &[u8] {
        &self.jwks
    }

    /// The kid of the key that signs or encrypts for `alg` now, if any: the server generates keys that lack one.
    pub fn current_kid(&self, alg: KeyAlg) -> Option<&str> {
        match alg.signing() {
            Some(alg) => self.signers.get(&alg).map(SigningKey::kid),
            None => self.encrypter.as_ref().map(Encrypter::kid),
        }
    }

    /// The next instant after `now` at which a key becomes current or retires: rebuild the keyring then.
    pub fn next_change(&self) -> Option<OffsetDateTime> {
        self.next_change
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut signing: Vec<_> = self.signers.values().collect();
        signing.sort_by_key(|signer| signer.kid());
        let mut verifying: Vec<_> = self.verifiers.keys().collect();
        verifying.sort();
        let mut decrypting: Vec<_> = self.decrypters.keys().collect();
        decrypting.sort();
        f.debug_struct("Keyring")
            .field("signing", &signing)
            .field("verifying", &verifying)
            .field("encrypting", &self.encrypter)
            .field("decrypting", &decrypting)
            .field("next_change", &self.next_change)
            .finish()
    }
}

fn invalid(key: &StoredKey, reason: String) -> JoseError {
    JoseError::InvalidKey { kid: key.kid.clone(), reason }
}

fn parse(key: &StoredKey, master: Option<&MasterKey>) -> Result<ParsedKey, JoseError> {
    let alg = KeyAlg::parse(&key.alg).ok_or_else(|| invalid(key, format!("unsupported alg {:?}", key.alg)))?;
    if alg.key_use() != key.key_use {
        return Err(invalid(key, format!("{alg} is not for {:?}", key.key_use)));
    }
    let parsed = if is_sealed(&key.private_jwk) {
        let master = master.ok_or_else(|| JoseError::MasterKeyRequired { kid: key.kid.clone() })?;
        ParsedKey::from_private_json(&unseal(master, &key.private_jwk)?, alg, &key.kid)?
    } else {
        ParsedKey::from_private_json(&key.private_jwk, alg, &key.kid)?
    };
    if parsed.kid != key.kid {
        return Err(invalid(key, format!("the stored kid is not the key's RFC 7638 thumbprint {:?}", parsed.kid)));
    }
    Ok(parsed)
}

#[cfg(test)]
impl Keyring {
    /// Signs an arbitrary header with the current key of `alg`, for tests of what `verify` must refuse.
    pub(crate) fn sign_with_header(&self, alg: SigningAlg, header: &Value, payload: &[u8]) -> String {
        self.signers[&alg].sign_with_header(header, payload)
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;
    use crate::seal::generate_master_key;
    use crate::testing::{NOW, claims, key, keyring, retired, stored};

    const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

    fn jwks(keyring: &Keyring) -> Vec<Map<String, Value>> {
        let document: Value = serde_json::from_slice(keyring.jwks_json()).unwrap();
        document["keys"].as_array().unwrap().iter().map(|key| key.as_object().unwrap().clone()).collect()
    }

    fn published_kids(keyring: &Keyring) -> Vec<String> {
        jwks(keyring).iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn rfc7517_5_jwks_has_kty_use_alg_kid_and_no_private_member() {
        let keyring = keyring();
        let keys = jwks(&keyring);
        assert_eq!(keys.len(), 2);
        for jwk in &keys {
            for member in ["kty", "use", "alg", "kid"] {
                assert!(jwk.contains_key(member), "missing {member}");
            }
            assert_eq!(jwk["use"], "sig");
            for member in PRIVATE_MEMBERS {
                assert!(!jwk.contains_key(member), "private member {member} published");
            }
        }
        let mut algs: Vec<&str> = keys.iter().map(|jwk| jwk["alg"].as_str().unwrap()).collect();
        algs.sort();
        assert_eq!(algs, ["ES256", "RS256"]);
    }

    #[test]
    fn encryption_keys_are_never_published() {
        let keyring = keyring();
        assert!(!published_kids(&keyring).contains(&key(KeyAlg::RsaOaep, 0).kid));
        assert!(!String::from_utf8_lossy(keyring.jwks_json()).contains("RSA-OAEP"));
    }

    #[test]
    fn the_newest_active_key_signs() {
        let keys =
            [stored(key(KeyAlg::Es256, 0), Duration::days(30)), stored(key(KeyAlg::Es256, 1), Duration::days(2))];
        let keyring = Keyring::new(&keys, None, NOW).unwrap();
        assert_eq!(keyring.current_kid(KeyAlg::Es256), Some(key(KeyAlg::Es256, 1).kid.as_str()));
        let reversed = Keyring::new(&[keys[1].clone(), keys[0].clone()], None, NOW).unwrap();
        assert_eq!(reversed.current_kid(KeyAlg::Es256), Some(key(KeyAlg::Es256, 1).kid.as_str()));
    }

    #[test]
    fn staged_rotation_publishes_a_future_key_before_it_signs() {
        let old = stored(key(KeyAlg::Rs256, 0), Duration::days(30));
        let staged = stored(key(KeyAlg::Rs256, 1), -Duration::days(1));
        let keys = [old.clone(), staged.clone()];

        let before = Keyring::new(&keys, None, NOW).unwrap();
        assert_eq!(before.current_kid(KeyAlg::Rs256), Some(old.kid.as_str()));
        assert_eq!(published_kids(&before), [staged.kid.clone(), old.kid.clone()]);
        assert_eq!(before.next_change(), Some(staged.not_before));
        let signed_by_old = before.sign(SigningAlg::Rs256, &claims(), None).unwrap();

        let after = Keyring::new(&keys, None, staged.not_before).unwrap();
        assert_eq!(after.current_kid(KeyAlg::Rs256), Some(staged.kid.as_str()));
        assert!(after.verify(&signed_by_old, &[SigningAlg::Rs256]).is_ok(), "old tokens still verify");
    }

    #[test]
    fn retired_keys_are_no_longer_published_nor_trusted() {
        let old = stored(key(KeyAlg::Es256, 0), Duration::days(30));
        let new = stored(key(KeyAlg::Es256, 1), Duration::days(1));
        let signed_by_old = Keyring::new(std::slice::from_ref(&old), None, NOW)
            .unwrap()
            .sign(SigningAlg::Es256, &claims(), None)
            .unwrap();

        let retiring_later =
            Keyring::new(&[retired(old.clone(), NOW + Duration::hours(1)), new.clone()], None, NOW).unwrap();
        assert_eq!(published_kids(&retiring_later).len(), 2);
        assert!(retiring_later.verify(&signed_by_old, &[SigningAlg::Es256]).is_ok());
        assert_eq!(retiring_later.next_change(), Some(NOW + Duration::hours(1)));

        let retired_now = Keyring::new(&[retired(old.clone(), NOW), new.clone()], None, NOW).unwrap();
        assert_eq!(published_kids(&retired_now), std::slice::from_ref(&new.kid));
        assert_eq!(
            retired_now.verify(&signed_by_old, &[SigningAlg::Es256]),
            Err(JoseError::UnknownKey(old.kid.clone()))
        );
    }

    #[test]
    fn a_retired_key_is_never_current_even_if_newest() {
        let older = stored(key(KeyAlg::Es256, 0), Duration::days(30));
        let newer = retired(stored(key(KeyAlg::Es256, 1), Duration::days(1)), NOW - Duration::minutes(1));
        let keyring = Keyring::new(&[older.clone(), newer], None, NOW).unwrap();
        assert_eq!(keyring.current_kid(KeyAlg::Es256), Some(older.kid.as_str()));
    }

    #[test]
    fn the_newest_active_encryption_key_encrypts_and_older_ones_still_decrypt() {
        let old = stored(key(KeyAlg::RsaOaep, 0), Duration::days(30));
        let new = stored(key(KeyAlg::RsaOaep, 1), Duration::days(1));
        let old_only = Keyring::new(std::slice::from_ref(&old), None, NOW).unwrap();
        let encrypted_to_old = old_only.encrypt("payload", None).unwrap();

        let both = Keyring::new(&[old, new.clone()], None, NOW).unwrap();
        assert_eq!(both.current_kid(KeyAlg::RsaOaep), Some(new.kid.as_str()));
        assert_eq!(both.decrypt(&encrypted_to_old).unwrap(), "payload");
    }

    #[test]
    fn without_a_current_key_sign_and_encrypt_say_which_key_is_missing() {
        let only_future = [stored(key(KeyAlg::Es256, 0), -Duration::hours(1))];
        let keyring = Keyring::new(&only_future, None, NOW).unwrap();
        assert_eq!(keyring.sign(SigningAlg::Es256, &claims(), None), Err(JoseError::NoKey("ES256 signing".into())));
        assert_eq!(keyring.sign(SigningAlg::Rs256, &claims(), None), Err(JoseError::NoKey("RS256 signing".into())));
        assert_eq!(keyring.encrypt("x", None), Err(JoseError::NoKey("RSA-OAEP encryption".into())));
        assert_eq!(published_kids(&keyring).len(), 1);
    }

    #[test]
    fn sealed_private_keys_need_the_master_key() {
        let master = MasterKey::parse(&generate_master_key().unwrap()).unwrap();
        let sealed = key(KeyAlg::Es256, 0).clone().into_stored(Some(&master), NOW, NOW).unwrap();
        let keyring = Keyring::new(std::slice::from_ref(&sealed), Some(&master), NOW).unwrap();
        assert!(keyring.sign(SigningAlg::Es256, &claims(), None).is_ok());
        assert_eq!(
            Keyring::new(std::slice::from_ref(&sealed), None, NOW).unwrap_err(),
            JoseError::MasterKeyRequired { kid: sealed.kid.clone() }
        );
        let other = MasterKey::parse(&generate_master_key().unwrap()).unwrap();
        assert!(matches!(Keyring::new(&[sealed], Some(&other), NOW), Err(JoseError::WrongMasterKey { .. })));
    }

    #[test]
    fn rfc7638_a_stored_kid_that_is_not_the_thumbprint_is_refused() {
        let mut wrong = stored(key(KeyAlg::Es256, 0), Duration::days(1));
        wrong.kid = key(KeyAlg::Es256, 1).kid.clone();
        let err = Keyring::new(&[wrong], None, NOW).unwrap_err();
        assert!(err.to_string().contains("thumbprint"), "{err}");
    }

    #[test]
    fn a_stored_key_with_inconsistent_use_or_alg_is_refused() {
        let mut wrong_use = stored(key(KeyAlg::Es256, 0), Duration::days(1));
        wrong_use.key_use = portcullis_core::model::KeyUse::Encryption;
        assert!(matches!(Keyring::new(&[wrong_use], None, NOW), Err(JoseError::InvalidKey { .. })));

        let mut wrong_alg = stored(key(KeyAlg::Es256, 0), Duration::days(1));
        wrong_alg.alg = "RS256".into();
        assert!(matches!(Keyring::new(&[wrong_alg], None, NOW), Err(JoseError::InvalidKey { .. })));

        let mut unknown_alg = stored(key(KeyAlg::Es256, 0), Duration::days(1));
        unknown_alg.alg = "HS256".into();
        assert!(matches!(Keyring::new(&[unknown_alg], None, NOW), Err(JoseError::InvalidKey { .. })));
    }

    #[test]
    fn a_duplicate_kid_is_refused() {
        let key = stored(key(KeyAlg::Es256, 0), Duration::days(1));
        assert!(matches!(Keyring::new(&[key.clone(), key], None, NOW), Err(JoseError::InvalidKey { .. })));
    }

    #[test]
    fn keyring_and_keys_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Keyring>();
        shared::<MasterKey>();
        shared::<crate::Decrypter>();
        shared::<crate::JwksVerifier>();
    }

    #[test]
    fn keyring_debug_and_errors_never_show_private_material() {
        let keyring = keyring();
        let debug = format!("{keyring:?}");
        for alg in [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::RsaOaep] {
            let private: Value = serde_json::from_str(key(alg, 0).private_jwk.expose()).unwrap();
            assert!(!debug.contains(private["d"].as_str().unwrap()), "{alg}");
            assert!(debug.contains(&key(alg, 0).kid));
        }

        let mut broken = stored(key(KeyAlg::Es256, 0), Duration::days(1));
        broken.alg = "RS256".into();
        let d = serde_json::from_str::<Value>(&broken.private_jwk).unwrap()["d"].as_str().unwrap().to_owned();
        let err = Keyring::new(&[broken], None, NOW).unwrap_err();
        assert!(!err.to_string().contains(&d) && !format!("{err:?}").contains(&d));
    }
}
