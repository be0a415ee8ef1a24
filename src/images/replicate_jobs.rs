//! The replication jobs: copy a source image's stored file to the replica's place (in the same
//! region or another) and make the replica Normal. On a folder store the copy is a hard link
//! of the immutable source file; on S3 it is streamed and checked against the source's SHA-256.
//! A killed run starts again from a clean folder, so no half-written copy stays behind.

use super::store::{self, FinishedFile, StoredFile};
use crate::jobs::model::JobEntities;
use crate::jobs::runner::{JobContext, JobFailure, JobHandler};
use crate::storage::{Copied, Storage};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub const COPY_IN_REGION_JOB: &str = "imsCopyImageInRegionJob";
pub const CROSS_REGION_COPY_JOB: &str = "imsCrossRegionCopyImageJob";

#[derive(Debug, Serialize, Deserialize)]
pub struct CopyParams {
    pub source_image_id: String,
    /// The replica, registered Queued with the job.
    pub image_id: String,
    /// The replica's region (the source's, within a region).
    pub region: String,
}

/// One handler per job type; the work is the same.
pub struct CopyJob(&'static str);

pub fn handlers() -> Vec<Arc<dyn JobHandler>> {
    vec![Arc::new(CopyJob(COPY_IN_REGION_JOB)), Arc::new(CopyJob(CROSS_REGION_COPY_JOB))]
}

#[async_trait]
impl JobHandler for CopyJob {
    fn job_type(&self) -> &'static str {
        self.0
    }

    async fn run(&self, job: &JobContext) -> Result<JobEntities, JobFailure> {
        let params: CopyParams = job.params()?;
        let env = &job.env;
        let source = store::source_file(&env.db, &params.source_image_id)
            .await?
            .ok_or_else(|| JobFailure::new("IMS.0301", "The source image was deleted."))?;
        store::mark_saving(&env.db, &params.image_id).await?;
        // What a killed run left of its copy goes first; nothing else lives in this folder.
        let folder = Storage::image_folder(&params.region, &params.image_id);
        env.storage.clear_prefix(&folder).await.map_err(|e| JobFailure::internal("replica folder", e))?;
        job.set_progress(1.0, "Copying the image file");
        let key = Storage::image_key(&params.region, &params.image_id, &source.disk_format);
        let cancel = job.cancel_flag();
        let mut last_percent = 0.0;
        let copied = env
            .storage
            .link_or_copy(&source.file_location, &key, &cancel, |done, total| {
                let percent = 1.0 + 98.0 * done as f64 / total.max(1) as f64;
                // A progress write per whole percent, not per chunk.
                if percent - last_percent >= 1.0 {
                    last_percent = percent;
                    job.set_progress(percent, "Copying the image file");
                }
            })
            .await;
        if cancel.load(Ordering::Relaxed) {
            return Err(JobFailure::cancelled());
        }
        let copied = copied.map_err(|error| {
            tracing::warn!(%error, job = %job.row.id, "copying an image file");
            JobFailure::new("IMS.0302", "The image file could not be copied; try again.")
        })?;
        let (size, md5, sha256) = match copied {
            Copied::Linked { size } => (size, source.checksum.clone(), source.sha256.clone()),
            Copied::Streamed(digests) => {
                if !source.sha256.is_empty() && digests.sha256 != source.sha256 {
                    return Err(JobFailure::new("IMS.0303", "The copy does not match the source image's checksum."));
                }
                (digests.size, digests.md5, digests.sha256)
            }
        };
        let file = StoredFile { location: key, md5, sha256 };
        let finished = FinishedFile {
            disk_format: &source.disk_format,
            image_size: size as i64,
            virtual_size: source.virtual_size,
            file: &file,
            min_disk: None,
        };
        if !store::mark_active(&env.db, &params.image_id, &finished).await? {
            let _ = env.storage.clear_prefix(&folder).await;
            return Err(JobFailure::new("IMS.0304", "The replica was deleted while it was being made."));
        }
        job.set_progress(100.0, "Done");
        Ok(JobEntities { image_id: params.image_id, ..job.entities.clone() })
    }

    async fn failed(&self, job: &JobContext, failure: &JobFailure) {
        let Ok(params) = job.params::<CopyParams>() else { return };
        let env = &job.env;
        if let Err(error) = env.storage.clear_prefix(&Storage::image_folder(&params.region, &params.image_id)).await {
            tracing::warn!(%error, image = %params.image_id, "removing a failed replica's file");
        }
        if let Err(error) = store::mark_killed(&env.db, &params.image_id, &failure.reason).await {
            tracing::error!(%error, image = %params.image_id, "marking a failed replica killed");
        }
    }
}
