//! The forms that create and export image files, with their validation: shared by the browser
//! (to point at the field) and the server (which is the guard).

use super::model::{OS_TYPES, PLATFORMS};
use super::validate::{self, FieldErrors};
use serde::{Deserialize, Serialize};

/// File formats accepted for import (the IMS list, less the Huawei-only zvhd).
pub const IMPORT_FORMATS: &[&str] = &["vmdk", "vhd", "vhdx", "qcow2", "qcow", "raw", "vdi", "iso"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportRequest {
    pub name: String,
    pub description: String,
    pub bucket: String,
    pub object_key: String,
    pub file_format: String,
    /// `system` or `data`; ISO files always make an ISO image.
    pub image_type: String,
    pub os_type: String,
    pub platform: String,
    pub os_version: String,
    pub architecture: String,
    pub boot_mode: String,
    pub min_ram: String,
    pub max_ram: String,
    pub min_disk: String,
    pub quick_import: bool,
    pub tags: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValidImport {
    pub kind: &'static str,
    pub min_ram: i64,
    pub max_ram: i64,
    pub min_disk: Option<i64>,
    pub tags: Vec<(String, String)>,
}

impl ImportRequest {
    /// Checks every field; the errors name their fields.
    pub fn validate(&self) -> Result<ValidImport, FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        let mut check = |field: &str, result: Result<(), String>| {
            if let Err(message) = result {
                errors.push((field.to_string(), message));
            }
        };
        check("name", validate::image_name(&self.name));
        check("description", validate::description(&self.description));
        check("bucket", if self.bucket.trim().is_empty() { Err("Choose a bucket.".into()) } else { Ok(()) });
        check(
            "object_key",
            if self.object_key.trim().is_empty() { Err("Choose the image file.".into()) } else { Ok(()) },
        );
        let format = self.file_format.as_str();
        check(
            "file_format",
            if IMPORT_FORMATS.contains(&format) {
                Ok(())
            } else {
                Err(format!("Choose the file format ({}).", IMPORT_FORMATS.join(", ")))
            },
        );
        let kind = match (format, self.image_type.as_str()) {
            ("iso", _) => "iso",
            (_, "data") => "data",
            (_, "system" | "") => "system",
            (_, other) => {
                check("image_type", Err(format!("'{other}' is not an image type; choose system or data disk.")));
                "system"
            }
        };
        check(
            "os_type",
            if OS_TYPES.contains(&self.os_type.as_str()) { Ok(()) } else { Err("Choose the OS type.".into()) },
        );
        if kind != "data" {
            check(
                "platform",
                if PLATFORMS.contains(&self.platform.as_str()) { Ok(()) } else { Err("Choose the OS.".into()) },
            );
            check(
                "os_version",
                if (1..=255).contains(&self.os_version.trim().chars().count()) {
                    Ok(())
                } else {
                    Err("Enter the OS version, e.g. Ubuntu 22.04 server 64bit.".into())
                },
            );
        }
        check(
            "architecture",
            if matches!(self.architecture.as_str(), "x86" | "arm") { Ok(()) } else { Err("Choose x86 or arm.".into()) },
        );
        check(
            "boot_mode",
            match (self.architecture.as_str(), self.boot_mode.as_str()) {
                ("arm", "bios") => Err("Arm images boot in UEFI mode.".into()),
                (_, "bios" | "uefi") => Ok(()),
                _ => Err("Choose BIOS or UEFI.".into()),
            },
        );
        let mut number = |field: &str, text: &str, range, what| match validate::optional_number(text, range, what) {
            Ok(value) => value,
            Err(message) => {
                errors.push((field.to_string(), message));
                None
            }
        };
        let min_ram = number("min_ram", &self.min_ram, 0..=524_288, "Min. memory (MB)").unwrap_or(0);
        let max_ram = number("max_ram", &self.max_ram, 0..=524_288, "Max. memory (MB)").unwrap_or(0);
        let disk_limit = if kind == "data" { 2048 } else { 1024 };
        let min_disk = number("min_disk", &self.min_disk, 1..=disk_limit, "Min. disk (GB)");
        if max_ram != 0 && max_ram < min_ram {
            errors.push(("max_ram".into(), "Max. memory cannot be below min. memory.".into()));
        }
        if self.quick_import && format != "raw" {
            errors
                .push(("quick_import".into(), "Fast import takes RAW files only; other formats are converted.".into()));
        }
        let tags = match validate::tags(&self.tags) {
            Ok(tags) => tags,
            Err(message) => {
                errors.push(("tags".into(), message));
                Vec::new()
            }
        };
        if errors.is_empty() {
            Ok(ValidImport { kind, min_ram, max_ram, min_disk, tags })
        } else {
            Err(errors)
        }
    }
}

pub const EXPORT_FORMATS: &[&str] = &["qcow2", "vmdk", "vhd", "raw"];

/// Export of a private image to a bucket object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportRequest {
    pub image_id: String,
    pub bucket: String,
    pub object_key: String,
    pub file_format: String,
}

impl ExportRequest {
    /// Checks every field; the errors name their fields.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = Vec::new();
        if !EXPORT_FORMATS.contains(&self.file_format.as_str()) {
            errors.push(("file_format".to_string(), "Choose qcow2, vmdk, vhd or raw.".to_string()));
        }
        if let Err(message) = crate::buckets::model::validate_object_key(self.object_key.trim()) {
            errors.push(("object_key".to_string(), message));
        }
        if self.bucket.trim().is_empty() {
            errors.push(("bucket".to_string(), "Choose a bucket.".to_string()));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_requests_point_at_their_fields() {
        let good = ExportRequest {
            image_id: "i".into(),
            bucket: "b".into(),
            object_key: "x.qcow2".into(),
            file_format: "qcow2".into(),
        };
        assert_eq!(good.validate(), Ok(()));
        let bad = ExportRequest { object_key: "../x".into(), file_format: "zvhd".into(), ..Default::default() };
        let fields: Vec<String> = bad.validate().unwrap_err().into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["file_format", "object_key", "bucket"]);
    }
}
