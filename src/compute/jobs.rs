//! The compute jobs: creating a server (its disks from the image), starting and stopping it,
//! changing its OS, creating an EVS disk from a data disk image, and the three ways of
//! creating an image from a server. Like every job they may run again from the start after
//! a crash, so each one rebuilds what it writes.

use super::files::build_disk;
use crate::db::{now_ms, Db};
use crate::engine::convert::ProcessLimits;
use crate::jobs::runner::{JobContext, JobFailure, JobHandler};
use crate::storage::Storage;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::PathBuf;

pub const CREATE_SERVER_JOB: &str = "ecsCreateServerJob";
pub const START_SERVER_JOB: &str = "ecsStartServerJob";
pub const STOP_SERVER_JOB: &str = "ecsStopServerJob";
pub const CHANGE_OS_JOB: &str = "ecsChangeOsJob";
pub const CREATE_DISK_JOB: &str = "evsCreateVolumeJob";
/// The IMS names of the jobs that create images from servers.
pub const SYSTEM_IMAGE_JOB: &str = "imsCreateImageByInstance";
pub const WHOLE_IMAGE_JOB: &str = "imsCreateWholeImageByInstanceJob";
pub const DATA_IMAGE_JOB: &str = "imsVolumeCreateImageJob";
pub const CAPTURE_JOBS: &[&str] = &[SYSTEM_IMAGE_JOB, WHOLE_IMAGE_JOB, DATA_IMAGE_JOB];

/// One disk a job writes: blank when `source_key` is empty, else the image file at it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DiskFill {
    pub disk_id: String,
    pub object_key: String,
    pub size_gb: i64,
    pub source_key: String,
    pub source_format: String,
}

/// What every compute job needs.
#[derive(Clone)]
pub struct ComputeJobs {
    pub db: Db,
    pub storage: Storage,
    pub work_dir: PathBuf,
    pub process_limits: ProcessLimits,
}

fn text<'a>(job: &'a JobContext, key: &str) -> &'a str {
    job.params[key].as_str().unwrap_or_default()
}

fn fills(value: &Value) -> Result<Vec<DiskFill>, JobFailure> {
    serde_json::from_value(value.clone()).map_err(|e| JobFailure::internal("job parameters", e))
}

fn db_failure(context: &str) -> impl Fn(sqlx::Error) -> JobFailure + '_ {
    move |error| JobFailure::internal(context, error)
}

impl ComputeJobs {
    pub fn handlers(&self) -> Vec<std::sync::Arc<dyn JobHandler>> {
        vec![
            std::sync::Arc::new(CreateServer(self.clone())),
            std::sync::Arc::new(Power { jobs: self.clone(), job_type: START_SERVER_JOB, from: "starting", to: "running", back: "stopped" }),
            std::sync::Arc::new(Power { jobs: self.clone(), job_type: STOP_SERVER_JOB, from: "stopping", to: "stopped", back: "running" }),
            std::sync::Arc::new(ChangeOs(self.clone())),
            std::sync::Arc::new(CreateDisk(self.clone())),
            std::sync::Arc::new(Capture { jobs: self.clone(), job_type: SYSTEM_IMAGE_JOB }),
            std::sync::Arc::new(Capture { jobs: self.clone(), job_type: WHOLE_IMAGE_JOB }),
            std::sync::Arc::new(Capture { jobs: self.clone(), job_type: DATA_IMAGE_JOB }),
        ]
    }

    fn scratch(&self, job: &JobContext) -> PathBuf {
        self.work_dir.join(job.id())
    }

    async fn fill_all(&self, job: &JobContext, fills: &[DiskFill], first: f64, last: f64) -> Result<(), JobFailure> {
        let scratch = self.scratch(job);
        for (index, fill) in fills.iter().enumerate() {
            job.check_cancelled()?;
            let step = (last - first) / fills.len() as f64;
            job.set_progress(first + step * index as f64, &format!("Writing disk {} of {}", index + 1, fills.len()));
            build_disk(&self.storage, self.process_limits, &scratch, fill, job.cancel_flag()).await?;
        }
        let _ = tokio::fs::remove_dir_all(&scratch).await;
        Ok(())
    }

    async fn remove_objects(&self, keys: impl Iterator<Item = &str>) {
        for key in keys {
            if let Err(error) = self.storage.delete(key).await {
                tracing::warn!(%error, key, "removing a failed job's disk file");
            }
        }
    }

