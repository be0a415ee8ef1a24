//! The jobs table: enqueue, claim with a lease, heartbeat, finish. Claims are single-row
//! conditional UPDATEs, so they are atomic on SQLite and on PostgreSQL shared by several
//! server instances.

use crate::db::{new_hex_id, now_ms, Db};
use serde_json::Value;
use sqlx::{Any, Transaction};

pub const STATUS_INIT: &str = "INIT";
pub const STATUS_RUNNING: &str = "RUNNING";
pub const STATUS_SUCCESS: &str = "SUCCESS";
pub const STATUS_FAIL: &str = "FAIL";
/// A job interrupted this many times (its server died each time) fails instead of resuming.
pub const MAX_ATTEMPTS: i64 = 3;

pub struct NewJob<'a> {
    pub project_id: &'a str,
    pub region: &'a str,
    pub job_type: &'a str,
    pub image_id: &'a str,
    /// The server or disk the job works on, if any.
    pub resource_id: &'a str,
    pub params: Value,
    pub entities: Value,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub project_id: String,
    pub region: String,
    pub job_type: String,
    pub image_id: String,
    pub resource_id: String,
    pub status: String,
    pub percent: f64,
    pub current_task: String,
    pub error_code: String,
    pub fail_reason: String,
    pub params: String,
    pub entities: String,
    pub cancel_requested: i64,
    pub lease_owner: String,
    pub lease_expires_at: i64,
    pub attempts: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
}

impl JobRow {
    pub fn params(&self) -> Value {
        serde_json::from_str(&self.params).unwrap_or(Value::Null)
    }

    pub fn entities(&self) -> Value {
        serde_json::from_str(&self.entities).unwrap_or(Value::Null)
    }
}

/// Adds a job inside the caller's transaction, so the job and what it works on (an image
/// row, say) appear together or not at all.
pub async fn enqueue(transaction: &mut Transaction<'_, Any>, job: NewJob<'_>) -> Result<String, sqlx::Error> {
    let id = new_hex_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO jobs (id, project_id, region, job_type, image_id, resource_id, status, params, entities, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'INIT', $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(job.project_id)
    .bind(job.region)
    .bind(job.job_type)
    .bind(job.image_id)
    .bind(job.resource_id)
    .bind(job.params.to_string())
    .bind(job.entities.to_string())
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok(id)
}

pub async fn get(db: &Db, id: &str) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM jobs WHERE id = $1").bind(id).fetch_optional(db).await
}

pub async fn list_for_project(db: &Db, project_id: &str, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM jobs WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
        .bind(project_id)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Claims the oldest job that is waiting, or whose owner stopped renewing its lease, as long
/// as its project is under its concurrency limit.
pub async fn claim_next(db: &Db, owner: &str, lease_ms: i64, per_project: i64) -> Result<Option<JobRow>, sqlx::Error> {
    let now = now_ms();
    let candidates: Vec<String> = sqlx::query_scalar(
        "SELECT j.id FROM jobs j \
         WHERE (j.status = 'INIT' OR (j.status = 'RUNNING' AND j.lease_expires_at < $1)) \
         AND (j.cancel_requested = 1 OR (SELECT COUNT(*) FROM jobs r WHERE r.project_id = j.project_id \
              AND r.status = 'RUNNING' AND r.lease_expires_at >= $1) < $2) \
         ORDER BY j.created_at, j.id LIMIT 8",
    )
    .bind(now)
    .bind(per_project)
    .fetch_all(db)
    .await?;
    for id in candidates {
        let claimed = sqlx::query(
            "UPDATE jobs SET status = 'RUNNING', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1, \
             started_at = COALESCE(started_at, $3), updated_at = $3 \
             WHERE id = $4 AND (status = 'INIT' OR (status = 'RUNNING' AND lease_expires_at < $3))",
        )
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .bind(&id)
        .execute(db)
        .await?;
        if claimed.rows_affected() == 1 {
            return get(db, &id).await;
        }
    }
    Ok(None)
}

/// Renews the lease and records progress. Returns `(still owned, cancel requested)`.
pub async fn heartbeat(
    db: &Db,
    id: &str,
    owner: &str,
    lease_ms: i64,
    percent: f64,
    task: &str,
) -> Result<(bool, bool), sqlx::Error> {
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $1, percent = $2, current_task = $3, updated_at = $4 \
         WHERE id = $5 AND lease_owner = $6 AND status = 'RUNNING'",
    )
    .bind(now + lease_ms)
    .bind(percent)
    .bind(task)
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(db)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok((false, true));
    }
    let cancel: i64 = sqlx::query_scalar("SELECT cancel_requested FROM jobs WHERE id = $1").bind(id).fetch_one(db).await?;
    Ok((true, cancel != 0))
}

