//! Deleting private images: what a deletion would affect, the recycle bin they go to, restoring
//! them, deleting them for good, and the sweeper that removes their files when their time is up.

use super::lineage;
use super::model::{DeletionImpact, DeletionPlan, RecycleBin};
use super::recycle_store::{self as bin, RecycleRefusal};
use super::store;
use crate::caller::Caller;
use crate::db::now_ms;
use crate::error::AppError;
use crate::jobs::model::JobEntities;
use crate::jobs::queue::{record_finished, NewJob};
use crate::quotas::model::QuotaKind;
use crate::quotas::service::require_room;
use crate::state::AppState;

/// The recycle bin's sweeper records each purge as a finished job of this type.
pub const PURGE_JOB: &str = "imsPurgeRecycledImageJob";
/// The most images one batch may name.
pub const MAX_BATCH: usize = 100;

/// What the user is told when `name` cannot be deleted.
pub fn refusal_message(name: &str, refusal: RecycleRefusal) -> String {
    match refusal {
        RecycleRefusal::Protected => {
            format!("Image '{name}' is protected and cannot be deleted. Turn off its deletion protection first.")
        }
        RecycleRefusal::InProgress => {
            format!("Image '{name}' is still being created. Delete it when it is ready or has failed.")
        }
        RecycleRefusal::Published => {
            format!("Image '{name}' is published in KooGallery. Unpublish it before deleting it.")
        }
        RecycleRefusal::Busy => format!(
            "Image '{name}' is in use by work in progress (an export, or a new ECS, disk or OS from it). \
             Delete it when that work has finished."
        ),
    }
}

/// The ids of a batch: one to MAX_BATCH, without repeats.
pub fn parse_ids(ids: &[String]) -> Result<Vec<String>, AppError> {
    let mut unique: Vec<String> = Vec::new();
    for id in ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()) {
        if !unique.iter().any(|seen| seen == id) {
            unique.push(id.to_string());
        }
    }
    match unique.len() {
        0 => Err(AppError::Invalid("Select at least one image.".into())),
        count if count > MAX_BATCH => {
            Err(AppError::Invalid(format!("Select at most {MAX_BATCH} images at once ({count} are selected).")))
        }
        _ => Ok(unique),
    }
}

/// For each image: what its deletion affects, or why it cannot be deleted.
pub async fn deletion_impact(state: &AppState, caller: &Caller, ids: &[String]) -> Result<DeletionPlan, AppError> {
    let mut impacts = Vec::new();
    for id in parse_ids(ids)? {
        let facts = bin::delete_facts(&state.db, caller, &id).await?.ok_or_else(|| {
            AppError::NotFound(format!("Image '{id}' is not one of your private images in this region."))
        })?;
        impacts.push(DeletionImpact {
            refusal: facts.refusal().map(|refusal| refusal_message(&facts.name, refusal)),
            descendants: lineage::descendants(&state.db, caller, &id, true).await?,
            name: facts.name,
            id,
        });
    }
    Ok(DeletionPlan { retention_ms: state.config.recycle.retention_ms, images: impacts })
}

/// Moves the caller's images to the recycle bin. Nothing is deleted when one of them cannot
/// be: the error names each such image and why.
pub async fn delete_images(state: &AppState, caller: &Caller, ids: &[String]) -> Result<(), AppError> {
    let ids = parse_ids(ids)?;
    let mut names = Vec::new();
    let mut refusals = Vec::new();
    for id in &ids {
        let facts = bin::delete_facts(&state.db, caller, id).await?.ok_or_else(|| store::not_found(id, caller))?;
        if let Some(refusal) = facts.refusal() {
            refusals.push(refusal_message(&facts.name, refusal));
        }
        names.push(facts.name);
    }
    if !refusals.is_empty() {
        return Err(AppError::Conflict(refusals.join(" ")));
    }
    for (id, name) in ids.iter().zip(&names) {
        if !bin::recycle(&state.db, caller, id, state.config.recycle.retention_ms).await? {
            // Something changed since the check (a job started, protection was turned on).
            let refusal = match bin::delete_facts(&state.db, caller, id).await? {
                Some(facts) => facts.refusal().unwrap_or(RecycleRefusal::Busy),
                None => return Err(store::not_found(id, caller)),
            };
            return Err(AppError::Conflict(refusal_message(name, refusal)));
        }
        tracing::info!(image = %id, project = %caller.project_id, user = %caller.user_name, "image moved to the recycle bin");
    }
    Ok(())
}

