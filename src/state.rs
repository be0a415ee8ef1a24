//! The server's shared state, and the helpers a server function or a page render uses to reach
//! it and its request.

use crate::config::Config;
use crate::db::Db;
use crate::engine::convert::ProcessLimits;
use crate::engine::inspect::Limits;
use crate::engine::sealed::MasterKey;
use crate::error::AppError;
use crate::jobs::runner::{JobEnv, RunningJobs, TestHooks};
use crate::storage::Storage;
use axum::extract::FromRef;
use leptos::prelude::{provide_context, use_context, LeptosOptions};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;
use tower_sessions::Session;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    pub storage: Storage,
    /// Wakes this instance's job workers when a job is queued or cancelled.
    pub job_waker: Arc<Notify>,
    pub running_jobs: RunningJobs,
    /// Test seams inside jobs; empty in production.
    pub hooks: Arc<TestHooks>,
    /// Seals and opens stored secrets (access keys' secret keys).
    pub master_key: MasterKey,
}

impl AppState {
    /// Scratch space of running jobs (one folder per job id) and of disk reads and writes.
    pub fn work_dir(&self) -> PathBuf {
        self.config.data_dir.join("work")
    }

    /// What every job handler works with.
    pub fn job_env(&self) -> JobEnv {
        let engine = &self.config.engine;
        JobEnv {
            db: self.db.clone(),
            storage: self.storage.clone(),
            work_dir: self.work_dir(),
            process_limits: ProcessLimits {
                cpu_seconds: engine.qemu_cpu_seconds,
                memory_bytes: engine.qemu_memory_bytes,
                wall_seconds: engine.qemu_wall_seconds,
            },
            inspect_limits: Limits { max_virtual_size: engine.max_virtual_size },
            quotas: self.config.quotas.clone(),
            min_free_bytes: engine.min_free_bytes,
            hooks: self.hooks.clone(),
        }
    }

    /// Starts queued work at once instead of at the workers' next poll.
    pub fn wake_jobs(&self) {
        self.job_waker.notify_waiters();
    }

    /// Makes the state reachable from server functions and page renders (`app_state()`).
    pub fn provide(&self) {
        provide_context(self.clone());
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// One plain HTTP route (not a page, not a server function). The router is built from a table
/// of these, and the access-matrix test reads the same table, so no route can be left out.
pub struct PlainRoute {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub handler: axum::routing::MethodRouter<AppState>,
}

/// The state of the server, inside a server function or a page render.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::internal("server function context", "AppState is missing"))
}

/// The session of the request being handled.
pub async fn request_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|error| AppError::internal("session extraction", error))
}

/// Runs a server function body and gives its response the HTTP status of its error
/// (401, 403, 404, ...), so API callers and tests see more than "500".
pub async fn with_status<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = body.await;
    if let Err(error) = &result {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let status = axum::http::StatusCode::from_u16(error.status_code());
            response.set_status(status.unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR));
        }
    }
    result
}
