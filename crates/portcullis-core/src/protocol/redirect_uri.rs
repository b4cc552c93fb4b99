//! Redirect URIs: what a client may register, and whether a requested one is registered.
//!
//! Matching is by exact string comparison (RFC 9700 §4.1.3): no parsing, no normalisation, no prefix. Every
//! redirect-based account takeover in other providers came from a matcher that was cleverer than that. The one
//! exception is RFC 8252 §7.3: a native app listening on an ephemeral port of a loopback IP literal.
//!
//! The same registration rules apply to post-logout redirect URIs; CORS origins have their own.

use std::fmt;

use url::{Host, Url};

use crate::protocol::quoted;

/// Schemes that run code or read local data when navigated to; never a redirect target (checklist R3).
const FORBIDDEN_SCHEMES: [&str; 7] = ["javascript", "data", "file", "vbscript", "blob", "about", "filesystem"];

/// Names the provider adds to an authorization or logout response. A registered query that already carries one
/// would leave the client with two values and no way to tell which is ours.
const RESPONSE_PARAMETERS: [&str; 6] = ["code", "state", "iss", "error", "error_description", "error_uri"];

/// A redirect URI proven to be registered for the client: the exact string the client sent (or the registered
/// one it defaulted to), which the code is bound to, and its parsed form, which responses are built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    raw: String,
    url: Url,
}

impl RedirectUri {
    /// The exact string: what the token request's `redirect_uri` must equal (RFC 6749 §4.1.3).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The parsed URL to build the response on.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Why a requested redirect URI cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectUriError {
    /// It is not among the client's registered URIs.
    NotRegistered,
    /// It matches a registered URI that no longer passes the registration rules (registered before a rule
    /// existed, or edited in the database); refused rather than trusted.
    RegisteredInvalid(String),
}

impl fmt::Display for RedirectUriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRegistered => f.write_str("the redirect URI is not registered"),
            Self::RegisteredInvalid(reason) => {
                write!(f, "the registered redirect URI is not acceptable: {reason}")
            }
        }
    }
}

impl std::error::Error for RedirectUriError {}

/// Whether `requested` matches the single registered URI `registered`.
pub fn matches(registered: &str, requested: &str) -> bool {
    // RFC 9700 §2.1 (reasons in §4.1.3): "When comparing client redirect URIs against pre-registered URIs,
    // authorization servers MUST utilize exact string matching except for port numbers in localhost redirection
    // URIs of native apps".
    if registered == requested {
        return true;
    }
    // RFC 8252 §7.3: "The authorization server MUST allow any port to be specified at the time of the request
    // for loopback IP redirect URIs, to accommodate clients that obtain an available ephemeral port from the
    // operating system at the time of the request."
    match (split_loopback(registered), split_loopback(requested)) {
        (Some(registered), Some(requested)) => registered == requested,
        _ => false,
    }
}

/// Finds `requested` among a client's registered URIs and re-checks the registered entry it matched.
pub fn find_registered(
    registered: &[String],
    requested: &str,
    allow_insecure_http: bool,
) -> Result<RedirectUri, RedirectUriError> {
    let entry = registered.iter().find(|entry| matches(entry, requested)).ok_or(RedirectUriError::NotRegistered)?;
    trusted(entry, requested, allow_insecure_http)
}

/// The client's one registered URI, used when an authorization request sends none (RFC 6749 §3.1.2.3).
pub fn the_registered(registered: &str, allow_insecure_http: bool) -> Result<RedirectUri, RedirectUriError> {
    trusted(registered, registered, allow_insecure_http)
}

fn trusted(registered: &str, requested: &str, allow_insecure_http: bool) -> Result<RedirectUri, RedirectUriError> {
    validate_registered_redirect_uri(registered, allow_insecure_http).map_err(RedirectUriError::RegisteredInvalid)?;
    // `requested` equals `registered` or differs only by a loopback port, so it parses too; the error path is
    // for completeness, not expected.
    let url = Url::parse(requested).map_err(|err| RedirectUriError::RegisteredInvalid(err.to_string()))?;
    Ok(RedirectUri { raw: requested.to_owned(), url })
}

