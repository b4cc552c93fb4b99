//! Finding the access token in a request: RFC 6750 §2.1, the `Authorization: Bearer` header, only.
//!
//! The form-body method (§2.2) needs the body, which an API must not read before the token is checked; the
//! URI query (§2.3) puts the token into every proxy and access log. Neither is accepted.

use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::Rejection;

/// The bearer token of a request's headers.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, Rejection> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Rejection::MissingToken(
            "the request has no access token; send it as \"Authorization: Bearer <token>\" (RFC 6750 §2.1)".into(),
        ));
    };
    // RFC 6750 §3.1 invalid_request: the request "repeats the same parameter" or "uses more than one method for
    // including an access token" (checklist H1). Using either header would be guessing which one the client meant.
    if values.next().is_some() {
        return Err(Rejection::InvalidRequest(
            "the request has more than one Authorization header; send the access token once, in a single \
             \"Authorization: Bearer <token>\" header"
                .into(),
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| Rejection::InvalidRequest("the Authorization header is not visible ASCII".into()))?;
    // RFC 7235 §2.1: the scheme is case-insensitive and separated from the credentials by spaces.
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(Rejection::MissingToken(format!(
            "the Authorization header uses the {:?} scheme; this API accepts only \"Bearer\" access tokens",
            crate::rejection::clip(scheme)
        )));
    }
    let token = credentials.trim_start_matches(' ');
    if token.is_empty() {
        return Err(Rejection::InvalidRequest("the Authorization header has the Bearer scheme but no token".into()));
    }
    if !is_b64token(token) {
        return Err(Rejection::InvalidRequest(
            "the bearer token has characters outside RFC 6750 §2.1's b64token syntax (letters, digits, \
             \"-._~+/\", then \"=\" padding)"
                .into(),
        ));
    }
    Ok(token)
}

/// The bearer token of a request, refusing it also in the URI query (see the module documentation).
pub fn bearer_token_of(parts: &Parts) -> Result<&str, Rejection> {
    let in_query = parts
        .uri
        .query()
        .is_some_and(|query| url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token"));
    match bearer_token(&parts.headers) {
        // RFC 6750 §3.1 invalid_request: the request "uses more than one method for including an access token".
        Ok(_) if in_query => Err(Rejection::InvalidRequest(
            "the access token is both in the Authorization header and in the URI query; send it only in the header"
                .into(),
        )),
        Err(Rejection::MissingToken(_)) if in_query => Err(Rejection::MissingToken(
            "an access token in the URI query is not accepted (it ends up in logs); send it as \"Authorization: \
             Bearer <token>\" (RFC 6750 §2.1)"
                .into(),
        )),
        other => other,
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, Request};

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn rfc6750_2_1_the_token_follows_the_bearer_scheme() {
        assert_eq!(bearer_token(&headers(&["Bearer abc.def-ghi_~+/=="])), Ok("abc.def-ghi_~+/=="));
        assert_eq!(bearer_token(&headers(&["bearer abc"])), Ok("abc"));
        assert_eq!(bearer_token(&headers(&["BEARER   abc"])), Ok("abc"));
    }

    #[test]
    fn rfc6750_3_1_no_header_or_another_scheme_is_no_token() {
        assert!(matches!(bearer_token(&HeaderMap::new()), Err(Rejection::MissingToken(_))));
        let basic = bearer_token(&headers(&["Basic YTpi"])).unwrap_err();
        assert!(matches!(&basic, Rejection::MissingToken(text) if text.contains("\"Basic\"")), "{basic:?}");
    }

    #[test]
    fn rfc6750_3_1_a_malformed_header_is_invalid_request() {
        for value in ["Bearer", "Bearer ", "Bearer a b", "Bearer ===", "Bearer a=b", "Bearer ä"] {
            let mut map = HeaderMap::new();
            map.insert(header::AUTHORIZATION, HeaderValue::from_bytes(value.as_bytes()).unwrap());
            assert!(matches!(bearer_token(&map), Err(Rejection::InvalidRequest(_))), "{value:?}");
        }
    }

    #[test]
    fn rfc6750_3_1_two_authorization_headers_are_invalid_request() {
        for pair in [["Bearer a", "Bearer b"], ["Bearer a", "Bearer a"], ["Basic YTpi", "Bearer a"], ["Bearer a", ""]] {
            let refused = bearer_token(&headers(&pair)).unwrap_err();
            assert!(
                matches!(&refused, Rejection::InvalidRequest(text) if text.contains("more than one Authorization")),
                "{pair:?}: {refused:?}"
            );
            assert_eq!(refused.status(), axum::http::StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn rfc6750_2_3_a_token_in_the_query_is_refused() {
        let (parts, ()) = Request::get("/api?access_token=abc").body(()).unwrap().into_parts();
        assert!(matches!(bearer_token_of(&parts), Err(Rejection::MissingToken(text)) if text.contains("query")));
        let (parts, ()) =
            Request::get("/api?access_token=abc").header("authorization", "Bearer abc").body(()).unwrap().into_parts();
        assert!(matches!(bearer_token_of(&parts), Err(Rejection::InvalidRequest(_))));
        let (parts, ()) = Request::get("/api?x=1").header("authorization", "Bearer abc").body(()).unwrap().into_parts();
        assert_eq!(bearer_token_of(&parts), Ok("abc"));
    }
}
