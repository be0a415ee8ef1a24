//! Key records: the only writer of `kms_keys`. A key belongs to one project (an account in one
//! region). A key whose deletion time has come is gone at once for every reader; the sweeper
//! removes its row (and with it the sealed material) later.

use super::model::{KeyState, KeyUser, MAX_KEYS_PER_PROJECT};
use crate::db::Db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub id: String,
    pub alias: String,
    pub description: String,
    pub state: KeyState,
    pub created_at: i64,
    pub deletion_at: Option<i64>,
}

const COLUMNS: &str = "id, alias, description, state, created_at, deletion_at";
/// Keys not yet deleted at `$2` (a key pending deletion lives until its time).
const LIVE: &str = "(deletion_at IS NULL OR deletion_at > $2)";

pub async fn list(db: &Db, project_id: &str, now: i64) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM kms_keys WHERE project_id = $1 AND {LIVE} ORDER BY created_at DESC, id"
    ))
    .bind(project_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// The project's live key `id`.
pub async fn find(db: &Db, project_id: &str, id: &str, now: i64) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM kms_keys WHERE project_id = $1 AND {LIVE} AND id = $3"))
        .bind(project_id)
        .bind(now)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// (key id, image) for every image of the project's that is encrypted under one of its keys.
pub async fn images_under_keys(db: &Db, project_id: &str) -> Result<Vec<(String, KeyUser)>, sqlx::Error> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT i.cmk_id, i.id, i.name FROM images i \
         WHERE i.cmk_id IN (SELECT k.id FROM kms_keys k WHERE k.project_id = $1) AND i.deleted_at IS NULL \
         ORDER BY i.name, i.id",
    )
    .bind(project_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(key, image_id, image_name)| (key, KeyUser { image_id, image_name })).collect())
}

pub enum Created {
    Done,
    AliasTaken,
    LimitReached,
}

pub struct NewKey<'a> {
    pub id: &'a str,
    pub project_id: &'a str,
    pub alias: &'a str,
    pub description: &'a str,
    pub material_sealed: &'a str,
    pub now: i64,
}

/// Adds a key unless the project already holds `MAX_KEYS_PER_PROJECT` (keys pending deletion
/// count) or the alias is taken. The project's row lock makes concurrent creations take turns.
pub async fn insert(db: &Db, key: NewKey<'_>) -> Result<Created, sqlx::Error> {
    let mut transaction = db.begin().await?;
    sqlx::query("UPDATE projects SET region = region WHERE id = $1")
        .bind(key.project_id)
        .execute(&mut *transaction)
        .await?;
    let held: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM kms_keys WHERE project_id = $1 AND {LIVE}"))
        .bind(key.project_id)
        .bind(key.now)
        .fetch_one(&mut *transaction)
        .await?;
    if held >= MAX_KEYS_PER_PROJECT {
        return Ok(Created::LimitReached);
    }
    // A key whose deletion time has passed but whose row the sweeper has not removed yet still
    // holds its alias in the unique index; it is gone for everyone, so its row goes now.
    sqlx::query("DELETE FROM kms_keys WHERE project_id = $1 AND alias = $2 AND deletion_at <= $3")
        .bind(key.project_id)
        .bind(key.alias)
        .bind(key.now)
        .execute(&mut *transaction)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO kms_keys (id, project_id, alias, description, state, material_sealed, created_at) \
         VALUES ($1, $2, $3, $4, 'enabled', $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(key.id)
    .bind(key.project_id)
    .bind(key.alias)
    .bind(key.description)
    .bind(key.material_sealed)
    .bind(key.now)
    .execute(&mut *transaction)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Created::AliasTaken);
    }
    transaction.commit().await?;
    Ok(Created::Done)
}

/// Moves a live key from `from` to `to` (and sets or clears its deletion time). False when the
/// key was not in `from` any more: another request changed it first.
pub async fn change_state(
    db: &Db,
    project_id: &str,
    id: &str,
    from: KeyState,
    to: KeyState,
    deletion_at: Option<i64>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "UPDATE kms_keys SET state = $4, deletion_at = $5 WHERE project_id = $1 AND {LIVE} AND id = $3 AND state = $6"
    ))
    .bind(project_id)
    .bind(now)
    .bind(id)
    .bind(to)
    .bind(deletion_at)
    .bind(from)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the keys whose deletion time has come; their sealed material goes with the row.
pub async fn delete_due(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM kms_keys WHERE deletion_at <= $1").bind(now).execute(db).await?.rows_affected())
}
