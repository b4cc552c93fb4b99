//! Helpers for the rule tests (`*_rules.rs`): a browser whose cookies and response headers can be inspected,
//! PKCE pairs, authorization requests for the demo SPA, token endpoint calls, and JWT reading.
//!
//! Everything answers a [`Reply`]: status, headers and body of one response, never following a redirect, so a
//! test can assert exactly what the provider sent.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_core::{Clock, FixedClock, SystemClock};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

pub const SPA: &str = "angularclient";
pub const SPA_REDIRECT: &str = "http://localhost:4200/callback";
pub const SPA_ORIGIN: &str = "http://localhost:4200";
pub const PASSWORD: &str = "Demo-Passw0rd!";
pub const CONSOLE: (&str, &str) = ("consoleclient", "consoleClientSecret");
pub const EVIL_ORIGIN: &str = "https://evil.example";
pub const SESSION_COOKIE: &str = "portcullis_session";
pub const CSRF_COOKIE: &str = "portcullis_csrf";
/// What the SPA asks for unless a test says otherwise: every token, and an API scope.
pub const SPA_SCOPE: &str = "openid profile email offline_access dataEventRecords";

/// One HTTP response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Self { status, headers, body }
    }

    /// The single value of header `name`, if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The absolute URL a redirect points to; panics (with the page) when the reply is no redirect.
    pub fn redirect_url(&self) -> Url {
        let location =
            self.location().unwrap_or_else(|| panic!("no redirect: {} {:?} {}", self.status, self.headers, self.body));
        Url::parse(location).unwrap_or_else(|_| panic!("not an absolute redirect: {location}"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {} {}", self.status, self.body))
    }

    /// The OAuth `error` of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_else(|| panic!("no error in {} {}", self.status, self.body)).to_owned()
    }

    /// The `error_description` of a JSON error body.
    pub fn description(&self) -> String {
        self.json()["error_description"].as_str().unwrap_or_default().to_owned()
    }

    /// Every `Set-Cookie` header, as sent.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers.get_all("set-cookie").iter().map(|value| value.to_str().unwrap()).collect()
    }

    /// The `Set-Cookie` header that sets `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies().into_iter().find(|cookie| cookie.starts_with(&prefix))
    }

    /// The value of the hidden input `name`, unescaped.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker).unwrap_or_else(|| panic!("no input {name} in {}", self.body));
        let tag_start = self.body[..at].rfind('<').unwrap();
        let tag_end = at + self.body[at..].find('>').unwrap();
        let tag = &self.body[tag_start..tag_end];
        let value_at = tag.find("value=\"").unwrap() + "value=\"".len();
        unescape(&tag[value_at..value_at + tag[value_at..].find('"').unwrap()])
    }

    /// The text of the element marked `data-testid="{id}"`, unescaped (the pages' stable hooks).
    pub fn testid(&self, id: &str) -> String {
        self.try_testid(id).unwrap_or_else(|| panic!("no data-testid={id} in {} {}", self.status, self.body))
    }

    pub fn try_testid(&self, id: &str) -> Option<String> {
        let marker = format!("data-testid=\"{id}\"");
        let at = self.body.find(&marker)?;
        let open_end = at + self.body[at..].find('>')? + 1;
        let close = open_end + self.body[open_end..].find("</")?;
        Some(unescape(&self.body[open_end..close]))
    }

    /// Checklist R1/R5/R6: the provider's own HTML error page, 400, that redirects nowhere, showing `code` and a
    /// description that contains `names` (the offending value, quoted).
    pub fn assert_error_page(&self, code: &str, names: &str) {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{:?} {}", self.headers, self.body);
        assert_eq!(self.location(), None, "an error page never redirects");
        assert!(self.header("content-type").unwrap().starts_with("text/html"), "{:?}", self.headers);
        assert_eq!(self.testid("error-code"), code, "{}", self.body);
        let description = self.testid("error-description");
        assert!(description.contains(names), "the description {description:?} should name {names}");
    }

    /// Checklist S4: a page nobody may frame.
    pub fn assert_unframeable(&self, what: &str) {
        let policy = self.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
        assert!(policy.split(';').any(|directive| directive.trim() == "frame-ancestors 'none'"), "{what}: {policy}");
        assert_eq!(self.header("x-frame-options"), Some("DENY"), "{what}");
    }
}

