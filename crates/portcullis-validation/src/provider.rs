//! The provider as this crate sees it: an issuer, its discovery document (OpenID Connect Discovery 1.0 §4),
//! and HTTP calls to the endpoints the document names.

use std::sync::Arc;

use portcullis_core::Clock;
use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;
use url::Url;

use crate::Rejection;
use crate::fetch::Fetched;
use crate::rejection::clip;

/// Largest provider answer read (discovery, JWKS, introspection): ours are a few KiB; this bounds the memory a
/// misbehaving endpoint can make us use.
const MAX_BODY: usize = 256 * 1024;

/// What this crate uses of the discovery document.
#[derive(Debug)]
pub(crate) struct Metadata {
    pub jwks_uri: Option<Url>,
    pub introspection_endpoint: Option<Url>,
}

pub(crate) struct Provider {
    pub issuer: String,
    discovery_url: Url,
    http: reqwest::Client,
    metadata: Fetched<Metadata>,
    pub retry_after: Duration,
}

impl Provider {
    pub fn new(issuer: String, discovery_url: Url, http: reqwest::Client, retry_after: Duration) -> Self {
        Self { issuer, discovery_url, http, metadata: Fetched::new(), retry_after }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The discovery document, fetched on first use.
    pub async fn metadata(&self, clock: &dyn Clock) -> Result<Arc<Metadata>, Rejection> {
        self.metadata.get(clock, self.retry_after, || self.discover()).await
    }

    async fn discover(&self) -> Result<Metadata, Rejection> {
        let body = self.get(&self.discovery_url, "the discovery document").await?;
        let document: Value = serde_json::from_slice(&body).map_err(|_| {
            Rejection::Unavailable(format!("the discovery document at {} is not JSON", self.discovery_url))
        })?;
        // OIDC Discovery §4.3: "The issuer value returned MUST be identical to the Issuer URL that was used as
        // the prefix to /.well-known/openid-configuration to retrieve the configuration information."
        let issuer = document.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if issuer != self.issuer {
            return Err(Rejection::Misconfigured(format!(
                "the discovery document at {} names the issuer {:?}, but this API is configured for {:?}",
                self.discovery_url,
                clip(issuer),
                self.issuer
            )));
        }
        let endpoint = |name: &str| -> Result<Option<Url>, Rejection> {
            match document.get(name).and_then(Value::as_str) {
                None => Ok(None),
                Some(text) => Url::parse(text).map(Some).map_err(|_| {
                    Rejection::Misconfigured(format!(
                        "the discovery document's {name} is not an absolute URL: {:?}",
                        clip(text)
                    ))
                }),
            }
        };
        let metadata =
            Metadata { jwks_uri: endpoint("jwks_uri")?, introspection_endpoint: endpoint("introspection_endpoint")? };
        tracing::info!(issuer = %self.issuer, "read the provider's discovery document");
        Ok(metadata)
    }

    /// `GET url`, expecting a 2xx answer; `what` names the document in errors.
    pub async fn get(&self, url: &Url, what: &str) -> Result<Vec<u8>, Rejection> {
        let response = self
            .http
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| unreachable(what, url, &error))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unexpected_status(what, url, status, &response));
        }
        read_body(response, what, url).await
    }
}

/// The answer's body, refusing more than [`MAX_BODY`] bytes.
pub(crate) async fn read_body(mut response: reqwest::Response, what: &str, url: &Url) -> Result<Vec<u8>, Rejection> {
    let too_large = || Rejection::Unavailable(format!("{what} at {url} is larger than {MAX_BODY} bytes"));
    if response.content_length().is_some_and(|length| length > MAX_BODY as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| unreachable(what, url, &error))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A failed call: the provider is down, slow or unreachable, which is a 503 for the caller.
pub(crate) fn unreachable(what: &str, url: &Url, error: &reqwest::Error) -> Rejection {
    // reqwest's own message is "error sending request for url (…)"; the cause (connection refused, timed out)
    // is in its sources, and is what an operator needs.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let timed_out = if error.is_timeout() { " (timed out)" } else { "" };
    Rejection::Unavailable(format!("cannot reach {what} at {url}{timed_out}: {message}"))
}

/// A non-2xx answer: a redirect means the configured URL is wrong (redirects are never followed: a provider
/// endpoint that moves could hand our credentials or trust to another host); anything else is the provider
/// not serving.
pub(crate) fn unexpected_status(what: &str, url: &Url, status: StatusCode, response: &reqwest::Response) -> Rejection {
    if status.is_redirection() {
        let location = response.headers().get(reqwest::header::LOCATION).and_then(|value| value.to_str().ok());
        return Rejection::Misconfigured(format!(
            "{what} at {url} answered {status} redirecting to {:?}; redirects are not followed, so configure the \
             issuer exactly as the provider names itself",
            location.map(clip).unwrap_or_default()
        ));
    }
    Rejection::Unavailable(format!("{what} at {url} answered HTTP {status}"))
}
