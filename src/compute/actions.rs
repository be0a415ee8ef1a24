//! What users do to servers and disks: create servers from images, start, stop, change the
//! OS, delete, attach and detach disks, create and delete disks, and create images from
//! servers. Each checks the IMS rules, then changes rows with conditional statements and
//! queues the job that does the work, in one transaction.

use super::flavors::find_flavor;
use super::jobs::{self as job_types, DiskFill};
use super::rules::{self, ImageUse, ServerFacts};
use super::store::{field, find_disk, find_server, pending_jobs, server_disks, source_image, DiskRow, ServerRow};
use super::{is_transitional, status_label, CaptureRequest, CreateServersRequest, ValidServers};
use crate::auth::CurrentUser;
use crate::db::{now_ms, Db};
use crate::error::AppError;
use crate::jobs::queue::{enqueue, NewJob};
use crate::server::AppState;
use crate::storage::Storage;
use serde_json::json;
use sqlx::{Any, Transaction};

fn conflict(message: String) -> AppError {
    AppError::Conflict(message)
}

/// Locks the server's row for the rest of `transaction` if it is Running or Stopped (a row
/// lock on PostgreSQL, the write lock on SQLite), so that checks made after it hold until
/// commit: two requests cannot both pass them.
async fn lock_server(transaction: &mut Transaction<'_, Any>, server: &ServerRow) -> Result<(), AppError> {
    let locked = sqlx::query("UPDATE servers SET updated_at = $1 WHERE id = $2 AND status IN ('running', 'stopped')")
        .bind(now_ms())
        .bind(&server.id)
        .execute(&mut **transaction)
        .await?;
    if locked.rows_affected() == 0 {
        return Err(conflict(format!("ECS '{}' changed state meanwhile; try again.", server.name)));
    }
    Ok(())
}

/// Refuses to touch a server while a job works on it (creating an image from it, say). Call
/// it after the server's row is locked or moved in the same transaction.
async fn require_no_work(transaction: &mut Transaction<'_, Any>, server: &ServerRow) -> Result<(), AppError> {
    match pending_jobs(&mut **transaction, &server.id).await?.first() {
        Some(job_type) => Err(conflict(format!(
            "ECS '{}' has work in progress ({}); wait until it finishes.",
            server.name,
            crate::jobs::job_type_label(job_type).to_lowercase()
        ))),
        None => Ok(()),
    }
}

/// Refuses while one of the disks is being read or written through the console.
fn require_disks_idle(disks: &[DiskRow]) -> Result<(), AppError> {
    match disks.iter().find(|disk| super::files::is_busy(disk)) {
        Some(disk) => Err(conflict(format!("Disk '{}' is being read or written; try again in a moment.", disk.name))),
        None => Ok(()),
    }
}

