//! The image file jobs: import (inspect, cross-check, convert and store a tenant's file) and
//! export (convert a private image and write it to a bucket). Like every job they may run
//! again from the start after a crash, so each starts from a clean work folder.

use super::store::{self, FinishedFile, StoredFile};
use crate::buckets::store::{bucket_by_id, lock_object, record_object, unlock_object};
use crate::engine::convert::{convert, inspect_and_cross_check, ConvertError, TargetFormat};
use crate::engine::inspect::ImageFormat;
use crate::jobs::model::JobEntities;
use crate::jobs::runner::{JobContext, JobFailure, JobHandler};
use crate::quotas::model::QuotaKind;
use crate::quotas::service::require_room_in;
use crate::storage::{Digests, Storage};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const IMPORT_JOB: &str = "imsImportImageJob";
pub const EXPORT_JOB: &str = "imsNativeExportImageJob";

const GIB: u64 = 1 << 30;

#[derive(Debug, Serialize, Deserialize)]
pub struct ImportParams {
    pub image_id: String,
    /// The tenant's file, as an object store key.
    pub source_key: String,
    pub file_format: String,
    pub quick_import: bool,
    /// The min disk the user gave, if any; else the image's virtual size decides.
    pub min_disk: Option<i64>,
    /// Store a qcow2 or raw file as it came (once inspected), not converted: a Glance upload
    /// downloads byte for byte what was uploaded.
    #[serde(default)]
    pub keep_original: bool,
    /// The source is the job's own staged upload (not a tenant's object): removed when done.
    #[serde(default)]
    pub staged: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ExportParams {
    pub image_id: String,
    /// The bucket's id: a bucket of the same name made later by someone else is not it.
    pub bucket_id: String,
    pub object_key: String,
    pub file_format: String,
}

pub struct ImportJob;

/// Stores the image's file (`source`, the job's private snapshot of the tenant's object): ISO
/// images and fast imports as they are (checksummed on the way), anything else converted to
/// qcow2 first. Returns its key, its format and its digests.
async fn store_image_file(
    job: &JobContext,
    params: &ImportParams,
    declared: ImageFormat,
    source: &Path,
) -> Result<(String, &'static str, Digests), JobFailure> {
    let env = &job.env;
    let kept = params.keep_original && matches!(declared, ImageFormat::Qcow2 | ImageFormat::Raw);
    if declared == ImageFormat::Iso || params.quick_import || kept {
        let format = match declared {
            ImageFormat::Iso => "iso",
            ImageFormat::Qcow2 if kept => "qcow2",
            _ => "raw",
        };
        let key = Storage::image_key(&job.row.region, &params.image_id, format);
        job.set_progress(50.0, "Storing the image");
        let digests = env.storage.upload_file(source, &key).await.map_err(|e| JobFailure::internal("image copy", e))?;
        return Ok((key, format, digests));
    }
    let target = job.work_folder().join("disk.qcow2");
    let (cancel, process_limits) = (job.cancel_flag(), env.process_limits);
    let progress = |percent: f64| job.set_progress(5.0 + percent * 0.85, "Converting to qcow2");
    // The closure borrows `job`; run qemu-img on a blocking thread and wait for it here.
    tokio::task::block_in_place(|| {
        convert(source, declared, &target, TargetFormat::Qcow2, process_limits, progress, &cancel)
    })
    .map_err(refused)?;
    job.check_cancelled()?;
    job.set_progress(90.0, "Storing the image");
    let key = Storage::image_key(&job.row.region, &params.image_id, "qcow2");
    let digests = env.storage.upload_file(&target, &key).await.map_err(|e| JobFailure::internal("image upload", e))?;
    Ok((key, "qcow2", digests))
}

/// Removes a staged upload once its import has ended either way.
async fn remove_staged(env: &crate::jobs::runner::JobEnv, params: &ImportParams) {
    if params.staged {
        if let Err(error) = env.storage.delete(&params.source_key).await {
            tracing::warn!(%error, image = %params.image_id, "removing a staged upload");
        }
    }
}

fn refused(error: ConvertError) -> JobFailure {
    match error {
        ConvertError::Cancelled => JobFailure::cancelled(),
        ConvertError::Refused(refusal) => JobFailure::new("IMS.0101", format!("The image file is refused: {refusal}.")),
        ConvertError::Disagreement(detail) => {
            JobFailure::new("IMS.0102", format!("The image file is refused: {detail}."))
        }
        other => JobFailure::new("IMS.0103", format!("The conversion failed: {other}.")),
    }
}

#[async_trait]
impl JobHandler for ImportJob {
    fn job_type(&self) -> &'static str {
        IMPORT_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let params: ImportParams = job.params()?;
        let env = &job.env;
        let declared = ImageFormat::parse(&params.file_format)
            .ok_or_else(|| JobFailure::new("IMS.0100", "The file format is not supported."))?;
        store::mark_saving(&env.db, &params.image_id).await?;
        job.set_progress(1.0, "Checking the image file");

