//! The three generations of image tags the IMS API carries: v2 key/value tags, v1 string tags
//! (`key.value`) and Glance tags (a key with an empty value). All are the console's tags.

use super::error::{ApiError, ApiResult};
use super::ims_images::KeyValue;
use super::signed::Signed;
use super::{audited, query_pairs};
use crate::caller::{Access, Caller};
use crate::images::api_list::{self, ApiListQuery};
use crate::images::requests::TagRequest;
use crate::images::tags;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// The `{project_id}` of a path must be the caller's.
fn same_project(signed: &Signed, project_id: &str) -> ApiResult<()> {
    if project_id == signed.caller.project_id {
        Ok(())
    } else {
        Err(ApiError::foreign_project())
    }
}

async fn set_tags(state: &AppState, caller: &Caller, image_id: &str, pairs: Vec<(String, String)>) -> ApiResult<()> {
    audited(state, caller, "Set image tag", image_id, tags::set_tags(state, caller, image_id, &pairs)).await?;
    Ok(())
}

async fn delete_tags(state: &AppState, caller: &Caller, image_id: &str, keys: &[String]) -> ApiResult<()> {
    audited(state, caller, "Delete image tag", image_id, async {
        for key in keys {
            tags::delete_tag(state, caller, image_id, key).await?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct AddTagBody {
    tag: KeyValue,
}

/// `POST /v2/{project_id}/images/{image_id}/tags`: adds (or overwrites) one tag.
pub async fn add_tag(
    State(state): State<AppState>,
    Path((project_id, image_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    same_project(&signed, &project_id)?;
    let caller = signed.require(Access::Edit)?;
    let body: AddTagBody = signed.json()?;
    set_tags(&state, caller, &image_id, vec![(body.tag.key, body.tag.value)]).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct BatchBody {
    action: String,
    tags: Vec<KeyValue>,
}

/// `POST /v2/{project_id}/images/{image_id}/tags/action`: `create` or `delete` several.
pub async fn batch_tags(
    State(state): State<AppState>,
    Path((project_id, image_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    same_project(&signed, &project_id)?;
    let caller = signed.require(Access::Edit)?;
    let body: BatchBody = signed.json()?;
    match body.action.as_str() {
        "create" => {
            set_tags(&state, caller, &image_id, body.tags.into_iter().map(|tag| (tag.key, tag.value)).collect()).await?
        }
        "delete" => {
            let keys: Vec<String> = body.tags.into_iter().map(|tag| tag.key).collect();
            delete_tags(&state, caller, &image_id, &keys).await?
        }
        other => return Err(ApiError::invalid(format!("'{other}' is not an action: use create or delete."))),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v2/{project_id}/images/{image_id}/tags/{key}`.
pub async fn delete_tag(
    State(state): State<AppState>,
    Path((project_id, image_id, key)): Path<(String, String, String)>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    same_project(&signed, &project_id)?;
    let caller = signed.require(Access::Edit)?;
    require_tag(&state, caller, &image_id, &key).await?;
    delete_tags(&state, caller, &image_id, &[key]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// NotFound unless the caller's image has tag `key`.
async fn require_tag(state: &AppState, caller: &Caller, image_id: &str, key: &str) -> ApiResult<()> {
    crate::images::service::own_private(state, caller, image_id).await?;
    let image = crate::images::service::get_image(state, caller, image_id).await?;
    if image.tags.iter().any(|tag| tag.key == key) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("Image '{image_id}' has no tag '{key}'.")))
    }
}

#[derive(Deserialize)]
pub struct DeleteBody {
    tags: Vec<KeyValue>,
}

/// `DELETE /v1/{project_id}/cloudimages/{image_id}/tags/delete`.
pub async fn batch_delete_tags(
    State(state): State<AppState>,
    Path((project_id, image_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    same_project(&signed, &project_id)?;
    let caller = signed.require(Access::Edit)?;
    let body: DeleteBody = signed.json()?;
    let keys: Vec<String> = body.tags.into_iter().map(|tag| tag.key).collect();
    delete_tags(&state, caller, &image_id, &keys).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v2/{project_id}/images/{image_id}/tags`.
pub async fn list_image_tags(
    State(state): State<AppState>,
    Path((project_id, image_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    same_project(&signed, &project_id)?;
    let image = crate::images::service::get_image(&state, &signed.caller, &image_id).await?;
    let list: Vec<Value> = image.tags.iter().map(|tag| json!({ "key": tag.key, "value": tag.value })).collect();
    Ok(Json(json!({ "tags": list })))
}

/// `GET /v2/{project_id}/images/tags`: every key of the project's images with its values.
pub async fn list_project_tags(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    same_project(&signed, &project_id)?;
    let grouped = tags::project_tags(&state, &signed.caller).await?;
    let list: Vec<Value> = grouped.into_iter().map(|(key, values)| json!({ "key": key, "values": values })).collect();
    Ok(Json(json!({ "tags": list })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TagFilter {
    key: String,
    values: Vec<String>,
}

#[derive(Deserialize)]
pub struct ByTagsBody {
    action: String,
    #[serde(default)]
    tags: Vec<TagFilter>,
    #[serde(default)]
    tags_any: Vec<TagFilter>,
    #[serde(default)]
    not_tags: Vec<TagFilter>,
    #[serde(default)]
    not_tags_any: Vec<TagFilter>,
    #[serde(default)]
    limit: Option<String>,
    #[serde(default)]
    offset: Option<String>,
    #[serde(default)]
    matches: Vec<KeyValue>,
    #[serde(default)]
    without_any_tag: bool,
}

/// Whether an image's tags satisfy one filter (`values` empty: any value of the key).
fn has(tags: &[(String, String)], filter: &TagFilter) -> bool {
    tags.iter().any(|(key, value)| *key == filter.key && (filter.values.is_empty() || filter.values.contains(value)))
}

/// `POST /v2/{project_id}/images/resource_instances/action`: filter or count by tags.
pub async fn images_by_tags(
    State(state): State<AppState>,
    Path(project_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    same_project(&signed, &project_id)?;
    let body: ByTagsBody = signed.json()?;
    let number = |text: &Option<String>, default: usize, max: usize, what: &str| -> ApiResult<usize> {
        match text.as_deref().map(str::trim) {
            None | Some("") => Ok(default),
            Some(text) => text.parse::<usize>().ok().filter(|number| *number <= max).ok_or_else(|| {
                ApiError::invalid(format!("'{text}' is not a valid {what}: use a number from 0 to {max}."))
            }),
        }
    };
    let (limit, offset) = (number(&body.limit, 10, 1000, "limit")?, number(&body.offset, 0, usize::MAX, "offset")?);
    if !matches!(body.action.as_str(), "filter" | "count") {
        return Err(ApiError::invalid(format!("'{}' is not an action: use filter or count.", body.action)));
    }
    let name_match = body.matches.iter().find(|m| m.key == "resource_name").map(|m| m.value.clone());
    let images = tags::tagged_images(&state, &signed.caller).await?;
    let chosen: Vec<_> = images
        .into_iter()
        .filter(|image| {
            let tags = &image.tags;
            body.tags.iter().all(|filter| has(tags, filter))
                && (body.tags_any.is_empty() || body.tags_any.iter().any(|filter| has(tags, filter)))
                && (body.not_tags.is_empty() || !body.not_tags.iter().all(|filter| has(tags, filter)))
                && !body.not_tags_any.iter().any(|filter| has(tags, filter))
                && (!body.without_any_tag || tags.is_empty())
                && name_match.as_ref().is_none_or(|name| image.name.contains(name.as_str()))
        })
        .collect();
    let total = chosen.len();
    if body.action == "count" {
        return Ok(Json(json!({ "total_count": total })));
    }
    let resources: Vec<Value> = chosen
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|image| {
            json!({
                "resource_id": image.id,
                "resource_name": image.name,
                "resource_detail": { "status": image.status },
                "tags": image.tags.iter().map(|(key, value)| json!({ "key": key, "value": value })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "resources": resources, "total_count": total })))
}

#[derive(Deserialize)]
pub struct V1TagBody {
    image_id: String,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    image_tag: Option<KeyValue>,
}

/// `PUT /v1/cloudimages/tags`: one tag, `key.value` or `{key, value}`.
pub async fn put_v1_tag(State(state): State<AppState>, signed: Signed) -> ApiResult<StatusCode> {
    let caller = signed.require(Access::Edit)?;
    let body: V1TagBody = signed.json()?;
    let pair = match (body.tag, body.image_tag) {
        (Some(tag), None) => match tag.split_once('.') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (tag, String::new()),
        },
        (None, Some(tag)) => (tag.key, tag.value),
        _ => return Err(ApiError::invalid("Give tag (key.value) or image_tag ({key, value}), one of the two.")),
    };
    set_tags(&state, caller, &body.image_id, vec![pair]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/cloudimages/tags`: the tags (`key.value`) of the images the filters cover (the
/// caller's private images unless `__imagetype` says otherwise), paged by `page` and `limit`.
pub async fn list_v1_tags(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let (mut page, mut limit) = (1usize, usize::MAX);
    let mut filters = Vec::new();
    for (key, value) in query_pairs(query.as_deref()) {
        match key.as_str() {
            "page" => {
                page = value
                    .parse()
                    .ok()
                    .filter(|page| *page >= 1)
                    .ok_or_else(|| ApiError::invalid("page must be 1 or more."))?
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|limit| *limit >= 1)
                    .ok_or_else(|| ApiError::invalid("limit must be 1 or more."))?
            }
            _ => filters.push((key, value)),
        }
    }
    if !filters.iter().any(|(key, _)| key == "__imagetype") {
        filters.push(("__imagetype".into(), "private".into()));
    }
    let list_query = ApiListQuery::from_pairs(&filters, api_list::MAX_LIMIT)?;
    let tags = api_list::tags_of(&state.db, &signed.caller, &list_query).await?;
    let strings: Vec<String> = tags
        .into_iter()
        .map(|(key, value)| if value.is_empty() { key } else { format!("{key}.{value}") })
        .skip((page - 1).saturating_mul(limit.min(1 << 20)))
        .take(limit)
        .collect();
    Ok(Json(json!({ "tags": strings })))
}

/// Glance tags may not contain `=` or `.`, and are a key with an empty value here.
fn glance_tag(tag: &str) -> ApiResult<String> {
    if tag.contains(['=', '.']) {
        return Err(ApiError::invalid("A Glance tag cannot contain '=' or '.'.").glance());
    }
    Ok(tag.to_string())
}

/// `PUT /v2/images/{image_id}/tags/{tag}`.
pub async fn glance_add_tag(
    State(state): State<AppState>,
    Path((image_id, tag)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    let caller = signed.require(Access::Edit).map_err(ApiError::glance)?;
    let tag = glance_tag(&tag)?;
    let request =
        TagRequest { image_id: image_id.clone(), key: tag, value: String::new(), original_key: String::new() };
    audited(&state, caller, "Set image tag", &image_id, tags::set_tag(&state, caller, &request))
        .await
        .map_err(|error| ApiError::from(error).glance())?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v2/images/{image_id}/tags/{tag}`: 404 when the image has no such tag.
pub async fn glance_delete_tag(
    State(state): State<AppState>,
    Path((image_id, tag)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    let caller = signed.require(Access::Edit).map_err(ApiError::glance)?;
    require_tag(&state, caller, &image_id, &tag).await.map_err(ApiError::glance)?;
    delete_tags(&state, caller, &image_id, &[tag]).await.map_err(ApiError::glance)?;
    Ok(StatusCode::NO_CONTENT)
}
