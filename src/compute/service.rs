//! What a caller can do with servers and disks: list them, create servers from images, start,
//! stop, change the OS, delete, attach and detach disks, create and delete disks, create
//! images from servers, and read and write disk content. Each checks the IMS rules, then
//! changes rows with conditional statements and queues the job that does the work, in one
//! transaction.

use super::files;
use super::flavors::find_flavor;
use super::jobs::{
    self as job_types, CaptureParams, ChangeOsParams, CreateDiskParams, CreateServerParams, DiskFill, ServerParams,
};
use super::model::{DiskBytes, DiskStatus, DiskView, ImageChoice, ServerDetail, ServerStatus, ServerView};
use super::requests::{
    check_file_path, CaptureRequest, CreateDiskRequest, CreateServersRequest, ReadDiskRequest, WriteDiskRequest,
    WriteFileRequest,
};
use super::rules::{self, ImageUse, ServerFacts};
use super::store::{
    self, find_disk, find_server, server_disks, source_image, DiskRow, NewDisk, NewServer, ServerRow, SourceImage,
};
use crate::caller::Caller;
use crate::error::AppError;
use crate::images::families::FAMILY_CHOICE_PREFIX;
use crate::images::service::CreatedImage;
use crate::images::store::{self as image_store, NewImage};
use crate::jobs::model::{job_type_label, JobEntities};
use crate::jobs::queue::{enqueue, pending_on, NewJob};
use crate::market::service::image_charge;
use crate::quotas::model::QuotaKind;
use crate::quotas::service::require_room;
use crate::regions::region_name;
use crate::state::AppState;
use sqlx::{Any, Transaction};

fn conflict(message: String) -> AppError {
    AppError::Conflict(message)
}

// ---- Reads -------------------------------------------------------------------------------

/// The caller's ECSs in its region, newest first; `name` (contains) and `status` narrow them.
pub async fn list_servers(
    state: &AppState,
    caller: &Caller,
    name: &str,
    status: &str,
) -> Result<Vec<ServerView>, AppError> {
    let status = match status {
        "" => None,
        text => Some(
            ServerStatus::parse(text).ok_or_else(|| AppError::Invalid(format!("'{text}' is not an ECS status.")))?,
        ),
    };
    store::list_servers(&state.db, caller, name.trim(), status).await
}

pub async fn get_server(state: &AppState, caller: &Caller, id: &str) -> Result<ServerDetail, AppError> {
    store::server_detail(&state.db, caller, id).await
}

pub async fn list_disks(state: &AppState, caller: &Caller) -> Result<Vec<DiskView>, AppError> {
    store::list_disks(&state.db, caller).await
}

/// Images of the caller's region that can make servers (`for_disks` false) or EVS disks.
pub async fn image_choices(state: &AppState, caller: &Caller, for_disks: bool) -> Result<Vec<ImageChoice>, AppError> {
    let mut choices = store::image_choices(&state.db, caller, for_disks).await?;
    if !for_disks {
        // "Latest of family X": the choice stands for whichever member is newest when the ECS is made.
        for (family, latest) in crate::images::family_service::latest_members(state, caller).await? {
            if let Some(member) = choices.iter().find(|choice| choice.id == latest).cloned() {
                choices.push(ImageChoice {
                    id: format!("{FAMILY_CHOICE_PREFIX}{family}"),
                    name: format!("Latest of family {family} ({})", member.name),
                    category: "Family".into(),
                    favorite: false,
                    ..member
                });
            }
        }
    }
    Ok(choices)
}

// ---- Guards ------------------------------------------------------------------------------

/// Locks the server's row for the rest of `transaction` (see `store::lock_settled_server`).
async fn lock_server(transaction: &mut Transaction<'_, Any>, server: &ServerRow) -> Result<(), AppError> {
    if !store::lock_settled_server(transaction, &server.id).await? {
        return Err(conflict(format!("ECS '{}' changed state meanwhile; try again.", server.name)));
    }
    Ok(())
}

/// Refuses to touch a server while a job works on it (creating an image from it, say). Call
/// it after the server's row is locked or moved in the same transaction.
async fn require_no_work(transaction: &mut Transaction<'_, Any>, server: &ServerRow) -> Result<(), AppError> {
    match pending_on(&mut **transaction, &server.id).await?.first() {
        Some(job_type) => Err(conflict(format!(
            "ECS '{}' has work in progress ({}); wait until it finishes.",
            server.name,
            job_type_label(job_type).to_lowercase()
        ))),
        None => Ok(()),
    }
}

