//! Small real disk images for the demo catalog: a partition table (MBR for BIOS images, GPT for
//! UEFI ones) holding one ext4 filesystem (made by mke2fs from e2fsprogs) whose files say
//! which OS the image is, converted to qcow2 with qemu-img.

use super::disk::raw_to_qcow2;
use super::tool::{absolute, ProcessLimits, Tool, ToolError};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const SECTOR: u64 = 512;
/// The partition starts at 1 MiB, as partitioning tools align it.
const PARTITION_START: u64 = 2048;

pub struct DemoDisk {
    pub name: String,
    pub uefi: bool,
    pub virtual_size: u64,
    /// (path inside the filesystem, contents), e.g. ("etc/os-release", "NAME=...").
    pub files: Vec<(String, String)>,
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= *byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A GUID in the mixed-endian layout GPT stores.
fn guid_bytes(text: &str) -> [u8; 16] {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let mut out = [0u8; 16];
    for (index, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(hex.get(index * 2..index * 2 + 2).unwrap_or("00"), 16).unwrap_or(0);
    }
    out[0..4].reverse();
    out[4..6].reverse();
    out[6..8].reverse();
    out
}

fn mbr(first: u64, sectors: u64, kind: u8) -> Vec<u8> {
    let mut sector = vec![0u8; 512];
    let entry = &mut sector[446..462];
    entry[1..4].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[4] = kind;
    entry[5..8].copy_from_slice(&[0xfe, 0xff, 0xff]);
    entry[8..12].copy_from_slice(&(first as u32).to_le_bytes());
    entry[12..16].copy_from_slice(&(sectors.min(u32::MAX as u64) as u32).to_le_bytes());
    sector[510] = 0x55;
    sector[511] = 0xaa;
    sector
}

/// GPT header for `current` (1 or the last sector) pointing at its partition entries.
fn gpt_header(
    current: u64,
    backup: u64,
    entries_at: u64,
    last_usable: u64,
    disk_guid: &[u8; 16],
    entries_crc: u32,
) -> Vec<u8> {
    let mut header = vec![0u8; 512];
    header[0..8].copy_from_slice(b"EFI PART");
    header[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    header[12..16].copy_from_slice(&92u32.to_le_bytes());
    header[24..32].copy_from_slice(&current.to_le_bytes());
    header[32..40].copy_from_slice(&backup.to_le_bytes());
    header[40..48].copy_from_slice(&34u64.to_le_bytes());
    header[48..56].copy_from_slice(&last_usable.to_le_bytes());
    header[56..72].copy_from_slice(disk_guid);
    header[72..80].copy_from_slice(&entries_at.to_le_bytes());
    header[80..84].copy_from_slice(&128u32.to_le_bytes());
    header[84..88].copy_from_slice(&128u32.to_le_bytes());
    header[88..92].copy_from_slice(&entries_crc.to_le_bytes());
    let crc = crc32(&header[..92]);
    header[16..20].copy_from_slice(&crc.to_le_bytes());
    header
}

/// Writes the partition table and returns the partition's (first, last) sector.
fn write_partition_table(
    file: &mut std::fs::File,
    total_sectors: u64,
    uefi: bool,
    seed: &str,
) -> std::io::Result<(u64, u64)> {
    if !uefi {
        let last = total_sectors - 1;
        file.write_all(&mbr(PARTITION_START, last - PARTITION_START + 1, 0x83))?;
        return Ok((PARTITION_START, last));
    }
    let last_sector = total_sectors - 1;
    let last_usable = last_sector - 33;
    let mut entries = vec![0u8; 128 * 128];
    entries[0..16].copy_from_slice(&guid_bytes("0FC63DAF-8483-4772-8E79-3D69D8477DE4"));
    let digest = crc32(seed.as_bytes());
    let unique = format!("{digest:08x}-0000-4000-8000-{:012x}", total_sectors);
    entries[16..32].copy_from_slice(&guid_bytes(&unique));
    entries[32..40].copy_from_slice(&PARTITION_START.to_le_bytes());
    entries[40..48].copy_from_slice(&last_usable.to_le_bytes());
    for (index, unit) in "root".encode_utf16().enumerate() {
        entries[56 + index * 2..58 + index * 2].copy_from_slice(&unit.to_le_bytes());
    }
    let entries_crc = crc32(&entries);
    let disk_guid = guid_bytes(&format!("{:08x}-1111-4111-8111-{:012x}", digest.rotate_left(7), total_sectors));
    file.write_all(&mbr(1, total_sectors - 1, 0xee))?;
    file.write_all(&gpt_header(1, last_sector, 2, last_usable, &disk_guid, entries_crc))?;
    file.write_all(&entries)?;
    file.seek(SeekFrom::Start((last_sector - 32) * SECTOR))?;
    file.write_all(&entries)?;
    file.write_all(&gpt_header(last_sector, 1, last_sector - 32, last_usable, &disk_guid, entries_crc))?;
    Ok((PARTITION_START, last_usable))
}

/// A small ISO 9660 file (a primary volume descriptor and its terminator, no files), for the
/// demo's ISO images. Returns its path.
pub fn build_iso(dir: &Path, name: &str, volume_id: &str) -> std::io::Result<PathBuf> {
    const BLOCK: usize = 2048;
    let mut bytes = vec![0u8; BLOCK * 20];
    let descriptor = &mut bytes[16 * BLOCK..17 * BLOCK];
    descriptor[0] = 1;
    descriptor[1..6].copy_from_slice(b"CD001");
    descriptor[6] = 1;
    descriptor[8..40].fill(b' ');
    descriptor[40..72].fill(b' ');
    let label = volume_id.to_ascii_uppercase();
    let label = &label.as_bytes()[..label.len().min(32)];
    descriptor[40..40 + label.len()].copy_from_slice(label);
    descriptor[80..84].copy_from_slice(&20u32.to_le_bytes());
    descriptor[84..88].copy_from_slice(&20u32.to_be_bytes());
    descriptor[128..130].copy_from_slice(&(BLOCK as u16).to_le_bytes());
    descriptor[130..132].copy_from_slice(&(BLOCK as u16).to_be_bytes());
    let terminator = &mut bytes[17 * BLOCK..18 * BLOCK];
    terminator[0] = 255;
    terminator[1..6].copy_from_slice(b"CD001");
    terminator[6] = 1;
    let path = dir.join(format!("{name}.iso"));
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// Builds the disk in `dir` and returns the path of its qcow2 file.
pub fn build(dir: &Path, disk: &DemoDisk) -> std::io::Result<PathBuf> {
    let root = dir.join(format!("{}-root", disk.name));
    for (path, contents) in &disk.files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(&root))?;
        std::fs::write(file, contents)?;
    }
    let raw = dir.join(format!("{}.raw", disk.name));
    let mut file = std::fs::File::create(&raw)?;
    file.set_len(disk.virtual_size)?;
    let (first, last) = write_partition_table(&mut file, disk.virtual_size / SECTOR, disk.uefi, &disk.name)?;
    drop(file);
    let blocks = (last - first + 1) * SECTOR / 4096;
    let failed = |error: ToolError| std::io::Error::other(error.to_string());
    Tool::new("mke2fs", ProcessLimits::QUICK)
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-L", "root", "-d"])
        .folder(&absolute(&root))
        .arg(absolute(&root))
        .arg("-E")
        .arg(format!("offset={}", first * SECTOR))
        .file(&raw)
        .arg(blocks.to_string())
        .run()
        .map_err(failed)?;
    let qcow2 = dir.join(format!("{}.qcow2", disk.name));
    raw_to_qcow2(&raw, &qcow2).map_err(|error| std::io::Error::other(error.to_string()))?;
    std::fs::remove_file(&raw)?;
    std::fs::remove_dir_all(&root)?;
    Ok(qcow2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::inspect::{inspect_file, ImageFormat, Limits};
    use std::process::Command;

    #[test]
    fn crc32_matches_the_standard() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn builds_mbr_and_gpt_disks_with_the_files_inside() {
        let dir = std::env::temp_dir().join(format!("ims-demo-disk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for uefi in [false, true] {
            let disk = DemoDisk {
                name: if uefi { "gpt".into() } else { "mbr".into() },
                uefi,
                virtual_size: 64 << 20,
                files: vec![("etc/os-release".into(), "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n".into())],
            };
            let qcow2 = build(&dir, &disk).unwrap();
            let report = inspect_file(&qcow2, Some(ImageFormat::Qcow2), &Limits::default()).unwrap();
            assert_eq!(report.virtual_size, 64 << 20);
            // Read the partition table and the file back through a raw copy.
            let raw = dir.join("check.raw");
            let status = Command::new("qemu-img")
                .args(["convert", "-f", "qcow2", "-O", "raw"])
                .arg(&qcow2)
                .arg(&raw)
                .status()
                .unwrap();
            assert!(status.success());
            let table = inspect_file(&raw, Some(ImageFormat::Raw), &Limits::default()).unwrap();
            assert_eq!(table.fact("partition_table"), Some(if uefi { "gpt" } else { "mbr" }));
            // debugfs (e2fsprogs, beside mke2fs) reads the file out of the partition.
            let output = Command::new("/usr/sbin/debugfs")
                .arg("-R")
                .arg("cat /etc/os-release")
                .arg(format!("{}?offset=1048576", raw.display()))
                .output()
                .unwrap();
            assert!(String::from_utf8_lossy(&output.stdout).contains("Debian GNU/Linux"), "{output:?}");
            std::fs::remove_file(&raw).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
