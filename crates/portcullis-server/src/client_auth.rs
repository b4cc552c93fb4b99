//! Client authentication at the token, introspection, revocation and device authorization endpoints (RFC 6749
//! §2.3): `client_secret_basic`, `client_secret_post`, and `none` for public clients. One method per request:
//! two `Authorization` headers, or Basic together with a `client_secret` in the body, are `invalid_request`
//! (checklist H1).

use axum::http::{HeaderMap, HeaderValue, header};
use portcullis_core::OAuthError;
use portcullis_core::model::Client;
use portcullis_core::protocol::client_credentials::{self, BasicCredentials};
use portcullis_core::protocol::params::Params;
use portcullis_core::secret;

use crate::error::{ApiError, Channel};
use crate::state::AppState;

/// Which method the client used, for the error channel. Discovery lists them in
/// [`crate::metadata::CLIENT_AUTH_METHODS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Basic,
    Post,
    None,
}

/// A digest no secret has, compared against when the client is unknown so that both failures take the same
/// time (checklist T3).
const NO_SUCH_DIGEST: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

struct Presented {
    client_id: String,
    secret: Option<String>,
    method: Method,
}

fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, ApiError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    if let Some(value) = single_authorization(headers)? {
        // A value that is not visible ASCII cannot be Basic credentials; as the empty string it gets that refusal.
        let BasicCredentials { client_id: id, client_secret: secret } =
            client_credentials::parse_basic(value.to_str().unwrap_or_default())
                .map_err(|error| ApiError::json(error).with_channel(Channel::JsonBasic))?;
        // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
        if body_secret.is_some() {
            return Err(ApiError::json(OAuthError::invalid_request(
                "the client sent its secret both in the Authorization header and in the body; use only one",
            )));
        }
        if let Some(body_id) = body_id
            && body_id != id
        {
            return Err(ApiError::json(OAuthError::invalid_request(format!(
                "client_id {body_id:?} in the body differs from the client {id:?} of the Authorization header"
            ))));
        }
        return Ok(Presented { client_id: id, secret: Some(secret), method: Method::Basic });
    }
    let client_id = body_id.ok_or_else(|| {
        ApiError::json(OAuthError::invalid_client(
            "no client authentication: send client_id (and client_secret for a confidential client), or HTTP Basic",
        ))
    })?;
    Ok(Presented {
        client_id: client_id.to_string(),
        secret: body_secret.map(str::to_string),
        method: if body_secret.is_some() { Method::Post } else { Method::None },
    })
}

/// The `Authorization` header, if there is exactly one. RFC 6749 §2.3: "The client MUST NOT use more than one
/// authentication method in each request"; with two headers, serving either one would mean guessing which the
/// client meant (checklist H1).
fn single_authorization(headers: &HeaderMap) -> Result<Option<&HeaderValue>, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::json(OAuthError::invalid_request(
            "the request has more than one Authorization header; authenticate the client once, with a single \
             `Authorization: Basic` header or with client_id and client_secret in the body",
        )));
    }
    Ok(first)
}

/// Authenticates the client of a request. Every failure is `invalid_client` (401, with a Basic challenge
/// when Basic was used), and says what to fix without telling an attacker which client ids exist.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(Client, Method), ApiError> {
    let presented = presented(headers, params)?;
    let channel = if presented.method == Method::Basic { Channel::JsonBasic } else { Channel::Json };
    let fail = |description: String| ApiError::json(OAuthError::invalid_client(description)).with_channel(channel);
    let client = state.store.find_client(&presented.client_id).await?;
    match (client, presented.secret) {
        (None, secret) => {
            let _ = secret::matches_digest(secret.as_deref().unwrap_or_default(), NO_SUCH_DIGEST);
            Err(fail(format!("client {:?} is unknown or its credentials are wrong", presented.client_id)))
        }
        (Some(client), None) if client.is_public() => Ok((client, presented.method)),
        (Some(client), None) => Err(fail(format!(
            "client {:?} is confidential: authenticate with its secret (client_secret_basic or client_secret_post)",
            client.client_id
        ))),
        (Some(client), Some(_)) if client.is_public() => {
            Err(fail(format!("client {:?} is public and has no secret: send only client_id", client.client_id)))
        }
        (Some(client), Some(secret)) => {
            let digest = client.secret_digest.as_deref().unwrap_or(NO_SUCH_DIGEST);
            if secret::matches_digest(&secret, digest) {
                Ok((client, presented.method))
            } else {
                Err(fail(format!("client {:?} is unknown or its credentials are wrong", client.client_id)))
            }
        }
    }
}