/// Refuses while one of the disks is being read or written through the console.
fn require_disks_idle(disks: &[DiskRow]) -> Result<(), AppError> {
    match disks.iter().find(|disk| disk.is_busy()) {
        Some(disk) => Err(conflict(format!("Disk '{}' is being read or written; try again in a moment.", disk.name))),
        None => Ok(()),
    }
}

/// What a job on a server shows on the Jobs page.
fn server_entities(server_id: &str, target: String) -> JobEntities {
    JobEntities { server_id: server_id.to_string(), target, ..Default::default() }
}

// ---- Servers -----------------------------------------------------------------------------

fn data_device(index: usize) -> String {
    // /dev/vda is the system disk; data disks take vdb, vdc, ... (at most 23 of them).
    format!("/dev/vd{}", (b'b' + index as u8) as char)
}

/// The image-against-flavor errors of a request whose own fields have errors too, so the form
/// shows every problem at once (none when the image or the flavor cannot be looked up).
async fn image_fit_errors(state: &AppState, caller: &Caller, request: &CreateServersRequest) -> Vec<(String, String)> {
    let Some(flavor) = find_flavor(&caller.region, request.flavor.trim()) else { return Vec::new() };
    let Ok(image) = source_image(&state.db, caller, request.image_id.trim()).await else { return Vec::new() };
    let disk_gb = request.system_disk_gb.trim().parse().unwrap_or_else(|_| image.facts.smallest_disk_gb());
    rules::check_server_image(&image.facts, flavor, disk_gb, ImageUse::NewServer).err().unwrap_or_default()
}

/// Creates one or several ECSs from an image, each with its creation job. Returns their ids.
pub async fn create_servers(
    state: &AppState,
    caller: &Caller,
    request: &CreateServersRequest,
) -> Result<Vec<String>, AppError> {
    let mut request = request.clone();
    request.image_id = crate::images::family_service::resolve_image_choice(state, caller, &request.image_id).await?;
    let request = &request;
    let valid = match request.validate() {
        Ok(valid) => valid,
        Err(mut errors) => {
            for (field, message) in image_fit_errors(state, caller, request).await {
                if !errors.iter().any(|(known, _)| *known == field) {
                    errors.push((field, message));
                }
            }
            return Err(AppError::Fields(errors));
        }
    };
    let flavor = find_flavor(&caller.region, request.flavor.trim()).ok_or_else(|| {
        AppError::field(
            "flavor",
            format!("Flavor '{}' is not offered in region {}.", request.flavor, region_name(&caller.region)),
        )
    })?;
    let image = source_image(&state.db, caller, request.image_id.trim()).await?;
    let system_disk_gb = valid.system_disk_gb.unwrap_or_else(|| image.facts.smallest_disk_gb());
    rules::check_server_image(&image.facts, flavor, system_disk_gb, ImageUse::NewServer).map_err(AppError::Fields)?;
    if image.facts.kind == "iso" && valid.count > 1 {
        return Err(AppError::field(
            "count",
            "An ISO image creates one temporary server at a time, for installing an OS.",
        ));
    }
    // A full-ECS image brings its data disks; requested blank ones come after them.
    let image_disks = image_store::data_disks(&state.db, &image.id).await?;
    if image_disks.len() + valid.data_disk_sizes.len() > rules::MAX_DATA_DISKS {
        return Err(AppError::field(
            "data_disks",
            format!(
                "The image brings {} data disks; a server can have at most {} in all.",
                image_disks.len(),
                rules::MAX_DATA_DISKS
            ),
        ));
    }
    let count = valid.count as i64;
    let disks_each = 1 + (image_disks.len() + valid.data_disk_sizes.len()) as i64;
    require_room(state, caller, QuotaKind::Servers, count).await?;
    require_room(state, caller, QuotaKind::Disks, count * disks_each).await?;
    // (size in GB, source file) of each data disk.
    let data_disks: Vec<(i64, String)> = image_disks
        .into_iter()
        .map(|disk| (disk.size_gb, disk.object_key))
        .chain(valid.data_disk_sizes.iter().map(|size| (*size, String::new())))
        .collect();
    let mut ids = Vec::new();
    let mut transaction = state.db.begin().await?;
    // A paid KooGallery image: the project's subscription (made here if the user accepted
    // the price) fixes each new server's image charge.
    let accepted = !request.accept_price.trim().is_empty();
    image_charge(&mut transaction, caller, &image.id, &image.facts.name, accepted).await?;
    for index in 0..valid.count {
        let name = if valid.count == 1 {
            request.name.trim().to_string()
        } else {
            format!("{}-{:04}", request.name.trim(), index + 1)
        };
        let id =
            insert_server_with_disks(&mut transaction, caller, &name, flavor.id, &image, system_disk_gb, &data_disks)
                .await?;
        ids.push(id);
    }
    image_store::record_usage(&mut transaction, &image.id, valid.count).await?;
    transaction.commit().await?;
    state.wake_jobs();
    tracing::info!(project = %caller.project_id, image = %image.id, count = valid.count, "servers requested");
    Ok(ids)
}

