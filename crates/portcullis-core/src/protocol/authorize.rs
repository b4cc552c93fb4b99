//! The authorization request: OpenID Connect Core §3.1.2.1 on top of RFC 6749 §4.1.1, code flow only.
//!
//! [`validate_authorize_request`] reads it as a list of small checks. The first two decide where an error may
//! go: until the client and its redirect URI are trusted, an error is shown to the user and never redirected
//! (RFC 6749 §4.1.2.1: the server "MUST NOT automatically redirect the user-agent to the invalid redirection
//! URI"); after that, every error goes back to the client's redirect URI with `state` and `iss`.

pub mod response;

use std::collections::{BTreeSet, HashSet};

use time::OffsetDateTime;

pub use response::{AuthorizationResponse, ResponseMode, build_response, error_response, success_response};

use crate::error::{ErrorCode, OAuthError};
use crate::model::{Client, GrantType};
use crate::protocol::params::Params;
use crate::protocol::pkce::CodeChallenge;
use crate::protocol::quoted;
use crate::protocol::redirect_uri::{self, RedirectUri, RedirectUriError};
use crate::protocol::scope::ScopeSet;

/// The provider's choices for authorization requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizePolicy {
    /// Re-checks registered redirect URIs with `http` allowed for any host. Default `false`: RFC 9700 §2.6
    /// forbids authorization responses over unencrypted connections except to loopback; development only.
    pub allow_insecure_http: bool,
    /// Whether confidential clients must use PKCE unless exempted one by one (`Client::pkce_exempt`).
    /// Default `true`: RFC 9700 §2.1.1 recommends PKCE for confidential clients too, since it also stops
    /// authorization code injection. Public clients always need PKCE, whatever this says.
    pub require_pkce_for_confidential_clients: bool,
}

impl Default for AuthorizePolicy {
    fn default() -> Self {
        Self { allow_insecure_http: false, require_pkce_for_confidential_clients: true }
    }
}

/// Values of the `prompt` parameter (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prompt {
    /// No page may be shown; fail with `login_required` / `consent_required` instead.
    None,
    /// Authenticate again even with a session.
    Login,
    /// Ask for consent even if it was given before.
    Consent,
    /// Let the user choose an account.
    SelectAccount,
}

impl Prompt {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Login => "login",
            Self::Consent => "consent",
            Self::SelectAccount => "select_account",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(Self::None),
            "login" => Some(Self::Login),
            "consent" => Some(Self::Consent),
            "select_account" => Some(Self::SelectAccount),
            _ => None,
        }
    }
}

/// Values of the `display` parameter (OIDC Core §3.1.2.1); only a hint for the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    Page,
    Popup,
    Touch,
    Wap,
}

impl Display {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "page" => Some(Self::Page),
            "popup" => Some(Self::Popup),
            "touch" => Some(Self::Touch),
            "wap" => Some(Self::Wap),
            _ => None,
        }
    }
}

/// An authorization request that passed every check. Only this module builds one (`non_exhaustive`), so
/// holding one proves the checks ran.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidAuthorizeRequest {
    pub client_id: String,
    /// Where the response goes; the code is bound to `redirect_uri.as_str()`.
    pub redirect_uri: RedirectUri,
    /// Whether the request named the redirect URI. RFC 6749 §4.1.3: the token request's `redirect_uri` is
    /// "REQUIRED, if the "redirect_uri" parameter was included in the authorization request".
    pub redirect_uri_in_request: bool,
    pub response_mode: ResponseMode,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// `None` only for a confidential client exempted from PKCE.
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: BTreeSet<Prompt>,
    /// Seconds; see [`ValidAuthorizeRequest::requires_new_login`].
    pub max_age: Option<u64>,
    pub display: Option<Display>,
    pub login_hint: Option<String>,
    /// Still to be verified (signature, issuer) by the caller, which holds the keys.
    pub id_token_hint: Option<String>,
    /// In the client's order of preference.
    pub ui_locales: Vec<String>,
    /// In the client's order of preference.
    pub acr_values: Vec<String>,
}

