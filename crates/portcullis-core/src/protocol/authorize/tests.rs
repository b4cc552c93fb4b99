//! One test per way an authorization request can be wrong, plus the ways it may differ and still succeed.
#![expect(clippy::result_large_err, reason = "helpers return what validate_authorize_request returns")]

use std::collections::HashSet;

use time::Duration;
use time::macros::datetime;

use super::*;
use crate::model::{ClientType, ConsentType, Permissions};

const ISSUER: &str = "http://localhost:44319";
const SPA_CALLBACK: &str = "http://localhost:4200/callback";
// RFC 7636 Appendix B.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const ALL_SCOPES: [&str; 7] = ["openid", "profile", "email", "phone", "roles", "offline_access", "dataEventRecords"];

/// The demo's `angularclient`: public, PKCE, one redirect URI, code + refresh grants, every scope.
fn angular_client() -> Client {
    Client {
        id: "1".into(),
        client_id: "angularclient".into(),
        secret_digest: None,
        client_type: ClientType::Public,
        consent_type: ConsentType::Explicit,
        display_name: "Angular SPA".into(),
        redirect_uris: vec![SPA_CALLBACK.into()],
        post_logout_redirect_uris: vec!["http://localhost:4200".into()],
        cors_origins: vec!["http://localhost:4200".into()],
        permissions: Permissions {
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            introspection: false,
            revocation: false,
        },
        pkce_exempt: false,
        access_token_format: None,
        created_at: datetime!(2026-01-01 0:00 UTC),
    }
}

fn confidential_client() -> Client {
    Client {
        client_id: "webapp".into(),
        secret_digest: Some("digest".into()),
        client_type: ClientType::Confidential,
        redirect_uris: vec!["https://webapp.example.com/signin-oidc".into()],
        ..angular_client()
    }
}

fn with_redirect_uris(mut client: Client, uris: &[&str]) -> Client {
    client.redirect_uris = uris.iter().map(|uri| (*uri).to_owned()).collect();
    client
}

fn known_scopes() -> HashSet<String> {
    ALL_SCOPES.iter().map(|s| (*s).to_owned()).collect()
}

