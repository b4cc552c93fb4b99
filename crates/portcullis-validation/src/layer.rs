//! The axum side: a tower layer that validates before the handler runs, and the [`AccessToken`] extractor
//! that hands the validated token to the handler.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::{AccessToken, Policy, Rejection, Validator};

/// Lets a request through only when its bearer token is valid and passes the policy; otherwise answers the
/// [`Rejection`]. Use it with `Router::route_layer`, so that unknown paths stay 404 rather than 401.
#[derive(Debug, Clone)]
pub struct RequireBearerLayer {
    validator: Validator,
    policy: Arc<Policy>,
}

impl RequireBearerLayer {
    pub fn new(validator: Validator, policy: Policy) -> Self {
        Self { validator, policy: Arc::new(policy) }
    }
}

impl<S> Layer<S> for RequireBearerLayer {
    type Service = RequireBearer<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireBearer { inner, validator: self.validator.clone(), policy: self.policy.clone() }
    }
}

/// The service of [`RequireBearerLayer`].
#[derive(Debug, Clone)]
pub struct RequireBearer<S> {
    inner: S,
    validator: Validator,
    policy: Arc<Policy>,
}

impl<S> Service<Request<Body>> for RequireBearer<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone that was polled ready is the one to call (tower's documented pattern for async middleware).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        let policy = self.policy.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            match validator.authorize(&parts, &policy).await {
                Ok(token) => {
                    parts.extensions.insert(token);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => {
                    log(&rejection, &parts);
                    Ok(rejection.into_response())
                }
            }
        })
    }
}

/// A refused token is routine (debug); the provider being unreachable or our own setup being wrong is not.
fn log(rejection: &Rejection, parts: &Parts) {
    let (method, path) = (&parts.method, parts.uri.path());
    match rejection {
        Rejection::Unavailable(detail) => tracing::warn!(%method, path, "cannot validate the token: {detail}"),
        Rejection::Misconfigured(detail) => tracing::error!(%method, path, "cannot validate the token: {detail}"),
        other => tracing::debug!(%method, path, status = other.status().as_u16(), "refused: {other}"),
    }
}

/// The token [`RequireBearerLayer`] validated. In a handler of a route without the layer it is a 500, as that
/// is a bug of the API, not of the caller.
impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<AccessToken>().cloned().ok_or_else(|| {
            let detail = format!("{} {} has no RequireBearerLayer in front of its handler", parts.method, parts.uri);
            tracing::error!("{detail}");
            Rejection::Misconfigured(detail)
        })
    }
}
