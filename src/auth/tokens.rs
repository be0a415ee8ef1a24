//! Keystone tokens for the Glance API: issued to a password login scoped to one project, valid
//! for 24 hours, revocable, and gone with their user. Only the token's SHA-256 is stored, so
//! a copy of the database holds no usable token.

use super::cache::TtlCache;
use crate::caller::{Caller, Role};
use crate::db::{now_ms, Db};
use crate::error::AppError;
use rand::RngCore;

pub const TOKEN_LIFETIME_MS: i64 = 24 * 3600 * 1000;

fn hash(token: &str) -> String {
    super::signature::sha256_hex(token.as_bytes())
}

/// A new token for `user_id` in `project_id`: (token, issued at, expires at).
pub async fn issue(db: &Db, user_id: &str, project_id: &str) -> Result<(String, i64, i64), AppError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("ims{}", crate::format::hex(&bytes));
    let now = now_ms();
    let expires_at = now + TOKEN_LIFETIME_MS;
    sqlx::query(
        "INSERT INTO api_tokens (token_hash, user_id, project_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash(&token))
    .bind(user_id)
    .bind(project_id)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    // Expired tokens of this user go now: the table never grows without bound.
    sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND expires_at < $2")
        .bind(user_id)
        .bind(now)
        .execute(db)
        .await?;
    Ok((token, now, expires_at))
}

/// A live token: its caller, when it was issued and when it expires.
#[derive(Clone)]
pub struct TokenInfo {
    pub caller: Caller,
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    created_at: i64,
    expires_at: i64,
    user_id: String,
    user_name: String,
    role: String,
    account_id: String,
    account_name: String,
    project_id: String,
    region: String,
}

/// Live tokens seen lately, by their hash.
static RECENT: TtlCache<TokenInfo> = TtlCache::new();

/// The token's caller, unless it is unknown, expired or revoked.
pub async fn lookup(db: &Db, token: &str) -> Result<Option<TokenInfo>, AppError> {
    if token.len() > 200 {
        return Ok(None);
    }
    let token_hash = hash(token);
    if let Some(info) = RECENT.get(&token_hash).filter(|info| info.expires_at > now_ms()) {
        return Ok(Some(info));
    }
    let row: Option<TokenRow> = sqlx::query_as(
        "SELECT t.created_at, t.expires_at, u.id AS user_id, u.name AS user_name, u.role, a.id AS account_id, \
         a.name AS account_name, p.id AS project_id, p.region \
         FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN accounts a ON a.id = u.account_id \
         JOIN projects p ON p.id = t.project_id AND p.account_id = a.id \
         WHERE t.token_hash = $1 AND t.expires_at > $2",
    )
    .bind(&token_hash)
    .bind(now_ms())
    .fetch_optional(db)
    .await?;
    let info = row.map(|row| TokenInfo {
        issued_at: row.created_at,
        expires_at: row.expires_at,
        caller: Caller {
            user_id: row.user_id,
            user_name: row.user_name,
            role: Role::parse(&row.role).unwrap_or(Role::Viewer),
            account_id: row.account_id,
            account_name: row.account_name,
            region: row.region,
            project_id: row.project_id,
        },
    });
    if let Some(info) = &info {
        RECENT.put(token_hash, info.clone());
    }
    Ok(info)
}

/// Ends a token at once. False when there was no such live token.
pub async fn revoke(db: &Db, token: &str) -> Result<bool, AppError> {
    let token_hash = hash(token);
    RECENT.forget(|key| key == token_hash);
    let deleted = sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1").bind(&token_hash).execute(db).await?;
    Ok(deleted.rows_affected() > 0)
}

/// The user's account's projects: (id, region), for `GET /v3/auth/projects` and scoping by name.
pub async fn projects_of_user(db: &Db, user_id: &str) -> Result<Vec<(String, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT p.id, p.region FROM projects p JOIN users u ON u.account_id = p.account_id WHERE u.id = $1 ORDER BY p.region",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?)
}
