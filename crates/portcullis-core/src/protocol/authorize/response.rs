//! The authorization response: how a code or an error travels back to the client's redirect URI.
//!
//! URLs are built with the `url` crate's encoders (`query_pairs_mut`, `form_urlencoded::Serializer`), never by
//! formatting strings, so a `state` such as `a&code=evil` stays one value.

use url::{Url, form_urlencoded};

use crate::error::OAuthError;
use crate::protocol::redirect_uri::RedirectUri;

/// How the response parameters are delivered (OAuth 2.0 Multiple Response Type Encoding Practices §2.1 and
/// OAuth 2.0 Form Post Response Mode §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query; the default for `response_type=code`.
    Query,
    /// In the redirect URI's fragment, which the browser does not send to the client's server.
    Fragment,
    /// In an auto-submitted HTML form POSTed to the redirect URI, out of URLs, logs and `Referer`.
    FormPost,
}

impl ResponseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }
}

/// What the HTTP layer sends to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationResponse {
    /// Redirect the user agent here (303 after a POST, 302 after a GET; never 307, checklist S5).
    Redirect(Url),
    /// Render a page whose form POSTs `fields` to `action` as soon as it loads (Form Post Response Mode §2).
    FormPost { action: Url, fields: Vec<(String, String)> },
}

/// The success response: `code`, `state` when the request had one, and `iss`.
pub fn success_response(
    redirect_uri: &RedirectUri,
    mode: ResponseMode,
    issuer: &str,
    code: &str,
    state: Option<&str>,
) -> AuthorizationResponse {
    // RFC 6749 §4.1.2: "state REQUIRED if the "state" parameter was present in the client authorization
    // request. The exact value received from the client."
    // RFC 9207 §2: "the authorization server MUST provide its issuer identifier in the authorization
    // response" in the `iss` parameter (checklist M1).
    let mut pairs = vec![("code", code)];
    pairs.extend(state.map(|state| ("state", state)));
    pairs.push(("iss", issuer));
    build_response(redirect_uri, mode, &pairs)
}

/// The error response of RFC 6749 §4.1.2.1: `error`, `error_description`, `state`, and `iss` (RFC 9207 §2:
/// "in both successful and error responses"). The error's private detail is never included.
pub fn error_response(
    redirect_uri: &RedirectUri,
    mode: ResponseMode,
    issuer: &str,
    error: &OAuthError,
    state: Option<&str>,
) -> AuthorizationResponse {
    let mut pairs = vec![("error", error.code.as_str())];
    if !error.description.is_empty() {
        pairs.push(("error_description", error.description.as_str()));
    }
    pairs.extend(state.map(|state| ("state", state)));
    pairs.push(("iss", issuer));
    build_response(redirect_uri, mode, &pairs)
}

