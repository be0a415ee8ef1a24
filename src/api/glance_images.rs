//! The Glance v2 image calls (`/v2/images…`), for the IMS SDK's `glance_*` methods and for the
//! OpenStack clients: list, show, create (a record, then its data), upload, download, update by
//! JSON patch (attributes, tags, free-form properties), delete. Errors use Glance's shape.

use super::error::{glance, ApiError, ApiResult};
use super::image_json::image_object;
use super::ims_images::{patch_image, value_text, PatchOp};
use super::signed::{authenticate, Signed};
use super::{audited, query_pairs};
use crate::caller::{Access, Caller};
use crate::format::url_encode;
use crate::images::api_list::{self, ApiListQuery};
use crate::images::glance::{self, GlanceCreate};
use crate::images::model::ImageDetail;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// Image objects with their free-form properties as top-level string keys.
fn objects(images: &[ImageDetail]) -> Vec<Value> {
    images
        .iter()
        .map(|image| {
            let mut object = image_object(image);
            let properties: Option<Map<String, Value>> = serde_json::from_str(&image.properties).ok();
            if let (Some(map), Value::Object(target)) = (properties, &mut object) {
                for (key, value) in map {
                    target.entry(key).or_insert(value);
                }
            }
            object
        })
        .collect()
}

async fn one_object(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Value> {
    let image = glance(crate::images::service::get_image(state, caller, id).await)?;
    Ok(objects(std::slice::from_ref(&image)).remove(0))
}

/// `GET /v2/images`: a page, with `next` (relative, keeping `limit=`) while more remain.
pub async fn list_images(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let pairs = query_pairs(query.as_deref());
    let query = glance(ApiListQuery::from_pairs(&pairs, 25))?;
    let page = glance(api_list::list(&state.db, &signed.caller, &query).await)?;
    let mut body = json!({
        "images": objects(&page.images),
        "first": "/v2/images",
        "schema": "/v2/schemas/images",
    });
    if let (true, Some(last)) = (page.more, page.images.last()) {
        let mut next = format!("/v2/images?limit={}&marker={}", query.limit, url_encode(&last.id));
        for (key, value) in pairs.iter().filter(|(key, _)| key != "limit" && key != "marker") {
            next.push_str(&format!("&{}={}", url_encode(key), url_encode(value)));
        }
        body["next"] = json!(next);
    }
    Ok(Json(body))
}

/// `GET /v2/images/{image_id}`: 404 for anything the caller cannot see (names included).
pub async fn show_image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    Ok(Json(one_object(&state, &signed.caller, &image_id).await?))
}

/// Keys a create or patch may not set (the server owns them).
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "owner",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "created_at",
    "updated_at",
    "self",
    "file",
    "schema",
    "direct_url",
    "locations",
    "os_hidden",
];

fn create_request(body: &Map<String, Value>) -> ApiResult<GlanceCreate> {
    let mut request = GlanceCreate::default();
    let bad = |message: String| ApiError::invalid(message).glance();
    for (key, value) in body {
        let text = || value.as_str().map(str::to_string).ok_or_else(|| bad(format!("{key} must be a string.")));
        let number = || value.as_i64().ok_or_else(|| bad(format!("{key} must be a whole number.")));
        match key.as_str() {
            "name" => request.name = text()?,
            "disk_format" => request.disk_format = text()?,
            "container_format" => request.container_format = text()?,
            "min_disk" => request.min_disk = number()?,
            "min_ram" => request.min_ram = number()?,
            "protected" => {
                request.protected = value.as_bool().ok_or_else(|| bad("protected must be true or false.".into()))?
            }
            "tags" => {
                request.tags = value
                    .as_array()
                    .ok_or_else(|| bad("tags must be a list of strings.".into()))?
                    .iter()
                    .map(|tag| {
                        tag.as_str().map(str::to_string).ok_or_else(|| bad("tags must be a list of strings.".into()))
                    })
                    .collect::<Result<_, _>>()?
            }
            "visibility" if value == "private" => {}
            "visibility" => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "IMG.0003",
                    "Only private images can be created; share one to let other projects use it.",
                )
                .glance())
            }
            "__os_version" | "os_version" => request.os_version = text()?,
            "__platform" => request.platform = text()?,
            "__os_type" => request.os_type = text()?,
            read_only if READ_ONLY.contains(&read_only) => {
                return Err(
                    ApiError::new(StatusCode::FORBIDDEN, "IMG.0003", format!("{key} is set by the server.")).glance()
                )
            }
            _ => {
                let text = value.as_str().ok_or_else(|| bad(format!("The property {key} must be a string.")))?;
                request.properties.insert(key.clone(), json!(text));
            }
        }
    }
    if request.os_version.is_empty() {
        // IMS's default for an image registered without one.
        request.os_version = "Other Linux(64 bit)".into();
        request.os_type = "Linux".into();
    }
    if request.platform.is_empty() {
        let (platform, os_type) = super::ims_images::os_of(&request.os_version, &request.os_type);
        request.platform = platform;
        request.os_type = os_type;
    }
    Ok(request)
}

