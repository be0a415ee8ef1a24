//! The forms of the compute pages and their validation, shared by the browser (to point at
//! the field) and the server (which is the guard).

use super::rules::{FieldErrors, DATA_DISK_MAX_GB, DATA_DISK_MIN_GB, MAX_DATA_DISKS, MAX_SERVERS_AT_ONCE};
use crate::images::validate;
use serde::{Deserialize, Serialize};

/// 1-64 characters: letters, digits, '-', '_' and '.'.
pub fn resource_name(name: &str, what: &str) -> Result<(), String> {
    let length = name.chars().count();
    if !(1..=64).contains(&length) {
        return Err(format!("Enter a {what} name of 1 to 64 characters."));
    }
    match name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))) {
        Some(c) => Err(format!("The {what} name cannot contain '{c}': use letters, digits, '-', '_' or '.'.")),
        None => Ok(()),
    }
}

fn number(text: &str, range: std::ops::RangeInclusive<i64>, what: &str) -> Result<Option<i64>, String> {
    validate::optional_number(text, range, what)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateServersRequest {
    pub name: String,
    pub image_id: String,
    pub flavor: String,
    /// GB; empty takes the smallest disk the image allows.
    pub system_disk_gb: String,
    pub count: String,
    /// Sizes in GB of blank data disks, comma separated.
    pub data_disks: String,
    /// Set (to anything) when the user accepts the price of a paid KooGallery image.
    pub accept_price: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValidServers {
    pub count: i64,
    pub system_disk_gb: Option<i64>,
    pub data_disk_sizes: Vec<i64>,
}

impl CreateServersRequest {
    pub fn validate(&self) -> Result<ValidServers, FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        let count = match number(&self.count, 1..=MAX_SERVERS_AT_ONCE, "Quantity") {
            Ok(count) => count.unwrap_or(1),
            Err(message) => {
                errors.push(("count".into(), message));
                1
            }
        };
        // Several servers are named name-0001, name-0002, ...: leave room for the suffix.
        let name = self.name.trim();
        if let Err(message) = resource_name(name, "server") {
            errors.push(("name".into(), message));
        } else if count > 1 && name.chars().count() > 59 {
            errors.push(("name".into(), "With a quantity above 1 the name can have at most 59 characters.".into()));
        }
        if self.image_id.trim().is_empty() {
            errors.push(("image_id".into(), "Choose an image.".into()));
        }
        if self.flavor.trim().is_empty() {
            errors.push(("flavor".into(), "Choose a flavor.".into()));
        }
        let system_disk_gb = number(&self.system_disk_gb, 1..=super::rules::SYSTEM_DISK_MAX_GB, "System disk (GB)")
            .unwrap_or_else(|message| {
                errors.push(("system_disk_gb".into(), message));
                None
            });
        let data_disk_sizes = match data_disk_sizes(&self.data_disks) {
            Ok(sizes) => sizes,
            Err(message) => {
                errors.push(("data_disks".into(), message));
                Vec::new()
            }
        };
        if errors.is_empty() {
            Ok(ValidServers { count, system_disk_gb, data_disk_sizes })
        } else {
            Err(errors)
        }
    }
}

/// "100, 200" → [100, 200].
pub fn data_disk_sizes(text: &str) -> Result<Vec<i64>, String> {
    let sizes: Vec<&str> = text.split(',').map(str::trim).filter(|size| !size.is_empty()).collect();
    if sizes.len() > MAX_DATA_DISKS {
        return Err(format!("A server can have at most {MAX_DATA_DISKS} data disks."));
    }
    sizes
        .into_iter()
        .map(|size| match size.parse::<i64>() {
            Ok(gb) if (DATA_DISK_MIN_GB..=DATA_DISK_MAX_GB).contains(&gb) => Ok(gb),
            _ => Err(format!(
                "'{size}' is not a data disk size: give sizes from {DATA_DISK_MIN_GB} to {DATA_DISK_MAX_GB} GB, separated by commas."
            )),
        })
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CreateDiskRequest {
    pub name: String,
    pub size_gb: String,
    /// A data disk image to fill the disk from; empty for a blank disk.
    pub image_id: String,
}

impl CreateDiskRequest {
    /// The size in GB, or 0 when it is left to the image.
    pub fn validate(&self) -> Result<i64, FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        if let Err(message) = resource_name(self.name.trim(), "disk") {
            errors.push(("name".into(), message));
        }
        let size =
            number(&self.size_gb, DATA_DISK_MIN_GB..=DATA_DISK_MAX_GB, "Capacity (GB)").unwrap_or_else(|message| {
                errors.push(("size_gb".into(), message));
                Some(0)
            });
        if size.is_none() && self.image_id.trim().is_empty() {
            errors
                .push(("size_gb".into(), format!("Enter the capacity, {DATA_DISK_MIN_GB} to {DATA_DISK_MAX_GB} GB.")));
        }
        if errors.is_empty() {
            Ok(size.unwrap_or(0))
        } else {
            Err(errors)
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaptureRequest {
    pub server_id: String,
    /// `system`, `full_ecs` or `data`.
    pub image_type: String,
    /// The data disk, for data disk images.
    pub disk_id: String,
    pub name: String,
    pub description: String,
}

impl CaptureRequest {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        if !super::rules::CAPTURE_KINDS.iter().any(|(kind, _)| *kind == self.image_type) {
            errors.push(("image_type".into(), "Choose system disk, full-ECS or data disk image.".into()));
        }
        if self.image_type == "data" && self.disk_id.is_empty() {
            errors.push(("disk_id".into(), "Choose the data disk to capture.".into()));
        }
        if let Err(message) = validate::image_name(&self.name) {
            errors.push(("name".into(), message));
        }
        if let Err(message) = validate::description(&self.description) {
            errors.push(("description".into(), message));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Largest write and read through the console, in bytes.
pub const MAX_DISK_IO: usize = 64 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteDiskRequest {
    pub disk_id: String,
    pub offset: String,
    pub text: String,
}

impl WriteDiskRequest {
    pub fn validate(&self) -> Result<u64, FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        let offset = offset(&self.offset).unwrap_or_else(|message| {
            errors.push(("offset".into(), message));
            0
        });
        if self.text.is_empty() || self.text.len() > MAX_DISK_IO {
            errors.push(("text".into(), format!("Enter 1 to {MAX_DISK_IO} bytes of text to write.")));
        }
        if errors.is_empty() {
            Ok(offset)
        } else {
            Err(errors)
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteFileRequest {
    pub disk_id: String,
    /// Absolute path inside the disk's filesystem, e.g. /etc/motd.
    pub path: String,
    pub text: String,
}

#[cfg(feature = "ssr")]
impl WriteFileRequest {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = check_file_path(&self.path).err().unwrap_or_default();
        if self.text.len() > MAX_DISK_IO {
            errors.push(("text".into(), format!("Write at most {MAX_DISK_IO} bytes.")));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// An absolute path of plain names inside a disk's filesystem, e.g. /etc/motd.
#[cfg(feature = "ssr")]
pub fn check_file_path(path: &str) -> Result<(), FieldErrors> {
    crate::engine::filesystem::check_path(path).map(|_| ()).map_err(|message| vec![("path".to_string(), message)])
}

fn offset(text: &str) -> Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| "Enter the byte offset as a whole number, e.g. 1048576.".to_string())
}

/// A read of bytes from a disk, as the Disk Content panel posts it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadDiskRequest {
    pub disk_id: String,
    pub offset: String,
    pub length: String,
}

impl ReadDiskRequest {
    /// (offset, length) in bytes.
    pub fn validate(&self) -> Result<(u64, u64), FieldErrors> {
        read_range(&self.offset, &self.length)
    }
}

pub fn read_range(offset_text: &str, length_text: &str) -> Result<(u64, u64), FieldErrors> {
    let offset = offset(offset_text).map_err(|message| vec![("offset".to_string(), message)])?;
    match length_text.trim().parse::<u64>() {
        Ok(length) if (1..=MAX_DISK_IO as u64).contains(&length) => Ok((offset, length)),
        _ => Err(vec![("length".into(), format!("Read 1 to {MAX_DISK_IO} bytes."))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_requests_point_at_their_fields() {
        let good = CreateServersRequest {
            name: "web".into(),
            image_id: "i".into(),
            flavor: "s6.small.1".into(),
            count: "3".into(),
            data_disks: "100, 200".into(),
            ..Default::default()
        };
        assert_eq!(
            good.validate().unwrap(),
            ValidServers { count: 3, system_disk_gb: None, data_disk_sizes: vec![100, 200] }
        );
        let bad = CreateServersRequest {
            name: "web server".into(),
            count: "0".into(),
            data_disks: "5".into(),
            ..Default::default()
        };
        let fields: Vec<String> = bad.validate().unwrap_err().into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["count", "name", "image_id", "flavor", "data_disks"]);
        assert!(data_disk_sizes(&vec!["10"; 24].join(",")).is_err());
    }

    #[test]
    fn disk_and_capture_requests() {
        assert_eq!(
            CreateDiskRequest { name: "d".into(), size_gb: "100".into(), ..Default::default() }.validate(),
            Ok(100)
        );
        assert_eq!(
            CreateDiskRequest { name: "d".into(), image_id: "i".into(), ..Default::default() }.validate(),
            Ok(0)
        );
        assert!(CreateDiskRequest { name: "d".into(), ..Default::default() }.validate().is_err());
        assert!(CreateDiskRequest { name: "d".into(), size_gb: "40000".into(), ..Default::default() }
            .validate()
            .is_err());
        let capture =
            CaptureRequest { server_id: "s".into(), image_type: "data".into(), name: "x".into(), ..Default::default() };
        assert_eq!(capture.validate().unwrap_err()[0].0, "disk_id");
        assert!(read_range("0", "0").is_err());
        assert_eq!(read_range("512", "16"), Ok((512, 16)));
    }
}
