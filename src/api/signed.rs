//! Who calls the API: a request signed with an access key (SDK-HMAC-SHA256), acting in the
//! project its signed `X-Project-Id` names, or one carrying a Keystone token (`X-Auth-Token`). The extractor reads the whole body (the signature
//! covers it), checks the signature, the date and the project, and hands the handler the
//! caller and the verified body.

use super::error::{ApiError, Shape};
use crate::auth::access_keys::{self, KeyLookup};
use crate::auth::signature::{self, SignatureError};
use crate::caller::{Access, Caller};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;

/// Signed request bodies are JSON documents; nothing the IMS API takes is larger.
const MAX_SIGNED_BODY: usize = 1 << 20;

/// A verified request: its caller and body.
pub struct Signed {
    pub caller: Caller,
    pub body: Bytes,
}

impl Signed {
    /// The caller, if its role allows `access` (a viewer's key can only read).
    pub fn require(&self, access: Access) -> Result<&Caller, ApiError> {
        match self.caller.require(access) {
            Ok(()) => Ok(&self.caller),
            Err(_) => Err(forbidden(&self.caller)),
        }
    }

    /// The body as JSON of type `T`, with the parser's complaint when it is not.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::invalid("The request has no body; this operation takes a JSON body."));
        }
        serde_json::from_slice(&self.body)
            .map_err(|error| ApiError::invalid(format!("The request body is not valid for this operation: {error}.")))
    }
}

fn forbidden(caller: &Caller) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "IMG.0003",
        format!(
            "User {} has the {} role, which does not allow this operation.",
            caller.user_name,
            caller.role.as_str()
        ),
    )
}

fn header(parts: &Parts, name: &str) -> Option<String> {
    parts.headers.get(name).and_then(|value| value.to_str().ok()).map(str::to_string)
}

/// The project a request names: its `X-Project-Id`, or the `{project_id}` of a
/// `/v1/{project_id}/…` or `/v2/{project_id}/…` path.
fn requested_project(parts: &Parts) -> Option<String> {
    if let Some(project) = header(parts, "x-project-id").filter(|project| !project.trim().is_empty()) {
        return Some(project.trim().to_string());
    }
    let mut segments = parts.uri.path().split('/').skip(1);
    let (version, project) = (segments.next()?, segments.next()?);
    let plausible = project.len() == 32 && project.chars().all(|c| c.is_ascii_hexdigit());
    (matches!(version, "v1" | "v2") && plausible).then(|| project.to_string())
}

fn refused(error: SignatureError) -> ApiError {
    ApiError::unauthenticated(format!("Incorrect IAM authentication information: {error}."))
}

/// Glance paths answer Glance's error shape, the rest IMS's.
pub fn shape_for(path: &str) -> Shape {
    if path.starts_with("/v2/images") || path.starts_with("/v2/schemas") || path.starts_with("/v3") {
        Shape::Glance
    } else {
        Shape::Ims
    }
}

/// The request's caller: from its Keystone token (`X-Auth-Token`), or from its signature.
pub async fn authenticate(state: &AppState, parts: &Parts, body: &[u8]) -> Result<Caller, ApiError> {
    if let Some(token) = header(parts, "x-auth-token") {
        return crate::auth::tokens::lookup(&state.db, token.trim())
            .await?
            .map(|info| info.caller)
            .ok_or_else(|| ApiError::unauthenticated("The token is missing, expired or revoked: request a new one."));
    }
    let value = header(parts, "authorization").ok_or_else(|| refused(SignatureError::Missing))?;
    let authorization = signature::parse_authorization(&value).map_err(refused)?;
    let signed = |name: &str| authorization.signed_headers.iter().any(|signed| signed == name);
    for required in ["host", signature::DATE_HEADER] {
        if !signed(required) {
            return Err(refused(SignatureError::HeaderNotSigned(required)));
        }
    }
    if parts.headers.contains_key("x-project-id") && !signed("x-project-id") {
        return Err(refused(SignatureError::HeaderNotSigned("x-project-id")));
    }
    let date = header(parts, signature::DATE_HEADER).ok_or(refused(SignatureError::BadDate))?;
    signature::check_skew(
        signature::parse_sdk_date(&date).map_err(refused)?,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
    .map_err(refused)?;
    let project = requested_project(parts).ok_or_else(|| {
        ApiError::invalid("The X-Project-Id header is missing: give the SDK's credentials the project ID of the region (My Credentials lists them).")
    })?;
    let lookup = access_keys::lookup(&state.db, &state.master_key, &authorization.access_key, &project).await?;
    let (secret, caller) = match lookup {
        KeyLookup::Unknown => {
            return Err(ApiError::unauthenticated(
                "Incorrect IAM authentication information: the access key does not exist.",
            ))
        }
        KeyLookup::Disabled => {
            return Err(ApiError::unauthenticated(
                "Incorrect IAM authentication information: the access key is disabled.",
            ))
        }
        KeyLookup::Active { secret, caller } => (secret, caller),
    };
    let canonical = signature::canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &authorization.signed_headers,
        |name| header(parts, name),
        body,
    )
    .map_err(refused)?;
    signature::verify(&secret, &signature::string_to_sign(&date, &canonical), &authorization.signature)
        .map_err(refused)?;
    let caller = caller.ok_or_else(ApiError::foreign_project)?;
    // In line, not spawned: it writes at most once a minute a key, and a page read right after
    // the request then shows the use.
    access_keys::touch(&state.db, &authorization.access_key).await;
    Ok(caller)
}

impl FromRequest<AppState> for Signed {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let shaped = |mut error: ApiError| {
            error.shape = shape_for(parts.uri.path());
            error
        };
        let body = axum::body::to_bytes(body, MAX_SIGNED_BODY).await.map_err(|_| {
            shaped(ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "IMG.0007",
                format!("The request body is larger than {} KiB.", MAX_SIGNED_BODY >> 10),
            ))
        })?;
        let caller = authenticate(state, &parts, &body).await.map_err(shaped)?;
        Ok(Signed { caller, body })
    }
}