        let scratch = job.fresh_work_folder().await?;
        if env.storage.local_path(&params.source_key).is_none() {
            job.set_progress(2.0, "Fetching the image file");
        }
        // Everything below reads this one private copy, never the tenant's object, which a
        // member of the project could replace between the inspection and the conversion.
        let source = scratch.join("source");
        env.storage.snapshot(&params.source_key, &source).await.map_err(|error| {
            tracing::warn!(%error, job = %job.row.id, "reading an import's source object");
            JobFailure::new("IMS.0104", "The image file could not be read from the bucket.")
        })?;
        job.check_cancelled()?;
        let source_size = tokio::fs::metadata(&source).await.map(|meta| meta.len()).unwrap_or(0);
        let free = crate::engine::tool::free_bytes(&scratch).unwrap_or(u64::MAX);
        if free < source_size.saturating_add(256 << 20) {
            return Err(JobFailure::no_space("converting the image file"));
        }

        let (limits, process_limits, checked_source) = (env.inspect_limits, env.process_limits, source.clone());
        let report = tokio::task::spawn_blocking(move || {
            inspect_and_cross_check(&checked_source, declared, &limits, process_limits)
        })
        .await
        .map_err(|e| JobFailure::internal("inspection", e))?
        .map_err(refused)?;
        env.hooks.after_inspection(&params.source_key);
        // The virtual size counts against the stored-data quota before any conversion starts.
        let virtual_size = report.virtual_size as i64;
        if let Err(refusal) =
            require_room_in(&env.db, &env.quotas, &job.row.project_id, QuotaKind::StoredBytes, virtual_size).await
        {
            return Err(JobFailure::new("IMS.0107", format!("The image does not fit the quota. {refusal}")));
        }
        store::reserve_virtual_size(&env.db, &params.image_id, virtual_size).await?;
        let virtual_gb = report.virtual_size.div_ceil(GIB) as i64;
        let min_disk = match params.min_disk {
            Some(min_disk) if min_disk < virtual_gb => {
                return Err(JobFailure::new(
                    "IMS.0105",
                    format!(
                        "The minimum disk ({min_disk} GB) is smaller than the image's virtual size ({virtual_gb} GB)."
                    ),
                ))
            }
            Some(min_disk) => min_disk,
            None => virtual_gb.max(1),
        };
        job.set_progress(5.0, "Converting");

