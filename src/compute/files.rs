//! The files behind EVS disks: building one (blank or from an image) and reading or writing
//! bytes of one. qemu-img works on local files, so with an S3 store a disk is fetched into
//! the work folder first and written back after.

use super::jobs::DiskFill;
use super::model::{DiskBytes, DiskStatus};
use super::store::{self, find_disk, find_server, DiskRow};
use crate::auth::throttle;
use crate::caller::Caller;
use crate::engine::convert::{ConvertError, ProcessLimits};
use crate::engine::disk;
use crate::engine::filesystem;
use crate::engine::inspect::ImageFormat;
use crate::error::AppError;
use crate::jobs::model::job_type_label;
use crate::jobs::queue::pending_on;
use crate::jobs::runner::JobFailure;
use crate::state::AppState;
use crate::storage::Storage;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const GIB: u64 = 1 << 30;

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ConvertError> + Send + 'static,
) -> Result<T, ConvertError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ConvertError::Io(std::io::Error::other(error.to_string())))?
}

/// Writes the disk `fill` describes to its object: the source image grown to the disk's size,
/// or a blank disk.
pub async fn build_disk(
    storage: &Storage,
    limits: ProcessLimits,
    scratch: &Path,
    fill: &DiskFill,
    cancel: Arc<AtomicBool>,
) -> Result<(), JobFailure> {
    tokio::fs::create_dir_all(scratch).await.map_err(|e| JobFailure::internal("work folder", e))?;
    // With a folder store qemu-img writes the disk in place (the disk is still Creating, so
    // nothing reads it yet); with S3 it is made in the work folder and uploaded.
    let in_place = storage.local_path(&fill.object_key);
    let target = in_place.clone().unwrap_or_else(|| scratch.join(format!("{}.qcow2", fill.disk_id)));
    if let Some(folder) = target.parent() {
        tokio::fs::create_dir_all(folder).await.map_err(|e| JobFailure::internal("disk folder", e))?;
    }
    let _ = tokio::fs::remove_file(&target).await;
    let size = fill.size_gb as u64 * GIB;
    if fill.source_key.is_empty() {
        let path = target.clone();
        blocking(move || disk::create_blank(&path, size)).await.map_err(|e| JobFailure::internal("blank disk", e))?;
    } else {
        let format = ImageFormat::parse(&fill.source_format).ok_or_else(|| {
            JobFailure::new("ECS.0201", format!("Images in {} format cannot fill a disk.", fill.source_format))
        })?;
        let source = storage
            .local_file(&fill.source_key, &scratch.join(format!("{}.source", fill.disk_id)))
            .await
            .map_err(|error| {
                tracing::warn!(%error, disk = %fill.disk_id, "reading an image file for a disk");
                JobFailure::new("ECS.0202", "The image file could not be read.")
            })?;
        let path = target.clone();
        let made = blocking(move || disk::create_from_image(&source, format, &path, size, limits, &cancel)).await;
        match made {
            Ok(_) => {}
            Err(ConvertError::Cancelled) => return Err(JobFailure::cancelled()),
            Err(error) => {
                return Err(JobFailure::new("ECS.0203", format!("The disk could not be made from the image: {error}.")))
            }
        }
    }
    if in_place.is_none() {
        storage.upload_file(&target, &fill.object_key).await.map_err(|e| JobFailure::internal("disk upload", e))?;
        let _ = tokio::fs::remove_file(&target).await;
    }
    Ok(())
}

/// A new blank disk object of `size_gb`.
pub async fn store_blank_disk(state: &AppState, key: &str, size_gb: i64) -> Result<(), AppError> {
    let scratch = state.work_dir().join(format!("blank-{}", crate::db::new_hex_id()));
    let fill = DiskFill::blank("blank".into(), key.to_string(), size_gb);
    let result =
        build_disk(&state.storage, ProcessLimits::default(), &scratch, &fill, Arc::new(AtomicBool::new(false))).await;
    let _ = tokio::fs::remove_dir_all(&scratch).await;
    result.map_err(|failure| AppError::internal("blank disk", failure.reason))
}

/// The disk, once checked that nothing else is working on it or its server.
async fn quiet_disk(state: &AppState, caller: &Caller, disk_id: &str) -> Result<DiskRow, AppError> {
    let disk = find_disk(&state.db, caller, disk_id).await?;
    if !matches!(disk.status, DiskStatus::Available | DiskStatus::InUse) {
        return Err(AppError::Conflict(format!(
            "Disk '{}' is {}; its content can be reached once it is Available or In-use.",
            disk.name,
            disk.status.label()
        )));
    }
    for resource in [disk.id.as_str(), disk.server_id.as_str()] {
        if resource.is_empty() {
            continue;
        }
        if let Some(job_type) = pending_on(&state.db, resource).await?.first() {
            return Err(AppError::Conflict(format!(
                "Disk '{}' is in use by work in progress ({}); try again when it finishes.",
                disk.name,
                job_type_label(job_type).to_lowercase()
            )));
        }
    }
    if !disk.server_id.is_empty() {
        let server = find_server(&state.db, caller, &disk.server_id).await?;
        if !server.status.is_settled() {
            return Err(AppError::Conflict(format!(
                "ECS '{}' is {}; try again later.",
                server.name,
                server.status.label()
            )));
        }
    }
    Ok(disk)
}

fn check_range(disk: &DiskRow, offset: u64, length: u64) -> Result<(), AppError> {
    let size = disk.size_gb as u64 * GIB;
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(AppError::field(
            "offset",
            format!(
                "Disk '{}' has {size} bytes; bytes {offset}..{} lie past its end.",
                disk.name,
                offset.saturating_add(length)
            ),
        ));
    }
    Ok(())
}

