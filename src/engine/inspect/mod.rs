//! Disk image inspection. Detects the format of a file by reading only the header regions it
//! needs, reports its virtual size and facts, and refuses — with a specific reason — anything
//! that is not a self-contained, consistent image of the declared format.
//!
//! Every field is hostile: reads are bounded (never past the file, never more than
//! `MAX_READ` bytes at once), arithmetic is checked, and nothing panics.

mod qcow;
mod simple;
mod vhd;
mod vmdk;

use std::fmt;

/// The largest single read any parser makes; tables larger than this are refused.
pub const MAX_READ: usize = 8 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Raw,
    Qcow2,
    Qcow,
    Vmdk,
    Vhd,
    Vhdx,
    Vdi,
    Qed,
    Iso,
    Luks,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 10] = [
        ImageFormat::Raw,
        ImageFormat::Qcow2,
        ImageFormat::Qcow,
        ImageFormat::Vmdk,
        ImageFormat::Vhd,
        ImageFormat::Vhdx,
        ImageFormat::Vdi,
        ImageFormat::Qed,
        ImageFormat::Iso,
        ImageFormat::Luks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Raw => "raw",
            ImageFormat::Qcow2 => "qcow2",
            ImageFormat::Qcow => "qcow",
            ImageFormat::Vmdk => "vmdk",
            ImageFormat::Vhd => "vhd",
            ImageFormat::Vhdx => "vhdx",
            ImageFormat::Vdi => "vdi",
            ImageFormat::Qed => "qed",
            ImageFormat::Iso => "iso",
            ImageFormat::Luks => "luks",
        }
    }

    /// Parses a format name; `vpc` (qemu's name for VHD) is accepted too.
    pub fn parse(name: &str) -> Option<ImageFormat> {
        let name = name.trim().to_ascii_lowercase();
        if name == "vpc" {
            return Some(ImageFormat::Vhd);
        }
        ImageFormat::ALL.into_iter().find(|format| format.name() == name)
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    pub name: &'static str,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub format: ImageFormat,
    pub virtual_size: u64,
    pub file_size: u64,
    pub facts: Vec<Fact>,
}

impl Report {
    pub fn fact(&self, name: &str) -> Option<&str> {
        self.facts.iter().find(|fact| fact.name == name).map(|fact| fact.value.as_str())
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_virtual_size: u64,
}

impl Default for Limits {
    /// 1 TiB, the largest system disk IMS accepts.
    fn default() -> Self {
        Limits { max_virtual_size: 1 << 40 }
    }
}

/// Why a file is refused. The text is meant for the user who uploaded it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file was declared as {declared} but it is {detected}")]
    FormatMismatch { declared: ImageFormat, detected: ImageFormat },
    #[error("the file is a valid header of several formats at once ({0}); such polyglot files are refused")]
    Polyglot(String),
    #[error("{format} images are not accepted: {reason}")]
    NotAccepted { format: ImageFormat, reason: String },
    #[error("the {format} image depends on another file ({what}); only self-contained images are accepted")]
    External { format: ImageFormat, what: String },
    #[error("the {format} image is encrypted ({what}) and no key was given")]
    Encrypted { format: ImageFormat, what: String },
    #[error("the virtual size {size} bytes exceeds the maximum of {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("the {format} image is truncated: {what} lies beyond the end of the {file_size}-byte file")]
    Truncated { format: ImageFormat, what: String, file_size: u64 },
    #[error("the {format} image is inconsistent: {detail}")]
    Inconsistent { format: ImageFormat, detail: String },
    #[error("the file could not be read: {0}")]
    Io(String),
}

/// Random-access reading of the file being inspected.
pub trait ReadAt {
    /// Fills `buffer` from `offset`; the caller never asks past the end of the file.
    fn read_exact_at(&mut self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()>;
}

impl ReadAt for &[u8] {
    fn read_exact_at(&mut self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| std::io::ErrorKind::UnexpectedEof)?;
        let end = start.checked_add(buffer.len()).ok_or(std::io::ErrorKind::UnexpectedEof)?;
        let source = self.get(start..end).ok_or(std::io::ErrorKind::UnexpectedEof)?;
        buffer.copy_from_slice(source);
        Ok(())
    }
}