/// Delivers `pairs` to `redirect_uri` in `mode`.
pub fn build_response(redirect_uri: &RedirectUri, mode: ResponseMode, pairs: &[(&str, &str)]) -> AuthorizationResponse {
    let mut url = redirect_uri.url().clone();
    match mode {
        ResponseMode::Query => {
            // RFC 6749 §3.1.2: the registered query component "MUST be retained when adding additional query
            // parameters"; `query_pairs_mut` appends to it and encodes.
            url.query_pairs_mut().extend_pairs(pairs);
            AuthorizationResponse::Redirect(url)
        }
        ResponseMode::Fragment => {
            let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
            url.set_fragment(Some(&encoded));
            AuthorizationResponse::Redirect(url)
        }
        ResponseMode::FormPost => AuthorizationResponse::FormPost {
            action: url,
            fields: pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::protocol::redirect_uri::find_registered;

    const ISSUER: &str = "http://localhost:44319";

    fn redirect_uri(uri: &str) -> RedirectUri {
        find_registered(&[uri.to_owned()], uri, false).unwrap()
    }

    fn query_of(response: &AuthorizationResponse) -> Vec<(String, String)> {
        match response {
            AuthorizationResponse::Redirect(url) => url.query_pairs().into_owned().collect(),
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn rfc9207_success_redirect_carries_iss() {
        let response = success_response(
            &redirect_uri("http://localhost:4200/callback"),
            ResponseMode::Query,
            ISSUER,
            "the-code",
            Some("xyz"),
        );
        assert_eq!(query_of(&response), pairs(&[("code", "the-code"), ("state", "xyz"), ("iss", ISSUER)]));
    }

    #[test]
    fn rfc9207_error_redirect_carries_iss() {
        let error = OAuthError::new(ErrorCode::AccessDenied, "the user refused")
            .with_detail("private: consent page answer was no");
        let response = error_response(
            &redirect_uri("https://client.example.com/cb"),
            ResponseMode::Query,
            ISSUER,
            &error,
            Some("xyz"),
        );
        assert_eq!(
            query_of(&response),
            pairs(&[
                ("error", "access_denied"),
                ("error_description", "the user refused"),
                ("state", "xyz"),
                ("iss", ISSUER),
            ])
        );
    }

    #[test]
    fn rfc6749_4_1_2_no_state_when_request_had_none() {
        let response =
            success_response(&redirect_uri("https://client.example.com/cb"), ResponseMode::Query, ISSUER, "c", None);
        assert_eq!(query_of(&response), pairs(&[("code", "c"), ("iss", ISSUER)]));
    }

    #[test]
    fn rfc6749_3_1_2_registered_query_is_retained() {
        let response = success_response(
            &redirect_uri("https://client.example.com/cb?tenant=a%20b"),
            ResponseMode::Query,
            ISSUER,
            "c",
            None,
        );
        assert_eq!(query_of(&response), pairs(&[("tenant", "a b"), ("code", "c"), ("iss", ISSUER)]));
    }

    #[test]
    fn rfc6749_4_1_2_state_is_encoded_not_spliced() {
        let state = "a&code=evil#frag =+%";
        let response = success_response(
            &redirect_uri("https://client.example.com/cb"),
            ResponseMode::Query,
            ISSUER,
            "real",
            Some(state),
        );
        assert_eq!(query_of(&response), pairs(&[("code", "real"), ("state", state), ("iss", ISSUER)]));
        let AuthorizationResponse::Redirect(url) = response else {
            panic!("expected a redirect");
        };
        assert_eq!(url.fragment(), None);
    }

    #[test]
    fn multiple_response_types_2_1_fragment_mode_puts_pairs_in_fragment() {
        let response = success_response(
            &redirect_uri("https://client.example.com/cb?keep=1"),
            ResponseMode::Fragment,
            ISSUER,
            "c",
            Some("s t"),
        );
        let AuthorizationResponse::Redirect(url) = response else {
            panic!("expected a redirect");
        };
        assert_eq!(url.query(), Some("keep=1"));
        let fragment: Vec<(String, String)> =
            form_urlencoded::parse(url.fragment().unwrap().as_bytes()).into_owned().collect();
        assert_eq!(fragment, pairs(&[("code", "c"), ("state", "s t"), ("iss", ISSUER)]));
    }

    #[test]
    fn form_post_2_mode_returns_fields_for_the_page() {
        let error = OAuthError::new(ErrorCode::LoginRequired, "no session");
        let response = error_response(
            &redirect_uri("https://client.example.com/cb"),
            ResponseMode::FormPost,
            ISSUER,
            &error,
            Some("s"),
        );
        assert_eq!(
            response,
            AuthorizationResponse::FormPost {
                action: Url::parse("https://client.example.com/cb").unwrap(),
                fields: pairs(&[
                    ("error", "login_required"),
                    ("error_description", "no session"),
                    ("state", "s"),
                    ("iss", ISSUER),
                ]),
            }
        );
    }

    #[test]
    fn error_detail_never_reaches_the_client() {
        let error = OAuthError::invalid_request("public").with_detail("secret detail");
        let response =
            error_response(&redirect_uri("https://client.example.com/cb"), ResponseMode::Query, ISSUER, &error, None);
        let AuthorizationResponse::Redirect(url) = response else {
            panic!("expected a redirect");
        };
        assert!(!url.as_str().contains("secret"), "{url}");
    }

    #[test]
    fn response_mode_parse_round_trips_and_rejects_others() {
        for mode in [ResponseMode::Query, ResponseMode::Fragment, ResponseMode::FormPost] {
            assert_eq!(ResponseMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(ResponseMode::parse("web_message"), None);
        assert_eq!(ResponseMode::parse("QUERY"), None);
    }
}
