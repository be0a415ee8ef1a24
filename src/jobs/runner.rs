//! Job workers. The runner knows no domain: each domain registers a `JobHandler` for its job
//! types (image import, export, ...). Handlers must be idempotent: a job whose server died
//! runs again from the start on whichever instance claims it next.

use super::model::JobEntities;
use super::queue::{self, JobRow, MAX_ATTEMPTS};
use crate::config::{JobSettings, QuotaSettings};
use crate::db::Db;
use crate::engine::convert::ProcessLimits;
use crate::engine::inspect::Limits;
use crate::storage::Storage;
use async_trait::async_trait;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// What every job handler works with: the database, the object store, its scratch folder and
/// the limits external tools run under.
#[derive(Clone)]
pub struct JobEnv {
    pub db: Db,
    pub storage: Storage,
    /// Holds one folder per running job, named by the job id.
    pub work_dir: PathBuf,
    pub process_limits: ProcessLimits,
    pub inspect_limits: Limits,
    pub quotas: QuotaSettings,
    /// Jobs do not start with less than this free where they work.
    pub min_free_bytes: u64,
    pub hooks: Arc<TestHooks>,
}

type Hook = Arc<dyn Fn(&str) + Send + Sync>;

/// Points inside jobs and services where a test can act, to show what happens when someone
/// else acts, or a step fails, at the worst moment. Nothing is set in production; an unset
/// hook costs one lock.
#[derive(Default)]
pub struct TestHooks {
    after_inspection: Mutex<Option<Hook>>,
    failing_upload_step: Mutex<Option<&'static str>>,
    export_gate: Mutex<Option<Arc<tokio::sync::Semaphore>>>,
}

impl TestHooks {
    /// `hook` runs with the source object's key once an import has inspected its file.
    pub fn set_after_inspection(&self, hook: impl Fn(&str) + Send + Sync + 'static) {
        *self.after_inspection.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
    }

    /// Makes upload completion fail just before `step` ("compose", "verify", "record", "rename").
    pub fn fail_upload_at(&self, step: Option<&'static str>) {
        *self.failing_upload_step.lock().unwrap_or_else(|e| e.into_inner()) = step;
    }

    /// Whether a test asked the upload completion to fail before `step`.
    pub fn upload_fails_at(&self, step: &str) -> bool {
        *self.failing_upload_step.lock().unwrap_or_else(|e| e.into_inner()) == Some(step)
    }

    /// Exports wait for a permit of `gate` before writing to the bucket (`None`: no waiting).
    pub fn set_export_gate(&self, gate: Option<Arc<tokio::sync::Semaphore>>) {
        *self.export_gate.lock().unwrap_or_else(|e| e.into_inner()) = gate;
    }

    pub async fn pass_export_gate(&self) {
        let gate = self.export_gate.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(gate) = gate {
            let _ = gate.acquire().await;
        }
    }

    pub fn after_inspection(&self, key: &str) {
        let hook = self.after_inspection.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            hook(key);
        }
    }
}

/// Why a job failed: a stable code and a sentence for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobFailure {
    pub code: String,
    pub reason: String,
}

impl JobFailure {
    pub fn new(code: &str, reason: impl Into<String>) -> Self {
        JobFailure { code: code.to_string(), reason: reason.into() }
    }

    pub fn cancelled() -> Self {
        JobFailure::new("IMS.CANCELLED", "The job was cancelled by the user.")
    }

    /// A failure of ours, not of the user's input: `context` names the step ("image upload")
    /// for the user; the cause goes to the log only.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        let error = error.to_string();
        tracing::error!(%error, "job step failed: {context}");
        if error.contains("No space left on device") {
            return JobFailure::no_space(context);
        }
        let mut step = context.chars();
        let step: String = step.next().map(|first| first.to_uppercase().chain(step).collect()).unwrap_or_default();
        JobFailure::new("IMS.INTERNAL", format!("{step} failed on the server. Try again."))
    }

    /// The server's disk is full: the tenant did nothing wrong and can try again later.
    pub fn no_space(context: &str) -> Self {
        JobFailure::new(
            "IMS.NO_SPACE",
            format!("The service ran out of disk space ({context}). Nothing was kept; try again later."),
        )
    }
}

impl From<sqlx::Error> for JobFailure {
    fn from(error: sqlx::Error) -> Self {
        JobFailure::internal("a database step", error)
    }
}

#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    fn job_type(&self) -> &'static str;
    /// Quick jobs (an ECS start or stop: seconds, no disk work) run in a lane of their own, so
    /// long conversions of any tenant never keep them waiting.
    fn quick(&self) -> bool {
        false
    }
    /// Does the work and returns the job's final entities.
    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure>;
    /// Cleans up after a failed or cancelled job and records the failure where users see it.
    async fn failed(&self, job: &JobContext, failure: &JobFailure);
}

