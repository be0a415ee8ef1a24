//! The IMS API's small reads (versions, quota, jobs, OS versions, schemas) and the operations
//! whose feature this console does not have yet, which say so.

use super::error::{ApiError, ApiResult};
use super::signed::Signed;
use crate::format::iso_time;
use crate::jobs::model::JobStatus;
use crate::state::AppState;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

fn version(id: &str, status: &str, base: &str) -> Value {
    json!({ "id": id, "status": status, "links": [{ "rel": "self", "href": format!("{base}/{id}/") }], "updated": "2026-12-01T00:00:00Z" })
}

/// The API versions (`list_versions` at `/`, Glance discovery at `/versions`), with absolute
/// links: openstacksdk uses the chosen version's link as the base of every later call. The
/// IMS-only `/v2.1` paths are not a Glance version, so they are not listed.
pub fn versions_document(base: &str) -> Value {
    json!({ "versions": [
        { "id": "v2.0", "status": "CURRENT", "links": [{ "rel": "self", "href": format!("{base}/v2/") }] },
        { "id": "v1", "status": "SUPPORTED", "links": [{ "rel": "self", "href": format!("{base}/v1/") }] },
    ] })
}

/// `GET /versions`.
pub async fn versions(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Json<Value> {
    Json(versions_document(&super::keystone::external_base(&state, &headers)))
}

/// `GET /{version}` (`show_version`).
pub async fn show_version(OriginalUri(uri): OriginalUri, _signed: Signed) -> ApiResult<Json<Value>> {
    let id = uri.path().trim_matches('/');
    let status = if id == "v2" { "CURRENT" } else { "SUPPORTED" };
    Ok(Json(json!({ "versions": [version(id, status, "")] })))
}

/// `GET /v1/cloudimages/quota`: private images (`image`) and this console's other limits.
pub async fn show_quota(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<Value>> {
    let quotas = crate::quotas::service::quotas(&state, &signed.caller).await?;
    let resources: Vec<Value> = quotas
        .iter()
        .map(|quota| json!({ "type": quota.kind, "used": quota.used, "quota": quota.quota, "min": quota.min, "max": quota.max }))
        .collect();
    Ok(Json(json!({ "quotas": { "resources": resources } })))
}

/// `GET /v1/cloudimages/os_version?tag=`: the OS versions images can declare, by platform.
pub async fn list_os_versions(RawQuery(query): RawQuery, _signed: Signed) -> ApiResult<Json<Value>> {
    let tag = super::query_pairs(query.as_deref()).into_iter().find(|(key, _)| key == "tag").map(|(_, value)| value);
    let wanted = |variants: &[(&str, &str)]| match tag.as_deref() {
        None | Some("") => true,
        Some("arm") => variants.iter().any(|(architecture, _)| *architecture == "arm"),
        Some("x86") => variants.iter().any(|(architecture, _)| *architecture == "x86"),
        Some("uefi") => variants.iter().any(|(_, boot)| *boot == "uefi"),
        Some(_) => false,
    };
    if let Some(tag) = tag.as_deref().filter(|tag| !matches!(*tag, "" | "arm" | "x86" | "uefi" | "bms")) {
        return Err(ApiError::invalid(format!("'{tag}' is not a tag: use bms, uefi, arm or x86.")));
    }
    let mut platforms: Vec<(String, Vec<Value>)> = Vec::new();
    if tag.as_deref() != Some("bms") {
        for (platform, os_type, os_version, variants) in crate::seed::CATALOG {
            if !wanted(variants) {
                continue;
            }
            let entry = json!({
                "platform": platform, "os_version_key": os_version, "os_version": os_version,
                "os_bit": 64, "os_type": os_type,
            });
            match platforms.iter_mut().find(|(name, _)| name == platform) {
                Some((_, list)) => list.push(entry),
                None => platforms.push((platform.to_string(), vec![entry])),
            }
        }
    }
    let body: Vec<Value> =
        platforms.into_iter().map(|(platform, list)| json!({ "platform": platform, "version_list": list })).collect();
    Ok(Json(Value::Array(body)))
}

fn job_body(job: crate::jobs::queue::JobRow, progress_shape: bool) -> Value {
    let entities = job.entities();
    let params: Value = serde_json::from_str(&job.params).unwrap_or(Value::Null);
    let member_job = job.job_type.ends_with("MembersJob");
    let mut body_entities = json!({
        "image_id": entities.image_id,
        "image_name": entities.image_name,
        "current_task": job.current_task,
        "process_percent": job.percent / 100.0,
    });
    if member_job {
        let list = |key: &str| -> Vec<String> {
            params
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        let status = if job.status == JobStatus::Success { "success" } else { "failed" };
        let results: Vec<Value> = list("images")
            .iter()
            .flat_map(|image| {
                list("projects")
                    .into_iter()
                    .map(move |project| json!({ "image_id": image, "project_id": project, "status": status }))
            })
            .collect();
        body_entities["results"] = json!(results);
    }
    if !progress_shape && job.status == JobStatus::Fail {
        body_entities["error_code"] = json!(job.error_code);
        body_entities["error"] = json!(job.fail_reason);
    }
    json!({
        "status": job.status.as_str(),
        "job_id": job.id,
        "job_type": job.job_type,
        "begin_time": iso_time(job.started_at.unwrap_or(job.created_at)),
        "end_time": job.finished_at.map(iso_time).unwrap_or_default(),
        "error_code": if job.error_code.is_empty() { Value::Null } else { json!(job.error_code) },
        "fail_reason": if job.fail_reason.is_empty() { Value::Null } else { json!(job.fail_reason) },
        "entities": body_entities,
    })
}

/// `GET /v1/{project_id}/jobs/{job_id}` (`show_job`).
pub async fn show_job(
    State(state): State<AppState>,
    Path((project_id, job_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    if project_id != signed.caller.project_id {
        return Err(ApiError::foreign_project());
    }
    let job = crate::jobs::service::get_job(&state, &signed.caller, &job_id).await?;
    Ok(Json(job_body(job, false)))
}

/// `GET /v1/cloudimages/job/{job_id}` (`show_job_progress`).
pub async fn show_job_progress(
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let job = crate::jobs::service::get_job(&state, &signed.caller, &job_id).await?;
    Ok(Json(job_body(job, true)))
}

/// `PUT /v1/cloudimages/{image_id}/upload`: imports a bucket file into a record made with
/// `POST /v2/images`.
pub async fn register_image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<super::JobId>> {
    let caller = signed.require(crate::caller::Access::Edit)?;
    let body: Value = signed.json()?;
    let url = body.get("image_url").and_then(Value::as_str).unwrap_or_default();
    let (bucket, object_key) = super::ims_images::bucket_object(url, "image_url")?;
    let format = super::ims_images::format_of(&object_key)?;
    let job_id = super::audited(&state, caller, "Create image from file", &image_id, async {
        crate::images::glance::register_file(&state, caller, &image_id, &bucket, &object_key, &format).await
    })
    .await?;
    Ok(Json(super::JobId { job_id }))
}

/// `GET /v2/schemas/{image,images,member,members}`.
pub async fn schema(Path(name): Path<String>, _signed: Signed) -> ApiResult<Json<Value>> {
    let nullable = |kind: &str| json!({ "type": ["null", kind] });
    let image_properties = json!({
        "id": { "type": "string" }, "name": nullable("string"), "status": { "type": "string" },
        "visibility": { "type": "string" }, "protected": { "type": "boolean" }, "os_hidden": { "type": "boolean" },
        "owner": nullable("string"), "disk_format": nullable("string"), "container_format": nullable("string"),
        "min_disk": { "type": "integer" }, "min_ram": { "type": "integer" }, "size": nullable("integer"),
        "virtual_size": nullable("integer"), "checksum": nullable("string"), "os_hash_algo": nullable("string"),
        "os_hash_value": { "type": ["null", "string"], "maxLength": 128 }, "tags": { "type": "array", "items": { "type": "string" } },
        "created_at": { "type": "string" }, "updated_at": { "type": "string" }, "self": { "type": "string" },
        "file": { "type": "string" }, "schema": { "type": "string" }, "__system_support_market": { "type": "boolean" },
    });
    let member_properties = json!({
        "image_id": { "type": "string" }, "member_id": { "type": "string" },
        "status": { "type": "string", "enum": ["pending", "accepted", "rejected"] },
        "created_at": { "type": "string" }, "updated_at": { "type": "string" }, "schema": { "type": "string" },
        "member_type": { "type": "string" },
    });
    let body = match name.as_str() {
        "image" => {
            json!({ "name": "image", "properties": image_properties, "additionalProperties": { "type": "string" } })
        }
        "images" => json!({
            "name": "images",
            "properties": { "images": { "type": "array", "items": { "name": "image", "properties": image_properties } },
                            "schema": { "type": "string" }, "first": { "type": "string" }, "next": { "type": "string" } },
            "links": [{ "rel": "first", "href": "{first}" }, { "rel": "next", "href": "{next}" }],
        }),
        "member" => json!({ "name": "member", "properties": member_properties }),
        "members" => json!({
            "name": "members",
            "properties": { "members": { "type": "array", "items": { "name": "member", "properties": member_properties } },
                            "schema": { "type": "string" } },
            "links": [{ "rel": "schema", "href": "{schema}" }],
        }),
        other => return Err(ApiError::not_found(format!("There is no schema named '{other}'.")).glance()),
    };
    Ok(Json(body))
}

/// `GET /v2/schemas/metadefs/{namespace,resource_type}`: valid, empty schemas (the `glance`
/// tool asks for them at start).
pub async fn metadefs_schema(Path(name): Path<String>, _signed: Signed) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "name": name, "properties": {} })))
}