/// `POST /v2/images`: a Queued image record; its data comes with `PUT …/file`.
pub async fn create_image(State(state): State<AppState>, signed: Signed) -> ApiResult<Response> {
    let caller = glance(signed.require(Access::Edit))?;
    let body: Map<String, Value> = glance(signed.json())?;
    let request = create_request(&body)?;
    let id = glance(
        audited(&state, caller, "Create image record", "", glance::create_record(&state, caller, &request)).await,
    )?;
    let object = one_object(&state, caller, &id).await?;
    Ok((StatusCode::CREATED, Json(object)).into_response())
}

/// `PUT /v2/images/{image_id}/file`: the data, streamed (chunked or with a length) into the
/// import job. Authenticated by token (the body is not read before it is stored).
pub async fn upload(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    request: Request,
) -> ApiResult<StatusCode> {
    let (parts, body) = request.into_parts();
    let caller = authenticate(&state, &parts, &[]).await.map_err(ApiError::glance)?;
    caller.require(Access::Edit).map_err(|error| ApiError::from(error).glance())?;
    let size_hint = parts
        .headers
        .get("x-openstack-image-size")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let stream = body.into_data_stream();
    glance(
        audited(
            &state,
            &caller,
            "Upload image data",
            &image_id,
            glance::upload(&state, &caller, &image_id, size_hint, stream),
        )
        .await,
    )?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2/images/{image_id}/file`: the stored file, streamed, with its MD5 in hex; 204 when
/// the image has no data.
pub async fn download(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Response> {
    let Some((key, size, md5)) = glance(glance::file_of(&state, &signed.caller, &image_id).await)? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let (_, stream) = state.storage.stream(&key).await.map_err(|error| {
        tracing::error!(%error, image = %image_id, "opening an image file for download");
        ApiError::from(crate::error::AppError::Internal).glance()
    })?;
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size as u64));
    if let Ok(value) = HeaderValue::from_str(&md5) {
        headers.insert("content-md5", value);
    }
    Ok(response)
}

/// Attributes the console's Modify changes.
const MODIFIABLE: &[&str] =
    &["name", "__description", "description", "min_ram", "max_ram", "hw_firmware_type", "__os_version", "protected"];

/// `PATCH /v2/images/{image_id}` (`application/openstack-images-v2.1-json-patch`): attributes
/// through Modify, `/tags` and `/tags/N` through the tag rules, anything else a free-form
/// string property. `add` overwrites; `replace` of a missing property adds it.
pub async fn update_image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let caller = glance(signed.require(Access::Edit))?;
    let ops: Vec<PatchOp> = glance(signed.json())?;
    let image = glance(crate::images::service::get_image(&state, caller, &image_id).await)?;
    glance(crate::images::service::own_private(&state, caller, &image_id).await)?;
    let mut tags: Vec<String> = super::image_json::tag_strings(&image);
    let original_tags = tags.clone();
    let mut properties: Map<String, Value> = serde_json::from_str(&image.properties).unwrap_or_default();
    let original_properties = properties.clone();
    let mut attribute_ops = Vec::new();
    let bad = |message: String| ApiError::invalid(message).glance();
    for op in ops {
        let path = op.path.trim_start_matches('/').to_string();
        let remove = op.op == "remove";
        if !matches!(op.op.as_str(), "add" | "replace" | "remove") {
            return Err(bad(format!("'{}' is not a patch op: use add, replace or remove.", op.op)));
        }
        if path == "tags" {
            let list = op.value.as_array().ok_or_else(|| bad("/tags takes a list of strings.".into()))?;
            tags = if remove { Vec::new() } else { list.iter().map(value_text).collect() };
        } else if let Some(index) = path.strip_prefix("tags/") {
            match (remove, index) {
                (false, "-") => tags.push(value_text(&op.value)),
                (false, index) => {
                    let at = index
                        .parse::<usize>()
                        .ok()
                        .filter(|at| *at <= tags.len())
                        .ok_or_else(|| bad(format!("No tag position {index}.")))?;
                    tags.insert(at, value_text(&op.value));
                }
                (true, index) => {
                    let at = index
                        .parse::<usize>()
                        .ok()
                        .filter(|at| *at < tags.len())
                        .ok_or_else(|| bad(format!("No tag position {index}.")))?;
                    tags.remove(at);
                }
            }
        } else if MODIFIABLE.contains(&path.as_str()) {
            attribute_ops.push(op);
        } else if READ_ONLY.contains(&path.as_str())
            || matches!(path.as_str(), "disk_format" | "container_format" | "min_disk" | "visibility")
        {
            let current = image_object(&image)[path.as_str()].clone();
            if remove || value_text(&current) != value_text(&op.value) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "IMG.0003",
                    format!("{path} cannot be changed here."),
                )
                .glance());
            }
        } else if remove {
            properties.remove(&path).ok_or_else(|| {
                ApiError::new(StatusCode::CONFLICT, "IMG.0006", format!("The image has no property {path}.")).glance()
            })?;
        } else {
            let text = op.value.as_str().ok_or_else(|| bad(format!("The property {path} must be a string.")))?;
            properties.insert(path, json!(text));
        }
    }
    if !attribute_ops.is_empty() {
        glance(patch_image(&state, caller, &image_id, &attribute_ops).await)?;
    }
    tags.dedup();
    if tags != original_tags {
        // A tag string is `key.value`, or a bare key.
        let split = |tag: &String| match tag.split_once('.') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (tag.clone(), String::new()),
        };
        let added: Vec<(String, String)> = tags.iter().filter(|tag| !original_tags.contains(tag)).map(split).collect();
        let removed: Vec<String> = original_tags
            .iter()
            .filter(|tag| !tags.contains(tag))
            .map(|tag| split(tag).0)
            .filter(|key| !added.iter().any(|(new_key, _)| new_key == key))
            .collect();
        glance(
            audited(&state, caller, "Set image tag", &image_id, async {
                for key in &removed {
                    crate::images::tags::delete_tag(&state, caller, &image_id, key).await?;
                }
                crate::images::tags::set_tags(&state, caller, &image_id, &added).await
            })
            .await,
        )?;
    }
    if properties != original_properties {
        glance(
            audited(
                &state,
                caller,
                "Modify image",
                &image_id,
                glance::set_properties(&state, caller, &image_id, &properties),
            )
            .await,
        )?;
    }
    Ok(Json(one_object(&state, caller, &image_id).await?))
}

/// `DELETE /v2/images/{image_id}`: to the recycle bin, as in the console. 204, no body.
pub async fn delete_image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    let caller = glance(signed.require(Access::Edit))?;
    if !signed.body.is_empty() {
        let body: Value = glance(signed.json())?;
        if body.get("delete_backup").and_then(Value::as_bool) == Some(true) {
            return Err(ApiError::unsupported("Deleting a full-ECS image's backup (delete_backup)").glance());
        }
    }
    glance(
        audited(
            &state,
            caller,
            "Delete image",
            &image_id,
            crate::images::service::delete_image(&state, caller, &image_id),
        )
        .await,
    )?;
    Ok(StatusCode::NO_CONTENT)
}
