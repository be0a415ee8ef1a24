//! Resumable chunked uploads into a bucket, and object downloads. An upload stores each chunk
//! as it arrives, so a dropped connection or a reloaded page resumes from the chunks already
//! stored; completing it joins them into the object, hashing on the way.

use super::model::{validate_object_key, CompletedUpload, UploadState, UploadView, MAX_OBJECT_SIZE, UPLOAD_CHUNK_SIZE};
use super::service::{existing_object, require_bucket, with_object_lock};
use super::store::{self, UploadRow};
use crate::caller::Caller;
use crate::db::now_ms;
use crate::error::AppError;
use crate::quotas::model::QuotaKind;
use crate::quotas::service::require_room;
use crate::state::AppState;
use crate::storage::Storage;
use bytes::Bytes;
use futures::stream::BoxStream;

fn chunk_count(size: u64, chunk_size: u64) -> u64 {
    size.div_ceil(chunk_size)
}

async fn upload_state(state: &AppState, row: &UploadRow) -> Result<UploadState, AppError> {
    Ok(UploadState {
        upload_id: row.id.clone(),
        key: row.object_key.clone(),
        size: row.size as u64,
        chunk_size: row.chunk_size as u64,
        chunk_count: chunk_count(row.size as u64, row.chunk_size as u64),
        received: store::received_chunks(&state.db, &row.id).await?,
    })
}

async fn find_upload(state: &AppState, caller: &Caller, id: &str) -> Result<UploadRow, AppError> {
    store::find_upload(&state.db, caller, id)
        .await?
        .ok_or_else(|| AppError::NotFound("This upload does not exist any more. Start it again.".into()))
}

pub async fn list_uploads(state: &AppState, caller: &Caller, bucket: &str) -> Result<Vec<UploadView>, AppError> {
    let bucket = require_bucket(state, caller, bucket).await?;
    store::list_uploads(&state.db, caller, &bucket.id).await
}

/// Starts an upload, or returns the unfinished one for the same object and size, so a
/// dropped connection or a reloaded page resumes from the chunks already stored.
pub async fn start_upload(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    key: &str,
    size: u64,
) -> Result<UploadState, AppError> {
    let bucket = require_bucket(state, caller, bucket).await?;
    validate_object_key(key).map_err(AppError::Invalid)?;
    if size == 0 || size > MAX_OBJECT_SIZE {
        return Err(AppError::Invalid(format!("A file must have 1 byte to {} TB.", MAX_OBJECT_SIZE >> 40)));
    }
    let row = match store::find_resumable(&state.db, caller, &bucket.id, key, size).await? {
        Some(row) => row,
        None => {
            require_room(state, caller, QuotaKind::Uploads, 1).await?;
            if store::find_object(&state.db, &bucket.id, key).await?.is_none() {
                require_room(state, caller, QuotaKind::Objects, 1).await?;
            }
            require_room(state, caller, QuotaKind::StoredBytes, size as i64).await?;
            store::insert_upload(&state.db, caller, &bucket.id, key, size, UPLOAD_CHUNK_SIZE).await?
        }
    };
    upload_state(state, &row).await
}

pub async fn upload_status(state: &AppState, caller: &Caller, id: &str) -> Result<UploadState, AppError> {
    let row = find_upload(state, caller, id).await?;
    upload_state(state, &row).await
}

/// Stores chunk `index`; every chunk but the last has exactly the chunk size.
pub async fn put_chunk(state: &AppState, caller: &Caller, id: &str, index: u64, body: Bytes) -> Result<(), AppError> {
    let row = find_upload(state, caller, id).await?;
    let (size, chunk_size) = (row.size as u64, row.chunk_size as u64);
    let count = chunk_count(size, chunk_size);
    if index >= count {
        return Err(AppError::Invalid(format!("Chunk {index} is past the end of the file ({count} chunks).")));
    }
    let expected = if index + 1 == count { size - index * chunk_size } else { chunk_size };
    if body.len() as u64 != expected {
        return Err(AppError::Invalid(format!("Chunk {index} must have {expected} bytes, not {}.", body.len())));
    }
    state
        .storage
        .put_bytes(&Storage::chunk_key(id, index), body)
        .await
        .map_err(|error| AppError::internal("chunk write", error))?;
    store::record_chunk(&state.db, id, index, expected).await?;
    Ok(())
}