/// A valid code-flow request from `angularclient`, as pairs to edit.
fn good_request() -> Vec<(String, String)> {
    [
        ("client_id", "angularclient"),
        ("response_type", "code"),
        ("redirect_uri", SPA_CALLBACK),
        ("scope", "openid profile dataEventRecords"),
        ("state", "af0ifjsldkj"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect()
}

/// `request` with `name` set to `value` (added if absent).
fn with(mut request: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    match request.iter_mut().find(|(n, _)| n == name) {
        Some(pair) => pair.1 = value.to_owned(),
        None => request.push((name.to_owned(), value.to_owned())),
    }
    request
}

fn without(mut request: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    request.retain(|(n, _)| n != name);
    request
}

fn validate_for(
    request: Vec<(String, String)>,
    client: Option<&Client>,
    policy: &AuthorizePolicy,
) -> Result<ValidAuthorizeRequest, AuthorizeError> {
    let params = Params::from_pairs(request).unwrap();
    validate_authorize_request(&params, client, &known_scopes(), policy)
}

fn validate(request: Vec<(String, String)>) -> Result<ValidAuthorizeRequest, AuthorizeError> {
    validate_for(request, Some(&angular_client()), &AuthorizePolicy::default())
}

fn page_error(result: Result<ValidAuthorizeRequest, AuthorizeError>) -> OAuthError {
    match result {
        Err(AuthorizeError::Page(error)) => error,
        other => panic!("expected an error page, got {other:?}"),
    }
}

struct Redirected {
    redirect_uri: RedirectUri,
    response_mode: ResponseMode,
    state: Option<String>,
    error: OAuthError,
}

fn redirected(result: Result<ValidAuthorizeRequest, AuthorizeError>) -> Redirected {
    match result {
        Err(AuthorizeError::Redirect { redirect_uri, response_mode, state, error }) => {
            Redirected { redirect_uri, response_mode, state, error }
        }
        other => panic!("expected a redirected error, got {other:?}"),
    }
}

fn assert_mentions(error: &OAuthError, needle: &str) {
    assert!(error.description.contains(needle), "description {:?} should mention {needle:?}", error.description);
}

// --- What succeeds ---------------------------------------------------------------------------------------

#[test]
fn oidc_core_3_1_2_1_valid_code_request_succeeds() {
    let valid = validate(good_request()).unwrap();
    assert_eq!(valid.client_id, "angularclient");
    assert_eq!(valid.redirect_uri.as_str(), SPA_CALLBACK);
    assert!(valid.redirect_uri_in_request);
    assert_eq!(valid.response_mode, ResponseMode::Query);
    assert_eq!(valid.scopes.to_string(), "dataEventRecords openid profile");
    assert_eq!(valid.state.as_deref(), Some("af0ifjsldkj"));
    assert_eq!(valid.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(valid.code_challenge.as_ref().map(CodeChallenge::as_str), Some(CHALLENGE));
    assert!(valid.prompt.is_empty());
    assert_eq!(valid.max_age, None);
}

#[test]
fn oidc_core_3_1_2_1_optional_parameters_are_carried() {
    let request = [
        ("prompt", "login consent"),
        ("max_age", "3600"),
        ("display", "popup"),
        ("login_hint", "alice@example.com"),
        ("id_token_hint", "eyJ.hint.sig"),
        ("ui_locales", "fr-CA fr en"),
        ("acr_values", "urn:mace:incommon:iap:silver"),
    ]
    .into_iter()
    .fold(good_request(), |request, (n, v)| with(request, n, v));
    let valid = validate(request).unwrap();
    assert_eq!(valid.prompt, BTreeSet::from([Prompt::Login, Prompt::Consent]));
    assert_eq!(valid.max_age, Some(3600));
    assert_eq!(valid.display, Some(Display::Popup));
    assert_eq!(valid.login_hint.as_deref(), Some("alice@example.com"));
    assert_eq!(valid.id_token_hint.as_deref(), Some("eyJ.hint.sig"));
    assert_eq!(valid.ui_locales, ["fr-CA", "fr", "en"]);
    assert_eq!(valid.acr_values, ["urn:mace:incommon:iap:silver"]);
}

#[test]
fn checklist_o2_unknown_parameters_are_ignored() {
    let request = with(good_request(), "x-tracking-id", "123");
    let request = with(request, "claims_locales", "fr");
    assert!(validate(request).is_ok());
}

#[test]
fn checklist_o2_reordered_scopes_succeed() {
    let valid = validate(with(good_request(), "scope", "dataEventRecords profile openid")).unwrap();
    assert_eq!(valid.scopes.to_string(), "dataEventRecords openid profile");
}

#[test]
fn checklist_o2_missing_nonce_succeeds_for_code_flow() {
    let valid = validate(without(good_request(), "nonce")).unwrap();
    assert_eq!(valid.nonce, None);
}

#[test]
fn checklist_o2_request_from_a_form_body_succeeds() {
    let body = form_urlencoded_body(&good_request());
    let params = Params::parse(body.as_bytes()).unwrap();
    let result =
        validate_authorize_request(&params, Some(&angular_client()), &known_scopes(), &AuthorizePolicy::default());
    assert!(result.is_ok(), "{result:?}");
}

fn form_urlencoded_body(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[test]
fn oidc_core_3_1_2_1_unknown_display_is_ignored() {
    let valid = validate(with(good_request(), "display", "hologram")).unwrap();
    assert_eq!(valid.display, None);
}

#[test]
fn rfc6749_3_1_1_response_type_with_repeated_code_succeeds() {
    assert!(validate(with(good_request(), "response_type", "code ")).is_ok());
}

#[test]
fn multiple_response_types_2_1_fragment_and_form_post_modes_succeed() {
    let valid = validate(with(good_request(), "response_mode", "fragment")).unwrap();
    assert_eq!(valid.response_mode, ResponseMode::Fragment);
    let valid = validate(with(good_request(), "response_mode", "form_post")).unwrap();
    assert_eq!(valid.response_mode, ResponseMode::FormPost);
}

// --- Client (checklist R5): error page ---------------------------------------------------------------------

#[test]
fn checklist_r5_missing_client_id_is_error_page() {
    let error = page_error(validate_for(without(good_request(), "client_id"), None, &AuthorizePolicy::default()));
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_mentions(&error, "\"client_id\" is required");
}

#[test]
fn checklist_r5_empty_client_id_is_error_page() {
    let error = page_error(validate_for(with(good_request(), "client_id", ""), None, &AuthorizePolicy::default()));
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_mentions(&error, "\"client_id\" is required");
}

#[test]
fn checklist_r5_unknown_client_id_is_error_page_naming_it() {
    let error =
        page_error(validate_for(with(good_request(), "client_id", "nosuchclient"), None, &AuthorizePolicy::default()));
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_mentions(&error, "unknown client_id \"nosuchclient\"");
}

#[test]
fn checklist_r5_client_looked_up_for_another_id_is_not_trusted() {
    let error = page_error(validate(with(good_request(), "client_id", "other")));
    assert_mentions(&error, "\"other\"");
}

// --- Redirect URI (checklist R1, R2, R4, R6): error page ---------------------------------------------------

#[test]
fn checklist_r1_unregistered_redirect_uri_is_error_page_naming_uri_and_client() {
    let error = page_error(validate(with(good_request(), "redirect_uri", "https://evil.example/cb")));
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_mentions(&error, "\"https://evil.example/cb\"");
    assert_mentions(&error, "\"angularclient\"");
}

#[test]
fn checklist_r2_redirect_uri_with_trailing_slash_is_error_page() {
    let error = page_error(validate(with(good_request(), "redirect_uri", "http://localhost:4200/callback/")));
    assert_mentions(&error, "\"http://localhost:4200/callback/\"");
}

#[test]
fn checklist_r2_redirect_uri_with_added_query_is_error_page() {
    let error = page_error(validate(with(
        good_request(),
        "redirect_uri",
        "http://localhost:4200/callback?next=https://evil.example",
    )));
    assert_eq!(error.code, ErrorCode::InvalidRequest);
}

#[test]
fn checklist_r1_error_page_wins_over_every_later_error() {
    // Everything else is wrong too, but nothing may be redirected to an untrusted URI.
    let request = with(good_request(), "redirect_uri", "https://evil.example/cb");
    let request = with(request, "response_type", "token");
    let request = with(request, "request", "eyJ.request.object");
    let request = without(request, "code_challenge");
    let error = page_error(validate(request));
    assert_mentions(&error, "\"https://evil.example/cb\"");
}

#[test]
fn checklist_r6_several_registered_and_none_sent_is_error_page() {
    let client = with_redirect_uris(angular_client(), &[SPA_CALLBACK, "http://localhost:4200/silent-renew.html"]);
    let error =
        page_error(validate_for(without(good_request(), "redirect_uri"), Some(&client), &AuthorizePolicy::default()));
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_mentions(&error, "\"redirect_uri\" is required");
    assert_mentions(&error, "\"angularclient\"");
}

#[test]
fn rfc6749_3_1_2_3_single_registered_uri_is_used_when_none_sent() {
    let valid = validate(without(good_request(), "redirect_uri")).unwrap();
    assert_eq!(valid.redirect_uri.as_str(), SPA_CALLBACK);
    assert!(!valid.redirect_uri_in_request);
}

#[test]
fn rfc6749_3_1_2_3_no_registered_uri_is_error_page() {
    let client = with_redirect_uris(angular_client(), &[]);
    let error =
        page_error(validate_for(without(good_request(), "redirect_uri"), Some(&client), &AuthorizePolicy::default()));
    assert_mentions(&error, "has no registered redirect URI");
}

#[test]
fn rfc8252_7_3_loopback_any_port_is_accepted_at_authorize() {
    let client = with_redirect_uris(angular_client(), &["http://127.0.0.1/callback"]);
    let valid = validate_for(
        with(good_request(), "redirect_uri", "http://127.0.0.1:49152/callback"),
        Some(&client),
        &AuthorizePolicy::default(),
    )
    .unwrap();
    assert_eq!(valid.redirect_uri.as_str(), "http://127.0.0.1:49152/callback");
}

#[test]
fn checklist_r4_registered_plain_http_uri_is_refused_outside_dev_mode() {
    // Registered before the rule existed (or edited in the database): not trusted now.
    let client = with_redirect_uris(angular_client(), &["http://webapp.example.com/cb"]);
    let request = with(good_request(), "redirect_uri", "http://webapp.example.com/cb");
    let error = page_error(validate_for(request.clone(), Some(&client), &AuthorizePolicy::default()));
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_mentions(&error, "\"angularclient\"");
    assert!(error.detail.as_deref().unwrap_or("").contains("use https"), "{error:?}");
    let dev = AuthorizePolicy { allow_insecure_http: true, ..AuthorizePolicy::default() };
    assert!(validate_for(request, Some(&client), &dev).is_ok());
}

// --- Everything else: redirected with state ----------------------------------------------------------------

#[test]
fn oidc_core_6_1_request_object_is_request_not_supported() {
    let failure = redirected(validate(with(good_request(), "request", "eyJ.request.object")));
    assert_eq!(failure.error.code, ErrorCode::RequestNotSupported);
    assert_mentions(&failure.error, "request parameter");
    assert_eq!(failure.redirect_uri.as_str(), SPA_CALLBACK);
    assert_eq!(failure.state.as_deref(), Some("af0ifjsldkj"));
}

#[test]
fn oidc_core_6_2_request_uri_is_request_uri_not_supported() {
    let failure = redirected(validate(with(good_request(), "request_uri", "https://client.example.com/request.jwt")));
    assert_eq!(failure.error.code, ErrorCode::RequestUriNotSupported);
    assert_mentions(&failure.error, "request_uri");
}

#[test]
fn rfc6749_4_1_1_missing_response_type_is_invalid_request() {
    let failure = redirected(validate(without(good_request(), "response_type")));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "\"response_type\" is required");
    assert_eq!(failure.response_mode, ResponseMode::Query);
}

#[test]
fn rfc6749_4_1_2_1_token_response_type_is_unsupported_response_type() {
    let failure = redirected(validate(with(good_request(), "response_type", "token")));
    assert_eq!(failure.error.code, ErrorCode::UnsupportedResponseType);
    assert_mentions(&failure.error, "\"token\"");
    assert_mentions(&failure.error, "only authorization codes");
    assert_mentions(&failure.error, "token endpoint");
    // A client that asked for tokens reads the answer from the fragment.
    assert_eq!(failure.response_mode, ResponseMode::Fragment);
}

#[test]
fn oidc_core_3_2_2_1_id_token_response_type_is_unsupported_response_type() {
    let failure = redirected(validate(with(good_request(), "response_type", "id_token")));
    assert_eq!(failure.error.code, ErrorCode::UnsupportedResponseType);
    assert_mentions(&failure.error, "\"id_token\"");
    assert_mentions(&failure.error, "only authorization codes");
}

#[test]
fn oidc_core_3_3_2_1_hybrid_response_type_is_unsupported_response_type() {
    let failure = redirected(validate(with(good_request(), "response_type", "code id_token")));
    assert_eq!(failure.error.code, ErrorCode::UnsupportedResponseType);
    assert_mentions(&failure.error, "\"code id_token\"");
}

#[test]
fn checklist_confidential_client_asking_for_tokens_is_told_to_use_the_code_flow() {
    let client = confidential_client();
    let request = with(good_request(), "client_id", "webapp");
    let request = with(request, "redirect_uri", "https://webapp.example.com/signin-oidc");
    let request = with(request, "response_type", "id_token token");
    let failure = redirected(validate_for(request, Some(&client), &AuthorizePolicy::default()));
    assert_eq!(failure.error.code, ErrorCode::UnsupportedResponseType);
    assert_mentions(&failure.error, "confidential client never receives tokens");
    assert_mentions(&failure.error, "authorization code flow");
}

#[test]
fn rfc6749_4_1_2_1_unknown_response_type_is_unsupported_response_type_naming_it() {
    let failure = redirected(validate(with(good_request(), "response_type", "device")));
    assert_eq!(failure.error.code, ErrorCode::UnsupportedResponseType);
    assert_mentions(&failure.error, "\"device\"");
    assert_mentions(&failure.error, "only response_type=code");
}

#[test]
fn checklist_r10_unsupported_response_mode_is_invalid_request() {
    let failure = redirected(validate(with(good_request(), "response_mode", "web_message")));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "\"web_message\"");
    // Delivered with the default mode of response_type=code.
    assert_eq!(failure.response_mode, ResponseMode::Query);
}

#[test]
fn redirected_errors_use_the_requested_response_mode() {
    let request = with(good_request(), "response_mode", "form_post");
    let failure = redirected(validate(with(request, "scope", "profile")));
    assert_eq!(failure.response_mode, ResponseMode::FormPost);
}

#[test]
fn rfc6749_4_1_2_1_client_without_code_grant_is_unauthorized_client() {
    let mut client = angular_client();
    client.permissions.grant_types = vec![GrantType::ClientCredentials];
    let failure = redirected(validate_for(good_request(), Some(&client), &AuthorizePolicy::default()));
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    assert_mentions(&failure.error, "\"angularclient\"");
}

#[test]
fn oidc_core_3_1_2_1_scope_without_openid_is_invalid_scope() {
    let failure = redirected(validate(with(good_request(), "scope", "profile email")));
    assert_eq!(failure.error.code, ErrorCode::InvalidScope);
    assert_mentions(&failure.error, "\"profile email\"");
    assert_mentions(&failure.error, "OpenID Connect requests only");
}

#[test]
fn rfc6749_3_3_missing_scope_is_invalid_scope() {
    let failure = redirected(validate(without(good_request(), "scope")));
    assert_eq!(failure.error.code, ErrorCode::InvalidScope);
    assert_mentions(&failure.error, "\"scope\" is required");
}

#[test]
fn rfc6749_3_3_malformed_scope_is_invalid_scope() {
    let failure = redirected(validate(with(good_request(), "scope", "openid pro\"file")));
    assert_eq!(failure.error.code, ErrorCode::InvalidScope);
    assert_mentions(&failure.error, "U+0022");
}

#[test]
fn rfc6749_4_1_2_1_unknown_scope_is_invalid_scope_naming_it() {
    let failure = redirected(validate(with(good_request(), "scope", "openid admin")));
    assert_eq!(failure.error.code, ErrorCode::InvalidScope);
    assert_mentions(&failure.error, "unknown scope: \"admin\"");
}

#[test]
fn rfc6749_4_1_2_1_unpermitted_scope_is_invalid_scope_naming_it_and_client() {
    let mut client = angular_client();
    client.permissions.scopes = vec!["openid".into(), "profile".into()];
    let failure = redirected(validate_for(good_request(), Some(&client), &AuthorizePolicy::default()));
    assert_eq!(failure.error.code, ErrorCode::InvalidScope);
    assert_mentions(&failure.error, "\"dataEventRecords\"");
    assert_mentions(&failure.error, "\"angularclient\"");
}

#[test]
fn checklist_p1_public_client_without_code_challenge_is_invalid_request() {
    let request = without(without(good_request(), "code_challenge"), "code_challenge_method");
    let failure = redirected(validate(request));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "code_challenge is required");
    assert_mentions(&failure.error, "S256");
    assert_eq!(failure.state.as_deref(), Some("af0ifjsldkj"));
}

#[test]
fn checklist_p1_public_client_cannot_be_exempted_from_pkce() {
    let mut client = angular_client();
    client.pkce_exempt = true;
    let policy = AuthorizePolicy { require_pkce_for_confidential_clients: false, ..AuthorizePolicy::default() };
    let request = without(without(good_request(), "code_challenge"), "code_challenge_method");
    let failure = redirected(validate_for(request, Some(&client), &policy));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "code_challenge is required");
}