#[cfg(unix)]
impl ReadAt for std::fs::File {
    fn read_exact_at(&mut self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buffer, offset)
    }
}

/// Bounded reads of one file on behalf of one format's parser.
pub(crate) struct Source<'a> {
    reader: &'a mut dyn ReadAt,
    pub size: u64,
}

impl Source<'_> {
    /// Exactly `length` bytes at `offset`, or a refusal naming `what` was out of bounds.
    pub fn bytes(&mut self, format: ImageFormat, what: &str, offset: u64, length: u64) -> Result<Vec<u8>, Refusal> {
        if length > MAX_READ as u64 {
            return Err(Refusal::Inconsistent {
                format,
                detail: format!("{what} is {length} bytes, more than the {MAX_READ} bytes allowed"),
            });
        }
        let end = offset.checked_add(length).filter(|end| *end <= self.size).ok_or_else(|| Refusal::Truncated {
            format,
            what: format!("{what} (bytes {offset}..{})", offset.saturating_add(length)),
            file_size: self.size,
        })?;
        let mut buffer = vec![0; (end - offset) as usize];
        self.reader.read_exact_at(offset, &mut buffer).map_err(|error| Refusal::Io(error.to_string()))?;
        Ok(buffer)
    }

    /// Up to `length` bytes at `offset`, fewer where the file ends (for signature probes).
    pub fn prefix(&mut self, offset: u64, length: u64) -> Result<Vec<u8>, Refusal> {
        if offset >= self.size {
            return Ok(Vec::new());
        }
        let length = length.min(self.size - offset).min(MAX_READ as u64);
        let mut buffer = vec![0; length as usize];
        self.reader.read_exact_at(offset, &mut buffer).map_err(|error| Refusal::Io(error.to_string()))?;
        Ok(buffer)
    }
}

/// Fixed-offset field readers over a header buffer; out-of-range reads give 0 (callers read
/// only inside buffers they sized themselves).
pub(crate) mod field {
    pub fn bytes<const N: usize>(buffer: &[u8], offset: usize) -> [u8; N] {
        let mut out = [0; N];
        if let Some(slice) = buffer.get(offset..offset.saturating_add(N)) {
            out.copy_from_slice(slice);
        }
        out
    }
    pub fn be_u32(buffer: &[u8], offset: usize) -> u32 {
        u32::from_be_bytes(bytes(buffer, offset))
    }
    pub fn be_u64(buffer: &[u8], offset: usize) -> u64 {
        u64::from_be_bytes(bytes(buffer, offset))
    }
    pub fn le_u16(buffer: &[u8], offset: usize) -> u16 {
        u16::from_le_bytes(bytes(buffer, offset))
    }
    pub fn le_u32(buffer: &[u8], offset: usize) -> u32 {
        u32::from_le_bytes(bytes(buffer, offset))
    }
    pub fn le_u64(buffer: &[u8], offset: usize) -> u64 {
        u64::from_le_bytes(bytes(buffer, offset))
    }
}

pub(crate) fn fact(name: &'static str, value: impl ToString) -> Fact {
    Fact { name, value: value.to_string() }
}

pub(crate) fn inconsistent(format: ImageFormat, detail: impl Into<String>) -> Refusal {
    Refusal::Inconsistent { format, detail: detail.into() }
}

pub(crate) fn check_virtual_size(format: ImageFormat, size: u64, limits: &Limits) -> Result<(), Refusal> {
    if size == 0 {
        return Err(inconsistent(format, "the virtual size is zero"));
    }
    if size > limits.max_virtual_size {
        return Err(Refusal::TooLarge { size, max: limits.max_virtual_size });
    }
    Ok(())
}

