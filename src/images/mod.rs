//! Images: the shared model, the list/detail server functions, and their pages.

mod create_page;
mod detail_page;
pub mod export;
pub mod import;
mod list_page;
mod query;
pub mod validate;
#[cfg(feature = "ssr")]
pub mod store;

pub use create_page::CreateImagePage;
pub use detail_page::ImageDetailPage;
pub use list_page::ImageListPage;
pub use query::{ImageQuery, ImageTab, SortKey, ValidQuery, PAGE_SIZES, QUERY_KEYS};

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// `__platform` values of the IMS API.
pub const PLATFORMS: &[&str] = &[
    "Windows", "Ubuntu", "RedHat", "SUSE", "CentOS", "Debian", "OpenSUSE", "Oracle Linux", "Fedora", "Other",
    "CoreOS", "EulerOS",
];
pub const OS_TYPES: &[&str] = &["Linux", "Windows", "Other"];
/// Image statuses a user can filter by, with the labels the console shows.
pub const STATUSES: &[(&str, &str)] =
    &[("active", "Normal"), ("saving", "Creating"), ("queued", "Queued"), ("killed", "Failed")];
/// Console image types (system disk, data disk, full-ECS, ISO) with their labels.
pub const IMAGE_KINDS: &[(&str, &str)] = &[
    ("system", "System disk image"),
    ("data", "Data disk image"),
    ("full_ecs", "Full-ECS image"),
    ("iso", "ISO image"),
];

pub fn status_label(status: &str) -> &str {
    match status {
        "deleted" => "Deleted",
        _ => STATUSES.iter().find(|(value, _)| *value == status).map(|(_, label)| *label).unwrap_or(status),
    }
}

pub fn kind_label(kind: &str) -> &str {
    IMAGE_KINDS.iter().find(|(value, _)| *value == kind).map(|(_, label)| *label).unwrap_or(kind)
}

/// One row of the image list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    pub id: String,
    pub name: String,
    pub status: String,
    pub status_reason: String,
    pub os_type: String,
    pub os_version: String,
    pub platform: String,
    pub kind: String,
    pub disk_format: String,
    pub image_size: i64,
    pub min_disk: i64,
    pub min_ram: i64,
    pub architecture: String,
    pub hw_firmware_type: String,
    pub created_at: i64,
    pub encrypted: bool,
    pub protected: bool,
    /// True when the caller's project owns the image.
    pub owned: bool,
    /// Progress of the job creating the image, while it runs.
    pub progress: Option<f64>,
    /// Servers created from the image so far.
    pub servers_created: i64,
    /// Whether an image file is stored (servers and disks can be made from it).
    pub has_file: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImagePage {
    pub images: Vec<ImageSummary>,
    pub total: i64,
    pub page: u32,
    pub page_size: u32,
}

impl ImagePage {
    pub fn page_count(&self) -> u32 {
        let size = self.page_size.max(1) as i64;
        ((self.total + size - 1) / size).max(1) as u32
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageTag {
    pub key: String,
    pub value: String,
}

/// Every attribute of an image that the detail page shows (the IMS image model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageDetail {
    pub id: String,
    pub name: String,
    pub description: String,
    pub region: String,
    pub owner: String,
    pub status: String,
    pub status_reason: String,
    pub visibility: String,
    pub imagetype: String,
    pub kind: String,
    pub virtual_env_type: String,
    pub os_type: String,
    pub platform: String,
    pub os_version: String,
    pub os_bit: String,
    pub architecture: String,
    pub hw_firmware_type: String,
    pub disk_format: String,
    pub container_format: String,
    pub min_disk: i64,
    pub min_ram: i64,
    pub max_ram: i64,
    pub image_size: i64,
    pub virtual_size: i64,
    pub checksum: String,
    pub sha256: String,
    pub protected: bool,
    pub is_registered: bool,
    pub cmk_id: String,
    pub data_origin: String,
    pub original_image_id: String,
    pub root_origin: String,
    pub backup_id: String,
    pub enterprise_project_id: String,
    pub image_source_type: String,
    pub support_flags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub active_at: Option<i64>,
    pub tags: Vec<ImageTag>,
    pub owned: bool,
    pub servers_created: i64,
    pub last_used_at: Option<i64>,
    /// Sizes in GB of a full-ECS image's data disks.
    pub data_disks_gb: Vec<i64>,
    pub has_file: bool,
}

/// One page of the images the caller may see in the selected region.
#[server(endpoint = "list_images")]
pub async fn list_images(query: ImageQuery) -> Result<ImagePage, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        let valid = query.validate()?;
        store::list_images(&state.db, &user, &valid).await
    })
    .await
}

/// One image, if the caller may see it.
#[server(endpoint = "get_image")]
pub async fn get_image(id: String) -> Result<ImageDetail, AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        store::get_image(&state.db, &user, &id).await
    })
    .await
}

/// Deletes one of the caller's private images.
#[server(endpoint = "delete_image")]
pub async fn delete_image(id: String) -> Result<(), AppError> {
    crate::server::with_status(async move {
        let (state, user) = crate::auth::require_user().await?;
        user.require_image_rights()?;
        store::delete_private_image(&state.db, &state.storage, &user, &id).await
    })
    .await
}
