//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
//!
//! The document ([`crate::metadata::document`]) is built once from what the provider really supports and served
//! as precomputed bytes; it is rebuilt only when the scopes or keys change.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn configuration(State(state): State<AppState>) -> impl IntoResponse {
    let published = state.published();
    (
        [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=300")],
        published.discovery.clone(),
    )
}
