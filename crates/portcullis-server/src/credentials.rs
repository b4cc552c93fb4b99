//! What the endpoints that take client credentials share: a form body, no secret in the URL, the client
//! authenticated (token, device authorization), and an answer no cache keeps (those two, introspection and
//! revocation).

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portcullis_core::OAuthError;
use portcullis_core::model::Client;
use portcullis_core::protocol::params::Params;

use crate::client_auth::{self, Method};
use crate::error::{ApiError, Channel};
use crate::state::AppState;

/// A JSON answer that carries credentials. RFC 6749 §5.1: "Cache-Control: no-store" and "Pragma: no-cache".
pub(crate) fn no_store_json(value: impl serde::Serialize) -> Response {
    let mut response = Json(value).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A client's POST to an endpoint that takes client credentials: a form, no secret in the URL, and the client
/// authenticated. Returns the parameters, the client and how to report its errors.
pub(crate) async fn authenticated_form(
    state: &AppState,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
    what: &str,
) -> Result<(Params, Client, Channel), ApiError> {
    check_content_type(headers, what)?;
    // RFC 6749 §2.3.1: the secret "MUST NOT" travel in the request URI, where logs and proxies keep it.
    if let Some(query) = query
        && url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "client_secret")
    {
        return Err(OAuthError::invalid_request(
            "client_secret was sent in the URL; send it in the Authorization header or the form body",
        )
        .into());
    }
    let params = Params::parse(body)?;
    let (client, method) = client_auth::authenticate(state, headers, &params).await?;
    let channel = if method == Method::Basic { Channel::JsonBasic } else { Channel::Json };
    Ok((params, client, channel))
}

/// POST endpoints of RFC 6749 and its extensions take forms only.
pub(crate) fn check_content_type(headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(())
    } else {
        Err(OAuthError::invalid_request(format!(
            "the {what} must be a form (Content-Type: application/x-www-form-urlencoded), not {content_type:?}"
        ))
        .into())
    }
}
