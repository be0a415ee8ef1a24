//! The image model the pages, the server functions and the services share: statuses, kinds,
//! OS choices and the list and detail records.

use crate::market::model::Offering;
use crate::sharing::model::MemberStatus;
use serde::{Deserialize, Serialize};

/// `__platform` values of the IMS API.
pub const PLATFORMS: &[&str] = &[
    "Windows",
    "Ubuntu",
    "RedHat",
    "SUSE",
    "CentOS",
    "Debian",
    "OpenSUSE",
    "Oracle Linux",
    "Fedora",
    "Other",
    "CoreOS",
    "EulerOS",
];
pub const OS_TYPES: &[&str] = &["Linux", "Windows", "Other"];
/// Console image types (system disk, data disk, full-ECS, ISO) with their labels.
pub const IMAGE_KINDS: &[(&str, &str)] = &[
    ("system", "System disk image"),
    ("data", "Data disk image"),
    ("full_ecs", "Full-ECS image"),
    ("iso", "ISO image"),
];

pub fn kind_label(kind: &str) -> &str {
    IMAGE_KINDS.iter().find(|(value, _)| *value == kind).map(|(_, label)| *label).unwrap_or(kind)
}

/// An image's life (the IMS API's values): registered, its file being made, usable, failed,
/// or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    Queued,
    Saving,
    Active,
    Killed,
    Deleted,
}

impl ImageStatus {
    /// The statuses a user can filter the list by, in the order the filter offers them.
    pub const FILTERS: [ImageStatus; 4] =
        [ImageStatus::Active, ImageStatus::Saving, ImageStatus::Queued, ImageStatus::Killed];

    pub fn as_str(self) -> &'static str {
        match self {
            ImageStatus::Queued => "queued",
            ImageStatus::Saving => "saving",
            ImageStatus::Active => "active",
            ImageStatus::Killed => "killed",
            ImageStatus::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<ImageStatus> {
        [Self::Queued, Self::Saving, Self::Active, Self::Killed, Self::Deleted]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// What the console calls it.
    pub fn label(self) -> &'static str {
        match self {
            ImageStatus::Queued => "Queued",
            ImageStatus::Saving => "Creating",
            ImageStatus::Active => "Normal",
            ImageStatus::Killed => "Failed",
            ImageStatus::Deleted => "Deleted",
        }
    }

    /// Still being created: it cannot be deleted or used yet.
    pub fn is_in_progress(self) -> bool {
        matches!(self, ImageStatus::Queued | ImageStatus::Saving)
    }
}

#[cfg(feature = "ssr")]
crate::db::text_column!(ImageStatus);

/// One row of the image list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageSummary {
    pub id: String,
    pub name: String,
    pub status: ImageStatus,
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
    /// The account of the owning project ("" for the platform's images).
    pub owner_account: String,
    /// The KooGallery publisher and hourly price, when the image is listed there.
    pub publisher: Option<String>,
    pub price_cents: Option<i64>,
    /// When the share with the caller's project ends, for images shared with it.
    pub share_expires_at: Option<i64>,
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
    pub status: ImageStatus,
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
    /// The account of the owning project ("" for the platform's images).
    pub owner_account: String,
    /// The caller's answer, when the image is shared with the caller's project.
    pub member_status: Option<MemberStatus>,
    /// For the owner: how many projects the image is shared with now.
    pub shared_with: i64,
    /// The KooGallery listing, when the image is listed.
    pub offering: Option<Offering>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_with_the_api_values() {
        for status in
            [ImageStatus::Queued, ImageStatus::Saving, ImageStatus::Active, ImageStatus::Killed, ImageStatus::Deleted]
        {
            assert_eq!(ImageStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(ImageStatus::Active.label(), "Normal");
        assert_eq!(ImageStatus::parse("gone"), None);
    }
}
