//! The one error type that crosses the server-function boundary. Its text is what the user
//! reads; internal details are logged on the server and never sent.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Your session has ended. Log in again.")]
    Unauthorized,
    #[error("Your role does not allow this operation.")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// Bad input in named form fields: (field, message) pairs shown next to each field.
    #[error("{}", .0.iter().map(|(_, message)| message.as_str()).collect::<Vec<_>>().join(" "))]
    Fields(Vec<(String, String)>),
    #[error("{0}")]
    Conflict(String),
    /// Too many requests of one kind from one user for now.
    #[error("{0}")]
    TooMany(String),
    #[error("Something went wrong on our side. Try again in a moment.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// Bad input in one named form field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        AppError::Fields(vec![(name.to_string(), message.into())])
    }

    /// Logs the real cause and returns the opaque error the user sees.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        AppError::Internal
    }

    #[cfg(feature = "ssr")]
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Invalid(_) | AppError::Fields(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::TooMany(_) => 429,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(message) | ServerFnErrorErr::Response(message) => AppError::Transport(message),
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::Invalid(format!("The request was malformed: {message}"))
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failure");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                AppError::Internal
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::internal("database error", error)
    }
}
