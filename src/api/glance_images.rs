//! The Glance-style image calls at `/v2/images` that the IMS SDK makes (`glance_*`): list,
//! show, update by JSON patch, delete. Errors use Glance's nested shape.

use super::error::{ApiError, ApiResult};
use super::image_json::image_object;
use super::ims_images::{patch_image, PatchOp};
use super::signed::Signed;
use super::{audited, query_pairs};
use crate::caller::Access;
use crate::format::url_encode;
use crate::images::api_list::{self, ApiListQuery};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

fn glance<T>(result: Result<T, impl Into<ApiError>>) -> ApiResult<T> {
    result.map_err(|error| error.into().glance())
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
        "images": page.images.iter().map(image_object).collect::<Vec<_>>(),
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
    let image = glance(crate::images::service::get_image(&state, &signed.caller, &image_id).await)?;
    Ok(Json(image_object(&image)))
}

/// `POST /v2/images`: metadata-only images come with the Glance upload flow, not built yet.
pub async fn create_image(_signed: Signed) -> ApiResult<Json<Value>> {
    Err(ApiError::unsupported("Creating an image record without a file (POST /v2/images)").glance())
}

/// `PATCH /v2/images/{image_id}` (`application/openstack-images-v2.1-json-patch`).
pub async fn update_image(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let caller = glance(signed.require(Access::Edit))?;
    let ops: Vec<PatchOp> = glance(signed.json())?;
    glance(patch_image(&state, caller, &image_id, &ops).await).map(Json)
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
