//! Sharing images between projects: the owner shares and stops sharing, the recipient accepts
//! or rejects, the account admin sets who may be shared with. Each change is recorded as a
//! finished job of the IMS job type (the IMS API returns these as `job_id`s).

use super::model::{
    self, parse_expiry, parse_image_ids, parse_project_ids, Credentials, MemberStatus, MemberView, NoticeCounts,
    PolicyView, SharingPolicy, MAX_MEMBERS,
};
use super::store::{self, ProjectInfo};
use crate::caller::{Access, Caller};
use crate::db::now_ms;
use crate::error::AppError;
use crate::images::model::ImageStatus;
use crate::images::service::own_private;
use crate::images::store::{self as image_store, OwnedImage};
use crate::jobs::model::JobEntities;
use crate::jobs::queue::{record_finished, NewJob};
use crate::market::store as market_store;
use crate::regions::region_name;
use crate::state::AppState;

pub const ADD_MEMBERS_JOB: &str = "imsAddImageMembersJob";
pub const DELETE_MEMBERS_JOB: &str = "imsDelImageMembersJob";
pub const UPDATE_MEMBERS_JOB: &str = "imsUpdateImageMembersJob";

/// My Credentials: the caller's account, user and the project of every region.
pub async fn credentials(state: &AppState, caller: &Caller) -> Result<Credentials, AppError> {
    Ok(Credentials {
        account_name: caller.account_name.clone(),
        account_id: caller.account_id.clone(),
        user_name: caller.user_name.clone(),
        role: caller.role,
        projects: store::projects_of(&state.db, &caller.account_id).await?,
    })
}

pub async fn notices(state: &AppState, caller: &Caller) -> Result<NoticeCounts, AppError> {
    Ok(store::notices(&state.db, &caller.project_id, now_ms()).await?)
}

/// Why the image cannot be shared at all, if it cannot.
async fn share_refusal(state: &AppState, id: &str, image: &OwnedImage) -> Result<Option<String>, AppError> {
    let published = market_store::offering_of(&state.db, id).await?.is_some();
    let active = image.status == ImageStatus::Active;
    let reason = model::share_refusal(active, &image.image_kind, !image.cmk_id.is_empty(), published);
    Ok(reason.map(|reason| format!("Image '{}' cannot be shared: {reason}", image.name)))
}

/// Whether the caller's account policy lets it share with `project`'s account.
fn policy_refusal(policy: SharingPolicy, allowed: &[(String, String)], project: &ProjectInfo) -> Option<String> {
    match policy {
        SharingPolicy::Any => None,
        SharingPolicy::None => Some(
            "Your account's sharing policy blocks all sharing. An account admin can change it in Account Settings."
                .to_string(),
        ),
        SharingPolicy::Listed if allowed.iter().any(|(id, _)| *id == project.account_id) => None,
        SharingPolicy::Listed => Some(format!(
            "Your account's sharing policy allows sharing only with listed accounts, and account '{}' (project {}) \
             is not on the list.",
            project.account_name, project.id
        )),
    }
}

/// The projects of the Project ID field, each checked: it exists, is in the caller's region,
/// is not the caller's own, and the account policy allows it.
async fn recipients(state: &AppState, caller: &Caller, field: &str) -> Result<Vec<ProjectInfo>, AppError> {
    let ids = parse_project_ids(field).map_err(|message| AppError::field("projects", message))?;
    let (policy, allowed) = store::policy_of(&state.db, &caller.account_id).await?;
    let mut projects = Vec::new();
    for id in ids {
        let project = store::find_project(&state.db, &id)
            .await?
            .ok_or_else(|| AppError::field("projects", format!("Project {id} does not exist.")))?;
        let refusal = if project.id == caller.project_id {
            Some(format!("Project {id} is your own project: share with another tenant's project."))
        } else if project.region != caller.region {
            Some(format!(
                "Project {id} is in region {}. Images are shared only within their region ({}).",
                region_name(&project.region),
                region_name(&caller.region)
            ))
        } else {
            policy_refusal(policy, &allowed, &project)
        };
        if let Some(message) = refusal {
            return Err(AppError::field("projects", message));
        }
        projects.push(project);
    }
    Ok(projects)
}