/// A loopback redirect URI split around its port: (`http://127.0.0.1` or `http://[::1]`, what follows the
/// port). Purely textual, so it normalises nothing: `http://127.0.0.1.evil.com/` and `http://127.0.0.1@evil/`
/// are not loopback URIs because what follows the host is neither a port nor the end of the authority.
fn split_loopback(uri: &str) -> Option<(&'static str, &str)> {
    // RFC 8252 §7.3: "http://127.0.0.1:{port}/{path}" for IPv4, and "http://[::1]:{port}/{path}" for IPv6.
    // `localhost` is left out on purpose: RFC 8252 §8.3 calls it NOT RECOMMENDED, since the name may resolve to
    // a non-loopback interface or be answered by a firewall; a client that registers it gets exact matching.
    const LOOPBACK_PREFIXES: [&str; 2] = ["http://127.0.0.1", "http://[::1]"];
    let prefix = LOOPBACK_PREFIXES.into_iter().find(|prefix| uri.starts_with(prefix))?;
    let mut rest = &uri[prefix.len()..];
    if let Some(after_colon) = rest.strip_prefix(':') {
        let digits = after_colon.bytes().take_while(u8::is_ascii_digit).count();
        let port = &after_colon[..digits];
        // A real port: 1 to 65535, written without leading zeros (`:0080` would be a second spelling).
        let valid = !port.starts_with('0') && port.parse::<u16>().is_ok_and(|port| port != 0);
        if !valid {
            return None;
        }
        rest = &after_colon[digits..];
    }
    if rest.is_empty() || rest.starts_with(['/', '?', '#']) { Some((prefix, rest)) } else { None }
}

/// Checks a redirect URI (or post-logout redirect URI) a client asks to register, and returns it parsed. The
/// caller stores the string as given: it is what later requests are compared with.
///
/// `allow_insecure_http` accepts `http` for any host; it is for development only. Without it, `http` is
/// accepted only for loopback hosts (RFC 8252 §7.3, §8.3), where no network sees the traffic.
pub fn validate_registered_redirect_uri(uri: &str, allow_insecure_http: bool) -> Result<Url, String> {
    // Spaces, control characters and backslashes are silently removed or rewritten by URL parsers (`\` becomes
    // `/` in http URLs, `https://good\@evil` is a classic), so what is stored would not be what a browser goes
    // to. Non-ASCII must be written percent-encoded or in punycode, for the same reason.
    if let Some(bad) = uri.chars().find(|c| !c.is_ascii_graphic() || *c == '\\') {
        return Err(format!(
            "{} contains {}; a redirect URI must be printable ASCII without spaces or backslashes",
            quoted(uri),
            quoted(&bad.to_string())
        ));
    }
    // RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI".
    let url = Url::parse(uri).map_err(|err| format!("{} is not an absolute URI: {err}", quoted(uri)))?;
    let scheme = url.scheme();
    if FORBIDDEN_SCHEMES.contains(&scheme) {
        return Err(format!("{} uses the {scheme}: scheme, which is never allowed for a redirect URI", quoted(uri)));
    }
    // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component." (checklist R7)
    if url.fragment().is_some() {
        return Err(format!("{} has a fragment (#…); a redirect URI must not have one", quoted(uri)));
    }
    // `https://good@evil.example/` goes to evil.example; a reader sees good. (checklist R3)
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{} has user information (…@) before the host; a redirect URI must not have any",
            quoted(uri)
        ));
    }
    if let Some(name) =
        url.query_pairs().map(|(name, _)| name).find(|name| RESPONSE_PARAMETERS.contains(&name.as_ref()))
    {
        return Err(format!(
            "{} has a query parameter {} that the provider's response adds itself",
            quoted(uri),
            quoted(&name)
        ));
    }
    match scheme {
        "http" | "https" => {
            // Lenient spellings (`HTTPS://`, `https:host`, `https:/host`) parse to the same URL but would never
            // match exactly what a client sends; ask for the one canonical prefix.
            let prefix = if scheme == "http" { "http://" } else { "https://" };
            if !uri.starts_with(prefix) {
                return Err(format!("{} must start with {prefix} written in lower case", quoted(uri)));
            }
            if scheme == "http" && !allow_insecure_http && !is_loopback_host(&url) {
                // RFC 9700 §2.6: "Authorization responses MUST NOT be transmitted over unencrypted network
                // connections. [...] authorization servers MUST NOT allow redirect URIs that use the http
                // scheme except for native clients that use Loopback Interface Redirection".
                return Err(format!(
                    "{} uses http for a host that is not loopback (127.0.0.1, [::1], localhost); use https",
                    quoted(uri)
                ));
            }
        }
        _ => {
            // RFC 8252 §7.1: "apps MUST use a URI scheme based on a domain name under their control, expressed
            // in reverse order", e.g. `com.example.app:/oauth2redirect`. A scheme without a dot is not one,
            // and could be claimed by any app (or be `ws`, `ftp`, …).
            if !scheme.contains('.') {
                return Err(format!(
                    "{} uses the scheme {scheme}:, which is neither https, loopback http, nor a private-use \
                     scheme in reverse domain order such as com.example.app:",
                    quoted(uri)
                ));
            }
        }
    }
    Ok(url)
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

