//! The part of Keystone v3 the OpenStack clients need (openstack-api.md §2): the version
//! document, password tokens scoped to a project (by id, or by name: the region id), token
//! validation and revocation, and the user's projects. The user's domain is the account.

use super::error::{ApiError, ApiResult};
use crate::auth::handlers::{check_password, client_address, PasswordRefusal};
use crate::auth::tokens::{self, TokenInfo};
use crate::format::iso_time;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The origin clients reach this server at: the configured public URL, else the request's Host.
pub fn external_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(origin) = &state.config.web.public_origin {
        return origin.clone();
    }
    let host = headers.get("host").and_then(|value| value.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::unauthenticated(message).glance()
}

/// `GET /v3`.
pub async fn version(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = external_base(&state, &headers);
    Json(json!({ "version": {
        "id": "v3.14", "status": "stable", "updated": "2026-12-01T00:00:00Z",
        "links": [{ "rel": "self", "href": format!("{base}/v3/") }],
        "media-types": [{ "base": "application/json", "type": "application/vnd.openstack.identity-v3+json" }],
    } }))
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |value, key| value.get(key))?.as_str()
}

/// The token document: who, where, until when, and the catalog (Glance per region, identity).
async fn token_body(state: &AppState, headers: &HeaderMap, info: &TokenInfo) -> ApiResult<Value> {
    let base = external_base(state, headers);
    let caller = &info.caller;
    let projects = tokens::projects_of_user(&state.db, &caller.user_id).await?;
    let image_endpoints: Vec<Value> = projects
        .iter()
        .map(|(_, region)| {
            json!({ "id": format!("image-{region}"), "interface": "public", "region": region, "region_id": region, "url": base })
        })
        .collect();
    let domain = json!({ "id": caller.account_id, "name": caller.account_name });
    Ok(json!({ "token": {
        "expires_at": iso_time(info.expires_at), "issued_at": iso_time(info.issued_at),
        "methods": ["password"], "audit_ids": [],
        "user": { "id": caller.user_id, "name": caller.user_name, "domain": domain },
        "project": { "id": caller.project_id, "name": caller.region, "domain": domain },
        "roles": [{ "id": caller.role.as_str(), "name": caller.role.as_str() }],
        "catalog": [
            { "type": "identity", "name": "keystone", "id": "identity", "endpoints": [
                { "id": "identity-public", "interface": "public", "region": caller.region, "region_id": caller.region,
                  "url": format!("{base}/v3") }] },
            { "type": "image", "name": "glance", "id": "image", "endpoints": image_endpoints },
        ],
    } }))
}

