//! The pages' one stylesheet, compiled into the binary so a provider needs no files beside it.

use std::sync::LazyLock;

use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::metadata::STYLESHEET_PATH;

const STYLESHEET: &str = include_str!("../../assets/portcullis.css");

/// The URL the pages link to: the path plus a digest of the content. A new release changes the URL, so the
/// year-long cache below never serves an old stylesheet to new pages.
static HREF: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(STYLESHEET.as_bytes());
    let version: String = digest.iter().take(6).map(|byte| format!("{byte:02x}")).collect();
    format!("{STYLESHEET_PATH}?v={version}")
});

pub(super) fn href() -> &'static str {
    HREF.as_str()
}

/// Serves the stylesheet (and any other static asset) with a long cache lifetime.
pub async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        STYLESHEET,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{body, header};
    use super::*;

    #[tokio::test]
    async fn stylesheet_is_served_as_css_with_a_long_cache() {
        let response = stylesheet().await;
        assert_eq!(response.status(), axum::http::StatusCode::OK);
        assert_eq!(header(&response, "content-type"), "text/css; charset=utf-8");
        assert!(header(&response, "cache-control").contains("max-age=31536000"));
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let css = body(response).await;
        assert!(css.contains(":focus-visible"), "focus must stay visible");
        assert!(!css.contains("url("), "no external or inline resources: the CSP would block them");
        assert!(!css.contains("@import"));
    }

    #[test]
    fn href_is_the_route_plus_a_content_version() {
        let href = href();
        assert!(href.starts_with("/assets/portcullis.css?v="), "{href}");
        assert_eq!(href.len(), STYLESHEET_PATH.len() + "?v=".len() + 12);
    }
}
