//! The provider's own error pages, for the browser flows (authorization, consent, sign-in, logout, device
//! verification) when there is no client to send the error back to.

use axum::http::StatusCode;
use axum::response::Response;
use portcullis_core::OAuthError;

use crate::error::{add_retry_after, status_of};
use crate::pages::{self, ErrorView, Locale};

/// The provider's own error page: for requests whose client or redirect URI cannot be trusted with a redirect.
pub fn error_page(locale: Locale, error: &OAuthError) -> Response {
    tracing::info!(code = %error.code, description = %error.description, detail = ?error.detail, "authorization request refused");
    let status = match status_of(error.code) {
        StatusCode::UNAUTHORIZED => StatusCode::BAD_REQUEST,
        other => other,
    };
    let mut page =
        pages::error(status, &ErrorView { locale, error: error.code.as_str(), description: &error.description });
    add_retry_after(&mut page);
    page
}

/// A form refused as a possible cross-site request forgery: the reason, and nothing the form asked for.
pub fn forbidden(locale: Locale, reason: &str) -> Response {
    tracing::warn!(reason, "form refused as a possible cross-site request forgery");
    pages::error(StatusCode::FORBIDDEN, &ErrorView { locale, error: "access_denied", description: reason })
}
