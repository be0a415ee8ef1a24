//! VHD (Virtual PC: fixed and dynamic; differencing is refused) and VHDX.

use super::field::{be_u32, be_u64, bytes, le_u16, le_u32, le_u64};
use super::{check_virtual_size, fact, inconsistent, Fact, ImageFormat, Limits, Refusal, Source};

const VHD: ImageFormat = ImageFormat::Vhd;
const FIXED: u32 = 2;
const DYNAMIC: u32 = 3;
const DIFFERENCING: u32 = 4;

/// One's complement of the byte sum, with the checksum field itself counted as zero.
fn footer_checksum(footer: &[u8]) -> u32 {
    let sum = footer
        .iter()
        .enumerate()
        .filter(|(index, _)| !(64..68).contains(index))
        .fold(0u32, |sum, (_, byte)| sum.wrapping_add(*byte as u32));
    !sum
}

pub(super) fn vhd(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    let footer_at =
        source.size.checked_sub(512).ok_or_else(|| inconsistent(VHD, "the file is smaller than a footer"))?;
    let footer = source.bytes(VHD, "the footer", footer_at, 512)?;
    if !footer.starts_with(b"conectix") {
        return Err(inconsistent(VHD, "the footer at the end of the file is missing"));
    }
    if footer_checksum(&footer) != be_u32(&footer, 64) {
        return Err(inconsistent(VHD, "the footer checksum does not match"));
    }
    let data_offset = be_u64(&footer, 16);
    let current_size = be_u64(&footer, 48);
    let disk_type = be_u32(&footer, 60);
    check_virtual_size(VHD, current_size, limits)?;
    match disk_type {
        FIXED => {
            // A fixed VHD is the raw disk followed by the footer, so its size is exact.
            if footer_at != current_size {
                return Err(inconsistent(
                    VHD,
                    format!(
                        "a fixed disk of {current_size} bytes needs {} bytes of data, the file has {footer_at}",
                        current_size
                    ),
                ));
            }
            Ok((current_size, vec![fact("subformat", "fixed")]))
        }
        DYNAMIC => {
            let header = source.bytes(VHD, "the dynamic disk header", data_offset, 1024)?;
            if !header.starts_with(b"cxsparse") {
                return Err(inconsistent(VHD, "the dynamic disk header is missing"));
            }
            let table_offset = be_u64(&header, 16);
            let max_entries = be_u32(&header, 28) as u64;
            let block_size = be_u32(&header, 32) as u64;
            if !block_size.is_power_of_two() || !(512..=256 * 1024 * 1024).contains(&block_size) {
                return Err(inconsistent(VHD, format!("block size {block_size} is invalid")));
            }
            if max_entries.saturating_mul(block_size) < current_size {
                return Err(inconsistent(VHD, "the block table does not cover the disk"));
            }
            let table_end = table_offset.checked_add(max_entries * 4).filter(|end| *end <= source.size);
            if table_end.is_none() {
                return Err(inconsistent(VHD, "the block allocation table lies outside the file"));
            }
            Ok((current_size, vec![fact("subformat", "dynamic"), fact("block_size", block_size)]))
        }
        DIFFERENCING => Err(Refusal::External { format: VHD, what: "a parent disk (differencing VHD)".into() }),
        other => Err(inconsistent(VHD, format!("disk type {other} is unknown"))),
    }
}

const VHDX: ImageFormat = ImageFormat::Vhdx;
const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// A VHDX GUID as stored on disk (first three fields little-endian).
fn guid(text: &str) -> [u8; 16] {
    let hex: Vec<u8> = text
        .bytes()
        .filter(|byte| *byte != b'-')
        .collect::<Vec<_>>()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("00"), 16).unwrap_or(0))
        .collect();
    let mut out = [0u8; 16];
    out[..hex.len().min(16)].copy_from_slice(&hex[..hex.len().min(16)]);
    out[0..4].reverse();
    out[4..6].reverse();
    out[6..8].reverse();
    out
}

const REGION_BAT: &str = "2DC27766-F623-4200-9D64-115E9BFD4A08";
const REGION_METADATA: &str = "8B7CA206-4790-4B9A-B8FE-575F050F886E";
const META_FILE_PARAMETERS: &str = "CAA16737-FA36-4D43-B3B6-33F0AA44E76B";
const META_VIRTUAL_DISK_SIZE: &str = "2FA54224-CD1B-4876-B211-5DBED83BF4B8";
const META_LOGICAL_SECTOR_SIZE: &str = "8141BF1D-A96F-4709-BA47-F233A8FAAB5F";
const META_PHYSICAL_SECTOR_SIZE: &str = "CDA348C7-445D-4471-9CC9-E9885251C556";
const META_PAGE_83: &str = "BECA12AB-B2E6-4523-93EF-C309E000C746";
const META_PARENT_LOCATOR: &str = "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C";

