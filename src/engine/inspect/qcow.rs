//! qcow2 (versions 2 and 3) and the original qcow (version 1). Big-endian headers.

use super::field::{be_u32, be_u64};
use super::{check_virtual_size, fact, inconsistent, Fact, ImageFormat, Limits, Refusal, Source};

const QCOW2: ImageFormat = ImageFormat::Qcow2;
/// Incompatible feature bits qemu knows: dirty, corrupt, external data file, compression
/// type, extended L2 entries.
const KNOWN_INCOMPATIBLE: u64 = 0b1_1111;
const INCOMPATIBLE_CORRUPT: u64 = 1 << 1;
const INCOMPATIBLE_EXTERNAL_DATA: u64 = 1 << 2;
const EXTENSION_EXTERNAL_DATA_FILE: u32 = 0x4441_5441;
const EXTENSION_END: u32 = 0;
/// Bits 9..55 of an L1 entry hold the L2 table offset.
const L1_OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;

fn within_file(source: &Source, offset: u64, length: u64) -> bool {
    offset.checked_add(length).is_some_and(|end| end <= source.size)
}

/// The qcow2 header fields the checks read (offsets from the qcow2 specification).
struct Header {
    version: u32,
    backing_file_offset: u64,
    backing_file_size: u32,
    cluster_bits: u32,
    virtual_size: u64,
    crypt_method: u32,
    l1_size: u64,
    l1_table_offset: u64,
    refcount_table_offset: u64,
    refcount_table_clusters: u64,
    snapshot_count: u32,
    snapshots_offset: u64,
}

impl Header {
    fn read(header: &[u8]) -> Header {
        Header {
            version: be_u32(header, 4),
            backing_file_offset: be_u64(header, 8),
            backing_file_size: be_u32(header, 16),
            cluster_bits: be_u32(header, 20),
            virtual_size: be_u64(header, 24),
            crypt_method: be_u32(header, 32),
            l1_size: be_u32(header, 36) as u64,
            l1_table_offset: be_u64(header, 40),
            refcount_table_offset: be_u64(header, 48),
            refcount_table_clusters: be_u32(header, 56) as u64,
            snapshot_count: be_u32(header, 60),
            snapshots_offset: be_u64(header, 64),
        }
    }
}

pub(super) fn qcow2(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    let header = Header::read(&source.bytes(QCOW2, "the header", 0, 72)?);
    let version = header.version;
    if version != 2 && version != 3 {
        return Err(Refusal::NotAccepted { format: QCOW2, reason: format!("version {version} is unknown") });
    }
    refuse_backing_file(&header)?;
    let cluster_bits = header.cluster_bits;
    if !(9..=21).contains(&cluster_bits) {
        return Err(inconsistent(QCOW2, format!("cluster bits {cluster_bits} are outside 9..21")));
    }
    let cluster_size = 1u64 << cluster_bits;
    match header.crypt_method {
        0 => {}
        1 => return Err(Refusal::Encrypted { format: QCOW2, what: "AES".into() }),
        2 => return Err(Refusal::Encrypted { format: QCOW2, what: "LUKS".into() }),
        other => return Err(inconsistent(QCOW2, format!("unknown encryption method {other}"))),
    }

    let mut facts = vec![fact("version", version), fact("cluster_size", cluster_size)];
    let header_length = if version == 3 {
        check_version_3(source, cluster_size, &mut facts)?
    } else {
        facts.push(fact("compression", "zlib"));
        72
    };
    check_virtual_size(QCOW2, header.virtual_size, limits)?;
    walk_header_extensions(source, header_length, cluster_size)?;
    check_tables(source, &header, cluster_size)?;
    facts.push(fact("snapshots", header.snapshot_count));
    Ok((header.virtual_size, facts))
}

/// A backing file means the data lives (partly) in another file: refused, naming it.
fn refuse_backing_file(header: &Header) -> Result<(), Refusal> {
    if header.backing_file_offset == 0 && header.backing_file_size == 0 {
        return Ok(());
    }
    // The name is the file's own text and may be a host path: not repeated to the user.
    Err(Refusal::External { format: QCOW2, what: "a backing file".into() })
}

/// The version 3 header: feature bits, refcount order, header length, compression type.
/// Returns the header length.
fn check_version_3(source: &mut Source, cluster_size: u64, facts: &mut Vec<Fact>) -> Result<u64, Refusal> {
    let v3 = source.bytes(QCOW2, "the version 3 header", 0, 104)?;
    let incompatible = be_u64(&v3, 72);
    let refcount_order = be_u32(&v3, 96);
    let header_length = be_u32(&v3, 100) as u64;
    if incompatible & !KNOWN_INCOMPATIBLE != 0 {
        return Err(Refusal::NotAccepted {
            format: QCOW2,
            reason: format!(
                "it sets incompatible feature bits {:#x} that are not understood",
                incompatible & !KNOWN_INCOMPATIBLE
            ),
        });
    }
    if incompatible & INCOMPATIBLE_EXTERNAL_DATA != 0 {
        return Err(Refusal::External { format: QCOW2, what: "an external data file".into() });
    }
    if incompatible & INCOMPATIBLE_CORRUPT != 0 {
        return Err(inconsistent(QCOW2, "the image is marked corrupt"));
    }
    if refcount_order > 6 {
        return Err(inconsistent(QCOW2, format!("refcount order {refcount_order} is above 6")));
    }
    if !(104..=cluster_size).contains(&header_length) || !header_length.is_multiple_of(8) {
        return Err(inconsistent(QCOW2, format!("header length {header_length} is invalid")));
    }
    let compression = if header_length > 104 { source.bytes(QCOW2, "the compression type", 104, 1)?[0] } else { 0 };
    facts.push(fact(
        "compression",
        match compression {
            0 => "zlib",
            1 => "zstd",
            other => return Err(inconsistent(QCOW2, format!("unknown compression type {other}"))),
        },
    ));
    facts.push(fact("refcount_bits", 1u32 << refcount_order));
    facts.push(fact("dirty", incompatible & 1 != 0));
    Ok(header_length)
}

