//! The IMS rules for making servers from images and images from servers, as plain functions
//! over the facts they need, so each refusal and its reason is unit-tested.

use super::flavors::Flavor;
use super::model::ServerStatus;
use crate::images::model::ImageStatus;

pub type FieldErrors = Vec<(String, String)>;

pub const GIB: i64 = 1 << 30;
/// Disks larger than this can only be captured in a full-ECS image.
pub const MAX_SINGLE_DISK_IMAGE_GB: i64 = 1024;
pub const SYSTEM_DISK_MAX_GB: i64 = 1024;
pub const DATA_DISK_MIN_GB: i64 = 10;
pub const DATA_DISK_MAX_GB: i64 = 32768;
pub const MAX_DATA_DISKS: usize = 23;
pub const MAX_SERVERS_AT_ONCE: i64 = 20;

/// What the rules need to know about an image.
#[derive(Clone, Debug)]
pub struct ImageFacts {
    pub name: String,
    pub status: ImageStatus,
    pub kind: String,
    /// `gold` for public images; `private` for the caller's and shared images.
    pub imagetype: String,
    pub architecture: String,
    pub boot_mode: String,
    pub min_ram: i64,
    pub max_ram: i64,
    pub min_disk: i64,
    pub virtual_size: i64,
    pub has_file: bool,
}