pub(super) fn vhdx(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    let (metadata_offset, metadata_length) = metadata_region(source)?;
    let (block_size, virtual_size, has_parent) = read_metadata(source, metadata_offset, metadata_length)?;
    if has_parent {
        return Err(Refusal::External { format: VHDX, what: "a parent disk (differencing VHDX)".into() });
    }
    let block_size = block_size.ok_or_else(|| inconsistent(VHDX, "the file parameters are missing"))?;
    if !block_size.is_power_of_two() || !(MIB..=256 * MIB).contains(&block_size) {
        return Err(inconsistent(VHDX, format!("block size {block_size} is invalid")));
    }
    let virtual_size = virtual_size.ok_or_else(|| inconsistent(VHDX, "the virtual disk size is missing"))?;
    check_virtual_size(VHDX, virtual_size, limits)?;
    Ok((virtual_size, vec![fact("block_size", block_size)]))
}

/// Checks the headers and the region table; returns the metadata region (offset, length).
fn metadata_region(source: &mut Source) -> Result<(u64, u64), Refusal> {
    let mut header_found = false;
    for at in [64 * KIB, 128 * KIB] {
        header_found |= source.bytes(VHDX, "a header", at, 4)? == b"head";
    }
    if !header_found {
        return Err(inconsistent(VHDX, "neither header copy is present"));
    }
    let table = source.bytes(VHDX, "the region table", 192 * KIB, 64 * KIB)?;
    if !table.starts_with(b"regi") {
        return Err(inconsistent(VHDX, "the region table signature is missing"));
    }
    let entry_count = le_u32(&table, 8) as usize;
    if entry_count > 2047 {
        return Err(inconsistent(VHDX, format!("the region table claims {entry_count} entries")));
    }
    let (mut metadata, mut bat) = (None, None);
    for index in 0..entry_count {
        let at = 16 + index * 32;
        let id: [u8; 16] = bytes(&table, at);
        let offset = le_u64(&table, at + 16);
        let length = le_u32(&table, at + 24) as u64;
        let required = le_u32(&table, at + 28) & 1 != 0;
        if !offset.is_multiple_of(MIB) || offset < MIB || offset.checked_add(length).is_none_or(|end| end > source.size)
        {
            return Err(inconsistent(VHDX, format!("region {index} lies outside the file")));
        }
        if id == guid(REGION_METADATA) {
            metadata = Some((offset, length));
        } else if id == guid(REGION_BAT) {
            bat = Some((offset, length));
        } else if required {
            return Err(Refusal::NotAccepted {
                format: VHDX,
                reason: "it has a required region that is not understood".into(),
            });
        }
    }
    let (metadata_offset, metadata_length) =
        metadata.ok_or_else(|| inconsistent(VHDX, "the metadata region is missing"))?;
    bat.ok_or_else(|| inconsistent(VHDX, "the block allocation table region is missing"))?;
    Ok((metadata_offset, metadata_length))
}

/// Reads the metadata table: (block size, virtual size, whether the disk has a parent).
fn read_metadata(
    source: &mut Source,
    metadata_offset: u64,
    metadata_length: u64,
) -> Result<(Option<u64>, Option<u64>, bool), Refusal> {
    let metadata_table = source.bytes(VHDX, "the metadata table", metadata_offset, 64 * KIB)?;
    if !metadata_table.starts_with(b"metadata") {
        return Err(inconsistent(VHDX, "the metadata table signature is missing"));
    }
    let items = le_u16(&metadata_table, 10) as usize;
    if items > 2047 {
        return Err(inconsistent(VHDX, format!("the metadata table claims {items} entries")));
    }
    let known = [
        META_FILE_PARAMETERS,
        META_VIRTUAL_DISK_SIZE,
        META_LOGICAL_SECTOR_SIZE,
        META_PHYSICAL_SECTOR_SIZE,
        META_PAGE_83,
    ];
    let (mut block_size, mut virtual_size, mut has_parent) = (None, None, false);
    for index in 0..items {
        let at = 32 + index * 32;
        let id: [u8; 16] = bytes(&metadata_table, at);
        let offset = le_u32(&metadata_table, at + 16) as u64;
        let length = le_u32(&metadata_table, at + 20) as u64;
        let required = le_u32(&metadata_table, at + 24) & 0b100 != 0;
        if offset.checked_add(length).is_none_or(|end| end > metadata_length) || (length > 0 && offset < 64 * KIB) {
            return Err(inconsistent(VHDX, format!("metadata item {index} lies outside the metadata region")));
        }
        let read_item = |source: &mut Source, size: u64| {
            source.bytes(VHDX, "a metadata item", metadata_offset + offset, size.min(length))
        };
        if id == guid(META_FILE_PARAMETERS) {
            let item = read_item(source, 8)?;
            block_size = Some(le_u32(&item, 0) as u64);
            has_parent |= le_u32(&item, 4) & 0b10 != 0;
        } else if id == guid(META_VIRTUAL_DISK_SIZE) {
            virtual_size = Some(le_u64(&read_item(source, 8)?, 0));
        } else if id == guid(META_PARENT_LOCATOR) {
            has_parent = true;
        } else if required && !known.iter().any(|known| id == guid(known)) {
            return Err(Refusal::NotAccepted {
                format: VHDX,
                reason: "it has a required metadata item that is not understood".into(),
            });
        }
    }
    Ok((block_size, virtual_size, has_parent))
}