    /// The status of a server or disk (`table`), if it still exists. A job that runs again after
    /// its work was committed (its server died before recording success) finds it moved on.
    async fn status_of(&self, table: &str, id: &str) -> Result<Option<String>, JobFailure> {
        sqlx::query_scalar(&format!("SELECT status FROM {table} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db)
            .await
            .map_err(|e| JobFailure::internal("status lookup", e))
    }

    async fn set_server(&self, server_id: &str, status: &str, reason: &str, from: &str) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query("UPDATE servers SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4 AND status = $5")
            .bind(status)
            .bind(reason)
            .bind(now_ms())
            .bind(server_id)
            .bind(from)
            .execute(&self.db)
            .await?;
        Ok(updated.rows_affected() == 1)
    }
}

struct CreateServer(ComputeJobs);

#[async_trait]
impl JobHandler for CreateServer {
    fn job_type(&self) -> &'static str {
        CREATE_SERVER_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<Value, JobFailure> {
        let server_id = text(job, "server_id");
        if self.0.status_of("servers", server_id).await?.as_deref() != Some("creating") {
            return Ok(job.entities.clone());
        }
        let fills = fills(&job.params["disks"])?;
        self.0.fill_all(job, &fills, 2.0, 95.0).await?;
        let mut transaction = self.0.db.begin().await.map_err(db_failure("server creation"))?;
        for fill in &fills {
            sqlx::query("UPDATE disks SET status = 'in_use', updated_at = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(&fill.disk_id)
                .execute(&mut *transaction)
                .await
                .map_err(db_failure("disk status"))?;
        }
        sqlx::query("UPDATE servers SET status = 'running', updated_at = $1 WHERE id = $2 AND status = 'creating'")
            .bind(now_ms())
            .bind(server_id)
            .execute(&mut *transaction)
            .await
            .map_err(db_failure("server status"))?;
        transaction.commit().await.map_err(db_failure("server creation"))?;
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        let server_id = text(job, "server_id");
        let _ = tokio::fs::remove_dir_all(self.0.scratch(job)).await;
        let reason = format!("Creating the ECS failed: {}", failure.reason);
        // Only a server still being created is failed (and its files removed): a job that ran
        // again after finishing must not touch a running server.
        match self.0.set_server(server_id, "error", &reason, "creating").await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => return tracing::error!(%error, server = server_id, "marking a failed server"),
        }
        let fills = fills(&job.params["disks"]).unwrap_or_default();
        self.0.remove_objects(fills.iter().map(|fill| fill.object_key.as_str())).await;
        let _ = sqlx::query("UPDATE disks SET status = 'error', status_reason = $1 WHERE server_id = $2 AND status = 'creating'")
            .bind(&reason)
            .bind(server_id)
            .execute(&self.0.db)
            .await;
    }
}

/// Starting or stopping: the server reaches `to` from the transitional `from`.
struct Power {
    jobs: ComputeJobs,
    job_type: &'static str,
    from: &'static str,
    to: &'static str,
    back: &'static str,
}

#[async_trait]
impl JobHandler for Power {
    fn job_type(&self) -> &'static str {
        self.job_type
    }

    async fn run(&self, job: &JobContext) -> Result<Value, JobFailure> {
        self.jobs.set_server(text(job, "server_id"), self.to, "", self.from).await.map_err(db_failure("server status"))?;
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        let _ = self.jobs.set_server(text(job, "server_id"), self.back, &failure.reason, self.from).await;
    }
}

struct ChangeOs(ComputeJobs);

