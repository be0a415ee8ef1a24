//! Logins and sessions: who a request's caller is, and the one gate every server function
//! passes (`as_viewer` / `as_editor`). Accounts, users and projects live here too.

pub mod access_keys;
pub mod access_keys_panel;
pub mod audit;
pub mod login_page;
pub mod operation_log_page;

#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod handlers;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session_store;
#[cfg(feature = "ssr")]
pub mod signature;
#[cfg(feature = "ssr")]
pub mod throttle;
#[cfg(feature = "ssr")]
pub mod tokens;

use crate::caller::SessionInfo;
use crate::error::AppError;
use leptos::prelude::*;

/// The logged-in user, or `None` when nobody is logged in.
#[server(endpoint = "session_info")]
pub async fn load_session_info() -> Result<Option<SessionInfo>, AppError> {
    let state = crate::state::app_state()?;
    let session = crate::state::request_session().await?;
    Ok(caller_from_session(&state.db, &session).await?.map(|caller| caller.info()))
}

/// One page of the account's operation log (account admins only).
#[server(endpoint = "list_operations")]
pub async fn list_operations(query: audit::OperationQuery) -> Result<audit::OperationPage, AppError> {
    as_admin_reader(|state, caller| async move {
        let valid = query.validate()?;
        audit::list(&state.db, &caller, &valid).await
    })
    .await
}

/// The caller's own access keys (My Credentials > Access Keys).
#[server(endpoint = "list_access_keys")]
pub async fn list_access_keys() -> Result<Vec<access_keys::AccessKeyView>, AppError> {
    as_viewer(|state, caller| async move { access_keys::list(&state.db, &caller).await }).await
}

/// Makes an access key for the caller; the answer is the only time its secret key is shown.
#[server(endpoint = "create_access_key")]
pub async fn create_access_key(description: String) -> Result<access_keys::NewAccessKey, AppError> {
    as_user(audit::Audit::new("Create access key", "access_key", ""), |state, caller| async move {
        access_keys::create(&state.db, &state.master_key, &caller, &description).await
    })
    .await
}

#[server(endpoint = "set_access_key_enabled")]
pub async fn set_access_key_enabled(id: String, enabled: bool) -> Result<(), AppError> {
    let operation = if enabled { "Enable access key" } else { "Disable access key" };
    as_user(audit::Audit::new(operation, "access_key", id.clone()), |state, caller| async move {
        access_keys::set_enabled(&state.db, &caller, &id, enabled).await
    })
    .await
}

#[server(endpoint = "delete_access_key")]
pub async fn delete_access_key(id: String) -> Result<(), AppError> {
    as_user(audit::Audit::new("Delete access key", "access_key", id.clone()), |state, caller| async move {
        access_keys::delete(&state.db, &caller, &id).await
    })
    .await
}

#[cfg(feature = "ssr")]
pub use gate::*;

#[cfg(feature = "ssr")]
mod gate {
    use crate::auth::audit::{self, Audit, Source};
    use crate::caller::{Access, Caller, Role};
    use crate::error::AppError;
    use crate::state::{app_state, request_session, with_status, AppState};
    use serde::Serialize;
    use std::future::Future;

    /// Session keys.
    pub const USER_ID_KEY: &str = "user_id";
    pub const REGION_KEY: &str = "region";

    /// The caller a session belongs to, in the region the session has selected.
    pub async fn caller_from_session(
        db: &crate::db::Db,
        session: &tower_sessions::Session,
    ) -> Result<Option<Caller>, AppError> {
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
        Ok(row.map(|(user_name, role, account_id, account_name, project_id)| Caller {
            user_id,
            user_name,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            account_id,
            account_name,
            region,
            project_id,
        }))
    }

    /// The session's caller if its role allows `access`: `Unauthorized` when nobody is logged
    /// in, `Forbidden` when the role is too weak.
    pub async fn session_caller(
        state: &AppState,
        session: &tower_sessions::Session,
        access: Access,
    ) -> Result<Caller, AppError> {
        let caller = caller_from_session(&state.db, session).await?.ok_or(AppError::Unauthorized)?;
        caller.require(access)?;
        Ok(caller)
    }

    async fn gated<T, F, Fut>(access: Access, work: F) -> Result<T, AppError>
    where
        F: FnOnce(AppState, Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        with_status(async move {
            let state = app_state()?;
            let caller = session_caller(&state, &request_session().await?, access).await?;
            work(state, caller).await
        })
        .await
    }

    /// Runs a server function's work for any logged-in caller; its error sets the HTTP status.
    pub async fn as_viewer<T, F, Fut>(work: F) -> Result<T, AppError>
    where
        F: FnOnce(AppState, Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        gated(Access::View, work).await
    }

    /// Runs a server function's work that changes something, for a caller whose role allows
    /// `access`, and records it in the operation log: refused or done, with the reason the
    /// caller was told. What it creates (the id it returns) is the resource when `audit` has none.
    async fn audited<T, F, Fut>(access: Access, mut audit: Audit, work: F) -> Result<T, AppError>
    where
        T: Serialize,
        F: FnOnce(AppState, Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        with_status(async move {
            let state = app_state()?;
            let caller =
                caller_from_session(&state.db, &request_session().await?).await?.ok_or(AppError::Unauthorized)?;
            if let Err(refused) = caller.require(access) {
                audit::record(&state.db, &caller, Source::Console, &audit, Err(&refused)).await;
                return Err(refused);
            }
            let result = work(state.clone(), caller.clone()).await;
            if let (Ok(value), true) = (&result, audit.resource_id.is_empty()) {
                audit.resource_id = created_ids(value);
            }
            audit::record(&state.db, &caller, Source::Console, &audit, result.as_ref().map(|_| ())).await;
            result
        })
        .await
    }

    /// The id (or ids) an operation returned, when it returned ids.
    fn created_ids(value: &impl Serialize) -> String {
        match serde_json::to_value(value) {
            Ok(serde_json::Value::String(id)) => id,
            Ok(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|item| item.as_str()).collect::<Vec<_>>().join(",")
            }
            // A created record names itself: an access key by its AK (never its secret).
            Ok(serde_json::Value::Object(fields)) => {
                fields.get("access_key").and_then(|id| id.as_str()).unwrap_or_default().to_string()
            }
            _ => String::new(),
        }
    }

    /// Runs a server function's work for a caller whose role may change things, and records it
    /// in the operation log.
    pub async fn as_editor<T, F, Fut>(audit: Audit, work: F) -> Result<T, AppError>
    where
        T: Serialize,
        F: FnOnce(AppState, Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        audited(Access::Edit, audit, work).await
    }

    /// Runs a change to the caller's own settings (its access keys), which every role may make,
    /// and records it in the operation log.
    pub async fn as_user<T, F, Fut>(audit: Audit, work: F) -> Result<T, AppError>
    where
        T: Serialize,
        F: FnOnce(AppState, Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        audited(Access::View, audit, work).await
    }

    /// Runs a read-only account administrator's server function (nothing to record).
    pub async fn as_admin_reader<T, F, Fut>(work: F) -> Result<T, AppError>
    where
        F: FnOnce(AppState, Caller) -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        gated(Access::Admin, work).await
    }
}