impl ImageFacts {
    /// The smallest system disk (GB) that holds the image.
    pub fn smallest_disk_gb(&self) -> i64 {
        self.min_disk.max((self.virtual_size + GIB - 1) / GIB).max(1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageUse {
    NewServer,
    ChangeOs,
}

fn error(field: &str, message: String) -> (String, String) {
    (field.to_string(), message)
}

/// Whether `image` may boot a server of `flavor` with a system disk of `system_disk_gb`.
pub fn check_server_image(
    image: &ImageFacts,
    flavor: &Flavor,
    system_disk_gb: i64,
    usage: ImageUse,
) -> Result<(), FieldErrors> {
    // An image that cannot be used at all is refused before its fit is looked at.
    let errors = usable_errors(image, usage);
    if !errors.is_empty() {
        return Err(errors);
    }
    let errors: FieldErrors =
        flavor_errors(image, flavor).into_iter().chain(disk_error(image, system_disk_gb)).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Why the image cannot be used for `usage` at all: its state, its file, its kind.
fn usable_errors(image: &ImageFacts, usage: ImageUse) -> FieldErrors {
    let name = &image.name;
    let mut errors = Vec::new();
    if image.status != ImageStatus::Active {
        let status = image.status.label();
        errors.push(error(
            "image_id",
            format!("Image '{name}' is {status}; only images whose status is Normal can be used."),
        ));
    } else if !image.has_file {
        errors.push(error(
            "image_id",
            format!("Image '{name}' has no stored image file, so no server can be made from it."),
        ));
    }
    let kind_refusal = match (image.kind.as_str(), usage) {
        ("data", _) => Some(format!("Image '{name}' is a data disk image: it creates EVS disks, not servers.")),
        ("iso", ImageUse::ChangeOs) => Some(format!(
            "Image '{name}' is an ISO image: it only creates temporary servers for installing an OS, it cannot change an OS."
        )),
        ("full_ecs", ImageUse::ChangeOs) => {
            Some(format!("Image '{name}' is a full-ECS image: changing an OS takes a system disk image."))
        }
        _ => None,
    };
    errors.extend(kind_refusal.map(|message| error("image_id", message)));
    errors
}

/// Why `flavor` does not fit the image: architecture, memory, GPU with a UEFI private image.
fn flavor_errors(image: &ImageFacts, flavor: &Flavor) -> FieldErrors {
    let name = &image.name;
    let mut messages = Vec::new();
    if flavor.architecture != image.architecture {
        messages.push(format!(
            "Flavor {} is {}, but image '{name}' is built for {}; choose a flavor of the same architecture.",
            flavor.id,
            architecture_label(flavor.architecture),
            architecture_label(&image.architecture)
        ));
    }
    if image.min_ram > 0 && flavor.memory_mb < image.min_ram {
        messages.push(format!(
            "Image '{name}' needs at least {} MB of memory; flavor {} has {} MB.",
            image.min_ram, flavor.id, flavor.memory_mb
        ));
    }
    if image.max_ram > 0 && flavor.memory_mb > image.max_ram {
        messages.push(format!(
            "Image '{name}' supports at most {} MB of memory; flavor {} has {} MB.",
            image.max_ram, flavor.id, flavor.memory_mb
        ));
    }
    if flavor.gpu && image.boot_mode == "uefi" && image.imagetype != "gold" {
        messages.push(format!(
            "Flavor {} is a heterogeneous (GPU) flavor, which cannot use private images in UEFI boot mode like '{name}'. \
             Choose a BIOS image or a flavor without GPUs.",
            flavor.id
        ));
    }
    messages.into_iter().map(|message| error("flavor", message)).collect()
}

/// Why a system disk of `system_disk_gb` cannot hold the image, if it cannot.
fn disk_error(image: &ImageFacts, system_disk_gb: i64) -> Option<(String, String)> {
    let smallest = image.smallest_disk_gb();
    if system_disk_gb < smallest {
        Some(error("system_disk_gb", format!("Image '{}' needs a system disk of at least {smallest} GB.", image.name)))
    } else if system_disk_gb > SYSTEM_DISK_MAX_GB {
        Some(error("system_disk_gb", format!("A system disk holds at most {SYSTEM_DISK_MAX_GB} GB.")))
    } else {
        None
    }
}

/// Whether `image` may fill a new EVS disk of `size_gb`.
pub fn check_disk_image(image: &ImageFacts, size_gb: i64) -> Result<(), FieldErrors> {
    let name = &image.name;
    if image.status != ImageStatus::Active || !image.has_file {
        return Err(vec![error(
            "image_id",
            format!("Image '{name}' is not ready to use (status {}).", image.status.label()),
        )]);
    }
    if image.kind != "data" {
        return Err(vec![error(
            "image_id",
            format!("Image '{name}' is not a data disk image; EVS disks are created from data disk images."),
        )]);
    }
    let smallest = image.smallest_disk_gb().max(DATA_DISK_MIN_GB);
    if size_gb < smallest {
        return Err(vec![error("size_gb", format!("Image '{name}' needs a disk of at least {smallest} GB."))]);
    }
    Ok(())
}

pub fn architecture_label(architecture: &str) -> &str {
    match architecture {
        "arm" => "Arm",
        _ => "x86",
    }
}

/// What the rules need to know about a server and one of its disks.
#[derive(Clone, Debug)]
pub struct ServerFacts {
    pub name: String,
    pub status: ServerStatus,
    /// An image of this server is being created right now.
    pub capture_running: bool,
}

#[derive(Clone, Debug)]
pub struct DiskFacts {
    pub name: String,
    pub size_gb: i64,
    pub role: String,
    pub attached_here: bool,
}

/// Kinds of image made from a server.
pub const CAPTURE_KINDS: &[(&str, &str)] =
    &[("system", "System disk image"), ("full_ecs", "Full-ECS image"), ("data", "Data disk image")];

/// Whether an image of `kind` may be made from `server` (and, for data disk images, `disk`;
/// for system disk images, its system disk).
pub fn check_capture(kind: &str, server: &ServerFacts, disk: Option<&DiskFacts>) -> Result<(), FieldErrors> {
    let name = &server.name;
    if !server.status.is_settled() {
        return Err(vec![error(
            "server",
            format!(
                "ECS '{name}' is {}. Images can be created only from a Running or Stopped ECS.",
                server.status.label()
            ),
        )]);
    }
    if server.capture_running {
        return Err(vec![error(
            "server",
            format!("An image of ECS '{name}' is already being created; wait until it finishes."),
        )]);
    }
    match kind {
        "full_ecs" => Ok(()),
        "system" | "data" => {
            let Some(disk) = disk else {
                return Err(vec![error("disk_id", "Choose the data disk to capture.".to_string())]);
            };
            if kind == "data" && (disk.role != "data" || !disk.attached_here) {
                return Err(vec![error(
                    "disk_id",
                    format!("Disk '{}' is not a data disk of ECS '{name}'.", disk.name),
                )]);
            }
            if disk.size_gb > MAX_SINGLE_DISK_IMAGE_GB {
                return Err(vec![error(
                    "image_type",
                    format!(
                        "Disk '{}' is {} GB. Disks over 1 TB can only be captured in a full-ECS image.",
                        disk.name, disk.size_gb
                    ),
                )]);
            }
            Ok(())
        }
        other => Err(vec![error(
            "image_type",
            format!("'{other}' is not an image type; choose system disk, full-ECS or data disk."),
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::flavors::{find_flavor, Flavor};

    fn ubuntu() -> ImageFacts {
        ImageFacts {
            name: "ubuntu".into(),
            status: ImageStatus::Active,
            kind: "system".into(),
            imagetype: "gold".into(),
            architecture: "x86".into(),
            boot_mode: "bios".into(),
            min_ram: 1024,
            max_ram: 0,
            min_disk: 40,
            virtual_size: 64 << 20,
            has_file: true,
        }
    }

    fn flavor(id: &str) -> &'static Flavor {
        find_flavor("cn-north-4", id).unwrap()
    }

    fn fields(result: Result<(), FieldErrors>) -> Vec<String> {
        result.err().unwrap_or_default().into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn a_fitting_image_boots() {
        assert!(check_server_image(&ubuntu(), flavor("s6.small.1"), 40, ImageUse::NewServer).is_ok());
        assert!(check_server_image(&ubuntu(), flavor("s6.large.2"), 1024, ImageUse::ChangeOs).is_ok());
    }

    #[test]
    fn memory_disk_and_architecture_are_checked() {
        let image = ImageFacts { min_ram: 2048, max_ram: 8192, ..ubuntu() };
        assert_eq!(fields(check_server_image(&image, flavor("s6.small.1"), 40, ImageUse::NewServer)), ["flavor"]);
        assert_eq!(fields(check_server_image(&image, flavor("m6.2xlarge.8"), 40, ImageUse::NewServer)), ["flavor"]);
        assert_eq!(
            fields(check_server_image(&image, flavor("s6.large.2"), 39, ImageUse::NewServer)),
            ["system_disk_gb"]
        );
        assert_eq!(
            fields(check_server_image(&image, flavor("s6.large.2"), 1025, ImageUse::NewServer)),
            ["system_disk_gb"]
        );
        assert_eq!(fields(check_server_image(&image, flavor("kc1.large.2"), 40, ImageUse::NewServer)), ["flavor"]);
        let big = ImageFacts { min_disk: 1, virtual_size: 50 * GIB + 1, ..ubuntu() };
        let refused = check_server_image(&big, flavor("s6.small.1"), 50, ImageUse::NewServer).unwrap_err();
        assert!(refused[0].1.contains("at least 51 GB"), "{refused:?}");
    }

    #[test]
    fn gpu_flavors_refuse_uefi_private_images_only() {
        let uefi_private = ImageFacts { boot_mode: "uefi".into(), imagetype: "private".into(), ..ubuntu() };
        let refused = check_server_image(&uefi_private, flavor("p2s.2xlarge.8"), 40, ImageUse::NewServer).unwrap_err();
        assert!(refused[0].1.contains("UEFI"), "{refused:?}");
        assert!(check_server_image(&uefi_private, flavor("s6.small.1"), 40, ImageUse::NewServer).is_ok());
        let uefi_public = ImageFacts { boot_mode: "uefi".into(), ..ubuntu() };
        assert!(check_server_image(&uefi_public, flavor("p2s.2xlarge.8"), 40, ImageUse::NewServer).is_ok());
    }

    #[test]
    fn image_kinds_and_states_limit_their_uses() {
        let data = ImageFacts { kind: "data".into(), ..ubuntu() };
        assert!(check_server_image(&data, flavor("s6.small.1"), 40, ImageUse::NewServer).unwrap_err()[0]
            .1
            .contains("EVS disks"));
        let iso = ImageFacts { kind: "iso".into(), ..ubuntu() };
        assert!(check_server_image(&iso, flavor("s6.small.1"), 40, ImageUse::NewServer).is_ok());
        assert!(check_server_image(&iso, flavor("s6.small.1"), 40, ImageUse::ChangeOs).unwrap_err()[0]
            .1
            .contains("temporary"));
        let full = ImageFacts { kind: "full_ecs".into(), ..ubuntu() };
        assert!(check_server_image(&full, flavor("s6.small.1"), 40, ImageUse::ChangeOs).is_err());
        let saving = ImageFacts { status: ImageStatus::Saving, ..ubuntu() };
        assert!(check_server_image(&saving, flavor("s6.small.1"), 40, ImageUse::NewServer).unwrap_err()[0]
            .1
            .contains("Creating"));
        let empty = ImageFacts { has_file: false, ..ubuntu() };
        assert!(check_server_image(&empty, flavor("s6.small.1"), 40, ImageUse::NewServer).is_err());
        assert!(check_disk_image(&ubuntu(), 40).is_err());
        let data = ImageFacts { min_disk: 20, ..data };
        assert_eq!(fields(check_disk_image(&data, 10)), ["size_gb"]);
        assert!(check_disk_image(&data, 20).is_ok());
    }

    #[test]
    fn captures_follow_the_ims_rules() {
        let server = ServerFacts { name: "web".into(), status: ServerStatus::Running, capture_running: false };
        let system = DiskFacts { name: "web-system".into(), size_gb: 40, role: "system".into(), attached_here: true };
        let data = DiskFacts { name: "web-data".into(), size_gb: 100, role: "data".into(), attached_here: true };
        let huge = DiskFacts { name: "web-huge".into(), size_gb: 2048, role: "data".into(), attached_here: true };
        assert!(check_capture("system", &server, Some(&system)).is_ok());
        assert!(check_capture("data", &server, Some(&data)).is_ok());
        assert!(check_capture("full_ecs", &server, None).is_ok());
        assert_eq!(fields(check_capture("data", &server, Some(&system))), ["disk_id"]);
        let refused = check_capture("data", &server, Some(&huge)).unwrap_err();
        assert!(refused[0].1.contains("only be captured in a full-ECS image"), "{refused:?}");
        let starting = ServerFacts { status: ServerStatus::Starting, ..server.clone() };
        assert!(check_capture("full_ecs", &starting, None).unwrap_err()[0].1.contains("Running or Stopped"));
        let busy = ServerFacts { capture_running: true, ..server };
        assert_eq!(fields(check_capture("system", &busy, Some(&system))), ["server"]);
    }
}