pub async fn succeed(db: &Db, id: &str, owner: &str, entities: &Value) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE jobs SET status = 'SUCCESS', percent = 100, current_task = '', entities = $1, finished_at = $2, \
         updated_at = $2, lease_owner = '' WHERE id = $3 AND lease_owner = $4 AND status = 'RUNNING'",
    )
    .bind(entities.to_string())
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

pub async fn fail(db: &Db, id: &str, owner: &str, code: &str, reason: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE jobs SET status = 'FAIL', error_code = $1, fail_reason = $2, current_task = '', finished_at = $3, \
         updated_at = $3, lease_owner = '' WHERE id = $4 AND lease_owner = $5 AND status = 'RUNNING'",
    )
    .bind(code)
    .bind(reason)
    .bind(now)
    .bind(id)
    .bind(owner)
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Asks for a job of `project_id` to stop. `None` if there is no such job; `Some(false)` if it
/// has already finished.
pub async fn request_cancel(db: &Db, project_id: &str, id: &str) -> Result<Option<bool>, sqlx::Error> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1 AND project_id = $2")
        .bind(id)
        .bind(project_id)
        .fetch_optional(db)
        .await?;
    let Some(status) = status else { return Ok(None) };
    if status == STATUS_SUCCESS || status == STATUS_FAIL {
        return Ok(Some(false));
    }
    sqlx::query("UPDATE jobs SET cancel_requested = 1, updated_at = $1 WHERE id = $2 AND project_id = $3")
        .bind(now_ms())
        .bind(id)
        .bind(project_id)
        .execute(db)
        .await?;
    Ok(Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn queue_with(jobs: &[&str]) -> (Db, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("ims-queue-{}.db", new_hex_id()));
        let db = crate::db::connect_and_migrate(&format!("sqlite:{}?mode=rwc", path.display())).await.unwrap();
        for project in jobs {
            let mut transaction = db.begin().await.unwrap();
            let job = NewJob { project_id: project, region: "r", job_type: "test", image_id: "", resource_id: "", params: json!({}), entities: json!({}) };
            enqueue(&mut transaction, job).await.unwrap();
            transaction.commit().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        (db, path)
    }

    #[tokio::test]
    async fn claims_respect_the_project_limit_and_expired_leases() {
        let (db, path) = queue_with(&["a", "a", "a", "b"]).await;
        let first = claim_next(&db, "w1", 60_000, 2).await.unwrap().unwrap();
        let second = claim_next(&db, "w1", 60_000, 2).await.unwrap().unwrap();
        let third = claim_next(&db, "w1", 60_000, 2).await.unwrap().unwrap();
        assert_eq!((first.project_id.as_str(), second.project_id.as_str()), ("a", "a"));
        assert_eq!(third.project_id, "b", "project a is at its limit of 2, so b goes next");
        assert!(claim_next(&db, "w1", 60_000, 2).await.unwrap().is_none());

        // The owner of the first job dies: once its lease has run out another worker takes it.
        sqlx::query("UPDATE jobs SET lease_expires_at = 0 WHERE id = $1").bind(&first.id).execute(&db).await.unwrap();
        let taken = claim_next(&db, "w2", 60_000, 2).await.unwrap().unwrap();
        assert_eq!((taken.id.as_str(), taken.lease_owner.as_str(), taken.attempts), (first.id.as_str(), "w2", 2));
        assert_eq!(heartbeat(&db, &first.id, "w1", 60_000, 50.0, "x").await.unwrap(), (false, true), "the old owner lost it");
        assert_eq!(heartbeat(&db, &first.id, "w2", 60_000, 50.0, "x").await.unwrap(), (true, false));
        assert!(!succeed(&db, &first.id, "w1", &json!({})).await.unwrap(), "only the owner finishes a job");
        assert!(succeed(&db, &first.id, "w2", &json!({})).await.unwrap());

        assert_eq!(request_cancel(&db, "a", &first.id).await.unwrap(), Some(false), "finished jobs cannot be cancelled");
        assert_eq!(request_cancel(&db, "b", &first.id).await.unwrap(), None, "another project's job is not found");
        assert_eq!(request_cancel(&db, "a", &second.id).await.unwrap(), Some(true));
        db.close().await;
        std::fs::remove_file(path).ok();
    }
}