impl ValidAuthorizeRequest {
    /// Whether a session whose user authenticated at `auth_time` is too old for this request, so the user must
    /// log in again. (A login performed for this very request satisfies it; the caller knows when that is.)
    pub fn requires_new_login(&self, auth_time: OffsetDateTime, now: OffsetDateTime) -> bool {
        // OIDC Core §3.1.2.1, prompt=login: "The Authorization Server SHOULD prompt the End-User for
        // reauthentication."
        if self.prompt.contains(&Prompt::Login) {
            return true;
        }
        // OIDC Core §3.1.2.1, max_age: "If the elapsed time is greater than this value, the OP MUST attempt to
        // actively re-authenticate the End-User." and "Note that max_age=0 is equivalent to prompt=login."
        match self.max_age {
            None => false,
            Some(0) => true,
            Some(max_age) => {
                // A session from the future (clock skew between instances) counts as just authenticated.
                let elapsed = u64::try_from((now - auth_time).whole_seconds()).unwrap_or(0);
                elapsed > max_age
            }
        }
    }

    /// The success response carrying `code`.
    pub fn success_response(&self, issuer: &str, code: &str) -> AuthorizationResponse {
        success_response(&self.redirect_uri, self.response_mode, issuer, code, self.state.as_deref())
    }

    /// An error found after validation (`login_required` for `prompt=none`, `access_denied` when the user
    /// refuses, …), delivered like every other redirected error.
    pub fn error_response(&self, issuer: &str, error: &OAuthError) -> AuthorizationResponse {
        error_response(&self.redirect_uri, self.response_mode, issuer, error, self.state.as_deref())
    }
}

/// A refused authorization request, and how the refusal must reach the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown on the provider's error page. Never redirected: the client or the redirect URI is not trusted.
    Page(OAuthError),
    /// Sent to the client's redirect URI (see [`AuthorizeError::redirect_response`]).
    Redirect { redirect_uri: RedirectUri, response_mode: ResponseMode, state: Option<String>, error: OAuthError },
}

impl AuthorizeError {
    pub fn error(&self) -> &OAuthError {
        match self {
            Self::Page(error) | Self::Redirect { error, .. } => error,
        }
    }

    /// The response for a `Redirect` error, `None` for a `Page` one.
    pub fn redirect_response(&self, issuer: &str) -> Option<AuthorizationResponse> {
        match self {
            Self::Page(_) => None,
            Self::Redirect { redirect_uri, response_mode, state, error } => {
                Some(error_response(redirect_uri, *response_mode, issuer, error, state.as_deref()))
            }
        }
    }
}

/// Validates an authorization request. `client` is what the store returned for the `client_id` parameter (or
/// `None`), `known_scopes` the names of every scope the provider defines.
#[expect(
    clippy::result_large_err,
    reason = "called once per authorization request; boxing the error would only make every caller unbox it"
)]
pub fn validate_authorize_request(
    params: &Params,
    client: Option<&Client>,
    known_scopes: &HashSet<String>,
    policy: &AuthorizePolicy,
) -> Result<ValidAuthorizeRequest, AuthorizeError> {
    let client = check_client(params, client).map_err(AuthorizeError::Page)?;
    let redirect_uri = check_redirect_uri(params, client, policy).map_err(AuthorizeError::Page)?;
    // From here on the redirect URI is trusted: every error goes back to the client.
    let state = params.get("state").map(str::to_owned);
    // An unsupported `response_mode` is itself an error to deliver, so the default is used to deliver it.
    let response_mode = params
        .get("response_mode")
        .and_then(ResponseMode::parse)
        .unwrap_or_else(|| default_response_mode(params.get("response_type")));
    let redirect_error = |error| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        response_mode,
        state: state.clone(),
        error,
    };

    check_request_objects(params).map_err(redirect_error)?;
    check_response_type(params, client).map_err(redirect_error)?;
    check_response_mode(params).map_err(redirect_error)?;
    check_grant_permitted(client).map_err(redirect_error)?;
    let scopes = check_scope(params, client, known_scopes).map_err(redirect_error)?;
    let code_challenge = check_pkce(params, client, policy).map_err(redirect_error)?;
    let prompt = check_prompt(params).map_err(redirect_error)?;
    let max_age = check_max_age(params).map_err(redirect_error)?;

    Ok(ValidAuthorizeRequest {
        client_id: client.client_id.clone(),
        redirect_uri_in_request: params.contains("redirect_uri"),
        redirect_uri,
        response_mode,
        scopes,
        state,
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        // OIDC Core §3.1.2.1 lists the display values; an unknown one only loses a layout hint, so it is
        // ignored rather than refused.
        display: params.get("display").and_then(Display::parse),
        login_hint: params.get("login_hint").map(str::to_owned),
        id_token_hint: params.get("id_token_hint").map(str::to_owned),
        ui_locales: space_separated(params.get("ui_locales")),
        acr_values: space_separated(params.get("acr_values")),
    })
}