/// Counts a use of an image: a server made from it (`servers` > 0) or an OS change or disk.
async fn record_usage(transaction: &mut Transaction<'_, Any>, image_id: &str, servers: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE images SET servers_created = servers_created + $1, last_used_at = $2 WHERE id = $3")
        .bind(servers)
        .bind(now_ms())
        .bind(image_id)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

fn data_device(index: usize) -> String {
    // /dev/vda is the system disk; data disks take vdb, vdc, ... (at most 23 of them).
    format!("/dev/vd{}", (b'b' + index as u8) as char)
}

#[allow(clippy::too_many_arguments)]
async fn insert_disk(
    transaction: &mut Transaction<'_, Any>,
    user: &CurrentUser,
    name: &str,
    size_gb: i64,
    status: &str,
    server_id: &str,
    role: &str,
    device: &str,
    image_id: &str,
) -> Result<(String, String), sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let key = Storage::disk_key(&user.region, &id);
    let now = now_ms();
    sqlx::query(
        "INSERT INTO disks (id, region, project_id, name, size_gb, status, server_id, role, device, image_id, object_key, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(&user.region)
    .bind(&user.project_id)
    .bind(name)
    .bind(size_gb)
    .bind(status)
    .bind(server_id)
    .bind(role)
    .bind(device)
    .bind(image_id)
    .bind(&key)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    Ok((id, key))
}

/// The image-against-flavor errors of a request whose own fields have errors too, so the form
/// shows every problem at once (none when the image or the flavor cannot be looked up).
pub async fn image_fit_errors(db: &Db, user: &CurrentUser, request: &CreateServersRequest) -> Vec<(String, String)> {
    let Some(flavor) = find_flavor(&user.region, request.flavor.trim()) else { return Vec::new() };
    let Ok(image) = source_image(db, user, request.image_id.trim()).await else { return Vec::new() };
    let disk_gb = request.system_disk_gb.trim().parse().unwrap_or_else(|_| image.facts.smallest_disk_gb());
    rules::check_server_image(&image.facts, flavor, disk_gb, ImageUse::NewServer).err().unwrap_or_default()
}

pub async fn create_servers(
    db: &Db,
    user: &CurrentUser,
    request: &CreateServersRequest,
    valid: &ValidServers,
) -> Result<Vec<String>, AppError> {
    let flavor = find_flavor(&user.region, request.flavor.trim()).ok_or_else(|| {
        field("flavor", format!("Flavor '{}' is not offered in region {}.", request.flavor, crate::regions::region_name(&user.region)))
    })?;
    let image = source_image(db, user, request.image_id.trim()).await?;
    let system_disk_gb = valid.system_disk_gb.unwrap_or_else(|| image.facts.smallest_disk_gb());
    rules::check_server_image(&image.facts, flavor, system_disk_gb, ImageUse::NewServer).map_err(AppError::Fields)?;
    let iso = image.facts.kind == "iso";
    if iso && valid.count > 1 {
        return Err(field("count", "An ISO image creates one temporary server at a time, for installing an OS.".into()));
    }
    // A full-ECS image brings its data disks; requested blank ones come after them.
    let image_data_disks: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT position, size_gb, object_key FROM image_disks WHERE image_id = $1 ORDER BY position")
            .bind(&image.id)
            .fetch_all(db)
            .await?;
    if image_data_disks.len() + valid.data_disk_sizes.len() > rules::MAX_DATA_DISKS {
        return Err(field(
            "data_disks",
            format!("The image brings {} data disks; a server can have at most {} in all.", image_data_disks.len(), rules::MAX_DATA_DISKS),
        ));
    }
    let (os_type, platform, os_version) = (image.os_type.as_str(), image.platform.as_str(), image.os_version.as_str());
    let now = now_ms();
    let mut ids = Vec::new();
    let mut transaction = db.begin().await?;
    for index in 0..valid.count {
        let id = uuid::Uuid::new_v4().to_string();
        let name = if valid.count == 1 { request.name.trim().to_string() } else { format!("{}-{:04}", request.name.trim(), index + 1) };
        sqlx::query(
            "INSERT INTO servers (id, region, project_id, name, flavor, status, image_id, image_name, os_type, platform, \
             os_version, architecture, boot_mode, temporary, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'creating', $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
        )
        .bind(&id)
        .bind(&user.region)
        .bind(&user.project_id)
        .bind(&name)
        .bind(flavor.id)
        .bind(&image.id)
        .bind(&image.facts.name)
        .bind(os_type)
        .bind(platform)
        .bind(os_version)
        .bind(&image.facts.architecture)
        .bind(&image.facts.boot_mode)
        .bind(i64::from(iso))
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        let mut fills = Vec::new();
        let (disk_id, key) =
            insert_disk(&mut transaction, user, &format!("{name}-system"), system_disk_gb, "creating", &id, "system", "/dev/vda", &image.id).await?;
        // An ISO image is not copied: the temporary server boots it from a blank system disk.
        let (source_key, source_format) = if iso { (String::new(), String::new()) } else { (image.file_location.clone(), image.disk_format.clone()) };
        fills.push(DiskFill { disk_id, object_key: key, size_gb: system_disk_gb, source_key, source_format });
        let data_sizes = image_data_disks
            .iter()
            .map(|(_, size, key)| (*size, key.clone()))
            .chain(valid.data_disk_sizes.iter().map(|size| (*size, String::new())));
        for (index, (size_gb, source_key)) in data_sizes.enumerate() {
            let disk_name = format!("{name}-data-{}", index + 1);
            let (disk_id, key) =
                insert_disk(&mut transaction, user, &disk_name, size_gb, "creating", &id, "data", &data_device(index), "").await?;
            let source_format = if source_key.is_empty() { String::new() } else { "qcow2".to_string() };
            fills.push(DiskFill { disk_id, object_key: key, size_gb, source_key, source_format });
        }
        enqueue(
            &mut transaction,
            NewJob {
                project_id: &user.project_id,
                region: &user.region,
                job_type: job_types::CREATE_SERVER_JOB,
                image_id: "",
                resource_id: &id,
                params: json!({ "server_id": id, "disks": fills }),
                entities: json!({ "server_id": id, "target": format!("ECS {name}") }),
            },
        )
        .await?;
        ids.push(id);
    }
    record_usage(&mut transaction, &image.id, valid.count).await?;
    transaction.commit().await?;
    tracing::info!(project = %user.project_id, image = %image.id, count = valid.count, "servers requested");
    Ok(ids)
}

/// Moves a server from `from` to the transitional `to` and queues the job that finishes it.
async fn begin_power_change(db: &Db, user: &CurrentUser, server: &ServerRow, from: &str, to: &str, job_type: &str) -> Result<(), AppError> {
    let mut transaction = db.begin().await?;
    let moved = sqlx::query("UPDATE servers SET status = $1, status_reason = '', updated_at = $2 WHERE id = $3 AND project_id = $4 AND status = $5")
        .bind(to)
        .bind(now_ms())
        .bind(&server.id)
        .bind(&user.project_id)
        .bind(from)
        .execute(&mut *transaction)
        .await?;
    if moved.rows_affected() == 0 {
        let verb = if to == "starting" { "started" } else { "stopped" };
        return Err(conflict(format!(
            "ECS '{}' is {}; only a {} ECS can be {verb}.",
            server.name,
            status_label(&server.status),
            status_label(from)
        )));
    }
    enqueue(
        &mut transaction,
        NewJob {
            project_id: &user.project_id,
            region: &user.region,
            job_type,
            image_id: "",
            resource_id: &server.id,
            params: json!({ "server_id": server.id }),
            entities: json!({ "server_id": server.id, "target": format!("ECS {}", server.name) }),
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(())
}

pub async fn server_action(db: &Db, user: &CurrentUser, id: &str, action: &str) -> Result<(), AppError> {
    let server = find_server(db, user, id).await?;
    match action {
        "start" => begin_power_change(db, user, &server, "stopped", "starting", job_types::START_SERVER_JOB).await,
        "stop" => begin_power_change(db, user, &server, "running", "stopping", job_types::STOP_SERVER_JOB).await,
        "reinstall" => {
            if server.image_live == 0 {
                return Err(conflict(format!(
                    "Image '{}' that ECS '{}' was created from has been deleted, so the ECS cannot be reinstalled. \
                     Change its OS with another image instead.",
                    server.image_name, server.name
                )));
            }
            change_os(db, user, id, &server.image_id.clone()).await
        }
        other => Err(AppError::Invalid(format!("'{other}' is not an ECS action; use start, stop or reinstall."))),
    }
}

pub async fn change_os(db: &Db, user: &CurrentUser, id: &str, image_id: &str) -> Result<(), AppError> {
    let server = find_server(db, user, id).await?;
    if server.status != "stopped" {
        return Err(conflict(format!(
            "ECS '{}' is {}. Stop it before changing its OS.",
            server.name,
            status_label(&server.status)
        )));
    }
    let image = source_image(db, user, image_id).await?;
    let disks = server_disks(db, id).await?;
    require_disks_idle(&disks)?;
    let system = disks
        .iter()
        .find(|disk| disk.role == "system")
        .ok_or_else(|| AppError::internal("change OS", format!("server {id} has no system disk")))?;
    rules::check_server_image(&image.facts, server.flavor()?, system.size_gb, ImageUse::ChangeOs).map_err(AppError::Fields)?;
    let fill = DiskFill {
        disk_id: system.id.clone(),
        object_key: Storage::disk_key(&server.region, &system.id),
        size_gb: system.size_gb,
        source_key: image.file_location.clone(),
        source_format: image.disk_format.clone(),
    };
    let mut transaction = db.begin().await?;
    let moved = sqlx::query("UPDATE servers SET status = 'changing_os', status_reason = '', updated_at = $1 WHERE id = $2 AND status = 'stopped'")
        .bind(now_ms())
        .bind(id)
        .execute(&mut *transaction)
        .await?;
    if moved.rows_affected() == 0 {
        return Err(conflict(format!("ECS '{}' changed state meanwhile; try again.", server.name)));
    }
    require_no_work(&mut transaction, &server).await?;
    enqueue(
        &mut transaction,
        NewJob {
            project_id: &user.project_id,
            region: &user.region,
            job_type: job_types::CHANGE_OS_JOB,
            image_id: "",
            resource_id: id,
            params: json!({ "server_id": id, "image_id": image.id, "disk": fill }),
            entities: json!({ "server_id": id, "target": format!("ECS {} ← {}", server.name, image.facts.name) }),
        },
    )
    .await?;
    record_usage(&mut transaction, &image.id, 0).await?;
    transaction.commit().await?;
    Ok(())
}

pub async fn delete_server(db: &Db, storage: &Storage, user: &CurrentUser, id: &str, delete_data_disks: bool) -> Result<(), AppError> {
    let server = find_server(db, user, id).await?;
    if is_transitional(&server.status) {
        return Err(conflict(format!(
            "ECS '{}' is {}; wait until it is Running or Stopped before deleting it.",
            server.name,
            status_label(&server.status)
        )));
    }
    require_disks_idle(&server_disks(db, id).await?)?;
    let now = now_ms();
    let mut transaction = db.begin().await?;
    // The server row goes first: an attach racing with this one then finds no server.
    let deleted = sqlx::query("DELETE FROM servers WHERE id = $1 AND project_id = $2 AND status = $3")
        .bind(id)
        .bind(&user.project_id)
        .bind(&server.status)
        .execute(&mut *transaction)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(conflict(format!("ECS '{}' changed state meanwhile; try again.", server.name)));
    }
    require_no_work(&mut transaction, &server).await?;
    let disks: Vec<DiskRow> = sqlx::query_as("SELECT * FROM disks WHERE server_id = $1").bind(id).fetch_all(&mut *transaction).await?;
    let (removed, kept): (Vec<DiskRow>, Vec<DiskRow>) =
        disks.into_iter().partition(|disk| disk.role == "system" || delete_data_disks);
    for disk in &removed {
        sqlx::query("DELETE FROM disks WHERE id = $1").bind(&disk.id).execute(&mut *transaction).await?;
    }
    for disk in &kept {
        sqlx::query("UPDATE disks SET server_id = '', device = '', status = 'available', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&disk.id)
            .execute(&mut *transaction)
            .await?;
    }
    transaction.commit().await?;
    for disk in removed {
        if let Err(error) = storage.delete(&disk.object_key).await {
            tracing::warn!(%error, disk = %disk.id, "removing a deleted disk's file");
        }
    }
    tracing::info!(server = id, project = %user.project_id, "server deleted");
    Ok(())
}

pub async fn attach_disk(db: &Db, user: &CurrentUser, server_id: &str, disk_id: &str) -> Result<(), AppError> {
    let server = find_server(db, user, server_id).await?;
    if !matches!(server.status.as_str(), "running" | "stopped") {
        return Err(conflict(format!("ECS '{}' is {}; disks can be attached to a Running or Stopped ECS.", server.name, status_label(&server.status))));
    }
    let disk = find_disk(db, user, disk_id).await?;
    if disk.status != "available" {
        let reason = if disk.status == "in_use" { format!("already attached to ECS '{}'", disk.server_name) } else { disk_status(&disk) };
        return Err(field("disk_id", format!("Disk '{}' is {reason}; only an Available disk can be attached.", disk.name)));
    }
    let used: Vec<String> = server_disks(db, server_id).await?.into_iter().map(|disk| disk.device).collect();
    let device = (0..rules::MAX_DATA_DISKS).map(data_device).find(|device| !used.contains(device)).ok_or_else(|| {
        field("disk_id", format!("ECS '{}' already has {} data disks, the most it can have.", server.name, rules::MAX_DATA_DISKS))
    })?;
    // Only while the server is still there and usable, and the device still free (a unique
    // index on server and device guards the last point as well).
    let attached = sqlx::query(
        "UPDATE disks SET status = 'in_use', server_id = $1, device = $2, updated_at = $3 WHERE id = $4 AND status = 'available' \
         AND EXISTS (SELECT 1 FROM servers s WHERE s.id = $1 AND s.project_id = $5 AND s.status IN ('running', 'stopped')) \
         AND NOT EXISTS (SELECT 1 FROM disks d WHERE d.server_id = $1 AND d.device = $2)",
    )
    .bind(server_id)
    .bind(&device)
    .bind(now_ms())
    .bind(disk_id)
    .bind(&user.project_id)
    .execute(db)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(cause) if cause.is_unique_violation() => conflict(format!("Device {device} was just taken; try again.")),
        _ => error.into(),
    })?;
    if attached.rows_affected() == 0 {
        return Err(conflict(format!("Disk '{}' changed state meanwhile; try again.", disk.name)));
    }
    Ok(())
}

fn disk_status(disk: &DiskRow) -> String {
    super::disk_status_label(&disk.status).to_lowercase()
}

pub async fn detach_disk(db: &Db, user: &CurrentUser, disk_id: &str) -> Result<(), AppError> {
    let disk = find_disk(db, user, disk_id).await?;
    if disk.role == "system" {
        return Err(conflict(format!("Disk '{}' is a system disk; it stays with its ECS until the ECS is deleted.", disk.name)));
    }
    if disk.status != "in_use" {
        return Err(conflict(format!("Disk '{}' is not attached to an ECS.", disk.name)));
    }
    let server = find_server(db, user, &disk.server_id).await?;
    if !matches!(server.status.as_str(), "running" | "stopped") {
        return Err(conflict(format!("ECS '{}' is {}; wait before detaching its disks.", server.name, status_label(&server.status))));
    }
    require_disks_idle(std::slice::from_ref(&disk))?;
    let mut transaction = db.begin().await?;
    lock_server(&mut transaction, &server).await?;
    require_no_work(&mut transaction, &server).await?;
    sqlx::query("UPDATE disks SET status = 'available', server_id = '', device = '', updated_at = $1 WHERE id = $2 AND status = 'in_use'")
        .bind(now_ms())
        .bind(disk_id)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(())
}

pub async fn create_disk(state: &AppState, user: &CurrentUser, request: &super::CreateDiskRequest, size_gb: i64) -> Result<String, AppError> {
    let name = request.name.trim();
    let image_id = request.image_id.trim();
    if image_id.is_empty() {
        // A blank disk is one small qcow2 header: made here, no job needed.
        let mut transaction = state.db.begin().await?;
        let (id, key) = insert_disk(&mut transaction, user, name, size_gb, "available", "", "data", "", "").await?;
        super::files::store_blank_disk(state, &key, size_gb).await?;
        if let Err(error) = transaction.commit().await {
            let _ = state.storage.delete(&key).await;
            return Err(error.into());
        }
        return Ok(id);
    }
    let image = source_image(&state.db, user, image_id).await?;
    let size_gb = if size_gb == 0 { image.facts.smallest_disk_gb().max(rules::DATA_DISK_MIN_GB) } else { size_gb };
    rules::check_disk_image(&image.facts, size_gb).map_err(AppError::Fields)?;
    let mut transaction = state.db.begin().await?;
    let (id, key) = insert_disk(&mut transaction, user, name, size_gb, "creating", "", "data", "", &image.id).await?;
    let fill = DiskFill { disk_id: id.clone(), object_key: key, size_gb, source_key: image.file_location.clone(), source_format: image.disk_format.clone() };
    enqueue(
        &mut transaction,
        NewJob {
            project_id: &user.project_id,
            region: &user.region,
            job_type: job_types::CREATE_DISK_JOB,
            image_id: "",
            resource_id: &id,
            params: json!({ "disk": fill }),
            entities: json!({ "disk_id": id, "target": format!("Disk {name} ← {}", image.facts.name) }),
        },
    )
    .await?;
    record_usage(&mut transaction, &image.id, 0).await?;
    transaction.commit().await?;
    Ok(id)
}

pub async fn delete_disk(db: &Db, storage: &Storage, user: &CurrentUser, id: &str) -> Result<(), AppError> {
    let disk = find_disk(db, user, id).await?;
    match disk.status.as_str() {
        "in_use" => return Err(conflict(format!("Disk '{}' is attached to ECS '{}'; detach it first.", disk.name, disk.server_name))),
        "creating" => return Err(conflict(format!("Disk '{}' is still being created.", disk.name))),
        _ => {}
    }
    let deleted = sqlx::query("DELETE FROM disks WHERE id = $1 AND project_id = $2 AND status IN ('available', 'error')")
        .bind(id)
        .bind(&user.project_id)
        .execute(db)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(conflict(format!("Disk '{}' changed state meanwhile; try again.", disk.name)));
    }
    if let Err(error) = storage.delete(&disk.object_key).await {
        tracing::warn!(%error, disk = id, "removing a deleted disk's file");
    }
    Ok(())
}

