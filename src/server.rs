//! Server assembly: shared state, the axum router with its layers, and start-up. Used by the
//! binary and by the integration tests, which start real servers on loopback.

use crate::app::{shell, App};
use crate::auth::handlers::{self, reject_cross_site, require_login_for_pages, HOME};
use crate::auth::session_store::DbSessionStore;
use crate::config::Config;
use crate::db::{connect_and_migrate, Db, DbSetupError};
use crate::error::AppError;
use axum::extract::FromRef;
use axum::middleware::from_fn;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use crate::engine::convert::ProcessLimits;
use crate::engine::inspect::Limits;
use crate::images::export::job::ExportHandler;
use crate::images::import::job::ImportHandler;
use crate::jobs::runner::{JobHandler, Runner, RunningJobs};
use crate::storage::Storage;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
    pub storage: Storage,
    /// Wakes this instance's job workers when a job is queued or cancelled.
    pub job_waker: Arc<Notify>,
    pub running_jobs: RunningJobs,
}

impl AppState {
    /// Scratch space of running jobs (one folder per job id).
    pub fn work_dir(&self) -> PathBuf {
        self.config.data_dir.join("work")
    }

    fn process_limits(&self) -> ProcessLimits {
        ProcessLimits { cpu_seconds: self.config.engine.qemu_cpu_seconds, memory_bytes: self.config.engine.qemu_memory_bytes }
    }

    fn job_handlers(&self) -> Vec<Arc<dyn JobHandler>> {
        let compute = crate::compute::jobs::ComputeJobs {
            db: self.db.clone(),
            storage: self.storage.clone(),
            work_dir: self.work_dir(),
            process_limits: self.process_limits(),
        };
        let mut handlers: Vec<Arc<dyn JobHandler>> = vec![
            Arc::new(ImportHandler {
                db: self.db.clone(),
                storage: self.storage.clone(),
                work_dir: self.work_dir(),
                limits: Limits { max_virtual_size: self.config.engine.max_virtual_size },
                process_limits: self.process_limits(),
            }),
            Arc::new(ExportHandler {
                db: self.db.clone(),
                storage: self.storage.clone(),
                work_dir: self.work_dir(),
                process_limits: self.process_limits(),
            }),
        ];
        handlers.extend(compute.handlers());
        handlers
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
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

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Database(#[from] DbSetupError),
    #[error("seeding the demo data failed: {0}")]
    Seed(sqlx::Error),
    #[error("cannot read the Leptos settings: {0}")]
    Leptos(String),
    #[error("cannot open the object store: {0}")]
    Storage(#[from] crate::storage::StorageError),
    #[error("cannot prepare the work folder: {0}")]
    WorkDir(std::io::Error),
}

/// Connects the database, migrates it and seeds the demo data when asked to.
pub async fn prepare(config: Config) -> Result<AppState, StartError> {
    let db = connect_and_migrate(&config.database_url).await?;
    let storage = Storage::open(&config.storage)?;
    if let Some(password) = &config.demo_password {
        let work_dir = config.data_dir.join("work");
        crate::seed::seed_demo_if_empty(&db, &storage, &work_dir, password).await.map_err(StartError::Seed)?;
    }
    let mut leptos_options = leptos::config::get_configuration(None)
        .map_err(|error| StartError::Leptos(error.to_string()))?
        .leptos_options;
    leptos_options.site_addr = config.site_addr;
    let state = AppState {
        db,
        config: Arc::new(config),
        leptos_options,
        storage,
        job_waker: Arc::new(Notify::new()),
        running_jobs: RunningJobs::default(),
    };
    remove_stale_work(&state).await.map_err(StartError::WorkDir)?;
    Ok(state)
}

/// Deletes the scratch folders of jobs that are not running here or elsewhere: what a job
/// left behind when its server died. Its next run starts from a clean folder anyway.
async fn remove_stale_work(state: &AppState) -> std::io::Result<()> {
    let work_dir = state.work_dir();
    tokio::fs::create_dir_all(&work_dir).await?;
    let mut entries = tokio::fs::read_dir(&work_dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let id = entry.file_name().to_string_lossy().to_string();
        let live: Option<i64> = sqlx::query_scalar(
            "SELECT lease_expires_at FROM jobs WHERE id = $1 AND status = 'RUNNING' AND lease_expires_at > $2",
        )
        .bind(&id)
        .bind(crate::db::now_ms())
        .fetch_optional(&state.db)
        .await
        .unwrap_or(None);
        if live.is_none() {
            tracing::info!(job = %id, "removing a stale job work folder");
            tokio::fs::remove_dir_all(entry.path()).await?;
        }
    }
    Ok(())
}

pub fn router(state: AppState) -> Router {
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("ims_session")
        .with_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_secure(false)
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(state.config.session_idle_minutes)));
    let context_state = state.clone();
    let provide_state = move || provide_context(context_state.clone());
    let options = state.leptos_options.clone();
    Router::new()
        .route("/", get(|| async { Redirect::to(HOME) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/auth/login", post(handlers::login))
        .route("/auth/logout", post(handlers::logout))
        .route("/auth/region", post(handlers::switch_region))
        .merge(crate::buckets::transfer::routes())
        .leptos_routes_with_context(&state, generate_route_list(App), provide_state.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(provide_state, shell))
        .layer(from_fn(require_login_for_pages))
        .layer(session_layer)
        .layer(from_fn(reject_cross_site))
        .with_state(state)
}

/// Serves until `shutdown` completes, with this instance's job workers running. Expired
/// sessions and abandoned uploads are swept every ten minutes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = DbSessionStore::new(state.db.clone());
    let sweep_state = state.clone();
    let sweeper = tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            interval.tick().await;
            if let Err(error) = store.delete_expired().await {
                tracing::warn!(%error, "expired session sweep failed");
            }
            if crate::buckets::transfer::sweep_stale_uploads(&sweep_state).await.is_err() {
                tracing::warn!("stale upload sweep failed");
            }
        }
    });
    let runner = Runner::new(
        state.db.clone(),
        state.config.jobs.clone(),
        state.job_handlers(),
        state.job_waker.clone(),
        state.running_jobs.clone(),
    );
    let workers = runner.start();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    for worker in workers {
        worker.abort();
    }
    result
}
