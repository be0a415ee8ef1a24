//! Conversion with `qemu-img` (Debian qemu-utils), run through `Tool` (sandboxed, bounded).
//! The source format is always named (never probed) with backing files switched off,
//! `qemu-img info` is cross-checked against our own inspection, and the output is inspected
//! again.

use super::inspect::{inspect_file, ImageFormat, Limits, Report};
pub use super::tool::ProcessLimits;
use super::tool::{absolute, Tool, ToolError};
use std::path::Path;
use std::sync::atomic::AtomicBool;

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

    pub(super) fn qemu_args(self) -> &'static [&'static str] {
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

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the source image is refused: {0}")]
    Refused(#[from] super::inspect::Refusal),
    #[error("qemu-img does not agree with the inspection: {0}")]
    Disagreement(String),
    #[error("{0}")]
    Tool(#[from] ToolError),
    #[error("the conversion was cancelled")]
    Cancelled,
    #[error("the converted image is wrong: {0}")]
    BadOutput(String),
    #[error("a file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
}

impl ConvertError {
    /// A tool stopped by its `cancel` flag reads as a cancelled conversion.
    pub(super) fn from_tool(error: ToolError) -> ConvertError {
        match error {
            ToolError::Cancelled => ConvertError::Cancelled,
            other => ConvertError::Tool(other),
        }
    }
}

/// The source as qemu opens it: the format named (never probed) and backing files switched off,
/// so even a file the inspector let through cannot make qemu read another one. (VMDK extents
/// have no such switch; the sandbox hides every other file, and the inspector refuses them.)
pub fn source_spec(path: &Path, format: ImageFormat) -> String {
    let path = absolute(path);
    let spec = serde_json::json!({
        "driver": qemu_format(format),
        "backing": null,
        "file": { "driver": "file", "filename": path.to_string_lossy() },
    })
    .to_string();
    format!("json:{spec}")
}

/// What `qemu-img info --output=json` says of a file read as `format`.
#[derive(Debug, PartialEq, Eq)]
pub struct QemuInfo {
    pub format: String,
    pub virtual_size: u64,
    pub backing_file: Option<String>,
}

pub fn qemu_info(path: &Path, format: ImageFormat, limits: ProcessLimits) -> Result<QemuInfo, ConvertError> {
    let output = Tool::new("qemu-img", limits)
        .args(["info", "--output=json"])
        .folder_of(path)
        .arg(source_spec(path, format))
        .run()?;
    let info: serde_json::Value = serde_json::from_slice(&output)
        .map_err(|error| ConvertError::Disagreement(format!("qemu-img info is unreadable ({error})")))?;
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
    if info.backing_file.is_some() {
        return Err(ConvertError::Disagreement("qemu-img sees a backing file".into()));
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
    let target = absolute(target);
    let ran = Tool::new("qemu-img", limits)
        .args(["convert", "-p"])
        .folder_of(source)
        .arg(source_spec(source, source_format))
        .args(target_format.qemu_args())
        .file(&target)
        .run_with(cancel, |line| {
            if let Some(percent) = parse_progress(line) {
                on_progress(percent);
            }
        });
    if let Err(error) = ran {
        let _ = std::fs::remove_file(&target);
        return Err(ConvertError::from_tool(error));
    }
    let source_size = match inspect_file(source, Some(source_format), &Limits { max_virtual_size: u64::MAX }) {
        Ok(report) => report.virtual_size,
        Err(refusal) => {
            let _ = std::fs::remove_file(&target);
            return Err(refusal.into());
        }
    };
    let output = inspect_file(&target, Some(target_format.image_format()), &Limits { max_virtual_size: u64::MAX })
        .map_err(|refusal| ConvertError::BadOutput(refusal.to_string()))?;
    if output.virtual_size != source_size {
        let _ = std::fs::remove_file(&target);
        return Err(ConvertError::BadOutput(format!("virtual size {} instead of {source_size}", output.virtual_size)));
    }
    on_progress(100.0);
    Ok(output)
}

pub(super) fn parse_progress(line: &[u8]) -> Option<f64> {
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