#[async_trait]
impl JobHandler for ChangeOs {
    fn job_type(&self) -> &'static str {
        CHANGE_OS_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<Value, JobFailure> {
        let server_id = text(job, "server_id");
        let image_id = text(job, "image_id");
        let fill: DiskFill = serde_json::from_value(job.params["disk"].clone()).map_err(|e| JobFailure::internal("job parameters", e))?;
        if self.0.status_of("servers", server_id).await?.as_deref() != Some("changing_os") {
            return Ok(job.entities.clone());
        }
        // The new system disk is written beside the old one; the old one goes only once the
        // server points at the new one, so a failure leaves the server as it was.
        self.0.fill_all(job, std::slice::from_ref(&fill), 5.0, 95.0).await?;
        let image: Option<(String, String, String, String, String)> =
            sqlx::query_as("SELECT name, os_type, platform, os_version, hw_firmware_type FROM images WHERE id = $1")
                .bind(image_id)
                .fetch_optional(&self.0.db)
                .await
                .map_err(db_failure("image lookup"))?;
        let (name, os_type, platform, os_version, boot_mode) =
            image.ok_or_else(|| JobFailure::new("ECS.0204", "The image was deleted while the OS was being changed."))?;
        let old_key: Option<String> = sqlx::query_scalar("SELECT object_key FROM disks WHERE id = $1")
            .bind(&fill.disk_id)
            .fetch_optional(&self.0.db)
            .await
            .map_err(db_failure("disk lookup"))?;
        let now = now_ms();
        let mut transaction = self.0.db.begin().await.map_err(db_failure("OS change"))?;
        sqlx::query("UPDATE disks SET object_key = $1, image_id = $2, updated_at = $3 WHERE id = $4")
            .bind(&fill.object_key)
            .bind(image_id)
            .bind(now)
            .bind(&fill.disk_id)
            .execute(&mut *transaction)
            .await
            .map_err(db_failure("disk update"))?;
        sqlx::query(
            "UPDATE servers SET status = 'running', status_reason = '', image_id = $1, image_name = $2, os_type = $3, \
             platform = $4, os_version = $5, boot_mode = $6, temporary = 0, updated_at = $7 WHERE id = $8 AND status = 'changing_os'",
        )
        .bind(image_id)
        .bind(&name)
        .bind(&os_type)
        .bind(&platform)
        .bind(&os_version)
        .bind(&boot_mode)
        .bind(now)
        .bind(server_id)
        .execute(&mut *transaction)
        .await
        .map_err(db_failure("server update"))?;
        transaction.commit().await.map_err(db_failure("OS change"))?;
        if let Some(old_key) = old_key.filter(|old| *old != fill.object_key) {
            self.0.remove_objects(std::iter::once(old_key.as_str())).await;
        }
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        let _ = tokio::fs::remove_dir_all(self.0.scratch(job)).await;
        let reason = format!("Changing the OS failed; the old system disk is kept. {}", failure.reason);
        if !matches!(self.0.set_server(text(job, "server_id"), "stopped", &reason, "changing_os").await, Ok(true)) {
            return;
        }
        if let Ok(fill) = serde_json::from_value::<DiskFill>(job.params["disk"].clone()) {
            // Never the file a disk uses now (the swap may have committed before a crash).
            let in_use: Result<i64, _> =
                sqlx::query_scalar("SELECT COUNT(*) FROM disks WHERE object_key = $1").bind(&fill.object_key).fetch_one(&self.0.db).await;
            if matches!(in_use, Ok(0)) {
                self.0.remove_objects(std::iter::once(fill.object_key.as_str())).await;
            }
        }
    }
}

struct CreateDisk(ComputeJobs);

#[async_trait]
impl JobHandler for CreateDisk {
    fn job_type(&self) -> &'static str {
        CREATE_DISK_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<Value, JobFailure> {
        let fill: DiskFill = serde_json::from_value(job.params["disk"].clone()).map_err(|e| JobFailure::internal("job parameters", e))?;
        if self.0.status_of("disks", &fill.disk_id).await?.as_deref() != Some("creating") {
            return Ok(job.entities.clone());
        }
        self.0.fill_all(job, std::slice::from_ref(&fill), 5.0, 95.0).await?;
        sqlx::query("UPDATE disks SET status = 'available', status_reason = '', updated_at = $1 WHERE id = $2 AND status = 'creating'")
            .bind(now_ms())
            .bind(&fill.disk_id)
            .execute(&self.0.db)
            .await
            .map_err(db_failure("disk status"))?;
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        let _ = tokio::fs::remove_dir_all(self.0.scratch(job)).await;
        if let Ok(fill) = serde_json::from_value::<DiskFill>(job.params["disk"].clone()) {
            let marked = sqlx::query("UPDATE disks SET status = 'error', status_reason = $1 WHERE id = $2 AND status = 'creating'")
                .bind(format!("Creating the disk failed: {}", failure.reason))
                .bind(&fill.disk_id)
                .execute(&self.0.db)
                .await;
            if matches!(marked, Ok(done) if done.rows_affected() == 1) {
                self.0.remove_objects(std::iter::once(fill.object_key.as_str())).await;
            }
        }
    }
}

/// Copies a server's disks into a new image: the system disk, one data disk, or all of them.
struct Capture {
    jobs: ComputeJobs,
    job_type: &'static str,
}

impl Capture {
    fn keys(job: &JobContext, count: usize) -> Vec<String> {
        let (region, image_id) = (job.row.region.as_str(), text(job, "image_id"));
        (0..count)
            .map(|position| match position {
                0 => Storage::image_key(region, image_id, "qcow2"),
                n => Storage::image_part_key(region, image_id, n as i64),
            })
            .collect()
    }
}