/// Shares the caller's images (comma separated ids) with the projects of the Project ID field,
/// until the optional expiry day ends. Returns the job id.
pub async fn share_images(
    state: &AppState,
    caller: &Caller,
    images: &str,
    projects: &str,
    expires_on: &str,
) -> Result<String, AppError> {
    let image_ids = parse_image_ids(images).map_err(|message| AppError::field("images", message))?;
    let now = now_ms();
    let expires_at = parse_expiry(expires_on, now).map_err(|message| AppError::field("expires_on", message))?;
    let mut named = Vec::new();
    for id in &image_ids {
        let image = own_private(state, caller, id).await?;
        if let Some(message) = share_refusal(state, id, &image).await? {
            return Err(AppError::field("images", message));
        }
        named.push(image.name);
    }
    let recipients = recipients(state, caller, projects).await?;
    let project_ids: Vec<String> = recipients.iter().map(|project| project.id.clone()).collect();
    let mut transaction = state.db.begin().await?;
    for (id, name) in image_ids.iter().zip(&named) {
        // With the image's row locked, a publish or another share of it waits for this one;
        // what was checked above is checked again where it could have changed meanwhile.
        if !image_store::lock_image(&mut transaction, id).await? {
            return Err(AppError::NotFound(format!("Image '{name}' has been deleted.")));
        }
        if market_store::offering_of(&mut *transaction, id).await?.is_some() {
            return Err(AppError::field(
                "images",
                format!("Image '{name}' cannot be shared: it has just been published in KooGallery."),
            ));
        }
        let count = store::add_members(&mut transaction, id, &project_ids, expires_at, now).await?;
        if count as usize > MAX_MEMBERS {
            return Err(AppError::field(
                "projects",
                format!("Image '{name}' would be shared with {count} projects; an image can be shared with at most {MAX_MEMBERS}."),
            ));
        }
    }
    let job_id =
        record_finished(&mut transaction, member_job(caller, ADD_MEMBERS_JOB, &image_ids, &named, &project_ids))
            .await?;
    transaction.commit().await?;
    tracing::info!(project = %caller.project_id, images = ?image_ids, members = ?project_ids, "images shared");
    Ok(job_id)
}

fn member_job(
    caller: &Caller,
    job_type: &'static str,
    images: &[String],
    names: &[String],
    projects: &[String],
) -> NewJob {
    let entities = JobEntities {
        image_id: if images.len() == 1 { images[0].clone() } else { String::new() },
        image_name: names.join(", "),
        target: match projects.len() {
            0 => "all projects".to_string(),
            1 => format!("project {}", projects[0]),
            count => format!("{count} projects"),
        },
        ..Default::default()
    };
    let params = serde_json::json!({ "images": images, "projects": projects });
    NewJob::new(caller, job_type, &params, entities)
}

/// The projects one of the caller's images is shared with.
pub async fn list_members(state: &AppState, caller: &Caller, image_id: &str) -> Result<Vec<MemberView>, AppError> {
    own_private(state, caller, image_id).await?;
    Ok(store::members_of(&state.db, image_id, now_ms()).await?)
}

/// One share of an image: the owner sees any of its image's, a recipient only its own.
pub async fn membership(
    state: &AppState,
    caller: &Caller,
    image_id: &str,
    member_id: &str,
) -> Result<MemberView, AppError> {
    let now = now_ms();
    let found = if image_store::find_owned(&state.db, caller, image_id).await?.is_some() {
        store::members_of(&state.db, image_id, now).await?.into_iter().find(|member| member.project_id == member_id)
    } else if member_id == caller.project_id {
        store::member_of(&state.db, image_id, member_id, now).await?
    } else {
        None
    };
    found.ok_or_else(|| AppError::NotFound(format!("Image '{image_id}' is not shared with project '{member_id}'.")))
}

/// Stops sharing one of the caller's images with the listed projects (comma separated), or
/// with every project when `projects` is empty. Recipients are not told. Returns the job id.
pub async fn stop_sharing(
    state: &AppState,
    caller: &Caller,
    image_id: &str,
    projects: &str,
) -> Result<String, AppError> {
    let image = own_private(state, caller, image_id).await?;
    let only = if projects.trim().is_empty() {
        None
    } else {
        Some(parse_project_ids(projects).map_err(|message| AppError::field("projects", message))?)
    };
    let mut transaction = state.db.begin().await?;
    let removed = store::remove_members(&mut transaction, image_id, only.as_deref(), now_ms()).await?;
    if removed == 0 {
        return Err(AppError::Conflict(format!(
            "Image '{}' is not shared with {}.",
            image.name,
            if only.is_some() { "that project" } else { "any project" }
        )));
    }
    let projects = only.unwrap_or_default();
    let job = member_job(caller, DELETE_MEMBERS_JOB, &[image_id.to_string()], &[image.name], &projects);
    let job_id = record_finished(&mut transaction, job).await?;
    transaction.commit().await?;
    tracing::info!(project = %caller.project_id, image = image_id, removed, "sharing stopped");
    Ok(job_id)
}

