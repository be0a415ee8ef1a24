//! Bucket and object records. Buckets belong to one project (account + region); names are
//! unique within a region.

use super::{BucketView, ObjectView, UploadView};
use crate::auth::CurrentUser;
use crate::db::{now_ms, Db};
use crate::error::AppError;
use crate::storage::Storage;

pub fn no_such_bucket(name: &str) -> AppError {
    AppError::NotFound(format!("Bucket '{name}' does not exist in this region."))
}

/// Fails unless the caller's project owns `bucket` in the selected region.
pub async fn require_bucket(db: &Db, user: &CurrentUser, bucket: &str) -> Result<(), AppError> {
    let found: Option<String> = sqlx::query_scalar("SELECT name FROM buckets WHERE region = $1 AND name = $2 AND project_id = $3")
        .bind(&user.region)
        .bind(bucket)
        .bind(&user.project_id)
        .fetch_optional(db)
        .await?;
    found.map(|_| ()).ok_or_else(|| no_such_bucket(bucket))
}

pub async fn list_buckets(db: &Db, user: &CurrentUser) -> Result<Vec<BucketView>, AppError> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT b.name, b.created_at, \
         (SELECT COUNT(*) FROM bucket_objects o WHERE o.region = b.region AND o.bucket = b.name), \
         (SELECT CAST(COALESCE(SUM(o.size), 0) AS BIGINT) FROM bucket_objects o WHERE o.region = b.region AND o.bucket = b.name) \
         FROM buckets b WHERE b.region = $1 AND b.project_id = $2 ORDER BY b.name",
    )
    .bind(&user.region)
    .bind(&user.project_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(name, created_at, objects, bytes)| BucketView { name, created_at, objects, bytes }).collect())
}

pub async fn create_bucket(db: &Db, user: &CurrentUser, name: &str) -> Result<(), AppError> {
    let inserted = sqlx::query(
        "INSERT INTO buckets (region, name, project_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&user.region)
    .bind(name)
    .bind(&user.project_id)
    .bind(now_ms())
    .execute(db)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::Conflict(format!("A bucket named '{name}' already exists in this region. Choose another name.")));
    }
    Ok(())
}

pub async fn delete_bucket(db: &Db, user: &CurrentUser, name: &str) -> Result<(), AppError> {
    require_bucket(db, user, name).await?;
    let objects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bucket_objects WHERE region = $1 AND bucket = $2")
        .bind(&user.region)
        .bind(name)
        .fetch_one(db)
        .await?;
    let uploads: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE region = $1 AND bucket = $2")
        .bind(&user.region)
        .bind(name)
        .fetch_one(db)
        .await?;
    if objects > 0 || uploads > 0 {
        return Err(AppError::Conflict(format!(
            "Bucket '{name}' is not empty ({objects} objects, {uploads} unfinished uploads). Delete them first."
        )));
    }
    sqlx::query("DELETE FROM buckets WHERE region = $1 AND name = $2 AND project_id = $3")
        .bind(&user.region)
        .bind(name)
        .bind(&user.project_id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn list_objects(db: &Db, region: &str, bucket: &str) -> Result<Vec<ObjectView>, AppError> {
    let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT object_key, size, sha256, created_at FROM bucket_objects WHERE region = $1 AND bucket = $2 ORDER BY object_key",
    )
    .bind(region)
    .bind(bucket)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(key, size, sha256, created_at)| ObjectView { key, size, sha256, created_at }).collect())
}

pub async fn find_object(db: &Db, region: &str, bucket: &str, key: &str) -> Result<Option<ObjectView>, AppError> {
    let row: Option<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT object_key, size, sha256, created_at FROM bucket_objects WHERE region = $1 AND bucket = $2 AND object_key = $3",
    )
    .bind(region)
    .bind(bucket)
    .bind(key)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(key, size, sha256, created_at)| ObjectView { key, size, sha256, created_at }))
}

/// Records an object written to the store (replacing an older one of the same name).
pub async fn record_object(db: &Db, region: &str, bucket: &str, key: &str, size: u64, sha256: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bucket_objects (region, bucket, object_key, size, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (region, bucket, object_key) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, \
         created_at = excluded.created_at",
    )
    .bind(region)
    .bind(bucket)
    .bind(key)
    .bind(size as i64)
    .bind(sha256)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_object(db: &Db, storage: &Storage, region: &str, bucket: &str, key: &str) -> Result<(), AppError> {
    if find_object(db, region, bucket, key).await?.is_none() {
        return Err(AppError::NotFound(format!("Object '{key}' does not exist in bucket '{bucket}'.")));
    }
    storage
        .delete(&Storage::bucket_key(region, bucket, key))
        .await
        .map_err(|error| AppError::internal("object delete", error))?;
    sqlx::query("DELETE FROM bucket_objects WHERE region = $1 AND bucket = $2 AND object_key = $3")
        .bind(region)
        .bind(bucket)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn list_uploads(db: &Db, user: &CurrentUser, bucket: &str) -> Result<Vec<UploadView>, AppError> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT u.object_key, u.size, \
         (SELECT CAST(COALESCE(SUM(c.size), 0) AS BIGINT) FROM upload_chunks c WHERE c.upload_id = u.id), u.updated_at \
         FROM uploads u WHERE u.project_id = $1 AND u.region = $2 AND u.bucket = $3 ORDER BY u.updated_at DESC",
    )
    .bind(&user.project_id)
    .bind(&user.region)
    .bind(bucket)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, size, received_bytes, updated_at)| UploadView { key, size, received_bytes, updated_at })
        .collect())
}