/// One new server: its row, its disks (Creating) and the job that writes them. Returns its id.
async fn insert_server_with_disks(
    transaction: &mut Transaction<'_, Any>,
    caller: &Caller,
    name: &str,
    flavor: &str,
    image: &SourceImage,
    system_disk_gb: i64,
    data_disks: &[(i64, String)],
) -> Result<String, AppError> {
    let id = uuid::Uuid::new_v4().to_string();
    let iso = image.facts.kind == "iso";
    let server = NewServer {
        id: &id,
        name,
        flavor,
        image_id: &image.id,
        image_name: &image.facts.name,
        os_type: &image.os_type,
        platform: &image.platform,
        os_version: &image.os_version,
        architecture: &image.facts.architecture,
        boot_mode: &image.facts.boot_mode,
        temporary: iso,
    };
    store::insert_server(transaction, caller, &server).await?;
    let system_name = format!("{name}-system");
    let system = NewDisk {
        name: &system_name,
        size_gb: system_disk_gb,
        status: DiskStatus::Creating,
        server_id: &id,
        role: "system",
        device: "/dev/vda",
        image_id: &image.id,
    };
    let (disk_id, key) = store::insert_disk(transaction, caller, &system).await?;
    // An ISO image is not copied: the temporary server boots it from a blank system disk.
    let mut fills = vec![if iso {
        DiskFill::blank(disk_id, key, system_disk_gb)
    } else {
        DiskFill::from_image(disk_id, key, system_disk_gb, &image.file_location, &image.disk_format)
    }];
    for (index, (size_gb, source_key)) in data_disks.iter().enumerate() {
        let (disk_name, device) = (format!("{name}-data-{}", index + 1), data_device(index));
        let disk = NewDisk {
            name: &disk_name,
            size_gb: *size_gb,
            status: DiskStatus::Creating,
            server_id: &id,
            role: "data",
            device: &device,
            image_id: "",
        };
        let (disk_id, key) = store::insert_disk(transaction, caller, &disk).await?;
        fills.push(match source_key.as_str() {
            "" => DiskFill::blank(disk_id, key, *size_gb),
            source => DiskFill::from_image(disk_id, key, *size_gb, source, "qcow2"),
        });
    }
    let params = CreateServerParams { server_id: id.clone(), disks: fills };
    let entities = server_entities(&id, format!("ECS {name}"));
    let job = NewJob::new(caller, job_types::CREATE_SERVER_JOB, &params, entities).on_resource(&id);
    enqueue(transaction, job.reading_image(&image.id)).await?;
    Ok(id)
}

/// Moves a server from `from` to the transitional `to` and queues the job that finishes it.
async fn begin_power_change(
    state: &AppState,
    caller: &Caller,
    server: &ServerRow,
    (from, to): (ServerStatus, ServerStatus),
    job_type: &'static str,
) -> Result<(), AppError> {
    let mut transaction = state.db.begin().await?;
    if !store::move_server(&mut *transaction, &server.id, from, to, "").await? {
        let verb = if to == ServerStatus::Starting { "started" } else { "stopped" };
        return Err(conflict(format!(
            "ECS '{}' is {}; only a {} ECS can be {verb}.",
            server.name,
            server.status.label(),
            from.label()
        )));
    }
    let params = ServerParams { server_id: server.id.clone() };
    let entities = server_entities(&server.id, format!("ECS {}", server.name));
    enqueue(&mut transaction, NewJob::new(caller, job_type, &params, entities).on_resource(&server.id)).await?;
    transaction.commit().await?;
    state.wake_jobs();
    Ok(())
}

