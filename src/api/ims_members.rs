//! Sharing over the API: IMS's asynchronous batch member calls (each answers a job, already
//! finished: a share is a few rows) and the synchronous Glance member calls. Shares go to
//! projects; IMS's `domains` and `organizations` targets are not offered.

use super::error::{glance, ApiError, ApiResult};
use super::signed::Signed;
use super::{audited, query_pairs, JobId};
use crate::caller::{Access, Caller};
use crate::format::iso_time;
use crate::sharing::model::MemberView;
use crate::sharing::service as sharing;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

fn member_object(image_id: &str, member: &MemberView) -> Value {
    json!({
        "image_id": image_id,
        "member_id": member.project_id,
        "status": member.status.as_str(),
        "created_at": iso_time(member.created_at),
        "updated_at": iso_time(member.updated_at),
        "schema": "/v2/schemas/member",
        "member_type": "project",
    })
}

#[derive(Deserialize)]
pub struct MembersBody {
    images: Vec<String>,
    #[serde(default)]
    projects: Vec<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    organizations: Vec<String>,
}

impl MembersBody {
    fn projects_only(&self) -> ApiResult<()> {
        if !self.domains.is_empty() || !self.organizations.is_empty() {
            return Err(ApiError::unsupported("Sharing with accounts (domains) or organizations"));
        }
        if self.images.is_empty() {
            return Err(ApiError::invalid("images is empty: give the IDs of the images to share."));
        }
        Ok(())
    }
}

/// `POST /v1/cloudimages/members`: shares images with projects.
pub async fn batch_add(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: MembersBody = signed.json()?;
    body.projects_only()?;
    if body.projects.is_empty() {
        return Err(ApiError::invalid("projects is empty: give the project IDs to share with."));
    }
    let (images, projects) = (body.images.join(","), body.projects.join(","));
    let job_id =
        audited(&state, caller, "Share images", &images, sharing::share_images(&state, caller, &images, &projects, ""))
            .await?;
    Ok(Json(JobId { job_id }))
}

/// `DELETE /v1/cloudimages/members`: stops sharing images with projects. Answers the job of
/// the last image (one job is recorded per image).
pub async fn batch_delete(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: MembersBody = signed.json()?;
    body.projects_only()?;
    if body.projects.is_empty() {
        return Err(ApiError::invalid("projects is empty: give the project IDs to stop sharing with."));
    }
    let projects = body.projects.join(",");
    let mut job_id = String::new();
    for image in &body.images {
        job_id =
            audited(&state, caller, "Stop sharing", image, sharing::stop_sharing(&state, caller, image, &projects))
                .await?;
    }
    Ok(Json(JobId { job_id }))
}

#[derive(Deserialize)]
pub struct AnswerBody {
    images: Vec<String>,
    project_id: String,
    status: String,
    #[serde(default)]
    vault_id: Option<String>,
}

/// `PUT /v1/cloudimages/members`: the recipient project accepts or rejects shared images.
pub async fn batch_update(State(state): State<AppState>, signed: Signed) -> ApiResult<Json<JobId>> {
    let caller = signed.require(Access::Edit)?;
    let body: AnswerBody = signed.json()?;
    if body.vault_id.as_deref().is_some_and(|vault| !vault.is_empty()) {
        return Err(ApiError::unsupported("Accepting full-ECS images into a backup vault (vault_id)"));
    }
    if body.project_id != caller.project_id {
        return Err(ApiError::invalid("project_id must be your own project: only the recipient answers a share."));
    }
    let images = body.images.join(",");
    let job_id = audited(
        &state,
        caller,
        "Answer shares",
        &images,
        sharing::answer_shares(&state, caller, &images, &body.status),
    )
    .await?;
    Ok(Json(JobId { job_id }))
}

/// The owner's list of an image's members, paged by `marker` (a member id) and `limit`.
async fn members_page(state: &AppState, caller: &Caller, image_id: &str, query: Option<&str>) -> ApiResult<Value> {
    let mut members = sharing::list_members(state, caller, image_id).await?;
    let (mut limit, mut marker) = (members.len().max(1), None);
    for (key, value) in query_pairs(query) {
        match key.as_str() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|limit| *limit >= 1)
                    .ok_or_else(|| ApiError::invalid("limit must be 1 or more."))?
            }
            "marker" => marker = Some(value),
            _ => {}
        }
    }
    if let Some(marker) = marker {
        let at = members
            .iter()
            .position(|member| member.project_id == marker)
            .ok_or_else(|| ApiError::invalid(format!("The marker '{marker}' is not a member of this image.")))?;
        members.drain(..=at);
    }
    let more = members.len() > limit;
    members.truncate(limit);
    let list: Vec<Value> = members.iter().map(|member| member_object(image_id, member)).collect();
    let mut page_info = json!({ "current_count": list.len() });
    if more {
        page_info["next_marker"] = json!(members.last().map(|member| member.project_id.clone()));
    }
    Ok(json!({ "members": list, "schema": "/v2/schemas/members", "page_info": page_info }))
}