/// What a handler sees of its job. Progress is recorded here and written by the heartbeat.
pub struct JobContext {
    pub row: JobRow,
    pub env: JobEnv,
    pub entities: JobEntities,
    percent_bits: AtomicU64,
    task: Mutex<String>,
    cancel: Arc<AtomicBool>,
}

impl JobContext {
    pub fn new(row: JobRow, env: JobEnv) -> Self {
        JobContext {
            entities: row.entities(),
            percent_bits: AtomicU64::new(row.percent.to_bits()),
            task: Mutex::new(String::new()),
            cancel: Arc::new(AtomicBool::new(row.cancel_requested != 0)),
            row,
            env,
        }
    }

    pub fn id(&self) -> &str {
        &self.row.id
    }

    /// The job's parameters as the struct its kind queued. A missing or misspelt field is a
    /// clear failure, never an empty value.
    pub fn params<P: DeserializeOwned>(&self) -> Result<P, JobFailure> {
        serde_json::from_str(&self.row.params).map_err(|error| {
            tracing::error!(%error, job = self.id(), kind = %self.row.job_type, "unreadable job parameters");
            JobFailure::new("IMS.BAD_PARAMS", format!("The job's parameters cannot be read: {error}."))
        })
    }

    /// This job's scratch folder.
    pub fn work_folder(&self) -> PathBuf {
        self.env.work_dir.join(self.id())
    }

    /// An empty scratch folder: a job that resumes after a crash starts clean.
    pub async fn fresh_work_folder(&self) -> Result<PathBuf, JobFailure> {
        let folder = self.work_folder();
        let _ = tokio::fs::remove_dir_all(&folder).await;
        tokio::fs::create_dir_all(&folder).await.map_err(|error| JobFailure::internal("work folder", error))?;
        Ok(folder)
    }

    pub async fn remove_work_folder(&self) {
        let _ = tokio::fs::remove_dir_all(self.work_folder()).await;
    }

    pub fn set_progress(&self, percent: f64, task: &str) {
        self.percent_bits.store(percent.clamp(0.0, 100.0).to_bits(), Ordering::Relaxed);
        if let Ok(mut current) = self.task.lock() {
            task.clone_into(&mut current);
        }
    }

    fn progress(&self) -> (f64, String) {
        let task = self.task.lock().map(|task| task.clone()).unwrap_or_default();
        (f64::from_bits(self.percent_bits.load(Ordering::Relaxed)), task)
    }

    /// Set when the user cancels or the lease is lost; blocking work polls it.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    pub fn check_cancelled(&self) -> Result<(), JobFailure> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(JobFailure::cancelled())
        } else {
            Ok(())
        }
    }
}

/// Cancel flags of the jobs running in this instance, so a cancel request made here stops
/// its job at once (requests made on other instances arrive with the next heartbeat).
#[derive(Clone, Default)]
pub struct RunningJobs(Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>);

impl RunningJobs {
    pub fn cancel(&self, job_id: &str) {
        if let Some(flag) = self.0.lock().ok().and_then(|running| running.get(job_id).cloned()) {
            flag.store(true, Ordering::Relaxed);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().map(|running| running.is_empty()).unwrap_or(true)
    }

    fn insert(&self, job_id: &str, flag: Arc<AtomicBool>) {
        if let Ok(mut running) = self.0.lock() {
            running.insert(job_id.to_string(), flag);
        }
    }

    fn remove(&self, job_id: &str) {
        if let Ok(mut running) = self.0.lock() {
            running.remove(job_id);
        }
    }
}

/// A job this instance is running. Dropping it, also while a panicking handler unwinds, stops
/// the heartbeat and forgets the cancel flag, so no dead job keeps renewing its lease.
struct RunningJob {
    heartbeat: tokio::task::AbortHandle,
    running: RunningJobs,
    id: String,
}

impl RunningJob {
    fn new(job: &JobContext, heartbeat: tokio::task::AbortHandle, running: RunningJobs) -> Self {
        running.insert(job.id(), job.cancel_flag());
        RunningJob { heartbeat, running, id: job.id().to_string() }
    }
}

impl Drop for RunningJob {
    fn drop(&mut self) {
        self.heartbeat.abort();
        self.running.remove(&self.id);
    }
}

pub struct Runner {
    env: JobEnv,
    settings: JobSettings,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    owner: String,
    wake: Arc<Notify>,
    running: RunningJobs,
}

impl Runner {
    /// `wake` lets enqueuers on this instance start work at once instead of at the next poll.
    pub fn new(
        env: JobEnv,
        settings: JobSettings,
        handlers: Vec<Arc<dyn JobHandler>>,
        wake: Arc<Notify>,
        running: RunningJobs,
    ) -> Self {
        let handlers = handlers.into_iter().map(|handler| (handler.job_type(), handler)).collect();
        let owner = format!("{}-{}", std::process::id(), crate::db::new_hex_id());
        Runner { env, settings, handlers, owner, wake, running }
    }