/// HTML character references as askama writes them.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A browser: a cookie jar the test can read and write, no automatic redirects, English pages.
pub struct Visitor {
    pub base: String,
    pub http: reqwest::Client,
    jar: Arc<Jar>,
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { base: base.to_string(), http, jar }
    }

    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') { format!("{}{location}", self.base) } else { location.to_string() }
    }

    /// The value of the cookie `name` the browser would send to the provider.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&Url::parse(&self.base).unwrap())?;
        let prefix = format!("{name}=");
        header.to_str().unwrap().split("; ").find_map(|pair| pair.strip_prefix(&prefix)).map(str::to_owned)
    }

    /// Puts a cookie in the jar, as an attacker who can set cookies would.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar.add_cookie_str(&format!("{name}={value}; Path=/"), &Url::parse(&self.base).unwrap());
    }

    pub async fn get(&self, url: &str) -> Reply {
        let response = self.http.get(self.absolute(url)).header("accept-language", "en").send().await.unwrap();
        Reply::read(response).await
    }

    /// A same-origin form POST, as the provider's own pages send it.
    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Reply {
        let origin = self.base.clone();
        self.post_with(url, form, &[("origin", &origin)]).await
    }

    /// A form POST with exactly the extra headers given (no `Origin` unless listed).
    pub async fn post_with(&self, url: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let mut request = self.http.post(self.absolute(url)).header("accept-language", "en").form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::read(request.send().await.unwrap()).await
    }

    /// From a redirect to the login page: shows it and submits the credentials. Returns the answer to the POST.
    pub async fn sign_in_at(&self, login_location: &str, username: &str, password: &str) -> Reply {
        assert!(login_location.starts_with("/login"), "not the login page: {login_location}");
        let login = self.get(login_location).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        let csrf = login.hidden("csrf_token");
        let return_to = login.hidden("return_to");
        self.post(
            "/login",
            &[("username", username), ("password", password), ("csrf_token", &csrf), ("return_to", &return_to)],
        )
        .await
    }

    /// Runs an authorization request to its end as a user who accepts everything: signs in as `username`
    /// when asked, allows on the consent page when shown. Returns the redirect to the client.
    pub async fn authorize(&self, authorize_url: &str, username: &str) -> Url {
        let mut reply = self.get(authorize_url).await;
        if let Some(login) = reply.location().filter(|location| location.starts_with("/login")).map(str::to_owned) {
            let signed_in = self.sign_in_at(&login, username, PASSWORD).await;
            assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "sign-in refused: {}", signed_in.body);
            reply = self.get(signed_in.location().unwrap()).await;
        }
        if reply.body.contains("consent-allow") {
            reply = self.consent(&reply, "allow").await;
        }
        reply.redirect_url()
    }

    /// Answers the consent page `page` with `decision`.
    pub async fn consent(&self, page: &Reply, decision: &str) -> Reply {
        let csrf = page.hidden("csrf_token");
        let request = page.hidden("request");
        self.post("/consent", &[("csrf_token", &csrf), ("request", &request), ("decision", decision)]).await
    }

    /// Signs in (and consents) for the SPA with `request`, returns the code.
    pub async fn code(&self, request: &AuthorizeRequest, username: &str) -> String {
        let callback = self.authorize(&request.path(), username).await;
        assert!(callback.as_str().starts_with(request.redirect_uri()), "{callback}");
        query_param(&callback, "code").unwrap_or_else(|| panic!("no code in {callback}"))
    }
}

pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// The parameters of a response delivered in the fragment.
pub fn fragment_param(url: &Url, name: &str) -> Option<String> {
    let fragment = url.fragment()?;
    url::form_urlencoded::parse(fragment.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// An RFC 7636 §4.1 verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        Self::for_verifier(&portcullis_core::secret::generate().unwrap())
    }

    pub fn for_verifier(verifier: &str) -> Self {
        Self { verifier: verifier.to_owned(), challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) }
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

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// An HTTP client that never follows redirects and keeps no cookies: a relying party's back channel.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// `POST /connect/token` with a form body.
pub async fn token(base: &str, form: &[(&str, &str)]) -> Reply {
    Reply::read(client().post(format!("{base}/connect/token")).form(form).send().await.unwrap()).await
}

/// `POST /connect/token` authenticating with HTTP Basic.
pub async fn token_basic(base: &str, (id, secret): (&str, &str), form: &[(&str, &str)]) -> Reply {
    let request = client().post(format!("{base}/connect/token")).basic_auth(id, Some(secret)).form(form);
    Reply::read(request.send().await.unwrap()).await
}

/// `POST /connect/token{query}` with `body` sent as is under `content_type`.
pub async fn token_raw(base: &str, query: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut request = client().post(format!("{base}/connect/token{query}")).body(body.to_owned());
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

/// The SPA's full code flow for `username` in `visitor`: the token response, which must be a success.
pub async fn spa_tokens(visitor: &Visitor, username: &str) -> Value {
    let pkce = Pkce::new();
    let code = visitor.code(&AuthorizeRequest::spa(&pkce), username).await;
    let reply = redeem(&visitor.base, &code, &pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}

/// `GET /connect/userinfo` with the access token in the header.
pub async fn userinfo(base: &str, access_token: &str) -> Reply {
    let request = client().get(format!("{base}/connect/userinfo")).bearer_auth(access_token);
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

/// A clock stopped at the current time; keep the `Arc` to move it.
pub fn fixed_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(SystemClock.now()))
}

/// A client like the demo SPA (public, explicit consent, code + refresh grants, the demo's scopes) with
/// another id and these redirect URIs; change what a test needs with struct update syntax.
pub fn spa_like(client_id: &str, redirect_uris: &[&str]) -> portcullis_server::admin::ClientSpec {
    use portcullis_core::model::{ClientType, ConsentType, GrantType};
    portcullis_server::admin::ClientSpec {
        client_id: client_id.to_owned(),
        client_type: ClientType::Public,
        consent_type: ConsentType::Explicit,
        display_name: None,
        redirect_uris: redirect_uris.iter().map(|uri| uri.to_string()).collect(),
        post_logout_redirect_uris: Vec::new(),
        cors_origins: Vec::new(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: SPA_SCOPE.split(' ').map(str::to_owned).collect(),
        introspection: false,
        revocation: false,
        pkce_exempt: false,
        access_token_format: None,
        secret: portcullis_server::admin::SecretChoice::Generate,
    }
}

/// Registers `spec` through the administration rules, as `portcullis clients add` would.
pub async fn add_client(provider: &super::TestProvider, spec: portcullis_server::admin::ClientSpec) {
    portcullis_server::admin::add_client(provider.state.store.as_ref(), &SystemClock, spec).await.unwrap();
}
