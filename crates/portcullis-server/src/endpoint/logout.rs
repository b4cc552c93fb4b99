//! `/connect/logout` (OpenID Connect RP-Initiated Logout 1.0): ends the provider session, and sends the
//! browser back to the client only to a URI registered for it.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use portcullis_core::OAuthError;
use portcullis_core::protocol::authorize::{ResponseMode, build_response};
use portcullis_core::protocol::params::Params;
use portcullis_core::protocol::redirect_uri::{self, RedirectUri};
use portcullis_jose::SigningAlg;

use crate::endpoint::authorize::respond;
use crate::endpoint::error_page::{error_page, forbidden};
use crate::pages::{self, Locale, LogoutView, MessageView};
use crate::session;
use crate::state::AppState;

/// The parameters RP-Initiated Logout §2 defines; the confirmation form sends them back unchanged.
const FIELDS: [&str; 5] = ["id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales"];

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    logout(&state, &headers, jar, query.unwrap_or_default().as_bytes(), false).await
}

/// RP-Initiated Logout §2: "OPs MUST support the use of the HTTP GET and POST methods". A POST is also how
/// the confirmation form answers.
pub async fn post(State(state): State<AppState>, headers: HeaderMap, jar: CookieJar, body: Bytes) -> Response {
    logout(&state, &headers, jar, &body, true).await
}

/// What the request proved.
struct Checked {
    /// The hint verified: signed by this provider, for this issuer. Its `sub`.
    hinted_subject: Option<String>,
    /// The verified hint's `jti`: the row of that ID token, whose family is the sign-in the relying party ends.
    hinted_token: Option<String>,
    /// Where to go afterwards: registered for the client (checklist R8).
    redirect: Option<RedirectUri>,
    client_name: Option<String>,
}

async fn logout(state: &AppState, headers: &HeaderMap, jar: CookieJar, raw: &[u8], posted: bool) -> Response {
    let accept_language = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let params = match Params::parse(raw) {
        Ok(params) => params,
        Err(error) => return error_page(Locale::negotiate(None, accept_language), &error),
    };
    let locale = Locale::negotiate(params.get("ui_locales"), accept_language);
    let checked = match check(state, &params).await {
        Ok(checked) => checked,
        Err(error) => return error_page(locale, &error),
    };
    let current = session::current(state, &jar).await.ok().flatten();
    if posted && params.get("decision").is_some() {
        if let Err(rejection) = session::check_form(state, headers, &jar, params.get("csrf_token")) {
            return forbidden(locale, rejection.0);
        }
        return match params.get("decision") {
            Some("logout") => finish(state, jar, locale, &checked, params.get("state")).await,
            _ => pages::message(&MessageView {
                locale,
                title: text(locale).cancelled_title,
                message: text(locale).cancelled,
            }),
        };
    }
    // Checklist S6: without a valid hint for the signed-in user, the user confirms; a third-party page cannot
    // sign people out (or bounce them) behind their back.
    let confirmed_by_hint = match (&checked.hinted_subject, &current) {
        (Some(subject), Some(current)) => *subject == current.user.id,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if confirmed_by_hint {
        return finish(state, jar, locale, &checked, params.get("state")).await;
    }
    let fields: Vec<(String, String)> =
        FIELDS.iter().filter_map(|name| params.get(name).map(|value| (name.to_string(), value.to_string()))).collect();
    let (jar, csrf) = session::csrf_token(state, jar);
    let view = LogoutView { locale, csrf_token: &csrf, fields: &fields, client_name: checked.client_name.as_deref() };
    let page = pages::logout_confirm(&view);
    let page = match &checked.redirect {
        Some(target) => pages::allow_redirect_to(page, target.url()),
        None => page,
    };
    (jar, page).into_response()
}

async fn check(state: &AppState, params: &Params) -> Result<Checked, OAuthError> {
    let mut hinted_subject = None;
    let mut hinted_token = None;
    let mut hinted_audiences = Vec::new();
    if let Some(hint) = params.get("id_token_hint") {
        // An expired hint still names the user and the client; RP-Initiated Logout §2 lets the OP accept it.
        // A hint signed with a key another instance created since this one loaded its keys reloads them once
        // (rule K2).
        let verified = state.with_keys(|keyring| keyring.verify(hint, &[SigningAlg::Rs256])).await;
        match verified.map_err(crate::error::store_error)? {
            Ok((_, claims)) if claims.get("iss").and_then(|v| v.as_str()) == Some(state.settings.issuer.as_str()) => {
                hinted_subject = claims.get("sub").and_then(|v| v.as_str()).map(str::to_string);
                hinted_token = claims.get("jti").and_then(|v| v.as_str()).map(str::to_string);
                hinted_audiences = match claims.get("aud") {
                    Some(serde_json::Value::String(aud)) => vec![aud.clone()],
                    Some(serde_json::Value::Array(auds)) => {
                        auds.iter().filter_map(|a| a.as_str().map(str::to_string)).collect()
                    }
                    _ => Vec::new(),
                };
            }
            _ => return Err(OAuthError::invalid_request("id_token_hint is not an ID token issued by this provider")),
        }
    }
    let client_id = match (params.get("client_id"), hinted_audiences.first()) {
        (Some(client_id), _) if !hinted_audiences.is_empty() && !hinted_audiences.iter().any(|a| a == client_id) => {
            return Err(OAuthError::invalid_request(format!(
                "client_id {client_id:?} is not the audience of the id_token_hint"
            )));
        }
        (Some(client_id), _) => Some(client_id.to_string()),
        (None, Some(audience)) => Some(audience.clone()),
        (None, None) => None,
    };
    let client = match &client_id {
        Some(id) => state.store.find_client(id).await.map_err(crate::error::store_error)?,
        None => None,
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = client.as_ref().ok_or_else(|| {
                OAuthError::invalid_request(
                    "post_logout_redirect_uri needs the client: send client_id or id_token_hint with it",
                )
            })?;
            Some(redirect_uri::find_registered(&client.post_logout_redirect_uris, uri, false).map_err(|_| {
                OAuthError::invalid_request(format!(
                    "post_logout_redirect_uri {uri:?} is not registered for client {:?}",
                    client.client_id
                ))
            })?)
        }
    };
    Ok(Checked { hinted_subject, hinted_token, redirect, client_name: client.map(|client| client.display_name) })
}

