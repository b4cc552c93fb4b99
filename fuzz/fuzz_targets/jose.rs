//! Compact JWS and JWE as anyone may present them (`Keyring::verify`, `JwksVerifier::verify`, `Keyring::decrypt`,
//! `Decrypter::decrypt`) against the fixed keyring of `fixtures/keys.json`.
//!
//! Besides not panicking: nothing is accepted that the keyring did not mint. A verified JWS must be one of
//! `fixtures/minted.json` byte for byte, so no second spelling of a signed token's parts passes either. (One
//! exists that this cannot see: ECDSA's twin signature (r, n − s) of an ES256 token also verifies; a mutator
//! cannot compute it, and it changes nothing the token says.) A decrypted JWE must be one of them but for its
//! encrypted key, which RFC 7516 leaves outside the tag (see `minted_jwe_like`), and decrypt to the same text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::{decrypter, keyring, minted, minted_jwe_like};
use portcullis_jose::{Decrypter, JwksVerifier, SigningAlg};

const BOTH: &[SigningAlg] = &[SigningAlg::Es256, SigningAlg::Rs256];

fuzz_target!(|data: &[u8]| {
    static PUBLISHED: OnceLock<(JwksVerifier, Decrypter)> = OnceLock::new();
    let (jwks, decrypter) = PUBLISHED.get_or_init(|| {
        let jwks = JwksVerifier::from_jwks_json(keyring().jwks_json()).expect("the fixture JWKS is usable");
        (jwks, decrypter())
    });
    let Ok(token) = std::str::from_utf8(data) else { return };

    for verified in [keyring().verify(token, BOTH), jwks.verify(token, BOTH)] {
        if verified.is_ok() {
            assert!(minted().contains(token), "accepted a JWS the keyring did not sign: {token}");
        }
    }
    for text in [keyring().decrypt(token), decrypter.decrypt(token)].into_iter().flatten() {
        let original = minted_jwe_like(token);
        let original = original.unwrap_or_else(|| panic!("decrypted a JWE the keyring did not encrypt: {token}"));
        assert_eq!(keyring().decrypt(original).as_deref(), Ok(text.as_str()));
    }
});
