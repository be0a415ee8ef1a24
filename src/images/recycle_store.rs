//! The recycle bin's rows. A deleted private image keeps its row, status, tags and file, with
//! `deleted_at` (it leaves every list and cannot be used) and `purge_at` (when the sweeper
//! removes its file). Restoring clears both; purging marks it deleted for good. A restore
//! needs `purge_at` in the future and a purge needs it in the past, so the two never race.

use super::model::{ImageStatus, RecycledImage};
use crate::caller::Caller;
use crate::db::{now_ms, Db};

/// Why an image cannot go to the recycle bin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RecycleRefusal {
    Protected,
    InProgress,
    Published,
    /// A pending job makes or reads its file.
    Busy,
}

/// What decides whether one of the caller's private images may be deleted.
#[derive(sqlx::FromRow)]
pub struct DeleteFacts {
    pub name: String,
    protected: i64,
    status: ImageStatus,
    published: i64,
    busy: i64,
    root_origin: String,
}

impl DeleteFacts {
    /// A Glance record that never got data (and is not getting any): nothing is being made.
    fn unfilled_glance_record(&self) -> bool {
        self.status == ImageStatus::Queued && self.root_origin == "glance" && self.busy == 0
    }

    pub fn refusal(&self) -> Option<RecycleRefusal> {
        if self.protected != 0 {
            Some(RecycleRefusal::Protected)
        } else if self.status.is_in_progress() && !self.unfilled_glance_record() {
            Some(RecycleRefusal::InProgress)
        } else if self.published > 0 {
            Some(RecycleRefusal::Published)
        } else if self.busy > 0 {
            Some(RecycleRefusal::Busy)
        } else {
            None
        }
    }
}

/// The facts of one of the caller's live private images; `None` when it is not one.
pub async fn delete_facts(db: &Db, caller: &Caller, id: &str) -> Result<Option<DeleteFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, protected, status, root_origin, \
         (SELECT COUNT(*) FROM market_offerings o WHERE o.image_id = i.id) AS published, \
         (SELECT COUNT(*) FROM jobs j WHERE (j.image_id = i.id OR j.source_image_id = i.id) \
          AND j.status IN ('INIT', 'RUNNING')) AS busy \
         FROM images i WHERE id = $1 AND owner = $2 AND imagetype = 'private' AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(&caller.project_id)
    .fetch_optional(db)
    .await
}

/// Moves one of the caller's private images to the recycle bin for `retention_ms`, and ends its
/// shares. Every condition of `DeleteFacts::refusal` is checked again by the one statement
/// that moves it: false when one no longer holds (nothing changed).
pub async fn recycle(db: &Db, caller: &Caller, id: &str, retention_ms: i64) -> Result<bool, sqlx::Error> {
    let mut transaction = db.begin().await?;
    let now = now_ms();
    let purge_at = now + retention_ms;
    let moved = sqlx::query(
        "UPDATE images SET deleted_at = $1, purge_at = $2, updated_at = $1 \
         WHERE id = $3 AND owner = $4 AND imagetype = 'private' AND deleted_at IS NULL AND protected = 0 \
         AND (status NOT IN ('queued', 'saving') OR (status = 'queued' AND root_origin = 'glance')) \
         AND NOT EXISTS (SELECT 1 FROM market_offerings o WHERE o.image_id = $3) \
         AND NOT EXISTS (SELECT 1 FROM jobs WHERE (image_id = $3 OR source_image_id = $3) AND status IN ('INIT', 'RUNNING'))",
    )
    .bind(now)
    .bind(purge_at)
    .bind(id)
    .bind(&caller.project_id)
    .execute(&mut *transaction)
    .await?;
    if moved.rows_affected() == 0 {
        transaction.rollback().await?;
        return Ok(false);
    }
    sqlx::query("DELETE FROM image_members WHERE image_id = $1").bind(id).execute(&mut *transaction).await?;
    transaction.commit().await?;
    Ok(true)
}

/// Brings an image back from the recycle bin. False when it is not in the caller's bin or its
/// time is up.
pub async fn restore(db: &Db, caller: &Caller, id: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let restored = sqlx::query(
        "UPDATE images SET deleted_at = NULL, purge_at = NULL, updated_at = $1 \
         WHERE id = $2 AND owner = $3 AND purge_at > $1",
    )
    .bind(now)
    .bind(id)
    .bind(&caller.project_id)
    .execute(db)
    .await?;
    Ok(restored.rows_affected() == 1)
}

/// Makes an image of the caller's bin due for purging now. False when it is not in the bin.
pub async fn purge_now(db: &Db, caller: &Caller, id: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let due = sqlx::query(
        "UPDATE images SET purge_at = $1, updated_at = $1 WHERE id = $2 AND owner = $3 AND purge_at IS NOT NULL",
    )
    .bind(now)
    .bind(id)
    .bind(&caller.project_id)
    .execute(db)
    .await?;
    Ok(due.rows_affected() == 1)
}

/// The caller's recycle bin, most recently deleted first.
pub async fn list(db: &Db, caller: &Caller) -> Result<Vec<RecycledImage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, image_kind, image_size, deleted_at, purge_at FROM images \
         WHERE owner = $1 AND purge_at IS NOT NULL ORDER BY deleted_at DESC, id DESC",
    )
    .bind(&caller.project_id)
    .fetch_all(db)
    .await
}

/// An image whose time in the bin is up, with what purging it removes.
#[derive(Debug, sqlx::FromRow)]
pub struct DueImage {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub region: String,
    pub file_location: String,
}

/// Up to `limit` images whose time in the bin is up.
pub async fn due(db: &Db, limit: i64) -> Result<Vec<DueImage>, sqlx::Error> {
    let sql = format!(
        "SELECT {DUE_COLUMNS} FROM images WHERE purge_at IS NOT NULL AND purge_at <= $1 ORDER BY purge_at LIMIT $2"
    );
    sqlx::query_as(&sql).bind(now_ms()).bind(limit).fetch_all(db).await
}

/// Image `id`, if its time in the bin is up.
pub async fn due_image(db: &Db, id: &str) -> Result<Option<DueImage>, sqlx::Error> {
    let sql = format!("SELECT {DUE_COLUMNS} FROM images WHERE id = $1 AND purge_at IS NOT NULL AND purge_at <= $2");
    sqlx::query_as(&sql).bind(id).bind(now_ms()).fetch_optional(db).await
}

const DUE_COLUMNS: &str = "id, name, owner, region, file_location";

/// The data disk files of a full-ECS image (beside its own file).
pub async fn part_keys(db: &Db, id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT object_key FROM image_disks WHERE image_id = $1").bind(id).fetch_all(db).await
}

/// After its files are gone: the image is deleted for good, with its tags, data disks and
/// stars. False when another instance finished it first (or it was restored before its time).
pub async fn mark_purged(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let mut transaction = db.begin().await?;
    let now = now_ms();
    let purged = sqlx::query(
        "UPDATE images SET status = $1, purge_at = NULL, file_location = '', updated_at = $2 \
         WHERE id = $3 AND purge_at IS NOT NULL AND purge_at <= $2",
    )
    .bind(ImageStatus::Deleted)
    .bind(now)
    .bind(id)
    .execute(&mut *transaction)
    .await?;
    if purged.rows_affected() == 0 {
        transaction.rollback().await?;
        return Ok(false);
    }
    for table in ["image_tags", "image_disks", "favorite_images"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE image_id = $1")).bind(id).execute(&mut *transaction).await?;
    }
    transaction.commit().await?;
    Ok(true)
}