        let (image_key, disk_format, digests) = store_image_file(job, &params, declared, &source).await?;
        let file = StoredFile { location: image_key.clone(), md5: digests.md5, sha256: digests.sha256 };
        let finished = FinishedFile {
            disk_format,
            image_size: digests.size as i64,
            virtual_size: report.virtual_size as i64,
            file: &file,
            min_disk: Some(min_disk),
        };
        let registered = store::mark_active(&env.db, &params.image_id, &finished).await?;
        job.remove_work_folder().await;
        remove_staged(env, &params).await;
        if !registered {
            let _ = env.storage.delete(&image_key).await;
            return Err(JobFailure::new("IMS.0106", "The image was deleted while it was being created."));
        }
        Ok(JobEntities { image_id: params.image_id, image_name: job.entities.image_name.clone(), ..Default::default() })
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        job.remove_work_folder().await;
        let Ok(params) = job.params::<ImportParams>() else { return };
        let env = &job.env;
        remove_staged(env, &params).await;
        for format in ["qcow2", "raw", "iso"] {
            if let Err(error) = env.storage.delete(&Storage::image_key(&job.row.region, &params.image_id, format)).await
            {
                tracing::warn!(%error, image = %params.image_id, "removing a failed import's file");
            }
        }
        if let Err(error) = store::mark_killed(&env.db, &params.image_id, &failure.reason).await {
            tracing::error!(%error, image = %params.image_id, "marking a failed import killed");
        }
    }
}

pub struct ExportJob;

fn export_failure(error: ConvertError) -> JobFailure {
    match error {
        ConvertError::Cancelled => JobFailure::cancelled(),
        other => JobFailure::new("IMS.0201", format!("The export failed: {other}.")),
    }
}

#[async_trait]
impl JobHandler for ExportJob {
    fn job_type(&self) -> &'static str {
        EXPORT_JOB
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let params: ExportParams = job.params()?;
        let env = &job.env;
        let target_format = TargetFormat::parse(&params.file_format)
            .ok_or_else(|| JobFailure::new("IMS.0200", "The export format is not supported."))?;
        let (location, disk_format) = store::file_of(&env.db, &params.image_id)
            .await?
            .ok_or_else(|| JobFailure::new("IMS.0202", "The image was deleted."))?;
        let source_format = ImageFormat::parse(&disk_format).ok_or_else(|| {
            JobFailure::new("IMS.0203", format!("Images stored as {disk_format} cannot be exported."))
        })?;

        let scratch = job.fresh_work_folder().await?;
        if env.storage.local_path(&location).is_none() {
            job.set_progress(2.0, "Fetching the image");
        }
        let source = env
            .storage
            .local_file(&location, &scratch.join("source"))
            .await
            .map_err(|e| JobFailure::internal("image read", e))?;
        let target = scratch.join(format!("export.{}", target_format.image_format()));
        let (cancel, process_limits) = (job.cancel_flag(), env.process_limits);
        let progress = |percent: f64| {
            job.set_progress(5.0 + percent * 0.8, &format!("Converting to {}", target_format.image_format()))
        };
        tokio::task::block_in_place(|| {
            convert(&source, source_format, &target, target_format, process_limits, progress, &cancel)
        })
        .map_err(export_failure)?;
        job.check_cancelled()?;
        job.set_progress(85.0, "Writing to the bucket");
        env.hooks.pass_export_gate().await;
        // The bucket cannot be deleted while this job is pending; checked all the same.
        bucket_by_id(&env.db, &job.row.project_id, &params.bucket_id)
            .await?
            .ok_or_else(|| JobFailure::new("IMS.0204", "The target bucket was deleted."))?;
        if !lock_object(&env.db, &params.bucket_id, &params.object_key, &job.row.id).await? {
            return Err(JobFailure::new("IMS.0205", "The target object is being written by someone else; try again."));
        }
        let key = Storage::bucket_key(&job.row.region, &params.bucket_id, &params.object_key);
        let written = async {
            let digests =
                env.storage.upload_file(&target, &key).await.map_err(|e| JobFailure::internal("bucket write", e))?;
            record_object(&env.db, &params.bucket_id, &params.object_key, digests.size, &digests.sha256).await?;
            Ok::<_, JobFailure>(digests)
        }
        .await;
        let _ = unlock_object(&env.db, &params.bucket_id, &params.object_key, &job.row.id).await;
        let digests = written?;
        job.remove_work_folder().await;
        Ok(JobEntities { sha256: digests.sha256, size: Some(digests.size), ..job.entities.clone() })
    }

    async fn failed(&self, job: &JobContext, _failure: &JobFailure) {
        job.remove_work_folder().await;
    }
}