    /// Starts the configured number of general workers and one worker for quick jobs.
    pub fn start(self) -> Vec<tokio::task::JoinHandle<()>> {
        let runner = Arc::new(self);
        let quick: Vec<&'static str> =
            runner.handlers.values().filter(|handler| handler.quick()).map(|handler| handler.job_type()).collect();
        let general = queue::Lane::General { except: quick.clone(), per_project: runner.settings.fair_share() };
        let mut lanes = vec![general; runner.settings.workers];
        lanes.push(queue::Lane::Quick(quick));
        lanes
            .into_iter()
            .map(|lane| {
                let runner = runner.clone();
                tokio::spawn(async move { runner.work(lane).await })
            })
            .collect()
    }

    fn db(&self) -> &Db {
        &self.env.db
    }

    /// Runs every waiting job here, one after another, until none is left (the demo's seeding,
    /// before the server serves: its jobs go through the same handlers as any other).
    pub async fn run_until_idle(&self) {
        let lane = queue::Lane::General { except: Vec::new(), per_project: i64::MAX };
        while let Ok(Some(row)) = queue::claim_next(self.db(), &self.owner, self.lease_ms(), &lane).await {
            self.run_job(row).await;
        }
    }

    fn lease_ms(&self) -> i64 {
        self.settings.lease_seconds * 1000
    }

