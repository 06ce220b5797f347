//! Hooks that own browser resources for components: the frame loop and the camera list.

pub mod cameras;
pub mod frame_loop;

pub use cameras::use_cameras;
pub use frame_loop::{LoopEvent, LoopTargets, SourceRequest, use_frame_loop};
