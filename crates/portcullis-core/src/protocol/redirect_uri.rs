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
mod tests;
