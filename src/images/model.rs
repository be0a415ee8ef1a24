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

/// Why a viewer's controls are disabled.
pub const VIEW_ONLY: &str = "Your role (viewer) can only view images.";

/// Why the owner cannot delete an image now, if it cannot (the service refuses it for the
/// same reasons, and names the image).
pub fn delete_refusal(protected: bool, status: ImageStatus, published: bool) -> Option<&'static str> {
    if protected {
        Some("Deletion protection is on: turn it off to delete this image.")
    } else if status.is_in_progress() {
        Some("The image is still being created.")
    } else if published {
        Some("Published images cannot be deleted: unpublish it first.")
    } else {
        None
    }
}

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
    /// Its deprecation time has passed.
    pub deprecated: bool,
    /// The user starred it as frequently used.
    pub favorite: bool,
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
    /// The image family it belongs to ("" for none).
    pub family: String,
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
    /// Where it came from and what was made from it (filled by the service).
    pub lineage: Option<Lineage>,
    /// When the owner deprecates (or deprecated) it.
    pub deprecated_at: Option<i64>,
    /// The deprecation time has passed.
    pub deprecated: bool,
    /// The user starred it as frequently used.
    pub favorite: bool,
    /// Free-form string properties set through the Glance API (a JSON object; `{}` for none).
    #[serde(default)]
    pub properties: String,
}

/// A resource an image's lineage names: its id, its name and, when the caller may open it, its
/// page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkedResource {
    pub id: String,
    pub name: String,
    pub href: Option<String>,
}

/// Where an image came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ImageSource {
    /// Imported from an object in a bucket (the bucket's page when it still exists).
    File { bucket: String, object_key: String, href: Option<String> },
    /// Captured from an ECS (no page when the ECS is gone).
    Server(LinkedResource),
    /// Captured from an EVS disk (no page when the disk is gone).
    Disk(LinkedResource),
    /// Copied from another image.
    Image(LinkedResource),
    /// Replicated from an image of the account, in `region` (its name).
    Replica { image: LinkedResource, region: String },
    /// A platform image: public or KooGallery.
    Platform,
    /// Nothing is recorded (an image made before lineage was kept).
    Unknown,
}

/// A project an image is shared with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareLink {
    pub project_id: String,
    pub account: String,
    pub status: MemberStatus,
}

/// What was made from an image: ECSs and EVS disks (the caller's, linked; other projects'
/// ECSs counted), images (replicas, and images captured from its ECSs), and, for its owner,
/// its shares.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Descendants {
    pub servers: Vec<LinkedResource>,
    pub other_servers: i64,
    pub disks: Vec<LinkedResource>,
    pub images: Vec<LinkedResource>,
    pub shares: Vec<ShareLink>,
}

impl Descendants {
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
            && self.other_servers == 0
            && self.disks.is_empty()
            && self.images.is_empty()
            && self.shares.is_empty()
    }
}

/// An image's lineage: where it came from and what came from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    pub source: ImageSource,
    /// The image the source ECS was made from, or the image this one was copied from.
    pub parent: Option<LinkedResource>,
    pub descendants: Descendants,
}

/// What deleting one image would affect, or why it cannot be deleted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletionImpact {
    pub id: String,
    pub name: String,
    /// Why this image cannot be deleted now, naming it.
    pub refusal: Option<String>,
    pub descendants: Descendants,
}

/// What the Delete dialog shows: each image's impact, and how long deleted images stay in
/// the recycle bin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeletionPlan {
    pub retention_ms: i64,
    pub images: Vec<DeletionImpact>,
}

/// One image in the recycle bin, as its page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct RecycledImage {
    pub id: String,
    pub name: String,
    pub image_kind: String,
    pub image_size: i64,
    pub deleted_at: i64,
    pub purge_at: i64,
}

/// The recycle bin of a project: its images and how long images stay there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecycleBin {
    pub retention_ms: i64,
    /// The server's clock when it listed them (time left is counted from it).
    pub now: i64,
    pub images: Vec<RecycledImage>,
}

/// The time an image has left in the recycle bin, in words.
pub fn time_left(purge_at: i64, now: i64) -> String {
    let minutes = (purge_at - now).max(0) / 60_000;
    let (days, hours) = (minutes / 1440, minutes / 60 % 24);
    let plural = |count: i64, unit: &str| format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
    match (days, hours, minutes) {
        (0, 0, 0) => "Being deleted".to_string(),
        (0, 0, minutes) => plural(minutes, "minute"),
        (0, hours, _) => plural(hours, "hour"),
        (days, 0, _) => plural(days, "day"),
        (days, hours, _) => format!("{} {}", plural(days, "day"), plural(hours, "hour")),
    }
}

/// A retention period in words ("7 days", "2 hours", "30 seconds").
pub fn period_label(ms: i64) -> String {
    let seconds = ms / 1000;
    let plural = |count: i64, unit: &str| format!("{count} {unit}{}", if count == 1 { "" } else { "s" });
    if seconds % 86_400 == 0 {
        plural(seconds / 86_400, "day")
    } else if seconds % 3600 == 0 {
        plural(seconds / 3600, "hour")
    } else if seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
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

    #[test]
    fn time_left_reads_like_a_person_would_say_it() {
        let (minute, hour, day) = (60_000, 3_600_000, 86_400_000);
        assert_eq!(time_left(0, 0), "Being deleted");
        assert_eq!(time_left(-5, 0), "Being deleted");
        assert_eq!(time_left(minute * 5 + 10, 0), "5 minutes");
        assert_eq!(time_left(hour, 0), "1 hour");
        assert_eq!(time_left(day * 6 + hour * 23 + minute, 0), "6 days 23 hours");
        assert_eq!(time_left(day * 7, 0), "7 days");
        assert_eq!(period_label(7 * day), "7 days");
        assert_eq!(period_label(2 * hour), "2 hours");
        assert_eq!(period_label(3000), "3 seconds");
    }
}
