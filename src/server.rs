//! Composition: start-up (database, object store, demo data), the axum router with its
//! layers, and the job workers with every domain's handlers. Used by the binary and by the
//! integration tests, which start real servers on loopback.

use crate::app::{shell, App};
use crate::auth::handlers::{self, reject_cross_site, require_login_for_pages, security_headers, PageNonce, HOME};
use crate::auth::session_store::DbSessionStore;
use crate::config::Config;
use crate::db::{connect_and_migrate, DbSetupError};
use crate::jobs::runner::{JobHandler, Runner, RunningJobs};
use crate::state::{AppState, PlainRoute};
use crate::storage::Storage;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::Notify;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Database(#[from] DbSetupError),
    #[error("seeding the demo data failed: {0}")]
    Seed(#[from] crate::seed::SeedError),
    #[error("cannot read the Leptos settings: {0}")]
    Leptos(String),
    #[error("cannot open the object store: {0}")]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    MasterKey(#[from] crate::engine::sealed::MasterKeyError),
    #[error("cannot prepare the work folder: {0}")]
    WorkDir(std::io::Error),
}

/// Every job type's handler: the runner itself knows no domain.
fn job_handlers() -> Vec<Arc<dyn JobHandler>> {
    let mut handlers: Vec<Arc<dyn JobHandler>> =
        vec![Arc::new(crate::images::jobs::ImportJob), Arc::new(crate::images::jobs::ExportJob)];
    handlers.extend(crate::images::replicate_jobs::handlers());
    handlers.extend(crate::compute::jobs::handlers());
    handlers
}

/// This instance's job runner, with every domain's handlers.
fn runner(state: &AppState) -> Runner {
    Runner::new(
        state.job_env(),
        state.config.jobs.clone(),
        job_handlers(),
        state.job_waker.clone(),
        state.running_jobs.clone(),
    )
}

/// Connects the database, migrates it and seeds the demo data when asked to.
pub async fn prepare(config: Config) -> Result<AppState, StartError> {
    let db = connect_and_migrate(&config.database_url).await?;
    let storage = Storage::open(&config.storage)?;
    let master_key = crate::engine::sealed::MasterKey::load_or_create(&config.master_key_file)?;
    let mut leptos_options =
        leptos::config::get_configuration(None).map_err(|error| StartError::Leptos(error.to_string()))?.leptos_options;
    leptos_options.site_addr = config.site_addr;
    crate::jobs::queue::set_queue_cap(config.quotas.queued_jobs);
    let state = AppState {
        db,
        config: Arc::new(config),
        leptos_options,
        storage,
        job_waker: Arc::new(Notify::new()),
        running_jobs: RunningJobs::default(),
        hooks: Default::default(),
        master_key,
    };
    if let Some(password) = &state.config.demo_password {
        crate::seed::seed_demo_if_empty(&state, password, runner(&state)).await?;
    }
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
        let live = crate::jobs::queue::is_running_somewhere(&state.db, &id).await.unwrap_or(false);
        if !live {
            tracing::info!(job = %id, "removing a stale job work folder");
            tokio::fs::remove_dir_all(entry.path()).await?;
        }
    }
    Ok(())
}

/// Every plain HTTP route of the console, besides its pages and server functions.
pub fn plain_routes() -> Vec<PlainRoute> {
    let route = |path, methods, handler| PlainRoute { path, methods, handler };
    let mut routes = vec![
        route("/", &["GET"], get(home_or_versions)),
        route("/versions", &["GET"], get(crate::api::ims_misc::versions)),
        route("/healthz", &["GET"], get(|| async { "ok" })),
        route("/auth/login", &["POST"], post(handlers::login)),
        route("/auth/logout", &["POST"], post(handlers::logout)),
        route("/auth/region", &["POST"], post(handlers::switch_region)),
    ];
    routes.extend(crate::buckets::transfer::routes());
    routes.extend(crate::images::csv_route::routes());
    routes
}

/// `/`: browsers go to the console; API clients (a signed SDK call, or asking for JSON) get
/// the API version list (IMS `list_versions`, Glance discovery).
async fn home_or_versions(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let text = |name| headers.get(name).and_then(|value: &axum::http::HeaderValue| value.to_str().ok()).unwrap_or("");
    let api_client = text("authorization").starts_with(crate::auth::signature::ALGORITHM)
        || headers.contains_key("x-auth-token")
        || (text("accept").contains("application/json") && !text("accept").contains("text/html"));
    if api_client {
        let base = crate::api::keystone::external_base(&state, &headers);
        axum::Json(crate::api::ims_misc::versions_document(&base)).into_response()
    } else {
        Redirect::to(HOME).into_response()
    }
}

pub fn router(state: AppState) -> Router {
    // Over https the cookie is Secure and `__Host-`: only this exact origin can set or see it.
    let https = state.config.web.https();
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(if https { "__Host-ims_session" } else { "ims_session" })
        .with_same_site(SameSite::Lax)
        .with_http_only(true)
        .with_secure(https)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(state.config.session_idle_minutes)));
    let context_state = state.clone();
    let provide_state = move || {
        context_state.provide();
        // The page's inline scripts carry the nonce the security-headers middleware chose for
        // this request and names in its policy.
        let parts = leptos::prelude::use_context::<axum::http::request::Parts>();
        if let Some(PageNonce(nonce)) = parts.and_then(|parts| parts.extensions.get::<PageNonce>().cloned()) {
            leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    };
    let options = state.leptos_options.clone();
    let mut router = Router::new();
    for route in plain_routes() {
        router = router.route(route.path, route.handler);
    }
    router
        .leptos_routes_with_context(&state, generate_route_list(App), provide_state.clone(), move || {
            shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(provide_state, shell))
        .layer(from_fn(require_login_for_pages))
        .layer(session_layer)
        .layer(from_fn_with_state(state.clone(), reject_cross_site))
        .layer(from_fn_with_state(state.clone(), security_headers))
        // The APIs authenticate each request themselves (a signature, not a session cookie),
        // so none of the console's layers wrap them.
        .merge(crate::api::router())
        .with_state(state)
}

/// Serves until `shutdown` completes, with this instance's job workers running. Expired
/// sessions, abandoned uploads and keys whose deletion time has come are swept every ten
/// minutes, the recycle bin as often as configured.
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
            if crate::buckets::uploads::sweep_stale_uploads(&sweep_state).await.is_err() {
                tracing::warn!("stale upload sweep failed");
            }
            crate::keys::service::sweep_deleted_keys(&sweep_state).await;
        }
    });
    let bin_state = state.clone();
    let bin_sweeper = tokio::spawn(async move {
        let period = std::time::Duration::from_secs(bin_state.config.recycle.sweep_seconds);
        let mut interval = tokio::time::interval(period);
        loop {
            interval.tick().await;
            crate::images::recycle::sweep(&bin_state).await;
        }
    });
    // A family's policy applies to each new member within seconds of it becoming Normal.
    let family_state = state.clone();
    let family_sweeper = tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            interval.tick().await;
            crate::images::family_service::settle_new_members(&family_state).await;
        }
    });
    let workers = runner(&state).start();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    bin_sweeper.abort();
    family_sweeper.abort();
    for worker in workers {
        worker.abort();
    }
    result
}
