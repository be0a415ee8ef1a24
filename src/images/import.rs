//! Creating a private image from an image file in one of the tenant's buckets: the request
//! and its validation (shared with the form), the server function that registers the image
//! and queues the job, and the job that inspects, converts and stores the file.

use super::validate::{self, FieldErrors};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub const IMPORT_JOB: &str = "imsImportImageJob";
/// File formats accepted for import (the IMS list, less the Huawei-only zvhd).
pub const IMPORT_FORMATS: &[&str] = &["vmdk", "vhd", "vhdx", "qcow2", "qcow", "raw", "vdi", "iso"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportRequest {
    pub name: String,
    pub description: String,
    pub bucket: String,
    pub object_key: String,
    pub file_format: String,
    /// `system` or `data`; ISO files always make an ISO image.
    pub image_type: String,
    pub os_type: String,
    pub platform: String,
    pub os_version: String,
    pub architecture: String,
    pub boot_mode: String,
    pub min_ram: String,
    pub max_ram: String,
    pub min_disk: String,
    pub quick_import: bool,
    pub tags: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValidImport {
    pub kind: &'static str,
    pub min_ram: i64,
    pub max_ram: i64,
    pub min_disk: Option<i64>,
    pub tags: Vec<(String, String)>,
}

impl ImportRequest {
    /// Checks every field; the errors name their fields.
    pub fn validate(&self) -> Result<ValidImport, FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.push((field.to_string(), message));
            }
        };
        check("name", validate::image_name(&self.name));
        check("description", validate::description(&self.description));
        check("bucket", if self.bucket.trim().is_empty() { Err("Choose a bucket.".into()) } else { Ok(()) });
        check("object_key", if self.object_key.trim().is_empty() { Err("Choose the image file.".into()) } else { Ok(()) });
        let format = self.file_format.as_str();
        check(
            "file_format",
            if IMPORT_FORMATS.contains(&format) { Ok(()) } else { Err(format!("Choose the file format ({}).", IMPORT_FORMATS.join(", "))) },
        );
        let kind = match (format, self.image_type.as_str()) {
            ("iso", _) => "iso",
            (_, "data") => "data",
            (_, "system" | "") => "system",
            (_, other) => {
                check("image_type", Err(format!("'{other}' is not an image type; choose system or data disk.")));
                "system"
            }
        };
        check(
            "os_type",
            if super::OS_TYPES.contains(&self.os_type.as_str()) { Ok(()) } else { Err("Choose the OS type.".into()) },
        );
        if kind != "data" {
            check(
                "platform",
                if super::PLATFORMS.contains(&self.platform.as_str()) { Ok(()) } else { Err("Choose the OS.".into()) },
            );
            check(
                "os_version",
                if (1..=255).contains(&self.os_version.trim().chars().count()) { Ok(()) } else { Err("Enter the OS version, e.g. Ubuntu 22.04 server 64bit.".into()) },
            );
        }
        check(
            "architecture",
            if matches!(self.architecture.as_str(), "x86" | "arm") { Ok(()) } else { Err("Choose x86 or arm.".into()) },
        );
        check(
            "boot_mode",
            match (self.architecture.as_str(), self.boot_mode.as_str()) {
                ("arm", "bios") => Err("Arm images boot in UEFI mode.".into()),
                (_, "bios" | "uefi") => Ok(()),
                _ => Err("Choose BIOS or UEFI.".into()),
            },
        );
        let mut number = |field: &str, text: &str, range, what| match validate::optional_number(text, range, what) {
            Ok(value) => value,
            Err(message) => {
                errors.push((field.to_string(), message));
                None
            }
        };
        let min_ram = number("min_ram", &self.min_ram, 0..=524_288, "Min. memory (MB)").unwrap_or(0);
        let max_ram = number("max_ram", &self.max_ram, 0..=524_288, "Max. memory (MB)").unwrap_or(0);
        let disk_limit = if kind == "data" { 2048 } else { 1024 };
        let min_disk = number("min_disk", &self.min_disk, 1..=disk_limit, "Min. disk (GB)");
        if max_ram != 0 && max_ram < min_ram {
            errors.push(("max_ram".into(), "Max. memory cannot be below min. memory.".into()));
        }
        if self.quick_import && format != "raw" {
            errors.push(("quick_import".into(), "Fast import takes RAW files only; other formats are converted.".into()));
        }
        let tags = match validate::tags(&self.tags) {
            Ok(tags) => tags,
            Err(message) => {
                errors.push(("tags".into(), message));
                Vec::new()
            }
        };
        if errors.is_empty() {
            Ok(ValidImport { kind, min_ram, max_ram, min_disk, tags })
        } else {
            Err(errors)
        }
    }
}

