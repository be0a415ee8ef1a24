//! Byte transfer endpoints (plain axum, not server functions, because the bodies are binary):
//! resumable chunked uploads into a bucket, and object downloads. Memory per request is
//! bounded by the chunk size; downloads stream.

use super::{store, validate_object_key, MAX_OBJECT_SIZE, UPLOAD_CHUNK_SIZE};
use crate::auth::{current_user, CurrentUser};
use crate::db::{new_hex_id, now_ms};
use crate::error::AppError;
use crate::server::AppState;
use crate::storage::Storage;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/storage/uploads", post(start_upload))
        .route("/storage/uploads/{id}", get(upload_status).delete(cancel_upload))
        .route("/storage/uploads/{id}/complete", post(complete_upload))
        .route(
            "/storage/uploads/{id}/chunks/{index}",
            put(put_chunk).layer(DefaultBodyLimit::max(UPLOAD_CHUNK_SIZE as usize + 1024)),
        )
        .route("/storage/download", get(download))
}

/// Errors as `{"error": message}` with the error's status.
pub struct ApiError(AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(error)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(serde_json::json!({ "error": self.0.to_string() }))).into_response()
    }
}

fn storage_error(context: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError(AppError::internal(context, error))
}

async fn caller(state: &AppState, session: &Session, modify: bool) -> Result<CurrentUser, ApiError> {
    let user = current_user(&state.db, session).await?.ok_or(AppError::Unauthorized)?;
    if modify {
        user.require_image_rights()?;
    }
    Ok(user)
}

#[derive(Deserialize)]
pub struct StartUpload {
    bucket: String,
    key: String,
    size: u64,
}

#[derive(Serialize)]
pub struct UploadState {
    upload_id: String,
    key: String,
    size: u64,
    chunk_size: u64,
    chunk_count: u64,
    received: Vec<u64>,
}

#[derive(sqlx::FromRow)]
struct UploadRow {
    id: String,
    bucket: String,
    object_key: String,
    size: i64,
    chunk_size: i64,
}

fn chunk_count(size: u64, chunk_size: u64) -> u64 {
    size.div_ceil(chunk_size)
}

async fn upload_state(state: &AppState, row: &UploadRow) -> Result<UploadState, ApiError> {
    let received: Vec<i64> = sqlx::query_scalar("SELECT chunk_index FROM upload_chunks WHERE upload_id = $1 ORDER BY chunk_index")
        .bind(&row.id)
        .fetch_all(&state.db)
        .await?;
    Ok(UploadState {
        upload_id: row.id.clone(),
        key: row.object_key.clone(),
        size: row.size as u64,
        chunk_size: row.chunk_size as u64,
        chunk_count: chunk_count(row.size as u64, row.chunk_size as u64),
        received: received.into_iter().map(|index| index as u64).collect(),
    })
}

async fn find_upload(state: &AppState, user: &CurrentUser, id: &str) -> Result<UploadRow, ApiError> {
    let row: Option<UploadRow> = sqlx::query_as(
        "SELECT id, bucket, object_key, size, chunk_size FROM uploads WHERE id = $1 AND project_id = $2 AND region = $3",
    )
    .bind(id)
    .bind(&user.project_id)
    .bind(&user.region)
    .fetch_optional(&state.db)
    .await?;
    row.ok_or_else(|| ApiError(AppError::NotFound("This upload does not exist any more. Start it again.".into())))
}