fn confidential_request_without_pkce() -> Vec<(String, String)> {
    let request = with(good_request(), "client_id", "webapp");
    let request = with(request, "redirect_uri", "https://webapp.example.com/signin-oidc");
    without(without(request, "code_challenge"), "code_challenge_method")
}

#[test]
fn checklist_pkce_confidential_client_needs_pkce_by_default() {
    let failure = redirected(validate_for(
        confidential_request_without_pkce(),
        Some(&confidential_client()),
        &AuthorizePolicy::default(),
    ));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "\"webapp\"");
}

#[test]
fn checklist_pkce_confidential_client_exempted_by_configuration_succeeds() {
    let mut client = confidential_client();
    client.pkce_exempt = true;
    let valid = validate_for(confidential_request_without_pkce(), Some(&client), &AuthorizePolicy::default()).unwrap();
    assert_eq!(valid.code_challenge, None);
    let policy = AuthorizePolicy { require_pkce_for_confidential_clients: false, ..AuthorizePolicy::default() };
    assert!(validate_for(confidential_request_without_pkce(), Some(&confidential_client()), &policy).is_ok());
}

#[test]
fn checklist_p2_plain_method_is_invalid_request() {
    let failure = redirected(validate(with(good_request(), "code_challenge_method", "plain")));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "only S256");
}

