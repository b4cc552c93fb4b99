//! The Content-Security-Policy of the pages (CSP Level 3).
//!
//! Nothing may load from another origin, no inline script runs unless its hash is listed, forms post to the
//! provider only, and no one may frame a page (security checklist S4).

use axum::http::HeaderValue;
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use url::Url;

/// The policy of every page whose forms post to the provider itself.
pub(super) fn page() -> String {
    policy(None, "'self'")
}

/// The policy of the form post page: its one inline script may run, and its form may post to `form_action`.
pub(super) fn form_post(script: &str, form_action: &str) -> String {
    policy(Some(&script_hash(script)), form_action)
}

fn policy(script_src: Option<&str>, form_action: &str) -> String {
    let script = script_src.map(|source| format!("script-src {source}; ")).unwrap_or_default();
    format!(
        "default-src 'none'; {script}style-src 'self'; img-src 'self' data:; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// CSP3 §2.3.1 `hash-source` of an inline script: the SHA-256 of its exact text between the tags.
pub(super) fn script_hash(script: &str) -> String {
    format!("'sha256-{}'", STANDARD.encode(Sha256::digest(script.as_bytes())))
}

/// The CSP source expression that allows exactly `url`'s origin (`https://client.example:8443`), when it has
/// one that a policy can name: http or https, and a host made only of the characters CSP3 `host-source`
/// allows. Anything else (a `;` would end the directive and start another) is refused, never escaped.
pub(super) fn origin_source(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    let plain_host = host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    let ipv6 = host.starts_with('[') && host[1..].bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b']');
    (plain_host || ipv6).then(|| url.origin().ascii_serialization())
}

/// Lets the form of a rendered page end in a redirect to `target`.
///
/// Chrome and Safari check `form-action` against every redirect that follows a form submission, not only the
/// form's own `action` (w3c/webappsec-csp#8). A sign-in, consent or logout form posts to the provider, which
/// then redirects to the client; with `form-action 'self'` alone those browsers block that last step. Call this
/// with the validated redirect target the submission may end at (the authorization request's `redirect_uri`,
/// or the accepted `post_logout_redirect_uri`).
///
/// http(s) targets add their origin; a native app's private-use scheme (RFC 8252 §7.1, reverse domain name
/// such as `com.example.app:`) adds that scheme. Any other target leaves the policy as it was: the redirect
/// is then blocked, which is visible and safe.
pub fn allow_redirect_to(mut response: Response, target: &Url) -> Response {
    let Some(source) = origin_source(target).or_else(|| private_use_scheme_source(target)) else {
        return response;
    };
    let Some(current) = response.headers().get(CONTENT_SECURITY_POLICY).and_then(|value| value.to_str().ok()) else {
        return response;
    };
    let updated = current
        .split("; ")
        .map(|directive| {
            let mut tokens = directive.split(' ');
            let is_form_action = tokens.next() == Some("form-action");
            if is_form_action && !tokens.any(|token| token == source) {
                format!("{directive} {source}")
            } else {
                directive.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    if let Ok(value) = HeaderValue::from_str(&updated) {
        response.headers_mut().insert(CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// RFC 8252 §7.1: private-use schemes are reverse domain names, so they contain a period; requiring one also
/// keeps out `javascript:`, `data:`, `blob:` and `file:`, which a policy must never allow.
fn private_use_scheme_source(url: &Url) -> Option<String> {
    let scheme = url.scheme();
    (scheme.contains('.') && url.origin().ascii_serialization() == "null").then(|| format!("{scheme}:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(value: &str) -> Url {
        Url::parse(value).unwrap()
    }

    #[test]
    fn the_page_policy_is_exactly_the_required_one() {
        assert_eq!(
            page(),
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'"
        );
    }

    #[test]
    fn csp3_hash_source_is_the_base64_sha256_of_the_script() {
        // Known answer: SHA-256("") in base64.
        assert_eq!(script_hash(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
    }

    #[test]
    fn origin_source_keeps_scheme_host_and_port_only() {
        assert_eq!(origin_source(&url("https://client.example/cb?x=1#f")).as_deref(), Some("https://client.example"));
        assert_eq!(origin_source(&url("http://localhost:4200/callback")).as_deref(), Some("http://localhost:4200"));
        assert_eq!(origin_source(&url("https://client.example:443/")).as_deref(), Some("https://client.example"));
        assert_eq!(origin_source(&url("http://127.0.0.1:51000/")).as_deref(), Some("http://127.0.0.1:51000"));
        assert_eq!(origin_source(&url("http://[::1]:8080/")).as_deref(), Some("http://[::1]:8080"));
        assert_eq!(origin_source(&url("https://BÜCHER.example/")).as_deref(), Some("https://xn--bcher-kva.example"));
    }

    #[test]
    fn origin_source_refuses_what_a_policy_cannot_name() {
        assert_eq!(origin_source(&url("javascript:alert(1)")), None);
        assert_eq!(origin_source(&url("data:text/html,x")), None);
        assert_eq!(origin_source(&url("com.example.app:/cb")), None);
        assert_eq!(origin_source(&url("file:///etc/passwd")), None);
        // The url crate accepts these characters in a domain; in a policy they would start a new directive or
        // source list.
        assert_eq!(origin_source(&url("https://a;script-src*.example/")), None);
        assert_eq!(origin_source(&url("https://a'b,c.example/")), None);
        assert_eq!(origin_source(&url("https://a!b$&()*+=.example/")), None);
    }

    fn with_policy(policy: &str) -> Response {
        let mut response = Response::new(axum::body::Body::empty());
        response.headers_mut().insert(CONTENT_SECURITY_POLICY, HeaderValue::from_str(policy).unwrap());
        response
    }

    fn policy_of(response: &Response) -> &str {
        response.headers().get(CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap()
    }

    #[test]
    fn allow_redirect_to_adds_the_target_origin_to_form_action_only() {
        let response = allow_redirect_to(with_policy(&page()), &url("http://localhost:4200/callback?a=b"));
        assert_eq!(
            policy_of(&response),
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' http://localhost:4200; \
             frame-ancestors 'none'; base-uri 'none'"
        );
    }

    #[test]
    fn allow_redirect_to_is_idempotent() {
        let target = url("https://client.example/cb");
        let once = allow_redirect_to(with_policy(&page()), &target);
        let twice = allow_redirect_to(with_policy(policy_of(&once)), &target);
        assert_eq!(policy_of(&once), policy_of(&twice));
    }

    #[test]
    fn rfc8252_7_1_private_use_scheme_is_allowed_as_a_scheme_source() {
        let response = allow_redirect_to(with_policy(&page()), &url("com.example.app:/oauth2redirect"));
        assert!(policy_of(&response).contains("form-action 'self' com.example.app:;"));
    }

    #[test]
    fn allow_redirect_to_never_allows_dangerous_schemes() {
        for target in ["javascript:alert(1)", "data:text/html,x", "file:///tmp/x", "blob:https://a.example/x"] {
            let response = allow_redirect_to(with_policy(&page()), &url(target));
            assert_eq!(policy_of(&response), page(), "{target}");
        }
    }
}
