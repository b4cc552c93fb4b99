//! `/connect/authorize` (OIDC Core §3.1.2, RFC 6749 §4.1.1): validate, make sure the user is signed in and
//! has consented, then issue a code. The consent form (`POST /consent`) finishes here too.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use portcullis_core::model::{AuthorizationKind, Client, NewAuthorization, NewToken, TokenStatus, TokenType};
use portcullis_core::protocol::authorize::{
    AuthorizationResponse, AuthorizeError, AuthorizePolicy, Prompt, ValidAuthorizeRequest, validate_authorize_request,
};
use portcullis_core::protocol::consent::{self, ConsentDecision};
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::payload::{CodePayload, Payload};
use portcullis_core::store::GrantWrite;
use portcullis_core::{OAuthError, secret};

use crate::endpoint::error_page::{error_page, forbidden};
use crate::metadata::{AUTHORIZE_PATH, LOGIN_PATH};
use crate::pages::{self, ConsentView, Locale, ScopeLine};
use crate::session::{self, Current};
use crate::state::AppState;

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    authorize(&state, &headers, jar, query.unwrap_or_default().as_bytes()).await
}

/// OIDC Core §3.1.2.1: "Authorization Servers MUST support the use of the HTTP GET and POST methods".
pub async fn post(State(state): State<AppState>, headers: HeaderMap, jar: CookieJar, body: Bytes) -> Response {
    authorize(&state, &headers, jar, &body).await
}

/// What the flow found out before it could go on.
struct Checked {
    request: ValidAuthorizeRequest,
    client: Client,
    locale: Locale,
    params: Params,
}

/// Validates an authorization request; an `Err` is the response to send.
async fn check(state: &AppState, headers: &HeaderMap, raw: &[u8]) -> Result<Checked, Response> {
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let params = Params::parse(raw).map_err(|error| error_page(Locale::negotiate(None, accept_language), &error))?;
    let locale = Locale::negotiate(params.get("ui_locales"), accept_language);
    let client = match params.get("client_id") {
        Some(client_id) => state
            .store
            .find_client(client_id)
            .await
            .map_err(|error| error_page(locale, &crate::error::store_error(error)))?,
        None => None,
    };
    let policy = AuthorizePolicy::default();
    let published = state.published();
    let request = validate_authorize_request(&params, client.as_ref(), &published.scope_names, &policy)
        .map_err(|error| refuse(state, locale, error))?;
    let client = client.ok_or_else(|| error_page(locale, &OAuthError::invalid_request("client_id is missing")))?;
    Ok(Checked { request, client, locale, params })
}

async fn authorize(state: &AppState, headers: &HeaderMap, jar: CookieJar, raw: &[u8]) -> Response {
    let Checked { request, client, locale, params } = match check(state, headers, raw).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let issuer = state.settings.issuer.as_str();
    let current = match session::current(state, &jar).await {
        Ok(current) => current,
        Err(error) => return respond(request.error_response(issuer, &crate::error::store_error(error))),
    };
    let now = state.clock.now();
    let must_sign_in = match &current {
        None => true,
        Some(current) => {
            request.requires_new_login(current.session.auth_time, now)
                || request.prompt.contains(&Prompt::SelectAccount)
        }
    };
    let Some(current) = current.filter(|_| !must_sign_in) else {
        if request.prompt.contains(&Prompt::None) {
            let error = OAuthError::login_required("the user is not signed in and prompt=none forbids showing a page");
            return respond(request.error_response(issuer, &error));
        }
        return to_login(&params);
    };
    let existing = match state.store.find_permanent_authorizations(&current.user.id, &client.client_id).await {
        Ok(existing) => existing,
        Err(error) => return respond(request.error_response(issuer, &crate::error::store_error(error))),
    };
    match consent::decide(client.consent_type, &request.prompt, &request.scopes, &existing) {
        ConsentDecision::UseExisting(authorization_id) => {
            issue_code(state, &request, &client, &current, Some(authorization_id), AuthorizationKind::Permanent).await
        }
        ConsentDecision::GrantNew => {
            issue_code(state, &request, &client, &current, None, AuthorizationKind::Permanent).await
        }
        ConsentDecision::Refuse(error) => respond(request.error_response(issuer, &error)),
        ConsentDecision::Ask => consent_page(state, jar, locale, &request, &client, &current, &params),
    }
}

