//! `GET /healthz`: whether this instance can serve, i.e. its database answers. For load balancers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::add_retry_after;
use crate::state::AppState;

pub async fn health(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "the database does not answer" })),
            )
                .into_response();
            add_retry_after(&mut response);
            response
        }
    }
}