async fn finish(
    state: &AppState,
    jar: CookieJar,
    locale: Locale,
    checked: &Checked,
    client_state: Option<&str>,
) -> Response {
    if let Err(error) = end_sign_in(state, checked).await {
        return error_page(locale, &crate::error::store_error(error));
    }
    let jar = match session::end(state, jar).await {
        Ok(jar) => jar,
        Err(error) => return error_page(locale, &crate::error::store_error(error)),
    };
    let response = match &checked.redirect {
        Some(uri) => {
            let pairs: Vec<(&str, &str)> = client_state.map(|value| ("state", value)).into_iter().collect();
            respond(build_response(uri, ResponseMode::Query, &pairs))
        }
        None => pages::message(&MessageView { locale, title: text(locale).done_title, message: text(locale).done }),
    };
    (jar, response).into_response()
}

/// The relying party signs the user out of the sign-in its ID token came from: that family's tokens are
/// revoked (checklist V5), and nothing of the user's other sign-ins. Without a hint there is no telling which
/// sign-in the relying party holds, so only the provider session ends.
async fn end_sign_in(state: &AppState, checked: &Checked) -> Result<(), portcullis_core::store::StoreError> {
    let Some(jti) = &checked.hinted_token else { return Ok(()) };
    let Some(row) = state.store.find_token(jti).await? else { return Ok(()) };
    // The hint was verified, but the row must be that same user's too before it ends anything.
    if row.subject != checked.hinted_subject {
        return Ok(());
    }
    if let Some(family) = &row.family_id {
        let revoked = state.store.revoke_family(family).await?;
        tracing::info!(family = %family, revoked, "RP-initiated logout ended its sign-in");
    }
    Ok(())
}

struct Texts {
    done_title: &'static str,
    done: &'static str,
    cancelled_title: &'static str,
    cancelled: &'static str,
}

fn text(locale: Locale) -> Texts {
    match locale {
        Locale::Fr => Texts {
            done_title: "Vous êtes déconnecté",
            done: "Vous êtes déconnecté. Vous pouvez fermer cette fenêtre.",
            cancelled_title: "Toujours connecté",
            cancelled: "Vous êtes toujours connecté.",
        },
        Locale::En => Texts {
            done_title: "You are signed out",
            done: "You are signed out. You can close this window.",
            cancelled_title: "Still signed in",
            cancelled: "You are still signed in.",
        },
    }
}
