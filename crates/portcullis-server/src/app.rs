//! The HTTP application: routes and the layers every response goes through.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::get;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::endpoint::{self, DISCOVERY_PATH, HEALTH_PATH, JWKS_PATH};
use crate::state::AppState;

/// Requests larger than this are refused with 413 before they are read (security checklist X1).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Bounds how long a slow client or a stuck database can hold a connection.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn router(state: AppState) -> Router {
    // Discovery and the JWKS are public documents every browser client fetches: any origin may read them.
    let public_documents = CorsLayer::new().allow_origin(Any).allow_methods([Method::GET]);
    let documents = Router::new()
        .route(DISCOVERY_PATH, get(endpoint::discovery::configuration))
        .route(JWKS_PATH, get(endpoint::jwks::jwks))
        .layer(public_documents);
    Router::new()
        .merge(documents)
        .route(HEALTH_PATH, get(endpoint::health::health))
        .with_state(state)
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
}