/// `start`, `stop` or `reinstall` (the OS again from the image the ECS came from).
pub async fn server_action(state: &AppState, caller: &Caller, id: &str, action: &str) -> Result<(), AppError> {
    let server = find_server(&state.db, caller, id).await?;
    match action {
        "start" => {
            let change = (ServerStatus::Stopped, ServerStatus::Starting);
            begin_power_change(state, caller, &server, change, job_types::START_SERVER_JOB).await
        }
        "stop" => {
            let change = (ServerStatus::Running, ServerStatus::Stopping);
            begin_power_change(state, caller, &server, change, job_types::STOP_SERVER_JOB).await
        }
        "reinstall" => {
            if server.image_live == 0 {
                return Err(conflict(format!(
                    "Image '{}' that ECS '{}' was created from has been deleted, so the ECS cannot be reinstalled. \
                     Change its OS with another image instead.",
                    server.image_name, server.name
                )));
            }
            match change_os(state, caller, id, &server.image_id).await {
                // The image lives but the caller may no longer use it.
                Err(AppError::NotFound(_)) => Err(conflict(format!(
                    "Image '{}' that ECS '{}' was created from is no longer available to your project (its owner \
                     stopped sharing it or took it off KooGallery, or you removed it), so the ECS cannot be \
                     reinstalled. Change its OS with another image instead.",
                    server.image_name, server.name
                ))),
                other => other,
            }
        }
        other => Err(AppError::Invalid(format!("'{other}' is not an ECS action; use start, stop or reinstall."))),
    }
}

/// Replaces a stopped ECS's system disk with one made from `image_id`; data disks are kept.
pub async fn change_os(state: &AppState, caller: &Caller, id: &str, image_id: &str) -> Result<(), AppError> {
    let server = find_server(&state.db, caller, id).await?;
    if server.status != ServerStatus::Stopped {
        return Err(conflict(format!(
            "ECS '{}' is {}. Stop it before changing its OS.",
            server.name,
            server.status.label()
        )));
    }
    let image = source_image(&state.db, caller, image_id).await?;
    let disks = server_disks(&state.db, id).await?;
    require_disks_idle(&disks)?;
    let system = disks
        .iter()
        .find(|disk| disk.role == "system")
        .ok_or_else(|| AppError::internal("change OS", format!("server {id} has no system disk")))?;
    rules::check_server_image(&image.facts, server.flavor()?, system.size_gb, ImageUse::ChangeOs)
        .map_err(AppError::Fields)?;
    // The new system disk gets a file of its own; the old one goes once the swap is committed.
    let fill = DiskFill::from_image(
        system.id.clone(),
        crate::storage::Storage::disk_key(&server.region, &system.id),
        system.size_gb,
        &image.file_location,
        &image.disk_format,
    );
    let mut transaction = state.db.begin().await?;
    // Changing to a paid KooGallery image needs the project's subscription already (made by
    // accepting the price when creating an ECS from it).
    image_charge(&mut transaction, caller, &image.id, &image.facts.name, false).await.map_err(|error| match error {
        AppError::Fields(fields) => AppError::Conflict(format!(
            "{} Create an ECS from it once to accept its price, then change the OS.",
            fields.into_iter().map(|(_, message)| message).collect::<Vec<_>>().join(" ")
        )),
        other => other,
    })?;
    if !store::move_server(&mut *transaction, id, ServerStatus::Stopped, ServerStatus::ChangingOs, "").await? {
        return Err(conflict(format!("ECS '{}' changed state meanwhile; try again.", server.name)));
    }
    require_no_work(&mut transaction, &server).await?;
    let params = ChangeOsParams { server_id: id.to_string(), image_id: image.id.clone(), disk: fill };
    let entities = server_entities(id, format!("ECS {} ← {}", server.name, image.facts.name));
    let job = NewJob::new(caller, job_types::CHANGE_OS_JOB, &params, entities).on_resource(id);
    enqueue(&mut transaction, job.reading_image(&image.id)).await?;
    image_store::record_usage(&mut transaction, &image.id, 0).await?;
    transaction.commit().await?;
    state.wake_jobs();
    Ok(())
}

