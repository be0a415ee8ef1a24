//! Quotas: what a project may hold (private images, stored data, bucket objects, unfinished
//! uploads, ECSs, EVS disks, jobs waiting), checked before anything is created and shown on
//! the Quotas page.

pub mod model;
pub mod page;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

#[cfg(feature = "ssr")]
use crate::auth::as_viewer;
use crate::error::AppError;
use leptos::prelude::*;
use model::QuotaInfo;

/// The caller's project quotas in its region, as IMS's quota call lists them.
#[server(endpoint = "list_quotas")]
pub async fn list_quotas() -> Result<Vec<QuotaInfo>, AppError> {
    as_viewer(|state, caller| async move { service::quotas(&state, &caller).await }).await
}