/// The L1 table must cover the whole disk, lie inside the file and point inside it; the
/// refcount and snapshot tables must lie inside the file too.
fn check_tables(source: &mut Source, header: &Header, cluster_size: u64) -> Result<(), Refusal> {
    let entries_per_l2 = cluster_size / 8;
    let bytes_per_l1_entry = cluster_size * entries_per_l2;
    let needed_l1 = header.virtual_size.div_ceil(bytes_per_l1_entry);
    let l1_size = header.l1_size;
    if l1_size < needed_l1 {
        return Err(inconsistent(QCOW2, format!("the L1 table has {l1_size} entries but the disk needs {needed_l1}")));
    }
    if l1_size > 0 {
        if !header.l1_table_offset.is_multiple_of(cluster_size) {
            return Err(inconsistent(QCOW2, "the L1 table is not cluster-aligned"));
        }
        let l1 = source.bytes(QCOW2, "the L1 table", header.l1_table_offset, l1_size * 8)?;
        for (index, entry) in l1.chunks_exact(8).enumerate() {
            let l2_offset = u64::from_be_bytes(entry.try_into().unwrap_or_default()) & L1_OFFSET_MASK;
            if l2_offset == 0 {
                continue;
            }
            if !l2_offset.is_multiple_of(cluster_size) || !within_file(source, l2_offset, cluster_size) {
                return Err(inconsistent(QCOW2, format!("L1 entry {index} points to an L2 table outside the file")));
            }
        }
    }
    let refcount_bytes = header.refcount_table_clusters.saturating_mul(cluster_size);
    if !header.refcount_table_offset.is_multiple_of(cluster_size)
        || header.refcount_table_clusters == 0
        || !within_file(source, header.refcount_table_offset, refcount_bytes)
    {
        return Err(inconsistent(QCOW2, "the refcount table lies outside the file"));
    }
    let snapshots_offset = header.snapshots_offset;
    if header.snapshot_count > 0 && (!snapshots_offset.is_multiple_of(8) || !within_file(source, snapshots_offset, 40))
    {
        return Err(inconsistent(QCOW2, "the snapshot table lies outside the file"));
    }
    Ok(())
}

/// Header extensions follow the header inside the first cluster; an external data file name
/// there means the data lives in another file.
fn walk_header_extensions(source: &mut Source, header_length: u64, cluster_size: u64) -> Result<(), Refusal> {
    let area_length = cluster_size.min(source.size).saturating_sub(header_length);
    let area = source.bytes(QCOW2, "the header extensions", header_length, area_length)?;
    let mut offset = 0usize;
    while offset + 8 <= area.len() {
        let kind = be_u32(&area, offset);
        let length = be_u32(&area, offset + 4) as usize;
        if kind == EXTENSION_END {
            return Ok(());
        }
        if kind == EXTENSION_EXTERNAL_DATA_FILE {
            return Err(Refusal::External { format: QCOW2, what: "an external data file".into() });
        }
        let padded = length.checked_add(7).map(|value| value & !7).unwrap_or(usize::MAX);
        offset = match offset.checked_add(8).and_then(|value| value.checked_add(padded)) {
            Some(next) if next <= area.len() => next,
            _ => return Err(inconsistent(QCOW2, "a header extension runs past the first cluster")),
        };
    }
    Ok(())
}

const QCOW: ImageFormat = ImageFormat::Qcow;

pub(super) fn qcow1(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    let header = source.bytes(QCOW, "the header", 0, 48)?;
    let backing_file_offset = be_u64(&header, 8);
    let virtual_size = be_u64(&header, 24);
    let cluster_bits = header[32] as u32;
    let l2_bits = header[33] as u32;
    let crypt_method = be_u32(&header, 36);
    let l1_table_offset = be_u64(&header, 40);
    if backing_file_offset != 0 {
        return Err(Refusal::External { format: QCOW, what: "a backing file".into() });
    }
    if crypt_method != 0 {
        return Err(Refusal::Encrypted { format: QCOW, what: "AES".into() });
    }
    if !(9..=16).contains(&cluster_bits) || !(6..=13).contains(&l2_bits) {
        return Err(inconsistent(QCOW, format!("cluster bits {cluster_bits} or L2 bits {l2_bits} are out of range")));
    }
    check_virtual_size(QCOW, virtual_size, limits)?;
    let l1_size = virtual_size.div_ceil(1u64 << (cluster_bits + l2_bits));
    let l1 = source.bytes(QCOW, "the L1 table", l1_table_offset, l1_size * 8)?;
    let l2_table_size = 8u64 << l2_bits;
    for (index, entry) in l1.chunks_exact(8).enumerate() {
        let l2_offset = u64::from_be_bytes(entry.try_into().unwrap_or_default());
        if l2_offset != 0 && !within_file(source, l2_offset, l2_table_size) {
            return Err(inconsistent(QCOW, format!("L1 entry {index} points to an L2 table outside the file")));
        }
    }
    Ok((virtual_size, vec![fact("version", 1), fact("cluster_size", 1u64 << cluster_bits)]))
}
