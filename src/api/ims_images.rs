//! IMS image operations: list, create (from a bucket file or an ECS), data-disk images, quick
//! import, export, update (JSON patch). Each is a thin adapter over the services the console
//! uses; the operation log records it with `Source::Api`.

use super::error::{ApiError, ApiResult};
use super::image_json::image_object;
use super::signed::Signed;
use super::{audited, query_pairs, JobId};
use crate::caller::{Access, Caller};
use crate::compute::requests::CaptureRequest;
use crate::images::api_list::{self, ApiListQuery};
use crate::images::model::{OS_TYPES, PLATFORMS};
use crate::images::replicate::ReplicateRequest;
use crate::images::requests::{ExportRequest, ImportRequest, ModifyRequest, IMPORT_FORMATS};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// `GET /v2/cloudimages`: one page of the images the caller may see.
pub async fn list_images(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let query = ApiListQuery::from_pairs(&query_pairs(query.as_deref()), 500)?;
    let page = api_list::list(&state.db, &signed.caller, &query).await?;
    let mut body = json!({ "images": page.images.iter().map(image_object).collect::<Vec<_>>() });
    if page.more {
        if let Some(last) = page.images.last() {
            body["page_info"] = json!({ "next_marker": last.id });
        }
    }
    Ok(Json(body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

/// `CreateImageRequestBody`, `CreateDataImageRequestBody` and
/// `QuickImportImageByFileRequestBody` in one: each operation reads its own fields.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateBody {
    name: String,
    description: String,
    image_url: String,
    min_disk: Option<i64>,
    min_ram: Option<i64>,
    max_ram: Option<i64>,
    os_version: String,
    os_type: String,
    instance_id: String,
    volume_id: String,
    data_images: Vec<Value>,
    tags: Vec<String>,
    image_tags: Vec<KeyValue>,
    cmk_id: String,
    #[serde(rename = "type")]
    image_type: String,
    is_quick_import: bool,
    architecture: String,
    hw_firmware_type: String,
    enterprise_project_id: String,
    license_type: String,
}

/// `bucket:object` of an `image_url` or `bucket_url`.
pub fn bucket_object(url: &str, field: &str) -> ApiResult<(String, String)> {
    match url.trim().split_once(':') {
        Some((bucket, object)) if !bucket.is_empty() && !object.is_empty() => {
            Ok((bucket.to_string(), object.to_string()))
        }
        _ => Err(ApiError::invalid(format!("{field} must be bucket:object, e.g. my-bucket:images/centos.qcow2."))),
    }
}

/// The file format a file's name says (IMS reads it from the extension too).
pub fn format_of(object: &str) -> ApiResult<String> {
    let extension = object.rsplit_once('.').map(|(_, extension)| extension.to_ascii_lowercase()).unwrap_or_default();
    let format = match extension.as_str() {
        "img" => "raw".to_string(),
        other => other.to_string(),
    };
    if IMPORT_FORMATS.contains(&format.as_str()) {
        Ok(format)
    } else {
        Err(ApiError::invalid(format!(
            "Cannot tell the file format of '{object}': its name must end in one of .{} or .img.",
            IMPORT_FORMATS.join(", .")
        )))
    }
}

/// Platform and OS type of an `os_version` (`Ubuntu 22.04 server 64bit` → Ubuntu, Linux).
pub fn os_of(os_version: &str, os_type: &str) -> (String, String) {
    if let Some((platform, os_type, ..)) = crate::seed::CATALOG.iter().find(|entry| entry.2 == os_version) {
        return (platform.to_string(), os_type.to_string());
    }
    let lower = os_version.to_ascii_lowercase();
    let platform =
        PLATFORMS.iter().find(|platform| lower.starts_with(&platform.to_ascii_lowercase())).copied().unwrap_or("Other");
    let os_type = match (platform, os_type) {
        (_, given) if OS_TYPES.contains(&given) => given,
        ("Windows", _) => "Windows",
        ("Other", _) => "Other",
        _ => "Linux",
    };
    (platform.to_string(), os_type.to_string())
}

fn tags_text(body: &CreateBody) -> ApiResult<String> {
    if !body.tags.is_empty() && !body.image_tags.is_empty() {
        return Err(ApiError::invalid("Give tags or image_tags, not both."));
    }
    let from_strings = body.tags.iter().map(|tag| match tag.split_once('.') {
        Some((key, value)) => format!("{key}={value}"),
        None => tag.clone(),
    });
    let from_pairs = body.image_tags.iter().map(|tag| format!("{}={}", tag.key, tag.value));
    Ok(from_strings.chain(from_pairs).collect::<Vec<_>>().join(","))
}

fn number(value: Option<i64>) -> String {
    value.map(|number| number.to_string()).unwrap_or_default()
}

/// An import of `body.image_url` as an image of `kind` (`system` or `data`).
fn import_request(body: &CreateBody, kind: &str, quick: bool) -> ApiResult<ImportRequest> {
    if !body.cmk_id.is_empty() {
        return Err(ApiError::unsupported("Encrypting an image with cmk_id"));
    }
    let (bucket, object_key) = bucket_object(&body.image_url, "image_url")?;
    let file_format = format_of(&object_key)?;
    let architecture = if body.architecture.is_empty() { "x86".to_string() } else { body.architecture.clone() };
    let boot_mode = match body.hw_firmware_type.as_str() {
        "" if architecture == "arm" => "uefi".to_string(),
        "" => "bios".to_string(),
        given => given.to_string(),
    };
    let data = kind == "data";
    let (platform, os_type) = if data {
        ("Other".to_string(), if body.os_type.is_empty() { "Linux".to_string() } else { body.os_type.clone() })
    } else {
        os_of(body.os_version.trim(), &body.os_type)
    };
    Ok(ImportRequest {
        name: body.name.clone(),
        description: body.description.clone(),
        bucket,
        object_key,
        file_format,
        image_type: kind.to_string(),
        os_type,
        platform,
        os_version: if data { String::new() } else { body.os_version.clone() },
        architecture,
        boot_mode,
        min_ram: number(body.min_ram),
        max_ram: number(body.max_ram),
        min_disk: number(body.min_disk),
        quick_import: quick,
        tags: tags_text(body)?,
        // Families are this console's own; IMS bodies have no field for them.
        family: String::new(),
    })
}

async fn import(state: &AppState, caller: &Caller, request: ImportRequest) -> ApiResult<Json<JobId>> {
    let created = audited(state, caller, "Create image from file", "", async {
        crate::images::service::create_image_from_file(state, caller, &request).await
    })
    .await?;
    Ok(Json(JobId { job_id: created.job_id }))
}

/// `POST /v2/cloudimages/action` (and `/v2.1`): from a bucket file, or from an ECS.
pub async fn create_image(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: CreateBody = signed.json()?;
    if !body.instance_id.is_empty() {
        if !body.data_images.is_empty() {
            return Err(ApiError::unsupported(
                "Creating data disk images together with a system disk image (data_images)",
            ));
        }
        let request = CaptureRequest {
            server_id: body.instance_id.clone(),
            image_type: "system".into(),
            disk_id: String::new(),
            name: body.name.clone(),
            description: body.description.clone(),
        };
        let created = audited(&state, caller, "Create image from ECS", "", async {
            crate::compute::service::create_image_from_server(&state, caller, &request).await
        })
        .await?;
        return Ok(Json(JobId { job_id: created.job_id }));
    }
    if !body.volume_id.is_empty() {
        return Err(ApiError::unsupported("Creating a system disk image from a detached data disk (volume_id)"));
    }
    if body.image_url.is_empty() {
        return Err(ApiError::invalid(
            "Give image_url (bucket:object) to import a file, or instance_id to capture an ECS.",
        ));
    }
    if body.is_quick_import && body.os_version.trim().is_empty() {
        return Err(ApiError::invalid("os_version is required when is_quick_import is true."));
    }
    let request = import_request(&body, "system", body.is_quick_import)?;
    import(&state, caller, request).await
}

/// `POST /v1/cloudimages/dataimages/action` (and `/v2.1`): a data disk image from a file.
pub async fn create_data_image(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: CreateBody = signed.json()?;
    let request = import_request(&body, "data", false)?;
    import(&state, caller, request).await
}

/// `POST /v2/cloudimages/quickimport/action` (and `/v2.1`): RAW files, system or data disk.
pub async fn quick_import(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: CreateBody = signed.json()?;
    if body.os_version.trim().is_empty() {
        return Err(ApiError::invalid("os_version is required for a quick import."));
    }
    if !body.license_type.is_empty() && !matches!(body.license_type.as_str(), "platform" | "byol") {
        return Err(ApiError::invalid("license_type must be platform or byol."));
    }
    let kind = match body.image_type.as_str() {
        "" | "ECS" | "BMS" => "system",
        "DataImage" => "data",
        other => return Err(ApiError::invalid(format!("'{other}' is not a type: use ECS, BMS or DataImage."))),
    };
    let request = import_request(&body, kind, true)?;
    import(&state, caller, request).await
}

/// `POST /v1/cloudimages/wholeimages/action`: a full-ECS image of an ECS.
pub async fn create_whole_image(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: Value = signed.json()?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    if !text("backup_id").is_empty() {
        return Err(ApiError::unsupported("Creating a full-ECS image from a CBR or CSBS backup (backup_id)"));
    }
    let request = CaptureRequest {
        server_id: text("instance_id"),
        image_type: "full_ecs".into(),
        disk_id: String::new(),
        name: text("name"),
        description: text("description"),
    };
    if request.server_id.is_empty() {
        return Err(ApiError::invalid("Give instance_id, the ECS to capture."));
    }
    let created = audited(&state, caller, "Create image from ECS", "", async {
        crate::compute::service::create_image_from_server(&state, caller, &request).await
    })
    .await?;
    Ok(Json(JobId { job_id: created.job_id }))
}

#[derive(Deserialize)]
pub struct ExportBody {
    #[serde(default)]
    bucket_url: String,
    #[serde(default)]
    file_format: String,
    #[serde(default)]
    is_quick_export: bool,
}

/// `POST /v1/cloudimages/{image_id}/file` (and `/v2.1`): export to `bucket:object`.
pub async fn export_image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: ExportBody = signed.json()?;
    let (bucket, object_key) = bucket_object(&body.bucket_url, "bucket_url")?;
    let file_format = match (body.is_quick_export, body.file_format.trim()) {
        (true, "") => "qcow2".to_string(),
        (true, _) => return Err(ApiError::invalid("file_format cannot be given with is_quick_export.")),
        (false, "") => return Err(ApiError::invalid("file_format is required: qcow2, vhd, zvhd or vmdk.")),
        (false, "zvhd") => return Err(ApiError::unsupported("Exporting in the zvhd format")),
        (false, format) => format.to_ascii_lowercase(),
    };
    let request = ExportRequest { image_id: image_id.clone(), bucket, object_key, file_format };
    let job_id = audited(&state, caller, "Export image", &image_id, async {
        crate::images::service::export_image(&state, caller, &request).await
    })
    .await?;
    Ok(Json(JobId { job_id }))
}

#[derive(Deserialize)]
pub struct PatchOp {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Value,
}

/// A patch value as text: the SDK types `value` as a string, other clients send numbers.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Applies IMS/Glance patch operations to the modifiable attributes of `request`.
pub fn apply_patch(request: &mut ModifyRequest, ops: &[PatchOp]) -> ApiResult<()> {
    if ops.is_empty() {
        return Err(ApiError::invalid("The patch is empty: give at least one {op, path, value}."));
    }
    for op in ops {
        let remove = match op.op.as_str() {
            "add" | "replace" => false,
            "remove" => true,
            other => {
                return Err(ApiError::invalid(format!("'{other}' is not a patch op: use add, replace or remove.")))
            }
        };
        let value = if remove { String::new() } else { value_text(&op.value) };
        match op.path.trim_start_matches('/') {
            "name" if remove => return Err(ApiError::invalid("An image's name cannot be removed.")),
            "name" => request.name = value,
            "__description" | "description" => request.description = value,
            "min_ram" => request.min_ram = if remove { "0".into() } else { value },
            "max_ram" => request.max_ram = if remove { "0".into() } else { value },
            "hw_firmware_type" if !remove => request.boot_mode = value,
            "__os_version" if !remove => request.os_version = value,
            "protected" => {
                request.protected = match value.to_ascii_lowercase().as_str() {
                    "true" => "on".into(),
                    "false" | "" => String::new(),
                    other => {
                        return Err(ApiError::invalid(format!(
                            "'{other}' is not a value for protected: use true or false."
                        )))
                    }
                }
            }
            other => {
                return Err(ApiError::invalid(format!(
                "The attribute '{other}' cannot be changed: name, __description, min_ram, max_ram, hw_firmware_type, \
                     __os_version and protected can."
            )))
            }
        }
    }
    Ok(())
}

/// Modifies one of the caller's images by patch and returns it (IMS `update_image`, Glance
/// `update_image`).
pub async fn patch_image(state: &AppState, caller: &Caller, image_id: &str, ops: &[PatchOp]) -> ApiResult<Value> {
    let image = crate::images::service::get_image(state, caller, image_id).await?;
    let mut request = ModifyRequest {
        image_id: image_id.to_string(),
        name: image.name.clone(),
        description: image.description.clone(),
        min_ram: image.min_ram.to_string(),
        max_ram: image.max_ram.to_string(),
        boot_mode: image.hw_firmware_type.clone(),
        os_version: image.os_version.clone(),
        protected: if image.protected { "on".into() } else { String::new() },
        family: image.family.clone(),
    };
    apply_patch(&mut request, ops)?;
    audited(state, caller, "Modify image", image_id, async {
        crate::images::service::modify_image(state, caller, &request).await
    })
    .await?;
    let image = crate::images::service::get_image(state, caller, image_id).await?;
    Ok(image_object(&image))
}

/// `PATCH /v2/cloudimages/{image_id}`.
pub async fn update_image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let caller = signed.require(Access::Edit)?;
    let ops: Vec<PatchOp> = signed.json()?;
    Ok(Json(patch_image(&state, caller, &image_id, &ops).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_tell_the_format_and_urls_split() {
        assert_eq!(format_of("dir/centos.QCOW2").unwrap(), "qcow2");
        assert_eq!(format_of("disk.img").unwrap(), "raw");
        assert!(format_of("notes.txt").unwrap_err().message.contains("Cannot tell the file format"));
        assert_eq!(bucket_object("b:dir/x.qcow2", "image_url").unwrap(), ("b".into(), "dir/x.qcow2".into()));
        assert!(bucket_object("nocolon", "image_url").is_err());
    }

    #[test]
    fn os_versions_give_platform_and_type() {
        assert_eq!(os_of("Ubuntu 22.04 server 64bit", ""), ("Ubuntu".into(), "Linux".into()));
        assert_eq!(os_of("Windows Server 2012 R2", ""), ("Windows".into(), "Windows".into()));
        assert_eq!(os_of("Plan 9", ""), ("Other".into(), "Other".into()));
    }

    #[test]
    fn patches_change_only_what_may_change() {
        let mut request = ModifyRequest { name: "a".into(), protected: "on".into(), ..Default::default() };
        let ops: Vec<PatchOp> = serde_json::from_str(
            r#"[{"op":"replace","path":"/name","value":"b"},{"op":"add","path":"/min_ram","value":1024},
                {"op":"replace","path":"/protected","value":"false"}]"#,
        )
        .unwrap();
        apply_patch(&mut request, &ops).unwrap();
        assert_eq!((request.name.as_str(), request.min_ram.as_str(), request.protected.as_str()), ("b", "1024", ""));
        let bad: Vec<PatchOp> = serde_json::from_str(r#"[{"op":"replace","path":"/owner","value":"x"}]"#).unwrap();
        assert!(apply_patch(&mut request, &bad).unwrap_err().message.contains("cannot be changed"));
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CopyBody {
    name: String,
    description: String,
    cmk_id: String,
    region: String,
    project_name: String,
    agency_name: String,
    vault_id: String,
}

/// `POST /v1/cloudimages/{image_id}/copy` (and `/v2.1`): a replica within the region.
pub async fn copy_image_in_region(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: CopyBody = signed.json()?;
    if !body.cmk_id.trim().is_empty() {
        return Err(ApiError::unsupported("Encrypting a replica with cmk_id"));
    }
    let request = ReplicateRequest {
        images: image_id.clone(),
        replication_type: "region".into(),
        name: body.name,
        description: body.description,
        ..Default::default()
    };
    replicate(&state, caller, &image_id, request).await
}

/// `POST /v1/cloudimages/{image_id}/cross_region_copy`: a replica in the account's project of
/// another region (`project_name` is that project's name, which is the region's id).
pub async fn copy_image_cross_region(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: CopyBody = signed.json()?;
    if !body.vault_id.trim().is_empty() {
        return Err(ApiError::unsupported("Replicating a full-ECS image with its backups (vault_id)"));
    }
    for (field, value) in
        [("region", &body.region), ("project_name", &body.project_name), ("agency_name", &body.agency_name)]
    {
        if value.trim().is_empty() {
            return Err(ApiError::invalid(format!("{field} is required.")));
        }
    }
    let request = ReplicateRequest {
        images: image_id.clone(),
        replication_type: "cross".into(),
        name: body.name,
        description: body.description,
        region: body.region,
        project_id: body.project_name,
    };
    replicate(&state, caller, &image_id, request).await
}

async fn replicate(
    state: &AppState,
    caller: &Caller,
    image_id: &str,
    request: ReplicateRequest,
) -> ApiResult<Json<JobId>> {
    // One image per request here; the console's batch takes several.
    if image_id.contains(',') {
        return Err(ApiError::invalid("Give one image id."));
    }
    let created = audited(state, caller, "Replicate image", image_id, async {
        crate::images::replicate_service::replicate(state, caller, &request).await
    })
    .await?;
    let job_id = created.into_iter().next().map(|replica| replica.job_id).unwrap_or_default();
    Ok(Json(JobId { job_id }))
}