/// Deletes an ECS and its system disk; its data disks are detached and kept unless asked.
pub async fn delete_server(
    state: &AppState,
    caller: &Caller,
    id: &str,
    delete_data_disks: bool,
) -> Result<(), AppError> {
    let server = find_server(&state.db, caller, id).await?;
    if server.status.is_transitional() {
        return Err(conflict(format!(
            "ECS '{}' is {}; wait until it is Running or Stopped before deleting it.",
            server.name,
            server.status.label()
        )));
    }
    require_disks_idle(&server_disks(&state.db, id).await?)?;
    let mut transaction = state.db.begin().await?;
    if !store::delete_server_row(&mut transaction, caller, id, server.status).await? {
        return Err(conflict(format!("ECS '{}' changed state meanwhile; try again.", server.name)));
    }
    require_no_work(&mut transaction, &server).await?;
    let removed = store::remove_server_disks(&mut transaction, id, delete_data_disks).await?;
    transaction.commit().await?;
    for disk in removed {
        if let Err(error) = state.storage.delete(&disk.object_key).await {
            tracing::warn!(%error, disk = %disk.id, "removing a deleted disk's file");
        }
    }
    tracing::info!(server = id, project = %caller.project_id, "server deleted");
    Ok(())
}

// ---- Disks -------------------------------------------------------------------------------

pub async fn attach_disk(state: &AppState, caller: &Caller, server_id: &str, disk_id: &str) -> Result<(), AppError> {
    let server = find_server(&state.db, caller, server_id).await?;
    if !server.status.is_settled() {
        return Err(conflict(format!(
            "ECS '{}' is {}; disks can be attached to a Running or Stopped ECS.",
            server.name,
            server.status.label()
        )));
    }
    let disk = find_disk(&state.db, caller, disk_id).await?;
    if disk.status != DiskStatus::Available {
        let reason = if disk.status == DiskStatus::InUse {
            format!("already attached to ECS '{}'", disk.server_name)
        } else {
            disk.status.label().to_lowercase()
        };
        return Err(AppError::field(
            "disk_id",
            format!("Disk '{}' is {reason}; only an Available disk can be attached.", disk.name),
        ));
    }
    let used: Vec<String> = server_disks(&state.db, server_id).await?.into_iter().map(|disk| disk.device).collect();
    let device =
        (0..rules::MAX_DATA_DISKS).map(data_device).find(|device| !used.contains(device)).ok_or_else(|| {
            AppError::field(
                "disk_id",
                format!(
                    "ECS '{}' already has {} data disks, the most it can have.",
                    server.name,
                    rules::MAX_DATA_DISKS
                ),
            )
        })?;
    // The server's row is locked first, so a concurrent delete of the server either ran
    // before (and the lock finds no settled server) or waits for this attach to commit.
    let mut transaction = state.db.begin().await?;
    lock_server(&mut transaction, &server).await?;
    let attached = store::attach_disk(&mut transaction, caller, server_id, disk_id, &device).await.map_err(
        |error| match &error {
            sqlx::Error::Database(cause) if cause.is_unique_violation() => {
                conflict(format!("Device {device} was just taken; try again."))
            }
            _ => error.into(),
        },
    )?;
    if !attached {
        return Err(conflict(format!("Disk '{}' changed state meanwhile; try again.", disk.name)));
    }
    transaction.commit().await?;
    Ok(())
}

pub async fn detach_disk(state: &AppState, caller: &Caller, disk_id: &str) -> Result<(), AppError> {
    let disk = find_disk(&state.db, caller, disk_id).await?;
    if disk.role == "system" {
        return Err(conflict(format!(
            "Disk '{}' is a system disk; it stays with its ECS until the ECS is deleted.",
            disk.name
        )));
    }
    if disk.status != DiskStatus::InUse {
        return Err(conflict(format!("Disk '{}' is not attached to an ECS.", disk.name)));
    }
    let server = find_server(&state.db, caller, &disk.server_id).await?;
    if !server.status.is_settled() {
        return Err(conflict(format!(
            "ECS '{}' is {}; wait before detaching its disks.",
            server.name,
            server.status.label()
        )));
    }
    require_disks_idle(std::slice::from_ref(&disk))?;
    let mut transaction = state.db.begin().await?;
    lock_server(&mut transaction, &server).await?;
    require_no_work(&mut transaction, &server).await?;
    store::detach_disk(&mut transaction, disk_id).await?;
    transaction.commit().await?;
    Ok(())
}

