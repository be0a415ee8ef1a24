//! The sharing tables: the only writer of `image_members`, `account_settings` and
//! `sharing_allowed_accounts`. A share whose `expires_at` has passed counts as stopped in
//! every read, so it ends exactly at its time whether or not anything sweeps it.

use super::model::{ForbiddenShare, MemberStatus, MemberView, NoticeCounts, ProjectView, SharingPolicy};
use crate::db::Db;
use crate::regions::{region_name, REGIONS};
use sqlx::{Any, Transaction};

/// A project a share could go to.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProjectInfo {
    pub id: String,
    pub region: String,
    pub account_id: String,
    pub account_name: String,
}

pub async fn find_project(db: &Db, id: &str) -> Result<Option<ProjectInfo>, sqlx::Error> {
    sqlx::query_as(
        "SELECT p.id, p.region, p.account_id, a.name AS account_name FROM projects p \
         JOIN accounts a ON a.id = p.account_id WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn projects_of(db: &Db, account_id: &str) -> Result<Vec<ProjectView>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT region, id FROM projects WHERE account_id = $1 ORDER BY region")
            .bind(account_id)
            .fetch_all(db)
            .await?;
    // In the order the region switcher offers the regions.
    let mut projects: Vec<ProjectView> = rows
        .into_iter()
        .map(|(region, project_id)| ProjectView { region_name: region_name(&region).to_string(), region, project_id })
        .collect();
    projects.sort_by_key(|project| REGIONS.iter().position(|region| region.id == project.region));
    Ok(projects)
}

