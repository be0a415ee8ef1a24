//! Encrypted disk files: qcow2 with LUKS encryption, which qemu-img writes and reads through a
//! secret object. Each encrypted file has a 32-byte data key of its own; qemu-img gets it as a
//! passphrase in a 0600 file in the work folder (never on a command line), removed after use.
//! The inspector refuses encrypted files from tenants, so these files are checked with
//! `qemu-img info` and the key instead.

use super::convert::{parse_progress, source_spec, ConvertError, ProcessLimits, TargetFormat};
use super::inspect::{inspect_file, ImageFormat, Limits, Report};
use super::tool::{absolute, Tool};
use rand::RngCore;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// The key of one encrypted file. Its bytes are never printed.
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn generate() -> DataKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        DataKey(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<DataKey> {
        Some(DataKey(bytes.try_into().ok()?))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("DataKey(..)")
    }
}

/// The key as qemu's passphrase, in a 0600 file of `folder`; the file goes when this does.
struct SecretFile(PathBuf);

impl SecretFile {
    fn write(folder: &Path, key: &DataKey) -> std::io::Result<SecretFile> {
        let path = absolute(&folder.join(format!("secret-{:016x}", rand::rngs::OsRng.next_u64())));
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        file.write_all(crate::format::hex(key.as_bytes()).as_bytes())?;
        Ok(SecretFile(path))
    }

    fn object(&self) -> String {
        format!("secret,id=sec0,file={}", self.0.display())
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An encrypted qcow2 file as qemu opens it: with the key's secret, and no backing file.
fn encrypted_spec(path: &Path) -> String {
    let spec = serde_json::json!({
        "driver": "qcow2",
        "encrypt": { "key-secret": "sec0" },
        "backing": null,
        "file": { "driver": "file", "filename": absolute(path).to_string_lossy() },
    });
    format!("json:{spec}")
}

/// What `qemu-img info` says of an encrypted file opened with `key`: its virtual size. Fails
/// when the key does not open it, or it is not an encrypted qcow2 file of its own.
pub fn encrypted_virtual_size(
    path: &Path,
    key: &DataKey,
    scratch: &Path,
    limits: ProcessLimits,
) -> Result<u64, ConvertError> {
    let secret = SecretFile::write(scratch, key)?;
    let output = Tool::new("qemu-img", limits)
        .args(["info", "--output=json", "--object"])
        .arg(secret.object())
        .folder_of(&secret.0)
        .folder_of(path)
        .arg(encrypted_spec(path))
        .run()?;
    let info: serde_json::Value = serde_json::from_slice(&output)
        .map_err(|error| ConvertError::BadOutput(format!("qemu-img info is unreadable ({error})")))?;
    if info["format"] != "qcow2" || info["encrypted"] != true || info.get("backing-filename").is_some() {
        return Err(ConvertError::BadOutput("the file is not an encrypted qcow2 image of its own".into()));
    }
    // `qemu-img info` opens the file without unlocking it; a read does unlock it, or fails.
    Tool::new("qemu-io", limits)
        .args(["-r", "-c", "read 0 512", "--object"])
        .arg(secret.object())
        .folder_of(&secret.0)
        .folder_of(path)
        .arg(encrypted_spec(path))
        .run()
        .map_err(|_| ConvertError::BadOutput("the key does not open the encrypted file".into()))?;
    info["virtual-size"].as_u64().ok_or_else(|| ConvertError::BadOutput("qemu-img gives no virtual size".into()))
}

/// Runs `qemu-img convert` from `input` (a file and the spec qemu opens it by) into `target`
/// with `output_args`, the key's secret object given; `target` is removed when it fails.
#[allow(clippy::too_many_arguments)]
fn convert_with_key(
    (source, spec): (&Path, String),
    output_args: &[&str],
    target: &Path,
    key: &DataKey,
    scratch: &Path,
    limits: ProcessLimits,
    on_progress: &mut impl FnMut(f64),
    cancel: &AtomicBool,
) -> Result<(), ConvertError> {
    let secret = SecretFile::write(scratch, key)?;
    let ran = Tool::new("qemu-img", limits)
        .args(["convert", "-p", "--object"])
        .arg(secret.object())
        .folder_of(&secret.0)
        .folder_of(source)
        .arg(spec)
        .args(output_args)
        .file(target)
        .run_with(cancel, |line| {
            if let Some(percent) = parse_progress(line) {
                on_progress(percent);
            }
        });
    if let Err(error) = ran {
        let _ = std::fs::remove_file(target);
        return Err(ConvertError::from_tool(error));
    }
    Ok(())
}

/// Converts `source` (already inspected as `source_format`) into an encrypted qcow2 `target`
/// under `key`, and checks that the key opens it with the source's virtual size.
#[allow(clippy::too_many_arguments)]
pub fn encrypt(
    source: &Path,
    source_format: ImageFormat,
    target: &Path,
    key: &DataKey,
    scratch: &Path,
    limits: ProcessLimits,
    mut on_progress: impl FnMut(f64),
    cancel: &AtomicBool,
) -> Result<u64, ConvertError> {
    let source_size = inspect_file(source, Some(source_format), &Limits { max_virtual_size: u64::MAX })?.virtual_size;
    let output_args = ["-O", "qcow2", "-o", "compat=1.1,encrypt.format=luks,encrypt.key-secret=sec0"];
    let input = (source, source_spec(source, source_format));
    convert_with_key(input, &output_args, target, key, scratch, limits, &mut on_progress, cancel)?;
    let written = encrypted_virtual_size(target, key, scratch, limits)?;
    if written != source_size {
        let _ = std::fs::remove_file(target);
        return Err(ConvertError::BadOutput(format!("virtual size {written} instead of {source_size}")));
    }
    on_progress(100.0);
    Ok(written)
}

/// Converts the encrypted `source` into a plain `target` of `target_format`, and inspects it.
#[allow(clippy::too_many_arguments)]
pub fn decrypt(
    source: &Path,
    key: &DataKey,
    target: &Path,
    target_format: TargetFormat,
    scratch: &Path,
    limits: ProcessLimits,
    mut on_progress: impl FnMut(f64),
    cancel: &AtomicBool,
) -> Result<Report, ConvertError> {
    let source_size = encrypted_virtual_size(source, key, scratch, limits)?;
    let input = (source, encrypted_spec(source));
    convert_with_key(input, target_format.qemu_args(), target, key, scratch, limits, &mut on_progress, cancel)?;
    let output = inspect_file(target, Some(target_format.image_format()), &Limits { max_virtual_size: u64::MAX })
        .map_err(|refusal| ConvertError::BadOutput(refusal.to_string()))?;
    if output.virtual_size != source_size {
        let _ = std::fs::remove_file(target);
        return Err(ConvertError::BadOutput(format!("virtual size {} instead of {source_size}", output.virtual_size)));
    }
    on_progress(100.0);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: &[u8] = b"MARKER-7f3e-encrypted-at-rest";

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|window| window == needle)
    }