/// Joins the chunks into a temporary object, checks its size (and its SHA-256, when the
/// client gives one), and only then renames it over the key: a failure at any step leaves the
/// old object as it was, and readers never see a half-written one.
pub async fn complete_upload(
    state: &AppState,
    caller: &Caller,
    id: &str,
    expected_sha256: Option<&str>,
) -> Result<CompletedUpload, AppError> {
    let row = find_upload(state, caller, id).await?;
    let upload = upload_state(state, &row).await?;
    if upload.received.len() as u64 != upload.chunk_count {
        return Err(AppError::Conflict(format!(
            "Only {} of {} chunks have arrived; send the rest first.",
            upload.received.len(),
            upload.chunk_count
        )));
    }
    let bucket = store::bucket_by_id(&state.db, &caller.project_id, &row.bucket_id)
        .await?
        .ok_or_else(|| AppError::NotFound("The bucket of this upload does not exist any more.".into()))?;
    let parts: Vec<String> = (0..upload.chunk_count).map(|index| Storage::chunk_key(id, index)).collect();
    let object_key = Storage::bucket_key(&caller.region, &bucket.id, &row.object_key);
    let staged_key = format!("uploads/{id}/complete");
    let injected = |step: &str| match state.hooks.upload_fails_at(step) {
        true => Err(AppError::internal("upload completion", format!("a test failed the step '{step}'"))),
        false => Ok(()),
    };
    let completed = with_object_lock(state, &bucket, &row.object_key, async {
        injected("compose")?;
        let digests = state
            .storage
            .compose(&parts, &staged_key)
            .await
            .map_err(|error| AppError::internal("upload completion", error))?;
        injected("verify")?;
        if digests.size != upload.size {
            return Err(AppError::Conflict(format!(
                "The stored chunks add up to {} bytes, not the file's {}; upload the file again.",
                digests.size, upload.size
            )));
        }
        if let Some(expected) = expected_sha256.filter(|expected| !expected.eq_ignore_ascii_case(&digests.sha256)) {
            return Err(AppError::field(
                "sha256",
                format!("The file's SHA-256 is {}, not {expected}; upload it again.", digests.sha256),
            ));
        }
        // The row changes in a transaction that commits only once the file is in place.
        let mut transaction = state.db.begin().await?;
        store::record_object(&mut *transaction, &bucket.id, &row.object_key, digests.size, &digests.sha256).await?;
        injected("record")?;
        injected("rename")?;
        state
            .storage
            .rename(&staged_key, &object_key)
            .await
            .map_err(|error| AppError::internal("upload completion", error))?;
        transaction.commit().await?;
        Ok(CompletedUpload { key: row.object_key.clone(), size: digests.size, sha256: digests.sha256 })
    })
    .await;
    if completed.is_err() {
        let _ = state.storage.delete(&staged_key).await;
        return completed;
    }
    forget_upload(state, id).await?;
    completed
}

pub async fn cancel_upload(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    find_upload(state, caller, id).await?;
    forget_upload(state, id).await
}

async fn forget_upload(state: &AppState, id: &str) -> Result<(), AppError> {
    state
        .storage
        .delete_prefix(&format!("uploads/{id}"))
        .await
        .map_err(|error| AppError::internal("chunk cleanup", error))?;
    store::forget_upload(&state.db, id).await?;
    Ok(())
}

/// An object opened for download.
pub struct Download {
    pub size: u64,
    pub stream: BoxStream<'static, object_store::Result<Bytes>>,
    /// A safe file name for the browser: the last part of the key, quotes and controls removed.
    pub file_name: String,
}

pub async fn open_download(state: &AppState, caller: &Caller, bucket: &str, key: &str) -> Result<Download, AppError> {
    let (bucket, object) = existing_object(state, caller, bucket, key).await?;
    let (size, stream) = state
        .storage
        .stream(&Storage::bucket_key(&caller.region, &bucket.id, &object.key))
        .await
        .map_err(|error| AppError::internal("object read", error))?;
    let file_name: String =
        object.key.rsplit('/').next().unwrap_or("download").chars().filter(|c| *c != '"' && !c.is_control()).collect();
    Ok(Download { size, stream, file_name: file_name.replace(|c: char| !c.is_ascii(), "_") })
}

/// Removes uploads nobody touched for a day, with their chunks.
pub async fn sweep_stale_uploads(state: &AppState) -> Result<(), AppError> {
    for id in store::stale_uploads(&state.db, now_ms() - 24 * 3600 * 1000).await? {
        forget_upload(state, &id).await?;
    }
    Ok(())
}
