//! `GET /.well-known/jwks` (RFC 7517 §5): the public signing keys, as precomputed bytes.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;

pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let published = state.published();
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            // Clients cache keys; a short lifetime lets them see a staged key well before it signs.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        published.jwks.clone(),
    )
}
