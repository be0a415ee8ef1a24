//! Disks of the compute side (ECS system and data disks): qcow2 files made blank or from an
//! image, and byte-level reads and writes so tests and operators can put known content on a
//! server's disk and find it again in images made from it. These files are our own, never a
//! tenant's upload, so qemu-io may open them; the format is still always given explicitly.

use super::convert::{convert, source_spec, ConvertError, ProcessLimits, TargetFormat};
use super::inspect::{ImageFormat, Report};
use super::tool::{absolute, Tool};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A file name beside `path` that no other call uses, for temporary copies (calls on the same
/// disk may run at the same time).
pub fn scratch_beside(path: &Path, tag: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let serial = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_extension(format!("{tag}-{}-{serial}", std::process::id()))
}

/// A new empty qcow2 disk of `size` bytes.
pub fn create_blank(path: &Path, size: u64) -> Result<(), ConvertError> {
    Tool::new("qemu-img", ProcessLimits::QUICK)
        .args(["create", "-q", "-f", "qcow2", "-o", "compat=1.1"])
        .file(path)
        .arg(size.to_string())
        .run()?;
    Ok(())
}

/// `raw`, a raw file of our own (never a tenant's upload: it is not inspected), as the qcow2
/// file `qcow2`; qemu-img writes only its allocated data.
pub fn raw_to_qcow2(raw: &Path, qcow2: &Path) -> Result<(), ConvertError> {
    Tool::new("qemu-img", ProcessLimits::default())
        .args(["convert", "-q", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1"])
        .file(raw)
        .file(qcow2)
        .run()?;
    Ok(())
}

/// A qcow2 disk of `size` bytes holding the image `source` (grown to `size`; never shrunk).
pub fn create_from_image(
    source: &Path,
    source_format: ImageFormat,
    target: &Path,
    size: u64,
    limits: ProcessLimits,
    cancel: &AtomicBool,
) -> Result<Report, ConvertError> {
    let report = convert(source, source_format, target, TargetFormat::Qcow2, limits, |_| {}, cancel)?;
    if size < report.virtual_size {
        let _ = std::fs::remove_file(target);
        return Err(ConvertError::BadOutput(format!(
            "a disk of {size} bytes cannot hold the image's {} bytes",
            report.virtual_size
        )));
    }
    if size > report.virtual_size {
        Tool::new("qemu-img", ProcessLimits::QUICK)
            .args(["resize", "-q", "-f", "qcow2"])
            .file(target)
            .arg(size.to_string())
            .run()?;
    }
    Ok(Report { virtual_size: size, ..report })
}

/// Writes `bytes` at `offset` of the qcow2 disk `path`.
pub fn write_bytes(path: &Path, offset: u64, bytes: &[u8]) -> Result<(), ConvertError> {
    let source = scratch_beside(&absolute(path), "write");
    std::fs::write(&source, bytes)?;
    let command = format!("write -q -s {} {offset} {}", source.display(), bytes.len());
    let result = Tool::new("qemu-io", ProcessLimits::QUICK).args(["-f", "qcow2", "-c", &command]).file(path).run();
    let _ = std::fs::remove_file(&source);
    result.map(|_| ()).map_err(ConvertError::from)
}

/// Reads `length` bytes at `offset` of the disk `path` (in `format`). qemu-img dd copies whole
/// 512-byte blocks, so the blocks around the range are read and the range cut out of them.
pub fn read_bytes(path: &Path, format: ImageFormat, offset: u64, length: u64) -> Result<Vec<u8>, ConvertError> {
    const BLOCK: u64 = 512;
    let past_end =
        || ConvertError::BadOutput(format!("bytes from {offset} on, {length} of them, lie past the disk's end"));
    let end = offset.checked_add(length).ok_or_else(past_end)?;
    let first_block = offset / BLOCK;
    let path = absolute(path);
    let target = scratch_beside(&path, "read");
    let result = Tool::new("qemu-img", ProcessLimits::QUICK)
        .args(["dd", "-O", "raw", &format!("bs={BLOCK}"), &format!("skip={first_block}")])
        // qemu-img dd counts from the start of the input, skipped blocks included.
        .arg(format!("count={}", end.div_ceil(BLOCK)))
        .folder_of(&path)
        .arg(format!("if={}", source_spec(&path, format)))
        .arg(format!("of={}", target.display()))
        .run();
    let bytes = result.map_err(ConvertError::from).and_then(|_| Ok(std::fs::read(&target)?));
    let _ = std::fs::remove_file(&target);
    let bytes = bytes?;
    let start = (offset - first_block * BLOCK) as usize;
    bytes.get(start..start + length as usize).map(<[u8]>::to_vec).ok_or_else(past_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> std::path::PathBuf {
        let folder = std::env::temp_dir().join(format!("ims-disk-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        folder
    }

    #[test]
    fn written_bytes_read_back() {
        let dir = folder("write");
        let disk = dir.join("server.qcow2");
        create_blank(&disk, 64 << 20).unwrap();
        write_bytes(&disk, 3 << 20, b"written by the test").unwrap();
        assert_eq!(read_bytes(&disk, ImageFormat::Qcow2, 3 << 20, 19).unwrap(), b"written by the test");
        assert_eq!(read_bytes(&disk, ImageFormat::Qcow2, 0, 4).unwrap(), vec![0; 4]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_disk_from_an_image_keeps_its_bytes_and_grows() {
        let dir = folder("from-image");
        let image = dir.join("image.raw");
        let mut bytes = vec![0u8; 4 << 20];
        bytes[..9].copy_from_slice(b"BOOTBLOCK");
        std::fs::write(&image, &bytes).unwrap();
        let never = AtomicBool::new(false);
        let disk = dir.join("disk.qcow2");
        let report =
            create_from_image(&image, ImageFormat::Raw, &disk, 16 << 20, ProcessLimits::default(), &never).unwrap();
        assert_eq!(report.virtual_size, 16 << 20);
        let info = super::super::convert::qemu_info(&disk, ImageFormat::Qcow2, ProcessLimits::default()).unwrap();
        assert_eq!(info.virtual_size, 16 << 20);
        assert_eq!(read_bytes(&disk, ImageFormat::Qcow2, 0, 9).unwrap(), b"BOOTBLOCK");
        let small = dir.join("small.qcow2");
        let refused = create_from_image(&image, ImageFormat::Raw, &small, 1 << 20, ProcessLimits::default(), &never);
        assert!(matches!(refused, Err(ConvertError::BadOutput(_))));
        assert!(!small.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
