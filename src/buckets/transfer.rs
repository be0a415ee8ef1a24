//! Byte transfer endpoints (plain axum, not server functions, because the bodies are binary):
//! thin adapters over `uploads`. Memory per request is bounded by the chunk size; downloads
//! stream.

use super::model::{CompletedUpload, UploadState, UPLOAD_CHUNK_SIZE};
use super::uploads;
use crate::auth::audit::{self, Audit, Source};
use crate::auth::session_caller;
use crate::caller::{Access, Caller};
use crate::error::AppError;
use crate::state::{AppState, PlainRoute};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Json;
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes() -> Vec<PlainRoute> {
    let route = |path, methods, handler| PlainRoute { path, methods, handler };
    vec![
        route("/storage/uploads", &["POST"], post(start_upload)),
        route("/storage/uploads/{id}", &["GET", "DELETE"], get(upload_status).delete(cancel_upload)),
        route("/storage/uploads/{id}/complete", &["POST"], post(complete_upload)),
        route(
            "/storage/uploads/{id}/chunks/{index}",
            &["PUT"],
            put(put_chunk).layer(DefaultBodyLimit::max(UPLOAD_CHUNK_SIZE as usize + 1024)),
        ),
        route("/storage/download", &["GET"], get(download)),
    ]
}

/// Errors as `{"error": message}` with the error's status.
pub struct ApiError(AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(serde_json::json!({ "error": self.0.to_string() }))).into_response()
    }
}

async fn editor(state: &AppState, session: &Session) -> Result<Caller, ApiError> {
    Ok(session_caller(state, session, Access::Edit).await?)
}

#[derive(Deserialize)]
pub struct StartUpload {
    bucket: String,
    key: String,
    size: u64,
}

async fn start_upload(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<StartUpload>,
) -> Result<Json<UploadState>, ApiError> {
    let caller = editor(&state, &session).await?;
    Ok(Json(uploads::start_upload(&state, &caller, &request.bucket, &request.key, request.size).await?))
}

async fn upload_status(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<UploadState>, ApiError> {
    let caller = editor(&state, &session).await?;
    Ok(Json(uploads::upload_status(&state, &caller, &id).await?))
}

async fn put_chunk(
    State(state): State<AppState>,
    session: Session,
    Path((id, index)): Path<(String, u64)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let caller = editor(&state, &session).await?;
    uploads::put_chunk(&state, &caller, &id, index, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct CompleteQuery {
    /// The SHA-256 the client computed, if it did: the joined object must have it.
    sha256: Option<String>,
}

async fn complete_upload(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(query): Query<CompleteQuery>,
) -> Result<Json<CompletedUpload>, ApiError> {
    let caller = editor(&state, &session).await?;
    let result = uploads::complete_upload(&state, &caller, &id, query.sha256.as_deref()).await;
    let audit = Audit::new("Upload object", "object", id.as_str());
    audit::record(&state.db, &caller, Source::Console, &audit, result.as_ref().map(|_| ())).await;
    Ok(Json(result?))
}

async fn cancel_upload(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let caller = editor(&state, &session).await?;
    let result = uploads::cancel_upload(&state, &caller, &id).await;
    audit::record(
        &state.db,
        &caller,
        Source::Console,
        &Audit::new("Cancel upload", "object", id.as_str()),
        result.as_ref().map(|_| ()),
    )
    .await;
    result?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    bucket: String,
    key: String,
}

async fn download(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, ApiError> {
    let caller = session_caller(&state, &session, Access::View).await?;
    let download = uploads::open_download(&state, &caller, &query.bucket, &query.key).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, download.size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", download.file_name)),
        ],
        Body::from_stream(download.stream),
    )
        .into_response())
}