/// Registers the image (queued) and queues the job that copies the server's disks into it.
pub async fn create_image_from_server(db: &Db, user: &CurrentUser, request: &CaptureRequest) -> Result<String, AppError> {
    let server = find_server(db, user, &request.server_id).await?;
    let disks = server_disks(db, &server.id).await?;
    let capture_running =
        pending_jobs(db, &server.id).await?.iter().any(|job_type| job_types::CAPTURE_JOBS.contains(&job_type.as_str()));
    let facts = ServerFacts { name: server.name.clone(), status: server.status.clone(), capture_running };
    let kind = request.image_type.as_str();
    let chosen = match kind {
        "system" => disks.iter().find(|disk| disk.role == "system").cloned(),
        "data" => Some(find_disk(db, user, &request.disk_id).await.map_err(|error| field("disk_id", error.to_string()))?),
        _ => None,
    };
    let disk_facts = chosen.as_ref().map(|disk| rules::DiskFacts {
        name: disk.name.clone(),
        size_gb: disk.size_gb,
        role: disk.role.clone(),
        attached_here: disk.server_id == server.id,
    });
    rules::check_capture(kind, &facts, disk_facts.as_ref()).map_err(AppError::Fields)?;
    let captured: Vec<DiskRow> = match chosen {
        Some(disk) => vec![disk],
        // Full-ECS: the system disk first, then the data disks in device order.
        None => disks,
    };
    let first = captured.first().ok_or_else(|| AppError::internal("capture", format!("server {} has no disks", server.id)))?;
    require_disks_idle(&captured)?;
    let image_id = uuid::Uuid::new_v4().to_string();
    let data = kind == "data";
    let now = now_ms();
    let mut transaction = db.begin().await?;
    // Checked again under the server's lock: two requests cannot both start a capture, nor race
    // a change of OS or a delete that starts meanwhile.
    lock_server(&mut transaction, &server).await?;
    if pending_jobs(&mut *transaction, &server.id).await?.iter().any(|job_type| job_types::CAPTURE_JOBS.contains(&job_type.as_str())) {
        return Err(field("server", format!("An image of ECS '{}' is already being created; wait until it finishes.", server.name)));
    }
    sqlx::query(
        "INSERT INTO images (id, region, owner, name, description, status, visibility, imagetype, image_kind, \
         virtual_env_type, os_type, platform, os_version, architecture, hw_firmware_type, disk_format, min_disk, \
         data_origin, original_image_id, created_at, updated_at) VALUES \
         ($1, $2, $3, $4, $5, 'queued', 'private', 'private', $6, $7, $8, $9, $10, $11, $12, 'qcow2', $13, $14, $15, $16, $16)",
    )
    .bind(&image_id)
    .bind(&user.region)
    .bind(&user.project_id)
    .bind(request.name.trim())
    .bind(&request.description)
    .bind(kind)
    .bind(if data { "DataImage" } else { "FusionCompute" })
    .bind(if data { "Other" } else { server.os_type.as_str() })
    .bind(if data { "Other" } else { server.platform.as_str() })
    .bind(if data { "" } else { server.os_version.as_str() })
    .bind(&server.architecture)
    .bind(&server.boot_mode)
    .bind(first.size_gb)
    .bind(if data { format!("volume,{}", first.id) } else { format!("instance,{}", server.id) })
    .bind(if data { "" } else { server.image_id.as_str() })
    .bind(now)
    .execute(&mut *transaction)
    .await?;
    let job_type = match kind {
        "system" => job_types::SYSTEM_IMAGE_JOB,
        "data" => job_types::DATA_IMAGE_JOB,
        _ => job_types::WHOLE_IMAGE_JOB,
    };
    let disk_ids: Vec<&str> = captured.iter().map(|disk| disk.id.as_str()).collect();
    enqueue(
        &mut transaction,
        NewJob {
            project_id: &user.project_id,
            region: &user.region,
            job_type,
            image_id: &image_id,
            resource_id: &server.id,
            params: json!({ "image_id": image_id, "server_id": server.id, "disk_ids": disk_ids }),
            entities: json!({ "image_id": image_id, "image_name": request.name.trim(), "target": format!("from ECS {}", server.name) }),
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(image_id)
}
