//! The HTTP application: routes and the layers every response goes through.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::endpoint::{self, authorize, device, introspect, login, logout, token, userinfo};
use crate::metadata::{
    AUTHORIZE_PATH, CONSENT_PATH, DEVICE_AUTHORIZATION_PATH, DISCOVERY_PATH, HEALTH_PATH, INTROSPECTION_PATH,
    JWKS_PATH, LOGIN_PATH, LOGOUT_PATH, REVOCATION_PATH, STYLESHEET_PATH, TOKEN_PATH, USERINFO_PATH,
};
use crate::pages;
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
    // The token and userinfo answers may only be read by the browser origins registered on a client.
    let registered = {
        let state = state.clone();
        AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|origin| state.published().cors_origins.contains(origin))
        })
    };
    let browser_apis = CorsLayer::new()
        .allow_origin(registered)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    let apis = Router::new()
        .route(TOKEN_PATH, axum::routing::post(token::token))
        .route(USERINFO_PATH, get(userinfo::get).post(userinfo::post))
        .route(REVOCATION_PATH, axum::routing::post(introspect::revoke))
        .route(INTROSPECTION_PATH, axum::routing::post(introspect::introspect))
        .route(DEVICE_AUTHORIZATION_PATH, axum::routing::post(device::device_authorization))
        .layer(browser_apis);
    let pages = Router::new()
        .route("/", get(login::home))
        .route(AUTHORIZE_PATH, get(authorize::get).post(authorize::post))
        .route(LOGIN_PATH, get(login::page).post(login::submit))
        .route(CONSENT_PATH, axum::routing::post(authorize::consent_answer))
        .route(LOGOUT_PATH, get(logout::get).post(logout::post))
        .route(STYLESHEET_PATH, get(pages::stylesheet))
        .merge(device::verify_routes());
    Router::new()
        .merge(documents)
        .merge(apis)
        .merge(pages)
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
