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
    /// The image family it joins; empty for none.
    pub family: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValidImport {
    pub kind: &'static str,
    pub min_ram: i64,
    pub max_ram: i64,
    pub min_disk: Option<i64>,
    pub tags: Vec<(String, String)>,
}

/// Field errors in form order.
#[derive(Default)]
struct Errors(FieldErrors);

impl Errors {
    fn check(&mut self, field: &str, result: Result<(), String>) {
        if let Err(message) = result {
            self.0.push((field.to_string(), message));
        }
    }

    /// A whole number in `range`, or `None` when the field is empty or wrong (then noted).
    fn number(&mut self, field: &str, text: &str, range: std::ops::RangeInclusive<i64>, what: &str) -> Option<i64> {
        validate::optional_number(text, range, what).unwrap_or_else(|message| {
            self.0.push((field.to_string(), message));
            None
        })
    }
}

fn required(text: &str, message: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        Err(message.to_string())
    } else {
        Ok(())
    }
}

impl ImportRequest {
    /// Checks every field; the errors name their fields.
    pub fn validate(&self) -> Result<ValidImport, FieldErrors> {
        let mut errors = Errors::default();
        errors.check("name", validate::image_name(&self.name));
        errors.check("description", validate::description(&self.description));
        let kind = self.check_file(&mut errors);
        self.check_os(kind, &mut errors);
        let min_ram = errors.number("min_ram", &self.min_ram, 0..=524_288, "Min. memory (MB)").unwrap_or(0);
        let max_ram = errors.number("max_ram", &self.max_ram, 0..=524_288, "Max. memory (MB)").unwrap_or(0);
        let disk_limit = if kind == "data" { 2048 } else { 1024 };
        let min_disk = errors.number("min_disk", &self.min_disk, 1..=disk_limit, "Min. disk (GB)");
        if max_ram != 0 && max_ram < min_ram {
            errors.check("max_ram", Err("Max. memory cannot be below min. memory.".into()));
        }
        if self.quick_import && self.file_format != "raw" {
            errors.check("quick_import", Err("Fast import takes RAW files only; other formats are converted.".into()));
        }
        let tags = validate::tags(&self.tags).unwrap_or_else(|message| {
            errors.check("tags", Err(message));
            Vec::new()
        });
        errors.check("family", super::families::validate_optional_family(self.family.trim()));
        if errors.0.is_empty() {
            Ok(ValidImport { kind, min_ram, max_ram, min_disk, tags })
        } else {
            Err(errors.0)
        }
    }

    /// Bucket, object and format; returns the image kind they make (ISO files make ISO images).
    fn check_file(&self, errors: &mut Errors) -> &'static str {
        errors.check("bucket", required(&self.bucket, "Choose a bucket."));
        errors.check("object_key", required(&self.object_key, "Choose the image file."));
        let format = self.file_format.as_str();
        if !IMPORT_FORMATS.contains(&format) {
            errors.check("file_format", Err(format!("Choose the file format ({}).", IMPORT_FORMATS.join(", "))));
        }
        match (format, self.image_type.as_str()) {
            ("iso", _) => "iso",
            (_, "data") => "data",
            (_, "system" | "") => "system",
            (_, other) => {
                errors.check("image_type", Err(format!("'{other}' is not an image type; choose system or data disk.")));
                "system"
            }
        }
    }

    /// OS type, OS and version (not for data disks), architecture and boot mode.
    fn check_os(&self, kind: &str, errors: &mut Errors) {
        if !OS_TYPES.contains(&self.os_type.as_str()) {
            errors.check("os_type", Err("Choose the OS type.".into()));
        }
        if kind != "data" {
            if !PLATFORMS.contains(&self.platform.as_str()) {
                errors.check("platform", Err("Choose the OS.".into()));
            }
            if !(1..=255).contains(&self.os_version.trim().chars().count()) {
                errors.check("os_version", Err("Enter the OS version, e.g. Ubuntu 22.04 server 64bit.".into()));
            }
        }
        if !matches!(self.architecture.as_str(), "x86" | "arm") {
            errors.check("architecture", Err("Choose x86 or arm.".into()));
        }
        let boot_mode = match (self.architecture.as_str(), self.boot_mode.as_str()) {
            ("arm", "bios") => Err("Arm images boot in UEFI mode.".into()),
            (_, "bios" | "uefi") => Ok(()),
            _ => Err("Choose BIOS or UEFI.".into()),
        };
        errors.check("boot_mode", boot_mode);
    }
}

/// The Modify dialog: what an owner may change on a private image. Which fields apply depends
/// on the image's kind and architecture, which the service passes to `validate`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModifyRequest {
    pub image_id: String,
    pub name: String,
    pub description: String,
    pub min_ram: String,
    pub max_ram: String,
    pub boot_mode: String,
    pub os_version: String,
    /// Deletion protection: set (to anything) for on.
    pub protected: String,
    /// The image family; empty for none.
    pub family: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValidModify {
    pub name: String,
    pub description: String,
    pub min_ram: i64,
    pub max_ram: i64,
    pub boot_mode: String,
    pub os_version: String,
    pub protected: bool,
    pub family: String,
}

