//! Local validation of JWT access tokens against a stand-in provider: RFC 9068 §4 and checklist RS1–RS3
//! with crafted tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly by design.

mod mock_provider;

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use mock_provider::{
    API, MockProvider, NOW, access_token, claims, claims_with, encryption_jwk, forge, header_of, invalid_token,
    keyring, keys, provider_keyring, with_header,
};
use portcullis_jose::{Decrypter, SigningAlg};
use portcullis_testkit::nowhere;
use portcullis_validation::{FixedClock, Rejection, Validator};
use serde_json::{Value, json};
use sha2::Sha256;

struct Setup {
    provider: MockProvider,
    clock: Arc<FixedClock>,
    validator: Validator,
}

async fn setup() -> Setup {
    setup_with(|builder| builder).await
}

async fn setup_with(
    configure: impl FnOnce(portcullis_validation::ValidatorBuilder) -> portcullis_validation::ValidatorBuilder,
) -> Setup {
    let provider = MockProvider::start().await;
    let clock = Arc::new(FixedClock::new(NOW));
    let builder = Validator::local_jwt(&provider.issuer, API).clock(clock.clone());
    let validator = configure(builder).build().unwrap();
    Setup { provider, clock, validator }
}

#[tokio::test]
async fn rfc9068_4_a_good_access_token_is_accepted_with_its_claims() {
    let Setup { provider, validator, .. } = setup().await;
    let token = validator.validate(&access_token(&claims(&provider.issuer))).await.unwrap();
    assert_eq!(token.subject.as_deref(), Some("alice-id"));
    assert_eq!(token.scopes, ["openid", "dataEventRecords"]);
    assert_eq!(token.roles, ["dataEventRecords.admin", "dataEventRecords.user"]);
    // The discovery document and the JWKS were read once, and are kept.
    validator.validate(&access_token(&claims(&provider.issuer))).await.unwrap();
    assert_eq!(provider.calls(), (1, 1, 0));
}

#[tokio::test]
async fn rfc9068_4_rs256_access_tokens_verify_too() {
    let Setup { provider, validator, .. } = setup().await;
    let token = provider_keyring().sign(SigningAlg::Rs256, &claims(&provider.issuer), Some("at+jwt")).unwrap();
    validator.validate(&token).await.unwrap();
}

#[tokio::test]
async fn rs2_alg_none_is_refused_without_fetching_a_key() {
    let Setup { provider, validator, .. } = setup().await;
    let kid = header_of(&access_token(&claims(&provider.issuer)))["kid"].clone();
    let token = forge(&json!({"alg": "none", "kid": kid, "typ": "at+jwt"}), &claims(&provider.issuer), b"");
    let description = invalid_token(validator.validate(&token).await);
    assert!(description.contains("algorithm \"none\" is not accepted"), "{description}");
    assert_eq!(provider.calls(), (0, 0, 0));
}

