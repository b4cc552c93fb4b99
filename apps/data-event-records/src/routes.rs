//! The HTTP interface: `/api/DataEventRecords` CRUD, who may call what, CORS for the SPA, and what a database
//! failure answers.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use portcullis_validation::{AccessToken, Policy, Validator};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::problem::{JsonBody, Problem};
use crate::record::{Record, RecordId, RecordInput};
use crate::store::{Records, StoreError};

pub const BASE_PATH: &str = "/api/DataEventRecords";
/// The scope the SPA requests for this API; its resource (audience) is the API's client id.
pub const SCOPE: &str = "dataEventRecords";
pub const USER_ROLE: &str = "dataEventRecords.user";
pub const ADMIN_ROLE: &str = "dataEventRecords.admin";

/// A record is a few KiB at most (100 + 1000 characters); anything much larger is refused with 413 before
/// it is parsed.
const BODY_LIMIT: usize = 16 * 1024;

/// Reading needs the API's scope and the user role.
pub fn read_policy() -> Policy {
    Policy::new().scope(SCOPE).role(USER_ROLE)
}

/// Writing needs the API's scope and the admin role.
pub fn write_policy() -> Policy {
    Policy::new().scope(SCOPE).role(ADMIN_ROLE)
}

/// The whole API. `cors_origins` are the browser origins allowed to call it (the SPA's).
pub fn router(records: Records, validator: &Validator, cors_origins: Vec<HeaderValue>) -> Router {
    let item = format!("{BASE_PATH}/{{id}}");
    let reads =
        Router::new().route(BASE_PATH, get(list)).route(&item, get(read)).route_layer(validator.require(read_policy()));
    let writes = Router::new()
        .route(BASE_PATH, post(create))
        .route(&item, axum::routing::put(update).delete(remove))
        .route_layer(validator.require(write_policy()));
    reads
        .merge(writes)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(records)
        // Outermost, so that preflights are answered without a token and every answer (a 401 too) carries
        // the CORS headers the browser needs to let the SPA read it.
        .layer(cors(cors_origins))
        // A 5xx here is the provider or the database being down, already logged where it happened with its
        // cause: a warning, not a second error line.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::WARN)))
}

fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // The SPA reads why a call was refused (RFC 6750 §3) and where a new record is.
        .expose_headers([header::WWW_AUTHENTICATE, header::LOCATION])
        // An hour of cached preflights: the allowed methods and headers change only with a new release.
        .max_age(Duration::from_secs(3600))
}

async fn list(State(records): State<Records>) -> Result<Json<Vec<Record>>, Problem> {
    Ok(Json(records.list().await?))
}

async fn read(State(records): State<Records>, Path(id): Path<String>) -> Result<Json<Record>, Problem> {
    let id = RecordId::parse(&id)?;
    records.get(id).await?.map(Json).ok_or_else(|| unknown(id))
}

async fn create(
    State(records): State<Records>,
    token: AccessToken,
    JsonBody(input): JsonBody<RecordInput>,
) -> Result<impl IntoResponse, Problem> {
    let record = records.create(&input.for_create()?).await?;
    tracing::info!(id = record.id, by = token.subject.as_deref().unwrap_or("?"), "record created");
    let location = HeaderValue::from_str(&format!("{BASE_PATH}/{}", record.id))
        .map_err(|_| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot name the new record"))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(record)))
}

async fn update(
    State(records): State<Records>,
    Path(id): Path<String>,
    token: AccessToken,
    JsonBody(input): JsonBody<RecordInput>,
) -> Result<Json<Record>, Problem> {
    let id = RecordId::parse(&id)?;
    let record = records.update(id, &input.for_update(id)?).await?.ok_or_else(|| unknown(id))?;
    tracing::info!(id = record.id, by = token.subject.as_deref().unwrap_or("?"), "record updated");
    Ok(Json(record))
}

async fn remove(
    State(records): State<Records>,
    Path(id): Path<String>,
    token: AccessToken,
) -> Result<StatusCode, Problem> {
    let id = RecordId::parse(&id)?;
    if !records.delete(id).await? {
        return Err(unknown(id));
    }
    tracing::info!(id = id.get(), by = token.subject.as_deref().unwrap_or("?"), "record deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn unknown(id: RecordId) -> Problem {
    Problem::not_found(format!("there is no record {}", id.get()))
}

async fn not_found() -> Problem {
    Problem::not_found(format!("this API serves {BASE_PATH} and {BASE_PATH}/{{id}} only"))
}

/// A database failure: logged in full here, answered without internals (503 when the database is down, so a
/// client knows a retry may work; 500 otherwise).
impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match &error {
            StoreError::Unavailable(_) => {
                tracing::warn!("{error}");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "the records database is unavailable; try again shortly")
            }
            StoreError::Other(_) => {
                tracing::error!("{error}");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "the records could not be read or written")
            }
        }
    }
}