/// Creates an EVS disk, blank or from a data disk image. Returns its id.
pub async fn create_disk(state: &AppState, caller: &Caller, request: &CreateDiskRequest) -> Result<String, AppError> {
    let size_gb = request.validate().map_err(AppError::Fields)?;
    require_room(state, caller, QuotaKind::Disks, 1).await?;
    let name = request.name.trim();
    let image_id = request.image_id.trim();
    if image_id.is_empty() {
        // A blank disk is one small qcow2 header: made here, no job needed.
        let disk = NewDisk {
            name,
            size_gb,
            status: DiskStatus::Available,
            server_id: "",
            role: "data",
            device: "",
            image_id: "",
        };
        let mut transaction = state.db.begin().await?;
        let (id, key) = store::insert_disk(&mut transaction, caller, &disk).await?;
        files::store_blank_disk(state, &key, size_gb).await?;
        if let Err(error) = transaction.commit().await {
            let _ = state.storage.delete(&key).await;
            return Err(error.into());
        }
        return Ok(id);
    }
    let image = source_image(&state.db, caller, image_id).await?;
    let size_gb = if size_gb == 0 { image.facts.smallest_disk_gb().max(rules::DATA_DISK_MIN_GB) } else { size_gb };
    rules::check_disk_image(&image.facts, size_gb).map_err(AppError::Fields)?;
    let disk = NewDisk {
        name,
        size_gb,
        status: DiskStatus::Creating,
        server_id: "",
        role: "data",
        device: "",
        image_id: &image.id,
    };
    let mut transaction = state.db.begin().await?;
    let (id, key) = store::insert_disk(&mut transaction, caller, &disk).await?;
    let params = CreateDiskParams {
        disk: DiskFill::from_image(id.clone(), key, size_gb, &image.file_location, &image.disk_format),
    };
    let entities = JobEntities {
        disk_id: id.clone(),
        target: format!("Disk {name} ← {}", image.facts.name),
        ..Default::default()
    };
    let job = NewJob::new(caller, job_types::CREATE_DISK_JOB, &params, entities).on_resource(&id);
    enqueue(&mut transaction, job.reading_image(&image.id)).await?;
    image_store::record_usage(&mut transaction, &image.id, 0).await?;
    transaction.commit().await?;
    state.wake_jobs();
    Ok(id)
}

pub async fn delete_disk(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    let disk = find_disk(&state.db, caller, id).await?;
    match disk.status {
        DiskStatus::InUse => {
            return Err(conflict(format!(
                "Disk '{}' is attached to ECS '{}'; detach it first.",
                disk.name, disk.server_name
            )))
        }
        DiskStatus::Creating => return Err(conflict(format!("Disk '{}' is still being created.", disk.name))),
        DiskStatus::Available | DiskStatus::Error => {}
    }
    if !store::delete_disk(&state.db, caller, id).await? {
        return Err(conflict(format!("Disk '{}' changed state meanwhile; try again.", disk.name)));
    }
    if let Err(error) = state.storage.delete(&disk.object_key).await {
        tracing::warn!(%error, disk = id, "removing a deleted disk's file");
    }
    Ok(())
}

// ---- Images from servers -----------------------------------------------------------------

/// Whether an image of the server is being made right now.
async fn capture_running<'e>(
    executor: impl sqlx::Executor<'e, Database = Any>,
    server_id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(pending_on(executor, server_id)
        .await?
        .iter()
        .any(|job_type| job_types::CAPTURE_JOBS.contains(&job_type.as_str())))
}

/// The disks an image of `request.image_type` copies (system disk, one data disk, or all of
/// them with the system disk first), once the IMS rules allow it.
async fn disks_to_capture(
    state: &AppState,
    caller: &Caller,
    server: &ServerRow,
    request: &CaptureRequest,
) -> Result<Vec<DiskRow>, AppError> {
    let disks = server_disks(&state.db, &server.id).await?;
    let facts = ServerFacts {
        name: server.name.clone(),
        status: server.status,
        capture_running: capture_running(&state.db, &server.id).await?,
    };
    let kind = request.image_type.as_str();
    let chosen = match kind {
        "system" => disks.iter().find(|disk| disk.role == "system").cloned(),
        "data" => Some(
            find_disk(&state.db, caller, &request.disk_id)
                .await
                .map_err(|error| AppError::field("disk_id", error.to_string()))?,
        ),
        _ => None,
    };
    let disk_facts = chosen.as_ref().map(|disk| rules::DiskFacts {
        name: disk.name.clone(),
        size_gb: disk.size_gb,
        role: disk.role.clone(),
        attached_here: disk.server_id == server.id,
    });
    rules::check_capture(kind, &facts, disk_facts.as_ref()).map_err(AppError::Fields)?;
    let captured = match chosen {
        Some(disk) => vec![disk],
        None => disks,
    };
    require_disks_idle(&captured)?;
    Ok(captured)
}