#[test]
fn rfc7636_4_2_malformed_challenge_is_invalid_request() {
    let failure = redirected(validate(with(good_request(), "code_challenge", "short")));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "it has 5");
}

#[test]
fn oidc_core_3_1_2_1_prompt_none_with_another_value_is_invalid_request() {
    let failure = redirected(validate(with(good_request(), "prompt", "none login")));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "\"none login\"");
}

#[test]
fn oidc_core_3_1_2_1_unknown_prompt_value_is_invalid_request_naming_it() {
    let failure = redirected(validate(with(good_request(), "prompt", "logn")));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "\"logn\"");
}

#[test]
fn oidc_core_3_1_2_1_prompt_none_alone_succeeds() {
    let valid = validate(with(good_request(), "prompt", "none")).unwrap();
    assert_eq!(valid.prompt, BTreeSet::from([Prompt::None]));
}

#[test]
fn oidc_core_3_1_2_1_negative_max_age_is_invalid_request() {
    let failure = redirected(validate(with(good_request(), "max_age", "-1")));
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
    assert_mentions(&failure.error, "max_age \"-1\"");
}

#[test]
fn oidc_core_3_1_2_1_non_numeric_max_age_is_invalid_request() {
    for value in ["abc", "1.5", "+5", " 5", "99999999999999999999999"] {
        let failure = redirected(validate(with(good_request(), "max_age", value)));
        assert_eq!(failure.error.code, ErrorCode::InvalidRequest, "{value}");
        assert_mentions(&failure.error, &format!("{value:?}"));
    }
}