/// The client named by `client_id` (checklist R5).
fn check_client<'c>(params: &Params, client: Option<&'c Client>) -> Result<&'c Client, OAuthError> {
    // RFC 6749 §4.1.2.1: "If the request fails due to a missing, invalid, or mismatching redirection URI, or
    // if the client identifier is missing or invalid, the authorization server SHOULD inform the resource
    // owner of the error and MUST NOT automatically redirect the user-agent to the invalid redirection URI."
    let client_id = params
        .get("client_id")
        .ok_or_else(|| OAuthError::invalid_request("the parameter \"client_id\" is required"))?;
    // The caller looked the client up by this parameter; checking again costs nothing and keeps a mix-up in
    // the caller from trusting the wrong client's redirect URIs.
    client
        .filter(|client| client.client_id == client_id)
        .ok_or_else(|| OAuthError::invalid_request(format!("unknown client_id {}", quoted(client_id))))
}

/// The redirect URI the response goes to (checklist R1, R2, R4, R6).
fn check_redirect_uri(params: &Params, client: &Client, policy: &AuthorizePolicy) -> Result<RedirectUri, OAuthError> {
    let found = match params.get("redirect_uri") {
        Some(requested) => redirect_uri::find_registered(&client.redirect_uris, requested, policy.allow_insecure_http)
            .map_err(|err| match err {
                RedirectUriError::NotRegistered => OAuthError::invalid_request(format!(
                    "the redirect_uri {} is not registered for the client {}",
                    quoted(requested),
                    quoted(&client.client_id)
                )),
                RedirectUriError::RegisteredInvalid(reason) => registered_invalid(client, reason),
            })?,
        // RFC 6749 §3.1.2.3: "If multiple redirection URIs have been registered, if only part of the
        // redirection URI has been registered, or if no redirection URI has been registered, the client MUST
        // include a redirection URI with the authorization request using the "redirect_uri" request
        // parameter."
        None => match client.redirect_uris.as_slice() {
            [only] => redirect_uri::the_registered(only, policy.allow_insecure_http)
                .map_err(|err| registered_invalid(client, err.to_string()))?,
            [] => {
                return Err(OAuthError::invalid_request(format!(
                    "the client {} has no registered redirect URI",
                    quoted(&client.client_id)
                )));
            }
            _ => {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter \"redirect_uri\" is required: the client {} has several registered \
                     redirect URIs",
                    quoted(&client.client_id)
                )));
            }
        },
    };
    Ok(found)
}

fn registered_invalid(client: &Client, reason: String) -> OAuthError {
    OAuthError::invalid_request(format!(
        "the redirect URI registered for the client {} does not meet the provider's rules; the client's \
         registration must be corrected",
        quoted(&client.client_id)
    ))
    .with_detail(reason)
}