/// Registers the image (Queued) and queues the job that copies the server's disks into it.
pub async fn create_image_from_server(
    state: &AppState,
    caller: &Caller,
    request: &CaptureRequest,
) -> Result<CreatedImage, AppError> {
    request.validate().map_err(AppError::Fields)?;
    let server = find_server(&state.db, caller, &request.server_id).await?;
    let captured = disks_to_capture(state, caller, &server, request).await?;
    require_room(state, caller, QuotaKind::Images, 1).await?;
    let first =
        captured.first().ok_or_else(|| AppError::internal("capture", format!("server {} has no disks", server.id)))?;
    let (kind, name) = (request.image_type.as_str(), request.name.trim());
    let data = kind == "data";
    let image = NewImage {
        description: request.description.clone(),
        os_type: if data { "Other".into() } else { server.os_type.clone() },
        platform: if data { "Other".into() } else { server.platform.clone() },
        os_version: if data { String::new() } else { server.os_version.clone() },
        architecture: server.architecture.clone(),
        boot_mode: server.boot_mode.clone(),
        min_disk: first.size_gb,
        data_origin: if data { format!("volume,{}", first.id) } else { format!("instance,{}", server.id) },
        original_image_id: if data { String::new() } else { server.image_id.clone() },
        ..NewImage::queued(caller, name, kind)
    };
    let job_type = match kind {
        "system" => job_types::SYSTEM_IMAGE_JOB,
        "data" => job_types::DATA_IMAGE_JOB,
        _ => job_types::WHOLE_IMAGE_JOB,
    };
    let params = CaptureParams {
        image_id: image.id.clone(),
        server_id: server.id.clone(),
        disk_ids: captured.iter().map(|disk| disk.id.clone()).collect(),
    };
    let entities = JobEntities {
        image_id: image.id.clone(),
        image_name: name.to_string(),
        target: format!("from ECS {}", server.name),
        ..Default::default()
    };
    let mut transaction = state.db.begin().await?;
    // Checked again under the server's lock: two requests cannot both start a capture, nor race
    // a change of OS or a delete that starts meanwhile.
    lock_server(&mut transaction, &server).await?;
    if capture_running(&mut *transaction, &server.id).await? {
        return Err(AppError::field(
            "server",
            format!("An image of ECS '{}' is already being created; wait until it finishes.", server.name),
        ));
    }
    image_store::insert_image(&mut transaction, &image).await?;
    let job = NewJob::new(caller, job_type, &params, entities).for_image(&image.id).on_resource(&server.id);
    let job_id = enqueue(&mut transaction, job).await?;
    transaction.commit().await?;
    state.wake_jobs();
    Ok(CreatedImage { image_id: image.id, job_id })
}

// ---- Disk content ------------------------------------------------------------------------

pub async fn write_disk(state: &AppState, caller: &Caller, request: &WriteDiskRequest) -> Result<(), AppError> {
    let offset = request.validate().map_err(AppError::Fields)?;
    files::write_disk(state, caller, &request.disk_id, offset, request.text.as_bytes()).await
}

pub async fn read_disk(state: &AppState, caller: &Caller, request: &ReadDiskRequest) -> Result<DiskBytes, AppError> {
    let (offset, length) = request.validate().map_err(AppError::Fields)?;
    files::read_disk(state, caller, &request.disk_id, offset, length).await
}

pub async fn write_disk_file(state: &AppState, caller: &Caller, request: &WriteFileRequest) -> Result<(), AppError> {
    request.validate().map_err(AppError::Fields)?;
    files::write_disk_file(state, caller, &request.disk_id, &request.path, request.text.as_bytes()).await
}

pub async fn read_disk_file(state: &AppState, caller: &Caller, disk_id: &str, path: &str) -> Result<String, AppError> {
    check_file_path(path).map_err(AppError::Fields)?;
    files::read_disk_file(state, caller, disk_id, path).await
}