/// The request again, as a query string: what the login and consent pages send back.
fn encode(params: &Params, drop: impl Fn(&str, &str) -> Option<String>) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.iter() {
        match drop(name, value) {
            Some(kept) if !kept.is_empty() => {
                serializer.append_pair(name, &kept);
            }
            _ => {}
        }
    }
    serializer.finish()
}

/// Sends the browser to the login page. The way back leaves out what forced the sign-in (`prompt=login`,
/// `prompt=select_account`, `max_age`): once the user signs in, it is satisfied, and keeping it would loop.
fn to_login(params: &Params) -> Response {
    let query = encode(params, |name, value| match name {
        "prompt" => Some(
            value
                .split(' ')
                .filter(|prompt| *prompt != "login" && *prompt != "select_account")
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "max_age" => None,
        _ => Some(value.to_string()),
    });
    let return_to = format!("{AUTHORIZE_PATH}?{query}");
    let mut login = url::form_urlencoded::Serializer::new(String::new());
    login.append_pair("return_to", &return_to);
    Redirect::to(&format!("{LOGIN_PATH}?{}", login.finish())).into_response()
}

fn consent_page(
    state: &AppState,
    jar: CookieJar,
    locale: Locale,
    request: &ValidAuthorizeRequest,
    client: &Client,
    current: &Current,
    params: &Params,
) -> Response {
    let published = state.published();
    let scopes: Vec<ScopeLine> = request
        .scopes
        .iter()
        .map(|name| match published.scope(name) {
            Some(scope) => ScopeLine {
                name: scope.name.clone(),
                display_name: scope.display_name.clone(),
                description: scope.description.clone(),
            },
            None => ScopeLine { name: name.to_string(), display_name: name.to_string(), description: None },
        })
        .collect();
    let (jar, csrf) = session::csrf_token(state, jar);
    // `prompt=consent` is answered by this very page; sent back with it, the request would ask again.
    let request_query = encode(params, |name, value| match name {
        "prompt" => Some(value.split(' ').filter(|prompt| *prompt != "consent").collect::<Vec<_>>().join(" ")),
        _ => Some(value.to_string()),
    });
    let user_name = current.user.name.clone().unwrap_or_else(|| current.user.username.clone());
    let view = ConsentView {
        locale,
        csrf_token: &csrf,
        request: &request_query,
        client_name: &client.display_name,
        user_name: &user_name,
        scopes: &scopes,
    };
    // Chrome and Safari apply `form-action` to the redirect that follows the form too.
    (jar, pages::allow_redirect_to(pages::consent(&view), request.redirect_uri.url())).into_response()
}

/// `POST /consent`: the user's answer on the consent page.
pub async fn consent_answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let fallback = Locale::negotiate(None, accept_language);
    let form = match Params::parse(&body) {
        Ok(form) => form,
        Err(error) => return error_page(fallback, &error),
    };
    if let Err(rejection) = session::check_form(&state, &headers, &jar, form.get("csrf_token")) {
        return forbidden(fallback, rejection.0);
    }
    let Some(raw_request) = form.get("request") else {
        return error_page(fallback, &OAuthError::invalid_request("the consent form lost its authorization request"));
    };
    let Checked { request, client, locale, params } = match check(&state, &headers, raw_request.as_bytes()).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let issuer = state.settings.issuer.as_str();
    let current = match session::current(&state, &jar).await {
        Ok(Some(current)) => current,
        Ok(None) => return to_login(&params),
        Err(error) => return respond(request.error_response(issuer, &crate::error::store_error(error))),
    };
    match form.get("decision") {
        Some("allow") => {
            let kind = consent::kind_after_consent(client.consent_type);
            issue_code(&state, &request, &client, &current, None, kind).await
        }
        Some("deny") => {
            let error = OAuthError::access_denied("the user refused to let the client act on their behalf");
            respond(request.error_response(issuer, &error))
        }
        _ => error_page(
            locale,
            &OAuthError::invalid_request("the consent form must answer decision=allow or decision=deny"),
        ),
    }
}

