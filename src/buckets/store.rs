//! Bucket, object and upload records: the only writer of those tables. Buckets belong to one
//! project (account + region); names are unique within a region.

use super::model::{BucketView, ObjectView, UploadView};
use crate::caller::Caller;
use crate::db::{new_hex_id, now_ms, Db};
use crate::error::AppError;

pub fn no_such_bucket(name: &str) -> AppError {
    AppError::NotFound(format!("Bucket '{name}' does not exist in this region."))
}

/// A bucket of the caller's: its surrogate id (what objects, uploads and exports refer to and
/// where its objects are stored) and its name.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BucketRow {
    pub id: String,
    pub name: String,
}

/// The caller's bucket `name` in its region, or NotFound.
pub async fn require_bucket(db: &Db, caller: &Caller, name: &str) -> Result<BucketRow, AppError> {
    sqlx::query_as("SELECT id, name FROM buckets WHERE region = $1 AND name = $2 AND project_id = $3")
        .bind(&caller.region)
        .bind(name)
        .bind(&caller.project_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| no_such_bucket(name))
}

/// The bucket `id`, if it still exists and is the project's.
pub async fn bucket_by_id(db: &Db, project_id: &str, id: &str) -> Result<Option<BucketRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM buckets WHERE id = $1 AND project_id = $2")
        .bind(id)
        .bind(project_id)
        .fetch_optional(db)
        .await
}

pub async fn list_buckets(db: &Db, caller: &Caller) -> Result<Vec<BucketView>, AppError> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT b.name, b.created_at, \
         (SELECT COUNT(*) FROM bucket_objects o WHERE o.bucket_id = b.id), \
         (SELECT CAST(COALESCE(SUM(o.size), 0) AS BIGINT) FROM bucket_objects o WHERE o.bucket_id = b.id) \
         FROM buckets b WHERE b.region = $1 AND b.project_id = $2 ORDER BY b.name",
    )
    .bind(&caller.region)
    .bind(&caller.project_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, created_at, objects, bytes)| BucketView { name, created_at, objects, bytes })
        .collect())
}

pub async fn create_bucket(db: &Db, caller: &Caller, name: &str) -> Result<(), AppError> {
    let inserted = sqlx::query(
        "INSERT INTO buckets (id, region, name, project_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(new_hex_id())
    .bind(&caller.region)
    .bind(name)
    .bind(&caller.project_id)
    .bind(now_ms())
    .execute(db)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::Conflict(format!(
            "A bucket named '{name}' already exists in this region. Choose another name."
        )));
    }
    Ok(())
}

/// (objects, unfinished uploads, queued or running exports) of a bucket.
pub async fn bucket_contents(db: &Db, bucket_id: &str) -> Result<(i64, i64, i64), AppError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM bucket_objects WHERE bucket_id = $1), \
         (SELECT COUNT(*) FROM uploads WHERE bucket_id = $1), \
         (SELECT COUNT(*) FROM jobs WHERE resource_id = $1 AND status IN ('INIT', 'RUNNING'))",
    )
    .bind(bucket_id)
    .fetch_one(db)
    .await?)
}

/// Deletes the bucket in one statement that holds only while it has no objects, no open
/// uploads and no pending exports; false when one of those (or the bucket) was there.
pub async fn delete_empty_bucket(db: &Db, caller: &Caller, bucket_id: &str) -> Result<bool, AppError> {
    let deleted = sqlx::query(
        "DELETE FROM buckets WHERE id = $1 AND project_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM bucket_objects WHERE bucket_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM uploads WHERE bucket_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM jobs WHERE resource_id = $1 AND status IN ('INIT', 'RUNNING'))",
    )
    .bind(bucket_id)
    .bind(&caller.project_id)
    .execute(db)
    .await?;
    Ok(deleted.rows_affected() == 1)
}

pub async fn list_objects(db: &Db, bucket_id: &str) -> Result<Vec<ObjectView>, AppError> {
    let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT object_key, size, sha256, created_at FROM bucket_objects WHERE bucket_id = $1 ORDER BY object_key",
    )
    .bind(bucket_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(key, size, sha256, created_at)| ObjectView { key, size, sha256, created_at }).collect())
}

pub async fn find_object(db: &Db, bucket_id: &str, key: &str) -> Result<Option<ObjectView>, AppError> {
    let row: Option<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT object_key, size, sha256, created_at FROM bucket_objects WHERE bucket_id = $1 AND object_key = $2",
    )
    .bind(bucket_id)
    .bind(key)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(key, size, sha256, created_at)| ObjectView { key, size, sha256, created_at }))
}

