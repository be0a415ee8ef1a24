//! What a caller can do with its project's keys. A key's material is 32 random bytes, sealed
//! under the server's master key the moment it is made; it never leaves this module in clear
//! and is never logged.

use super::model::{parse_pending_days, validate_alias, validate_description, KeyState, KeyView, MAX_KEYS_PER_PROJECT};
use super::store::{self, Created, KeyRow, NewKey};
use crate::caller::Caller;
use crate::db::now_ms;
use crate::error::AppError;
use crate::format::format_time;
use crate::state::AppState;
use rand::RngCore;

const DAY_MS: i64 = 86_400_000;

/// What a key's sealed material is bound to: it opens only as this key's.
fn sealed_for(id: &str) -> String {
    format!("kms-key:{id}")
}

fn no_such_key(id: &str) -> AppError {
    AppError::NotFound(format!("Key {id} does not exist in this project, or has been deleted."))
}

/// The project's keys, newest first, each with the images encrypted under it.
pub async fn list_keys(state: &AppState, caller: &Caller) -> Result<Vec<KeyView>, AppError> {
    let rows = store::list(&state.db, &caller.project_id, now_ms()).await?;
    let mut users = store::images_under_keys(&state.db, &caller.project_id).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let images = users.extract_if(.., |(key, _)| *key == row.id).map(|(_, user)| user).collect();
            KeyView {
                id: row.id,
                alias: row.alias,
                description: row.description,
                state: row.state,
                created_at: row.created_at,
                deletion_at: row.deletion_at,
                images,
            }
        })
        .collect())
}

/// Makes an enabled key; returns its id.
pub async fn create_key(state: &AppState, caller: &Caller, alias: &str, description: &str) -> Result<String, AppError> {
    let (alias, description) = (alias.trim(), description.trim());
    let mut errors = Vec::new();
    if let Err(message) = validate_alias(alias) {
        errors.push(("alias".to_string(), message));
    }
    if let Err(message) = validate_description(description) {
        errors.push(("description".to_string(), message));
    }
    if !errors.is_empty() {
        return Err(AppError::Fields(errors));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut material = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut material);
    let material_sealed = state.master_key.seal(&material, &sealed_for(&id));
    let key = NewKey {
        id: &id,
        project_id: &caller.project_id,
        alias,
        description,
        material_sealed: &material_sealed,
        now: now_ms(),
    };
    match store::insert(&state.db, key).await? {
        Created::Done => Ok(id),
        Created::AliasTaken => Err(AppError::field(
            "alias",
            format!("A key with the alias \"{alias}\" already exists in this project. Choose another alias."),
        )),
        Created::LimitReached => Err(AppError::Conflict(format!(
            "This project already holds {MAX_KEYS_PER_PROJECT} keys, the most it may. Schedule a key you no longer need for deletion first."
        ))),
    }
}

async fn require_key(state: &AppState, caller: &Caller, id: &str, now: i64) -> Result<KeyRow, AppError> {
    store::find(&state.db, &caller.project_id, id, now).await?.ok_or_else(|| no_such_key(id))
}

/// Moves the key from the state it was read in; a concurrent change in between is a conflict,
/// not a silent overwrite.
async fn move_key(
    state: &AppState,
    caller: &Caller,
    key: &KeyRow,
    to: KeyState,
    deletion_at: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    if store::change_state(&state.db, &caller.project_id, &key.id, key.state, to, deletion_at, now).await? {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "Key \"{}\" was changed by another request meanwhile. Reload the page and try again.",
            key.alias
        )))
    }
}

/// Enables or disables a key. Images under a disabled key cannot be used until it is enabled
/// again. Asking for the state the key is already in changes nothing.
pub async fn set_key_enabled(state: &AppState, caller: &Caller, id: &str, enabled: bool) -> Result<(), AppError> {
    let now = now_ms();
    let key = require_key(state, caller, id, now).await?;
    let to = if enabled { KeyState::Enabled } else { KeyState::Disabled };
    match key.state {
        KeyState::PendingDeletion => Err(AppError::Conflict(format!(
            "Key \"{}\" is scheduled for deletion. Cancel the deletion first; the key is then disabled, and can be enabled.",
            key.alias
        ))),
        current if current == to => Ok(()),
        _ => move_key(state, caller, &key, to, None, now).await,
    }
}

/// Schedules the key's deletion `pending_days` (7–30) from now; until then it can be
/// cancelled, and images under it cannot be used. Returns the deletion time.
pub async fn schedule_key_deletion(
    state: &AppState,
    caller: &Caller,
    id: &str,
    pending_days: &str,
) -> Result<i64, AppError> {
    let days = parse_pending_days(pending_days).map_err(|message| AppError::field("pending_days", message))?;
    let now = now_ms();
    let key = require_key(state, caller, id, now).await?;
    if let (KeyState::PendingDeletion, Some(at)) = (key.state, key.deletion_at) {
        return Err(AppError::Conflict(format!(
            "Key \"{}\" is already scheduled for deletion at {}.",
            key.alias,
            format_time(at)
        )));
    }
    let deletion_at = now + days * DAY_MS;
    move_key(state, caller, &key, KeyState::PendingDeletion, Some(deletion_at), now).await?;
    Ok(deletion_at)
}

/// Cancels a scheduled deletion; the key comes back disabled, as in KMS, so that enabling it
/// again is a decision of its own.
pub async fn cancel_key_deletion(state: &AppState, caller: &Caller, id: &str) -> Result<(), AppError> {
    let now = now_ms();
    let key = require_key(state, caller, id, now).await?;
    if key.state != KeyState::PendingDeletion {
        return Err(AppError::Conflict(format!("Key \"{}\" is not scheduled for deletion.", key.alias)));
    }
    move_key(state, caller, &key, KeyState::Disabled, None, now).await
}

/// Removes keys whose deletion time has come (readers already treat them as gone).
pub async fn sweep_deleted_keys(state: &AppState) {
    match store::delete_due(&state.db, now_ms()).await {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "deleted keys whose waiting period ended"),
        Err(error) => tracing::warn!(%error, "key deletion sweep failed"),
    }
}
