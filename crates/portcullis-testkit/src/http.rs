//! One HTTP exchange: a client that never follows redirects, the reply read whole, and reading what a page or a
//! redirect carries.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use url::Url;

/// An HTTP client that, like every OAuth client should, never follows redirects, and keeps no cookies: a
/// relying party's back channel.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// One HTTP response, read whole, so a test can assert exactly what the provider sent.
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

/// The query parameter `name` of `url`.
pub fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}

/// The parameter `name` of a response delivered in the fragment.
pub fn fragment_param(url: &Url, name: &str) -> Option<String> {
    let fragment = url.fragment()?;
    url::form_urlencoded::parse(fragment.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
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

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn unescapes_named_decimal_and_hexadecimal_references() {
        assert_eq!(
            unescape("a&amp;b &lt;&gt; &quot;&apos; &#39; &#x2F;&#X2f; &unknown; &"),
            "a&b <> \"' ' // &unknown; &"
        );
    }
}