/// The caller's recycle bin.
pub async fn list_recycled(state: &AppState, caller: &Caller) -> Result<RecycleBin, AppError> {
    let images = bin::list(&state.db, caller).await?;
    Ok(RecycleBin { retention_ms: state.config.recycle.retention_ms, now: now_ms(), images })
}

fn not_in_bin(id: &str) -> AppError {
    AppError::NotFound(format!(
        "Image '{id}' is not in your recycle bin: it was restored, or its time was up and it has been deleted."
    ))
}

/// Brings an image back from the recycle bin, if the project has room for it.
pub async fn restore_image(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    require_room(state, caller, QuotaKind::Images, 1).await?;
    if !bin::restore(&state.db, caller, id).await? {
        return Err(not_in_bin(id));
    }
    tracing::info!(image = id, project = %caller.project_id, user = %caller.user_name, "image restored");
    Ok(())
}

/// Deletes an image of the recycle bin now: its file goes at once.
pub async fn delete_permanently(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    if !bin::purge_now(&state.db, caller, id).await? {
        return Err(not_in_bin(id));
    }
    // Only this image: the request does not take on the sweeper's work for every tenant.
    // Should removing its files fail here, the sweeper finishes the work.
    if let Some(image) = bin::due_image(&state.db, id).await? {
        if let Err(error) = purge(state, &image).await {
            tracing::warn!(image = id, %error, "deleting a recycled image now failed; the sweeper will retry");
        }
    }
    Ok(())
}

/// Removes the files of every image whose time in the bin is up, and marks them deleted. Each
/// step may be repeated (after a crash, or by two instances at once): files are removed before
/// the row says so, and only one instance records the purge.
pub async fn sweep(state: &AppState) -> usize {
    let mut purged = 0;
    loop {
        let due = match bin::due(&state.db, 50).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "recycle bin sweep: listing due images failed");
                return purged;
            }
        };
        if due.is_empty() {
            return purged;
        }
        let mut progressed = false;
        for image in due {
            match purge(state, &image).await {
                Ok(true) => {
                    purged += 1;
                    progressed = true;
                }
                Ok(false) => progressed = true,
                Err(error) => tracing::warn!(image = %image.id, %error, "recycle bin sweep: purging failed"),
            }
        }
        if !progressed {
            return purged;
        }
    }
}

async fn purge(state: &AppState, image: &bin::DueImage) -> Result<bool, AppError> {
    let parts = bin::part_keys(&state.db, &image.id).await?;
    for key in std::iter::once(image.file_location.clone()).chain(parts).filter(|key| !key.is_empty()) {
        state
            .storage
            .delete(&key)
            .await
            .map_err(|error| AppError::internal("removing a recycled image's file", error))?;
    }
    if !bin::mark_purged(&state.db, &image.id).await? {
        return Ok(false);
    }
    let entities = JobEntities { image_id: image.id.clone(), image_name: image.name.clone(), ..Default::default() };
    let job = NewJob::in_project(&image.owner, &image.region, PURGE_JOB, &(), entities);
    let mut transaction = state.db.begin().await?;
    record_finished(&mut transaction, job).await?;
    transaction.commit().await?;
    tracing::info!(image = %image.id, "recycled image purged");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_deduplicated_and_bounded() {
        let ids = |list: &[&str]| list.iter().map(|id| id.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_ids(&ids(&["a", " a ", "b", ""])).unwrap(), ids(&["a", "b"]));
        assert!(parse_ids(&ids(&["", " "])).unwrap_err().to_string().contains("at least one"));
        let many: Vec<String> = (0..=MAX_BATCH).map(|n| n.to_string()).collect();
        assert!(parse_ids(&many).unwrap_err().to_string().contains("at most 100"));
    }

    #[test]
    fn refusals_name_the_image_and_what_to_do() {
        let message = refusal_message("web", RecycleRefusal::Protected);
        assert!(message.contains("'web'") && message.contains("protection"));
        assert!(refusal_message("web", RecycleRefusal::Published).contains("Unpublish"));
    }
}
