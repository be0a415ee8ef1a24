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
    let starved = ProcessLimits { memory_bytes: 4 << 20, ..ProcessLimits::QUICK };
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

/// A host file a hostile image tries to pull in: outside every folder the tool is given.
fn host_secret(name: &str) -> (PathBuf, &'static [u8]) {
    const MARKER: &[u8] = b"HOST-SECRET-MARKER-7f3a";
    let dir = folder(&format!("secret-{name}"));
    let secret = dir.join("secret.raw");
    let mut bytes = vec![0u8; 1 << 20];
    for chunk in bytes.chunks_mut(4096) {
        chunk[..MARKER.len()].copy_from_slice(MARKER);
    }
    std::fs::write(&secret, bytes).unwrap();
    (secret, MARKER)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The conversion itself, called directly (no inspection first), cannot follow a qcow2
/// backing file or a VMDK extent to a host file: the output never holds the host's bytes.
#[test]
fn conversion_never_reads_a_backing_file_or_an_extent() {
    let (secret, marker) = host_secret("convert");
    let dir = folder("hostile");
    let never = AtomicBool::new(false);

    let qcow2 = dir.join("evil.qcow2");
    let made = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
        .arg(&secret)
        .arg(&qcow2)
        .status()
        .unwrap();
    assert!(made.success());
    let vmdk = dir.join("evil.vmdk");
    std::fs::write(
        &vmdk,
        format!(
            "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\
             RW 2048 FLAT \"{}\" 0\nddb.adapterType = \"ide\"\n",
            secret.display()
        ),
    )
    .unwrap();

    for (source, format) in [(&qcow2, ImageFormat::Qcow2), (&vmdk, ImageFormat::Vmdk)] {
        for target_format in [TargetFormat::Raw, TargetFormat::Qcow2] {
            let target = dir.join(format!("out-{format}.{}", target_format.image_format()));
            let result = convert(source, format, &target, target_format, ProcessLimits::QUICK, |_| {}, &never);
            if target.exists() {
                let written = std::fs::read(&target).unwrap();
                assert!(!contains(&written, marker), "{format} -> {target_format:?} copied the host file");
            } else {
                assert!(result.is_err(), "{format}: no output, yet no error");
            }
            // What a tenant would read of the failure names no host path.
            if let Err(error) = result {
                assert!(!error.to_string().contains(&*secret.to_string_lossy()), "{error}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(secret.parent().unwrap()).unwrap();
}
