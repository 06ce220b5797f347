//! Plain page state, free of DOM handles: what the source is, the pipeline being edited, and
//! how both are written into (and read back from) the page URL.

pub mod pipeline;
pub mod source;
pub mod url;

pub use pipeline::{Entry, PipelineAction, PipelineState};
pub use source::{Facing, Resolution, SourceKind, SourceSettings};
pub use url::UrlState;