/// Registers the image (status queued) and queues its import job. Returns the image id.
#[server(endpoint = "create_image_from_file")]
pub async fn create_image_from_file(request: ImportRequest) -> Result<String, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        let valid = request.validate().map_err(AppError::Fields)?;
        crate::buckets::store::require_bucket(&state.db, &user, &request.bucket).await?;
        let object = crate::buckets::store::find_object(&state.db, &user.region, &request.bucket, &request.object_key)
            .await?
            .ok_or_else(|| {
                AppError::Fields(vec![(
                    "object_key".into(),
                    format!("Object '{}' does not exist in bucket '{}'.", request.object_key, request.bucket),
                )])
            })?;
        if request.quick_import && object.size as u64 > 1 << 40 {
            return Err(AppError::Fields(vec![("quick_import".into(), "Fast import takes files up to 1 TB.".into())]));
        }
        let image_id = job::register(&state, &user, &request, &valid).await?;
        state.job_waker.notify_waiters();
        Ok(image_id)
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod job {
    use super::{ImportRequest, ValidImport, IMPORT_JOB};
    use crate::auth::CurrentUser;
    use crate::db::{now_ms, Db};
    use crate::engine::convert::{convert, inspect_and_cross_check, ConvertError, ProcessLimits, TargetFormat};
    use crate::engine::inspect::{ImageFormat, Limits};
    use crate::error::AppError;
    use crate::jobs::queue::{enqueue, NewJob};
    use crate::jobs::runner::{JobContext, JobFailure, JobHandler};
    use crate::server::AppState;
    use crate::storage::Storage;
    use async_trait::async_trait;
    use serde_json::{json, Value};
    use std::path::PathBuf;

    const GIB: u64 = 1 << 30;

    /// Inserts the image (queued) and its job in one transaction.
    pub async fn register(state: &AppState, user: &CurrentUser, request: &ImportRequest, valid: &ValidImport) -> Result<String, AppError> {
        let image_id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let (os_type, platform, os_version) = if valid.kind == "data" {
            (request.os_type.as_str(), "Other", String::new())
        } else {
            (request.os_type.as_str(), request.platform.as_str(), request.os_version.trim().to_string())
        };
        let mut transaction = state.db.begin().await?;
        sqlx::query(
            "INSERT INTO images (id, region, owner, name, description, status, visibility, imagetype, image_kind, \
             virtual_env_type, os_type, platform, os_version, architecture, hw_firmware_type, disk_format, min_disk, \
             min_ram, max_ram, data_origin, root_origin, created_at, updated_at) VALUES \
             ($1, $2, $3, $4, $5, 'queued', 'private', 'private', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, 'file', $18, $18)",
        )
        .bind(&image_id)
        .bind(&user.region)
        .bind(&user.project_id)
        .bind(request.name.trim())
        .bind(&request.description)
        .bind(valid.kind)
        .bind(match valid.kind {
            "data" => "DataImage",
            "iso" => "IsoImage",
            _ => "FusionCompute",
        })
        .bind(os_type)
        .bind(platform)
        .bind(&os_version)
        .bind(&request.architecture)
        .bind(&request.boot_mode)
        .bind(&request.file_format)
        .bind(valid.min_disk.unwrap_or(0))
        .bind(valid.min_ram)
        .bind(valid.max_ram)
        .bind(format!("file,{}:{}", request.bucket, request.object_key))
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        for (key, value) in &valid.tags {
            sqlx::query("INSERT INTO image_tags (image_id, tag_key, tag_value) VALUES ($1, $2, $3)")
                .bind(&image_id)
                .bind(key)
                .bind(value)
                .execute(&mut *transaction)
                .await?;
        }
        enqueue(
            &mut transaction,
            NewJob {
                project_id: &user.project_id,
                region: &user.region,
                job_type: IMPORT_JOB,
                image_id: &image_id,
                resource_id: "",
                params: json!({
                    "image_id": image_id,
                    "source_key": Storage::bucket_key(&user.region, &request.bucket, &request.object_key),
                    "file_format": request.file_format,
                    "quick_import": request.quick_import,
                    "min_disk": valid.min_disk,
                }),
                entities: json!({ "image_id": image_id, "image_name": request.name.trim() }),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(image_id)
    }

    pub struct ImportHandler {
        pub db: Db,
        pub storage: Storage,
        pub work_dir: PathBuf,
        pub limits: Limits,
        pub process_limits: ProcessLimits,
    }

    fn param<'a>(job: &'a JobContext, key: &str) -> &'a str {
        job.params[key].as_str().unwrap_or_default()
    }

    fn refused(error: ConvertError) -> JobFailure {
        match error {
            ConvertError::Cancelled => JobFailure::cancelled(),
            ConvertError::Refused(refusal) => JobFailure::new("IMS.0101", format!("The image file is refused: {refusal}.")),
            ConvertError::Disagreement(detail) => JobFailure::new("IMS.0102", format!("The image file is refused: {detail}.")),
            other => JobFailure::new("IMS.0103", format!("The conversion failed: {other}.")),
        }
    }

    impl ImportHandler {
        fn scratch(&self, job: &JobContext) -> PathBuf {
            self.work_dir.join(job.id())
        }

        async fn set_status(&self, image_id: &str, status: &str, reason: &str) -> Result<(), sqlx::Error> {
            sqlx::query("UPDATE images SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4 AND deleted_at IS NULL")
                .bind(status)
                .bind(reason)
                .bind(now_ms())
                .bind(image_id)
                .execute(&self.db)
                .await?;
            Ok(())
        }
    }

    #[async_trait]
    impl JobHandler for ImportHandler {
        fn job_type(&self) -> &'static str {
            IMPORT_JOB
        }

        async fn run(&self, job: &JobContext) -> Result<Value, JobFailure> {
            let image_id = param(job, "image_id").to_string();
            let declared = ImageFormat::parse(param(job, "file_format"))
                .ok_or_else(|| JobFailure::new("IMS.0100", "The file format is not supported."))?;
            let quick = job.params["quick_import"].as_bool().unwrap_or(false);
            self.set_status(&image_id, "saving", "").await.map_err(|e| JobFailure::internal("image status update", e))?;
            job.set_progress(1.0, "Checking the image file");

            // Start clean: a job that resumes after a crash redoes everything.
            let scratch = self.scratch(job);
            let _ = tokio::fs::remove_dir_all(&scratch).await;
            tokio::fs::create_dir_all(&scratch).await.map_err(|e| JobFailure::internal("work folder", e))?;
            let source_key = param(job, "source_key").to_string();
            if self.storage.local_path(&source_key).is_none() {
                job.set_progress(2.0, "Fetching the image file");
            }
            let source = self.storage.local_file(&source_key, &scratch.join("source")).await.map_err(|e| {
                JobFailure::new("IMS.0104", format!("The image file could not be read from the bucket: {e}."))
            })?;
            job.check_cancelled()?;

            let (limits, process_limits, checked_source) = (self.limits, self.process_limits, source.clone());
            let report = tokio::task::spawn_blocking(move || inspect_and_cross_check(&checked_source, declared, &limits, process_limits))
                .await
                .map_err(|e| JobFailure::internal("inspection", e))?
                .map_err(refused)?;
            let virtual_gb = report.virtual_size.div_ceil(GIB) as i64;
            let min_disk = match job.params["min_disk"].as_i64() {
                Some(min_disk) if min_disk < virtual_gb => {
                    return Err(JobFailure::new(
                        "IMS.0105",
                        format!("The minimum disk ({min_disk} GB) is smaller than the image's virtual size ({virtual_gb} GB)."),
                    ))
                }
                Some(min_disk) => min_disk,
                None => virtual_gb.max(1),
            };
            job.set_progress(5.0, "Converting");

            let (image_key, disk_format, digests) = if declared == ImageFormat::Iso || quick {
                // ISO images and fast imports keep the file as it is (copied, checksummed on the way).
                let format = if declared == ImageFormat::Iso { "iso" } else { "raw" };
                let key = Storage::image_key(&job.row.region, &image_id, format);
                job.set_progress(50.0, "Storing the image");
                let digests = self
                    .storage
                    .compose(std::slice::from_ref(&source_key), &key)
                    .await
                    .map_err(|e| JobFailure::internal("image copy", e))?;
                (key, format, digests)
            } else {
                let target = scratch.join("disk.qcow2");
                let (cancel, target_path, process_limits) = (job.cancel_flag(), target.clone(), self.process_limits);
                let progress = |percent: f64| job.set_progress(5.0 + percent * 0.85, "Converting to qcow2");
                // The closure borrows `job`; run qemu-img on a blocking thread and wait for it here.
                let result = tokio::task::block_in_place(|| {
                    convert(&source, declared, &target_path, TargetFormat::Qcow2, process_limits, progress, &cancel)
                });
                result.map_err(refused)?;
                job.check_cancelled()?;
                job.set_progress(90.0, "Storing the image");
                let key = Storage::image_key(&job.row.region, &image_id, "qcow2");
                let digests = self.storage.upload_file(&target, &key).await.map_err(|e| JobFailure::internal("image upload", e))?;
                (key, "qcow2", digests)
            };
            let now = now_ms();
            let updated = sqlx::query(
                "UPDATE images SET status = 'active', status_reason = '', disk_format = $1, image_size = $2, \
                 virtual_size = $3, checksum = $4, sha256 = $5, min_disk = $6, file_location = $7, active_at = $8, \
                 updated_at = $8 WHERE id = $9 AND deleted_at IS NULL",
            )
            .bind(disk_format)
            .bind(digests.size as i64)
            .bind(report.virtual_size as i64)
            .bind(&digests.md5)
            .bind(&digests.sha256)
            .bind(min_disk)
            .bind(&image_key)
            .bind(now)
            .bind(&image_id)
            .execute(&self.db)
            .await
            .map_err(|e| JobFailure::internal("image registration", e))?;
            let _ = tokio::fs::remove_dir_all(&scratch).await;
            if updated.rows_affected() == 0 {
                let _ = self.storage.delete(&image_key).await;
                return Err(JobFailure::new("IMS.0106", "The image was deleted while it was being created."));
            }
            Ok(json!({ "image_id": image_id, "image_name": job.entities["image_name"] }))
        }

        async fn failed(&self, job: &JobContext, failure: &JobFailure) {
            let image_id = param(job, "image_id");
            let _ = tokio::fs::remove_dir_all(self.scratch(job)).await;
            for format in ["qcow2", "raw", "iso"] {
                if let Err(error) = self.storage.delete(&Storage::image_key(&job.row.region, image_id, format)).await {
                    tracing::warn!(%error, image = image_id, "removing a failed import's file");
                }
            }
            if let Err(error) = self.set_status(image_id, "killed", &failure.reason).await {
                tracing::error!(%error, image = image_id, "marking a failed import killed");
            }
        }
    }
}
