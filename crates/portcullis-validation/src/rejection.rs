//! Why a request was refused, and the response that says so (RFC 6750 §3).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// A refused request. Descriptions are public: they go to the caller, who is usually a developer staring at a
/// 401, so each names the check that failed and what was expected and found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No bearer token at all. RFC 6750 §3.1: "If the request lacks any authentication information (e.g., the
    /// client was unaware that authentication is necessary or attempted using an unsupported authentication
    /// method), the resource server SHOULD NOT include an error code or other error information." The text
    /// only goes in the body, as a hint.
    #[error("no access token: {0}")]
    MissingToken(String),
    /// 400 `invalid_request`: a malformed request, e.g. two `Authorization` headers.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// 401 `invalid_token`: "expired, revoked, malformed, or invalid for other reasons".
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// 403 `insufficient_scope`: a valid token without the privileges the route needs (a scope or a role).
    /// `scope` is the challenge's `scope` attribute: the scopes the route requires, when a scope was missing.
    #[error("insufficient scope: {description}")]
    InsufficientScope { description: String, scope: Option<String> },
    /// 503: the provider could not be asked (down, timing out, answering 5xx). Not the caller's fault, and the
    /// token may well be good, so never a 401.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
    /// 500: this API is set up wrongly (e.g. the provider refuses its client credentials). The text is for the
    /// log only; the caller gets a generic description.
    #[error("the resource server is misconfigured: {0}")]
    Misconfigured(String),
}

/// What a caller sees instead of a [`Rejection::Misconfigured`] detail, which may name internal settings.
const MISCONFIGURED: &str = "this API cannot validate access tokens because of its own configuration; its log says why";

/// Seconds a client should wait before retrying after a 503: long enough for a provider restart to be worth
/// waiting for, short enough that a user does not give up.
const RETRY_AFTER_SECONDS: &str = "5";

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken(_) | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 §3.1 error code (or, for 503/500, the RFC 6749 one), if the response carries one.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken(_) => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            Self::Unavailable(_) => Some("temporarily_unavailable"),
            Self::Misconfigured(_) => Some("server_error"),
        }
    }

    /// The description the caller gets.
    pub fn description(&self) -> &str {
        match self {
            Self::MissingToken(text) | Self::InvalidRequest(text) | Self::InvalidToken(text) => text,
            Self::Unavailable(text) => text,
            Self::InsufficientScope { description, .. } => description,
            Self::Misconfigured(_) => MISCONFIGURED,
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3), for the statuses that carry one.
    pub fn challenge(&self) -> Option<String> {
        let code = match self {
            Self::MissingToken(_) => return Some("Bearer".to_owned()),
            Self::InvalidRequest(_) | Self::InvalidToken(_) | Self::InsufficientScope { .. } => self.error_code()?,
            Self::Unavailable(_) | Self::Misconfigured(_) => return None,
        };
        let mut challenge = format!("Bearer error=\"{code}\", error_description=\"{}\"", quotable(self.description()));
        if let Self::InsufficientScope { scope: Some(scope), .. } = self {
            challenge.push_str(&format!(", scope=\"{}\"", quotable(scope)));
        }
        Some(challenge)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        if let Some(code) = self.error_code() {
            body.insert("error".to_owned(), Value::from(code));
        }
        body.insert("error_description".to_owned(), Value::from(self.description()));
        let mut response = (self.status(), Json(Value::Object(body))).into_response();
        let headers = response.headers_mut();
        if let Some(value) = self.challenge().and_then(|challenge| HeaderValue::from_str(&challenge).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if matches!(self, Self::Unavailable(_)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        // Answers about a token must not be reused for another request (it may carry another token).
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// RFC 6750 §3: `error_description` and `scope` "MUST NOT include characters outside the set %x20-21 /
/// %x23-5B / %x5D-7E", which also keeps the header valid. Quotes become `'`, anything else outside the set `?`.
pub(crate) fn quotable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// Clips a value taken from a token or a remote answer before it goes into a description or a log line.
pub(crate) fn clip(value: &str) -> String {
    const MAX: usize = 100;
    match value.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6750_3_1_no_token_is_a_bare_bearer_challenge() {
        let rejection = Rejection::MissingToken("send one".into());
        assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(rejection.challenge().as_deref(), Some("Bearer"));
    }

    #[test]
    fn rfc6750_3_1_invalid_token_is_401_with_code_and_description() {
        let rejection = Rejection::InvalidToken("the token expired at 2026-11-01T12:00:00Z".into());
        assert_eq!(rejection.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            rejection.challenge().unwrap(),
            "Bearer error=\"invalid_token\", error_description=\"the token expired at 2026-11-01T12:00:00Z\""
        );
    }

    #[test]
    fn rfc6750_3_1_insufficient_scope_is_403_and_names_the_scope() {
        let rejection = Rejection::InsufficientScope { description: "missing".into(), scope: Some("a b".into()) };
        assert_eq!(rejection.status(), StatusCode::FORBIDDEN);
        assert!(rejection.challenge().unwrap().ends_with(", scope=\"a b\""));
    }

    #[test]
    fn rfc6750_3_descriptions_are_restricted_to_the_allowed_characters() {
        assert_eq!(quotable("found \"évil\\x\"\n"), "found '?vil/x'?");
        let rejection = Rejection::InvalidToken("issuer \"é\"\r\nSet-Cookie: x".into());
        assert!(HeaderValue::from_str(&rejection.challenge().unwrap()).is_ok());
    }

    #[test]
    fn unavailable_and_misconfigured_carry_no_bearer_challenge() {
        assert_eq!(Rejection::Unavailable("down".into()).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Rejection::Unavailable("down".into()).challenge().is_none());
        let misconfigured = Rejection::Misconfigured("client secret refused".into());
        assert_eq!(misconfigured.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!misconfigured.description().contains("secret"));
    }
}
