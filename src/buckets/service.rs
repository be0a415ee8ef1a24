//! What a caller can do with its buckets and their objects. Every operation checks that the
//! bucket belongs to the caller's project in its region first.

use super::model::{validate_bucket_name, BucketView, ObjectView};
use super::store;
use crate::caller::Caller;
use crate::error::AppError;
use crate::state::AppState;
use crate::storage::Storage;

/// Fails unless the caller's project owns `bucket` in its region.
pub async fn require_bucket(state: &AppState, caller: &Caller, bucket: &str) -> Result<(), AppError> {
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

/// Deletes an empty bucket of the caller's.
pub async fn delete_bucket(state: &AppState, caller: &Caller, name: &str) -> Result<(), AppError> {
    require_bucket(state, caller, name).await?;
    let (objects, uploads) = store::bucket_contents(&state.db, caller, name).await?;
    if objects > 0 || uploads > 0 {
        return Err(AppError::Conflict(format!(
            "Bucket '{name}' is not empty ({objects} objects, {uploads} unfinished uploads). Delete them first."
        )));
    }
    store::delete_bucket(&state.db, caller, name).await
}

pub async fn list_objects(state: &AppState, caller: &Caller, bucket: &str) -> Result<Vec<ObjectView>, AppError> {
    require_bucket(state, caller, bucket).await?;
    store::list_objects(&state.db, &caller.region, bucket).await
}

/// The object `key` of one of the caller's buckets, if it exists.
pub async fn find_object(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    key: &str,
) -> Result<Option<ObjectView>, AppError> {
    require_bucket(state, caller, bucket).await?;
    store::find_object(&state.db, &caller.region, bucket, key).await
}

/// `find_object`, with a NotFound error naming the object when it does not exist.
pub async fn existing_object(
    state: &AppState,
    caller: &Caller,
    bucket: &str,
    key: &str,
) -> Result<ObjectView, AppError> {
    find_object(state, caller, bucket, key)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Object '{key}' does not exist in bucket '{bucket}'.")))
}

pub async fn delete_object(state: &AppState, caller: &Caller, bucket: &str, key: &str) -> Result<(), AppError> {
    existing_object(state, caller, bucket, key).await?;
    let region = &caller.region;
    state
        .storage
        .delete(&Storage::bucket_key(region, bucket, key))
        .await
        .map_err(|error| AppError::internal("object delete", error))?;
    store::forget_object(&state.db, region, bucket, key).await?;
    Ok(())
}
