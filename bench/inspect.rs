//! Benchmark (not a test): time to inspect one image file of each format, in-process.
//! Run: `cargo bench --bench inspect --no-default-features --features ssr`.

use ims_console::engine::inspect::{inspect_file, ImageFormat, Limits};
use std::process::Command;
use std::time::Instant;

fn main() {
    let dir = std::env::temp_dir().join(format!("ims-bench-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: &[(&str, &[&str], ImageFormat)] = &[
        ("disk.raw", &["-f", "raw"], ImageFormat::Raw),
        ("disk.qcow2", &["-f", "qcow2"], ImageFormat::Qcow2),
        ("disk.qcow", &["-f", "qcow"], ImageFormat::Qcow),
        ("disk.vmdk", &["-f", "vmdk", "-o", "subformat=streamOptimized"], ImageFormat::Vmdk),
        ("disk.vhd", &["-f", "vpc", "-o", "subformat=dynamic"], ImageFormat::Vhd),
        ("disk.vhdx", &["-f", "vhdx"], ImageFormat::Vhdx),
        ("disk.vdi", &["-f", "vdi"], ImageFormat::Vdi),
    ];
    let mut report = String::from("| Format (40 GiB virtual) | mean µs per inspection |\n|---|---|\n");
    for (file, args, format) in cases {
        let path = dir.join(file);
        let status = Command::new("qemu-img").arg("create").args(*args).arg(&path).arg("40G").output().unwrap().status;
        assert!(status.success());
        let rounds = 2000;
        let started = Instant::now();
        for _ in 0..rounds {
            inspect_file(&path, Some(*format), &Limits::default()).unwrap();
        }
        let micros = started.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        let line = format!("| {format} | {micros:.1} |\n");
        print!("{line}");
        report.push_str(&line);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let results = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("inspect.md"), report).unwrap();
}
