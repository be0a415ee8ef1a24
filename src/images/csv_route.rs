//! `GET /export/images.csv?tab=…&…`: Export List as a file download (plain axum, because the
//! body is a streamed file). The parameters are those of the list's URL, plus `tab`.

use super::csv_export;
use super::query::ImageQuery;
use crate::auth::session_caller;
use crate::caller::Access;
use crate::db::now_ms;
use crate::error::AppError;
use crate::state::{AppState, PlainRoute};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use tower_sessions::Session;

pub fn routes() -> Vec<PlainRoute> {
    vec![PlainRoute { path: "/export/images.csv", methods: &["GET"], handler: get(export_list) }]
}

async fn export_list(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match start(state, session, params).await {
        Ok(response) => response,
        Err(error) => {
            let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], error.to_string()).into_response()
        }
    }
}

async fn start(state: AppState, session: Session, params: HashMap<String, String>) -> Result<Response, AppError> {
    let caller = session_caller(&state, &session, Access::View).await?;
    let tab = params.get("tab").cloned().unwrap_or_else(|| "private".to_string());
    // The file holds every page: the list's page and page size do not apply.
    let query = ImageQuery::from_params(&tab, |key| {
        (!matches!(key, "page" | "page_size")).then(|| params.get(key).cloned()).flatten()
    });
    let valid = csv_export::validate(&query)?;
    let file_name = csv_export::file_name(valid.tab.slug(), &caller.region, now_ms());
    let body = Body::from_stream(csv_export::stream(state, caller, valid));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response())
}