/// Checks a CORS origin a client asks to register and returns it. An origin is `scheme://host[:port]` exactly
/// as a browser writes it in the `Origin` header (lower case, no default port, no path, no trailing slash),
/// because the header is compared to it by exact string match ([`origin_allowed`]).
pub fn validate_cors_origin(origin: &str, allow_insecure_http: bool) -> Result<String, String> {
    let url = Url::parse(origin).map_err(|err| format!("{} is not an origin: {err}", quoted(origin)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{} is not an http or https origin", quoted(origin)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{} has user information (…@); an origin is scheme://host[:port]", quoted(origin)));
    }
    if url.scheme() == "http" && !allow_insecure_http && !is_loopback_host(&url) {
        return Err(format!(
            "{} uses http for a host that is not loopback (127.0.0.1, [::1], localhost); use https",
            quoted(origin)
        ));
    }
    let serialized = url.origin().ascii_serialization();
    if serialized != origin {
        return Err(format!(
            "{} is not written as a browser sends it: register {} (scheme://host[:port], lower case, no path, \
             no trailing slash, no default port)",
            quoted(origin),
            quoted(&serialized)
        ));
    }
    Ok(serialized)
}

/// Whether the browser's `Origin` header is one of the client's registered origins: exact string match.
pub fn origin_allowed(registered: &[String], origin: &str) -> bool {
    registered.iter().any(|entry| entry == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTERED: &str = "https://client.example.com/cb";

    fn registered(uris: &[&str]) -> Vec<String> {
        uris.iter().map(|uri| (*uri).to_owned()).collect()
    }

    #[test]
    fn rfc9700_4_1_3_identical_uri_matches() {
        assert!(matches(REGISTERED, REGISTERED));
        let found = find_registered(&registered(&[REGISTERED]), REGISTERED, false).unwrap();
        assert_eq!(found.as_str(), REGISTERED);
        assert_eq!(found.url().host_str(), Some("client.example.com"));
    }

    #[test]
    fn checklist_r1_unregistered_uri_is_not_found() {
        let err = find_registered(&registered(&[REGISTERED]), "https://evil.example/cb", false);
        assert_eq!(err, Err(RedirectUriError::NotRegistered));
    }

    #[test]
    fn checklist_r2_added_query_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com/cb?x=1"));
    }

    #[test]
    fn checklist_r2_changed_host_case_does_not_match() {
        assert!(!matches(REGISTERED, "https://CLIENT.example.com/cb"));
    }

    #[test]
    fn checklist_r2_changed_path_case_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com/CB"));
    }

    #[test]
    fn checklist_r2_trailing_slash_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com/cb/"));
    }

    #[test]
    fn checklist_r2_encoded_slash_does_not_match() {
        assert!(!matches("https://client.example.com/a/cb", "https://client.example.com/a%2Fcb"));
    }

    #[test]
    fn checklist_r2_dot_segment_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com/./cb"));
    }

    #[test]
    fn checklist_r2_path_parameter_traversal_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com/cb/..;/evil"));
    }

    #[test]
    fn checklist_r2_prefix_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com/cb.evil.example"));
        assert!(!matches(REGISTERED, "https://client.example.com/cbx"));
    }

    #[test]
    fn checklist_r2_fragment_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com/cb#x"));
    }

    #[test]
    fn checklist_r3_userinfo_does_not_match() {
        assert!(!matches(REGISTERED, "https://client.example.com@evil.example/cb"));
    }

    #[test]
    fn rfc8252_7_3_loopback_any_port_matches() {
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assert!(matches("http://127.0.0.1:8080/cb", "http://127.0.0.1:51234/cb"));
        assert!(matches("http://127.0.0.1:8080/cb", "http://127.0.0.1/cb"));
        let found = find_registered(&registered(&["http://127.0.0.1/cb"]), "http://127.0.0.1:51234/cb", false).unwrap();
        // The response goes to the port the app listens on.
        assert_eq!(found.as_str(), "http://127.0.0.1:51234/cb");
        assert_eq!(found.url().port(), Some(51234));
    }

    #[test]
    fn rfc8252_7_3_ipv6_loopback_any_port_matches() {
        assert!(matches("http://[::1]/cb", "http://[::1]:60000/cb"));
        assert!(!matches("http://[::1]/cb", "http://127.0.0.1:60000/cb"));
    }

    #[test]
    fn rfc8252_7_3_loopback_path_must_still_match_exactly() {
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb/"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/cb?x=1"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/CB"));
    }

    #[test]
    fn rfc8252_7_3_loopback_lookalike_host_does_not_match() {
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1.evil.com/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1.evil.com:80/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1@evil.com/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:80@evil.com/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.10:80/cb"));
    }

    #[test]
    fn rfc8252_7_3_loopback_port_must_be_a_port() {
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:0/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:65536/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:0080/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:+80/cb"));
    }

    #[test]
    fn rfc8252_7_3_https_loopback_gets_no_port_relaxation() {
        assert!(!matches("https://127.0.0.1/cb", "https://127.0.0.1:5000/cb"));
    }

    #[test]
    fn rfc8252_8_3_localhost_gets_no_port_relaxation() {
        assert!(matches("http://localhost:4200/callback", "http://localhost:4200/callback"));
        assert!(!matches("http://localhost:4200/callback", "http://localhost:4201/callback"));
    }

    #[test]
    fn registered_uri_failing_current_rules_is_refused_even_if_matched() {
        let err = find_registered(&registered(&["javascript:alert(1)"]), "javascript:alert(1)", false);
        assert!(matches!(err, Err(RedirectUriError::RegisteredInvalid(reason)) if reason.contains("javascript")));
    }

    #[test]
    fn registration_accepts_https_loopback_and_private_use() {
        for uri in [
            "https://client.example.com/cb",
            "https://client.example.com/cb?tenant=a",
            "http://localhost:4200/callback",
            "http://localhost:4200",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
            "com.example.app://callback",
        ] {
            assert!(validate_registered_redirect_uri(uri, false).is_ok(), "{uri}");
        }
    }

    #[test]
    fn checklist_r7_registration_with_fragment_is_refused() {
        let err = validate_registered_redirect_uri("https://client.example.com/cb#frag", false).unwrap_err();
        assert!(err.contains("fragment"), "{err}");
        assert!(err.contains("https://client.example.com/cb#frag"), "{err}");
        assert!(validate_registered_redirect_uri("https://client.example.com/cb#", false).is_err());
    }

    #[test]
    fn checklist_r3_registration_with_javascript_scheme_is_refused() {
        let err = validate_registered_redirect_uri("javascript:alert(1)", false).unwrap_err();
        assert!(err.contains("javascript:"), "{err}");
        let err = validate_registered_redirect_uri("JavaScript:alert(1)", false).unwrap_err();
        assert!(err.contains("javascript:"), "{err}");
    }

    #[test]
    fn checklist_r3_registration_with_data_file_vbscript_schemes_is_refused() {
        for uri in ["data:text/html,hi", "file:///etc/passwd", "vbscript:msgbox(1)"] {
            let err = validate_registered_redirect_uri(uri, true).unwrap_err();
            assert!(err.contains("never allowed"), "{uri}: {err}");
        }
    }

    #[test]
    fn checklist_r3_registration_with_userinfo_is_refused() {
        let err = validate_registered_redirect_uri("https://good@evil.example/cb", false).unwrap_err();
        assert!(err.contains("user information"), "{err}");
        assert!(validate_registered_redirect_uri("https://good:pw@evil.example/cb", false).is_err());
    }

    #[test]
    fn checklist_r3_registration_with_backslash_is_refused() {
        let err = validate_registered_redirect_uri("https://good\\@evil.example/cb", false).unwrap_err();
        assert!(err.contains("backslash"), "{err}");
    }

    #[test]
    fn checklist_r3_registration_with_encoded_at_in_host_is_refused() {
        assert!(validate_registered_redirect_uri("https://good%2540evil.example/cb", false).is_err());
        assert!(validate_registered_redirect_uri("https://good%40evil.example/cb", false).is_err());
    }

    #[test]
    fn registration_with_whitespace_or_control_characters_is_refused() {
        for uri in [" https://a.example/cb", "https://a.example/c b", "https://a.exa\tmple/cb"] {
            assert!(validate_registered_redirect_uri(uri, false).is_err(), "{uri:?}");
        }
    }

    #[test]
    fn rfc6749_3_1_2_relative_uri_is_refused() {
        let err = validate_registered_redirect_uri("/callback", false).unwrap_err();
        assert!(err.contains("not an absolute URI"), "{err}");
    }

    #[test]
    fn checklist_r4_http_for_non_loopback_host_is_refused() {
        let err = validate_registered_redirect_uri("http://client.example.com/cb", false).unwrap_err();
        assert!(err.contains("http://client.example.com/cb"), "{err}");
        assert!(err.contains("use https"), "{err}");
        assert!(validate_registered_redirect_uri("http://127.0.0.1.evil.com/cb", false).is_err());
    }

    #[test]
    fn checklist_r4_http_allowed_anywhere_in_insecure_dev_mode() {
        assert!(validate_registered_redirect_uri("http://client.example.com/cb", true).is_ok());
    }

    #[test]
    fn registration_with_non_canonical_scheme_spelling_is_refused() {
        for uri in ["HTTPS://client.example.com/cb", "https:client.example.com/cb", "https:/client.example.com/cb"] {
            let err = validate_registered_redirect_uri(uri, false).unwrap_err();
            assert!(err.contains("must start with https://"), "{uri}: {err}");
        }
    }

    #[test]
    fn rfc8252_7_1_private_use_scheme_without_dot_is_refused() {
        let err = validate_registered_redirect_uri("myapp://callback", false).unwrap_err();
        assert!(err.contains("myapp:"), "{err}");
        assert!(validate_registered_redirect_uri("ws://client.example.com/cb", false).is_err());
    }

    #[test]
    fn registration_with_response_parameter_in_query_is_refused() {
        let err = validate_registered_redirect_uri("https://client.example.com/cb?state=x", false).unwrap_err();
        assert!(err.contains("\"state\""), "{err}");
    }

    #[test]
    fn cors_origin_accepts_browser_form() {
        assert_eq!(validate_cors_origin("http://localhost:4200", false), Ok("http://localhost:4200".to_owned()));
        assert!(validate_cors_origin("https://spa.example.com", false).is_ok());
        assert!(validate_cors_origin("https://spa.example.com:8443", false).is_ok());
    }

    #[test]
    fn cors_origin_with_path_or_trailing_slash_is_refused() {
        let err = validate_cors_origin("https://spa.example.com/", false).unwrap_err();
        assert!(err.contains("register \"https://spa.example.com\""), "{err}");
        assert!(validate_cors_origin("https://spa.example.com/app", false).is_err());
    }

    #[test]
    fn cors_origin_with_upper_case_or_default_port_is_refused() {
        assert!(validate_cors_origin("https://SPA.example.com", false).is_err());
        assert!(validate_cors_origin("https://spa.example.com:443", false).is_err());
    }

    #[test]
    fn cors_origin_other_schemes_userinfo_and_plain_http_are_refused() {
        assert!(validate_cors_origin("null", false).is_err());
        assert!(validate_cors_origin("file:///x", false).is_err());
        assert!(validate_cors_origin("https://a@spa.example.com", false).is_err());
        let err = validate_cors_origin("http://spa.example.com", false).unwrap_err();
        assert!(err.contains("use https"), "{err}");
        assert!(validate_cors_origin("http://spa.example.com", true).is_ok());
    }

    #[test]
    fn cors_origin_match_is_exact() {
        let origins = registered(&["http://localhost:4200"]);
        assert!(origin_allowed(&origins, "http://localhost:4200"));
        assert!(!origin_allowed(&origins, "http://localhost:4201"));
        assert!(!origin_allowed(&origins, "http://localhost:4200/"));
    }
}