impl ModifyRequest {
    /// Checks every field against the rules of creation for an image of `kind` and
    /// `architecture`; a data disk image keeps no OS, so its boot mode and OS version are not
    /// asked for and stay as they are (`current_boot_mode`).
    pub fn validate(
        &self,
        kind: &str,
        architecture: &str,
        current_boot_mode: &str,
    ) -> Result<ValidModify, FieldErrors> {
        let mut errors = Errors::default();
        let name = self.name.trim().to_string();
        errors.check("name", validate::image_name(&name));
        errors.check("description", validate::description(&self.description));
        let min_ram = errors.number("min_ram", &self.min_ram, 0..=524_288, "Min. memory (MB)").unwrap_or(0);
        let max_ram = errors.number("max_ram", &self.max_ram, 0..=524_288, "Max. memory (MB)").unwrap_or(0);
        if max_ram != 0 && max_ram < min_ram {
            errors.check("max_ram", Err("Max. memory cannot be below min. memory.".into()));
        }
        let data = kind == "data";
        let boot_mode = if data { current_boot_mode.to_string() } else { self.boot_mode.trim().to_string() };
        if !data {
            let boot = match (architecture, boot_mode.as_str()) {
                ("arm", "bios") => Err("Arm images boot in UEFI mode.".into()),
                (_, "bios" | "uefi") => Ok(()),
                _ => Err("Choose BIOS or UEFI.".into()),
            };
            errors.check("boot_mode", boot);
        }
        let os_version = if data { String::new() } else { self.os_version.trim().to_string() };
        if !data && !(1..=255).contains(&os_version.chars().count()) {
            errors.check("os_version", Err("Enter the OS version, e.g. Ubuntu 22.04 server 64bit.".into()));
        }
        let family = self.family.trim().to_string();
        errors.check("family", super::families::validate_optional_family(&family));
        if errors.0.is_empty() {
            Ok(ValidModify {
                name,
                description: self.description.clone(),
                min_ram,
                max_ram,
                boot_mode,
                os_version,
                protected: !self.protected.trim().is_empty(),
                family,
            })
        } else {
            Err(errors.0)
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

/// Add or edit one tag. `original_key` is the key being edited ("" when adding).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TagRequest {
    pub image_id: String,
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub original_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modify_requests_follow_the_rules_of_creation() {
        let good = ModifyRequest {
            name: "web v2".into(),
            min_ram: "1024".into(),
            boot_mode: "uefi".into(),
            os_version: "Ubuntu 24.04 server 64bit".into(),
            protected: "on".into(),
            ..Default::default()
        };
        let valid = good.validate("system", "x86", "bios").unwrap();
        assert_eq!((valid.min_ram, valid.boot_mode.as_str(), valid.protected), (1024, "uefi", true));
        let bad = ModifyRequest { name: "a;b".into(), max_ram: "512".into(), boot_mode: "bios".into(), ..good.clone() };
        let fields: Vec<String> =
            bad.validate("system", "arm", "uefi").unwrap_err().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["name", "max_ram", "boot_mode"]);
        let data = ModifyRequest { name: "disk".into(), boot_mode: "nonsense".into(), ..Default::default() };
        let valid = data.validate("data", "x86", "bios").unwrap();
        assert_eq!((valid.boot_mode.as_str(), valid.os_version.as_str(), valid.protected), ("bios", "", false));
    }

    #[test]
    fn import_requests_point_at_their_fields_in_form_order() {
        let good = ImportRequest {
            name: "web".into(),
            bucket: "b".into(),
            object_key: "web.qcow2".into(),
            file_format: "qcow2".into(),
            os_type: "Linux".into(),
            platform: "Ubuntu".into(),
            os_version: "Ubuntu 22.04".into(),
            architecture: "x86".into(),
            boot_mode: "bios".into(),
            tags: "env=prod".into(),
            ..Default::default()
        };
        let valid = good.validate().unwrap();
        assert_eq!((valid.kind, valid.min_disk, valid.tags.len()), ("system", None, 1));
        let iso = ImportRequest { file_format: "iso".into(), image_type: "data".into(), ..good.clone() };
        assert_eq!(iso.validate().unwrap().kind, "iso");
        let bad = ImportRequest {
            name: " x".into(),
            file_format: "zvhd".into(),
            image_type: "full".into(),
            architecture: "arm".into(),
            min_ram: "4096".into(),
            max_ram: "1024".into(),
            quick_import: true,
            tags: "=x".into(),
            ..Default::default()
        };
        let fields: Vec<String> = bad.validate().unwrap_err().into_iter().map(|(field, _)| field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "bucket",
                "object_key",
                "file_format",
                "image_type",
                "os_type",
                "platform",
                "os_version",
                "boot_mode",
                "max_ram",
                "quick_import",
                "tags"
            ]
        );
    }

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
