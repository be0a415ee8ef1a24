//! The inspector on real image files made by qemu-img (Debian qemu-utils): every benign
//! format is accepted with the virtual size qemu-img itself reports, and every hostile kind
//! qemu-img can make is refused. Also drives the `inspect` subcommand of the server binary.

use ims_console::engine::inspect::{inspect_file, ImageFormat, Limits, Refusal};
use std::path::{Path, PathBuf};
use std::process::Command;

struct Corpus {
    folder: PathBuf,
}

impl Corpus {
    fn new(name: &str) -> Corpus {
        let folder = std::env::temp_dir().join(format!("ims-corpus-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        Corpus { folder }
    }

    /// Runs `qemu-img create`, with `args` before the file name and size.
    fn create(&self, file: &str, size: &str, args: &[&str]) -> PathBuf {
        let path = self.folder.join(file);
        let output = Command::new("qemu-img")
            .arg("create")
            .args(args)
            .arg(&path)
            .arg(size)
            .current_dir(&self.folder)
            .output()
            .expect("qemu-img is installed (Debian qemu-utils)");
        assert!(output.status.success(), "qemu-img create {file}: {}", String::from_utf8_lossy(&output.stderr));
        path
    }
}

impl Drop for Corpus {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

fn qemu_virtual_size(path: &Path, format: &str) -> u64 {
    let output = Command::new("qemu-img").args(["info", "--output=json", "-f", format]).arg(path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    info["virtual-size"].as_u64().unwrap()
}

/// (file name, qemu-img create options, format name, detected format, a fact the report shows).
type BenignCase<'a> = (&'a str, &'a [&'a str], &'a str, ImageFormat, Option<(&'a str, &'a str)>);

#[test]
fn benign_files_of_every_format_are_accepted() {
    let corpus = Corpus::new("benign");
    let cases: &[BenignCase] = &[
        ("disk.raw", &["-f", "raw"], "raw", ImageFormat::Raw, None),
        ("v3.qcow2", &["-f", "qcow2", "-o", "compat=1.1"], "qcow2", ImageFormat::Qcow2, Some(("version", "3"))),
        ("v2.qcow2", &["-f", "qcow2", "-o", "compat=0.10"], "qcow2", ImageFormat::Qcow2, Some(("version", "2"))),
        (
            "zstd.qcow2",
            &["-f", "qcow2", "-o", "compression_type=zstd"],
            "qcow2",
            ImageFormat::Qcow2,
            Some(("compression", "zstd")),
        ),
        (
            "small-cluster.qcow2",
            &["-f", "qcow2", "-o", "cluster_size=4096"],
            "qcow2",
            ImageFormat::Qcow2,
            Some(("cluster_size", "4096")),
        ),
        ("v1.qcow", &["-f", "qcow"], "qcow", ImageFormat::Qcow, None),
        (
            "sparse.vmdk",
            &["-f", "vmdk", "-o", "subformat=monolithicSparse"],
            "vmdk",
            ImageFormat::Vmdk,
            Some(("subformat", "monolithicSparse")),
        ),
        (
            "stream.vmdk",
            &["-f", "vmdk", "-o", "subformat=streamOptimized"],
            "vmdk",
            ImageFormat::Vmdk,
            Some(("subformat", "streamOptimized")),
        ),
        (
            "dynamic.vhd",
            &["-f", "vpc", "-o", "subformat=dynamic,force_size=on"],
            "vpc",
            ImageFormat::Vhd,
            Some(("subformat", "dynamic")),
        ),
        (
            "fixed.vhd",
            &["-f", "vpc", "-o", "subformat=fixed,force_size=on"],
            "vpc",
            ImageFormat::Vhd,
            Some(("subformat", "fixed")),
        ),
        ("disk.vhdx", &["-f", "vhdx"], "vhdx", ImageFormat::Vhdx, None),
        ("dynamic.vdi", &["-f", "vdi"], "vdi", ImageFormat::Vdi, Some(("subformat", "dynamic"))),
        ("static.vdi", &["-f", "vdi", "-o", "static=on"], "vdi", ImageFormat::Vdi, Some(("subformat", "fixed"))),
    ];
    for (file, args, qemu_format, format, expected_fact) in cases {
        let path = corpus.create(file, "64M", args);
        let report = inspect_file(&path, Some(*format), &Limits::default())
            .unwrap_or_else(|refusal| panic!("{file} refused: {refusal}"));
        assert_eq!(report.format, *format, "{file}");
        assert_eq!(report.virtual_size, qemu_virtual_size(&path, qemu_format), "{file}: same virtual size as qemu-img");
        if let Some((name, value)) = expected_fact {
            assert_eq!(report.fact(name), Some(*value), "{file}: {name}");
        }
        // Detection alone finds the same format.
        assert_eq!(inspect_file(&path, None, &Limits::default()).unwrap().format, *format);
    }
}

fn refusal_of(path: &Path, declared: Option<ImageFormat>) -> Refusal {
    match inspect_file(path, declared, &Limits::default()) {
        Ok(report) => panic!("{} was accepted: {report:?}", path.display()),
        Err(refusal) => refusal,
    }
}

#[test]
fn hostile_files_are_refused_with_their_reason() {
    let corpus = Corpus::new("hostile");
    let base = corpus.create("base.raw", "16M", &["-f", "raw"]);
    let child = corpus.create("child.qcow2", "16M", &["-f", "qcow2", "-b", base.to_str().unwrap(), "-F", "raw"]);
    let refusal = refusal_of(&child, None);
    // Refused for its backing file, whose name (a path, perhaps of the host) is not repeated.
    assert!(matches!(refusal, Refusal::External { .. }) && !refusal.to_string().contains("base.raw"), "{refusal}");
    assert!(refusal.to_string().contains("backing file"), "{refusal}");

    let data_file = corpus.create("external.qcow2", "16M", &["-f", "qcow2", "-o", "data_file=external-data.raw"]);
    assert!(matches!(refusal_of(&data_file, None), Refusal::External { .. }));

    let qed = corpus.create("disk.qed", "16M", &["-f", "qed"]);
    assert!(refusal_of(&qed, None).to_string().contains("QED"));

    let luks = corpus.create(
        "disk.luks",
        "16M",
        &["-f", "luks", "--object", "secret,id=sec0,data=passphrase", "-o", "key-secret=sec0,iter-time=10"],
    );
    assert!(matches!(refusal_of(&luks, None), Refusal::Encrypted { .. }));

    let flat = corpus.create("flat.vmdk", "16M", &["-f", "vmdk", "-o", "subformat=monolithicFlat"]);
    assert!(refusal_of(&flat, None).to_string().contains("monolithicFlat"));
    let split = corpus.create("split.vmdk", "16M", &["-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse"]);
    assert!(refusal_of(&split, None).to_string().contains("twoGbMaxExtentSparse"));

    let huge = corpus.create("huge.qcow2", "2T", &["-f", "qcow2"]);
    assert!(matches!(refusal_of(&huge, None), Refusal::TooLarge { .. }));
    let small_limit = Limits { max_virtual_size: 8 << 20 };
    assert!(matches!(inspect_file(&base, None, &small_limit), Err(Refusal::TooLarge { .. })));

    let qcow2 = corpus.create("plain.qcow2", "16M", &["-f", "qcow2"]);
    assert_eq!(
        refusal_of(&qcow2, Some(ImageFormat::Vmdk)),
        Refusal::FormatMismatch { declared: ImageFormat::Vmdk, detected: ImageFormat::Qcow2 }
    );
    let truncated = corpus.folder.join("truncated.qcow2");
    std::fs::write(&truncated, &std::fs::read(&qcow2).unwrap()[..64]).unwrap();
    assert!(matches!(refusal_of(&truncated, None), Refusal::Truncated { .. }));

    let empty = corpus.folder.join("empty.raw");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(refusal_of(&empty, None), Refusal::Empty);

    // A qcow2 header with a fixed VHD footer appended: valid as both.
    let fixed = corpus.create("fixed.vhd", "1M", &["-f", "vpc", "-o", "subformat=fixed,force_size=on"]);
    let mut polyglot = std::fs::read(&qcow2).unwrap();
    polyglot.extend_from_slice(&std::fs::read(&fixed).unwrap()[1 << 20..]);
    let polyglot_path = corpus.folder.join("polyglot.img");
    std::fs::write(&polyglot_path, polyglot).unwrap();
    assert!(matches!(refusal_of(&polyglot_path, None), Refusal::Polyglot(_)));
}

#[test]
fn the_inspect_subcommand_reports_and_refuses() {
    let corpus = Corpus::new("cli");
    let good = corpus.create("good.qcow2", "32M", &["-f", "qcow2"]);
    let output = Command::new(env!("CARGO_BIN_EXE_ims-console"))
        .args(["inspect", "--format", "qcow2"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("format: qcow2") && stdout.contains("virtual_size: 33554432"), "{stdout}");

    let output = Command::new(env!("CARGO_BIN_EXE_ims-console"))
        .args(["inspect", "--format", "vhd"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("declared as vhd but it is qcow2"));

    let output =
        Command::new(env!("CARGO_BIN_EXE_ims-console")).args(["inspect", "--format", "zip", "x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}
