//! The compute side IMS depends on: ECSs (servers) with their EVS disks, flavors, and the
//! paths between servers and images. Servers boot no guest; their disks are real qcow2 files.

mod create_page;
mod detail_page;
mod disks_page;
mod forms;
pub mod flavors;
mod list_page;
pub mod requests;
pub mod rules;
#[cfg(feature = "ssr")]
pub mod actions;
#[cfg(feature = "ssr")]
pub mod files;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod store;

pub use create_page::CreateServerPage;
pub use detail_page::ServerDetailPage;
pub use disks_page::DisksPage;
pub use list_page::ServerListPage;
pub use requests::*;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Server statuses with the labels the console shows; the last five are transitional.
pub const SERVER_STATUSES: &[(&str, &str)] = &[
    ("running", "Running"),
    ("stopped", "Stopped"),
    ("error", "Faulty"),
    ("creating", "Creating"),
    ("starting", "Starting"),
    ("stopping", "Stopping"),
    ("changing_os", "Changing OS"),
];

pub fn status_label(status: &str) -> &str {
    SERVER_STATUSES.iter().find(|(value, _)| *value == status).map(|(_, label)| *label).unwrap_or(status)
}

pub fn is_transitional(status: &str) -> bool {
    matches!(status, "creating" | "starting" | "stopping" | "changing_os")
}

pub fn disk_status_label(status: &str) -> &str {
    match status {
        "creating" => "Creating",
        "available" => "Available",
        "in_use" => "In-use",
        "error" => "Error",
        other => other,
    }
}

/// One ECS as the list and the detail page show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub status_reason: String,
    pub flavor: String,
    pub flavor_summary: String,
    pub gpu: bool,
    pub image_id: String,
    pub image_name: String,
    pub os_type: String,
    pub os_version: String,
    pub architecture: String,
    pub boot_mode: String,
    pub temporary: bool,
    pub system_disk_gb: i64,
    pub data_disks: i64,
    pub created_at: i64,
    /// Progress of the job working on the server, while it runs.
    pub progress: Option<f64>,
    /// False when the image the OS came from has been deleted (the ECS cannot be reinstalled).
    pub image_exists: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiskView {
    pub id: String,
    pub name: String,
    pub size_gb: i64,
    pub status: String,
    pub status_reason: String,
    pub server_id: String,
    pub server_name: String,
    pub role: String,
    pub device: String,
    pub image_id: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerDetail {
    pub server: ServerView,
    pub disks: Vec<DiskView>,
}

/// Bytes read from a disk, as text (lossy UTF-8) and hex.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiskBytes {
    pub offset: i64,
    pub text: String,
    pub hex: String,
}

/// An image a server or disk can be made from, for the choosers of the forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageChoice {
    pub id: String,
    pub name: String,
    /// Public, Private or Shared.
    pub category: String,
    pub kind: String,
    pub architecture: String,
    pub boot_mode: String,
    pub min_disk: i64,
    pub min_ram: i64,
}

/// The caller's ECSs in the region, newest first; `name` (contains) and `status` narrow them.
#[server(endpoint = "list_servers")]
pub async fn list_servers(#[server(default)] name: String, #[server(default)] status: String) -> Result<Vec<ServerView>, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        if !status.is_empty() && !SERVER_STATUSES.iter().any(|(value, _)| *value == status) {
            return Err(AppError::Invalid(format!("'{status}' is not an ECS status.")));
        }
        store::list_servers(&state.db, &user, name.trim(), &status).await
    })
    .await
}

#[server(endpoint = "get_server")]
pub async fn get_server(id: String) -> Result<ServerDetail, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        store::server_detail(&state.db, &user, &id).await
    })
    .await
}

#[server(endpoint = "list_disks")]
pub async fn list_disks() -> Result<Vec<DiskView>, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        store::list_disks(&state.db, &user).await
    })
    .await
}

/// Images of the region that can make servers (`for_disks` false) or EVS disks (true).
#[server(endpoint = "list_image_choices")]
pub async fn list_image_choices(for_disks: bool) -> Result<Vec<ImageChoice>, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        store::image_choices(&state.db, &user, for_disks).await
    })
    .await
}

