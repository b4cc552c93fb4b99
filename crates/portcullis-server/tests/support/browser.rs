//! A browser for the provider's pages: a cookie jar, no automatic redirects, and form helpers.

use reqwest::StatusCode;
use url::Url;

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: base.to_string() }
    }

    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') { format!("{}{location}", self.base) } else { location.to_string() }
    }

    pub async fn get(&self, url: &str) -> Page {
        let response = self.http.get(self.absolute(url)).header("accept-language", "en").send().await.unwrap();
        Page::read(response).await
    }

    pub async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        let response = self.http.post(self.absolute(url)).header("origin", &self.base).form(form).send().await.unwrap();
        Page::read(response).await
    }

    /// Signs in on the login page the authorization request leads to. Returns the page after sign-in.
    pub async fn sign_in(&self, authorize_url: &str, username: &str, password: &str) -> Page {
        let to_login = self.get(authorize_url).await;
        assert_eq!(to_login.status, StatusCode::SEE_OTHER, "{}", to_login.body);
        let login = self.get(to_login.location.as_deref().unwrap()).await;
        assert_eq!(login.status, StatusCode::OK);
        let csrf = login.hidden("csrf_token");
        let return_to = login.hidden("return_to");
        let submitted = self
            .post(
                "/login",
                &[("username", username), ("password", password), ("csrf_token", &csrf), ("return_to", &return_to)],
            )
            .await;
        if submitted.status != StatusCode::SEE_OTHER {
            return submitted;
        }
        self.get(submitted.location.as_deref().unwrap()).await
    }

    /// Answers the consent page in front of it.
    pub async fn consent(&self, consent_page: &Page, decision: &str) -> Page {
        assert!(
            consent_page.body.contains("consent-allow"),
            "not a consent page: {} {:?} {}",
            consent_page.status,
            consent_page.location,
            consent_page.body
        );
        let csrf = consent_page.hidden("csrf_token");
        let request = consent_page.hidden("request");
        self.post("/consent", &[("csrf_token", &csrf), ("request", &request), ("decision", decision)]).await
    }
}

impl Page {
    async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        let body = response.text().await.unwrap();
        Self { status, location, body }
    }

    /// The value of the hidden input `name`, unescaped.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\"");
        let at = self.body.find(&marker).unwrap_or_else(|| panic!("no input {name} in {}", self.body));
        let tag_start = self.body[..at].rfind('<').unwrap();
        let tag_end = at + self.body[at..].find('>').unwrap();
        let tag = &self.body[tag_start..tag_end];
        let value_at = tag.find("value=\"").unwrap() + "value=\"".len();
        let value = &tag[value_at..value_at + tag[value_at..].find('"').unwrap()];
        unescape(value)
    }

    /// The callback URL a redirect points to, parsed.
    pub fn redirect_url(&self) -> Url {
        Url::parse(self.location.as_deref().unwrap_or_else(|| panic!("no redirect: {} {}", self.status, self.body)))
            .unwrap()
    }
}

pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// HTML character references as askama writes them: named ones and decimal or hexadecimal numbers.
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
                .or_else(|| entity.strip_prefix("#X"))
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

/// Runs the code flow for the demo SPA client as a browser would, and redeems the code: the token response.
pub async fn spa_tokens(base: &str, username: &str, scope: &str) -> serde_json::Value {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "a-code-verifier-that-is-long-enough-for-rfc-7636-section-4-1";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let mut authorize = Url::parse(&format!("{base}/connect/authorize")).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", "angularclient")
        .append_pair("redirect_uri", "http://localhost:4200/callback")
        .append_pair("response_type", "code")
        .append_pair("scope", scope)
        .append_pair("state", "s")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let browser = Browser::new(base);
    let page = browser.sign_in(authorize.as_str(), username, "Demo-Passw0rd!").await;
    let callback = if page.body.contains("consent-allow") { browser.consent(&page, "allow").await } else { page };
    let code = query_param(&callback.redirect_url(), "code").expect("a code");
    let response = browser
        .http
        .post(format!("{base}/connect/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "angularclient"),
            ("code", &code),
            ("redirect_uri", "http://localhost:4200/callback"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}
