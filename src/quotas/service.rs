//! Quota checks the other services make before they create anything, and the quota table.

use super::model::{QuotaInfo, QuotaKind};
use super::store::{self, gb};
use crate::caller::Caller;
use crate::config::QuotaSettings;
use crate::db::Db;
use crate::error::AppError;
use crate::state::AppState;

pub fn limit(settings: &QuotaSettings, kind: QuotaKind) -> i64 {
    match kind {
        QuotaKind::Images => settings.images,
        QuotaKind::StoredBytes => settings.stored_bytes,
        QuotaKind::Objects => settings.objects,
        QuotaKind::Uploads => settings.uploads,
        QuotaKind::Servers => settings.servers,
        QuotaKind::Disks => settings.disks,
        QuotaKind::QueuedJobs => settings.queued_jobs,
    }
}

/// The project's quotas and what it uses of each.
pub async fn quotas(state: &AppState, caller: &Caller) -> Result<Vec<QuotaInfo>, AppError> {
    let mut lines = Vec::new();
    for kind in QuotaKind::ALL {
        let quota = limit(&state.config.quotas, kind);
        lines.push(QuotaInfo {
            kind: kind.type_name().to_string(),
            label: kind.label().to_string(),
            used: store::used(&state.db, &caller.project_id, kind).await?,
            quota,
            min: 0,
            max: quota,
            bytes: kind == QuotaKind::StoredBytes,
        });
    }
    Ok(lines)
}

/// How much more of `kind` the caller's project may take now.
pub async fn room_left(state: &AppState, caller: &Caller, kind: QuotaKind) -> Result<i64, AppError> {
    let used = store::used(&state.db, &caller.project_id, kind).await?;
    Ok((limit(&state.config.quotas, kind) - used).max(0))
}

/// Refuses (429, with the numbers) when `more` of `kind` would take the project past its quota.
pub async fn require_room(state: &AppState, caller: &Caller, kind: QuotaKind, more: i64) -> Result<(), AppError> {
    require_room_in(&state.db, &state.config.quotas, &caller.project_id, kind, more).await
}

/// `require_room` for a job, which has the database and settings but no caller.
pub async fn require_room_in(
    db: &Db,
    settings: &QuotaSettings,
    project_id: &str,
    kind: QuotaKind,
    more: i64,
) -> Result<(), AppError> {
    let (used, quota) = (store::used(db, project_id, kind).await?, limit(settings, kind));
    if used.saturating_add(more) <= quota {
        return Ok(());
    }
    let label = kind.label().to_lowercase();
    Err(AppError::TooMany(if kind == QuotaKind::StoredBytes {
        format!(
            "This needs {} GB of stored data and the project has {} GB of its {} GB quota left.",
            gb(more),
            gb((quota - used).max(0)),
            gb(quota)
        )
    } else {
        format!("The project's quota of {quota} {label} is reached ({used} in use). Delete some first.")
    }))
}