// --- After validation ----------------------------------------------------------------------------------

#[test]
fn oidc_core_3_1_2_1_max_age_exceeded_requires_new_login() {
    let valid = validate(with(good_request(), "max_age", "600")).unwrap();
    let now = datetime!(2026-06-01 12:00 UTC);
    assert!(valid.requires_new_login(now - Duration::seconds(601), now));
    assert!(!valid.requires_new_login(now - Duration::seconds(600), now));
    // A session stamped slightly in the future (clock skew) is fresh, not an error.
    assert!(!valid.requires_new_login(now + Duration::seconds(5), now));
}

#[test]
fn oidc_core_3_1_2_1_max_age_zero_and_prompt_login_require_new_login() {
    let now = datetime!(2026-06-01 12:00 UTC);
    let zero = validate(with(good_request(), "max_age", "0")).unwrap();
    assert!(zero.requires_new_login(now, now));
    let login = validate(with(good_request(), "prompt", "login")).unwrap();
    assert!(login.requires_new_login(now, now));
    let neither = validate(good_request()).unwrap();
    assert!(!neither.requires_new_login(now - Duration::days(30), now));
}

#[test]
fn rfc9207_success_response_carries_code_state_and_iss() {
    let valid = validate(good_request()).unwrap();
    let AuthorizationResponse::Redirect(url) = valid.success_response(ISSUER, "the-code") else {
        panic!("expected a redirect");
    };
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [("code", "the-code"), ("state", "af0ifjsldkj"), ("iss", ISSUER)].map(|(n, v)| (n.to_owned(), v.to_owned()))
    );
    assert_eq!(url.path(), "/callback");
}