#[async_trait]
impl JobHandler for Capture {
    fn job_type(&self) -> &'static str {
        self.job_type
    }

    async fn run(&self, job: &JobContext) -> Result<Value, JobFailure> {
        let db = &self.jobs.db;
        let image_id = text(job, "image_id");
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM images WHERE id = $1 AND deleted_at IS NULL")
            .bind(image_id)
            .fetch_optional(db)
            .await
            .map_err(db_failure("image lookup"))?;
        match status.as_deref() {
            Some("active") => return Ok(job.entities.clone()),
            Some("queued" | "saving") => {}
            _ => return Err(JobFailure::new("IMS.0106", "The image was deleted while it was being created.")),
        }
        sqlx::query("UPDATE images SET status = 'saving', updated_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now_ms())
            .bind(image_id)
            .execute(db)
            .await
            .map_err(db_failure("image status"))?;
        let disk_ids: Vec<String> = serde_json::from_value(job.params["disk_ids"].clone()).unwrap_or_default();
        let keys = Self::keys(job, disk_ids.len());
        // (size in GB, stored bytes, md5, sha256) of each copied disk.
        let mut copies = Vec::new();
        for (index, (disk_id, key)) in disk_ids.iter().zip(&keys).enumerate() {
            job.check_cancelled()?;
            job.set_progress(5.0 + 90.0 * index as f64 / disk_ids.len() as f64, &format!("Copying disk {} of {}", index + 1, disk_ids.len()));
            let disk: Option<(String, i64)> = sqlx::query_as("SELECT object_key, size_gb FROM disks WHERE id = $1")
                .bind(disk_id)
                .fetch_optional(db)
                .await
                .map_err(db_failure("disk lookup"))?;
            let (disk_key, size_gb) = disk.ok_or_else(|| JobFailure::new("IMS.0301", "A disk of the ECS was deleted while the image was being created."))?;
            // A disk file is our own qcow2, so the image is a streamed copy, hashed on the way.
            let digests = self
                .jobs
                .storage
                .compose(std::slice::from_ref(&disk_key), key)
                .await
                .map_err(|e| JobFailure::internal("disk copy", e))?;
            copies.push((size_gb, digests));
        }
        let (system_gb, first) = copies.first().ok_or_else(|| JobFailure::new("IMS.0302", "The ECS has no disks to capture."))?;
        let total_size: u64 = copies.iter().map(|(_, digests)| digests.size).sum();
        let now = now_ms();
        let mut transaction = db.begin().await.map_err(db_failure("image registration"))?;
        sqlx::query("DELETE FROM image_disks WHERE image_id = $1").bind(image_id).execute(&mut *transaction).await.map_err(db_failure("image disks"))?;
        for (position, ((size_gb, digests), key)) in copies.iter().zip(&keys).enumerate().skip(1) {
            sqlx::query("INSERT INTO image_disks (image_id, position, size_gb, object_key, image_size, sha256) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(image_id)
                .bind(position as i64)
                .bind(size_gb)
                .bind(key)
                .bind(digests.size as i64)
                .bind(&digests.sha256)
                .execute(&mut *transaction)
                .await
                .map_err(db_failure("image disks"))?;
        }
        let updated = sqlx::query(
            "UPDATE images SET status = 'active', status_reason = '', image_size = $1, virtual_size = $2, checksum = $3, \
             sha256 = $4, file_location = $5, active_at = $6, updated_at = $6 WHERE id = $7 AND deleted_at IS NULL",
        )
        .bind(total_size as i64)
        .bind(system_gb * (1 << 30))
        .bind(&first.md5)
        .bind(&first.sha256)
        .bind(&keys[0])
        .bind(now)
        .bind(image_id)
        .execute(&mut *transaction)
        .await
        .map_err(db_failure("image registration"))?;
        if updated.rows_affected() == 0 {
            return Err(JobFailure::new("IMS.0106", "The image was deleted while it was being created."));
        }
        transaction.commit().await.map_err(db_failure("image registration"))?;
        Ok(json!({ "image_id": image_id, "image_name": job.entities["image_name"], "target": job.entities["target"] }))
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        let image_id = text(job, "image_id");
        // Only an image still being created fails; its files go with it (a deleted image's
        // files are removed by its deletion).
        let marked = sqlx::query(
            "UPDATE images SET status = 'killed', status_reason = $1, updated_at = $2 \
             WHERE id = $3 AND deleted_at IS NULL AND status IN ('queued', 'saving')",
        )
        .bind(&failure.reason)
        .bind(now_ms())
        .bind(image_id)
        .execute(&self.jobs.db)
        .await;
        let deleted: Result<i64, _> =
            sqlx::query_scalar("SELECT COUNT(*) FROM images WHERE id = $1 AND deleted_at IS NOT NULL").bind(image_id).fetch_one(&self.jobs.db).await;
        if matches!(marked, Ok(done) if done.rows_affected() == 1) || matches!(deleted, Ok(1)) {
            let count = job.params["disk_ids"].as_array().map_or(1, Vec::len);
            for key in Self::keys(job, count) {
                self.jobs.remove_objects(std::iter::once(key.as_str())).await;
            }
        }
    }
}