/// `GET /v1/{project_id}/cloudimages/{image_id}/members`.
pub async fn list_members(
    State(state): State<AppState>,
    Path((project_id, image_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    if project_id != signed.caller.project_id {
        return Err(ApiError::foreign_project());
    }
    Ok(Json(members_page(&state, &signed.caller, &image_id, query.as_deref()).await?))
}

/// `GET /v1/{project_id}/cloudimages/{image_id}/members/{member_id}`.
pub async fn show_member(
    State(state): State<AppState>,
    Path((project_id, image_id, member_id)): Path<(String, String, String)>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    if project_id != signed.caller.project_id {
        return Err(ApiError::foreign_project());
    }
    let member = sharing::membership(&state, &signed.caller, &image_id, &member_id).await?;
    Ok(Json(member_object(&image_id, &member)))
}

#[derive(Deserialize)]
pub struct GlanceMember {
    member: String,
}

/// `POST /v2/images/{image_id}/members`: shares with one project (200 with the member).
pub async fn glance_add(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let caller = glance(signed.require(Access::Edit))?;
    let body: GlanceMember = glance(signed.json())?;
    glance(
        audited(
            &state,
            caller,
            "Share images",
            &image_id,
            sharing::share_images(&state, caller, &image_id, &body.member, ""),
        )
        .await,
    )?;
    let member = glance(sharing::membership(&state, caller, &image_id, &body.member.to_ascii_lowercase()).await)?;
    Ok(Json(member_object(&image_id, &member)))
}

/// `GET /v2/images/{image_id}/members`.
pub async fn glance_list(
    State(state): State<AppState>,
    Path(image_id): Path<String>,
    RawQuery(query): RawQuery,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    glance(members_page(&state, &signed.caller, &image_id, query.as_deref()).await).map(Json)
}

/// `GET /v2/images/{image_id}/members/{member_id}`: for the owner, or the member itself.
pub async fn glance_show(
    State(state): State<AppState>,
    Path((image_id, member_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let member = glance(sharing::membership(&state, &signed.caller, &image_id, &member_id).await)?;
    Ok(Json(member_object(&image_id, &member)))
}

#[derive(Deserialize)]
pub struct GlanceStatus {
    status: String,
    #[serde(default)]
    vault_id: Option<String>,
}

/// `PUT /v2/images/{image_id}/members/{member_id}`: the member answers (the extra `member` key
/// openstacksdk sends is ignored).
pub async fn glance_update(
    State(state): State<AppState>,
    Path((image_id, member_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<Json<Value>> {
    let caller = glance(signed.require(Access::Edit))?;
    let body: GlanceStatus = glance(signed.json())?;
    if body.vault_id.as_deref().is_some_and(|vault| !vault.is_empty()) {
        return Err(ApiError::unsupported("Accepting full-ECS images into a backup vault (vault_id)").glance());
    }
    if member_id != caller.project_id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "IMG.0003",
            "Only the member project itself can accept or reject a shared image.",
        )
        .glance());
    }
    glance(
        audited(
            &state,
            caller,
            "Answer shares",
            &image_id,
            sharing::answer_shares(&state, caller, &image_id, &body.status),
        )
        .await,
    )?;
    let member = glance(sharing::membership(&state, caller, &image_id, &member_id).await)?;
    Ok(Json(member_object(&image_id, &member)))
}

/// `DELETE /v2/images/{image_id}/members/{member_id}`: the owner stops sharing with one project.
pub async fn glance_delete(
    State(state): State<AppState>,
    Path((image_id, member_id)): Path<(String, String)>,
    signed: Signed,
) -> ApiResult<StatusCode> {
    let caller = glance(signed.require(Access::Edit))?;
    glance(
        audited(
            &state,
            caller,
            "Stop sharing",
            &image_id,
            sharing::stop_sharing(&state, caller, &image_id, &member_id),
        )
        .await,
    )?;
    Ok(StatusCode::NO_CONTENT)
}
