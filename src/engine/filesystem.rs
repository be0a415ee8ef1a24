//! Files inside a disk's ext2/3/4 filesystem: writing one and reading one back, with debugfs
//! (e2fsprogs) on a sparse raw copy of the qcow2 disk. The filesystem is the first partition's
//! (MBR or GPT), or the whole disk when it has no partition table. Only our own disks (server
//! disks) are handled here, never a tenant's uploaded file.

use super::convert::{qemu_info, ConvertError, ProcessLimits};
use super::disk::{raw_to_qcow2, read_bytes, scratch_beside};
use super::inspect::field::{le_u32, le_u64};
use super::inspect::ImageFormat;
use super::tool::{absolute, Tool};
use std::path::{Path, PathBuf};

const SECTOR: u64 = 512;
const EXT_MAGIC: [u8; 2] = [0x53, 0xef];
/// The largest file `read_file` returns: it goes to a browser page, whole.
pub const MAX_READ_FILE: u64 = 1 << 20;

fn debugfs() -> Tool {
    Tool::new("debugfs", ProcessLimits::QUICK)
}

/// Byte offset of the ext filesystem on the qcow2 disk `disk`. The partition table is the
/// tenant's: every offset in it is checked against the disk's size.
pub fn filesystem_offset(disk: &Path) -> Result<u64, ConvertError> {
    let disk_size = qemu_info(disk, ImageFormat::Qcow2, ProcessLimits::QUICK)?.virtual_size;
    let sectors = |lba: u64| lba.checked_mul(SECTOR).filter(|offset| *offset < disk_size);
    let head = read_bytes(disk, ImageFormat::Qcow2, 0, 2 * SECTOR)?;
    let mut candidates = Vec::new();
    if head[510..512] == [0x55, 0xaa] {
        let (kind, start) = (head[446 + 4], le_u32(&head, 446 + 8) as u64);
        if kind == 0xee && &head[512..520] == b"EFI PART" {
            // GPT: the first entry of the partition array.
            if let Some(entries) = sectors(le_u64(&head, 512 + 72)).filter(|at| at.saturating_add(128) <= disk_size) {
                let entry = read_bytes(disk, ImageFormat::Qcow2, entries, 128)?;
                candidates.extend(sectors(le_u64(&entry, 32)));
            }
        } else if kind != 0 {
            candidates.extend(sectors(start));
        }
    }
    candidates.push(0);
    for offset in candidates {
        let Some(magic_at) = offset.checked_add(1080).filter(|at| at + 2 <= disk_size) else { continue };
        if read_bytes(disk, ImageFormat::Qcow2, magic_at, 2)? == EXT_MAGIC {
            return Ok(offset);
        }
    }
    Err(ConvertError::BadOutput(
        "the disk has no ext2/3/4 filesystem in its first partition or on the whole disk".into(),
    ))
}

