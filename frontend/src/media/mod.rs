//! Where frames come from, before the frame loop sees them: the camera (`getUserMedia`),
//! the synthetic test pattern, and the hidden `<video>` element that plays a file (or a
//! camera stream on browsers without `MediaStreamTrackProcessor`). Also the outputs that
//! read the preview canvas: PNG snapshots and `WebM` recordings (made seekable by `webm`).

pub mod camera;
pub mod download;
pub mod recorder;
pub mod test_pattern;
pub mod video;
pub mod webm;