    async fn work(&self, lane: queue::Lane) {
        loop {
            match queue::claim_next(self.db(), &self.owner, self.lease_ms(), &lane).await {
                Ok(Some(row)) => self.run_job(row).await,
                Ok(None) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "claiming a job failed");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    async fn run_job(&self, row: JobRow) {
        let job = Arc::new(JobContext::new(row, self.env.clone()));
        let Some(handler) = self.handlers.get(job.row.job_type.as_str()).cloned() else {
            let failure = JobFailure::new("IMS.UNKNOWN_JOB", format!("No worker handles '{}' jobs.", job.row.job_type));
            let _ = queue::fail(self.db(), job.id(), &self.owner, &failure.code, &failure.reason).await;
            return;
        };
        tracing::info!(job = job.id(), kind = %job.row.job_type, attempt = job.row.attempts, "job started");

        let free = crate::engine::tool::free_bytes(&self.env.work_dir).unwrap_or(u64::MAX);
        let outcome = if free < self.env.min_free_bytes {
            tracing::error!(free, "too little disk space to start a job");
            Err(JobFailure::new(
                "IMS.NO_SPACE",
                format!(
                    "The service is short of disk space (under {} GB free), so the job was not started. Try again later.",
                    self.env.min_free_bytes >> 30
                ),
            ))
        } else if job.row.attempts > MAX_ATTEMPTS {
            Err(JobFailure::new(
                "IMS.INTERRUPTED",
                format!("The job was interrupted {MAX_ATTEMPTS} times and was stopped."),
            ))
        } else if job.cancel.load(Ordering::Relaxed) {
            Err(JobFailure::cancelled())
        } else {
            let lost = Arc::new(AtomicBool::new(false));
            let heartbeat = self.spawn_heartbeat(job.clone(), lost.clone());
            let running = RunningJob::new(&job, heartbeat.abort_handle(), self.running.clone());
            let result = run_catching_panics(handler.as_ref(), &job).await;
            drop(running);
            if lost.load(Ordering::Relaxed) {
                tracing::warn!(job = job.id(), "lease lost; another instance owns the job now");
                return;
            }
            result
        };
        match outcome {
            Ok(entities) => {
                if let Err(error) = queue::succeed(self.db(), job.id(), &self.owner, &entities).await {
                    tracing::error!(%error, job = job.id(), "recording job success failed");
                }
                tracing::info!(job = job.id(), "job succeeded");
            }
            Err(failure) => {
                handler.failed(&job, &failure).await;
                if let Err(error) = queue::fail(self.db(), job.id(), &self.owner, &failure.code, &failure.reason).await
                {
                    tracing::error!(%error, job = job.id(), "recording job failure failed");
                }
                tracing::info!(job = job.id(), reason = %failure.reason, "job failed");
            }
        }
    }

    /// Renews the lease and writes progress every second; raises the cancel flag when the
    /// user cancels or the lease is lost.
    fn spawn_heartbeat(&self, job: Arc<JobContext>, lost: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
        let (db, owner, lease_ms) = (self.db().clone(), self.owner.clone(), self.lease_ms());
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(1));
            loop {
                interval.tick().await;
                let (percent, task) = job.progress();
                match queue::heartbeat(&db, job.id(), &owner, lease_ms, percent, &task).await {
                    Ok((owned, cancel)) => {
                        if cancel {
                            job.cancel.store(true, Ordering::Relaxed);
                        }
                        if !owned {
                            lost.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "job heartbeat failed"),
                }
            }
        })
    }
}

/// Runs the handler; a panic in it fails the job instead of taking the worker down with it.
async fn run_catching_panics(handler: &dyn JobHandler, job: &JobContext) -> Result<JobEntities, JobFailure> {
    AssertUnwindSafe(handler.run(job)).catch_unwind().await.unwrap_or_else(|_| {
        tracing::error!(job = job.id(), kind = %job.row.job_type, "job handler panicked");
        Err(JobFailure::new("IMS.INTERNAL", "The job stopped on an internal error. Try again."))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_a_reason_of_its_own() {
        let failure = JobFailure::internal("image upload", "No space left on device (os error 28)");
        assert_eq!(failure.code, "IMS.NO_SPACE");
        assert!(failure.reason.contains("ran out of disk space (image upload)"), "{}", failure.reason);
        assert_eq!(JobFailure::internal("image upload", "connection reset").code, "IMS.INTERNAL");
    }
    use crate::jobs::model::JobStatus;
    use crate::jobs::queue::tests::queue_with;

    struct Panics;

    #[async_trait]
    impl JobHandler for Panics {
        fn job_type(&self) -> &'static str {
            "test"
        }

        async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
            // The first job panics; the rest succeed, so the worker must have survived.
            if job.row.project_id == "a" {
                panic!("a bug in a handler");
            }
            Ok(JobEntities::default())
        }

        async fn failed(&self, _job: &JobContext, _failure: &JobFailure) {}
    }

    fn env(db: &Db) -> JobEnv {
        JobEnv {
            db: db.clone(),
            storage: Storage::open(&crate::storage::StorageConfig::Local { root: std::env::temp_dir() }).unwrap(),
            work_dir: std::env::temp_dir(),
            process_limits: ProcessLimits::default(),
            hooks: Default::default(),
            inspect_limits: Limits::default(),
            quotas: QuotaSettings {
                images: 100,
                stored_bytes: 1 << 40,
                objects: 100,
                uploads: 10,
                servers: 10,
                disks: 10,
                queued_jobs: 100,
            },
            min_free_bytes: 0,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_handler_fails_its_job_and_frees_its_worker() {
        let (db, path) = queue_with(&["a", "b"]).await;
        let running = RunningJobs::default();
        let settings = JobSettings { workers: 2, lease_seconds: 60, per_project: 2 };
        let runner = Runner::new(env(&db), settings, vec![Arc::new(Panics)], Arc::new(Notify::new()), running.clone());
        let workers = runner.start();
        let mut jobs = Vec::new();
        for _ in 0..200 {
            jobs = sqlx::query_as::<_, JobRow>("SELECT * FROM jobs ORDER BY created_at").fetch_all(&db).await.unwrap();
            if jobs.iter().all(|job| job.status.is_finished()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let outcome: Vec<(&str, JobStatus, &str)> =
            jobs.iter().map(|job| (job.project_id.as_str(), job.status, job.error_code.as_str())).collect();
        assert_eq!(outcome, [("a", JobStatus::Fail, "IMS.INTERNAL"), ("b", JobStatus::Success, "")]);
        assert!(jobs.iter().all(|job| job.lease_owner.is_empty()), "no lease is held");
        assert!(running.is_empty(), "the panicked job's cancel flag is forgotten");
        for worker in workers {
            worker.abort();
        }
        db.close().await;
        std::fs::remove_file(path).ok();
    }

    #[tokio::test]
    async fn the_guard_stops_the_heartbeat_when_a_handler_unwinds() {
        let (db, path) = queue_with(&["a"]).await;
        let row = sqlx::query_as::<_, JobRow>("SELECT * FROM jobs").fetch_one(&db).await.unwrap();
        let job = JobContext::new(row, env(&db));
        let running = RunningJobs::default();
        let heartbeat = tokio::spawn(std::future::pending::<()>());
        let unwound = AssertUnwindSafe(async {
            let _guard = RunningJob::new(&job, heartbeat.abort_handle(), running.clone());
            assert!(!running.is_empty());
            panic!("a bug in a handler");
        })
        .catch_unwind()
        .await;
        assert!(unwound.is_err());
        assert!(heartbeat.await.unwrap_err().is_cancelled(), "the heartbeat task was aborted");
        assert!(running.is_empty());
        db.close().await;
        std::fs::remove_file(path).ok();
    }
}
