//! The jobs table: enqueue, claim with a lease, heartbeat, finish. Claims are single-row
//! conditional UPDATEs, so they are atomic on SQLite and on PostgreSQL shared by several
//! server instances. This file is the only one that writes the table.

use super::model::{JobEntities, JobStatus, JobView};
use crate::caller::Caller;
use crate::db::{new_hex_id, now_ms, Db};
use crate::error::AppError;
use serde::Serialize;
use sqlx::{Any, Transaction};

/// A job interrupted this many times (its server died each time) fails instead of resuming.
pub const MAX_ATTEMPTS: i64 = 3;

/// A job to queue: its kind, the caller whose project it runs for, its typed parameters (the
/// handler reads them back with `JobContext::params`) and what it works on.
pub struct NewJob {
    project_id: String,
    region: String,
    job_type: &'static str,
    image_id: String,
    resource_id: String,
    source_image_id: String,
    params: String,
    entities: JobEntities,
}

impl NewJob {
    pub fn new(caller: &Caller, job_type: &'static str, params: &impl Serialize, entities: JobEntities) -> NewJob {
        NewJob::in_project(&caller.project_id, &caller.region, job_type, params, entities)
    }

    /// A job of a project with nobody behind it (the recycle bin's sweeper).
    pub fn in_project(
        project_id: &str,
        region: &str,
        job_type: &'static str,
        params: &impl Serialize,
        entities: JobEntities,
    ) -> NewJob {
        // Parameters are plain structs of strings and numbers, which always serialise; were one
        // not to, the handler would fail the job with a clear reason instead of guessing.
        let params = serde_json::to_string(params).unwrap_or_else(|_| "null".to_string());
        NewJob {
            project_id: project_id.to_string(),
            region: region.to_string(),
            job_type,
            image_id: String::new(),
            resource_id: String::new(),
            source_image_id: String::new(),
            params,
            entities,
        }
    }

    /// The image the job creates or reads (its progress shows in the image list).
    pub fn for_image(mut self, image_id: &str) -> NewJob {
        self.image_id = image_id.to_string();
        self
    }

    /// The server or disk the job works on, so conflicting work on it can be refused.
    /// The image whose file the job reads; the image cannot be deleted while the job is pending.
    pub fn reading_image(mut self, image_id: &str) -> NewJob {
        self.source_image_id = image_id.to_string();
        self
    }

