//! A browser on the provider's pages: a cookie jar the test can read and write, no automatic redirects,
//! English pages, and the sign-in and consent steps a user goes through.

use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;
use url::Url;

use crate::demo::{PASSWORD, SPA_SCOPE};
use crate::http::{Reply, query_param};
use crate::oauth::{AuthorizeRequest, Pkce, redeem};

/// The provider's session cookie.
pub const SESSION_COOKIE: &str = "portcullis_session";
/// The provider's CSRF cookie (double-submitted with the forms' `csrf_token`).
pub const CSRF_COOKIE: &str = "portcullis_csrf";
/// An origin that is neither the provider's nor any client's: where a cross-site request comes from.
pub const EVIL_ORIGIN: &str = "https://evil.example";

/// A browser: a cookie jar the test can read and write, no automatic redirects, English pages.
pub struct Visitor {
    pub base: String,
    pub http: reqwest::Client,
    jar: Arc<Jar>,
}

impl Visitor {
    /// A browser with no cookies, on the provider at `base`.
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { base: base.to_string(), http, jar }
    }

    /// `location` made absolute against the provider when it is a path.
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

    /// Opens `url` (an authorization request, a verification link), which must send the browser to the login
    /// page, and signs in there. Returns the page the sign-in leads to, or the refused sign-in.
    pub async fn sign_in(&self, url: &str, username: &str, password: &str) -> Reply {
        let to_login = self.get(url).await;
        assert_eq!(to_login.status, StatusCode::SEE_OTHER, "{}", to_login.body);
        let submitted = self.sign_in_at(to_login.location().unwrap(), username, password).await;
        if submitted.status != StatusCode::SEE_OTHER {
            return submitted;
        }
        self.get(submitted.location().unwrap()).await
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

    /// Answers the consent page `page` with `decision` (`allow` or `deny`).
    pub async fn consent(&self, page: &Reply, decision: &str) -> Reply {
        assert!(
            page.body.contains("consent-allow"),
            "not a consent page: {} {:?} {}",
            page.status,
            page.location(),
            page.body
        );
        let csrf = page.hidden("csrf_token");
        let request = page.hidden("request");
        self.post("/consent", &[("csrf_token", &csrf), ("request", &request), ("decision", decision)]).await
    }

    /// Signs in (and consents) for `request`, and returns the code the client receives.
    pub async fn code(&self, request: &AuthorizeRequest, username: &str) -> String {
        let callback = self.authorize(&request.path(), username).await;
        assert!(callback.as_str().starts_with(request.redirect_uri()), "{callback}");
        query_param(&callback, "code").unwrap_or_else(|| panic!("no code in {callback}"))
    }
}

/// The SPA's full code flow for `username` in `visitor`, asking for [`SPA_SCOPE`]: the token response, which
/// must be a success.
pub async fn spa_tokens(visitor: &Visitor, username: &str) -> Value {
    spa_tokens_with_scope(visitor, username, SPA_SCOPE).await
}

/// [`spa_tokens`] asking for `scope`.
pub async fn spa_tokens_with_scope(visitor: &Visitor, username: &str, scope: &str) -> Value {
    let pkce = Pkce::new();
    let code = visitor.code(&AuthorizeRequest::spa(&pkce).with("scope", scope), username).await;
    let reply = redeem(&visitor.base, &code, &pkce.verifier).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()
}
