//! The image families' rows: members (images with a family name) and policies
//! (`image_families`). The only writer of `image_families` and of `images.family_settled`.

use super::families::ValidPolicy;
use crate::db::{now_ms, Db};

/// A project's members are its live images with the family's name.
const LIVE_MEMBER: &str = "owner = $1 AND family = $2 AND deleted_at IS NULL";

/// (family, live members) of the project's families, by name.
pub async fn member_counts(db: &Db, project_id: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT family, COUNT(*) FROM images WHERE owner = $1 AND family <> '' AND deleted_at IS NULL \
         GROUP BY family ORDER BY family",
    )
    .bind(project_id)
    .fetch_all(db)
    .await
}

/// (name, keep newest, replicate to) of the project's policies.
pub async fn policies(db: &Db, project_id: &str) -> Result<Vec<(String, Option<i64>, String)>, sqlx::Error> {
    sqlx::query_as("SELECT name, keep_newest, replicate_to FROM image_families WHERE project_id = $1 ORDER BY name")
        .bind(project_id)
        .fetch_all(db)
        .await
}

pub async fn policy_of(db: &Db, project_id: &str, family: &str) -> Result<Option<ValidPolicy>, sqlx::Error> {
    let row: Option<(Option<i64>, String)> =
        sqlx::query_as("SELECT keep_newest, replicate_to FROM image_families WHERE project_id = $1 AND name = $2")
            .bind(project_id)
            .bind(family)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(keep_newest, regions)| ValidPolicy { keep_newest, replicate_to: split_regions(&regions) }))
}

pub fn split_regions(text: &str) -> Vec<String> {
    text.split(',').filter(|region| !region.is_empty()).map(str::to_string).collect()
}

pub async fn set_policy(db: &Db, project_id: &str, family: &str, policy: &ValidPolicy) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO image_families (project_id, name, keep_newest, replicate_to, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (project_id, name) DO UPDATE SET keep_newest = excluded.keep_newest, \
         replicate_to = excluded.replicate_to, updated_at = excluded.updated_at",
    )
    .bind(project_id)
    .bind(family)
    .bind(policy.keep_newest)
    .bind(policy.replicate_to.join(","))
    .bind(now_ms())
    .execute(db)
    .await?;
    Ok(())
}

/// The newest Normal, non-deprecated member with a stored file: (id, name).
pub async fn latest_member(db: &Db, project_id: &str, family: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, name FROM images WHERE {LIVE_MEMBER} AND status = 'active' AND file_location <> '' \
         AND (deprecated_at IS NULL OR deprecated_at > $3) ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(project_id)
    .bind(family)
    .bind(now_ms())
    .fetch_optional(db)
    .await
}

/// A Normal member whose family's policy has not been applied yet.
#[derive(sqlx::FromRow)]
pub struct NewMember {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub region: String,
    pub family: String,
    pub data_origin: String,
}

pub async fn unsettled(db: &Db, limit: i64) -> Result<Vec<NewMember>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, owner, region, family, data_origin FROM images \
         WHERE family_settled = 0 AND status = 'active' AND deleted_at IS NULL ORDER BY created_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Takes a new member for settling; false when another sweep (or instance) took it first.
pub async fn claim_unsettled(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query("UPDATE images SET family_settled = 1 WHERE id = $1 AND family_settled = 0")
        .bind(id)
        .execute(db)
        .await?;
    Ok(claimed.rows_affected() == 1)
}

/// The Normal members past the newest `keep` that may go to the recycle bin: not protected
/// and not shared with anyone. Protected and shared members still count among the newest.
pub async fn surplus_members(db: &Db, project_id: &str, family: &str, keep: i64) -> Result<Vec<String>, sqlx::Error> {
    let members: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT id, protected, (SELECT COUNT(*) FROM image_members m WHERE m.image_id = i.id \
         AND (m.expires_at IS NULL OR m.expires_at > $3)) AS shares \
         FROM images i WHERE {LIVE_MEMBER} AND status = 'active' ORDER BY created_at DESC, id DESC"
    ))
    .bind(project_id)
    .bind(family)
    .bind(now_ms())
    .fetch_all(db)
    .await?;
    Ok(members
        .into_iter()
        .skip(keep.max(0) as usize)
        .filter(|(_, protected, shares)| *protected == 0 && *shares == 0)
        .map(|(id, _, _)| id)
        .collect())
}