    pub fn on_resource(mut self, resource_id: &str) -> NewJob {
        self.resource_id = resource_id.to_string();
        self
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub project_id: String,
    pub region: String,
    pub job_type: String,
    pub image_id: String,
    pub resource_id: String,
    pub status: JobStatus,
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
    /// Entities written by this version are always readable; anything else reads as empty.
    pub fn entities(&self) -> JobEntities {
        serde_json::from_str(&self.entities).unwrap_or_default()
    }

    pub fn view(self) -> JobView {
        let entities = self.entities();
        JobView {
            image_id: entities.image_id,
            image_name: entities.image_name,
            target: entities.target,
            server_id: entities.server_id,
            id: self.id,
            job_type: self.job_type,
            status: self.status,
            percent: self.percent,
            current_task: self.current_task,
            fail_reason: self.fail_reason,
            created_at: self.created_at,
            finished_at: self.finished_at,
        }
    }
}

/// The stored form of a job's entities (a struct of strings, which always serialises).
fn entities_json(entities: &JobEntities) -> String {
    serde_json::to_string(entities).unwrap_or_else(|_| "{}".to_string())
}

/// Adds a job inside the caller's transaction, so the job and what it works on (an image
/// row, say) appear together or not at all.
/// Jobs one project may have waiting at once (its queued-jobs quota, set at start-up); more are
/// refused until some have run.
static QUEUE_CAP: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(100);

pub fn set_queue_cap(cap: i64) {
    QUEUE_CAP.store(cap, std::sync::atomic::Ordering::Relaxed);
}

pub fn queue_cap() -> i64 {
    QUEUE_CAP.load(std::sync::atomic::Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{0} jobs of this project are already waiting to run")]
    Full(i64),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<QueueError> for AppError {
    fn from(error: QueueError) -> Self {
        match error {
            QueueError::Full(cap) => AppError::TooMany(format!(
                "{cap} jobs of this project are already waiting to run (its quota); try again when some have finished."
            )),
            QueueError::Db(error) => error.into(),
        }
    }
}

pub async fn enqueue(transaction: &mut Transaction<'_, Any>, job: NewJob) -> Result<String, QueueError> {
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE project_id = $1 AND status = 'INIT'")
        .bind(&job.project_id)
        .fetch_one(&mut **transaction)
        .await?;
    let cap = queue_cap();
    if waiting >= cap {
        return Err(QueueError::Full(cap));
    }
    Ok(insert(transaction, &job, false).await?)
}

/// Records work that was done at once, inside the transaction that did it, as a finished job
/// (IMS reports member changes as jobs; their work is a few rows, so it is never queued).
pub async fn record_finished(transaction: &mut Transaction<'_, Any>, job: NewJob) -> Result<String, sqlx::Error> {
    insert(transaction, &job, true).await
}

/// Inserts the job waiting (INIT), or `finished` (SUCCESS, started and finished now).
async fn insert(transaction: &mut Transaction<'_, Any>, job: &NewJob, finished: bool) -> Result<String, sqlx::Error> {
    let id = new_hex_id();
    let now = now_ms();
    let (status, percent, ended) = if finished { ("SUCCESS", 100.0, Some(now)) } else { ("INIT", 0.0, None) };
    sqlx::query(
        "INSERT INTO jobs (id, project_id, region, job_type, image_id, resource_id, source_image_id, status, percent, \
         params, entities, created_at, started_at, finished_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $12)",
    )
    .bind(&id)
    .bind(&job.project_id)
    .bind(&job.region)
    .bind(job.job_type)
    .bind(&job.image_id)
    .bind(&job.resource_id)
    .bind(&job.source_image_id)
    .bind(status)
    .bind(percent)
    .bind(&job.params)
    .bind(entities_json(&job.entities))
    .bind(now)
    .bind(ended)
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

/// Which jobs a worker takes.
#[derive(Clone, Debug)]
pub enum Lane {
    /// Every kind but `except`, while the job's project has fewer than `per_project` running.
    General { except: Vec<&'static str>, per_project: i64 },
    /// Only these (quick) kinds, with no per-project limit.
    Quick(Vec<&'static str>),
}

/// Claims a job that is waiting, or whose owner stopped renewing its lease: among the oldest
/// ones, the one whose project has the fewest jobs running, skipping projects at their limit.
///
/// Cost: the running jobs (at most the cluster's workers) are counted per project first;
/// the scan for waiting jobs then skips only the queued jobs of projects at their limit,
/// which are at most workers × the queued-jobs quota, however long the whole queue is.
pub async fn claim_next(db: &Db, owner: &str, lease_ms: i64, lane: &Lane) -> Result<Option<JobRow>, sqlx::Error> {
    let now = now_ms();
    let running: Vec<(String, i64)> = sqlx::query_as(
        "SELECT project_id, COUNT(*) FROM jobs WHERE status = 'RUNNING' AND lease_expires_at >= $1 GROUP BY project_id",
    )
    .bind(now)
    .fetch_all(db)
    .await?;
    let running_in = |project: &str| running.iter().find(|(id, _)| id == project).map_or(0, |(_, count)| *count);
    let (kinds, exclude, full): (&[&str], bool, Vec<&str>) = match lane {
        Lane::General { except, per_project } => (
            except,
            true,
            running.iter().filter(|(_, count)| count >= per_project).map(|(id, _)| id.as_str()).collect(),
        ),
        Lane::Quick(kinds) => {
            if kinds.is_empty() {
                // No quick kinds registered: this lane has nothing to take.
                return Ok(None);
            }
            (kinds, false, Vec::new())
        }
    };
    // $1 is now; the kinds and the full projects follow as numbered parameters.
    let list = |from: usize, count: usize| (from..from + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let mut filters = String::new();
    if !kinds.is_empty() {
        let not = if exclude { "NOT " } else { "" };
        filters.push_str(&format!(" AND job_type {not}IN ({})", list(2, kinds.len())));
    }
    if !full.is_empty() {
        // A cancelled job still goes, to be wound up, whatever its project's limit.
        let projects = list(2 + kinds.len(), full.len());
        filters.push_str(&format!(" AND (cancel_requested = 1 OR project_id NOT IN ({projects}))"));
    }
    let sql = format!(
        "SELECT id, project_id FROM (\
           SELECT id, project_id, created_at FROM (SELECT id, project_id, created_at FROM jobs \
             WHERE status = 'INIT'{filters} ORDER BY created_at LIMIT 8) waiting \
           UNION ALL \
           SELECT id, project_id, created_at FROM (SELECT id, project_id, created_at FROM jobs \
             WHERE status = 'RUNNING' AND lease_expires_at < $1{filters} ORDER BY lease_expires_at LIMIT 8) orphaned\
         ) candidates ORDER BY created_at, id"
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(now);
    for value in kinds.iter().copied().chain(full.iter().copied()) {
        query = query.bind(value);
    }
    let mut candidates = query.fetch_all(db).await?;
    // Fewest running first; the sort is stable, so the oldest first among equals.
    candidates.sort_by_key(|(_, project)| running_in(project));
    for (id, _) in candidates {
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
    let cancel: i64 =
        sqlx::query_scalar("SELECT cancel_requested FROM jobs WHERE id = $1").bind(id).fetch_one(db).await?;
    Ok((true, cancel != 0))
}

pub async fn succeed(db: &Db, id: &str, owner: &str, entities: &JobEntities) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE jobs SET status = 'SUCCESS', percent = 100, current_task = '', entities = $1, finished_at = $2, \
         updated_at = $2, lease_owner = '' WHERE id = $3 AND lease_owner = $4 AND status = 'RUNNING'",
    )
    .bind(entities_json(entities))
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
    let status: Option<JobStatus> = sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1 AND project_id = $2")
        .bind(id)
        .bind(project_id)
        .fetch_optional(db)
        .await?;
    let Some(status) = status else { return Ok(None) };
    if status.is_finished() {
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

/// Types of the jobs queued or running on a server or disk, oldest first.
pub async fn pending_on<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    resource_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT job_type FROM jobs WHERE resource_id = $1 AND status IN ('INIT', 'RUNNING') ORDER BY created_at",
    )
    .bind(resource_id)
    .fetch_all(executor)
    .await
}

/// Whether job `id` is running on some instance whose lease has not run out.
pub async fn is_running_somewhere(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let live: Option<i64> = sqlx::query_scalar(
        "SELECT lease_expires_at FROM jobs WHERE id = $1 AND status = 'RUNNING' AND lease_expires_at > $2",
    )
    .bind(id)
    .bind(now_ms())
    .fetch_optional(db)
    .await?;
    Ok(live.is_some())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A caller of `project` in region r.
    pub fn test_caller(project: &str) -> Caller {
        Caller {
            user_id: "u".into(),
            user_name: "tester".into(),
            role: crate::caller::Role::Admin,
            account_id: "a".into(),
            account_name: "test".into(),
            region: "r".into(),
            project_id: project.into(),
        }
    }

    pub async fn queue_with(jobs: &[&str]) -> (Db, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("ims-queue-{}.db", new_hex_id()));
        let db = crate::db::connect_and_migrate(&format!("sqlite:{}?mode=rwc", path.display())).await.unwrap();
        for project in jobs {
            let mut transaction = db.begin().await.unwrap();
            enqueue(&mut transaction, NewJob::new(&test_caller(project), "test", &(), JobEntities::default()))
                .await
                .unwrap();
            transaction.commit().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        (db, path)
    }

    fn general(per_project: i64) -> Lane {
        Lane::General { except: vec!["quick"], per_project }
    }

    #[tokio::test]
    async fn claims_respect_the_project_limit_and_expired_leases() {
        let (db, path) = queue_with(&["a", "a", "a", "b"]).await;
        let lane = general(2);
        let first = claim_next(&db, "w1", 60_000, &lane).await.unwrap().unwrap();
        let second = claim_next(&db, "w1", 60_000, &lane).await.unwrap().unwrap();
        let third = claim_next(&db, "w1", 60_000, &lane).await.unwrap().unwrap();
        assert_eq!(first.project_id, "a", "the oldest first");
        assert_eq!(second.project_id, "b", "then the project with fewer jobs running, though its job is newer");
        assert_eq!(third.project_id, "a");
        assert!(claim_next(&db, "w1", 60_000, &lane).await.unwrap().is_none(), "a is at its limit of 2");

        // The owner of the first job dies: once its lease has run out another worker takes it.
        sqlx::query("UPDATE jobs SET lease_expires_at = 0 WHERE id = $1").bind(&first.id).execute(&db).await.unwrap();
        let taken = claim_next(&db, "w2", 60_000, &lane).await.unwrap().unwrap();
        assert_eq!((taken.id.as_str(), taken.lease_owner.as_str(), taken.attempts), (first.id.as_str(), "w2", 2));
        assert_eq!(
            heartbeat(&db, &first.id, "w1", 60_000, 50.0, "x").await.unwrap(),
            (false, true),
            "the old owner lost it"
        );
        assert_eq!(heartbeat(&db, &first.id, "w2", 60_000, 50.0, "x").await.unwrap(), (true, false));
        assert!(
            !succeed(&db, &first.id, "w1", &JobEntities::default()).await.unwrap(),
            "only the owner finishes a job"
        );
        assert!(succeed(&db, &first.id, "w2", &JobEntities::default()).await.unwrap());

        assert_eq!(
            request_cancel(&db, "a", &first.id).await.unwrap(),
            Some(false),
            "finished jobs cannot be cancelled"
        );
        assert_eq!(request_cancel(&db, "b", &first.id).await.unwrap(), None, "another project's job is not found");
        assert_eq!(request_cancel(&db, "a", &third.id).await.unwrap(), Some(true));
        db.close().await;
        std::fs::remove_file(path).ok();
    }

    /// One project with a long queue never keeps another's job waiting behind it, quick jobs
    /// have a lane of their own, and a project's waiting jobs are capped.
    #[tokio::test]
    async fn a_busy_project_cannot_starve_another() {
        let mut projects = vec!["busy"; 50];
        projects.push("other");
        let (db, path) = queue_with(&projects).await;
        let lane = general(1);
        assert_eq!(claim_next(&db, "w1", 60_000, &lane).await.unwrap().unwrap().project_id, "busy");
        let next = claim_next(&db, "w2", 60_000, &lane).await.unwrap().unwrap();
        assert_eq!(next.project_id, "other", "behind 49 waiting jobs of a project at its limit");
        assert!(claim_next(&db, "w3", 60_000, &lane).await.unwrap().is_none());

        let mut transaction = db.begin().await.unwrap();
        let quick = NewJob::new(&test_caller("busy"), "quick", &(), JobEntities::default());
        enqueue(&mut transaction, quick).await.unwrap();
        transaction.commit().await.unwrap();
        assert!(claim_next(&db, "w3", 60_000, &lane).await.unwrap().is_none(), "general workers leave quick jobs");
        let quick = claim_next(&db, "q", 60_000, &Lane::Quick(vec!["quick"])).await.unwrap().unwrap();
        assert_eq!((quick.job_type.as_str(), quick.project_id.as_str()), ("quick", "busy"), "despite busy's limit");

        let mut added = 0;
        let full = loop {
            let mut transaction = db.begin().await.unwrap();
            let job = NewJob::new(&test_caller("busy"), "test", &(), JobEntities::default());
            match enqueue(&mut transaction, job).await {
                Ok(_) => transaction.commit().await.unwrap(),
                Err(error) => break error,
            }
            added += 1;
        };
        assert!(matches!(full, QueueError::Full(100)));
        assert_eq!(49 + added, queue_cap(), "49 were waiting; more are taken up to the cap");
        db.close().await;
        std::fs::remove_file(path).ok();
    }
}