    #[test]
    fn an_encrypted_file_hides_its_bytes_and_gives_them_back_with_its_key_only() {
        let folder = std::env::temp_dir().join(format!("ims-encrypted-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let plain = folder.join("plain.raw");
        let mut disk = vec![0u8; 4 << 20];
        disk[(1 << 20)..(1 << 20) + MARKER.len()].copy_from_slice(MARKER);
        std::fs::write(&plain, &disk).unwrap();
        let (key, limits, cancel) = (DataKey::generate(), ProcessLimits::default(), AtomicBool::new(false));

        let encrypted = folder.join("disk.qcow2");
        let size = encrypt(&plain, ImageFormat::Raw, &encrypted, &key, &folder, limits, |_| {}, &cancel).unwrap();
        assert_eq!(size, 4 << 20);
        let stored = std::fs::read(&encrypted).unwrap();
        assert!(!contains(&stored, MARKER), "the marker is not in the encrypted file");
        assert!(inspect_file(&encrypted, Some(ImageFormat::Qcow2), &Limits { max_virtual_size: u64::MAX }).is_err());

        let back = folder.join("back.raw");
        decrypt(&encrypted, &key, &back, TargetFormat::Raw, &folder, limits, |_| {}, &cancel).unwrap();
        assert!(std::fs::read(&back).unwrap() == disk, "the key gives the same bytes back");

        let wrong = DataKey::generate();
        assert!(encrypted_virtual_size(&encrypted, &wrong, &folder, limits).is_err());
        assert!(decrypt(
            &encrypted,
            &wrong,
            &folder.join("no.raw"),
            TargetFormat::Raw,
            &folder,
            limits,
            |_| {},
            &cancel
        )
        .is_err());
        let left: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into())
            .collect();
        assert!(left.iter().all(|name| !name.starts_with("secret")), "no passphrase file stays: {left:?}");
        assert_eq!(format!("{key:?}"), "DataKey(..)");
        std::fs::remove_dir_all(folder).unwrap();
    }
}