/// `POST /v3/auth/tokens`: the password method.
pub async fn issue_token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let request: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::invalid("The request body is not JSON.").glance())?;
    let auth = &request["auth"];
    let methods = auth["identity"]["methods"].as_array().cloned().unwrap_or_default();
    if !methods.iter().any(|method| method == "password") {
        return Err(unauthorized("Only the password method is supported: give identity.methods [\"password\"]."));
    }
    let user = &auth["identity"]["password"]["user"];
    let (name, password) = (text(user, &["name"]).unwrap_or(""), text(user, &["password"]).unwrap_or(""));
    if name.is_empty() || password.is_empty() {
        return Err(ApiError::invalid("Give the user's name and password.").glance());
    }
    // The user's domain is the account: by name, or by id.
    let account = match (text(user, &["domain", "name"]), text(user, &["domain", "id"])) {
        (Some(account), _) => account.to_string(),
        (None, Some(id)) => sqlx::query_scalar::<_, String>("SELECT name FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&state.db)
            .await?
            .unwrap_or_default(),
        (None, None) => {
            return Err(ApiError::invalid("Give the user's domain: your account name (OS_USER_DOMAIN_NAME) or its id.")
                .glance())
        }
    };
    let address = client_address(peer.ip(), &headers, &state.config.web.trusted_proxies);
    let user_id = match check_password(&state, &account, name, password, address).await {
        Ok(user_id) => user_id,
        Err(PasswordRefusal::Wrong) => return Err(unauthorized("The account, user name or password is wrong.")),
        Err(PasswordRefusal::Throttled { minutes }) => {
            return Err(unauthorized(format!("Too many failed logins: try again in {minutes} minutes.")))
        }
        Err(PasswordRefusal::Busy) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "IMG.0010",
                "Busy checking other logins; try again.",
            )
            .glance())
        }
        Err(PasswordRefusal::Internal) => return Err(ApiError::from(crate::error::AppError::Internal).glance()),
    };
    let projects = tokens::projects_of_user(&state.db, &user_id).await?;
    let scope = &auth["scope"]["project"];
    let chosen = match (text(scope, &["id"]), text(scope, &["name"])) {
        (Some(id), _) => projects.iter().find(|(project, _)| project == id),
        (None, Some(region)) => {
            let domain_ok = match (text(scope, &["domain", "name"]), text(scope, &["domain", "id"])) {
                (Some(domain), _) => domain == account,
                (None, Some(_)) | (None, None) => true,
            };
            projects.iter().find(|(_, project_region)| domain_ok && project_region == region)
        }
        // Unscoped: the default region's project, so the catalog is never empty.
        (None, None) => projects.iter().find(|(_, region)| region == crate::regions::DEFAULT_REGION),
    };
    let (project_id, _) = chosen.ok_or_else(|| {
        unauthorized("The project is not one of your account's: scope to a project ID, or to a region id (cn-north-4) as the project name.")
    })?;
    let (token, _, _) = tokens::issue(&state.db, &user_id, project_id).await?;
    let info =
        tokens::lookup(&state.db, &token).await?.ok_or_else(|| unauthorized("The token could not be issued."))?;
    let body = token_body(&state, &headers, &info).await?;
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert("x-subject-token", HeaderValue::from_str(&token).expect("hex token"));
    Ok(response)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
}

/// The caller's own live token (`X-Auth-Token`).
async fn authenticated(state: &AppState, headers: &HeaderMap) -> ApiResult<TokenInfo> {
    tokens::lookup(&state.db, header(headers, "x-auth-token"))
        .await?
        .ok_or_else(|| unauthorized("The token is missing, expired or revoked: request a new one."))
}

/// `GET /v3/auth/tokens`: validates `X-Subject-Token`.
pub async fn check_token(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    authenticated(&state, &headers).await?;
    let subject = header(&headers, "x-subject-token");
    let info = tokens::lookup(&state.db, subject).await?.ok_or_else(|| {
        ApiError::not_found("The token is not valid: it expired, was revoked or never existed.").glance()
    })?;
    let body = token_body(&state, &headers, &info).await?;
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(subject) {
        response.headers_mut().insert("x-subject-token", value);
    }
    Ok(response)
}

/// `DELETE /v3/auth/tokens`: revokes `X-Subject-Token`.
pub async fn revoke_token(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<StatusCode> {
    let caller = authenticated(&state, &headers).await?.caller;
    let subject = header(&headers, "x-subject-token");
    // Only one's own tokens can be revoked.
    let own = tokens::lookup(&state.db, subject).await?.is_some_and(|info| info.caller.user_id == caller.user_id);
    if !own || !tokens::revoke(&state.db, subject).await? {
        return Err(ApiError::not_found("No such token of yours.").glance());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v3/auth/projects`: the projects the token's user may scope to (one per region).
pub async fn list_projects(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let caller = authenticated(&state, &headers).await?.caller;
    let base = external_base(&state, &headers);
    let projects = tokens::projects_of_user(&state.db, &caller.user_id).await?;
    let list: Vec<Value> = projects
        .into_iter()
        .map(|(id, region)| {
            json!({
                "id": id, "name": region, "domain_id": caller.account_id, "enabled": true, "is_domain": false,
                "description": format!("{} in {}", caller.account_name, crate::regions::region_name(&region)),
                "parent_id": caller.account_id, "links": { "self": format!("{base}/v3/projects/{id}") },
            })
        })
        .collect();
    Ok(Json(json!({ "projects": list, "links": { "self": format!("{base}/v3/auth/projects") } })))
}
