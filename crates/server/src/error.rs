//! Rendering errors: every error leaves as `{"error": {"code", "message", "details"?}}`
//! with the status from the one error table ([`symbolon_core::ErrorCode`]).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use symbolon_api::{ErrorBody, ErrorDetail};
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub ExchangeError);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ExchangeError::new(code, message))
    }
}

impl From<ExchangeError> for ApiError {
    fn from(e: ExchangeError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status =
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if e.code == ErrorCode::Internal {
            // Logged with its cause; the client sees nothing of it.
            tracing::error!(error = %e, source = ?e.source, "internal error");
            let body = ErrorBody {
                error: ErrorDetail {
                    code: e.code.as_str().into(),
                    message: "internal error".into(),
                    details: None,
                },
            };
            return (status, Json(body)).into_response();
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code.as_str().into(),
                message: e.message,
                details: e.details,
            },
        };
        (status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