/// The account's sharing policy ('any' until an admin chooses) and the accounts (id, name) a
/// 'listed' policy allows.
pub async fn policy_of(db: &Db, account_id: &str) -> Result<(SharingPolicy, Vec<(String, String)>), sqlx::Error> {
    let policy: Option<SharingPolicy> =
        sqlx::query_scalar("SELECT sharing_policy FROM account_settings WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(db)
            .await?;
    let allowed: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.id, a.name FROM sharing_allowed_accounts s JOIN accounts a ON a.id = s.allowed_account_id \
         WHERE s.account_id = $1 ORDER BY a.name",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?;
    Ok((policy.unwrap_or(SharingPolicy::Any), allowed))
}

pub async fn set_policy(
    transaction: &mut Transaction<'_, Any>,
    account_id: &str,
    policy: SharingPolicy,
    allowed_ids: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO account_settings (account_id, sharing_policy, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id) DO UPDATE SET sharing_policy = excluded.sharing_policy, updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(policy)
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    sqlx::query("DELETE FROM sharing_allowed_accounts WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **transaction)
        .await?;
    for allowed in allowed_ids {
        sqlx::query(
            "INSERT INTO sharing_allowed_accounts (account_id, allowed_account_id) VALUES ($1, $2) \
             ON CONFLICT (account_id, allowed_account_id) DO NOTHING",
        )
        .bind(account_id)
        .bind(allowed)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}

/// The projects an image is shared with now (expired shares left out).
pub async fn members_of(db: &Db, image_id: &str, now: i64) -> Result<Vec<MemberView>, sqlx::Error> {
    let rows: Vec<(String, String, MemberStatus, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT m.member_id, COALESCE(a.name, ''), m.status, m.created_at, m.updated_at, m.expires_at \
         FROM image_members m LEFT JOIN projects p ON p.id = m.member_id LEFT JOIN accounts a ON a.id = p.account_id \
         WHERE m.image_id = $1 AND (m.expires_at IS NULL OR m.expires_at > $2) ORDER BY m.created_at, m.member_id",
    )
    .bind(image_id)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(project_id, account_name, status, created_at, updated_at, expires_at)| MemberView {
            project_id,
            account_name,
            status,
            created_at,
            updated_at,
            expires_at,
        })
        .collect())
}

/// The caller's own share of an image (as its recipient), while it lasts.
pub async fn member_of(db: &Db, image_id: &str, member_id: &str, now: i64) -> Result<Option<MemberView>, sqlx::Error> {
    Ok(members_of(db, image_id, now).await?.into_iter().find(|member| member.project_id == member_id))
}

/// Shares the image with `projects` (new ones pending; existing ones keep their status and
/// take the new expiry). An expired share is replaced by a new one. Returns how many
/// projects the image is shared with afterwards.
pub async fn add_members(
    transaction: &mut Transaction<'_, Any>,
    image_id: &str,
    projects: &[String],
    expires_at: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query("DELETE FROM image_members WHERE image_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2")
        .bind(image_id)
        .bind(now)
        .execute(&mut **transaction)
        .await?;
    for project in projects {
        sqlx::query(
            "INSERT INTO image_members (image_id, member_id, status, created_at, updated_at, expires_at) \
             VALUES ($1, $2, 'pending', $3, $3, $4) \
             ON CONFLICT (image_id, member_id) DO UPDATE SET expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        )
        .bind(image_id)
        .bind(project)
        .bind(now)
        .bind(expires_at)
        .execute(&mut **transaction)
        .await?;
    }
    sqlx::query_scalar("SELECT COUNT(*) FROM image_members WHERE image_id = $1")
        .bind(image_id)
        .fetch_one(&mut **transaction)
        .await
}

/// Ends the live shares of the image: with `only` the listed projects, otherwise all. Returns
/// how many ended (an expired share has ended already and is not counted).
pub async fn remove_members(
    transaction: &mut Transaction<'_, Any>,
    image_id: &str,
    only: Option<&[String]>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let live = "image_id = $1 AND (expires_at IS NULL OR expires_at > $2)";
    let Some(projects) = only else {
        let done = sqlx::query(&format!("DELETE FROM image_members WHERE {live}"))
            .bind(image_id)
            .bind(now)
            .execute(&mut **transaction)
            .await?;
        return Ok(done.rows_affected());
    };
    let mut removed = 0;
    for project in projects {
        let done = sqlx::query(&format!("DELETE FROM image_members WHERE {live} AND member_id = $3"))
            .bind(image_id)
            .bind(now)
            .bind(project)
            .execute(&mut **transaction)
            .await?;
        removed += done.rows_affected();
    }
    Ok(removed)
}

/// How many projects the image is shared with now, inside the caller's transaction.
pub async fn live_member_count(
    transaction: &mut Transaction<'_, Any>,
    image_id: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM image_members WHERE image_id = $1 AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(image_id)
    .bind(now)
    .fetch_one(&mut **transaction)
    .await
}

/// The recipient's answer to a live share. False when there is no such share (never shared,
/// stopped, expired, or the image deleted).
pub async fn set_member_status(
    transaction: &mut Transaction<'_, Any>,
    image_id: &str,
    project_id: &str,
    status: MemberStatus,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE image_members SET status = $1, updated_at = $2 WHERE image_id = $3 AND member_id = $4 \
         AND (expires_at IS NULL OR expires_at > $2) \
         AND EXISTS (SELECT 1 FROM images i WHERE i.id = image_members.image_id AND i.deleted_at IS NULL)",
    )
    .bind(status)
    .bind(now)
    .bind(image_id)
    .bind(project_id)
    .execute(&mut **transaction)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The name of an image shared with the project (any status), if the share is live.
pub async fn shared_image_name(
    db: &Db,
    image_id: &str,
    project_id: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT i.name FROM images i JOIN image_members m ON m.image_id = i.id \
         WHERE i.id = $1 AND m.member_id = $2 AND i.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > $3)",
    )
    .bind(image_id)
    .bind(project_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn notices(db: &Db, project_id: &str, now: i64) -> Result<NoticeCounts, sqlx::Error> {
    let live = "m.member_id = $1 AND (m.expires_at IS NULL OR m.expires_at > $2) \
        AND EXISTS (SELECT 1 FROM images i WHERE i.id = m.image_id AND i.deleted_at IS NULL)";
    let pending: i64 =
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM image_members m WHERE {live} AND m.status = 'pending'"))
            .bind(project_id)
            .bind(now)
            .fetch_one(db)
            .await?;
    let expiring: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM image_members m WHERE {live} AND m.status <> 'rejected' AND m.expires_at <= $3"
    ))
    .bind(project_id)
    .bind(now)
    .bind(now + super::model::EXPIRING_SOON_DAYS * super::model::DAY_MS)
    .fetch_one(db)
    .await?;
    Ok(NoticeCounts { pending, expiring })
}

/// Live shares of the account's images whose recipient `policy` (with `allowed` account ids)
/// does not allow.
pub async fn forbidden_shares(
    db: &Db,
    account_id: &str,
    policy: SharingPolicy,
    allowed: &[String],
    now: i64,
) -> Result<Vec<ForbiddenShare>, sqlx::Error> {
    if policy == SharingPolicy::Any {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT i.id, i.name, m.member_id, COALESCE(a.name, ''), COALESCE(a.id, '') FROM image_members m \
         JOIN images i ON i.id = m.image_id JOIN projects owner ON owner.id = i.owner \
         LEFT JOIN projects p ON p.id = m.member_id LEFT JOIN accounts a ON a.id = p.account_id \
         WHERE owner.account_id = $1 AND i.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > $2) \
         ORDER BY i.name, m.member_id",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, _, _, member_account)| policy == SharingPolicy::None || !allowed.contains(member_account))
        .map(|(image_id, image_name, project_id, account_name, _)| ForbiddenShare {
            image_id,
            image_name,
            project_id,
            account_name,
        })
        .collect())
}

/// Account ids by name, for the policy's list.
pub async fn account_id_by_name(db: &Db, name: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM accounts WHERE name = $1").bind(name).fetch_optional(db).await
}