/// Starts an upload, or returns the unfinished one for the same object and size, so a
/// dropped connection or a reloaded page resumes from the chunks already stored.
async fn start_upload(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<StartUpload>,
) -> Result<Json<UploadState>, ApiError> {
    let user = caller(&state, &session, true).await?;
    store::require_bucket(&state.db, &user, &request.bucket).await?;
    validate_object_key(&request.key).map_err(AppError::Invalid)?;
    if request.size == 0 || request.size > MAX_OBJECT_SIZE {
        return Err(AppError::Invalid(format!("A file must have 1 byte to {} TB.", MAX_OBJECT_SIZE >> 40)).into());
    }
    let existing: Option<UploadRow> = sqlx::query_as(
        "SELECT id, bucket, object_key, size, chunk_size FROM uploads \
         WHERE project_id = $1 AND region = $2 AND bucket = $3 AND object_key = $4 AND size = $5 \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(&user.project_id)
    .bind(&user.region)
    .bind(&request.bucket)
    .bind(&request.key)
    .bind(request.size as i64)
    .fetch_optional(&state.db)
    .await?;
    let row = match existing {
        Some(row) => row,
        None => {
            let row = UploadRow {
                id: new_hex_id(),
                bucket: request.bucket.clone(),
                object_key: request.key.clone(),
                size: request.size as i64,
                chunk_size: UPLOAD_CHUNK_SIZE as i64,
            };
            let now = now_ms();
            sqlx::query(
                "INSERT INTO uploads (id, project_id, region, bucket, object_key, size, chunk_size, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(&row.id)
            .bind(&user.project_id)
            .bind(&user.region)
            .bind(&row.bucket)
            .bind(&row.object_key)
            .bind(row.size)
            .bind(row.chunk_size)
            .bind(now)
            .execute(&state.db)
            .await?;
            row
        }
    };
    Ok(Json(upload_state(&state, &row).await?))
}

async fn upload_status(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Result<Json<UploadState>, ApiError> {
    let user = caller(&state, &session, true).await?;
    let row = find_upload(&state, &user, &id).await?;
    Ok(Json(upload_state(&state, &row).await?))
}

async fn put_chunk(
    State(state): State<AppState>,
    session: Session,
    Path((id, index)): Path<(String, u64)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let user = caller(&state, &session, true).await?;
    let row = find_upload(&state, &user, &id).await?;
    let (size, chunk_size) = (row.size as u64, row.chunk_size as u64);
    let count = chunk_count(size, chunk_size);
    if index >= count {
        return Err(AppError::Invalid(format!("Chunk {index} is past the end of the file ({count} chunks).")).into());
    }
    let expected = if index + 1 == count { size - index * chunk_size } else { chunk_size };
    if body.len() as u64 != expected {
        return Err(AppError::Invalid(format!("Chunk {index} must have {expected} bytes, not {}.", body.len())).into());
    }
    state
        .storage
        .put_bytes(&Storage::chunk_key(&id, index), body)
        .await
        .map_err(|error| storage_error("chunk write", error))?;
    sqlx::query("INSERT INTO upload_chunks (upload_id, chunk_index, size) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(&id)
        .bind(index as i64)
        .bind(expected as i64)
        .execute(&state.db)
        .await?;
    sqlx::query("UPDATE uploads SET updated_at = $1 WHERE id = $2").bind(now_ms()).bind(&id).execute(&state.db).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct CompletedUpload {
    key: String,
    size: u64,
    sha256: String,
}

/// Joins the chunks into the object, computing its SHA-256 on the way, then forgets them.
async fn complete_upload(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<CompletedUpload>, ApiError> {
    let user = caller(&state, &session, true).await?;
    let row = find_upload(&state, &user, &id).await?;
    let upload = upload_state(&state, &row).await?;
    if upload.received.len() as u64 != upload.chunk_count {
        return Err(AppError::Conflict(format!(
            "Only {} of {} chunks have arrived; send the rest first.",
            upload.received.len(),
            upload.chunk_count
        ))
        .into());
    }
    let parts: Vec<String> = (0..upload.chunk_count).map(|index| Storage::chunk_key(&id, index)).collect();
    let object_key = Storage::bucket_key(&user.region, &row.bucket, &row.object_key);
    let digests = state.storage.compose(&parts, &object_key).await.map_err(|error| storage_error("upload completion", error))?;
    if digests.size != upload.size {
        return Err(AppError::internal("upload completion", format!("joined {} bytes, expected {}", digests.size, upload.size)).into());
    }
    store::record_object(&state.db, &user.region, &row.bucket, &row.object_key, digests.size, &digests.sha256).await?;
    forget_upload(&state, &id).await?;
    Ok(Json(CompletedUpload { key: row.object_key, size: digests.size, sha256: digests.sha256 }))
}

async fn forget_upload(state: &AppState, id: &str) -> Result<(), ApiError> {
    state
        .storage
        .delete_prefix(&format!("uploads/{id}"))
        .await
        .map_err(|error| storage_error("chunk cleanup", error))?;
    sqlx::query("DELETE FROM upload_chunks WHERE upload_id = $1").bind(id).execute(&state.db).await?;
    sqlx::query("DELETE FROM uploads WHERE id = $1").bind(id).execute(&state.db).await?;
    Ok(())
}

async fn cancel_upload(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let user = caller(&state, &session, true).await?;
    find_upload(&state, &user, &id).await?;
    forget_upload(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    bucket: String,
    key: String,
}

async fn download(State(state): State<AppState>, session: Session, Query(query): Query<DownloadQuery>) -> Result<Response, ApiError> {
    let user = caller(&state, &session, false).await?;
    store::require_bucket(&state.db, &user, &query.bucket).await?;
    let object = store::find_object(&state.db, &user.region, &query.bucket, &query.key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Object '{}' does not exist in bucket '{}'.", query.key, query.bucket)))?;
    let (size, stream) = state
        .storage
        .stream(&Storage::bucket_key(&user.region, &query.bucket, &object.key))
        .await
        .map_err(|error| storage_error("object read", error))?;
    let file_name: String = object.key.rsplit('/').next().unwrap_or("download").chars().filter(|c| *c != '"' && !c.is_control()).collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file_name.replace(|c: char| !c.is_ascii(), "_"))),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Removes uploads nobody touched for a day, with their chunks.
pub async fn sweep_stale_uploads(state: &AppState) -> Result<(), ApiError> {
    let cutoff = now_ms() - 24 * 3600 * 1000;
    let stale: Vec<String> = sqlx::query_scalar("SELECT id FROM uploads WHERE updated_at < $1").bind(cutoff).fetch_all(&state.db).await?;
    for id in stale {
        forget_upload(state, &id).await?;
    }
    Ok(())
}
