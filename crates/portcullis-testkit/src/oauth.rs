//! OAuth from the client's side: PKCE pairs, authorization requests (for the demo SPA by default), token and
//! userinfo endpoint calls, and reading JWTs. Every call answers a [`Reply`], never following a redirect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::demo::{SPA, SPA_REDIRECT, SPA_SCOPE};
use crate::http::{Reply, http};

/// An RFC 7636 §4.1 verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A random verifier.
    pub fn new() -> Self {
        Self::for_verifier(&portcullis_core::secret::generate().unwrap())
    }

    pub fn for_verifier(verifier: &str) -> Self {
        Self { verifier: verifier.to_owned(), challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// An authorization request, as name/value pairs in order.
#[derive(Clone)]
pub struct AuthorizeRequest {
    pairs: Vec<(String, String)>,
}

impl AuthorizeRequest {
    /// What the demo SPA sends: code flow, PKCE S256, state and nonce, [`SPA_SCOPE`].
    pub fn spa(pkce: &Pkce) -> Self {
        Self::for_client(SPA, SPA_REDIRECT, Some(pkce))
    }

    /// The same request for another client and redirect URI, with PKCE only when given.
    pub fn for_client(client_id: &str, redirect_uri: &str, pkce: Option<&Pkce>) -> Self {
        let mut pairs = vec![
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", SPA_SCOPE),
            ("state", "af0ifjsldkj"),
            ("nonce", "n-0S6_WzA2Mj"),
        ];
        if let Some(pkce) = pkce {
            pairs.push(("code_challenge", &pkce.challenge));
            pairs.push(("code_challenge_method", "S256"));
        }
        Self { pairs: pairs.into_iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect() }
    }

    /// Sets `name` (replacing its value where it is, or adding it at the end).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        match self.pairs.iter_mut().find(|(existing, _)| existing == name) {
            Some(pair) => pair.1 = value.to_owned(),
            None => self.pairs.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.pairs.retain(|(existing, _)| existing != name);
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(existing, _)| existing == name).map(|(_, value)| value.as_str())
    }

    pub fn redirect_uri(&self) -> &str {
        self.get("redirect_uri").unwrap_or_default()
    }

    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.pairs.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect()
    }

    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&self.pairs).finish()
    }

    /// `/connect/authorize?…`
    pub fn path(&self) -> String {
        format!("/connect/authorize?{}", self.query())
    }
}

/// `POST /connect/token` with a form body.
pub async fn token(base: &str, form: &[(&str, &str)]) -> Reply {
    Reply::read(http().post(format!("{base}/connect/token")).form(form).send().await.unwrap()).await
}

/// `POST /connect/token` authenticating with HTTP Basic.
pub async fn token_basic(base: &str, (id, secret): (&str, &str), form: &[(&str, &str)]) -> Reply {
    let request = http().post(format!("{base}/connect/token")).basic_auth(id, Some(secret)).form(form);
    Reply::read(request.send().await.unwrap()).await
}

/// `POST /connect/token{query}` with `body` sent as is under `content_type`.
pub async fn token_raw(base: &str, query: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut request = http().post(format!("{base}/connect/token{query}")).body(body.to_owned());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    Reply::read(request.send().await.unwrap()).await
}

/// The SPA redeeming `code` with `verifier`.
pub async fn redeem(base: &str, code: &str, verifier: &str) -> Reply {
    token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", code),
            ("redirect_uri", SPA_REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// The SPA refreshing with `refresh_token` (and `scope` when given).
pub async fn refresh(base: &str, refresh_token: &str, scope: Option<&str>) -> Reply {
    let mut form = vec![("grant_type", "refresh_token"), ("client_id", SPA), ("refresh_token", refresh_token)];
    form.extend(scope.map(|scope| ("scope", scope)));
    token(base, &form).await
}

/// `GET /connect/userinfo` with the access token in the header.
pub async fn userinfo(base: &str, access_token: &str) -> Reply {
    let request = http().get(format!("{base}/connect/userinfo")).bearer_auth(access_token);
    Reply::read(request.send().await.unwrap()).await
}

/// Checklist C1/F1: a token the provider no longer honours, seen from a resource: 401 `invalid_token`.
pub async fn assert_access_token_inactive(base: &str, access_token: &str) {
    let reply = userinfo(base, access_token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

/// The header and claims of a compact JWS, unverified.
pub fn jwt_parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut decode = || -> Value {
        let part = parts.next().unwrap_or_else(|| panic!("not a JWS: {jwt}"));
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let header = decode();
    let claims = decode();
    (header, claims)
}
