//! VMDK: only the self-contained sparse kinds (monolithicSparse, streamOptimized) are
//! accepted; the embedded descriptor must be ASCII and name no other file.

use super::field::{le_u16, le_u32, le_u64};
use super::{check_virtual_size, fact, inconsistent, Fact, ImageFormat, Limits, Refusal, Source};

const VMDK: ImageFormat = ImageFormat::Vmdk;
const SECTOR: u64 = 512;
const GD_AT_END: u64 = u64::MAX;
const MAX_DESCRIPTOR_SECTORS: u64 = 2048;

struct SparseHeader {
    version: u32,
    capacity: u64,
    grain_size: u64,
    descriptor_offset: u64,
    descriptor_size: u64,
    gtes_per_gt: u32,
    gd_offset: u64,
    compression: u16,
}

fn parse_header(buffer: &[u8]) -> SparseHeader {
    SparseHeader {
        version: le_u32(buffer, 4),
        capacity: le_u64(buffer, 12),
        grain_size: le_u64(buffer, 20),
        descriptor_offset: le_u64(buffer, 28),
        descriptor_size: le_u64(buffer, 36),
        gtes_per_gt: le_u32(buffer, 44),
        gd_offset: le_u64(buffer, 56),
        compression: le_u16(buffer, 77),
    }
}

pub(super) fn vmdk(source: &mut Source, limits: &Limits) -> Result<(u64, Vec<Fact>), Refusal> {
    let head = source.prefix(0, 512)?;
    if head.starts_with(b"COWD") {
        return Err(Refusal::NotAccepted { format: VMDK, reason: "ESX sparse (COWD) extents are not accepted".into() });
    }
    if !head.starts_with(b"KDMV") {
        return Err(descriptor_file_refusal(source));
    }
    let header = parse_header(&source.bytes(VMDK, "the header", 0, 79)?);
    if !(1..=3).contains(&header.version) {
        return Err(Refusal::NotAccepted {
            format: VMDK,
            reason: format!("sparse header version {} is unknown", header.version),
        });
    }
    let virtual_size =
        header.capacity.checked_mul(SECTOR).ok_or_else(|| inconsistent(VMDK, "the capacity overflows"))?;
    check_virtual_size(VMDK, virtual_size, limits)?;
    check_layout(&header)?;
    let descriptor = embedded_descriptor(source, &header)?;
    let stream_optimized = match descriptor.create_type.as_str() {
        "monolithicSparse" => false,
        "streamOptimized" => true,
        other => {
            return Err(Refusal::NotAccepted {
                format: VMDK,
                reason: format!("type '{other}' is not accepted; only monolithicSparse and streamOptimized are"),
            })
        }
    };
    if descriptor.extent_sectors != header.capacity {
        return Err(inconsistent(VMDK, "the descriptor's extent size differs from the header's capacity"));
    }
    match (stream_optimized, header.compression) {
        (true, 1) | (false, 0) => {}
        (_, other) => return Err(inconsistent(VMDK, format!("compression algorithm {other} does not fit the type"))),
    }
    check_grain_directory(source, &header)?;
    Ok((
        virtual_size,
        vec![
            fact("subformat", descriptor.create_type),
            fact("grain_size", header.grain_size * SECTOR),
            fact("compression", if stream_optimized { "deflate" } else { "none" }),
        ],
    ))
}

/// Why a descriptor-only file is refused (its data lives in the extent files it names),
/// naming its type.
fn descriptor_file_refusal(source: &mut Source) -> Refusal {
    let text = match source.prefix(0, 64 * 1024) {
        Ok(text) => text,
        Err(refusal) => return refusal,
    };
    let create_type = String::from_utf8_lossy(&text)
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("createType")
                .map(|rest| rest.trim_start_matches([' ', '=']).trim_matches('"').to_string())
        })
        .unwrap_or_default();
    Refusal::NotAccepted {
        format: VMDK,
        reason: format!(
            "'{create_type}' is a descriptor file whose data lives in other files; only monolithicSparse and streamOptimized are accepted"
        ),
    }
}

/// Grain size, grain table size and an embedded descriptor of a sane size.
fn check_layout(header: &SparseHeader) -> Result<(), Refusal> {
    if !header.grain_size.is_power_of_two() || header.grain_size > 2048 {
        return Err(inconsistent(
            VMDK,
            format!("grain size {} sectors is not a power of two up to 2048", header.grain_size),
        ));
    }
    if header.gtes_per_gt == 0 || header.gtes_per_gt > 512 {
        return Err(inconsistent(VMDK, format!("{} entries per grain table is outside 1..512", header.gtes_per_gt)));
    }
    if header.descriptor_offset == 0 || header.descriptor_size == 0 {
        return Err(Refusal::NotAccepted { format: VMDK, reason: "the file has no embedded descriptor".into() });
    }
    if header.descriptor_size > MAX_DESCRIPTOR_SECTORS {
        return Err(inconsistent(VMDK, format!("the descriptor is {} sectors long", header.descriptor_size)));
    }
    Ok(())
}