#[test]
fn rfc9207_error_redirect_carries_iss() {
    let error = validate(with(good_request(), "scope", "profile")).unwrap_err();
    let Some(AuthorizationResponse::Redirect(url)) = error.redirect_response(ISSUER) else {
        panic!("expected a redirect");
    };
    assert!(url.as_str().starts_with("http://localhost:4200/callback?"), "{url}");
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["error", "error_description", "state", "iss"]);
    assert_eq!(pairs[0].1, "invalid_scope");
    assert_eq!(pairs[2].1, "af0ifjsldkj");
    assert_eq!(pairs[3].1, ISSUER);
}

#[test]
fn rfc6749_4_1_2_1_redirected_error_without_state_has_no_state() {
    let error = validate(without(with(good_request(), "scope", "profile"), "state")).unwrap_err();
    let Some(AuthorizationResponse::Redirect(url)) = error.redirect_response(ISSUER) else {
        panic!("expected a redirect");
    };
    assert!(url.query_pairs().all(|(name, _)| name != "state"), "{url}");
}

#[test]
fn checklist_r1_page_error_has_no_redirect_response() {
    let error = validate(with(good_request(), "redirect_uri", "https://evil.example/cb")).unwrap_err();
    assert_eq!(error.redirect_response(ISSUER), None);
    assert_eq!(error.error().code, ErrorCode::InvalidRequest);
}

#[test]
fn oidc_core_3_1_2_6_later_errors_are_redirected_like_the_others() {
    let valid = validate(with(good_request(), "prompt", "none")).unwrap();
    let error = OAuthError::login_required("the user is not signed in");
    let AuthorizationResponse::Redirect(url) = valid.error_response(ISSUER, &error) else {
        panic!("expected a redirect");
    };
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs[0], ("error".to_owned(), "login_required".to_owned()));
    assert!(pairs.contains(&("iss".to_owned(), ISSUER.to_owned())));
}
