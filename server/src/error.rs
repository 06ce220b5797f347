//! [`ApiError`]: every way the HTTP API refuses a request, with its status code, its
//! `{"error": …}` body ([`protocol::ErrorBody`]) and the metric that counts it.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use protocol::ErrorBody;
use thiserror::Error;

use crate::{metrics::Rejection, rooms::RoomError};

#[derive(Debug, Error)]
pub enum ApiError {
    /// Unknown or malformed room id.
    #[error("no such room")]
    UnknownRoom,
    #[error(transparent)]
    RoomLimit(RoomError),
    #[error(transparent)]
    ViewerLimit(RoomError),
    /// This client address has the most open streams it may have.
    #[error("this address has its maximum of {0} open streams")]
    AddressViewerLimit(usize),
    /// Past the per-client room-creation rate: retry after `wait`.
    #[error("more than {per_minute} rooms a minute from this address; retry in {} s", whole_secs(*.wait))]
    RoomRate { per_minute: u32, wait: Duration },
    /// A viewer's client brought back more rooms than its creation rate allows.
    #[error("too many rooms brought back from this address; retry later")]
    RestoreRate,
    #[error("publish token missing")]
    MissingToken,
    #[error("wrong publish token")]
    WrongToken,
    /// A page of another origin (not in `--cors-origin`).
    #[error("requests from this origin are not allowed")]
    ForeignOrigin,
    #[error("no frame yet")]
    NoFrameYet,
    /// A stream of a room its publisher ended.
    #[error("the broadcast has ended")]
    Ended,
    #[error("{0}")]
    BadRequest(&'static str),
    #[error("{0}")]
    Internal(String),
}

/// Whole seconds, rounded up: a client that waits that long is let in.
fn whole_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoom => StatusCode::NOT_FOUND,
            Self::RoomLimit(_) | Self::ViewerLimit(_) | Self::NoFrameYet => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::RoomRate { .. } | Self::AddressViewerLimit(_) | Self::RestoreRate => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::MissingToken => StatusCode::UNAUTHORIZED,
            Self::WrongToken | Self::ForeignOrigin => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Ended => StatusCode::GONE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The metric that counts this refusal, if one does.
    pub fn rejection(&self) -> Option<Rejection> {
        match self {
            Self::UnknownRoom => Some(Rejection::UnknownRoom),
            Self::RoomLimit(_) => Some(Rejection::RoomLimit),
            Self::ViewerLimit(_) => Some(Rejection::ViewerLimit),
            Self::AddressViewerLimit(_) => Some(Rejection::AddressViewerLimit),
            Self::RoomRate { .. } | Self::RestoreRate => Some(Rejection::RoomRate),
            Self::MissingToken => Some(Rejection::MissingToken),
            Self::WrongToken => Some(Rejection::WrongToken),
            Self::ForeignOrigin => Some(Rejection::ForeignOrigin),
            Self::NoFrameYet | Self::Ended | Self::BadRequest(_) | Self::Internal(_) => None,
        }
    }
}

impl From<RoomError> for ApiError {
    fn from(err: RoomError) -> Self {
        match err {
            RoomError::Unknown => Self::UnknownRoom,
            RoomError::Ended => Self::Ended,
            RoomError::TooManyRooms(_) => Self::RoomLimit(err),
            RoomError::TooManyViewers(_) => Self::ViewerLimit(err),
            RoomError::RestoreRate => Self::RestoreRate,
            RoomError::Random(_) => Self::Internal(err.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), Json(ErrorBody::new(self.to_string()))).into_response();
        if let Self::RoomRate { wait, .. } = self {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(whole_secs(wait).max(1)),
            );
        }
        res
    }
}
