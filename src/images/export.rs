//! Exporting a private image to a bucket as qcow2, vmdk, vhd or raw. Public, ISO and full-ECS
//! images cannot be exported (IMS rules).

use crate::error::AppError;
use leptos::prelude::*;

pub const EXPORT_JOB: &str = "imsNativeExportImageJob";
pub const EXPORT_FORMATS: &[&str] = &["qcow2", "vmdk", "vhd", "raw"];

/// Queues the export of `image_id` to `bucket`/`object_key`. Returns the job id.
#[server(endpoint = "export_image")]
pub async fn export_image(image_id: String, bucket: String, object_key: String, file_format: String) -> Result<String, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        let mut errors = Vec::new();
        if !EXPORT_FORMATS.contains(&file_format.as_str()) {
            errors.push(("file_format".to_string(), "Choose qcow2, vmdk, vhd or raw.".to_string()));
        }
        if let Err(message) = crate::buckets::validate_object_key(object_key.trim()) {
            errors.push(("object_key".to_string(), message));
        }
        if bucket.trim().is_empty() {
            errors.push(("bucket".to_string(), "Choose a bucket.".to_string()));
        }
        if !errors.is_empty() {
            return Err(AppError::Fields(errors));
        }
        crate::buckets::store::require_bucket(&state.db, &user, &bucket).await?;
        let job_id = job::queue_export(&state, &user, &image_id, &bucket, object_key.trim(), &file_format).await?;
        state.job_waker.notify_waiters();
        Ok(job_id)
    })
    .await
}

#[cfg(feature = "ssr")]
pub mod job {
    use super::EXPORT_JOB;
    use crate::auth::CurrentUser;
    use crate::buckets::store::record_object;
    use crate::db::Db;
    use crate::engine::convert::{convert, ConvertError, ProcessLimits, TargetFormat};
    use crate::engine::inspect::ImageFormat;
    use crate::error::AppError;
    use crate::jobs::queue::{enqueue, NewJob};
    use crate::jobs::runner::{JobContext, JobFailure, JobHandler};
    use crate::server::AppState;
    use crate::storage::Storage;
    use async_trait::async_trait;
    use serde_json::{json, Value};
    use std::path::PathBuf;

    pub async fn queue_export(
        state: &AppState,
        user: &CurrentUser,
        image_id: &str,
        bucket: &str,
        object_key: &str,
        file_format: &str,
    ) -> Result<String, AppError> {
        let row: Option<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT name, status, image_kind, imagetype, file_location FROM images \
             WHERE id = $1 AND owner = $2 AND deleted_at IS NULL",
        )
        .bind(image_id)
        .bind(&user.project_id)
        .fetch_optional(&state.db)
        .await?;
        let (name, status, kind, imagetype, file_location) = row.ok_or_else(|| {
            AppError::NotFound(format!("Image '{image_id}' is not one of your private images in this region."))
        })?;
        let refusal = match (imagetype.as_str(), kind.as_str(), status.as_str()) {
            ("gold", _, _) => Some("Public images cannot be exported."),
            (_, "iso", _) => Some("ISO images cannot be exported."),
            (_, "full_ecs", _) => Some("Full-ECS images cannot be exported."),
            (_, _, status) if status != "active" => Some("Only images in the Normal state can be exported."),
            _ if file_location.is_empty() => Some("This image has no stored image file to export."),
            _ => None,
        };
        if let Some(reason) = refusal {
            return Err(AppError::Conflict(format!("Image '{name}' cannot be exported: {reason}")));
        }
        let mut transaction = state.db.begin().await?;
        let job_id = enqueue(
            &mut transaction,
            NewJob {
                project_id: &user.project_id,
                region: &user.region,
                job_type: EXPORT_JOB,
                image_id,
                resource_id: "",
                params: json!({ "image_id": image_id, "bucket": bucket, "object_key": object_key, "file_format": file_format }),
                entities: json!({ "image_id": image_id, "image_name": name, "target": format!("{bucket}:{object_key}") }),
            },
        )
        .await?;
        transaction.commit().await?;
        Ok(job_id)
    }

    pub struct ExportHandler {
        pub db: Db,
        pub storage: Storage,
        pub work_dir: PathBuf,
        pub process_limits: ProcessLimits,
    }

    fn failure(error: ConvertError) -> JobFailure {
        match error {
            ConvertError::Cancelled => JobFailure::cancelled(),
            other => JobFailure::new("IMS.0201", format!("The export failed: {other}.")),
        }
    }

    #[async_trait]
    impl JobHandler for ExportHandler {
        fn job_type(&self) -> &'static str {
            EXPORT_JOB
        }

        async fn run(&self, job: &JobContext) -> Result<Value, JobFailure> {
            let text = |key: &str| job.params[key].as_str().unwrap_or_default().to_string();
            let (image_id, bucket, object_key) = (text("image_id"), text("bucket"), text("object_key"));
            let target_format = TargetFormat::parse(&text("file_format"))
                .ok_or_else(|| JobFailure::new("IMS.0200", "The export format is not supported."))?;
            let row: Option<(String, String)> =
                sqlx::query_as("SELECT file_location, disk_format FROM images WHERE id = $1 AND deleted_at IS NULL")
                    .bind(&image_id)
                    .fetch_optional(&self.db)
                    .await
                    .map_err(|e| JobFailure::internal("image lookup", e))?;
            let (location, disk_format) = row.ok_or_else(|| JobFailure::new("IMS.0202", "The image was deleted."))?;
            let source_format = ImageFormat::parse(&disk_format)
                .ok_or_else(|| JobFailure::new("IMS.0203", format!("Images stored as {disk_format} cannot be exported.")))?;

            let scratch = self.work_dir.join(job.id());
            let _ = tokio::fs::remove_dir_all(&scratch).await;
            tokio::fs::create_dir_all(&scratch).await.map_err(|e| JobFailure::internal("work folder", e))?;
            if self.storage.local_path(&location).is_none() {
                job.set_progress(2.0, "Fetching the image");
            }
            let source =
                self.storage.local_file(&location, &scratch.join("source")).await.map_err(|e| JobFailure::internal("image read", e))?;
            let target = scratch.join(format!("export.{}", target_format.image_format()));
            let (cancel, process_limits) = (job.cancel_flag(), self.process_limits);
            let progress = |percent: f64| job.set_progress(5.0 + percent * 0.8, &format!("Converting to {}", target_format.image_format()));
            tokio::task::block_in_place(|| convert(&source, source_format, &target, target_format, process_limits, progress, &cancel))
                .map_err(failure)?;
            job.check_cancelled()?;
            job.set_progress(85.0, "Writing to the bucket");
            let key = Storage::bucket_key(&job.row.region, &bucket, &object_key);
            let digests = self.storage.upload_file(&target, &key).await.map_err(|e| JobFailure::internal("bucket write", e))?;
            record_object(&self.db, &job.row.region, &bucket, &object_key, digests.size, &digests.sha256)
                .await
                .map_err(|e| JobFailure::internal("object record", e))?;
            let _ = tokio::fs::remove_dir_all(&scratch).await;
            let mut entities = job.entities.clone();
            entities["sha256"] = json!(digests.sha256);
            entities["size"] = json!(digests.size);
            Ok(entities)
        }

        async fn failed(&self, job: &JobContext, _failure: &JobFailure) {
            let _ = tokio::fs::remove_dir_all(self.work_dir.join(job.id())).await;
        }
    }
}
