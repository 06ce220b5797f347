//! Hooks that own browser resources for components: the frame loop, the camera list, the
//! broadcast and the picked background picture.

pub mod backdrop;
pub mod broadcast;
pub mod cameras;
pub mod frame_loop;

pub use backdrop::use_backdrop;
pub use broadcast::{BroadcastHandle, use_broadcast};
pub use cameras::use_cameras;
pub use frame_loop::{LoopEvent, LoopTargets, SourceRequest, use_frame_loop};