#[tokio::test]
async fn rs2_hs256_signed_with_the_public_key_is_refused() {
    let Setup { provider, validator, .. } = setup().await;
    // The classic confusion: an attacker uses our published key as an HMAC secret.
    let jwks = provider_keyring().jwks_json().to_vec();
    let jwks: Value = serde_json::from_slice(&jwks).unwrap();
    let public = jwks["keys"].as_array().unwrap().iter().find(|key| key["alg"] == "RS256").unwrap().clone();
    let header = json!({"alg": "HS256", "kid": public["kid"], "typ": "at+jwt"});
    let unsigned = forge(&header, &claims(&provider.issuer), b"");
    let input = unsigned.trim_end_matches('.');
    let mut mac = Hmac::<Sha256>::new_from_slice(public.to_string().as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let token = format!("{unsigned}{}", {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    });
    let description = invalid_token(validator.validate(&token).await);
    assert!(description.contains("algorithm \"HS256\" is not accepted (accepted: ES256, RS256)"), "{description}");
    assert_eq!(provider.calls(), (0, 0, 0));
}

#[tokio::test]
async fn rs2_jku_x5u_jwk_x5c_and_crit_headers_are_refused_without_any_fetch() {
    let Setup { provider, validator, .. } = setup().await;
    let good = access_token(&claims(&provider.issuer));
    let cases = [
        ("jku", json!(format!("{}/jwks", provider.issuer))),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("jwk", json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"})),
        ("x5c", json!(["MIIB"])),
        ("crit", json!(["exp"])),
    ];
    for (name, value) in cases {
        let mut header = header_of(&good);
        header.insert(name.into(), value);
        let description = invalid_token(validator.validate(&with_header(&good, &header)).await);
        assert!(description.contains(&format!("carries \"{name}\", which is refused")), "{name}: {description}");
    }
    assert_eq!(provider.calls(), (0, 0, 0), "no key or document may be fetched because of such headers");
}

#[tokio::test]
async fn rs2_an_unknown_kid_is_refused_and_refetches_the_jwks_at_most_once_per_interval() {
    let Setup { provider, clock, validator } = setup().await;
    validator.validate(&access_token(&claims(&provider.issuer))).await.unwrap();
    let stranger =
        keyring(&keys().stranger).sign(SigningAlg::Es256, &claims(&provider.issuer), Some("at+jwt")).unwrap();
    for _ in 0..3 {
        let description = invalid_token(validator.validate(&stranger).await);
        assert!(description.contains("which is not in the provider's JWKS"), "{description}");
    }
    // Just fetched: no refetch. After the interval: exactly one, however many such tokens arrive.
    assert_eq!(provider.calls().1, 1);
    clock.advance(time::Duration::seconds(61));
    for _ in 0..3 {
        invalid_token(validator.validate(&stranger).await);
    }
    assert_eq!(provider.calls().1, 2);
}

#[tokio::test]
async fn a_key_published_after_the_jwks_was_read_is_found_by_a_refresh() {
    let Setup { provider, clock, validator } = setup().await;
    validator.validate(&access_token(&claims(&provider.issuer))).await.unwrap();
    // Key rotation: the provider now publishes a new key and signs with it.
    provider.publish(&keys().stranger);
    clock.advance(time::Duration::seconds(61));
    let rotated = keyring(&keys().stranger).sign(SigningAlg::Es256, &claims(&provider.issuer), Some("at+jwt")).unwrap();
    validator.validate(&rotated).await.unwrap();
    assert_eq!(provider.calls().1, 2);
}

#[tokio::test]
async fn rs3_an_id_token_is_not_an_access_token() {
    let Setup { provider, validator, .. } = setup().await;
    // Signed by the provider's own RS256 key, as its ID tokens are, with the API as audience even.
    let id_token = provider_keyring().sign(SigningAlg::Rs256, &claims(&provider.issuer), Some("JWT")).unwrap();
    let description = invalid_token(validator.validate(&id_token).await);
    assert!(description.contains("typ is \"JWT\", not \"at+jwt\""), "{description}");
    let untyped = provider_keyring().sign(SigningAlg::Es256, &claims(&provider.issuer), None).unwrap();
    assert!(invalid_token(validator.validate(&untyped).await).contains("no typ"));
    let media_type =
        provider_keyring().sign(SigningAlg::Es256, &claims(&provider.issuer), Some("application/AT+JWT")).unwrap();
    validator.validate(&media_type).await.unwrap();
}

#[tokio::test]
async fn rs3_another_issuer_is_refused_naming_both() {
    let Setup { provider, validator, .. } = setup().await;
    let token = access_token(&claims_with(&provider.issuer, json!({"iss": "https://evil.example"})));
    assert_eq!(
        invalid_token(validator.validate(&token).await),
        format!("issuer mismatch: expected {:?}, found \"https://evil.example\"", provider.issuer)
    );
}

#[tokio::test]
async fn rs3_another_audience_is_refused_naming_both() {
    let Setup { provider, validator, .. } = setup().await;
    let token = access_token(&claims_with(&provider.issuer, json!({"aud": "consoleclient"})));
    assert_eq!(
        invalid_token(validator.validate(&token).await),
        "audience mismatch: expected \"rs_dataEventRecordsApi\", found \"consoleclient\""
    );
}

#[tokio::test]
async fn rfc9068_4_expiry_follows_the_injected_clock_with_the_leeway() {
    let Setup { provider, clock, validator } = setup().await;
    let token = access_token(&claims(&provider.issuer));
    clock.advance(time::Duration::seconds(3600 + 30));
    validator.validate(&token).await.unwrap();
    clock.advance(time::Duration::seconds(1));
    let description = invalid_token(validator.validate(&token).await);
    assert_eq!(description, "the token expired at 2026-11-01T13:00:00Z (it is now 2026-11-01T13:00:31Z; leeway 30 s)");
}

#[tokio::test]
async fn a_tampered_token_fails_the_signature() {
    let Setup { provider, validator, .. } = setup().await;
    let token = access_token(&claims(&provider.issuer));
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = forge(&json!({}), &claims_with(&provider.issuer, json!({"sub": "mallory"})), b"")
        .split('.')
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(invalid_token(validator.validate(&parts.join(".")).await).contains("signature does not verify"));
    assert!(invalid_token(validator.validate("not-a-jwt").await).contains("not a JWT"));
}

#[tokio::test]
async fn encrypted_tokens_are_decrypted_with_the_configured_key() {
    let decrypter = Decrypter::from_private_jwk(&encryption_jwk(&keys().provider)).unwrap();
    let Setup { provider, validator, .. } = setup_with(|builder| builder.decryption_key(decrypter)).await;
    let jwe = provider_keyring().encrypt(&access_token(&claims(&provider.issuer)), Some("JWT")).unwrap();
    let token = validator.validate(&jwe).await.unwrap();
    assert_eq!(token.subject.as_deref(), Some("alice-id"));
    // The nested JWT gets every check: an encrypted ID token is still not an access token.
    let id_token = provider_keyring().sign(SigningAlg::Rs256, &claims(&provider.issuer), Some("JWT")).unwrap();
    let jwe = provider_keyring().encrypt(&id_token, Some("JWT")).unwrap();
    assert!(invalid_token(validator.validate(&jwe).await).contains("typ is \"JWT\""));
}

#[tokio::test]
async fn encrypted_tokens_without_the_key_or_for_another_key_are_refused() {
    let Setup { provider, validator, .. } = setup().await;
    let jwe = provider_keyring().encrypt(&access_token(&claims(&provider.issuer)), Some("JWT")).unwrap();
    assert!(invalid_token(validator.validate(&jwe).await).contains("no decryption key"));

    let other = Decrypter::from_private_jwk(&encryption_jwk(&keys().stranger)).unwrap();
    let Setup { validator, .. } = setup_with(|builder| builder.decryption_key(other)).await;
    assert!(invalid_token(validator.validate(&jwe).await).contains("not to this API's decryption key"));
}

#[tokio::test]
async fn a_provider_that_is_down_is_503_and_is_asked_again_after_the_retry_interval() {
    let Setup { provider, clock, validator } =
        setup_with(|builder| builder.retry_interval(Duration::from_secs(2))).await;
    let token = access_token(&claims(&provider.issuer));
    provider.behaviour.discovery_down.store(true, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..3 {
        let rejection = validator.validate(&token).await.unwrap_err();
        assert!(matches!(&rejection, Rejection::Unavailable(text) if text.contains("503")), "{rejection:?}");
    }
    assert_eq!(provider.calls().0, 1, "failures within the retry interval do not call the provider again");
    provider.behaviour.discovery_down.store(false, std::sync::atomic::Ordering::SeqCst);
    clock.advance(time::Duration::seconds(2));
    validator.validate(&token).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_provider_is_503_not_401() {
    let clock = Arc::new(FixedClock::new(NOW));
    let address = nowhere().await;
    let validator = Validator::local_jwt(address.as_str(), API).clock(clock).build().unwrap();
    let token = access_token(&claims(&address));
    let rejection = validator.validate(&token).await.unwrap_err();
    assert!(matches!(&rejection, Rejection::Unavailable(text) if text.contains("cannot reach")), "{rejection:?}");
    assert_eq!(rejection.status(), 503);
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let Setup { provider, validator, .. } = setup().await;
    provider.behaviour.discovery_redirects.store(true, std::sync::atomic::Ordering::SeqCst);
    let rejection = validator.validate(&access_token(&claims(&provider.issuer))).await.unwrap_err();
    assert!(matches!(&rejection, Rejection::Misconfigured(text) if text.contains("redirects are not followed")));
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_not_trusted() {
    let provider = MockProvider::start().await;
    // Configured with a trailing slash: not the exact issuer the provider names (OIDC Discovery §4.3).
    let validator = Validator::local_jwt(format!("{}/", provider.issuer), API).build().unwrap();
    let rejection = validator.validate(&access_token(&claims(&provider.issuer))).await.unwrap_err();
    assert!(matches!(&rejection, Rejection::Misconfigured(text) if text.contains("names the issuer")));
}
