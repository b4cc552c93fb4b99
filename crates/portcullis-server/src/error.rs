//! The one place where errors become HTTP responses. Handlers return [`ApiError`]; what status, headers and
//! body each OAuth error gets is decided here and nowhere else (the HTML error page takes its status and
//! `Retry-After` from here too).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::store::StoreError;
use portcullis_core::{ErrorCode, OAuthError};
use serde_json::json;

/// How the endpoint that failed reports errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// RFC 6749 §5.2 JSON error body (token, revocation, introspection, device endpoints).
    Json,
    /// Like [`Channel::Json`], for a client that authenticated with HTTP Basic: `invalid_client` must then
    /// carry `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    JsonBasic,
    /// RFC 6750 §3: errors in the `WWW-Authenticate: Bearer` header (userinfo, resource servers).
    Bearer,
}

/// An error on its way to a client.
#[derive(Debug)]
pub struct ApiError {
    pub error: OAuthError,
    pub channel: Channel,
}

impl ApiError {
    pub fn json(error: OAuthError) -> Self {
        Self { error, channel: Channel::Json }
    }

    pub fn bearer(error: OAuthError) -> Self {
        Self { error, channel: Channel::Bearer }
    }

    pub fn with_channel(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }
}

impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        Self::json(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::json(store_error(error))
    }
}

/// Seconds a client should wait before trying again after a 503 (RFC 9110 §10.2.3). A request that failed
/// has already waited up to about 2 s for the database (rule H3 of docs/security.md); an outage or a
/// failover that outlasts that lasts seconds more, and spreading the retries over this time keeps them from
/// arriving all at once when the database is back. The same value as the resource server's (validation
/// crate).
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Every 503 carries `Retry-After` (RFC 9110 §15.6.4: the server "MAY send a Retry-After header field to
/// suggest an appropriate amount of time for the client to wait before retrying the request"), whether it
/// is a JSON error, the HTML error page or the health check.
pub fn add_retry_after(response: &mut Response) {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
}

/// A storage failure as the client sees it: the details go to the logs only. `Unavailable` (the database
/// down, unreachable, locked, timed out, failing over: anything a retry may cure, as the backends classify
/// it) is 503 `temporarily_unavailable` (RFC 6749 §5.2, §4.1.2.1); anything else is a fault of the provider,
/// 500 `server_error`.
pub fn store_error(error: StoreError) -> OAuthError {
    match error {
        StoreError::Unavailable(detail) => {
            OAuthError::temporarily_unavailable("the provider cannot reach its database; try again shortly")
                .with_detail(detail)
        }
        other => OAuthError::server_error("the provider could not complete the request").with_detail(other.to_string()),
    }
}

/// RFC 6749 §5.2 / RFC 6750 §3.1 status of each error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
        ErrorCode::InsufficientScope | ErrorCode::AccessDenied => StatusCode::FORBIDDEN,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// RFC 6750 §3: `error_description` is a quoted-string of %x20-21 / %x23-5B / %x5D-7E; anything else would
/// break the header, so it is replaced.
fn header_safe(text: &str) -> String {
    text.chars().map(|c| if (' '..='~').contains(&c) && c != '"' && c != '\\' { c } else { '\'' }).collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError { error, channel } = self;
        let status = match (channel, error.code) {
            // RFC 8628 §3.5 makes access_denied a token endpoint error too, and RFC 6749 §5.2 answers those with
            // 400 ("unless specified otherwise"); 403 is for the resource server's insufficient_scope.
            (Channel::Json | Channel::JsonBasic, ErrorCode::AccessDenied) => StatusCode::BAD_REQUEST,
            _ => status_of(error.code),
        };
        if status.is_server_error() {
            tracing::error!(code = %error.code, description = %error.description, detail = ?error.detail, "request failed");
        } else {
            tracing::info!(code = %error.code, description = %error.description, detail = ?error.detail, "request refused");
        }
        let body = Json(json!({ "error": error.code.as_str(), "error_description": error.description }));
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        let challenge = match (channel, error.code) {
            (Channel::JsonBasic, ErrorCode::InvalidClient) => {
                Some("Basic realm=\"portcullis\", charset=\"UTF-8\"".to_string())
            }
            (Channel::Bearer, ErrorCode::InvalidRequest | ErrorCode::InvalidToken | ErrorCode::InsufficientScope) => {
                Some(format!(
                    "Bearer realm=\"portcullis\", error=\"{}\", error_description=\"{}\"",
                    error.code,
                    header_safe(&error.description)
                ))
            }
            _ => None,
        };
        if let Some(value) = challenge.and_then(|value| HeaderValue::from_str(&value).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        add_retry_after(&mut response);
        response
    }
}

/// RFC 6750 §3.1: a request with no token at all gets a bare challenge, without an error code.
pub fn bearer_challenge() -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"portcullis\""));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6749_5_2_invalid_client_with_basic_is_401_with_challenge() {
        let response = ApiError::json(OAuthError::invalid_client("unknown client"))
            .with_channel(Channel::JsonBasic)
            .into_response();
        assert_eq!(response.status(), 401);
        assert!(response.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().starts_with("Basic"));
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }

    #[test]
    fn rfc6750_3_1_invalid_token_carries_error_and_description_in_the_header() {
        let response = ApiError::bearer(OAuthError::invalid_token("the token expired at \"2026\"\n")).into_response();
        assert_eq!(response.status(), 401);
        let challenge = response.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_string();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(challenge.contains("error_description=\"the token expired at '2026''\""), "{challenge}");
    }

    #[test]
    fn rfc8628_3_5_access_denied_at_the_token_endpoint_is_400() {
        for error in [
            OAuthError::access_denied("the user denied the device authorization request"),
            OAuthError::new(ErrorCode::AuthorizationPending, "poll again"),
            OAuthError::new(ErrorCode::SlowDown, "poll slower"),
            OAuthError::new(ErrorCode::ExpiredToken, "start again"),
        ] {
            let response = ApiError::json(error.clone()).into_response();
            assert_eq!(response.status(), 400, "{error}");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
    }

    #[test]
    fn storage_outage_is_503_without_the_detail() {
        let error = store_error(StoreError::Unavailable("db.internal:5432 refused".into()));
        assert_eq!(status_of(error.code), 503);
        assert!(!error.description.contains("db.internal"));
    }

    /// Rule H3: RFC 9110 §15.6.4 503 with `Retry-After` (§10.2.3), on every channel.
    #[test]
    fn h3_rfc9110_10_2_3_storage_outage_carries_retry_after_on_every_channel() {
        for channel in [Channel::Json, Channel::JsonBasic, Channel::Bearer] {
            let error = store_error(StoreError::Unavailable("statement timeout".into()));
            let response = ApiError::json(error).with_channel(channel).into_response();
            assert_eq!(response.status(), 503, "{channel:?}");
            assert_eq!(response.headers()[header::RETRY_AFTER], "5", "{channel:?}");
        }
    }

    /// Rule H3: a storage error no retry cures is a fault of the provider: 500, and no `Retry-After`.
    #[test]
    fn h3_storage_fault_is_500_without_retry_after() {
        let response = ApiError::from(StoreError::Other("no such table: tokens".into())).into_response();
        assert_eq!(response.status(), 500);
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
    }
}
