//! Conversion with `qemu-img` (Debian qemu-utils), under CPU-time and memory limits.
//! The source format is always given with `-f` (never probed), `qemu-img info` is
//! cross-checked against our own inspection, and the output is inspected again.

use super::inspect::{inspect_file, ImageFormat, Limits, Report};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetFormat {
    Qcow2,
    Raw,
    /// streamOptimized VMDK, the kind other clouds import.
    Vmdk,
    /// Fixed VHD whose size stays exactly the virtual size.
    Vhd,
}

impl TargetFormat {
    pub fn parse(name: &str) -> Option<TargetFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "qcow2" => Some(TargetFormat::Qcow2),
            "raw" => Some(TargetFormat::Raw),
            "vmdk" => Some(TargetFormat::Vmdk),
            "vhd" => Some(TargetFormat::Vhd),
            _ => None,
        }
    }

    pub fn image_format(self) -> ImageFormat {
        match self {
            TargetFormat::Qcow2 => ImageFormat::Qcow2,
            TargetFormat::Raw => ImageFormat::Raw,
            TargetFormat::Vmdk => ImageFormat::Vmdk,
            TargetFormat::Vhd => ImageFormat::Vhd,
        }
    }

    fn qemu_args(self) -> &'static [&'static str] {
        match self {
            TargetFormat::Qcow2 => &["-O", "qcow2", "-o", "compat=1.1"],
            TargetFormat::Raw => &["-O", "raw"],
            TargetFormat::Vmdk => &["-O", "vmdk", "-o", "subformat=streamOptimized"],
            TargetFormat::Vhd => &["-O", "vpc", "-o", "subformat=fixed,force_size=on"],
        }
    }
}

