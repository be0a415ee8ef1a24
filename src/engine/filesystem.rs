//! Files inside a disk's ext2/3/4 filesystem: writing one and reading one back, with debugfs
//! (e2fsprogs) on a sparse raw copy of the qcow2 disk. The filesystem is the first partition's
//! (MBR or GPT), or the whole disk when it has no partition table. Only our own disks (server
//! disks) are handled here, never a tenant's uploaded file.

use super::convert::ConvertError;
use super::disk::{read_bytes, run, scratch_beside};
use super::inspect::field::{le_u32, le_u64};
use super::inspect::ImageFormat;
use std::path::{Path, PathBuf};
use std::process::Command;

const SECTOR: u64 = 512;
const EXT_MAGIC: [u8; 2] = [0x53, 0xef];

fn debugfs() -> &'static str {
    if Path::new("/usr/sbin/debugfs").exists() {
        "/usr/sbin/debugfs"
    } else {
        "debugfs"
    }
}

/// Byte offset of the ext filesystem on the qcow2 disk `disk`.
pub fn filesystem_offset(disk: &Path) -> Result<u64, ConvertError> {
    let head = read_bytes(disk, ImageFormat::Qcow2, 0, 2 * SECTOR)?;
    let mut candidates = Vec::new();
    if head[510..512] == [0x55, 0xaa] {
        let (kind, start) = (head[446 + 4], le_u32(&head, 446 + 8) as u64);
        if kind == 0xee && &head[512..520] == b"EFI PART" {
            // GPT: the first entry of the partition array.
            let entries_lba = le_u64(&head, 512 + 72);
            let entry = read_bytes(disk, ImageFormat::Qcow2, entries_lba * SECTOR, 128)?;
            candidates.push(le_u64(&entry, 32) * SECTOR);
        } else if kind != 0 {
            candidates.push(start * SECTOR);
        }
    }
    candidates.push(0);
    for offset in candidates {
        if read_bytes(disk, ImageFormat::Qcow2, offset + 1080, 2)? == EXT_MAGIC {
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
    let raw = scratch_beside(disk, "fs-raw");
    run(Command::new("qemu-img").args(["convert", "-q", "-f", "qcow2", "-O", "raw"]).arg(disk).arg(&raw))?;
    Ok(raw)
}

fn debugfs_on(raw: &Path, offset: u64) -> String {
    format!("{}?offset={offset}", raw.display())
}

/// `cat` of `path` in the filesystem at `offset` of the raw file `raw`.
fn cat(raw: &Path, offset: u64, path: &str) -> Result<Vec<u8>, ConvertError> {
    let output = Command::new(debugfs()).arg("-R").arg(format!("cat {path}")).arg(debugfs_on(raw, offset)).output()?;
    // debugfs says on stderr when the file is missing, and still exits 0.
    let errors = String::from_utf8_lossy(&output.stderr);
    if let Some(line) = errors.lines().find(|line| line.contains("not found")) {
        return Err(ConvertError::BadOutput(format!("{path}: {}", line.trim())));
    }
    Ok(output.stdout)
}

/// Whether `folder` is a directory of the filesystem.
fn is_directory(raw: &Path, offset: u64, folder: &str) -> Result<bool, ConvertError> {
    let output =
        Command::new(debugfs()).arg("-R").arg(format!("stat {folder}")).arg(debugfs_on(raw, offset)).output()?;
    Ok(String::from_utf8_lossy(&output.stdout).contains("Type: directory"))
}

/// Reads the file at `path` of the disk's filesystem.
pub fn read_file(disk: &Path, path: &str) -> Result<Vec<u8>, ConvertError> {
    check_path(path).map_err(ConvertError::BadOutput)?;
    let offset = filesystem_offset(disk)?;
    let raw = raw_copy(disk)?;
    let result = cat(&raw, offset, path);
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
            run(Command::new(debugfs()).arg("-w").arg("-f").arg(&script).arg(debugfs_on(&raw, offset)))?;
        }
        if !is_directory(&raw, offset, &folder)? {
            return Err(ConvertError::BadOutput(format!("{folder} is not a directory in the disk's filesystem")));
        }
        std::fs::write(&script, format!("cd {folder}\nrm {path}\nwrite {} {file_name}\n", source.display()))?;
        run(Command::new(debugfs()).arg("-w").arg("-f").arg(&script).arg(debugfs_on(&raw, offset)))?;
        // debugfs reports most failures only on stderr: check the file before keeping anything.
        if cat(&raw, offset, path)? != contents {
            return Err(ConvertError::BadOutput(format!("{path} could not be written (is the filesystem full?)")));
        }
        run(Command::new("qemu-img")
            .args(["convert", "-q", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1"])
            .arg(&raw)
            .arg(&rebuilt))?;
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

    #[test]
    fn paths_are_plain_and_absolute() {
        assert_eq!(check_path("/etc/motd").unwrap(), ["etc", "motd"]);
        for bad in ["etc/motd", "/etc/../shadow", "/etc//motd", "/a b", "/", "/etc/mo;td"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
