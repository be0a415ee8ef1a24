//! The compute jobs: creating a server (its disks from the image), starting and stopping it,
//! changing its OS, creating an EVS disk from a data disk image, and the three ways of
//! creating an image from a server. Like every job they may run again from the start after
//! a crash, so each one rebuilds what it writes and leaves finished work alone.

use super::files::build_disk;
use super::model::{DiskStatus, ServerStatus};
use super::store::{self, InstalledImage};
use crate::images::model::ImageStatus;
use crate::images::store::{self as image_store, FinishedFile, ImageDisk, StoredDisk, StoredFile};
use crate::jobs::model::JobEntities;
use crate::jobs::runner::{JobContext, JobFailure, JobHandler};
use crate::storage::Storage;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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

impl DiskFill {
    pub fn blank(disk_id: String, object_key: String, size_gb: i64) -> DiskFill {
        DiskFill { disk_id, object_key, size_gb, source_key: String::new(), source_format: String::new() }
    }

    pub fn from_image(
        disk_id: String,
        object_key: String,
        size_gb: i64,
        source_key: &str,
        source_format: &str,
    ) -> DiskFill {
        DiskFill {
            disk_id,
            object_key,
            size_gb,
            source_key: source_key.to_string(),
            source_format: source_format.to_string(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CreateServerParams {
    pub server_id: String,
    /// The system disk first, then the data disks.
    pub disks: Vec<DiskFill>,
}

/// Starting or stopping a server.
#[derive(Debug, Serialize, Deserialize)]
pub struct ServerParams {
    pub server_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ChangeOsParams {
    pub server_id: String,
    pub image_id: String,
    /// The new system disk, written to a file of its own beside the old one.
    pub disk: DiskFill,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CreateDiskParams {
    pub disk: DiskFill,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CaptureParams {
    pub image_id: String,
    pub server_id: String,
    /// The disks copied into the image, the system disk (if any) first.
    pub disk_ids: Vec<String>,
}

/// Every compute job handler, for the runner.
pub fn handlers() -> Vec<Arc<dyn JobHandler>> {
    vec![
        Arc::new(CreateServer),
        Arc::new(Power {
            job_type: START_SERVER_JOB,
            from: ServerStatus::Starting,
            to: ServerStatus::Running,
            back: ServerStatus::Stopped,
        }),
        Arc::new(Power {
            job_type: STOP_SERVER_JOB,
            from: ServerStatus::Stopping,
            to: ServerStatus::Stopped,
            back: ServerStatus::Running,
        }),
        Arc::new(ChangeOs),
        Arc::new(CreateDisk),
        Arc::new(Capture { job_type: SYSTEM_IMAGE_JOB }),
        Arc::new(Capture { job_type: WHOLE_IMAGE_JOB }),
        Arc::new(Capture { job_type: DATA_IMAGE_JOB }),
    ]
}

/// Writes `fills` in turn, moving the job's progress from `first` to `last` percent.
async fn fill_all(job: &JobContext, fills: &[DiskFill], first: f64, last: f64) -> Result<(), JobFailure> {
    let scratch = job.work_folder();
    for (index, fill) in fills.iter().enumerate() {
        job.check_cancelled()?;
        let step = (last - first) / fills.len() as f64;
        job.set_progress(first + step * index as f64, &format!("Writing disk {} of {}", index + 1, fills.len()));
        build_disk(&job.env.storage, job.env.process_limits, &scratch, fill, job.cancel_flag()).await?;
    }
    job.remove_work_folder().await;
    Ok(())
}

async fn remove_objects(job: &JobContext, keys: impl Iterator<Item = &str>) {
    for key in keys {
        if let Err(error) = job.env.storage.delete(key).await {
            tracing::warn!(%error, key, "removing a failed job's disk file");
        }
    }
}

struct CreateServer;

#[async_trait]
impl JobHandler for CreateServer {
    fn job_type(&self) -> &'static str {
        CREATE_SERVER_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let params: CreateServerParams = job.params()?;
        if store::server_status(&job.env.db, &params.server_id).await? != Some(ServerStatus::Creating) {
            return Ok(job.entities.clone());
        }
        fill_all(job, &params.disks, 2.0, 95.0).await?;
        let disk_ids: Vec<&str> = params.disks.iter().map(|fill| fill.disk_id.as_str()).collect();
        store::finish_server_creation(&job.env.db, &params.server_id, &disk_ids).await?;
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        job.remove_work_folder().await;
        let Ok(params) = job.params::<CreateServerParams>() else { return };
        let reason = format!("Creating the ECS failed: {}", failure.reason);
        // Only a server still being created is failed (and its files removed): a job that ran
        // again after finishing must not touch a running server.
        match store::move_server(&job.env.db, &params.server_id, ServerStatus::Creating, ServerStatus::Error, &reason)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => return tracing::error!(%error, server = %params.server_id, "marking a failed server"),
        }
        remove_objects(job, params.disks.iter().map(|fill| fill.object_key.as_str())).await;
        if let Err(error) = store::fail_creating_disks(&job.env.db, &params.server_id, &reason).await {
            tracing::error!(%error, server = %params.server_id, "marking a failed server's disks");
        }
    }
}

/// Starting or stopping: the server reaches `to` from the transitional `from`, or goes `back`.
struct Power {
    job_type: &'static str,
    from: ServerStatus,
    to: ServerStatus,
    back: ServerStatus,
}

#[async_trait]
impl JobHandler for Power {
    fn job_type(&self) -> &'static str {
        self.job_type
    }

    /// Start, stop and reboot take seconds: the quick lane runs them.
    fn quick(&self) -> bool {
        true
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let params: ServerParams = job.params()?;
        store::move_server(&job.env.db, &params.server_id, self.from, self.to, "").await?;
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        if let Ok(params) = job.params::<ServerParams>() {
            let _ = store::move_server(&job.env.db, &params.server_id, self.from, self.back, &failure.reason).await;
        }
    }
}

struct ChangeOs;

#[async_trait]
impl JobHandler for ChangeOs {
    fn job_type(&self) -> &'static str {
        CHANGE_OS_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let params: ChangeOsParams = job.params()?;
        let db = &job.env.db;
        if store::server_status(db, &params.server_id).await? != Some(ServerStatus::ChangingOs) {
            return Ok(job.entities.clone());
        }
        // The new system disk is written beside the old one; the old one goes only once the
        // server points at the new one, so a failure leaves the server as it was.
        fill_all(job, std::slice::from_ref(&params.disk), 5.0, 95.0).await?;
        let (name, os_type, platform, os_version, boot_mode) = image_store::os_of(db, &params.image_id)
            .await?
            .ok_or_else(|| JobFailure::new("ECS.0204", "The image was deleted while the OS was being changed."))?;
        let old_key = store::disk_file(db, &params.disk.disk_id).await?.map(|(key, _)| key);
        let image = InstalledImage {
            id: &params.image_id,
            name: &name,
            os_type: &os_type,
            platform: &platform,
            os_version: &os_version,
            boot_mode: &boot_mode,
        };
        store::swap_system_disk(db, &params.server_id, &params.disk.disk_id, &params.disk.object_key, &image).await?;
        if let Some(old_key) = old_key.filter(|old| *old != params.disk.object_key) {
            remove_objects(job, std::iter::once(old_key.as_str())).await;
        }
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        job.remove_work_folder().await;
        let Ok(params) = job.params::<ChangeOsParams>() else { return };
        let reason = format!("Changing the OS failed; the old system disk is kept. {}", failure.reason);
        let db = &job.env.db;
        if !matches!(
            store::move_server(db, &params.server_id, ServerStatus::ChangingOs, ServerStatus::Stopped, &reason).await,
            Ok(true)
        ) {
            return;
        }
        // Never the file a disk uses now (the swap may have committed before a crash).
        if matches!(store::disk_file_in_use(db, &params.disk.object_key).await, Ok(false)) {
            remove_objects(job, std::iter::once(params.disk.object_key.as_str())).await;
        }
    }
}

struct CreateDisk;

#[async_trait]
impl JobHandler for CreateDisk {
    fn job_type(&self) -> &'static str {
        CREATE_DISK_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let CreateDiskParams { disk } = job.params()?;
        if store::disk_status(&job.env.db, &disk.disk_id).await? != Some(DiskStatus::Creating) {
            return Ok(job.entities.clone());
        }
        fill_all(job, std::slice::from_ref(&disk), 5.0, 95.0).await?;
        store::move_disk(&job.env.db, &disk.disk_id, DiskStatus::Creating, DiskStatus::Available, "").await?;
        Ok(job.entities.clone())
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        job.remove_work_folder().await;
        let Ok(CreateDiskParams { disk }) = job.params() else { return };
        let reason = format!("Creating the disk failed: {}", failure.reason);
        if matches!(
            store::move_disk(&job.env.db, &disk.disk_id, DiskStatus::Creating, DiskStatus::Error, &reason).await,
            Ok(true)
        ) {
            remove_objects(job, std::iter::once(disk.object_key.as_str())).await;
        }
    }
}

/// Copies a server's disks into a new image: the system disk, one data disk, or all of them.
struct Capture {
    job_type: &'static str,
}

/// Where the image's files go: the first disk is the image's own file, the others its data
/// disks (full-ECS images).
fn capture_keys(region: &str, image_id: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|position| match position {
            0 => Storage::image_key(region, image_id, "qcow2"),
            n => Storage::image_part_key(region, image_id, n as i64),
        })
        .collect()
}

#[async_trait]
impl JobHandler for Capture {
    fn job_type(&self) -> &'static str {
        self.job_type
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let params: CaptureParams = job.params()?;
        let db = &job.env.db;
        match image_store::status_of(db, &params.image_id).await? {
            Some(ImageStatus::Active) => return Ok(job.entities.clone()),
            Some(status) if status.is_in_progress() => {}
            _ => return Err(JobFailure::new("IMS.0106", "The image was deleted while it was being created.")),
        }
        image_store::mark_saving(db, &params.image_id).await?;
        let keys = capture_keys(&job.row.region, &params.image_id, params.disk_ids.len());
        // (size in GB, digests) of each copied disk, in the order of `keys`.
        let mut copies = Vec::new();
        for (index, (disk_id, key)) in params.disk_ids.iter().zip(&keys).enumerate() {
            job.check_cancelled()?;
            let progress = 5.0 + 90.0 * index as f64 / params.disk_ids.len() as f64;
            job.set_progress(progress, &format!("Copying disk {} of {}", index + 1, params.disk_ids.len()));
            let (disk_key, size_gb) = store::disk_file(db, disk_id).await?.ok_or_else(|| {
                JobFailure::new("IMS.0301", "A disk of the ECS was deleted while the image was being created.")
            })?;
            // A disk file is our own qcow2, so the image is a streamed copy, hashed on the way.
            let digests = job
                .env
                .storage
                .compose(std::slice::from_ref(&disk_key), key)
                .await
                .map_err(|e| JobFailure::internal("disk copy", e))?;
            copies.push((size_gb, digests));
        }
        let (system_gb, first) =
            copies.first().ok_or_else(|| JobFailure::new("IMS.0302", "The ECS has no disks to capture."))?;
        let file = StoredFile { location: keys[0].clone(), md5: first.md5.clone(), sha256: first.sha256.clone() };
        let data_disks: Vec<StoredDisk> = copies
            .iter()
            .zip(&keys)
            .enumerate()
            .skip(1)
            .map(|(position, ((size_gb, digests), key))| StoredDisk {
                disk: ImageDisk { position: position as i64, size_gb: *size_gb, object_key: key.clone() },
                image_size: digests.size,
                sha256: digests.sha256.clone(),
            })
            .collect();
        let finished = FinishedFile {
            disk_format: "qcow2",
            image_size: copies.iter().map(|(_, digests)| digests.size as i64).sum(),
            virtual_size: system_gb * (1 << 30),
            file: &file,
            min_disk: None,
        };
        let mut transaction = db.begin().await?;
        image_store::replace_data_disks(&mut transaction, &params.image_id, &data_disks).await?;
        if !image_store::mark_active(&mut *transaction, &params.image_id, &finished).await? {
            return Err(JobFailure::new("IMS.0106", "The image was deleted while it was being created."));
        }
        transaction.commit().await?;
        Ok(JobEntities { image_id: params.image_id, ..job.entities.clone() })
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        let Ok(params) = job.params::<CaptureParams>() else { return };
        let db = &job.env.db;
        // Only an image still being created fails; its files go with it (a deleted image's
        // files are removed by its deletion).
        let killed = image_store::mark_killed(db, &params.image_id, &failure.reason).await;
        let deleted = image_store::is_deleted(db, &params.image_id).await;
        if matches!(killed, Ok(true)) || matches!(deleted, Ok(true)) {
            let keys = capture_keys(&job.row.region, &params.image_id, params.disk_ids.len());
            remove_objects(job, keys.iter().map(String::as_str)).await;
        }
    }
}
