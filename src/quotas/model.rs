//! Per-project quotas, in the shape of IMS's quota call: each resource's type, what is used
//! and the limit.

use serde::{Deserialize, Serialize};

/// What a project may hold at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuotaKind {
    Images,
    StoredBytes,
    Objects,
    Uploads,
    Servers,
    Disks,
    QueuedJobs,
}

impl QuotaKind {
    pub const ALL: [QuotaKind; 7] = [
        QuotaKind::Images,
        QuotaKind::StoredBytes,
        QuotaKind::Objects,
        QuotaKind::Uploads,
        QuotaKind::Servers,
        QuotaKind::Disks,
        QuotaKind::QueuedJobs,
    ];

    /// The `type` IMS's quota call uses (`image` for private images), and ours for the rest.
    pub fn type_name(self) -> &'static str {
        match self {
            QuotaKind::Images => "image",
            QuotaKind::StoredBytes => "stored_bytes",
            QuotaKind::Objects => "object",
            QuotaKind::Uploads => "upload",
            QuotaKind::Servers => "server",
            QuotaKind::Disks => "disk",
            QuotaKind::QueuedJobs => "queued_job",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            QuotaKind::Images => "Private images",
            QuotaKind::StoredBytes => "Stored data",
            QuotaKind::Objects => "Bucket objects",
            QuotaKind::Uploads => "Unfinished uploads",
            QuotaKind::Servers => "ECSs",
            QuotaKind::Disks => "EVS disks",
            QuotaKind::QueuedJobs => "Jobs waiting to run",
        }
    }
}

/// One line of the quota table: IMS's QuotaInfo (`type`, `used`, `quota`, `min`, `max`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaInfo {
    #[serde(rename = "type")]
    pub kind: String,
    pub label: String,
    pub used: i64,
    pub quota: i64,
    pub min: i64,
    pub max: i64,
    /// Whether the numbers are bytes (shown as GB).
    pub bytes: bool,
}
