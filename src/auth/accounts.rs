//! Accounts, their projects (one per region) and their users: the only writer of those tables.

use super::password::{burn_verification_time, hash_password, verify_password as password_matches};
use crate::caller::Role;
use crate::db::{new_hex_id, now_ms, Db};
use crate::regions::REGIONS;
use sqlx::{Any, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("user '{0}' already exists in account '{1}'")]
    UserExists(String, String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The argon2id hash of `password`, for `insert_user`.
pub fn password_hash(password: &str) -> Result<String, AccountError> {
    hash_password(password).map_err(|error| AccountError::Hashing(error.to_string()))
}

/// Creates the account if it is new, with one project in every region; returns its id.
pub async fn ensure_account(transaction: &mut Transaction<'_, Any>, name: &str) -> Result<String, sqlx::Error> {
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM accounts WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **transaction)
        .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = new_hex_id();
    sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(name)
        .bind(now_ms())
        .execute(&mut **transaction)
        .await?;
    for region in REGIONS {
        sqlx::query("INSERT INTO projects (id, account_id, region, name) VALUES ($1, $2, $3, $4)")
            .bind(new_hex_id())
            .bind(&id)
            .bind(region.id)
            .bind(region.id)
            .execute(&mut **transaction)
            .await?;
    }
    Ok(id)
}

pub async fn insert_user(
    transaction: &mut Transaction<'_, Any>,
    account_id: &str,
    name: &str,
    role: Role,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, account_id, name, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_hex_id())
    .bind(account_id)
    .bind(name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now_ms())
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

/// Creates a user (and its account, if new). Fails if the user already exists.
pub async fn create_user(db: &Db, account: &str, user: &str, role: Role, password: &str) -> Result<(), AccountError> {
    let password_hash = password_hash(password)?;
    let mut transaction = db.begin().await?;
    let account_id = ensure_account(&mut transaction, account).await?;
    insert_user(&mut transaction, &account_id, user, role, &password_hash).await.map_err(|error| match &error {
        sqlx::Error::Database(cause) if cause.is_unique_violation() => {
            AccountError::UserExists(user.to_string(), account.to_string())
        }
        _ => error.into(),
    })?;
    transaction.commit().await?;
    Ok(())
}

/// The id of the user whose account name, user name and password these are. An unknown user
/// takes as long to refuse as a wrong password, so timing tells nothing.
/// The outcome of one password check.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// The user's id.
    Verified(String),
    Wrong,
    /// Every verification slot stayed taken for `VERIFICATION_WAIT`: try again shortly.
    Busy,
}

/// Argon2 checks running at once in this process; each takes tens of milliseconds of CPU and
/// 19 MiB of memory, so a flood of logins must not take the server down with it.
const CONCURRENT_VERIFICATIONS: usize = 4;
const VERIFICATION_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
static VERIFICATIONS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_VERIFICATIONS);

pub async fn verify_password(db: &Db, account: &str, user: &str, password: &str) -> Result<Verification, sqlx::Error> {
    let Ok(Ok(_permit)) = tokio::time::timeout(VERIFICATION_WAIT, VERIFICATIONS.acquire()).await else {
        return Ok(Verification::Busy);
    };
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT u.id, u.password_hash FROM users u JOIN accounts a ON a.id = u.account_id \
         WHERE a.name = $1 AND u.name = $2",
    )
    .bind(account)
    .bind(user)
    .fetch_optional(db)
    .await?;
    let password = password.to_string();
    // argon2 takes tens of milliseconds of CPU: off the async threads.
    let verified = tokio::task::spawn_blocking(move || match found {
        Some((user_id, hash)) if password_matches(&password, &hash) => Some(user_id),
        Some(_) => None,
        None => {
            burn_verification_time(&password);
            None
        }
    })
    .await
    .unwrap_or(None);
    Ok(verified.map_or(Verification::Wrong, Verification::Verified))
}

/// The project of `account` in `region`.
pub async fn project_id(db: &Db, account: &str, region: &str) -> Result<String, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.id FROM projects p JOIN accounts a ON a.id = p.account_id WHERE a.name = $1 AND p.region = $2",
    )
    .bind(account)
    .bind(region)
    .fetch_one(db)
    .await
}

/// The account a project belongs to: (id, name).
pub async fn account_of_project(db: &Db, project_id: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT a.id, a.name FROM projects p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1")
        .bind(project_id)
        .fetch_optional(db)
        .await
}

/// Every project of the account: (id, region, name), by region.
pub async fn projects_of(db: &Db, account_id: &str) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, region, name FROM projects WHERE account_id = $1 ORDER BY region")
        .bind(account_id)
        .fetch_all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every verification slot taken, a login fails fast instead of queueing without end.
    #[tokio::test]
    async fn verifications_beyond_the_bound_fail_fast() {
        let db = crate::db::connect_and_migrate("sqlite::memory:").await.unwrap();
        let _all = VERIFICATIONS.acquire_many(CONCURRENT_VERIFICATIONS as u32).await.unwrap();
        let started = std::time::Instant::now();
        let outcome = verify_password(&db, "acme", "alice", "whatever").await.unwrap();
        assert_eq!(outcome, Verification::Busy);
        assert!(started.elapsed() < VERIFICATION_WAIT * 2);
    }
}
