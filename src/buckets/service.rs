//! What a caller can do with its buckets and their objects. Every operation checks that the
//! bucket belongs to the caller's project in its region first.

use super::model::{validate_bucket_name, BucketView, ObjectView};
use super::store::{self, BucketRow};
use crate::caller::Caller;
use crate::error::AppError;
use crate::state::AppState;
use crate::storage::Storage;

/// The caller's bucket `bucket` in its region, or NotFound.
pub async fn require_bucket(state: &AppState, caller: &Caller, bucket: &str) -> Result<BucketRow, AppError> {
    store::require_bucket(&state.db, caller, bucket).await
}

pub async fn list_buckets(state: &AppState, caller: &Caller) -> Result<Vec<BucketView>, AppError> {
    store::list_buckets(&state.db, caller).await
}

pub async fn create_bucket(state: &AppState, caller: &Caller, name: &str) -> Result<(), AppError> {
    let name = name.trim();
    validate_bucket_name(name).map_err(AppError::Invalid)?;
    store::create_bucket(&state.db, caller, name).await
}

/// Deletes an empty bucket of the caller's: no objects, no unfinished uploads, no pending
/// exports. The check and the delete are one statement, so nothing can slip in between.
pub async fn delete_bucket(state: &AppState, caller: &Caller, name: &str) -> Result<(), AppError> {
    let bucket = require_bucket(state, caller, name).await?;
    if store::delete_empty_bucket(&state.db, caller, &bucket.id).await? {
        return Ok(());
    }
    let (objects, uploads, exports) = store::bucket_contents(&state.db, &bucket.id).await?;
    Err(AppError::Conflict(format!(
        "Bucket '{name}' is not empty ({objects} objects, {uploads} unfinished uploads, {exports} exports on the way). \
         Delete them or wait for the exports first."
    )))
}

pub async fn list_objects(state: &AppState, caller: &Caller, bucket: &str) -> Result<Vec<ObjectView>, AppError> {
    let bucket = require_bucket(state, caller, bucket).await?;
    store::list_objects(&state.db, &bucket.id).await
}

/// The object `key` of one of the caller's buckets, if it exists.
pub async fn find_object(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    key: &str,
) -> Result<Option<(BucketRow, ObjectView)>, AppError> {
    let bucket = require_bucket(state, caller, bucket).await?;
    Ok(store::find_object(&state.db, &bucket.id, key).await?.map(|object| (bucket, object)))
}

/// `find_object`, with a NotFound error naming the object when it does not exist.
pub async fn existing_object(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    key: &str,
) -> Result<(BucketRow, ObjectView), AppError> {
    find_object(state, caller, bucket, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Object '{key}' does not exist in bucket '{bucket}'.")))
}

/// Runs `work` holding the write lock of one object, so writes to one key (an upload
/// completing, an export, a delete) take turns across every instance.
pub async fn with_object_lock<T>(
    state: &AppState,
    bucket: &BucketRow,
    key: &str,
    work: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let holder = crate::db::new_hex_id();
    if !store::lock_object(&state.db, &bucket.id, key, &holder).await? {
        return Err(AppError::Conflict(format!(
            "Object '{key}' in bucket '{}' is being written; try again when that finishes.",
            bucket.name
        )));
    }
    let result = work.await;
    if let Err(error) = store::unlock_object(&state.db, &bucket.id, key, &holder).await {
        tracing::warn!(%error, "releasing an object lock (it runs out by itself)");
    }
    result
}

/// Deletes an object: its row first (so it is gone for every reader at once), then its file.
pub async fn delete_object(state: &AppState, caller: &Caller, bucket: &str, key: &str) -> Result<(), AppError> {
    let (bucket, object) = existing_object(state, caller, bucket, key).await?;
    with_object_lock(state, &bucket, &object.key, async {
        store::forget_object(&state.db, &bucket.id, &object.key).await?;
        let file = Storage::bucket_key(&caller.region, &bucket.id, &object.key);
        if let Err(error) = state.storage.delete(&file).await {
            // The row is gone, so nobody can reach the file; an operator's fsck sweeps it.
            tracing::warn!(%error, "deleting a bucket object's file");
        }
        Ok(())
    })
    .await
}