/// Records an object written to the store (replacing an older one of the same name).
pub async fn record_object<'c>(
    db: impl sqlx::Executor<'c, Database = sqlx::Any>,
    bucket_id: &str,
    key: &str,
    size: u64,
    sha256: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bucket_objects (bucket_id, object_key, size, sha256, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (bucket_id, object_key) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256, \
         created_at = excluded.created_at",
    )
    .bind(bucket_id)
    .bind(key)
    .bind(size as i64)
    .bind(sha256)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn forget_object(db: &Db, bucket_id: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM bucket_objects WHERE bucket_id = $1 AND object_key = $2")
        .bind(bucket_id)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// How long a writer may hold an object before another may take it over (a crashed
/// instance's lock runs out).
const OBJECT_LOCK_MS: i64 = 15 * 60_000;

/// Takes the write lock of one object for `holder`; false while someone else holds it.
pub async fn lock_object(db: &Db, bucket_id: &str, key: &str, holder: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let taken = sqlx::query(
        "INSERT INTO object_locks (bucket_id, object_key, holder, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (bucket_id, object_key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE object_locks.expires_at < $5 OR object_locks.holder = excluded.holder",
    )
    .bind(bucket_id)
    .bind(key)
    .bind(holder)
    .bind(now + OBJECT_LOCK_MS)
    .bind(now)
    .execute(db)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Releases `holder`'s lock (never another holder's).
pub async fn unlock_object(db: &Db, bucket_id: &str, key: &str, holder: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM object_locks WHERE bucket_id = $1 AND object_key = $2 AND holder = $3")
        .bind(bucket_id)
        .bind(key)
        .bind(holder)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn list_uploads(db: &Db, caller: &Caller, bucket_id: &str) -> Result<Vec<UploadView>, AppError> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT u.object_key, u.size, \
         (SELECT CAST(COALESCE(SUM(c.size), 0) AS BIGINT) FROM upload_chunks c WHERE c.upload_id = u.id), u.updated_at \
         FROM uploads u WHERE u.project_id = $1 AND u.bucket_id = $2 ORDER BY u.updated_at DESC",
    )
    .bind(&caller.project_id)
    .bind(bucket_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, size, received_bytes, updated_at)| UploadView { key, size, received_bytes, updated_at })
        .collect())
}

/// An upload in progress.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UploadRow {
    pub id: String,
    pub bucket_id: String,
    pub object_key: String,
    pub size: i64,
    pub chunk_size: i64,
}

/// One of the caller's uploads in its region (into a bucket that is still the project's).
pub async fn find_upload(db: &Db, caller: &Caller, id: &str) -> Result<Option<UploadRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.bucket_id, u.object_key, u.size, u.chunk_size FROM uploads u \
         JOIN buckets b ON b.id = u.bucket_id AND b.project_id = u.project_id \
         WHERE u.id = $1 AND u.project_id = $2 AND b.region = $3",
    )
    .bind(id)
    .bind(&caller.project_id)
    .bind(&caller.region)
    .fetch_optional(db)
    .await
}

/// The caller's latest unfinished upload of the same object and size, to resume.
pub async fn find_resumable(
    db: &Db,
    caller: &Caller,
    bucket_id: &str,
    key: &str,
    size: u64,
) -> Result<Option<UploadRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, bucket_id, object_key, size, chunk_size FROM uploads \
         WHERE project_id = $1 AND bucket_id = $2 AND object_key = $3 AND size = $4 \
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(&caller.project_id)
    .bind(bucket_id)
    .bind(key)
    .bind(size as i64)
    .fetch_optional(db)
    .await
}

/// Starts recording a new upload; returns its row.
pub async fn insert_upload(
    db: &Db,
    caller: &Caller,
    bucket_id: &str,
    key: &str,
    size: u64,
    chunk_size: u64,
) -> Result<UploadRow, sqlx::Error> {
    let row = UploadRow {
        id: new_hex_id(),
        bucket_id: bucket_id.to_string(),
        object_key: key.to_string(),
        size: size as i64,
        chunk_size: chunk_size as i64,
    };
    sqlx::query(
        "INSERT INTO uploads (id, project_id, bucket_id, object_key, size, chunk_size, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&row.id)
    .bind(&caller.project_id)
    .bind(&row.bucket_id)
    .bind(&row.object_key)
    .bind(row.size)
    .bind(row.chunk_size)
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(row)
}

/// Indexes of the chunks stored so far, in order.
pub async fn received_chunks(db: &Db, upload_id: &str) -> Result<Vec<u64>, sqlx::Error> {
    let received: Vec<i64> =
        sqlx::query_scalar("SELECT chunk_index FROM upload_chunks WHERE upload_id = $1 ORDER BY chunk_index")
            .bind(upload_id)
            .fetch_all(db)
            .await?;
    Ok(received.into_iter().map(|index| index as u64).collect())
}

/// Records a stored chunk (again is fine: a retried chunk replaces its object).
pub async fn record_chunk(db: &Db, upload_id: &str, index: u64, size: u64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO upload_chunks (upload_id, chunk_index, size) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(upload_id)
        .bind(index as i64)
        .bind(size as i64)
        .execute(db)
        .await?;
    sqlx::query("UPDATE uploads SET updated_at = $1 WHERE id = $2").bind(now_ms()).bind(upload_id).execute(db).await?;
    Ok(())
}

pub async fn forget_upload(db: &Db, upload_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM upload_chunks WHERE upload_id = $1").bind(upload_id).execute(db).await?;
    sqlx::query("DELETE FROM uploads WHERE id = $1").bind(upload_id).execute(db).await?;
    Ok(())
}

/// Uploads nobody touched since `cutoff` (unix ms).
pub async fn stale_uploads(db: &Db, cutoff: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM uploads WHERE updated_at < $1").bind(cutoff).fetch_all(db).await
}
