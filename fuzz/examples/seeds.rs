//! Writes the seed corpus of every target under `corpus/<target>/`, and `fixtures/minted.json`, the tokens the
//! fixture keyring minted for it. With `--new-keys` it first replaces `fixtures/keys.json` with fresh keys
//! (then build again: the targets embed the fixtures).
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds [-- --new-keys]`
//!
//! Seeds are few and realistic: valid requests, headers and tokens, and the classic attacks on each, so that
//! mutations start next to the checks that matter. ES256 and RSA-OAEP are randomised, so every run writes new
//! token seeds; commit them together with `minted.json`.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis_fuzz::{AUDIENCE, CONFIDENTIAL_CLIENT, ISSUER, NOW, PUBLIC_CLIENT, keyring};
use portcullis_jose::{KeyAlg, SigningAlg, generate_key};
use serde_json::{Map, Value, json};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if std::env::args().any(|arg| arg == "--new-keys") {
        new_keys(&root)?;
        println!("wrote fixtures/keys.json; build and run again without --new-keys to mint the tokens");
        return Ok(());
    }
    let tokens = mint()?;
    let minted: Vec<&String> = [&tokens.access, &tokens.id, &tokens.encrypted_access, &tokens.encrypted_text].into();
    fs::write(root.join("fixtures/minted.json"), serde_json::to_string_pretty(&minted)? + "\n")?;

    let corpus = root.join("corpus");
    let _ = fs::remove_dir_all(&corpus);
    write(&corpus, "params", params_seeds())?;
    write(&corpus, "client_credentials", credentials_seeds())?;
    write(&corpus, "redirect_uri", redirect_seeds())?;
    write(&corpus, "jose", jose_seeds(&tokens))?;
    write(&corpus, "access_token", access_token_seeds(&tokens))?;
    println!("wrote fixtures/minted.json and corpus/");
    Ok(())
}

fn new_keys(root: &Path) -> Result<()> {
    let mut keys = Vec::new();
    for alg in [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::RsaOaep] {
        let key = generate_key(alg)?;
        keys.push(json!({
            "kid": key.kid,
            "alg": alg.as_str(),
            "private_jwk": key.private_jwk.expose(),
            "public_jwk": key.public_jwk,
        }));
    }
    fs::write(root.join("fixtures/keys.json"), serde_json::to_string_pretty(&keys)? + "\n")?;
    Ok(())
}

struct Tokens {
    access: String,
    id: String,
    encrypted_access: String,
    encrypted_text: String,
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn mint() -> Result<Tokens> {
    let now = NOW.unix_timestamp();
    let access = object(json!({
        "iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "client_id": PUBLIC_CLIENT,
        "scope": "openid profile dataEventRecords", "role": ["admin", "user"],
        "exp": now + 3600, "iat": now, "nbf": now, "jti": "0192f3a4-7d1e-7c3b-9a51-6f1e2d3c4b5a",
    }));
    let id = object(json!({
        "iss": ISSUER, "sub": "alice", "aud": PUBLIC_CLIENT, "exp": now + 300, "iat": now,
        "auth_time": now - 60, "nonce": "n-0S6_WzA2Mj", "sid": "08a5019c",
    }));
    let keyring = keyring();
    let access = keyring.sign(SigningAlg::Es256, &access, Some("at+jwt"))?;
    Ok(Tokens {
        id: keyring.sign(SigningAlg::Rs256, &id, Some("JWT"))?,
        encrypted_access: keyring.encrypt(&access, Some("JWT"))?,
        encrypted_text: keyring.encrypt("an opaque payload", None)?,
        access,
    })
}

fn write(corpus: &Path, target: &str, seeds: Vec<(&str, String)>) -> Result<()> {
    let dir = corpus.join(target);
    fs::create_dir_all(&dir)?;
    for (name, seed) in seeds {
        fs::write(dir.join(name), seed)?;
    }
    Ok(())
}

fn params_seeds() -> Vec<(&'static str, String)> {
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let public = format!(
        "client_id={PUBLIC_CLIENT}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A4200%2Fcallback\
         &scope=openid+profile+{AUDIENCE}&state=af0ifjsldkj&nonce=n-0S6_WzA2Mj&code_challenge={CHALLENGE}\
         &code_challenge_method=S256"
    );
    vec![
        ("authorize_public", public),
        (
            "authorize_loopback_fragment",
            format!(
                "client_id={PUBLIC_CLIENT}&response_type=code&redirect_uri=http://127.0.0.1:51004/callback\
                 &scope=openid&state=a%26code%3Devil&code_challenge={CHALLENGE}&code_challenge_method=S256\
                 &response_mode=fragment&prompt=login+consent&max_age=0&ui_locales=fr-CA+en"
            ),
        ),
        (
            "authorize_query_form_post",
            format!(
                "client_id={PUBLIC_CLIENT}&response_type=code&redirect_uri=https%3A%2F%2Fspa.example%2Fcb%3Ftenant%3Da\
                 &scope=openid+offline_access&code_challenge={CHALLENGE}&code_challenge_method=S256\
                 &response_mode=form_post&display=popup&login_hint=alice%40example.com"
            ),
        ),
        (
            "authorize_confidential",
            format!("client_id={CONFIDENTIAL_CLIENT}&response_type=code&scope=openid+email&state=xyz&prompt=none"),
        ),
        (
            "token_request",
            "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=https%3A%2F%2Fclient.example\
             %2Fcb&client_id=s6BhdRkqt3&code_verifier=dBjftJeZ4CVP-mJ92K9Ihfe36ayw2Wr7D6BNcB6r1Zw"
                .to_owned(),
        ),
        ("duplicate_through_encoding", "scope=openid&%73cope=admin&=orphan&state=&x=%FF".to_owned()),
    ]
}

fn basic(credentials: &str) -> String {
    format!("Basic {}", STANDARD.encode(credentials))
}

fn credentials_seeds() -> Vec<(&'static str, String)> {
    vec![
        ("basic", basic("webapp:s3cret")),
        ("form_encoded", basic("my+app%3A1:p%3Ass+w%C3%B6rd%25")),
        ("lower_case_scheme", format!("basic  {} ", STANDARD.encode("webapp:a:b"))),
        ("no_colon", basic("webapp")),
        ("raw_special_characters", basic("app&x=1:s&t=u+v")),
        ("round_trip", "client id:with colon\nsecret/with+plus&amp;".to_owned()),
    ]
}

fn redirect_seeds() -> Vec<(&'static str, String)> {
    // Every line but the last is registered; the last one is requested.
    let seeds = [
        ("exact", "https://app.example/cb\nhttps://app.example/cb"),
        ("loopback_port", "http://127.0.0.1/callback\nhttp://127.0.0.1:51004/callback"),
        ("loopback_ipv6", "http://[::1]:8080/cb?x=1\nhttp://[::1]/cb?x=1"),
        ("loopback_lookalike", "http://127.0.0.1/cb\nhttp://127.0.0.1.evil.example/cb"),
        ("userinfo", "https://good.example/cb\nhttps://good.example@evil.example/cb"),
        (
            "private_scheme",
            "com.example.app:/oauth2redirect\nhttps://spa.example/cb?tenant=a\ncom.example.app:/oauth2redirect",
        ),
        ("forbidden", "javascript:alert(1)//\nhttp://localhost:4200/cb#frag\nHTTPS://app.example/cb"),
    ];
    seeds.into_iter().map(|(name, seed)| (name, seed.to_owned())).collect()
}

fn forge(header: &Value, payload: &Value, signature: &[u8]) -> String {
    let part = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    format!("{}.{}.{}", part(header.to_string().as_bytes()), part(payload.to_string().as_bytes()), part(signature))
}

fn jose_seeds(tokens: &Tokens) -> Vec<(&'static str, String)> {
    let es256 = keyring().current_kid(KeyAlg::Es256).unwrap_or_default().to_owned();
    let claims = json!({"iss": ISSUER, "sub": "mallory", "aud": AUDIENCE, "exp": NOW.unix_timestamp() + 60});
    vec![
        ("access_token", tokens.access.clone()),
        ("id_token", tokens.id.clone()),
        ("encrypted_access_token", tokens.encrypted_access.clone()),
        ("encrypted_text", tokens.encrypted_text.clone()),
        ("alg_none", forge(&json!({"alg": "none", "kid": es256}), &claims, b"")),
        ("hs256", forge(&json!({"alg": "HS256", "kid": es256, "typ": "at+jwt"}), &claims, &[7; 32])),
        ("jku", forge(&json!({"alg": "ES256", "kid": es256, "jku": "https://evil.example/jwks"}), &claims, &[1; 64])),
    ]
}

fn access_token_seeds(tokens: &Tokens) -> Vec<(&'static str, String)> {
    let now = NOW.unix_timestamp();
    let answer = |extra: Value| {
        let mut members = object(json!({
            "active": true, "iss": ISSUER, "aud": [AUDIENCE, "other"], "sub": "alice", "client_id": PUBLIC_CLIENT,
            "username": "alice", "token_type": "Bearer", "scope": "openid dataEventRecords", "role": "admin",
            "exp": now + 600, "iat": now, "nbf": now, "jti": "t1",
        }));
        members.extend(object(extra));
        Value::Object(members).to_string()
    };
    vec![
        ("jwt", tokens.access.clone()),
        ("jwe", tokens.encrypted_access.clone()),
        ("id_token", tokens.id.clone()),
        ("bearer_header", format!("Bearer {}", tokens.access)),
        ("introspection_active", answer(json!({}))),
        ("introspection_fractional_exp", answer(json!({"exp": now as f64 + 0.5, "auth_time": now - 60}))),
        ("introspection_refresh_token", answer(json!({"token_type": "refresh_token"}))),
        // The last second `time` can represent: a boundary for every computation on `exp`.
        ("introspection_end_of_time", answer(json!({"exp": 253_402_300_799_i64}))),
        ("introspection_inactive", r#"{"active":false}"#.to_owned()),
    ]
}