/// Creates one or several ECSs from an image. Returns their ids.
#[server(endpoint = "create_servers")]
pub async fn create_servers(request: CreateServersRequest) -> Result<Vec<String>, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        let valid = match request.validate() {
            Ok(valid) => valid,
            Err(mut errors) => {
                for (field, message) in actions::image_fit_errors(&state.db, &user, &request).await {
                    if !errors.iter().any(|(known, _)| *known == field) {
                        errors.push((field, message));
                    }
                }
                return Err(AppError::Fields(errors));
            }
        };
        let ids = actions::create_servers(&state.db, &user, &request, &valid).await?;
        state.job_waker.notify_waiters();
        Ok(ids)
    })
    .await
}

/// `start`, `stop` or `reinstall` (the OS again from the image the ECS came from).
#[server(endpoint = "server_action")]
pub async fn run_server_action(id: String, action: String) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        actions::server_action(&state.db, &user, &id, &action).await?;
        state.job_waker.notify_waiters();
        Ok(())
    })
    .await
}

/// Replaces the ECS's system disk with one made from `image_id`; data disks are kept.
#[server(endpoint = "change_os")]
pub async fn change_os(id: String, image_id: String) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        actions::change_os(&state.db, &user, &id, &image_id).await?;
        state.job_waker.notify_waiters();
        Ok(())
    })
    .await
}

/// Deletes an ECS and its system disk; its data disks are detached and kept unless asked.
#[server(endpoint = "delete_server")]
pub async fn delete_server(id: String, #[server(default)] delete_data_disks: bool) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        actions::delete_server(&state.db, &state.storage, &user, &id, delete_data_disks).await
    })
    .await
}

#[server(endpoint = "attach_disk")]
pub async fn attach_disk(server_id: String, disk_id: String) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        actions::attach_disk(&state.db, &user, &server_id, &disk_id).await
    })
    .await
}

#[server(endpoint = "detach_disk")]
pub async fn detach_disk(disk_id: String) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        actions::detach_disk(&state.db, &user, &disk_id).await
    })
    .await
}

/// Creates an EVS disk, blank or from a data disk image. Returns its id.
#[server(endpoint = "create_disk")]
pub async fn create_disk(request: CreateDiskRequest) -> Result<String, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        let size_gb = request.validate().map_err(AppError::Fields)?;
        let id = actions::create_disk(&state, &user, &request, size_gb).await?;
        state.job_waker.notify_waiters();
        Ok(id)
    })
    .await
}

#[server(endpoint = "delete_disk")]
pub async fn delete_disk(id: String) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        actions::delete_disk(&state.db, &state.storage, &user, &id).await
    })
    .await
}

/// Creates a system disk, full-ECS or data disk image from an ECS. Returns the image id.
#[server(endpoint = "create_image_from_server")]
pub async fn create_image_from_server(request: CaptureRequest) -> Result<String, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        request.validate().map_err(AppError::Fields)?;
        let id = actions::create_image_from_server(&state.db, &user, &request).await?;
        state.job_waker.notify_waiters();
        Ok(id)
    })
    .await
}

/// Writes text at a byte offset of a disk: how tests and operators put known content on a
/// server's disk, to find it again in images made from it.
#[server(endpoint = "write_disk")]
pub async fn write_disk(request: WriteDiskRequest) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        let offset = request.validate().map_err(AppError::Fields)?;
        files::write_disk(&state, &user, &request.disk_id, offset, request.text.as_bytes()).await
    })
    .await
}

#[server(endpoint = "read_disk")]
pub async fn read_disk(disk_id: String, offset: String, length: String) -> Result<DiskBytes, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        let (offset, length) = requests::read_range(&offset, &length).map_err(AppError::Fields)?;
        files::read_disk(&state, &user, &disk_id, offset, length).await
    })
    .await
}

/// Writes a file into the filesystem on a disk (ext2/3/4, first partition or whole disk).
#[server(endpoint = "write_disk_file")]
pub async fn write_disk_file(request: WriteFileRequest) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        request.validate().map_err(AppError::Fields)?;
        files::write_disk_file(&state, &user, &request.disk_id, &request.path, request.text.as_bytes()).await
    })
    .await
}

#[server(endpoint = "read_disk_file")]
pub async fn read_disk_file(disk_id: String, path: String) -> Result<String, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        requests::check_file_path(&path).map_err(AppError::Fields)?;
        files::read_disk_file(&state, &user, &disk_id, &path).await
    })
    .await
}
