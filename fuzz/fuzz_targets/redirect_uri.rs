//! Redirect URI registration and matching (`protocol::redirect_uri`). The input is lines: every line but the
//! last is a registered URI, the last one is requested.
//!
//! Besides not panicking:
//! - `matches` is exact string comparison (RFC 9700 §4.1.3), except RFC 8252 §7.3: two `http` URIs on the
//!   loopback IP literals `127.0.0.1` or `[::1]` that are byte-identical once their ports are removed, checked
//!   here by a second, independent reading of the text and by the `url` parser;
//! - a URI `find_registered` returns is the requested string itself, matches a registered entry that passes
//!   the registration rules, and parses to a URL with neither fragment nor user information;
//! - what `validate_registered_redirect_uri` accepts keeps its rules: printable ASCII without `\`, no forbidden
//!   scheme, no fragment, no user information, `http` only for loopback unless insecure http is allowed;
//! - an accepted CORS origin is the browser's own serialisation of itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_core::protocol::redirect_uri::{
    find_registered, matches, the_registered, validate_cors_origin, validate_registered_redirect_uri,
};
use url::{Host, Url};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines: Vec<&str> = text.split('\n').collect();
    let requested = lines.pop().unwrap_or_default();
    let registered: Vec<String> = lines.iter().map(|line| (*line).to_owned()).collect();

    for entry in registered.iter().map(String::as_str).chain([requested]) {
        check_match(entry, requested);
        for allow_insecure_http in [false, true] {
            check_registration(entry, allow_insecure_http);
            if let Ok(origin) = validate_cors_origin(entry, allow_insecure_http) {
                assert_eq!(origin, entry);
                let url = Url::parse(entry).expect("an accepted origin parses");
                assert_eq!(url.origin().ascii_serialization(), entry);
            }
        }
    }
    for allow_insecure_http in [false, true] {
        if let Ok(found) = find_registered(&registered, requested, allow_insecure_http) {
            assert_eq!(found.as_str(), requested);
            let entry = registered.iter().find(|entry| matches(entry, requested)).expect("a registered entry matched");
            assert!(validate_registered_redirect_uri(entry, allow_insecure_http).is_ok());
            assert!(found.url().fragment().is_none() && found.url().username().is_empty());
            assert!(found.url().password().is_none());
        }
        if let Ok(found) = the_registered(requested, allow_insecure_http) {
            assert_eq!(found.as_str(), requested);
            assert!(validate_registered_redirect_uri(requested, allow_insecure_http).is_ok());
        }
    }
});

fn check_match(registered: &str, requested: &str) {
    if !matches(registered, requested) || registered == requested {
        return;
    }
    let (Some(a), Some(b)) = (without_loopback_port(registered), without_loopback_port(requested)) else {
        panic!("{registered:?} matched {requested:?}, which is neither equal nor a loopback port change");
    };
    assert_eq!(a, b, "{registered:?} matched {requested:?}");
    // The parser agrees: both are http on the same loopback IP literal, equal once the port is cleared.
    let parsed = |uri: &str| {
        let mut url = Url::parse(uri).unwrap_or_else(|err| panic!("matched loopback URI {uri:?} parses: {err}"));
        assert_eq!(url.scheme(), "http");
        assert!(
            matches!(url.host(), Some(Host::Ipv4(ip)) if ip.is_loopback())
                || url.host() == Some(Host::Ipv6(std::net::Ipv6Addr::LOCALHOST)),
            "{uri:?}"
        );
        assert!(url.username().is_empty() && url.password().is_none(), "{uri:?}");
        url.set_port(None).expect("http URLs have ports");
        url
    };
    assert_eq!(parsed(registered), parsed(requested));
}

/// `http://127.0.0.1` or `http://[::1]`, then optionally `:` and a port (1 to 65535, no leading zero), then
/// the end or a path, query or fragment: the URI without its port. Written differently from the provider's
/// reading on purpose: it finds the end of the authority first.
fn without_loopback_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (host, port) = if let Some(after) = authority.strip_prefix("[::1]") {
        ("[::1]", after)
    } else {
        ("127.0.0.1", authority.strip_prefix("127.0.0.1")?)
    };
    if let Some(port) = port.strip_prefix(':') {
        let number: u32 = port.parse().ok().filter(|_| port.bytes().all(|b| b.is_ascii_digit()))?;
        if port.starts_with('0') || !(1..=65535).contains(&number) {
            return None;
        }
    } else if !port.is_empty() {
        return None;
    }
    Some(format!("http://{host}{tail}"))
}

fn check_registration(uri: &str, allow_insecure_http: bool) {
    let Ok(url) = validate_registered_redirect_uri(uri, allow_insecure_http) else { return };
    assert!(uri.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'), "{uri:?}");
    let scheme = url.scheme();
    assert!(!["javascript", "data", "file", "vbscript", "blob", "about", "filesystem"].contains(&scheme), "{uri:?}");
    assert!(url.fragment().is_none() && url.username().is_empty() && url.password().is_none(), "{uri:?}");
    match scheme {
        "https" => assert!(uri.starts_with("https://"), "{uri:?}"),
        "http" => {
            assert!(uri.starts_with("http://"), "{uri:?}");
            let loopback = match url.host() {
                Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
                Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
                Some(Host::Domain(name)) => name == "localhost",
                None => false,
            };
            assert!(allow_insecure_http || loopback, "{uri:?}");
        }
        other => assert!(other.contains('.'), "{uri:?}"),
    }
}