fn embedded_descriptor(source: &mut Source, header: &SparseHeader) -> Result<Descriptor, Refusal> {
    let descriptor_bytes = source.bytes(
        VMDK,
        "the descriptor",
        header.descriptor_offset.saturating_mul(SECTOR),
        header.descriptor_size * SECTOR,
    )?;
    let text_end = descriptor_bytes.iter().position(|byte| *byte == 0).unwrap_or(descriptor_bytes.len());
    Descriptor::parse(&descriptor_bytes[..text_end])
}

/// The grain directory, wherever the header or the footer puts it, lies inside the file.
fn check_grain_directory(source: &mut Source, header: &SparseHeader) -> Result<(), Refusal> {
    let gd_offset = if header.gd_offset == GD_AT_END {
        // streamOptimized writers may put the real header in a footer, one sector before the end marker.
        let footer_at = source.size.checked_sub(1024).ok_or_else(|| inconsistent(VMDK, "the footer is missing"))?;
        let footer = source.bytes(VMDK, "the footer", footer_at, 79)?;
        if !footer.starts_with(b"KDMV") {
            return Err(inconsistent(VMDK, "the grain directory is at the end but the footer is missing"));
        }
        parse_header(&footer).gd_offset
    } else {
        header.gd_offset
    };
    let grains_per_table = header.grain_size * header.gtes_per_gt as u64;
    let tables = header.capacity.div_ceil(grains_per_table);
    let directory_end = gd_offset
        .checked_mul(SECTOR)
        .and_then(|start| start.checked_add(tables * 4))
        .filter(|end| gd_offset != 0 && *end <= source.size);
    if directory_end.is_none() {
        return Err(inconsistent(VMDK, "the grain directory lies outside the file"));
    }
    Ok(())
}

#[derive(Default)]
struct Descriptor {
    create_type: String,
    extent_sectors: u64,
}

impl Descriptor {
    fn parse(bytes: &[u8]) -> Result<Descriptor, Refusal> {
        if !bytes.is_ascii() {
            return Err(Refusal::NotAccepted {
                format: VMDK,
                reason: "the descriptor contains non-ASCII bytes".into(),
            });
        }
        let text = String::from_utf8_lossy(bytes);
        let mut descriptor = Descriptor::default();
        let mut extents = 0;
        for line in text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')) {
            if let Some((key, value)) = line.split_once('=') {
                let key = key.trim();
                let value = value.trim().trim_matches('"');
                match key {
                    "createType" => descriptor.create_type = value.to_string(),
                    "parentCID" if !value.eq_ignore_ascii_case("ffffffff") => {
                        return Err(Refusal::External {
                            format: VMDK,
                            what: format!("parent disk (parentCID {value})"),
                        })
                    }
                    "parentFileNameHint" => {
                        return Err(Refusal::External { format: VMDK, what: "a parent file".into() })
                    }
                    _ => {}
                }
                continue;
            }
            let mut words = line.split_whitespace();
            let access = words.next().unwrap_or_default();
            if !matches!(access, "RW" | "RDONLY" | "NOACCESS") {
                continue;
            }
            extents += 1;
            let sectors: u64 = words
                .next()
                .and_then(|size| size.parse().ok())
                .ok_or_else(|| inconsistent(VMDK, format!("extent line '{line}' has no size")))?;
            let kind = words.next().unwrap_or_default();
            let name = line.split('"').nth(1).unwrap_or_default();
            if name.contains('/') || name.contains('\\') || name.contains("..") || name.contains(':') {
                // The name is the file's own text and may be a host path: not repeated.
                return Err(Refusal::External { format: VMDK, what: "an extent in a file elsewhere".into() });
            }
            if kind != "SPARSE" {
                return Err(Refusal::NotAccepted {
                    format: VMDK,
                    reason: format!("extent type '{kind}' is not accepted"),
                });
            }
            descriptor.extent_sectors = sectors;
        }
        if extents != 1 {
            return Err(Refusal::NotAccepted {
                format: VMDK,
                reason: format!("the descriptor names {extents} extents; exactly one is accepted"),
            });
        }
        Ok(descriptor)
    }
}
