//! Replicating images: the rules checked, then each replica registered (Queued) with the job
//! that copies its file, in one transaction. Within a region the replica is the caller's;
//! across regions it belongs to the account's project in the destination region.

use super::model::ImageDetail;
use super::replicate::{
    cross_region_refusal, in_region_refusal, ReplicaSource, ReplicateRequest, Replication, ReplicationTarget,
};
use super::replicate_jobs::{CopyParams, COPY_IN_REGION_JOB, CROSS_REGION_COPY_JOB};
use super::service::CreatedImage;
use super::store::{self, NewImage};
use crate::caller::Caller;
use crate::error::AppError;
use crate::jobs::model::JobEntities;
use crate::jobs::queue::{enqueue, NewJob};
use crate::quotas::model::QuotaKind;
use crate::quotas::service::require_room_in;
use crate::regions::region_name;
use crate::state::AppState;

/// The regions other than the caller's, each with the account's project there.
pub async fn replication_targets(state: &AppState, caller: &Caller) -> Result<Vec<ReplicationTarget>, AppError> {
    let projects = crate::auth::accounts::projects_of(&state.db, &caller.account_id).await?;
    Ok(projects
        .into_iter()
        .filter(|(_, region, _)| *region != caller.region)
        .map(|(project_id, region, project_name)| ReplicationTarget {
            region_name: region_name(&region).to_string(),
            region,
            project_id,
            project_name,
        })
        .collect())
}

/// Replicates within the region or across regions, as the request says. Returns the replicas.
pub async fn replicate(
    state: &AppState,
    caller: &Caller,
    request: &ReplicateRequest,
) -> Result<Vec<CreatedImage>, AppError> {
    match request.validate(&caller.region).map_err(AppError::Fields)? {
        Replication::InRegion { image_id, name, description } => {
            let source = source_image(state, caller, &image_id).await?;
            refuse_if(&source, in_region_refusal(&ReplicaSource::of(&source)))?;
            let replica = replica_of(&source, &caller.region, &caller.project_id, &name, &description);
            Ok(vec![register(state, caller, COPY_IN_REGION_JOB, replica, &source).await?])
        }
        Replication::CrossRegion { image_ids, name, description, region, project_id } => {
            let target = replication_targets(state, caller)
                .await?
                .into_iter()
                .find(|target| target.region == region)
                .ok_or_else(|| AppError::field("region", "Your account has no project in that region."))?;
            if target.project_id != project_id && target.project_name != project_id {
                return Err(AppError::field(
                    "project_id",
                    format!(
                        "Project '{project_id}' is not your account's project in {}; choose {}.",
                        target.region_name, target.project_name
                    ),
                ));
            }
            // Every image is checked before any is queued: all replicate, or none.
            let mut sources = Vec::with_capacity(image_ids.len());
            for id in &image_ids {
                let source = source_image(state, caller, id).await?;
                refuse_if(&source, cross_region_refusal(&ReplicaSource::of(&source)))?;
                sources.push(source);
            }
            let mut created = Vec::with_capacity(sources.len());
            for source in &sources {
                let name = name.clone().unwrap_or_else(|| source.name.clone());
                let replica = replica_of(source, &target.region, &target.project_id, &name, &description);
                created.push(register(state, caller, CROSS_REGION_COPY_JOB, replica, source).await?);
            }
            Ok(created)
        }
    }
}

async fn source_image(state: &AppState, caller: &Caller, id: &str) -> Result<ImageDetail, AppError> {
    store::get_image(&state.db, caller, id).await
}

fn refuse_if(image: &ImageDetail, refusal: Option<String>) -> Result<(), AppError> {
    match refusal {
        None => Ok(()),
        Some(reason) => Err(AppError::Conflict(format!("Image '{}' cannot be replicated: {reason}", image.name))),
    }
}

/// The replica's row: the source's attributes under a new name, in `region` for `owner`,
/// with its lineage pointing back to the source.
fn replica_of(source: &ImageDetail, region: &str, owner: &str, name: &str, description: &str) -> NewImage {
    NewImage {
        owner: owner.to_string(),
        description: description.to_string(),
        os_type: source.os_type.clone(),
        platform: source.platform.clone(),
        os_version: source.os_version.clone(),
        architecture: source.architecture.clone(),
        boot_mode: source.hw_firmware_type.clone(),
        disk_format: source.disk_format.clone(),
        min_disk: source.min_disk,
        min_ram: source.min_ram,
        max_ram: source.max_ram,
        // Counted against the stored-data quota while the copy runs, as an import's is.
        virtual_size: source.virtual_size,
        // Within a region the replica stays under the source's key.
        cmk_id: if region == source.region { source.cmk_id.clone() } else { String::new() },
        data_origin: format!("image,{}:{}", source.region, source.id),
        root_origin: source.root_origin.clone(),
        original_image_id: source.id.clone(),
        support_flags: source.support_flags.join(","),
        // A replica stays in its source's family (and, elsewhere, joins the family of that name).
        family: source.family.clone(),
        ..NewImage::queued_for(region, name, &source.kind)
    }
}

/// Registers the replica and queues its copy job, after the owner's quotas are checked.
async fn register(
    state: &AppState,
    caller: &Caller,
    job_type: &'static str,
    replica: NewImage,
    source: &ImageDetail,
) -> Result<CreatedImage, AppError> {
    let quotas = &state.config.quotas;
    require_room_in(&state.db, quotas, &replica.owner, QuotaKind::Images, 1).await?;
    require_room_in(&state.db, quotas, &replica.owner, QuotaKind::StoredBytes, replica.virtual_size).await?;
    let params =
        CopyParams { source_image_id: source.id.clone(), image_id: replica.id.clone(), region: replica.region.clone() };
    let entities = JobEntities {
        image_id: replica.id.clone(),
        image_name: replica.name.clone(),
        target: format!("{}:{}", region_name(&replica.region), replica.name),
        ..Default::default()
    };
    let mut transaction = state.db.begin().await?;
    store::insert_image(&mut transaction, &replica).await?;
    let job = NewJob::new(caller, job_type, &params, entities).for_image(&replica.id).reading_image(&source.id);
    let job_id = enqueue(&mut transaction, job).await?;
    transaction.commit().await?;
    state.wake_jobs();
    tracing::info!(source = %source.id, replica = %replica.id, region = %replica.region, user = %caller.user_name, "image replication queued");
    Ok(CreatedImage { image_id: replica.id, job_id })
}