/// The formats whose signature the file carries. Raw has none: it is what is left.
fn detect(source: &mut Source) -> Result<Vec<ImageFormat>, Refusal> {
    let head = source.prefix(0, 512)?;
    let mut found = Vec::new();
    let mut add = |format| {
        if !found.contains(&format) {
            found.push(format);
        }
    };
    if head.starts_with(b"QFI\xfb") {
        add(if field::be_u32(&head, 4) == 1 { ImageFormat::Qcow } else { ImageFormat::Qcow2 });
    }
    if head.starts_with(b"QED\0") {
        add(ImageFormat::Qed);
    }
    if head.starts_with(b"KDMV") || head.starts_with(b"# Disk DescriptorFile") || head.starts_with(b"COWD") {
        add(ImageFormat::Vmdk);
    }
    if head.starts_with(b"vhdxfile") {
        add(ImageFormat::Vhdx);
    }
    if head.len() >= 0x44 && field::le_u32(&head, 0x40) == 0xbeda_107f {
        add(ImageFormat::Vdi);
    }
    if head.starts_with(b"LUKS\xba\xbe") {
        add(ImageFormat::Luks);
    }
    if source.prefix(0x8001, 5)? == b"CD001" {
        add(ImageFormat::Iso);
    }
    let footer_offset = source.size.saturating_sub(512);
    if head.starts_with(b"conectix") || (source.size >= 512 && source.prefix(footer_offset, 8)? == b"conectix") {
        add(ImageFormat::Vhd);
    }
    Ok(found)
}

/// Inspects the image behind `reader` (`file_size` bytes). With `declared`, the detected
/// format must be that one.
pub fn inspect(
    reader: &mut dyn ReadAt,
    file_size: u64,
    declared: Option<ImageFormat>,
    limits: &Limits,
) -> Result<Report, Refusal> {
    if file_size == 0 {
        return Err(Refusal::Empty);
    }
    let mut source = Source { reader, size: file_size };
    let found = detect(&mut source)?;
    let format = match found.as_slice() {
        [] => ImageFormat::Raw,
        [one] => *one,
        many => {
            let names: Vec<&str> = many.iter().map(|format| format.name()).collect();
            return Err(Refusal::Polyglot(names.join(" and ")));
        }
    };
    if let Some(declared) = declared {
        if declared != format {
            return Err(Refusal::FormatMismatch { declared, detected: format });
        }
    }
    let (virtual_size, facts) = match format {
        ImageFormat::Raw => simple::raw(&mut source, limits)?,
        ImageFormat::Qcow2 => qcow::qcow2(&mut source, limits)?,
        ImageFormat::Qcow => qcow::qcow1(&mut source, limits)?,
        ImageFormat::Qed => {
            return Err(Refusal::NotAccepted {
                format,
                reason: "QED is deprecated and not supported; convert the image to qcow2".into(),
            })
        }
        ImageFormat::Vmdk => vmdk::vmdk(&mut source, limits)?,
        ImageFormat::Vhd => vhd::vhd(&mut source, limits)?,
        ImageFormat::Vhdx => vhd::vhdx(&mut source, limits)?,
        ImageFormat::Vdi => simple::vdi(&mut source, limits)?,
        ImageFormat::Iso => simple::iso(&mut source, limits)?,
        ImageFormat::Luks => {
            return Err(Refusal::Encrypted { format, what: "LUKS".into() });
        }
    };
    check_virtual_size(format, virtual_size, limits)?;
    Ok(Report { format, virtual_size, file_size, facts })
}

/// Inspects a file on disk.
#[cfg(unix)]
pub fn inspect_file(path: &std::path::Path, declared: Option<ImageFormat>, limits: &Limits) -> Result<Report, Refusal> {
    let mut file = std::fs::File::open(path).map_err(|error| Refusal::Io(error.to_string()))?;
    let size = file.metadata().map_err(|error| Refusal::Io(error.to_string()))?.len();
    inspect(&mut file, size, declared, limits)
}

#[cfg(test)]
mod tests;
