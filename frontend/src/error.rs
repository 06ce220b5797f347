//! Errors a person sees: what went wrong in their words, and what they can do next.

use thiserror::Error;
use wasm_bindgen::{JsCast, JsValue};

use crate::glue::js_error_message;

/// Why a source could not start or stopped.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum SourceError {
    #[error("Camera access was blocked")]
    PermissionDenied,
    #[error("No camera found")]
    NoCamera,
    #[error("The camera is busy")]
    CameraBusy,
    #[error("The camera cannot deliver {requested}")]
    Overconstrained { requested: String },
    #[error("Camera access needs a secure connection")]
    InsecureContext,
    #[error("This browser lacks {feature}")]
    Unsupported { feature: &'static str },
    #[error("This video file cannot be played")]
    FileUnplayable { detail: String },
    #[error("Choose a video file first")]
    NoFile,
    #[error("The source stopped: {0}")]
    Other(String),
    /// The frame workers' modules did not load (why).
    #[error("The filters could not start")]
    WorkersFailed(String),
}

/// A way forward offered next to an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorAction {
    /// Switch to the built-in test pattern and start it.
    UseTestSource,
    /// Try the same source again.
    Retry,
    /// Switch to the video file source.
    ChooseFile,
    /// Ask for 480p instead.
    LowerResolution,
    /// Open this page again with `worker=0`, the main-thread path.
    UseMainThread,
}

impl ErrorAction {
    pub fn label(self) -> &'static str {
        match self {
            Self::UseTestSource => "Use the test pattern",
            Self::Retry => "Try again",
            Self::ChooseFile => "Use a video file",
            Self::LowerResolution => "Try 480p",
            Self::UseMainThread => "Run them on this page",
        }
    }
}

impl SourceError {
    /// Turns a rejected `getUserMedia` into what happened.
    pub fn from_get_user_media(error: &JsValue, requested: String) -> Self {
        let name = error
            .dyn_ref::<web_sys::DomException>()
            .map(web_sys::DomException::name)
            .or_else(|| {
                error
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.name()))
            })
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => Self::PermissionDenied,
            "NotFoundError" | "DevicesNotFoundError" => Self::NoCamera,
            "NotReadableError" | "TrackStartError" | "AbortError" => Self::CameraBusy,
            "OverconstrainedError" | "ConstraintNotSatisfiedError" => {
                Self::Overconstrained { requested }
            }
            _ => Self::Other(js_error_message(error)),
        }
    }

    /// The longer explanation under the title.
    pub fn detail(&self) -> String {
        match self {
            Self::PermissionDenied => "The browser or the system refused access to the camera. \
                Click the camera icon in the address bar (or your system's privacy settings), \
                allow the camera for this site, then try again."
                .into(),
            Self::NoCamera => "No camera is connected, or the chosen one was unplugged. Connect \
                one and try again, or carry on with the test pattern or a video file."
                .into(),
            Self::CameraBusy => "Another application or tab is using the camera. Close it \
                (video calls are the usual suspect) and try again."
                .into(),
            Self::Overconstrained { requested } => format!(
                "The camera does not support {requested}. Pick a lower resolution or frame rate."
            ),
            Self::InsecureContext => "Browsers only give camera access to pages served over \
                HTTPS or from localhost. Start the server with `--tls-self-signed` and open the \
                https:// address it prints (accept the certificate warning once), or open this \
                page on the machine running the server via http://localhost."
                .into(),
            Self::Unsupported { feature } => format!(
                "This browser does not support {feature}. Use a current Chrome, Edge, Firefox or \
                 Safari."
            ),
            Self::FileUnplayable { detail } => format!(
                "The browser could not decode it ({detail}). WebM and MP4 (H.264) play everywhere."
            ),
            Self::NoFile => "Pick a video file from this device; it stays on your machine.".into(),
            Self::Other(message) => message.clone(),
            Self::WorkersFailed(reason) => format!(
                "{reason}. They can run on this page's own thread instead (slower), with `worker=0`."
            ),
        }
    }

    /// The buttons offered with this error.
    pub fn actions(&self) -> &'static [ErrorAction] {
        match self {
            Self::PermissionDenied | Self::CameraBusy | Self::NoCamera => &[
                ErrorAction::Retry,
                ErrorAction::UseTestSource,
                ErrorAction::ChooseFile,
            ],
            Self::Overconstrained { .. } => {
                &[ErrorAction::LowerResolution, ErrorAction::UseTestSource]
            }
            Self::InsecureContext | Self::Unsupported { .. } => {
                &[ErrorAction::UseTestSource, ErrorAction::ChooseFile]
            }
            Self::FileUnplayable { .. } | Self::NoFile => {
                &[ErrorAction::ChooseFile, ErrorAction::UseTestSource]
            }
            Self::Other(_) => &[ErrorAction::Retry, ErrorAction::UseTestSource],
            Self::WorkersFailed(_) => &[ErrorAction::UseMainThread],
        }
    }
}
