//! Hand-built headers of every format: benign ones are accepted with the right size and facts,
//! each hostile variant is refused with its own reason, and random damage never panics.

use super::*;

const MIB: u64 = 1024 * 1024;
const CLUSTER: usize = 65536;

fn put_be32(buffer: &mut [u8], offset: usize, value: u32) {
    buffer[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}
fn put_be64(buffer: &mut [u8], offset: usize, value: u64) {
    buffer[offset..offset + 8].copy_from_slice(&value.to_be_bytes());
}
fn put_le32(buffer: &mut [u8], offset: usize, value: u32) {
    buffer[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}
fn put_le64(buffer: &mut [u8], offset: usize, value: u64) {
    buffer[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
}

fn check(bytes: &[u8], declared: Option<ImageFormat>) -> Result<Report, Refusal> {
    let mut reader = bytes;
    inspect(&mut reader, bytes.len() as u64, declared, &Limits::default())
}

/// A qcow2 v3 image of 1 MiB: header, refcount table, an L2 table, the L1 table.
fn qcow2_image() -> Vec<u8> {
    let mut image = vec![0u8; 4 * CLUSTER];
    image[0..4].copy_from_slice(b"QFI\xfb");
    put_be32(&mut image, 4, 3);
    put_be32(&mut image, 20, 16);
    put_be64(&mut image, 24, MIB);
    put_be32(&mut image, 36, 1);
    put_be64(&mut image, 40, 3 * CLUSTER as u64);
    put_be64(&mut image, 48, CLUSTER as u64);
    put_be32(&mut image, 56, 1);
    put_be32(&mut image, 96, 4);
    put_be32(&mut image, 100, 104);
    put_be64(&mut image, 3 * CLUSTER, 2 * CLUSTER as u64);
    image
}

fn vhd_footer(size: u64, disk_type: u32, data_offset: u64) -> Vec<u8> {
    let mut footer = vec![0u8; 512];
    footer[0..8].copy_from_slice(b"conectix");
    put_be32(&mut footer, 8, 2);
    put_be32(&mut footer, 12, 0x0001_0000);
    put_be64(&mut footer, 16, data_offset);
    put_be64(&mut footer, 40, size);
    put_be64(&mut footer, 48, size);
    put_be32(&mut footer, 60, disk_type);
    let sum = footer.iter().fold(0u32, |sum, byte| sum.wrapping_add(*byte as u32));
    put_be32(&mut footer, 64, !sum);
    footer
}

fn vhd_fixed() -> Vec<u8> {
    let mut image = vec![0u8; MIB as usize];
    image.extend(vhd_footer(MIB, 2, u64::MAX));
    image
}

fn iso_image() -> Vec<u8> {
    let mut image = vec![0u8; 0x8000 + 4 * 2048];
    let blocks = (image.len() / 2048) as u32;
    let pvd = &mut image[0x8000..0x8800];
    pvd[0] = 1;
    pvd[1..6].copy_from_slice(b"CD001");
    pvd[40..50].copy_from_slice(b"UBUNTU_ISO");
    put_le32(pvd, 80, blocks);
    pvd[128..130].copy_from_slice(&2048u16.to_le_bytes());
    image
}

fn vdi_image(image_type: u32) -> Vec<u8> {
    let mut image = vec![0u8; 0x200 + 4 + MIB as usize];
    image[0..40].copy_from_slice(b"<<< Oracle VM VirtualBox Disk Image >>>\n");
    put_le32(&mut image, 0x40, 0xbeda_107f);
    put_le32(&mut image, 0x44, 0x0001_0001);
    put_le32(&mut image, 0x4c, image_type);
    put_le32(&mut image, 0x154, 0x200);
    put_le32(&mut image, 0x158, 0x400);
    put_le32(&mut image, 0x168, 512);
    put_le64(&mut image, 0x170, MIB);
    put_le32(&mut image, 0x178, MIB as u32);
    put_le32(&mut image, 0x180, 1);
    image
}

fn vmdk_image(create_type: &str, extent: &str, compression: u16) -> Vec<u8> {
    let mut image = vec![0u8; 4 * 512 + 4 * 512];
    image[0..4].copy_from_slice(b"KDMV");
    put_le32(&mut image, 4, 1);
    put_le64(&mut image, 12, 2048);
    put_le64(&mut image, 20, 128);
    put_le64(&mut image, 28, 1);
    put_le64(&mut image, 36, 2);
    put_le32(&mut image, 44, 512);
    put_le64(&mut image, 56, 3);
    image[77..79].copy_from_slice(&compression.to_le_bytes());
    let descriptor = format!(
        "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"{create_type}\"\n\n{extent}\n"
    );
    image[512..512 + descriptor.len()].copy_from_slice(descriptor.as_bytes());
    image
}

#[test]
fn accepts_benign_images_of_each_format() {
    let report = check(&qcow2_image(), Some(ImageFormat::Qcow2)).unwrap();
    assert_eq!((report.format, report.virtual_size), (ImageFormat::Qcow2, MIB));
    assert_eq!(report.fact("cluster_size"), Some("65536"));
    assert_eq!(report.fact("compression"), Some("zlib"));

    let report = check(&vhd_fixed(), Some(ImageFormat::Vhd)).unwrap();
    assert_eq!((report.virtual_size, report.fact("subformat")), (MIB, Some("fixed")));

    let report = check(&iso_image(), Some(ImageFormat::Iso)).unwrap();
    assert_eq!(report.fact("volume_id"), Some("UBUNTU_ISO"));

    let report = check(&vdi_image(1), Some(ImageFormat::Vdi)).unwrap();
    assert_eq!((report.virtual_size, report.fact("subformat")), (MIB, Some("dynamic")));

    let report =
        check(&vmdk_image("monolithicSparse", "RW 2048 SPARSE \"disk.vmdk\"", 0), Some(ImageFormat::Vmdk)).unwrap();
    assert_eq!((report.virtual_size, report.fact("subformat")), (MIB, Some("monolithicSparse")));
    let report = check(&vmdk_image("streamOptimized", "RW 2048 SPARSE \"disk.vmdk\"", 1), None).unwrap();
    assert_eq!(report.fact("compression"), Some("deflate"));

    let mut raw = vec![0u8; MIB as usize];
    raw[510] = 0x55;
    raw[511] = 0xaa;
    raw[446 + 4] = 0x83;
    let report = check(&raw, Some(ImageFormat::Raw)).unwrap();
    assert_eq!((report.virtual_size, report.fact("partition_table")), (MIB, Some("mbr")));
}

#[test]
fn refuses_empty_unaligned_and_mismatched_files() {
    assert_eq!(check(&[], None), Err(Refusal::Empty));
    assert!(matches!(check(&[0u8; 1000], None), Err(Refusal::Inconsistent { .. })));
    assert_eq!(
        check(&qcow2_image(), Some(ImageFormat::Vhd)),
        Err(Refusal::FormatMismatch { declared: ImageFormat::Vhd, detected: ImageFormat::Qcow2 })
    );
    assert_eq!(
        check(&vec![0u8; 4096], Some(ImageFormat::Vmdk)),
        Err(Refusal::FormatMismatch { declared: ImageFormat::Vmdk, detected: ImageFormat::Raw })
    );
}

#[test]
fn refuses_polyglots() {
    let mut image = qcow2_image();
    image.extend(vhd_footer(image.len() as u64, 2, u64::MAX));
    let refusal = check(&image, None).unwrap_err();
    assert_eq!(refusal, Refusal::Polyglot("qcow2 and vhd".into()));
    assert!(refusal.to_string().contains("polyglot"));

    let mut image = iso_image();
    image[0..4].copy_from_slice(b"QED\0");
    assert!(matches!(check(&image, None), Err(Refusal::Polyglot(_))));
}

#[test]
fn refuses_qcow2_that_depend_on_other_files() {
    let mut image = qcow2_image();
    put_be64(&mut image, 8, 0x200);
    put_be32(&mut image, 16, 9);
    image[0x200..0x209].copy_from_slice(b"/etc/host");
    let refusal = check(&image, None).unwrap_err();
    assert!(matches!(refusal, Refusal::External { .. }));
    assert!(!refusal.to_string().contains("/etc/host"), "the host path is not repeated: {refusal}");

    let mut image = qcow2_image();
    put_be64(&mut image, 72, 1 << 2);
    assert!(matches!(check(&image, None), Err(Refusal::External { .. })));

    let mut image = qcow2_image();
    put_be32(&mut image, 104, 0x4441_5441);
    put_be32(&mut image, 108, 8);
    assert!(matches!(check(&image, None), Err(Refusal::External { .. })), "external data file extension");
}

#[test]
fn refuses_broken_or_unknown_qcow2_headers() {
    let mut image = qcow2_image();
    put_be64(&mut image, 72, 1 << 9);
    let refusal = check(&image, None).unwrap_err();
    assert!(refusal.to_string().contains("incompatible feature bits 0x200"), "{refusal}");

    let mut image = qcow2_image();
    put_be64(&mut image, 40, 1 << 40);
    let refusal = check(&image, None).unwrap_err();
    assert!(matches!(refusal, Refusal::Truncated { .. }), "L1 outside the file: {refusal}");

    let mut image = qcow2_image();
    put_be64(&mut image, 3 * CLUSTER, 1 << 40);
    assert!(check(&image, None).unwrap_err().to_string().contains("L1 entry 0"));

    let mut image = qcow2_image();
    put_be64(&mut image, 24, 10 * MIB * 1024 * 1024);
    assert!(matches!(check(&image, None), Err(Refusal::TooLarge { .. })));

    let mut image = qcow2_image();
    put_be32(&mut image, 32, 2);
    assert!(matches!(check(&image, None), Err(Refusal::Encrypted { .. })));

    assert!(matches!(
        check(&qcow2_image()[..60], None),
        Err(Refusal::Inconsistent { .. }) | Err(Refusal::Truncated { .. })
    ));
}

#[test]
fn refuses_other_formats_hostile_variants() {
    let mut qed = vec![0u8; 4096];
    qed[0..4].copy_from_slice(b"QED\0");
    assert!(matches!(check(&qed, None), Err(Refusal::NotAccepted { format: ImageFormat::Qed, .. })));

    let mut luks = vec![0u8; 4096];
    luks[0..6].copy_from_slice(b"LUKS\xba\xbe");
    assert!(matches!(check(&luks, None), Err(Refusal::Encrypted { format: ImageFormat::Luks, .. })));

    let flat = b"# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"disk-flat.vmdk\" 0\n".to_vec();
    let refusal = check(&flat, None).unwrap_err();
    assert!(refusal.to_string().contains("monolithicFlat"), "{refusal}");

    let refusal = check(&vmdk_image("monolithicSparse", "RW 2048 SPARSE \"/etc/passwd\"", 0), None).unwrap_err();
    assert!(matches!(refusal, Refusal::External { .. }), "{refusal}");
    let refusal = check(&vmdk_image("twoGbMaxExtentSparse", "RW 2048 SPARSE \"disk.vmdk\"", 0), None).unwrap_err();
    assert!(refusal.to_string().contains("twoGbMaxExtentSparse"));
    let mut accented = vmdk_image("monolithicSparse", "RW 2048 SPARSE \"disk.vmdk\"", 0);
    accented[530] = 0xc3;
    assert!(check(&accented, None).unwrap_err().to_string().contains("non-ASCII"));
    let refusal = check(&vmdk_image("monolithicSparse", "RW 4096 SPARSE \"disk.vmdk\"", 0), None).unwrap_err();
    assert!(refusal.to_string().contains("extent size"));

    let mut differencing = vec![0u8; MIB as usize];
    differencing.extend(vhd_footer(MIB, 4, 512));
    assert!(matches!(check(&differencing, None), Err(Refusal::External { format: ImageFormat::Vhd, .. })));
    let mut bad_checksum = vhd_fixed();
    let last = bad_checksum.len() - 1;
    bad_checksum[last] ^= 1;
    assert!(check(&bad_checksum, None).unwrap_err().to_string().contains("checksum"));
    let mut short_fixed = vec![0u8; 1024];
    short_fixed.extend(vhd_footer(MIB, 2, u64::MAX));
    assert!(matches!(check(&short_fixed, None), Err(Refusal::Inconsistent { .. })));

    assert!(matches!(check(&vdi_image(4), None), Err(Refusal::External { format: ImageFormat::Vdi, .. })));
    let mut vdi = vdi_image(1);
    put_le32(&mut vdi, 0x154, 0xffff_fff0);
    assert!(matches!(check(&vdi, None), Err(Refusal::Inconsistent { .. })));

    let mut iso = iso_image();
    put_le32(&mut iso, 0x8000 + 80, 1_000_000);
    assert!(matches!(check(&iso, None), Err(Refusal::Truncated { .. })));
}

#[test]
fn format_names_round_trip() {
    for format in ImageFormat::ALL {
        assert_eq!(ImageFormat::parse(format.name()), Some(format));
    }
    assert_eq!(ImageFormat::parse("VPC"), Some(ImageFormat::Vhd));
    assert_eq!(ImageFormat::parse("zip"), None);
}

/// Property: whatever bytes are damaged or cut off, inspection returns (never panics, never
/// reads out of bounds) — and an accepted image always reports a size within the limit.
#[test]
fn random_damage_never_panics() {
    let samples = [
        qcow2_image(),
        vhd_fixed(),
        iso_image(),
        vdi_image(1),
        vmdk_image("streamOptimized", "RW 2048 SPARSE \"disk.vmdk\"", 1),
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let limits = Limits::default();
    for round in 0..3000 {
        let mut image = samples[round % samples.len()].clone();
        // Damage mostly the header regions, where the parsers look.
        for _ in 0..(1 + next() % 8) {
            let window = if next() % 4 == 0 { image.len() } else { 1024.min(image.len()) };
            let at = (next() as usize) % window;
            image[at] = next() as u8;
        }
        if next() % 5 == 0 {
            let keep = (next() as usize) % image.len();
            image.truncate(keep);
        }
        let mut reader = image.as_slice();
        if let Ok(report) = inspect(&mut reader, image.len() as u64, None, &limits) {
            assert!(report.virtual_size > 0 && report.virtual_size <= limits.max_virtual_size);
        }
    }
}
