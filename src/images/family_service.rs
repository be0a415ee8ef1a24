//! Image families: the Image Families page's list and policies, "latest of family" for Create
//! ECS, and the sweep that applies a family's policy to each new Normal member: replicas in the
//! listed regions (a replica is not replicated again, so policies cannot bounce copies between
//! regions), then the members past the newest N to the recycle bin.

use super::families::{FamilyPolicyRequest, FamilyView, FAMILY_CHOICE_PREFIX};
use super::family_store as store;
use super::replicate::ReplicateRequest;
use crate::auth::audit::{self, Audit, Source};
use crate::caller::{Caller, Role};
use crate::error::AppError;
use crate::state::AppState;

/// The project's families: every family name its live images carry, and every policy.
pub async fn list_families(state: &AppState, caller: &Caller) -> Result<Vec<FamilyView>, AppError> {
    let counts = store::member_counts(&state.db, &caller.project_id).await?;
    let policies = store::policies(&state.db, &caller.project_id).await?;
    let mut names: Vec<String> = counts.iter().map(|(name, _)| name.clone()).collect();
    names.extend(policies.iter().map(|(name, _, _)| name.clone()));
    names.sort();
    names.dedup();
    let mut families = Vec::with_capacity(names.len());
    for name in names {
        let policy = policies.iter().find(|(policy, _, _)| *policy == name);
        families.push(FamilyView {
            members: counts.iter().find(|(family, _)| *family == name).map_or(0, |(_, count)| *count),
            latest: store::latest_member(&state.db, &caller.project_id, &name).await?,
            keep_newest: policy.and_then(|(_, keep, _)| *keep),
            replicate_to: policy.map(|(_, _, regions)| store::split_regions(regions)).unwrap_or_default(),
            name,
        });
    }
    Ok(families)
}

/// Sets a family's policy; it applies to members that become Normal from now on.
pub async fn set_policy(state: &AppState, caller: &Caller, request: &FamilyPolicyRequest) -> Result<(), AppError> {
    let policy = request.validate(&caller.region).map_err(AppError::Fields)?;
    store::set_policy(&state.db, &caller.project_id, request.name.trim(), &policy).await?;
    tracing::info!(family = %request.name.trim(), project = %caller.project_id, user = %caller.user_name, "family policy set");
    Ok(())
}

/// Create ECS's image choice: an image id as it is, or `family:NAME` as the family's latest
/// member's id.
pub async fn resolve_image_choice(state: &AppState, caller: &Caller, choice: &str) -> Result<String, AppError> {
    let Some(family) = choice.trim().strip_prefix(FAMILY_CHOICE_PREFIX) else {
        return Ok(choice.trim().to_string());
    };
    match store::latest_member(&state.db, &caller.project_id, family).await? {
        Some((id, _)) => Ok(id),
        None => Err(AppError::field(
            "image_id",
            format!("Family '{family}' has no Normal, non-deprecated image in this region."),
        )),
    }
}

/// (family, latest member's id) of each family of the caller's project that has one.
pub async fn latest_members(state: &AppState, caller: &Caller) -> Result<Vec<(String, String)>, AppError> {
    let mut latest = Vec::new();
    for (family, _) in store::member_counts(&state.db, &caller.project_id).await? {
        if let Some((id, _)) = store::latest_member(&state.db, &caller.project_id, &family).await? {
            latest.push((family, id));
        }
    }
    Ok(latest)
}

/// Who acts for a family's policy: the project itself, named so in the operation log.
async fn policy_caller(state: &AppState, project_id: &str, region: &str) -> Result<Option<Caller>, AppError> {
    let account: Option<(String, String)> = crate::auth::accounts::account_of_project(&state.db, project_id).await?;
    Ok(account.map(|(account_id, account_name)| Caller {
        user_id: String::new(),
        user_name: "Family policy".into(),
        role: Role::Admin,
        account_id,
        account_name,
        region: region.to_string(),
        project_id: project_id.to_string(),
    }))
}

/// Applies its family's policy to every member that became Normal since the last sweep.
/// Returns how many members were settled.
pub async fn settle_new_members(state: &AppState) -> usize {
    let mut settled = 0;
    loop {
        let members = match store::unsettled(&state.db, 50).await {
            Ok(members) => members,
            Err(error) => {
                tracing::warn!(%error, "family sweep: listing new members failed");
                return settled;
            }
        };
        if members.is_empty() {
            return settled;
        }
        for member in members {
            // Claimed first, so two sweeps (or instances) never apply a policy twice; a refused
            // step is logged and recorded in the operation log, not retried forever.
            match store::claim_unsettled(&state.db, &member.id).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(image = %member.id, %error, "family sweep: claiming a member failed");
                    return settled;
                }
            }
            if let Err(error) = settle(state, &member).await {
                tracing::warn!(image = %member.id, %error, "family sweep: applying the policy failed");
            }
            settled += 1;
        }
    }
}

async fn settle(state: &AppState, member: &store::NewMember) -> Result<(), AppError> {
    let Some(policy) = store::policy_of(&state.db, &member.owner, &member.family).await? else { return Ok(()) };
    let Some(caller) = policy_caller(state, &member.owner, &member.region).await? else { return Ok(()) };
    // A replica is not replicated again; the destinations are the account's other projects.
    let targets = if member.data_origin.starts_with("image,") || policy.replicate_to.is_empty() {
        Vec::new()
    } else {
        super::replicate_service::replication_targets(state, &caller).await?
    };
    for target in targets.into_iter().filter(|target| policy.replicate_to.contains(&target.region)) {
        let request = ReplicateRequest {
            images: member.id.clone(),
            replication_type: "cross".into(),
            name: member.name.clone(),
            description: format!("Replicated by the policy of family {}.", member.family),
            region: target.region,
            project_id: target.project_id,
        };
        let outcome = super::replicate_service::replicate(state, &caller, &request).await.map(|_| ());
        let entry = Audit::new("Replicate image", "image", member.id.as_str());
        audit::record(&state.db, &caller, Source::Console, &entry, outcome.as_ref().map(|_| ())).await;
    }
    if let Some(keep) = policy.keep_newest {
        for id in store::surplus_members(&state.db, &member.owner, &member.family, keep).await? {
            let outcome = super::recycle::delete_images(state, &caller, std::slice::from_ref(&id)).await;
            let entry = Audit::new("Delete image", "image", id.as_str());
            audit::record(&state.db, &caller, Source::Console, &entry, outcome.as_ref().map(|_| ())).await;
        }
    }
    Ok(())
}
