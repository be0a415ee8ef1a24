//! Jobs: long work (imports, exports) that runs in the background with progress, shown on the
//! Jobs page and in the image list, and cancellable.

mod page;
#[cfg(feature = "ssr")]
pub mod queue;
#[cfg(feature = "ssr")]
pub mod runner;

pub use page::JobsPage;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub job_type: String,
    pub status: String,
    pub percent: f64,
    pub current_task: String,
    pub fail_reason: String,
    pub image_id: String,
    pub image_name: String,
    pub target: String,
    /// The ECS a compute job works on, if any.
    pub server_id: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl JobView {
    pub fn is_finished(&self) -> bool {
        self.status == "SUCCESS" || self.status == "FAIL"
    }
}

/// The console's name for a job type (the IMS API names them imsImportImageJob and so on).
pub fn job_type_label(job_type: &str) -> &str {
    match job_type {
        "imsImportImageJob" => "Import image",
        "imsNativeExportImageJob" => "Export image",
        "imsCreateImageByInstance" => "Create system disk image",
        "imsCreateWholeImageByInstanceJob" => "Create full-ECS image",
        "imsVolumeCreateImageJob" => "Create data disk image",
        "ecsCreateServerJob" => "Create ECS",
        "ecsStartServerJob" => "Start ECS",
        "ecsStopServerJob" => "Stop ECS",
        "ecsChangeOsJob" => "Change OS",
        "evsCreateVolumeJob" => "Create EVS disk",
        other => other,
    }
}

#[cfg(feature = "ssr")]
impl From<queue::JobRow> for JobView {
    fn from(row: queue::JobRow) -> Self {
        let entities = row.entities();
        let text = |key: &str| entities[key].as_str().unwrap_or_default().to_string();
        JobView {
            image_id: text("image_id"),
            image_name: text("image_name"),
            target: text("target"),
            server_id: text("server_id"),
            id: row.id,
            job_type: row.job_type,
            status: row.status,
            percent: row.percent,
            current_task: row.current_task,
            fail_reason: row.fail_reason,
            created_at: row.created_at,
            finished_at: row.finished_at,
        }
    }
}

/// The latest jobs of the caller's project in the selected region.
#[server(endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobView>, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        let rows = queue::list_for_project(&state.db, &user.project_id, 100).await?;
        Ok(rows.into_iter().map(JobView::from).collect())
    })
    .await
}

#[server(endpoint = "cancel_job")]
pub async fn cancel_job(id: String) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        match queue::request_cancel(&state.db, &user.project_id, &id).await? {
            None => Err(AppError::NotFound(format!("Job '{id}' does not exist in this region."))),
            Some(false) => Err(AppError::Conflict("The job has already finished.".into())),
            Some(true) => {
                state.running_jobs.cancel(&id);
                state.job_waker.notify_waiters();
                Ok(())
            }
        }
    })
    .await
}
