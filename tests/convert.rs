//! Conversions through qemu-img, verified by reading the data back byte for byte.

use ims_console::engine::convert::{convert, inspect_and_cross_check, ConvertError, ProcessLimits, TargetFormat};
use ims_console::engine::inspect::{ImageFormat, Limits};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

fn folder(name: &str) -> PathBuf {
    let folder = std::env::temp_dir().join(format!("ims-convert-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

/// An 8 MiB raw disk with recognisable bytes at the start, in the middle and at the end.
fn patterned_disk() -> Vec<u8> {
    let mut disk = vec![0u8; 8 << 20];
    disk[..16].copy_from_slice(b"IMS-BOOT-SECTOR!");
    for (index, byte) in disk[3 << 20..(3 << 20) + 65536].iter_mut().enumerate() {
        *byte = (index % 251) as u8;
    }
    let end = disk.len();
    disk[end - 11..].copy_from_slice(b"LAST-SECTOR");
    disk
}

#[test]
fn a_round_trip_through_every_target_format_keeps_the_data() {
    let dir = folder("roundtrip");
    let original = patterned_disk();
    let raw = dir.join("disk.raw");
    std::fs::write(&raw, &original).unwrap();
    let never = AtomicBool::new(false);
    let limits = ProcessLimits::default();

    let mut source = (raw.clone(), ImageFormat::Raw);
    for (name, target) in [
        ("disk.qcow2", TargetFormat::Qcow2),
        ("disk.vhd", TargetFormat::Vhd),
        ("disk.vmdk", TargetFormat::Vmdk),
        ("back.raw", TargetFormat::Raw),
    ] {
        let path = dir.join(name);
        let mut progress = Vec::new();
        let report = convert(&source.0, source.1, &path, target, limits, |percent| progress.push(percent), &never)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(report.format, target.image_format());
        assert_eq!(report.virtual_size, original.len() as u64, "{name}");
        assert_eq!(progress.last().copied(), Some(100.0), "{name} reports progress");
        inspect_and_cross_check(&path, target.image_format(), &Limits::default(), limits).unwrap();
        if target == TargetFormat::Vhd {
            // A fixed VHD keeps the size exact: the disk, then the 512-byte footer.
            assert_eq!(std::fs::metadata(&path).unwrap().len(), original.len() as u64 + 512);
        }
        source = (path, target.image_format());
    }
    assert!(std::fs::read(dir.join("back.raw")).unwrap() == original, "the bytes survive qcow2, vhd and vmdk");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cancelling_stops_and_leaves_no_output() {
    let dir = folder("cancel");
    let raw = dir.join("disk.raw");
    std::fs::write(&raw, patterned_disk()).unwrap();
    let target = dir.join("out.qcow2");
    let cancelled = AtomicBool::new(true);
    let result =
        convert(&raw, ImageFormat::Raw, &target, TargetFormat::Qcow2, ProcessLimits::default(), |_| {}, &cancelled);
    assert!(matches!(result, Err(ConvertError::Cancelled)));
    assert!(!target.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn qemu_img_runs_under_the_memory_limit() {
    let dir = folder("limits");
    let raw = dir.join("disk.raw");
    std::fs::write(&raw, patterned_disk()).unwrap();
    let target = dir.join("out.qcow2");
    let starved = ProcessLimits { cpu_seconds: 60, memory_bytes: 4 << 20 };
    let result =
        convert(&raw, ImageFormat::Raw, &target, TargetFormat::Qcow2, starved, |_| {}, &AtomicBool::new(false));
    assert!(result.is_err(), "qemu-img cannot run in 4 MiB of address space");
    assert!(!target.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_declared_format_that_is_wrong_is_refused_before_qemu_runs() {
    let dir = folder("declared");
    let raw = dir.join("disk.raw");
    std::fs::write(&raw, patterned_disk()).unwrap();
    let result = inspect_and_cross_check(&raw, ImageFormat::Qcow2, &Limits::default(), ProcessLimits::default());
    assert!(matches!(result, Err(ConvertError::Refused(_))));
    std::fs::remove_dir_all(&dir).unwrap();
}