/// qemu's name of a source format.
fn qemu_format(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Vhd => "vpc",
        ImageFormat::Iso => "raw",
        other => other.name(),
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ProcessLimits {
    pub cpu_seconds: u64,
    pub memory_bytes: u64,
}

impl Default for ProcessLimits {
    fn default() -> Self {
        ProcessLimits { cpu_seconds: 3600, memory_bytes: 2 << 30 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the source image is refused: {0}")]
    Refused(#[from] super::inspect::Refusal),
    #[error("qemu-img does not agree with the inspection: {0}")]
    Disagreement(String),
    #[error("qemu-img failed: {0}")]
    Qemu(String),
    #[error("the conversion was cancelled")]
    Cancelled,
    #[error("the converted image is wrong: {0}")]
    BadOutput(String),
    #[error("could not run qemu-img: {0}")]
    Io(#[from] std::io::Error),
}

// The crate denies unsafe code; this is its one use, reviewed: setrlimit in the child.
#[allow(unsafe_code)]
fn limited(program: &str, limits: ProcessLimits) -> Command {
    let mut command = Command::new(program);
    command.env_clear().env("PATH", "/usr/bin:/bin").stdin(Stdio::null());
    // SAFETY: only async-signal-safe setrlimit calls run between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let cpu = libc::rlimit { rlim_cur: limits.cpu_seconds, rlim_max: limits.cpu_seconds };
            let memory = libc::rlimit { rlim_cur: limits.memory_bytes, rlim_max: limits.memory_bytes };
            if libc::setrlimit(libc::RLIMIT_CPU, &cpu) != 0 || libc::setrlimit(libc::RLIMIT_AS, &memory) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
}

/// What `qemu-img info --output=json` says of a file read as `format`.
#[derive(Debug, PartialEq, Eq)]
pub struct QemuInfo {
    pub format: String,
    pub virtual_size: u64,
    pub backing_file: Option<String>,
}

pub fn qemu_info(path: &Path, format: ImageFormat, limits: ProcessLimits) -> Result<QemuInfo, ConvertError> {
    let output =
        limited("qemu-img", limits).args(["info", "--output=json", "-f", qemu_format(format)]).arg(path).output()?;
    if !output.status.success() {
        return Err(ConvertError::Qemu(String::from_utf8_lossy(&output.stderr).trim().to_string()));
    }
    let info: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| ConvertError::Qemu(format!("unreadable info: {error}")))?;
    Ok(QemuInfo {
        format: info["format"].as_str().unwrap_or_default().to_string(),
        virtual_size: info["virtual-size"].as_u64().unwrap_or_default(),
        backing_file: info["backing-filename"].as_str().map(str::to_string),
    })
}

/// Inspects `path` as `declared` and checks that qemu-img sees the same image.
pub fn inspect_and_cross_check(
    path: &Path,
    declared: ImageFormat,
    inspect_limits: &Limits,
    limits: ProcessLimits,
) -> Result<Report, ConvertError> {
    let report = inspect_file(path, Some(declared), inspect_limits)?;
    let info = qemu_info(path, report.format, limits)?;
    if let Some(backing) = info.backing_file {
        return Err(ConvertError::Disagreement(format!("qemu-img sees a backing file '{backing}'")));
    }
    if info.format != qemu_format(report.format) {
        return Err(ConvertError::Disagreement(format!(
            "qemu-img reads format {} instead of {}",
            info.format, report.format
        )));
    }
    if info.virtual_size != report.virtual_size {
        return Err(ConvertError::Disagreement(format!(
            "qemu-img reports a virtual size of {} bytes, the header says {}",
            info.virtual_size, report.virtual_size
        )));
    }
    Ok(report)
}

/// Converts `source` (already inspected as `source_format`) into `target`, reporting
/// progress in percent. `cancel` stops qemu-img. The output is inspected before returning.
pub fn convert(
    source: &Path,
    source_format: ImageFormat,
    target: &Path,
    target_format: TargetFormat,
    limits: ProcessLimits,
    mut on_progress: impl FnMut(f64),
    cancel: &AtomicBool,
) -> Result<Report, ConvertError> {
    let mut child = limited("qemu-img", limits)
        .args(["convert", "-p", "-f", qemu_format(source_format)])
        .args(target_format.qemu_args())
        .arg(source)
        .arg(target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // Progress lines look like "    (42.17/100%)\r".
    let mut pending = Vec::new();
    let mut buffer = [0u8; 256];
    loop {
        if cancel.load(Ordering::Relaxed) {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(target);
            return Err(ConvertError::Cancelled);
        }
        let read = stdout.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        for byte in &buffer[..read] {
            if *byte == b'\r' || *byte == b'\n' {
                if let Some(percent) = parse_progress(&pending) {
                    on_progress(percent);
                }
                pending.clear();
            } else if pending.len() < 64 {
                pending.push(*byte);
            }
        }
    }
    let status = child.wait()?;
    let error_text = errors.join().unwrap_or_default();
    if !status.success() {
        let _ = std::fs::remove_file(target);
        return Err(ConvertError::Qemu(if error_text.trim().is_empty() {
            format!("qemu-img stopped with {status}")
        } else {
            error_text.trim().to_string()
        }));
    }
    let source_size = inspect_file(source, Some(source_format), &Limits { max_virtual_size: u64::MAX })?.virtual_size;
    let output = inspect_file(target, Some(target_format.image_format()), &Limits { max_virtual_size: u64::MAX })
        .map_err(|refusal| ConvertError::BadOutput(refusal.to_string()))?;
    if output.virtual_size != source_size {
        let _ = std::fs::remove_file(target);
        return Err(ConvertError::BadOutput(format!("virtual size {} instead of {source_size}", output.virtual_size)));
    }
    on_progress(100.0);
    Ok(output)
}

fn parse_progress(line: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(line).ok()?.trim();
    let inner = text.strip_prefix('(')?.strip_suffix("/100%)")?;
    inner.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_qemu_progress_lines() {
        assert_eq!(parse_progress(b"    (42.17/100%)"), Some(42.17));
        assert_eq!(parse_progress(b"    (100.00/100%)"), Some(100.0));
        assert_eq!(parse_progress(b"garbage"), None);
    }

    #[test]
    fn target_formats_parse() {
        assert_eq!(TargetFormat::parse("VHD"), Some(TargetFormat::Vhd));
        assert_eq!(TargetFormat::parse("zvhd"), None);
        assert_eq!(TargetFormat::Vmdk.image_format(), ImageFormat::Vmdk);
    }
}
