//! Access keys (AK/SK): how a user's own scripts sign IMS API requests. A user holds at most
//! two; the secret key is shown once when made, and kept sealed under the master key because
//! checking a signature needs it. A key acts with its user's role.

use serde::{Deserialize, Serialize};

/// Keys one user may hold at once (as in Huawei Cloud IAM).
pub const MAX_ACCESS_KEYS: usize = 2;
pub const MAX_DESCRIPTION: usize = 255;

/// One row of the Access Keys table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AccessKeyView {
    pub id: String,
    pub description: String,
    /// `active` or `disabled`.
    pub status: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl AccessKeyView {
    pub fn enabled(&self) -> bool {
        self.status == "active"
    }
}

/// A key just made: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAccessKey {
    pub user_name: String,
    pub access_key: String,
    pub secret_key: String,
}

impl NewAccessKey {
    /// `credentials.csv` as Huawei Cloud's console hands it out.
    pub fn csv(&self) -> String {
        format!(
            "User Name,Access Key Id,Secret Access Key\n{},{},{}\n",
            self.user_name, self.access_key, self.secret_key
        )
    }
}

pub fn check_description(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_DESCRIPTION {
        Err(format!("The description can have at most {MAX_DESCRIPTION} characters."))
    } else if text.chars().any(|c| c.is_control()) {
        Err("The description cannot contain line breaks or control characters.".into())
    } else {
        Ok(())
    }
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::{check_description, AccessKeyView, NewAccessKey, MAX_ACCESS_KEYS};
    use crate::auth::cache::TtlCache;
    use crate::caller::{Caller, Role};
    use crate::db::{now_ms, Db};
    use crate::engine::sealed::MasterKey;
    use crate::error::AppError;
    use rand::Rng;

    const AK_LENGTH: usize = 20;
    const SK_LENGTH: usize = 40;

    fn random_text(length: usize, alphabet: &[u8]) -> String {
        let mut rng = rand::rngs::OsRng;
        (0..length).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
    }

    fn sealed_for(access_key: &str) -> String {
        format!("access-key:{access_key}")
    }

    /// The caller's own keys, oldest first.
    pub async fn list(db: &Db, caller: &Caller) -> Result<Vec<AccessKeyView>, AppError> {
        Ok(sqlx::query_as(
            "SELECT id, description, status, created_at, last_used_at FROM access_keys \
             WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(&caller.user_id)
        .fetch_all(db)
        .await?)
    }

    /// Makes a key for the caller, unless it has two already.
    pub async fn create(
        db: &Db,
        master: &MasterKey,
        caller: &Caller,
        description: &str,
    ) -> Result<NewAccessKey, AppError> {
        let description = description.trim();
        check_description(description).map_err(|message| AppError::field("description", message))?;
        let access_key = random_text(AK_LENGTH, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        let secret_key = random_text(SK_LENGTH, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        let mut transaction = db.begin().await?;
        // The user's row lock (a no-op write) makes concurrent creations take turns.
        sqlx::query("UPDATE users SET role = role WHERE id = $1")
            .bind(&caller.user_id)
            .execute(&mut *transaction)
            .await?;
        let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM access_keys WHERE user_id = $1")
            .bind(&caller.user_id)
            .fetch_one(&mut *transaction)
            .await?;
        if held as usize >= MAX_ACCESS_KEYS {
            return Err(AppError::Conflict(format!(
                "You already have {MAX_ACCESS_KEYS} access keys, the most a user can hold. Delete one to create another."
            )));
        }
        sqlx::query(
            "INSERT INTO access_keys (id, user_id, secret_sealed, description, status, created_at) \
             VALUES ($1, $2, $3, $4, 'active', $5)",
        )
        .bind(&access_key)
        .bind(&caller.user_id)
        .bind(master.seal(secret_key.as_bytes(), &sealed_for(&access_key)))
        .bind(description)
        .bind(now_ms())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        tracing::info!(user = %caller.user_name, access_key = %access_key, "access key created");
        Ok(NewAccessKey { user_name: caller.user_name.clone(), access_key, secret_key })
    }

    fn no_such_key(id: &str) -> AppError {
        AppError::NotFound(format!("You have no access key '{id}'."))
    }

    /// Enables or disables one of the caller's keys.
    pub async fn set_enabled(db: &Db, caller: &Caller, id: &str, enabled: bool) -> Result<(), AppError> {
        let changed = sqlx::query("UPDATE access_keys SET status = $1 WHERE id = $2 AND user_id = $3")
            .bind(if enabled { "active" } else { "disabled" })
            .bind(id.trim())
            .bind(&caller.user_id)
            .execute(db)
            .await?;
        forget_key(id.trim());
        if changed.rows_affected() == 0 {
            return Err(no_such_key(id));
        }
        tracing::info!(user = %caller.user_name, access_key = id, enabled, "access key status changed");
        Ok(())
    }

    /// Deletes one of the caller's keys: requests signed with it fail from now on.
    pub async fn delete(db: &Db, caller: &Caller, id: &str) -> Result<(), AppError> {
        let deleted = sqlx::query("DELETE FROM access_keys WHERE id = $1 AND user_id = $2")
            .bind(id.trim())
            .bind(&caller.user_id)
            .execute(db)
            .await?;
        forget_key(id.trim());
        if deleted.rows_affected() == 0 {
            return Err(no_such_key(id));
        }
        tracing::info!(user = %caller.user_name, access_key = id, "access key deleted");
        Ok(())
    }

    /// What a signed request's key stands for.
    #[derive(Clone)]
    pub enum KeyLookup {
        /// No such key.
        Unknown,
        Disabled,
        /// The key's secret, and its user acting in the project the request names (`None`
        /// when that project is not one of the user's account).
        Active {
            secret: Vec<u8>,
            caller: Option<Caller>,
        },
    }

    #[derive(sqlx::FromRow)]
    struct KeyRow {
        secret_sealed: String,
        status: String,
        user_id: String,
        user_name: String,
        role: String,
        account_id: String,
        account_name: String,
        project_id: Option<String>,
        region: Option<String>,
    }

    /// Keys seen lately, by access key and project ("AK\nproject"). Unknown keys are not kept,
    /// so made-up ones cannot crowd out real ones.
    static RECENT: TtlCache<KeyLookup> = TtlCache::new();

    fn forget_key(access_key: &str) {
        RECENT.forget(|key| key.split_once('\n').is_some_and(|(ak, _)| ak == access_key));
    }

    /// Looks up access key `access_key` and the caller it makes in `project_id`.
    pub async fn lookup(
        db: &Db,
        master: &MasterKey,
        access_key: &str,
        project_id: &str,
    ) -> Result<KeyLookup, AppError> {
        let cache_key = format!("{access_key}\n{project_id}");
        if let Some(found) = RECENT.get(&cache_key) {
            return Ok(found);
        }
        let found = lookup_stored(db, master, access_key, project_id).await?;
        if !matches!(found, KeyLookup::Unknown) {
            RECENT.put(cache_key, found.clone());
        }
        Ok(found)
    }

    /// The key's row and the caller it makes in `project_id`, in one query.
    async fn lookup_stored(
        db: &Db,
        master: &MasterKey,
        access_key: &str,
        project_id: &str,
    ) -> Result<KeyLookup, AppError> {
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT k.secret_sealed, k.status, u.id AS user_id, u.name AS user_name, u.role, \
             a.id AS account_id, a.name AS account_name, p.id AS project_id, p.region \
             FROM access_keys k JOIN users u ON u.id = k.user_id JOIN accounts a ON a.id = u.account_id \
             LEFT JOIN projects p ON p.id = $2 AND p.account_id = a.id \
             WHERE k.id = $1",
        )
        .bind(access_key)
        .bind(project_id)
        .fetch_optional(db)
        .await?;
        let Some(row) = row else { return Ok(KeyLookup::Unknown) };
        if row.status != "active" {
            return Ok(KeyLookup::Disabled);
        }
        let secret = master
            .open(&row.secret_sealed, &sealed_for(access_key))
            .map_err(|error| AppError::internal("an access key's sealed secret does not open", error))?;
        let caller = match (row.project_id, row.region) {
            (Some(project_id), Some(region)) => Some(Caller {
                user_id: row.user_id,
                user_name: row.user_name,
                role: Role::parse(&row.role).unwrap_or(Role::Viewer),
                account_id: row.account_id,
                account_name: row.account_name,
                region,
                project_id,
            }),
            _ => None,
        };
        Ok(KeyLookup::Active { secret, caller })
    }

    /// When this instance last wrote each key's last use: a busy key costs one write a minute,
    /// not one a request.
    static LAST_WRITTEN: std::sync::Mutex<Option<std::collections::HashMap<String, i64>>> = std::sync::Mutex::new(None);

    /// Notes that the key signed a request now; written at most once a minute a key.
    pub async fn touch(db: &Db, access_key: &str) {
        let now = now_ms();
        {
            let mut written = LAST_WRITTEN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let map = written.get_or_insert_with(Default::default);
            if map.get(access_key).is_some_and(|at| now - at < 60_000) {
                return;
            }
            if map.len() > 100_000 {
                map.clear();
            }
            map.insert(access_key.to_string(), now);
        }
        let result = sqlx::query(
            "UPDATE access_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(access_key)
        .bind(now - 60_000)
        .execute(db)
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, "recording an access key's last use failed");
        }
    }
}