/// The recipient accepts or rejects images shared with its project (comma separated ids).
/// Returns the job id.
pub async fn answer_shares(state: &AppState, caller: &Caller, images: &str, status: &str) -> Result<String, AppError> {
    let image_ids = parse_image_ids(images).map_err(AppError::Invalid)?;
    let now = now_ms();
    // Images not shared with the caller are "not found" whatever the answer would have been.
    let mut names = Vec::new();
    for id in &image_ids {
        let name = store::shared_image_name(&state.db, id, &caller.project_id, now).await?;
        names.push(name.ok_or_else(|| not_shared(caller, id))?);
    }
    let status = match MemberStatus::parse(status.trim()) {
        Some(status @ (MemberStatus::Accepted | MemberStatus::Rejected)) => status,
        _ => return Err(AppError::Invalid(format!("'{status}' is not an answer: use accepted or rejected."))),
    };
    let mut transaction = state.db.begin().await?;
    for id in &image_ids {
        if !store::set_member_status(&mut transaction, id, &caller.project_id, status, now).await? {
            return Err(not_shared(caller, id));
        }
    }
    let job = member_job(caller, UPDATE_MEMBERS_JOB, &image_ids, &names, std::slice::from_ref(&caller.project_id));
    let job_id = record_finished(&mut transaction, job).await?;
    transaction.commit().await?;
    tracing::info!(project = %caller.project_id, images = ?image_ids, status = status.as_str(), "shares answered");
    Ok(job_id)
}

fn not_shared(caller: &Caller, id: &str) -> AppError {
    AppError::NotFound(format!(
        "Image '{id}' is not shared with your project in region {}.",
        region_name(&caller.region)
    ))
}

pub async fn sharing_policy(state: &AppState, caller: &Caller) -> Result<PolicyView, AppError> {
    let (policy, allowed) = store::policy_of(&state.db, &caller.account_id).await?;
    let allowed_ids: Vec<String> = allowed.iter().map(|(id, _)| id.clone()).collect();
    let forbidden_shares =
        store::forbidden_shares(&state.db, &caller.account_id, policy, &allowed_ids, now_ms()).await?;
    Ok(PolicyView {
        policy,
        allowed_accounts: allowed.into_iter().map(|(_, name)| name).collect(),
        forbidden_shares,
        can_edit: caller.require(Access::Admin).is_ok(),
    })
}

/// The account admin sets the sharing policy; `accounts` lists the allowed account names
/// (commas or new lines) for the `listed` policy. Existing shares stay until stopped.
pub async fn set_sharing_policy(
    state: &AppState,
    caller: &Caller,
    policy: &str,
    accounts: &str,
) -> Result<PolicyView, AppError> {
    caller.require(Access::Admin)?;
    let policy = SharingPolicy::parse(policy.trim())
        .ok_or_else(|| AppError::field("policy", "Choose one of the three sharing policies."))?;
    let mut allowed_ids = Vec::new();
    if policy == SharingPolicy::Listed {
        let names: Vec<&str> =
            accounts.split(|c: char| c == ',' || c.is_whitespace()).filter(|name| !name.is_empty()).collect();
        if names.is_empty() {
            return Err(AppError::field("accounts", "List at least one account name to share with."));
        }
        if names.len() > 100 {
            return Err(AppError::field("accounts", "List at most 100 accounts."));
        }
        for name in names {
            let shown: String = name.chars().take(64).collect();
            let id = store::account_id_by_name(&state.db, name)
                .await?
                .ok_or_else(|| AppError::field("accounts", format!("There is no account named '{shown}'.")))?;
            if id == caller.account_id {
                return Err(AppError::field("accounts", format!("'{shown}' is your own account.")));
            }
            if !allowed_ids.contains(&id) {
                allowed_ids.push(id);
            }
        }
    }
    let mut transaction = state.db.begin().await?;
    store::set_policy(&mut transaction, &caller.account_id, policy, &allowed_ids, now_ms()).await?;
    transaction.commit().await?;
    tracing::info!(account = %caller.account_name, policy = policy.as_str(), "sharing policy set");
    sharing_policy(state, caller).await
}

/// Stops every share of the account's images that its current policy forbids. Returns how
/// many ended.
pub async fn stop_forbidden_shares(state: &AppState, caller: &Caller) -> Result<u64, AppError> {
    caller.require(Access::Admin)?;
    let view = sharing_policy(state, caller).await?;
    let now = now_ms();
    let mut transaction = state.db.begin().await?;
    let mut stopped = 0;
    for share in &view.forbidden_shares {
        let project = std::slice::from_ref(&share.project_id);
        stopped += store::remove_members(&mut transaction, &share.image_id, Some(project), now).await?;
    }
    if stopped > 0 {
        let mut images: Vec<String> = view.forbidden_shares.iter().map(|share| share.image_id.clone()).collect();
        let mut names: Vec<String> = view.forbidden_shares.iter().map(|share| share.image_name.clone()).collect();
        let mut projects: Vec<String> = view.forbidden_shares.iter().map(|share| share.project_id.clone()).collect();
        for list in [&mut images, &mut names, &mut projects] {
            list.sort();
            list.dedup();
        }
        record_finished(&mut transaction, member_job(caller, DELETE_MEMBERS_JOB, &images, &names, &projects)).await?;
    }
    transaction.commit().await?;
    tracing::info!(account = %caller.account_name, stopped, "shares the policy forbids stopped");
    Ok(stopped)
}