/// Request objects (OIDC Core §6) are not supported.
fn check_request_objects(params: &Params) -> Result<(), OAuthError> {
    // OIDC Core §3.1.2.6: "request_not_supported: The OP does not support use of the request parameter".
    if params.contains("request") {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "the request parameter (a request object, OIDC Core §6) is not supported; send the parameters \
             themselves",
        ));
    }
    // OIDC Core §3.1.2.6: "request_uri_not_supported: The OP does not support use of the request_uri
    // parameter".
    if params.contains("request_uri") {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "the request_uri parameter is not supported; send the parameters themselves",
        ));
    }
    Ok(())
}

/// `response_type=code` only.
fn check_response_type(params: &Params, client: &Client) -> Result<(), OAuthError> {
    // RFC 6749 §4.1.1: "response_type REQUIRED. Value MUST be set to "code"." A missing required parameter is
    // `invalid_request` (§4.1.2.1); an unsupported value is `unsupported_response_type`.
    let response_type = params.get("response_type").ok_or_else(|| {
        OAuthError::invalid_request(
            "the parameter \"response_type\" is required; this provider supports response_type=code",
        )
    })?;
    // RFC 6749 §3.1.1: "Extension response types MAY contain a space-delimited (%x20) list of values, where
    // the order of values does not matter (e.g., response type "a b" is the same as "b a")."
    let values: BTreeSet<&str> = response_type.split(' ').filter(|v| !v.is_empty()).collect();
    if values.len() == 1 && values.contains("code") {
        return Ok(());
    }
    let description = if !values.contains("token") && !values.contains("id_token") {
        format!(
            "response_type {} is not supported; this provider supports only response_type=code",
            quoted(response_type)
        )
    } else if client.is_public() {
        format!(
            "response_type {} is not supported: this provider issues only authorization codes from the \
             authorization endpoint, and tokens only from the token endpoint; use response_type=code with PKCE",
            quoted(response_type)
        )
    } else {
        format!(
            "response_type {} is not supported: a confidential client never receives tokens from the \
             authorization endpoint; use the authorization code flow (response_type=code) and redeem the code \
             at the token endpoint",
            quoted(response_type)
        )
    };
    Err(OAuthError::new(ErrorCode::UnsupportedResponseType, description))
}

/// Where errors go when the request named no usable `response_mode`: the default of its `response_type`, so a
/// client that asked for tokens (refused) finds the error where it looks for them.
fn default_response_mode(response_type: Option<&str>) -> ResponseMode {
    // OAuth 2.0 Multiple Response Type Encoding Practices §2.1 and §5: the default response mode of `code` is
    // query; of `token` and of every combination containing `token` or `id_token`, fragment.
    let wants_tokens = response_type.is_some_and(|value| value.split(' ').any(|v| v == "token" || v == "id_token"));
    if wants_tokens { ResponseMode::Fragment } else { ResponseMode::Query }
}

/// Checklist R10: `query`, `fragment`, `form_post`.
fn check_response_mode(params: &Params) -> Result<(), OAuthError> {
    match params.get("response_mode") {
        Some(mode) if ResponseMode::parse(mode).is_none() => Err(OAuthError::invalid_request(format!(
            "response_mode {} is not supported; use query, fragment or form_post",
            quoted(mode)
        ))),
        _ => Ok(()),
    }
}

/// Checklist T7, at the authorization endpoint.
fn check_grant_permitted(client: &Client) -> Result<(), OAuthError> {
    // RFC 6749 §4.1.2.1: "unauthorized_client: The client is not authorized to request an authorization code
    // using this method."
    if client.permissions.allows_grant(GrantType::AuthorizationCode) {
        Ok(())
    } else {
        Err(OAuthError::unauthorized_client(format!(
            "the client {} is not permitted the authorization code flow",
            quoted(&client.client_id)
        )))
    }
}

