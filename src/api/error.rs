//! The APIs' errors. IMS paths answer `{"error_code": "IMG.0001", "error_msg": "…"}` (the shape
//! the SDK reads first); Glance and Keystone paths answer `{"error": {"code", "title",
//! "message"}}`, because the `glance` tool calls `.get('message')` on every top-level value.
//! Both carry the request id in `X-Request-Id`. What a tenant reads is the service's user-facing
//! message, never a path, key or tool output.

use crate::error::AppError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Which API's error body to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Ims,
    Glance,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub shape: Shape,
}

/// Codes (documented in the README's API section):
/// `APIGW.0301` authentication failed (signature, key, date, token), `APIGW.0302` the project
/// is not the caller's, `IMG.0001` bad request, `IMG.0003` the role does not allow it,
/// `IMG.0004` not found, `IMG.0006` conflict, `IMG.0007` too large, `IMG.0010` too many
/// requests, `IMG.0050` operation not supported yet, `IMG.0500` internal error.
impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), shape: Shape::Ims }
    }

    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "APIGW.0301", message)
    }

    pub fn foreign_project() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "APIGW.0302",
            "The project in X-Project-Id is not a project of your account. Use a project ID from My Credentials.",
        )
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "IMG.0001", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "IMG.0004", message)
    }

    /// An operation of the reference whose feature this console does not have yet.
    pub fn unsupported(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "IMG.0050",
            format!("{what} is not supported by this Image Management Service yet."),
        )
    }

    pub fn glance(mut self) -> ApiError {
        self.shape = Shape::Glance;
        self
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        let message = error.to_string();
        let (status, code) = match &error {
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "APIGW.0301"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "IMG.0003"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "IMG.0004"),
            AppError::Invalid(_) | AppError::Fields(_) => (StatusCode::BAD_REQUEST, "IMG.0001"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "IMG.0006"),
            AppError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "IMG.0010"),
            AppError::Internal | AppError::Transport(_) => (StatusCode::INTERNAL_SERVER_ERROR, "IMG.0500"),
        };
        let message = match (&error, code) {
            (AppError::Unauthorized, _) => "Authentication is required.".to_string(),
            // Field errors name the form field in the console; the API names the JSON key.
            (AppError::Fields(fields), _) => {
                fields.iter().map(|(field, message)| format!("{field}: {message}")).collect::<Vec<_>>().join(" ")
            }
            _ => message,
        };
        ApiError::new(status, code, message)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        AppError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = crate::db::new_hex_id();
        let body = match self.shape {
            Shape::Ims => serde_json::json!({
                "error_code": self.code,
                "error_msg": self.message,
                "request_id": request_id,
            }),
            Shape::Glance => serde_json::json!({
                "error": {
                    "code": self.code,
                    "title": self.status.canonical_reason().unwrap_or("Error"),
                    "message": self.message,
                }
            }),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        if self.status == StatusCode::UNAUTHORIZED && self.shape == Shape::Glance {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Keystone uri=\"/v3\""));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A result whose error answers in Glance's shape.
pub fn glance<T>(result: Result<T, impl Into<ApiError>>) -> ApiResult<T> {
    result.map_err(|error| error.into().glance())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_become_ims_codes() {
        let error: ApiError = AppError::field("name", "Enter a name.").into();
        assert_eq!(
            (error.status, error.code, error.message.as_str()),
            (StatusCode::BAD_REQUEST, "IMG.0001", "name: Enter a name.")
        );
        let error: ApiError = AppError::Forbidden.into();
        assert_eq!((error.status, error.code), (StatusCode::FORBIDDEN, "IMG.0003"));
        let error: ApiError = AppError::Internal.into();
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
