//! What the compute pages, the server functions and the services share: server and disk
//! statuses and the records the lists and forms show.

use serde::{Deserialize, Serialize};

/// An ECS's state: the first three are where it rests, the others are transitional (a job is
/// moving it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    Running,
    Stopped,
    Error,
    Creating,
    Starting,
    Stopping,
    ChangingOs,
}

impl ServerStatus {
    /// Every status, in the order the status filter offers them.
    pub const ALL: [ServerStatus; 7] = [
        ServerStatus::Running,
        ServerStatus::Stopped,
        ServerStatus::Error,
        ServerStatus::Creating,
        ServerStatus::Starting,
        ServerStatus::Stopping,
        ServerStatus::ChangingOs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Running => "running",
            ServerStatus::Stopped => "stopped",
            ServerStatus::Error => "error",
            ServerStatus::Creating => "creating",
            ServerStatus::Starting => "starting",
            ServerStatus::Stopping => "stopping",
            ServerStatus::ChangingOs => "changing_os",
        }
    }

    pub fn parse(text: &str) -> Option<ServerStatus> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// What the console calls it.
    pub fn label(self) -> &'static str {
        match self {
            ServerStatus::Running => "Running",
            ServerStatus::Stopped => "Stopped",
            ServerStatus::Error => "Faulty",
            ServerStatus::Creating => "Creating",
            ServerStatus::Starting => "Starting",
            ServerStatus::Stopping => "Stopping",
            ServerStatus::ChangingOs => "Changing OS",
        }
    }

    /// A job is moving the server; it takes no other change until it rests.
    pub fn is_transitional(self) -> bool {
        matches!(
            self,
            ServerStatus::Creating | ServerStatus::Starting | ServerStatus::Stopping | ServerStatus::ChangingOs
        )
    }

    /// Running or Stopped: the states in which a server takes images, disks and changes.
    pub fn is_settled(self) -> bool {
        matches!(self, ServerStatus::Running | ServerStatus::Stopped)
    }
}

/// An EVS disk's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskStatus {
    Creating,
    Available,
    InUse,
    Error,
}

impl DiskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DiskStatus::Creating => "creating",
            DiskStatus::Available => "available",
            DiskStatus::InUse => "in_use",
            DiskStatus::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<DiskStatus> {
        [DiskStatus::Creating, DiskStatus::Available, DiskStatus::InUse, DiskStatus::Error]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// What the console calls it.
    pub fn label(self) -> &'static str {
        match self {
            DiskStatus::Creating => "Creating",
            DiskStatus::Available => "Available",
            DiskStatus::InUse => "In-use",
            DiskStatus::Error => "Error",
        }
    }
}

#[cfg(feature = "ssr")]
crate::db::text_column!(ServerStatus);
#[cfg(feature = "ssr")]
crate::db::text_column!(DiskStatus);

/// One ECS as the list and the detail page show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerView {
    pub id: String,
    pub name: String,
    pub status: ServerStatus,
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
    /// What the ECS costs per hour for its image (a paid KooGallery image), in cents.
    pub image_price_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiskView {
    pub id: String,
    pub name: String,
    pub size_gb: i64,
    pub status: DiskStatus,
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
    /// Public, Private, Shared or KooGallery.
    pub category: String,
    pub kind: String,
    pub architecture: String,
    pub boot_mode: String,
    pub min_disk: i64,
    pub min_ram: i64,
    /// Hourly price of a paid KooGallery image; 0 otherwise.
    pub price_cents: i64,
    /// Its owner deprecated it: offered only when asked, with a warning.
    pub deprecated: bool,
    /// The user starred it: listed first.
    pub favorite: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_with_their_stored_values() {
        for status in ServerStatus::ALL {
            assert_eq!(ServerStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for status in [DiskStatus::Creating, DiskStatus::Available, DiskStatus::InUse, DiskStatus::Error] {
            assert_eq!(DiskStatus::parse(status.as_str()), Some(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(ServerStatus::Error.label(), "Faulty");
        assert!(ServerStatus::ChangingOs.is_transitional() && !ServerStatus::Stopped.is_transitional());
    }
}