/// An OpenID Connect scope the client may have.
fn check_scope(params: &Params, client: &Client, known_scopes: &HashSet<String>) -> Result<ScopeSet, OAuthError> {
    // RFC 6749 §3.3: "If the client omits the scope parameter when requesting authorization, the
    // authorization server MUST either process the request using a pre-defined default value or fail the
    // request indicating an invalid scope."
    let raw = params.get("scope").ok_or_else(|| {
        OAuthError::invalid_scope(
            "the parameter \"scope\" is required and must include openid: this endpoint serves OpenID \
             Connect requests only",
        )
    })?;
    let scopes = ScopeSet::parse(raw)?;
    // OIDC Core §3.1.2.1: "OpenID Connect requests MUST contain the openid scope value. If the openid scope
    // value is not present, the behavior is entirely unspecified." This provider leaves nothing unspecified.
    if !scopes.contains("openid") {
        return Err(OAuthError::invalid_scope(format!(
            "scope {} does not include openid: this endpoint serves OpenID Connect requests only",
            quoted(raw)
        )));
    }
    scopes.check_known(known_scopes)?;
    scopes.check_permitted(client)?;
    Ok(scopes)
}

/// Checklist P1, P2.
fn check_pkce(params: &Params, client: &Client, policy: &AuthorizePolicy) -> Result<Option<CodeChallenge>, OAuthError> {
    let challenge = CodeChallenge::from_request(params.get("code_challenge"), params.get("code_challenge_method"))?;
    // A public client cannot be exempted: PKCE is all that protects its codes.
    let required = client.is_public() || (policy.require_pkce_for_confidential_clients && !client.pkce_exempt);
    // RFC 7636 §4.4.1: "If the server requires Proof Key for Code Exchange (PKCE) by OAuth public clients and
    // the client does not send the "code_challenge" in the request, the authorization endpoint MUST return the
    // authorization error response with the "error" value set to "invalid_request"."
    if challenge.is_none() && required {
        return Err(OAuthError::invalid_request(format!(
            "code_challenge is required (PKCE, RFC 7636) for the client {}: send code_challenge with \
             code_challenge_method=S256",
            quoted(&client.client_id)
        )));
    }
    Ok(challenge)
}

fn check_prompt(params: &Params) -> Result<BTreeSet<Prompt>, OAuthError> {
    let Some(raw) = params.get("prompt") else {
        return Ok(BTreeSet::new());
    };
    let mut prompt = BTreeSet::new();
    for value in raw.split(' ').filter(|v| !v.is_empty()) {
        // An unknown value is refused rather than ignored: a misspelt `login` ignored would skip the login the
        // client asked to force.
        let parsed = Prompt::parse(value).ok_or_else(|| {
            OAuthError::invalid_request(format!(
                "prompt value {} is not supported; use none, login, consent or select_account",
                quoted(value)
            ))
        })?;
        prompt.insert(parsed);
    }
    // OIDC Core §3.1.2.1: "If this parameter contains none with any other value, an error is returned."
    if prompt.contains(&Prompt::None) && prompt.len() > 1 {
        return Err(OAuthError::invalid_request(format!(
            "prompt {} combines none with other values, which OIDC Core §3.1.2.1 forbids",
            quoted(raw)
        )));
    }
    Ok(prompt)
}

fn check_max_age(params: &Params) -> Result<Option<u64>, OAuthError> {
    let Some(raw) = params.get("max_age") else {
        return Ok(None);
    };
    // Digits only: `u64::from_str` would also take `+5`.
    let parsed = raw.bytes().all(|b| b.is_ascii_digit()).then(|| raw.parse::<u64>().ok()).flatten();
    parsed.map(Some).ok_or_else(|| {
        OAuthError::invalid_request(format!("max_age {} is not a non-negative whole number of seconds", quoted(raw)))
    })
}

fn space_separated(value: Option<&str>) -> Vec<String> {
    value.map(|value| value.split(' ').filter(|v| !v.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests;
