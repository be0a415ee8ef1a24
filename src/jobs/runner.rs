//! Job workers. The runner knows no domain: each domain registers a `JobHandler` for its job
//! type (image import, export, ...). Handlers must be idempotent: a job whose server died
//! runs again from the start on whichever instance claims it next.

use super::queue::{self, JobRow, MAX_ATTEMPTS};
use crate::config::JobSettings;
use crate::db::Db;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

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

    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "job step failed: {context}");
        JobFailure::new("IMS.INTERNAL", format!("{context} failed on the server. Try again."))
    }
}

#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    fn job_type(&self) -> &'static str;
    /// Does the work and returns the job's final entities.
    async fn run(&self, job: &JobContext) -> Result<Value, JobFailure>;
    /// Cleans up after a failed or cancelled job and records the failure where users see it.
    async fn failed(&self, job: &JobContext, failure: &JobFailure);
}

/// What a handler sees of its job. Progress is recorded here and written by the heartbeat.
pub struct JobContext {
    pub row: JobRow,
    pub params: Value,
    pub entities: Value,
    percent_bits: AtomicU64,
    task: Mutex<String>,
    cancel: Arc<AtomicBool>,
}

impl JobContext {
    fn new(row: JobRow) -> Self {
        JobContext {
            params: row.params(),
            entities: row.entities(),
            percent_bits: AtomicU64::new(row.percent.to_bits()),
            task: Mutex::new(String::new()),
            cancel: Arc::new(AtomicBool::new(row.cancel_requested != 0)),
            row,
        }
    }

    pub fn id(&self) -> &str {
        &self.row.id
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

pub struct Runner {
    db: Db,
    settings: JobSettings,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    owner: String,
    wake: Arc<Notify>,
    running: RunningJobs,
}

impl Runner {
    /// `wake` lets enqueuers on this instance start work at once instead of at the next poll.
    pub fn new(
        db: Db,
        settings: JobSettings,
        handlers: Vec<Arc<dyn JobHandler>>,
        wake: Arc<Notify>,
        running: RunningJobs,
    ) -> Self {
        let handlers = handlers.into_iter().map(|handler| (handler.job_type(), handler)).collect();
        let owner = format!("{}-{}", std::process::id(), crate::db::new_hex_id());
        Runner { db, settings, handlers, owner, wake, running }
    }

    pub fn start(self) -> Vec<tokio::task::JoinHandle<()>> {
        let runner = Arc::new(self);
        (0..runner.settings.workers)
            .map(|_| {
                let runner = runner.clone();
                tokio::spawn(async move { runner.work().await })
            })
            .collect()
    }

    fn lease_ms(&self) -> i64 {
        self.settings.lease_seconds * 1000
    }

    async fn work(&self) {
        loop {
            match queue::claim_next(&self.db, &self.owner, self.lease_ms(), self.settings.per_project).await {
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
        let job = Arc::new(JobContext::new(row));
        let Some(handler) = self.handlers.get(job.row.job_type.as_str()).cloned() else {
            let failure = JobFailure::new("IMS.UNKNOWN_JOB", format!("No worker handles '{}' jobs.", job.row.job_type));
            let _ = queue::fail(&self.db, job.id(), &self.owner, &failure.code, &failure.reason).await;
            return;
        };
        tracing::info!(job = job.id(), kind = %job.row.job_type, attempt = job.row.attempts, "job started");

        let outcome = if job.row.attempts > MAX_ATTEMPTS {
            Err(JobFailure::new("IMS.INTERRUPTED", format!("The job was interrupted {MAX_ATTEMPTS} times and was stopped.")))
        } else if job.cancel.load(Ordering::Relaxed) {
            Err(JobFailure::cancelled())
        } else {
            let lost = Arc::new(AtomicBool::new(false));
            let heartbeat = self.spawn_heartbeat(job.clone(), lost.clone());
            self.running.insert(job.id(), job.cancel_flag());
            let result = handler.run(&job).await;
            self.running.remove(job.id());
            heartbeat.abort();
            if lost.load(Ordering::Relaxed) {
                tracing::warn!(job = job.id(), "lease lost; another instance owns the job now");
                return;
            }
            result
        };
        match outcome {
            Ok(entities) => {
                if let Err(error) = queue::succeed(&self.db, job.id(), &self.owner, &entities).await {
                    tracing::error!(%error, job = job.id(), "recording job success failed");
                }
                tracing::info!(job = job.id(), "job succeeded");
            }
            Err(failure) => {
                handler.failed(&job, &failure).await;
                if let Err(error) = queue::fail(&self.db, job.id(), &self.owner, &failure.code, &failure.reason).await {
                    tracing::error!(%error, job = job.id(), "recording job failure failed");
                }
                tracing::info!(job = job.id(), reason = %failure.reason, "job failed");
            }
        }
    }

    /// Renews the lease and writes progress every second; raises the cancel flag when the
    /// user cancels or the lease is lost.
    fn spawn_heartbeat(&self, job: Arc<JobContext>, lost: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
        let (db, owner, lease_ms) = (self.db.clone(), self.owner.clone(), self.lease_ms());
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
