//! Jobs: long work (imports, exports, servers, captures) that runs in the background with
//! progress, shown on the Jobs page and in the lists, and cancellable. `queue` and `runner`
//! are the machinery every domain queues work on; `service` and the server functions below
//! are the Jobs page's operations.

pub mod model;
pub mod page;
#[cfg(feature = "ssr")]
pub mod queue;
#[cfg(feature = "ssr")]
pub mod runner;
#[cfg(feature = "ssr")]
pub mod service;

#[cfg(feature = "ssr")]
use crate::auth::audit::Audit;
#[cfg(feature = "ssr")]
use crate::auth::{as_editor, as_viewer};
use crate::error::AppError;
use leptos::prelude::*;
use model::JobView;

/// The latest jobs of the caller's project in the selected region.
#[server(endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobView>, AppError> {
    as_viewer(|state, caller| async move { service::list_jobs(&state, &caller).await }).await
}

#[server(endpoint = "cancel_job")]
pub async fn cancel_job(id: String) -> Result<(), AppError> {
    as_editor(Audit::new("Cancel job", "job", id.as_str()), |state, caller| async move {
        service::cancel_job(&state, &caller, &id).await
    })
    .await
}
