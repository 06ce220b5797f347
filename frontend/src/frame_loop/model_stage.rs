//! The `model` stage ("your own model") as the frame loop sees it: where its runner comes
//! from ([`ModelSource`]: the filter worker proxies the model worker) and the state its
//! card shows ([`OwnModelState`]).

use filters::{ModelRunner, Segmenter};

/// Where the user's own model stands, as its card shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum OwnModelState {
    /// No file picked on this page (a link names the stage but cannot carry the model):
    /// frames pass unchanged.
    NeedsFile,
    /// Reading and compiling the file: frames pass unchanged.
    Loading { name: String },
    /// Loaded; `ms` is the smoothed time per inference in the model worker (`None` before
    /// the first).
    Running { name: String, ms: Option<f64> },
    /// The model cannot be loaded or run (unsupported operator, input shape, …): frames
    /// pass unchanged. `name` is empty when no file is involved (no worker).
    Failed { name: String, reason: String },
}

impl OwnModelState {
    /// The short word `window.__lenscast_stats.ownModel` holds.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NeedsFile => "needs-file",
            Self::Loading { .. } => "loading",
            Self::Running { .. } => "running",
            Self::Failed { .. } => "failed",
        }
    }
}

/// Supplies the `model` stage: the runner the pipeline calls, the state for the card, and
/// (with `segment=1`) the model as the segmentation stages' segmenter.
pub trait ModelSource {
    /// A runner for the pipeline; it leaves frames unchanged until a model is loaded.
    fn runner(&self) -> Box<dyn ModelRunner>;
    fn state(&self) -> OwnModelState;
    /// The loaded model as a segmenter (`None` until it has loaded).
    fn segmenter(&self) -> Option<Box<dyn Segmenter>>;
    /// A number that changes whenever another file is loaded (so a segmenter taken from an
    /// older one is replaced).
    fn generation(&self) -> u64;
}

/// Why the main-thread loop has no `model` stage: the engine runs only beside the workers.
pub const NO_WORKER: &str = "your own model runs only in the frame worker: remove worker=0 \
     from the address, or use a browser with OffscreenCanvas and MediaStreamTrackProcessor";