/// A path inside the filesystem: absolute, of plain names (letters, digits, '.', '_', '-').
pub fn check_path(path: &str) -> Result<Vec<&str>, String> {
    let names: Vec<&str> = path.strip_prefix('/').ok_or("Give an absolute path, e.g. /etc/motd.")?.split('/').collect();
    let plain = |name: &&str| {
        !name.is_empty()
            && *name != "."
            && *name != ".."
            && name.len() <= 255
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    if path.len() > 1024 || names.is_empty() || !names.iter().all(plain) {
        return Err("Use an absolute path of plain names (letters, digits, '.', '_', '-'), e.g. /etc/motd.".into());
    }
    Ok(names)
}

/// The disk as a sparse raw file beside it (qemu-img copies only allocated data).
fn raw_copy(disk: &Path) -> Result<PathBuf, ConvertError> {
    let raw = scratch_beside(&absolute(disk), "fs-raw");
    Tool::new("qemu-img", ProcessLimits::default())
        .args(["convert", "-q", "-f", "qcow2", "-O", "raw"])
        .file(disk)
        .file(&raw)
        .run()?;
    Ok(raw)
}

fn debugfs_on(tool: Tool, raw: &Path, offset: u64) -> Tool {
    tool.folder_of(raw).arg(format!("{}?offset={offset}", raw.display()))
}

/// The size of `path` in the filesystem, from its inode; `None` when it is not there.
fn file_size(raw: &Path, offset: u64, path: &str) -> Result<Option<u64>, ConvertError> {
    let output = debugfs_on(debugfs().arg("-R").arg(format!("stat {path}")), raw, offset).run()?;
    let text = String::from_utf8_lossy(&output);
    if !text.contains("Type: regular") {
        return Ok(None);
    }
    let size = text.split_whitespace().skip_while(|word| *word != "Size:").nth(1).and_then(|n| n.parse().ok());
    size.map(Some).ok_or_else(|| ConvertError::BadOutput(format!("{path}: its size cannot be read")))
}

/// `cat` of `path` in the filesystem at `offset` of the raw file `raw`, at most `cap` bytes.
fn cat(raw: &Path, offset: u64, path: &str, cap: u64) -> Result<Vec<u8>, ConvertError> {
    let too_large =
        || ConvertError::BadOutput(format!("{path} is larger than {} KiB, the most that can be shown", cap >> 10));
    match file_size(raw, offset, path)? {
        None => return Err(ConvertError::BadOutput(format!("{path} is not a file in the disk's filesystem"))),
        Some(size) if size > cap => return Err(too_large()),
        Some(_) => {}
    }
    let tool = debugfs().arg("-R").arg(format!("cat {path}")).stdout_cap(cap as usize);
    match debugfs_on(tool, raw, offset).run() {
        Err(super::tool::ToolError::OutputTooLarge { .. }) => Err(too_large()),
        other => Ok(other?),
    }
}

/// Whether `folder` is a directory of the filesystem.
fn is_directory(raw: &Path, offset: u64, folder: &str) -> Result<bool, ConvertError> {
    let output = debugfs_on(debugfs().arg("-R").arg(format!("stat {folder}")), raw, offset).run()?;
    Ok(String::from_utf8_lossy(&output).contains("Type: directory"))
}

/// Reads the file at `path` of the disk's filesystem; files over `MAX_READ_FILE` are refused
/// from their inode's size, before anything is read.
pub fn read_file(disk: &Path, path: &str) -> Result<Vec<u8>, ConvertError> {
    check_path(path).map_err(ConvertError::BadOutput)?;
    let offset = filesystem_offset(disk)?;
    let raw = raw_copy(disk)?;
    let result = cat(&raw, offset, path, MAX_READ_FILE);
    let _ = std::fs::remove_file(&raw);
    result
}

/// Writes `contents` as the file `path` of the disk's filesystem (replacing it, creating the
/// folders it needs). The change is made on a raw copy and checked there; only then does the
/// rebuilt qcow2 replace `disk`, so a failed write leaves the disk as it was.
pub fn write_file(disk: &Path, path: &str, contents: &[u8]) -> Result<(), ConvertError> {
    let names = check_path(path).map_err(ConvertError::BadOutput)?;
    let offset = filesystem_offset(disk)?;
    let raw = raw_copy(disk)?;
    let disk = &absolute(disk);
    let source = scratch_beside(disk, "fs-src");
    let script = scratch_beside(disk, "fs-cmd");
    let rebuilt = scratch_beside(disk, "fs-qcow2");
    let result = (|| -> Result<(), ConvertError> {
        std::fs::write(&source, contents)?;
        let (file_name, folders) = names.split_last().ok_or_else(|| ConvertError::BadOutput("empty path".into()))?;
        let folder: String = folders.iter().map(|name| format!("/{name}")).collect();
        let folder = if folder.is_empty() { "/".to_string() } else { folder };
        // mkdir fails harmlessly for folders that exist; then the folder must be a directory,
        // so that `cd` cannot fail and leave the write to happen in the root.
        let mkdirs: String =
            (1..=folders.len()).map(|depth| format!("mkdir /{}\n", folders[..depth].join("/"))).collect();
        if !mkdirs.is_empty() {
            std::fs::write(&script, mkdirs)?;
            debugfs_on(debugfs().arg("-w").arg("-f").file(&script), &raw, offset).run()?;
        }
        if !is_directory(&raw, offset, &folder)? {
            return Err(ConvertError::BadOutput(format!("{folder} is not a directory in the disk's filesystem")));
        }
        std::fs::write(&script, format!("cd {folder}\nrm {path}\nwrite {} {file_name}\n", source.display()))?;
        debugfs_on(debugfs().arg("-w").arg("-f").file(&script), &raw, offset).run()?;
        // debugfs reports most failures only on stderr: check the file before keeping anything.
        if cat(&raw, offset, path, contents.len() as u64).ok().as_deref() != Some(contents) {
            return Err(ConvertError::BadOutput(format!("{path} could not be written (is the filesystem full?)")));
        }
        raw_to_qcow2(&raw, &rebuilt)?;
        std::fs::rename(&rebuilt, disk)?;
        Ok(())
    })();
    for leftover in [&raw, &source, &script, &rebuilt] {
        let _ = std::fs::remove_file(leftover);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::demo_disk::{build, DemoDisk};

    #[test]
    fn files_are_written_and_read_in_mbr_and_gpt_disks() {
        let dir = std::env::temp_dir().join(format!("ims-fs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for uefi in [false, true] {
            let disk = DemoDisk {
                name: format!("disk-{uefi}"),
                uefi,
                virtual_size: 64 << 20,
                files: vec![("etc/os-release".into(), "NAME=\"Ubuntu\"\n".into())],
            };
            let qcow2 = build(&dir, &disk).unwrap();
            assert_eq!(filesystem_offset(&qcow2).unwrap(), 1 << 20);
            assert_eq!(read_file(&qcow2, "/etc/os-release").unwrap(), b"NAME=\"Ubuntu\"\n");
            write_file(&qcow2, "/srv/app/config.txt", b"first").unwrap();
            write_file(&qcow2, "/srv/app/config.txt", b"second, longer").unwrap();
            assert_eq!(read_file(&qcow2, "/srv/app/config.txt").unwrap(), b"second, longer");
            assert_eq!(read_file(&qcow2, "/etc/os-release").unwrap(), b"NAME=\"Ubuntu\"\n", "other files are kept");
            assert!(read_file(&qcow2, "/no/such/file").is_err());
            // A folder that is a file: refused, and nothing in the root changes.
            write_file(&qcow2, "/victim", b"root file").unwrap();
            write_file(&qcow2, "/etc/os-release/victim", b"x").unwrap_err();
            assert_eq!(read_file(&qcow2, "/victim").unwrap(), b"root file");
        }
        let blank = dir.join("blank.qcow2");
        crate::engine::disk::create_blank(&blank, 16 << 20).unwrap();
        assert!(filesystem_offset(&blank).unwrap_err().to_string().contains("no ext2/3/4 filesystem"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A tenant's filesystem holding a sparse file of 1 TiB: refused from its inode's size,
    /// before a byte is read, while small files still read.
    #[test]
    fn huge_files_are_refused_before_reading() {
        let dir = std::env::temp_dir().join(format!("ims-fs-huge-{}", std::process::id()));
        let root = dir.join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::File::create(root.join("huge")).unwrap().set_len(1 << 40).unwrap();
        std::fs::write(root.join("small"), vec![b'x'; MAX_READ_FILE as usize]).unwrap();
        let raw = dir.join("fs.raw");
        std::fs::File::create(&raw).unwrap().set_len(64 << 20).unwrap();
        Tool::new("mke2fs", ProcessLimits::QUICK)
            .args(["-q", "-F", "-t", "ext4", "-d"])
            .folder(&root)
            .arg(&root)
            .file(&raw)
            .run()
            .unwrap();
        let disk = dir.join("fs.qcow2");
        raw_to_qcow2(&raw, &disk).unwrap();
        let refused = read_file(&disk, "/huge").unwrap_err().to_string();
        assert!(refused.contains("larger than 1024 KiB"), "{refused}");
        assert_eq!(read_file(&disk, "/small").unwrap().len(), MAX_READ_FILE as usize);
        assert!(read_file(&disk, "/missing").unwrap_err().to_string().contains("not a file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Partition tables whose offsets overflow or point past the disk are skipped, not
    /// followed (in debug builds the unchecked multiplication used to panic).
    #[test]
    fn hostile_partition_offsets_are_bounded_by_the_disk() {
        let dir = std::env::temp_dir().join(format!("ims-fs-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (kind, start, entries) in [(0xee_u8, 1_u32, u64::MAX), (0xee, 1, 1 << 40), (0x83, u32::MAX, 0)] {
            let mut head = vec![0u8; 16 << 20];
            head[446 + 4] = kind;
            head[446 + 8..446 + 12].copy_from_slice(&start.to_le_bytes());
            head[510..512].copy_from_slice(&[0x55, 0xaa]);
            head[512..520].copy_from_slice(b"EFI PART");
            head[512 + 72..512 + 80].copy_from_slice(&entries.to_le_bytes());
            let raw = dir.join("table.raw");
            std::fs::write(&raw, &head).unwrap();
            let disk = dir.join("table.qcow2");
            let _ = std::fs::remove_file(&disk);
            raw_to_qcow2(&raw, &disk).unwrap();
            let error = filesystem_offset(&disk).unwrap_err().to_string();
            assert!(error.contains("no ext2/3/4 filesystem"), "{kind:#x} {start} {entries}: {error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn paths_are_plain_and_absolute() {
        assert_eq!(check_path("/etc/motd").unwrap(), ["etc", "motd"]);
        for bad in ["etc/motd", "/etc/../shadow", "/etc//motd", "/a b", "/", "/etc/mo;td"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
