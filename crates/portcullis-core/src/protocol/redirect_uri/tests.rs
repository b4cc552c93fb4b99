//! Redirect URI registration and matching: one test per way a URI can be wrong or differ.

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
