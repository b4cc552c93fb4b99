//! Query strings and form bodies (`Params::parse`), then the authorization request built on them
//! (`validate_authorize_request`, as `/connect/authorize` calls it) and its response.
//!
//! Besides not panicking:
//! - parsed parameters keep the RFC 6749 §3.1 rules and the limits: no empty name or value, bounded sizes, no
//!   U+FFFD standing in for bytes that were not UTF-8; and they survive encoding and parsing again unchanged;
//! - an error is redirected only to a registered redirect URI of the client the request names;
//! - a response carries exactly one `code`, `iss` and (when sent) `state`, the state byte for byte, after the
//!   registered URI's own query, whatever the request smuggled into its values.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use portcullis_core::protocol::authorize::{
    AuthorizationResponse, AuthorizeError, AuthorizePolicy, ResponseMode, ValidAuthorizeRequest,
    validate_authorize_request,
};
use portcullis_core::protocol::params::{ParamLimits, Params};
use portcullis_core::protocol::redirect_uri;
use portcullis_fuzz::{ISSUER, SCOPES, clients};
use url::form_urlencoded;

fuzz_target!(|data: &[u8]| {
    let Ok(params) = Params::parse(data) else { return };
    check_params(&params);

    let clients = clients();
    // As the endpoint does: the client is what the store returns for `client_id`, if anything.
    let client = params.get("client_id").and_then(|id| clients.iter().find(|client| client.client_id == id));
    let known: HashSet<String> = SCOPES.iter().map(|scope| (*scope).to_owned()).collect();
    for policy in [AuthorizePolicy::default(), AuthorizePolicy { allow_insecure_http: true, ..Default::default() }] {
        match validate_authorize_request(&params, client, &known, &policy) {
            Ok(request) => {
                let client = client.expect("a valid request names a known client");
                assert!(
                    client.redirect_uris.iter().any(|uri| redirect_uri::matches(uri, request.redirect_uri.as_str()))
                );
                check_responses(&request);
            }
            Err(AuthorizeError::Redirect { redirect_uri, .. }) => {
                let client = client.expect("an error is redirected only for a known client");
                assert!(client.redirect_uris.iter().any(|uri| redirect_uri::matches(uri, redirect_uri.as_str())));
            }
            Err(AuthorizeError::Page(_)) => {}
        }
    }
});

fn check_params(params: &Params) {
    let limits = ParamLimits::default();
    assert!(params.len() <= limits.max_parameters);
    for (name, value) in params.iter() {
        assert!(!name.is_empty() && !value.is_empty(), "{name:?}={value:?}");
        assert!(name.len() <= limits.max_name_bytes && value.len() <= limits.max_value_bytes);
        assert!(!name.contains('\u{FFFD}') && !value.contains('\u{FFFD}'), "{name:?}={value:?}");
    }
    let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    // Encoding may grow the input past its limit (a raw `/` becomes `%2F`); only the size limit is lifted.
    let roomy = ParamLimits { max_input_bytes: usize::MAX, ..limits };
    assert_eq!(Params::parse_with_limits(encoded.as_bytes(), roomy).as_ref(), Ok(params), "{encoded}");
}

fn check_responses(request: &ValidAuthorizeRequest) {
    let registered_query: Vec<(String, String)> = request.redirect_uri.url().query_pairs().into_owned().collect();
    for mode in [ResponseMode::Query, ResponseMode::Fragment, ResponseMode::FormPost] {
        let mut request = request.clone();
        request.response_mode = mode;
        let response = request.success_response(ISSUER, "the-code");
        let (url, pairs): (_, Vec<(String, String)>) = match &response {
            AuthorizationResponse::Redirect(url) => match mode {
                ResponseMode::Fragment => {
                    let fragment = url.fragment().unwrap_or_default();
                    (url, form_urlencoded::parse(fragment.as_bytes()).into_owned().collect())
                }
                _ => {
                    let all: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                    assert_eq!(all[..registered_query.len()], registered_query[..], "the registered query is kept");
                    (url, all[registered_query.len()..].to_vec())
                }
            },
            AuthorizationResponse::FormPost { action, fields } => (action, fields.clone()),
        };
        let mut expected = vec![("code".to_owned(), "the-code".to_owned())];
        expected.extend(request.state.clone().map(|state| ("state".to_owned(), state)));
        expected.push(("iss".to_owned(), ISSUER.to_owned()));
        assert_eq!(pairs, expected, "{url}");
        // The response goes where the request was proven to point: same scheme, host, port and path.
        let target = request.redirect_uri.url();
        assert_eq!(
            (url.scheme(), url.host_str(), url.port(), url.path()),
            (target.scheme(), target.host_str(), target.port(), target.path())
        );
    }
}