/// Records the consent (when new) and a single-use code bound to everything the token request must match.
async fn issue_code(
    state: &AppState,
    request: &ValidAuthorizeRequest,
    client: &Client,
    current: &Current,
    existing_authorization: Option<String>,
    kind: AuthorizationKind,
) -> Response {
    let issuer = state.settings.issuer.as_str();
    match record_code(state, request, client, current, existing_authorization, kind).await {
        Ok(code) => respond(request.success_response(issuer, &code)),
        Err(error) => respond(request.error_response(issuer, &error)),
    }
}

/// The new consent (when there is none to reuse) and the code are one write: both or neither.
async fn record_code(
    state: &AppState,
    request: &ValidAuthorizeRequest,
    client: &Client,
    current: &Current,
    existing_authorization: Option<String>,
    kind: AuthorizationKind,
) -> Result<String, OAuthError> {
    let now = state.clock.now();
    let (authorization_id, new_authorization) = match existing_authorization {
        Some(id) => (id, None),
        None => {
            let authorization = NewAuthorization {
                id: secret::new_id(),
                subject: current.user.id.clone(),
                client_id: client.client_id.clone(),
                kind,
                scopes: request.scopes.iter().map(str::to_string).collect(),
                created_at: now,
            };
            (authorization.id.clone(), Some(authorization))
        }
    };
    let code = secret::generate()
        .map_err(|error| OAuthError::server_error("no randomness available").with_detail(error.to_string()))?;
    let payload = CodePayload {
        redirect_uri: request.redirect_uri.as_str().to_owned(),
        redirect_uri_in_request: request.redirect_uri_in_request,
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        scope: request.scopes.clone(),
        auth_time: current.session.auth_time,
        sid: Some(session::sid(&current.session)),
    };
    let payload = payload.write().map_err(|error| {
        OAuthError::server_error("the provider could not record the code").with_detail(error.to_string())
    })?;
    let row = NewToken {
        id: secret::new_id(),
        token_type: TokenType::AuthorizationCode,
        subject: Some(current.user.id.clone()),
        client_id: client.client_id.clone(),
        authorization_id: Some(authorization_id),
        reference_digest: Some(secret::digest(&code)),
        status: TokenStatus::Valid,
        created_at: now,
        expires_at: Some(now.saturating_add(state.settings.tokens.authorization_code_lifetime)),
        payload: Some(payload),
        // The family starts when the code is redeemed; the redemption gives the code its family.
        family_id: None,
    };
    let write = GrantWrite {
        presented: None,
        authorization: new_authorization,
        tokens: vec![row],
        family_id: None,
        successor: None,
        now,
    };
    state.store.record_grant(write).await.map_err(crate::error::store_error)?;
    Ok(code)
}

/// Sends an authorization response the way the request asked (query, fragment or form_post).
pub fn respond(response: AuthorizationResponse) -> Response {
    match response {
        AuthorizationResponse::Redirect(url) => {
            let mut response = Redirect::to(url.as_str()).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            response
        }
        AuthorizationResponse::FormPost { action, fields } => pages::form_post(&action, &fields),
    }
}

fn refuse(state: &AppState, locale: Locale, error: AuthorizeError) -> Response {
    match error.redirect_response(state.settings.issuer.as_str()) {
        Some(response) => respond(response),
        None => error_page(locale, error.error()),
    }
}
