//! Raw disks (with their partition table as a fact), VDI and ISO 9660.

use super::field::{le_u16, le_u32, le_u64};
use super::{check_virtual_size, fact, inconsistent, Fact, ImageFormat, Limits, Refusal, Source};

const RAW: ImageFormat = ImageFormat::Raw;

pub(super) fn raw(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    if !source.size.is_multiple_of(512) {
        return Err(inconsistent(RAW, format!("{} bytes is not a whole number of 512-byte sectors", source.size)));
    }
    check_virtual_size(RAW, source.size, limits)?;
    let head = source.prefix(0, 1024)?;
    let mut facts = Vec::new();
    if head.len() >= 512 && head[510] == 0x55 && head[511] == 0xaa {
        let partitions: Vec<u8> = (0..4).map(|index| head[446 + index * 16 + 4]).filter(|kind| *kind != 0).collect();
        if partitions.contains(&0xee) && head.get(512..520) == Some(b"EFI PART") {
            facts.push(fact("partition_table", "gpt"));
        } else {
            facts.push(fact("partition_table", "mbr"));
            facts.push(fact("partitions", partitions.len()));
        }
    } else {
        facts.push(fact("partition_table", "none"));
    }
    Ok((source.size, facts))
}

const VDI: ImageFormat = ImageFormat::Vdi;

pub(super) fn vdi(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    let header = source.bytes(VDI, "the header", 0, 0x190)?;
    let version = le_u32(&header, 0x44);
    if version != 0x0001_0001 {
        return Err(Refusal::NotAccepted { format: VDI, reason: format!("header version {version:#x} is unknown") });
    }
    let image_type = le_u32(&header, 0x4c);
    let blocks_offset = le_u32(&header, 0x154) as u64;
    let data_offset = le_u32(&header, 0x158) as u64;
    let sector_size = le_u32(&header, 0x168);
    let disk_size = le_u64(&header, 0x170);
    let block_size = le_u32(&header, 0x178) as u64;
    let blocks = le_u32(&header, 0x180) as u64;
    let allocated = le_u32(&header, 0x184) as u64;
    let variant = match image_type {
        1 => "dynamic",
        2 => "fixed",
        3 | 4 => {
            return Err(Refusal::External { format: VDI, what: "a parent disk (undo or differencing VDI)".into() })
        }
        other => return Err(inconsistent(VDI, format!("image type {other} is unknown"))),
    };
    check_virtual_size(VDI, disk_size, limits)?;
    if sector_size != 512 {
        return Err(inconsistent(VDI, format!("sector size {sector_size} is not 512")));
    }
    if !block_size.is_power_of_two() || !(512..=256 * 1024 * 1024).contains(&block_size) {
        return Err(inconsistent(VDI, format!("block size {block_size} is invalid")));
    }
    if blocks.saturating_mul(block_size) < disk_size || allocated > blocks {
        return Err(inconsistent(VDI, "the block map does not match the disk size"));
    }
    if blocks_offset.checked_add(blocks * 4).is_none_or(|end| end > source.size) || data_offset > source.size {
        return Err(inconsistent(VDI, "the block map or the data lies outside the file"));
    }
    Ok((disk_size, vec![fact("subformat", variant), fact("block_size", block_size)]))
}

const ISO: ImageFormat = ImageFormat::Iso;

pub(super) fn iso(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    let descriptor = source.bytes(ISO, "the primary volume descriptor", 0x8000, 2048)?;
    if descriptor[0] != 1 {
        return Err(inconsistent(ISO, "the first volume descriptor is not a primary one"));
    }
    let blocks = le_u32(&descriptor, 80) as u64;
    let block_size = le_u16(&descriptor, 128) as u64;
    if !matches!(block_size, 512 | 1024 | 2048) {
        return Err(inconsistent(ISO, format!("logical block size {block_size} is invalid")));
    }
    let size = blocks.saturating_mul(block_size);
    check_virtual_size(ISO, size, limits)?;
    if size > source.size {
        return Err(Refusal::Truncated {
            format: ISO,
            what: format!("the volume of {size} bytes"),
            file_size: source.size,
        });
    }
    let label: String =
        descriptor[40..72].iter().map(|byte| *byte as char).filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
    Ok((source.size, vec![fact("volume_id", label.trim())]))
}
