//! Accounts, users, roles, login and sessions.

mod login_page;
pub use login_page::LoginPage;

#[cfg(feature = "ssr")]
pub mod handlers;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session_store;
#[cfg(feature = "ssr")]
pub mod throttle;

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Manages the account's images and users.
    Admin,
    /// Full image rights.
    Member,
    /// Read-only.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn can_modify_images(self) -> bool {
        matches!(self, Role::Admin | Role::Member)
    }
}

/// What the browser may know about the logged-in user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub account: String,
    pub user: String,
    pub role: Role,
    pub region: String,
    pub project_id: String,
}

/// The logged-in user, or `None` when nobody is logged in.
#[server(endpoint = "session_info")]
pub async fn load_session_info() -> Result<Option<SessionInfo>, AppError> {
    let state = crate::server::app_state()?;
    let session = crate::server::request_session().await?;
    Ok(current_user(&state.db, &session).await?.map(|user| user.info()))
}

/// Session keys.
#[cfg(feature = "ssr")]
pub const USER_ID_KEY: &str = "user_id";
#[cfg(feature = "ssr")]
pub const REGION_KEY: &str = "region";

/// The caller of a request, with the project of the region they are working in. Every query on
/// tenant data takes this (or its project id), so tenant scoping cannot be forgotten.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user_id: String,
    pub user_name: String,
    pub role: Role,
    pub account_id: String,
    pub account_name: String,
    pub region: String,
    pub project_id: String,
}

#[cfg(feature = "ssr")]
impl CurrentUser {
    pub fn info(&self) -> SessionInfo {
        SessionInfo {
            account: self.account_name.clone(),
            user: self.user_name.clone(),
            role: self.role,
            region: self.region.clone(),
            project_id: self.project_id.clone(),
        }
    }

    pub fn require_image_rights(&self) -> Result<(), AppError> {
        if self.role.can_modify_images() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Loads the user a session belongs to, in the region the session has selected.
#[cfg(feature = "ssr")]
pub async fn current_user(
    db: &crate::db::Db,
    session: &tower_sessions::Session,
) -> Result<Option<CurrentUser>, AppError> {
    let session_error = |error| AppError::internal("session read failed", error);
    let Some(user_id) = session.get::<String>(USER_ID_KEY).await.map_err(session_error)? else {
        return Ok(None);
    };
    let region = session
        .get::<String>(REGION_KEY)
        .await
        .map_err(session_error)?
        .filter(|region| crate::regions::find_region(region).is_some())
        .unwrap_or_else(|| crate::regions::DEFAULT_REGION.to_string());
    let row: Option<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT u.name, u.role, a.id, a.name, p.id FROM users u \
         JOIN accounts a ON a.id = u.account_id \
         JOIN projects p ON p.account_id = a.id AND p.region = $2 \
         WHERE u.id = $1",
    )
    .bind(&user_id)
    .bind(&region)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(user_name, role, account_id, account_name, project_id)| CurrentUser {
        user_id,
        user_name,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        account_id,
        account_name,
        region,
        project_id,
    }))
}

/// The caller of the current server function; `Unauthorized` when not logged in.
#[cfg(feature = "ssr")]
pub async fn require_user() -> Result<(crate::server::AppState, CurrentUser), AppError> {
    let state = crate::server::app_state()?;
    let session = crate::server::request_session().await?;
    let user = current_user(&state.db, &session).await?.ok_or(AppError::Unauthorized)?;
    Ok((state, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_viewers_are_read_only() {
        assert!(Role::Admin.can_modify_images());
        assert!(Role::Member.can_modify_images());
        assert!(!Role::Viewer.can_modify_images());
        for role in [Role::Admin, Role::Member, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