/// How long a console read or write may hold a disk. The claim is a lease in the database, so
/// every server instance sees it and a crashed instance's claim runs out.
const IO_LEASE_MS: i64 = 30 * 60 * 1000;

/// Console reads and writes of disks one user may make: 120 a minute, then a minute's pause.
const DISK_IO_RATE: throttle::ThrottleRule =
    throttle::ThrottleRule { max_attempts: 120, window_ms: 60_000, lock_ms: 60_000, max_lock_ms: 60_000 };

/// Claims the disk for one read or write: two at once would race on its file (with S3 each
/// downloads, changes and uploads it), and captures, OS changes and deletes wait for it.
/// Returns the claim's token, which alone releases it.
async fn claim(state: &AppState, caller: &Caller, disk: &DiskRow) -> Result<String, AppError> {
    let key = format!("diskio:{}", caller.user_id);
    if let throttle::Admission::LockedFor(wait_ms) = throttle::admit(&state.db, &key, DISK_IO_RATE).await? {
        return Err(AppError::TooMany(format!(
            "Too many disk reads and writes in a short time; try again in {} seconds.",
            (wait_ms + 999) / 1000
        )));
    }
    let token = crate::db::new_hex_id();
    if !store::claim_disk_io(&state.db, &disk.id, crate::db::now_ms() + IO_LEASE_MS, &token).await? {
        return Err(AppError::Conflict(format!(
            "Disk '{}' is busy with another read or write; try again in a moment.",
            disk.name
        )));
    }
    Ok(token)
}

async fn release(state: &AppState, disk: &DiskRow, token: &str) {
    if let Err(error) = store::release_disk_io(&state.db, &disk.id, token).await {
        tracing::warn!(%error, disk = %disk.id, "releasing a disk claim (it runs out by itself)");
    }
}

/// Runs `work` on the disk's file: in place with a folder store, else on a copy fetched into
/// the work folder (and stored back when `writes`).
async fn with_disk_file<T: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    disk: &DiskRow,
    writes: bool,
    work: impl FnOnce(&Path) -> Result<T, ConvertError> + Send + 'static,
) -> Result<T, AppError> {
    let token = claim(state, caller, disk).await?;
    // On a task of its own, so the claim is released even if the caller goes away meanwhile.
    let (state, disk) = (state.clone(), disk.clone());
    let task = tokio::spawn(async move {
        let scratch = state.work_dir().join(format!("disk-{}", crate::db::new_hex_id()));
        let result = async {
            let path = state
                .storage
                .local_file(&disk.object_key, &scratch.join("disk.qcow2"))
                .await
                .map_err(|e| AppError::internal("disk fetch", e))?;
            let worked = path.clone();
            let value = blocking(move || work(&worked)).await.map_err(|error| match error {
                // What the user asked for does not fit the disk (no filesystem, no such file, ...).
                ConvertError::BadOutput(message) => AppError::field("path", message),
                other => AppError::internal("disk access", other),
            })?;
            if writes && path.starts_with(&scratch) {
                state
                    .storage
                    .upload_file(&path, &disk.object_key)
                    .await
                    .map_err(|e| AppError::internal("disk upload", e))?;
            }
            Ok(value)
        }
        .await;
        let _ = tokio::fs::remove_dir_all(&scratch).await;
        release(&state, &disk, &token).await;
        result
    });
    task.await.map_err(|error| AppError::internal("disk access", error))?
}

pub async fn write_disk(
    state: &AppState,
    caller: &Caller,
    disk_id: &str,
    offset: u64,
    bytes: &[u8],
) -> Result<(), AppError> {
    let disk = quiet_disk(state, caller, disk_id).await?;
    check_range(&disk, offset, bytes.len() as u64)?;
    let written = bytes.to_vec();
    with_disk_file(state, caller, &disk, true, move |path| disk::write_bytes(path, offset, &written)).await?;
    tracing::info!(disk = disk_id, offset, length = bytes.len(), user = %caller.user_name, "disk bytes written");
    Ok(())
}

pub async fn read_disk(
    state: &AppState,
    caller: &Caller,
    disk_id: &str,
    offset: u64,
    length: u64,
) -> Result<DiskBytes, AppError> {
    let disk = quiet_disk(state, caller, disk_id).await?;
    check_range(&disk, offset, length)?;
    let bytes = with_disk_file(state, caller, &disk, false, move |path| {
        disk::read_bytes(path, ImageFormat::Qcow2, offset, length)
    })
    .await?;
    Ok(DiskBytes {
        offset: offset as i64,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        hex: crate::format::hex(&bytes),
    })
}

/// Writes a file into the ext filesystem of the disk (its first partition, or the whole disk).
pub async fn write_disk_file(
    state: &AppState,
    caller: &Caller,
    disk_id: &str,
    path: &str,
    contents: &[u8],
) -> Result<(), AppError> {
    let disk = quiet_disk(state, caller, disk_id).await?;
    let (file, contents) = (path.to_string(), contents.to_vec());
    with_disk_file(state, caller, &disk, true, move |disk_path| filesystem::write_file(disk_path, &file, &contents))
        .await?;
    tracing::info!(disk = disk_id, path, user = %caller.user_name, "file written into a disk");
    Ok(())
}

pub async fn read_disk_file(state: &AppState, caller: &Caller, disk_id: &str, path: &str) -> Result<String, AppError> {
    let disk = quiet_disk(state, caller, disk_id).await?;
    let file = path.to_string();
    let bytes =
        with_disk_file(state, caller, &disk, false, move |disk_path| filesystem::read_file(disk_path, &file)).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
