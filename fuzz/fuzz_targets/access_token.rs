//! How a resource server reads an access token (`portcullis-validation`, through its `fuzzing` entry points):
//! the `Authorization: Bearer` header, a JWT validated locally (JWE decryption, header checks, signature with
//! the provider's JWKS, RFC 9068 claims), and the provider's RFC 7662 introspection answer. Each input is given
//! to all three.
//!
//! Besides not panicking:
//! - a bearer token is taken only from the Bearer scheme, non-empty and in RFC 6750 `b64token` syntax;
//! - a JWT is accepted only if the fixture keyring minted it (see the `jose` target), and only for this issuer
//!   and audience;
//! - an accepted introspection answer names this issuer (or none) and audience, is a Bearer token, and is not
//!   expired beyond the leeway; no answer is cached longer than the TTL.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use portcullis_fuzz::{AUDIENCE, ISSUER, NOW, decrypter, keyring, minted, minted_jwe_like};
use portcullis_validation::AccessToken;
use portcullis_validation::fuzzing::Reader;
use serde_json::Value;

const CACHE_TTL: Duration = Duration::from_secs(30);

fuzz_target!(|data: &[u8]| {
    static READER: OnceLock<Reader> = OnceLock::new();
    let reader = READER.get_or_init(|| {
        Reader::new(ISSUER, AUDIENCE, keyring().jwks_json(), Some(decrypter()), CACHE_TTL)
            .expect("the fixture JWKS is usable")
    });

    if let Some(Ok(token)) = Reader::bearer(data) {
        let value = String::from_utf8_lossy(data);
        assert!(value.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer ")), "{value:?}");
        assert!(!token.is_empty() && value.ends_with(&token), "{value:?}");
        let b64token = token.trim_end_matches('=');
        assert!(!b64token.is_empty(), "{value:?}");
        assert!(b64token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)), "{value:?}");
    }

    if let Ok(token) = std::str::from_utf8(data)
        && let Ok(access) = reader.jwt(token, NOW)
    {
        assert!(
            minted().contains(token) || minted_jwe_like(token).is_some(),
            "accepted a token nobody minted: {token}"
        );
        check_audience(&access);
        assert_eq!(access.issuer.as_deref(), Some(ISSUER));
    }

    if let Some((verdict, lifetime)) = reader.introspection_answer(data, NOW) {
        assert!(lifetime <= CACHE_TTL);
        if let Ok(access) = verdict {
            check_audience(&access);
            assert!(access.issuer.as_deref().is_none_or(|issuer| issuer == ISSUER));
            let token_type = access.claims.get("token_type").and_then(Value::as_str);
            assert!(token_type.is_none_or(|kind| kind.eq_ignore_ascii_case("Bearer")));
            if let Some(exp) = access.expires_at {
                assert!(exp.checked_add(reader.leeway()).is_none_or(|latest| latest >= NOW), "expired at {exp}");
            }
        }
    }
});

fn check_audience(access: &AccessToken) {
    assert!(access.audiences.iter().any(|audience| audience == AUDIENCE), "{:?}", access.audiences);
}
