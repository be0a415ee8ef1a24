//! The Jobs page's operations.

use super::model::JobView;
use super::queue;
use crate::caller::Caller;
use crate::error::AppError;
use crate::state::AppState;

/// The latest 100 jobs of the caller's project in its region, newest first.
pub async fn list_jobs(state: &AppState, caller: &Caller) -> Result<Vec<JobView>, AppError> {
    let rows = queue::list_for_project(&state.db, &caller.project_id, 100).await?;
    Ok(rows.into_iter().map(queue::JobRow::view).collect())
}

/// Asks a job of the caller's project to stop; a job running here stops at once, one running
/// on another instance at its next heartbeat.
pub async fn cancel_job(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    match queue::request_cancel(&state.db, &caller.project_id, id).await? {
        None => Err(AppError::NotFound(format!("Job '{id}' does not exist in this region."))),
        Some(false) => Err(AppError::Conflict("The job has already finished.".into())),
        Some(true) => {
            state.running_jobs.cancel(id);
            state.wake_jobs();
            Ok(())
        }
    }
}

/// One job of the caller's project (the IMS job API), or NotFound.
pub async fn get_job(state: &AppState, caller: &Caller, id: &str) -> Result<queue::JobRow, AppError> {
    queue::get(&state.db, id)
        .await?
        .filter(|job| job.project_id == caller.project_id)
        .ok_or_else(|| AppError::NotFound(format!("Job '{id}' does not exist in this project.")))
}
